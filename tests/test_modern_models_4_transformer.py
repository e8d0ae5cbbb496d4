"""The inference fast path of ``nn.MultiheadAttention`` and ``nn.TransformerEncoderLayer`` in 16 bits,
differential against PyTorch's CPU kernels (``_native_multi_head_attention``,
``_transformer_encoder_layer_fwd``): in a cpu autocast region (which PyTorch's modules do not see: they
check cuda's autocast alone, and the kernel is itself autocast), and with bool masks, whose softmax is
``_masked_softmax``'s."""

from __future__ import annotations

import numpy as np
import pytest
from reference import torch

import ember

E, H, N, L = 32, 4, 3, 7
_RNG = np.random.default_rng(0)
X = _RNG.standard_normal((N, L, E)).astype(np.float32)
PADDING = np.zeros((N, L), bool)
PADDING[1, 5:] = PADDING[2, 3:] = True
CAUSAL = np.triu(np.ones((L, L), bool), 1)
PER_HEAD = _RNG.random((N * H, L, L)) < 0.3
PER_HEAD[..., 0] = False  # a key for every query (a fully masked row is NaN, checked apart)


def _state(kind, **kwargs):
    """A PyTorch module of ``kind`` with parameters large enough for the 16-bit roundings to show."""
    torch.manual_seed(0)
    if kind == "mha":
        module = torch.nn.MultiheadAttention(E, H, batch_first=True)
    else:
        module = torch.nn.TransformerEncoderLayer(E, H, 64, dropout=0.0, batch_first=True, **kwargs)
        if kind == "encoder":
            module = torch.nn.TransformerEncoder(module, 2, enable_nested_tensor=False)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn_like(p) * 0.3)
    return module


def _module(lib, device, kind, **kwargs):
    reference = _state(kind, **kwargs)
    if lib is torch:
        return reference.eval()
    if kind == "mha":
        module = ember.nn.MultiheadAttention(E, H, batch_first=True)
    else:
        module = ember.nn.TransformerEncoderLayer(E, H, 64, dropout=0.0, batch_first=True, **kwargs)
        if kind == "encoder":
            module = ember.nn.TransformerEncoder(module, 2, enable_nested_tensor=False)
    module.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in reference.state_dict().items()})
    return module.to(device).eval()


def _run(lib, device, kind, name, region, masks, need_weights=False, average=True, **kwargs):
    """Output and weights (float32 NumPy arrays) and the output's dtype name, without autograd."""
    dtype = getattr(lib, name)
    module = _module(lib, device, kind, **kwargs)
    x = lib.tensor(X)
    x = x if lib is torch else x.to(device)
    if not region:
        module, x = module.to(dtype), x.to(dtype)
    given = {k: lib.tensor(v) if lib is torch else ember.tensor(v, device=device) for k, v in masks.items()}
    region_type = "cpu" if lib is torch else ember.device(device).type  # restricted follows cpu's table
    with lib.no_grad(), lib.autocast(region_type, dtype=dtype, enabled=region):
        if kind == "mha":
            out, weights = module(x, x, x, need_weights=need_weights, average_attn_weights=average, **given)
        else:
            out, weights = module(x, **given), None
    weights = None if weights is None else weights.float().cpu().numpy()
    return out.float().cpu().numpy(), weights, str(out.dtype).split(".")[-1]


def _same(got, want, name, share):
    """``got`` equals ``want`` (NaN where it is NaN); in float16, a ``share`` of the elements may differ by
    a few units (PyTorch's float16 matrix products accumulate in another order)."""
    if name == "bfloat16":
        np.testing.assert_array_equal(got, want)
        return
    ulp = float(torch.finfo(torch.float16).eps)
    np.testing.assert_allclose(got, want, rtol=4 * ulp, atol=4 * ulp * np.nanmax(np.abs(want)))
    assert (got != want).mean() <= share


MASKS = {
    "none": {},
    "padding": {"key_padding_mask": PADDING},
    "causal": {"attn_mask": CAUSAL},
    "per_head": {"attn_mask": PER_HEAD},
    "both": {"key_padding_mask": PADDING, "attn_mask": CAUSAL},
}


