# ruff: noqa: B023 - the lambdas in loops are called at once, inside the loop
"""Differential tests for the extra torch functions: comparison, matrix helpers, scans, shape helpers, type info."""

from __future__ import annotations

import math

import numpy as np
import pytest
from reference import assert_close, check, randn

import ember

torch = pytest.importorskip("torch")

nan, inf = math.nan, math.inf


def et(a, device, dtype=None):
    return ember.tensor(np.asarray(a), device=device, dtype=dtype)


# -- comparison ------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{}, {"rtol": 0.1}, {"atol": 0.5}, {"equal_nan": True}, {"rtol": 0, "atol": 0}])
def test_isclose_allclose_equal(device, dtype, kwargs):
    a = np.array([1.0, 1.05, nan, inf, -inf, 2.0, 0.0])
    b = np.array([1.0, 1.0, nan, inf, inf, 2.4, 1e-9])
    check(lambda x, y: ember.isclose(x, y, **kwargs), lambda x, y: torch.isclose(x, y, **kwargs), [a, b],
          device=device, dtype=dtype, grad=False)  # fmt: skip
    ea, eb = et(a, device, dtype), et(b, device, dtype)
    ta, tb = torch.tensor(a, dtype=getattr(torch, dtype.name)), torch.tensor(b, dtype=getattr(torch, dtype.name))
    assert ember.allclose(ea, eb, **kwargs) == torch.allclose(ta, tb, **kwargs)
    assert ea.allclose(ea[:2].clone().expand(2)[:0].sum() + ea, equal_nan=True) is True
    assert ember.equal(ea, ea.clone()) is torch.equal(ta, ta.clone())
    assert ember.equal(ea[:2], eb[:2]) is False and ember.equal(ea, ea[:3]) is False


def test_comparison_integers_and_errors(device):
    a, b = et([1, 2, 3], device), et([1, 3, 3], device)
    assert ember.isclose(a, b).tolist() == [True, False, True]
    assert ember.equal(a, a.to(ember.float32)) is True
    assert ember.allclose(ember.ones(2, 3, device=device), ember.ones(3, device=device))
    with pytest.raises(RuntimeError, match="Float did not match Double"):
        ember.isclose(ember.ones(2, device=device), ember.ones(2, dtype=ember.float64, device=device))
    with pytest.raises(RuntimeError, match="rtol must be greater"):
        ember.isclose(a, b, rtol=-1)
    with pytest.raises(RuntimeError, match="size of tensor a"):
        ember.isclose(ember.ones(2, device=device), ember.ones(3, device=device))
    with pytest.raises(TypeError):
        ember.allclose(a, [1, 2, 3])


# -- functional aliases ----------------------------------------------------------------------
def test_activation_aliases(device, dtype):
    x = randn(3, 4)
    check(lambda t: ember.softmax(t, 1), lambda t: torch.softmax(t, 1), [x], device=device, dtype=dtype)
    check(lambda t: t.log_softmax(0), lambda t: t.log_softmax(0), [x], device=device, dtype=dtype)
    check(lambda t: ember.log_softmax(t, -1, dtype=ember.float64), lambda t: torch.log_softmax(t, -1, dtype=torch.float64),
          [x], device=device, dtype=dtype)  # fmt: skip
    check(lambda t: (ember.relu(t), t.relu(), t.hardshrink(0.3)), lambda t: (torch.relu(t), t.relu(), t.hardshrink(0.3)),
          [x], device=device, dtype=dtype)  # fmt: skip
    e = et(x, device, dtype)
    assert ember.relu_(e) is e and e.min().item() == 0
    e2 = et(x, device, dtype)
    assert e2.relu_() is e2 and e2.min().item() == 0


# -- matrix helpers --------------------------------------------------------------------------
@pytest.mark.parametrize("offset", [0, 1, -2])
def test_diag_diagonal_diag_embed(device, dtype, offset):
    check(lambda t: ember.diag(t, offset), lambda t: torch.diag(t, offset), [randn(3)], device=device, dtype=dtype)
    check(lambda t: t.diag(offset), lambda t: t.diag(offset), [randn(3, 4)], device=device, dtype=dtype)
    check(lambda t: ember.diagonal(t, offset, 2, 0), lambda t: torch.diagonal(t, offset, 2, 0), [randn(3, 2, 4)],
          device=device, dtype=dtype)  # fmt: skip
    check(lambda t: ember.diag_embed(t, offset, 0, 2), lambda t: torch.diag_embed(t, offset, 0, 2), [randn(2, 3)],
          device=device, dtype=dtype)  # fmt: skip
    check(lambda t: (ember.tril(t, offset), t.triu(offset)), lambda t: (torch.tril(t, offset), t.triu(offset)),
          [randn(2, 3, 4)], device=device, dtype=dtype)  # fmt: skip


