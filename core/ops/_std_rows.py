"""libstdc++'s ``std::sort`` and ``std::nth_element``, and TH's quickselect, run on many rows at once with NumPy
array operations: the arrangement they leave, worked out level by level over every row instead of one Python
comparison at a time (the algorithms of :mod:`._std_select`, which stay the reference and do the rare
heap fallbacks past the depth limit).

The rows are integer ranks (``less`` is ``<`` on them), carried with the positions they came from. Each
level partitions all the ranges of all the rows that are still longer than the algorithm's insertion
threshold: the median of three moved to the front, then Hoare's partition, which pairs the ``t``-th
element from the left that is not less than the pivot with the ``t``-th from the right that is not
greater, and swaps the pairs until they cross. ``std::sort`` and ``std::nth_element`` end with an insertion
sort, which is stable, so the final order of ``std::sort`` is a stable sort of the partitioned row."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._std_select import heap_select, partial_sort

__all__ = ["dense_ranks", "nth_element_rows", "quickselect_rows", "sort_rows"]

#: ``std::sort`` leaves ranges up to this long to its final insertion sort
_SORT_THRESHOLD = 16
#: ``std::nth_element`` sorts ranges up to this long by insertion
_SELECT_THRESHOLD = 3


def dense_ranks(values: np.ndarray, descending: bool) -> np.ndarray:
    """Integer ranks of the rows of ``values`` (2-D) under PyTorch's comparators: equal values (``-0.0`` and
    ``0.0``, and every NaN) one rank, NaN above every number; negated when ``descending``."""
    order = np.argsort(values, axis=1, kind="stable")  # NumPy sorts NaN last too
    ordered = np.take_along_axis(values, order, axis=1)
    new = ordered[:, 1:] != ordered[:, :-1]
    if values.dtype.kind == "f":
        new &= ~(np.isnan(ordered[:, 1:]) & np.isnan(ordered[:, :-1]))
    steps = np.zeros(values.shape, dtype=np.int64)
    steps[:, 1:] = new
    ranks = np.empty_like(steps)
    np.put_along_axis(ranks, order, np.cumsum(steps, axis=1), axis=1)
    return -ranks if descending else ranks


def _depth_limit(n: int) -> int:
    """How many partition levels introsort and introselect take before their heap fallback."""
    return 2 * (n.bit_length() - 1)


def _swap(a: np.ndarray, pos: np.ndarray, i: np.ndarray, j: np.ndarray) -> None:
    """Swap the elements at the flat offsets ``i`` and ``j`` of ``a`` and ``pos`` (disjoint pairs)."""
    for x in (a, pos):
        held = x[i]
        x[i] = x[j]
        x[j] = held


def _starts(sizes: np.ndarray) -> np.ndarray:
    return np.cumsum(sizes) - sizes


def _partition(a: np.ndarray, pos: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """``std::__unguarded_partition_pivot`` of the ranges ``[first, last)`` of the flat rows ``a`` and ``pos``
    (each range longer than 3 and within one row, the ranges disjoint), in place; returns each range's cut."""
    mid = first + (last - first) // 2
    i, j, k = first + 1, mid, last - 1
    ai, aj, ak = a[i], a[j], a[k]
    pick = np.where(
        ai < aj,
        np.where(aj < ak, j, np.where(ai < ak, k, i)),
        np.where(ai < ak, i, np.where(aj < ak, k, j)),
    )
    _swap(a, pos, first, pick)
    pivot = a[first]
    start = first + 1
    sizes = last - start
    offsets = _starts(sizes)
    cols = np.arange(int(sizes.sum())) + np.repeat(start - offsets, sizes)
    values, pivots = a[cols], np.repeat(pivot, sizes)
    ge, le = values >= pivots, values <= pivots
    ge_cols, le_cols = cols[ge], cols[le]  # each range's stops, ascending, range after range
    n_ge, n_le = np.add.reduceat(ge, offsets, dtype=np.int64), np.add.reduceat(le, offsets, dtype=np.int64)
    ge_start, le_start = _starts(n_ge), _starts(n_le)
    # pair the t-th stop from the left with the t-th from the right; they swap until they cross (the median of
    # three leaves one of each in every range)
    pairs = np.minimum(n_ge, n_le)
    pair_offsets = _starts(pairs)
    t = np.arange(int(pairs.sum())) - np.repeat(pair_offsets, pairs)
    left = ge_cols[np.repeat(ge_start, pairs) + t]
    right = le_cols[np.repeat(le_start + n_le - 1, pairs) - t]
    swapped = left < right
    _swap(a, pos, left[swapped], right[swapped])
    done = np.add.reduceat(swapped, pair_offsets, dtype=np.int64)
    # the left scan after the last swap stops at the next stop of the original row, or at the element the
    # last swap put in place (not less than the pivot), whichever comes first
    beyond = np.iinfo(np.int64).max
    next_left = np.where(done < n_ge, ge_cols[np.minimum(ge_start + done, len(ge_cols) - 1)], beyond)
    last_right = np.where(done > 0, le_cols[np.minimum(le_start + n_le - done, len(le_cols) - 1)], beyond)
    return np.minimum(next_left, last_right)


