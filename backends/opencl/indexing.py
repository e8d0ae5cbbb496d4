"""``CLArray.__getitem__``/``__setitem__``: basic indexing makes views; integer-array and
boolean-mask indexing (NumPy's rules) go through element offsets and a gather/scatter kernel."""

from __future__ import annotations

import numpy as np

from . import namespace as ns
from .array import CLArray, broadcast_shapes, gather, scatter

__all__ = ["getitem", "setitem"]

_INT64 = np.dtype("int64")


def _as_index(k, device):
    if isinstance(k, CLArray):
        return k
    if isinstance(k, (list, tuple, np.ndarray)):
        return ns.from_host(np.asarray(k), device)
    return k


class _NewAxis:
    """A 0-d boolean mask's part of a key: a new axis of size 1 indexed by ``index``."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


def _expand(a, key):
    """The key as a tuple without Ellipsis; boolean masks replaced by their nonzero index arrays."""
    if not isinstance(key, tuple):
        key = (key,)
    key = [_as_index(k, a.device) for k in key]
    consumed = sum(
        (k.ndim if k.dtype == np.bool_ else 1) if isinstance(k, CLArray) else (0 if k is None or k is Ellipsis else 1)
        for k in key
    )
    if consumed > a.ndim:
        raise IndexError(f"too many indices for array of dimension {a.ndim}")
    out, seen = [], False
    for k in key:
        if k is Ellipsis:
            if seen:
                raise IndexError("an index can only have a single ellipsis ('...')")
            seen = True
            out.extend([slice(None)] * (a.ndim - consumed))
        elif isinstance(k, CLArray) and k.dtype == np.bool_:
            if k.ndim == 0:  # a new axis of size 1, indexed by [0] (True) or [] (False)
                out.append(_NewAxis(ns.nonzero(ns.reshape(k, (1,)))[0]))
            else:
                out.extend(ns.nonzero(k))
        else:
            out.append(k)
    if not seen:
        out.extend([slice(None)] * (a.ndim - consumed))
    return out


def _plan(a, key):
    """Resolve ``a[key]``: (basic view, [(view dim, index array)], whether any array is present)."""
    key = _expand(a, key)
    advanced = any(isinstance(k, (CLArray, _NewAxis)) for k in key)
    shape, strides, offset, adv, d = [], [], a.offset, [], 0
    for k in key:
        if k is None or isinstance(k, _NewAxis):
            if k is not None:
                adv.append((len(shape), k.index))
            shape.append(1)
            strides.append(0)
            continue
        size = a.shape[d]
        if isinstance(k, slice):
            start, stop, step = k.indices(size)
            shape.append(len(range(start, stop, step)))
            strides.append(a.strides[d] * step)
            offset += start * a.strides[d] if shape[-1] else 0
        elif isinstance(k, CLArray):
            if k.dtype.kind not in "iu":
                raise IndexError("arrays used as indices must be of integer (or boolean) type")
            adv.append((len(shape), k))
            shape.append(size)
            strides.append(a.strides[d])
        else:
            k = int(k)
            if not -size <= k < size:
                raise IndexError(f"index {k} is out of bounds for axis {d} with size {size}")
            if advanced:
                adv.append((len(shape), ns.full((), k, dtype=_INT64, device=a.device)))
                shape.append(size)
                strides.append(a.strides[d])
            else:
                offset += (k % size) * a.strides[d]
        d += 1
    return a.view(tuple(shape), tuple(strides), offset), adv


def _offsets(view, adv):
    """Element offsets of ``view[adv arrays]`` and the result's shape."""
    positions = [p for p, _ in adv]
    arrays = [ns._normalized(ns.astype(k, _INT64, copy=False), view.shape[p], "index") for p, k in adv]
    bshape = broadcast_shapes(*(k.shape for k in arrays))
    rest = [d for d in range(view.ndim) if d not in positions]
    contiguous = positions == list(range(positions[0], positions[0] + len(positions)))
    if contiguous:
        before = [d for d in rest if d < positions[0]]
        after = [d for d in rest if d > positions[-1]]
        layout = [("r", d) for d in before] + [("b", None)] + [("r", d) for d in after]
    else:
        layout = [("b", None)] + [("r", d) for d in rest]
    out_shape, slot = [], {}
    for kind, d in layout:
        slot[(kind, d)] = len(out_shape)
        out_shape.extend(bshape if kind == "b" else [view.shape[d]])
    nd = len(out_shape)
    b0 = slot[("b", None)]
    total = None
    for p, k in zip(positions, arrays):
        term = ns.broadcast_to(k * view.strides[p], bshape)
        total = term if total is None else ns.add(total, term)
    total = ns.reshape(total, (1,) * b0 + bshape + (1,) * (nd - b0 - len(bshape)))
    for d in rest:
        s = slot[("r", d)]
        if view.shape[d] != 1:
            shape = [1] * nd
            shape[s] = view.shape[d]
            total = ns.add(total, ns.reshape(ns.arange(view.shape[d], device=view.device) * view.strides[d], shape))
    total = ns.add(total, view.offset)
    return ns.reshape(ns.broadcast_to(total, tuple(out_shape)), tuple(out_shape)), tuple(out_shape)


def getitem(a, key):
    view, adv = _plan(a, key)
    if not adv:
        return view
    offsets, _ = _offsets(view, adv)
    return gather(a, offsets)


def setitem(a, key, value):
    view, adv = _plan(a, key)
    if not adv:
        ns.copy_into(view, value)
        return
    offsets, shape = _offsets(view, adv)
    if isinstance(value, CLArray):
        values = ns.astype(ns.broadcast_to(value, shape), a.dtype)
    else:
        values = ns.full(shape, value, dtype=a.dtype, device=a.device)
    scatter(a, offsets, values)
