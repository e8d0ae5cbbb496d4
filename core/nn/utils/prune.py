"""``nn.utils.prune``: zero out entries (or whole channels) of a module's parameter with a mask.

Pruning ``module.weight`` moves the parameter to ``module.weight_orig``, stores the mask as the buffer
``module.weight_mask`` and makes ``module.weight`` the plain tensor ``weight_orig * weight_mask``,
recomputed by a forward pre-hook (the pruning method itself) before every forward, as PyTorch does;
so the ``state_dict`` keys are PyTorch's. Pruning the same parameter again narrows the mask further
(a :class:`PruningContainer` holds the methods in order); :func:`remove` makes the pruning permanent.
"""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import Any

from ...ops.creation import ones_like, rand, rand_like, zeros_like
from ...ops.indexing import kthvalue, topk
from ...tensor import Tensor
from ..modules.module import Module
from .convert_parameters import parameters_to_vector

__all__ = [
    "BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured", "L1Unstructured",
    "RandomStructured", "LnStructured", "CustomFromMask", "identity", "random_unstructured", "l1_unstructured",
    "random_structured", "ln_structured", "global_unstructured", "custom_from_mask", "remove", "is_pruned",
]  # fmt: skip


class BasePruningMethod(ABC):
    r"""The base of the pruning methods: :meth:`compute_mask` says which entries to keep, and the
    method, registered as a forward pre-hook, sets ``module.<name>`` to the masked original before
    every forward.

    ``PRUNING_TYPE`` is ``'unstructured'`` (entries), ``'structured'`` (channels along ``dim``) or
    ``'global'`` (the whole mask at once); it tells a :class:`PruningContainer` which entries a
    further pruning may still remove.
    """

    PRUNING_TYPE: str | None = None
    _tensor_name: str | None

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self._name(), self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The mask (1 keeps an entry, 0 prunes it) for ``t``, narrowing ``default_mask``."""

    def _name(self) -> str:
        if self._tensor_name is None:
            raise AssertionError(f"Module {self} has to be pruned")  # set by apply()
        return self._tensor_name

    def apply_mask(self, module: Module) -> Tensor:
        """``module.<name>_orig`` times ``module.<name>_mask``."""
        name = self._name()
        orig = getattr(module, name + "_orig")
        return getattr(module, name + "_mask").to(dtype=orig.dtype) * orig

    @classmethod
    def apply(
        cls, module: Module, name: str, *args: Any, importance_scores: Tensor | None = None, **kwargs: Any
    ) -> BasePruningMethod:
        r"""Prune ``module.<name>`` with a new ``cls(*args, **kwargs)`` (joined with the method already
        pruning it, if any) and return the method now pruning it.

        Args:
            module (nn.Module): the module holding the tensor to prune.
            name (str): the parameter's name in ``module``.
            importance_scores (Tensor, optional): scores of ``module.<name>``'s shape that decide what
                to prune, instead of the parameter's own values. Default: ``None``
        """
        method = cls._joined_method(module, name, *args, **kwargs)
        orig = getattr(module, name)
        if importance_scores is not None and importance_scores.shape != orig.shape:
            raise AssertionError(f"importance_scores should have the same shape as parameter {name} of {module}")
        scores = orig if importance_scores is None else importance_scores
        first = not isinstance(method, PruningContainer)
        if first:  # the parameter moves to <name>_orig; <name> becomes the masked tensor
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = ones_like(orig)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        try:
            mask = method.compute_mask(scores, default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if first:  # roll back
                module.register_parameter(name, getattr(module, name + "_orig"))
                del module._parameters[name + "_orig"]
            raise
        return method

    @classmethod
    def _joined_method(cls, module: Module, name: str, *args: Any, **kwargs: Any) -> BasePruningMethod:
        """A new ``cls(*args, **kwargs)`` for ``name``, in a container after the method already pruning
        ``name`` (whose hook is taken off the module: the container's replaces it)."""
        previous = [
            (key, hook)
            for key, hook in module._forward_pre_hooks.items()
            if isinstance(hook, BasePruningMethod) and hook._tensor_name == name
        ]
        if len(previous) > 1:
            raise AssertionError(
                f"Avoid adding multiple pruning hooks to the same tensor {name} of module {module}. "
                "Use a PruningContainer."
            )
        method = cls(*args, **kwargs)
        method._tensor_name = name
        if not previous:
            return method
        key, old = previous[0]
        del module._forward_pre_hooks[key]
        container = old if isinstance(old, PruningContainer) else PruningContainer(old)
        container.add_pruning_method(method)
        return container

    def prune(self, t: Tensor, default_mask: Tensor | None = None, importance_scores: Tensor | None = None) -> Tensor:
        r"""``t`` with the entries this method prunes set to zero (``t`` itself is not changed).

        Args:
            t (Tensor): the tensor to prune.
            default_mask (Tensor, optional): the mask of an earlier pruning. Default: all ones.
            importance_scores (Tensor, optional): scores deciding what to prune. Default: ``t``.
        """
        if importance_scores is not None and importance_scores.shape != t.shape:
            raise AssertionError("importance_scores should have the same shape as tensor t")
        scores = t if importance_scores is None else importance_scores
        mask = ones_like(t) if default_mask is None else default_mask
        return t * self.compute_mask(scores, default_mask=mask)

    def remove(self, module: Module) -> None:
        r"""Make the pruning permanent: ``module.<name>`` becomes a parameter again, holding the pruned
        values, and ``<name>_orig`` and ``<name>_mask`` are deleted."""
        name = self._name()
        weight = self.apply_mask(module)
        if hasattr(module, name):
            delattr(module, name)
        orig = getattr(module, name + "_orig")
        orig.data = weight.data
        del module._parameters[name + "_orig"]
        del module._buffers[name + "_mask"]
        setattr(module, name, orig)


class PruningContainer(BasePruningMethod):
    r"""The pruning methods applied in turn to one tensor: each prunes among the entries (or, for
    structured ones, the channels) that the earlier ones kept.

    Args:
        *args: pruning methods, or one iterable of them.
    """

    def __init__(self, *args: Any) -> None:
        self._pruning_methods: tuple[BasePruningMethod, ...] = ()
        if len(args) == 1 and not isinstance(args[0], Iterable):
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        else:
            for method in args[0] if len(args) == 1 else args:
                self.add_pruning_method(method)

    def add_pruning_method(self, method: BasePruningMethod | None) -> None:
        """Append ``method``, which must prune the container's tensor."""
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and getattr(self, "_tensor_name", None) != method._tensor_name:
            raise ValueError(
                "Can only add pruning methods acting on the parameter named "
                f"'{getattr(self, '_tensor_name', None)}' to PruningContainer {self}. Found '{method._tensor_name}'"
            )
        self._pruning_methods += (method,)  # type: ignore[operator]

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self) -> Iterator[BasePruningMethod]:
        return iter(self._pruning_methods)

    def __getitem__(self, idx: int) -> BasePruningMethod:
        return self._pruning_methods[idx]

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        r"""``default_mask`` narrowed by the last method, which sees only what ``default_mask`` keeps:
        the kept entries (``'unstructured'``), the kept channels along its ``dim`` (``'structured'``),
        or everything (``'global'``)."""
        method = self._pruning_methods[-1]
        mask = default_mask.to(dtype=t.dtype)
        index: Any
        if method.PRUNING_TYPE == "unstructured":
            index = default_mask == 1
        elif method.PRUNING_TYPE == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError(
                    "Pruning methods of PRUNING_TYPE 'structured' need to have the attribute `dim` defined."
                )
            n_dims = t.dim()
            dim = method.dim + n_dims if method.dim < 0 else method.dim
            if dim < 0:
                raise IndexError(f"Index is out of bounds for tensor with dimensions {n_dims}")
            kept = default_mask.sum(dim=[d for d in range(n_dims) if d != dim]) != 0
            index = (slice(None),) * dim + (kept,)
        elif method.PRUNING_TYPE == "global":
            index = (slice(None),) * t.dim()
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE}")
        mask[index] = method.compute_mask(t[index], default_mask=default_mask[index]).to(dtype=mask.dtype)
        return mask


