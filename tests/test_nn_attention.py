"""Attention and Transformers, differential against PyTorch: SDPA, multi-head attention, the layers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from reference import assert_close, check, randn, to_ember, torch

import ember
import ember.nn.functional as F
from ember import nn
from ember.autograd import gradcheck, gradgradcheck

TF = torch.nn.functional

pytestmark = [
    pytest.mark.filterwarnings("ignore:enable_nested_tensor is True"),
    pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask"),
]


def _mask(*shape, p=0.7):
    m = np.random.default_rng(5).random(shape) < p
    m[..., 0] = True  # every query sees at least one key
    return m


@pytest.mark.parametrize(
    "shapes",
    [
        ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)),
        ((4, 5), (6, 5), (6, 3)),
        ((2, 1, 4, 5), (3, 6, 5), (1, 6, 5)),  # broadcast batch dimensions
    ],
)
@pytest.mark.parametrize("kwargs", [{}, {"is_causal": True}, {"scale": 0.3}, {"bool_mask": True}, {"float_mask": True}])
def test_sdpa(device, dtype, shapes, kwargs):
    kwargs = dict(kwargs)
    arrays = [randn(*s) for s in shapes]
    L, S = shapes[0][-2], shapes[1][-2]
    if kwargs.pop("bool_mask", False):
        arrays.append(_mask(L, S))
    elif kwargs.pop("float_mask", False):
        arrays.append(randn(L, S))
    check(
        lambda *a: F.scaled_dot_product_attention(*a[:3], *a[3:], **kwargs),
        lambda *a: TF.scaled_dot_product_attention(*a[:3], *a[3:], **kwargs),
        arrays,
        device=device,
        dtype=dtype,
    )


def test_sdpa_fully_masked_rows_are_zero(device):
    mask = np.ones((3, 4), dtype=bool)
    mask[1] = False
    check(
        lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m),
        lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, m),
        [randn(2, 3, 5), randn(2, 4, 5), randn(2, 4, 5), mask],
        device=device,
    )


def test_sdpa_gqa(device, dtype):
    check(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, enable_gqa=True),
        [randn(2, 6, 4, 5), randn(2, 2, 3, 5), randn(2, 2, 3, 5)],
        device=device,
        dtype=dtype,
    )


def test_sdpa_dropout(device):
    q = ember.randn(2, 3, 16, 8, device=device, dtype=ember.float64)
    ember.manual_seed(3)
    a = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    ember.manual_seed(3)
    b = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    assert_close(a, b.cpu().numpy())
    assert not np.allclose(a.cpu().numpy(), F.scaled_dot_product_attention(q, q, q).cpu().numpy())
    # dropout_p=1 drops every weight
    assert not np.any(F.scaled_dot_product_attention(q, q, q, dropout_p=1.0).cpu().numpy())


def test_sdpa_errors(device):
    q = ember.randn(2, 4, 5, device=device)
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(
            q, q, q, attn_mask=ember.ones(4, 4, dtype=ember.bool, device=device), is_causal=True
        )
    with pytest.raises(RuntimeError, match="same dtype"):
        F.scaled_dot_product_attention(q, q.double(), q)
    with pytest.raises(TypeError, match="query"):
        F.scaled_dot_product_attention(None, q, q)
    with pytest.raises(
        RuntimeError, match=r"Expected size for first two dimensions of batch2 tensor to be: \[2, 5\] but got: \[2, 3\]"
    ):
        F.scaled_dot_product_attention(q, ember.randn(2, 4, 3, device=device), q)


def test_sdpa_dropout_out_of_range_is_a_runtime_error_as_torch():
    q = ember.randn(1, 2, 3)
    with pytest.raises(RuntimeError, match="dropout probability"):
        TF.scaled_dot_product_attention(*(torch.randn(1, 2, 3),) * 3, dropout_p=1.5)
    with pytest.raises(RuntimeError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        F.scaled_dot_product_attention(q, q, q, dropout_p=1.5)


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_sdpa_float32_mask_with_half_inputs_as_torch(name):
    q, mask = randn(2, 3, 4, 8), randn(4, 4)
    expected = TF.scaled_dot_product_attention(
        *(torch.tensor(q).to(getattr(torch, name)),) * 3, torch.tensor(mask).float()
    )
    e_q = ember.tensor(q).to(getattr(ember, name))
    out = F.scaled_dot_product_attention(e_q, e_q, e_q, ember.tensor(mask).float())
    assert out.dtype is getattr(ember, name)
    assert_close(out.float(), expected.float(), rtol=2e-2, atol=2e-2)
    with pytest.raises(RuntimeError, match="attn_mask dtype"):
        F.scaled_dot_product_attention(e_q.float(), e_q.float(), e_q.float(), ember.tensor(mask))


@pytest.mark.parametrize("mask_shape", [(2, 3, 4, 6), (5, 1, 1, 6)])
def test_sdpa_mask_that_would_grow_the_output_is_an_error_as_torch(device, mask_shape):
    q, k, mask = randn(3, 4, 8), randn(3, 6, 8), randn(*mask_shape)
    with pytest.raises(RuntimeError) as expected:
        TF.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k), torch.tensor(k), torch.tensor(mask))
    e_q, e_k = ember.tensor(q, device=device), ember.tensor(k, device=device)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape") as got:
        F.scaled_dot_product_attention(e_q, e_k, e_k, ember.tensor(mask, device=device))
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("kwargs", [{}, {"is_causal": True}])
def test_sdpa_without_keys_gives_zeros(device, dtype, kwargs):
    check(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kwargs),
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, **kwargs),
        [randn(2, 3, 4, 5), randn(2, 3, 0, 5), randn(2, 3, 0, 6)],
        device=device,
        dtype=dtype,
    )


def test_sdpa_gradcheck_and_gradgradcheck(device):
    if not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    q, k, v = (ember.tensor(randn(1, 2, 3, 4), device=device, requires_grad=True) for _ in range(3))
    bias = ember.tensor(randn(3, 3), device=device, requires_grad=True)

    def fn(q, k, v, bias):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=bias)

    assert gradcheck(fn, (q, k, v, bias))
    assert gradgradcheck(fn, (q, k, v, bias))
    assert gradgradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), (q, k, v))


def _load(e_mod, t_mod, device, dtype):
    e_mod.to(device=device, dtype=dtype)
    e_mod.load_state_dict({k: to_ember(v, device).to(dtype) for k, v in t_mod.state_dict().items()})
    t_mod.to(getattr(torch, dtype.name))


def _pair(t_mod, e_mod, device, dtype, arrays, **kwargs):
    """Forward both modules on ``arrays`` (and mask kwargs as NumPy arrays); compare outputs and grads."""
    _load(e_mod, t_mod, device, dtype)
    t_kwargs = {k: torch.from_numpy(v) for k, v in kwargs.items()}
    e_kwargs = {k: ember.tensor(v, device=device) for k, v in kwargs.items()}
    check(
        lambda *a: e_mod(*a, **e_kwargs),
        lambda *a: t_mod(*a, **t_kwargs),
        arrays,
        device=device,
        dtype=dtype,
    )
    e_params = dict(e_mod.named_parameters())
    for name, p in t_mod.named_parameters():
        assert_close(e_params[name].grad, p.grad, dtype, what=f"{name} grad")


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"batch_first": True},
        {"bias": False},
        {"add_bias_kv": True},
        {"add_zero_attn": True},
        {"kdim": 3, "vdim": 5},
        {"add_bias_kv": True, "add_zero_attn": True, "batch_first": True},
    ],
)
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("masks", ["none", "attn_bool", "attn_float", "kpm", "both"])
def test_multihead_attention(device, dtype, kwargs, need_weights, average, masks):
    t_mod = torch.nn.MultiheadAttention(8, 2, **kwargs)
    e_mod = nn.MultiheadAttention(8, 2, **kwargs)
    kdim, vdim = kwargs.get("kdim", 8), kwargs.get("vdim", 8)
    L, S, N = 4, 5, 3
    lead = (N, L) if kwargs.get("batch_first") else (L, N)
    klead = (N, S) if kwargs.get("batch_first") else (S, N)
    mask_kwargs = {"need_weights": need_weights, "average_attn_weights": average}
    if masks in ("attn_bool", "both"):
        mask_kwargs["attn_mask"] = ~_mask(L, S)
    if masks == "attn_float":
        mask_kwargs["attn_mask"] = randn(N * 2, L, S)
    if masks in ("kpm", "both"):
        mask_kwargs["key_padding_mask"] = ~_mask(N, S)
    flags = {k: mask_kwargs.pop(k) for k in ("need_weights", "average_attn_weights")}
    _load(e_mod, t_mod, device, dtype)
    t_kwargs = {k: torch.from_numpy(v) for k, v in mask_kwargs.items()}
    e_kwargs = {k: ember.tensor(v, device=device) for k, v in mask_kwargs.items()}
    if "attn_mask" in t_kwargs and t_kwargs["attn_mask"].is_floating_point():
        t_kwargs["attn_mask"] = t_kwargs["attn_mask"].to(getattr(torch, dtype.name))
        e_kwargs["attn_mask"] = e_kwargs["attn_mask"].to(dtype)
    check(
        lambda q, k, v: e_mod(q, k, v, **e_kwargs, **flags),
        lambda q, k, v: t_mod(q, k, v, **t_kwargs, **flags),
        [randn(*lead, 8), randn(*klead, kdim), randn(*klead, vdim)],
        device=device,
        dtype=dtype,
    )
    e_params = dict(e_mod.named_parameters())
    for name, p in t_mod.named_parameters():
        assert_close(e_params[name].grad, p.grad, dtype, what=f"{name} grad")


def test_multihead_attention_unbatched_and_state_dict_names(device):
    t_mod = torch.nn.MultiheadAttention(6, 3, kdim=4, vdim=2, add_bias_kv=True)
    e_mod = nn.MultiheadAttention(6, 3, kdim=4, vdim=2, add_bias_kv=True)
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    assert list(nn.MultiheadAttention(6, 3).state_dict()) == list(torch.nn.MultiheadAttention(6, 3).state_dict())
    _pair(t_mod, e_mod, device, ember.float32, [randn(4, 6), randn(5, 4), randn(5, 2)])


def test_multihead_attention_gradgradcheck(device):
    if not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    mha = nn.MultiheadAttention(4, 2, device=device, dtype=ember.float64)
    x = ember.tensor(randn(3, 2, 4), device=device, requires_grad=True)
    mask = ember.tensor(~_mask(3, 3), device=device)
    assert gradgradcheck(lambda x: mha(x, x, x, attn_mask=mask)[0], (x,))


def test_multihead_attention_errors(device):
    with pytest.raises(AssertionError, match="divisible"):
        nn.MultiheadAttention(5, 2)
    mha = nn.MultiheadAttention(4, 2).to(device)
    x = ember.randn(3, 2, 4, device=device)
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        mha(x, x, x, attn_mask=ember.zeros(2, 2, device=device))
    with pytest.raises(AssertionError, match="4-D query"):
        mha(x[None], x[None], x[None])
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        mha(x, x, x, is_causal=True)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"norm_first": True},
        {"batch_first": True, "activation": "gelu"},
        {"bias": False, "layer_norm_eps": 1e-3},
        {"activation": "callable"},
    ],
)
def test_transformer(device, dtype, kwargs):
    kwargs = dict(kwargs, d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16)
    kwargs["dropout"] = 0.0
    t_kwargs, e_kwargs = dict(kwargs), dict(kwargs)
    if kwargs.get("activation") == "callable":
        t_kwargs["activation"], e_kwargs["activation"] = torch.tanh, ember.tanh
    t_mod, e_mod = torch.nn.Transformer(**t_kwargs), nn.Transformer(**e_kwargs)
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    S, T, N = 5, 4, 3
    lead = (lambda n: (N, n)) if kwargs.get("batch_first") else (lambda n: (n, N))
    masks = {
        "tgt_mask": nn.Transformer.generate_square_subsequent_mask(T).numpy(),
        "src_key_padding_mask": ~_mask(N, S),
        "memory_key_padding_mask": ~_mask(N, S),
        "tgt_key_padding_mask": ~_mask(N, T),
    }
    _pair(t_mod, e_mod, device, dtype, [randn(*lead(S), 8), randn(*lead(T), 8)], **masks)


@pytest.mark.parametrize(
    "layer_kwargs, float_mask, ragged",
    [({}, False, False), ({}, True, False), ({"norm_first": True}, False, False), ({}, False, True)],
)
def test_transformer_encoder_inference_zeroes_padding_as_torch(device, layer_kwargs, float_mask, ragged):
    """PyTorch's encoder stack in evaluation without autograd runs padded batches as nested tensors:
    the padded positions come out 0 (before ``norm``), unless its layer or mask rules that path out
    (ember once computed them in every mode)."""
    lengths = [5, 3, 1]
    pad = np.arange(5)[None, :] >= np.array(lengths)[:, None]
    if ragged:
        pad[1, 0] = True  # padding not at the end: no nested tensor
    mask = np.where(pad, -np.inf, 0.0) if float_mask else pad
    mods = []
    for lib in (torch.nn, nn):
        layer = lib.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, **layer_kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # norm_first: both warn that no nested tensor will be used
            mods.append(lib.TransformerEncoder(layer, 2, norm=lib.LayerNorm(8)).eval())
    t_mod, e_mod = mods
    _load(e_mod, t_mod, device, ember.float64)
    x = randn(3, 5, 8)
    with torch.no_grad():
        expected = t_mod(torch.tensor(x), src_key_padding_mask=torch.tensor(mask))
    with ember.no_grad():
        actual = e_mod(ember.tensor(x, device=device), src_key_padding_mask=ember.tensor(mask, device=device))
    assert_close(actual, expected, ember.float64)
    with pytest.warns(UserWarning, match="use_nested_tensor is False because encoder_layer.norm_first was True"):
        nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, norm_first=True, batch_first=True), 1)


def test_attention_empty_batch_matches_torch(device):
    """A batch of 0 sequences through multi-head attention and an encoder layer (ember once failed to
    reshape the empty output with -1 and, in the layer's ReLU backward, to size its blocks)."""
    t_mha, e_mha = torch.nn.MultiheadAttention(4, 2), nn.MultiheadAttention(4, 2)
    _pair(t_mha, e_mha, device, ember.float64, [randn(3, 0, 4)] * 3)
    t_layer = torch.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True)
    e_layer = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True)
    _pair(t_layer, e_layer, device, ember.float64, [randn(0, 3, 4)])


