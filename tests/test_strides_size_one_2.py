"""Strides of element-wise results whose shape has a size-1 dimension, against PyTorch's TensorIterator:
a number operand (``x * 2``, ``x > 1``, ``where(c, x, 0.)``, ``copysign(x, -1.)``) takes the ordered
path, where a size-1 dimension's stride counts; operands of one shape that are all row-major give a
row-major result whatever their size-1 strides; a unary op (and ``pow(x, number)``) keeps a dense
input's strides; a leaf's gradient copied for the layout contract takes the leaf's strides exactly;
``masked_fill`` and its gradient are row-major. Values are compared too."""

import pytest
import torch

import ember


def _strided(lib, shape, strides, device=None, dtype=None):
    """A float64 (or ``dtype``) tensor of ``shape`` seen with ``strides`` over a fresh storage holding
    0.5, 0.6, 0.7, ... (0, 1, 2, ...)."""
    extent = 1 + sum((n - 1) * s for n, s in zip(shape, strides)) if all(shape) else 0
    kw = {} if device is None else {"device": device}
    if dtype is not None:  # an integer tensor: 0, 1, 2, ...
        return lib.as_strided(lib.arange(extent, dtype=dtype, **kw), shape, strides)
    return lib.as_strided(lib.arange(float(extent), dtype=lib.float64, **kw) * 0.1 + 0.5, shape, strides)


#: (shape, strides): dense layouts whose size-1 dimensions step otherwise than row-major, and row-major ones
_LAYOUTS = [
    ((32, 1, 3, 3), (9, 1, 3, 1)),  # a channels-last conv weight with one input channel
    ((1, 3, 1, 1), (3, 1, 3, 3)),  # channels-last (N, C, 1, 1)
    ((4, 1, 1, 2, 2), (4, 1, 4, 2, 1)),  # channels-last-3d, one channel
    ((3, 1), (1, 3)),  # a transposed (1, 3)
    ((3, 1), (1, 2)),  # a size-1 dimension with a stride of a step
    ((2, 1), (1, 100)),
    ((1, 2, 1, 2, 1), (1, 2, 2, 1, 4)),  # a permuted tensor
    ((4, 1, 5), (5, 20, 1)),
    ((1, 64), (1, 1)),  # a column of a (64, 1) tensor, transposed
    ((1, 64), (64, 1)),  # row-major
    ((2, 1, 3), (3, 3, 1)),  # row-major
]

_ELEMENTWISE = {
    "mul_number": lambda lib, x: x * 2,
    "add_number": lambda lib, x: x + 1.5,
    "rsub_number": lambda lib, x: 1 - x,
    "div_number": lambda lib, x: x / 4,
    "sub_0d": lambda lib, x: x - lib.ones((), dtype=x.dtype, device=x.device),
    "add_self": lambda lib, x: x + x,
    "mul_row_major": lambda lib, x: x * lib.ones(x.shape, dtype=x.dtype, device=x.device),
    "row_major_mul": lambda lib, x: lib.ones(x.shape, dtype=x.dtype, device=x.device) * x,
    "add_alpha": lambda lib, x: lib.add(x, x, alpha=2),
    "add_alpha_0d": lambda lib, x: lib.add(x, lib.ones((), dtype=x.dtype, device=x.device), alpha=2),
    "exp": lambda lib, x: x.exp(),
    "sin": lambda lib, x: lib.sin(x),
    "neg": lambda lib, x: -x,
    "pow_number": lambda lib, x: x**2,  # PyTorch's pow(Tensor, Scalar) is a unary op
    "pow_half": lambda lib, x: lib.pow(x, 0.5),
    "pow_0d": lambda lib, x: x ** lib.tensor(2.0, dtype=x.dtype, device=x.device),
    "gt_number": lambda lib, x: x > 1,
    "eq_self": lambda lib, x: x == x,
    "lt_row_major": lambda lib, x: x < lib.ones(x.shape, dtype=x.dtype, device=x.device),
    "where_number": lambda lib, x: lib.where(x > 1, x, 0.0),
    "where_self": lambda lib, x: lib.where(x > 1, x, x),
    "copysign_number": lambda lib, x: lib.copysign(x, -1.0),
    "masked_fill": lambda lib, x: x.masked_fill(x > 1, 0.0),
    "clamp": lambda lib, x: x.clamp(0.6, 2.0),
    "lerp_number": lambda lib, x: lib.lerp(x, x * 0 + 1, 0.25),
}


@pytest.mark.parametrize("shape,strides", _LAYOUTS)
@pytest.mark.parametrize("op", sorted(_ELEMENTWISE))
def test_elementwise_result_strides(device, shape, strides, op):
    t = _ELEMENTWISE[op](torch, _strided(torch, shape, strides))
    x = _strided(ember, shape, strides, device)
    assert x.stride() == strides
    e = _ELEMENTWISE[op](ember, x)
    assert e.stride() == t.stride()
    assert e.is_contiguous() == t.is_contiguous()
    # (exp, sin and pow of the restricted and OpenCL backends may differ from PyTorch's in the last bit)
    torch.testing.assert_close(torch.tensor(e.tolist(), dtype=t.dtype), t, rtol=1e-12, atol=0)


