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
