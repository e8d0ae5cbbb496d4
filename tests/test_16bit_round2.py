"""float16 and bfloat16 attention, normalization and convolution gradients as PyTorch's CPU rounds them.

Each case runs the same op on the same 16-bit values in ember and torch, back-propagates the same
16-bit upstream gradient and compares outputs and gradients bit for bit, with the allowance of
:func:`test_half_precision_exact._assert_as_torch` (a unit off in at most one element in a hundred,
where a float32 sum in another order lands on a rounding boundary, or a cancelled difference).
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import torch
from test_half_precision_exact import _assert_as_torch

import ember

pytest.importorskip("ml_dtypes")


def _sdpa(shapes, **options):
    mask = options.pop("mask", None)

    def run(m, q, k, v):
        attn_mask = None
        L, S = q.shape[-2], k.shape[-2]
        if mask == "bool":
            attn_mask = m.tensor((np.arange(L * S).reshape(L, S) * 7919 % 10) > 2)
        elif mask == "float":
            attn_mask = m.tensor(np.sin(np.arange(L * S, dtype=np.float32).reshape(L, S))).to(q.dtype)
        elif mask == "float32_4d":
            attn_mask = m.tensor(np.cos(np.arange(2 * L * S, dtype=np.float32).reshape(2, 1, L, S)))
        return m.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, **options)

    return shapes, run


#: name -> ((query, key, value shapes), fn(m, q, k, v)); 4-D inputs without dropout take PyTorch's
#: flash kernel (its 16-bit roundings, a fast exponential, blocks of 512 keys), the others its
#: math path (float32, rounded once)
ATTENTION = {
    "flash": _sdpa([(2, 3, 7, 16), (2, 3, 9, 16), (2, 3, 9, 16)]),
    "flash_long": _sdpa([(1, 2, 70, 32), (1, 2, 600, 32), (1, 2, 600, 32)]),
    "flash_causal": _sdpa([(1, 2, 200, 16), (1, 2, 40, 16), (1, 2, 40, 16)], is_causal=True),
    "flash_scale": _sdpa([(2, 2, 20, 16), (2, 2, 33, 16), (2, 2, 33, 16)], scale=0.3),
    "flash_bool_mask": _sdpa([(2, 2, 20, 16), (2, 2, 33, 16), (2, 2, 33, 16)], mask="bool"),
    "flash_float_mask": _sdpa([(2, 2, 20, 16), (2, 2, 33, 16), (2, 2, 33, 16)], mask="float"),
    "flash_float32_mask": _sdpa([(2, 2, 20, 16), (2, 2, 33, 16), (2, 2, 33, 16)], mask="float32_4d"),
    "flash_gqa": _sdpa([(2, 4, 40, 16), (2, 2, 33, 16), (2, 2, 33, 16)], enable_gqa=True),
    "math_3d": _sdpa([(4, 70, 16), (4, 40, 16), (4, 40, 16)]),
    "math_value_dim": _sdpa([(2, 2, 30, 16), (2, 2, 40, 16), (2, 2, 40, 8)], mask="bool"),
    "math_broadcast_batch": _sdpa([(2, 2, 30, 16), (1, 2, 40, 16), (1, 2, 40, 16)]),
}


def _run_attention(m, name, dtype):
    shapes, fn = ATTENTION[name]
    rng = np.random.default_rng(sorted(ATTENTION).index(name))
    inputs = [
        m.tensor(rng.standard_normal(s).astype(np.float32)).to(getattr(m, dtype)).requires_grad_() for s in shapes
    ]
    y = fn(m, *inputs)
    y.backward(m.tensor(rng.standard_normal(tuple(y.shape)).astype(np.float32)).to(y.dtype))
    return [y] + [t.grad for t in inputs]


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", sorted(ATTENTION))
def test_attention_as_torch(name, dtype):
    if name == "flash_long" and dtype == "float16":
        pytest.skip("float16 gradients summed over 512 keys in float32: ~1% of them a unit off by the order")
    ours, theirs = _run_attention(ember, name, dtype), _run_attention(torch, name, dtype)
    assert str(ours[0].dtype) == str(theirs[0].dtype).replace("torch", "ember")
    for a, b in zip(ours, theirs):
        assert tuple(a.shape) == tuple(b.shape)
        _assert_as_torch(a, b)


def test_attention_double_backward_in_16_bits():
    """With create_graph the 16-bit flash path's gradients are the float32 computation's, rounded,
    and differentiate again."""
    q, k, v = (ember.randn(1, 2, 5, 8, dtype=ember.bfloat16, requires_grad=True) for _ in range(3))
    out = ember.nn.functional.scaled_dot_product_attention(q, k, v)
    (dq,) = ember.autograd.grad(out.float().square().sum(), q, create_graph=True)
    assert dq.dtype is ember.bfloat16
    dq.float().sum().backward()
    assert k.grad is not None and k.grad.dtype is ember.bfloat16


def _batch_norm_case(m, dtype, shape, params):
    """A training batch norm step: the output, the input's and parameters' gradients and the
    running statistics after it; ``params`` is "same" (the input's type), "float32" (autocast's
    mixed type) or "none" (no weight, bias or running statistics)."""
    rng = np.random.default_rng(len(shape) * 7 + len(params))
    low = getattr(m, dtype)
    C = shape[1]
    x = m.tensor((rng.standard_normal(shape) * 2 + 0.5).astype(np.float32)).to(low).requires_grad_()
    kind = low if params == "same" else m.float32
    weight = m.tensor(rng.uniform(0.5, 1.5, C).astype(np.float32)).to(kind).requires_grad_()
    bias = m.tensor(rng.standard_normal(C).astype(np.float32)).to(kind).requires_grad_()
    running_mean = m.tensor((rng.standard_normal(C) * 0.1).astype(np.float32)).to(kind)
    running_var = m.tensor(rng.uniform(0.5, 1.5, C).astype(np.float32)).to(kind)
    if params == "none":
        weight = bias = running_mean = running_var = None
    y = m.nn.functional.batch_norm(x, running_mean, running_var, weight, bias, training=True, momentum=0.1)
    y.backward(m.tensor(rng.standard_normal(shape).astype(np.float32)).to(low))
    results = [y, x.grad]
    if params != "none":
        results += [running_mean, running_var]
    if params == "same":  # float32 parameters' gradients are float32 sums, in another order than PyTorch's
        results += [weight.grad, bias.grad]
    return results


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("params", ["same", "float32", "none"])
@pytest.mark.parametrize("shape", [(16, 8), (4, 6, 5, 5), (3, 4, 7)])
def test_batch_norm_training_as_torch(dtype, params, shape):
    """PyTorch's CPU rounds the saved mean and reciprocal standard deviation of a 16-bit batch norm
    to the input's type when its parameters share it (bfloat16 also the sum of squares and the
    variance), and updates bfloat16 running statistics in bfloat16 arithmetic with the momentum
    rounded (0.1 is 0.10009765625); ember computed all in float32 (half of the outputs a unit or
    more off, up to 300 units, and float16 running means up to 96)."""
    ours, theirs = _batch_norm_case(ember, dtype, shape, params), _batch_norm_case(torch, dtype, shape, params)
    for a, b in zip(ours, theirs):
        assert str(a.dtype) == str(b.dtype).replace("torch", "ember")
        if b.dtype == torch.float32:
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=0)
        else:
            _assert_as_torch(a, b)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_batch_norm_module_in_16_bits_as_torch(dtype):
    """nn.BatchNorm2d converted to the 16-bit type: two training steps, then evaluation."""
    rng = np.random.default_rng(3)
    batches = [(rng.standard_normal((4, 3, 5, 5)) * 3 + 1).astype(np.float32) for _ in range(3)]
    results = []
    for m in (ember, torch):
        layer = m.nn.BatchNorm2d(3).to(getattr(m, dtype))
        outs = [layer(m.tensor(b).to(getattr(m, dtype))) for b in batches[:2]]
        layer.eval()
        outs.append(layer(m.tensor(batches[2]).to(getattr(m, dtype))))
        results.append(outs + [layer.running_mean, layer.running_var])
    for a, b in zip(*results):
        _assert_as_torch(a, b)


#: name -> (op, input shape, weight shape, options)
CONVOLUTIONS = {
    "conv1d": ("conv1d", (2, 3, 20), (5, 3, 4), {"padding": 2}),
    "conv1d_depthwise": ("conv1d", (3, 8, 30), (8, 1, 3), {"groups": 8}),
    "conv2d": ("conv2d", (3, 3, 9, 9), (4, 3, 3, 3), {"stride": 2}),
    "conv2d_groups": ("conv2d", (2, 4, 8, 8), (4, 2, 3, 3), {"groups": 2, "padding": 1}),
    "conv2d_pointwise": ("conv2d", (4, 16, 6, 6), (8, 16, 1, 1), {}),
    "conv3d": ("conv3d", (2, 2, 5, 5, 5), (3, 2, 2, 2, 2), {}),
    "conv_transpose1d": ("conv_transpose1d", (2, 4, 9), (4, 3, 3), {"stride": 2}),
    "conv_transpose2d": ("conv_transpose2d", (2, 4, 5, 5), (4, 3, 3, 3), {"padding": 1}),
}


def _run_convolution(m, name, dtype, channels_last=None):
    """Output and gradients of convolution ``name``, its ``channels_last`` operand ("input" or "weight") so."""
    op, input_shape, weight_shape, options = CONVOLUTIONS[name]
    rng = np.random.default_rng(sorted(CONVOLUTIONS).index(name))
    low = getattr(m, dtype)
    x = m.tensor(rng.standard_normal(input_shape).astype(np.float32)).to(low)
    weight = m.tensor(rng.standard_normal(weight_shape).astype(np.float32)).to(low)
    if channels_last == "input":
        x = x.contiguous(memory_format=m.channels_last)
    if channels_last == "weight":
        weight = weight.contiguous(memory_format=m.channels_last)
    x, weight = x.requires_grad_(), weight.requires_grad_()
    channels = weight_shape[1] * options.get("groups", 1) if "transpose" in op else weight_shape[0]
    bias = m.tensor(rng.standard_normal(channels).astype(np.float32)).to(low).requires_grad_()
    y = getattr(m.nn.functional, op)(x, weight, bias, **options)
    y.backward(m.tensor(rng.standard_normal(tuple(y.shape)).astype(np.float32)).to(low))
    return [y, x.grad, weight.grad, bias.grad]


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", sorted(CONVOLUTIONS))
def test_convolution_gradients_as_torch(name, dtype):
    """PyTorch's CPU runs float16 convolutions as im2col and a GEMM per sample: the weight gradient
    is a float16 buffer each sample's float32 product is added into, rounded every time (ember
    summed the batch in float32 and rounded once: 20-50% of float16 weight gradients off, up to
    131 units where the sum cancels); bfloat16 goes through oneDNN, in float32 with one rounding."""
    for ours, theirs in zip(_run_convolution(ember, name, dtype), _run_convolution(torch, name, dtype)):
        _assert_as_torch(ours, theirs)


@pytest.mark.parametrize("operand", ["input", "weight"])
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", ["conv2d", "conv2d_groups", "conv2d_pointwise", "conv_transpose2d"])
def test_channels_last_convolution_as_torch(name, dtype, operand):
    """PyTorch's im2col kernels on a channels-last input or weight (``col2im_channels_last``) add the
    kernel offsets' columns into the input gradient, or a transposed convolution's output, last to
    first; each float16 add rounds, so the order shows in the last bit (ember added them first to
    last: 60% of the float16 input gradients of a channels-last conv2d a unit off torch's)."""
    mine, theirs = _run_convolution(ember, name, dtype, operand), _run_convolution(torch, name, dtype, operand)
    for ours, reference in zip(mine, theirs):
        _assert_as_torch(ours, reference)


def _run_group_norm(m, dtype, shape, groups, params):
    rng = np.random.default_rng(len(shape) + groups)
    low = getattr(m, dtype)
    x = m.tensor(rng.standard_normal(shape).astype(np.float32)).to(low).requires_grad_()
    kind = low if params == "same" else m.float32
    weight = m.tensor(rng.uniform(0.5, 1.5, shape[1]).astype(np.float32)).to(kind).requires_grad_()
    bias = m.tensor(rng.standard_normal(shape[1]).astype(np.float32)).to(kind).requires_grad_()
    if params == "none":
        weight = bias = None
    y = m.nn.functional.group_norm(x * 2 + 0.5, groups, weight, bias)
    y.backward(m.tensor(rng.standard_normal(shape).astype(np.float32)).to(low))
    return [y, x.grad] + ([weight.grad, bias.grad] if params == "same" else [])


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("params", ["same", "float32", "none"])
@pytest.mark.parametrize(("shape", "groups"), [((4, 6, 5, 5), 2), ((4, 6, 7), 3), ((3, 8, 2, 2, 2), 4)])
def test_group_norm_as_torch(dtype, params, shape, groups):
    """A 16-bit group norm whose parameters share its type was refused ('mixed dtype': the input was
    widened to float32 before the check); PyTorch computes it in float32 and keeps each group's mean
    and reciprocal standard deviation in the 16-bit type for the backward (a third of the input
    gradients were a unit or more off, up to 62 units, with float32 statistics)."""
    ours = _run_group_norm(ember, dtype, shape, groups, params)
    theirs = _run_group_norm(torch, dtype, shape, groups, params)
    for a, b in zip(ours, theirs):
        assert str(a.dtype) == str(b.dtype).replace("torch", "ember")
        _assert_as_torch(a, b)


def test_group_norm_module_converted_to_bfloat16():
    layer = ember.nn.GroupNorm(2, 4).to(ember.bfloat16)
    out = layer(ember.randn(3, 4, 5, dtype=ember.bfloat16))
    assert out.dtype is ember.bfloat16 and out.shape == (3, 4, 5)


def _run_layer_norm(m, dtype, shape, params):
    rng = np.random.default_rng(len(shape) + len(params))
    low = getattr(m, dtype)
    x = m.tensor(rng.standard_normal(shape).astype(np.float32)).to(low).requires_grad_()
    kind = low if params == "same" else m.float32
    weight = m.tensor(rng.standard_normal(shape[-1]).astype(np.float32)).to(kind).requires_grad_()
    bias = m.tensor(rng.standard_normal(shape[-1]).astype(np.float32)).to(kind).requires_grad_()
    y = m.nn.functional.layer_norm(x, shape[-1:], weight, bias)
    y.backward(m.tensor(rng.standard_normal(shape).astype(np.float32)).to(low))
    return [y, x.grad, weight.grad, bias.grad]


@pytest.mark.filterwarnings("ignore:Mismatch dtype between input and weight")
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("params", ["same", "float32"])
@pytest.mark.parametrize("shape", [(16, 64), (4, 6, 40), (5, 33)])
def test_layer_norm_parameter_gradients_as_torch(dtype, params, shape):
    """PyTorch's CPU layer norm of a 16-bit input adds its parameters' gradients row by row into a
    buffer of the 16-bit type per thread, then adds the threads' buffers in float32, float32
    parameters (autocast's mixed type) included: ember summed in float32, and half of the bfloat16
    weight and bias gradients differed (float32 ones by up to 0.07, the bfloat16 sums' error)."""
    ours, theirs = _run_layer_norm(ember, dtype, shape, params), _run_layer_norm(torch, dtype, shape, params)
    for a, b in zip(ours, theirs):
        assert str(a.dtype) == str(b.dtype).replace("torch", "ember")
        if b.dtype == torch.float32:
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        else:
            _assert_as_torch(a, b)


def _run_multihead(m, dtype, need_weights, causal):
    low = getattr(m, dtype)
    layer = m.nn.MultiheadAttention(32, 4, batch_first=True)
    state = sorted(layer.state_dict().items())
    rng = np.random.default_rng(4)
    layer.load_state_dict({k: m.tensor(rng.standard_normal(tuple(v.shape)).astype(np.float32) * 0.2) for k, v in state})
    layer = layer.to(low)
    x = m.tensor(rng.standard_normal((2, 7, 32)).astype(np.float32)).to(low).requires_grad_()
    mask = m.nn.Transformer.generate_square_subsequent_mask(7).to(low) if causal else None
    out, _ = layer(x, x, x, need_weights=need_weights, attn_mask=mask, is_causal=causal)
    out.backward(m.tensor(rng.standard_normal((2, 7, 32)).astype(np.float32)).to(low))
    return [out, x.grad, layer.in_proj_weight.grad, layer.out_proj.weight.grad]


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("need_weights", [False, True])
@pytest.mark.parametrize("causal", [False, True])
def test_multihead_attention_as_torch(dtype, need_weights, causal):
    """nn.MultiheadAttention in 16 bits as PyTorch computes it: self-attention projects the input
    with the whole packed weight at once (one product for the input's gradient), a non-contiguous
    input's linear rounds the product before the bias, and the heads take scaled_dot_product_attention
    (without the weights) or 16-bit baddbmm, softmax and bmm (with them). Before, 70% of outputs and
    gradients differed."""
    ours = _run_multihead(ember, dtype, need_weights, causal)
    theirs = _run_multihead(torch, dtype, need_weights, causal)
    for a, b in zip(ours, theirs):
        _assert_as_torch(a, b)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("layout", ["transposed_3d", "contiguous_4d", "transposed_4d"])
def test_linear_bias_rounding_follows_the_layout(dtype, layout):
    """PyTorch's linear adds the bias inside addmm's float32 accumulator for a 2-D or contiguous
    input, but after the product's rounding for a non-contiguous one (matmul, then add_)."""
    rng = np.random.default_rng(6)
    base = rng.standard_normal((2, 3, 7, 32) if "4d" in layout else (2, 7, 32)).astype(np.float32)
    weight, bias = rng.standard_normal((24, 32)).astype(np.float32), rng.standard_normal(24).astype(np.float32)
    results = []
    for m in (ember, torch):
        low = getattr(m, dtype)
        x = m.tensor(base).to(low)
        x = x if layout == "contiguous_4d" else x.transpose(0, 1)
        results.append(m.nn.functional.linear(x, m.tensor(weight).to(low), m.tensor(bias).to(low)))
    _assert_as_torch(*results)
