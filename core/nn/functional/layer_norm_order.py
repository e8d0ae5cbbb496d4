"""The float32 sums of a float16/bfloat16 layer norm's backward as PyTorch's CPU kernel adds them.

PyTorch registers its layer norm kernels without an AVX-512 variant, so on an AVX2 or AVX-512
machine its AVX2 kernel runs: a row of ``N`` 16-bit values is read in vectors of 16, each widened
into two float32 vectors of 8 lanes. Its row sums (``vec::map2_reduce_all``, ``map3_reduce_all``
and ``reduce_all`` for the reduced types, and the loop it writes out for float32 parameters) keep
two 8-lane accumulators, the first vector's products in them and each later vector's products added
lane by lane, fused with their last multiplication (the compiler contracts ``acc + x * y`` into one
``fma``); the tail of a row is added into the lanes it fills; the accumulators are added together
and their lanes halved into one sum (4 + 4, 2 + 2, 1 + 1). Rows of at most 8 values are added one
by one, rows of 9 to 15 fold the upper lanes into the lower ones and add these in order (the
float32-parameter loop halves them instead). A sum in another order lands a unit or two of float32
away, which a 16-bit gradient rounds the other way on about one element in 10**4.
"""

from __future__ import annotations

from typing import Any

from ...ops.reduced_precision import contracted_fma

__all__ = ["LANES", "lane_sums"]

#: the float32 lanes of the AVX2 kernel PyTorch's layer norm runs on x86 (and of its generic vectors)
LANES = 8


def lane_sums(backend: Any, p: Any, q: Any | None, halve_short: bool = False) -> Any:
    """The sums over the last axis of float32 ``p * q`` (``p`` alone where ``q`` is None), ``p`` of
    shape ``(M, N)`` and ``q`` broadcasting to it, in the order and with the roundings of PyTorch's
    AVX2 row sums of 16-bit values (see the module docstring); ``halve_short``: a row of 9 to 15
    values has its lanes halved into the sum (the float32-parameter loop) rather than added in
    order. Returns an ``(M,)`` float32 array."""
    xp = backend.xp
    m, n = p.shape
    if q is not None:
        q = xp.broadcast_to(q, p.shape)
    width = 2 * LANES
    if n == 0:
        return xp.zeros((m,), dtype=p.dtype)
    if n <= LANES:
        values = p if q is None else p * q
        return _in_order(xp, values)
    if n < width:  # one vector: its upper lanes added into the lower (fused there, after the product)
        low = p[:, :LANES] if q is None else p[:, :LANES] * q[:, :LANES]
        upper = p[:, LANES:]
        zeros = xp.zeros((m, width - n), dtype=p.dtype)
        if q is None:
            lanes = low + xp.concat([upper, zeros], axis=1)
        else:
            lanes = contracted_fma(
                backend, xp.concat([upper, zeros], axis=1), xp.concat([q[:, LANES:], zeros], axis=1), low
            )
        return _halved(lanes) if halve_short else _in_order(xp, lanes)
    cut = -(-n // width) * width
    if cut != n:  # zeros after the row: adding 0 (or 0 * 0) leaves a sum as it is
        zeros = xp.zeros((m, cut - n), dtype=p.dtype)
        p = xp.concat([p, zeros], axis=1)
        q = None if q is None else xp.concat([q, zeros], axis=1)
    acc = p[:, :width] if q is None else p[:, :width] * q[:, :width]
    for start in range(width, cut, width):
        chunk = slice(start, start + width)
        acc = acc + p[:, chunk] if q is None else contracted_fma(backend, p[:, chunk], q[:, chunk], acc)
    return _halved(acc[:, :LANES] + acc[:, LANES:])


def _in_order(xp: Any, values: Any) -> Any:
    total = values[:, 0]
    for j in range(1, values.shape[1]):
        total = total + values[:, j]
    return total


def _halved(lanes: Any) -> Any:
    while lanes.shape[1] > 1:
        half = lanes.shape[1] // 2
        lanes = lanes[:, :half] + lanes[:, half:]
    return lanes[:, 0]