def test_transformer_decoder_stack(device, dtype):
    t_layer = torch.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, norm_first=True)
    e_layer = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, norm_first=True)
    t_mod = torch.nn.TransformerDecoder(t_layer, 2, norm=torch.nn.LayerNorm(8))
    e_mod = nn.TransformerDecoder(e_layer, 2, norm=nn.LayerNorm(8))
    masks = {"tgt_mask": ~_mask(4, 4), "memory_mask": ~_mask(4, 6)}
    _pair(t_mod, e_mod, device, dtype, [randn(4, 2, 8), randn(6, 2, 8)], **masks)


def test_generate_square_subsequent_mask():
    assert_close(
        nn.Transformer.generate_square_subsequent_mask(4), torch.nn.Transformer.generate_square_subsequent_mask(4)
    )


def test_transformer_errors():
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    model = nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match="batch number"):
        model(ember.randn(5, 2, 8), ember.randn(4, 3, 8))
    with pytest.raises(RuntimeError, match="d_model"):
        model(ember.randn(5, 2, 6), ember.randn(4, 2, 6))


def test_sdpa_kernel_switches_as_torch():
    # a program pinning the attention kernel: ``with sdpa_kernel(SDPBackend.MATH): F.scaled_dot_product_attention(...)``
    from torch.nn.attention import SDPBackend as TorchBackend
    from torch.nn.attention import sdpa_kernel as torch_kernel

    from ember.nn.attention import SDPBackend, sdpa_kernel

    assert {b.name: int(b) for b in SDPBackend} == {
        n: int(getattr(TorchBackend, n)) for n in dir(TorchBackend) if n.isupper()
    }
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((1, 2, 5, 4)).astype(np.float32) for _ in range(3))
    switches = ("flash", "mem_efficient", "math", "cudnn")
    for choice in ([SDPBackend.MATH], [SDPBackend.FLASH_ATTENTION, SDPBackend.MATH]):
        theirs = [getattr(TorchBackend, b.name) for b in choice]
        with torch_kernel(theirs), sdpa_kernel(choice if len(choice) > 1 else choice[0]) as given:
            assert given == {}
            for kind in switches:
                assert (
                    getattr(ember.backends.cuda, f"{kind}_sdp_enabled")()
                    is getattr(torch.backends.cuda, f"{kind}_sdp_enabled")()
                )
            want = torch.nn.functional.scaled_dot_product_attention(*map(torch.tensor, (q, k, v)), is_causal=True)
            got = ember.nn.functional.scaled_dot_product_attention(*map(ember.tensor, (q, k, v)), is_causal=True)
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
        assert all(getattr(ember.backends.cuda, f"{kind}_sdp_enabled")() for kind in switches)
    with pytest.raises(AssertionError) as want_error:
        with torch_kernel("math"):
            pass
    with pytest.raises(AssertionError) as got_error:
        with sdpa_kernel("math"):
            pass
    assert str(got_error.value) == str(want_error.value)


