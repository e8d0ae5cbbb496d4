"""The NumPy backend's oneDNN kernels (float32 convolutions, float32 and bfloat16 matrix products) against PyTorch, which
runs the same library: values and gradients, the cases left to the NumPy kernels, the
``ember.backends.mkldnn`` flags, the thread count shared with PyTorch's OpenMP runtime, and the
plan cache. Skipped where the ``onednn`` extra is not installed (it is in CI)."""

from __future__ import annotations

import ctypes
import itertools
import math
import time

import numpy as np
import pytest
import torch

import ember
import ember.backends.mkldnn
import ember.nn.functional as F
from ember.backends.numpy.kernels.conv import NumpyConvKernels
from ember.backends.numpy.onednn import convolution, exponential, gemm, load, lstm, multiply_add
from ember.backends.numpy.onednn.library import OnednnError

pytestmark = pytest.mark.skipif(not ember.backends.mkldnn.is_available(), reason="oneDNN (the onednn extra) missing")

CONV_CASES = [
    # (input shape, weight shape, keyword arguments)
    ((4, 3, 11), (5, 3, 3), {"stride": 2, "padding": 1}),
    ((3, 6, 9, 8), (8, 3, 3, 3), {"groups": 2, "dilation": 2, "padding": 2}),
    ((5, 4, 7, 9), (6, 4, 2, 3), {"padding": "same"}),  # an even kernel: asymmetric padding
    ((2, 8, 6, 6), (8, 1, 3, 3), {"groups": 8, "stride": (2, 1)}),  # depthwise
    ((2, 2, 5, 6, 4), (3, 2, 3, 2, 2), {"padding": (1, 0, 1), "stride": (1, 2, 1)}),
    ((64, 32, 16, 16), (64, 32, 3, 3), {"padding": 1}),
]

CONV_FUNCTIONS = {3: (F.conv1d, torch.nn.functional.conv1d), 4: (F.conv2d, torch.nn.functional.conv2d)}
CONV_FUNCTIONS[5] = (F.conv3d, torch.nn.functional.conv3d)


def _conv_both(xs, ws, kwargs, bias, rng, x_view=lambda a: a):
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32)
    b = rng.standard_normal(ws[0]).astype(np.float32) if bias else None
    mine_fn, ref_fn = CONV_FUNCTIONS[len(xs)]
    leaves = [ember.tensor(a, requires_grad=True) for a in (x, w, b) if a is not None]
    refs = [torch.tensor(a, requires_grad=True) for a in (x, w, b) if a is not None]
    out = mine_fn(x_view(leaves[0]), *leaves[1:], **kwargs)
    ref = ref_fn(x_view(refs[0]), *refs[1:], **kwargs)
    g = rng.standard_normal(tuple(ref.shape)).astype(np.float32)
    out.backward(ember.tensor(g))
    ref.backward(torch.tensor(g))
    return (out, *leaves), (ref, *refs)


