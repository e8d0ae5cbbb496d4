"""Shape primitives of the OpenCL namespace: views (reshape, permutations, broadcasts, new and
dropped axes, flips) and the copying joins (concat, stack)."""

from __future__ import annotations

import math

from ember.strides import view_strides

from .array import as_shape, broadcast_strides, contiguous_strides, empty
from .elementwise import astype, copy_into, device_of, result_type

__all__ = [
    "normalize_axis", "reshape", "permute_dims", "broadcast_to", "expand_dims", "squeeze", "flip", "concat", "stack",
    "moveaxis_last",
]  # fmt: skip


def normalize_axis(axis, ndim):
    """``axis`` in ``[0, ndim)`` (ValueError when out of bounds; a 0-d array has axis 0)."""
    if not -max(ndim, 1) <= axis < max(ndim, 1):
        raise ValueError(f"axis {axis} is out of bounds for array of dimension {ndim}")
    return axis % max(ndim, 1)


def reshape(x, /, shape, *, copy=None):
    """``x`` in ``shape``: a view of a contiguous array; a non-contiguous one is copied (contiguous),
    unless ``copy=False``, which gives a strided view where the strides allow one (ValueError else)."""
    shape = list(as_shape(shape))
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        shape[shape.index(-1)] = x.size // known if known else 0
    shape = tuple(shape)
    if math.prod(shape) != x.size:
        raise ValueError(f"cannot reshape array of size {x.size} into shape {shape}")
    if copy is False and not x.is_contiguous:
        strides = view_strides(x.shape, x.strides, shape)
        if strides is None:
            raise ValueError(
                f"cannot reshape an array of shape {x.shape} and strides {x.strides} into {shape} without a copy"
            )
        return x.view(shape, strides, x.offset)
    if not x.is_contiguous or copy:
        x = astype(x, x.dtype, copy=True)
    return x.view(shape, contiguous_strides(shape), x.offset)


def permute_dims(x, /, axes):
    axes = tuple(normalize_axis(a, x.ndim) for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"axes {axes} don't match array of dimension {x.ndim}")
    return x.view(tuple(x.shape[a] for a in axes), tuple(x.strides[a] for a in axes), x.offset)


def broadcast_to(x, /, shape):
    shape = as_shape(shape)
    return x.view(shape, broadcast_strides(x.shape, x.strides, shape), x.offset)


def expand_dims(x, /, axis=0):
    axes = sorted(a % (x.ndim + 1) for a in ((axis,) if isinstance(axis, int) else axis))
    shape, strides = list(x.shape), list(x.strides)
    for a in axes:
        shape.insert(a, 1)
        strides.insert(a, 0)
    return x.view(tuple(shape), tuple(strides), x.offset)


def squeeze(x, /, axis):
    axes = {normalize_axis(a, x.ndim) for a in ((axis,) if isinstance(axis, int) else axis)}
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"cannot squeeze axis {a} of size {x.shape[a]}")
    keep = [d for d in range(x.ndim) if d not in axes]
    return x.view(tuple(x.shape[d] for d in keep), tuple(x.strides[d] for d in keep), x.offset)


def flip(x, /, *, axis=None):
    if axis is None:
        axes = range(x.ndim)
    else:
        axes = [normalize_axis(a, x.ndim) for a in ((axis,) if isinstance(axis, int) else axis)]
    strides, offset = list(x.strides), x.offset
    for a in axes:
        if x.shape[a] > 0:
            offset += (x.shape[a] - 1) * strides[a]
        strides[a] = -strides[a]
    return x.view(x.shape, tuple(strides), offset)


def concat(arrays, /, *, axis=0):
    arrays = list(arrays)
    if axis is None:
        arrays, axis = [reshape(a, (-1,)) for a in arrays], 0
    axis = normalize_axis(axis, arrays[0].ndim)
    dt = result_type(*arrays)
    shape = list(arrays[0].shape)
    for a in arrays[1:]:
        if a.ndim != len(shape) or any(s != t for d, (s, t) in enumerate(zip(a.shape, shape)) if d != axis):
            raise ValueError(
                f"concat: all input array dimensions except axis {axis} must match, got {a.shape} and {tuple(shape)}"
            )
    shape[axis] = sum(a.shape[axis] for a in arrays)
    out = empty(tuple(shape), dt, device_of(*arrays))
    start = 0
    for a in arrays:
        part_shape = list(shape)
        part_shape[axis] = a.shape[axis]
        copy_into(out.view(tuple(part_shape), out.strides, out.offset + start * out.strides[axis]), a)
        start += a.shape[axis]
    return out


def stack(arrays, /, *, axis=0):
    arrays = list(arrays)
    if len({a.shape for a in arrays}) > 1:
        raise ValueError(f"stack: all input arrays must have the same shape, got {[a.shape for a in arrays]}")
    axis = axis % (arrays[0].ndim + 1)
    return concat([expand_dims(a, axis) for a in arrays], axis=axis)


def moveaxis_last(x, axis):
    """``x`` with ``axis`` moved last (a view) and the permutation used."""
    order = [d for d in range(x.ndim) if d != axis] + [axis]
    return permute_dims(x, order), order
