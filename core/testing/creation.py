"""``testing.make_tensor``: a random tensor of a given shape, dtype and device, as PyTorch's."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

from .. import dtypes
from ..ops.creation import empty, randint
from ..tensor import Tensor
from ..typeinfo import finfo, iinfo

__all__ = ["make_tensor"]


def _interval(low, high, dtype, lowest, highest, default_low, default_high, integral):
    """PyTorch's ``[low, high)`` for ``make_tensor``: defaults, checks, clamped to the dtype's range."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and not integral:
        warnings.warn(
            "Passing `low==high` to `torch.testing.make_tensor` for floating or complex types is deprecated since 2.1 "
            "and will be removed in 2.3. Use `torch.full(...)` instead.",
            FutureWarning,
            stacklevel=3,
        )
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest:
        raise ValueError(
            f"The value interval specified by `low` and `high` is [{low}, {high}), but {dtype} only supports "
            f"[{lowest}, {highest})"
        )
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    return (math.ceil(low), math.ceil(high)) if integral else (low, high)


def make_tensor(
    *shape: int | Sequence[int],
    dtype: dtypes.dtype,
    device: Any,
    low: float | None = None,
    high: float | None = None,
    requires_grad: bool = False,
    noncontiguous: bool = False,
    exclude_zero: bool = False,
    memory_format: Any = None,
) -> Tensor:
    r"""A tensor of ``shape`` filled with random values from ``[low, high)``, as PyTorch's
    (the values are ember's own random draws, not PyTorch's).

    Defaults: ``[-9, 9)`` for floating dtypes, ``[-9, 10)`` for integers (clamped to the dtype's
    range, so ``[0, 10)`` for ``uint8``), ``{False, True}`` for bool.

    Args:
        *shape: the shape, as integers or one sequence.
        dtype (ember.dtype): the dtype.
        device: the device.
        low, high (float, optional): the interval.
        requires_grad (bool): for floating dtypes. Default: ``False``.
        noncontiguous (bool): return a non-contiguous view (a slice of a wider tensor).
        exclude_zero (bool): replace zeros by the dtype's smallest positive value (1 for integers).
        memory_format: accepted (ember tensors are contiguous unless sliced).

    Example::

        >>> t = ember.testing.make_tensor(2, 3, dtype=ember.float32, device="cpu", low=0, high=1)
        >>> t.shape, bool(((t >= 0) & (t < 1)).all())
        (ember.Size([2, 3]), True)
    """
    if len(shape) == 1 and isinstance(shape[0], Sequence):
        shape = tuple(shape[0])
    dims = tuple(int(s) for s in shape)  # type: ignore[arg-type]
    if noncontiguous and memory_format is not None:
        raise ValueError(
            "The parameters `noncontiguous` and `memory_format` are mutually exclusive, but got "
            f"noncontiguous={noncontiguous} and memory_format={memory_format}"
        )
    integral = dtype is dtypes.bool or not (dtype.is_floating_point or dtype.is_complex)
    if requires_grad and integral:
        raise ValueError(
            f"`requires_grad=True` is not supported for boolean and integral dtypes, but got dtype={dtype}"
        )
    noncontiguous = noncontiguous and math.prod(dims) > 1
    if noncontiguous:
        dims = (*dims[:-1], 2 * dims[-1])
    if dtype is dtypes.bool:
        low, high = _interval(low, high, dtype, 0, 2, 0, 2, True)
        result = randint(int(low), int(high), dims, device=device).to(dtypes.bool)
    elif integral:
        info = iinfo(dtype)
        highest = info.max + (1 if dtype is not dtypes.int64 else 0)
        low, high = _interval(low, high, dtype, info.min, highest, -9, 10, True)
        result = randint(int(low), int(high), dims, dtype=dtype, device=device)
    else:
        info = finfo(dtype)
        low, high = _interval(low, high, dtype, info.min, info.max, -9, 9, False)
        result = empty(dims, dtype=dtype, device=device).uniform_(low, high)
    if noncontiguous:
        result = result[..., 1::2]
    if exclude_zero:
        result = result.masked_fill(result == 0, 1 if integral else finfo(dtype).tiny)
    if not integral:
        result.requires_grad_(requires_grad)
    return result
