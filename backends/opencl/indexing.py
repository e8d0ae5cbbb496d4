"""Indexing primitives of the OpenCL namespace: ``CLArray.__getitem__``/``__setitem__`` (basic
indexing makes views; integer-array and boolean-mask indexing, NumPy's rules, go through element
offsets and a gather/scatter kernel), ``take``, ``take_along_axis``, ``nonzero`` and the
scatter-add of duplicate destinations."""

from __future__ import annotations

import numpy as np

from .array import CLArray, broadcast_shapes, empty
from .creation import arange, from_host, full
from .elementwise import add, astype, copy_into, greater_equal, less, logical_or, where
from .manipulation import broadcast_to, normalize_axis, reshape
from .reductions import any_, cumulative_sum
from .runtime import cl_type
from .sorting import bitonic

__all__ = ["gather", "scatter", "getitem", "setitem", "take", "take_along_axis", "nonzero", "scatter_add"]

_BOOL, _INT64, _HALF = np.dtype("bool"), np.dtype("int64"), np.dtype("float16")


# -- gathers and scatters through element offsets -------------------------------------------------
def _typed(device, file, name, dtype):
    t = "ushort" if dtype == _HALF and name != "segment_add" else cl_type(dtype)  # copies move float16 bits
    return device.kernel((file, name, t), file, name, defines={"T": t})


def gather(src, offsets):
    """``out[i] = src.flat_storage[offsets[i]]`` (``offsets`` contiguous int64 element offsets)."""
    out = empty(offsets.shape, src.dtype, src.device)
    n = out.size
    src.device.launch(
        _typed(src.device, "gather.cl", "gather", src.dtype), n, np.int64(n), out.buffer, src.buffer, offsets.buffer
    )
    return out


def scatter(dst, offsets, values):
    """``dst.flat_storage[offsets[i]] = values[i]`` (both contiguous)."""
    n = values.size
    dst.device.launch(
        _typed(dst.device, "gather.cl", "scatter", dst.dtype), n, np.int64(n), dst.buffer, values.buffer, offsets.buffer
    )


def _segment_add(dst, values, keys, order):
    """``dst.flat_storage[keys[i]] += values[order[i]]``, ``keys`` sorted, duplicates summed serially."""
    n = keys.size
    kern = _typed(dst.device, "gather.cl", "segment_add", dst.dtype)
    dst.device.launch(kern, n, np.int64(n), dst.buffer, values.buffer, keys.buffer, order.buffer)


def _normalized(index, size, what):
    """``index`` with negative entries wrapped; IndexError if any is out of ``[-size, size)``."""
    if index.size and bool(any_(logical_or(less(index, -size), greater_equal(index, size)))):
        raise IndexError(f"{what}: index out of range for dimension with size {size}")
    return where(less(index, 0), add(index, size), index)


def _coordinate_offsets(x, shape, skip, base):
    """``base`` + sum over dims d != skip of ``arange(shape[d]) * x.strides[d]`` broadcast to ``shape``."""
    total = base
    for d, n in enumerate(shape):
        if d == skip or n == 1:
            continue
        view = [1] * len(shape)
        view[d] = n
        total = add(total, reshape(arange(n, device=x.device) * x.strides[d], tuple(view)))
    return (
        broadcast_to(total, shape) if isinstance(total, CLArray) else full(shape, total, dtype=_INT64, device=x.device)
    )


# -- the array's subscripts --------------------------------------------------------------------
def _as_index(k, device):
    if isinstance(k, CLArray):
        return k
    if isinstance(k, (list, tuple, np.ndarray)):
        return from_host(np.asarray(k), device)
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
                out.append(_NewAxis(nonzero(reshape(k, (1,)))[0]))
            else:
                out.extend(nonzero(k))
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
                adv.append((len(shape), full((), k, dtype=_INT64, device=a.device)))
                shape.append(size)
                strides.append(a.strides[d])
            else:
                offset += (k % size) * a.strides[d]
        d += 1
    return a.view(tuple(shape), tuple(strides), offset), adv


