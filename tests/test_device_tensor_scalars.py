"""A one-element tensor on the op's device where PyTorch reads a number (``F.pad``'s ``value``, ``linspace``'s
ends with ``steps=1``): read with ``item()``, since ``np.asarray`` of a tensor off the CPU raises as
PyTorch's does for CUDA tensors; a tensor of several elements is PyTorch's TypeError."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def test_pad_value_tensor(device):
    got = ember.nn.functional.pad(
        ember.tensor([1.0, 2.0], device=device), (1, 2), value=ember.tensor(2.5, device=device)
    )
    want = torch.nn.functional.pad(torch.tensor([1.0, 2.0]), (1, 2), value=torch.tensor(2.5))
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


def test_pad_value_tensor_of_two_elements_is_a_type_error(device):
    with pytest.raises(TypeError, match=r"pad\(\): argument 'value' \(position 4\) must be float, not Tensor"):
        ember.nn.functional.pad(ember.ones(2, device=device), (1, 1), value=ember.ones(2, device=device))
    with pytest.raises(TypeError, match=r"pad\(\): argument 'value' \(position 4\) must be float, not Tensor"):
        torch.nn.functional.pad(torch.ones(2), (1, 1), value=torch.ones(2))


@pytest.mark.parametrize("steps", [1, 4])
def test_linspace_tensor_ends(device, steps):
    got = ember.linspace(ember.tensor(-2.0, device=device), ember.tensor(3.0, device=device), steps, device=device)
    want = torch.linspace(torch.tensor(-2.0), torch.tensor(3.0), steps)
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


def test_numpy_of_a_tensor_off_the_cpu_raises(device):
    t = ember.ones(2, device=device)
    if t.device.type == "cpu":
        assert np.asarray(t).tolist() == [1.0, 1.0]
    else:
        with pytest.raises(TypeError, match="can't convert .* device type tensor to numpy"):
            np.asarray(t)
