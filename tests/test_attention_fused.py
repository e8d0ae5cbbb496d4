"""The fused-attention hook (``fused_attention_supports/forward/backward``), differential against
PyTorch's ``scaled_dot_product_attention`` on every device: outputs and the gradients of q, k,
v and a float mask. On a device whose kernels serve a case the fused kernels run (the output's
``grad_fn`` is ``FusedAttentionBackward0``); elsewhere the portable kernels do, and the same
comparisons hold."""

from __future__ import annotations

import numpy as np
import pytest
from reference import check, randn, torch

import ember
import ember.nn.functional as F
from ember import nn
from ember.autograd import grad as autograd_grad
from ember.backends.cupy import cudnn_attention  # importable without CuPy

TF = torch.nn.functional
FUSED, PORTABLE = "FusedAttentionBackward0", "AttentionBackward0"


def _fused(device, dtype=ember.float32, masked=False):
    """The attention node the backend of ``device`` gives a case of head dims that are multiples
    of 8: the OpenCL kernels take float32, float64 and float16 with any mask; cuDNN (CUDA, with the
    frontend installed) float16 and bfloat16 without a mask; cpu and restricted have none."""
    kind = device.split(":")[0]
    if kind == "opencl":
        return FUSED if dtype in (ember.float32, ember.float64, ember.float16) else PORTABLE
    if kind == "cuda":
        served = cudnn_attention.available() and dtype in (ember.float16, ember.bfloat16) and not masked
        return FUSED if served else PORTABLE
    return PORTABLE


def _bool_mask(*shape, p=0.6, empty_rows=()):
    m = np.random.default_rng(7).random(shape) < p
    m[..., 0] = True
    for r in empty_rows:  # every key masked: zeros out, as PyTorch's
        m[..., r, :] = False
    return m


def _float_mask(*shape, empty_rows=()):
    m = randn(*shape)
    m[np.random.default_rng(8).random(shape) < 0.2] = -np.inf
    m[..., 0] = 0.5
    for r in empty_rows:
        m[..., r, :] = -np.inf
    return m


def _sdpa(**kwargs):
    return (
        lambda *a: F.scaled_dot_product_attention(*a, **kwargs),
        lambda *a: TF.scaled_dot_product_attention(*a, **kwargs),
    )


# (q, k, v) shapes: head dims not multiples of a work-group, L != S, more than one key/query
# block (32 rows), broadcast batch axes, no batch axes
SHAPES = [
    ((2, 3, 37, 5), (2, 3, 45, 5), (2, 3, 45, 7)),
    ((1, 2, 70, 33), (1, 2, 9, 33), (1, 2, 9, 16)),
    ((2, 1, 6, 8), (3, 40, 8), (1, 40, 8)),
    ((33, 4), (65, 4), (65, 3)),
]


@pytest.mark.parametrize("shapes", SHAPES, ids=["L!=S", "long-L", "broadcast", "2-d"])
@pytest.mark.parametrize("kind", ["none", "causal", "scale", "bool", "float"])
def test_fused_matches_torch(device, dtype, shapes, kind):
    arrays = [randn(*s) for s in shapes]
    L, S = shapes[0][-2], shapes[1][-2]
    kwargs = {"is_causal": True} if kind == "causal" else {"scale": 0.3} if kind == "scale" else {}
    if kind == "bool":
        arrays.append(_bool_mask(L, S, empty_rows=(1,)))
    elif kind == "float":
        arrays.append(_float_mask(L, S, empty_rows=(2,)))  # its gradient compared too
    ember_fn, torch_fn = _sdpa(**kwargs)
    outs, _ = check(ember_fn, torch_fn, arrays, device=device, dtype=dtype)
    assert outs[0].grad_fn.name() == _fused(device, dtype, masked=kind in ("bool", "float"))


def test_fused_batched_masks_and_views(device, dtype):
    """A per-batch float mask broadcast over heads; q, k, v as transposed (strided) views."""
    q, k, v = randn(2, 40, 3, 6), randn(2, 35, 3, 6), randn(2, 35, 3, 6)
    mask = _float_mask(2, 1, 40, 35, empty_rows=(4,))

    def ember_fn(q, k, v, m):
        return F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), m)

    def torch_fn(q, k, v, m):
        return TF.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), m)

    check(ember_fn, torch_fn, [q, k, v, mask], device=device, dtype=dtype)


