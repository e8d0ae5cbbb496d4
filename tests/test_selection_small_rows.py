"""The tie handling of ``topk``/``sort``/``argsort``/``mode`` skips the rows whose order PyTorch's CPU kernels
leave stable, and its cheap paths give PyTorch's results: libstdc++'s ``std::sort`` sorts a row of at most
16 elements by insertion alone (stable), ``std::nth_element`` one of at most 3. The claims are checked on the
algorithms written out in ``ember.ops._std_select``, then the ops against torch on tie-heavy small tensors
(values and indices bit for bit), as laid out in memory (transposed, expanded) and for every dtype kind."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import ember
from ember.ops import _std_select, _ties
from ember.ops._std_select import follows_cpu_kernels

torch = pytest.importorskip("torch")


def _tie_heavy_rows(n, count=300, seed=0):
    """Rows of ``n`` numbers from few values, with NaN, -0.0 and 0.0 among them."""
    rng = np.random.default_rng(seed + n)
    pool = np.array([0.0, -0.0, 1.0, 2.0, np.nan, -1.0])
    return [rng.choice(pool[: rng.integers(2, 7)], n).tolist() for _ in range(count)]


def _stable(row, descending):
    """The stable order, NaN above every number, as ember computes it."""
    a = np.asarray(row, dtype=np.float64)
    key = np.where(np.isnan(a), np.inf, a)
    nan_last = np.isnan(a).astype(np.int8)
    if descending:  # NaN first, then the largest; equal ones in position order
        return sorted(range(len(row)), key=lambda j: (-nan_last[j], -key[j] if not nan_last[j] else 0))
    return sorted(range(len(row)), key=lambda j: (nan_last[j], key[j] if not nan_last[j] else 0))


@pytest.mark.parametrize("n", range(1, _ties._INSERTION_SORTED + 1))
@pytest.mark.parametrize("descending", [False, True])
def test_std_sort_of_at_most_16_elements_is_stable(n, descending):
    for row in _tie_heavy_rows(n):
        assert _std_select.sort_order(row, descending) == _stable(row, descending), row


def test_std_sort_of_17_elements_is_not_stable():
    """The bound is tight: beyond it the introsort loop partitions, and equal elements move."""
    rows = _tie_heavy_rows(_ties._INSERTION_SORTED + 1)
    assert any(_std_select.sort_order(row, False) != _stable(row, False) for row in rows)


@pytest.mark.parametrize("n", range(1, _ties._INSERTION_SORTED + 1))
def test_mode_of_at_most_16_elements_is_the_last_occurrence(n):
    for row in _tie_heavy_rows(n):
        if any(v != v for v in row):  # NaN rows keep ember's index either way
            continue
        values, counts = np.unique(np.asarray(row), return_counts=True)
        mode = values[np.argmax(counts)]  # the smallest of the most frequent
        assert _std_select.mode_position(row) == max(j for j, v in enumerate(row) if v == mode), row


@pytest.mark.parametrize("n", range(1, _ties._INSERTION_SELECTED + 1))
def test_topk_of_at_most_3_elements_is_stable(n):
    for row, k, largest, is_sorted in itertools.product(
        _tie_heavy_rows(n, 40), range(1, n + 1), [True, False], [True, False]
    ):
        assert _std_select.topk_order(row, k, largest, is_sorted) == _stable(row, largest)[:k], (row, k)


def test_topk_of_4_elements_is_not_stable():
    rows = _tie_heavy_rows(_ties._INSERTION_SELECTED + 1)
    assert any(_std_select.topk_order(row, 2, True, True) != _stable(row, True)[:2] for row in rows)


_DTYPES = ["float32", "float64", "bfloat16", "float16", "int64", "int32", "uint8", "int8"]


def _pair(values, dtype, device):
    try:
        ember.empty(0, device=device)._backend.native_dtype(getattr(ember, dtype))
    except TypeError:
        pytest.skip(f"{device} does not support {dtype}")
    t = torch.tensor(values, dtype=getattr(torch, dtype))
    e = ember.tensor(values, dtype=getattr(ember, dtype), device=device)
    return t, e


def _inputs(dtype, seed, device):
    """Tie-heavy tensors of small rows along every dimension, with the layouts that matter."""
    rng = np.random.default_rng(seed)
    floating = dtype.startswith(("float", "bfloat"))
    for shape in [(1,), (2,), (3,), (4,), (8,), (16,), (17,), (20,), (3, 8), (8, 3), (2, 17), (2, 3, 5)]:
        pool = np.array([0.0, -0.0, 1.0, 2.0, np.nan, 3.0]) if floating else np.array([0, 1, 2, 3])
        values = rng.choice(pool, shape)
        yield shape, _pair(values.tolist(), dtype, device)
    values = rng.choice(np.array([0, 1, 2]), (5, 6)).tolist()
    t, e = _pair(values, dtype, device)
    yield "transposed", (t.t(), e.t())
    t, e = _pair(rng.choice(np.array([0, 1, 2]), (1, 20)).tolist(), dtype, device)
    yield "expanded", (t.expand(3, 20), e.expand(3, 20))


def _same_choice(e, dim, got, expected, keepdim, *where, ordered=True):
    """On a host backend values and indices bit for bit as PyTorch's CPU kernels give them. Elsewhere, where
    PyTorch's kernels choose among equal elements otherwise again, the same values (a zero of either sign;
    in any order where not ``ordered``) at positions that hold them."""
    if follows_cpu_kernels(e):
        _same(got.values, expected.values, *where)
        _same(got.indices, expected.indices, *where)
        return
    index = got.indices if keepdim else got.indices.unsqueeze(dim)
    taken = e.gather(dim, index) if keepdim else e.gather(dim, index).squeeze(dim)
    assert taken.tolist() == got.values.tolist() or ember.equal(taken.isnan(), got.values.isnan()), where
    ours, theirs = _host(got.values), _host(expected.values)
    if not ordered:
        ours, theirs = np.sort(ours, axis=dim), np.sort(theirs, axis=dim)
    np.testing.assert_array_equal(ours, theirs, err_msg=str(where))


def _host(t):
    if isinstance(t, ember.Tensor):
        return np.asarray((t.float() if t.dtype in (ember.bfloat16, ember.float16) else t).cpu())
    return (t.float() if t.dtype in (torch.bfloat16, torch.float16) else t).numpy()


def _same(ours, theirs, *where):
    ours, theirs = _host(ours), _host(theirs)
    assert ours.shape == theirs.shape, where
    np.testing.assert_array_equal(ours, theirs, err_msg=str(where))
    if ours.dtype.kind == "f":
        assert np.array_equal(np.signbit(ours), np.signbit(theirs)), where


@pytest.mark.parametrize("dtype", _DTYPES)
def test_sort_argsort_of_small_tied_rows_as_torch(dtype, device):
    for seed in range(3):
        for where, (t, e) in _inputs(dtype, seed, device):
            for dim, descending in itertools.product(range(t.dim()), [False, True]):
                expected = torch.sort(t, dim=dim, descending=descending)
                got = ember.sort(e, dim=dim, descending=descending)
                _same_choice(e, dim, got, expected, True, where, dim, descending)
                argsorted = ember.argsort(e, dim=dim, descending=descending)
                assert argsorted.tolist() == got.indices.tolist(), (where, dim, descending)


@pytest.mark.parametrize("dtype", _DTYPES)
def test_topk_of_small_tied_rows_as_torch(dtype, device):
    for seed in range(3):
        for where, (t, e) in _inputs(dtype, seed, device):
            for dim in range(t.dim()):
                n = t.shape[dim]
                ks = sorted({0, 1, 2, n // 2, n} - {k for k in (1, 2) if k > n})
                for k, largest, is_sorted in itertools.product(ks, [True, False], [True, False]):
                    expected = torch.topk(t, k, dim=dim, largest=largest, sorted=is_sorted)
                    got = ember.topk(e, k, dim=dim, largest=largest, sorted=is_sorted)
                    _same_choice(e, dim, got, expected, True, where, dim, k, largest, ordered=is_sorted)
                    assert got.indices.is_contiguous() and got.values.is_contiguous(), (where, dim, k)


@pytest.mark.parametrize("dtype", _DTYPES)
def test_mode_and_kthvalue_of_small_tied_rows_as_torch(dtype, device):
    for seed in range(3):
        for where, (t, e) in _inputs(dtype, seed, device):
            for dim in range(t.dim()):
                if t.shape[dim] == 0:
                    continue
                if not (t.dtype.is_floating_point and t.isnan().any()):  # NaN: test_mode_of_rows_with_nan
                    expected, got = torch.mode(t, dim), ember.mode(e, dim)
                    _same_choice(e, dim, got, expected, False, where, dim)
                k = (t.shape[dim] + 1) // 2
                expected, got = torch.kthvalue(t, k, dim), ember.kthvalue(e, k, dim)
                _same_choice(e, dim, got, expected, False, where, dim, k)


def test_topk_indices_are_a_tensor_of_their_own():
    """Taken from the head of k + 1 positions, the k indices still own a storage of k elements."""
    for x, dim in [(ember.tensor([3.0, 1.0, 2.0, 5.0]), 0), (ember.tensor([[3.0, 1.0], [2.0, 5.0], [0.0, 4.0]]), 0)]:
        indices = x.topk(2, dim=dim).indices
        assert indices.is_contiguous() and indices.storage_offset() == 0
        assert indices.untyped_storage().nbytes() == indices.numel() * 8
        expected = torch.tensor(x.tolist()).topk(2, dim=dim).indices
        assert indices.tolist() == expected.tolist()


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "float16"])
def test_mode_of_rows_with_nan(dtype, device):
    """PyTorch's CPU mode sorts by ``<``, under which NaN equals nothing and stays about where it stood: a
    NaN that comes first is the mode of a row of distinct numbers, and a row of NaN only has mode NaN. ember
    took the most frequent number (or, for a row of NaN only, failed in its gather: index -1), and skipped
    the tie order of every row of a tensor with a NaN anywhere."""
    rng = np.random.default_rng(0)
    for n in [1, 2, 3, 5, 8, 16, 17, 24, 40]:
        pool = np.array([np.nan, 0.0, 1.0, 2.0, -0.0, 3.0])
        rows = [rng.choice(pool[: rng.integers(1, 7)], n) for _ in range(30)]
        rows += [np.full(n, np.nan), np.array([np.nan] + list(range(1, n)), dtype=float)]
        t, e = _pair(np.stack(rows).tolist(), dtype, device)
        expected, got = torch.mode(t, -1), ember.mode(e, -1)
        if follows_cpu_kernels(e):
            _same(got.values, expected.values, n)
            _same(got.indices, expected.indices, n)
        else:  # PyTorch's kernels choose otherwise there: a NaN-only row still has mode NaN
            taken = e.gather(-1, got.indices.unsqueeze(-1)).squeeze(-1)
            assert ember.equal(taken.isnan(), got.values.isnan()) and bool(got.values[-2].isnan())
