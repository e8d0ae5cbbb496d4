"""The array namespace of the OpenCL backend: exactly :data:`ember.backend.PRIMITIVES`, with
array API semantics, over :class:`~ember.backends.opencl.array.CLArray`."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pyopencl as cl

from ember.backend import PRIMITIVES

from . import clblast, runtime
from .array import (
    CLArray,
    broadcast_shapes,
    broadcast_strides,
    contiguous_strides,
    empty,
    map_into,
    narrow_half,
    reduce_rows,
    segment_add,
    widen_half,
)
from .runtime import Storage, cl_type, compute_type

__all__ = ["namespace", "current", "from_host", "to_host", "result_type", "float_dtype", "scatter_add", "erf"]

_BOOL, _INT64, _HALF = np.dtype("bool"), np.dtype("int64"), np.dtype("float16")
_state = SimpleNamespace(index=0)


def current():
    """The current OpenCL device (see ``OpenCLBackend.device_context``)."""
    return runtime.devices()[_state.index]


def float_dtype(device):
    """The default floating dtype of ``device``'s integer-to-float promotions."""
    return np.dtype("float64" if device.supports_float64 else "float32")


def _is_scalar(v):
    return isinstance(v, (bool, int, float, np.generic))


def _device_of(*operands):
    devs = {id(a.device): a.device for a in operands if isinstance(a, CLArray)}
    if len(devs) > 1:
        names = ", ".join(f"opencl:{d.index}" for d in devs.values())
        raise RuntimeError(f"expected all arrays on the same device, got {names}")
    return next(iter(devs.values())) if devs else current()


#: Python scalar type -> the array kinds it leaves unchanged (array API "weak" scalars).
_WEAK = {float: "f", int: "iuf", bool: "biuf"}


def result_type(*operands):
    """Array API promotion: arrays by NumPy rules; Python scalars only raise the kind."""
    if (
        len(operands) == 2
        and type(operands[0]) is CLArray
        and operands[0].dtype.kind in _WEAK.get(type(operands[1]), "")
    ):
        return operands[0].dtype
    arrays = [a.dtype for a in operands if isinstance(a, CLArray)]
    scalars = [a for a in operands if not isinstance(a, CLArray)]
    device = _device_of(*operands)
    if not arrays:
        arrays = [np.asarray(scalars[0]).dtype]
    dt = np.result_type(*arrays)
    for s in scalars:
        if isinstance(s, (bool, np.bool_)):
            continue
        if isinstance(s, (int, np.integer)) and dt.kind == "b":
            dt = _INT64
        elif isinstance(s, (float, np.floating)) and dt.kind in "biu":
            dt = float_dtype(device)
    if dt == np.float64 and not device.supports_float64:
        dt = np.dtype("float32")
    return dt


def _operand(v, dtype):
    """An array stays; a scalar becomes a NumPy scalar of ``dtype`` passed by value."""
    if isinstance(v, CLArray):
        return v
    return np.dtype(dtype).type(v)


# -- host transfer ---------------------------------------------------------------------------
def from_host(host, device):
    host = np.asarray(host, order="C")
    if host.dtype == np.float64 and not device.supports_float64:
        raise TypeError(f"OpenCL device opencl:{device.index} ({device.name}) does not support float64")
    if host.dtype not in runtime._CL_TYPES:
        raise TypeError(f"opencl backend does not support dtype {host.dtype}")
    out = CLArray(Storage(device, host.nbytes), host.shape, host.dtype)
    if host.nbytes:
        cl.enqueue_copy(device.queue, out.buffer, host)
    return out


def to_host(a):
    if not a.is_contiguous:
        a = astype(a, a.dtype, copy=True)
    host = np.empty(a.shape, dtype=a.dtype)
    if host.nbytes:
        cl.enqueue_copy(a.device.queue, host, a.buffer, src_offset=a.offset * a.dtype.itemsize)
    return host


# -- creation ----------------------------------------------------------------------------------
def _shape(shape):
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)


