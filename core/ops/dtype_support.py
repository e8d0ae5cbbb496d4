"""The element types PyTorch's CPU kernels are compiled for, and the error a missing one raises.

PyTorch instantiates each CPU kernel for a fixed group of dtypes (its ``AT_DISPATCH_*`` macros);
an input outside the group raises ``NotImplementedError('"<kernel>" not implemented for
'<Type>'')``. ember keeps the same groups, one rule for every backend, so that an op refuses
exactly what PyTorch refuses, with the same exception type and kernel name. An op checks its
input with a membership test (no allocation) and calls :func:`not_implemented` when it fails::

    if input.dtype not in FLOATING:
        not_implemented("leaky_relu_cpu", input.dtype)
"""

from __future__ import annotations

from typing import NoReturn

from .. import dtypes
from ..dtypes import dtype
from ..typeinfo import finfo

__all__ = [
    "FLOATING",
    "FLOATING_AND_HALF",
    "INTEGRAL",
    "ALL",
    "ALL_AND_BOOL",
    "TORCH_NAMES",
    "C_NAMES",
    "not_implemented",
    "check_castable",
    "check_random_bound",
    "check_limited_support",
    "refuse_limited",
    "UNSIGNED_WIDE",
    "FLOAT8",
    "GEMM_REFUSED",
]

#: ``AT_DISPATCH_FLOATING_TYPES``: float32 and float64
FLOATING: frozenset[dtype] = frozenset({dtypes.float32, dtypes.float64})
#: ``AT_DISPATCH_FLOATING_TYPES_AND2(Half, BFloat16)``: every floating type
FLOATING_AND_HALF: frozenset[dtype] = FLOATING | {dtypes.float16, dtypes.bfloat16}
#: ``AT_DISPATCH_INTEGRAL_TYPES``: the signed integers and uint8
INTEGRAL: frozenset[dtype] = frozenset({dtypes.uint8, dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64})
#: ``AT_DISPATCH_ALL_TYPES_AND2(Half, BFloat16)``: every type but bool
ALL: frozenset[dtype] = INTEGRAL | FLOATING_AND_HALF
#: ``AT_DISPATCH_ALL_TYPES_AND3(Bool, Half, BFloat16)``: every type
ALL_AND_BOOL: frozenset[dtype] = ALL | {dtypes.bool}

#: ember dtype -> PyTorch's ScalarType name, as its messages print it
TORCH_NAMES: dict[dtype, str] = {dtypes.as_dtype(name): torch for name, torch in dtypes.TORCH_SCALAR_NAMES.items()}

#: ember dtype -> the C type name some of PyTorch's messages print ("mask with dtype float")
C_NAMES: dict[dtype, str] = {
    dtypes.float16: "c10::Half", dtypes.bfloat16: "c10::BFloat16", dtypes.float32: "float", dtypes.float64: "double",
    dtypes.int8: "signed char", dtypes.int16: "short int", dtypes.int32: "int", dtypes.int64: "long int",
    dtypes.uint8: "unsigned char", dtypes.bool: "bool",
    dtypes.complex64: "c10::complex<float>", dtypes.complex128: "c10::complex<double>",
}  # fmt: skip


#: the element-wise ops PyTorch's CPU kernels compute for uint16/32/64 and for the float8 types (by
#: the op names :func:`ember.ops.operands.promote` receives; "scalar" is a number made a tensor)
_UNSIGNED_OPS = frozenset({"mul", "div", "eq", "ne", "bitwise_and", "bitwise_or", "bitwise_xor", "scalar"})
_FLOAT8_OPS = frozenset({"mul", "eq", "ne", "scalar"})
#: op name -> the kernel PyTorch names when it refuses one of these types (default: ``<op>_cpu``)
_REFUSING_KERNELS = {
    "add": "add_stub", "sub": "add_stub", "pow": "pow", "bitwise_left_shift": "lshift_cpu",
    "bitwise_right_shift": "rshift_cpu", "floor": "floor_vml_cpu", "ceil": "ceil_vml_cpu",
    "trunc": "trunc_vml_cpu", "round": "round_vml_cpu",
}  # fmt: skip
#: op name -> the kernel PyTorch names when it refuses a float8 type, where it differs: its vectorised
#: math library's functions, and the "reduced float" kernels of the 16-bit types
_FLOAT8_KERNELS = {
    **{op: f"{op}_vml_cpu" for op in (
        "acos", "asin", "atan", "cos", "erf", "erfc", "exp", "expm1", "log", "log10", "log1p", "log2",
        "sin", "sqrt", "tan", "tanh",
    )},
    "sigmoid": "sigmoid_cpu_reduced_float", "exp2": "exp2",
}  # fmt: skip


#: uint16/32/64 and the float8 types, for :func:`refuse_limited`
UNSIGNED_WIDE: frozenset[dtype] = frozenset(dtypes.unsigned_dtypes)
FLOAT8: frozenset[dtype] = frozenset(dtypes.float8_dtypes)
#: the limited-support types PyTorch's CPU matrix product (addmm) refuses: it multiplies the other float8 types
GEMM_REFUSED: frozenset[dtype] = UNSIGNED_WIDE | {dtypes.float8_e8m0fnu}