def _assert_close(mine, ref, rtol=1e-5, atol=1e-5):
    assert mine.dtype == ember.float32
    np.testing.assert_allclose(mine.detach().numpy(), ref.detach().numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("xs,ws,kwargs", CONV_CASES)
def test_conv_matches_torch(xs, ws, kwargs, bias, threads, numpy_threads):
    """Forward and the gradients of input, weight and bias, 1-3 d, groups, strides, dilations,
    asymmetric padding, the batch split over 1 and 2 threads."""
    numpy_threads(threads)
    (out, *leaves), (ref, *refs) = _conv_both(xs, ws, kwargs, bias, np.random.default_rng(len(xs) + threads))
    _assert_close(out, ref)
    for leaf, ref_leaf in zip(leaves, refs):
        scale = max(1.0, float(ref_leaf.grad.abs().max()))
        _assert_close(leaf.grad, ref_leaf.grad, atol=1e-5 * scale)


def test_conv_forward_and_input_grad_bitwise_equal_to_torch():
    """PyTorch's CPU convolution is oneDNN's: the forward and the input gradient agree bit for bit."""
    (out, x, _w), (ref, tx, _tw) = _conv_both(
        (8, 16, 10, 10), (32, 16, 3, 3), {"padding": 1}, False, np.random.default_rng(0)
    )
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_conv_strided_input_and_empty_batch():
    rng = np.random.default_rng(1)
    (out, *leaves), (ref, *refs) = _conv_both(
        (3, 4, 8, 10), (5, 4, 3, 3), {"padding": 1}, True, rng, x_view=lambda a: a.transpose(2, 3)
    )
    _assert_close(out, ref)
    _assert_close(leaves[0].grad, refs[0].grad, atol=1e-4)
    empty = F.conv2d(ember.zeros(0, 4, 8, 8), ember.zeros(5, 4, 3, 3))
    assert tuple(empty.shape) == (0, 5, 6, 6)


def test_conv_non_finite_like_torch():
    x = np.random.default_rng(2).standard_normal((2, 3, 6, 6)).astype(np.float32)
    x[0, 1, 2, 3], x[1, 0, 0, 0] = np.nan, np.inf
    w = np.ones((4, 3, 3, 3), dtype=np.float32)
    mine = F.conv2d(ember.tensor(x), ember.tensor(w), padding=1).numpy()
    ref = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1).numpy()
    np.testing.assert_array_equal(np.isnan(mine), np.isnan(ref))
    np.testing.assert_array_equal(np.isinf(mine), np.isinf(ref))


@pytest.fixture
def numpy_conv_refused(monkeypatch):
    """The NumPy conv kernels raise when called: a test passes only where oneDNN took every call."""

    def refuse(*args, **kwargs):
        raise AssertionError("the NumPy conv kernel ran")

    for name in ("conv", "conv_bias", "conv_backward_input", "conv_backward_weight"):
        monkeypatch.setattr(NumpyConvKernels, name, refuse)


def test_float32_conv_goes_through_onednn(numpy_conv_refused):
    x = ember.randn(2, 3, 8, 8, requires_grad=True)
    conv = ember.nn.Conv2d(3, 4, 3)
    conv(x).sum().backward()
    assert x.grad is not None and conv.weight.grad is not None


@pytest.mark.parametrize("case", ["flag off", "float64"])
def test_other_cases_go_to_the_numpy_kernels(case, numpy_conv_refused):
    # (bfloat16 convolutions run on oneDNN's bfloat16 primitives: tests/test_onednn_conv_bf16.py)
    dtype = {"float64": ember.float64}.get(case, ember.float32)
    x, w = ember.randn(2, 3, 8, 8, dtype=dtype), ember.randn(4, 3, 3, 3, dtype=dtype)
    with ember.backends.mkldnn.flags(enabled=case != "flag off"), pytest.raises(AssertionError, match="NumPy conv"):
        F.conv2d(x, w)


def test_mkldnn_flags():
    assert ember.backends.mkldnn.enabled is True and ember.backends.mkldnn.is_available() is True
    with ember.backends.mkldnn.flags(enabled=False, deterministic=True):
        assert ember.backends.mkldnn.enabled is False and ember.backends.mkldnn.deterministic is True
    assert ember.backends.mkldnn.enabled is True and ember.backends.mkldnn.deterministic is False
    assert torch.backends.mkldnn.is_available()  # the names are PyTorch's


def test_openmp_thread_count_is_given_back():
    """oneDNN runs on one OpenMP thread per caller inside ember's calls; PyTorch's count (the same
    OpenMP runtime in this process) is as it was after them, and PyTorch still computes right."""
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    omp = ctypes.CDLL("libgomp.so.1")
    try:
        before = omp.omp_get_max_threads()
        x = ember.randn(4, 8, 12, 12, requires_grad=True)
        F.conv2d(x, ember.randn(8, 8, 3, 3), padding=1).sum().backward()
        ember.randn(256, 512) @ ember.randn(512, 256)
        assert omp.omp_get_max_threads() == before
        assert torch.get_num_threads() == 2
        a, b = torch.randn(300, 400), torch.randn(400, 200)
        np.testing.assert_allclose((a @ b).numpy(), a.numpy() @ b.numpy(), rtol=1e-4, atol=1e-4)
    finally:
        torch.set_num_threads(previous)


