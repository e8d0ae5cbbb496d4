"""The order in which PyTorch's CPU ``topk`` and ``sort`` leave equal elements: ``topk`` selects with the C++
standard library (GNU libstdc++, which PyTorch's Linux builds use): ``std::partial_sort`` when
``64 * k <= n``, else ``std::nth_element`` then, when ``sorted``, ``std::sort`` of the first ``k - 1``;
``sort(stable=False)`` and ``mode`` run ``std::sort``; ``kthvalue`` runs TH's quickselect. None is stable, so which of several equal elements are taken, and in which order, follows these
algorithms step by step; they are written out here on a Python list (slow: used only for the rows
where ties decide the result).

Each algorithm takes ``items``, a list rearranged in place, and ``less(a, b)``, the strict order."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

__all__ = [
    "TIED_ELEMENTS_LIMIT",
    "follows_cpu_kernels",
    "heap_select",
    "kthvalue_position",
    "mode_position",
    "partial_sort",
    "sort_order",
    "topk_order",
]

#: the most elements (over the rows where ties decide the result) whose order is worked out here, on the
#: host, per call (about 3 ms per thousand); beyond it the stable order stands, a valid order too, but not
#: PyTorch's among equal elements (a bfloat16 sort over a 128k vocabulary would take seconds)
TIED_ELEMENTS_LIMIT = 1 << 13


def follows_cpu_kernels(tensor: Any) -> bool:
    """Whether ``tensor`` lives on a host backend, whose reference is PyTorch's CPU kernels. On an accelerator
    PyTorch's kernels (radix sorts, bitonic selection) leave ties in other orders again, and finding the tied
    rows would cost a device sync per call."""
    return tensor._backend.on_host and not tensor.is_meta


Less = Callable[[Any, Any], bool]


def _lg(n: int) -> int:
    return n.bit_length() - 1


def _push_heap(a: list, first: int, hole: int, top: int, value: Any, less: Less) -> None:
    parent = (hole - 1) // 2
    while hole > top and less(a[first + parent], value):
        a[first + hole] = a[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    a[first + hole] = value


def _adjust_heap(a: list, first: int, hole: int, length: int, value: Any, less: Less) -> None:
    top = hole
    child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if less(a[first + child], a[first + child - 1]):
            child -= 1
        a[first + hole] = a[first + child]
        hole = child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        a[first + hole] = a[first + child - 1]
        hole = child - 1
    _push_heap(a, first, hole, top, value, less)


def _make_heap(a: list, first: int, last: int, less: Less) -> None:
    length = last - first
    if length < 2:
        return
    parent = (length - 2) // 2
    while True:
        _adjust_heap(a, first, parent, length, a[first + parent], less)
        if parent == 0:
            return
        parent -= 1


def _pop_heap(a: list, first: int, last: int, result: int, less: Less) -> None:
    value = a[result]
    a[result] = a[first]
    _adjust_heap(a, first, 0, last - first, value, less)


def heap_select(a: list, first: int, middle: int, last: int, less: Less) -> None:
    """``std::__heap_select``: a heap of the ``middle - first`` least elements in front (unsorted)."""
    _make_heap(a, first, middle, less)
    for i in range(middle, last):
        if less(a[i], a[first]):
            _pop_heap(a, first, middle, i, less)


def _sort_heap(a: list, first: int, last: int, less: Less) -> None:
    while last - first > 1:
        last -= 1
        _pop_heap(a, first, last, last, less)


def partial_sort(a: list, first: int, middle: int, last: int, less: Less) -> None:
    """``std::partial_sort``: the ``middle - first`` least elements, sorted, in front."""
    heap_select(a, first, middle, last, less)
    _sort_heap(a, first, middle, less)


def _move_median_to_first(a: list, result: int, i: int, j: int, k: int, less: Less) -> None:
    if less(a[i], a[j]):
        if less(a[j], a[k]):
            pick = j
        elif less(a[i], a[k]):
            pick = k
        else:
            pick = i
    elif less(a[i], a[k]):
        pick = i
    elif less(a[j], a[k]):
        pick = k
    else:
        pick = j
    a[result], a[pick] = a[pick], a[result]


def _unguarded_partition(a: list, first: int, last: int, pivot: int, less: Less) -> int:
    while True:
        while less(a[first], a[pivot]):
            first += 1
        last -= 1
        while less(a[pivot], a[last]):
            last -= 1
        if not first < last:
            return first
        a[first], a[last] = a[last], a[first]
        first += 1


def _unguarded_partition_pivot(a: list, first: int, last: int, less: Less) -> int:
    mid = first + (last - first) // 2
    _move_median_to_first(a, first, first + 1, mid, last - 1, less)
    return _unguarded_partition(a, first + 1, last, first, less)


def _unguarded_linear_insert(a: list, last: int, less: Less) -> None:
    value = a[last]
    nxt = last - 1
    while less(value, a[nxt]):
        a[last] = a[nxt]
        last = nxt
        nxt -= 1
    a[last] = value


def _insertion_sort(a: list, first: int, last: int, less: Less) -> None:
    if first == last:
        return
    for i in range(first + 1, last):
        if less(a[i], a[first]):
            value = a[i]
            a[first + 1 : i + 1] = a[first:i]
            a[first] = value
        else:
            _unguarded_linear_insert(a, i, less)


def nth_element(a: list, first: int, nth: int, last: int, less: Less) -> None:
    """``std::nth_element`` (introselect)."""
    if first == last or nth == last:
        return
    depth = _lg(last - first) * 2
    while last - first > 3:
        if depth == 0:
            heap_select(a, first, nth + 1, last, less)
            a[first], a[nth] = a[nth], a[first]
            return
        depth -= 1
        cut = _unguarded_partition_pivot(a, first, last, less)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(a, first, last, less)


def _introsort_loop(a: list, first: int, last: int, depth: int, less: Less) -> None:
    while last - first > 16:
        if depth == 0:
            partial_sort(a, first, last, last, less)
            return
        depth -= 1
        cut = _unguarded_partition_pivot(a, first, last, less)
        _introsort_loop(a, cut, last, depth, less)
        last = cut


def std_sort(a: list, first: int, last: int, less: Less) -> None:
    """``std::sort`` (introsort, then a final insertion sort)."""
    if first == last:
        return
    _introsort_loop(a, first, last, _lg(last - first) * 2, less)
    if last - first > 16:
        _insertion_sort(a, first, first + 16, less)
        for i in range(first + 16, last):
            _unguarded_linear_insert(a, i, less)
    else:
        _insertion_sort(a, first, last, less)


def _isnan(x: Any) -> bool:
    return x != x


def topk_order(values: list, k: int, largest: bool, sorted: bool) -> list[int]:  # noqa: A002 - PyTorch's name
    """The positions PyTorch's CPU ``topk`` returns for one row of ``values`` (Python numbers)."""
    less = _less(largest, values)
    n = len(values)
    queue = [(v, j) for j, v in enumerate(values)]
    if k == 0:
        return []
    if k * 64 <= n:
        partial_sort(queue, 0, k, n, less)
    else:
        nth_element(queue, 0, k - 1, n, less)
        if sorted:
            std_sort(queue, 0, k - 1, less)
    return [j for _, j in queue[:k]]