def _native(dtype, default):
    if dtype is None:
        return np.dtype(default)
    return np.dtype(dtype)


def full(shape, fill_value, *, dtype=None, device=None):
    if dtype is None:
        dtype = result_type(fill_value) if not isinstance(fill_value, CLArray) else fill_value.dtype
    out = empty(_shape(shape), _native(dtype, None), _resolve(device))
    if isinstance(fill_value, CLArray):
        return map_into(out, [fill_value], "x0", [compute_type(out.dtype)])
    return map_into(out, [_operand(fill_value, out.dtype)], "x0", [compute_type(out.dtype)])


def _resolve(device):
    if device is None:
        return current()
    if isinstance(device, runtime.Device):
        return device
    return runtime.devices()[int(device)]


def zeros(shape, *, dtype=None, device=None):
    return full(shape, 0, dtype=_native(dtype, float_dtype(_resolve(device))), device=device)


def ones(shape, *, dtype=None, device=None):
    return full(shape, 1, dtype=_native(dtype, float_dtype(_resolve(device))), device=device)


def empty_(shape, *, dtype=None, device=None):
    return empty(_shape(shape), _native(dtype, float_dtype(_resolve(device))), _resolve(device))


def asarray(obj, /, *, dtype=None, device=None, copy=None):
    if isinstance(obj, CLArray):
        if dtype is None or np.dtype(dtype) == obj.dtype:
            return astype(obj, obj.dtype, copy=True) if copy else obj
        return astype(obj, dtype)
    if _is_scalar(obj) and not isinstance(obj, np.generic):
        dt = np.dtype(dtype) if dtype is not None else result_type(obj)
        return full((), obj, dtype=dt, device=device)
    host = np.asarray(obj, dtype=dtype)
    if host.dtype == np.float64 and dtype is None and not _resolve(device).supports_float64:
        host = host.astype(np.float32)
    return from_host(host, _resolve(device))


def arange(start, /, stop=None, step=1, *, dtype=None, device=None):
    if stop is None:
        start, stop = 0, start
    device = _resolve(device)
    if dtype is None:
        dtype = _INT64 if all(isinstance(v, (int, np.integer)) for v in (start, stop, step)) else float_dtype(device)
    dtype = np.dtype(dtype)
    n = max(0, math.ceil((stop - start) / step))
    out = empty((n,), dtype, device)
    compute = "long" if dtype.kind in "biu" else compute_type(float_dtype(device))
    ctype = np.int64 if compute == "long" else float_dtype(device).type
    return map_into(out, [ctype(start), ctype(step)], "x0 + i * x1", [compute, compute])


def eye(n_rows, n_cols=None, /, *, k=0, dtype=None, device=None):
    device = _resolve(device)
    n_cols = n_rows if n_cols is None else n_cols
    out = empty((n_rows, n_cols), _native(dtype, float_dtype(device)), device)
    return map_into(out, [np.int64(max(n_cols, 1)), np.int64(k)], "(i / x0) + x1 == i % x0", ["long", "long"])


# -- element-wise ----------------------------------------------------------------------------
_F = ("float", "double")
_INT_DIV = """
inline long fdiv_(long x, long y) { if (y == 0) return 0; long q = x / y; return (x % y != 0 && ((x < 0) != (y < 0))) ? q - 1 : q; }
inline long fmod_i_(long x, long y) { if (y == 0) return 0; long r = x % y; return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r; }
inline long ipow_(long x, long y) { long r = 1; if (y < 0) return x == 1 ? 1 : (x == -1 ? ((y & 1) ? -1 : 1) : 0); while (y) { if (y & 1) r *= x; x *= x; y >>= 1; } return r; }
"""
_FLOAT_DIV = """
inline C_T fmod_f_(C_T x, C_T y) { C_T r = fmod(x, y); return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r; }
inline C_T fdiv_f_(C_T x, C_T y) { return floor(x / y); }
"""

