"""``ember.nn.utils.prune``: pruning a module's parameter with a mask, as ``torch.nn.utils.prune`` does.

Pruning ``module.<name>`` moves the parameter to ``<name>_orig``, stores the mask as the buffer
``<name>_mask`` and makes ``<name>`` a plain attribute, ``<name>_mask * <name>_orig``, recomputed by a
forward pre-hook (the pruning method itself) before each forward. Pruning the same parameter again
combines the methods in a :class:`PruningContainer` that prunes only what the earlier masks kept.
:func:`remove` makes the pruning permanent. Amounts are a fraction of the entries (or channels) when
a float, a count when an int.
"""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import Any

from ...ops.creation import ones_like, rand, zeros_like
from ...ops.reduction import norm as _norm
from ...tensor import Tensor
from ..modules.module import Module
from .convert_parameters import parameters_to_vector

__all__ = [
    "BasePruningMethod",
    "PruningContainer",
    "Identity",
    "RandomUnstructured",
    "L1Unstructured",
    "RandomStructured",
    "LnStructured",
    "CustomFromMask",
    "identity",
    "random_unstructured",
    "l1_unstructured",
    "random_structured",
    "ln_structured",
    "global_unstructured",
    "custom_from_mask",
    "remove",
    "is_pruned",
]


class BasePruningMethod(ABC):
    """The base of the pruning methods: subclasses define :meth:`compute_mask` and ``PRUNING_TYPE``
    (``'unstructured'``, ``'structured'`` with a ``dim`` attribute, or ``'global'``).

    An instance is the forward pre-hook of the module it prunes: before each forward it sets
    ``module.<name>`` to the masked original.

    Example::

        >>> from ember.nn.utils import prune
        >>> class EveryOther(prune.BasePruningMethod):
        ...     PRUNING_TYPE = "unstructured"
        ...     def compute_mask(self, t, default_mask):
        ...         mask = default_mask.clone()
        ...         mask.view(-1)[::2] = 0
        ...         return mask
        >>> layer = nn.Linear(2, 2)
        >>> _ = EveryOther.apply(layer, "bias")
        >>> layer.bias_mask
        tensor([0., 1.])
    """

    PRUNING_TYPE: str
    _tensor_name: str

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The mask for ``t`` (the importance scores), given the mask of the earlier pruning."""

    def apply_mask(self, module: Module) -> Tensor:
        """``<name>_mask * <name>_orig`` of ``module``: the pruned tensor."""
        original = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return mask.to(dtype=original.dtype) * original

    @classmethod
    def apply(
        cls, module: Module, name: str, *args: Any, importance_scores: Tensor | None = None, **kwargs: Any
    ) -> BasePruningMethod:
        """Prune ``module.<name>`` with ``cls(*args, **kwargs)``, combined with any earlier pruning of it.

        Args:
            module (nn.Module): the module holding the tensor to prune.
            name (str): the parameter's name in ``module``.
            importance_scores (Tensor, optional): the scores the mask is computed from; the
                parameter's values when ``None``.

        Returns:
            the method now pruning ``module.<name>`` (a :class:`PruningContainer` after the first).
        """
        method = _compose_with_earlier(cls(*args, **kwargs), module, name)
        original = getattr(module, name)
        if importance_scores is None:
            importance_scores = original
        elif importance_scores.shape != original.shape:
            raise ValueError("importance_scores should have the same shape as parameter ", name, " of ", module)
        first = not isinstance(method, PruningContainer)
        if first:
            module.register_parameter(name + "_orig", original)
            del module._parameters[name]
            default_mask = ones_like(original)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        try:
            module.register_buffer(name + "_mask", method.compute_mask(importance_scores, default_mask=default_mask))
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if first:  # put the parameter back as it was
                module.register_parameter(name, getattr(module, name + "_orig"))
                del module._parameters[name + "_orig"]
            raise
        return method

    def prune(self, t: Tensor, default_mask: Tensor | None = None, importance_scores: Tensor | None = None) -> Tensor:
        """``t`` with the mask applied (no module involved)."""
        if importance_scores is None:
            importance_scores = t
        elif importance_scores.shape != t.shape:
            raise ValueError("importance_scores should have the same shape as tensor t")
        default_mask = default_mask if default_mask is not None else ones_like(t)
        return t * self.compute_mask(importance_scores, default_mask=default_mask)

    def remove(self, module: Module) -> None:
        """Make the pruning permanent: ``module.<name>`` becomes a parameter holding the pruned values."""
        pruned = self.apply_mask(module)
        if hasattr(module, self._tensor_name):
            delattr(module, self._tensor_name)
        original = getattr(module, self._tensor_name + "_orig")
        original.data = pruned.data
        del module._parameters[self._tensor_name + "_orig"]
        del module._buffers[self._tensor_name + "_mask"]
        setattr(module, self._tensor_name, original)


def _compose_with_earlier(method: BasePruningMethod, module: Module, name: str) -> BasePruningMethod:
    """``method`` named for ``name``, or, when ``name`` is already pruned, the container of the earlier
    method(s) with ``method`` added; the earlier method's hook leaves ``module``."""
    method._tensor_name = name
    earlier = [(key, hook) for key, hook in module._forward_pre_hooks.items() if _prunes(hook, name)]
    if len(earlier) > 1:
        raise RuntimeError(
            f"Avoid adding multiple pruning hooks to the same tensor {name} of module {module}. Use a PruningContainer."
        )
    if not earlier:
        return method
    key, old = earlier[0]
    del module._forward_pre_hooks[key]
    container = old if isinstance(old, PruningContainer) else PruningContainer(old)
    container.add_pruning_method(method)
    return container


