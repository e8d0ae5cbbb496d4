"""FlexAttention, differential against PyTorch: ``ember.nn.attention.flex_attention``.

PyTorch refuses a backward of ``flex_attention`` on CPU; gradients are compared with its eager
reference (``math_attention``, the code its eager ``flex_attention`` runs), which autograd
differentiates.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from reference import assert_close, check, randn, to_ember, torch

import ember
import ember.nn.attention.flex_attention as EF

TF = pytest.importorskip("torch.nn.attention.flex_attention")
math_attention = pytest.importorskip("torch._higher_order_ops.flex_attention").math_attention

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")


def causal(b, h, q_idx, kv_idx):
    return q_idx >= kv_idx


def sliding_window(b, h, q_idx, kv_idx):
    return (q_idx - kv_idx).abs() <= 2


def torch_flex(q, k, v, score_mod=None, block_mask=None, scale=None):
    """PyTorch's eager FlexAttention, differentiable: ``(out, lse)``."""
    block_mask = TF._create_empty_block_mask(q, k) if block_mask is None else block_mask
    scale = 1.0 / math.sqrt(q.size(-1)) if scale is None else scale
    out, lse, _ = math_attention(q, k, v, score_mod or TF._identity, block_mask.as_tuple(), scale, {})
    return out, lse * math.log(2)


def ember_flex(q, k, v, score_mod=None, block_mask=None, scale=None, enable_gqa=False):
    out, aux = EF.flex_attention(q, k, v, score_mod, block_mask, scale, enable_gqa, return_aux=EF.AuxRequest(lse=True))
    return out, aux.lse


QKV = [randn(2, 4, 6, 8), randn(2, 4, 7, 8), randn(2, 4, 7, 5)]


@pytest.mark.parametrize("mask_mod", [causal, sliding_window, "and", "or"])
def test_block_mask_attention(device, dtype, mask_mod):
    if mask_mod == "and":
        e_mod, t_mod = EF.and_masks(causal, sliding_window), TF.and_masks(causal, sliding_window)
    elif mask_mod == "or":
        e_mod, t_mod = EF.or_masks(causal, sliding_window), TF.or_masks(causal, sliding_window)
    else:
        e_mod = t_mod = mask_mod
    e_mask = EF.create_block_mask(e_mod, 2, None, 6, 7, device=device, BLOCK_SIZE=4)
    t_mask = TF.create_block_mask(t_mod, 2, None, 6, 7, device="cpu", BLOCK_SIZE=4)
    check(
        lambda q, k, v: ember_flex(q, k, v, block_mask=e_mask),
        lambda q, k, v: torch_flex(q, k, v, block_mask=t_mask),
        QKV,
        device=device,
        dtype=dtype,
    )


def test_matches_public_function_and_sdpa(device):
    q, k, v = (torch.tensor(a, dtype=torch.float32) for a in QKV)
    t_mask = TF.create_block_mask(causal, None, None, 6, 7, device="cpu")
    e_mask = EF.create_block_mask(causal, None, None, 6, 7, device=device)
    expected, expected_lse = TF.flex_attention(q, k, v, block_mask=t_mask, return_lse=True)
    out, lse = EF.flex_attention(*(to_ember(t, device) for t in (q, k, v)), block_mask=e_mask, return_lse=True)
    assert_close(out, expected, ember.float32)
    assert_close(lse, expected_lse, ember.float32)
    sdpa = ember.nn.functional.scaled_dot_product_attention(*(to_ember(t, device) for t in (q, k, v)), is_causal=True)
    assert_close(out, sdpa.cpu(), ember.float32)


def test_alibi_and_relative_bias_table_get_gradients(device, dtype):
    slopes = randn(4)
    table = randn(6 + 7 - 1)

    def make(mod):
        def score_mod(score, b, h, q_idx, kv_idx, slopes, table):
            return score + slopes[h] * (kv_idx - q_idx) + table[q_idx - kv_idx + 6]

        return score_mod

    check(
        lambda q, k, v, s, t: ember_flex(q, k, v, lambda *i: make(ember)(*i, s, t)),
        lambda q, k, v, s, t: torch_flex(q, k, v, lambda *i: make(torch)(*i, s, t)),
        QKV + [slopes, table],
        device=device,
        dtype=dtype,
    )


