"""Convolutions and transposed convolutions, differential against PyTorch."""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from reference import assert_close, check, randn

import ember
import ember.nn.functional as F
from ember import nn

CONV_CASES = [
    # (nd, input shape, weight shape, kwargs)
    (1, (2, 4, 9), (6, 4, 3), {}),
    (1, (4, 7), (3, 4, 2), {"stride": 2, "padding": 1}),  # unbatched
    (1, (2, 3, 9), (4, 3, 3), {"padding": "same", "dilation": 2}),
    (1, (2, 4, 8), (4, 1, 4), {"padding": "same", "groups": 4}),  # depthwise, even kernel
    (2, (2, 4, 7, 6), (6, 2, 3, 2), {"stride": (2, 1), "padding": 1, "dilation": (1, 2), "groups": 2}),
    (2, (1, 3, 5, 5), (2, 3, 2, 2), {"stride": 3}),  # stride > kernel
    (2, (3, 6, 6), (4, 3, 3, 3), {"padding": "valid"}),  # unbatched
    (2, (2, 3, 6, 5), (6, 1, 3, 3), {"groups": 3, "padding": (1, 0)}),  # depthwise multiplier 2
    (3, (1, 2, 4, 5, 3), (3, 2, 2, 3, 1), {"stride": (1, 2, 1), "padding": (1, 0, 1)}),
    (3, (2, 3, 3, 4), (2, 2, 2, 2, 2), {"padding": "same"}),  # unbatched
]


def _conv(nd, lib):
    return getattr(F if lib == "ember" else TF, f"conv{nd}d")


@pytest.mark.parametrize("nd, xs, ws, kwargs", CONV_CASES)
@pytest.mark.filterwarnings("ignore:Using padding=.same.")
def test_conv_matches_torch(device, dtype, nd, xs, ws, kwargs):
    for bias in (None, randn(ws[0])):
        arrays = [randn(*xs), randn(*ws)] + ([] if bias is None else [bias])
        check(
            lambda *a: _conv(nd, "ember")(*a[:2], a[2] if len(a) > 2 else None, **kwargs),
            lambda *a: _conv(nd, "torch")(*a[:2], a[2] if len(a) > 2 else None, **kwargs),
            arrays,
            device=device,
            dtype=dtype,
        )


