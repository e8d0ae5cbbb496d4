"""The autocast state that the affected ops read: one module-level object, checked as ``state.active``.

Ops cast their operands only while ``state.active`` is true, so a program that never enters
:class:`~ember.amp.autocast` pays one attribute load in the few ops that have a policy.
"""

from __future__ import annotations

import contextlib
import threading

from .. import dtypes
from ..tensor import Tensor

__all__ = ["state", "cast_to", "suspended", "snapshot", "restored"]


class _State(threading.local):
    """Per thread, as PyTorch's autocast state: a thread started inside a region runs without it
    (:func:`ember.nn.parallel.parallel_apply` hands its replicas the caller's settings, as PyTorch's)."""

    def __init__(self):
        self.active = False
        self.dtypes = {}  # device type -> the lower-precision dtype while autocast is on for it
        # device type -> the autocast dtype set by the innermost region or set_autocast_dtype, on or off
        # (PyTorch keeps it apart from the enabled flag: get_autocast_dtype reads it either way)
        self.fast_dtypes = {}
        self.cache_enabled = True  # is_autocast_cache_enabled()
        self.nesting = 0  # regions entered and not left: the cache is emptied when the last one exits
        self.cache = {}  # id(weight) -> (weight, its cast): the casts of leaf float32 weights


state = _State()


def _eligible(t):
    # PyTorch casts floating operands except float64 ones, which autocast leaves alone
    return isinstance(t, Tensor) and t.dtype.is_floating_point and t.dtype is not dtypes.float64


def _cast_with_grad(t, target):
    """``t.to(target)`` recorded for autograd whatever the grad mode, as PyTorch's cache makes its casts."""
    from ..autograd.grad_mode import enable_grad  # imported here: the autograd package imports the ops

    with enable_grad():
        return t.to(target)


def _cast(t, target):
    """``t.to(target)``, through PyTorch's weight-cast cache: inside a region, a float32 leaf that
    requires grad (a parameter, not a view of one) cast to the region's dtype is cast once, under
    ``no_grad`` too (the cast is recorded for autograd all the same), and the same cast (one node in
    the graph, whose gradient is accumulated in the region's dtype) serves every later use until the
    outermost region exits."""
    if (
        state.cache_enabled
        and t.dtype is dtypes.float32
        and t.requires_grad
        and target is state.dtypes.get(t.device.type)
        and t.is_leaf
        and not t._is_view()
    ):
        hit = state.cache.get(id(t))
        if hit is not None and hit[0] is t:
            return hit[1]
        cast = _cast_with_grad(t, target)
        state.cache[id(t)] = (t, cast)
        return cast
    return t.to(target)


def cast_to(tensors, target):
    """``tensors`` with the ones autocast may cast (floating, not float64) cast to ``target``."""
    return [_cast(t, target) if _eligible(t) and t.dtype is not target else t for t in tensors]


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


def snapshot():
    """The autocast settings in force (a recomputation replays them with :func:`restored`)."""
    return state.active, dict(state.dtypes), dict(state.fast_dtypes), state.cache_enabled


@contextlib.contextmanager
def restored(settings):
    """The block runs under the autocast ``settings`` of :func:`snapshot`, as a region does: the
    weight casts it caches are dropped when it ends, unless a region encloses it."""
    saved = snapshot()
    state.active, dtypes_, fast, state.cache_enabled = settings
    state.dtypes, state.fast_dtypes = dict(dtypes_), dict(fast)
    state.nesting += 1
    try:
        yield
    finally:
        state.nesting -= 1
        if state.nesting == 0:
            state.cache.clear()
        state.active, state.dtypes, state.fast_dtypes, state.cache_enabled = saved