@pytest.mark.parametrize("masks", list(MASKS), ids=list(MASKS))
@pytest.mark.parametrize("region", [True, False], ids=["autocast", "16-bit_module"])
@pytest.mark.parametrize("name", ["bfloat16", "float16"])
def test_attention_fast_path_in_16_bits_as_torch(amp_device, name, region, masks):
    """In a cpu autocast region ember took the slow path (4 in 10 bfloat16 outputs of these attentions
    one unit or more off PyTorch's: 422 of 672 without a mask); with bool masks, in a region or on a 16-bit
    module, it computed the weights' path (362 of 672 with the padding): PyTorch's kernel casts the query
    and weights, and softmaxes with ``_masked_softmax``, rounding ``x - max``, its exponential and the
    reciprocal of their sum each to the 16-bit type. Now bfloat16 is bit for bit, weights too."""
    device, _ = amp_device
    cases = [(False, True), (True, True), (True, False)]  # (need_weights, average_attn_weights)
    for need_weights, average in cases:
        args = (kind := "mha", name, region, MASKS[masks], need_weights, average)
        got, want = _run(ember, device, *args), _run(torch, "cpu", *args)
        assert got[2] == want[2] == name, kind
        _same(got[0], want[0], name, 0.01)
        if need_weights:
            _same(got[1], want[1], name, 0.0)
        else:
            assert got[1] is None


@pytest.mark.parametrize(
    "kind, options",
    [("layer", {}), ("layer", {"norm_first": True, "activation": "gelu"}), ("encoder", {})],
    ids=["layer", "pre_norm_gelu", "encoder"],
)
@pytest.mark.parametrize("masks", ["none", "padding", "causal"])
@pytest.mark.parametrize("name", ["bfloat16", "float16"])
def test_encoder_layer_fast_path_in_an_autocast_region_as_torch(amp_device, name, masks, kind, options):
    """PyTorch's fused encoder layer runs in a cpu autocast region (it checks cuda's autocast): the residuals
    are added into the attention's and the feed-forward block's 16-bit outputs, so the layer's output is
    16-bit. ember ran the slow path, whose residuals promote to float32: every output differed (float32
    where PyTorch gives bfloat16, 672 of 672 values). Masks as the encoder hands them (bool made float) are
    read as the bool masks they were."""
    device, _ = amp_device
    key = "src_key_padding_mask" if masks == "padding" else "mask" if kind == "encoder" else "src_mask"
    given = {key: next(iter(MASKS[masks].values()))} if masks != "none" else {}
    got = _run(ember, device, kind, name, True, given, **options)
    want = _run(torch, "cpu", kind, name, True, given, **options)
    assert got[2] == want[2] == name
    _same(got[0], want[0], name, 0.1)


@pytest.mark.parametrize("name", ["bfloat16", "float16"])
def test_encoder_nested_padding_in_16_bits_as_torch(amp_device, name):
    """The encoder stack's nested tensor (a padding mask alone, in evaluation) softmaxes each sequence
    without its padding: the plain softmax's rounding of the shorter row, not ``_masked_softmax``'s."""
    device, _ = amp_device
    outs = []
    for lib in (ember, torch):
        torch.manual_seed(0)
        reference = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(E, H, 64, 0.0, batch_first=True), 2)
        with torch.no_grad():
            for p in reference.parameters():
                p.copy_(torch.randn_like(p) * 0.3)
        module = reference
        if lib is ember:
            module = ember.nn.TransformerEncoder(ember.nn.TransformerEncoderLayer(E, H, 64, 0.0, batch_first=True), 2)
            module.load_state_dict({k: ember.tensor(v.numpy()) for k, v in reference.state_dict().items()})
        module = module.to(device if lib is ember else "cpu").to(getattr(lib, name)).eval()
        x = lib.tensor(X, dtype=getattr(lib, name), device=device if lib is ember else "cpu")
        with lib.no_grad():
            outs.append(module(x, src_key_padding_mask=lib.tensor(PADDING, device=x.device)).float().cpu().numpy())
    _same(*outs, name, 0.1)


def test_fully_masked_query_is_nan_on_the_fast_path_as_torch(amp_device):
    """``_masked_softmax`` of a row whose every key is masked is NaN (0 times the reciprocal of 0)."""
    device, _ = amp_device
    causal = CAUSAL.copy()
    causal[2] = True
    got = _run(ember, device, "mha", "bfloat16", False, {"attn_mask": causal}, True)
    want = _run(torch, "cpu", "mha", "bfloat16", False, {"attn_mask": causal}, True)
    assert np.isnan(want[0][:, 2]).all() and np.isnan(want[1][:, 2]).all()
    for g, w in zip(got[:2], want[:2]):
        np.testing.assert_array_equal(g, w)