TRANSPOSE_CASES = [
    (1, (2, 4, 5), (4, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    (1, (4, 5), (4, 2, 2), {"dilation": 2, "groups": 2}),  # unbatched
    (2, (2, 4, 3, 4), (4, 3, 3, 2), {"stride": (2, 3), "padding": (1, 0), "output_padding": (1, 2)}),
    (2, (1, 4, 3, 3), (4, 1, 2, 2), {"groups": 4, "stride": 2, "dilation": 2, "output_padding": 1}),
    (3, (1, 2, 2, 3, 2), (2, 3, 2, 1, 2), {"stride": 2, "padding": (0, 0, 1)}),
]


@pytest.mark.parametrize("nd, xs, ws, kwargs", TRANSPOSE_CASES)
def test_conv_transpose_matches_torch(device, dtype, nd, xs, ws, kwargs):
    groups = kwargs.get("groups", 1)
    check(
        lambda x, w, b: getattr(F, f"conv_transpose{nd}d")(x, w, b, **kwargs),
        lambda x, w, b: getattr(TF, f"conv_transpose{nd}d")(x, w, b, **kwargs),
        [randn(*xs), randn(*ws), randn(ws[1] * groups)],
        device=device,
        dtype=dtype,
    )


def _copy_params(em, tm, device):
    for name, p in tm.named_parameters():
        getattr(em, name).data = ember.tensor(p.detach().numpy(), device=device)


@pytest.mark.parametrize(
    "cls, args, kwargs, xs",
    [
        ("Conv1d", (4, 6, 3), {"stride": 2, "padding_mode": "reflect", "padding": 1}, (2, 4, 9)),
        ("Conv2d", (4, 6, (3, 2)), {"padding": (1, 2), "padding_mode": "circular", "groups": 2}, (2, 4, 5, 5)),
        ("Conv2d", (3, 4, 3), {"padding": "same", "padding_mode": "replicate", "bias": False}, (3, 5, 4)),
        ("Conv3d", (2, 4, 2), {"padding": 1, "dilation": 2}, (1, 2, 4, 4, 3)),
        ("ConvTranspose1d", (4, 2, 3), {"stride": 2, "groups": 2}, (2, 4, 3)),
        ("ConvTranspose2d", (3, 4, 3), {"stride": 2, "padding": 1, "output_padding": 1}, (1, 3, 3, 3)),
        ("ConvTranspose3d", (2, 2, 2), {"stride": (1, 2, 2)}, (2, 2, 2, 3)),
    ],
)
def test_modules_match_torch_with_parameter_grads(device, dtype, cls, args, kwargs, xs):
    tm = getattr(torch.nn, cls)(*args, **kwargs).to(getattr(torch, dtype.name))
    em = getattr(nn, cls)(*args, **kwargs)
    _copy_params(em, tm, device)
    em = em.to(dtype)
    check(em, tm, [randn(*xs)], device=device, dtype=dtype)
    for name, p in tm.named_parameters():
        assert_close(getattr(em, name).grad, p.grad, dtype, what=f"grad of {name}")
    assert repr(em) == repr(tm)


def test_conv_transpose_output_size(device):
    tm = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1).double()
    em = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    _copy_params(em, tm, device)
    x = randn(1, 2, 4, 4)
    for size in ([7, 7], [8, 8], [1, 3, 8, 7]):
        out = em(ember.tensor(x, device=device), output_size=size)
        assert_close(out, tm(torch.tensor(x), output_size=size))
    with pytest.raises(ValueError, match=r"valid sizes range from \[7, 7\] to \[8, 8\]"):
        em(ember.tensor(x, device=device), output_size=[9, 9])


def test_reset_parameters_bounds():
    m = nn.Conv2d(3, 8, (3, 2), groups=1)
    bound = 1 / math.sqrt(3 * 3 * 2)
    assert m.weight.shape == (8, 3, 3, 2) and m.bias.shape == (8,)
    assert float(m.weight.abs().max()) <= bound and float(m.weight.abs().max()) > bound / 2
    assert float(m.bias.abs().max()) <= bound
    t = nn.ConvTranspose2d(4, 6, 3, groups=2)
    assert t.weight.shape == (4, 3, 3, 3)
    assert float(t.bias.abs().max()) <= 1 / math.sqrt(3 * 9)


def test_gradcheck_and_double_backward(device):
    if not ember.backends.get_backend(device).supports_float64:
        pytest.skip("no float64")
    x = ember.tensor(randn(1, 2, 4, 3), device=device, requires_grad=True)
    w = ember.tensor(randn(4, 1, 2, 2), device=device, requires_grad=True)
    b = ember.tensor(randn(4), device=device, requires_grad=True)
    fn = lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2)  # noqa: E731
    assert ember.autograd.gradcheck(fn, (x, w, b))
    assert ember.autograd.gradgradcheck(fn, (x, w, b))
    ft = lambda x, w: F.conv_transpose1d(x, w, stride=2, output_padding=1)  # noqa: E731
    xt = ember.tensor(randn(1, 2, 3), device=device, requires_grad=True)
    wt = ember.tensor(randn(2, 3, 2), device=device, requires_grad=True)
    assert ember.autograd.gradcheck(ft, (xt, wt))
    assert ember.autograd.gradgradcheck(ft, (xt, wt))


def test_double_backward_matches_torch(device):
    x, w = randn(2, 3, 5, 4), randn(4, 3, 3, 2)
    ex = ember.tensor(x, device=device, requires_grad=True)
    ew = ember.tensor(w, device=device, requires_grad=True)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    (egx,) = ember.autograd.grad((F.conv2d(ex, ew, stride=2, padding=1) ** 2).sum(), [ex], create_graph=True)
    (tgx,) = torch.autograd.grad((TF.conv2d(tx, tw, stride=2, padding=1) ** 2).sum(), [tx], create_graph=True)
    (egx**2).sum().backward()
    (tgx**2).sum().backward()
    assert_close(ew.grad, tw.grad)
    assert_close(ex.grad, tx.grad)


