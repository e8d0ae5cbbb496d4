"""``nn.Module``: the base class of every layer, with registration, state dicts, moves and hooks."""

from __future__ import annotations

import functools
import inspect
import itertools
import warnings
import weakref
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Self

from ... import __future__ as future
from ...autograd.engine import reset_grads
from ...autograd.function import Function
from ...autograd.grad_mode import grad_state, no_grad
from ...autograd.hook_results import checked_hook_results
from ...compiler import compile as compile_model
from ...device import device as _device
from ...ops.conversion import _parse_to
from ...ops.creation import empty_like
from ...own_frames import outside_ember_stacklevel
from ...tensor import Tensor
from ...utils._swap import swap_tensors
from ...utils.hooks import RemovableHandle
from ..parameter import Buffer, Parameter

__all__ = [
    "Module",
    "RemovableHandle",
    "register_module_forward_pre_hook",
    "register_module_forward_hook",
    "register_module_full_backward_hook",
    "register_module_full_backward_pre_hook",
    "register_module_backward_hook",
    "register_module_buffer_registration_hook",
    "register_module_module_registration_hook",
    "register_module_parameter_registration_hook",
]


_global_forward_pre_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
_global_forward_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
_global_forward_hooks_always_called: OrderedDict[int, bool] = OrderedDict()
_global_forward_hooks_with_kwargs: OrderedDict[int, bool] = OrderedDict()
_global_backward_pre_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
_global_backward_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
_global_is_full_backward_hook: bool | None = None
_global_buffer_registration_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
_global_module_registration_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
_global_parameter_registration_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What :meth:`Module.load_state_dict` returns: the keys it missed and the keys it did not expect."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


_EXTRA_STATE_KEY_SUFFIX = "_extra_state"


def register_module_forward_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Register a forward pre-hook common to all modules: ``hook(module, args) -> None or new args``."""
    handle = RemovableHandle(_global_forward_pre_hooks)
    _global_forward_pre_hooks[handle.id] = hook
    return handle


def register_module_forward_hook(
    hook: Callable[..., Any], *, with_kwargs: bool = False, always_call: bool = False
) -> RemovableHandle:
    """Register a forward hook common to all modules: ``hook(module, args, output) -> None or new output``.

    With ``with_kwargs=True`` the hook is ``hook(module, args, kwargs, output)``; with ``always_call=True`` it
    also runs when forward raised (then as ``hook(module, args, output)``, as PyTorch calls it).
    """
    handle = RemovableHandle(
        _global_forward_hooks, extra_dict=[_global_forward_hooks_always_called, _global_forward_hooks_with_kwargs]
    )
    _global_forward_hooks[handle.id] = hook
    if with_kwargs:
        _global_forward_hooks_with_kwargs[handle.id] = True
    if always_call:
        _global_forward_hooks_always_called[handle.id] = True
    return handle


def register_module_full_backward_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Register a backward pre-hook common to all modules: ``hook(module, grad_output)``."""
    handle = RemovableHandle(_global_backward_pre_hooks)
    _global_backward_pre_hooks[handle.id] = hook
    return handle


def _register_global_backward_hook(hook, full):
    """Shared by register_module_full_backward_hook (``full``) and register_module_backward_hook: the global
    backward hooks are of one kind only."""
    global _global_is_full_backward_hook
    if _global_is_full_backward_hook is (not full):
        raise RuntimeError(
            "Cannot use both regular backward hooks and full backward hooks as a global Module hook. "
            "Please use only one of them."
        )
    _global_is_full_backward_hook = full
    handle = RemovableHandle(_global_backward_hooks)
    _global_backward_hooks[handle.id] = hook
    return handle


def register_module_full_backward_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Register a full backward hook common to all modules: ``hook(module, grad_input, grad_output)``."""
    return _register_global_backward_hook(hook, full=True)


def register_module_backward_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Register a (legacy) backward hook common to all modules; prefer :func:`register_module_full_backward_hook`."""
    return _register_global_backward_hook(hook, full=False)


def _add_registration_hook(hooks, hook):
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


def register_module_buffer_registration_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Register ``hook(module, name, buffer) -> None or new buffer``, run by every module's
    :meth:`~Module.register_buffer` (and buffer assignment) before the buffer is stored."""
    return _add_registration_hook(_global_buffer_registration_hooks, hook)


def register_module_module_registration_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Register ``hook(module, name, submodule) -> None or new submodule``, run by every module's
    :meth:`~Module.add_module` (and submodule assignment) before the submodule is stored."""
    return _add_registration_hook(_global_module_registration_hooks, hook)


