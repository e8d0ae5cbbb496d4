"""NumPy as an array namespace: NumPy's own functions, adapted only where NumPy departs from the standard."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from ember.backend import PRIMITIVES

__all__ = ["namespace"]


def _integer_preserving(fn):
    def op(x, *args, **kwargs):
        return np.array(x, copy=True) if x.dtype.kind in "iub" else fn(x, *args, **kwargs)

    op.__name__ = fn.__name__
    return op


def argsort(x, /, *, axis=-1, descending=False, stable=True):
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    n = x.shape[axis]
    flipped = np.argsort(np.flip(x, axis=axis), axis=axis, kind="stable")
    return np.flip(n - 1 - flipped, axis=axis)


def sort(x, /, *, axis=-1, descending=False, stable=True):
    return np.take_along_axis(x, argsort(x, axis=axis, descending=descending), axis=axis)


def astype(x, dtype, /, *, copy=True):
    return x.astype(dtype, copy=copy)


_ADAPTED = {
    "floor": _integer_preserving(np.floor),
    "ceil": _integer_preserving(np.ceil),
    "trunc": _integer_preserving(np.trunc),
    "round": _integer_preserving(np.round),
    "argsort": argsort,
    "sort": sort,
    "astype": astype,
}

namespace = SimpleNamespace(**{name: _ADAPTED.get(name) or getattr(np, name) for name in PRIMITIVES})
namespace.__name__ = "ember.backends.numpy.namespace"
