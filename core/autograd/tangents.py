"""The tangents of forward mode (:mod:`ember.autograd.forward_ad`): the dual level in force, the
tangent of each dual tensor, and the in-place ops' writes into tangents.

The ops below autograd write through here (``write_tangent`` after an in-place write); the rule that
gives the results of ops their tangents lives in :mod:`ember.autograd.forward_ad`, above the engine.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator
from typing import Any

from .. import tensor as tensor_module
from ..tensor import Tensor
from . import function
from .grad_mode import grad_state

__all__ = [
    "DualLevel",
    "check_floating",
    "check_tangent_size",
    "close_level",
    "computed_off_graph",
    "cotangent_for",
    "drop_tangent",
    "in_layout",
    "live",
    "open_level",
    "suspended",
    "take_tangent",
    "tangent_of",
    "write_into",
    "write_tangent",
]


def check_floating(tensor: Tensor, what: str) -> Tensor:
    """``tensor``, which forward mode differentiates: its dtype must be floating point or complex."""
    if not (tensor.dtype.is_floating_point or tensor.dtype.is_complex):
        raise ValueError(f"Expected {what} to be floating point or complex, but got: {tensor.dtype}")
    return tensor


def check_tangent_size(primal: Tensor, tangent: Tensor) -> None:
    """Refuse a tangent whose shape is not its primal's (PyTorch's words)."""
    if tangent.shape != primal.shape:
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the original Tensor, this is "
            f"not supported. Tensor is of size {list(primal.shape)} while the given forward gradient is of size "
            f"{list(tangent.shape)}."
        )


class DualLevel:
    """The level in force: the tangent of each dual tensor, by the tensor's id (the tensor held weakly)."""

    def __init__(self) -> None:
        #: id -> (the tensor, weakly; its tangent, or None for a view that sees none of its base's)
        self.tangents: dict[int, tuple[weakref.ref[Tensor], Tensor | None]] = {}

    def tangent(self, tensor: Tensor) -> Tensor | None:
        """``tensor``'s tangent; a view without an entry sees its region of its base's (kept)."""
        entry = self.tangents.get(id(tensor))
        if entry is not None and entry[0]() is tensor:
            return entry[1]
        base = tensor._base
        if base is None or tensor._view_replay is None:
            return None
        entry = self.tangents.get(id(base))
        if entry is None or entry[0]() is not base or entry[1] is None:
            return None
        tangent = tensor._view_replay(entry[1])
        self.set(tensor, tangent)
        return tangent

    def set(self, tensor: Tensor, tangent: Tensor | None) -> None:
        key = id(tensor)
        tangents = self.tangents
        tangents[key] = (weakref.ref(tensor, lambda _: tangents.pop(key, None)), tangent)

    def for_write(self, tensor: Tensor) -> Tensor:
        """``tensor``'s tangent for an in-place write, zeros made for it if it has none: a view's in
        its base's, so that the base sees the write (as PyTorch), unless the view is one that sees
        none of its base's (a primal from :func:`unpack_dual`)."""
        tangent = self.tangent(tensor)
        if tangent is not None:
            return tangent
        base = tensor._base
        if base is None or tensor._view_replay is None or id(tensor) in self.tangents:
            tangent = _zeros_in_layout(tensor)
        else:
            base_tangent = self.tangent(base)
            if base_tangent is None:
                base_tangent = _zeros_in_layout(base)
                self.set(base, base_tangent)
            tangent = tensor._view_replay(base_tangent)
        self.set(tensor, tangent)
        return tangent


def cotangent_for(output: Tensor, requires_grad: bool = True) -> Tensor:
    """The cotangent ``u`` at which the double-backward trick differentiates ``backward(u)``: ones.

    ``backward`` is linear in ``u``, but some formulas select by ``u``'s value (det's
    ``where(grad * det == 0, 0, ...)``, which keeps singular inputs finite): at ``u = 0`` they
    take their zero branch and ``J t`` would come out 0; at ones they take the derivative's.
    """
    return output.new_ones(output.shape).requires_grad_(requires_grad)