@pytest.mark.parametrize("which", ["encoder_layer", "encoder", "transformer", "decoder_layer", "mha"])
def test_mismatched_mask_warnings_match_torch(which):
    """The encoder (layer) makes its masks float on entry and warns under its own argument names, as
    PyTorch (ember warned under the attention's names 'key_padding_mask and attn_mask')."""

    def messages(lib):
        lib.manual_seed(0)
        x = lib.zeros(2, 3, 8)
        causal = lib.tensor(np.triu(np.ones((3, 3), bool), 1))
        padding = lib.tensor([[0.0, -np.inf, 0.0], [0.0, 0.0, 0.0]])
        kw = {"dropout": 0.0, "batch_first": True}
        calls = {
            "encoder_layer": lambda: lib.nn.TransformerEncoderLayer(8, 2, 16, **kw)(x, causal, padding),
            "encoder": lambda: lib.nn.TransformerEncoder(
                lib.nn.TransformerEncoderLayer(8, 2, 16, **kw), 2, enable_nested_tensor=False
            )(x, causal, padding),
            "transformer": lambda: lib.nn.Transformer(8, 2, 1, 1, 16, **kw)(
                x, x, src_mask=causal, src_key_padding_mask=padding, tgt_mask=causal, tgt_key_padding_mask=padding
            ),
            "decoder_layer": lambda: lib.nn.TransformerDecoderLayer(8, 2, 16, **kw)(
                x, x, tgt_mask=causal, tgt_key_padding_mask=padding
            ),
            "mha": lambda: lib.nn.MultiheadAttention(8, 2, batch_first=True)(
                x, x, x, attn_mask=causal, key_padding_mask=padding
            ),
        }
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            calls[which]()
        return [str(w.message) for w in caught if "mismatched" in str(w.message)]

    assert messages(ember) == messages(torch)


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("self_attention", [True, False])
@pytest.mark.parametrize("mask", ["key_padding_mask", "attn_mask"])
def test_multihead_attention_fully_masked_queries_as_torch(device, mode, need_weights, self_attention, mask):
    """PyTorch gives NaN for a query whose every key is masked where it computes the weights (and on
    its inference fast path: eval, batch_first self-attention without autograd), zeros elsewhere."""
    t_mod, e_mod = torch.nn.MultiheadAttention(8, 2, batch_first=True), nn.MultiheadAttention(8, 2, batch_first=True)
    _load(e_mod, t_mod, device, ember.float32)
    getattr(t_mod, mode)(), getattr(e_mod, mode)()
    x, y = randn(3, 4, 8).astype(np.float32), randn(3, 4, 8).astype(np.float32)
    masked = np.zeros((3, 4), dtype=bool) if mask == "key_padding_mask" else np.zeros((4, 4), dtype=bool)
    masked[1] = True  # the second sequence's keys, or every key of the second query
    tx, ex = torch.from_numpy(x), ember.tensor(x, device=device)
    ty, ey = (tx, ex) if self_attention else (torch.from_numpy(y), ember.tensor(y, device=device))
    with torch.no_grad(), ember.no_grad():
        expected = t_mod(tx, ty, ty, need_weights=need_weights, **{mask: torch.from_numpy(masked)})
        out = e_mod(ex, ey, ey, need_weights=need_weights, **{mask: ember.tensor(masked, device=device)})
    for got, want in zip(out, expected):
        if want is None:
            assert got is None
            continue
        assert np.array_equal(np.isnan(got.cpu().numpy()), want.isnan().numpy())
        assert_close(got.nan_to_num(), want.nan_to_num(), ember.float32)


