"""The memory layout (strides) of op results against PyTorch: element-wise ops over operands of mixed
layouts (PyTorch's TensorIterator: the first operand that orders two dimensions decides), and the
spatial ops that keep a channels-last input channels-last, on every test device."""

from __future__ import annotations

import numpy as np
import pytest
from reference import torch

import ember

# operands as make(lib, dtype, **device): the same tensor in ember and torch
OPERANDS = {
    "row_major": lambda L, dt, **kw: L.arange(24, dtype=dt, **kw).reshape(2, 3, 4),
    "transposed": lambda L, dt, **kw: L.arange(24, dtype=dt, **kw).reshape(4, 3, 2).permute(2, 1, 0),
    "permuted": lambda L, dt, **kw: L.arange(24, dtype=dt, **kw).reshape(3, 4, 2).permute(2, 0, 1),
    "sliced": lambda L, dt, **kw: L.arange(48, dtype=dt, **kw).reshape(4, 3, 4)[::2].permute(0, 1, 2),
    "sliced_transposed": lambda L, dt, **kw: L.arange(48, dtype=dt, **kw).reshape(8, 3, 2)[::2].permute(2, 1, 0),
    "row": lambda L, dt, **kw: L.arange(4, dtype=dt, **kw) + 1,
    "column": lambda L, dt, **kw: L.arange(3, dtype=dt, **kw).reshape(3, 1) + 1,
    "broadcast_transposed": lambda L, dt, **kw: L.arange(12, dtype=dt, **kw).reshape(4, 3).t() + 1,
}

BINARY = {
    "add": lambda L, a, b: a + b,
    "sub": lambda L, a, b: L.sub(a, b, alpha=2),
    "mul": lambda L, a, b: a * b,
    "div": lambda L, a, b: a / (b + 1),
    "maximum": lambda L, a, b: L.maximum(a, b),
    "atan2": lambda L, a, b: L.atan2(a, b),
    "lt": lambda L, a, b: a < b,
    "eq": lambda L, a, b: a == b,
    "logical_and": lambda L, a, b: L.logical_and(a, b),
    "clamp_tensor": lambda L, a, b: a.clamp(min=b),
    "fmax": lambda L, a, b: L.fmax(a, b),
    "isclose": lambda L, a, b: L.isclose(a, b * 1.0000001),
    "copysign": lambda L, a, b: L.copysign(a, b - 2),
}


def _pair(name, dt, device):
    make = OPERANDS[name]
    return make(ember, getattr(ember, dt), device=device), make(torch, getattr(torch, dt))


