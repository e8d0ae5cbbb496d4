"""The autocast state that the affected ops read: one module-level object, checked as ``state.active``.

Ops cast their operands only while ``state.active`` is true, so a program that never enters
:class:`~ember.amp.autocast` pays one attribute load in the few ops that have a policy.
"""

from __future__ import annotations

from .. import dtypes

__all__ = ["state", "to_lower", "to_float32", "cast_to"]


class _State:
    __slots__ = ("active", "dtypes")

    def __init__(self):
        self.active = False
        self.dtypes = {}  # device type -> the lower-precision dtype while autocast is on for it


state = _State()


def _eligible(t):
    # PyTorch casts floating operands except float64 ones, which autocast leaves alone
    return t is not None and t.dtype.is_floating_point and t.dtype is not dtypes.float64


def _cast(tensors, target_of):
    out = []
    for t in tensors:
        if _eligible(t):
            target = target_of(t)
            if target is not None and t.dtype is not target:
                t = t.to(target)
        out.append(t)
    return out


def cast_to(tensors, target):
    """``tensors`` with the ones autocast may cast (floating, not float64) cast to ``target``."""
    return _cast(tensors, lambda t: target)


def to_lower(*tensors):
    """``tensors`` (None allowed) with the floating ones cast to the autocast dtype of their device."""
    return _cast(tensors, lambda t: state.dtypes.get(t.device.type))


def to_float32(*tensors):
    """``tensors`` with the floating ones cast to float32 where autocast is on for their device."""
    return _cast(tensors, lambda t: dtypes.float32 if t.device.type in state.dtypes else None)
