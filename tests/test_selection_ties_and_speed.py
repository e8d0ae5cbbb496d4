"""The selection ops (``sort`` stable and not, ``argsort``, ``msort``, ``topk``, ``kthvalue``, ``median`` with a
dim, ``mode``) against PyTorch on tie-heavy and NaN inputs: values, indices, dtypes and strides. Among equal
elements PyTorch's CPU kernels choose by their unstable algorithms (``std::sort``, ``std::nth_element``, TH's
quickselect); ember works those choices out on all tied rows at once with array operations
(``ember.ops._std_rows``), checked here against the step-by-step reference (``ember.ops._std_select``),
also past introsort's depth limit, and against PyTorch beyond the few thousand elements the step-by-step
form was limited to. ``mode``, ``nanmedian`` and ``median(dim)`` gather their own positions without the
index check of the public ``gather`` (a host read on a backend that checks on the host).

Timings live in ``benchmarks/bench_selection.py --shapes``, not here."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.ops import _std_rows, _std_select
from ember.ops._std_select import follows_cpu_kernels

torch = pytest.importorskip("torch")

SHAPES = [((64,), -1), ((1000,), -1), ((32, 128), -1), ((128, 32), 0)]
DTYPES = ["float32", "float64", "int64"]


def _values(shape, kind, seed=0):
    rng = np.random.default_rng(seed)
    if kind == "ties":
        return rng.integers(0, 5, shape).astype(np.float64)
    if kind == "nan":
        a = rng.integers(0, 5, shape).astype(np.float64)
        a[rng.random(shape) < 0.1] = np.nan
        return a
    return (rng.permutation(int(np.prod(shape))) - 2000).reshape(shape).astype(np.float64)  # distinct, any dtype


def _pair(values, dtype, device):
    x = ember.tensor(values, device=device).to(getattr(ember, dtype))
    if dtype == "float64" and not x._backend.supports_float64:
        pytest.skip(f"{device} has no float64")
    return x, torch.tensor(values).to(getattr(torch, dtype))


def _same(got, want, exact_indices, dim=-1, unordered=False):
    """Dtypes, shapes, strides and values as PyTorch's; the indices too where ``exact_indices`` (an accelerator
    leaves ties in an order of its own, and an unsorted topk's values in any order)."""
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    for g, w in zip(got, want):
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]
        assert tuple(g.shape) == tuple(w.shape)
        assert g.stride() == w.stride()
        if w.dtype == torch.int64 and not exact_indices:
            continue
        g, w = np.asarray(g.cpu().tolist()), w.numpy()
        if unordered and not exact_indices:
            g, w = np.sort(g, axis=dim), np.sort(w, axis=dim)
        np.testing.assert_array_equal(g, w)