# name -> (float expression, integer expression or None (promote to float), bool expression or None)
_BINARY = {
    "add": ("x0 + x1", "x0 + x1", "x0 | x1"),
    "subtract": ("x0 - x1", "x0 - x1", None),
    "multiply": ("x0 * x1", "x0 * x1", "x0 & x1"),
    "divide": ("x0 / x1", None, None),
    "floor_divide": ("fdiv_f_(x0, x1)", "fdiv_(x0, x1)", None),
    "remainder": ("fmod_f_(x0, x1)", "fmod_i_(x0, x1)", None),
    "pow": ("pow(x0, x1)", "ipow_(x0, x1)", None),
    "maximum": ("(x0 > x1 || isnan(x0)) ? x0 : x1", "max(x0, x1)", "x0 | x1"),
    "minimum": ("(x0 < x1 || isnan(x0)) ? x0 : x1", "min(x0, x1)", "x0 & x1"),
    "atan2": ("atan2(x0, x1)", None, None),
    "bitwise_and": (None, "x0 & x1", "x0 & x1"),
    "bitwise_or": (None, "x0 | x1", "x0 | x1"),
    "bitwise_xor": (None, "x0 ^ x1", "x0 ^ x1"),
}
_COMPARE = {
    "equal": "x0 == x1",
    "not_equal": "x0 != x1",
    "less": "x0 < x1",
    "less_equal": "x0 <= x1",
    "greater": "x0 > x1",
    "greater_equal": "x0 >= x1",
    "logical_and": "(x0 != 0) && (x1 != 0)",
    "logical_or": "(x0 != 0) || (x1 != 0)",
    "logical_xor": "(x0 != 0) != (x1 != 0)",
}
# name -> (float expression, integer expression or None (promote to float))
_UNARY = {
    "negative": ("-x0", "-x0"),
    "abs": ("fabs(x0)", "(x0 < 0 ? -x0 : x0)"),
    "sign": ("x0 > 0 ? (C_T)1 : (x0 < 0 ? (C_T)-1 : x0)", "(x0 > 0) - (x0 < 0)"),
    "floor": ("floor(x0)", "x0"),
    "ceil": ("ceil(x0)", "x0"),
    "trunc": ("trunc(x0)", "x0"),
    "round": ("rint(x0)", "x0"),
    "bitwise_invert": (None, "~x0"),
    **{
        name: (f"{name}(x0)", None)
        for name in ("exp", "expm1", "log", "log1p", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh", "erf")
    },
    "asin": ("asin(x0)", None),
    "acos": ("acos(x0)", None),
    "atan": ("atan(x0)", None),
}
_PREDICATE = {
    "isnan": ("isnan(x0)", "0"),
    "isinf": ("isinf(x0)", "0"),
    "isfinite": ("isfinite(x0)", "1"),
    "logical_not": ("x0 == 0", "x0 == 0"),
}

# Expression families: each op's kernel is built in one program with the rest of its family
# (per operand signature), see ``map_into``; C_T stands for the compute type.
_FAMILIES = {
    "binary_f": tuple(f for f, _, _ in _BINARY.values() if f),
    "binary_i": tuple(i for _, i, _ in _BINARY.values() if i),
    "binary_b": tuple(b for _, _, b in _BINARY.values() if b),
    "compare": tuple(_COMPARE.values()),
    "unary_f": tuple(f for f, _ in _UNARY.values() if f),
    "unary_i": tuple(i for _, i in _UNARY.values() if i) + ("!x0",),
    "predicate_f": tuple(f for f, _ in _PREDICATE.values()),
    "predicate_i": tuple(i for _, i in _PREDICATE.values()),
}


_FAMILY_CACHE = {}


def _family(name, c):
    """The family ``name`` with C_T replaced by the compute type ``c`` (cached)."""
    family = _FAMILY_CACHE.get((name, c))
    if family is None:
        family = _FAMILY_CACHE[(name, c)] = tuple(dict.fromkeys(e.replace("C_T", c) for e in _FAMILIES[name]))
    return family


def _binary_plan(name, dt, device):
    """(expr, family, helpers, compute type, result dtype) of the binary op ``name`` on ``dt``."""
    fexpr, iexpr, bexpr = _BINARY[name]
    if dt.kind == "b" and bexpr is not None:
        expr, family = bexpr, "binary_b"
    elif dt.kind in "biu" and iexpr is not None:
        expr, family = iexpr, "binary_i"
    else:
        if dt.kind in "biu":
            dt = float_dtype(device)
        expr, family = fexpr, "binary_f"
    if expr is None:
        raise TypeError(f"{name} is not defined for {dt}")
    c = compute_type(dt)
    helpers = {"binary_i": _INT_DIV, "binary_f": _FLOAT_DIV.replace("C_T", c)}.get(family, "")
    return expr, _family(family, c), helpers, c, dt


def _binary(name):
    plans = {}

    def op(x1, x2, /):
        if type(x1) is CLArray:
            device = x1.storage.device
            if type(x2) is CLArray:
                dt = x1.dtype if x1.dtype == x2.dtype else result_type(x1, x2)
                shape = x1.shape if x1.shape == x2.shape else broadcast_shapes(x1.shape, x2.shape)
            else:
                dt = result_type(x1, x2)
                shape = x1.shape
        else:
            dt = result_type(x1, x2)
            device, shape = x2.storage.device, x2.shape
        plan = plans.get((dt, device))
        if plan is None:
            plan = plans[(dt, device)] = _binary_plan(name, dt, device)
        expr, family, helpers, c, dt = plan
        ops = [x1 if type(x1) is CLArray else dt.type(x1), x2 if type(x2) is CLArray else dt.type(x2)]
        return map_into(empty(shape, dt, device), ops, expr, (c, c), helpers, family)

    op.__name__ = name
    return op


def _compare(name):
    expr = _COMPARE[name]

    def op(x1, x2, /):
        dt = result_type(x1, x2)
        shape = broadcast_shapes(*(a.shape for a in (x1, x2) if isinstance(a, CLArray)))
        out = empty(shape, _BOOL, _device_of(x1, x2))
        c = compute_type(dt)
        return map_into(out, [_operand(x1, dt), _operand(x2, dt)], expr, [c, c], family=_family("compare", c))

    op.__name__ = name
    return op


def _unary(name):
    fexpr, iexpr = _UNARY[name]

    def op(x, /):
        dt, expr, family = x.dtype, fexpr, "unary_f"
        if dt.kind in "biu":
            if iexpr is None:
                dt = float_dtype(x.device)
            else:
                expr, family = iexpr, "unary_i"
        if expr is None:
            raise TypeError(f"{name} is not defined for {dt}")
        if dt.kind == "b" and name == "bitwise_invert":
            expr = "!x0"
        c = compute_type(dt)
        return map_into(empty(x.shape, dt, x.device), [x], expr.replace("C_T", c), [c], family=_family(family, c))

    op.__name__ = name
    return op


def _predicate(name):
    fexpr, iexpr = _PREDICATE[name]

    def op(x, /):
        floating = x.dtype.kind == "f"
        family = _family("predicate_f" if floating else "predicate_i", "")
        return map_into(
            empty(x.shape, _BOOL, x.device), [x], fexpr if floating else iexpr, [compute_type(x.dtype)], family=family
        )

    op.__name__ = name
    return op


def erf(x):
    return _unary("erf")(x)


def where(condition, x1, x2, /):
    dt = result_type(x1, x2)
    device = _device_of(condition, x1, x2)
    shape = broadcast_shapes(*(a.shape for a in (condition, x1, x2) if isinstance(a, CLArray)))
    c = compute_type(dt)
    ops = [condition, _operand(x1, dt), _operand(x2, dt)]
    return map_into(empty(shape, dt, device), ops, "x0 ? x1 : x2", ["uchar", c, c])


def astype(x, dtype, /, *, copy=True, device=None):
    dtype = np.dtype(dtype)
    if dtype == x.dtype and not copy:
        return x
    if dtype == np.float64 and not x.device.supports_float64:
        raise TypeError(f"OpenCL device opencl:{x.device.index} does not support float64")
    compute = compute_type(x.dtype)
    return map_into(empty(x.shape, dtype, x.device), [x], "x0", [compute])


def copy_into(out, value):
    """``out[...] = value`` (broadcast and cast to ``out``'s dtype)."""
    if isinstance(value, CLArray):
        return map_into(out, [value], "x0", [compute_type(value.dtype)])
    return map_into(out, [_operand(value, out.dtype)], "x0", [compute_type(out.dtype)])


# -- manipulation ------------------------------------------------------------------------------
def _axis(axis, ndim):
    if not -max(ndim, 1) <= axis < max(ndim, 1):
        raise ValueError(f"axis {axis} is out of bounds for array of dimension {ndim}")
    return axis % max(ndim, 1)


def reshape(x, /, shape, *, copy=None):
    shape = list(_shape(shape))
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        shape[shape.index(-1)] = x.size // known if known else 0
    shape = tuple(shape)
    if math.prod(shape) != x.size:
        raise ValueError(f"cannot reshape array of size {x.size} into shape {shape}")
    if not x.is_contiguous or copy:
        x = astype(x, x.dtype, copy=True)
    return x.view(shape, contiguous_strides(shape), x.offset)


def permute_dims(x, /, axes):
    axes = tuple(_axis(a, x.ndim) for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"axes {axes} don't match array of dimension {x.ndim}")
    return x.view(tuple(x.shape[a] for a in axes), tuple(x.strides[a] for a in axes), x.offset)


def broadcast_to(x, /, shape):
    shape = _shape(shape)
    return x.view(shape, broadcast_strides(x, shape), x.offset)


def expand_dims(x, /, axis=0):
    axes = sorted(a % (x.ndim + 1) for a in ((axis,) if isinstance(axis, int) else axis))
    shape, strides = list(x.shape), list(x.strides)
    for a in axes:
        shape.insert(a, 1)
        strides.insert(a, 0)
    return x.view(tuple(shape), tuple(strides), x.offset)


def squeeze(x, /, axis):
    axes = {_axis(a, x.ndim) for a in ((axis,) if isinstance(axis, int) else axis)}
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"cannot squeeze axis {a} of size {x.shape[a]}")
    keep = [d for d in range(x.ndim) if d not in axes]
    return x.view(tuple(x.shape[d] for d in keep), tuple(x.strides[d] for d in keep), x.offset)