def register_module_parameter_registration_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Register ``hook(module, name, param) -> None or new parameter``, run by every module's
    :meth:`~Module.register_parameter` (and parameter assignment) before a parameter is stored."""
    return _add_registration_hook(_global_parameter_registration_hooks, hook)


def _registered(hooks, module, name, value):
    """``value`` as the registration ``hooks`` leave it (each may return a replacement)."""
    for hook in hooks.values():
        output = hook(module, name, value)
        if output is not None:
            value = output
    return value


def _addindent(s, num_spaces):
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    first = lines.pop(0)
    return first + "\n" + "\n".join(num_spaces * " " + line for line in lines)


def _is_sparse_tensor(value: Any) -> bool:
    """Whether ``value`` is a sparse tensor (COO or compressed), which a module may hold as a buffer."""
    return hasattr(value, "_nnz") and hasattr(value, "to_dense")


def _typename(obj):
    if isinstance(obj, Tensor):
        return obj.type()
    module = type(obj).__module__
    name = type(obj).__qualname__
    return name if module in (None, "builtins") else f"{module}.{name}"


# -- full backward hooks -------------------------------------------------------------------------
class BackwardHookFunction(Function):
    """Identity on tensors; its backward hands the incoming gradients to ``hook`` and returns its result.

    Checked, named and aliased as a user's Function, as PyTorch's is one: the tensors it returns are views
    of its inputs, which an in-place op may not modify (it would bypass the hooks), and those that do not
    require grad are non-differentiable.
    """

    _validates_gradients = True

    @staticmethod
    def forward(ctx, hook, materialize_grads, *tensors):
        ctx.hook = hook
        ctx.set_materialize_grads(materialize_grads)
        ctx.mark_non_differentiable(*[t for t in tensors if not t.requires_grad])
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None, None, *ctx.hook(grads))


def _pack_with_none(indices, values, size):
    result = [None] * size
    for i, v in zip(indices, values):
        result[i] = v
    return tuple(result)


class _BackwardHook:
    """Wires a module's full backward (pre-)hooks around one call: identity Functions on the
    inputs and outputs that require grad catch the gradients w.r.t. them (PyTorch's semantics).
    """

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_inputs = 0
        self.input_indices = None
        self.n_outputs = 0
        self.output_indices = None

    def _wrap(self, args, on_grads, materialize_grads):
        """Pass the tensors of ``args`` through one BackwardHookFunction calling ``on_grads`` when some requires
        grad."""
        indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        if not grad_state.enabled or not any(args[i].requires_grad for i in indices):
            return args, None

        def hook(grads):  # the node's hook, named as PyTorch's in the errors: its results checked as the engine does
            return tuple(checked_hook_results(hook, grads, on_grads(grads)))

        wrapped = BackwardHookFunction.apply(hook, materialize_grads, *(args[i] for i in indices))
        args = list(args)
        for i, t in zip(indices, wrapped):
            args[i] = t
        return tuple(args), indices

    def _input_hook(self, grads):
        if self.grad_outputs is None:
            # The gradient reached the inputs without passing through the outputs.
            return grads
        grad_input = _pack_with_none(self.input_indices, grads, self.n_inputs)
        for hook in self.user_hooks:
            out = hook(self.module, grad_input, self.grad_outputs)
            if out is None:
                continue
            if len(out) != len(grad_input):  # a sequence, as PyTorch reads it (a tensor, by its first dimension)
                raise RuntimeError(
                    f"Backward hook returned an invalid number of grad_input, got {len(out)}, but expected "
                    f"{len(grad_input)}"
                )
            grad_input = out
        self.grad_outputs = None
        return tuple(grad_input[i] for i in self.input_indices)

    def _output_hook(self, grads):
        self.grad_outputs = _pack_with_none(self.output_indices, grads, self.n_outputs)
        for hook in self.user_pre_hooks:
            out = hook(self.module, self.grad_outputs)
            if out is None:
                continue
            if len(out) != len(self.grad_outputs):
                raise RuntimeError(
                    f"Backward pre hook returned an invalid number of grad_output, got {len(out)}, but "
                    f"expected {len(self.grad_outputs)}"
                )
            self.grad_outputs = out
        local = self.grad_outputs
        if self.input_indices is None:
            warnings.warn(
                "Full backward hook is firing when gradients are computed with respect to module outputs since no "
                "inputs require gradients. See the documentation of ember.nn.Module.register_full_backward_hook "
                "for more details.",
                stacklevel=outside_ember_stacklevel(),  # the caller of backward()
            )
            grad_inputs = (None,) * self.n_inputs
            for hook in self.user_hooks:
                res = hook(self.module, grad_inputs, self.grad_outputs)
                if res is not None and not (isinstance(res, tuple) and all(r is None for r in res)):
                    raise RuntimeError(
                        "Backward hook for Modules where no input requires gradient should always return "
                        "None or None for all gradients."
                    )
            self.grad_outputs = None
        return tuple(local[i] for i in self.output_indices)

    def setup_input_hook(self, args):
        self.n_inputs = len(args)
        # PyTorch's hook reads the gradients its Function computed: zeros for the inputs that do not require
        # grad or that the outputs do not depend on
        args, self.input_indices = self._wrap(args, self._input_hook, materialize_grads=True)
        return args

    def setup_output_hook(self, result):
        single = isinstance(result, Tensor)
        outs = (result,) if single else result
        if not isinstance(outs, tuple):
            return result
        self.n_outputs = len(outs)
        # and the gradients reaching the outputs as they came: None for those that backward did not reach
        outs, self.output_indices = self._wrap(outs, self._output_hook, materialize_grads=False)
        return outs[0] if single else outs


class _WrappedHook:
    """A hook called as ``hook(module, *args)`` when bound to a module (held weakly, so that the hook does
    not keep it alive), else as ``hook(*args)``; pickled with its module."""

    def __init__(self, hook, module=None):
        self.hook = hook
        functools.update_wrapper(self, hook)
        self.with_module = module is not None
        if self.with_module:
            self.module = weakref.ref(module)

    def __call__(self, *args, **kwargs):
        if not self.with_module:
            return self.hook(*args, **kwargs)
        module = self.module()
        if module is None:
            raise RuntimeError("You are trying to call the hook of a dead Module!")
        return self.hook(module, *args, **kwargs)

    def __getstate__(self):
        state = {"hook": self.hook, "with_module": self.with_module}
        if self.with_module:
            state["module"] = self.module()
        return state

    def __setstate__(self, state):
        self.hook = state["hook"]
        self.with_module = state["with_module"]
        if self.with_module:
            if state["module"] is None:
                raise RuntimeError("You are trying to revive the hook of a dead Module!")
            self.module = weakref.ref(state["module"])


class _LegacyBackwardHook(_WrappedHook):
    """A legacy backward hook bound to its module, registered on an output's grad_fn: its result, a
    gradient or a sequence of them, as the tuple the node's hooks return."""

    def __call__(self, grad_inputs, grad_outputs):
        out = super().__call__(tuple(grad_inputs), tuple(grad_outputs))
        if out is None:
            return None
        return tuple(out) if isinstance(out, (tuple, list)) else (out,)


_NON_FULL_HOOK_ADVICE = "Please use register_full_backward_hook to get the documented behavior."


def _warn_non_full_backward_hook(inputs, result, grad_fn):
    """PyTorch's deprecation warnings for a legacy backward hook, registered on ``grad_fn``, that will miss
    some gradients: the module's inputs or outputs are not tensors, or its forward is more than one node."""
    outputs = (result,) if isinstance(result, Tensor) else result
    if not (isinstance(outputs, tuple) and all(isinstance(r, Tensor) for r in outputs)):
        warnings.warn(
            "Using non-full backward hooks on a Module that does not return a single Tensor or a tuple of Tensors "
            "is deprecated and will be removed in future versions. This hook will be missing some of the "
            "grad_output. " + _NON_FULL_HOOK_ADVICE,
            FutureWarning,
            stacklevel=5,
        )
        return
    if not all(isinstance(i, Tensor) for i in inputs):
        warnings.warn(
            "Using non-full backward hooks on a Module that does not take as input a single Tensor or a tuple of "
            "Tensors is deprecated and will be removed in future versions. This hook will be missing some of the "
            "grad_input. " + _NON_FULL_HOOK_ADVICE,
            FutureWarning,
            stacklevel=5,
        )
        return
    # ``grad_fn`` is the first output's: among the outputs' nodes
    if len({r.grad_fn for r in outputs if r.grad_fn is not None}) > 1:
        message, missing = "when outputs are generated by different autograd Nodes", "grad_output"
    elif {i.grad_fn for i in inputs if i.grad_fn is not None} != {n[0] for n in grad_fn.next_functions}:
        message, missing = "when the forward contains multiple autograd Nodes", "grad_input"
    else:
        return
    warnings.warn(
        f"Using a non-full backward hook {message} is deprecated and will be removed in future versions. "
        f"This hook will be missing some {missing}. " + _NON_FULL_HOOK_ADVICE,
        FutureWarning,
        stacklevel=5,
    )


def _forward_unimplemented(self, *input):
    r"""Define the computation performed at every call.

    Should be overridden by all subclasses. Call the module instance (``module(x)``) rather than
    ``forward`` itself: the instance runs the registered hooks, ``forward`` ignores them.
    """
    raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')


class _HookedCall:
    """One call of a module with hooks: the arguments as the pre-hooks left them and the output as far as the
    call got, which the forward hooks registered with ``always_call=True`` see when it raises, and which of
    those hooks already ran."""

    __slots__ = ("args", "kwargs", "result", "called_always")

    def __init__(self, args, kwargs):
        self.args = args
        self.kwargs = kwargs
        self.result = None
        self.called_always: set[int] = set()


# -- Module -------------------------------------------------------------------------------------
def _check_new_member_name(module, kind, store, name):
    """The checks register_buffer and register_parameter make: ``module.__init__`` has run (``store``,
    its dict of that ``kind`` of member, exists) and ``name`` is a new, non-empty string without dots."""
    if store not in module.__dict__:
        raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {_typename(name)}")
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain "."')
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if hasattr(module, name) and name not in module.__dict__[store]:
        raise KeyError(f"attribute '{name}' already exists")


def _assign_buffer(module, name, value, persistent):
    """A buffer's attribute assignment: ``module.register_buffer(name, value, persistent)``, or, for a subclass
    whose register_buffer predates its ``persistent`` argument, ``register_buffer(name, value)`` (as PyTorch)."""
    register = module.register_buffer
    if (
        getattr(register, "__func__", None) is Module.register_buffer
        or "persistent" in inspect.signature(register).parameters
    ):
        register(name, value, persistent)
        return
    if not persistent:
        raise RuntimeError(
            "Registering a non-persistent buffer on a Module subclass that implements register_buffer() without the "
            "persistent argument is not allowed."
        )
    register(name, value)


def _owner_of(module, target):
    """For get_parameter/get_buffer: the submodule of ``module`` holding the dotted path ``target``, and
    the last name, which that submodule must have."""
    module_path, _, name = target.rpartition(".")
    mod = module.get_submodule(module_path)
    if not hasattr(mod, name):
        raise AttributeError(mod._get_name() + " has no attribute `" + name + "`")
    return mod, name


def _add_backward_hook(module, hook, full, prepend=False):
    """Shared by register_full_backward_hook (``full``) and register_backward_hook: a module takes
    backward hooks of one kind only."""
    if module._is_full_backward_hook is (not full):
        raise RuntimeError(
            "Cannot use both regular backward hooks and full backward hooks on a single Module. "
            "Please use only one of them."
        )
    module._is_full_backward_hook = full
    handle = RemovableHandle(module._backward_hooks)
    module._backward_hooks[handle.id] = hook
    if prepend:
        module._backward_hooks.move_to_end(handle.id, last=False)
    return handle


class Module:
    r"""Base class for all neural network modules.

    Your models should subclass this class. Modules can contain other modules, parameters
    and buffers, registered by assigning them as attributes::

        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(1, 20, 5)
                self.conv2 = nn.Conv2d(20, 20, 5)

            def forward(self, x):
                x = F.relu(self.conv1(x))
                return F.relu(self.conv2(x))

    Calling a module (``model(x)``) runs its forward pre-hooks, :meth:`forward` and its
    forward hooks. Submodules are moved, cast and saved with their parent.

    Attributes:
        training (bool): whether the module is in training or evaluation mode.
    """

    dump_patches = False
    _version = 1
    training: bool
    call_super_init = False
    forward: Callable[..., Any] = _forward_unimplemented
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _non_persistent_buffers_set: set[str]
    _modules: dict[str, Module | None]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # the arguments go on to the next class of the MRO (a mixin's __init__) only with call_super_init
        if kwargs and not self.call_super_init:
            raise TypeError(
                f"{type(self).__name__}.__init__() got an unexpected keyword argument '{next(iter(kwargs))}'"
            )
        if args and not self.call_super_init:
            raise TypeError(
                f"{type(self).__name__}.__init__() takes 1 positional argument but {len(args) + 1} were given"
            )
        setattr_ = object.__setattr__
        setattr_(self, "training", True)
        setattr_(self, "_parameters", {})
        setattr_(self, "_buffers", {})
        setattr_(self, "_non_persistent_buffers_set", set())
        setattr_(self, "_backward_pre_hooks", OrderedDict())
        setattr_(self, "_backward_hooks", OrderedDict())
        setattr_(self, "_is_full_backward_hook", None)
        setattr_(self, "_forward_hooks", OrderedDict())
        setattr_(self, "_forward_hooks_with_kwargs", OrderedDict())
        setattr_(self, "_forward_hooks_always_called", OrderedDict())
        setattr_(self, "_forward_pre_hooks", OrderedDict())
        setattr_(self, "_forward_pre_hooks_with_kwargs", OrderedDict())
        setattr_(self, "_state_dict_hooks", OrderedDict())
        setattr_(self, "_state_dict_pre_hooks", OrderedDict())
        setattr_(self, "_load_state_dict_pre_hooks", OrderedDict())
        setattr_(self, "_load_state_dict_post_hooks", OrderedDict())
        setattr_(self, "_modules", {})
        if self.call_super_init:
            super().__init__(*args, **kwargs)

    # -- registration -------------------------------------------------------------------------
    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        r"""Add a buffer: state that is not a parameter (e.g. BatchNorm's ``running_mean``).

        Args:
            name (str): name of the buffer; accessible as an attribute.
            tensor (Tensor or None): the buffer. ``None`` buffers are skipped by moves and
                state dicts.
            persistent (bool): whether the buffer is part of :meth:`state_dict`. Default: ``True``.
        """
        _check_new_member_name(self, "buffer", "_buffers", name)
        if tensor is not None and not isinstance(tensor, Tensor) and not _is_sparse_tensor(tensor):
            raise TypeError(
                f"cannot assign '{_typename(tensor)}' object to buffer '{name}' (torch Tensor or None required)"
            )
        if _global_buffer_registration_hooks:
            tensor = _registered(_global_buffer_registration_hooks, self, name, tensor)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        r"""Add a parameter to the module, accessible as an attribute.

        Args:
            name (str): name of the parameter.
            param (Parameter or None): the parameter. ``None`` parameters are skipped by
                moves and state dicts.
        """
        _check_new_member_name(self, "parameter", "_parameters", name)
        if param is None:
            self._parameters[name] = None
        elif not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{_typename(param)}' object to parameter '{name}' (torch.nn.Parameter or None required)"
            )
        elif param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be created "
                f"explicitly. To express '{name}' as a function of another Tensor, compute the value in the "
                "forward() method."
            )
        else:
            if _global_parameter_registration_hooks:
                param = _registered(_global_parameter_registration_hooks, self, name, param)
            self._parameters[name] = param

    def add_module(self, name: str, module: Module | None) -> None:
        r"""Add a child module, accessible as an attribute.

        Args:
            name (str): name of the child module.
            module (Module or None): the child module.
        """
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {_typename(name)}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        if _global_module_registration_hooks:
            module = _registered(_global_module_registration_hooks, self, name, module)
        self._modules[name] = module

    def register_module(self, name: str, module: Module | None) -> None:
        r"""Alias for :meth:`add_module`."""
        self.add_module(name, module)

    def get_submodule(self, target: str) -> Module:
        """The submodule at the dotted path ``target`` (``""`` is this module)."""
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(mod._get_name() + " has no attribute `" + item + "`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError("`" + item + "` is not an nn.Module")
        return mod

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Replace (or with ``strict=False`` add) the submodule at the dotted path ``target``."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        *path, last = target.split(".")
        parent = self.get_submodule(".".join(path))
        if strict and not hasattr(parent, last):
            raise AttributeError(parent._get_name() + " has no attribute `" + last + "`")
        if hasattr(parent, last) and not isinstance(getattr(parent, last), Module):
            raise AttributeError("`" + last + "` is not an nn.Module")
        setattr(parent, last, module)

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path ``target``."""
        mod, name = _owner_of(self, target)
        param = getattr(mod, name)
        if not isinstance(param, Parameter):
            raise AttributeError("`" + name + "` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at the dotted path ``target``."""
        mod, name = _owner_of(self, target)
        if name not in mod._buffers:
            raise AttributeError("`" + name + "` is not a buffer")
        return getattr(mod, name)

    def get_extra_state(self) -> Any:
        """Extra state for :meth:`state_dict`; override together with :meth:`set_extra_state`."""
        raise RuntimeError(
            "Reached a code path in Module.get_extra_state() that should never be called. Please file an issue."
        )

    def set_extra_state(self, state: Any) -> None:
        """Restore the state returned by :meth:`get_extra_state`."""
        raise RuntimeError(
            "Reached a code path in Module.set_extra_state() that should never be called. Please file an issue."
        )

    # -- attribute protocol -------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        if "_parameters" in d:
            params = d["_parameters"]
            if name in params:
                return params[name]
        if "_buffers" in d:
            buffers = d["_buffers"]
            if name in buffers:
                return buffers[name]
        if "_modules" in d:
            modules = d["_modules"]
            if name in modules:
                return modules[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        def remove_from(*dicts_or_sets):
            for d in dicts_or_sets:
                if name in d:
                    if isinstance(d, dict):
                        del d[name]
                    else:
                        d.discard(name)

        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            remove_from(self.__dict__, self._buffers, self._modules, self._non_persistent_buffers_set)
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as parameter '{name}' (torch.nn.Parameter or None expected)"
                )
            self.register_parameter(name, value)
            return
        modules = self.__dict__.get("_modules")
        if isinstance(value, Module) or (modules is not None and name in modules):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            if isinstance(value, Module):
                remove_from(self.__dict__, self._parameters, self._buffers, self._non_persistent_buffers_set)
            elif value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as child module '{name}' (torch.nn.Module or None expected)"
                )
            if _global_module_registration_hooks:
                value = _registered(_global_module_registration_hooks, self, name, value)
            modules[name] = value
            return
        buffers = self.__dict__.get("_buffers")
        if isinstance(value, Buffer):  # nn.Buffer: registered as register_buffer would
            if buffers is None:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            remove_from(self.__dict__, self._parameters, self._modules)
            _assign_buffer(self, name, value, value.persistent)
            return
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor) and not _is_sparse_tensor(value):
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as buffer '{name}' "
                    "(torch.nn.Buffer, torch.Tensor or None expected)"
                )
            _assign_buffer(self, name, value, name not in self._non_persistent_buffers_set)
            return
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        keys = (
            dir(self.__class__)
            + list(self.__dict__)
            + list(self._parameters)
            + list(self._modules)
            + list(self._buffers)
        )
        return sorted(key for key in keys if not key[0].isdigit())

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        defaults = {
            "_forward_pre_hooks": OrderedDict,
            "_forward_pre_hooks_with_kwargs": OrderedDict,
            "_forward_hooks": OrderedDict,
            "_forward_hooks_with_kwargs": OrderedDict,
            "_forward_hooks_always_called": OrderedDict,
            "_backward_hooks": OrderedDict,
            "_backward_pre_hooks": OrderedDict,
            "_state_dict_hooks": OrderedDict,
            "_state_dict_pre_hooks": OrderedDict,
            "_load_state_dict_pre_hooks": OrderedDict,
            "_load_state_dict_post_hooks": OrderedDict,
            "_non_persistent_buffers_set": set,
        }
        for key, factory in defaults.items():
            if key not in self.__dict__:
                self.__dict__[key] = factory()
        self.__dict__.setdefault("_is_full_backward_hook", None)

    # -- traversal -------------------------------------------------------------------------------
    def _named_members(self, get_members_fn, prefix="", recurse=True, remove_duplicate=True):
        memo = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for k, v in get_members_fn(module):
                if v is None or id(v) in memo:
                    continue
                if remove_duplicate:
                    memo.add(id(v))
                yield module_prefix + ("." if module_prefix else "") + k, v

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        r"""An iterator over module parameters (each shared parameter once).

        Args:
            recurse (bool): include the parameters of all submodules. Default: ``True``.
        """
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        r"""An iterator over ``(name, parameter)`` pairs, names dotted like ``"0.weight"``.

        Args:
            prefix (str): prepended to all names. Default: ``""``.
            recurse (bool): include submodules' parameters. Default: ``True``.
            remove_duplicate (bool): yield shared parameters once. Default: ``True``.
        """
        yield from self._named_members(
            lambda module: module._parameters.items(), prefix=prefix, recurse=recurse, remove_duplicate=remove_duplicate
        )

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        r"""An iterator over module buffers."""
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        r"""An iterator over ``(name, buffer)`` pairs."""
        yield from self._named_members(
            lambda module: module._buffers.items(), prefix=prefix, recurse=recurse, remove_duplicate=remove_duplicate
        )

    def children(self) -> Iterator[Module]:
        r"""An iterator over immediate children modules."""
        for _, module in self.named_children():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        r"""An iterator over ``(name, module)`` pairs of immediate children (each module once)."""
        memo = set()
        for name, module in self._modules.items():
            if module is not None and module not in memo:
                memo.add(module)
                yield name, module

    def modules(self) -> Iterator[Module]:
        r"""An iterator over all modules in the network, this one first (each module once)."""
        for _, module in self.named_modules():
            yield module

    def named_modules(
        self, memo: set[Module] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        r"""An iterator over ``(name, module)`` pairs of all modules, this one first with name ``prefix``.

        Args:
            memo: a set of modules already yielded (they are skipped).
            prefix (str): prepended to all names. Default: ``""``.
            remove_duplicate (bool): yield shared modules once. Default: ``True``.
        """
        if memo is None:
            memo = set()
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub_prefix = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub_prefix, remove_duplicate)

    def apply(self, fn: Callable[[Module], None]) -> Self:
        r"""Apply ``fn`` to every submodule (children first) and then to ``self``; returns ``self``.

        Example::

            >>> @ember.no_grad()
            ... def init_weights(m):
            ...     if type(m) is nn.Linear:
            ...         m.weight.fill_(1.0)
            >>> net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)).apply(init_weights)
        """
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # -- modes and gradients ---------------------------------------------------------------------
    def train(self, mode: bool = True) -> Self:
        r"""Set training mode (``mode=True``) or evaluation mode on this module and its children.

        Returns ``self``.
        """
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Self:
        r"""Set evaluation mode: ``self.train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Self:
        r"""Set ``requires_grad`` of all parameters in place; returns ``self``."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        r"""Reset the gradients of all parameters.

        Args:
            set_to_none (bool): set grads to ``None`` instead of filling them with zeros.
                Default: ``True``.
        """
        reset_grads(self.parameters(), set_to_none)

    # -- moving and casting ------------------------------------------------------------------------
    def _apply(self, fn, recurse=True):
        """``fn`` applied to every parameter (and its gradient) and buffer. A parameter is changed in place
        (``param.data = fn(param)``), or, as :mod:`ember.__future__` says, replaced by a new Parameter or
        swapped with the result (:func:`ember.utils.swap_tensors`), as PyTorch's ``Module._apply``."""
        if recurse:
            for module in self.children():
                module._apply(fn)
        swap = future.get_swap_module_params_on_conversion()
        overwrite = future.get_overwrite_module_params_on_conversion()
        for key, param in self._parameters.items():
            if param is None:
                continue
            with no_grad():
                param_applied = fn(param)
            param_grad = param.grad
            if swap:
                try:
                    if param_grad is not None:  # a tensor's .grad holds a reference PyTorch's swap refuses
                        param.grad = None
                    swap_tensors(param, Parameter(param_applied, requires_grad=param.requires_grad))
                except Exception as e:
                    if param_grad is not None:
                        param.grad = param_grad
                    raise RuntimeError(f"_apply(): Couldn't swap {self._get_name()}.{key}") from e
                out_param = param
            elif not overwrite and _same_kind(param, param_applied):
                param.data = param_applied
                out_param = param
            else:
                out_param = Parameter(param_applied, param.requires_grad)
                self._parameters[key] = out_param
            if param_grad is None:
                continue
            with no_grad():
                grad_applied = fn(param_grad)
            if swap:
                grad_applied.requires_grad_(param_grad.requires_grad)
                try:
                    swap_tensors(param_grad, grad_applied)
                except Exception as e:
                    raise RuntimeError(f"_apply(): Couldn't swap {self._get_name()}.{key}.grad") from e
                out_param.grad = param_grad
            elif not overwrite and _same_kind(param_grad, grad_applied):
                out_param.grad.data = grad_applied
            else:
                out_param.grad = grad_applied.requires_grad_(param_grad.requires_grad)
        for key, buf in self._buffers.items():
            if buf is not None:
                self._buffers[key] = fn(buf)
        return self

    def share_memory(self) -> Self:
        r"""Move all parameters and buffers to shared memory (:meth:`ember.Tensor.share_memory_`); returns ``self``.

        Examples::

            >>> model = nn.Linear(2, 2).share_memory()
            >>> model.weight.is_shared()
            True
        """
        return self._apply(lambda t: t.share_memory_())

    def compile(self, *args: Any, **kwargs: Any) -> None:
        r"""Compile this module's forward in place, as PyTorch's ``Module.compile``: ember has no compiler
        (see :func:`ember.compile`, which checks the arguments), so the module keeps running eagerly.

        Examples::

            >>> model = nn.Linear(2, 2)
            >>> model.compile(mode="reduce-overhead")
            >>> model(ember.ones(1, 2)).shape
            ember.Size([1, 2])
        """
        compile_model(self, *args, **kwargs)

    def to_empty(self, *, device: int | str | _device | None, recurse: bool = True) -> Self:
        r"""Replace every parameter and buffer by an uninitialized tensor of its shape and dtype on
        ``device`` (for a module built without its values, to be initialised or loaded next); returns ``self``.

        Args:
            device (ember.device): the device of the new tensors.
            recurse (bool): also those of the submodules. Default: ``True``

        Examples::

            >>> model = nn.Linear(2, 3).to_empty(device="cpu")
            >>> model.weight.shape, model.weight.requires_grad
            (ember.Size([3, 2]), True)
        """
        return self._apply(lambda t: empty_like(t, device=device), recurse=recurse)

    def cpu(self) -> Self:
        r"""Move all parameters and buffers to the CPU; returns ``self``."""
        return self._apply(lambda t: t.cpu())

    def cuda(self, device: int | str | _device | None = None) -> Self:
        r"""Move all parameters and buffers to a CUDA device; returns ``self``.

        Args:
            device (int or device, optional): the target device. Default: the current one.
        """
        return self._apply(lambda t: t.cuda(device))

    def to(self, *args: Any, **kwargs: Any) -> Self:
        r"""Move and/or cast parameters and buffers; returns ``self``.

        Called as ``to(device=None, dtype=None, non_blocking=False)``, ``to(dtype, non_blocking=False)``
        or ``to(tensor, non_blocking=False)``. Only floating point and complex parameters and buffers
        are cast to ``dtype`` (a floating point or complex dtype; a complex one warns that complex
        modules are experimental). ``non_blocking`` is passed to :meth:`ember.Tensor.to` (asynchronous copies
        from pinned memory). ``memory_format=`` lays out the 4-D and 5-D parameters and buffers
        (a convolution's weight) in that format.

        Example::

            >>> model = nn.Linear(2, 2).to("cpu", ember.float64, non_blocking=True)
            >>> model.weight.dtype
            ember.float64
        """
        dev, dt, non_blocking, copy = _parse_to(args, dict(kwargs))
        if copy is not None:
            raise RuntimeError(".to() does not accept copy argument")
        if dt is not None:
            if not (dt.is_floating_point or dt.is_complex):
                raise TypeError(
                    f"nn.Module.to only accepts floating point or complex dtypes, but got desired dtype={dt}"
                )
            if dt.is_complex:
                warnings.warn(
                    "Complex modules are a new feature under active development whose design may change, and some "
                    "modules might not work as expected when using complex tensors as parameters or buffers.",
                    stacklevel=2,
                )

        memory_format = kwargs.get("memory_format")  # for 4-D and 5-D tensors, as PyTorch

        def convert(t):
            dtype = dt if t.is_floating_point() or t.is_complex() else None
            try:
                if memory_format is not None and t.dim() in (4, 5):
                    return t.to(dev, dtype, non_blocking=non_blocking, memory_format=memory_format)
                return t.to(dev, dtype, non_blocking=non_blocking)
            except NotImplementedError as error:
                if not t.is_meta:
                    raise
                raise NotImplementedError(  # PyTorch's pointer to the way out
                    f"{error} Please use torch.nn.Module.to_empty() instead of torch.nn.Module.to() when moving "
                    "module from meta to a different device."
                ) from None

        return self._apply(convert)

    def _cast_floating(self, method):
        """``self._apply`` of the Tensor cast ``method`` (a name) to floating point parameters and buffers."""
        return self._apply(lambda t: getattr(t, method)() if t.is_floating_point() else t)

    def float(self) -> Self:
        r"""Cast all floating point parameters and buffers to ``float32``; returns ``self``."""
        return self._cast_floating("float")

    def double(self) -> Self:
        r"""Cast all floating point parameters and buffers to ``float64``; returns ``self``."""
        return self._cast_floating("double")

    def half(self) -> Self:
        r"""Cast all floating point parameters and buffers to ``float16``; returns ``self``."""
        return self._cast_floating("half")

    def bfloat16(self) -> Self:
        r"""Cast all floating point parameters and buffers to ``bfloat16``; returns ``self``."""
        return self._cast_floating("bfloat16")

    def type(self, dst_type: Any) -> Self:
        r"""Cast all parameters and buffers to ``dst_type`` (a dtype or tensor type); returns ``self``."""
        return self._apply(lambda t: t.type(dst_type))

    # -- hooks -------------------------------------------------------------------------------------
    def register_forward_pre_hook(
        self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        r"""Register ``hook(module, args) -> None or modified args`` run before :meth:`forward`.

        With ``with_kwargs=True`` the hook is ``hook(module, args, kwargs) -> None or (args, kwargs)``.
        With ``prepend=True`` it runs before the hooks already registered. Returns a handle
        whose ``remove()`` removes the hook.
        """
        handle = RemovableHandle(self._forward_pre_hooks, extra_dict=self._forward_pre_hooks_with_kwargs)
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(
        self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False, always_call: bool = False
    ) -> RemovableHandle:
        r"""Register ``hook(module, args, output) -> None or modified output`` run after :meth:`forward`.

        With ``with_kwargs=True`` the hook is ``hook(module, args, kwargs, output)``. With
        ``always_call=True`` it also runs when forward raised. Returns a removable handle.
        """
        handle = RemovableHandle(
            self._forward_hooks, extra_dict=[self._forward_hooks_with_kwargs, self._forward_hooks_always_called]
        )
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_pre_hook(self, hook: Callable[..., Any], prepend: bool = False) -> RemovableHandle:
        r"""Register ``hook(module, grad_output) -> None or new grad_output``, run when the
        gradients with respect to the module's outputs have been computed.
        """
        handle = RemovableHandle(self._backward_pre_hooks)
        self._backward_pre_hooks[handle.id] = hook
        if prepend:
            self._backward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_hook(self, hook: Callable[..., Any], prepend: bool = False) -> RemovableHandle:
        r"""Register ``hook(module, grad_input, grad_output) -> None or new grad_input``.

        It runs when the gradients with respect to the module's (positional tensor) inputs
        have been computed; ``grad_input`` and ``grad_output`` are tuples with ``None`` for
        non-tensor arguments and tensors that do not require grad. The hook must not modify
        its arguments in place; it may return a replacement ``grad_input``.
        """
        return _add_backward_hook(self, hook, full=True, prepend=prepend)

    def register_backward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        r"""Register a (legacy) backward hook ``hook(module, grad_input, grad_output)``.

        It is attached to the ``grad_fn`` of the module's first output, so ``grad_input``
        holds the gradients with respect to that last operation's inputs. Prefer
        :meth:`register_full_backward_hook`.
        """
        return _add_backward_hook(self, hook, full=False)

    def register_state_dict_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        r"""Register ``hook(module, prefix, keep_vars)`` run before :meth:`state_dict`."""
        handle = RemovableHandle(self._state_dict_pre_hooks)
        self._state_dict_pre_hooks[handle.id] = hook
        return handle

    def register_state_dict_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        r"""Register ``hook(module, state_dict, prefix, local_metadata) -> None`` run after :meth:`state_dict`;
        it may edit ``state_dict`` in place (returning anything else than ``None`` is an error).
        """
        hook._from_public_api = True  # type: ignore[attr-defined]  # PyTorch's mark of the hooks that return None
        handle = RemovableHandle(self._state_dict_hooks)
        self._state_dict_hooks[handle.id] = hook
        return handle

    def _register_state_dict_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        r"""Register ``hook(module, state_dict, prefix, local_metadata) -> None or new state_dict`` run after
        :meth:`state_dict` (the older form of :meth:`register_state_dict_post_hook`, whose hook may return a
        replacement ``state_dict``)."""
        if getattr(hook, "_from_public_api", False):
            raise RuntimeError(
                "Cannot register the same function as the state dict post hook that was "
                "previously registered via register_state_dict_post_hook"
            )
        handle = RemovableHandle(self._state_dict_hooks)
        self._state_dict_hooks[handle.id] = hook
        return handle

    def register_load_state_dict_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        r"""Register ``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` run before this module's part of :meth:`load_state_dict`.
        """
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def _register_load_state_dict_pre_hook(
        self, hook: Callable[..., Any], with_module: bool = False
    ) -> RemovableHandle:
        r"""Register ``hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
        error_msgs)`` run before this module's part of :meth:`load_state_dict` (with ``with_module=True``
        the module comes first, as for :meth:`register_load_state_dict_pre_hook`)."""
        handle = RemovableHandle(self._load_state_dict_pre_hooks)
        self._load_state_dict_pre_hooks[handle.id] = _WrappedHook(hook, self if with_module else None)
        return handle

    def register_load_state_dict_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        r"""Register ``hook(module, incompatible_keys)`` run after :meth:`load_state_dict`;
        it may edit ``incompatible_keys.missing_keys``/``unexpected_keys`` in place.
        """
        handle = RemovableHandle(self._load_state_dict_post_hooks)
        self._load_state_dict_post_hooks[handle.id] = hook
        return handle

    def _get_backward_hooks(self):
        full, non_full = [], []
        if _global_is_full_backward_hook is True:
            full += _global_backward_hooks.values()
        if self._is_full_backward_hook is True:
            full += self._backward_hooks.values()
        if _global_is_full_backward_hook is False:
            non_full += _global_backward_hooks.values()
        if self._is_full_backward_hook is False:
            non_full += self._backward_hooks.values()
        return full, non_full

    #: what :meth:`__call__` runs instead of :meth:`_call_impl` when set (PyTorch's ``compile`` sets it; ember's
    #: leaves the module eager)
    _compiled_call_impl: Callable[..., Any] | None = None

    def _wrapped_call_impl(self, *args: Any, **kwargs: Any) -> Any:
        if self._compiled_call_impl is not None:
            return self._compiled_call_impl(*args, **kwargs)
        return self._call_impl(*args, **kwargs)

    def _call_impl(self, *args: Any, **kwargs: Any) -> Any:
        """Run the forward pre-hooks, :meth:`forward`, the forward hooks, and wire the backward hooks."""
        if not (
            self._backward_hooks
            or self._backward_pre_hooks
            or self._forward_hooks
            or self._forward_pre_hooks
            or _global_backward_pre_hooks
            or _global_backward_hooks
            or _global_forward_hooks
            or _global_forward_pre_hooks
        ):
            return self.forward(*args, **kwargs)
        call = _HookedCall(args, kwargs)
        try:
            return self._call_with_hooks(call)
        except Exception:
            self._run_always_called_hooks(call)
            raise

    def _run_always_called_hooks(self, call):
        """After an error in ``call``: the forward hooks registered with ``always_call=True`` that did not run,
        given the arguments and the output as far as the call got (their own errors are warnings)."""
        hook_sets = (
            ("global module", _global_forward_hooks, _global_forward_hooks_always_called, ()),
            ("module", self._forward_hooks, self._forward_hooks_always_called, self._forward_hooks_with_kwargs),
        )
        for kind, hooks, always_called, with_kwargs in hook_sets:
            for hook_id, hook in hooks.items():
                if hook_id not in always_called or hook_id in call.called_always:
                    continue
                try:
                    if hook_id in with_kwargs:
                        result = hook(self, call.args, call.kwargs, call.result)
                    else:
                        result = hook(self, call.args, call.result)
                    if result is not None:
                        call.result = result
                except Exception as e:
                    warnings.warn(
                        f"{kind} forward hook with ``always_call=True`` raised an exception that was silenced "
                        f"as another error was raised in forward: {e}",
                        stacklevel=4,
                    )

    def _call_with_hooks(self, call):
        backward_pre_hooks = [*_global_backward_pre_hooks.values(), *self._backward_pre_hooks.values()]
        full_backward_hooks, non_full_backward_hooks = self._get_backward_hooks()

        for hook_id, hook in (*_global_forward_pre_hooks.items(), *self._forward_pre_hooks.items()):
            if hook_id in self._forward_pre_hooks_with_kwargs:
                res = hook(self, call.args, call.kwargs)
                if res is not None:
                    if isinstance(res, tuple) and len(res) == 2:
                        call.args, call.kwargs = res
                    else:
                        raise RuntimeError(
                            f"forward pre-hook must return None or a tuple of (new_args, new_kwargs), but got {res}."
                        )
            else:
                res = hook(self, call.args)
                if res is not None:
                    call.args = res if isinstance(res, tuple) else (res,)

        bw_hook = None
        if full_backward_hooks or backward_pre_hooks:
            bw_hook = _BackwardHook(self, full_backward_hooks, backward_pre_hooks)
            call.args = bw_hook.setup_input_hook(call.args)

        args, kwargs = call.args, call.kwargs
        result = call.result = self.forward(*args, **kwargs)
        for hook_id, hook in (*_global_forward_hooks.items(), *self._forward_hooks.items()):
            if hook_id in self._forward_hooks_always_called or hook_id in _global_forward_hooks_always_called:
                call.called_always.add(hook_id)
            if hook_id in self._forward_hooks_with_kwargs or hook_id in _global_forward_hooks_with_kwargs:
                res = hook(self, args, kwargs, result)
            else:
                res = hook(self, args, result)
            if res is not None:
                result = call.result = res

        if bw_hook is not None:
            if not isinstance(result, (Tensor, tuple)):
                warnings.warn(
                    "For backward hooks to be called, module output should be a Tensor or a tuple of Tensors "
                    f"but received {type(result)}",
                    stacklevel=4,
                )
            result = bw_hook.setup_output_hook(result)

        if non_full_backward_hooks:
            var = result
            while not isinstance(var, Tensor):
                var = next(v for v in var.values() if isinstance(v, Tensor)) if isinstance(var, dict) else var[0]
            if var.grad_fn is not None:
                for hook in non_full_backward_hooks:
                    var.grad_fn.register_hook(_LegacyBackwardHook(hook, self))
                _warn_non_full_backward_hook(args, result, var.grad_fn)
        return result

    __call__ = _wrapped_call_impl

    # -- state dicts ---------------------------------------------------------------------------------
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + _EXTRA_STATE_KEY_SUFFIX] = self.get_extra_state()

    def state_dict(
        self, *args: Any, destination: dict[str, Any] | None = None, prefix: str = "", keep_vars: bool = False
    ) -> dict[str, Any]:
        r"""A dictionary with the whole state of the module: parameters and persistent buffers.

        Keys are dotted names (``"0.weight"``); ``None`` parameters and buffers are left out.

        Args:
            destination (dict, optional): a dict to fill and return. Default: a new ``OrderedDict``.
            prefix (str): prepended to every key. Default: ``""``.
            keep_vars (bool): return the parameters and buffers themselves instead of detached
                tensors sharing their storage. Default: ``False``.
        """
        if args:
            # The positional form (destination, prefix, keep_vars) of older releases.
            warnings.warn(
                "Positional args are being deprecated, use kwargs instead. Refer to "
                "https://pytorch.org/docs/main/generated/torch.nn.Module.html#torch.nn.Module.state_dict for details.",
                FutureWarning,
                stacklevel=2,
            )
            names = ("destination", "prefix", "keep_vars")
            if len(args) > len(names):
                raise TypeError(f"state_dict() takes at most {len(names)} positional arguments")
            given = dict(zip(names, args))
            destination = given.get("destination", destination)
            prefix = given.get("prefix", prefix)
            keep_vars = given.get("keep_vars", keep_vars)
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()  # type: ignore[attr-defined]  # as PyTorch's
        local_metadata = {"version": self._version}
        if hasattr(destination, "_metadata"):  # each module's version, read back by load_state_dict
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            result = hook(self, destination, prefix, local_metadata)
            if result is None:
                continue
            if getattr(hook, "_from_public_api", False):
                raise RuntimeError("state_dict post-hook must return None")
            destination = result
        return destination

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ):
        r"""Copy this module's own parameters and buffers from ``state_dict`` (not its children's).

        Subclasses override it to convert old formats; the arguments are PyTorch's.
        """
        for hook in self._load_state_dict_pre_hooks.values():
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)
        persistent = {k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set}
        local_state = {k: v for k, v in itertools.chain(self._parameters.items(), persistent.items()) if v is not None}
        assign = local_metadata.get("assign_to_params_buffers", False)
        for name, param in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = state_dict[key]
            if not isinstance(value, Tensor) and not _is_sparse_tensor(value):
                error_msgs.append(
                    f'While copying the parameter named "{key}", expected torch.Tensor or Tensor-like object from '
                    f"checkpoint but received {type(value)}"
                )
                continue
            if param.ndim == 0 and value.shape == (1,):  # a scalar saved as a 1-element vector (old checkpoints)
                value = value[0]
            if value.shape != param.shape:
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape {value.shape} from checkpoint, "
                    f"the shape in current model is {param.shape}."
                )
                continue
            try:
                with no_grad():
                    if future.get_swap_module_params_on_conversion():
                        _swap_loaded(param, value, assign)
                    elif assign:
                        value = _kind_of(param, value)
                        setattr(self, name, value)
                    else:
                        if param.is_meta and not value.is_meta:
                            warnings.warn(
                                f"for {key}: copying from a non-meta parameter in the checkpoint to a meta parameter "
                                "in the current model, which is a no-op. (Did you mean to pass `assign=True` to assign "
                                "items in the state dictionary to their corresponding key in the module instead of "
                                "copying them in place?)",
                                stacklevel=2,
                            )
                        param.copy_(value)
            except Exception as ex:
                action = "swapping" if future.get_swap_module_params_on_conversion() else "copying"
                error_msgs.append(
                    f'While {action} the parameter named "{key}", whose dimensions in the model are {param.size()} '
                    f"and whose dimensions in the checkpoint are {value.size()}, an exception occurred : {ex.args}."
                )
        extra_key = prefix + _EXTRA_STATE_KEY_SUFFIX
        if type(self).set_extra_state is not Module.set_extra_state:
            if extra_key in state_dict:
                self.set_extra_state(state_dict[extra_key])
            elif strict:
                missing_keys.append(extra_key)
        elif strict and extra_key in state_dict:
            unexpected_keys.append(extra_key)
        if strict:
            for key in state_dict:
                if key.startswith(prefix) and key != extra_key:
                    parts = key[len(prefix) :].split(".", 1)
                    if len(parts) > 1:
                        if parts[0] not in self._modules:
                            unexpected_keys.append(key)
                    elif parts[0] not in local_state:
                        unexpected_keys.append(key)

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> _IncompatibleKeys:
        r"""Copy parameters and buffers from ``state_dict`` into this module and its descendants.

        Args:
            state_dict (dict): parameters and persistent buffers, as from :meth:`state_dict`.
            strict (bool): require the keys to match this module's :meth:`state_dict` keys
                exactly. Default: ``True``.
            assign (bool): assign the state dict's tensors instead of copying into the
                existing ones. Default: ``False``.

        Returns:
            ``NamedTuple`` with ``missing_keys`` and ``unexpected_keys``.

        Raises:
            RuntimeError: listing every missing, unexpected and wrongly shaped key together.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing_keys: list[str] = []
        unexpected_keys: list[str] = []
        error_msgs: list[str] = []
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        if metadata is not None:  # the copy that _load_from_state_dict overrides see keeps the versions
            state_dict._metadata = metadata  # type: ignore[attr-defined]

        def load(module, local_state_dict, prefix=""):
            local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
            if assign:
                local_metadata["assign_to_params_buffers"] = assign
            module._load_from_state_dict(
                local_state_dict, prefix, local_metadata, True, missing_keys, unexpected_keys, error_msgs
            )
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    child_state = {k: v for k, v in local_state_dict.items() if k.startswith(child_prefix)}
                    load(child, child_state, child_prefix)
            incompatible = _IncompatibleKeys(missing_keys, unexpected_keys)
            for hook in module._load_state_dict_post_hooks.values():
                if hook(module, incompatible) is not None:
                    raise AssertionError(
                        "Hooks registered with ``register_load_state_dict_post_hook`` are not expected to return "
                        "new values, if incompatible_keys need to be modified, it should be done inplace."
                    )

        load(self, state_dict)
        if strict:
            if unexpected_keys:
                error_msgs.insert(
                    0, "Unexpected key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in unexpected_keys))
                )
            if missing_keys:
                error_msgs.insert(
                    0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing_keys))
                )
        if error_msgs:
            raise RuntimeError(
                "Error(s) in loading state_dict for {}:\n\t{}".format(type(self).__name__, "\n\t".join(error_msgs))
            )
        return _IncompatibleKeys(missing_keys, unexpected_keys)

    # -- printing -------------------------------------------------------------------------------------
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        r"""The module's own line of :meth:`__repr__` (its hyperparameters); override it."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({key}): " + _addindent(repr(module), 2) for key, module in self._modules.items()]
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