def _less(largest: bool, values: list) -> Less:
    """PyTorch's comparators of (value, position) pairs: NaN above every number, equal NaNs tied. Without a
    NaN among ``values`` they reduce to ``>`` or ``<`` of the values (the same answers, without the NaN
    tests: about half the time of a row's order)."""
    if not any(v != v for v in values):
        return (lambda x, y: x[0] > y[0]) if largest else (lambda x, y: x[0] < y[0])
    if largest:
        return lambda x, y: (_isnan(x[0]) and not _isnan(y[0])) or x[0] > y[0]
    return lambda x, y: (not _isnan(x[0]) and _isnan(y[0])) or x[0] < y[0]


def sort_order(values: list, descending: bool) -> list[int]:
    """The positions PyTorch's CPU ``sort(stable=False)`` gives one row of ``values`` (Python numbers)."""
    queue = [(v, j) for j, v in enumerate(values)]
    std_sort(queue, 0, len(queue), _less(descending, values))
    return [j for _, j in queue]


def _gt(x: Any, y: Any) -> bool:
    """``x > y`` with NaN above every number."""
    return (_isnan(x) and not _isnan(y)) or x > y


def kthvalue_position(values: list, k: int) -> int:
    """The position PyTorch's CPU ``kthvalue`` returns for the ``k``-th smallest (counting from 0) of one row
    of ``values``: its kernel runs TH's quickselect (Sedgewick's partitioning, the pivot the median of three
    with the middle element swapped next to the left end), moving a copy of the row and its positions."""
    arr = list(values)
    pos = list(range(len(arr)))

    gt: Callable[[Any, Any], bool] = _gt if any(v != v for v in arr) else operator.gt  # no NaN: no NaN tests

    def swap(a, b):
        arr[a], arr[b] = arr[b], arr[a]
        pos[a], pos[b] = pos[b], pos[a]

    left, right = 0, len(arr) - 1
    while right > left:
        if right == left + 1:
            if gt(arr[left], arr[right]):
                swap(left, right)
            break
        swap((left + right) >> 1, left + 1)
        if gt(arr[left + 1], arr[right]):
            swap(left + 1, right)
        if gt(arr[left], arr[right]):
            swap(left, right)
        if gt(arr[left + 1], arr[left]):
            swap(left + 1, left)
        i, j, pivot = left + 1, right, arr[left]
        while True:
            i += 1
            while gt(pivot, arr[i]):
                i += 1
            j -= 1
            while gt(arr[j], pivot):
                j -= 1
            if j < i:
                break
            swap(i, j)
        swap(left, j)
        if j <= k:
            left = i
        if j >= k:
            right = j - 1
    return pos[k]


def mode_position(values: list) -> int:
    """The position PyTorch's CPU ``mode`` returns for one row of ``values``: it ``std::sort``-s the
    (value, position) pairs by value alone and takes, of the first longest run of equal values, its last
    pair's position."""
    queue = [(v, j) for j, v in enumerate(values)]
    std_sort(queue, 0, len(queue), lambda x, y: x[0] < y[0])
    best, position, run = 0, 0, 0
    for i, (value, j) in enumerate(queue):
        run += 1
        if i == len(queue) - 1 or value != queue[i + 1][0]:
            if run > best:
                best, position = run, j
            run = 0
    return position
