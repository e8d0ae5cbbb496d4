"""``Optimizer``: the base class holding parameter groups and per-parameter state."""

from __future__ import annotations

import copy
import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any

from .. import dtypes, graphs
from ..autograd.engine import reset_grads
from ..autograd.grad_mode import enable_grad, set_grad_enabled
from ..ops.complex_views import view_as_complex, view_as_real
from ..tensor import Tensor, tensor
from ..utils.hooks import RemovableHandle
from ._types import LearningRate, ParamsT

__all__ = ["Optimizer", "register_optimizer_step_post_hook", "register_optimizer_step_pre_hook", "required"]

_global_step_pre_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
_global_step_post_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()


def register_optimizer_step_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Register ``hook(optimizer, args, kwargs)`` to run before every optimizer's ``step``, before the
    optimizer's own pre-hooks; it may return ``(new_args, new_kwargs)``.

    Example::

        >>> seen = []
        >>> handle = ember.optim.optimizer.register_optimizer_step_pre_hook(lambda opt, a, k: seen.append(1))
        >>> ember.optim.SGD([ember.zeros(1, requires_grad=True)], lr=0.1).step()
        >>> handle.remove(); seen
        [1]
    """
    handle = RemovableHandle(_global_step_pre_hooks)
    _global_step_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Register ``hook(optimizer, args, kwargs)`` to run after every optimizer's ``step``, after the
    optimizer's own post-hooks."""
    handle = RemovableHandle(_global_step_post_hooks)
    _global_step_post_hooks[handle.id] = hook
    return handle


def _with_step_hooks(step: Callable[..., Any]) -> Callable[..., Any]:
    """``step`` running the global and the optimizer's step hooks around it, as PyTorch's."""

    @functools.wraps(step)
    def run(*args: Any, **kwargs: Any) -> Any:
        self = args[0]  # the hooks see the whole call, the optimizer first, as PyTorch's
        for hook in chain(_global_step_pre_hooks.values(), self._hooks("_optimizer_step_pre_hooks").values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        f"{hook} must return None or a tuple of (new_args, new_kwargs), but got {result}."
                    )
                args, kwargs = result
        out = step(*args, **kwargs)
        for hook in chain(self._hooks("_optimizer_step_post_hooks").values(), _global_step_post_hooks.values()):
            hook(self, args, kwargs)
        return out

    run._with_step_hooks = True  # type: ignore[attr-defined]
    return run


class _RequiredParameter:
    """Singleton marking a hyperparameter without a default (``optim.optimizer.required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _to_scalar(x: Any) -> Any:
    """A Python number for a hyperparameter given as a number or a one-element tensor."""
    return x.item() if isinstance(x, Tensor) else x


def _group_lr(group: dict[str, Any]) -> float | Tensor:
    """A group's learning rate as PyTorch's updates take it: a number, or a 0-dimensional tensor (a
    1-element one squeezed), whose arithmetic with Python numbers then runs in the tensor's dtype, so
    that the factors built from it (``lr / bias_correction``, ``1 - lr * weight_decay``) round as
    PyTorch's do; :func:`_to_scalar` turns such a factor into the number an ``alpha`` takes."""
    lr = group["lr"]
    return lr.squeeze() if isinstance(lr, Tensor) and lr.dim() != 0 else lr


def _scalar_dtype(fused: bool = False) -> dtypes.dtype:
    """The dtype PyTorch keeps scalar state (``step``, ASGD's ``eta``/``mu``) in: float32, or float64
    under a float64 default dtype, but float32 always for a ``fused`` optimizer's ``step``."""
    return dtypes.float64 if dtypes.get_default_dtype() is dtypes.float64 and not fused else dtypes.float32


def _scalar_state(value: float | Tensor, device: Any = None, fused: bool = False) -> Tensor:
    """A 0-dimensional state tensor such as ``step``."""
    return tensor(float(value), dtype=_scalar_dtype(fused), device=device)