def computed_off_graph(grad: Any) -> bool:
    """Whether ``grad``, a gradient taken at a cotangent that requires grad, does not depend on it yet
    is not zero: a backward computed on native arrays, whose derivative in the cotangent (``J t`` by
    the double-backward trick) would come out zero. The values are read only for such gradients;
    correct ops give them only where their derivative is zero (floor, sign), which is not flagged."""
    return isinstance(grad, Tensor) and not grad.requires_grad and bool(grad.any())


#: the level in force (one at a time, as PyTorch)
current: DualLevel | None = None


def open_level() -> DualLevel:
    """Enter a level: tangents are recorded until :func:`close_level`."""
    global current
    current = DualLevel()
    tensor_module.in_place_detach_listener = drop_tangent
    return current


def close_level() -> None:
    """Leave the level: every dual tensor loses its tangent."""
    global current
    if current is not None:
        current.tangents.clear()
    current = None
    tensor_module.in_place_detach_listener = None


def live() -> DualLevel | None:
    """The level, unless inference mode turns forward mode off."""
    return None if grad_state.inference else current


@contextlib.contextmanager
def suspended() -> Iterator[None]:
    """Forward mode off inside: computing tangents runs ops on the primals, which must not compute
    tangents themselves."""
    rule = function.tangent_rule
    function.connect_forward_ad(None)
    try:
        yield
    finally:
        function.connect_forward_ad(rule)


def _zeros_in_layout(tensor: Tensor) -> Tensor:
    strides = tensor.stride()
    if any(s < 0 for s in strides):  # a backend's reversed view (OpenCL's flip): no new tensor takes its strides
        return tensor.new_zeros(tensor.shape)
    return tensor.new_empty_strided(tensor.shape, strides).zero_()


def in_layout(primal: Tensor, tangent: Tensor) -> Tensor:
    """``tangent`` with ``primal``'s strides (a copy when they differ), so that views of the primal
    replay on it, as PyTorch keeps each tangent in its primal's layout."""
    if tangent.stride() == primal.stride():
        return tangent
    return _zeros_in_layout(primal).copy_(tangent)


def write_into(level: DualLevel, target: Tensor, tangent: Tensor | None, key: Any = None) -> None:
    """Write ``tangent`` (zeros for None) into ``target``'s tangent, over ``key`` if given."""
    if tangent is None and level.tangent(target) is None:
        return
    with suspended():
        written = level.for_write(target)
        if key is not None:
            written[key] = 0 if tangent is None else tangent
        elif tangent is None:
            written.zero_()
        else:
            written.copy_(tangent)


def write_tangent(target: Tensor, value: Any = None, key: Any = None) -> None:
    """After ``target`` (or its region ``key``) was overwritten in place with ``value`` (a tensor,
    a number, or None for values that carry no tangent: a fill, random draws): write ``value``'s
    tangent, or zeros, into ``target``'s, as PyTorch's in-place ops do."""
    level = live()
    if level is not None:
        write_into(level, target, level.tangent(value) if isinstance(value, Tensor) else None, key)


def tangent_of(tensor: Tensor) -> Tensor | None:
    """``tensor``'s tangent at the level in force (None outside one), as its ``repr`` shows it."""
    level = live()
    return None if level is None else level.tangent(tensor)


def drop_tangent(tensor: Tensor) -> None:
    """``tensor`` was detached in place (``detach_``): it carries no tangent any more."""
    level = live()
    if level is not None:
        level.set(tensor, None)


def take_tangent(target: Tensor, result: Tensor) -> None:
    """``target`` took ``result``'s shape and storage in place (``t_``, ``unsqueeze_``): and its tangent."""
    level = live()
    if level is not None:
        tangent = level.tangent(result)
        if tangent is not None:
            level.set(target, tangent)