def test_plan_cache_releases_old_geometries(monkeypatch, numpy_threads):
    monkeypatch.setattr(convolution._cache, "plans", {})
    monkeypatch.setattr(convolution._cache, "limit", 2)
    numpy_threads(2)  # two threads looking plans up at once
    rng = np.random.default_rng(3)
    for _ in range(2):
        for size in (5, 6, 7, 8):
            (out, *leaves), (ref, *refs) = _conv_both((2, 3, size, size), (4, 3, 3, 3), {}, True, rng)
            _assert_close(out, ref)
            _assert_close(leaves[1].grad, refs[1].grad, atol=1e-4)
    assert len(convolution._cache.plans) <= 2


def test_unimplemented_geometry_is_remembered(monkeypatch):
    """A geometry oneDNN refuses is cached as None and served by the NumPy kernels."""
    monkeypatch.setattr(convolution._cache, "plans", {})

    def refuse(*args, **kwargs):
        raise OnednnError("oneDNN: refused")

    monkeypatch.setattr(convolution, "ConvolutionPlan", refuse)
    x, w = ember.randn(2, 3, 6, 6), ember.randn(4, 3, 3, 3)
    ref = torch.nn.functional.conv2d(torch.tensor(x.numpy()), torch.tensor(w.numpy()))
    _assert_close(F.conv2d(x, w), ref)
    assert list(convolution._cache.plans.values()) == [None]


def _layouts(rng, shape):
    """The same float32 matrix C-ordered, Fortran-ordered, as every other row of a taller one, and
    with negative strides."""
    a = rng.standard_normal(shape).astype(np.float32)
    tall = np.empty((shape[0] * 2, shape[1]), dtype=np.float32)
    tall[::2] = a
    return {"C": a, "F": np.asfortranarray(a), "rows": tall[::2], "reversed": a[::-1, ::-1].copy()[::-1, ::-1]}


@pytest.mark.parametrize("left", ["C", "F", "rows", "reversed"])
@pytest.mark.parametrize("right", ["C", "F", "rows"])
@pytest.mark.parametrize("shape", [(64, 256, 512), (1, 4096, 1024), (512, 4096, 1)])
def test_gemm_layouts(shape, left, right):
    m, k, n = shape
    rng = np.random.default_rng(4)
    a, b = _layouts(rng, (m, k))[left], _layouts(rng, (k, n))[right]
    out = gemm.matmul(a, b)
    assert out is not None and out.dtype == np.float32 and out.flags.c_contiguous
    np.testing.assert_allclose(out, a.astype(np.float64) @ b.astype(np.float64), rtol=1e-4, atol=1e-3)


def test_gemm_accumulates_into_out():
    rng = np.random.default_rng(7)
    a, b = (rng.standard_normal(s).astype(np.float32) for s in ((128, 256), (256, 96)))
    out = np.full((128, 96), 3.0, dtype=np.float32)
    assert gemm.matmul(a, b, out=out, accumulate=True) is out
    np.testing.assert_allclose(out, a.astype(np.float64) @ b + 3.0, rtol=1e-4, atol=1e-3)


def test_gemm_adds_the_bias_inside_the_product():
    rng = np.random.default_rng(8)
    a, w, bias = (rng.standard_normal(s).astype(np.float32) for s in ((128, 256), (96, 256), (96,)))
    out = gemm.matmul(a, w.T, bias=bias)
    np.testing.assert_allclose(out, a.astype(np.float64) @ w.T + bias, rtol=1e-4, atol=1e-3)
    assert gemm.matmul(a, w.T, bias=bias.astype(np.float64)) is None  # the caller's NumPy path serves
    assert gemm.matmul(a, w.T, bias=bias[:95]) is None


@pytest.mark.parametrize("accumulate", [False, True])
def test_step_product(accumulate, numpy_threads):
    """An LSTM loop's per-step product against one right operand, written into (or added to) each step's output."""
    numpy_threads(2)
    rng = np.random.default_rng(9)
    w = rng.standard_normal((1024, 256)).astype(np.float32)
    product = gemm.step_product(w.T, 16, accumulate=accumulate)
    assert product is not None
    with product.threads():
        for _ in range(3):
            h = rng.standard_normal((32, 256)).astype(np.float32)[::2]  # not contiguous: copied
            out = np.full((16, 1024), 2.0, dtype=np.float32)
            assert product(h, out) is out
            expected = h.astype(np.float64) @ w.T + (2.0 if accumulate else 0.0)
            np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-3)
    assert gemm.step_product(w[:8, :8].copy(), 4) is None  # under MIN_MACS


