"""Attention off the main road, differential against PyTorch's CPU: ``attn_mask`` with ``is_causal``,
empty inputs, masks of fewer than two dimensions, fully masked queries' gradients in multi-head
attention, mask dtypes, and the dtype rules of the product-and-add ops that the attention uses."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from reference import check, randn, torch

import ember
import ember.nn.functional as F
from ember import nn

TF = torch.nn.functional

pytestmark = [
    pytest.mark.filterwarnings("ignore:enable_nested_tensor is True"),
    pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask"),
]


def _sdpa_both(q, k, v, mask=None, **kwargs):
    """The ember and torch outcome of SDPA on the same float64 arrays (an exception's type and text, else the
    output and the query/key/value gradients)."""
    out = []
    for lib, fn in ((ember, F.scaled_dot_product_attention), (torch, TF.scaled_dot_product_attention)):
        qkv = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in (q, k, v)]
        m = None if mask is None else lib.tensor(mask)
        try:
            o = fn(*qkv, attn_mask=m, **kwargs)
        except Exception as exc:  # noqa: BLE001 - compared below
            out.append((type(exc), str(exc)))
            continue
        o.sum().backward()
        out.append([np.asarray(t.detach().numpy()) for t in (o, *(x.grad for x in qkv))])
    return out


@pytest.mark.parametrize("mask_kind", ["bool", "float", "bool4d", "float_all_masked_row"])
@pytest.mark.parametrize("L,S", [(3, 5), (5, 3), (4, 4)])
def test_sdpa_mask_with_is_causal_masks_with_both_as_torch(device, dtype, mask_kind, L, S):
    # PyTorch's CPU flash kernel takes both and masks with their intersection (4-D inputs, no dropout)
    q, k, v = randn(2, 3, L, 4), randn(2, 3, S, 4), randn(2, 3, S, 4)  # one head dim: the flash kernel
    mask = {
        "bool": _rng_mask(L, S),
        "float": randn(L, S),
        "bool4d": _rng_mask(2, 1, L, S),
    }.get(mask_kind)
    if mask_kind == "float_all_masked_row":
        mask = np.zeros((L, S))
        mask[1] = -np.inf
    check(
        lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m.detach(), is_causal=True),
        lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, attn_mask=m.detach(), is_causal=True),
        [q, k, v, mask],
        device=device,
        dtype=dtype,
    )


def _rng_mask(*shape):
    return np.random.default_rng(3).random(shape) < 0.6


def test_sdpa_mask_with_is_causal_grouped_heads_as_torch(device):
    q, k, v = randn(1, 4, 3, 4), randn(1, 2, 5, 4), randn(1, 2, 5, 4)
    check(
        lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m, is_causal=True, enable_gqa=True),
        lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, attn_mask=m, is_causal=True, enable_gqa=True),
        [q, k, v, _rng_mask(3, 5)],
        device=device,
    )


@pytest.mark.parametrize(
    "case",
    ["3d_inputs", "3d_mask", "mask_needs_grad", "dropout", "value_head_dim"],
)
def test_sdpa_mask_with_is_causal_off_the_flash_kernel_is_an_error_as_torch(device, case):
    q = ember.randn(1, 2, 3, 4, device=device)
    mask = ember.ones(3, 3, dtype=ember.bool, device=device)
    kwargs = {}
    v = ember.randn(1, 2, 3, 6, device=device) if case == "value_head_dim" else q
    if case == "3d_inputs":
        q = v = q[0]
    elif case == "3d_mask":
        mask = mask[None]
    elif case == "mask_needs_grad":
        mask = ember.zeros(3, 3, device=device, requires_grad=True)
    else:
        kwargs["dropout_p"] = 0.5
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set when is_causal=True"):
        F.scaled_dot_product_attention(q, q, v, attn_mask=mask, is_causal=True, **kwargs)
    t = torch.randn(1, 2, 3, 4)
    tv = torch.randn(1, 2, 3, 6) if case == "value_head_dim" else t
    tmask = torch.ones(3, 3, dtype=torch.bool)
    if case == "3d_inputs":
        t = tv = t[0]
    elif case == "3d_mask":
        tmask = tmask[None]
    elif case == "mask_needs_grad":
        tmask = torch.zeros(3, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set when is_causal=True"):
        TF.scaled_dot_product_attention(t, t, tv, attn_mask=tmask, is_causal=True, **kwargs)


@pytest.mark.parametrize(
    "shapes",
    [
        ((1, 1, 3, 4), (1, 1, 0, 4), (1, 1, 0, 6)),  # no keys
        ((1, 0, 3, 4), (1, 0, 5, 4), (1, 0, 5, 6)),  # no heads
        ((1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 0)),  # no value features
        ((0, 4), (5, 4), (5, 3)),  # no queries
        ((2, 3, 4), (0, 5, 4), (0, 5, 3)),  # keys of an empty batch: the query's batch shape
        ((2, 3, 4), (1, 0, 4), (1, 0, 3)),
    ],
)
@pytest.mark.parametrize("kwargs", [{}, {"mask": True}, {"is_causal": True}, {"dropout_p": 2.0}])
def test_sdpa_empty_inputs_return_before_the_checks_as_torch(device, shapes, kwargs):
    # PyTorch returns zeros of the query's batch shape before it checks the mask's shape, the causal flag
    # or the dropout probability
    kwargs = dict(kwargs)
    arrays = [randn(*s) for s in shapes]
    if kwargs.pop("mask", False):
        arrays.append(np.ones((7, 7), dtype=bool))  # fits nothing
    check(
        lambda *a: F.scaled_dot_product_attention(*a, **kwargs),
        lambda *a: TF.scaled_dot_product_attention(*a, **kwargs),
        arrays,
        device=device,
    )


def test_sdpa_nan_query_without_keys_is_nan_as_torch(device):
    q = randn(2, 3, 4)
    q[0, 0, 0] = np.nan
    check(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v),
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v),
        [q, randn(2, 0, 4), randn(2, 0, 3)],
        device=device,
        grad=False,
    )


def test_sdpa_empty_inputs_still_check_dtypes_as_torch(device):
    q, k = ember.randn(1, 1, 0, 4, device=device), ember.randn(1, 1, 5, 4, device=device)
    with pytest.raises(RuntimeError, match="Expected attn_mask dtype to be bool or float"):
        F.scaled_dot_product_attention(q, k, k, attn_mask=ember.ones(3, 3, dtype=ember.int64, device=device))
    with pytest.raises(RuntimeError, match="Expected query, key, and value to have the same dtype"):
        F.scaled_dot_product_attention(q, k, k.double())


@pytest.mark.parametrize("mask_shape", [(), (3,)])
@pytest.mark.parametrize("q_shape", [(1, 1, 3, 4), (2, 2, 3, 4)])
def test_sdpa_mask_under_two_dims_on_the_flash_kernel_is_an_index_error_as_torch(device, mask_shape, q_shape):
    # the flash kernel reads the mask's last two sizes
    expected = []
    for lib, fn in ((torch, TF.scaled_dot_product_attention), (ember, F.scaled_dot_product_attention)):
        q = lib.ones(q_shape) if lib is torch else lib.ones(q_shape, device=device)
        m = (
            lib.ones(mask_shape, dtype=lib.bool)
            if lib is torch
            else lib.ones(mask_shape, dtype=lib.bool, device=device)
        )
        with pytest.raises(IndexError) as info:
            fn(q, q, q, attn_mask=m)
        expected.append(str(info.value))
    assert expected[0] == expected[1]


@pytest.mark.parametrize("q_shape,kwargs", [((1, 3, 4), {}), ((1, 1, 3, 4), {"dropout_p": 0.5})])
def test_sdpa_one_dim_mask_broadcasts_on_the_math_path_as_torch(device, q_shape, kwargs):
    q = randn(*q_shape)
    ember.manual_seed(0)
    torch.manual_seed(0)
    mask = np.array([True, False, True])
    eo = F.scaled_dot_product_attention(
        *[ember.tensor(q, device=device)] * 3, attn_mask=ember.tensor(mask, device=device), **kwargs
    )
    to = TF.scaled_dot_product_attention(*[torch.tensor(q)] * 3, attn_mask=torch.tensor(mask), **kwargs)
    assert tuple(eo.shape) == tuple(to.shape)
    if not kwargs:
        np.testing.assert_allclose(eo.cpu().numpy(), to.numpy(), rtol=1e-6, atol=1e-6)


def test_sdpa_grouped_heads_of_two_dim_inputs_is_an_index_error_as_torch(device):
    for lib, fn in ((torch, TF.scaled_dot_product_attention), (ember, F.scaled_dot_product_attention)):
        q = lib.ones(3, 4) if lib is torch else lib.ones(3, 4, device=device)
        with pytest.raises(IndexError, match=r"expected to be in range of \[-2, 1\], but got -3"):
            fn(q, q, q, enable_gqa=True)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("which", ["key_padding_mask", "attn_mask"])
def test_multihead_attention_fully_masked_query_gradients_as_torch(device, need_weights, which):
    # with the weights, PyTorch's plain softmax gives NaN for the query and NaN gradients everywhere they flow
    torch.manual_seed(0)
    t = torch.nn.MultiheadAttention(8, 2, dtype=torch.float64)
    e = nn.MultiheadAttention(8, 2, dtype=ember.float64, device=device)
    e.load_state_dict({k: ember.tensor(v.numpy(), device=device) for k, v in t.state_dict().items()})
    x = randn(3, 2, 8)
    if which == "key_padding_mask":
        mask = np.zeros((2, 3), dtype=bool)
        mask[1] = True  # every key of the second batch element
    else:
        mask = np.zeros((3, 3), dtype=bool)
        mask[1] = True  # every key of the second query
    results = []
    for lib, m in ((torch, t), (ember, e)):
        kw = {} if lib is torch else {"device": device}
        xt = lib.tensor(x, requires_grad=True, **kw)
        out, w = m(xt, xt, xt, need_weights=need_weights, **{which: lib.tensor(mask, **kw)})
        loss = out.sum() if w is None else out.sum() + w.sum()
        loss.backward()
        grads = [xt.grad, m.in_proj_weight.grad, m.out_proj.weight.grad]
        results.append([g.detach().cpu().numpy() for g in [out, *grads]])
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("mask_dtype", ["float32", "float16"])
@pytest.mark.parametrize("which", ["attn_mask", "key_padding_mask"])
def test_multihead_attention_weights_need_the_mask_in_the_query_dtype_as_torch(device, mask_dtype, which):
    # PyTorch adds the mask to the scores with baddbmm, which promotes nothing
    torch_m = torch.nn.MultiheadAttention(8, 2, dtype=torch.float64)
    ember_m = nn.MultiheadAttention(8, 2, dtype=ember.float64, device=device)
    shape = (3, 3) if which == "attn_mask" else (2, 3)
    x = randn(3, 2, 8)
    messages = []
    for lib, m in ((torch, torch_m), (ember, ember_m)):
        kw = {} if lib is torch else {"device": device}
        xt = lib.tensor(x, **kw)
        mask = lib.zeros(shape, dtype=getattr(lib, mask_dtype), **kw)
        with pytest.raises(RuntimeError, match="Input dtypes must be the same") as info:
            m(xt, xt, xt, **{which: mask})
        messages.append(str(info.value))
        if mask_dtype == "float32":  # without the weights, SDPA takes a float32 mask
            out, _ = m(xt, xt, xt, need_weights=False, **{which: mask})
            assert out.dtype == lib.float64
    assert messages[0] == messages[1]


@pytest.mark.parametrize(
    "op,shapes,dtypes_",
    [
        ("addmm", ((3, 3), (3, 2), (2, 3)), ("int64", "float32", "float32")),
        ("addmm", ((3, 3), (3, 2), (2, 3)), ("float16", "float32", "float32")),
        ("addmm", ((3, 3), (3, 2), (2, 3)), ("float32", "float64", "float32")),
        ("addmv", ((3,), (3, 2), (2,)), ("float32", "float64", "float64")),
        ("addmv", ((3,), (3, 2), (2,)), ("float64", "float32", "float64")),
        ("baddbmm", ((1, 3, 3), (1, 3, 2), (1, 2, 3)), ("int64", "float32", "float32")),
        ("baddbmm", ((3,), (1, 3, 2), (1, 2, 3)), ("float32", "float16", "float16")),
        ("baddbmm", ((1, 3, 3), (1, 3, 2), (1, 2, 3)), ("float32", "float64", "float32")),
        ("addbmm", ((3, 3), (1, 3, 2), (1, 2, 3)), ("float64", "float32", "float32")),
    ],
)
def test_product_and_add_refuse_an_input_of_another_dtype_as_torch(device, op, shapes, dtypes_):
    if "float64" in dtypes_ and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    messages = []
    for lib in (torch, ember):
        kw = {} if lib is torch else {"device": device}
        args = [lib.zeros(s, dtype=getattr(lib, d), **kw) for s, d in zip(shapes, dtypes_)]
        with pytest.raises(RuntimeError) as info:
            getattr(lib, op)(*args)
        messages.append(str(info.value))
    assert messages[1] == messages[0]


def test_deepcopy_of_a_parameter_leaves_its_grad_behind_as_torch(device):
    # TransformerEncoder clones its layer with deepcopy: a layer that had gradients gave them to every copy
    for lib in (torch, ember):
        kw = {} if lib is torch else {"device": device}
        layer = lib.nn.Linear(2, 2, **kw)
        layer(lib.ones(1, 2, **kw)).sum().backward()
        assert copy.deepcopy(layer).weight.grad is None
        assert copy.deepcopy(layer.weight).grad is None
        t = lib.ones(2, requires_grad=True, **kw)
        t.sum().backward()
        assert copy.deepcopy(t).grad is not None  # a plain tensor keeps it


@pytest.mark.parametrize("which", ["static_k", "static_v"])
@pytest.mark.parametrize("bad", ["heads", "head_dim"])
def test_multi_head_attention_forward_checks_static_shapes_as_torch(device, which, bad):
    messages = []
    for lib, fn in ((torch, TF.multi_head_attention_forward), (ember, F.multi_head_attention_forward)):
        kw = {} if lib is torch else {"device": device}
        x = lib.ones(3, 2, 8, **kw)
        static = {"static_k": lib.ones(4, 5, 4, **kw), "static_v": lib.ones(4, 5, 4, **kw)}
        static[which] = lib.ones(3, 5, 4, **kw) if bad == "heads" else lib.ones(4, 5, 3, **kw)
        with pytest.raises(AssertionError) as info:
            fn(
                x, x, x, 8, 2, lib.ones(24, 8, **kw), lib.zeros(24, **kw), None, None, False, 0.0,
                lib.ones(8, 8, **kw), lib.zeros(8, **kw), **static,
            )  # fmt: skip
        messages.append(str(info.value))
    assert messages[1] == messages[0]


@pytest.mark.parametrize("which", ["key_padding_mask", "attn_mask"])
def test_multihead_attention_fast_path_takes_a_float32_mask_with_float64_inputs_as_torch(device, which):
    # the inference fast path takes its masks as SDPA does (the weights' path would refuse a float32 mask)
    torch.manual_seed(0)
    t = torch.nn.MultiheadAttention(8, 2, batch_first=True, dtype=torch.float64).eval()
    e = nn.MultiheadAttention(8, 2, batch_first=True, dtype=ember.float64, device=device).eval()
    e.load_state_dict({k: ember.tensor(v.numpy(), device=device) for k, v in t.state_dict().items()})
    x = randn(2, 3, 8)
    mask = np.zeros((2, 3) if which == "key_padding_mask" else (3, 3), dtype=np.float32)
    mask[1, 2] = -np.inf
    with torch.no_grad():
        want = t(*[torch.tensor(x)] * 3, need_weights=False, **{which: torch.tensor(mask)})[0]
    with ember.no_grad():
        got = e(
            *[ember.tensor(x, device=device)] * 3, need_weights=False, **{which: ember.tensor(mask, device=device)}
        )[0]
    assert got.dtype == ember.float64
    np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-10, atol=1e-10)
    for lib, m in ((torch, t), (ember, e)):
        kw = {} if lib is torch else {"device": device}
        xt = lib.tensor(x, **kw)
        with (
            lib.no_grad(),
            pytest.raises(
                RuntimeError,
                match=r"Expected attn_mask dtype to be bool or float or to match query dtype.*c10::Half and  query.dtype: double",
            ),
        ):
            m(xt, xt, xt, need_weights=False, **{which: lib.tensor(mask, **kw).half()})


def test_multihead_attention_without_weights_checks_the_mask_dtype_as_sdpa_as_torch(device):
    messages = []
    for lib in (torch, ember):
        kw = {} if lib is torch else {"device": device}
        m = lib.nn.MultiheadAttention(8, 2, **kw)
        x = lib.ones(3, 2, 8, **kw)
        with pytest.raises(RuntimeError) as info:
            m(x, x, x, need_weights=False, attn_mask=lib.zeros(3, 3, dtype=lib.float64, **kw))
        messages.append(str(info.value))
    assert messages[1] == messages[0]


@pytest.mark.parametrize("which", ["key", "value"])
def test_multihead_attention_separate_weights_check_the_input_widths_as_torch(device, which):
    messages = []
    for lib in (torch, ember):
        kw = {} if lib is torch else {"device": device}
        m = lib.nn.MultiheadAttention(8, 2, kdim=4, vdim=4, **kw)
        k, v = lib.ones(4, 2, 4, **kw), lib.ones(4, 2, 4, **kw)
        if which == "key":
            k = lib.ones(4, 2, 5, **kw)
        else:
            v = lib.ones(4, 2, 5, **kw)
        with pytest.raises(AssertionError) as info:
            m(lib.ones(3, 2, 8, **kw), k, v)
        messages.append(str(info.value).replace("torch.Size", "Size").replace("ember.Size", "Size"))
    assert messages[1] == messages[0]


@pytest.mark.parametrize("case", ["value_dtype", "mask_dtype"])
def test_sdpa_dtype_errors_name_the_dtypes_as_torch(device, case):
    messages = []
    for lib, fn in ((torch, TF.scaled_dot_product_attention), (ember, F.scaled_dot_product_attention)):
        kw = {} if lib is torch else {"device": device}
        q = lib.ones(1, 2, 2, **kw)
        with pytest.raises(RuntimeError) as info:
            if case == "value_dtype":
                fn(q, q, lib.ones(1, 2, 2, dtype=lib.float16, **kw))
            else:
                fn(q, q, q, attn_mask=lib.ones(2, 2, dtype=lib.int64, **kw))
        messages.append(str(info.value))
    assert messages[1] == messages[0]


def test_canonical_mask_and_none_or_dtype_as_torch(device):
    # PyTorch's private helpers, which programs that copy its Transformer layers call
    mask = np.array([[False, True], [True, False]])
    for lib, fn in ((torch, TF), (ember, F)):
        kw = {} if lib is torch else {"device": device}
        got = fn._canonical_mask(
            mask=lib.tensor(mask, **kw), mask_name="key_padding_mask", other_type=None, other_name="attn_mask",
            target_type=lib.float64,
        )  # fmt: skip
        assert got.dtype == lib.float64
        np.testing.assert_array_equal(got.cpu().numpy(), np.where(mask, -np.inf, 0.0))
        floats = lib.zeros(2, 2, **kw)
        with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask is deprecated"):
            assert fn._canonical_mask(floats, "key_padding_mask", lib.bool, "attn_mask", lib.float32) is floats
        with pytest.raises(AssertionError, match="only bool and floating types of key_padding_mask are supported"):
            fn._canonical_mask(
                lib.zeros(2, 2, dtype=lib.int64, **kw), "key_padding_mask", None, "attn_mask", lib.float32
            )
        assert fn._none_or_dtype(None) is None and fn._none_or_dtype(floats) == lib.float32
        with pytest.raises(RuntimeError, match="must be None or torch.Tensor"):
            fn._none_or_dtype(3)


@pytest.mark.parametrize("inputs", ["self", "key_is_value", "separate"])
def test_in_projection_helpers_as_torch(device, dtype, inputs):
    q, k, w, b = randn(3, 2, 8), randn(4, 2, 8), randn(24, 8), randn(24)

    def packed(fn, lib):
        def run(q, k, w, b):
            key = q if inputs == "self" else k
            value = key if inputs != "separate" else k * 2
            return fn._in_projection_packed(q, key, value, w, b)

        return run

    check(packed(F, ember), packed(TF, torch), [q, k, w, b], device=device, dtype=dtype)
    check(
        lambda q, k, w, b: F._in_projection(q, k, k, w[:8], w[8:16], w[16:], b[:8], b[8:16], b[16:]),
        lambda q, k, w, b: TF._in_projection(q, k, k, w[:8], w[8:16], w[16:], b[:8], b[8:16], b[16:]),
        [q, k, w, b],
        device=device,
        dtype=dtype,
    )


def test_transformer_module_helpers_as_torch(device):
    import torch.nn.modules.transformer as torch_transformer

    import ember.nn.modules.transformer as ember_transformer

    for lib, mod in ((torch, torch_transformer), (ember, ember_transformer)):
        kw = {} if lib is torch else {"device": device}
        assert mod._get_seq_len(lib.zeros(2, 5, 3, **kw), True) == 5
        assert mod._get_seq_len(lib.zeros(2, 5, 3, **kw), False) == 2
        assert mod._get_seq_len(lib.zeros(5, 3, **kw), True) == 5
        assert mod._get_activation_fn("gelu") is lib.nn.functional.gelu
        with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
            mod._get_activation_fn("tanh")
        clones = mod._get_clones(lib.nn.Linear(2, 2, **kw), 3)
        assert isinstance(clones, lib.nn.ModuleList) and len(clones) == 3 and clones[0].weight is not clones[1].weight
        causal = lib.nn.Transformer.generate_square_subsequent_mask(3, **kw)
        assert mod._detect_is_causal_mask(causal) is True
        assert mod._detect_is_causal_mask(causal, None, 4) is False
        assert mod._detect_is_causal_mask(lib.zeros(3, 3, **kw)) is False
        assert mod._detect_is_causal_mask(None) is False
        assert (
            lib.nn.functional._mha_shape_check(
                lib.zeros(3, 8, **kw), lib.zeros(4, 8, **kw), lib.zeros(4, 8, **kw), None, None, 2
            )
            is False
        )


@pytest.mark.parametrize("shape", [(0, 3, 8), (2, 0, 8)])
def test_encoder_layer_with_padding_mask_and_no_elements_is_an_error_as_torch(device, shape):
    # PyTorch views the merged mask as (N, H, -1, S) on the way to SDPA: ambiguous without elements
    messages = []
    for lib in (torch, ember):
        kw = {} if lib is torch else {"device": device}
        layer = lib.nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True, **kw)
        x = lib.zeros(shape, **kw)
        with pytest.raises(RuntimeError, match="cannot reshape tensor of 0 elements") as info:
            layer(x, src_key_padding_mask=lib.zeros(shape[:2], dtype=lib.bool, **kw))
        messages.append(str(info.value))
        out = layer(x)  # without the mask: an empty output
        assert tuple(out.shape) == shape
    assert messages[1] == messages[0]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"is_causal": 1},
        {"is_causal": None},
        {"is_causal": np.bool_(True)},
        {"enable_gqa": 1},
        {"scale": "x"},
        {"dropout_p": None},
        {"scale": "vector"},
    ],
)
def test_sdpa_argument_types_as_torch(device, kwargs):
    messages = []
    for lib, fn in ((torch, TF.scaled_dot_product_attention), (ember, F.scaled_dot_product_attention)):
        kw = {} if lib is torch else {"device": device}
        q = lib.ones(1, 2, 3, 4, **kw)
        args = {k: (lib.ones(2, **kw) if v == "vector" else v) for k, v in kwargs.items()}
        with pytest.raises(TypeError) as info:
            fn(q, q, q, **args)
        messages.append(str(info.value))
    assert messages[1] == messages[0]


def test_sdpa_scale_and_enable_gqa_are_keyword_only_as_torch(device):
    for lib, fn in ((torch, TF.scaled_dot_product_attention), (ember, F.scaled_dot_product_attention)):
        kw = {} if lib is torch else {"device": device}
        q = lib.ones(1, 2, 3, 4, **kw)
        with pytest.raises(TypeError, match="positional argument"):
            fn(q, q, q, None, 0.0, False, 0.5)
        # numbers of other types and 0-d tensors are factors, as PyTorch's parser takes them
        assert fn(q, q, q, dropout_p=lib.tensor(0.0, **kw), scale=np.float32(0.5)).shape == q.shape


@pytest.mark.parametrize("equation", ["ij,jk->ik", "ij,ij->i", "i,i", "bij,bjk->bik", "ij,ij->ij", "ij,k->ijk"])
@pytest.mark.parametrize(
    "dtypes_", [("float32", "float64"), ("int64", "float32"), ("bool", "float32"), ("float32", "bool")]
)
def test_einsum_of_two_dtypes_as_torch(device, equation, dtypes_):
    # a label summed over both operands contracts with bmm, which promotes nothing (and has no bool kernel);
    # a plain product promotes
    if "float64" in dtypes_ and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    results = []
    for lib in (torch, ember):
        kw = {} if lib is torch else {"device": device}
        terms = equation.split("->")[0].split(",")
        ops = [lib.ones(*[2] * len(t), dtype=getattr(lib, d), **kw) for t, d in zip(terms, dtypes_)]
        try:
            out = lib.einsum(equation, *ops)
            results.append((out.dtype.__repr__().split(".")[1], out.cpu().tolist()))
        except (RuntimeError, NotImplementedError) as exc:
            results.append((type(exc).__name__, str(exc)))
    assert results[1] == results[0]


@pytest.mark.parametrize(
    "shapes,kwargs",
    [
        (((8,), (5, 8), (5, 8)), {}),  # under 2-D
        (((2, 3, 4, 8), (2, 3, 5, 4), (2, 3, 5, 8)), {}),  # head dims of query and key
        (((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 6, 7)), {}),  # keys and values
        (((4, 8), (5, 4), (5, 8)), {}),
        (((2, 1, 4, 8), (3, 5, 4), (3, 5, 8)), {}),
        (((2, 6, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8)), {}),  # heads without enable_gqa
        (((2, 4, 3, 8), (2, 3, 5, 8), (2, 3, 5, 8)), {"enable_gqa": True}),
        (((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8)), {"mask": (4, 6)}),
        (((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8)), {"dropout_p": -0.1}),  # the flash kernel's refusal
        (((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8)), {"dropout_p": float("nan")}),
        (((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8)), {"dropout_p": 1.5}),
    ],
)
def test_sdpa_shape_errors_as_torch(device, shapes, kwargs):
    messages = []
    for lib, fn in ((torch, TF.scaled_dot_product_attention), (ember, F.scaled_dot_product_attention)):
        kw = {} if lib is torch else {"device": device}
        args = dict(kwargs)
        if "mask" in args:
            args["attn_mask"] = lib.ones(args.pop("mask"), dtype=lib.bool, **kw)
        with pytest.raises(RuntimeError) as info:
            fn(*[lib.ones(s, **kw) for s in shapes], **args)
        messages.append(str(info.value))
    assert messages[1] == messages[0]


@pytest.mark.parametrize("dropout_p", [-0.1, float("nan")])
def test_sdpa_negative_dropout_off_the_flash_kernel_drops_nothing_as_torch(device, dropout_p):
    q = randn(3, 4, 8)
    check(
        lambda q: F.scaled_dot_product_attention(q, q, q, dropout_p=dropout_p),
        lambda q: TF.scaled_dot_product_attention(q, q, q, dropout_p=dropout_p),
        [q],
        device=device,
    )


def test_sdpa_argument_type_errors_name_positions_as_torch(device):
    q = np.ones((1, 2, 3))
    messages = []
    for lib, fn in ((torch, TF.scaled_dot_product_attention), (ember, F.scaled_dot_product_attention)):
        kw = {} if lib is torch else {"device": device}
        t = lib.ones(1, 2, 3, **kw)
        for args, extra in (((q, t, t), {}), ((t, t, q), {}), ((t, t, t), {"attn_mask": np.ones((2, 2), bool)})):
            with pytest.raises(TypeError) as info:
                fn(*args, **extra)
            messages.append(str(info.value))
    assert messages[3:] == messages[:3]
