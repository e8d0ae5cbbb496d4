"""The OpenCL array: a strided view (shape, strides, offset in elements) of an OpenCL buffer,
and the kernel engines every primitive is built from (element-wise maps, reductions,
gathers and scatters through element offsets)."""

from __future__ import annotations

import math
import operator

import numpy as np

from .runtime import SCALAR_TYPES, Storage, cl_type

_HALF = np.dtype("float16")
_FLOAT = np.dtype("float32")

__all__ = [
    "CLArray",
    "empty",
    "contiguous_strides",
    "map_into",
    "reduce_rows",
    "gather",
    "scatter",
    "widen_half",
    "narrow_half",
]


def contiguous_strides(shape):
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))


class CLArray:
    """An array in OpenCL device memory (array API array object).

    Attributes:
        shape, strides (in elements), offset (in elements), dtype (a NumPy dtype),
        storage (the :class:`~ember.backends.opencl.runtime.Storage` shared by views).
    """

    __slots__ = ("shape", "strides", "offset", "dtype", "storage", "__weakref__")

    def __init__(self, storage, shape, dtype, strides=None, offset=0):
        self.storage = storage
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        self.strides = contiguous_strides(self.shape) if strides is None else tuple(strides)
        self.offset = int(offset)

    @property
    def device(self):
        return self.storage.device

    @property
    def buffer(self):
        return self.storage.buffer

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def is_contiguous(self):
        return all(st == c for st, c, n in zip(self.strides, contiguous_strides(self.shape), self.shape) if n != 1)

    def view(self, shape, strides, offset):
        return CLArray(self.storage, shape, self.dtype, strides, offset)

    def __repr__(self):
        from .namespace import to_host

        return f"CLArray({to_host(self)!r}, device={self.device.name!r})"

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __getitem__(self, key):
        from .indexing import getitem

        return getitem(self, key)

    def __setitem__(self, key, value):
        from .indexing import setitem

        setitem(self, key, value)

    def __bool__(self):
        return bool(self._scalar())

    def __float__(self):
        return float(self._scalar())

    def __int__(self):
        return int(self._scalar())

    def __index__(self):
        return operator.index(self._scalar())

    def _scalar(self):
        from .namespace import to_host

        if self.size != 1:
            raise TypeError(f"only one-element arrays convert to Python scalars (shape {self.shape})")
        return to_host(self).reshape(()).item()


_STRIDES = {}


def empty(shape, dtype, device):
    """A new contiguous array on ``device`` (uninitialised)."""
    dtype = np.dtype(dtype)
    shape = tuple(map(int, shape))
    out = object.__new__(CLArray)
    out.storage = Storage(device, math.prod(shape) * dtype.itemsize)
    out.shape, out.dtype, out.offset = shape, dtype, 0
    strides = _STRIDES.get(shape)
    if strides is None:
        if len(_STRIDES) > 4096:
            _STRIDES.clear()
        strides = _STRIDES[shape] = contiguous_strides(shape)
    out.strides = strides
    return out


# -- shapes -------------------------------------------------------------------------------
def broadcast_shapes(*shapes):
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for d in range(ndim):
        sizes = {s[d - ndim + len(s)] for s in shapes if d - ndim + len(s) >= 0} - {1}
        if len(sizes) > 1:
            raise ValueError(f"shapes {', '.join(str(tuple(s)) for s in shapes)} cannot be broadcast together")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def broadcast_strides(a, shape):
    """``a``'s strides when broadcast to ``shape`` (0 along broadcast dimensions)."""
    return _broadcast_strides(a.shape, a.strides, shape)


def _broadcast_strides(a_shape, a_strides, shape):
    lead = len(shape) - len(a_shape)
    if lead < 0:
        raise ValueError(f"cannot broadcast an array of shape {a_shape} to {tuple(shape)}")
    strides = [0] * lead
    for size, n, st in zip(shape[lead:], a_shape, a_strides):
        if n == size:
            strides.append(st if n != 1 else 0)
        elif n == 1:
            strides.append(0)
        else:
            raise ValueError(f"cannot broadcast an array of shape {a_shape} to {tuple(shape)}")
    return tuple(strides)


def collapse(shape, stride_lists):
    """Merge dimensions that every operand walks contiguously; drop size-1 dimensions."""
    dims = [d for d, n in enumerate(shape) if n != 1]
    out_shape, out_strides = [], [[] for _ in stride_lists]
    for d in dims:
        if out_shape and all(st[-1] == s[d] * shape[d] for st, s in zip(out_strides, stride_lists)):
            out_shape[-1] *= shape[d]
            for st, s in zip(out_strides, stride_lists):
                st[-1] = s[d]
            continue
        out_shape.append(shape[d])
        for st, s in zip(out_strides, stride_lists):
            st.append(s[d])
    return out_shape, out_strides