def test_transformer_encoder_layer_fully_masked_queries_as_torch(device):
    layer_kwargs = {"d_model": 8, "nhead": 2, "dim_feedforward": 16, "dropout": 0.0, "batch_first": True}
    t_mod, e_mod = torch.nn.TransformerEncoderLayer(**layer_kwargs), nn.TransformerEncoderLayer(**layer_kwargs)
    _load(e_mod, t_mod, device, ember.float32)
    t_mod.eval(), e_mod.eval()
    src, padding = randn(3, 5, 8).astype(np.float32), np.zeros((3, 5), dtype=bool)
    padding[1] = True
    with torch.no_grad(), ember.no_grad():
        expected = t_mod(torch.from_numpy(src), src_key_padding_mask=torch.from_numpy(padding))
        out = e_mod(ember.tensor(src, device=device), src_key_padding_mask=ember.tensor(padding, device=device))
    assert np.array_equal(np.isnan(out.cpu().numpy()), expected.isnan().numpy())
    assert_close(out.nan_to_num(), expected.nan_to_num(), ember.float32)


@pytest.mark.parametrize("layer", ["TransformerEncoderLayer", "TransformerDecoderLayer"])
def test_layer_registers_an_activation_module_last_as_torch(layer):
    t_layer = getattr(torch.nn, layer)(8, 2, 16, activation=torch.nn.GELU())
    e_layer = getattr(nn, layer)(8, 2, 16, activation=nn.GELU())
    assert [name for name, _ in e_layer.named_modules()] == [name for name, _ in t_layer.named_modules()]
    assert repr(e_layer) == repr(t_layer)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("key_padding", [True, False])