def flip(x, /, *, axis=None):
    axes = range(x.ndim) if axis is None else [_axis(a, x.ndim) for a in ((axis,) if isinstance(axis, int) else axis)]
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
    axis = _axis(axis, arrays[0].ndim)
    dt = result_type(*arrays)
    shape = list(arrays[0].shape)
    for a in arrays[1:]:
        if a.ndim != len(shape) or any(s != t for d, (s, t) in enumerate(zip(a.shape, shape)) if d != axis):
            raise ValueError(
                f"concat: all input array dimensions except axis {axis} must match, got {a.shape} and {tuple(shape)}"
            )
    shape[axis] = sum(a.shape[axis] for a in arrays)
    out = empty(tuple(shape), dt, _device_of(*arrays))
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


def _moveaxis_last(x, axis):
    order = [d for d in range(x.ndim) if d != axis] + [axis]
    return permute_dims(x, order), order


def take(x, indices, /, *, axis=None):
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = _axis(axis, x.ndim)
    return x[(slice(None),) * axis + (indices, Ellipsis)]


def _normalized(index, size, what):
    """``index`` with negative entries wrapped; IndexError if any is out of ``[-size, size)``."""
    if index.size and bool(_functions["any"](logical_or(less(index, -size), greater_equal(index, size)))):
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


