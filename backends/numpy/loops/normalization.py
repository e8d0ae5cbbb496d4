"""Batch normalization's passes as compiled loops over ``(N, C, S)`` C-contiguous arrays (the
channels on axis 1, every other axis flattened into ``N`` before them and ``S`` after them; see
:mod:`.runtime`). A standardisation over trailing axes (layer, group and instance norm) is the same
with ``N = 1``: each row a channel.

The statistics are sums over a channel's ``N * S`` values in float64, in two passes (the mean, then
the centered squares), the channels split over the threads; their order is free
(``fastmath={"reassoc"}`` lets the sums run in vector lanes), which float64 leaves well below a
float32 rounding. The element-wise passes round each operation in the array's dtype, as the NumPy
kernels do: no fused multiply-add.
"""

from __future__ import annotations

from numba import njit, prange

__all__ = ["channel_moments", "normalize", "standardize", "channel_gradient_sums", "normalize_backward"]


@njit(parallel=True, nogil=True, cache=True, fastmath={"reassoc"})
def channel_moments(x, mean, var):
    """Each channel's mean and biased variance into ``mean[c]``, ``var[c]`` (float64)."""
    n, channels, s = x.shape
    count = n * s
    for c in prange(channels):
        total = 0.0
        for i in range(n):
            for j in range(s):
                total += x[i, c, j]
        centre = total / count
        squares = 0.0
        for i in range(n):
            for j in range(s):
                d = x[i, c, j] - centre
                squares += d * d
        mean[c] = centre
        var[c] = squares / count


@njit(parallel=True, nogil=True, cache=True)
def normalize(x, mean, invstd, scale, shift, y, xhat):
    """``xhat = (x - mean) * invstd`` and ``y = (x - mean) * scale + shift``, per channel (each ``(C,)`` in
    ``x``'s dtype)."""
    n, channels, s = x.shape
    for plane in prange(n * channels):
        i = plane // channels
        c = plane - i * channels
        centre, inverse, factor, offset = mean[c], invstd[c], scale[c], shift[c]
        for j in range(s):
            d = x[i, c, j] - centre
            y[i, c, j] = d * factor + offset
            xhat[i, c, j] = d * inverse


@njit(parallel=True, nogil=True, cache=True)
def standardize(x, mean, invstd, xhat):
    """``xhat = (x - mean) * invstd``, per channel (each ``(C,)`` in ``x``'s dtype)."""
    n, channels, s = x.shape
    for plane in prange(n * channels):
        i = plane // channels
        c = plane - i * channels
        centre, inverse = mean[c], invstd[c]
        for j in range(s):
            xhat[i, c, j] = (x[i, c, j] - centre) * inverse


@njit(parallel=True, nogil=True, cache=True, fastmath={"reassoc"})
def channel_gradient_sums(grad, xhat, sum_grad, sum_grad_xhat):
    """Each channel's ``sum(grad)`` and ``sum(grad * xhat)`` into ``sum_grad[c]``, ``sum_grad_xhat[c]``
    (float64)."""
    n, channels, s = grad.shape
    for c in prange(channels):
        total = 0.0
        products = 0.0
        for i in range(n):
            for j in range(s):
                g = float(grad[i, c, j])
                total += g
                products += g * xhat[i, c, j]
        sum_grad[c] = total
        sum_grad_xhat[c] = products


@njit(parallel=True, nogil=True, cache=True)
def normalize_backward(grad, xhat, coeff, mean_grad, scale, out):
    """``out = (xhat * coeff + grad - mean_grad) * scale``, per channel (each ``(C,)`` in ``grad``'s dtype)."""
    n, channels, s = grad.shape
    for plane in prange(n * channels):
        i = plane // channels
        c = plane - i * channels
        k, m, factor = coeff[c], mean_grad[c], scale[c]
        for j in range(s):
            out[i, c, j] = (xhat[i, c, j] * k + grad[i, c, j] - m) * factor
