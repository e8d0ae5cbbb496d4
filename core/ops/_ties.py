"""Where equal elements decide the result of ``topk``, ``sort(stable=False)``/``argsort``, ``kthvalue`` and
``mode`` on a host backend: the rows where they do, found with NumPy on the host arrays, and those rows'
indices replaced by the choice PyTorch's CPU kernels make (the algorithms of :mod:`._std_select`). The ops
compute a stable order first; these functions take it and return the indices PyTorch gives."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import dtypes
from ..tensor import Tensor, tensor
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


def _few(rows: np.ndarray, n: int) -> np.ndarray | None:
    """``rows`` (flags) where some are set and their elements are within :data:`TIED_ELEMENTS_LIMIT`."""
    return rows if 0 < np.count_nonzero(rows) * n <= TIED_ELEMENTS_LIMIT else None


def _tied_rows(input: Tensor, axis: int, order: Tensor, m: int) -> np.ndarray | None:
    """The rows (flattened, ``axis`` last) where two of the first ``m`` elements of the stable ``order``
    are equal, or None where none is (or too many elements are)."""
    values = _row_take(_host_rows(input, axis), _host_rows(order, axis)[:, :m])
    rows = _neighbours_tied(values)
    return None if rows is None else _few(rows, input.shape[axis])


def _reordered_rows(
    input: Tensor, axis: int, indices: Tensor, rows: np.ndarray, order: Callable[[list], list]
) -> Tensor:
    """``indices`` with the flagged ``rows`` replaced by ``order(values of the row)``, computed on the host."""
    host = _host_rows(input, axis)
    chosen = _host_rows(indices, axis).copy()
    for row in np.flatnonzero(rows):
        chosen[row] = order(host[row].tolist())
    fixed = tensor(chosen.reshape(list(indices.movedim(axis, -1).shape)), device=indices.device)
    return fixed.movedim(-1, axis).contiguous()


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
    if not sorted and k > 1 and 64 * k > n:  # std::nth_element's order of the k taken, tied or not
        rows = _few(np.ones(input.numel() // n, dtype=bool), n)
    else:
        rows = _tied_rows(input, axis, order, min(k + 1, n))
    if rows is None:
        return indices
    return _reordered_rows(input, axis, indices, rows, lambda row: topk_order(row, k, largest, sorted))


def kthvalue_ties_as_torch(input: Tensor, axis: int, indices: Tensor, k: int) -> Tensor:
    """``indices`` with PyTorch's position of the ``k``-th smallest in the rows where another element equals
    it: PyTorch's CPU kernel finds it by quickselect, which is not stable."""
    host = _host_rows(input, axis)
    same = _equal(host, _row_take(host, _host_rows(indices, axis)))
    if np.count_nonzero(same) == same.shape[0]:  # each row's k-th equals itself only: no ties
        return indices
    rows = _few(np.count_nonzero(same, axis=1) > 1, input.shape[axis])
    if rows is None:
        return indices
    return _reordered_rows(input, axis, indices, rows, lambda row: [kthvalue_position(row, k - 1)])


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
    rows = _tied_rows(input, axis, indices, n)
    if rows is None or input.stride(axis) == 0:  # the stride last: it costs more than the tie check
        return indices
    return _reordered_rows(input, axis, indices, rows, lambda row: sort_order(row, descending))


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
    rows = _few(repeats if nan is None else repeats | nan, n)
    if rows is None:
        return index
    return _reordered_rows(x, x.ndim - 1, index, rows, lambda row: [mode_position(row)])
