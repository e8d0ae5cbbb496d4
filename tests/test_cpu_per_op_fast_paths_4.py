"""The fourth CPU per-op round against PyTorch: ``log_softmax`` over the last dim of many rows, whose NumPy
kernel now shifts each row by its element at its ``argmax`` (as ``softmax`` does) unless a row's maximum is a
zero, and sums ``exp`` by the ufunc's reduction: the shift is ``maximum.reduce``'s bit for bit (but for which
NaN), and values, dtypes, gradients, graph nodes and errors are PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest
from against_torch import same_error

import ember
import ember.nn.functional as F

torch = pytest.importorskip("torch")

FLOATS = ["float32", "float64"]


def _host(t):
    return np.asarray(t.detach().cpu().to(ember.float64).numpy())


def _rows(shape, dtype, seed=0):
    """Random rows with the special ones a shift by the maximum meets: a zero maximum of either sign whose
    log-sum-exp is exactly 0, NaN, +-inf, all -inf, and ties."""
    x = np.random.default_rng(seed).standard_normal(shape) * 3
    flat = x.reshape(-1, shape[-1])
    flat[1] = -300.0
    flat[1, 5] = -0.0  # the maximum is -0.0; exp of every other element underflows: log(sum) == 0
    flat[2] = -300.0
    flat[2, 7] = 0.0
    flat[3, 3] = np.nan
    flat[4, 0] = np.inf
    flat[5] = -np.inf
    flat[6] = 1.5  # every element ties
    flat[7, :2] = -0.0  # ties of a -0.0 maximum
    flat[7, 2:] = -500.0
    return x.astype(dtype)


#: (shape, dim) with many rows of at least 16 elements (the argmax shift) and others (maximum.reduce)
SHAPES = [((64, 64), 1), ((40, 16), -1), ((4, 16, 33), 2), ((600, 128), 1), ((16, 10), 1), ((64, 40), 0)]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", SHAPES, ids=str)
def test_numpy_log_softmax_shift_is_the_maximum_reduce(case, dtype):
    """The NumPy kernel's shift has ``maximum.reduce``'s values and signs of zero (NaN where it has NaN)."""
    from ember.backends.numpy.kernels.softmax import _log_shift

    shape, dim = case
    x = _rows(shape, dtype)
    got, want = _log_shift(x, dim % x.ndim), np.maximum.reduce(x, axis=dim, keepdims=True)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    assert (np.signbit(got) == np.signbit(want))[~np.isnan(want)].all()


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", SHAPES, ids=str)
def test_numpy_log_softmax_kernel_is_the_formula_of_the_maximum(case, dtype):
    """The whole NumPy kernel gives ``x - max - log(sum(exp(x - max)))`` with ``maximum.reduce``'s maxima, bit for
    bit (a single block: the rows' sums by the ufunc's reduction; NaN compared as NaN)."""
    shape, dim = case
    if shape == (600, 128):
        pytest.skip("several blocks: their row sums go through BLAS")
    backend = ember.backends.get_backend("cpu")
    x = _rows(shape, dtype)
    got = backend.kernels.log_softmax(x, dim % x.ndim)
    with np.errstate(all="ignore"):
        shifted = x - np.maximum.reduce(x, axis=dim, keepdims=True)
        want = shifted - np.log(np.add.reduce(np.exp(shifted), axis=dim, keepdims=True))
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    assert (np.signbit(got) == np.signbit(want))[~np.isnan(want)].all()


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", SHAPES, ids=str)
def test_log_softmax_matches_torch(device, case, dtype):
    """Values (NaN where PyTorch has NaN, the sign of an exact zero), dtype, node and gradient."""
    if dtype == "float64" and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    shape, dim = case
    x = _rows(shape, dtype)
    e = ember.tensor(x, device=device).requires_grad_()
    t = torch.tensor(x).requires_grad_()
    ye, yt = F.log_softmax(e, dim), torch.nn.functional.log_softmax(t, dim)
    assert ye.dtype is e.dtype and tuple(ye.shape) == tuple(yt.shape)
    assert type(ye.grad_fn).__name__ == type(yt.grad_fn).__name__ == "LogSoftmaxBackward0"
    got, want = _host(ye), yt.detach().double().numpy()
    tolerance = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)
    exact_zero = want == 0
    np.testing.assert_array_equal(np.signbit(got[exact_zero]), np.signbit(want[exact_zero]))
    finite = np.broadcast_to(np.isfinite(x).all(axis=dim, keepdims=True), x.shape)  # rows of finite logits
    upstream = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    ye.backward(ember.tensor(upstream, device=device))
    yt.backward(torch.tensor(upstream))
    assert e.grad.dtype is e.dtype
    np.testing.assert_allclose(
        _host(e.grad)[finite], t.grad.double().numpy()[finite], rtol=tolerance * 10, atol=tolerance * 10
    )


@pytest.mark.parametrize("log", [True, False], ids=["log_softmax", "softmax"])
def test_softmax_family_of_many_rows_under_no_grad_matches_torch(device, log):
    """The benchmark's case: (64, 64) float32 over dim -1 without a graph."""
    x = np.random.default_rng(2).standard_normal((64, 64)).astype(np.float32)
    name = "log_softmax" if log else "softmax"
    with ember.no_grad():
        got = getattr(F, name)(ember.tensor(x, device=device, requires_grad=True), -1)
    want = getattr(torch.nn.functional, name)(torch.tensor(x), -1)
    assert got.grad_fn is None and not got.requires_grad and got.dtype is ember.float32
    np.testing.assert_allclose(_host(got), want.double().numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "make",
    [
        lambda m, d: m.nn.functional.log_softmax(m.ones(64, 64, dtype=m.int64, device=d), -1),
        lambda m, d: m.nn.functional.log_softmax(m.ones(64, 64, device=d), 2),
        lambda m, d: m.nn.functional.log_softmax(m.ones(64, 64, dtype=m.uint16, device=d), -1),
    ],
)
def test_log_softmax_errors_match_torch(make):
    same_error(make, "cpu")