def test_gemm_declines():
    small = np.ones((8, 8), dtype=np.float32)
    big = np.ones((256, 256), dtype=np.float32)
    assert gemm.matmul(small, small) is None  # under MIN_MACS: NumPy's matmul is faster
    assert gemm.matmul(big.astype(np.float64), big.astype(np.float64)) is None
    assert gemm.matmul(big, np.ones((255, 256), dtype=np.float32)) is None  # NumPy raises the mismatch
    with ember.backends.mkldnn.flags(enabled=False):
        assert gemm.matmul(big, big) is None
    assert gemm.matmul(big, big) is not None


@pytest.mark.parametrize("threads", [1, 2])
def test_matmul_and_linear_match_torch(threads, numpy_threads):
    numpy_threads(threads)
    rng = np.random.default_rng(5)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((128, 300), (200, 300), (200,)))
    mine = [ember.tensor(a, requires_grad=True) for a in (x, w, b)]
    refs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    out, ref = F.linear(*mine), torch.nn.functional.linear(*refs)
    _assert_close(out, ref, rtol=1e-4, atol=1e-4)
    (out * out).sum().backward()
    (ref * ref).sum().backward()
    for leaf, ref_leaf in zip(mine, refs):
        _assert_close(leaf.grad, ref_leaf.grad, rtol=1e-4, atol=1e-2)
    _assert_close(mine[0] @ mine[1].T, refs[0] @ refs[1].T, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("threads", [1, 2])
def test_bfloat16_products_equal_torchs_bit_for_bit(threads, numpy_threads, torch_threads):
    """bfloat16 products at least MIN_MACS big go through oneDNN's bfloat16 matmul, as PyTorch's: its
    results, a linear layer's with its bias inside the one rounding, and their gradients, bit for bit
    (ml_dtypes' float32 products, and float32 ones rounded, differ in the last bit of a few elements)."""
    numpy_threads(threads)
    torch_threads(threads)
    rng = np.random.default_rng(11)
    x, w, b = (rng.standard_normal(shape).astype(np.float32) for shape in ((4, 256, 128), (512, 128), (512,)))
    bf16 = gemm.matmul(ember.tensor(x[0]).bfloat16()._data, ember.tensor(w.T).bfloat16()._data)
    if bf16 is None:
        pytest.skip("this oneDNN has no bfloat16 product for this CPU")
    assert bf16.dtype.name == "bfloat16" and bf16.flags.c_contiguous
    mine = [ember.tensor(a).bfloat16().requires_grad_() for a in (x, w, b)]
    refs = [torch.tensor(a).bfloat16().requires_grad_() for a in (x, w, b)]
    out, ref = F.linear(*mine), torch.nn.functional.linear(*refs)
    up = rng.standard_normal(ref.shape).astype(np.float32)
    (out * ember.tensor(up).bfloat16()).sum().backward()
    (ref * torch.tensor(up).bfloat16()).sum().backward()
    pairs = [(out, ref), *((m.grad, r.grad) for m, r in zip(mine, refs))]
    pairs.append((mine[0] @ mine[1].T, refs[0] @ refs[1].T))
    batched = mine[0].detach().transpose(1, 2) @ mine[0].detach()
    pairs.append((batched, refs[0].detach().transpose(1, 2) @ refs[0].detach()))
    for got, expected in pairs:
        assert got.dtype is ember.bfloat16
        np.testing.assert_array_equal(got.float().detach().numpy(), expected.float().detach().numpy())


def test_lstm_matches_torch_with_and_without_onednn():
    """The LSTM layer's per-step products (oneDNN, else OpenBLAS by blocks) give PyTorch's values."""
    torch.manual_seed(0)
    ref_lstm = torch.nn.LSTM(64, 128, 2)
    lstm = ember.nn.LSTM(64, 128, 2)
    lstm.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in ref_lstm.state_dict().items()})
    x = np.random.default_rng(6).standard_normal((7, 32, 64)).astype(np.float32)
    ref, _ = ref_lstm(torch.tensor(x))
    for enabled in (True, False):
        with ember.backends.mkldnn.flags(enabled=enabled):
            out, _ = lstm(ember.tensor(x))
        _assert_close(out, ref, rtol=1e-4, atol=1e-5)


