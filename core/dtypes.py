"""Tensor element types and PyTorch's type-promotion rules.

An ember ``dtype`` is a small immutable object; backends map it to their native
element type (``numpy.float32``, an OpenCL type name, ...). Promotion follows
PyTorch: categories ``bool < integer < floating < complex``; inside a category the
wider type wins (a complex type and a wider float meet in the wider complex type);
Python scalars and zero-dimensional tensors only raise the category, never the
width, of dimensioned tensors.
"""

from __future__ import annotations

import builtins as _builtins
import math as _math
import numbers as _numbers
import struct as _struct
from typing import Any

import numpy as np

__all__ = [
    "held_by",
    "dtype",
    "float16",
    "bfloat16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float8_e4m3fn",
    "float8_e5m2",
    "float8_e4m3fnuz",
    "float8_e5m2fnuz",
    "float8_e8m0fnu",
    "qint8",
    "quint8",
    "qint32",
    "quint4x2",
    "quint2x4",
    "bool",
    "complex64",
    "complex128",
    "cfloat",
    "cdouble",
    "half",
    "float",
    "double",
    "short",
    "int",
    "long",
    "get_default_dtype",
    "set_default_dtype",
    "promote_types",
    "all_dtypes",
    "limited_dtypes",
]

_builtin_bool = bool
_builtin_float = float
_builtin_int = int
_builtin_complex = complex


class dtype:  # noqa: N801 - the public name mirrors torch.dtype
    """An element type: ``ember.float32``, ``ember.int64``, ...

    Attributes:
        name: the NumPy-style name (``"float32"``).
        itemsize: bytes per element.
        is_floating_point: True for float16/32/64 and bfloat16.
        is_complex: True for complex64/128.
        is_signed: True for signed integer, floating and complex types.
    """

    __slots__ = (
        "name",
        "itemsize",
        "is_floating_point",
        "is_complex",
        "is_signed",
        "_category",
        "_rank",
        "_differentiable",
    )
    name: str
    itemsize: _builtin_int
    is_floating_point: _builtin_bool
    is_complex: _builtin_bool
    is_signed: _builtin_bool
    _differentiable: _builtin_bool  # floating or complex: autograd records the tensors of this type
    _category: _builtin_int
    _rank: _builtin_int

    def __init__(
        self, name: str, itemsize: _builtin_int, category: _builtin_int, rank: _builtin_int, is_signed: _builtin_bool
    ) -> None:
        self.name = name
        self.itemsize = itemsize
        self.is_floating_point = category == 2
        self.is_complex = category == 3
        self._differentiable = category >= 2
        self.is_signed = is_signed
        self._category = category
        self._rank = rank

    def __repr__(self) -> str:
        return f"ember.{self.name}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_by_name, (self.name,))

    def to_complex(self) -> dtype:
        """The complex type whose parts are this floating type (a complex type is its own).

        Raises:
            RuntimeError: for integer, bool and float8 types, as PyTorch; ``TypeError`` for ``float16``,
                whose complex type (``complex32``) ember does not have.

        Example::

            >>> ember.float64.to_complex()
            ember.complex128
        """
        if self.is_complex:
            return self
        if self is float16:
            raise TypeError("ember has no complex32 (ComplexHalf) dtype: the complex type of float16 is unsupported")
        if not self.is_floating_point or self in float8_dtypes:
            raise RuntimeError(f"Unknown Complex ScalarType for {TORCH_SCALAR_NAMES[self.name]}")
        return complex128 if self is float64 else complex64

    @property
    def abbr(self) -> str:
        """PyTorch's short name of the type: ``f32``, ``bf16``, ``u8``, ``b8``, ``f8e4m3fn``.

        Example::

            >>> ember.bfloat16.abbr, ember.complex64.abbr
            ('bf16', 'c64')
        """
        if self.name.startswith("float8_"):
            return "f8" + self.name[len("float8_") :]
        if self.name in ("bool", "bfloat16"):
            return {"bool": "b8", "bfloat16": "bf16"}[self.name]
        kind = "c" if self.is_complex else "f" if self.is_floating_point else "i" if self.is_signed else "u"
        return f"{kind}{8 * self.itemsize}"

    def to_real(self) -> dtype:
        """The floating type of a complex type's parts; any other type is returned as it is.

        Example::

            >>> ember.complex64.to_real()
            ember.float32
        """
        if self.is_complex:
            return float64 if self is complex128 else float32
        return self