# -- relu: its NumPy kernel runs without the error-state wrapper ------------------------------------
def test_numpy_relu_kernel_is_called_as_it_is():
    """``relu`` is the NumPy kernel table's own method (no wrapper sets and resets NumPy's error state)."""
    kernels = ember.backends.get_backend("cpu").kernels
    assert kernels.relu.__func__ is type(kernels).relu


@pytest.mark.parametrize("size", [4096, 20000], ids=["small", "compiled-size"])
@pytest.mark.parametrize("dtype", FLOATS + ["float16", "bfloat16", "int64"])
def test_relu_under_numpy_raising_errors_matches_torch(device, dtype, size):
    """Under ``np.errstate(all="raise")`` relu of NaN, infinities and zeros of both signs raises nothing and
    gives PyTorch's values (the sign of zero compared), dtype, node and gradient."""
    if dtype == "bfloat16" and ember.device(device).type == "opencl":
        pytest.skip("no bfloat16 on opencl")
    x = np.random.default_rng(3).standard_normal(size) * 4
    x[:6] = [np.nan, np.inf, -np.inf, -0.0, 0.0, -1.0]
    floating = dtype != "int64"
    if not floating:
        x = np.nan_to_num(x, posinf=7.0, neginf=-7.0)
    e = ember.tensor(x, device=device).to(getattr(ember, dtype)).requires_grad_(floating)
    t = torch.tensor(x).to(getattr(torch, dtype)).requires_grad_(floating)
    with np.errstate(all="raise"):
        ye = F.relu(e)
    yt = torch.nn.functional.relu(t)
    assert str(ye.dtype).split(".")[-1] == str(yt.dtype).split(".")[-1]
    got, want = _host(ye), yt.detach().double().numpy()
    np.testing.assert_array_equal(got, want)
    number = ~np.isnan(want)
    np.testing.assert_array_equal(np.signbit(got[number]), np.signbit(want[number]))
    if floating:
        assert type(ye.grad_fn).__name__ == type(yt.grad_fn).__name__
        ye.sum().backward()
        yt.sum().backward()
        np.testing.assert_array_equal(_host(e.grad), t.grad.double().numpy())


# -- cross_entropy: the NumPy log-sum-exp of one block -----------------------------------------------
def _logits(shape, dtype, special):
    x = np.random.default_rng(4).standard_normal(shape) * 3
    if special == "far below":
        x[0, 1] = -100.0  # an element out of the range without a shift, the row's maximum in it
    elif special == "far above":
        x[1, 2] = 100.0
    elif special == "nan":
        x[2, 0] = np.nan
    elif special == "inf":
        x[3, 2] = -np.inf
    return x.astype(dtype)