def test_double_backward_with_bias_matches_torch(device):
    """The bias added inside the conv kernel: its gradient, and second derivatives through it."""
    x, w, b = randn(2, 3, 5, 4), randn(4, 3, 3, 2), randn(4)
    ex, ew, eb = (ember.tensor(a, device=device, requires_grad=True) for a in (x, w, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    egx, egb = ember.autograd.grad((F.conv2d(ex, ew, eb, padding=1) ** 2).sum(), [ex, eb], create_graph=True)
    tgx, tgb = torch.autograd.grad((TF.conv2d(tx, tw, tb, padding=1) ** 2).sum(), [tx, tb], create_graph=True)
    assert_close(egb, tgb)
    ((egx**2).sum() + (egb**2).sum()).backward()
    ((tgx**2).sum() + (tgb**2).sum()).backward()
    for e, t in ((ew, tw), (ex, tx), (eb, tb)):
        assert_close(e.grad, t.grad)


def test_seed_examples():
    assert nn.Conv1d(16, 33, 3, stride=2)(ember.randn(2, 16, 50)).shape == (2, 33, 24)
    assert nn.Conv2d(16, 33, 3, stride=2)(ember.randn(1, 16, 10, 12)).shape == (1, 33, 4, 5)
    m = nn.Conv2d(16, 33, (3, 5), stride=(2, 1), padding=(4, 2), dilation=(3, 1))
    assert m(ember.randn(1, 16, 20, 10)).shape == (1, 33, 11, 10)
    m = nn.Conv3d(16, 33, (3, 5, 2), stride=(2, 1, 1), padding=(4, 2, 0))
    assert m(ember.randn(1, 16, 5, 6, 4)).shape == (1, 33, 6, 6, 3)
    assert nn.ConvTranspose1d(16, 33, 3, stride=2)(ember.randn(2, 16, 5)).shape == (2, 33, 11)
    down = nn.Conv2d(16, 16, 3, stride=2, padding=1)
    up = nn.ConvTranspose2d(16, 16, 3, stride=2, padding=1)
    h = down(ember.randn(1, 16, 12, 12))
    assert h.shape == (1, 16, 6, 6)
    assert up(h, output_size=[1, 16, 12, 12]).shape == (1, 16, 12, 12)


def test_float32_stays_float32():
    out = F.conv2d(ember.randn(1, 2, 4, 4), ember.randn(3, 2, 3, 3), padding=1)
    assert out.dtype == ember.float32


def test_errors(device):
    x = ember.randn(1, 4, 5, 5, device=device)
    w = ember.randn(2, 4, 3, 3, device=device)
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d"):
        F.conv2d(ember.randn(4, 5, device=device), w)
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        F.conv2d(ember.randn(1, 4, 2, 2, device=device), w)
    with pytest.raises(RuntimeError, match="to have 4 channels, but got 3 channels"):
        F.conv2d(ember.randn(1, 3, 5, 5, device=device), w)
    with pytest.raises(RuntimeError, match="expected weight to be at least 3 at dimension 0"):
        F.conv2d(x, w, groups=3)
    with pytest.raises(RuntimeError, match="not supported for strided convolutions"):
        F.conv2d(x, w, padding="same", stride=2)
    with pytest.raises(RuntimeError, match="Invalid padding string"):
        F.conv2d(x, w, padding="full")
    with pytest.raises(RuntimeError, match="should be the same"):
        F.conv2d(x, w.double())
    with pytest.raises(RuntimeError, match="bias"):
        F.conv2d(x, w, ember.randn(3, device=device))
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        F.conv_transpose2d(x, ember.randn(4, 2, 3, 3, device=device), output_padding=1)
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        nn.Conv2d(4, 4, 3, groups=0)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(4, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="not supported for strided convolutions"):
        nn.Conv1d(4, 4, 3, padding="same", stride=2)
    with pytest.raises(ValueError, match='Only "zeros" padding mode'):
        nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect")


def test_numpy_kernels_agree_with_portable_ones(no_onednn):
    """The NumPy overrides and the portable defaults give the same numbers (float32 kept)."""
    from ember.kernels import Kernels

    backend = ember.backends.get_backend("cpu")
    portable = Kernels(backend)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 7, 6)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 2)).astype(np.float32)
    args = ((2, 1), ((1, 1), (0, 2)), (1, 2), 2)
    out = backend.kernels.conv(x, w, *args)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, portable.conv(x, w, *args), rtol=1e-5, atol=1e-5)
    g = rng.standard_normal(out.shape).astype(np.float32)
    for name, a, b in (("conv_backward_input", g, w), ("conv_backward_weight", x, g)):
        shape = x.shape if name == "conv_backward_input" else w.shape
        mine = getattr(backend.kernels, name)(a, b, shape, *args)
        assert mine.dtype == np.float32
        np.testing.assert_allclose(mine, getattr(portable, name)(a, b, shape, *args), rtol=1e-4, atol=1e-4)