bool = dtype("bool", 1, 0, 0, False)  # noqa: A001
uint8 = dtype("uint8", 1, 1, 1, False)
int8 = dtype("int8", 1, 1, 2, True)
int16 = dtype("int16", 2, 1, 3, True)
int32 = dtype("int32", 4, 1, 4, True)
int64 = dtype("int64", 8, 1, 5, True)
float16 = dtype("float16", 2, 2, 6, True)
bfloat16 = dtype("bfloat16", 2, 2, 6, True)
float32 = dtype("float32", 4, 2, 7, True)
float64 = dtype("float64", 8, 2, 8, True)
complex64 = dtype("complex64", 8, 3, 9, True)
complex128 = dtype("complex128", 16, 3, 10, True)
# PyTorch's "limited support" types: they convert, move and view, but most kernels refuse them and
# they promote with no other type (the ranks are never compared: promote_types raises first)
uint16 = dtype("uint16", 2, 1, 3, False)
uint32 = dtype("uint32", 4, 1, 4, False)
uint64 = dtype("uint64", 8, 1, 5, False)
float8_e4m3fn = dtype("float8_e4m3fn", 1, 2, 5, True)
float8_e5m2 = dtype("float8_e5m2", 1, 2, 5, True)
float8_e4m3fnuz = dtype("float8_e4m3fnuz", 1, 2, 5, True)
float8_e5m2fnuz = dtype("float8_e5m2fnuz", 1, 2, 5, True)
float8_e8m0fnu = dtype("float8_e8m0fnu", 1, 2, 5, False)
# the quantized types: only quantized tensors (:mod:`ember.quantized`) have them, which hold their
# integers in the underlying type (int8, uint8, int32; quint4x2 and quint2x4 pack 2 and 4 to a byte)
qint8 = dtype("qint8", 1, 1, 2, True)
quint8 = dtype("quint8", 1, 1, 1, False)
qint32 = dtype("qint32", 4, 1, 4, True)
quint4x2 = dtype("quint4x2", 1, 1, 1, False)
quint2x4 = dtype("quint2x4", 1, 1, 1, False)

half = float16
float = float32  # noqa: A001
double = float64
short = int16
int = int32  # noqa: A001
long = int64
cfloat = complex64
cdouble = complex128

all_dtypes = (bool, uint8, int8, int16, int32, int64, float16, float32, float64)
_BY_NAME = {d.name: d for d in all_dtypes}
_BY_NAME["bfloat16"] = bfloat16  # not in all_dtypes: a backend registers it only where it can hold it
#: the complex types; not in all_dtypes: a backend registers them only where it computes with them
complex_dtypes = (complex64, complex128)
_BY_NAME.update(complex64=complex64, complex128=complex128, cfloat=complex64, cdouble=complex128)
#: the wide unsigned integers and the 8-bit floating types; not in all_dtypes: a backend registers
#: them only where it can hold them, and most ops refuse them (:mod:`ember.ops.dtype_support`)
unsigned_dtypes = (uint16, uint32, uint64)
float8_dtypes = (float8_e4m3fn, float8_e5m2, float8_e4m3fnuz, float8_e5m2fnuz, float8_e8m0fnu)
limited_dtypes = frozenset(unsigned_dtypes + float8_dtypes)
_BY_NAME.update((d.name, d) for d in limited_dtypes)
#: the quantized types (not in all_dtypes: no backend holds them; a quantized tensor holds its integers)
quantized_dtypes = (qint8, quint8, qint32, quint4x2, quint2x4)
_BY_NAME.update((d.name, d) for d in quantized_dtypes)
#: dtype name -> PyTorch's ScalarType name, as its messages print it
TORCH_SCALAR_NAMES = {
    "float16": "Half", "bfloat16": "BFloat16", "float32": "Float", "float64": "Double",
    "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long", "uint8": "Byte", "bool": "Bool",
    "complex64": "ComplexFloat", "complex128": "ComplexDouble",
    "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64",
    "float8_e4m3fn": "Float8_e4m3fn", "float8_e5m2": "Float8_e5m2", "float8_e4m3fnuz": "Float8_e4m3fnuz",
    "float8_e5m2fnuz": "Float8_e5m2fnuz", "float8_e8m0fnu": "Float8_e8m0fnu",
    "qint8": "QInt8", "quint8": "QUInt8", "qint32": "QInt32", "quint4x2": "QUInt4x2", "quint2x4": "QUInt2x4",
}  # fmt: skip

#: the 16-bit floating types, which PyTorch's kernels accumulate in float32
narrow_float = (float16, bfloat16)
_BY_NAME.update(half=float16, float=float32, double=float64, short=int16, int=int32, long=int64)


def _by_name(name: str) -> dtype:
    return _BY_NAME[name]