def test_fused_nan_propagates(device):
    """A NaN in a query row, or in every score of a row, gives NaN there, as PyTorch's."""
    q, k, v = randn(2, 40, 8), randn(2, 36, 8), randn(2, 36, 8)
    q[0, 3, 2] = np.nan
    mask = randn(40, 36)
    mask[5] = np.nan
    out = F.scaled_dot_product_attention(
        *(ember.tensor(a, dtype=ember.float32, device=device) for a in (q, k, v, mask))
    )
    ref = TF.scaled_dot_product_attention(*(torch.tensor(a, dtype=torch.float32) for a in (q, k, v, mask)))
    np.testing.assert_array_equal(np.isnan(out.cpu().numpy()), ref.isnan().numpy())
    assert np.isnan(out.cpu().numpy()).any()


def test_fused_gqa(device, dtype):
    ember_fn, torch_fn = _sdpa(enable_gqa=True, is_causal=True)
    check(ember_fn, torch_fn, [randn(2, 6, 34, 5), randn(2, 2, 34, 5), randn(2, 2, 34, 5)], device=device, dtype=dtype)


def test_fused_multihead_attention_without_weights(device, dtype):
    """MultiheadAttention with ``need_weights=False`` and a key padding mask that hides every key
    of one sequence's last positions."""
    torch.manual_seed(0)
    ref = torch.nn.MultiheadAttention(12, 3, batch_first=True, dtype=torch.float64)
    mha = nn.MultiheadAttention(12, 3, batch_first=True, dtype=dtype)
    mha.load_state_dict({name: ember.tensor(t.detach().numpy(), dtype=dtype) for name, t in ref.state_dict().items()})
    mha.to(device)
    ref.to(getattr(torch, str(dtype).split(".")[-1]))
    x, y = randn(2, 36, 12), randn(2, 41, 12)
    padding = np.zeros((2, 41), dtype=bool)
    padding[1, 30:] = True
    causal = np.triu(np.ones((36, 41), dtype=bool), 1)
    check(
        lambda x, y, p, c: mha(x, y, y, key_padding_mask=p, attn_mask=c, need_weights=False)[0],
        lambda x, y, p, c: ref(x, y, y, key_padding_mask=p, attn_mask=c, need_weights=False)[0],
        [x, y, padding, causal],
        device=device,
        dtype=dtype,
    )


def test_fused_double_backward_uses_tensor_ops(device):
    """With ``create_graph`` the fused forward's backward is written with tensor ops: the
    gradients differentiate again, as PyTorch's."""
    if not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    arrays = [randn(2, 33, 5), randn(2, 34, 5), randn(2, 34, 5), _float_mask(33, 34, empty_rows=(3,))]
    e = [ember.tensor(a, dtype=ember.float64, device=device, requires_grad=True) for a in arrays]
    t = [torch.tensor(a, requires_grad=True) for a in arrays]
    results = []
    for sdpa, grad, xs in ((F.scaled_dot_product_attention, autograd_grad, e),
                           (TF.scaled_dot_product_attention, torch.autograd.grad, t)):  # fmt: skip
        out = sdpa(*xs)
        first = grad((out * out).sum(), xs, create_graph=True)
        results.append((out, first, grad(sum((g * g).sum() for g in first), xs)))
    (out, first, second), (t_out, t_first, t_second) = results
    assert out.grad_fn.name() == _fused(device, ember.float64, masked=True)
    assert all(g.grad_fn is not None for g in first)
    for a, b in zip((*first, *second), (*t_first, *t_second)):
        np.testing.assert_allclose(a.detach().cpu().numpy(), b.detach().numpy(), rtol=1e-7, atol=1e-9)


