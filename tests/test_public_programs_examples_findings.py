"""Differences from PyTorch found by the pytorch/examples programs (tests/test_public_programs_examples.py),
each checked against torch on its own."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _batchnorm_pair():
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    ours = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4))
    ours.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def test_data_parallel_on_the_host_runs_the_module_on_the_whole_batch_as_torch():
    """``model = nn.DataParallel(model)`` on a machine without an accelerator (imagenet's and many
    programs' wrapping) is PyTorch's pass-through: ``device_ids == []``, the module called as it is.
    ember split the batch between its host devices ``cpu:0``/``cpu:1``, so a BatchNorm inside normalised
    each half by its own statistics: ember gave outputs [-0.715, -0.699, 1.414, ...] and a running mean
    starting -0.0572 where PyTorch gives [-0.979, -0.960, 1.467, ...] and -0.0510."""
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    ours, theirs = _batchnorm_pair()
    dp_ours, dp_theirs = ember.nn.DataParallel(ours), torch.nn.DataParallel(theirs)
    assert dp_ours.device_ids == dp_theirs.device_ids == []
    assert dp_ours.module is ours
    out_ours, out_theirs = dp_ours(ember.tensor(x)), dp_theirs(torch.tensor(x))
    np.testing.assert_allclose(out_ours.detach().numpy(), out_theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(getattr(ours[1], name).numpy(), getattr(theirs[1], name).numpy(), rtol=1e-5)
    out_ours.sum().backward()
    out_theirs.sum().backward()
    np.testing.assert_allclose(ours[0].weight.grad.numpy(), theirs[0].weight.grad.numpy(), atol=1e-5)
    assert list(dp_ours.state_dict()) == list(dp_theirs.state_dict())
    # keyword arguments reach the module as they are
    assert dp_ours(input=ember.tensor(x)).shape == dp_theirs(input=torch.tensor(x)).shape


def test_data_parallel_function_on_the_host_raises_as_torch():
    """``nn.parallel.data_parallel`` without an accelerator and without ``device_ids``: PyTorch raises."""
    ours, theirs = _batchnorm_pair()
    with pytest.raises(RuntimeError, match="device type could not be determined"):
        torch.nn.parallel.data_parallel(theirs, torch.ones(4, 3))
    with pytest.raises(RuntimeError, match="device type could not be determined"):
        ember.nn.parallel.data_parallel(ours, ember.ones(4, 3))


@pytest.mark.parametrize("layout", ["to_sparse", "to_sparse_csr"])
def test_is_tensor_of_a_sparse_tensor_as_torch(layout):
    """gcn's inputs are sparse COO tensors (``features.to_sparse()``, the adjacency): ``is_tensor`` of one is
    True in PyTorch; ember gave False (its sparse tensors are not ``Tensor`` instances)."""
    for lib in (torch, ember):
        assert lib.is_tensor(getattr(lib.eye(3), layout)()) is True
        assert lib.is_tensor(lib.eye(3)) is True
        assert lib.is_tensor([1.0]) is False