def take_along_axis(x, indices, /, *, axis=-1):
    from .array import gather

    axis = _axis(axis, x.ndim)
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


# -- reductions --------------------------------------------------------------------------------
def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(sorted({_axis(a, ndim) for a in axes}))


def _keep(out, x, axes, keepdims):
    if keepdims:
        out = reshape(out, tuple(1 if d in axes else n for d, n in enumerate(x.shape)))
    return out


def _sum_dtype(x, dtype):
    if dtype is not None:
        return np.dtype(dtype)
    return _INT64 if x.dtype.kind in "biu" else x.dtype


def _reducer(name):
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
            out = _functions["divide"](reduce_rows(x, axes, wide, acc, "0", "acc += x;"), wide.type(k))
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


def _arg_reducer(name):
    cmp = ">" if name == "argmax" else "<"

    def op(x, /, *, axis=None, keepdims=False):
        if axis is None:
            flat = reshape(x, (-1,))
            out = op(flat, axis=0)
            return reshape(out, (1,) * x.ndim) if keepdims else out
        axes = (_axis(axis, x.ndim),)
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
    from .array import _index_code, collapse

    if x.dtype == _HALF or np.dtype(dtype or x.dtype) == _HALF:  # float16: summed in float32
        wide = None if dtype is None or np.dtype(dtype) == _HALF else dtype
        out = cumulative_sum(widen_half(x), axis=axis, dtype=wide, include_initial=include_initial)
        return narrow_half(out, _sum_dtype(x, dtype))
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = _axis(axis, x.ndim)
    out_dt = _sum_dtype(x, dtype)
    xm, order = _moveaxis_last(x, axis)
    k = xm.shape[-1]
    rows_shape = xm.shape[:-1]
    initial = int(bool(include_initial))
    out = empty(rows_shape + (k + initial,), out_dt, x.device)
    m = math.prod(rows_shape)
    oshape, (ostr,) = collapse(rows_shape, [xm.strides[:-1]])
    meta = [len(oshape), *oshape, xm.offset, *ostr, xm.strides[-1]]
    subs = {
        "OUT_T": cl_type(out_dt),
        "IN_T": cl_type(x.dtype),
        "INITIAL": initial,
        "OUTER": _index_code({"base": "2 + no"}, "no", "i", "1"),
    }
    device = x.device
    kern = device.kernel(("cumsum", tuple(sorted(subs.items()))), "scan.cl", "cumsum", substitutions=subs)
    device.launch(kern, m, np.int64(m), np.int64(k), out.buffer, x.buffer, device.meta(meta))
    inverse = [order.index(d) for d in range(x.ndim)]
    return permute_dims(out, inverse)