def _index_code(starts, nd, counter, shape_at):
    """C code adding to each variable its offset for the linear index ``counter``.

    The ``nd`` dimensions' sizes are read from ``meta[shape_at + d]``; ``starts`` maps each
    variable to the meta index of its first stride. All are C expressions, so one compiled
    kernel serves every number of dimensions.
    """
    adds = " ".join(f"{var} += c_ * meta[{start} + d_];" for var, start in starts.items())
    return (
        f"    {{ long r_ = {counter};\n"
        f"      for (int d_ = (int)({nd}) - 1; d_ >= 0; --d_) {{\n"
        f"        const long n_ = meta[{shape_at} + d_]; const long c_ = d_ ? r_ % n_ : r_; r_ = d_ ? r_ / n_ : 0;\n"
        f"        {adds}\n      }} }}"
    )


# -- element-wise maps ----------------------------------------------------------------------
def map_into(out, operands, expr, compute, helpers="", family=None):
    """``out[...] = expr(x0, x1, ...)`` element-wise; operands broadcast to ``out.shape``.

    Args:
        out: the destination (any strided view).
        operands: CLArrays, or NumPy scalars passed by value.
        expr: an OpenCL C expression of ``x0, x1, ...`` (and ``i``, the linear index).
        compute: the OpenCL C type each operand is converted to before ``expr``.
        helpers: OpenCL C helper functions that ``expr`` (or ``family``) uses.
        family: a tuple of expressions, ``expr`` among them, all valid for the same operand
            types: one program holds a kernel for each, so a family costs one build per
            operand signature instead of one per expression (PoCL builds take ~0.2 s).

    The per-call path is two dictionary look-ups (the kernel by operand types, the shape
    and stride buffer by layout) and one launch; C text is generated only on a miss.
    Operands that all walk memory contiguously get a kernel without index arithmetic.
    """
    shape = out.shape
    n = math.prod(shape)
    if not n:
        return out
    device = out.storage.device
    args = [np.int64(n), out.storage.buffer]
    sig = [out.dtype]
    layout = [shape, out.strides, out.offset]
    for x, c in zip(operands, compute):
        if type(x) is CLArray:
            if x.storage.device is not device:
                raise RuntimeError(
                    "expected all arrays on the same OpenCL device, "
                    f"got opencl:{x.storage.device.index} and opencl:{device.index}"
                )
            args.append(x.storage.buffer)
            sig.append((x.dtype, c))
            layout += (x.shape, x.strides, x.offset)
        else:
            args.append(SCALAR_TYPES[c](x))
            sig.append(c)
    layout = tuple(layout)
    plan = device.layouts.get(layout)
    if plan is None:
        plan = _map_layout(device, layout)
    flat, meta = plan
    key = (expr, family, helpers, flat, tuple(sig))
    kern = device.map_kernels.get(key)
    if kern is None:
        kern = device.map_kernels[key] = _map_kernel(device, key, operands, compute, out.dtype)
    args.append(meta)
    device.launch(kern, n, *args)
    return out


def _map_layout(device, layout):
    """(flat, meta buffer) for a map's ``layout`` (shape, then strides and offset per array).

    Flat: every array walks memory contiguously, and ``meta`` holds only their offsets;
    otherwise ``meta`` holds the collapsed shape, then each array's offset and strides.
    """
    shape = layout[0]
    strides = [layout[1]] + [_broadcast_strides(s, st, shape) for s, st in zip(layout[3::3], layout[4::3])]
    offsets = layout[2::3]
    cshape, cstrides = collapse(shape, strides)
    flat = len(cshape) <= 1 and all(st == [1] or not st for st in cstrides)
    if flat:
        meta = list(offsets)
    else:
        meta = [len(cshape), *cshape]
        for off, st in zip(offsets, cstrides):
            meta.append(off)
            meta.extend(st)
    if len(device.layouts) > 4096:
        device.layouts.clear()
    plan = device.layouts[layout] = (flat, device._meta_buffer(tuple(meta), meta))
    return plan