def _same(y, ty):
    assert tuple(y.shape) == tuple(ty.shape)
    assert y.stride() == ty.stride(), (y.stride(), ty.stride())
    np.testing.assert_allclose(y.detach().cpu().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("op", BINARY)
@pytest.mark.parametrize("first", ["transposed", "permuted", "sliced_transposed", "row", "broadcast_transposed"])
@pytest.mark.parametrize("second", ["row_major", "transposed", "permuted", "sliced", "column"])
def test_binary_result_takes_the_first_operands_layout(device, dt, op, first, second):
    (a, ta), (b, tb) = _pair(first, dt, device), _pair(second, dt, device)
    _same(BINARY[op](ember, a, b), BINARY[op](torch, ta, tb))


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("layout", ["transposed", "permuted", "sliced", "sliced_transposed", "broadcast_transposed"])
def test_unary_and_scalar_results_keep_the_operands_order(device, dt, layout):
    x, t = _pair(layout, dt, device)
    for f in (lambda v: v.exp(), lambda v: -v, lambda v: v.abs(), lambda v: v * 2, lambda v: 1 - v, lambda v: v > 3):
        _same(f(x), f(t))
    _same(x.sign(), t.sign())  # (through the namespace's astype)
    _same(x.to(ember.int32), t.to(torch.int32))


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("layouts", [("transposed", "row_major", "permuted"), ("column", "transposed", "row_major")])
def test_three_operand_results_take_the_first_deciding_operands_layout(device, dt, layouts):
    (c, tc), (a, ta), (b, tb) = (_pair(name, dt, device) for name in layouts)
    _same(ember.where(c > 5, a, b), torch.where(tc > 5, ta, tb))
    _same(ember.lerp(a, b, 0.75), torch.lerp(ta, tb, 0.75))
    _same(ember.lerp(c.expand(2, 3, 4), b, 0.25), torch.lerp(tc.expand(2, 3, 4), tb, 0.25))
    _same(ember.addcmul(a, c, b, value=0.5), torch.addcmul(ta, tc, tb, value=0.5))


def _channels_last(L, dt, shape=(2, 3, 6, 5), **kw):
    fmt = L.channels_last if len(shape) == 4 else L.channels_last_3d
    n = int(np.prod(shape))
    return (L.arange(n, dtype=dt, **kw).reshape(shape) / n).contiguous(memory_format=fmt)


SPATIAL = {
    "conv2d": lambda L, x: L.nn.functional.conv2d(x, L.ones(4, 3, 3, 3, dtype=x.dtype, device=x.device), padding=1),
    "conv2d_bias": lambda L, x: L.nn.functional.conv2d(
        x, L.ones(4, 3, 2, 2, dtype=x.dtype, device=x.device), L.ones(4, dtype=x.dtype, device=x.device)
    ),
    "conv_transpose2d": lambda L, x: L.nn.functional.conv_transpose2d(
        x, L.ones(3, 2, 2, 2, dtype=x.dtype, device=x.device), stride=2
    ),
    "max_pool2d": lambda L, x: L.nn.functional.max_pool2d(x, 2),
    "max_pool2d_indices": lambda L, x: L.nn.functional.max_pool2d(x, 2, return_indices=True)[1],
    "avg_pool2d": lambda L, x: L.nn.functional.avg_pool2d(x, 2, stride=1),
    "adaptive_avg_pool2d": lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, (2, 3)),
    "adaptive_max_pool2d": lambda L, x: L.nn.functional.adaptive_max_pool2d(x, (2, 3)),
    "nearest": lambda L, x: L.nn.functional.interpolate(x, scale_factor=2),
    "bilinear": lambda L, x: L.nn.functional.interpolate(x, size=(4, 7), mode="bilinear"),
    "bicubic": lambda L, x: L.nn.functional.interpolate(x, scale_factor=1.5, mode="bicubic", align_corners=True),
    "pad_constant": lambda L, x: L.nn.functional.pad(x, (1, 2, 0, 1), value=0.5),
    "pad_reflect": lambda L, x: L.nn.functional.pad(x, (1, 1, 2, 1), mode="reflect"),
    "pad_replicate": lambda L, x: L.nn.functional.pad(x, (1, 1, 2, 1), mode="replicate"),
    "pad_circular": lambda L, x: L.nn.functional.pad(x, (1, 1, 2, 1), mode="circular"),
    "antialias": lambda L, x: L.nn.functional.interpolate(x, size=(3, 2), mode="bilinear", antialias=True),
    "unfold": lambda L, x: L.nn.functional.unfold(x, 2),  # row-major columns, as PyTorch's im2col
    "layer_norm": lambda L, x: L.nn.functional.layer_norm(x, (5,)),
    "instance_norm": lambda L, x: L.nn.functional.instance_norm(x),
    "batch_norm": lambda L, x: L.nn.functional.batch_norm(x, None, None, training=True),
}


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("op", SPATIAL)
def test_spatial_ops_of_a_channels_last_input(device, dt, op):
    x, t = _channels_last(ember, getattr(ember, dt), device=device), _channels_last(torch, getattr(torch, dt))
    _same(SPATIAL[op](ember, x), SPATIAL[op](torch, t))


@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_spatial_ops_of_a_row_major_input_stay_row_major(device, dt):
    x = _channels_last(ember, getattr(ember, dt), device=device).contiguous()
    t = _channels_last(torch, getattr(torch, dt)).contiguous()
    for op in ("conv2d", "max_pool2d", "bilinear", "pad_constant", "adaptive_avg_pool2d"):
        _same(SPATIAL[op](ember, x), SPATIAL[op](torch, t))


def test_a_channels_last_weight_makes_a_convolution_channels_last(device):
    x = _channels_last(ember, ember.float32, device=device).contiguous()
    t = _channels_last(torch, torch.float32).contiguous()
    w = ember.ones(4, 3, 3, 3, device=device).contiguous(memory_format=ember.channels_last)
    tw = torch.ones(4, 3, 3, 3).contiguous(memory_format=torch.channels_last)
    _same(ember.nn.functional.conv2d(x, w), torch.nn.functional.conv2d(t, tw))