# -- sorting -----------------------------------------------------------------------------------
def _bitonic(x, descending):
    """Sort the rows (last axis) of ``x``; returns (keys, index, row width) padded buffers."""
    rows_shape, n = x.shape[:-1], x.shape[-1]
    rows = math.prod(rows_shape)
    width = 1 << max(n - 1, 0).bit_length()
    device = x.device
    keys = empty((rows * width,), x.dtype, device)
    index = empty((rows * width,), _INT64, device)
    view_strides = tuple(s * width for s in contiguous_strides(rows_shape)) + (1,)
    copy_into(keys.view(x.shape, view_strides, 0), x)
    map_into(index, [np.int64(width)], "i % x0", ["long"])
    t = cl_type(x.dtype)
    defines = {"T": t, "DESCENDING": int(bool(descending))}
    subs = {"ISNAN": "isnan(v)" if x.dtype.kind == "f" else "0"}
    kern = device.kernel(("bitonic", t, bool(descending)), "sort.cl", "bitonic_step", defines, subs)
    total = rows * width
    k = 2
    while k <= width:
        j = k // 2
        while j >= 1:
            device.launch(
                kern,
                total,
                np.int64(total),
                keys.buffer,
                index.buffer,
                np.int64(width),
                np.int64(n),
                np.int64(k),
                np.int64(j),
            )
            j //= 2
        k *= 2
    return keys, index, view_strides


