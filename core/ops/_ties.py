"""Where equal elements decide the result of ``topk``, ``sort(stable=False)``/``argsort``, ``kthvalue`` and
``mode`` on a host backend: the rows where they do, found with NumPy on the host arrays, and those rows'
indices replaced by the choice PyTorch's CPU kernels make. ``std::sort`` (sort, mode) and
``std::nth_element`` (topk of more than a 64th of the row) and TH's quickselect (kthvalue) run on all those
rows at once as array operations (:mod:`._std_rows`); ``std::partial_sort`` (topk of fewer) and a mode among
NaN go through the step-by-step algorithms of :mod:`._std_select`, one row at a time. The ops
compute a stable order first; these functions take it and return the indices PyTorch gives.

Only host backends come here (:func:`follows_cpu_kernels`): reading their arrays is no device sync. On an
accelerator PyTorch's own kernels leave ties in other orders, and the ops keep their stable order."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import dtypes
from ..tensor import Tensor, tensor
from ._std_rows import dense_ranks, nth_element_rows, quickselect_rows, sort_rows
from ._std_select import (
    TIED_ELEMENTS_LIMIT,
    follows_cpu_kernels,
    kthvalue_position,
    mode_position,
    sort_order,
    topk_order,
)

__all__ = ["kthvalue_ties_as_torch", "mode_ties_as_torch", "sort_ties_as_torch", "topk_ties_as_torch"]

#: the longest row that libstdc++'s ``std::sort`` sorts by insertion alone (its introsort loop partitions
#: only longer ranges), and insertion sort is stable: PyTorch's ``sort(stable=False)`` and ``mode`` leave
#: equal elements of such a row in position order, the stable order ember computes, with no tie work
_INSERTION_SORTED = 16
#: the most elements (over the rows where ties decide the result) whose order the array forms of
#: :mod:`._std_rows` work out per call (about 1 ms per ten thousand); beyond it the stable order stands
#: (a bfloat16 sort over a 128k vocabulary, as top-p sampling makes per token, would take ~0.1 s)
_ARRAY_TIED_ELEMENTS_LIMIT = 1 << 16
#: from how many tied elements the array forms cost less than the row-by-row ones (their NumPy calls per
#: partition level are a fixed cost that many rows share; measured, one thread): ``std::sort``, and
#: ``std::nth_element`` (TH's quickselect, one short pass per row, is cheaper row by row up to its limit)
_ARRAY_SORT_FROM = 2048
_ARRAY_SELECT_FROM = 4096
_ARRAY_QUICKSELECT_FROM = TIED_ELEMENTS_LIMIT + 1
#: likewise the longest row that ``std::nth_element`` (introselect) sorts by insertion alone: ``topk``'s
#: order of it is the stable order too
_INSERTION_SELECTED = 3


def _host_rows(t: Tensor, axis: int) -> np.ndarray:
    """The values of ``t`` (a host backend's: no transfer) as NumPy rows along ``axis``; float16 and bfloat16
    as float32, exactly (PyTorch compares them in float32 too)."""
    host = np.asarray(t._backend.to_host(t._data))
    if axis != host.ndim - 1:
        host = np.moveaxis(host, axis, -1)
    if t.dtype in dtypes.narrow_float:
        host = host.astype(np.float32)
    return host.reshape(-1, host.shape[-1])


def _row_take(rows: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """``rows[r, positions[r, j]]`` for NumPy rows (``take_along_axis`` without its checks)."""
    return rows[np.arange(rows.shape[0])[:, None], positions]


def _equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise equality with NaN equal to NaN, as PyTorch's comparators leave them (neither before)."""
    same = a == b
    if a.dtype.kind == "f":
        same |= np.isnan(a) & np.isnan(b)
    return same


def _neighbours_tied(values: np.ndarray) -> np.ndarray | None:
    """The rows of ``values`` (in an order: equal ones next to each other) where two neighbours are equal
    (NaN equal to NaN); None where none is. Rows without ties, the common case, cost one comparison and
    one ``any`` (two more for floats: NaN)."""
    same = values[:, 1:] == values[:, :-1]
    if values.dtype.kind == "f":
        nan = np.isnan(values)
        if nan.any():
            same |= nan[:, 1:] & nan[:, :-1]
    return same.any(axis=1) if same.any() else None


def _few(rows: np.ndarray, n: int, limit: int = TIED_ELEMENTS_LIMIT) -> np.ndarray | None:
    """``rows`` (flags) where some are set and their elements are within ``limit``."""
    return rows if 0 < np.count_nonzero(rows) * n <= limit else None


def _form(rows: np.ndarray | None, n: int, array_from: int) -> str | None:
    """How the tied ``rows`` (flags, or None) of ``n`` elements are worked out: ``"array"`` (all at once, from
    ``array_from`` tied elements up to :data:`_ARRAY_TIED_ELEMENTS_LIMIT`), ``"rows"`` (one at a time, below
    ``array_from`` and within :data:`TIED_ELEMENTS_LIMIT`), or None (none tied, or too many: the stable
    order stands)."""
    elements = 0 if rows is None else np.count_nonzero(rows) * n
    if not elements:
        return None
    if array_from <= elements <= _ARRAY_TIED_ELEMENTS_LIMIT:
        return "array"
    return "rows" if elements <= TIED_ELEMENTS_LIMIT else None


def _tied_rows(input: Tensor, axis: int, order: Tensor, m: int, limit: int = TIED_ELEMENTS_LIMIT) -> np.ndarray | None:
    """The rows (flattened, ``axis`` last) where two of the first ``m`` elements of the stable ``order``
    are equal, or None where none is (or their elements are more than ``limit``)."""
    values = _row_take(_host_rows(input, axis), _host_rows(order, axis)[:, :m])
    rows = _neighbours_tied(values)
    return None if rows is None else _few(rows, input.shape[axis], limit)


def _reordered_rows(
    input: Tensor, axis: int, indices: Tensor, rows: np.ndarray, order: Callable[[list], list]
) -> Tensor:
    """``indices`` with the flagged ``rows`` replaced by ``order(values of the row)``, one row at a time."""
    host = _host_rows(input, axis)
    chosen = _host_rows(indices, axis).copy()
    for row in np.flatnonzero(rows):
        chosen[row] = order(host[row].tolist())
    return _as_indices(chosen, indices, axis)


def _as_indices(chosen: np.ndarray, indices: Tensor, axis: int) -> Tensor:
    """``chosen`` (NumPy rows along ``axis``, as :func:`_host_rows` gives them) as a tensor shaped and placed as
    ``indices``."""
    fixed = tensor(chosen.reshape(list(indices.movedim(axis, -1).shape)), device=indices.device)
    return fixed.movedim(-1, axis).contiguous()


def _topk_selected_rows(values: np.ndarray, k: int, largest: bool, sorted: bool) -> np.ndarray:
    """The positions PyTorch's CPU ``topk`` takes from each row of ``values`` when ``64 * k > n``:
    ``std::nth_element`` at ``k - 1``, then, when ``sorted``, ``std::sort`` of the first ``k - 1``."""
    ranks, positions = nth_element_rows(dense_ranks(values, largest), k - 1)
    if sorted and k > 2:
        head = sort_rows(ranks[:, : k - 1])
        positions[:, : k - 1] = _row_take(positions, head)
    return positions[:, :k]


def topk_ties_as_torch(input: Tensor, axis: int, order: Tensor, indices: Tensor, largest: bool, sorted: bool) -> Tensor:
    """``indices`` (the first ``k`` of the stable ``order``) with PyTorch's choice among equal elements in the
    rows where ties decide which elements are taken or their order: PyTorch's CPU kernel selects with
    ``std::partial_sort``/``std::nth_element``, which are not stable (bfloat16 probabilities, integer
    scores and masked ``-inf`` logits tie often, and sampling from the top-k then draws other tokens).
    With ``sorted=False`` and ``64 * k > n`` every row is reordered: ``nth_element`` leaves the ``k``
    elements it takes in an order of its own, which PyTorch returns as it is."""
    k, n = indices.shape[axis], input.shape[axis]
    if min(k + 1, n) < 2 or n <= _INSERTION_SELECTED:
        return indices
    selected = 64 * k > n  # std::nth_element, in array form where that pays; else std::partial_sort, row by row
    if not sorted and k > 1 and selected:  # std::nth_element's order of the k taken, tied or not
        rows = np.ones(input.numel() // n, dtype=bool)
    else:
        rows = _tied_rows(input, axis, order, min(k + 1, n), _ARRAY_TIED_ELEMENTS_LIMIT)
    form = _form(rows, n, _ARRAY_SELECT_FROM if selected else _ARRAY_TIED_ELEMENTS_LIMIT + 1)
    if form is None:
        return indices
    if form == "rows":
        return _reordered_rows(input, axis, indices, rows, lambda row: topk_order(row, k, largest, sorted))
    chosen = _host_rows(indices, axis).copy()
    chosen[rows] = _topk_selected_rows(_host_rows(input, axis)[rows], k, largest, sorted)
    return _as_indices(chosen, indices, axis)


def kthvalue_ties_as_torch(input: Tensor, axis: int, indices: Tensor, k: int) -> Tensor:
    """``indices`` with PyTorch's position of the ``k``-th smallest in the rows where another element equals
    it: PyTorch's CPU kernel finds it by quickselect, which is not stable."""
    host = _host_rows(input, axis)
    same = _equal(host, _row_take(host, _host_rows(indices, axis)))
    if np.count_nonzero(same) == same.shape[0]:  # each row's k-th equals itself only: no ties
        return indices
    rows = np.count_nonzero(same, axis=1) > 1
    form = _form(rows, input.shape[axis], _ARRAY_QUICKSELECT_FROM)
    if form is None:
        return indices
    if form == "rows":
        return _reordered_rows(input, axis, indices, rows, lambda row: [kthvalue_position(row, k - 1)])
    chosen = _host_rows(indices, axis).copy()
    chosen[rows] = quickselect_rows(dense_ranks(host[rows], False), k - 1)[:, None]
    return _as_indices(chosen, indices, axis)


def sort_ties_as_torch(input: Tensor, axis: int, indices: Tensor, descending: bool) -> Tensor:
    """The stable ``indices`` with PyTorch's order among equal elements for ``sort(stable=False)``: its CPU
    kernel runs ``std::sort`` (introsort, not stable; Llama's top-p sampling sorts bfloat16 probabilities and
    draws from them in that order), except for a radix sort (stable) of a long 1-D integer tensor ascending
    and for an expanded (zero-stride) dimension, which it leaves in place."""
    n = input.shape[axis]
    if n <= _INSERTION_SORTED:
        return indices
    integral = not (input.dtype.is_floating_point or input.dtype.is_complex or input.dtype is dtypes.bool)
    if input.ndim == 1 and not descending and integral and n >= 32768:
        return indices
    rows = _tied_rows(input, axis, indices, n, _ARRAY_TIED_ELEMENTS_LIMIT)
    form = _form(rows, n, _ARRAY_SORT_FROM)
    if form is None or input.stride(axis) == 0:  # the stride last: it costs more than the tie check
        return indices
    if form == "rows":
        return _reordered_rows(input, axis, indices, rows, lambda row: sort_order(row, descending))
    chosen = _host_rows(indices, axis).copy()
    chosen[rows] = sort_rows(dense_ranks(_host_rows(input, axis)[rows], descending))
    return _as_indices(chosen, indices, axis)


def mode_ties_as_torch(x: Tensor, index: Tensor, counts: Tensor) -> Tensor:
    """``index`` (the last position of the mode along the last dimension of ``x``) with PyTorch's position in
    the rows where the mode repeats (``counts`` > 1) or NaN stands: its CPU kernel sorts the row with
    ``std::sort`` by ``<``, not stable, and takes the last of the first longest run in that order. Every NaN
    is a run of its own there (NaN is not equal to NaN) and stays about where it was (no ``<`` holds), so a
    row of distinct numbers and NaN has a NaN mode where one comes first, or no mode ember found at all (an
    index of -1 where every element is NaN)."""
    if not follows_cpu_kernels(x):
        return index
    n = x.shape[-1]
    host = _host_rows(x, x.ndim - 1)
    nan = np.isnan(host).any(axis=1) if host.dtype.kind == "f" else None
    if n <= _INSERTION_SORTED and (nan is None or not nan.any()):
        return index
    repeats = _host_rows(counts, counts.ndim - 1).reshape(-1) > 1
    numbers = repeats if nan is None else repeats & ~nan
    if n > _INSERTION_SORTED and _form(numbers, n, _ARRAY_SORT_FROM) == "array":  # std::sort on them all at once
        chosen = _host_rows(index, index.ndim - 1).copy()
        chosen[numbers] = _last_of_first_longest_run(host[numbers])
        if nan is None or not nan.any():
            return _as_indices(chosen, index, index.ndim - 1)
        index, repeats = _as_indices(chosen, index, index.ndim - 1), nan  # NaN rows: one at a time, below
    rows = _few(repeats if nan is None else repeats | nan, n)  # (NaN is no strict weak order under ``<``)
    if rows is None:
        return index
    return _reordered_rows(x, x.ndim - 1, index, rows, lambda row: [mode_position(row)])


def _last_of_first_longest_run(rows: np.ndarray) -> np.ndarray:
    """For each row of ``rows`` (numbers, no NaN), the position PyTorch's CPU ``mode`` returns: of the first
    longest run of equal values in ``std::sort``'s order, the last element's position (shape ``(rows, 1)``)."""
    ranks = dense_ranks(rows, False)
    positions = sort_rows(ranks)
    ordered = _row_take(ranks, positions)
    ends = np.ones(ordered.shape, dtype=bool)
    ends[:, :-1] = ordered[:, 1:] != ordered[:, :-1]
    run = np.cumsum(ends[:, ::-1], axis=1)[:, ::-1]  # runs numbered from the row's end (each row apart)
    run = run + (np.arange(len(rows)) * rows.shape[1])[:, None]
    lengths = np.bincount(run.reshape(-1))
    longest = np.where(ends, lengths[run], -1).argmax(axis=1)  # the first of the longest
    return positions[np.arange(len(rows)), longest][:, None]