def test_splits_pause_while_the_openmp_team_spins(numpy_threads, monkeypatch):
    """Right after a product on oneDNN's OpenMP team of 2, parallel_range runs on the caller's thread
    alone; once the team's spin is over it splits again."""
    from ember.backends.numpy import parallel

    numpy_threads(2)
    monkeypatch.setattr(parallel, "TEAM_SPIN_S", 0.05)
    chunks = []
    a = np.ones((256, 256), dtype=np.float32)
    assert gemm.matmul(a, a) is not None
    parallel.parallel_range(8, lambda lo, hi: chunks.append((lo, hi)), 1 << 20)
    assert chunks == [(0, 8)]
    time.sleep(0.06)
    chunks.clear()
    parallel.parallel_range(8, lambda lo, hi: chunks.append((lo, hi)), 1 << 20)
    assert sorted(chunks) == [(0, 4), (4, 8)]


def test_concurrent_convolutions_from_several_threads(numpy_threads):
    """Two user threads convolving the same geometry at once (one plan, its lock; the pool's splits;
    a stream per thread) get the results of running alone."""
    import threading

    numpy_threads(2)
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((8, 4, 10, 10)).astype(np.float32), rng.standard_normal((6, 4, 3, 3)).astype(np.float32)

    def run():
        xt = ember.tensor(x, requires_grad=True)
        wt = ember.tensor(w, requires_grad=True)
        F.conv2d(xt, wt, padding=1).square().sum().backward()
        return xt.grad.numpy(), wt.grad.numpy()

    want = run()
    results, errors = [], []

    def worker():
        try:
            for _ in range(10):
                results.append(run())
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(results) == 20
    for got in results:
        for mine, ref in zip(got, want):
            np.testing.assert_array_equal(mine, ref)


def test_library_loads_once():
    assert load() is load()


# -- LSTM layers through oneDNN's primitive ------------------------------------------------------
LSTM_CASES = [
    # (input size, hidden, layers, bias, bidirectional, batch_first)
    (8, 6, 1, True, False, False),
    (5, 7, 2, False, True, True),
    (32, 64, 2, True, True, False),
]


def _lstm_both(input_size, hidden, layers, bias, bidirectional, batch_first, rng, steps=5, batch=3):
    """ember's and PyTorch's LSTM on the same float32 weights, inputs and output gradients, run forward
    and backward: ``(outputs, leaves)`` of each."""
    ref = torch.nn.LSTM(input_size, hidden, layers, bias=bias, bidirectional=bidirectional, batch_first=batch_first)
    mine = ember.nn.LSTM(input_size, hidden, layers, bias=bias, bidirectional=bidirectional, batch_first=batch_first)
    mine.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    shape = (batch, steps, input_size) if batch_first else (steps, batch, input_size)
    states = (layers * (2 if bidirectional else 1), batch, hidden)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in (shape, states, states)]
    leaves = [ember.tensor(a, requires_grad=True) for a in arrays]
    refs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, (h_n, c_n) = mine(leaves[0], (leaves[1], leaves[2]))
    ref_out, (ref_h_n, ref_c_n) = ref(refs[0], (refs[1], refs[2]))
    grads = [rng.standard_normal(tuple(t.shape)).astype(np.float32) for t in (ref_out, ref_h_n, ref_c_n)]
    ember.autograd.backward([out, h_n, c_n], [ember.tensor(g) for g in grads])
    torch.autograd.backward([ref_out, ref_h_n, ref_c_n], [torch.tensor(g) for g in grads])
    return ((out, h_n, c_n), leaves + list(mine.parameters())), (
        (ref_out, ref_h_n, ref_c_n),
        refs + list(ref.parameters()),
    )