def test_matrix_errors_and_trace(device, dtype):
    check(lambda t: t.trace(), lambda t: t.trace(), [randn(3, 4)], device=device, dtype=dtype)
    assert ember.trace(ember.arange(9, device=device).reshape(3, 3)).item() == 12
    assert (
        ember.tril(ember.ones(3, 3, dtype=ember.bool, device=device)).tolist()
        == torch.tril(torch.ones(3, 3, dtype=torch.bool)).tolist()
    )
    with pytest.raises(RuntimeError, match="Supports 1D or 2D"):
        ember.diag(ember.ones(2, 2, 2, device=device))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        ember.tril(ember.ones(3, device=device))
    with pytest.raises(RuntimeError, match="expected a matrix"):
        ember.trace(ember.ones(3, device=device))
    with pytest.raises(RuntimeError, match="cannot be identical"):
        ember.diagonal(ember.ones(2, 2, device=device), 0, 1, 1)


@pytest.mark.parametrize(
    "equation, shapes",
    [
        ("ij,jk->ik", [(2, 3), (3, 4)]),
        ("ij,jk", [(2, 3), (3, 4)]),
        ("ii", [(3, 3)]),
        ("ii->i", [(3, 3)]),
        ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
        ("i,j->ij", [(3,), (4,)]),
        ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
        ("ba...,a->b...", [(2, 3, 4), (3,)]),
        ("ijk->kji", [(2, 3, 4)]),
        ("ij,ij,ij->i", [(2, 3), (2, 3), (2, 3)]),
        ("i j, j ->", [(2, 3), (3,)]),
        ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ],
)
def test_einsum(device, dtype, equation, shapes):
    arrays = [randn(*s) for s in shapes]
    check(
        lambda *ts: ember.einsum(equation, *ts),
        lambda *ts: torch.einsum(equation, *ts),
        arrays,
        device=device,
        dtype=dtype,
    )


def test_einsum_list_form_and_errors(device):
    a, b = ember.ones(2, 3, device=device), ember.ones(3, device=device)
    assert ember.einsum("ij,j->i", [a, b]).tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match="more operands"):
        ember.einsum("ij->i", a, b)
    with pytest.raises(RuntimeError, match="fewer operands"):
        ember.einsum("ij,j,k->i", a, b)
    with pytest.raises(RuntimeError, match="does not match the number of dimensions"):
        ember.einsum("ijk->i", a)
    with pytest.raises(RuntimeError, match="does not appear"):
        ember.einsum("ij->z", a)


@pytest.mark.parametrize(
    "sublists, shapes",
    [
        ([[0, 1], [1, 2], [0, 2]], [(2, 3), (3, 4)]),
        ([[0, 1], [0, 2]], [(3, 2), (3, 4)]),
        ([[27, 26], [26]], [(2, 3), (3,)]),
        ([[Ellipsis, 0, 1], [Ellipsis, 1, 2], [Ellipsis, 0, 2]], [(2, 3, 4), (2, 4, 5)]),
        ([[1, 1]], [(3, 3)]),
    ],
)
def test_einsum_sublist_form(device, dtype, sublists, shapes):
    """torch.einsum(op0, sublist0, op1, sublist1, ..., [sublist_out]): integer labels, Ellipsis for '...'."""

    def call(lib):
        return lambda *ts: lib.einsum(*[x for pair in zip(ts, sublists) for x in pair], *sublists[len(ts) :])

    check(call(ember), call(torch), [randn(*s) for s in shapes], device=device, dtype=dtype)


def test_einsum_sublist_and_missing_operand_errors(device):
    a = ember.ones(2, 3, device=device)
    with pytest.raises(ValueError, match=r"not within the valid range \[0, 52\)"):
        ember.einsum(a, [0, 52])
    for args in [("ij",), (a,), ("ij", [])]:
        with pytest.raises(ValueError, match="at least one operand"):
            ember.einsum(*args)