def _prunes(hook: object, name: str) -> bool:
    return isinstance(hook, BasePruningMethod) and hook._tensor_name == name


class PruningContainer(BasePruningMethod):
    """The pruning methods applied in turn to one tensor: each new one prunes only the entries
    (or the channels) that the masks before it kept.

    Args:
        *args: the pruning methods, in the order they were applied.
    """

    def __init__(self, *args: BasePruningMethod) -> None:
        self._pruning_methods: tuple[BasePruningMethod, ...] = ()
        if len(args) == 1:
            self._tensor_name = args[0]._tensor_name
        for method in args:
            self.add_pruning_method(method)

    def add_pruning_method(self, method: BasePruningMethod) -> None:
        """Append ``method``, which must prune the same tensor."""
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError(
                "Can only add pruning methods acting on the parameter named "
                f"'{self._tensor_name}' to PruningContainer. Found '{method._tensor_name}'"
            )
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self) -> Iterator[BasePruningMethod]:
        return iter(self._pruning_methods)

    def __getitem__(self, idx: int) -> BasePruningMethod:
        return self._pruning_methods[idx]

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """``default_mask`` with the newest method's mask written over the part the others kept:
        the kept entries (unstructured), the kept channels along its ``dim`` (structured), or all
        (global)."""
        method = self._pruning_methods[-1]
        mask = default_mask.to(dtype=t.dtype)
        key: Any
        if method.PRUNING_TYPE == "unstructured":
            key = default_mask == 1
        elif method.PRUNING_TYPE == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError(
                    "Pruning methods of PRUNING_TYPE 'structured' need to have the attribute `dim` defined."
                )
            dim = method.dim if method.dim >= 0 else t.dim() + method.dim
            if dim < 0:
                raise IndexError(f"Index is out of bounds for tensor of size {t.dim()}")
            kept = default_mask.sum(dim=[d for d in range(t.dim()) if d != dim]) != 0
            key = tuple(kept if d == dim else slice(None) for d in range(t.dim()))
        elif method.PRUNING_TYPE == "global":
            key = (slice(None),) * t.dim()
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE}")
        mask[key] = method.compute_mask(t[key], default_mask=default_mask[key]).to(dtype=mask.dtype)
        return mask


