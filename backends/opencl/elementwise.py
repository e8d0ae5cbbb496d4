"""Element-wise primitives of the OpenCL namespace: type promotion, the element-wise map
engine every element-wise op (and every copy and cast) launches, and the arithmetic,
comparison and predicate families."""

from __future__ import annotations

import math

import numpy as np

from ember.strides import elementwise_strides

from . import codegen
from .array import CLArray, broadcast_shapes, broadcast_strides, collapse, empty, result
from .runtime import PACK, SCALAR_TYPES, compute_type, current, float_dtype

__all__ = [
    "map_into", "map_launch", "result_type", "device_of", "operand", "widen_half", "narrow_half", "where", "astype", "astype_in_order", "copy_into",
    "BINARY", "COMPARE", "UNARY", "PREDICATE", "FUNCTIONS", "add", "divide", "less", "greater_equal", "logical_or",
    "erf",
]  # fmt: skip

_BOOL, _INT16, _INT64 = np.dtype("bool"), np.dtype("int16"), np.dtype("int64")
_HALF, _FLOAT = np.dtype("float16"), np.dtype("float32")
_LONG = PACK["long"]


def device_of(*operands):
    """The one device of the arrays among ``operands`` (the current device when there is none)."""
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
    device = device_of(*operands)
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


def operand(v, dtype):
    """An array stays; a scalar becomes a NumPy scalar of ``dtype`` passed by value."""
    if isinstance(v, CLArray):
        return v
    return np.dtype(dtype).type(v)


def result_for(shape, dtype, device, operands):
    """A new array for the element-wise result of ``shape`` over ``operands`` (arrays or scalars, in
    argument order), laid out as PyTorch lays it out (:func:`ember.strides.elementwise_strides`):
    row-major where the operands are, else in the order of the first operand that orders two dimensions."""
    out = empty(shape, dtype, device)
    if not all(x.is_contiguous for x in operands if type(x) is CLArray):
        # (a flipped view's negative strides order its dimensions as the view it flips, as NumPy's)
        layouts = tuple((x.shape, tuple(map(abs, x.strides))) for x in operands if type(x) is CLArray)
        out.strides = elementwise_strides(shape, layouts)
    return out


# -- the map engine -----------------------------------------------------------------------------
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
    launch = map_launch(out, operands, expr, compute, helpers, family)
    if launch is not None:
        out.storage.device.run(*launch)
    return out


def map_launch(out, operands, expr, compute, helpers="", family=None):
    """The launch of :func:`map_into` (None when ``out`` is empty): the kernel, the global
    size and the argument tuples of :meth:`~ember.backends.opencl.runtime.Device.run`.

    The arguments are the element count (scalar 0), the output (1), the operands (2, 3, ...)
    and the layout buffer (last): :func:`binary` keeps a launch's kernel, size and layout
    buffer to repeat it with new buffers.
    """
    shape = out.shape
    n = math.prod(shape)
    if not n:
        return None
    storage = out.storage
    device = storage.device
    buffers = (1, storage.buffer)
    scalars = (0, _LONG, n)
    sig = [out.dtype]
    layout = [shape, out.strides, out.offset]
    j = 2
    for x, c in zip(operands, compute):
        if type(x) is CLArray:
            if x.storage.device is not device:
                raise RuntimeError(
                    "expected all arrays on the same OpenCL device, "
                    f"got opencl:{x.storage.device.index} and opencl:{device.index}"
                )
            buffers += (j, x.storage.buffer)
            sig.append((x.dtype, c))
            layout += (x.shape, x.strides, x.offset)
        else:
            scalars += (j, PACK[c], SCALAR_TYPES[c](x))
            sig.append(c)
        j += 1
    layout = tuple(layout)
    plan = device.layouts.get(layout)
    if plan is None:
        plan = _map_layout(device, layout)
    flat, meta, global_size = plan
    key = (expr, family, helpers, flat, tuple(sig))
    kern = device.map_kernels.get(key)
    if kern is None:
        kern = device.map_kernels[key] = _map_kernel(device, key)
    return kern, global_size, buffers + (j, meta), scalars


