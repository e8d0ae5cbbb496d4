"""The float32 mean and variance of float16/bfloat16 rows as PyTorch's CPU layer norm computes them.

PyTorch's CPU layer norm (``RowwiseMoments``, registered without an AVX-512 variant, so its AVX2
kernel runs on x86) reads a row of ``N`` 16-bit values in vectors of 16, each widened into two
float32 vectors of 8 lanes, and keeps a Welford mean and sum of squared deviations per lane:

- the vectors go in chunks of 16; within a chunk each half (lanes 0-7, then 8-15) runs its own Welford
  recurrence from zero (``m1 += (x - m1) / (j + 1)``, ``m2 += (x - m1_old) * (x - m1)``, both fused
  multiply-adds), and the two halves are merged in turn into the first slot of a stack;
- the chunks' slots merge pairwise as a binary counter does (a cascade: after chunk ``i``, slot ``j - 1``
  goes into slot ``j`` while ``i + 1`` has ``j`` trailing zero bits), and the slots left at the end go into
  the first one, the deeper ones first;
- the values after the last whole vector run a scalar Welford recurrence, into which the 8 lanes
  merge, one after the other. Its ``m2 += delta * (x - m1)`` is a fused multiply-add in the float16
  kernel and a product and a sum in the bfloat16 one (PyTorch 2.13's x86 build compiles the two so:
  measured, a float32 unit apart on about one row in ten otherwise).

A vector merge computes ``m1 + c * d`` and ``fma(d * n_acc, c * d, m2 + m2_add)`` (each product
rounded); a scalar one ``fma(c, d, m1)`` and ``m2 + fma(d * d * c, n_acc, m2_add)``, with
``c = n_add / (n_add + n_acc)`` and ``d = m1_add - m1``. The fused multiply-adds are single roundings on
an x86 build (:func:`ember.ops.reduced_precision.contracted_fma`). The variance is ``m2 / N``. Another
order lands a float32 unit or two away, which turns a 16-bit output or a saved bfloat16 statistic
about once in a few hundred rows.
"""

from __future__ import annotations

from typing import Any

from ... import dtypes
from ...ops.reduced_precision import contracted_fma
from .layer_norm_order import LANES

__all__ = ["rowwise_moments"]

#: the vectors of a chunk, each chunk's Welford recurrence starting afresh
_CHUNK = 16