class Identity(BasePruningMethod):
    """Prunes nothing: the mask stays all ones (a module looks pruned, with ``_orig`` and ``_mask``)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return default_mask


class RandomUnstructured(BasePruningMethod):
    """Prunes ``amount`` entries chosen at random.

    Args:
        amount (int or float): how many entries (int) or which fraction of them (float in [0, 1]).
    """

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount: int | float) -> None:
        _check_amount(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        count = _count(self.amount, t.numel())
        mask = default_mask.clone()
        if count:
            scores = rand(t.shape, dtype=t.dtype, device=t.device)
            mask.view(-1)[scores.view(-1).topk(count).indices] = 0
        return mask


class L1Unstructured(BasePruningMethod):
    """Prunes the ``amount`` entries of smallest absolute value.

    Args:
        amount (int or float): how many entries (int) or which fraction of them (float in [0, 1]).
    """

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount: int | float) -> None:
        _check_amount(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        count = _count(self.amount, t.numel())
        mask = default_mask.clone()
        if count:
            mask.view(-1)[t.abs().view(-1).topk(count, largest=False).indices] = 0
        return mask


class RandomStructured(BasePruningMethod):
    """Prunes ``amount`` channels along ``dim`` chosen at random.

    Args:
        amount (int or float): how many channels (int) or which fraction of them (float in [0, 1]).
        dim (int): the dimension whose channels are pruned. Default: -1
    """

    PRUNING_TYPE = "structured"

    def __init__(self, amount: int | float, dim: int = -1) -> None:
        _check_amount(amount)
        self.amount, self.dim = amount, dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        channels = _check_structured(t, self.dim)
        count = _count(self.amount, channels)
        if count == 0:
            return default_mask
        scores = rand(channels, device=t.device)
        kept = scores > scores.kthvalue(count).values
        return _channel_mask(t, self.dim, kept) * default_mask.to(dtype=t.dtype)


class LnStructured(BasePruningMethod):
    """Prunes the ``amount`` channels along ``dim`` of smallest ``n``-norm.

    Args:
        amount (int or float): how many channels (int) or which fraction of them (float in [0, 1]).
        n (int, float, inf, -inf, 'fro' or 'nuc'): the norm, as ``ember.norm`` takes it.
        dim (int): the dimension whose channels are pruned. Default: -1
    """

    PRUNING_TYPE = "structured"

    def __init__(self, amount: int | float, n: Any, dim: int = -1) -> None:
        _check_amount(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        channels = _check_structured(t, self.dim)
        count = _count(self.amount, channels)
        if count == 0:
            return default_mask
        dim = self.dim if self.dim >= 0 else t.dim() + self.dim
        norms = _norm(t, p=self.n, dim=[d for d in range(t.dim()) if d != dim])
        kept = norms.topk(channels - count, largest=True).indices
        return _channel_mask(t, self.dim, kept) * default_mask.to(dtype=t.dtype)


class CustomFromMask(BasePruningMethod):
    """Prunes with a given mask (combined with any earlier one).

    Args:
        mask (Tensor): the mask, shaped as the tensor to prune.
    """

    PRUNING_TYPE = "global"

    def __init__(self, mask: Tensor) -> None:
        self.mask = mask

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        if default_mask.shape != self.mask.shape:
            raise ValueError(f"the mask has shape {tuple(self.mask.shape)}, the tensor {tuple(default_mask.shape)}")
        return default_mask * self.mask.to(dtype=default_mask.dtype)


def _check_amount(amount: object) -> None:
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
        not isinstance(amount, numbers.Integral) and not 0.0 <= float(amount) <= 1.0
    ):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a non-negative integer")


def _count(amount: int | float, size: int) -> int:
    """How many of ``size`` entries or channels ``amount`` prunes (PyTorch rounds a fraction half to even)."""
    count = amount if isinstance(amount, numbers.Integral) else round(amount * size)
    if count > size:
        raise ValueError(f"amount={amount} should be smaller than the number of parameters to prune={size}")
    return int(count)


def _check_structured(t: Tensor, dim: int) -> int:
    """The number of channels of ``t`` along ``dim``, after PyTorch's checks of a structured pruning."""
    if t.dim() <= 1:
        raise ValueError(
            "Structured pruning can only be applied to multidimensional tensors. Found tensor of shape "
            f"{t.shape} with {t.dim()} dims"
        )
    if dim >= t.dim():
        raise IndexError(f"Invalid index {dim} for tensor of size {t.shape}")
    return t.shape[dim]


def _channel_mask(t: Tensor, dim: int, channels: Tensor) -> Tensor:
    """Zeros shaped as ``t`` with ones in the ``channels`` (indices or a boolean mask) along ``dim``."""
    mask = zeros_like(t)
    mask[tuple(channels if d == dim % t.dim() else slice(None) for d in range(t.dim()))] = 1
    return mask