def _attention_node(t):
    """The name of the attention node in ``t``'s graph (depth first)."""
    stack, seen = [t.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if node.name() in (FUSED, PORTABLE):
            return node.name()
        stack.extend(n for n, _ in getattr(node, "next_functions", ()))
    return None


def test_fused_path_taken_only_where_it_applies(device):
    """Where the kernels serve a case the graph holds the fused node; attention weights
    (MultiheadAttention's ``need_weights``), dropout and head dims the kernels refuse take the
    portable kernels."""
    x = ember.randn(2, 4, 10, 8, device=device, requires_grad=True)
    fused = _fused(device)
    assert F.scaled_dot_product_attention(x, x, x).grad_fn.name() == fused
    kernels = ember.backends.get_backend(device).kernels
    assert kernels.fused_attention_supports(x._data, x._data, x._data, None, False, 1.0, 0.0) is (fused == FUSED)
    assert kernels.fused_attention_supports(x._data, x._data, x._data, None, False, 1.0, 0.5) is False
    assert F.scaled_dot_product_attention(x, x, x, dropout_p=0.5).grad_fn.name() == PORTABLE
    wide = ember.randn(1, 2, 3, 300, device=device, requires_grad=True)
    assert F.scaled_dot_product_attention(wide, wide, wide).grad_fn.name() == PORTABLE
    mha = nn.MultiheadAttention(8, 2).to(device)
    y = ember.randn(5, 3, 8, device=device)
    assert _attention_node(mha(y, y, y, need_weights=False)[0]) == fused
    out, weights = mha(y, y, y, need_weights=True)
    assert _attention_node(out) == PORTABLE and weights.shape == (3, 5, 5)


@pytest.mark.parametrize("kind", ["causal", "bool", "float"])
def test_fused_float16(device, kind):
    """float16 attention (fused where a backend's kernels take it, else portable) against the
    float32 result on the same rounded inputs: output and the gradients of q, k, v, mask."""
    arrays = [randn(2, 3, 37, 8), randn(2, 3, 41, 8), randn(2, 3, 41, 8)]
    if kind == "bool":
        arrays.append(_bool_mask(37, 41, empty_rows=(2,)))
    elif kind == "float":
        arrays.append(_float_mask(37, 41, empty_rows=(2,)))
    results = []
    for dtype in (ember.float16, ember.float32):
        xs = [
            ember.tensor(a, device=device)
            if a.dtype == bool
            else ember.tensor(a, dtype=ember.float16, device=device).to(dtype).requires_grad_()
            for a in arrays
        ]
        out = F.scaled_dot_product_attention(*xs, is_causal=kind == "causal")
        out.float().sum().backward()
        results.append([out] + [x.grad for x in xs if x.requires_grad])
    expected = _fused(device, ember.float16, masked=kind != "causal")
    if device.split(":")[0] in ("cpu", "restricted"):
        # PyTorch's CPU flash kernel, rounded as it rounds; a mask that needs a gradient takes its
        # math path, float32 rounded once
        expected = "ToCopyBackward0" if kind == "float" else "ScaledDotProductFlashAttentionForCpuBackward0"
    assert results[0][0].grad_fn.name() == expected
    for half, full in zip(*results):
        np.testing.assert_allclose(
            half.float().detach().cpu().numpy(), full.detach().cpu().numpy(), rtol=2e-2, atol=2e-2
        )


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
@pytest.mark.parametrize("causal", [False, True])
def test_fused_cudnn_16_bit(device, name, causal):
    """cuDNN's fused SDPA (float16, bfloat16) against PyTorch in float32 on the same rounded
    inputs: outputs and the gradients of q, k, v."""
    if not device.startswith("cuda"):
        pytest.skip("cuDNN's fused attention serves CUDA devices only")
    dtype = getattr(ember, name)
    shapes = [(2, 4, 40, 64), (2, 4, 56, 64), (2, 4, 56, 64), (2, 4, 40, 64)]
    q, k, v, g = (ember.tensor(randn(*s), dtype=dtype, device=device) for s in shapes)
    q, k, v = (t.requires_grad_() for t in (q, k, v))
    tq, tk, tv, tg = (torch.tensor(t.detach().float().cpu().numpy(), requires_grad=True) for t in (q, k, v, g))
    out = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    out.backward(g)
    ref = TF.scaled_dot_product_attention(tq, tk, tv, is_causal=causal)
    ref.backward(tg)
    assert out.grad_fn.name() == _fused(device, dtype)
    tol = 2e-2 if name == "float16" else 8e-2
    for a, b in ((out, ref), (q.grad, tq.grad), (k.grad, tk.grad), (v.grad, tv.grad)):
        np.testing.assert_allclose(a.detach().float().cpu().numpy(), b.detach().numpy(), rtol=tol, atol=tol)