def rowwise_moments(backend: Any, x: Any, low: dtypes.dtype) -> tuple[Any, Any]:
    """The mean and biased variance of each row of ``x``, a float32 ``(M, N)`` array of values of the
    16-bit type ``low``, in the order and with the roundings of PyTorch's CPU ``RowwiseMoments`` of such
    rows (see the module docstring). Returns two ``(M,)`` float32 arrays."""
    xp = backend.xp
    wide = backend.native_dtype(dtypes.float32)
    m, n = x.shape
    width = 2 * LANES
    vectors = n // width
    chunks = -(-vectors // _CHUNK)
    depth = 1 if chunks <= 2 else (chunks - 1).bit_length()  # PyTorch's CeilLog2
    zeros = xp.zeros((m, LANES), dtype=wide)
    stack = [(0, zeros, zeros) for _ in range(depth)]
    for i, halves in enumerate(_chunk_moments(backend, x[:, : vectors * width], vectors)):
        count = min(_CHUNK, vectors - i * _CHUNK)
        for mean, m2 in halves:
            stack[0] = _merge_vectors(backend, (count, mean, m2), stack[0])
        mask, level = i + 1, 1
        while level < depth and mask % 2 == 0:
            stack[level] = _merge_vectors(backend, stack[level - 1], stack[level])
            stack[level - 1] = (0, zeros, zeros)
            mask, level = mask // 2, level + 1
    for level in range(1, depth):
        stack[0] = _merge_vectors(backend, stack[level], stack[0])
    count, mean, m2 = 0, xp.zeros((m,), dtype=wide), xp.zeros((m,), dtype=wide)
    for j in range(vectors * width, n):
        value = x[:, j]
        delta = xp.subtract(value, mean)
        count += 1
        mean = xp.add(mean, xp.divide(delta, _float32(xp, wide, count)))
        spread = xp.subtract(value, mean)
        if low is dtypes.float16:
            m2 = contracted_fma(backend, delta, spread, m2)
        else:
            m2 = xp.add(m2, xp.multiply(delta, spread))
    _, lane_means, lane_m2s = stack[0]
    for lane in range(LANES):
        add = (2 * vectors, lane_means[:, lane], lane_m2s[:, lane])
        count, mean, m2 = _merge_scalars(backend, add, (count, mean, m2))
    return mean, xp.divide(m2, _float32(xp, wide, n))


def _chunk_moments(backend, body, vectors):
    """Each chunk's ``[(mean, m2), (mean, m2)]`` of its two halves, ``(M, LANES)`` arrays, in order: the
    Welford recurrence runs over the whole chunks at once, then over the shorter last one."""
    xp = backend.xp
    wide = body.dtype
    m = body.shape[0]
    whole = vectors // _CHUNK
    out = []
    for first, count, number in ((0, _CHUNK, whole), (whole, vectors % _CHUNK, 1 if vectors % _CHUNK else 0)):
        if not number:
            continue
        start = first * _CHUNK * 2 * LANES
        part = xp.reshape(body[:, start : start + number * count * 2 * LANES], (m, number, count, 2, LANES))
        mean = m2 = xp.zeros((m, number, 2, LANES), dtype=wide)
        for j in range(count):
            value = part[:, :, j]
            delta = xp.subtract(value, mean)
            mean = contracted_fma(backend, delta, _float32(xp, wide, 1.0 / (j + 1)), mean)
            m2 = contracted_fma(backend, delta, xp.subtract(value, mean), m2)
        out.extend([(mean[:, k, 0], m2[:, k, 0]), (mean[:, k, 1], m2[:, k, 1])] for k in range(number))
    return out


def _weight(xp, wide, add, acc):
    """``add / (add + acc)`` rounded to float32 (0 where both are 0): the share of the merged counts."""
    total = add + acc
    return _float32(xp, wide, add / total if total else 0.0)


def _merge_vectors(backend, add, acc):
    """``acc`` ``(count, mean, m2)`` with ``add`` merged in, as PyTorch's ``AddMomentsVec``."""
    xp = backend.xp
    (n_add, mean_add, m2_add), (n_acc, mean, m2) = add, acc
    c = _weight(xp, mean.dtype, n_add, n_acc)
    delta = xp.subtract(mean_add, mean)
    step = xp.multiply(c, delta)
    spread = xp.multiply(delta, _float32(xp, mean.dtype, n_acc))
    m2 = contracted_fma(backend, spread, step, xp.add(m2, m2_add))
    return n_add + n_acc, xp.add(mean, step), m2


def _merge_scalars(backend, add, acc):
    """``acc`` ``(count, mean, m2)`` with ``add`` merged in, as PyTorch's scalar ``AddMoments``."""
    xp = backend.xp
    (n_add, mean_add, m2_add), (n_acc, mean, m2) = add, acc
    c = _weight(xp, mean.dtype, n_add, n_acc)
    delta = xp.subtract(mean_add, mean)
    spread = xp.multiply(xp.multiply(delta, delta), c)
    spread = contracted_fma(backend, spread, _float32(xp, mean.dtype, n_acc), m2_add)
    return n_add + n_acc, contracted_fma(backend, delta, c, mean), xp.add(m2, spread)


def _float32(xp, wide, number):
    """``number`` rounded to float32, as a 0-d array (a quotient of small integers computed in float64 and
    rounded is the correctly rounded float32 quotient)."""
    return xp.asarray(number, dtype=wide)