def identity(module: Module, name: str) -> Module:
    """Prune ``module.<name>`` with :class:`Identity` (nothing removed); returns ``module``."""
    Identity.apply(module, name)
    return module


def random_unstructured(module: Module, name: str, amount: int | float) -> Module:
    """Prune ``amount`` random entries of ``module.<name>`` (:class:`RandomUnstructured`); returns ``module``."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module: Module, name: str, amount: int | float, importance_scores: Tensor | None = None) -> Module:
    """Prune the ``amount`` entries of ``module.<name>`` of smallest absolute value (or importance score).

    Args:
        module (nn.Module): the module holding the tensor.
        name (str): the parameter's name.
        amount (int or float): how many entries (int) or which fraction of them (float in [0, 1]).
        importance_scores (Tensor, optional): scores to rank the entries by instead of the values.

    Returns:
        ``module``, with ``<name>_orig``, ``<name>_mask`` and the pruning pre-hook.

    Example::

        >>> from ember.nn.utils import prune
        >>> layer = nn.Linear(2, 3)
        >>> with ember.no_grad():
        ...     _ = layer.bias.copy_(ember.tensor([0.5, -0.1, 0.3]))
        >>> _ = prune.l1_unstructured(layer, "bias", amount=1)
        >>> layer.bias
        tensor([0.5000, -0.0000, 0.3000], grad_fn=<MulBackward0>)
    """
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module: Module, name: str, amount: int | float, dim: int) -> Module:
    """Prune ``amount`` random channels of ``module.<name>`` along ``dim`` (:class:`RandomStructured`)."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(
    module: Module, name: str, amount: int | float, n: Any, dim: int, importance_scores: Tensor | None = None
) -> Module:
    """Prune the ``amount`` channels of ``module.<name>`` along ``dim`` of smallest ``n``-norm (:class:`LnStructured`)."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def global_unstructured(
    parameters: Iterable[tuple[Module, str]],
    pruning_method: type[BasePruningMethod],
    importance_scores: dict[tuple[Module, str], Tensor] | None = None,
    **kwargs: Any,
) -> None:
    """Prune the ``(module, name)`` tensors together: ``pruning_method(**kwargs)`` ranks all their
    entries at once (an ``amount`` counts across all of them), each tensor gets its share of the mask.

    Args:
        parameters (Iterable of (nn.Module, str)): the tensors to prune.
        pruning_method (type): an unstructured pruning method (:class:`L1Unstructured`, ...).
        importance_scores (dict, optional): scores by ``(module, name)`` instead of the values.
        **kwargs: the method's arguments (``amount``).
    """
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = list(parameters)
    scores_by_tensor = importance_scores if importance_scores is not None else {}
    if not isinstance(scores_by_tensor, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    scores = parameters_to_vector([scores_by_tensor.get((m, n), getattr(m, n)) for m, n in parameters])
    default_mask = parameters_to_vector([getattr(m, n + "_mask", ones_like(getattr(m, n))) for m, n in parameters])
    method = pruning_method(**kwargs)
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(
            'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. Found method '
            f"{pruning_method} of type {method.PRUNING_TYPE}"
        )
    method._tensor_name = "temp"
    container = PruningContainer(method)
    mask = container.compute_mask(scores, default_mask)
    start = 0
    for module, name in parameters:
        tensor = getattr(module, name)
        custom_from_mask(module, name, mask=mask[start : start + tensor.numel()].view_as(tensor))
        start += tensor.numel()


def custom_from_mask(module: Module, name: str, mask: Tensor) -> Module:
    """Prune ``module.<name>`` with the given ``mask`` (:class:`CustomFromMask`); returns ``module``."""
    CustomFromMask.apply(module, name, mask=mask)
    return module


def remove(module: Module, name: str) -> Module:
    """Make the pruning of ``module.<name>`` permanent: the pruned values become the parameter again,
    ``<name>_orig``, ``<name>_mask`` and the hook go. Returns ``module``."""
    for key, hook in module._forward_pre_hooks.items():
        if _prunes(hook, name):
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning can be removed")


def is_pruned(module: Module) -> bool:
    """Whether ``module`` or one of its submodules has a pruning hook."""
    return any(
        isinstance(hook, BasePruningMethod)
        for _, submodule in module.named_modules()
        for hook in submodule._forward_pre_hooks.values()
    )