def _same_kind(tensor: Tensor, applied: Tensor) -> bool:
    """Whether ``applied`` can become ``tensor``'s data in place (``tensor.data = applied``): both are dense
    tensors (PyTorch's ``_has_compatible_shallow_copy_type``)."""
    return isinstance(applied, Tensor) and tensor.layout == applied.layout


def _swap_loaded(param: Tensor, value: Tensor, assign: bool) -> None:
    """``load_state_dict``'s load by swapping (:func:`ember.__future__.set_swap_module_params_on_conversion`):
    ``param.module_load(value, assign)`` is swapped into ``param``, as a Parameter where ``param`` is one."""
    loaded = param.module_load(value, assign=assign)
    if loaded is value or loaded is param:
        raise RuntimeError(
            "module_load returned one of self or other, please .detach() the result if returning one of the "
            "inputs in module_load"
        )
    swap_tensors(param, _kind_of(param, loaded))


def _kind_of(param: Tensor, value: Tensor) -> Tensor:
    """``value``, loaded in place of ``param``, as a Parameter requiring grad as ``param`` does where
    ``param`` is one (``value`` itself if it already is a Parameter), else as it is."""
    if not isinstance(param, Parameter):
        return value
    if isinstance(value, Parameter):
        return value.requires_grad_(param.requires_grad)
    return Parameter(value, requires_grad=param.requires_grad)