def _rearranged(a: np.ndarray, pos: np.ndarray, first: int, last: int, algorithm: Callable[[list], None]) -> None:
    """Run one of :mod:`._std_select`'s algorithms (``algorithm(items)``) on the flat range ``[first, last)``."""
    items = list(zip(a[first:last].tolist(), pos[first:last].tolist()))
    algorithm(items)
    a[first:last] = [v for v, _ in items]
    pos[first:last] = [j for _, j in items]


def _less(x: tuple, y: tuple) -> bool:
    return x[0] < y[0]


def _flat(ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat copies of ``ranks`` and of the positions, and each row's flat offset."""
    count, n = ranks.shape
    a = ranks.reshape(-1).copy()
    pos = np.tile(np.arange(n, dtype=np.int64), count)
    return a, pos, np.arange(count, dtype=np.int64) * n


def sort_rows(ranks: np.ndarray) -> np.ndarray:
    """The positions in the order ``std::sort`` leaves each row of ``ranks`` (2-D integers, ``<`` the order)."""
    count, n = ranks.shape
    a, pos, first = _flat(ranks)
    if n > _SORT_THRESHOLD:
        last = first + n
        depth = _depth_limit(n)
        while len(first):
            if depth == 0:
                for f, l in zip(first.tolist(), last.tolist()):
                    _rearranged(a, pos, f, l, lambda items: partial_sort(items, 0, len(items), len(items), _less))
                break
            depth -= 1
            cut = _partition(a, pos, first, last)
            first, last = np.concatenate((first, cut)), np.concatenate((cut, last))
            long = last - first > _SORT_THRESHOLD
            first, last = first[long], last[long]
    a, pos = a.reshape(count, n), pos.reshape(count, n)
    order = np.argsort(a, axis=1, kind="stable")  # the final insertion sort
    return np.take_along_axis(pos, order, axis=1)


def nth_element_rows(ranks: np.ndarray, nth: int) -> tuple[np.ndarray, np.ndarray]:
    """The ranks and positions in the arrangement ``std::nth_element(begin, begin + nth, end)`` leaves each row
    of ``ranks`` (2-D integers, ``<`` the order)."""
    count, n = ranks.shape
    a, pos, base = _flat(ranks)
    first, last = base.copy(), base + n
    depth = _depth_limit(n)
    active = last - first > _SELECT_THRESHOLD
    while active.any():
        if depth == 0:
            for f, l, b in zip(first[active].tolist(), last[active].tolist(), base[active].tolist()):
                _rearranged(a, pos, f, l, lambda items, at=b + nth - f: _heap_select_nth(items, at))
            first[active] = last[active]  # done: nothing left to insertion-sort
            break
        depth -= 1
        cut = _partition(a, pos, first[active], last[active])
        right = cut <= base[active] + nth
        live = np.flatnonzero(active)
        first[live[right]] = cut[right]
        last[live[~right]] = cut[~right]
        active = last - first > _SELECT_THRESHOLD
    # the final insertion sort of each row's range [first, last) (at most 3 long): stable
    for width in range(2, _SELECT_THRESHOLD + 1):
        sel = last - first == width
        if sel.any():
            cols = first[sel, None] + np.arange(width)
            order = np.argsort(a[cols], axis=1, kind="stable")
            a[cols], pos[cols] = (
                np.take_along_axis(a[cols], order, axis=1),
                np.take_along_axis(pos[cols], order, axis=1),
            )
    return a.reshape(count, n), pos.reshape(count, n)


def _heap_select_nth(items: list, nth: int) -> None:
    """Introselect's fallback past its depth limit: ``std::__heap_select`` up to ``nth`` and the swap."""
    heap_select(items, 0, nth + 1, len(items), _less)
    items[0], items[nth] = items[nth], items[0]


def quickselect_rows(ranks: np.ndarray, k: int) -> np.ndarray:
    """The position TH's quickselect (PyTorch's CPU ``kthvalue``) returns for the ``k``-th smallest (counting from
    0) of each row of ``ranks`` (2-D integers): Sedgewick's partitioning around the median of the first, the
    middle (swapped next to the first) and the last element, scanned from both ends until the scans cross."""
    count, n = ranks.shape
    a, pos, base = _flat(ranks)
    left, right, nth = base.copy(), base + n - 1, base + k
    active = np.flatnonzero(right - left > 1)
    while len(active):
        lo, hi = left[active], right[active]
        _swap(a, pos, (lo + hi - 2 * base[active]) // 2 + base[active], lo + 1)
        for i, j in ((lo + 1, hi), (lo, hi), (lo + 1, lo)):
            wrong = a[i] > a[j]
            _swap(a, pos, i[wrong], j[wrong])
        pivot = a[lo]
        # i scans [lo + 2, hi] for an element not less than the pivot, j scans [lo + 1, hi - 1] down for one not
        # greater; they swap (an element with itself where they meet on one equal to the pivot) until j < i
        sizes = hi - lo
        ranges = np.arange(len(active))
        seg = np.repeat(ranges, sizes)
        cols = np.arange(int(sizes.sum())) + np.repeat(lo + 1 - _starts(sizes), sizes)
        values, pivots = a[cols], np.repeat(pivot, sizes)
        ge = (values >= pivots) & (cols >= np.repeat(lo + 2, sizes))
        le = (values <= pivots) & (cols <= np.repeat(hi - 1, sizes))
        ge_cols, n_ge = cols[ge], np.bincount(seg[ge], minlength=len(active))
        le_cols, n_le = cols[le], np.bincount(seg[le], minlength=len(active))
        ge_start, le_start = _starts(n_ge), _starts(n_le)
        pairs = np.minimum(n_ge, n_le)
        pair_seg = np.repeat(ranges, pairs)
        t = np.arange(int(pairs.sum())) - np.repeat(_starts(pairs), pairs)
        up = ge_cols[ge_start[pair_seg] + t]
        down = le_cols[le_start[pair_seg] + n_le[pair_seg] - 1 - t]
        met = up <= down
        moved = met & (up < down)
        _swap(a, pos, up[moved], down[moved])
        done = np.bincount(pair_seg[met], minlength=len(active))
        # the scans' last stops: the original row's next stop, or an element a swap put in place
        last_up = _nth_of(up, pair_seg, done - 1, len(active), lo)  # (lo: none)
        last_down = _nth_of(down, pair_seg, done - 1, len(active), hi + 1)
        prev_up = _nth_of(up, pair_seg, done - 2, len(active), lo)
        prev_down = _nth_of(down, pair_seg, done - 2, len(active), hi + 1)
        beyond = np.iinfo(np.int64).max
        next_ge = np.where(done < n_ge, ge_cols[np.minimum(ge_start + done, len(ge_cols) - 1)], beyond)
        next_le = np.where(done < n_le, le_cols[np.minimum(le_start + n_le - 1 - done, len(le_cols) - 1)], -1)
        # a swapped pair put a not-less element at ``down`` and a not-greater one at ``up``: the next scan meets the
        # nearest such place beyond its start (the last pair's, unless it met on one element: the one before)
        i = np.minimum(next_ge, np.where(last_down > last_up, last_down, np.where(done > 1, prev_down, beyond)))
        j = np.maximum(next_le, np.where(last_up < last_down, last_up, np.where(done > 1, prev_up, -1)))
        _swap(a, pos, lo, j)
        target = nth[active]
        left[active] = np.where(j <= target, i, lo)
        right[active] = np.where(j >= target, j - 1, hi)
        active = active[right[active] - left[active] > 1]
    pair = np.flatnonzero(right - left == 1)  # two left: put in order
    wrong = pair[a[left[pair]] > a[right[pair]]]
    _swap(a, pos, left[wrong], right[wrong])
    return pos[nth]


def _nth_of(values: np.ndarray, seg: np.ndarray, t: np.ndarray, count: int, missing: np.ndarray) -> np.ndarray:
    """``values`` (grouped by range ``seg``, ``count`` ranges) at index ``t`` within each range; ``missing``
    where ``t`` is negative."""
    starts = _starts(np.bincount(seg, minlength=count))
    return np.where(t >= 0, values[np.clip(starts + t, 0, max(len(values) - 1, 0))], missing)