def _offsets(view, adv):
    """Element offsets of ``view[adv arrays]`` and the result's shape."""
    positions = [p for p, _ in adv]
    arrays = [_normalized(astype(k, _INT64, copy=False), view.shape[p], "index") for p, k in adv]
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
        term = broadcast_to(k * view.strides[p], bshape)
        total = term if total is None else add(total, term)
    total = reshape(total, (1,) * b0 + bshape + (1,) * (nd - b0 - len(bshape)))
    for d in rest:
        s = slot[("r", d)]
        if view.shape[d] != 1:
            shape = [1] * nd
            shape[s] = view.shape[d]
            total = add(total, reshape(arange(view.shape[d], device=view.device) * view.strides[d], shape))
    total = add(total, view.offset)
    return reshape(broadcast_to(total, tuple(out_shape)), tuple(out_shape)), tuple(out_shape)


def getitem(a, key):
    view, adv = _plan(a, key)
    if not adv:
        return view
    offsets, _ = _offsets(view, adv)
    return gather(a, offsets)


def setitem(a, key, value):
    view, adv = _plan(a, key)
    if not adv:
        copy_into(view, value)
        return
    offsets, shape = _offsets(view, adv)
    if isinstance(value, CLArray):
        values = astype(broadcast_to(value, shape), a.dtype)
    else:
        values = full(shape, value, dtype=a.dtype, device=a.device)
    scatter(a, offsets, values)


# -- the namespace's indexing functions ----------------------------------------------------------
def take(x, indices, /, *, axis=None):
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = normalize_axis(axis, x.ndim)
    return getitem(x, (slice(None),) * axis + (indices, Ellipsis))


def take_along_axis(x, indices, /, *, axis=-1):
    axis = normalize_axis(axis, x.ndim)
    if indices.ndim != x.ndim:
        raise ValueError(f"take_along_axis: indices of dimension {indices.ndim} for array of dimension {x.ndim}")
    shape = broadcast_shapes(tuple(1 if d == axis else n for d, n in enumerate(x.shape)), indices.shape)
    shape = tuple(indices.shape[d] if d == axis else n for d, n in enumerate(shape))
    index = _normalized(astype(indices, _INT64, copy=False), x.shape[axis], "take_along_axis")
    offsets = add(index * x.strides[axis], _coordinate_offsets(x, shape, axis, x.offset))
    return gather(x, reshape(broadcast_to(offsets, shape), shape))


def nonzero(x, /):
    if x.ndim == 0:
        raise ValueError("nonzero is not defined for 0-d arrays")
    mask = astype(reshape(x, (-1,)), _BOOL) if x.dtype != np.bool_ or not x.is_contiguous else x
    mask = reshape(mask, (-1,))
    counts = cumulative_sum(astype(mask, _INT64), include_initial=True)
    count = int(counts[mask.size])
    out = empty((x.ndim, count), _INT64, x.device)
    device = x.device
    kern = device.kernel(("nonzero",), "gather.cl", "nonzero", defines={"T": "long"})
    if count:
        mask_view = mask if mask.offset == 0 else astype(mask, _BOOL, copy=True)
        device.launch(
            kern, mask.size, np.int64(mask.size), np.int32(x.ndim), mask_view.buffer, counts.buffer, out.buffer,
            np.int64(count), device.meta(x.shape),
        )  # fmt: skip
    return tuple(out[d] for d in range(x.ndim))


def scatter_add(target, axis, index, values):
    """``target[..., index[i], ...] += values[i]`` along ``axis``: sorted by destination, then
    each run of equal destinations is summed serially (no atomics; duplicates accumulate)."""
    if index.size == 0:
        return
    axis = normalize_axis(axis, target.ndim)
    idx = _normalized(astype(index, _INT64, copy=False), target.shape[axis], "scatter_add")
    offsets = reshape(
        add(idx * target.strides[axis], _coordinate_offsets(target, index.shape, axis, target.offset)), (-1,)
    )
    vals = reshape(
        astype(broadcast_to(values[tuple(slice(0, n) for n in index.shape)], index.shape), target.dtype), (-1,)
    )
    keys, order, _ = bitonic(offsets, False)
    n = offsets.size
    _segment_add(target, vals, keys.view((n,), (1,), 0), order.view((n,), (1,), 0))