def _sorted(x, axis, descending, want_values):
    if x.dtype == _HALF:  # float16: sorted as float32 (exact)
        return narrow_half(_sorted(widen_half(x), axis, descending, want_values), _HALF if want_values else _INT64)
    if x.ndim == 0:
        return astype(x, x.dtype) if want_values else zeros((), dtype=_INT64, device=x.device)
    axis = _axis(axis, x.ndim)
    xm, order = _moveaxis_last(x, axis)
    keys, index, strides = _bitonic(xm, descending)
    result = (keys if want_values else index).view(xm.shape, strides, 0)
    inverse = [order.index(d) for d in range(x.ndim)]
    return permute_dims(result, inverse)


def argsort(x, /, *, axis=-1, descending=False, stable=True):
    return _sorted(x, axis, descending, False)


def sort(x, /, *, axis=-1, descending=False, stable=True):
    return _sorted(x, axis, descending, True)


def scatter_add(target, axis, index, values):
    """``target[..., index[i], ...] += values[i]`` along ``axis``: sorted by destination, then
    each run of equal destinations is summed serially (no atomics; duplicates accumulate)."""
    if index.size == 0:
        return
    axis = _axis(axis, target.ndim)
    idx = _normalized(astype(index, _INT64, copy=False), target.shape[axis], "scatter_add")
    offsets = reshape(
        add(idx * target.strides[axis], _coordinate_offsets(target, index.shape, axis, target.offset)), (-1,)
    )
    vals = reshape(
        astype(broadcast_to(values[tuple(slice(0, n) for n in index.shape)], index.shape), target.dtype), (-1,)
    )
    keys, order, _ = _bitonic(offsets, False)
    n = offsets.size
    segment_add(target, vals, keys.view((n,), (1,), 0), order.view((n,), (1,), 0))


# -- linear algebra ----------------------------------------------------------------------------
_BLOCK, _GROUP = 64, 16  # gemm.cl: a 16 x 16 work-group computes a 64 x 64 block of C