def as_dtype(value: Any) -> dtype:
    """Return the ember dtype for ``value`` (an ember dtype, a name, a Python type or a NumPy dtype).

    The Python types name PyTorch's: ``float`` is ``float64`` (whatever the default dtype), ``complex``
    ``complex128``, ``int`` ``int64``."""
    if isinstance(value, dtype):
        return value
    # PyTorch reads the Python types as its double and long whatever the default dtype
    if value is _builtin_float:
        return float64
    if value is _builtin_complex:
        return complex128
    if value is _builtin_int:
        return int64
    if value is _builtin_bool:
        return bool
    name = getattr(value, "name", None) if not isinstance(value, str) else value
    if name is None:
        name = str(value)
    name = name.replace("torch.", "").replace("ember.", "")
    try:
        return _BY_NAME[name]
    except KeyError:
        if name in ("complex32", "chalf"):
            raise TypeError(
                f"unsupported dtype: {value!r} (ember has complex64 and complex128, no complex32)"
            ) from None
        raise TypeError(f"unsupported dtype: {value!r}") from None


_default_dtype = float32


def get_default_dtype() -> dtype:
    """The floating type of new tensors built from Python floats (``float32`` at start).

    Example::

        >>> ember.get_default_dtype()
        ember.float32
        >>> ember.tensor([1.5]).dtype
        ember.float32
    """
    return _default_dtype


def set_default_dtype(d: dtype) -> None:
    """Set the default floating dtype (``ember.float32`` or ``ember.float64``).

    Args:
        d (ember.dtype): the new default floating dtype.

    Example::

        >>> ember.set_default_dtype(ember.float64)
        >>> ember.tensor([1.5]).dtype
        ember.float64
        >>> ember.set_default_dtype(ember.float32)
    """
    global _default_dtype
    d = as_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating types are allowed, got {d}")
    _default_dtype = d


def promote_types(type1: dtype, type2: dtype) -> dtype:
    """The smallest dtype both ``type1`` and ``type2`` convert to without losing their category.

    Args:
        type1 (ember.dtype): the first dtype.
        type2 (ember.dtype): the second dtype.

    Example::

        >>> ember.promote_types(ember.int32, ember.float16)
        ember.float16
        >>> ember.promote_types(ember.uint8, ember.int8)
        ember.int16
    """
    if type1 is type2:
        return type1
    if type1 in quantized_dtypes or type2 in quantized_dtypes:
        raise RuntimeError(
            "promoteTypes with quantized numbers is not handled yet; figure out what the correct rules should be, "
            f"offending types: {TORCH_SCALAR_NAMES[type1.name]} {TORCH_SCALAR_NAMES[type2.name]}"
        )
    if type1 in limited_dtypes or type2 in limited_dtypes:
        return _promote_limited(type1, type2)
    if type1._category == 3 or type2._category == 3:  # complex64 with float64 meets in complex128
        return _promote_complex(type1, type2)
    if type1._rank == type2._rank == 6:  # float16 with bfloat16: neither holds the other
        return float32
    if type1._category != type2._category:
        return type1 if type1._category > type2._category else type2
    if type1 is uint8 or type2 is uint8:
        other = type2 if type1 is uint8 else type1
        if other is int8:
            return int16
    return type1 if type1._rank >= type2._rank else type2


def _promote_limited(a: dtype, b: dtype) -> dtype:
    """:func:`promote_types` of two different types, one of them uint16/32/64 or a float8 type:
    PyTorch promotes a wide unsigned type to a floating one only (not to a complex one), and a float8
    type to none."""
    names = f"{TORCH_SCALAR_NAMES[a.name]} and {TORCH_SCALAR_NAMES[b.name]}"
    if a in float8_dtypes or b in float8_dtypes:
        raise RuntimeError(f"Promotion for Float8 Types is not supported, attempted to promote {names}")
    if a.is_floating_point or b.is_floating_point:
        return a if a.is_floating_point else b
    raise RuntimeError(f"Promotion for uint16, uint32, uint64 types is not supported, attempted to promote {names}")


def _promote_complex(a: dtype, b: dtype) -> dtype:
    """:func:`promote_types` where one of ``a``, ``b`` is complex: the complex type whose parts
    hold the wider of the real widths (a float16 or bfloat16 part widens to float32)."""
    widest = promote_types(a.to_real(), b.to_real())
    return complex128 if widest is float64 else complex64


def default_complex_dtype() -> dtype:
    """The complex type of the default floating type (``complex64`` for ``float32``)."""
    return complex128 if _default_dtype is float64 else complex64