@pytest.mark.parametrize("case", LSTM_CASES)
def test_lstm_equals_torch_bit_for_bit_on_one_thread(case, numpy_threads):
    """PyTorch's CPU LSTM is oneDNN's primitive too: on one thread, outputs and every gradient (input,
    states, weights, biases) are PyTorch's exactly."""
    numpy_threads(1)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        (outs, leaves), (ref_outs, ref_leaves) = _lstm_both(*case, np.random.default_rng(7))
    finally:
        torch.set_num_threads(previous)
    for mine, ref in zip(outs, ref_outs):
        np.testing.assert_array_equal(mine.detach().numpy(), ref.detach().numpy())
    for mine, ref in zip(leaves, ref_leaves):
        np.testing.assert_array_equal(mine.grad.numpy(), ref.grad.numpy())


def test_lstm_on_two_threads_matches_torch(numpy_threads):
    numpy_threads(2)
    (outs, leaves), (ref_outs, ref_leaves) = _lstm_both(32, 64, 2, True, True, False, np.random.default_rng(8))
    for mine, ref in zip(outs, ref_outs):
        _assert_close(mine, ref)
    for mine, ref in zip(leaves, ref_leaves):
        _assert_close(mine.grad, ref.grad, atol=1e-4)
    assert any(key[-1] == 2 for key in lstm._cache.plans)  # a plan of its own for the thread count


def test_lstm_layer_results_are_the_callers(numpy_threads):
    """The backward reads the forward's results: the caller's copies may change without changing it."""
    numpy_threads(1)
    rng = np.random.default_rng(9)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in ((4, 2, 3), (1, 2, 5), (1, 2, 5))]
    grads = []
    for change in (False, True):
        ember.manual_seed(0)
        model = ember.nn.LSTM(3, 5)
        x = ember.tensor(arrays[0], requires_grad=True)
        out, (h_n, c_n) = model(x, (ember.tensor(arrays[1]), ember.tensor(arrays[2])))
        loss = (out * 2).sum() + h_n.sum() + c_n.sum()
        if change:
            with ember.no_grad():
                out.fill_(7.0)
                h_n.fill_(7.0)
                c_n.fill_(7.0)
        loss.backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


def test_lstm_plans_fall_back_to_numpy_kernels(monkeypatch):
    """A geometry oneDNN refuses is remembered and goes through the NumPy kernels; float64 never asks."""
    monkeypatch.setattr(lstm._cache, "plans", {})

    def refuse(*args, **kwargs):
        raise OnednnError("oneDNN: refused")

    monkeypatch.setattr(lstm, "LstmPlan", refuse)
    for dtype in (torch.float32, torch.float64):
        ref = torch.nn.LSTM(3, 4).to(dtype)
        mine = ember.nn.LSTM(3, 4).to(getattr(ember, str(dtype).split(".")[-1]))
        mine.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
        x = np.random.default_rng(1).standard_normal((5, 2, 3))
        np.testing.assert_allclose(
            mine(ember.tensor(x).to(mine.weight_ih_l0.dtype))[0].detach().numpy(),
            ref(torch.tensor(x).to(dtype))[0].detach().numpy(),
            rtol=1e-5,
            atol=1e-6,
        )
    assert list(lstm._cache.plans.values()) == [None]


# -- the SGD step's multiply-adds on oneDNN's team -----------------------------------------------
SGD_CASES = [
    {"momentum": m, "dampening": d, "nesterov": n, "weight_decay": wd, "maximize": mx}
    for m, d, n, wd, mx in itertools.product((0.0, 0.9), (0.0, 0.3), (False, True), (0.0, 0.01), (False, True))
    if not n or (m and d == 0)
]