def test_einsum_double_backward(device):
    a = ember.tensor(randn(2, 3), device=device, requires_grad=True)
    b = ember.tensor(randn(3, 2), device=device, requires_grad=True)
    assert ember.autograd.gradcheck(lambda x, y: ember.einsum("ij,jk->ik", x, y), (a, b))
    assert ember.autograd.gradgradcheck(lambda x, y: ember.einsum("ij,jk->ik", x, y), (a, b))


@pytest.mark.parametrize("dims, other", [(0, (2, 2)), (1, (4, 2)), (2, (3, 4, 2)), (([1, 0], [0, 2]), (3, 4, 2))])
def test_tensordot_kron_cross(device, dtype, dims, other):
    check(lambda x, y: ember.tensordot(x, y, dims), lambda x, y: torch.tensordot(x, y, dims), [randn(2, 3, 4), randn(*other)],
          device=device, dtype=dtype)  # fmt: skip
    check(
        lambda x, y: ember.kron(x, y),
        lambda x, y: torch.kron(x, y),
        [randn(2, 3), randn(4, 1, 2)],
        device=device,
        dtype=dtype,
    )
    check(lambda x, y: x.cross(y, dim=1), lambda x, y: x.cross(y, dim=1), [randn(2, 3, 4), randn(1, 3, 4)],
          device=device, dtype=dtype)  # fmt: skip


def test_cross_default_dim_warns_and_errors(device):
    a, b = randn(4, 3), randn(4, 3)
    with pytest.warns(UserWarning, match="without specifying the dim"):
        out = ember.cross(et(a, device), et(b, device))
    assert_close(out, torch.linalg.cross(torch.tensor(a), torch.tensor(b)))
    with pytest.raises(RuntimeError, match="must have length 3"):
        ember.cross(et(a, device), et(b, device), dim=0)
    with pytest.raises(RuntimeError, match="contracted dimensions need to match"):
        ember.tensordot(ember.ones(2, 3, device=device), ember.ones(2, 3, device=device), 1)


# -- scans and NaN-aware reductions ----------------------------------------------------------
def test_cumprod(device, dtype):
    x = randn(3, 4)
    x[1, 1] = 0.0
    x[2, 0] = x[2, 2] = 0.0
    check(lambda t: t.cumprod(1), lambda t: t.cumprod(1), [x], device=device, dtype=dtype)
    check(lambda t: ember.cumprod(t, 0), lambda t: torch.cumprod(t, 0), [x], device=device, dtype=dtype)
    i = ember.tensor([1, 2, 3], device=device)
    assert i.cumprod(0).dtype is ember.int64 and i.cumprod(0).tolist() == [1, 2, 6]
    if dtype is ember.float64:
        t = ember.tensor(x, device=device, requires_grad=True)
        assert ember.autograd.gradgradcheck(lambda v: v.cumprod(1), (t,))


def test_cummax_cummin_logcumsumexp(device, dtype):
    x = np.array([[1.0, 3.0, 3.0, 2.0, 5.0], [4.0, -1.0, 2.0, -3.0, 0.5]])
    check(lambda t: ember.cummax(t, 1), lambda t: torch.cummax(t, 1), [x], device=device, dtype=dtype)
    check(lambda t: t.cummin(0), lambda t: t.cummin(0), [x], device=device, dtype=dtype)
    check(lambda t: t.cummin(-1), lambda t: t.cummin(-1), [x], device=device, dtype=dtype)
    check(
        lambda t: ember.logcumsumexp(t, 1),
        lambda t: torch.logcumsumexp(t, 1),
        [randn(3, 5) * 10],
        device=device,
        dtype=dtype,
    )
    y = np.array([1.0, nan, 3.0])
    check(lambda t: t.cummax(0), lambda t: t.cummax(0), [y], device=device, dtype=dtype, grad=False)
    z = np.array([-inf, -inf, 0.0, inf, 1.0])
    check(lambda t: t.logcumsumexp(0), lambda t: t.logcumsumexp(0), [z], device=device, dtype=dtype, grad=False)


