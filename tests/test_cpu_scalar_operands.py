"""A 0-d CPU tensor computes with a tensor on an accelerator, as PyTorch's CPU scalars do.

PyTorch moves a 0-dimensional CPU tensor to the other operand's device (``torch.tensor(2.) *
x.cuda()`` is a CUDA tensor; the scalar's gradient comes back on the CPU); any other mix of
devices raises. ``torch.distributions.Normal(0., 1.).log_prob(x)`` depends on it.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import torch

import ember


@pytest.fixture
def accelerator(device):
    if ember.device(device).type == "cpu":
        pytest.skip("needs a device other than the host's")
    return device


@pytest.mark.parametrize("scalar_dtype", ["float64", "float32", "int64"])
def test_cpu_scalar_with_accelerator_tensor_as_torch(accelerator, scalar_dtype):
    values = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    x = ember.tensor(values, device=accelerator, requires_grad=True)
    tx = torch.tensor(values, requires_grad=True)
    floating = scalar_dtype != "int64"
    s = ember.tensor(3, dtype=getattr(ember, scalar_dtype), requires_grad=floating)
    ts = torch.tensor(3, dtype=getattr(torch, scalar_dtype), requires_grad=floating)
    y, ty = (x * s + s - x / s).sum(), (tx * ts + ts - tx / ts).sum()
    assert y.device == x.device and str(y.dtype).split(".")[-1] == str(ty.dtype).split(".")[-1]
    y.backward()
    ty.backward()
    np.testing.assert_allclose(y.item(), ty.item(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.numpy(), rtol=1e-6)
    if floating:
        assert s.grad.device.type == "cpu"
        np.testing.assert_allclose(s.grad.numpy(), ts.grad.numpy(), rtol=1e-6)


def test_other_device_mixes_still_raise(accelerator):
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        ember.ones(2) + ember.ones(2, device=accelerator)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        ember.ones(2, device=accelerator) * ember.ones(1)


@pytest.mark.parametrize(
    "op",
    [
        lambda m, x, s, c: m.where(c, s, x),
        lambda m, x, s, c: m.where(c, x, s),
        lambda m, x, s, c: m.clamp(x, min=s),
        lambda m, x, s, c: m.clamp(x, -s, s),
        lambda m, x, s, c: x.masked_fill(c, s),
        lambda m, x, s, c: m.hypot(s, x),
        lambda m, x, s, c: m.logical_and(x, s),
    ],
    ids=["where-input", "where-other", "clamp-min", "clamp-both", "masked_fill", "hypot", "logical_and"],
)
def test_cpu_scalar_in_other_ops_as_torch(accelerator, op):
    values = np.array([0.5, -1.0, 2.0, -3.0], dtype=np.float32)
    x, tx = ember.tensor(values, device=accelerator), torch.tensor(values)
    s, ts = ember.tensor(1.5), torch.tensor(1.5)
    y, ty = op(ember, x, s, x > 0), op(torch, tx, ts, tx > 0)
    assert y.device == x.device
    np.testing.assert_allclose(y.cpu().numpy(), ty.numpy(), rtol=1e-6)


def test_setitem_with_cpu_scalar_as_torch(accelerator):
    values = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    x, tx = ember.tensor(values, device=accelerator), torch.tensor(values)
    x[x > 0] = ember.tensor(7.0)
    tx[tx > 0] = torch.tensor(7.0)
    np.testing.assert_allclose(x.cpu().numpy(), tx.numpy())


def test_where_with_a_cpu_tensor_of_more_dims_raises(accelerator):
    x = ember.ones(3, device=accelerator)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        ember.where(x > 0, ember.ones(3), x)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        x.clamp(min=ember.zeros(3))