def _start_state(state: dict[str, Any], param: Tensor, *buffers: str | None, fused: bool = False) -> None:
    """A parameter's state on its first step: ``step`` 0 (float32 when ``fused``, as PyTorch's), then a
    zero buffer shaped like ``param`` for each name in ``buffers`` (``None`` entries skipped: buffers an
    option turns off)."""
    state["step"] = _scalar_state(0, fused=fused)
    for name in buffers:
        if name is not None:
            state[name] = param.new_zeros(param.shape)


def _sparse_rows(grad: Tensor, group: dict[str, Any], *targets: Tensor) -> tuple[Tensor, ...]:
    """``(row_indices, row_values, *target_rows)`` of a sparse COO gradient, coalesced so that rows are
    unique (the values negated for ``maximize``). A gradient with several sparse dimensions (as
    ``dense.to_sparse()`` of a matrix) indexes its parameter's leading dimensions flattened into one:
    ``targets`` (the parameter, its state buffers) come back viewed that way, their rows.
    """
    grad = grad.coalesce()
    indices, values = grad._indices(), grad._values()
    sparse_dim = grad.sparse_dim()
    if sparse_dim == 0:  # no sparse dimension (a 0-d parameter's gradient): every entry is the one row 0
        rows = indices.new_zeros((values.shape[0],))
        target_rows = [t.view(1, *t.shape) for t in targets]
        return rows, -values if group.get("maximize", False) else values, *target_rows
    rows = indices[0]
    for dim in range(1, sparse_dim):  # the row-major position across the sparse dimensions
        rows = rows * grad.shape[dim] + indices[dim]
    target_rows = [t if sparse_dim == 1 else t.view(-1, *t.shape[sparse_dim:]) for t in targets]
    return rows, -values if group.get("maximize", False) else values, *target_rows


def _bump(*tensors: Tensor | None) -> None:
    """Record that an optimizer kernel wrote ``tensors`` in place (``None`` entries skipped)."""
    for t in tensors:
        if t is not None:
            t._version_counter.value += 1


def _densify(grad: Tensor, group: dict[str, Any]) -> Tensor:
    """A sparse gradient as a dense tensor (negated for ``maximize``)."""
    dense = grad.to_dense()
    return -dense if group.get("maximize", False) else dense


def _split_param_names(param_group: dict[str, Any]) -> None:
    """Split ``(name, tensor)`` pairs in ``param_group["params"]`` (as ``named_parameters()`` yields)
    into the tensors and a ``"param_names"`` list, as PyTorch's optimizers do; a mix of named and
    unnamed parameters is an error."""
    names = [p[0] for p in param_group["params"] if isinstance(p, tuple)]
    if not names:
        return
    if len(names) != len(param_group["params"]):
        raise ValueError("all optimizer params should be with/without names. Some param names are missing")
    param_group["params"] = [p[1] for p in param_group["params"]]
    param_group["param_names"] = names


def _typename(obj: object) -> str:
    return obj.type() if isinstance(obj, Tensor) else type(obj).__name__