@pytest.mark.parametrize(
    "data",
    [[[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, -1.0, 2.0], [0.0, 0.0, 0.0, 0.0]], [[nan, 2.0], [nan, 1.0]], [[nan, nan]]],
    ids=["ties", "nan", "all_nan"],
)
def test_median_of_all_elements_shares_the_gradient_between_ties(device, dtype, data):
    """median()/nanmedian() over every element: PyTorch spreads the gradient evenly over the elements
    equal to the result (evenly_distribute_backward), as for max(); ember gave it all to one of them."""
    for name in ("median", "nanmedian"):
        check(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), [np.array(data)], device=device, dtype=dtype)  # noqa: B023


def test_median_nansum_nanmean(device, dtype):
    x = randn(3, 4)
    check(lambda t: t.median(), lambda t: t.median(), [x], device=device, dtype=dtype)
    check(lambda t: ember.median(t, 1), lambda t: torch.median(t, 1), [x], device=device, dtype=dtype)
    check(
        lambda t: t.median(0, keepdim=True),
        lambda t: t.median(0, keepdim=True),
        [randn(5, 2)],
        device=device,
        dtype=dtype,
    )
    y = np.array([[1.0, nan, 3.0, nan], [2.0, 1.0, 0.0, 5.0]])
    check(lambda t: t.median(1), lambda t: t.median(1), [y], device=device, dtype=dtype, grad=False)
    check(lambda t: t.median(), lambda t: t.median(), [y], device=device, dtype=dtype, grad=False)
    check(lambda t: (t.nansum(), ember.nansum(t, 1, keepdim=True), t.nanmean(0), ember.nanmean(t)),
          lambda t: (t.nansum(), torch.nansum(t, 1, keepdim=True), t.nanmean(0), torch.nanmean(t)),
          [y], device=device, dtype=dtype)  # fmt: skip
    assert ember.median(ember.tensor([3, 1, 2, 4], device=device)).item() == 2
    with pytest.raises(RuntimeError, match="nanmean.*Long"):
        ember.tensor([1], device=device).nanmean()


def test_nan_to_num_clamp_min_max(device, dtype):
    x = np.array([nan, inf, -inf, 1.5, -2.0])
    check(lambda t: (t.nan_to_num(), ember.nan_to_num(t, 1.0, 2.0, -3.0)),
          lambda t: (t.nan_to_num(), torch.nan_to_num(t, 1.0, 2.0, -3.0)), [x], device=device, dtype=dtype)  # fmt: skip
    check(lambda t: (t.clamp_min(0.5), ember.clamp_max(t, 0.1)), lambda t: (t.clamp_min(0.5), torch.clamp_max(t, 0.1)),
          [randn(3, 4)], device=device, dtype=dtype)  # fmt: skip
    e = et(x, device, dtype)
    assert e.nan_to_num_(0.0, 9.0, -9.0) is e and e.tolist() == [0.0, 9.0, -9.0, 1.5, -2.0]
    e.clamp_min_(0.0).clamp_max_(1.0)
    assert e.tolist() == [0.0, 1.0, 0.0, 1.0, 0.0]


# -- shape and indexing ----------------------------------------------------------------------
def test_select_unfold_sum_to_size(device, dtype):
    x = randn(3, 4, 5)
    check(lambda t: (t.select(1, -1), ember.select(t, 0, 2)), lambda t: (t.select(1, -1), torch.select(t, 0, 2)),
          [x], device=device, dtype=dtype)  # fmt: skip
    for args in [(2, 2, 1), (1, 3, 2), (-1, 5, 5), (0, 1, 3)]:
        check(lambda t: t.unfold(*args), lambda t: t.unfold(*args), [x], device=device, dtype=dtype)
    check(lambda t: t.sum_to_size(3, 1, 5), lambda t: t.sum_to_size(3, 1, 5), [x], device=device, dtype=dtype)
    check(lambda t: t.sum_to_size((4, 1)), lambda t: t.sum_to_size((4, 1)), [x], device=device, dtype=dtype)
    with pytest.raises(IndexError, match="out of range"):
        ember.ones(3, device=device).select(0, 5)
    with pytest.raises(RuntimeError, match="maximum size"):
        ember.ones(3, 4, device=device).unfold(1, 5, 1)
    with pytest.raises(RuntimeError, match="not expandable"):
        ember.ones(3, 4, device=device).sum_to_size(2, 4)


