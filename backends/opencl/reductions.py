"""Reduction primitives of the OpenCL namespace: the row-reduction engine, the sums, products,
means and extrema with their arg-forms, and the cumulative sum."""

from __future__ import annotations

import math

import numpy as np

from . import codegen
from .array import collapse, contiguous_strides, empty, result
from .elementwise import divide, narrow_half, widen_half
from .manipulation import moveaxis_last, normalize_axis, permute_dims, reshape
from .runtime import PACK, compute_type, float_dtype

__all__ = ["reduce_rows", "reducer", "arg_reducer", "REDUCTIONS", "any_", "cumulative_sum"]

_BOOL, _INT64, _HALF, _FLOAT = np.dtype("bool"), np.dtype("int64"), np.dtype("float16"), np.dtype("float32")
_LONG = PACK["long"]


# -- the reduction engine -------------------------------------------------------------------------
def reduce_rows(x, axes, out_dtype, acc_t, init, step, final="out[g] = acc;", load=None, chunked=True):
    """Reduce ``x`` over ``axes``; returns the kept-dims array.

    Few long reductions are split into chunks whose partial results are reduced again
    (``chunked``: the op is associative and ``final`` stores ``acc``), so that a full
    reduction still runs on many work-items. The launch is cached per input layout and
    reduction (its kernel, sizes, layout buffer and result), so a repeated reduction makes
    its result and launches.
    """
    if x.dtype == _HALF or np.dtype(out_dtype) == _HALF:  # float16: read, accumulate and reduce in float32
        wide = _FLOAT if np.dtype(out_dtype) == _HALF else out_dtype
        out = reduce_rows(
            widen_half(x), axes, wide, "float" if acc_t == "half" else acc_t, init, step, final, load, chunked
        )
        return narrow_half(out, out_dtype)
    device = x.storage.device
    key = (x.dtype, x.shape, x.strides, x.offset, axes, out_dtype, acc_t, init, step, final, load, chunked)
    launch = _LAUNCHES.get(key)
    if launch is None or launch[0] is not device:
        launch = _reduce_launch(device, key)
    _, kern, global_size, scalars, meta, layout, again = launch
    out = result(device, *layout)
    if global_size is not None:
        device.run(kern, global_size, (2, out.storage.buffer, 3, x.storage.buffer, 4, meta), scalars)
    if again:
        out = reduce_rows(out, (out.ndim - 1,), out_dtype, acc_t, init, step, final, load, chunked=False)
    return out


#: reduce_rows' launches: (input layout, reduction) -> (device, kernel, global size or None when
#: the result is empty, scalar arguments, layout buffer, result layout, whether the chunks are reduced again)
_LAUNCHES = {}


