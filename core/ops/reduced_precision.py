"""float16 and bfloat16 inputs of accumulating ops are computed in float32 and rounded once.

PyTorch's kernels accumulate the 16-bit float types in float (``at::acc_type``): a softmax, a
layer norm or a variance of bfloat16 values reads them as float32, computes in float32 and rounds
the result to bfloat16 once. Computing in the 16-bit type instead rounds after every step and
drifts far from PyTorch's numbers (the variance of a bfloat16 row of 300 values was off by 6%).
:func:`computes_in_float32` gives an op written once, in the input's type, PyTorch's rule: the
casts are ordinary differentiable ops, so the gradient is computed in float32 too and arrives in
the input's type. Plain sums, products and means get the same rule inside the backend namespaces
(:func:`ember.primitives.build_namespace`), without the casts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from .. import dtypes
from ..amp.policy import cast_inputs
from ..amp.state import state as _amp

__all__ = ["CPU_DEVICE_TYPES", "computes_in_float32", "contracted_fma", "narrow_on_cpu", "opmath"]

#: the device types whose kernels refuse float16/bfloat16 where PyTorch's CPU kernels do, although
#: its CUDA kernels take them (elsewhere, ops compute those in float32)
CPU_DEVICE_TYPES = ("cpu", "restricted")

_Op = TypeVar("_Op", bound=Callable[..., Any])


def _round(result: Any, dtype: dtypes.dtype) -> Any:
    """``result`` (a tensor or a tuple of tensors, named or not) with its float32 tensors in ``dtype``."""
    if isinstance(result, tuple):
        rounded = [_round(item, dtype) for item in result]
        return type(result)(*rounded) if hasattr(result, "_fields") else type(result)(rounded)
    if getattr(result, "dtype", None) is dtypes.float32:
        return result.to(dtype)
    return result


def computes_in_float32(op: _Op) -> _Op:
    """``op`` with a float16/bfloat16 first argument computed in float32, its float results
    rounded back to the argument's type once; an explicit ``dtype=`` keeps the op's own rule, and
    so does an autocast region whose policy casts the op's input (``avg_pool3d`` in float32). An op
    whose policy entry is another op's, depending on the input, names it by an ``autocast_op(input)``
    attribute.

    Args:
        op: a function whose first argument is the tensor whose type sets the result's.

    Example::

        >>> from ember.ops.reduced_precision import computes_in_float32
        >>> spread = computes_in_float32(lambda x: (x - x.mean()).abs().sum())
        >>> x = ember.full((1000,), 1.0, dtype=ember.bfloat16)
        >>> spread(ember.cat([x, x + 1])).item()
        1000.0
    """

    name = op.__name__

    @functools.wraps(op)
    def run(input: Any, *args: Any, **kwargs: Any) -> Any:
        d = getattr(input, "dtype", None)
        # with ``out=``, the op's own out path calls ``run`` back without it and writes the rounded result
        if d in dtypes.narrow_float and kwargs.get("dtype") is None and kwargs.get("out") is None:
            policy_name = op.autocast_op(input) if hasattr(op, "autocast_op") else name
            if _amp.active and cast_inputs(policy_name, input)[0].dtype is not d:
                return op(input, *args, **kwargs)  # autocast's policy sets the op's type
            return _round(op(input.float(), *args, **kwargs), d)
        return op(input, *args, **kwargs)

    return run  # type: ignore[return-value]


def contracted_fma(backend: Any, a: Any, b: Any, c: Any) -> Any:
    """``a * b + c`` of float32 arrays (broadcast together) as PyTorch's vectorized CPU kernels compute
    it in their float32 arithmetic on 16-bit values: its x86 builds let the compiler contract a product
    added to a sum into one fused multiply-add, rounded once. Where the backend's kernels see no vector
    lanes (:attr:`ember.kernels.Kernels.VECTOR_LANES` 0: PyTorch's portable build, which does not
    contract), a product and a sum, each rounded (the backend's
    :meth:`~ember.kernels.Kernels.contracted_multiply_add`)."""
    return backend.kernels.contracted_multiply_add(a, b, c)


def narrow_on_cpu(input: Any) -> bool:
    """Whether ``input`` is a float16/bfloat16 tensor on a device of :data:`CPU_DEVICE_TYPES`: where an op
    whose PyTorch CPU kernel refuses those types refuses them too, instead of computing in float32.

    Example::

        >>> from ember.ops.reduced_precision import narrow_on_cpu
        >>> narrow_on_cpu(ember.ones(2, dtype=ember.float16)), narrow_on_cpu(ember.ones(2))
        (True, False)
    """
    dtype, device = getattr(input, "dtype", None), getattr(input, "device", None)
    return dtype in dtypes.narrow_float and device is not None and device.type in CPU_DEVICE_TYPES


#: the types PyTorch's element-wise kernels compute in float32: the 16-bit ones and float8 (the
#: products of float8 tensors, the one arithmetic it has for them)
_COMPUTED_IN_FLOAT32 = frozenset(dtypes.narrow_float + dtypes.float8_dtypes)


def _rounded_number(xp: Any, number: float, narrow: Any) -> Any:
    """``number`` rounded to the 16-bit type ``narrow``: one beyond float16's range becomes inf through the
    backend's cast, which says nothing (as PyTorch's), where NumPy's ``asarray`` would warn of the overflow."""
    if -65504.0 <= number <= 65504.0:  # within every 16-bit type's range (also False for NaN)
        return xp.asarray(number, dtype=narrow)
    return xp.astype(xp.asarray(number), narrow)


def opmath(like: Any, compute: Callable[..., Any], *operands: Any, round_numbers: bool = False) -> Any:
    """The native result of ``compute(*operands)`` as PyTorch's element-wise kernels compute a
    float16/bfloat16 (or float8) tensor ``like``: its native arrays among ``operands`` read in float32 (a
    Python number stays a number, not rounded to 16 bits first, unless ``round_numbers``: PyTorch
    keeps the number only in add, sub, mul and div), the result rounded to ``like``'s type once.
    For any other type, ``compute(*operands)`` as it is.

    Computing a formula in the 16-bit type instead rounds after every step: ``x * 0.37`` multiplied
    by 0.369140625 in bfloat16, GELU's ``1 + erf(x / sqrt 2)`` cancelled to 0 below x = -3.

    Example::

        >>> from ember.ops.reduced_precision import opmath
        >>> x = ember.tensor([0.5], dtype=ember.bfloat16)
        >>> backend = x._backend
        >>> ember.tensor(opmath(x, lambda a: backend.xp.multiply(a, 0.37), x._data)).item()
        0.1845703125
    """
    data = like._data
    if data.dtype.itemsize > 2 or like.dtype not in _COMPUTED_IN_FLOAT32:  # the itemsize first: the cheap test
        return compute(*operands)
    backend = like._backend
    xp, narrow, wide = backend.xp, data.dtype, backend.native_dtype(dtypes.float32)
    widened = [
        xp.astype(o, wide)
        if getattr(o, "dtype", None) == narrow
        else xp.astype(_rounded_number(xp, o, narrow), wide)
        if round_numbers and isinstance(o, (int, float))
        else o
        for o in operands
    ]
    return xp.astype(compute(*widened), narrow)