def scalar_dtype(value: object) -> dtype:
    """The dtype a Python scalar takes on its own (bool, int64, the default float or its complex type)."""
    kind = type(value)  # a Python float or int first, without the checks against the numbers ABCs
    if kind is float:
        return get_default_dtype()
    if kind is int:
        return int64
    if isinstance(value, _builtin_bool):
        return bool
    if isinstance(value, _numbers.Integral):  # Python and NumPy integers
        return int64
    if isinstance(value, _numbers.Complex) and not isinstance(value, _numbers.Real):
        return default_complex_dtype()
    return get_default_dtype()


def result_type(dims: list[dtype], zero_dims: list[dtype], scalars: list[dtype]) -> dtype:
    """PyTorch's promotion across dimensioned tensors, zero-dim tensors and Python scalars.

    Each argument is a list of dtypes of one priority class; the result takes the
    widest type of the highest-priority class, unless a lower class has a higher
    category, in which case that class's type (a scalar's default type) wins; a complex
    lower class over a floating result gives that float's complex type, as PyTorch.
    """
    result = None
    for group in (dims, zero_dims, scalars):
        if not group:
            continue
        best = group[0]
        for d in group[1:]:
            best = promote_types(best, d)
        if result is None:
            result = best
        elif best._category == 3 and result._category < 3:
            result = result.to_complex() if result._category == 2 else best
        elif best._category > result._category:  # PyTorch promotes the two (refused for most limited types)
            result = promote_types(result, best) if result in limited_dtypes or best in limited_dtypes else best
    return result  # type: ignore[return-value]  # callers pass at least one dtype


def host_dtype(d: dtype) -> np.dtype:
    """The NumPy dtype that holds ``d`` on the host (``bfloat16`` and the float8 types through ``ml_dtypes``).

    Raises:
        TypeError: for ``bfloat16`` or a float8 type where ``ml_dtypes`` is not installed.

    Example::

        >>> ember.dtypes.host_dtype(ember.float32), ember.dtypes.host_dtype(ember.bfloat16)
        (dtype('float32'), dtype(bfloat16))
    """
    if d is bfloat16 or d in float8_dtypes:
        native = ml_dtypes_type(d)
        if native is None:
            raise TypeError(f"ember.{d.name} on the host needs the ml_dtypes package (pip install ml_dtypes)")
        return np.dtype(native)
    return np.dtype(d.name)


def rounded_to_float8(array: np.ndarray, d: dtype) -> np.ndarray:
    """The host ``array`` as the float8 type ``d``, rounded and saturated as PyTorch's cast
    (:func:`ember.float8.to_float8`); an array of that type already is returned as it is."""
    from .float8 import to_float8

    target = host_dtype(d)
    return array if array.dtype == target else to_float8(array, target)


def ml_dtypes_type(d: dtype) -> Any:
    """NumPy's type for ``d`` (bfloat16, a float8 type) from ``ml_dtypes`` (imported on first use), or
    None when it is absent."""
    try:
        import ml_dtypes
    except ImportError:
        return None
    return getattr(ml_dtypes, d.name)


_native_dtype_names: dict[Any, str] = {}


def native_dtype_name(dtype: Any) -> str:
    """The name of a native (NumPy-style) array dtype, ``dtype.name``, remembered per dtype.

    NumPy works a dtype's ``name`` out in Python on every read (about 5 us, as long as a small
    operation): a backend's per-operation dtype checks read it here instead (a dictionary lookup).

    Args:
        dtype: a ``numpy.dtype`` (CuPy's and PyOpenCL's arrays have them too).

    Example::

        >>> import numpy as np
        >>> ember.dtypes.native_dtype_name(np.dtype(np.float32))
        'float32'
    """
    name = _native_dtype_names.get(dtype)
    if name is None:
        name = _native_dtype_names[dtype] = dtype.name
    return name


def numpy_bfloat16() -> Any:
    """NumPy's bfloat16 type from ``ml_dtypes`` (imported on first use), or None when it is absent."""
    return ml_dtypes_type(bfloat16)


_FLOAT32_BYTES = _struct.Struct("f")
_FLOAT32_MAX = 3.4028234663852886e38


def held_by(number: Any, d: dtype) -> _builtins.float:
    """The real ``number`` as float32 ``d`` holds it (rounded to nearest, without making a tensor),
    or as a Python float for float64; PyTorch's RuntimeError for a finite number beyond float32's range,
    as its scalar arguments raise it.

    Example::

        >>> ember.dtypes.held_by(0.1, ember.float32)
        0.10000000149011612
    """
    if d is not float32:
        return _builtins.float(number)
    if _math.isfinite(number) and _builtins.abs(number) > _FLOAT32_MAX:
        raise RuntimeError("value cannot be converted to type float without overflow")
    return _FLOAT32_BYTES.unpack(_FLOAT32_BYTES.pack(number))[0]
