"""The fifth CPU per-op round against PyTorch: the NumPy kernels marked ``unsignalling`` (data movement,
selection, comparisons, integer arithmetic) run without the wrapper that sets and resets NumPy's error state
around every other kernel. Each is proved not to signal under ``np.errstate(all="raise")`` with warnings as
errors, over NaN, infinities, zeros of both signs, huge and subnormal values, the dtypes it takes, at small
sizes and at the sizes of its compiled or blocked paths; the ops on them give PyTorch's values and gradients
under that error state."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.backends.numpy.backend import numpy_bfloat16
from ember.kernels.unsignalling import is_unsignalling, unsignalling

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402

UNSIGNALLING = {
    "col2im_order",
    "fused_attention_supports",
    "gather_points",
    "linalg_lu_permutation",
    "max_pool",
    "median_positions",
    "mode_positions",
    "overridden",
    "pool_gather",
    "relu",
    "relu_backward",
    "stable_order_head",
    "take_axis",
    "threshold_backward",
}
EDGES = [math.nan, math.inf, -math.inf, 0.0, -0.0, 3e38, -3e38, 1e-45, -1e-45, 1e300, 1.0, -2.5, 65504.0, 7.0]
FLOAT_NAMES = ["float16", "bfloat16", "float32", "float64"]
INT_NAMES = ["int64", "int32", "uint8", "bool"]
SIZES = {"small": 10, "large": 40000}


def _kernels():
    return ember.backends.get_backend("cpu").kernels


def _native(name):
    return numpy_bfloat16() if name == "bfloat16" else np.dtype(name)


def _values(name, n, seed=0):
    """``n`` values of dtype ``name``: the edge values first (cast silently; what a float type cannot hold
    becomes its infinity, an integer type takes finite values only), then random ones with ties."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.standard_normal(n) * 4, 1)
    x[: min(n, len(EDGES))] = EDGES[: min(n, len(EDGES))]
    if name in INT_NAMES:
        x = np.nan_to_num(x, posinf=9.0, neginf=-9.0)
        x = np.clip(x, -100, 100) if name != "uint8" else np.abs(np.clip(x, -100, 100))
    with np.errstate(all="ignore"):
        return x.astype(_native(name))


def _raising():
    """NumPy's error state raising on every floating-point error and warnings as errors."""

    class _Both:
        def __enter__(self):
            self.w = warnings.catch_warnings()
            self.w.__enter__()
            warnings.simplefilter("error")
            self.e = np.errstate(all="raise")
            self.e.__enter__()

        def __exit__(self, *exc):
            self.e.__exit__(*exc)
            self.w.__exit__(*exc)

    return _Both()


# -- the mark ------------------------------------------------------------------------------------------
def test_marked_kernels_are_the_numpy_tables_own_methods():
    """The kernels marked unsignalling, and only those, are called as the table defines them (bound
    methods); every other kernel runs inside the wrapper that silences NumPy."""
    kernels = _kernels()
    unwrapped = {
        name
        for name in dir(kernels)
        if not name.startswith("_") and callable(getattr(kernels, name)) and hasattr(getattr(kernels, name), "__func__")
    }
    assert unwrapped == UNSIGNALLING
    assert all(is_unsignalling(getattr(type(kernels), name)) for name in UNSIGNALLING)


def test_the_mark_is_an_attribute_of_one_implementation():
    class Base:
        @unsignalling
        def take(self, x):
            return x

    class Override(Base):
        def take(self, x):
            return x + 1

    assert is_unsignalling(Base.take) and is_unsignalling(Base().take)
    assert not is_unsignalling(Override.take) and not is_unsignalling(Override().take)


