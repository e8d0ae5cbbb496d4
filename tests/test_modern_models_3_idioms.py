"""Idioms of today's decoder models, differential against PyTorch's CPU: a preallocated KV cache filled
with ``index_copy_``/slice assignment under ``no_grad`` and a ``cat``-grown one, decoding with one query
and ``is_causal=False``, a padding mask from ``arange < lengths[:, None]``, grouped-query attention through
``repeat_interleave``, rotary embeddings through complex multiplication (float32 and under bfloat16
autocast), and a small Transformer trained in bfloat16 (``model.to(torch.bfloat16)``)."""

from __future__ import annotations

import numpy as np
import pytest
from reference import torch

import ember

_RNG = np.random.default_rng(0)
X = _RNG.standard_normal((2, 4, 6, 8)).astype(np.float32)  # (batch, heads, positions, head dim)
K = _RNG.standard_normal((2, 2, 6, 8)).astype(np.float32)  # two key/value heads
LENGTHS = np.array([4, 6])


def _put(lib, device, a, dtype="float32"):
    t = lib.tensor(a, dtype=getattr(lib, dtype))
    return t if lib is torch else t.to(device)


def _decode(lib, device, fill):
    """Step-by-step decoding against a KV cache; the last step's output and the cache."""
    q, k = _put(lib, device, X), _put(lib, device, K)
    k = k.repeat_interleave(2, dim=1)  # grouped-query attention: each key/value head serves two query heads
    outs = []
    if fill == "cat":
        cache = k[:, :, :0]
    else:
        cache = lib.zeros(2, 4, 6, 8, device=q.device)
    for pos in range(6):
        with lib.no_grad():
            if fill == "index_copy":
                cache.index_copy_(2, lib.tensor([pos], device=q.device), k[:, :, pos : pos + 1])
            elif fill == "slice":
                cache[:, :, pos : pos + 1] = k[:, :, pos : pos + 1]
            else:
                cache = lib.cat([cache, k[:, :, pos : pos + 1]], dim=-2)
        view = cache[:, :, : pos + 1]
        outs.append(lib.nn.functional.scaled_dot_product_attention(q[:, :, pos : pos + 1], view, view, is_causal=False))
    return [lib.cat(outs, dim=2), cache]


@pytest.mark.parametrize("fill", ["index_copy", "slice", "cat"])
def test_kv_cache_decoding_as_torch_and_as_one_causal_pass(device, fill):
    got = [t.cpu().numpy() for t in _decode(ember, device, fill)]
    want = [t.numpy() for t in _decode(torch, "cpu", fill)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    q, k = _put(ember, device, X), _put(ember, device, K)
    whole = ember.nn.functional.scaled_dot_product_attention(q, k, k, is_causal=True, enable_gqa=True)
    np.testing.assert_allclose(got[0], whole.cpu().numpy(), rtol=1e-5, atol=1e-6)


def _padded(lib, device):
    q = _put(lib, device, X).requires_grad_(True)
    lengths = _put(lib, device, LENGTHS).long()
    keep = lib.arange(6, device=q.device)[None, :] < lengths[:, None]
    out = lib.nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=keep[:, None, None, :])
    (out * out).sum().backward()
    return [keep, out, q.grad]


def test_padding_mask_from_lengths_as_torch(device):
    got = [t.detach().cpu().numpy() for t in _padded(ember, device)]
    want = [t.detach().numpy() for t in _padded(torch, "cpu")]
    assert got[0].dtype == want[0].dtype == np.bool_
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def _rope(lib, device, autocast):
    """LLaMA's rotary embedding: frequencies by ``polar``, the pairs of features as complex numbers."""
    x = _put(lib, device, X).transpose(1, 2).requires_grad_(True)  # (batch, positions, heads, head dim)
    freqs = 1.0 / (10000.0 ** (lib.arange(0, 8, 2, device=x.device)[:4].float() / 8))
    angles = lib.outer(lib.arange(6, device=x.device), freqs).float()
    rotation = lib.polar(lib.ones_like(angles), angles).view(1, 6, 1, 4)
    region = lib.autocast("cpu", dtype=lib.bfloat16, enabled=autocast)
    with region:
        h = x @ lib.eye(8, device=x.device)  # bfloat16 under autocast
        pairs = lib.view_as_complex(h.float().reshape(*h.shape[:-1], -1, 2))
        out = lib.view_as_real(pairs * rotation).flatten(3).type_as(h)
    (out.float() * out.float()).sum().backward()
    return [lib.view_as_real(rotation), out, x.grad]


@pytest.mark.parametrize("autocast", [False, True], ids=["float32", "bfloat16_autocast"])
def test_rotary_embedding_by_complex_multiplication_as_torch(device, autocast):
    if autocast and ember.device(device).type == "opencl":
        pytest.skip("opencl has no bfloat16")
    try:
        ember.zeros(1, dtype=ember.complex64, device=device)
    except TypeError as exc:  # the restricted and opencl backends have no complex dtypes
        pytest.skip(str(exc))
    got = _rope(ember, device, autocast)
    want = _rope(torch, "cpu", autocast)
    assert str(got[1].dtype).split(".")[-1] == str(want[1].dtype).split(".")[-1]
    for g, w in zip(got, want):
        g, w = g.detach().float().cpu().numpy(), w.detach().float().numpy()
        # float32 cos/sin round in their own way: a unit of bfloat16 rounding under autocast
        tol = 2**-8 if autocast else 1e-5
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


def _train_bfloat16(lib, device, state):
    lib.manual_seed(0)
    layer = lib.nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True, norm_first=True)
    model = lib.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    if lib is ember:
        model.load_state_dict({k: ember.tensor(v) for k, v in state.items()})
        model = model.to(device)
    model = model.to(lib.bfloat16)
    opt = lib.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    rng = np.random.default_rng(2)
    losses = []
    for _ in range(3):
        x = _put(lib, device, rng.standard_normal((2, 5, 16)).astype(np.float32), "bfloat16")
        y = _put(lib, device, rng.standard_normal((2, 5, 16)).astype(np.float32), "bfloat16")
        opt.zero_grad()
        loss = lib.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.float().item())
    return losses, [p.detach().float().cpu().numpy() for p in model.parameters()]


def test_bfloat16_transformer_training_as_torch(device):
    """PyTorch's CPU bfloat16 kernels accumulate in float32: the parameters after three SGD steps agree
    within a unit of bfloat16 rounding (the first step's forward and gradients bit for bit)."""
    if ember.device(device).type == "opencl":
        pytest.skip("opencl has no bfloat16")
    torch.manual_seed(0)
    t_layer = torch.nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True, norm_first=True)
    t_model = torch.nn.TransformerEncoder(t_layer, 2, enable_nested_tensor=False)
    state = {k: v.detach().numpy() for k, v in t_model.state_dict().items()}
    got_losses, got = _train_bfloat16(ember, device, state)
    want_losses, want = _train_bfloat16(torch, "cpu", state)
    assert got_losses[0] == want_losses[0]
    np.testing.assert_allclose(got_losses, want_losses, rtol=2**-7)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=2**-7, atol=2**-9)