class Identity(BasePruningMethod):
    r"""Prunes nothing: the mask is all ones."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return default_mask

    @classmethod
    def apply(cls, module: Module, name: str) -> BasePruningMethod:  # type: ignore[override]
        return super().apply(module, name)


class RandomUnstructured(BasePruningMethod):
    r"""Prunes ``amount`` entries chosen at random.

    Args:
        amount (int or float): how many entries to prune: a count, or a fraction in [0, 1].
    """

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount: int | float) -> None:
        _check_amount(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return _prune_smallest(rand_like(t), self.amount, default_mask, largest=True)

    @classmethod
    def apply(cls, module: Module, name: str, amount: int | float) -> BasePruningMethod:  # type: ignore[override]
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    r"""Prunes the ``amount`` entries of smallest magnitude.

    Args:
        amount (int or float): how many entries to prune: a count, or a fraction in [0, 1].
    """

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount: int | float) -> None:
        _check_amount(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return _prune_smallest(t.abs(), self.amount, default_mask, largest=False)

    @classmethod
    def apply(  # type: ignore[override]
        cls, module: Module, name: str, amount: int | float, importance_scores: Tensor | None = None
    ) -> BasePruningMethod:
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class RandomStructured(BasePruningMethod):
    r"""Prunes ``amount`` channels along ``dim`` chosen at random.

    Args:
        amount (int or float): how many channels to prune: a count, or a fraction in [0, 1].
        dim (int): the dimension of the channels. Default: -1
    """

    PRUNING_TYPE = "structured"

    def __init__(self, amount: int | float, dim: int = -1) -> None:
        _check_amount(amount)
        self.amount = amount
        self.dim = dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        n_prune = _channels_to_prune(t, self.amount, self.dim)
        if n_prune == 0:
            return default_mask
        scores = rand(t.shape[self.dim], device=t.device)
        kept = scores > kthvalue(scores, k=n_prune).values
        return _channel_mask(t, self.dim, kept) * default_mask.to(dtype=t.dtype)

    @classmethod
    def apply(cls, module: Module, name: str, amount: int | float, dim: int = -1) -> BasePruningMethod:  # type: ignore[override]
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    r"""Prunes the ``amount`` channels along ``dim`` of smallest L\ :sub:`n` norm.

    Args:
        amount (int or float): how many channels to prune: a count, or a fraction in [0, 1].
        n (int, float, inf, -inf, 'fro', 'nuc'): the norm, as in :func:`ember.norm`.
        dim (int): the dimension of the channels. Default: -1
    """

    PRUNING_TYPE = "structured"

    def __init__(self, amount: int | float, n: Any, dim: int = -1) -> None:
        _check_amount(amount)
        self.amount = amount
        self.n = n
        self.dim = dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        n_prune = _channels_to_prune(t, self.amount, self.dim)
        if n_prune == 0:
            return default_mask
        dims = list(range(t.dim()))
        del dims[self.dim]
        kept = topk(t.norm(p=self.n, dim=dims), k=t.shape[self.dim] - n_prune, largest=True).indices
        return _channel_mask(t, self.dim, kept) * default_mask.to(dtype=t.dtype)

    @classmethod
    def apply(  # type: ignore[override]
        cls, module: Module, name: str, amount: int | float, n: Any, dim: int, importance_scores: Tensor | None = None
    ) -> BasePruningMethod:
        return super().apply(module, name, amount=amount, n=n, dim=dim, importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    r"""Prunes where ``mask`` is 0.

    Args:
        mask (Tensor): the mask, of the pruned tensor's shape.
    """

    PRUNING_TYPE = "global"

    def __init__(self, mask: Tensor) -> None:
        self.mask = mask

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        if default_mask.shape != self.mask.shape:
            raise AssertionError(f"mask of shape {tuple(self.mask.shape)} for a tensor of shape {tuple(t.shape)}")
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module: Module, name: str, mask: Tensor) -> BasePruningMethod:  # type: ignore[override]
        return super().apply(module, name, mask=mask)


# -- checks and masks --------------------------------------------------------------------
def _check_amount(amount: Any) -> None:
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
        not isinstance(amount, numbers.Integral) and not 0.0 <= float(amount) <= 1.0
    ):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a non-negative integer")


def _count_to_prune(amount: int | float, size: int) -> int:
    """``amount`` as a count of the ``size`` entries or channels (a fraction is rounded half to even)."""
    if isinstance(amount, numbers.Integral):
        if amount > size:
            raise ValueError(f"amount={amount} should be smaller than the number of parameters to prune={size}")
        return int(amount)
    return round(amount * size)


def _channels_to_prune(t: Tensor, amount: int | float, dim: int) -> int:
    if t.dim() <= 1:
        raise ValueError(
            "Structured pruning can only be applied to multidimensional tensors. Found tensor of shape "
            f"{t.shape} with {t.dim()} dims"
        )
    if dim >= t.dim():
        raise IndexError(f"Invalid index {dim} for tensor of size {t.shape}")
    return _count_to_prune(amount, t.shape[dim])


def _prune_smallest(scores: Tensor, amount: int | float, default_mask: Tensor, largest: bool) -> Tensor:
    """``default_mask`` with the ``amount`` entries of smallest ``scores`` (largest, if ``largest``) zeroed."""
    n_prune = _count_to_prune(amount, scores.numel())
    mask = default_mask.clone()
    if n_prune:
        mask.view(-1)[topk(scores.reshape(-1), k=n_prune, largest=largest).indices] = 0
    return mask


def _channel_mask(t: Tensor, dim: int, kept: Tensor) -> Tensor:
    """Ones in the channels along ``dim`` that ``kept`` (indices or a bool mask) selects, zeros elsewhere."""
    mask = zeros_like(t)
    mask[(slice(None),) * (dim % t.dim()) + (kept,)] = 1
    return mask


# -- the functional forms ----------------------------------------------------------------
def identity(module: Module, name: str) -> Module:
    r"""Reparametrize ``module.<name>`` as pruned, with a mask of ones (nothing pruned).

    Example::

        >>> m = nn.utils.prune.identity(nn.Linear(2, 3), "bias")
        >>> m.bias_mask
        tensor([1., 1., 1.])
    """
    Identity.apply(module, name)
    return module


def random_unstructured(module: Module, name: str, amount: int | float) -> Module:
    r"""Prune ``amount`` entries of ``module.<name>`` chosen at random.

    Example::

        >>> m = nn.utils.prune.random_unstructured(nn.Linear(2, 3), "weight", amount=2)
        >>> int((m.weight_mask == 0).sum())
        2
    """
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module: Module, name: str, amount: int | float, importance_scores: Tensor | None = None) -> Module:
    r"""Prune the ``amount`` entries of ``module.<name>`` of smallest magnitude (of ``importance_scores``,
    if given).

    Example::

        >>> m = nn.Linear(3, 1)
        >>> with ember.no_grad():
        ...     _ = m.weight.copy_(ember.tensor([[0.5, -0.1, 2.0]]))
        >>> m = nn.utils.prune.l1_unstructured(m, "weight", amount=1)
        >>> m.weight, sorted(m.state_dict())
        (tensor([[0.5000, -0.0000, 2.0000]], grad_fn=<MulBackward0>), ['bias', 'weight_mask', 'weight_orig'])
    """
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module: Module, name: str, amount: int | float, dim: int) -> Module:
    r"""Prune ``amount`` channels of ``module.<name>`` along ``dim`` chosen at random.

    Example::

        >>> m = nn.utils.prune.random_structured(nn.Linear(2, 3), "weight", amount=1, dim=0)
        >>> m.weight_mask.sum(1).tolist().count(0.0)
        1
    """
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(
    module: Module, name: str, amount: int | float, n: Any, dim: int, importance_scores: Tensor | None = None
) -> Module:
    r"""Prune the ``amount`` channels of ``module.<name>`` along ``dim`` of smallest L\ :sub:`n` norm.

    Example::

        >>> m = nn.Linear(2, 3)
        >>> with ember.no_grad():
        ...     _ = m.weight.copy_(ember.tensor([[1.0, 1.0], [0.1, 0.0], [3.0, -2.0]]))
        >>> nn.utils.prune.ln_structured(m, "weight", amount=1, n=2, dim=0).weight_mask
        tensor([[1., 1.],
                [0., 0.],
                [1., 1.]])
    """
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def global_unstructured(
    parameters: Iterable[tuple[Module, str]],
    pruning_method: type[BasePruningMethod],
    importance_scores: dict[tuple[Module, str], Tensor] | None = None,
    **kwargs: Any,
) -> None:
    r"""Prune the ``(module, name)`` parameters together: ``pruning_method(**kwargs)`` (an unstructured
    method) chooses among the entries of all of them at once, then each gets its part of the mask.

    Example::

        >>> a, b = nn.Linear(4, 2), nn.Linear(2, 2)
        >>> nn.utils.prune.global_unstructured(
        ...     [(a, "weight"), (b, "weight")], nn.utils.prune.L1Unstructured, amount=6)
        >>> int((a.weight_mask == 0).sum() + (b.weight_mask == 0).sum())
        6
    """
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = list(parameters)
    scores_by_param = {} if importance_scores is None else importance_scores
    if not isinstance(scores_by_param, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    scores = parameters_to_vector(
        [scores_by_param.get((module, name), getattr(module, name)) for module, name in parameters]
    )
    default_mask = parameters_to_vector(
        [getattr(module, name + "_mask", ones_like(getattr(module, name))) for module, name in parameters]
    )
    container = PruningContainer()
    container._tensor_name = "temp"
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(
            'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. Found method '
            f"{pruning_method} of type {method.PRUNING_TYPE}"
        )
    container.add_pruning_method(method)
    mask = container.compute_mask(scores, default_mask)
    start = 0
    for module, name in parameters:
        param = getattr(module, name)
        custom_from_mask(module, name, mask=mask[start : start + param.numel()].view_as(param))
        start += param.numel()


def custom_from_mask(module: Module, name: str, mask: Tensor) -> Module:
    r"""Prune ``module.<name>`` where ``mask`` is 0.

    Example::

        >>> m = nn.utils.prune.custom_from_mask(nn.Linear(2, 3), "bias", mask=ember.tensor([0, 1, 0]))
        >>> m.bias_mask
        tensor([0., 1., 0.])
    """
    CustomFromMask.apply(module, name, mask)
    return module


def remove(module: Module, name: str) -> Module:
    r"""Make the pruning of ``module.<name>`` permanent: it becomes a parameter holding the pruned values.

    Example::

        >>> m = nn.utils.prune.custom_from_mask(nn.Linear(2, 3), "bias", mask=ember.tensor([0, 1, 0]))
        >>> m = nn.utils.prune.remove(m, "bias")
        >>> sorted(m.state_dict()), type(m.bias).__name__
        (['bias', 'weight'], 'Parameter')
    """
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning can be removed")


def is_pruned(module: Module) -> bool:
    r"""Whether ``module`` or one of its submodules is pruned.

    Example::

        >>> m = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
        >>> nn.utils.prune.is_pruned(m), nn.utils.prune.is_pruned(nn.utils.prune.identity(m[0], "bias"))
        (False, True)
    """
    return any(
        isinstance(hook, BasePruningMethod)
        for submodule in module.modules()
        for hook in submodule._forward_pre_hooks.values()
    )
