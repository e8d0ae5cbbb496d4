"""``ember.utils.swap_tensors``: two tensor objects exchange everything they are."""

from __future__ import annotations

import weakref

from ..tensor import Tensor


def swap_tensors(t1: Tensor, t2: Tensor) -> None:
    """Swap the contents of two tensor objects: afterwards ``t1`` is the tensor ``t2`` was (its class,
    data, dtype, device, autograd state and Python attributes) and the other way round, while each Python
    object keeps its identity, so that whoever holds ``t1`` (a module, an optimizer) sees the new tensor.
    A graph recorded before the swap can no longer back-propagate into either (its backward raises).

    Args:
        t1 (Tensor): the first tensor.
        t2 (Tensor): the second tensor.

    Raises:
        TypeError: either is not a tensor.
        RuntimeError: a weak reference is held to either (its holder expects the old tensor), as PyTorch
            refuses.

    Example::

        >>> a, b = ember.ones(2), ember.zeros(3, dtype=ember.float64)
        >>> ember.utils.swap_tensors(a, b)
        >>> a, b
        (tensor([0., 0., 0.], dtype=ember.float64), tensor([1., 1.]))
    """
    for name, t in (("t1", t1), ("t2", t2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"swap_tensors: expected {name} to be a Tensor, got {type(t).__name__}")
        sink = t._accumulator  # the leaf's gradient sink refers to it weakly, as PyTorch's holds its TensorImpl
        if weakref.getweakrefcount(t) > (sink is not None and sink._variable() is t):
            raise RuntimeError(f"Cannot swap {name} because it has weakref associated with it")
    for name in Tensor.__slots__:
        if name in ("__weakref__", "__dict__"):
            continue
        first, second = getattr(t1, name, _UNSET), getattr(t2, name, _UNSET)
        _set_or_unset(t1, name, second)
        _set_or_unset(t2, name, first)
    t1.__dict__, t2.__dict__ = t2.__dict__, t1.__dict__
    for t in (t1, t2):  # a graph recorded before the swap may not feed the swapped leaves: its sink refuses
        if t._accumulator is not None:
            t._accumulator._variable = _poisoned
            t._accumulator = None  # the next graph makes a new one
    if type(t1) is not type(t2):
        cls1 = type(t1)
        object.__setattr__(t1, "__class__", type(t2))
        object.__setattr__(t2, "__class__", cls1)


_UNSET = object()  # an optional slot that was never set


def _poisoned() -> None:
    """The leaf of a gradient sink whose tensor was swapped: running the sink is an error, as in PyTorch."""
    raise RuntimeError(
        "Trying to execute AccumulateGrad node that was poisoned by swap_tensors this can happen when you try to "
        "run backward on a tensor that was swapped. For a module m with "
        "`ember.__future__.set_swap_module_params_on_conversion(True)` you should not change the device or dtype "
        "of the module (e.g. `m.cpu()` or `m.half()`) between running forward and backward. To resolve this, "
        "please only change the device/dtype before running forward (or after both forward and backward)."
    )


def _set_or_unset(t: Tensor, name: str, value: object) -> None:
    if value is _UNSET:
        if hasattr(t, name):
            object.__delattr__(t, name)
    else:
        object.__setattr__(t, name, value)