def test_document_mask_with_batch_index(device, dtype):
    docs = np.array([[0, 0, 1, 1, 1, 2, 2], [0, 1, 1, 1, 1, 1, 1]])
    e_docs, t_docs = ember.tensor(docs, device=device), torch.tensor(docs)

    def mask_mod(ids):
        return lambda b, h, q_idx, kv_idx: (ids[b, q_idx] == ids[b, kv_idx]) & (q_idx >= kv_idx)

    e_mask = EF.create_block_mask(mask_mod(e_docs), 2, 1, 7, 7, device=device)
    t_mask = TF.create_block_mask(mask_mod(t_docs), 2, 1, 7, 7, device="cpu")
    check(
        lambda q, k, v: ember_flex(q, k, v, block_mask=e_mask),
        lambda q, k, v: torch_flex(q, k, v, block_mask=t_mask),
        [randn(2, 4, 7, 8), randn(2, 4, 7, 8), randn(2, 4, 7, 8)],
        device=device,
        dtype=dtype,
    )


def test_gqa_and_scale(device, dtype):
    check(
        lambda q, k, v: ember_flex(q, k, v, scale=0.3, enable_gqa=True),
        lambda q, k, v: torch_flex(q, k, v, scale=0.3),
        [randn(2, 4, 6, 8), randn(2, 2, 7, 8), randn(2, 2, 7, 5)],
        device=device,
        dtype=dtype,
    )


def test_fully_masked_rows_give_zeros_and_minus_inf_lse(device, dtype):
    def score_mod(lib):
        return lambda score, b, h, q_idx, kv_idx: lib.where(q_idx == 1, -float("inf"), score)

    def nothing(b, h, q_idx, kv_idx):
        return q_idx < 0

    (out, lse), _ = check(
        lambda q, k, v: ember_flex(q, k, v, score_mod(ember)),
        lambda q, k, v: torch_flex(q, k, v, score_mod(torch)),
        QKV,
        device=device,
        dtype=dtype,
    )
    assert not out[:, :, 1].any() and bool(lse[:, :, 1].isneginf().all())
    q, k, v = (ember.tensor(a, dtype=dtype, device=device, requires_grad=True) for a in QKV)
    block_mask = EF.create_block_mask(nothing, None, None, 6, 7, device=device)
    out, aux = EF.flex_attention(q, k, v, block_mask=block_mask, return_aux=EF.AuxRequest(lse=True))
    out.sum().backward()
    assert not out.any() and bool(aux.lse.isneginf().all()) and aux.max_scores is None
    assert not q.grad.any() and not k.grad.any() and not v.grad.any()


@pytest.mark.parametrize("name", ["float64", "float32", "bfloat16", "float16"])
def test_dtypes(name):
    q, k, v = (torch.tensor(a).to(getattr(torch, name)) for a in QKV)
    expected, expected_lse = TF.flex_attention(q, k, v, block_mask=None, return_lse=True)
    out, lse = EF.flex_attention(*(ember.tensor(a).to(getattr(ember, name)) for a in QKV), return_lse=True)
    assert out.dtype is getattr(ember, name)
    assert lse.dtype is (ember.float64 if name == "float64" else ember.float32)
    tol = {"bfloat16": 2e-2, "float16": 2e-3}.get(name, 1e-5)
    assert_close(out.float(), expected.float(), rtol=tol, atol=tol)
    assert_close(lse.float(), expected_lse.float(), rtol=tol, atol=tol)


def test_block_mask_layout_and_methods(device):
    t_mask = TF.create_block_mask(causal, 2, 3, 240, 280, device="cpu", BLOCK_SIZE=(32, 64))
    e_mask = EF.create_block_mask(causal, 2, 3, 240, 280, device=device, BLOCK_SIZE=(32, 64))
    for name in ("kv_num_blocks", "kv_indices", "full_kv_num_blocks", "full_kv_indices", "q_num_blocks", "q_indices"):
        assert_close(getattr(e_mask, name), getattr(t_mask, name), what=name)
    assert_close(e_mask.to_dense(), t_mask.to_dense())
    assert e_mask.shape == t_mask.shape and e_mask.BLOCK_SIZE == t_mask.BLOCK_SIZE == (32, 64)
    assert e_mask.sparsity() == pytest.approx(t_mask.sparsity())
    assert str(e_mask) == str(t_mask)
    assert repr(e_mask).replace("ember.Size", "torch.Size") == repr(t_mask)
    for index in (1, (0, 2), (slice(0, 2), slice(1, 2))):
        assert str(e_mask[index]) == str(t_mask[index])
    adjusted, t_adjusted = e_mask._adjust(100, 120), t_mask._adjust(100, 120)
    assert_close(adjusted.kv_num_blocks, t_adjusted.kv_num_blocks)
    assert_close(adjusted.full_q_indices, t_adjusted.full_q_indices)
    assert adjusted.shape == t_adjusted.shape
    small = EF.create_block_mask(causal, None, None, 6, 6, device=device)
    assert small.sparsity() == pytest.approx(TF.create_block_mask(causal, None, None, 6, 6, device="cpu").sparsity())


