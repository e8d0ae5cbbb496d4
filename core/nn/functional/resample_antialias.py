"""``interpolate(mode='bilinear' | 'bicubic' | 'lanczos', antialias=True)`` as PyTorch's CPU computes it.

PyTorch resamples separably, the last axis first, skipping an axis whose size does not
change. Along an axis with source step ``scale`` (``in / out``, ``1 / scale_factor``, or
``(in - 1) / (out - 1)`` with ``align_corners``), output ``i`` is centred on the source point
``center = scale * (i + 0.5)``; when downsampling (``scale >= 1``) the filter is stretched by
``scale``: its support becomes ``scale`` times the filter's half-width (1 for the triangle of
bilinear, 2 for the Keys cubic of bicubic, with ``A = -0.5`` as in Pillow, 3 for Lanczos-3's
``sinc(x) sinc(x / 3)``), and source pixel
``j`` in ``[trunc(center - support + 0.5), trunc(center + support + 0.5))`` gets the weight
``filter((j - center + 0.5) / scale)``; the weights of an output are normalised to sum to 1.

The weight tables are computed on the host in the input's precision, with PyTorch's roundings
(a few numbers per output row or column); the sums run on the input's device as gathers along
the axis (``take_axis``), so autograd gives the backward. Each output has at most
``2 * ceil(support) + 1`` taps; a tap past an output's window is masked out rather than
weighted by zero, so a non-finite pixel outside the window does not reach the output.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from ...ops.arithmetic import where
from ...tensor import Tensor, tensor
from .padding import take_axis

__all__ = ["antialias_taps", "resample_antialias", "resized_axes"]

_CUBIC_A = -0.5  # Keys' constant, which PyTorch (and Pillow) use for antialiased bicubic


def _triangle(x: np.ndarray) -> np.ndarray:
    x = np.abs(x)
    return np.where(x < 1, 1 - x, 0).astype(x.dtype)


def _cubic(x: np.ndarray) -> np.ndarray:
    a, x = x.dtype.type(_CUBIC_A), np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x < 1, near, np.where(x < 2, far, 0)).astype(x.dtype)


def _lanczos(x: np.ndarray) -> np.ndarray:  # Lanczos-3: sinc(x) sinc(x / 3) for |x| < 3
    return np.where(np.abs(x) < 3, np.sinc(x) * np.sinc(x / 3), 0).astype(x.dtype)


#: mode -> (the filter's width in source pixels at scale 1, the filter)
_FILTERS: dict[str, tuple[int, Callable[[np.ndarray], np.ndarray]]] = {
    "bilinear": (2, _triangle),
    "bicubic": (4, _cubic),
    "lanczos": (6, _lanczos),
}


def antialias_taps(
    in_size: int, out_size: int, align_corners: bool, scale_factor: float | None, mode: str, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per tap ``k`` (rows) and output position (columns): the source index, the weight and
    whether the tap lies in the output's window (PyTorch's ``_compute_index_ranges_weights``)."""
    real = dtype.type
    width, kernel = _FILTERS[mode]
    if align_corners:
        scale = real(in_size - 1) / real(out_size - 1) if out_size > 1 else real(0)
    elif scale_factor is not None and scale_factor > 0:
        scale = real(1.0 / scale_factor)
    else:
        scale = real(in_size) / real(out_size)
    stretch = float(scale) >= 1.0
    support = real(width * 0.5 * float(scale)) if stretch else real(width * 0.5)
    inverse = real(1.0 / float(scale)) if stretch else real(1.0)
    taps = math.ceil(support) * 2 + 1
    center = (float(scale) * (np.arange(out_size) + 0.5)).astype(dtype)
    # C++'s promotions: float - float, then + 0.5 in double, truncated toward zero
    low = np.maximum(((center - support).astype(np.float64) + 0.5).astype(np.int64), 0)
    high = np.minimum(((center + support).astype(np.float64) + 0.5).astype(np.int64), in_size)
    count = np.clip(high - low, 0, taps)
    index = np.arange(taps)[:, None] + low
    offset = ((index.astype(dtype) - center).astype(np.float64) + 0.5) * float(inverse)
    inside = np.arange(taps)[:, None] < count
    weight = np.where(inside, kernel(offset.astype(dtype)), real(0))
    total = np.zeros(out_size, dtype)
    for row in weight:  # in PyTorch's order
        total = total + row
    weight = np.where(total != 0, weight / np.where(total != 0, total, real(1)), weight).astype(dtype)
    return np.minimum(index, in_size - 1), weight, inside


def resized_axes(shape: Sequence[int], out_sizes: Sequence[int]) -> list[tuple[int, int, int, list[int]]]:
    """``(axis, in size, out size, view)`` of every spatial axis whose size changes, the last axis
    first (PyTorch's order); ``view`` reshapes a per-output-position vector to broadcast along the axis."""
    changed = []
    for axis in range(len(shape) - 1, 1, -1):
        if shape[axis] != out_sizes[axis - 2]:
            view = [1] * len(shape)
            view[axis] = out_sizes[axis - 2]
            changed.append((axis, shape[axis], out_sizes[axis - 2], view))
    return changed


def resample_antialias(
    input: Tensor, out_sizes: Sequence[int], scales: Sequence[float | None], mode: str, align_corners: bool
) -> Tensor:
    """``input`` (float32/float64, ``(N, C, H, W)``) resampled to ``out_sizes`` with PyTorch's
    antialiased ``mode`` ('bilinear', 'bicubic' or 'lanczos'); ``scales`` are the given scale factors
    or None."""
    out = input
    dtype = np.dtype(input._data.dtype)
    with input._backend.device_context(input._device.index):
        for axis, n_in, n_out, view in resized_axes(input.shape, out_sizes):
            indices, weights, inside = antialias_taps(n_in, n_out, align_corners, scales[axis - 2], mode, dtype)
            terms = []
            for index, weight, mask in zip(indices, weights, inside):
                picked = take_axis(out, tensor(index, device=input.device)._data, axis)
                if not mask.all():
                    picked = where(tensor(mask, device=input.device).reshape(view), picked, 0.0)
                terms.append(picked * tensor(weight, device=input.device).reshape(view))
            out = sum(terms[1:], terms[0])  # in tap order, as PyTorch sums
    return out