def _map_layout(device, layout):
    """(flat, meta buffer, global size) for a map's ``layout`` (shape, then strides and offset
    per array).

    Flat: every array walks memory contiguously, and ``meta`` holds only their offsets;
    otherwise ``meta`` holds the collapsed shape, then each array's offset and strides.
    """
    shape = layout[0]
    strides = [layout[1]] + [broadcast_strides(s, st, shape) for s, st in zip(layout[3::3], layout[4::3])]
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
    local = device.local_size
    global_size = (-(-math.prod(shape) // local) * local,)  # a multiple of the work-group size
    plan = device.layouts[layout] = (flat, device._meta_buffer(tuple(meta), meta), global_size)
    return plan


def _map_kernel(device, key):
    """Build (or fetch) the program of a map's family for one operand signature."""
    expr, family, helpers, flat, sig = key
    family = family or (expr,)
    return device.kernel(
        ("map", family, helpers, flat, sig),
        "elementwise.cl",
        f"map{family.index(expr)}",
        substitutions=lambda: codegen.map_fields(family, flat, sig),
        prelude=helpers,
    )


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


# -- the families ------------------------------------------------------------------------------
# name -> (float expression, integer expression or None (promote to float), bool expression or None)
BINARY = {
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
COMPARE = {
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
UNARY = {
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
PREDICATE = {
    "isnan": ("isnan(x0)", "0"),
    "isinf": ("isinf(x0)", "0"),
    "isfinite": ("isfinite(x0)", "1"),
    "logical_not": ("x0 == 0", "x0 == 0"),
}

# Expression families: each op's kernel is built in one program with the rest of its family
# (per operand signature), see ``map_into``; C_T stands for the compute type.
_FAMILIES = {
    "binary_f": tuple(f for f, _, _ in BINARY.values() if f),
    "binary_i": tuple(i for _, i, _ in BINARY.values() if i),
    "binary_b": tuple(b for _, _, b in BINARY.values() if b),
    "compare": tuple(COMPARE.values()),
    "unary_f": tuple(f for f, _ in UNARY.values() if f),
    "unary_i": tuple(i for _, i in UNARY.values() if i) + ("!x0",),
    "predicate_f": tuple(f for f, _ in PREDICATE.values()),
    "predicate_i": tuple(i for _, i in PREDICATE.values()),
}
#: the helper functions (``cl/`` files) of a family's expressions
_HELPERS = {"binary_i": "divide_int.cl", "binary_f": "divide_float.cl"}


_FAMILY_CACHE = {}


def _family(name, c):
    """The family ``name`` with C_T replaced by the compute type ``c`` (cached)."""
    family = _FAMILY_CACHE.get((name, c))
    if family is None:
        family = _FAMILY_CACHE[(name, c)] = tuple(dict.fromkeys(e.replace("C_T", c) for e in _FAMILIES[name]))
    return family


def _binary_plan(name, dt, device):
    """(expr, family, helpers, compute type, operand dtype, result dtype) of the binary op
    ``name`` on operands promoted to ``dt``."""
    fexpr, iexpr, bexpr = BINARY[name]
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
    helpers = codegen.helper_source(_HELPERS[family], c) if family in _HELPERS else ""
    return expr, _family(family, c), helpers, c, dt, dt


def _compare_plan(name, dt, device):
    """:func:`_binary_plan` of the comparison ``name`` (a boolean result)."""
    c = compute_type(dt)
    return COMPARE[name], _family("compare", c), "", c, dt, _BOOL


def _unary_plan(name, dt, device):
    """(expr, family, compute type, result dtype) of the unary op ``name`` on ``dt``."""
    fexpr, iexpr = UNARY[name]
    expr, family = fexpr, "unary_f"
    if dt.kind in "biu":
        if iexpr is None:
            dt = float_dtype(device)
        else:
            expr, family = iexpr, "unary_i"
    if expr is None:
        raise TypeError(f"{name} is not defined for {dt}")
    if dt.kind == "b" and name == "bitwise_invert":
        expr = "!x0"
    c = compute_type(dt)
    return expr.replace("C_T", c), _family(family, c), c, dt


def _predicate_plan(name, dt, device):
    """:func:`_unary_plan` of the predicate ``name`` (a boolean result)."""
    fexpr, iexpr = PREDICATE[name]
    floating = dt.kind == "f"
    family = _family("predicate_f" if floating else "predicate_i", "")
    return fexpr if floating else iexpr, family, compute_type(dt), _BOOL


# -- repeated launches ---------------------------------------------------------------------------
# An element-wise function whose first operand is an array repeats, once seen, the launch of an
# earlier call with the same dtypes and layouts (or the same Python scalar type as second
# operand) with its own buffers and scalar: each function caches its launches per (dtypes,
# shapes, strides, offsets), with the kernel, sizes, layout buffer and result layout, so the
# repeated path builds one key, makes the result and launches.


def _remember(launches, key, launch, out, scalar):
    """Cache the ``launch`` of ``map_launch`` that made ``out`` under ``key``; ``scalar`` is
    None (array operands only), else (pack character, conversion of a later call's scalar)."""
    if len(launches) > 4096:
        launches.clear()
    kern, global_size, buffers, scalars = launch
    layout = (out.shape, out.strides, out.dtype, out.storage.nbytes)
    launches[key] = (out.storage.device, kern, global_size, scalars[2], buffers[-1], layout, scalar)


def _repeat(launch, x1, x2):
    """Repeat a cached launch on the array ``x1`` and ``x2``: an array, a scalar, or None (one operand)."""
    device, kern, global_size, n, meta, layout, scalar = launch
    out = result(device, *layout)
    if scalar is not None:
        pack, convert = scalar
        value = x2 if convert is None else convert(x2)
        buffers = (1, out.storage.buffer, 2, x1.storage.buffer, 4, meta)
        device.run(kern, global_size, buffers, (0, _LONG, n, 3, pack, value))
    elif x2 is None:
        device.run(kern, global_size, (1, out.storage.buffer, 2, x1.storage.buffer, 3, meta), (0, _LONG, n))
    else:
        buffers = (1, out.storage.buffer, 2, x1.storage.buffer, 3, x2.storage.buffer, 4, meta)
        device.run(kern, global_size, buffers, (0, _LONG, n))
    return out


def _two_operands(name, plan_of):
    """The element-wise function ``name`` of two operands (arrays or scalars, broadcast);
    ``plan_of(name, dt, device)`` gives its :func:`_binary_plan` for operands promoted to ``dt``."""
    plans = {}
    launches = {}

    def op(x1, x2, /):
        if type(x1) is CLArray:
            device = x1.storage.device
            t2 = type(x2)
            if t2 is CLArray:
                key = (x1.dtype, x1.shape, x1.strides, x1.offset, x2.dtype, x2.shape, x2.strides, x2.offset)
            else:
                key = (x1.dtype, x1.shape, x1.strides, x1.offset, t2)
            hit = launches.get(key)
            if hit is not None and hit[0] is device and (t2 is not CLArray or x2.storage.device is device):
                return _repeat(hit, x1, x2)
            if t2 is CLArray:
                dt = x1.dtype if x1.dtype == x2.dtype else result_type(x1, x2)
                shape = x1.shape if x1.shape == x2.shape else broadcast_shapes(x1.shape, x2.shape)
            else:
                dt = result_type(x1, x2)
                shape = x1.shape
        else:
            key = None
            dt = result_type(x1, x2)
            device, shape = x2.storage.device, x2.shape
        plan = plans.get((dt, device))
        if plan is None:
            plan = plans[(dt, device)] = plan_of(name, dt, device)
        expr, family, helpers, c, dt, out_dt = plan
        ops = [x1 if type(x1) is CLArray else dt.type(x1), x2 if type(x2) is CLArray else dt.type(x2)]
        out = result_for(shape, out_dt, device, ops)
        launch = map_launch(out, ops, expr, (c, c), helpers, family)
        if launch is None:
            return out
        device.run(*launch)
        if key is not None and (t2 is CLArray or (t2 in _WEAK and dt.kind in "fiu" and dt != _HALF)):
            # a later call's Python scalar: a float packs as it is, an int or bool takes the operands' type
            scalar = None if t2 is CLArray else (PACK[c], None if t2 is float and dt.kind == "f" else dt.type)
            _remember(launches, key, launch, out, scalar)
        return out

    op.__name__ = name
    return op


def _one_operand(name, plan_of):
    """The element-wise function ``name`` of one array; ``plan_of(name, dt, device)`` gives its
    :func:`_unary_plan` for an array of dtype ``dt``."""
    plans = {}
    launches = {}

    def op(x, /):
        device = x.storage.device
        key = (x.dtype, x.shape, x.strides, x.offset)
        hit = launches.get(key)
        if hit is not None and hit[0] is device:
            return _repeat(hit, x, None)
        plan = plans.get((x.dtype, device))
        if plan is None:
            plan = plans[(x.dtype, device)] = plan_of(name, x.dtype, device)
        expr, family, c, out_dt = plan
        out = result_for(x.shape, out_dt, device, (x,))
        launch = map_launch(out, [x], expr, [c], family=family)
        if launch is None:
            return out
        device.run(*launch)
        _remember(launches, key, launch, out, None)
        return out

    op.__name__ = name
    return op


def binary(name):
    """The array API function ``name`` of :data:`BINARY` (``add``, ``pow``, ...)."""
    return _two_operands(name, _binary_plan)


def compare(name):
    """The array API function ``name`` of :data:`COMPARE` (a boolean result)."""
    return _two_operands(name, _compare_plan)


def unary(name):
    """The array API function ``name`` of :data:`UNARY`."""
    return _one_operand(name, _unary_plan)


def predicate(name):
    """The array API function ``name`` of :data:`PREDICATE` (a boolean result)."""
    return _one_operand(name, _predicate_plan)


def where(condition, x1, x2, /):
    dt = result_type(x1, x2)
    device = device_of(condition, x1, x2)
    shape = broadcast_shapes(*(a.shape for a in (condition, x1, x2) if isinstance(a, CLArray)))
    c = compute_type(dt)
    ops = [condition, operand(x1, dt), operand(x2, dt)]
    return map_into(result_for(shape, dt, device, ops), ops, "x0 ? x1 : x2", ["uchar", c, c])


def astype(x, dtype, /, *, copy=True, device=None):
    """``x`` converted to ``dtype``; a copy is row-major (what the backend's own kernels read)."""
    return _converted(x, dtype, copy, empty)


def astype_in_order(x, dtype, /, *, copy=True, device=None):
    """The namespace's ``astype``: a copy keeps the order of ``x``'s dimensions, as NumPy's (``order='K'``)
    and PyTorch's copies (``sign``, ... of a transposed tensor stay transposed)."""
    return _converted(x, dtype, copy, lambda shape, dtype, device: result_for(shape, dtype, device, (x,)))


def _converted(x, dtype, copy, allocate):
    dtype = np.dtype(dtype)
    if dtype == x.dtype and not copy:
        return x
    if dtype == np.float64 and not x.device.supports_float64:
        raise TypeError(f"OpenCL device opencl:{x.device.index} does not support float64")
    return copy_into(allocate(x.shape, dtype, x.device), x)


def copy_into(out, value):
    """``out[...] = value`` (broadcast and cast to ``out``'s dtype)."""
    if isinstance(value, CLArray):
        if value.dtype == out.dtype == _HALF:  # the bits, as PyTorch copies: through float a NaN loses its payload
            map_into(out.bitcast(_INT16), [value.bitcast(_INT16)], "x0", [compute_type(_INT16)])
            return out
        return map_into(out, [value], "x0", [compute_type(value.dtype)])
    return map_into(out, [operand(value, out.dtype)], "x0", [compute_type(out.dtype)])


#: every function of the families, by name
FUNCTIONS = {
    **{name: binary(name) for name in BINARY},
    **{name: compare(name) for name in COMPARE},
    **{name: unary(name) for name in UNARY},
    **{name: predicate(name) for name in PREDICATE},
}
add, divide, less, greater_equal, logical_or, erf = (
    FUNCTIONS[n] for n in ("add", "divide", "less", "greater_equal", "logical_or", "erf")
)