@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_3d_spatial_ops_of_a_channels_last_3d_input(device, dt):
    shape = (2, 3, 4, 4, 5)
    x = _channels_last(ember, getattr(ember, dt), shape, device=device)
    t = _channels_last(torch, getattr(torch, dt), shape)
    F, TF = ember.nn.functional, torch.nn.functional
    _same(F.max_pool3d(x, 2), TF.max_pool3d(t, 2))
    _same(F.avg_pool3d(x, 2), TF.avg_pool3d(t, 2))  # row-major, as the adaptive average
    _same(F.adaptive_avg_pool3d(x, (2, 2, 3)), TF.adaptive_avg_pool3d(t, (2, 2, 3)))
    _same(F.adaptive_max_pool3d(x, (2, 2, 3)), TF.adaptive_max_pool3d(t, (2, 2, 3)))  # row-major
    _same(F.pad(x, (1, 1, 1, 1, 1, 1), mode="replicate"), TF.pad(t, (1, 1, 1, 1, 1, 1), mode="replicate"))
    _same(F.interpolate(x, scale_factor=2, mode="trilinear"), TF.interpolate(t, scale_factor=2, mode="trilinear"))
    if dt == "float32":  # (PyTorch's float64 3-d convolutions, without a oneDNN kernel, come out row-major)
        w, tw = ember.ones(3, 3, 2, 2, 2, device=device), torch.ones(3, 3, 2, 2, 2)
        _same(F.conv3d(x, w), TF.conv3d(t, tw))
        _same(F.conv_transpose3d(x, w), TF.conv_transpose3d(t, tw))


def test_gradient_of_a_channels_last_convolution_input(device):
    x = _channels_last(ember, ember.float64, device=device).requires_grad_()
    t = _channels_last(torch, torch.float64).requires_grad_()
    w, tw = ember.ones(4, 3, 3, 3, dtype=ember.float64, device=device), torch.ones(4, 3, 3, 3, dtype=torch.float64)
    ember.nn.functional.conv2d(x, w, padding=1).sum().backward()
    torch.nn.functional.conv2d(t, tw, padding=1).sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), t.grad.numpy())


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("antialias", [False, True])
def test_uint8_interpolation_of_a_channels_last_input(device, mode, antialias):
    x = (_channels_last(ember, ember.float32, device=device) * 255).to(ember.uint8)
    t = (_channels_last(torch, torch.float32) * 255).to(torch.uint8)
    F, TF = ember.nn.functional, torch.nn.functional
    _same(
        F.interpolate(x, size=(3, 7), mode=mode, antialias=antialias),
        TF.interpolate(t, size=(3, 7), mode=mode, antialias=antialias),
    )


@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_flips_rolls_and_joins_keep_the_inputs_layout(device, dt):
    x, t = _channels_last(ember, getattr(ember, dt), device=device), _channels_last(torch, getattr(torch, dt))
    _same(x.flip(2), t.flip(2))
    _same(x.roll(1, 2), t.roll(1, 2))
    _same(ember.cat([x, x], 3), torch.cat([t, t], 3))
    (y, ty) = _pair("permuted", dt, device)
    _same(y.flip(0, 2), ty.flip(0, 2))


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("layout", ["channels_last", "transposed"])
def test_shuffles_of_a_channels_last_input_stay_channels_last(device, dt, layout):
    def make(L, **kw):
        x = L.arange(384, dtype=getattr(L, dt), **kw).reshape(2, 8, 6, 4)
        return x.contiguous(memory_format=L.channels_last) if layout == "channels_last" else x.transpose(2, 3)

    x, t = make(ember, device=device), make(torch)
    F, TF = ember.nn.functional, torch.nn.functional
    _same(F.pixel_shuffle(x, 2), TF.pixel_shuffle(t, 2))
    _same(F.pixel_unshuffle(x, 2), TF.pixel_unshuffle(t, 2))
    _same(F.channel_shuffle(x, 4), TF.channel_shuffle(t, 4))


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("layout", ["transposed", "permuted", "sliced", "broadcast_transposed"])
def test_sorts_are_laid_out_as_the_input(device, dt, layout):
    x, t = _pair(layout, dt, device)
    x, t = (x * 7 % 5).requires_grad_(), (t * 7 % 5).requires_grad_()  # (a new layout: the elementwise result's)
    for dim in (0, -1):
        y, ty = x.sort(dim), t.sort(dim)
        _same(y.values, ty.values)
        _same(y.indices, ty.indices)
        _same(x.argsort(dim, descending=True), t.argsort(dim, descending=True))
    x.sort(1).values.pow(2).sum().backward()
    t.sort(1).values.pow(2).sum().backward()
    _same(x.grad, t.grad)


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("layout", ["transposed", "permuted"])
def test_results_pytorch_allocates_row_major(device, dt, layout):
    x, t = _pair(layout, dt, device)
    _same(2**x, 2**t)  # pow(Scalar, Tensor)
    _same(ember.nn.functional.logsigmoid(x), torch.nn.functional.logsigmoid(t))


@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_complex_of_parts_of_mixed_layouts(device, dt):
    if device.startswith(("opencl", "restricted")):
        pytest.skip(f"{device} has no complex dtypes")
    (a, ta), (b, tb) = _pair("transposed", dt, device), _pair("row_major", dt, device)
    _same(ember.complex(a, b), torch.complex(ta, tb))
    _same(ember.polar(a, b), torch.polar(ta, tb))
