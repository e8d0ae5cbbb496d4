"""float16/bfloat16 layer norm and log-softmax gradients bit for bit as PyTorch's CPU kernels.

Each case runs the op on 16-bit values in ember, back-propagates a 16-bit upstream gradient and
compares the gradients exactly with PyTorch's backward kernel fed with the same values and what
ember's forward gave (the layer norm's saved statistics, log-softmax's output): the layer norm's
row sums, fused multiply-adds and per-thread parameter buffers of PyTorch's AVX2 kernel (at one
and two threads); log-softmax's over a dim that is not the last, with its kernel's fused
multiply-add. nn.LSTM in a cpu bfloat16 autocast region is compared end to end with PyTorch's
(oneDNN's bfloat16 LSTM on both sides).
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import torch

import ember

pytest.importorskip("ml_dtypes")

#: (rows, normalized size): sizes of one 8-lane vector, one 16-value vector, several, with tails
LAYER_NORM_SHAPES = [(40, 7), (40, 12), (40, 16), (64, 45), (128, 100), (21, 257), (256, 768), (33, 1024)]


def _same_threads(count):
    ember.set_num_threads(count)
    torch.set_num_threads(count)


@pytest.fixture
def threads():
    """Sets ember's and torch's intra-op threads alike; restores both afterwards."""
    before = (ember.get_num_threads(), torch.get_num_threads())
    yield _same_threads
    ember.set_num_threads(before[0])
    torch.set_num_threads(before[1])


def _cpu_kernels_only(device):
    """These tests follow PyTorch's CPU kernels' order: on another device type ember computes 16-bit
    layer norm and log-softmax in float32 and rounds once (and may have no bfloat16)."""
    if ember.device(device).type not in ("cpu", "restricted"):
        pytest.skip("PyTorch's CPU kernels' order of a 16-bit op: cpu-kind devices only")


def _host(t):
    return np.asarray(t.detach().float().cpu().numpy())


def _torch_of(t, dtype):
    return None if t is None else torch.tensor(_host(t)).to(getattr(torch, str(dtype).split(".")[-1]))


@pytest.mark.parametrize("count", [1, 2])
@pytest.mark.parametrize("params", ["rounded", "mixed", "none"])
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("shape", LAYER_NORM_SHAPES, ids=str)
def test_layer_norm_backward_bit_exact(device, threads, shape, dtype, params, count):
    """ember's gradients against PyTorch's backward kernel fed with the statistics ember's forward saved
    (``grad_fn._saved_result1``/``2``, as PyTorch names them), so that only the backward is compared."""
    _cpu_kernels_only(device)
    threads(count)
    rng = np.random.default_rng(LAYER_NORM_SHAPES.index(shape))
    x, dy = (rng.standard_normal(shape).astype(np.float32) for _ in range(2))
    w, b = (rng.standard_normal(shape[-1]).astype(np.float32) for _ in range(2))
    kind = getattr(ember, dtype)
    x = ember.tensor(x, device=device).to(kind).requires_grad_()
    weight = bias = None
    if params != "none":
        param_kind = kind if params == "rounded" else ember.float32
        weight, bias = (ember.tensor(t, device=device).to(param_kind).requires_grad_() for t in (w, b))
    y = ember.nn.functional.layer_norm(x, (shape[-1],), weight, bias, 1e-5)
    node = y.grad_fn
    assert node.name() == "NativeLayerNormBackward0" and node._saved_normalized_shape == (shape[-1],)
    mean, rstd = node._saved_result1, node._saved_result2
    upstream = ember.tensor(dy, device=device).to(kind)
    y.backward(upstream)
    assert tuple(mean.shape) == tuple(rstd.shape) == shape[:-1] + (1,)
    assert mean.dtype is rstd.dtype is (ember.float32 if params == "mixed" else kind)
    grads = torch.ops.aten.native_layer_norm_backward(
        _torch_of(upstream, kind),
        _torch_of(x, kind),
        [shape[-1]],
        _torch_of(mean, mean.dtype),
        _torch_of(rstd, rstd.dtype),
        _torch_of(weight, None if weight is None else weight.dtype),
        _torch_of(bias, None if bias is None else bias.dtype),
        [True, weight is not None, bias is not None],
    )
    ours = [x.grad] + ([] if weight is None else [weight.grad, bias.grad])
    for a, b in zip(ours, grads, strict=False):
        assert str(a.dtype) == str(b.dtype).replace("torch", "ember")
        np.testing.assert_array_equal(_host(a), _host(b))


def test_layer_norm_double_backward_in_16_bits(device):
    """With create_graph the 16-bit layer norm's gradients are a graph (PyTorch's formula, plain sums)."""
    _cpu_kernels_only(device)
    x = ember.randn(4, 24, device=device).to(ember.bfloat16).requires_grad_()
    w = ember.randn(24, device=device).to(ember.bfloat16).requires_grad_()
    y = ember.nn.functional.layer_norm(x, (24,), w, None)
    (gx,) = ember.autograd.grad((y * y).sum(), x, create_graph=True)
    assert gx.dtype is ember.bfloat16 and gx.requires_grad
    gx.float().sum().backward()
    assert w.grad is not None and w.grad.dtype is ember.bfloat16


#: (shape, dim) of log-softmax over a dim that is not the last
LOG_SOFTMAX_CASES = [((8, 50, 33), 1), ((4, 7, 300), 1), ((64, 40), 0), ((3, 5, 6, 7), 1), ((6, 9, 40), 0)]


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("case", LOG_SOFTMAX_CASES, ids=str)
def test_log_softmax_backward_across_bit_exact(device, case, dtype):
    """ember's gradient against PyTorch's backward kernel fed with ember's output."""
    _cpu_kernels_only(device)
    shape, dim = case
    rng = np.random.default_rng(LOG_SOFTMAX_CASES.index(case))
    x = ember.tensor(rng.standard_normal(shape).astype(np.float32) * 2, device=device)
    x = x.to(getattr(ember, dtype)).requires_grad_()
    upstream = ember.tensor(rng.standard_normal(shape).astype(np.float32), device=device).to(x.dtype)
    y = ember.log_softmax(x, dim)
    y.backward(upstream)
    kind = getattr(torch, dtype)
    theirs = torch.ops.aten._log_softmax_backward_data(_torch_of(upstream, kind), _torch_of(y, kind), dim, kind)
    np.testing.assert_array_equal(_host(x.grad), _host(theirs))


