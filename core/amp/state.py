"""The autocast state that the affected ops read: one module-level object, checked as ``state.active``.

Ops cast their operands only while ``state.active`` is true, so a program that never enters
:class:`~ember.amp.autocast` pays one attribute load in the few ops that have a policy.
"""

from __future__ import annotations

import contextlib

from .. import dtypes
from ..tensor import Tensor

__all__ = ["state", "cast_to", "suspended"]


class _State:
    __slots__ = ("active", "dtypes")

    def __init__(self):
        self.active = False
        self.dtypes = {}  # device type -> the lower-precision dtype while autocast is on for it


state = _State()


def _eligible(t):
    # PyTorch casts floating operands except float64 ones, which autocast leaves alone
    return isinstance(t, Tensor) and t.dtype.is_floating_point and t.dtype is not dtypes.float64


def cast_to(tensors, target):
    """``tensors`` with the ones autocast may cast (floating, not float64) cast to ``target``."""
    return [t.to(target) if _eligible(t) and t.dtype is not target else t for t in tensors]


@contextlib.contextmanager
def suspended():
    """Autocast off for the block (an op's ``out=`` form: PyTorch's autocast casts only the plain
    overloads, so ``mm(a, b, out=c)`` in a region runs in ``a``'s and ``b``'s own dtypes)."""
    saved = state.active
    state.active = False
    try:
        yield
    finally:
        state.active = saved
