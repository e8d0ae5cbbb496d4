"""The sum of a float16/bfloat16 NLL loss as PyTorch's CPU kernel adds it.

PyTorch's CPU ``nll_loss`` (and ``nll_loss2d``, which ``cross_entropy`` reaches too) reduces the
picked log-probabilities in the input's own type, through eight partial sums (a cascade): each
counted element is added to the first partial sum, rounding to the 16-bit type; at each counted
position divisible by ``16**(j + 1)`` partial sum ``j`` is added into partial sum ``j + 1`` and
cleared (``16`` is ``2**max(4, ceil(log2(n)) // 8)``); the result is the eight partial sums added
in order. An ignored position neither adds nor carries. A sum in float32 rounded once lands a unit
or two away from it in most batches, so the 16-bit reduction follows the same order here.
"""

from __future__ import annotations

import math
from typing import Any

from ... import dtypes

__all__ = ["cascade_sum"]

_LEVELS = 8


def cascade_sum(backend: Any, values: Any, counted: Any) -> Any:
    """The 0-d 16-bit sum of the 1-D native 16-bit ``values`` where the boolean ``counted`` holds,
    in the order and with the roundings of PyTorch's CPU ``nll_loss``.

    Example::

        >>> from ember.nn.functional.nll_cascade import cascade_sum
        >>> x = ember.full((300,), 1.01, dtype=ember.bfloat16)
        >>> backend = x._backend
        >>> counted = backend.xp.ones((300,), dtype=bool)
        >>> float(backend.to_host(cascade_sum(backend, x._data, counted)))  # float32, rounded once: 302.0
        304.0
    """
    xp = backend.xp
    narrow, wide = values.dtype, backend.native_dtype(dtypes.float32)
    count = values.shape[0]
    step = 1 << max(4, math.ceil(math.log2(count)) // _LEVELS if count > 1 else 0)
    positions = xp.nonzero(counted)[0]
    arrivals = xp.astype(xp.take(values, positions), wide)
    # position 0 carries alone through every level into the last partial sum, which adds it first
    first = positions == 0
    last_partial = xp.reshape(xp.sum(xp.where(first, arrivals, 0 * arrivals)), (1,))
    rest = xp.nonzero(xp.logical_not(first))[0]
    positions, arrivals = xp.take(positions, rest), xp.take(arrivals, rest)
    total = xp.zeros((), dtype=wide)
    for level in range(_LEVELS - 1):
        closing = xp.nonzero(xp.remainder(positions, step ** (level + 1)) == 0)[0]
        closed = closing.shape[0]
        ends = xp.concat([closing + 1, xp.asarray([arrivals.shape[0]], dtype=closing.dtype)])
        starts = xp.concat([xp.zeros((1,), dtype=closing.dtype), closing + 1])
        sums = _running_sums(backend, arrivals, starts, ends, narrow, wide)
        total = _rounded(xp, total + sums[closed], narrow, wide)  # this level's partial sum, added in order
        if not closed:
            break
        positions, arrivals = xp.take(positions, closing), sums[:closed]
    else:  # sums carried into the last partial sum, after position 0
        last_partial = xp.concat([last_partial, arrivals])
        ends = xp.asarray([last_partial.shape[0]], dtype=positions.dtype)
        last_partial = _running_sums(backend, last_partial, 0 * ends, ends, narrow, wide)
    return xp.astype(total + last_partial[0], narrow)


def _rounded(xp: Any, x: Any, narrow: Any, wide: Any) -> Any:
    return xp.astype(xp.astype(x, narrow), wide)


def _running_sums(backend: Any, values: Any, starts: Any, ends: Any, narrow: Any, wide: Any) -> Any:
    """For each segment ``values[starts[i]:ends[i]]`` its sum from 0, element by element, each step
    rounded to ``narrow`` (float32 arrays holding 16-bit values)."""
    xp = backend.xp
    longest = int(backend.to_host(xp.max(ends - starts)))
    index = xp.reshape(starts, (-1, 1)) + xp.reshape(xp.arange(longest, dtype=starts.dtype), (1, -1))
    inside = index < xp.reshape(ends, (-1, 1))
    zero = xp.zeros((), dtype=wide)
    # the segments as rows, padded with zeros, which leave a running sum as it is
    sums = xp.zeros(starts.shape, dtype=wide)
    if not longest:
        return sums
    rows = xp.where(inside, xp.take(values, xp.where(inside, index, 0 * index)), zero)
    for offset in range(longest):
        sums = _rounded(xp, sums + rows[:, offset], narrow, wide)
    return sums