_INTEGER = {
    "and_number": lambda lib, x: x & 3,
    "xor_number": lambda lib, x: x ^ 1,
    "or_self": lambda lib, x: x | x,
    "and_row_major": lambda lib, x: x & lib.ones(x.shape, dtype=x.dtype, device=x.device),
    "logical_and_number": lambda lib, x: lib.logical_and(x, lib.ones((), dtype=x.dtype, device=x.device)),
}


@pytest.mark.parametrize("shape,strides", _LAYOUTS)
@pytest.mark.parametrize("op", sorted(_INTEGER))
def test_bitwise_result_strides(device, shape, strides, op):
    t = _INTEGER[op](torch, _strided(torch, shape, strides, dtype=torch.int64))
    e = _INTEGER[op](ember, _strided(ember, shape, strides, device, dtype=ember.int64))
    assert e.stride() == t.stride()
    assert e.tolist() == t.tolist()


_GRADS = {
    "exp": lambda lib, x: (x * 0.01).exp(),
    "sub_0d": lambda lib, x: x - lib.ones((), dtype=x.dtype, device=x.device),
    "mul_number": lambda lib, x: x * 2,
    "pow_number": lambda lib, x: x**2,
    "sigmoid": lambda lib, x: lib.sigmoid(x),
    "tanh": lambda lib, x: lib.tanh(x),
    "sum": lambda lib, x: x,
    "masked_fill": lambda lib, x: x.masked_fill(x > 1, 0.0),
    "copysign_number": lambda lib, x: lib.copysign(x, -1.0),
    "gelu": lambda lib, x: lib.nn.functional.gelu(x),  # gelu_backward(grad, x): one element-wise op
    "clamp": lambda lib, x: x.clamp(0.6, 2.0),  # where((x >= min).logical_and_(x <= max), grad, 0)
}


@pytest.mark.parametrize("shape,strides", _LAYOUTS)
@pytest.mark.parametrize("op", sorted(_GRADS))
def test_leaf_grad_strides(device, shape, strides, op):
    # a gradient that obeys the leaf's layout is taken as it is, else copied into the leaf's strides
    grads = []
    for lib, kw in ((torch, {}), (ember, {"device": device})):
        x = _strided(lib, shape, strides, **kw).detach().requires_grad_()
        _GRADS[op](lib, x).sum().backward()
        grads.append(x.grad)
    assert grads[1].stride() == grads[0].stride()
    # (tanh's saturated gradient of 1e-16 may differ from PyTorch's in its last bits)
    torch.testing.assert_close(torch.tensor(grads[1].tolist(), dtype=torch.float64), grads[0], rtol=1e-12, atol=1e-15)


def test_channels_last_conv_weight_plus_one(device):
    w = _strided(ember, (32, 1, 3, 3), (9, 1, 3, 1), device).to(ember.float32)
    tw = _strided(torch, (32, 1, 3, 3), (9, 1, 3, 1)).to(torch.float32)
    assert w.stride() == tw.stride() == (9, 1, 3, 1)
    for f in (lambda x: x + 1, lambda x: x * 0.5, lambda x: x.exp(), lambda x: x + x):
        assert f(w).stride() == f(tw).stride()
        # (float32 exp may differ from PyTorch's in the last bit)
        torch.testing.assert_close(torch.tensor(f(w).tolist()), f(tw).contiguous(), rtol=3e-7, atol=0)


@pytest.mark.parametrize("shape", [(1, 64), (64, 1), (1, 1), (2, 1, 3), (64, 64), (3,), ()])
def test_row_major_operands_give_row_major_results(device, shape):
    # the common case: fresh tensors; every result row-major, a size-1 dimension's stride too
    t = torch.rand(shape, dtype=torch.float64)
    x = ember.tensor(t.tolist(), dtype=ember.float64, device=device)
    for f in (lambda x: x + x, lambda x: x * 2, lambda x: x.exp(), lambda x: -x, lambda x: x > 0.5, lambda x: x**2):
        assert f(x).stride() == f(t).stride()


@pytest.mark.parametrize("in_channels,out_channels", [(1, 4), (3, 1), (1, 1)])
def test_conv2d_channels_last_with_one_channel(device, in_channels, out_channels):
    # a channels-last (N, 1, H, W) tensor is contiguous too; PyTorch lays out the results channels-last
    results = []
    for lib, kw in ((torch, {}), (ember, {"device": device})):
        conv = lib.nn.Conv2d(in_channels, out_channels, 3).to(dtype=lib.float64, **kw)
        with lib.no_grad():
            for i, p in enumerate(conv.parameters()):
                p.copy_(lib.linspace(-1.0, 1.0, p.numel(), dtype=lib.float64).reshape(p.shape) * (i + 1))
        conv = conv.to(memory_format=lib.channels_last)
        x = lib.linspace(0.0, 1.0, 2 * in_channels * 25, dtype=lib.float64).reshape(2, in_channels, 5, 5)
        x = x.to(**kw).to(memory_format=lib.channels_last).requires_grad_()
        y = conv(x)
        y.sum().backward()
        pooled = lib.nn.functional.max_pool2d(x.detach(), 2)
        results.append((y, x.grad, conv.weight.grad, pooled))
    for t, e in zip(*results):
        assert e.stride() == t.stride()
        torch.testing.assert_close(torch.tensor(e.tolist(), dtype=torch.float64), t, rtol=1e-12, atol=1e-12)