NUMPY_GEMM_CASES = [
    # input shape, weight shape (contraction C/groups * K >= 64: one GEMM per chunk; below: per-sample), kernel args
    ((3, 16, 7, 6), (8, 8, 3, 2), ((2, 1), ((1, 1), (0, 2)), (1, 2), 2)),
    ((2, 12, 9), (6, 12, 7), ((3,), ((2, 3),), (2,), 1)),
    ((2, 4, 5, 4, 6), (4, 4, 2, 3, 3), ((1, 2, 1), ((1, 0), (1, 1), (0, 1)), (2, 1, 1), 1)),
    # unit strides, with and without padding
    ((3, 16, 7, 6), (8, 8, 3, 2), ((1, 1), ((1, 2), (0, 1)), (2, 1), 2)),
    ((3, 8, 6, 5), (4, 8, 3, 3), ((1, 1), ((0, 0), (0, 0)), (1, 1), 1)),
    ((2, 12, 9), (6, 12, 7), ((1,), ((3, 3),), (1,), 1)),
    ((2, 4, 5, 4, 6), (4, 4, 2, 3, 3), ((1, 1, 1), ((1, 0), (1, 1), (0, 1)), (2, 1, 1), 1)),
    # unit stride, a padding beyond the kernel's span in a trailing dim (the strided path)
    ((2, 8, 5, 4), (4, 8, 2, 3), ((1, 1), ((0, 1), (3, 3)), (1, 1), 1)),
    # short contractions (C/groups * K < 64): per-sample products, the batch in chunks over the threads
    ((5, 3, 8, 7), (4, 3, 3, 3), ((1, 1), ((1, 1), (1, 1)), (1, 1), 1)),
    ((3, 4, 7, 6), (6, 2, 3, 2), ((2, 1), ((1, 1), (0, 2)), (1, 2), 2)),
    ((4, 2, 9), (3, 2, 5), ((2,), ((2, 1),), (1,), 1)),
    ((3, 2, 4, 3, 5), (2, 2, 2, 2, 3), ((1, 1, 2), ((1, 0), (0, 1), (1, 1)), (1, 1, 1), 1)),
]


@pytest.mark.parametrize("chunk", [None, 1, 2])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("xs,ws,args", NUMPY_GEMM_CASES)
def test_numpy_gemm_conv_kernels_agree_with_portable_ones(
    xs, ws, args, dtype, threads, chunk, numpy_threads, monkeypatch, no_onednn
):
    """The NumPy conv kernels (one GEMM per chunk on long contractions, per-sample products on short
    ones) against the portable ones, on 1 and 2 threads
    (split however small the work), with a negative-stride input, the batch in one chunk or in chunks
    of 1 or 2 samples (a shorter last chunk)."""
    from ember.backends.numpy.kernels import conv as numpy_conv
    from ember.kernels import Kernels

    numpy_threads(threads)
    if chunk is not None:
        monkeypatch.setattr(numpy_conv, "_chunk", lambda n, per_sample_bytes: min(n, chunk))

    backend = ember.backends.get_backend("cpu")
    portable = Kernels(backend)
    rng = np.random.default_rng(1)
    x = rng.standard_normal(xs).astype(dtype)[:, :, ::-1]
    w = rng.standard_normal(ws).astype(dtype)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    out = backend.kernels.conv(x, w, *args)
    assert out.dtype == dtype and out.flags.c_contiguous
    np.testing.assert_allclose(out, portable.conv(x, w, *args), rtol=tol, atol=tol)
    b = rng.standard_normal(ws[0]).astype(dtype)
    out_bias = backend.kernels.conv_bias(x, w, b, *args)
    assert out_bias.dtype == dtype and out_bias.flags.c_contiguous
    np.testing.assert_allclose(out_bias, portable.conv_bias(x, w, b, *args), rtol=tol, atol=tol)
    g = rng.standard_normal(out.shape).astype(dtype)
    gx = backend.kernels.conv_backward_input(g, w, x.shape, *args)
    assert gx.dtype == dtype and gx.shape == x.shape
    np.testing.assert_allclose(gx, portable.conv_backward_input(g, w, x.shape, *args), rtol=tol, atol=tol)
    gw = backend.kernels.conv_backward_weight(x, g, w.shape, *args)
    assert gw.dtype == dtype and gw.shape == w.shape
    np.testing.assert_allclose(gw, portable.conv_backward_weight(x, g, w.shape, *args), rtol=tol, atol=tol)