def test_unique_bincount_searchsorted(device):
    x = np.array([[3, 1, 3], [2, 7, 1]])
    e, t = et(x, device), torch.tensor(x)
    for kw in [{}, {"return_inverse": True}, {"return_counts": True}, {"return_inverse": True, "return_counts": True}]:
        ours, theirs = ember.unique(e, **kw), torch.unique(t, **kw)
        for a, b in zip(ours if isinstance(ours, tuple) else [ours], theirs if isinstance(theirs, tuple) else [theirs]):
            assert_close(a, b)
    assert_close(
        ember.unique(ember.tensor([2.0, nan, 1.0, 2.0], device=device))[:2],
        torch.tensor([1.0, 2.0], dtype=torch.float32),
    )
    b = np.array([0, 2, 2, 5])
    w = np.array([0.5, 1.0, 2.0, 3.0])
    assert_close(ember.bincount(et(b, device)), torch.bincount(torch.tensor(b)))
    assert_close(et(b, device).bincount(minlength=8), torch.tensor(b).bincount(minlength=8))
    assert_close(ember.bincount(et(b, device), et(w, device)), torch.bincount(torch.tensor(b), torch.tensor(w)))
    assert ember.bincount(et(b, device), et(w, device, ember.float32)).dtype is ember.float32
    assert ember.bincount(et(b, device), et(b, device)).dtype is ember.float64
    with pytest.raises(RuntimeError, match="non-negative"):
        ember.bincount(ember.tensor([-1, 2], device=device))
    seq = np.array([1.0, 3.0, 5.0, 7.0])
    v = np.array([[3.0, 6.0], [0.0, 9.0]])
    for kw in [{}, {"right": True}, {"side": "right"}, {"out_int32": True}]:
        assert_close(
            ember.searchsorted(et(seq, device), et(v, device), **kw),
            torch.searchsorted(torch.tensor(seq), torch.tensor(v), **kw),
        )
    seq2 = np.array([[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]])
    assert_close(
        ember.searchsorted(et(seq2, device), et(v, device)), torch.searchsorted(torch.tensor(seq2), torch.tensor(v))
    )
    assert_close(
        ember.searchsorted(et(seq, device), 3.0, right=True), torch.searchsorted(torch.tensor(seq), 3.0, right=True)
    )


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
def test_searchsorted_bisects_as_torch(device, dtype_name):
    """torch bisects: a NaN value lands after every boundary (also after NaN boundaries), and an unsorted
    sequence gives the bisection's index, not the count of smaller elements."""
    values = np.array([1.0, nan, -2.0, np.inf, 0.0, -0.0, -np.inf, 3.0, 2.5])
    dtype = getattr(ember, dtype_name)
    rng = np.random.default_rng(0)
    sequences = [np.sort(values), np.array([3.0, 1.0, 2.0, nan, 0.0]), np.array([]), np.array([2.0])]
    sequences += [np.sort(rng.integers(0, 5, n)).astype(float) for n in range(1, 9)]
    for seq in sequences:
        for side in ("left", "right"):
            assert_close(
                ember.searchsorted(et(seq, device, dtype), et(values, device, dtype), side=side),
                torch.searchsorted(
                    torch.tensor(seq, dtype=getattr(torch, dtype_name)),
                    torch.tensor(values, dtype=getattr(torch, dtype_name)),
                    side=side,
                ),
            )
    boundaries = np.array([-1.0, 0.0, 1.0])
    assert_close(
        ember.bucketize(et(values, device, dtype), et(boundaries, device, dtype), right=True),
        torch.bucketize(torch.tensor(values), torch.tensor(boundaries), right=True),
    )
    for lib, make in ((torch, torch.tensor), (ember, lambda a: et(a, device))):
        with pytest.raises(RuntimeError, match="positive dimension"):
            lib.searchsorted(make(np.array(1.0)), make(np.array([1.0])))


@pytest.mark.parametrize("weights_type", ["float16", "bfloat16", "float32", "float64", "int32", "bool"])
def test_bincount_weights_type(weights_type, device):
    # float32 and float64 weights keep their type; torch sums any other in float64
    if weights_type == "bfloat16" and device.startswith("opencl"):
        pytest.skip("no bfloat16 on OpenCL")
    want = torch.bincount(torch.tensor([0, 2, 2]), torch.tensor([1, 1, 0]).to(getattr(torch, weights_type)))
    got = ember.bincount(
        ember.tensor([0, 2, 2], device=device), ember.tensor([1, 1, 0], device=device).to(getattr(ember, weights_type))
    )
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    assert got.tolist() == want.tolist()