def test_a_float_attention_bias_keeps_its_values_on_the_encoder_layer(device):
    """A float ``src_mask`` of other values than 0 and ``-inf`` (a relative-position bias): PyTorch's fused
    layer reads it as ``mask != 0`` and masks every key (NaN, pytorch/pytorch#118628); ember adds it, as
    PyTorch's slow path does (a deliberate difference)."""
    bias = _RNG.standard_normal((L, L)).astype(np.float32)
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        want = _run(torch, "cpu", "layer", "float32", False, {"src_mask": bias})
    finally:
        torch.backends.mha.set_fastpath_enabled(True)
    got = _run(ember, device, "layer", "float32", False, {"src_mask": bias})
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("region", [True, False], ids=["autocast", "16-bit_module"])
@pytest.mark.parametrize("is_causal", [True, False])
def test_float_mask_keeps_the_slow_path_in_evaluation_as_torch(amp_device, region, is_causal):
    """A float ``attn_mask`` (``generate_square_subsequent_mask``, a decoder's) blocks PyTorch's fast path:
    its slow path runs scaled dot-product attention. ember ran the weights' path in evaluation without
    autograd (kept for the fast path's NaN on fully masked queries): 230 of 480 bfloat16 outputs of this
    decoder self-attention differed from PyTorch's (and every float32 output of a bfloat16-autocast
    ``nn.Transformer`` after it, by up to 4e-3)."""
    device, _ = amp_device
    outs = []
    for lib in (ember, torch):
        module = _module(lib, device if lib is ember else "cpu", "mha")
        x = lib.tensor(X[:, :5])
        x = x if lib is torch else x.to(device)
        mask = lib.nn.Transformer.generate_square_subsequent_mask(5)
        mask = mask if lib is torch else mask.to(device)
        if not region:
            module, x, mask = module.to(lib.bfloat16), x.to(lib.bfloat16), mask.to(lib.bfloat16)
        region_type = "cpu" if lib is torch else ember.device(device).type
        with lib.no_grad(), lib.autocast(region_type, dtype=lib.bfloat16, enabled=region):
            out = module(x, x, x, attn_mask=mask, is_causal=is_causal, need_weights=False)[0]
        outs.append(out.float().cpu().numpy())
    np.testing.assert_array_equal(*outs)


def test_transformer_in_an_autocast_region_as_torch(amp_device):
    """``nn.Transformer`` in evaluation in a bfloat16 region: the encoder's fused layers (16-bit output), the
    decoder's slow path with its float causal mask; float32 out, to float32's rounding."""
    device, _ = amp_device
    torch.manual_seed(0)
    reference = torch.nn.Transformer(E, H, 2, 2, 64, dropout=0.0, batch_first=True)
    with torch.no_grad():
        for p in reference.parameters():
            p.copy_(torch.randn_like(p) * 0.3)
    model = ember.nn.Transformer(E, H, 2, 2, 64, dropout=0.0, batch_first=True)
    model.load_state_dict({k: ember.tensor(v.numpy()) for k, v in reference.state_dict().items()})
    model = model.to(device).eval()
    # an input of its own, whatever ran before: on about 4% of random inputs one intermediate rounds to the
    # neighbouring bfloat16 value (float32 exp/tanh differ from PyTorch's in the last bit) and the output
    # then differs by up to 4e-3 in a few elements
    tgt = np.random.default_rng(1).standard_normal((N, 5, E)).astype(np.float32)
    outs = []
    for lib, module in ((ember, model), (torch, reference.eval())):
        dev = device if lib is ember else "cpu"
        mask = lib.nn.Transformer.generate_square_subsequent_mask(5).to(dev)
        with lib.no_grad(), lib.autocast(ember.device(dev).type if lib is ember else "cpu", dtype=lib.bfloat16):
            out = module(lib.tensor(X).to(dev), lib.tensor(tgt).to(dev), tgt_mask=mask, tgt_is_causal=True)
        outs.append((out.float().cpu().numpy(), str(out.dtype).split(".")[-1]))
    assert outs[0][1] == outs[1][1] == "float32"
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-5, atol=1e-5)