@pytest.mark.parametrize("threads", [1, 2])
def test_multiply_add_rounds_as_numpy(threads, numpy_threads):
    """``x * scale + y`` with two roundings (NumPy's multiply, then add), into a new array, ``x`` or ``y``."""
    numpy_threads(threads)
    rng = np.random.default_rng(11)
    size = multiply_add.MIN_ELEMENTS * 2 + 7  # a tail past the vector width
    x, y = (rng.standard_normal(size).astype(np.float32) for _ in range(2))
    x[:4] = [np.nan, np.inf, -0.0, 1e38]
    want = np.add(np.multiply(x, np.float32(0.3)), y)
    plan = multiply_add.plan(size, threads)
    with plan.lib.on_threads(threads):
        np.testing.assert_array_equal(plan(x, 0.3, y, np.empty_like(x)), want)
        np.testing.assert_array_equal(plan(x.copy(), 0.3, y, y.copy()), want)
        into_x = x.copy()
        np.testing.assert_array_equal(plan(into_x, 0.3, y, into_x), want)
    assert not multiply_add.takes(x[:100], y[:100])  # short: NumPy's
    assert not multiply_add.takes(x.astype(np.float64), y.astype(np.float64))


@pytest.mark.parametrize("threads", [1, 2])
def test_exponential_within_two_ulp(threads, numpy_threads):
    """oneDNN's ``exp`` of a float32 vector: within 2.5 ulp of the exact exponential for the arguments of
    a softmax (|x| < 10, as NumPy's), 5 ulp beyond; the infinities and the overflow and underflow as NumPy gives them but NaN as inf (which its callers
    check for), in place too."""
    numpy_threads(threads)
    rng = np.random.default_rng(12)
    size = exponential.MIN_ELEMENTS + 13
    x = (20 * rng.standard_normal(size)).astype(np.float32)
    x[:6] = [np.nan, np.inf, -np.inf, -0.0, 89.0, -104.0]  # overflow to inf, underflow to 0
    plan = exponential.plan(size, threads)
    with plan.lib.on_threads(threads):
        got = plan(x, np.empty_like(x))
        copy = x.copy()
        plan(copy, copy)
    np.testing.assert_array_equal(got, copy)
    np.testing.assert_array_equal(got[:6], [np.inf, np.inf, 0.0, 1.0, np.inf, 0.0])
    exact = np.exp(x.astype(np.float64))
    normal = (exact > np.finfo(np.float32).tiny) & (exact < np.finfo(np.float32).max)
    error = np.abs(got[normal] - exact[normal]) / np.spacing(exact[normal].astype(np.float32))
    near = np.abs(x[normal]) < 10
    assert error[near].max() <= 2.5 and error.max() <= 5
    assert not exponential.takes(x[:100])  # short: NumPy's
    assert not exponential.takes(x.astype(np.float64))