def _own_gemm(device, m, n, k, a, a_rs, a_cs, a_offsets, b, b_rs, b_cs, b_offsets, out):
    """``out[i] = a[i] @ b[i]`` per batch with gemm.cl (batch element offsets as int64 arrays)."""
    t = cl_type(out.dtype)
    kern = device.kernel(("gemm", t), "gemm.cl", "gemm", {"T": t})
    gsize = (-(-n // _BLOCK) * _GROUP, -(-m // _BLOCK) * _GROUP, a_offsets.size)
    device.enqueue(
        kern, gsize, (_GROUP, _GROUP, 1), np.int64(m), np.int64(n), np.int64(k),
        a.buffer, np.int64(a_rs), np.int64(a_cs), device.meta(a_offsets),
        b.buffer, np.int64(b_rs), np.int64(b_cs), device.meta(b_offsets), out.buffer,
    )  # fmt: skip


def _own_product(a, b):
    """``a @ b`` of two contiguous 2-D arrays with the own kernel (CLBlast's yardstick)."""
    (m, k), n = a.shape, b.shape[1]
    out = empty((m, n), a.dtype, a.device)
    zero = np.zeros(1, np.int64)
    _own_gemm(a.device, m, n, k, a, k, 1, zero, b, n, 1, zero, out)
    return out


def matmul(x1, x2, /):
    dt = result_type(x1, x2)
    if dt == _HALF:  # float16: products accumulated in float32, rounded once
        return narrow_half(matmul(widen_half(x1), widen_half(x2)), _HALF)
    a, b = astype(x1, dt, copy=False), astype(x2, dt, copy=False)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: operands must have at least one dimension")
    squeeze_a, squeeze_b = a.ndim == 1, b.ndim == 1
    if squeeze_a:
        a = expand_dims(a, 0)
    if squeeze_b:
        b = expand_dims(b, 1)
    m, k = a.shape[-2:]
    k2, n = b.shape[-2:]
    if k != k2:
        raise ValueError(f"matmul: shapes {x1.shape} and {x2.shape} are not aligned ({k} != {k2})")
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    device = _device_of(a, b)
    out = empty(batch + (m, n), dt, device)
    if out.size and k == 0:
        copy_into(out, 0)
    elif out.size:
        offs = []
        for arr in (a, b):
            st = broadcast_strides(arr.view(arr.shape[:-2], arr.strides[:-2], 0), batch)
            grid = np.zeros(batch, dtype=np.int64) + arr.offset
            for d, s in enumerate(st):
                view = [1] * len(batch)
                view[d] = batch[d]
                grid = grid + (np.arange(batch[d], dtype=np.int64) * s).reshape(view)
            offs.append(grid.reshape(-1))
        operands = (m, n, k, a, a.strides[-2], a.strides[-1], offs[0], b, b.strides[-2], b.strides[-1], offs[1], out)
        if not (
            clblast.available(dt)
            and clblast.faster_than_own(device, dt, _own_product)
            and clblast.gemm(device, *operands)
        ):
            _own_gemm(device, *operands)
    if squeeze_a:
        out = squeeze(out, -2)
    if squeeze_b:
        out = squeeze(out, -1)
    return out


# -- the namespace -------------------------------------------------------------------------
_functions = {
    "asarray": asarray, "zeros": zeros, "ones": ones, "full": full, "empty": empty_, "arange": arange, "eye": eye,
    "where": where, "astype": astype, "reshape": reshape, "permute_dims": permute_dims,
    "broadcast_to": broadcast_to, "expand_dims": expand_dims, "squeeze": squeeze, "concat": concat,
    "stack": stack, "flip": flip, "take": take, "take_along_axis": take_along_axis, "nonzero": nonzero,
    "cumulative_sum": cumulative_sum, "sort": sort, "argsort": argsort, "matmul": matmul,
}  # fmt: skip
for _name in _BINARY:
    _functions[_name] = _binary(_name)
for _name in _COMPARE:
    _functions[_name] = _compare(_name)
for _name in _UNARY:
    _functions[_name] = _unary(_name)
for _name in _PREDICATE:
    _functions[_name] = _predicate(_name)
for _name in ("sum", "prod", "mean", "max", "min", "any", "all"):
    _functions[_name] = _reducer(_name)
for _name in ("argmax", "argmin"):
    _functions[_name] = _arg_reducer(_name)
add, less, greater_equal, logical_or = (_functions[n] for n in ("add", "less", "greater_equal", "logical_or"))

namespace = SimpleNamespace(**{name: _functions[name] for name in PRIMITIVES})
namespace.__name__ = "ember.backends.opencl.namespace"


# -- the array object's operators ------------------------------------------------------------
def _reflect(fn):
    return lambda self, other: fn(other, self)


def _inplace(fn):
    def method(self, other):
        copy_into(self, fn(self, other))
        return self

    return method


for _op, _fn in {
    "add": "add", "sub": "subtract", "mul": "multiply", "truediv": "divide", "floordiv": "floor_divide",
    "mod": "remainder", "pow": "pow", "matmul": "matmul", "and": "bitwise_and", "or": "bitwise_or",
    "xor": "bitwise_xor",
}.items():  # fmt: skip
    setattr(CLArray, f"__{_op}__", _functions[_fn])
    setattr(CLArray, f"__r{_op}__", _reflect(_functions[_fn]))
    setattr(CLArray, f"__i{_op}__", _inplace(_functions[_fn]))
for _op, _fn in {
    "eq": "equal",
    "ne": "not_equal",
    "lt": "less",
    "le": "less_equal",
    "gt": "greater",
    "ge": "greater_equal",
}.items():
    setattr(CLArray, f"__{_op}__", _functions[_fn])
CLArray.__hash__ = None
CLArray.__neg__ = _functions["negative"]
CLArray.__pos__ = lambda self: self
CLArray.__abs__ = _functions["abs"]
CLArray.__invert__ = _functions["bitwise_invert"]