CALLS = {
    "sort": lambda T, x, d: T.sort(x, d),
    "sort descending": lambda T, x, d: T.sort(x, d, descending=True),
    "sort stable": lambda T, x, d: T.sort(x, dim=d, stable=True),
    "sort stable descending": lambda T, x, d: T.sort(x, dim=d, descending=True, stable=True),
    "argsort": lambda T, x, d: T.argsort(x, d),
    "argsort descending": lambda T, x, d: T.argsort(x, d, descending=True),
    "msort": lambda T, x, d: T.msort(x.movedim(d, 0)),
    "topk(5)": lambda T, x, d: T.topk(x, 5, d),
    "topk(5) smallest": lambda T, x, d: T.topk(x, 5, d, largest=False),
    "topk(5) unsorted": lambda T, x, d: T.topk(x, 5, d, sorted=False),
    "topk(n/4)": lambda T, x, d: T.topk(x, x.shape[d] // 4, d),
    "topk(n/4) unsorted": lambda T, x, d: T.topk(x, x.shape[d] // 4, d, sorted=False),
    "topk(n/4) smallest": lambda T, x, d: T.topk(x, x.shape[d] // 4, d, largest=False),
    "kthvalue(3)": lambda T, x, d: T.kthvalue(x, 3, d),
    "kthvalue(n/2)": lambda T, x, d: T.kthvalue(x, x.shape[d] // 2, d),
    "kthvalue(n)": lambda T, x, d: T.kthvalue(x, x.shape[d], d),
    "median(dim)": lambda T, x, d: T.median(x, d),
    "mode": lambda T, x, d: T.mode(x, d),
}


@pytest.mark.parametrize("call", list(CALLS))
@pytest.mark.parametrize("shape, dim", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["ties", "distinct"])
def test_selection_ops_as_torch(device, call, shape, dim, dtype, kind):
    x, t = _pair(_values(shape, kind), dtype, device)
    exact = follows_cpu_kernels(x) or "stable" in call or kind == "distinct" and "unsorted" not in call
    exact = exact or call == "median(dim)"
    _same(CALLS[call](ember, x, dim), CALLS[call](torch, t, dim), exact, dim, "unsorted" in call)


@pytest.mark.parametrize("call", list(CALLS))
@pytest.mark.parametrize("shape, dim", SHAPES, ids=str)
def test_selection_ops_with_nan_as_torch(device, call, shape, dim):
    """NaN is the largest; equal NaNs tie (mode: ``<`` never holds for NaN, every NaN a run of its own)."""
    for dtype in ("float32", "float64"):
        x, t = _pair(_values(shape, "nan", seed=1), dtype, device)
        if call == "mode" and not follows_cpu_kernels(x):  # the CPU's mode value itself comes from std::sort's
            continue  # order of NaN under ``<`` (no strict weak order), which only a host backend follows
        exact = follows_cpu_kernels(x) or "stable" in call or call == "median(dim)"
        _same(CALLS[call](ember, x, dim), CALLS[call](torch, t, dim), exact, dim, "unsorted" in call)


@pytest.mark.parametrize(
    "call", ["sort", "sort descending", "argsort", "topk(n/4)", "topk(n/4) unsorted", "kthvalue(n/2)", "mode"]
)
@pytest.mark.parametrize("dtype", DTYPES)
def test_ties_beyond_the_step_by_step_limit_follow_torch(call, dtype):
    """(100, 128): 12,800 tied elements, past the 8,192 the one-row-at-a-time form took (ember kept its
    stable order there); the array form gives PyTorch's choices."""
    assert 100 * 128 > _std_select.TIED_ELEMENTS_LIMIT
    x, t = _pair(_values((100, 128), "ties", seed=2), dtype, "cpu")
    _same(CALLS[call](ember, x, -1), CALLS[call](torch, t, -1), True)


def test_a_long_bfloat16_sort_past_the_array_limit_keeps_a_valid_order():
    """Past 65,536 tied elements (a 128k vocabulary) the stable order stands: values as PyTorch's, the indices
    a permutation that sorts."""
    values = np.random.default_rng(3).random(131072).astype(np.float32)
    x, t = ember.tensor(values).to(ember.bfloat16), torch.tensor(values).to(torch.bfloat16)
    got, want = x.sort(descending=True), t.sort(descending=True)
    np.testing.assert_array_equal(got.values.float().numpy(), want.values.float().numpy())
    np.testing.assert_array_equal(x[got.indices].float().numpy(), want.values.float().numpy())


def _rows(rng, count, n, kind):
    if kind == 0:
        return rng.integers(0, 3, (count, n)).astype(np.float64)
    if kind == 1:
        return rng.integers(0, max(2, n // 4), (count, n)).astype(np.float64)
    if kind == 2:
        a = rng.integers(0, 5, (count, n)).astype(np.float64)
        a[rng.random(a.shape) < 0.2] = np.nan
        return a
    ordered = np.sort(rng.integers(0, 10, (count, n)), axis=1).astype(np.float64)
    return ordered if kind == 3 else ordered[:, ::-1].copy()


def _check_against_reference(seed, trials):
    rng = np.random.default_rng(seed)
    for trial in range(trials):
        n = int(rng.choice([1, 2, 3, 4, 5, 7, 16, 17, 18, 33, 64, 100, 257]))
        rows = _rows(rng, int(rng.integers(1, 5)), n, trial % 5)
        for descending in (False, True):
            got = _std_rows.sort_rows(_std_rows.dense_ranks(rows, descending))
            assert got.tolist() == [_std_select.sort_order(r.tolist(), descending) for r in rows]
        k = int(rng.integers(0, n))
        got = _std_rows.quickselect_rows(_std_rows.dense_ranks(rows, False), k)
        assert got.tolist() == [_std_select.kthvalue_position(r.tolist(), k) for r in rows]
        _, got = _std_rows.nth_element_rows(_std_rows.dense_ranks(rows, True), k)
        for r, positions in zip(rows, got.tolist()):
            items = [(v, j) for j, v in enumerate(r.tolist())]
            _std_select.nth_element(items, 0, k, n, _std_select._less(True, r.tolist()))
            assert positions == [j for _, j in items]


def test_array_forms_match_the_step_by_step_algorithms():
    _check_against_reference(0, 150)


@pytest.mark.parametrize("depth", [0, 2, 4])
def test_array_forms_match_past_the_depth_limit(monkeypatch, depth):
    """Introsort's heap sort and introselect's heap select past the depth limit (``2 * log2(n)`` levels, which
    only adversarial rows reach): the limit lowered in both forms."""
    monkeypatch.setattr(_std_rows, "_depth_limit", lambda n: depth)
    monkeypatch.setattr(_std_select, "_lg", lambda n: depth // 2)
    _check_against_reference(depth + 1, 60)


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.mode(1),
        lambda x: x.mode(0),
        lambda x: ember.cat([x] * 3, 1).mode(1),  # rows past the pairwise limit: counted from the sorted row
        lambda x: x.nanmedian(1),
        lambda x: x.median(1),
        lambda x: x.requires_grad_().median(1),
        lambda x: x.requires_grad_().mode(1),
    ],
)
def test_selections_gather_their_own_positions_unchecked(monkeypatch, call):
    """Positions an op made itself need no bounds check (the public ``gather``/``scatter_add`` check on the
    host on backends without device-side asserts, a wait for the device inside the op)."""
    x = ember.tensor(_values((4, 30), "ties"), dtype=ember.float32)
    backend = type(x._backend)

    def refuse(*args, **kwargs):
        raise AssertionError("an index check")

    monkeypatch.setattr(backend, "check_indices", refuse)
    call(x)


@pytest.mark.parametrize(
    "call",
    [
        lambda T, x: T.topk(x, 7),
        lambda T, x: T.topk(x, -1),
        lambda T, x: T.kthvalue(x, 0),
        lambda T, x: T.kthvalue(x, 7),
        lambda T, x: T.mode(x[:, :0], 1),
        lambda T, x: T.median(x[:, :0], 1),
        lambda T, x: T.sort(x.to(T.complex64)),
        lambda T, x: T.topk(x.bool(), 2),
        lambda T, x: T.kthvalue(x.bool(), 2),
        lambda T, x: T.sort(x, 2),
    ],
)
def test_selection_errors_as_torch(call):
    """PyTorch's type and message; ember's topk message adds ``k`` and the size after PyTorch's words, and
    PyTorch's sort message has a stray leading space."""
    values = np.arange(12.0).reshape(2, 6)
    with pytest.raises(Exception) as expected:
        call(torch, torch.tensor(values))
    with pytest.raises(type(expected.value)) as actual:
        call(ember, ember.tensor(values))
    assert str(actual.value).startswith(str(expected.value).strip())