@pytest.mark.parametrize("threads", [1, 2])
def test_sgd_step_on_onednn_equals_numpy_kernels(threads, numpy_threads, monkeypatch):
    """Every SGD option (momentum, dampening, Nesterov, weight decay, maximize), the first step and a
    later one: oneDNN's multiply-adds give the NumPy kernels' blocked step bit for bit."""
    from ember.backends.numpy import parallel
    from ember.kernels.optim import SGDHyper

    numpy_threads(threads)
    monkeypatch.setitem(parallel._team, "spinning_until", float("inf"))  # as after a product on the team
    kernels = ember.backends.get_backend("cpu").kernels
    rng = np.random.default_rng(12)
    shape = (3, multiply_add.MIN_ELEMENTS // 2 + 5)
    for options, first in itertools.product(SGD_CASES, (True, False)):
        arrays = [rng.standard_normal(shape).astype(np.float32) for _ in range(3)]
        results = []
        for enabled in (True, False):
            monkeypatch.setattr(ember.backends.mkldnn, "enabled", enabled)
            p, g, b = (a.copy() for a in arrays)
            keep = None if first or not options["momentum"] else b
            returned = kernels.sgd_step(p, g, keep, *SGDHyper(lr=0.1, **options))
            results.append((p, returned))
        (p_dnnl, b_dnnl), (p_numpy, b_numpy) = results
        np.testing.assert_array_equal(p_dnnl, p_numpy, err_msg=f"{options}, first={first}")
        if options["momentum"]:
            np.testing.assert_array_equal(b_dnnl, b_numpy, err_msg=f"{options}, first={first}")
    assert any(key == (math.prod(shape), threads) for key in multiply_add.MultiplyAddPlan._cache.plans)


def test_sgd_step_wakes_no_idle_team(numpy_threads, monkeypatch):
    """On two threads the step goes to oneDNN's team only while it spins from a call just before."""
    from ember.backends.numpy import parallel

    numpy_threads(2)
    monkeypatch.setattr(multiply_add.MultiplyAddPlan._cache, "plans", {})
    p = ember.nn.Parameter(ember.randn(multiply_add.MIN_ELEMENTS))
    p.grad = ember.randn(multiply_add.MIN_ELEMENTS)
    optimizer = ember.optim.SGD([p], lr=0.1, momentum=0.9)
    optimizer.step()
    assert multiply_add.MultiplyAddPlan._cache.plans == {}  # the NumPy kernels served
    monkeypatch.setitem(parallel._team, "spinning_until", float("inf"))
    optimizer.step()
    assert list(multiply_add.MultiplyAddPlan._cache.plans) == [(multiply_add.MIN_ELEMENTS, 2)]


def test_gemm_single_rows_share_a_plan():
    """A one-row operand reads no row stride: a row of a bigger array and a lone row use one plan."""
    from ember.backends.numpy.onednn.gemm import _strides

    rng = np.random.default_rng(10)
    big = rng.standard_normal((8, 4096)).astype(np.float32)
    assert _strides(big[3:4]) == _strides(big[3].copy()[None]) == (4096, 1)
    assert _strides(big[:, 5:6]) == (4096, 1)
    assert _strides(big.T[:1]) == (1, 4096)
    assert _strides(big[::-1]) is None  # negative strides: copied
    w = rng.standard_normal((4096, 1024)).astype(np.float32)
    np.testing.assert_allclose(gemm.matmul(big[3:4], w), big[3:4].astype(np.float64) @ w, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("threads", [1, 2])
def test_gemm_batched_products(threads, numpy_threads):
    """Stacks of products with one batch shape, the operands transposed or strided views, as attention's."""
    numpy_threads(threads)
    rng = np.random.default_rng(11)
    q, k = (rng.standard_normal((4, 4, 128, 64)).astype(np.float32) for _ in range(2))
    pairs = ((q, np.swapaxes(k, -1, -2)), (q[:, 1:2], k[:, 1:2].mT), (q.mT.copy().mT, k.mT), (q[:, ::2], k[:, ::2].mT))
    for a, b in pairs:
        out = gemm.matmul(a, b)
        assert out is not None and out.shape == a.shape[:-1] + b.shape[-1:] and out.flags.c_contiguous
        np.testing.assert_allclose(out, a.astype(np.float64) @ b, rtol=1e-4, atol=1e-3)
    assert gemm.matmul(q, k[:1].mT) is None  # batch shapes NumPy broadcasts: NumPy's matmul serves
    assert gemm.matmul(q[0, 0], k.mT) is None
    # stacks whose matrices interleave (rows of every head side by side), or are not packed: NumPy serves
    assert gemm.matmul(q.transpose(0, 2, 1, 3).copy().transpose(0, 2, 1, 3), k.mT) is None
    assert gemm.matmul(q[:, :, :, ::2], k[:, :, :32].mT) is None


def test_batched_matmul_and_attention_match_torch(numpy_threads):
    numpy_threads(2)
    rng = np.random.default_rng(12)
    q, k, v = (rng.standard_normal((4, 4, 64, 32)).astype(np.float32) for _ in range(3))
    mine = [ember.tensor(a, requires_grad=True) for a in (q, k, v)]
    refs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    _assert_close(mine[0] @ mine[1].transpose(-1, -2), refs[0] @ refs[1].transpose(-1, -2), rtol=1e-4, atol=1e-4)
    out = F.scaled_dot_product_attention(*mine, is_causal=True)
    ref = torch.nn.functional.scaled_dot_product_attention(*refs, is_causal=True)
    _assert_close(out, ref, rtol=1e-4, atol=1e-5)
    (out * out).sum().backward()
    (ref * ref).sum().backward()
    for leaf, ref_leaf in zip(mine, refs):
        _assert_close(leaf.grad, ref_leaf.grad, rtol=1e-4, atol=1e-4)