class Optimizer:
    r"""Base class for all optimizers.

    Args:
        params (iterable): an iterable of tensors, or of dicts. Dicts define parameter
            groups: ``{"params": [...], "lr": ...}``; options not in a group take the
            optimizer's defaults.
        defaults (dict): default values of the optimization options.

    Subclasses implement :meth:`_update` (one parameter's update, run under ``no_grad``)
    and may override :meth:`step` (LBFGS does). Those that take ``differentiable=True`` set
    :attr:`_differentiable_update`: PyTorch's single-tensor update in tensor operations, which
    autograd records (the step then runs with gradients enabled, and the parameters may be non-leaf
    tensors); the others (Adafactor, Muon, ...) refuse the option when constructed.
    """

    #: whether :meth:`_update` applies ``maximize`` to dense gradients itself (fused into
    #: an optimizer kernel) instead of receiving them negated
    _update_maximizes = False
    #: whether a captured step replays correctly (no host-side state advanced per step)
    _capturable = False
    #: the tensors PyTorch's refusal of ``capturable=True`` names (a parameter on a device whose steps
    #: cannot be captured)
    _capturable_tensors = "params and state_steps"
    #: whether a complex parameter is updated as the real view of its parts (``view_as_real``),
    #: each part its own coordinate, as PyTorch's optimizers do; its state is of that view
    _complex_as_real = True
    #: the state entries that PyTorch's optimizer of the same name keeps as 0-dimensional tensors in
    #: the scalar dtype and converts when older versions saved them as Python numbers (none for an
    #: optimizer defined elsewhere, whose state is its own)
    _scalar_state_keys: tuple[str, ...] = ()

    #: the update in tensor operations that ``differentiable=True`` runs, where a subclass has one
    _differentiable_update: Callable[[Tensor, Tensor, dict[str, Any], dict[str, Any]], None] | None = None

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        cls = type(self)
        if defaults.get("differentiable") and cls._differentiable_update is None:
            raise NotImplementedError(f"{cls.__name__}: differentiable=True is not implemented in ember")
        if not getattr(cls.step, "_with_step_hooks", False):  # once per class, as PyTorch patches it
            cls.step = _with_step_hooks(cls.step)  # type: ignore[method-assign]
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, but got "
                + _typename(params)
            )
        self.state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups: list[Any] = list(params)
        if not param_groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def _hooks(self, name: str) -> OrderedDict[int, Callable[..., Any]]:
        """The hook dictionary ``name`` (made on first use: an unpickled optimizer has none)."""
        hooks = self.__dict__.get(name)
        if hooks is None:
            hooks = self.__dict__[name] = OrderedDict()
        return hooks

    def _register(self, name: str, hook: Callable[..., Any], prepend: bool = False) -> RemovableHandle:
        hooks = self._hooks(name)
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_step_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Register ``hook(optimizer, args, kwargs)`` to run before :meth:`step`; it may return
        ``(new_args, new_kwargs)`` for the step. Returns a handle whose ``remove()`` removes it.

        Example::

            >>> opt = ember.optim.SGD([ember.zeros(1, requires_grad=True)], lr=0.1)
            >>> handle = opt.register_step_pre_hook(lambda o, args, kwargs: print("step"))
            >>> opt.step()
            step
        """
        return self._register("_optimizer_step_pre_hooks", hook)

    def register_step_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Register ``hook(optimizer, args, kwargs)`` to run after :meth:`step`."""
        return self._register("_optimizer_step_post_hooks", hook)

    def register_state_dict_pre_hook(self, hook: Callable[..., Any], prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer)`` to run before :meth:`state_dict` builds the dict."""
        return self._register("_optimizer_state_dict_pre_hooks", hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable[..., Any], prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer, state_dict)`` to run on the dict :meth:`state_dict` built; it may
        return a new dict."""
        return self._register("_optimizer_state_dict_post_hooks", hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable[..., Any], prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer, state_dict)`` to run before :meth:`load_state_dict`; it may return
        the dict to load instead."""
        return self._register("_optimizer_load_state_dict_pre_hooks", hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable[..., Any], prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer)`` to run after :meth:`load_state_dict`."""
        return self._register("_optimizer_load_state_dict_post_hooks", hook, prepend)

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._upgrade_old_format()

    def _upgrade_old_format(self) -> None:
        """Bring groups and state saved by an older PyTorch up to date, as PyTorch's optimizers do: options
        added since (``maximize``, ``foreach``, ...) take their defaults, and scalar state kept as a Python
        number (``step`` before PyTorch 1.12) becomes a 0-dimensional tensor."""
        for group in self.param_groups:
            for name, default in self.defaults.items():
                if default is not required:
                    group.setdefault(name, default)
            for param in group["params"]:
                param_state = self.state.get(param)
                if not param_state:
                    continue
                for key in self._scalar_state_keys:
                    if key in param_state and not isinstance(param_state[key], Tensor):
                        param_state[key] = _scalar_state(param_state[key])

    def __repr__(self) -> str:
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        r"""Add a parameter group to :attr:`param_groups`.

        Useful when fine tuning a pre-trained network: frozen layers can be made trainable
        and added to the optimizer as training progresses.

        Args:
            param_group (dict): the tensors to optimize (``"params"``) and group-specific
                optimization options.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")  # PyTorch's <class 'list'>
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of tensors in "
                "sets will change between runs. Please use a list instead."
            )
        else:
            param_group["params"] = list(params)
        _split_param_names(param_group)
        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + _typename(param))
            if not (self.defaults.get("differentiable") or param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        ids = [id(p) for p in param_group["params"]]
        if len(ids) != len(set(ids)):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this will cause an error; "
                "see github.com/pytorch/pytorch/issues/40967 for more information",
                stacklevel=3,
            )
        for group in self.param_groups:
            if ("param_names" in group) != ("param_names" in param_group):
                raise ValueError(
                    "all optimizer param groups should be with/without names. cannot add param group "
                    + ("with names" if "param_names" in param_group else "without names")
                    + " to the optimizer"
                )
        existing = {id(p) for group in self.param_groups for p in group["params"]}
        if not existing.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        r"""Reset the gradients of all optimized tensors.

        Args:
            set_to_none (bool): set the grads to ``None`` instead of zeroing them. Default: ``True``.
        """
        reset_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def state_dict(self) -> dict[str, Any]:
        r"""The optimizer's state as a dict, in PyTorch's format.

        ``"state"`` maps integer parameter ids (the parameters' positions across all
        groups, in order) to their state; ``"param_groups"`` holds each group's options
        with ``"params"`` replaced by those ids.
        """
        for pre_hook in self._hooks("_optimizer_state_dict_pre_hooks").values():
            pre_hook(self)
        mapping: dict[int, int] = {}
        start = 0

        def pack_group(group: dict[str, Any]) -> dict[str, Any]:
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            mapping.update({id(p): i for i, p in enumerate(group["params"], start) if id(p) not in mapping})
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        groups = [pack_group(g) for g in self.param_groups]
        state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        state_dict = {"state": state, "param_groups": groups}
        for post_hook in self._hooks("_optimizer_state_dict_post_hooks").values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    @staticmethod
    def _cast_state(param: Tensor, value: Any, key: str | None = None, float32_step: bool = False) -> Any:
        """``value`` of ``param``'s state as loaded: floating tensors in the parameter's dtype and on its
        device; ``step`` as it is, unless the group was saved ``fused`` or ``capturable`` (PyTorch then
        makes it float32 on the parameter's device)."""
        if isinstance(value, Tensor):
            if key == "step":
                return value.to(dtype=dtypes.float32, device=param.device) if float32_step else value
            if param.is_floating_point():
                return value.to(dtype=param.dtype, device=param.device)
            return value.to(device=param.device)
        if isinstance(value, dict):
            return {k: Optimizer._cast_state(param, v, k, float32_step) for k, v in value.items()}
        if isinstance(value, Iterable) and not isinstance(value, str):
            return type(value)(Optimizer._cast_state(param, v) for v in value)  # type: ignore[call-arg]  # a concrete container type (list, tuple) rebuilt from its items
        return value

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        r"""Load the optimizer state (as returned by :meth:`state_dict`).

        State tensors are cast to their parameter's dtype and device (``step`` stays as is).
        """
        for pre_hook in self._hooks("_optimizer_load_state_dict_pre_hooks").values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of optimizer's group"
            )
        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
            )
        )
        # as PyTorch, the saved group's flags decide (its `fused`, `capturable`)
        float32_step = {
            k: bool(g.get("fused") or g.get("capturable")) for g in state_dict["param_groups"] for k in g["params"]
        }
        state: defaultdict[Any, Any] = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = self._cast_state(param, v, float32_step=float32_step.get(k, False))
            else:
                state[k] = v
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group:  # names the loaded dict lacks stay those of this optimizer
                saved.setdefault("param_names", group["param_names"])
        self.__setstate__({"state": state, "param_groups": saved_groups})
        for post_hook in self._hooks("_optimizer_load_state_dict_post_hooks").values():
            post_hook(self)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        r"""Perform a single optimization step.

        Args:
            closure (Callable, optional): a closure that re-evaluates the model and returns
                the loss (run with gradients enabled).

        Returns:
            The closure's loss, or ``None``.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        if not self._capturable and graphs.is_capturing():
            raise RuntimeError(
                f"{type(self).__name__}.step() cannot be captured in a CUDA graph: its step count or "
                "hyperparameters are host values that a replay would not update (SGD can be captured)"
            )
        with set_grad_enabled(bool(self.defaults.get("differentiable"))):
            for group in self.param_groups:
                self._step_group(group)
        return loss

    def _step_group(self, group: dict[str, Any]) -> None:
        if group.get("fused"):
            _check_fused_params(group)
        if group.get("capturable"):
            _check_capturable_devices(group, self._capturable_tensors)
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            if group.get("maximize", False) and not grad.is_sparse and not self._update_maximizes:
                grad = -grad
            state = self.state.get(p)
            if state is None:
                state = {}
            update = self._differentiable_update if group.get("differentiable") else self._update
            assert update is not None  # the constructor refuses differentiable=True without it
            if p.dtype.is_complex and self._complex_as_real and not grad.is_sparse:
                state = _complex_state_update(update, p, grad, state, group)
            else:
                update(p, grad, state, group)
            if state:  # like PyTorch, parameters that keep no state get no entry
                self.state[p] = state

    def _update(self, param: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Update one parameter in place from its gradient (negated for ``maximize``, unless sparse
        or :attr:`_update_maximizes`: sparse gradients go through :func:`_sparse_rows` or
        :func:`_densify`, which negate).
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement an update")

    @staticmethod
    def _reject_sparse(grad: Tensor, name: str, alternative: str = "SparseAdam") -> None:
        if grad.is_sparse:
            raise RuntimeError(
                f"{name} does not support sparse gradients"
                + (f", please consider {alternative} instead" if alternative else "")
            )

    @staticmethod
    def _weight_decay(grad: Tensor, param: Tensor, weight_decay: float) -> Tensor:
        """The L2-penalised gradient ``grad + weight_decay * param``."""
        return grad.add(param, alpha=weight_decay) if weight_decay != 0 else grad


def _complex_state_update(
    update: Callable[[Tensor, Tensor, dict[str, Any], dict[str, Any]], None],
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    group: dict[str, Any],
) -> dict[str, Any]:
    """Run ``update`` on the real view of a complex parameter and its gradient, as PyTorch's optimizers
    do, with the state viewed the same way; the state is kept complex, as PyTorch keeps it (its
    ``state_dict`` holds complex buffers shaped like the parameter): buffers the update made from the
    real view (shaped like it) are stored as their complex view, the new and the updated alike."""
    real = view_as_real(param)
    real_state = {k: view_as_real(v) if _is_complex_buffer(v, param) else v for k, v in state.items()}
    update(real, view_as_real(grad), real_state, group)
    return {
        k: view_as_complex(v) if isinstance(v, Tensor) and v.is_floating_point() and v.shape == real.shape else v
        for k, v in real_state.items()
    }


def _is_complex_buffer(value: Any, param: Tensor) -> bool:
    return isinstance(value, Tensor) and value.dtype.is_complex and value.shape == param.shape


def _hyperparameters(arguments: dict[str, Any], order: tuple[str, ...] = ()) -> dict[str, Any]:
    """An optimizer's ``defaults``: its constructor's arguments but ``self`` and ``params``, from
    ``locals()`` taken before the constructor makes a local variable of its own; ``order`` gives
    PyTorch's key order where it differs from the signature's (``param_groups`` print and iterate in it)."""
    names = order or [name for name in arguments if name not in ("self", "params", "__class__")]
    return {name: arguments[name] for name in names}


def _check_range(value: float, name: str, low: float = 0.0, high: float | None = None, open_low: bool = False) -> None:
    """Raise PyTorch's ``ValueError(f"Invalid {name}: {value}")`` when ``value`` is out of range."""
    bad = value <= low if open_low else value < low
    if high is not None:
        bad = bad or value >= high
    if bad:
        raise ValueError(f"Invalid {name}: {value}")


