"""Strides of the input gradients of channels-last convolutions and poolings, against PyTorch: its backward
kernels lay the input's gradient out channels-last where the input is (seen here through
``autograd.grad``, which no leaf's layout contract copies). Values are compared too."""

import pytest
import torch

import ember


def _channels_last(lib, shape, device=None):
    kw = {} if device is None else {"device": device}
    n = 1
    for s in shape:
        n *= s
    x = (lib.arange(float(n), dtype=lib.float64, **kw).reshape(shape) * 0.37).remainder(1.0) - 0.5
    fmt = lib.channels_last if len(shape) == 4 else lib.channels_last_3d
    return x.contiguous(memory_format=fmt)


_OPS = {
    "max_pool2d": lambda lib, x: lib.nn.functional.max_pool2d(x, 2),
    "max_pool2d_padded": lambda lib, x: lib.nn.functional.max_pool2d(x, 3, stride=2, padding=1),
    "avg_pool2d": lambda lib, x: lib.nn.functional.avg_pool2d(x, 2),
    "avg_pool2d_padded": lambda lib, x: lib.nn.functional.avg_pool2d(x, 3, stride=2, padding=1),
    "adaptive_max_pool2d": lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x, 2),
    "conv2d": lambda lib, x: lib.nn.functional.conv2d(x, lib.ones(4, x.shape[1], 2, 2, dtype=x.dtype, device=x.device)),
}


@pytest.mark.parametrize("op", sorted(_OPS))
@pytest.mark.parametrize("shape", [(2, 3, 4, 6), (2, 1, 4, 6), (1, 3, 4, 4)])
def test_channels_last_input_gradient(device, op, shape):
    results = []
    for lib, kw in ((torch, {}), (ember, {"device": device})):
        x = _channels_last(lib, shape, **kw).detach().requires_grad_()
        y = _OPS[op](lib, x)
        (g,) = lib.autograd.grad(y, x, lib.ones_like(y) * 0.5)
        results.append((y, g))
    for t, e in zip(*results):
        assert e.stride() == t.stride()
        torch.testing.assert_close(torch.tensor(e.tolist(), dtype=torch.float64), t, rtol=1e-12, atol=1e-14)


_OPS_3D = {  # PyTorch's 3-d average, adaptive-max and fractional kernels give row-major gradients
    "max_pool3d": lambda lib, x: lib.nn.functional.max_pool3d(x, 2),
    "avg_pool3d": lambda lib, x: lib.nn.functional.avg_pool3d(x, 2),
    "adaptive_max_pool3d": lambda lib, x: lib.nn.functional.adaptive_max_pool3d(x, 2),
    "fractional_max_pool3d": lambda lib, x: lib.nn.functional.fractional_max_pool3d(
        x, 2, output_size=2, _random_samples=lib.full((2, 3, 3), 0.5, dtype=x.dtype, device=x.device)
    ),
    "fractional_max_pool2d": lambda lib, x: lib.nn.functional.fractional_max_pool2d(
        x[:, :, 0], 2, output_size=2, _random_samples=lib.full((2, 3, 2), 0.5, dtype=x.dtype, device=x.device)
    ),
}


@pytest.mark.parametrize("op", sorted(_OPS_3D))
def test_channels_last_3d_input_gradient(device, op):
    results = []
    for lib, kw in ((torch, {}), (ember, {"device": device})):
        x = _channels_last(lib, (2, 3, 4, 4, 4), **kw).detach().requires_grad_()
        y = _OPS_3D[op](lib, x)
        (g,) = lib.autograd.grad(y, x, lib.ones_like(y) * 0.5)
        results.append((y, g))
    for t, e in zip(*results):
        assert e.stride() == t.stride()
        torch.testing.assert_close(torch.tensor(e.tolist(), dtype=torch.float64), t, rtol=1e-12, atol=1e-14)


def test_conv2d_channels_last_weight_gradient(device):
    results = []
    for lib, kw in ((torch, {}), (ember, {"device": device})):
        x = _channels_last(lib, (2, 3, 5, 5), **kw).detach().requires_grad_()
        w = _channels_last(lib, (4, 3, 3, 3), **kw).detach().requires_grad_()
        y = lib.nn.functional.conv2d(x, w)
        results.append((y, *lib.autograd.grad(y, (x, w), lib.ones_like(y) * 0.5)))
    for t, e in zip(*results):
        assert e.stride() == t.stride()
        torch.testing.assert_close(torch.tensor(e.tolist(), dtype=torch.float64), t, rtol=1e-12, atol=1e-12)