SPECIALS = ["in range", "far below", "far above", "nan", "inf"]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("special", SPECIALS)
@pytest.mark.parametrize("shape", [(16, 10), (5, 3), (64, 500)], ids=str)
def test_numpy_log_sum_exp_of_one_block_is_the_row_maxima_ones(shape, special, dtype):
    """Where every element lies in the range, the log-sum-exp without row maxima is the one that takes them
    (and checks them) bit for bit; elsewhere the same function runs."""
    from ember.backends.numpy.kernels.loss import _log_sum_exp_into

    kernels = ember.backends.get_backend("cpu").kernels
    x = _logits(shape, dtype, special)
    want = np.empty(shape[0], dtype=dtype)
    _log_sum_exp_into(x, want, None)
    got = kernels._log_sum_exp(x)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("special", SPECIALS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_of_one_block_matches_torch(device, special, reduction, dtype):
    """Values, dtype, node and gradient of cross_entropy (an ignored target too) against PyTorch's."""
    if dtype == "float64" and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    x = _logits((16, 10), dtype, special)
    target = np.random.default_rng(5).integers(0, 10, 16)
    target[4] = -100
    e = ember.tensor(x, device=device).requires_grad_()
    t = torch.tensor(x).requires_grad_()
    le = F.cross_entropy(e, ember.tensor(target, device=device), reduction=reduction)
    lt = torch.nn.functional.cross_entropy(t, torch.tensor(target), reduction=reduction)
    assert le.dtype is e.dtype and tuple(le.shape) == tuple(lt.shape)
    assert type(le.grad_fn).__name__ == type(lt.grad_fn).__name__
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(_host(le), lt.detach().double().numpy(), rtol=tolerance, atol=tolerance)
    le.sum().backward()
    lt.sum().backward()
    np.testing.assert_allclose(_host(e.grad), t.grad.double().numpy(), rtol=tolerance, atol=tolerance)


# -- nll_loss and cross_entropy: the NumPy kernels where no target is ignored --------------------------
@pytest.mark.parametrize("dtype", FLOATS + ["float16"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_numpy_class_index_kernels_without_ignored_rows_are_the_masked_ones(dtype, weighted, smoothing):
    """Each kernel's rows where no target is ignored (no mask) are, bit for bit, the same rows computed with a
    mask (the same batch with one ignored row more, a copy of the first, so that every branch is the same)."""
    if dtype == "float16" and smoothing:
        pytest.skip("a float16 cross_entropy takes log_softmax and nll_loss")
    kernels = ember.backends.get_backend("cpu").kernels
    rng = np.random.default_rng(6)
    x = (rng.standard_normal((16, 10)) * 3).astype(dtype)
    x[0, 1] = -np.inf  # a target's -inf pick
    target = rng.integers(0, 10, 16)
    target[0] = 1
    weight = rng.uniform(0.5, 2.0, 10).astype(dtype) if weighted else None
    masked_x = np.concatenate([x, x[:1]])
    masked_target = np.concatenate([target, [-100]])
    coeff = np.asarray(0.3, dtype=dtype)
    runs = [
        lambda x, t: kernels.nll_loss(x, t, weight, -100),
        lambda x, t: (kernels.nll_loss_backward(coeff, t, weight, -100, 10),),
    ]
    if dtype != "float16":

        def cross_entropy(x, t):
            saved, losses, w = kernels.cross_entropy(x, t, weight, -100, smoothing)
            return losses, w, kernels.cross_entropy_backward(coeff, saved, t, weight, -100, smoothing)

        runs.append(cross_entropy)
    for run in runs:
        for got, want in zip(run(x, target), run(masked_x, masked_target)):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want[:16])
            assert (np.signbit(got) == np.signbit(want[:16]))[~np.isnan(got)].all()


@pytest.mark.parametrize("dtype", FLOATS + ["float16", "bfloat16"])
@pytest.mark.parametrize("ignored", [False, True], ids=["none-ignored", "one-ignored"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
def test_class_index_losses_with_and_without_ignored_rows_match_torch(
    device, name, reduction, weighted, ignored, dtype
):
    """Values, dtype, node and gradient against PyTorch's, with and without an ignored target."""
    backend = ember.backends.get_backend(device)
    if dtype == "float64" and not backend.supports_float64:
        pytest.skip(f"{device} has no float64")
    if dtype == "bfloat16" and ember.device(device).type == "opencl":
        pytest.skip("no bfloat16 on opencl")
    rng = np.random.default_rng(7)
    x = rng.standard_normal((16, 10)) * 3
    target = rng.integers(0, 10, 16)
    if ignored:
        target[5] = -100
    w = rng.uniform(0.5, 2.0, 10) if weighted else None
    e = ember.tensor(x, device=device).to(getattr(ember, dtype)).requires_grad_()
    t = torch.tensor(x).to(getattr(torch, dtype)).requires_grad_()
    we = None if w is None else ember.tensor(w, device=device).to(e.dtype)
    wt = None if w is None else torch.tensor(w).to(t.dtype)
    le = getattr(F, name)(e, ember.tensor(target, device=device), we, reduction=reduction)
    lt = getattr(torch.nn.functional, name)(t, torch.tensor(target), wt, reduction=reduction)
    assert str(le.dtype).split(".")[-1] == str(lt.dtype).split(".")[-1] and tuple(le.shape) == tuple(lt.shape)
    assert type(le.grad_fn).__name__ == type(lt.grad_fn).__name__
    tolerance = {"float32": 1e-5, "float64": 1e-12, "float16": 2e-3, "bfloat16": 2e-2}[dtype]
    np.testing.assert_allclose(_host(le), lt.detach().double().numpy(), rtol=tolerance, atol=tolerance)
    le.sum().backward()
    lt.sum().backward()
    np.testing.assert_allclose(_host(e.grad), t.grad.double().numpy(), rtol=tolerance, atol=tolerance)
