"""``interpolate(mode='bilinear' | 'bicubic')`` of uint8 images (and ``'lanczos'`` with ``antialias=True``),
in PyTorch's CPU integer arithmetic.

PyTorch resamples a uint8 image separably, the last axis first, in fixed point: each axis's
weights (computed in double, bicubic with ``A = -0.75``, taps past the border folded onto the edge
pixels; with ``antialias=True`` the antialiased weights of :mod:`.resample_antialias`) are scaled by ``2**precision`` and rounded to int16, where ``precision`` is the largest
that keeps the biggest weight below ``2**15``; an output pixel is
``clamp((sum(weight * pixel) + 2**(precision - 1)) >> precision, 0, 255)``, rounded back to uint8
after each axis. An axis whose size does not change is not resampled. The weight tables are
computed on the host (a few numbers per output row or column); the sums run on the input's device.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ... import dtypes
from ...tensor import Tensor, tensor
from .padding import take_axis
from .resample_antialias import antialias_taps, resized_axes

__all__ = ["resample_uint8"]

_CUBIC_A = -0.75  # PyTorch's uint8 bicubic without antialiasing (OpenCV's constant)


def _linear(x: float) -> float:
    x = abs(x)
    return 1.0 - x if x < 1.0 else 0.0


def _cubic(x: float) -> float:
    a, x = _CUBIC_A, abs(x)
    if x < 1.0:
        return ((a + 2) * x - (a + 3)) * x * x + 1
    if x < 2.0:
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return 0.0


_FILTERS: dict[str, tuple[int, Callable[[float], float]]] = {"bilinear": (2, _linear), "bicubic": (4, _cubic)}


def _source_scale(in_size: int, out_size: int, align_corners: bool, scale_factor: float | None) -> float:
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    return 1.0 / scale_factor if scale_factor is not None and scale_factor > 0 else in_size / out_size


def _float_weights(
    in_size: int, out_size: int, align_corners: bool, scale_factor: float | None, mode: str
) -> tuple[list[int], list[list[float]], float]:
    """The first source index and the ``taps`` double weights of every output position, and the
    largest weight met while folding the border taps (PyTorch's ``_compute_index_ranges_int16_weights``
    without antialiasing, before rounding)."""
    taps, kernel = _FILTERS[mode]
    support = taps // 2
    scale = _source_scale(in_size, out_size, align_corners, scale_factor)
    starts, rows, peak = [], [], 0.0
    for i in range(out_size):
        real = scale * i if align_corners else scale * (i + 0.5) - 0.5
        if mode == "bilinear" and real < 0:
            real = 0.0
        index = min(int(np.floor(np.float32(real))), in_size - 1)  # PyTorch's floorf
        lam = min(max(real - index, 0.0), 1.0)
        low = index - support + 1
        start = max(low, 0)
        size = min(max(min(index + support + 1, in_size) - start, 0), taps)
        row, slot = [0.0] * taps, 0
        for j in range(taps):  # taps beyond the border add to the edge pixel's weight
            if low + j <= 0:
                slot = 0
            elif low + j >= in_size - 1:
                slot = size - 1
            row[slot] += kernel(j + 1 - support - lam)
            peak = max(peak, row[slot])
            slot += 1
        starts.append(start)
        rows.append(row[:size] + [0.0] * (taps - size))
    return starts, rows, peak


def _axis_weights(
    in_size: int, out_size: int, align_corners: bool, scale_factor: float | None, mode: str, antialias: bool
) -> tuple[list[list[int]], list[list[int]], int]:
    """Per tap ``k``: the source index and the int16 weight of every output position, and the
    fixed-point precision (PyTorch's ``_compute_index_ranges_int16_weights``)."""
    if antialias:  # the double weights of the float path (padded taps weigh 0)
        index, weight, _ = antialias_taps(in_size, out_size, align_corners, scale_factor, mode, np.dtype(np.float64))
        indices, columns, peak = index.tolist(), weight.tolist(), float(weight.max())
    else:
        starts, rows, peak = _float_weights(in_size, out_size, align_corners, scale_factor, mode)
        indices = [[min(start + k, in_size - 1) for start in starts] for k in range(len(rows[0]))]
        columns = [list(column) for column in zip(*rows)]
    precision = 0
    while precision < 22 and int(0.5 + peak * (1 << (precision + 1))) < (1 << 15):
        precision += 1
    unit = 1 << precision
    weights = [[int(w * unit - 0.5) if w * unit < 0 else int(w * unit + 0.5) for w in column] for column in columns]
    return indices, weights, precision


def resample_uint8(
    input: Tensor,
    out_sizes: Sequence[int],
    scales: Sequence[float | None],
    mode: str,
    align_corners: bool,
    antialias: bool = False,
) -> Tensor:
    """``input`` (uint8, ``(N, C, H, W)``) resampled to ``out_sizes`` as PyTorch's CPU does it,
    with its antialiased filter (:mod:`.resample_antialias`) when ``antialias``."""
    out = input.clone()  # (a new tensor when no axis changes size, as PyTorch's copy)
    for axis, n_in, n_out, view in resized_axes(input.shape, out_sizes):
        indices, weights, precision = _axis_weights(n_in, n_out, align_corners, scales[axis - 2], mode, antialias)
        wide = out.to(dtypes.int32)
        total: Tensor = tensor(1 << (precision - 1), dtype=dtypes.int32, device=input.device)  # rounds the shift
        for index, weight in zip(indices, weights):
            picked = take_axis(wide, tensor(index, dtype=dtypes.int64, device=input.device)._data, axis)
            total = total + picked * tensor(weight, dtype=dtypes.int32, device=input.device).reshape(view)
        out = (total >> precision).clamp(0, 255).to(dtypes.uint8)
    return out