def test_splits_and_stacks(device, dtype):
    x = randn(4, 6, 2)
    for arg, dim in [(3, 1), ([1, 4], 1), ([-1, 10], 0), (4, 2)]:
        check(lambda t: t.tensor_split(arg, dim), lambda t: t.tensor_split(arg, dim), [x], device=device, dtype=dtype)
    check(lambda t: (t.hsplit(2), t.vsplit([1, 3]), t.dsplit(2)), lambda t: (t.hsplit(2), t.vsplit([1, 3]), t.dsplit(2)),
          [x], device=device, dtype=dtype)  # fmt: skip
    with pytest.raises(RuntimeError, match="not divisible"):
        et(x, device, dtype).hsplit(4)
    with pytest.raises(RuntimeError, match="at least 2 dimension"):
        ember.ones(4, device=device).vsplit(2)
    a, b, c = randn(3), randn(3), randn(3, 2)
    check(lambda p, q: ember.dstack([p, q]), lambda p, q: torch.dstack([p, q]), [a, b], device=device, dtype=dtype)
    check(
        lambda p, q: ember.column_stack([p, q]),
        lambda p, q: torch.column_stack([p, q]),
        [a, c],
        device=device,
        dtype=dtype,
    )
    s = np.array(2.0)
    check(lambda p, q, r: (ember.atleast_1d(p), ember.atleast_2d(p, q), ember.atleast_3d([p, q, r])),
          lambda p, q, r: (torch.atleast_1d(p), torch.atleast_2d(p, q), torch.atleast_3d([p, q, r])),
          [s, a, c], device=device, dtype=dtype)  # fmt: skip


def test_hstack_vstack_of_0d_tensors(device, dtype):
    s, v = np.array(2.0), randn(2)
    for op in ("hstack", "vstack", "row_stack", "column_stack", "dstack"):
        check(
            lambda p, q, op=op: getattr(ember, op)([p, q]),
            lambda p, q, op=op: getattr(torch, op)([p, q]),
            [s, s],
            device=device,
            dtype=dtype,
        )
    check(lambda p, q: ember.hstack([p, q]), lambda p, q: torch.hstack([p, q]), [s, v], device=device, dtype=dtype)


def test_flips_rot90_meshgrid(device, dtype):
    x = randn(2, 3, 4)
    check(
        lambda t: (t.fliplr(), ember.flipud(t)),
        lambda t: (t.fliplr(), torch.flipud(t)),
        [x],
        device=device,
        dtype=dtype,
    )
    for k, dims in [(1, (0, 1)), (2, (1, 2)), (3, (0, 2)), (-1, (2, 0)), (4, (0, 1))]:
        check(lambda t: t.rot90(k, dims), lambda t: t.rot90(k, dims), [x], device=device, dtype=dtype)
    with pytest.raises(RuntimeError, match="Input must be >= 2-d"):
        ember.fliplr(ember.ones(3, device=device))
    a, b = randn(2), randn(3)
    for indexing in ("ij", "xy"):
        check(lambda p, q: ember.meshgrid(p, q, indexing=indexing), lambda p, q: torch.meshgrid(p, q, indexing=indexing),
              [a, b], device=device, dtype=dtype)  # fmt: skip
    c = randn(4)
    check(lambda p, q, r: ember.meshgrid([p, q, r], indexing="xy"), lambda p, q, r: torch.meshgrid([p, q, r], indexing="xy"),
          [a, b, c], device=device, dtype=dtype)  # fmt: skip
    with pytest.warns(UserWarning, match="indexing argument"):
        ember.meshgrid(et(a, device), et(b, device))


def test_index_put(device, dtype):
    x, v = randn(4, 3), randn(3)
    idx = np.array([0, 2, 0])
    jdx = np.array([1, 1, 1])
    for acc in (False, True):
        check(lambda t, i, j, w: t.index_put((i, j), w, accumulate=acc),
              lambda t, i, j, w: t.index_put((i, j), w, accumulate=acc), [x, idx, jdx, v[:1]] if not acc else [x, idx, jdx, v],
              device=device, dtype=dtype)  # fmt: skip
    e = et(x, device, dtype)
    t = torch.tensor(x, dtype=getattr(torch, dtype.name))
    e.index_put_((et(idx, device),), et(v, device, dtype), accumulate=True)
    t.index_put_((torch.tensor(idx),), torch.tensor(v, dtype=t.dtype), accumulate=True)
    assert_close(e, t)