def _map_kernel(device, key, operands, compute, out_dtype):
    """Build (or fetch) the program of a map's family for one operand signature."""
    expr, family, helpers, flat, sig = key
    family = family or (expr,)
    names = ["io"] + [f"i{i}" for i, a in enumerate(operands) if type(a) is CLArray]
    params, loads = [], []
    for i, (a, c) in enumerate(zip(operands, compute)):
        if type(a) is CLArray:
            params.append(f", __global const {cl_type(a.dtype)} *a{i}")
            value = f"vload_half(i{i}, a{i})" if a.dtype == _HALF else f"a{i}[i{i}]"
            loads.append(f"    const {c} x{i} = ({c}){value};")
        else:
            params.append(f", const {c} x{i}")
    if flat:
        index = "\n".join(f"    const long {name} = meta[{j}] + i;" for j, name in enumerate(names))
    else:
        index = ["    const int nd = (int)meta[0];"]
        index += [f"    long {name} = meta[1 + nd + {j} * (nd + 1)];" for j, name in enumerate(names)]
        starts = {name: f"2 + nd + {j} * (nd + 1)" for j, name in enumerate(names)}
        index = "\n".join(index) + "\n" + _index_code(starts, "nd", "i", "1")
    out_t = cl_type(out_dtype)
    if out_dtype == np.bool_:
        store = "    out[io] = (uchar)((%s) != 0);"
    elif out_dtype == _HALF:  # round to nearest even, as NumPy and PyTorch convert
        store = "    vstore_half_rte((float)(%s), io, out);"
    else:
        store = f"    out[io] = ({out_t})(%s);"
    common = {"OUT_T": out_t, "PARAMS": "".join(params), "LOADS": "\n".join(loads), "INDEX": index}
    return device.kernel(
        ("map", family, helpers, flat, sig),
        "elementwise.cl",
        f"map{family.index(expr)}",
        substitutions=lambda: [{**common, "NAME": f"map{j}", "STORE": store % e} for j, e in enumerate(family)],
        prelude=helpers,
    )


# -- reductions -----------------------------------------------------------------------------
def reduce_rows(x, axes, out_dtype, acc_t, init, step, final="out[g] = acc;", load=None, chunked=True):
    """Reduce ``x`` over ``axes``; returns the kept-dims array.

    Few long reductions are split into chunks whose partial results are reduced again
    (``chunked``: the op is associative and ``final`` stores ``acc``), so that a full
    reduction still runs on many work-items.
    """
    if x.dtype == _HALF or np.dtype(out_dtype) == _HALF:  # float16: read, accumulate and reduce in float32
        wide = _FLOAT if np.dtype(out_dtype) == _HALF else out_dtype
        out = reduce_rows(
            widen_half(x), axes, wide, "float" if acc_t == "half" else acc_t, init, step, final, load, chunked
        )
        return narrow_half(out, out_dtype)
    device = x.device
    kept = [d for d in range(x.ndim) if d not in axes]
    out_shape = tuple(x.shape[d] for d in kept)
    m, k = math.prod(out_shape), math.prod(x.shape[d] for d in axes)
    chunks = min(1024, k // 256) if chunked and m < 1024 and k >= 4096 else 1
    out = empty(out_shape + ((chunks,) if chunks > 1 else ()), out_dtype, device)
    if m == 0:
        return out
    oshape, (ostr,) = collapse(out_shape, [tuple(x.strides[d] for d in kept)])
    rshape, (rstr,) = collapse(tuple(x.shape[d] for d in axes), [tuple(x.strides[d] for d in axes)])
    meta = [len(oshape), len(rshape), *oshape, *rshape, x.offset, *ostr, *rstr]
    subs = {
        "ISNAN": "isnan(v)" if acc_t in ("float", "double") else "0",
        "OUT_T": cl_type(out_dtype),
        "IN_T": cl_type(x.dtype),
        "OUTER": _index_code({"base": "3 + no + nr"}, "no", "i", "2"),
        "INNER": _index_code({"ia": "3 + 2 * no + nr"}, "nr", "j", "2 + no"),
        "ACC_T": acc_t,
        "INIT": init,
        "STEP": step,
        "FINAL": final,
        "LOAD": load or f"({acc_t})a[ia]",
    }
    key = ("reduce", tuple(sorted(subs.items())))
    kern = device.kernel(key, "reduce.cl", "reduce", substitutions=subs)
    device.launch(kern, m * chunks, np.int64(m), np.int64(k), out.buffer, x.buffer, device.meta(meta), np.int64(chunks))
    if chunks > 1:
        out = reduce_rows(out, (out.ndim - 1,), out_dtype, acc_t, init, step, final, load, chunked=False)
    return out


def widen_half(x):
    """``x`` as float32 when it is float16, else ``x``."""
    if x.dtype != _HALF:
        return x
    return map_into(empty(x.shape, _FLOAT, x.device), [x], "x0", ["float"])


def narrow_half(x, dtype):
    """``x`` (float32) as ``dtype`` when that is float16, else ``x``."""
    if np.dtype(dtype) != _HALF:
        return x
    return map_into(empty(x.shape, _HALF, x.device), [x], "x0", ["float"])


# -- gathers and scatters -----------------------------------------------------------------
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


def segment_add(dst, values, keys, order):
    """``dst.flat_storage[keys[i]] += values[order[i]]``, ``keys`` sorted, duplicates summed serially."""
    n = keys.size
    kern = _typed(dst.device, "gather.cl", "segment_add", dst.dtype)
    dst.device.launch(kern, n, np.int64(n), dst.buffer, values.buffer, keys.buffer, order.buffer)