@pytest.mark.parametrize("S", [4, 6])
def test_multihead_attention_trusts_the_causal_hint_as_torch(device, need_weights, key_padding, S):
    """Without a padding mask or the weights PyTorch replaces ``attn_mask`` by the causal mask when
    ``is_causal`` is given (here with a mask that is not causal, so that the two differ)."""
    t_mod, e_mod = torch.nn.MultiheadAttention(8, 2), nn.MultiheadAttention(8, 2)
    mask = np.zeros((4, S), dtype=bool)
    mask[:, 1] = True
    masks = {"attn_mask": mask}
    if key_padding:
        masks["key_padding_mask"] = np.zeros((3, S), dtype=bool)
    _load(e_mod, t_mod, device, ember.float32)
    with torch.no_grad(), ember.no_grad():
        t_kwargs = {k: torch.from_numpy(v) for k, v in masks.items()}
        e_kwargs = {k: ember.tensor(v, device=device) for k, v in masks.items()}
        x, y = randn(4, 3, 8).astype(np.float32), randn(S, 3, 8).astype(np.float32)
        ex, ey = ember.tensor(x, device=device), ember.tensor(y, device=device)
        expected = t_mod(
            *(torch.from_numpy(a) for a in (x, y, y)), **t_kwargs, need_weights=need_weights, is_causal=True
        )
        out = e_mod(ex, ey, ey, **e_kwargs, need_weights=need_weights, is_causal=True)
    assert_close(out[0], expected[0], ember.float32)