# -- each marked kernel over its dtypes and edge values, NumPy raising -----------------------------------
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", FLOAT_NAMES + INT_NAMES[:3])
def test_relu_and_its_gradient_kernels_do_not_signal(name, size):
    k = _kernels()
    n = SIZES[size]
    x = _values(name, n).reshape(-1, 2) if n > 10 else _values(name, n)
    grad = _values(name, n, seed=1).reshape(x.shape)
    with _raising():
        y = k.relu(x)
        k.relu(x.T)  # a strided input: NumPy's path
        k.relu_backward(grad, y)
        k.relu_backward(grad.T, y.T)
        k.threshold_backward(grad, x > 0)
    assert y.dtype == x.dtype


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", FLOAT_NAMES + INT_NAMES[:3])
def test_pooling_gather_kernels_do_not_signal(name, size):
    k = _kernels()
    side = 6 if size == "small" else 64
    x = _values(name, 2 * 3 * side * side).reshape(2, 3, side, side)
    with _raising():
        for kernel, stride, padding in (((2, 2), (2, 2), (0, 0)), ((3, 3), (2, 2), (1, 1)), ((2, 3), (1, 2), (1, 0))):
            out_shape = tuple((s + 2 * p - kk) // st + 1 for s, kk, st, p in zip((side, side), kernel, stride, padding))
            values, indices = k.max_pool(x, kernel, stride, padding, (1, 1), out_shape)
            k.pool_gather(x, indices)
        k.max_pool(x.reshape(2, 3, -1), (3,), (2,), (1,), (1,), ((side * side + 2 - 3) // 2 + 1,))
        k.take_axis(x, np.array([0, side - 1, 1, 1]), 3)
        k.gather_points(x.reshape(2, 3, -1), np.array([[0, 5, 5], [side - 1, 0, 2]]))


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", FLOAT_NAMES + INT_NAMES)
def test_selection_kernels_do_not_signal(name, size):
    k = _kernels()
    n = SIZES[size]
    x = _values(name, n * 8).reshape(8, n)
    with _raising():
        for m in (1, 3, n):
            k.stable_order_head(x, m, 1, True)
            k.stable_order_head(x, m, 1, False)
        k.stable_order_head(x.T, 2, 0, True)
        k.median_positions(x, 1)
        k.median_positions(x.T, 0)
        k.mode_positions(x[:, :10])
        k.mode_positions(x.reshape(-1, 8)[:, :8])


def test_the_remaining_marked_kernels_do_not_signal():
    k = _kernels()
    rng = np.random.default_rng(0)
    with _raising():
        for batch, m in (((), 5), ((3,), 6), ((2, 2), 40)):
            pivots = rng.integers(1, m + 1, size=batch + (m,)).astype(np.int32)
            pivots = np.maximum(pivots, np.arange(1, m + 1, dtype=np.int32))
            k.linalg_lu_permutation(pivots, m)
        k.linalg_lu_permutation(np.zeros((0,), np.int32), 3)
        g = _values("float32", 2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
        assert list(k.col2im_order(4, g, g)) == [0, 1, 2, 3]
        q = _values("float32", 2 * 4 * 8).reshape(2, 4, 8)
        k.fused_attention_supports(q, q, q, None, False, 1.0, 0.0)
        k.overridden()


# -- the ops that reach them, against PyTorch, NumPy raising ----------------------------------------------
def _host(t):
    return np.asarray(t.detach().cpu().to(ember.float64).numpy())


def _pair(x, dtype, requires_grad=False):
    e = ember.tensor(x).to(getattr(ember, dtype)).requires_grad_(requires_grad)
    t = torch.tensor(x).to(getattr(torch, dtype)).requires_grad_(requires_grad)
    return e, t


@pytest.mark.parametrize("size", [64, 40000])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_relu_and_threshold_gradients_under_raising_numpy_match_torch(dtype, size):
    x = _values("float64", size)
    upstream = _values("float64", size, seed=2)
    e, t = _pair(x, dtype, True)
    ge, gt = _pair(upstream, dtype)
    with _raising():
        F.relu(e).backward(ge)
        F.threshold(e, 1.5, 1.5).backward(ge)
    TF.relu(t).backward(gt)
    TF.threshold(t, 1.5, 1.5).backward(gt)
    np.testing.assert_array_equal(_host(e.grad), t.grad.double().numpy())


@pytest.mark.parametrize("side", [6, 64])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_max_pool_under_raising_numpy_matches_torch(dtype, side):
    x = _values("float64", 2 * 3 * side * side).reshape(2, 3, side, side)
    e, t = _pair(x, dtype, True)
    with _raising():
        ye, ie = F.max_pool2d(e, 3, 2, 1, return_indices=True)
        ye.sum().backward()
    yt, it = TF.max_pool2d(t, 3, 2, 1, return_indices=True)
    yt.sum().backward()
    np.testing.assert_array_equal(_host(ye), yt.detach().double().numpy())
    np.testing.assert_array_equal(ie.numpy(), it.numpy())
    np.testing.assert_array_equal(_host(e.grad), t.grad.double().numpy())


@pytest.mark.parametrize("n", [10, 400])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_selections_under_raising_numpy_match_torch(dtype, n):
    x = _values("float64" if dtype != "int64" else "int64", n * 4).reshape(4, n)
    e, t = _pair(x, dtype)
    with _raising():
        te = ember.topk(e, 3, dim=1)
        me = ember.median(e, dim=1)
        mo = ember.mode(e[:, :10], dim=1)
    tt, mt, mot = torch.topk(t, 3, dim=1), torch.median(t, dim=1), torch.mode(t[:, :10], dim=1)
    for got, want in ((te, tt), (me, mt), (mo, mot)):
        np.testing.assert_array_equal(_host(got.values), want.values.double().numpy())
        np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())


def test_lu_permutation_and_reflection_pad_under_raising_numpy_match_torch():
    a = np.random.default_rng(5).standard_normal((3, 5, 5))
    e, t = _pair(a, "float64")
    with _raising():
        lu, piv = ember.linalg.lu_factor(e)
        pe = ember.lu_unpack(lu, piv)[0]
        padded = F.pad(e, (2, 2), mode="reflect")
    np.testing.assert_array_equal(pe.numpy(), torch.lu_unpack(*torch.linalg.lu_factor(t))[0].numpy())
    np.testing.assert_array_equal(padded.numpy(), TF.pad(t, (2, 2), mode="reflect").numpy())


# -- backward: sum's gradient and a leaf's first .grad on native arrays when no graph is built --------------
SUM_CASES = {
    "all": ((64, 64), lambda x: x.sum(), None),
    "dim": ((4, 3), lambda x: x.sum(1), (4,)),
    "dims keepdim": ((2, 3, 4), lambda x: x.sum((0, 2), keepdim=True), (1, 3, 1)),
    "size-1 dim": ((4, 1, 3), lambda x: x.sum((0, 2)), (1,)),
    "size-1 kept": ((3, 1), lambda x: x.sum(1), (3,)),
    "transposed leaf": ((3, 5), lambda x: x.t().sum(0), (3,)),
}


def _leaf(T, shape, dtype, transposed, seed=0):
    x = np.random.default_rng(seed).standard_normal(shape)
    t = T.tensor(x.T if transposed else x, dtype=getattr(T, dtype))
    t = t.t() if transposed else t
    return t.requires_grad_(True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", list(SUM_CASES))
def test_sum_backward_gives_torchs_gradients_views_and_layouts(case, dtype):
    """The gradient a leaf's hook sees (values, strides, a view or not) and the ``.grad`` it keeps (values,
    strides), with NumPy raising, hooks in PyTorch's order."""
    shape, fn, upstream = SUM_CASES[case]
    seen = {}
    for T in (torch, ember):
        transposed = case == "transposed leaf"
        x = _leaf(T, shape, dtype, transposed)
        order = seen.setdefault(T.__name__, [])

        def hook(g, order=order):
            order.append(("hook", tuple(g.shape), g.stride(), g._is_view(), g.is_contiguous()))

        x.register_hook(hook)
        x.register_post_accumulate_grad_hook(lambda leaf, order=order: order.append(("post", leaf.grad.stride())))
        y = fn(x)
        gradient = None if upstream is None else T.arange(1, math.prod(upstream) + 1, dtype=y.dtype).reshape(upstream)
        with _raising():
            y.backward(gradient)
        order.append(("grad", x.grad.stride(), x.grad._is_view(), x.grad.dtype.is_floating_point))
        seen[T.__name__ + " values"] = x.grad.detach().double().numpy()
        seen[T.__name__ + " version"] = x.grad._version
    assert seen["ember"] == seen["torch"]
    np.testing.assert_array_equal(seen["ember values"], seen["torch values"])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_products_sum_and_an_mlp_step_give_torchs_grads(dtype):
    grads = {}
    for T in (torch, ember):
        T.manual_seed(0)
        x = T.tensor(np.random.default_rng(1).standard_normal((16, 32)), dtype=getattr(T, dtype))
        a = _leaf(T, (8, 8), dtype, False, seed=2)
        b = _leaf(T, (8, 8), dtype, False, seed=3)
        (a * b).sum().backward()
        w1 = _leaf(T, (64, 32), dtype, False, seed=4)
        w2 = _leaf(T, (10, 64), dtype, False, seed=5)
        b1 = _leaf(T, (64,), dtype, False, seed=6)
        F_ = TF if T is torch else F
        loss = F_.cross_entropy(F_.linear(F_.relu(F_.linear(x, w1, b1)), w2), T.tensor([i % 10 for i in range(16)]))
        loss.backward()
        grads[T.__name__] = [(t.grad.detach().double().numpy(), t.grad.stride()) for t in (a, b, w1, w2, b1)]
    for (ge, se), (gt, st) in zip(grads["ember"], grads["torch"]):
        assert se == st
        np.testing.assert_allclose(
            ge, gt, rtol=1e-5 if dtype == "float32" else 1e-10, atol=1e-5 if dtype == "float32" else 1e-12
        )


def test_sum_backward_builds_torchs_graph_under_create_graph():
    results = {}
    for T in (torch, ember):
        x = T.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
        (g,) = T.autograd.grad((x * x).sum(1).sum(), x, create_graph=True)
        (h,) = T.autograd.grad(g.sum(), x)
        x.sum().backward(create_graph=True)
        results[T.__name__] = (g.detach().numpy(), h.numpy(), x.grad.requires_grad, type(x.grad.grad_fn).__name__)
    for e, t in zip(results["ember"], results["torch"]):
        np.testing.assert_array_equal(e, t) if isinstance(t, np.ndarray) else None
    assert results["ember"][2:] == results["torch"][2:]


def test_sum_backward_errors_as_torchs():
    for T in (torch, ember):
        x = T.ones(3, 2, requires_grad=True)
        with pytest.raises(RuntimeError, match="Mismatch in shape"):
            x.sum(1).backward(T.ones(2))
        with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
            x.sum(1).backward()


# -- the NumPy namespace's broadcast_to: a strided view laid out directly, as NumPy's own --------------------
@pytest.mark.parametrize("writeable", [True, False])
@pytest.mark.parametrize("name", ["float32", "float64", "bfloat16", "bool", "int64", "complex128"])
def test_numpy_broadcast_to_is_numpys_view_written_through(name, writeable):
    """Shapes, strides (0 for a new dimension and any of size 1), contiguity flags, values, memory and errors of
    NumPy's ``broadcast_to``, writeable where the input is (expand writes through, as PyTorch's)."""
    from ember.backends.numpy.namespace import namespace

    targets = [(), (1,), (3,), (4, 3), (3, 1), (1, 3), (5, 2, 3), (2, 2, 1, 3), (1, 2, 1), (0, 3), (2, 0), (-1, 3)]
    targets += [(1, 1, 1), (2, 4, 5, 6), (4, 1, 6), (1, 4, 5, 6)]
    for shape in [(), (1,), (3,), (1, 3), (3, 1), (2, 3), (2, 1, 3), (4, 5, 6)]:
        base = np.arange(math.prod(shape)).astype(_native(name)).reshape(shape)
        for x in (base, base[...], base.T if base.ndim > 1 else base):
            x = x.copy() if not x.flags.c_contiguous else x
            x.flags.writeable = writeable
            for target in targets:
                for given in (target, list(target)):
                    try:
                        want = np.broadcast_to(x, tuple(given))
                    except ValueError as error:
                        with pytest.raises(ValueError, match=re.escape(str(error))):
                            namespace.broadcast_to(x, given)
                        continue
                    got = namespace.broadcast_to(x, given)
                    assert (got.shape, got.strides, got.dtype) == (want.shape, want.strides, want.dtype)
                    assert (got.flags.c_contiguous, got.flags.f_contiguous) == (
                        want.flags.c_contiguous,
                        want.flags.f_contiguous,
                    )
                    assert got.flags.writeable == writeable
                    np.testing.assert_array_equal(got, want)
                    if got.size:
                        assert got.__array_interface__["data"][0] == x.__array_interface__["data"][0]
                        assert got.base is want.base
