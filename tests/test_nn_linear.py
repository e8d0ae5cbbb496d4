"""Linear layers against PyTorch: outputs, input and parameter grads, init, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from reference import assert_close, check, randn

import ember
import ember.nn.functional as F
from ember import nn
from ember.autograd import Variable, gradcheck, gradgradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _copy_params(m, tm, device, dtype):
    with ember.no_grad():
        for (name, p), (tname, tp) in zip(m.named_parameters(), tm.named_parameters()):
            assert name == tname
            p.copy_(ember.tensor(tp.detach().numpy(), dtype=dtype, device=device))
    tm.to(getattr(torch, dtype.name))


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5), (5,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_module(shape, bias, device, dtype):
    m = nn.Linear(5, 3, bias=bias).to(device=device, dtype=dtype)
    tm = torch.nn.Linear(5, 3, bias=bias)
    _copy_params(m, tm, device, dtype)
    check(m, tm, [randn(*shape)], device=device, dtype=dtype)
    for p, tp in zip(m.parameters(), tm.parameters()):
        assert_close(p.grad, tp.grad, dtype, what="parameter grad")
    assert repr(m) == repr(tm)


def test_linear_classifier_shape_matches_torch(device, dtype):
    """256 rows of 1024 features to 10: the NumPy backend multiplies these by blocks of rows
    (OpenBLAS's small-matrix GEMM), forward and input gradient; this covers that path."""
    m = nn.Linear(1024, 10).to(device=device, dtype=dtype)
    tm = torch.nn.Linear(1024, 10).to(getattr(torch, dtype.name))
    _copy_params(m, tm, device, dtype)
    check(m, tm, [randn(256, 1024)], device=device, dtype=dtype)


def test_linear_init_bounds():
    m = nn.Linear(20, 30)
    bound = 1 / math.sqrt(20)
    assert m.weight.shape == (30, 20) and m.bias.shape == (30,)
    assert m.weight.abs().max().item() <= bound and m.bias.abs().max().item() <= bound
    assert m.weight.std().item() > bound / 3


def test_linear_errors(device):
    m = nn.Linear(20, 30).to(device)
    with pytest.raises(RuntimeError, match="expected input with 20 features .in_features., got 19"):
        m(ember.randn(4, 19, device=device))
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        F.linear(ember.randn(4, 19, device=device), ember.randn(3, 20, device=device))
    with pytest.raises(TypeError):
        F.linear([1.0], ember.randn(3, 1))
    # a float32 observation into a float64 network (the DQN tutorial's mistake): PyTorch's dtype names
    with pytest.raises(RuntimeError, match="must have the same dtype, but got Float and Double"):
        torch.nn.Linear(3, 2).double()(torch.ones(1, 3))
    with pytest.raises(RuntimeError, match="must have the same dtype, but got Float and Double"):
        nn.Linear(3, 2).double().to(device)(ember.ones(1, 3, device=device))


def test_functional_linear_gradcheck(device):
    x = ember.tensor(randn(3, 4), device=device, requires_grad=True)
    w = ember.tensor(randn(2, 4), device=device, requires_grad=True)
    b = ember.tensor(randn(2), device=device, requires_grad=True)
    assert gradcheck(F.linear, (x, w, b))


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4)])
def test_functional_linear_gradgradcheck(shape, device):
    x = ember.tensor(randn(*shape), device=device, requires_grad=True)
    w = ember.tensor(randn(2, 4), device=device, requires_grad=True)
    b = ember.tensor(randn(2), device=device, requires_grad=True)
    assert gradgradcheck(lambda x, w, b: F.linear(x, w, b).tanh(), (x, w, b))


@pytest.mark.parametrize("needs", [(True, False, False), (False, True, True), (True, True, None)])
def test_functional_linear_partial_grads(needs, device, dtype):
    arrays = [randn(2, 3, 4), randn(5, 4), randn(5)]
    args = [ember.tensor(a, dtype=dtype, device=device, requires_grad=bool(n)) for a, n in zip(arrays, needs)]
    targs = [torch.tensor(a, dtype=getattr(torch, dtype.name), requires_grad=bool(n)) for a, n in zip(arrays, needs)]
    if needs[2] is None:
        args[2] = targs[2] = None
    out, tout = F.linear(*args), TF.linear(*targs)
    assert_close(out, tout, dtype)
    out.square().sum().backward()
    tout.square().sum().backward()
    for a, t, n in zip(args, targs, needs):
        if n:
            assert_close(a.grad, t.grad, dtype, what="grad")
        elif a is not None:
            assert a.grad is None