def test_inplace_shape_changes(device):
    e = ember.ones(1, 3, 1, device=device)
    ptr = e
    assert e.squeeze_() is ptr and e.shape == (3,)
    assert e.unsqueeze_(0).shape == (1, 3)
    assert e.t_().shape == (3, 1)
    assert e.transpose_(0, 1).shape == (1, 3)
    leaf = ember.ones(1, 2, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf.squeeze_()
    y = leaf * 2
    y.squeeze_()
    (y * ember.tensor([1.0, 3.0], device=device)).sum().backward()
    assert leaf.grad.tolist() == [[2.0, 6.0]]


def test_pointwise_and_properties(device, dtype):
    check(lambda t: ember.float_power(t, 2), lambda t: torch.float_power(t, 2), [randn(3)], device=device, dtype=dtype)
    check(lambda t, u: t.float_power(u), lambda t, u: t.float_power(u), [randn(3, low=0.5, high=2.0), randn(3)],
          device=device, dtype=dtype)  # fmt: skip
    assert ember.float_power(ember.tensor([2], device=device), 3).dtype is ember.float64
    i = np.array([0, 5, -3], dtype=np.int64)
    assert_close(ember.bitwise_not(et(i, device)), torch.bitwise_not(torch.tensor(i)))
    assert ember.tensor([True, False], device=device).bitwise_not().tolist() == [False, True]
    with pytest.raises(RuntimeError, match="not implemented for 'Float'"):
        ember.ones(2, device=device).bitwise_not()
    e = ember.ones(2, 3, dtype=dtype, device=device)
    assert e.nbytes == 6 * dtype.itemsize and e.itemsize == dtype.itemsize
    assert e.is_complex() is False and ember.is_complex(e) is False


# -- type info -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64", "complex64", "complex128"])
def test_finfo(name):
    ours, theirs = ember.finfo(getattr(ember, name)), torch.finfo(getattr(torch, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert repr(ours) == repr(theirs)
    assert ember.finfo().dtype == "float32"


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_and_can_cast(name):
    ours, theirs = ember.iinfo(getattr(ember, name)), torch.iinfo(getattr(torch, name))
    assert (ours.bits, ours.max, ours.min, ours.dtype) == (theirs.bits, theirs.max, theirs.min, theirs.dtype)
    assert repr(ours) == repr(theirs)
    for other in ("bool", "uint8", "int32", "float32", "float64"):
        assert ember.can_cast(getattr(ember, name), getattr(ember, other)) == torch.can_cast(
            getattr(torch, name), getattr(torch, other)
        )
        assert ember.can_cast(getattr(ember, other), getattr(ember, name)) == torch.can_cast(
            getattr(torch, other), getattr(torch, name)
        )


def test_typeinfo_errors():
    with pytest.raises(TypeError, match="floating point input type"):
        ember.finfo(ember.int32)
    with pytest.raises(TypeError, match="integer input type"):
        ember.iinfo(ember.float32)
    with pytest.raises(TypeError, match="not supported"):
        ember.iinfo(ember.bool)


@pytest.mark.parametrize(
    "bounds",
    [
        lambda T: (1, T.tensor([0.5, 1.5, 2.5])),  # a number and a 1-d tensor: no overload takes them
        lambda T: (T.tensor([0, 1, 2]), 2.5),
    ],
)
def test_clamp_refuses_a_number_beside_a_tensor_bound(bounds):
    for T in (torch, ember):
        with pytest.raises(TypeError):
            T.clamp(T.tensor([0, 1, 3]), *bounds(T))


def test_clamp_reads_a_0d_tensor_beside_a_number_as_a_number():
    # (Tensor, Scalar, Scalar): an int tensor clamped to 1.5 is float32, not the 0-d bound's float64
    expected = torch.clamp(torch.tensor([0, 1, 3]), 1, torch.tensor(1.5, dtype=torch.float64))
    got = ember.clamp(ember.tensor([0, 1, 3]), 1, ember.tensor(1.5, dtype=ember.float64))
    assert str(got.dtype)[6:] == str(expected.dtype)[6:] == "float32"
    assert got.tolist() == expected.tolist()