def refuse_limited(kernel: str, input: object, among: frozenset[dtype] = dtypes.limited_dtypes) -> None:
    """Raise PyTorch's ``NotImplementedError`` for ``kernel`` where the tensor ``input`` has one of the
    dtypes ``among`` (by default uint16/32/64 and the float8 types, for which PyTorch compiles few
    kernels); anything else, a non-tensor too (its op's own check reports it), passes.

    Example::

        >>> from ember.ops.dtype_support import refuse_limited, FLOAT8
        >>> refuse_limited("flip_cpu", ember.ones(2))
        >>> refuse_limited("sum_cpu", ember.ones(2, dtype=ember.uint32), among=FLOAT8)
        >>> refuse_limited("flip_cpu", ember.ones(2, dtype=ember.uint32))
        Traceback (most recent call last):
        ...
        NotImplementedError: "flip_cpu" not implemented for 'UInt32'
    """
    dt = getattr(input, "dtype", None)
    if dt in among:
        not_implemented(kernel, dt)


def check_limited_support(op: str, dt: dtype, number_operand: bool = False) -> None:
    """Raise PyTorch's ``NotImplementedError`` where it has no kernel of the element-wise op ``op`` for
    ``dt``, one of uint16/32/64 or a float8 type (the "limited support" types: multiplication,
    equality and the bitwise ops of the unsigned ones; multiplication of two float8 tensors and
    equality of float8). ``number_operand``: the second operand is a number or a 0-d tensor.

    Example::

        >>> from ember.ops.dtype_support import check_limited_support
        >>> check_limited_support("mul", ember.uint32)
        >>> check_limited_support("add", ember.uint32)
        Traceback (most recent call last):
        ...
        NotImplementedError: "add_stub" not implemented for 'UInt32'
    """
    if dt in dtypes.unsigned_dtypes:
        if op not in _UNSIGNED_OPS:
            not_implemented(_REFUSING_KERNELS.get(op, f"{op}_cpu"), dt)
    elif op not in _FLOAT8_OPS or op == "mul" and number_operand:  # float8 times a number: no kernel
        if number_operand and op in ("mul", "div"):  # the kernels of a 16-bit tensor and a number
            not_implemented(f"{op}_cpu_reduced_float", dt)
        not_implemented(_FLOAT8_KERNELS.get(op) or _REFUSING_KERNELS.get(op, f"{op}_cpu"), dt)


def not_implemented(kernel: str, dt: dtype) -> NoReturn:
    """Raise PyTorch's error for a kernel that has no instance for ``dt``.

    Args:
        kernel (str): the kernel name PyTorch prints (``"addmm_impl_cpu_"``).
        dt (dtype): the offending element type.

    Example::

        >>> from ember.ops.dtype_support import not_implemented
        >>> not_implemented("dot", ember.bool)
        Traceback (most recent call last):
        ...
        NotImplementedError: "dot" not implemented for 'Bool'
    """
    raise NotImplementedError(f"\"{kernel}\" not implemented for '{TORCH_NAMES[dt]}'")


def check_castable(result: dtype, target: dtype) -> None:
    """Raise PyTorch's error when a result of dtype ``result`` may not be written into a tensor of
    dtype ``target`` (an in-place op or ``out=``): floating into integer, or a number into bool.

    Args:
        result (dtype): the dtype the operation computes.
        target (dtype): the dtype of the tensor written to.

    Example::

        >>> from ember.ops.dtype_support import check_castable
        >>> check_castable(ember.int64, ember.float32)
        >>> check_castable(ember.float32, ember.int64)
        Traceback (most recent call last):
        ...
        RuntimeError: result type Float can't be cast to the desired output type Long
    """
    if result._category > target._category:
        raise RuntimeError(
            f"result type {TORCH_NAMES.get(result, result.name)} can't be cast to the desired output type "
            f"{TORCH_NAMES.get(target, target.name)}"
        )


def check_random_bound(name: str, value: int, dtype: dtypes.dtype) -> None:
    """PyTorch's check that a bound of ``random_`` (and ``randint``) fits ``dtype``: its range of finite
    values for a floating one; a complex dtype has no bound."""
    if dtype.is_complex:
        raise RuntimeError("check_random_bounds handles only integral, floating-point and boolean types")
    if dtype.is_floating_point:
        if not finfo(dtype).min <= value <= finfo(dtype).max:
            raise RuntimeError(f"{name} is out of bounds for {C_NAMES[dtype]}")
        return
    bits = 8 * dtype.itemsize
    low, high = (0, 1) if dtype is dtypes.bool else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    if not dtype.is_signed and dtype is not dtypes.bool:
        low, high = 0, (1 << bits) - 1
    if not low <= value <= high:
        raise RuntimeError(f"{name} is out of bounds for {C_NAMES[dtype]}")