def test_bilinear(device, dtype):
    m = nn.Bilinear(3, 4, 2).to(device=device, dtype=dtype)
    tm = torch.nn.Bilinear(3, 4, 2)
    _copy_params(m, tm, device, dtype)
    check(m, tm, [randn(5, 3), randn(5, 4)], device=device, dtype=dtype)
    for p, tp in zip(m.parameters(), tm.parameters()):
        assert_close(p.grad, tp.grad, dtype, what="parameter grad")
    assert repr(m) == repr(tm)
    check(F.bilinear, TF.bilinear, [randn(2, 2, 3), randn(2, 2, 4), randn(2, 3, 4)], device=device, dtype=dtype)
    with pytest.raises(RuntimeError, match="input1 size does not match"):
        m(ember.randn(5, 2, device=device, dtype=dtype), ember.randn(5, 4, device=device, dtype=dtype))


def test_identity_flatten_unflatten(device, dtype):
    x = randn(2, 3, 4)
    check(nn.Identity(54, unused=1), torch.nn.Identity(54, unused=1), [x], device=device, dtype=dtype)
    check(nn.Flatten(), torch.nn.Flatten(), [x], device=device, dtype=dtype)
    check(nn.Flatten(0, 1), torch.nn.Flatten(0, 1), [x], device=device, dtype=dtype)
    check(nn.Unflatten(2, (2, 2)), torch.nn.Unflatten(2, (2, 2)), [x], device=device, dtype=dtype)
    assert repr(nn.Flatten()) == repr(torch.nn.Flatten())


def test_seed_examples():
    m = nn.Linear(20, 30)
    input = Variable(ember.randn(128, 20))
    assert m(input).size() == (128, 30)
    m = nn.Bilinear(20, 30, 40)
    assert m(Variable(ember.randn(128, 20)), Variable(ember.randn(128, 30))).size() == (128, 40)


def test_numpy_linear_on_one_blas_thread(numpy_threads):
    """A layer between OpenBLAS's own threading threshold and the one where its threads pay runs on one
    BLAS thread when ember has two (so no BLAS thread is woken to spin): same numbers as on one
    ember thread, and BLAS's thread count back as it was."""
    import numpy as np
    import threadpoolctl

    from ember.backends.numpy.kernels import linear as kernels_linear

    kernels = ember.backends.get_backend("cpu").kernels
    rng = np.random.default_rng(3)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((64, 2048), (10, 2048), (10,)))
    g = rng.standard_normal((64, 10)).astype(np.float32)
    assert kernels_linear._one_thread(64, w)

    def run():
        return (kernels.linear(x, w, b), *kernels.linear_backward(g, x, w, True, True, True))

    numpy_threads(1)
    want = run()
    numpy_threads(2)
    blas = [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]
    for mine, ref in zip(run(), want):
        np.testing.assert_allclose(mine, ref, rtol=1e-5, atol=1e-5)
    assert [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"] == blas


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "rows,inner,outer", [(8, 64, 64), (16, 300, 700), (40, 256, 10), (256, 1024, 10), (300, 64, 96)]
)
def test_numpy_linear_kernels_agree_with_portable(rows, inner, outer, dtype, numpy_and_portable_kernels):
    """The NumPy linear kernels (products by row blocks that OpenBLAS's small-matrix GEMM takes, a
    product of at most 16 rows whole) against the portable ones: forward and the three gradients,
    shapes over and under the small-matrix limit, with few and many output features."""
    from ember.backends.numpy.kernels import small_gemm

    backend, portable = numpy_and_portable_kernels(small_gemm, 1, None)
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((rows, inner)).astype(dtype), rng.standard_normal((outer, inner)).astype(dtype)
    b, g = rng.standard_normal(outer).astype(dtype), rng.standard_normal((rows, outer)).astype(dtype)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    got, want = backend.kernels.linear(x, w, b), portable.linear(x, w, b)
    assert got.dtype == dtype and got.shape == (rows, outer)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    got = backend.kernels.linear_backward(g, x, w, True, True, True)
    for a, e in zip(got, portable.linear_backward(g, x, w, True, True, True)):
        assert a.dtype == dtype and a.shape == e.shape
        np.testing.assert_allclose(a, e, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", ["bfloat16", "float16"])
def test_reduced_precision_linear_rounds_once_with_its_bias(name):
    # PyTorch's addmm adds the bias to the float32 product and rounds once; rounding the product,
    # then the sum, changed a third of the outputs of a bfloat16 layer (autocast's Linear on the CPU)
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) * k for s, k in (((5, 3, 8), 1), ((16, 8), 0.3), ((16,), 0.1))]
    expected = torch.nn.functional.linear(*(torch.tensor(a).to(getattr(torch, name)) for a in arrays))
    actual = F.linear(*(ember.tensor(a).to(getattr(ember, name)) for a in arrays))
    np.testing.assert_array_equal(actual.float().numpy(), expected.float().numpy())
    with torch.autocast("cpu", dtype=torch.bfloat16), ember.autocast("cpu", dtype=ember.bfloat16):
        expected = torch.nn.functional.linear(*(torch.tensor(a) for a in arrays))
        actual = F.linear(*(ember.tensor(a) for a in arrays))
    np.testing.assert_array_equal(actual.float().numpy(), expected.float().numpy())