def _onednn_bf16():
    from ember.backends.cpu import get_cpu_capability
    from ember.backends.numpy.onednn import library

    return library.load() is not None and get_cpu_capability() == "AVX512" and torch.backends.mkldnn.is_available()


#: (steps, batch, input, hidden, layers, bidirectional)
LSTM_CASES = [(5, 3, 8, 16, 1, False), (12, 4, 10, 32, 2, False), (7, 2, 6, 12, 1, True), (9, 5, 16, 24, 2, True)]


def _lstm_autocast(m, case, leaf, state, **options):
    steps, batch, size, hidden, layers, bidirectional = case
    rng = np.random.default_rng(LSTM_CASES.index(case))
    x = m.tensor(rng.standard_normal((steps, batch, size)).astype(np.float32), **options).requires_grad_()
    g = m.tensor(
        rng.standard_normal((steps, batch, hidden * (2 if bidirectional else 1))).astype(np.float32), **options
    )
    lstm = m.nn.LSTM(size, hidden, layers, bidirectional=bidirectional)
    if m is ember:
        lstm.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in state.items()})
        lstm = lstm.to(options["device"])
    with m.autocast("cpu", dtype=m.bfloat16):
        y, (h, c) = lstm(x if leaf else x * 1)
    (y.float() * g).sum().backward()
    return [y, h, c, x.grad] + [p.grad for _, p in sorted(lstm.named_parameters())], lstm.state_dict()


@pytest.mark.parametrize("leaf", [True, False])
@pytest.mark.parametrize("count", [1, 2])
@pytest.mark.parametrize("case", LSTM_CASES, ids=str)
def test_lstm_autocast_bfloat16_bit_exact(device, threads, case, count, leaf):
    """nn.LSTM in a cpu bfloat16 autocast region: PyTorch runs each layer through oneDNN's bfloat16 LSTM
    (``mkldnn_rnn_layer``); ember's NumPy backend runs the same primitive (the ``onednn`` extra)."""
    if device != "cpu" or not _onednn_bf16():
        pytest.skip("oneDNN's bfloat16 LSTM: the NumPy backend with the onednn extra, on an AVX-512 CPU")
    threads(count)
    torch.manual_seed(LSTM_CASES.index(case))
    theirs, state = _lstm_autocast(torch, case, leaf, None)
    ours, _ = _lstm_autocast(ember, case, leaf, state, device=device)
    for a, b in zip(ours, theirs, strict=True):
        assert str(a.dtype) == str(b.dtype).replace("torch", "ember")
        np.testing.assert_array_equal(_host(a), _host(b))