def _check_betas(betas: tuple[float, ...]) -> None:
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")


def _tensor_betas(betas: tuple[Any, ...], foreach: bool | None, capturable: bool) -> tuple[Any, ...]:
    """Adam's and AdamW's ``betas`` checked as PyTorch checks them (both floats, or both 1-element
    tensors, which are kept as 0-dimensional tensors)."""
    if not (all(isinstance(b, float) for b in betas) or all(isinstance(b, Tensor) for b in betas)):
        raise ValueError("betas must be either both floats or both Tensors")
    for i, beta in enumerate(betas):
        if isinstance(beta, Tensor):
            if not capturable and foreach:
                raise ValueError(f"betas[{i}] as a Tensor is not supported for capturable=False and foreach=True")
            if beta.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
    return tuple(b.squeeze() if isinstance(b, Tensor) and b.dim() != 0 else b for b in betas)


def _betas(group: dict[str, Any]) -> tuple[float, float]:
    """A group's ``(beta1, beta2)`` as Python numbers (they may be given as tensors)."""
    beta1, beta2 = group["betas"]
    return _to_scalar(beta1), _to_scalar(beta2)


def _check_fused(defaults: dict[str, Any]) -> None:
    """PyTorch's refusals of ``fused=True`` with ``differentiable`` or ``foreach`` (SGD, Adam, AdamW,
    Adagrad)."""
    if defaults["fused"]:
        if defaults["differentiable"]:
            raise RuntimeError("`fused` does not support `differentiable`")
        if defaults["foreach"]:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