def test_create_mask(device):
    def score_mod(lib):
        return lambda score, b, h, q_idx, kv_idx: lib.where(q_idx > kv_idx, -float("inf"), score)

    assert_close(
        EF.create_mask(score_mod(ember), 2, 1, 3, 4, device=device),
        TF.create_mask(score_mod(torch), 2, 1, 3, 4, device="cpu"),
    )
    assert_close(EF.create_mask(EF.noop_mask, None, 2, 3, 4, device=device), torch.ones(1, 2, 3, 4, dtype=torch.bool))


def _errors(lib, M):
    def qkv(*shapes):
        return [lib.randn(*s) for s in shapes]

    return {
        "3-D": lambda: M.flex_attention(*qkv((2, 3, 4), (2, 3, 4), (2, 3, 4))),
        "embedding": lambda: M.flex_attention(*qkv((1, 2, 3, 4), (1, 2, 3, 5), (1, 2, 3, 5))),
        "heads": lambda: M.flex_attention(*qkv((1, 4, 3, 4), (1, 2, 3, 4), (1, 2, 3, 4))),
        "gqa": lambda: M.flex_attention(*qkv((1, 3, 3, 4), (1, 2, 3, 4), (1, 2, 3, 4)), enable_gqa=True),
        "batch": lambda: M.flex_attention(*qkv((2, 2, 3, 4), (1, 2, 3, 4), (1, 2, 3, 4))),
        "short mask": lambda: M.flex_attention(
            *qkv((1, 2, 5, 4), (1, 2, 5, 4), (1, 2, 5, 4)), block_mask=M.create_block_mask(causal, 1, 1, 3, 3, "cpu")
        ),
        "long mask": lambda: M.flex_attention(
            *qkv((1, 2, 3, 4), (1, 2, 3, 4), (1, 2, 3, 4)), block_mask=M.create_block_mask(causal, 1, 1, 5, 5, "cpu")
        ),
        "sliced": lambda: M.flex_attention(
            *qkv((1, 2, 3, 4), (1, 2, 3, 4), (1, 2, 3, 4)), block_mask=M.create_block_mask(causal, 1, 1, 3, 3, "cpu")[0]
        ),
        "lse and aux": lambda: M.flex_attention(
            *qkv((1, 2, 3, 4), (1, 2, 3, 4), (1, 2, 3, 4)), return_lse=True, return_aux=M.AuxRequest(lse=True)
        ),
        "score_mod as mask": lambda: M.create_block_mask(lambda s, b, h, q, k: s, 1, 1, 5, 5, "cpu"),
        "three args": lambda: M.create_block_mask(lambda b, h, q: q, 1, 1, 5, 5, "cpu"),
        "not callable": lambda: M.or_masks(causal, 3),
    }


@pytest.mark.parametrize("case", list(_errors(torch, TF)))
def test_errors(case):
    with pytest.raises(Exception) as expected:
        _errors(torch, TF)[case]()
    with pytest.raises(expected.type) as got:
        _errors(ember, EF)[case]()
    assert str(got.value).split(".")[0] == str(expected.value).split(".")[0]


def test_return_lse_warns_deprecated():
    q = ember.randn(1, 1, 2, 4)
    with pytest.warns(FutureWarning, match="return_lse is deprecated"):
        EF.flex_attention(q, q, q, return_lse=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        EF.flex_attention(q, q, q, return_aux=EF.AuxRequest(lse=True, max_scores=True))


@pytest.mark.parametrize("name", ["bfloat16", "float16"])
def test_autocast_casts_the_inputs_as_torch(name):
    q = QKV[0].astype(np.float32)
    with torch.autocast("cpu", dtype=getattr(torch, name)):
        expected, expected_lse = TF.flex_attention(*(torch.tensor(q),) * 3, return_lse=True)
    with ember.autocast("cpu", dtype=getattr(ember, name)):
        out, lse = EF.flex_attention(*(ember.tensor(q),) * 3, return_lse=True)
    assert out.dtype is getattr(ember, name) and lse.dtype is ember.float32
    assert_close(out.float(), expected.float(), rtol=1e-2, atol=1e-2)
    assert_close(lse, expected_lse, ember.float32)