def _reduce_launch(device, key):
    """Plan, cache and return the launch of ``reduce_rows`` for ``key`` on ``device``."""
    in_dtype, shape, strides, offset, axes, out_dtype, acc_t, init, step, final, load, chunked = key
    out_dtype = np.dtype(out_dtype)
    kept = [d for d in range(len(shape)) if d not in axes]
    out_shape = tuple(shape[d] for d in kept)
    m, k = math.prod(out_shape), math.prod(shape[d] for d in axes)
    chunks = min(1024, k // 256) if chunked and 0 < m < 1024 and k >= 4096 else 1
    full_shape = out_shape + ((chunks,) if chunks > 1 else ())
    layout = (full_shape, contiguous_strides(full_shape), out_dtype, m * chunks * out_dtype.itemsize)
    if m == 0:
        launch = (device, None, None, None, None, layout, False)
    else:
        oshape, (ostr,) = collapse(out_shape, [tuple(strides[d] for d in kept)])
        rshape, (rstr,) = collapse(tuple(shape[d] for d in axes), [tuple(strides[d] for d in axes)])
        meta = device.meta([len(oshape), len(rshape), *oshape, *rshape, offset, *ostr, *rstr])
        fields = (in_dtype, out_dtype, acc_t, init, step, final, load)
        kern = device.kernel(
            ("reduce", *fields), "reduce.cl", "reduce", substitutions=lambda: codegen.reduce_fields(*fields)
        )
        local = device.local_size
        global_size = (-(-m * chunks // local) * local,)  # a multiple of the work-group size (Device.launch)
        scalars = (0, _LONG, m, 1, _LONG, k, 5, _LONG, chunks)
        launch = (device, kern, global_size, scalars, meta, layout, chunks > 1)
    if len(_LAUNCHES) > 4096:
        _LAUNCHES.clear()
    _LAUNCHES[key] = launch
    return launch


# -- the reductions ---------------------------------------------------------------------------------
def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(sorted({normalize_axis(a, ndim) for a in axes}))


def _keep(out, x, axes, keepdims):
    if keepdims:
        out = reshape(out, tuple(1 if d in axes else n for d, n in enumerate(x.shape)))
    return out


def _sum_dtype(x, dtype):
    if dtype is not None:
        return np.dtype(dtype)
    return _INT64 if x.dtype.kind in "biu" else x.dtype


def reducer(name):
    """The array API reduction ``name``: ``sum``, ``prod``, ``mean``, ``max``, ``min``, ``any`` or ``all``."""

    def op(x, /, *, axis=None, dtype=None, keepdims=False):
        axes = _axes(axis, x.ndim)
        k = math.prod(x.shape[d] for d in axes)
        if name in ("sum", "prod"):
            out_dt = _sum_dtype(x, dtype)
            acc = compute_type(out_dt)
            init = "0" if name == "sum" else "1"
            step = "acc += x;" if name == "sum" else "acc *= x;"
            out = reduce_rows(x, axes, out_dt, acc, init, step)
        elif name == "mean":
            out_dt = x.dtype if x.dtype.kind == "f" else float_dtype(x.device)
            acc = compute_type(out_dt)
            wide = np.dtype("float32") if out_dt == _HALF else out_dt  # float16: summed and divided in float32
            out = divide(reduce_rows(x, axes, wide, acc, "0", "acc += x;"), wide.type(k))
            out = narrow_half(out, out_dt)
        elif name in ("max", "min"):
            if k == 0:
                raise ValueError(f"zero-size array to reduction operation {name}imum which has no identity")
            cmp = ">" if name == "max" else "<"
            acc = compute_type(x.dtype)
            step = f"if (x {cmp} acc || ISNAN(x)) acc = x;" if x.dtype.kind == "f" else f"if (x {cmp} acc) acc = x;"
            out = reduce_rows(x, axes, x.dtype, acc, "a[base]", step)
        else:  # any / all
            acc = "int"
            if name == "any":
                out = reduce_rows(x, axes, _BOOL, acc, "0", "acc |= x;", load="(a[ia] != 0)")
            else:
                out = reduce_rows(x, axes, _BOOL, acc, "1", "acc &= x;", load="(a[ia] != 0)")
        return _keep(out, x, axes, keepdims)

    op.__name__ = name
    return op


def arg_reducer(name):
    """The array API ``argmax`` or ``argmin`` (the first of equal extrema; NaN wins)."""
    cmp = ">" if name == "argmax" else "<"

    def op(x, /, *, axis=None, keepdims=False):
        if axis is None:
            flat = reshape(x, (-1,))
            out = op(flat, axis=0)
            return reshape(out, (1,) * x.ndim) if keepdims else out
        axes = (normalize_axis(axis, x.ndim),)
        if x.shape[axes[0]] == 0:
            raise ValueError(f"attempt to get {name} of an empty sequence")
        acc = compute_type(x.dtype)
        nan = " || (ISNAN(x) && !ISNAN(acc))" if x.dtype.kind == "f" else ""  # NaN wins, the first one
        step = f"if (x {cmp} acc{nan}) {{ acc = x; best = j; }}"
        out = reduce_rows(x, axes, _INT64, acc, "a[base]", step, "out[g] = best;", chunked=False)
        return _keep(out, x, axes, keepdims)

    op.__name__ = name
    return op


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    if x.dtype == _HALF or np.dtype(dtype or x.dtype) == _HALF:  # float16: summed in float32
        wide = None if dtype is None or np.dtype(dtype) == _HALF else dtype
        out = cumulative_sum(widen_half(x), axis=axis, dtype=wide, include_initial=include_initial)
        return narrow_half(out, _sum_dtype(x, dtype))
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = normalize_axis(axis, x.ndim)
    out_dt = _sum_dtype(x, dtype)
    xm, order = moveaxis_last(x, axis)
    k = xm.shape[-1]
    rows_shape = xm.shape[:-1]
    initial = int(bool(include_initial))
    out = empty(rows_shape + (k + initial,), out_dt, x.device)
    m = math.prod(rows_shape)
    oshape, (ostr,) = collapse(rows_shape, [xm.strides[:-1]])
    meta = [len(oshape), *oshape, xm.offset, *ostr, xm.strides[-1]]
    subs = codegen.scan_fields(x.dtype, out_dt, initial)
    device = x.device
    kern = device.kernel(("cumsum", tuple(sorted(subs.items()))), "scan.cl", "cumsum", substitutions=subs)
    device.launch(kern, m, np.int64(m), np.int64(k), out.buffer, x.buffer, device.meta(meta))
    inverse = [order.index(d) for d in range(x.ndim)]
    result = permute_dims(out, inverse)
    # (an array without elements counts as contiguous whatever its strides: give it row-major ones, as PyTorch's)
    return result if result.size else empty(result.shape, out_dt, device)


#: every reduction by name (the cumulative sum aside)
REDUCTIONS = {
    **{name: reducer(name) for name in ("sum", "prod", "mean", "max", "min", "any", "all")},
    **{name: arg_reducer(name) for name in ("argmax", "argmin")},
}
any_ = REDUCTIONS["any"]