#: the device types where ``capturable=True`` is taken (PyTorch's: CUDA and other graph-capturing accelerators)
_CAPTURABLE_DEVICE_TYPES = ("cuda",)


def _check_capturable_devices(group: dict[str, Any], tensors: str) -> None:
    """Refuse, as PyTorch does at ``step`` (an ``AssertionError``), a ``capturable`` group holding a
    parameter with a gradient on a device whose steps cannot be captured (the CPU)."""
    for p in group["params"]:
        if p.grad is not None and p.device.type not in _CAPTURABLE_DEVICE_TYPES:
            raise AssertionError(
                f"If capturable=True, {tensors} must be on supported devices: {list(_CAPTURABLE_DEVICE_TYPES)}."
            )


def _check_fused_params(group: dict[str, Any]) -> None:
    """Refuse, as PyTorch does at ``step``, a ``fused`` group holding a parameter that is not
    floating point (a complex one) and has a gradient."""
    for p in group["params"]:
        if p.grad is not None and not p.is_floating_point():
            raise RuntimeError(
                "`fused=True` requires all the params to be floating point Tensors of supported devices "
                f"but {p.dtype} and {p.device.type}"
            )


def _check_adam(
    lr: LearningRate,
    eps: float,
    betas: tuple[float, ...],
    weight_decay: float,
    foreach: bool | None = None,
    capturable: bool = True,
) -> None:
    """The checks of the Adam family (``Adam``, ``AdamW``, ``Adamax``), in PyTorch's order."""
    _check_lr(lr, foreach, capturable)
    _check_range(eps, "epsilon value")
    _check_betas(betas)
    _check_range(weight_decay, "weight_decay value")


def _check_lr(lr: LearningRate, foreach: bool | None = None, capturable: bool = True) -> None:
    """The learning rate's checks; ``foreach`` and ``capturable`` given by optimizers that refuse a tensor
    ``lr`` with ``foreach=True`` and ``capturable=False`` (Adam, AdamW), as PyTorch's do."""
    if isinstance(lr, Tensor) and foreach and not capturable:
        raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    _check_range(_to_scalar(lr), "learning rate")
