"""Module calls off the main road that module_db does not reach, each against PyTorch: the recurrent
modules' hidden-state tuples of the wrong length (ember ran an LSTMCell on a one-element hx, its ``c``
taken as zeros), an EmbeddingBag with no bag at all, fractional max pooling with random samples of
another dtype than its input, attention dropout's mask order, and complex inputs to max pooling
(refused) and to adaptive average pooling to size 1 (taken).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from complex_support import holds_complex
from reference import assert_close, torch

import ember
from ember import nn


def _pair(shape, device, dtype, seed=0):
    x = np.random.default_rng(seed).standard_normal(shape)
    return torch.tensor(x, dtype=getattr(torch, dtype.name)), ember.tensor(x, dtype=dtype, device=device)


def _cell_pair(cls, device, dtype, *args):
    torch.manual_seed(0)
    t_mod = getattr(torch.nn, cls)(*args).to(getattr(torch, dtype.name))
    e_mod = getattr(nn, cls)(*args).to(device=device, dtype=dtype)
    e_mod.load_state_dict({k: ember.tensor(v.detach().numpy(), device=device) for k, v in t_mod.state_dict().items()})
    return t_mod, e_mod


@pytest.mark.parametrize("count", [0, 1, 3])
def test_lstm_cell_batched_state_count(device, dtype, count):
    t_mod, e_mod = _cell_pair("LSTMCell", device, dtype, 3, 4)
    t_x, e_x = _pair((2, 3), device, dtype)
    t_h, e_h = _pair((2, 4), device, dtype, seed=1)
    with pytest.raises(RuntimeError, match="lstm_cell expects two hidden states"):
        t_mod(t_x, (t_h,) * count)
    with pytest.raises(
        RuntimeError, match=r"LSTMCell: lstm_cell expects two hidden states \(h, c\), got " + str(count)
    ):
        e_mod(e_x, (e_h,) * count)


def test_lstm_cell_unbatched_state_count(device, dtype):
    """An unbatched input's state: PyTorch indexes hx[0] and hx[1] (an IndexError for one state, the
    first two of three taken)."""
    t_mod, e_mod = _cell_pair("LSTMCell", device, dtype, 3, 4)
    t_x, e_x = _pair((3,), device, dtype)
    t_h, e_h = _pair((4,), device, dtype, seed=1)
    t_c, e_c = _pair((4,), device, dtype, seed=2)
    with pytest.raises(IndexError):
        t_mod(t_x, (t_h,))
    with pytest.raises(IndexError, match="LSTMCell: hx must hold two hidden states"):
        e_mod(e_x, (e_h,))
    for e, t in zip(e_mod(e_x, (e_h, e_c, e_h)), t_mod(t_x, (t_h, t_c, t_h))):
        assert_close(e, t, dtype)


def test_lstm_state_count_and_type(device, dtype):
    t_mod, e_mod = _cell_pair("LSTM", device, dtype, 3, 4)
    t_x, e_x = _pair((5, 2, 3), device, dtype)
    t_h, e_h = _pair((1, 2, 4), device, dtype, seed=1)
    with pytest.raises(RuntimeError, match="lstm expects two hidden states"):
        t_mod(t_x, (t_h,) * 3)
    with pytest.raises(RuntimeError, match=r"LSTM: lstm expects two hidden states \(h_0, c_0\), got 3"):
        e_mod(e_x, (e_h,) * 3)
    t_hc, e_hc = _pair((2, 1, 2, 4), device, dtype, seed=2)  # a tensor, not a tuple, for a batched input
    with pytest.raises(TypeError):
        t_mod(t_x, t_hc)
    with pytest.raises(TypeError, match=r"LSTM: hx must be a tuple of two Tensors \(h_0, c_0\), got a Tensor"):
        e_mod(e_x, e_hc)
    # an unbatched input's state: hx[0] and hx[1] taken, whatever else the tuple holds
    t_x, e_x = _pair((5, 3), device, dtype)
    t_h, e_h = _pair((1, 4), device, dtype, seed=3)
    t_out = t_mod(t_x, (t_h, t_h, t_h))
    e_out = e_mod(e_x, (e_h, e_h, e_h))
    assert_close(e_out[0], t_out[0], dtype)
    for e, t in zip(e_out[1], t_out[1]):
        assert_close(e, t, dtype)


def test_lstm_packed_tensor_state(device, dtype):
    """A packed, unsorted input's state may be one tensor: PyTorch's permutation takes hx[0] and hx[1]."""
    t_mod, e_mod = _cell_pair("LSTM", device, dtype, 3, 4)
    t_x, e_x = _pair((5, 2, 3), device, dtype)
    t_hc, e_hc = _pair((2, 1, 2, 4), device, dtype, seed=1)
    t_p = torch.nn.utils.rnn.pack_padded_sequence(t_x, torch.tensor([3, 5]), enforce_sorted=False)
    e_p = ember.nn.utils.rnn.pack_padded_sequence(e_x, ember.tensor([3, 5]), enforce_sorted=False)
    _, (t_hn, t_cn) = t_mod(t_p, t_hc)
    _, (e_hn, e_cn) = e_mod(e_p, e_hc)
    assert_close(e_hn, t_hn, dtype)
    assert_close(e_cn, t_cn, dtype)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("indices", [[0, 1, 2], []])
def test_embedding_bag_no_bag(device, dtype, mode, indices):
    """include_last_offset with the one offset [0]: no bag, a (0, D) result that requires grad, as PyTorch
    2.13 gives in float32 (ember's scatter failed). PyTorch itself is not called: its float64 kernel
    crashes the interpreter on this input."""
    w = ember.tensor(np.random.default_rng(0).standard_normal((5, 3)), dtype=dtype, device=device, requires_grad=True)
    out = ember.nn.functional.embedding_bag(
        ember.tensor(indices, dtype=ember.int64, device=device),
        w,
        ember.tensor([0], device=device),
        mode=mode,
        include_last_offset=True,
    )
    assert tuple(out.shape) == (0, 3) and out.dtype == dtype and out.requires_grad
    out.sum().backward()
    assert w.grad is None or not np.any(w.grad.cpu().numpy())
    bag = nn.EmbeddingBag(5, 3, mode=mode, include_last_offset=True).to(device)
    empty = bag(ember.tensor(indices, dtype=ember.int64, device=device), ember.tensor([0], device=device))
    assert tuple(empty.shape) == (0, 3)


@pytest.mark.parametrize("nd", [2, 3])
def test_fractional_max_pool_samples_dtype(device, dtype, nd):
    """_random_samples of another dtype than the input: PyTorch refuses them (ember cast them)."""
    other = ember.float32 if dtype is ember.float64 else ember.float64
    t_x, e_x = _pair((1, 2) + (8,) * nd, device, dtype)
    samples = np.random.default_rng(1).uniform(size=(1, 2, nd))
    fn = f"fractional_max_pool{nd}d"
    with pytest.raises(RuntimeError, match="Expect _random_samples to have the same dtype as input"):
        getattr(torch.nn.functional, fn)(
            t_x, 2, output_size=3, _random_samples=torch.tensor(samples).to(getattr(torch, other.name))
        )
    with pytest.raises(RuntimeError, match=rf"{fn}: Expect _random_samples to have the same dtype as input"):
        getattr(ember.nn.functional, fn)(
            e_x, 2, output_size=3, _random_samples=ember.tensor(samples, dtype=other, device=device)
        )
    t_out = getattr(torch.nn.functional, fn)(t_x, 2, output_size=3, _random_samples=torch.tensor(samples).to(t_x.dtype))
    e_out = getattr(ember.nn.functional, fn)(
        e_x, 2, output_size=3, _random_samples=ember.tensor(samples, dtype=dtype, device=device)
    )
    assert_close(e_out, t_out, dtype)


@pytest.mark.parametrize(
    "ctor,shapes",
    [
        ("MultiheadAttention(8, 2, dropout=0.5)", [(5, 3, 8), (4, 3, 8), (4, 3, 8)]),
        ("MultiheadAttention(8, 2, dropout=0.5, kdim=4, vdim=4)", [(5, 3, 8), (4, 3, 4), (4, 3, 4)]),
        ("MultiheadAttention(8, 2, dropout=0.5, batch_first=True)", [(3, 5, 8), (3, 4, 8), (3, 4, 8)]),
        ("TransformerDecoderLayer(8, 2, 16, dropout=0.3)", [(5, 3, 8), (4, 3, 8)]),
        ("TransformerDecoderLayer(8, 2, 16, dropout=0.3, norm_first=True, batch_first=True)", [(3, 5, 8), (3, 4, 8)]),
    ],
)
def test_attention_dropout_draws_as_torch(device, ctor, shapes):
    """Attention dropout in training drops the same weights as PyTorch for the same seed (the cpu generator
    is PyTorch's): the mask is drawn row-major over the (N*H, L, S) weights. ember drew it laid out like the
    query when S equalled the head dim (a transposed view of that shape), so 4 keys for 5 queries of head
    dim 4 dropped other weights than PyTorch."""
    if device.split(":")[0] not in ("cpu", "restricted"):
        pytest.skip(f"{device}'s generator is not PyTorch's: its draws differ by design")
    torch.manual_seed(0)
    t_mod = eval(f"torch.nn.{ctor}").train()
    e_mod = eval(f"nn.{ctor}").to(device).train()
    e_mod.load_state_dict({k: ember.tensor(v.detach().numpy(), device=device) for k, v in t_mod.state_dict().items()})
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    e_in = [ember.tensor(a, device=device, requires_grad=True) for a in arrays]
    torch.manual_seed(7)
    ember.manual_seed(7)
    t_out = t_mod(*t_in)
    e_out = e_mod(*e_in)
    t_out, e_out = (t_out[0], e_out[0]) if isinstance(t_out, tuple) else (t_out, e_out)
    assert_close(e_out, t_out, ember.float32)
    upstream = rng.standard_normal(tuple(t_out.shape)).astype(np.float32)
    (t_out * torch.tensor(upstream)).sum().backward()
    (e_out * ember.tensor(upstream, device=device)).sum().backward()
    for e, t in zip(e_in, t_in):
        assert_close(e.grad, t.grad, ember.float32)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_adaptive_avg_pool_complex_to_one(device, nd):
    """A complex input pooled to size 1: PyTorch averages with mean(), which takes complex (ember refused)."""
    if not holds_complex(device):
        pytest.skip(f"{device} has no complex dtypes")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3) + (4,) * nd) + 1j * rng.standard_normal((2, 3) + (4,) * nd)
    t_x = torch.tensor(x, requires_grad=True)
    e_x = ember.tensor(x, device=device, requires_grad=True)
    fn = f"adaptive_avg_pool{nd}d"
    t_out = getattr(torch.nn.functional, fn)(t_x, 1)
    e_out = getattr(ember.nn.functional, fn)(e_x, 1)
    assert e_out.dtype == ember.complex128 and tuple(e_out.shape) == tuple(t_out.shape)
    np.testing.assert_allclose(e_out.detach().cpu().numpy(), t_out.detach().numpy(), rtol=1e-12, atol=1e-12)
    t_out.abs().sum().backward()
    e_out.abs().sum().backward()
    np.testing.assert_allclose(e_x.grad.cpu().numpy(), t_x.grad.numpy(), rtol=1e-10, atol=1e-12)
    with pytest.raises(NotImplementedError) as t_err:  # other sizes: no complex kernel, in either
        getattr(torch.nn.functional, fn)(t_x, 2)
    with pytest.raises(NotImplementedError, match=re.escape(str(t_err.value))):
        getattr(ember.nn.functional, fn)(e_x, 2)


@pytest.mark.parametrize("nd", [2, 3])
def test_max_pool_refuses_complex(device, nd):
    """Complex numbers have no order: PyTorch's max_pool2d/3d refuse them (ember pooled by NumPy's
    lexicographic order)."""
    if not holds_complex(device):
        pytest.skip(f"{device} has no complex dtypes")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2) + (4,) * nd) + 1j * rng.standard_normal((1, 2) + (4,) * nd)
    fn = f"max_pool{nd}d"
    with pytest.raises(NotImplementedError) as t_err:
        getattr(torch.nn.functional, fn)(torch.tensor(x), 2)
    with pytest.raises(NotImplementedError, match=re.escape(str(t_err.value))):
        getattr(ember.nn.functional, fn)(ember.tensor(x, device=device), 2)
    with pytest.raises(NotImplementedError, match=re.escape(str(t_err.value))):
        getattr(nn, f"MaxPool{nd}d")(2, return_indices=True)(ember.tensor(x, device=device))


@pytest.mark.parametrize("fn", ["dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d"])
@pytest.mark.parametrize("dt", ["complex64", "complex128"])
def test_dropout_refuses_complex(device, fn, dt):
    """A complex input in training: PyTorch's NotImplementedError from its Bernoulli kernel (ember raised a
    RuntimeError about casting); p = 0 and p = 1 still pass it through or zero it, in both."""
    if not holds_complex(device):
        pytest.skip(f"{device} has no complex dtypes")
    shape = (2, 3, 4, 4) if fn == "dropout2d" else (2, 3, 4)
    with pytest.raises(NotImplementedError) as t_err:
        getattr(torch.nn.functional, fn)(torch.ones(shape, dtype=getattr(torch, dt)), 0.5, True)
    x = ember.ones(shape, dtype=getattr(ember, dt), device=device)
    with pytest.raises(NotImplementedError, match=re.escape(str(t_err.value))):
        getattr(ember.nn.functional, fn)(x, 0.5, True)
    if fn == "dropout":
        for p in (0.0, 1.0):
            t_out = torch.nn.functional.dropout(torch.ones(shape, dtype=getattr(torch, dt)), p, True)
            np.testing.assert_array_equal(ember.nn.functional.dropout(x, p, True).cpu().numpy(), t_out.numpy())


@pytest.mark.parametrize("dt", ["int64", "complex64", "complex128"])
def test_attention_refuses_non_floating(device, dt):
    """One dtype for query, key and value, but not a floating one: PyTorch's own errors (ember said the
    three dtypes differed; MultiheadAttention ran on complex inputs, where PyTorch's softmax refuses)."""
    if dt.startswith("complex") and not holds_complex(device):
        pytest.skip(f"{device} has no complex dtypes")
    shape = (2, 3, 4)
    t_x = torch.ones(shape, dtype=getattr(torch, dt))
    e_x = ember.ones(shape, dtype=getattr(ember, dt), device=device)
    with pytest.raises(Exception) as t_err:
        torch.nn.functional.scaled_dot_product_attention(t_x, t_x, t_x)
    with pytest.raises(type(t_err.value), match=re.escape(str(t_err.value))):
        ember.nn.functional.scaled_dot_product_attention(e_x, e_x, e_x)
    if dt.startswith("complex"):
        with pytest.raises(NotImplementedError) as t_err:
            torch.nn.MultiheadAttention(4, 2).to(t_x.dtype)(t_x, t_x, t_x)
        with pytest.raises(NotImplementedError, match=re.escape(str(t_err.value))):
            nn.MultiheadAttention(4, 2).to(device=device, dtype=e_x.dtype)(e_x, e_x, e_x)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("complex_target", [False, True])
def test_soft_margin_loss_complex(device, reduction, complex_target):
    """A complex input: PyTorch computes log(1 + exp(-y x)) in complex (ember refused it as a cast)."""
    if not holds_complex(device):
        pytest.skip(f"{device} has no complex dtypes")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
    y = np.sign(rng.standard_normal((3, 4))) + (0j if complex_target else 0)
    t_out = torch.nn.SoftMarginLoss(reduction=reduction)(torch.tensor(x), torch.tensor(y))
    e_out = nn.SoftMarginLoss(reduction=reduction)(ember.tensor(x, device=device), ember.tensor(y, device=device))
    assert e_out.dtype == ember.complex128 and tuple(e_out.shape) == tuple(t_out.shape)
    np.testing.assert_allclose(e_out.cpu().numpy(), t_out.numpy(), rtol=1e-12, atol=1e-12)