@pytest.mark.parametrize("threads,chunk", [(2, 1), (2, 2), (3, 3), (2, None)])
def test_numpy_conv_batch_split_matches_one_thread(threads, chunk, numpy_threads, monkeypatch, no_onednn):
    """The unit-stride NumPy conv kernels with the batch's chunks split over the threads (an odd batch:
    uneven shares, a shorter last chunk): forward and input gradient equal the one-thread results
    exactly, the weight gradient (the threads' partial sums added) to rounding; BLAS's thread count
    is what it was before."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from ember.backends.numpy.kernels import conv as numpy_conv

    if chunk is not None:
        monkeypatch.setattr(numpy_conv, "_chunk", lambda n, per_sample_bytes: min(n, chunk))
    kernels = ember.backends.get_backend("cpu").kernels
    rng = np.random.default_rng(3)
    x = rng.standard_normal((7, 16, 6, 5)).astype(np.float32)
    w = rng.standard_normal((8, 16, 3, 3)).astype(np.float32)
    b = rng.standard_normal(8).astype(np.float32)
    args = ((1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    g = rng.standard_normal((7, 8, 6, 5)).astype(np.float32)

    def run():
        return (
            kernels.conv_bias(x, w, b, *args),
            kernels.conv_backward_input(g, w, x.shape, *args),
            kernels.conv_backward_weight(x, g, w.shape, *args),
        )

    numpy_threads(1)
    out, gx, gw = run()
    numpy_threads(threads)
    blas = [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]
    out_split, gx_split, gw_split = run()
    np.testing.assert_array_equal(out_split, out)
    np.testing.assert_array_equal(gx_split, gx)
    np.testing.assert_allclose(gw_split, gw, rtol=1e-5, atol=1e-5)
    assert [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"] == blas


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
@pytest.mark.parametrize(
    "xs,args",
    [
        ((2, 3, 9), ((3,), (2,), ((1, 2),), (2,), (4,))),
        ((3, 2, 7, 6), ((3, 2), (1, 2), ((1, 1), (0, 2)), (2, 1), (5, 4))),
        ((2, 2, 4, 5, 3), ((2, 3, 2), (1, 1, 2), ((1, 0), (1, 1), (0, 1)), (1, 1, 1), (4, 5, 2))),
    ],
)
def test_numpy_im2col_agrees_with_portable(xs, args, dtype):
    """The NumPy im2col (one copy from a strided view) equals the portable one (a copy per kernel offset),
    1-3 d, strides, dilations, asymmetric padding, on a negative-stride view."""
    from ember.kernels import Kernels

    backend = ember.backends.get_backend("cpu")
    x = (np.random.default_rng(8).standard_normal(xs) * 5).astype(dtype)[:, ::-1]
    mine = backend.kernels.im2col(x, *args)
    assert mine.dtype == dtype and mine.flags.c_contiguous
    np.testing.assert_array_equal(mine, Kernels(backend).im2col(x, *args))


def test_numpy_conv_without_blas_control(numpy_threads, monkeypatch, no_onednn):
    """Without threadpoolctl (BLAS's thread count out of reach) the NumPy conv kernels run the batch
    whole on 2 threads, with the one-thread results."""
    from ember.backends.numpy import parallel

    kernels = ember.backends.get_backend("cpu").kernels
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 16, 6, 5)).astype(np.float32)
    w = rng.standard_normal((8, 16, 3, 3)).astype(np.float32)
    g = rng.standard_normal((5, 8, 6, 5)).astype(np.float32)
    args = ((1, 1), ((1, 1), (1, 1)), (1, 1), 1)

    def run():
        return (
            kernels.conv(x, w, *args),
            kernels.conv_backward_input(g, w, x.shape, *args),
            kernels.conv_backward_weight(x, g, w.shape, *args),
        )

    numpy_threads(1)
    want = run()
    numpy_threads(2)
    monkeypatch.setattr(parallel, "_blas", {"libraries": []})
    for mine, ref in zip(run(), want):
        np.testing.assert_array_equal(mine, ref)


@pytest.mark.parametrize("where", ["input", "weight"])
def test_numpy_gemm_conv_kernels_non_finite(where, no_onednn):
    """An inf in the input or the weight: the NumPy kernels give the portable kernels' infs and NaNs."""
    from ember.kernels import Kernels

    backend = ember.backends.get_backend("cpu")
    portable = Kernels(backend)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 8, 6, 5))
    w = rng.standard_normal((4, 8, 3, 3))
    (x if where == "input" else w)[1, 2, 2, 1] = np.inf
    args = ((1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    out = backend.kernels.conv(x, w, *args)
    np.testing.assert_allclose(out, portable.conv(x, w, *args), rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(out.shape)
    np.testing.assert_allclose(
        backend.kernels.conv_backward_input(g, w, x.shape, *args),
        portable.conv_backward_input(g, w, x.shape, *args),
        rtol=1e-10,
        atol=1e-10,
    )
    np.testing.assert_allclose(
        backend.kernels.conv_backward_weight(x, g, w.shape, *args),
        portable.conv_backward_weight(x, g, w.shape, *args),
        rtol=1e-10,
        atol=1e-10,
    )


@pytest.mark.parametrize(
    "name, weight_shape, kwargs, shape",
    [
        ("conv2d", (4, 3, 3, 3), {"padding": 1}, (0, 3, 5, 5)),
        ("conv1d", (6, 1, 3), {"groups": 3}, (0, 3, 6)),
        ("conv_transpose2d", (3, 4, 3, 3), {"stride": 2}, (0, 3, 5, 5)),
        ("conv_transpose2d", (8, 16, 3, 3), {"stride": 2}, (0, 8, 5, 5)),  # the NumPy kernel's GEMM path
    ],
)
def test_conv_empty_batch_matches_torch(device, name, weight_shape, kwargs, shape):
    """A batch of 0 samples: empty output, empty input gradient and a zero weight gradient, as PyTorch
    (ember's NumPy weight gradient once raised IndexError summing no chunks, and its transposed
    convolution's GEMM path ValueError chunking no samples)."""
    check(
        lambda x, w: getattr(F, name)(x, w, **kwargs),
        lambda x, w: getattr(TF, name)(x, w, **kwargs),
        [randn(*shape), randn(*weight_shape)],
        device=device,
    )


def test_same_padding_with_asymmetric_pads_warns_once():
    """PyTorch warns once per process (TORCH_WARN_ONCE) when 'same' pads one side more than the other."""
    from ember.nn.functional import conv as conv_module

    conv_module._warn_asymmetric_same_padding.cache_clear()
    x = ember.randn(1, 2, 5)
    with pytest.warns(UserWarning, match="even kernel lengths and odd dilation") as record:
        F.conv1d(x, ember.randn(3, 2, 2), padding="same")
        F.conv1d(x, ember.randn(3, 2, 2), padding="same")
    assert len(record) == 1 and record[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.conv1d(x, ember.randn(3, 2, 3), padding="same")  # symmetric
        F.conv1d(x, ember.randn(3, 2, 2), padding="same", dilation=2)


@pytest.mark.parametrize(
    "op,x_shape,w_shape,groups",
    [
        ("conv1d", (1, 2, 5), (0, 2, 2), 1),  # gave an empty output
        ("conv2d", (1, 4, 5, 5), (0, 4, 2, 2), 1),
        ("conv3d", (1, 2, 4, 4, 4), (0, 2, 2, 2, 2), 1),
        ("conv1d", (1, 4, 5), (1, 2, 2), 2),
        ("conv_transpose1d", (1, 2, 5), (2, 0, 2), 1),
        ("conv_transpose2d", (1, 2, 5, 5), (2, 0, 2, 2), 1),
        ("conv_transpose3d", (1, 2, 4, 4, 4), (2, 0, 2, 2, 2), 1),
    ],
)
def test_empty_or_too_few_filters_raise_as_torch(op, x_shape, w_shape, groups):
    with pytest.raises(RuntimeError) as expected:
        getattr(TF, op)(torch.randn(*x_shape), torch.randn(*w_shape), groups=groups)
    with pytest.raises(RuntimeError) as got:
        getattr(F, op)(ember.randn(*x_shape), ember.randn(*w_shape), groups=groups)
    if "transpose" not in op:
        assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("op, w_shape", [("conv2d", (4, 6, 3, 3)), ("conv_transpose2d", (6, 4, 3, 3))])
def test_bias_of_the_wrong_size_raises_torchs_message(op, w_shape):
    """The transposed convolutions' message names them (``Given transposed=1, weight of size ...``)."""
    with pytest.raises(RuntimeError) as expected:
        getattr(TF, op)(torch.zeros(2, 6, 9, 10), torch.zeros(w_shape), torch.zeros(8))
    with pytest.raises(RuntimeError) as got:
        getattr(F, op)(ember.zeros(2, 6, 9, 10), ember.zeros(w_shape), ember.zeros(8))
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("pad", [0, 1, 4, -1])
def test_conv_tbc_matches_torch(dtype, pad):
    """ember.conv_tbc: a 1-d convolution over a (time, batch, channels) sequence (fairseq's ConvTBC), the
    bias then each kernel tap's product added in as PyTorch sums it; a negative pad drops steps."""
    rng = np.random.default_rng(pad + 10)
    arrays = [rng.standard_normal(s) for s in ((7, 3, 5), (3, 5, 6), (6,))]
    refs = [torch.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
    mine = [ember.tensor(a, dtype=getattr(ember, str(dtype).split(".")[-1]), requires_grad=True) for a in arrays]
    ref, out = torch.conv_tbc(*refs, pad), ember.conv_tbc(*mine, pad)
    assert tuple(out.shape) == tuple(ref.shape) and out.stride() == ref.stride() and out.is_contiguous()
    up = rng.standard_normal(tuple(ref.shape))
    ref.backward(torch.tensor(up, dtype=dtype))
    out.backward(ember.tensor(up, dtype=out.dtype))
    for got, expected in zip([out, *(t.grad for t in mine)], [ref, *(t.grad for t in refs)]):
        np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "shapes",
    [((7, 5), (3, 5, 6), (6,)), ((7, 3, 5), (5, 6), (6,)), ((7, 3, 5), (3, 5, 6), (1, 6)), ((7, 3, 4), (3, 5, 6), (6,))]
    + [((7, 3, 5), (3, 5, 6), (5,))],
)
def test_conv_tbc_refuses_what_torch_refuses(shapes):
    refs = [torch.zeros(s) for s in shapes]
    with pytest.raises(RuntimeError) as expected:
        torch.conv_tbc(*refs)
    with pytest.raises(RuntimeError, match=str(expected.value).split(".")[0].split(" (")[0]):
        ember.conv_tbc(*(ember.zeros(s) for s in shapes))


def test_conv_tbc_under_autocast_runs_in_bfloat16_as_torch():
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in ((7, 3, 5), (3, 5, 6), (6,))]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ref = torch.conv_tbc(*(torch.tensor(a) for a in arrays), 1)
    with ember.autocast("cpu", dtype=ember.bfloat16):
        out = ember.conv_tbc(*(ember.tensor(a) for a in arrays), 1)
    assert out.dtype is ember.bfloat16
    np.testing.assert_array_equal(out.float().numpy(), ref.float().numpy())