@pytest.mark.parametrize("variant", ["causal_upper_left", "causal_lower_right"])
@pytest.mark.parametrize("L,S", [(3, 5), (5, 3), (4, 4)])
def test_sdpa_causal_bias_as_torch(device, dtype, variant, L, S):
    import torch.nn.attention.bias as t_bias

    import ember.nn.attention.bias as e_bias

    with warnings.catch_warnings(record=True) as t_warned:
        warnings.simplefilter("always")
        t_mask = getattr(t_bias, variant)(L, S)
    with warnings.catch_warnings(record=True) as e_warned:
        warnings.simplefilter("always")
        e_mask = getattr(e_bias, variant)(L, S)
    assert [str(w.message) for w in e_warned] == [str(w.message) for w in t_warned]
    assert repr(e_mask) == repr(t_mask)
    check(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, e_mask),
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, t_mask),
        [randn(2, 3, L, 8), randn(2, 3, S, 8), randn(2, 3, S, 6)],
        device=device,
        dtype=dtype,
    )
    with pytest.raises(ValueError, match="CausalBias should not be used with causal=True"):
        F.scaled_dot_product_attention(*(ember.randn(1, L, 4),) * 3, e_mask, is_causal=True)


@pytest.mark.parametrize("enabled", [True, False])
def test_mha_fastpath_switch_as_torch(device, enabled):
    import ember.backends.mha

    layer_kwargs = {"d_model": 8, "nhead": 2, "dim_feedforward": 16, "dropout": 0.0, "batch_first": True}
    t_mod = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(**layer_kwargs), 1)
    e_mod = nn.TransformerEncoder(nn.TransformerEncoderLayer(**layer_kwargs), 1)
    _load(e_mod, t_mod, device, ember.float32)
    t_mod.eval(), e_mod.eval()
    src, padding = randn(3, 5, 8).astype(np.float32), np.zeros((3, 5), dtype=bool)
    padding[0, 3:] = True
    padding[1] = True
    assert ember.backends.mha.get_fastpath_enabled() == torch.backends.mha.get_fastpath_enabled() is True
    try:
        torch.backends.mha.set_fastpath_enabled(enabled)
        ember.backends.mha.set_fastpath_enabled(enabled)
        with torch.no_grad(), ember.no_grad():
            for mod, lib, dev in ((t_mod, torch, "cpu"), (e_mod, ember, device)):
                x, pad = lib.tensor(src, device=dev), lib.tensor(padding, device=dev)
                layer = mod.layers[0]
                outputs = [mod(x, src_key_padding_mask=pad), layer(x, src_key_padding_mask=pad)]
                outputs.append(layer.self_attn(x, x, x, key_padding_mask=pad, need_weights=False)[0])
                if lib is torch:
                    expected = outputs
        for got, want in zip(outputs, expected):
            assert np.array_equal(np.isnan(got.cpu().numpy()), want.isnan().numpy())
            assert_close(got.nan_to_num(), want.nan_to_num(), ember.float32)
    finally:
        torch.backends.mha.set_fastpath_enabled(True)
        ember.backends.mha.set_fastpath_enabled(True)
