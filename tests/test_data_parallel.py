"""nn.DataParallel: the same outputs and gradients as the plain module, on two devices.

The NumPy backend gets two devices (``cpu:0``, ``cpu:1``) for these tests, as with
``EMBER_CPU_DEVICES=2``; on ``restricted`` the devices are ``restricted`` and ``cpu:1``
(a heterogeneous pair).
"""

from __future__ import annotations

import collections
import copy

import numpy as np
import pytest
import torch

import ember
from ember import nn
from ember.nn.parallel import data_parallel, gather, replicate, scatter
from ember.tensor import backend_for_device


@pytest.fixture(autouse=True)
def two_cpu_devices(monkeypatch):
    monkeypatch.setattr(backend_for_device(ember.device("cpu")), "_count", 2)


def device_pair(device):
    return [ember.device(device), ember.device("cpu", 1)]


def tol(dtype):
    return 1e-12 if dtype is ember.float64 else 1e-5


def np_(t):
    return np.asarray(t.detach().cpu())


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(5, 7)
        self.fc2 = nn.Linear(7, 3)

    def forward(self, x, scale=1.0, shift=None):
        y = self.fc2(self.fc1(x).tanh()) * scale
        return y if shift is None else y + shift


def make(device, dtype):
    ember.manual_seed(0)
    return Net().to(device=device, dtype=dtype)


@pytest.mark.parametrize("batch", [6, 5, 1])
def test_outputs_and_gradients_match_plain_module(device, dtype, batch):
    plain = make(device, dtype)
    model = copy.deepcopy(plain)
    x = ember.randn(batch, 5, dtype=dtype, device=device, requires_grad=True)
    shift = ember.randn(batch, 3, dtype=dtype, device=device)
    dp = nn.DataParallel(model, device_ids=device_pair(device))
    out = dp(x, 0.5, shift=shift)  # a non-tensor argument is passed to every replica, tensors are split
    expected = plain(x, 0.5, shift=shift)
    assert out.device == ember.device(device) and out.shape == expected.shape
    np.testing.assert_allclose(np_(out), np_(expected), atol=tol(dtype))
    x_grad = ember.autograd.grad(out.pow(2).sum(), [x], retain_graph=True)[0]
    expected_x_grad = ember.autograd.grad(expected.pow(2).sum(), [x], retain_graph=True)[0]
    np.testing.assert_allclose(np_(x_grad), np_(expected_x_grad), atol=tol(dtype))
    out.pow(2).sum().backward()
    expected.pow(2).sum().backward()
    for (name, p), q in zip(model.named_parameters(), plain.parameters()):
        assert p.device == ember.device(device), name
        np.testing.assert_allclose(np_(p.grad), np_(q.grad), atol=tol(dtype), err_msg=name)


def test_matches_torch(device):
    ember.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2)).double()
    em = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2)).double().to(device)
    with ember.no_grad():
        for p, q in zip(em.parameters(), tm.parameters()):
            p.copy_(ember.tensor(q.detach().numpy(), device=device))
    x = np.random.default_rng(0).standard_normal((7, 4))
    out = nn.DataParallel(em, device_ids=device_pair(device))(ember.tensor(x, device=device))
    expected = torch.nn.DataParallel(tm)(torch.tensor(x))
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(np_(out), expected.detach().numpy(), atol=1e-12)
    for p, q in zip(em.parameters(), tm.parameters()):
        np.testing.assert_allclose(np_(p.grad), q.grad.numpy(), atol=1e-12)


def test_dim_and_output_device(device):
    model = nn.Linear(3, 2).double().to(device)
    x = ember.randn(4, 6, 3, dtype=ember.float64, device=device)
    dp = nn.DataParallel(model, device_ids=device_pair(device), output_device=ember.device("cpu", 1), dim=1)
    out = dp(x)
    assert out.device == ember.device("cpu", 1) and out.shape == (4, 6, 2)
    np.testing.assert_allclose(np_(out), np_(model(x)), atol=1e-12)


def test_structured_outputs_and_scalars(device):
    Pair = collections.namedtuple("Pair", "a b")

    class Multi(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

        def forward(self, x, extra):
            y = self.fc(x)
            return {"y": y, "pair": Pair(y.sum(1), None), "list": [x * extra["k"]]}, y.sum()

    model = Multi().double().to(device)
    x = ember.randn(4, 2, dtype=ember.float64, device=device)
    with pytest.warns(UserWarning, match="all input tensors were scalars"):
        out, total = nn.DataParallel(model, device_ids=device_pair(device))(
            x, {"k": ember.full((4, 1), 2.0).double().to(device)}
        )
    np.testing.assert_allclose(np_(out["y"]), np_(model.fc(x)), atol=1e-12)
    assert isinstance(out["pair"], Pair) and out["pair"].b is None and out["pair"].a.shape == (4,)
    np.testing.assert_allclose(np_(out["list"][0]), np_(x) * 2)
    assert total.shape == (2,)  # one scalar per replica, stacked
    np.testing.assert_allclose(np_(total).sum(), np_(model.fc(x)).sum(), atol=1e-12)


def test_batchnorm_buffers_come_from_replica_zero(device):
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).double().to(device)
    torch_bn = torch.nn.BatchNorm1d(4).double()
    x = ember.randn(6, 3, dtype=ember.float64, device=device)
    nn.DataParallel(model, device_ids=device_pair(device))(x)
    with torch.no_grad():
        torch_bn(torch.tensor(np_(model[0](x[:3]))))  # replica 0 saw the first chunk
    np.testing.assert_allclose(np_(model[1].running_mean), torch_bn.running_mean.numpy(), atol=1e-12)
    np.testing.assert_allclose(np_(model[1].running_var), torch_bn.running_var.numpy(), atol=1e-12)
    assert int(model[1].num_batches_tracked.item()) == 1
    model.eval()  # eval: running statistics on every replica, the same as the plain module
    out = nn.DataParallel(model, device_ids=device_pair(device))(x)
    np.testing.assert_allclose(np_(out), np_(model(x)), atol=1e-12)


def test_state_dict_and_module_attribute(device):
    model = make(device, ember.float64)
    dp = nn.DataParallel(model, device_ids=device_pair(device))
    assert dp.module is model
    assert list(dp.state_dict()) == ["module.fc1.weight", "module.fc1.bias", "module.fc2.weight", "module.fc2.bias"]
    other = nn.DataParallel(make(device, ember.float64), device_ids=device_pair(device))
    other.load_state_dict(dp.state_dict())
    assert "DataParallel(\n  (module): Net(" in repr(dp)


def test_no_grad_forward(device):
    dp = nn.DataParallel(make(device, ember.float32), device_ids=device_pair(device))
    with ember.no_grad():
        out = dp(ember.randn(4, 5, device=device))
    assert not out.requires_grad


def test_single_device_and_functional(device):
    model = make(device, ember.float64)
    x = ember.randn(4, 5, dtype=ember.float64, device=device)
    np.testing.assert_allclose(np_(nn.DataParallel(model, device_ids=[device])(x)), np_(model(x)), atol=1e-12)
    out = data_parallel(model, x, device_ids=device_pair(device), module_kwargs={"scale": 2.0})
    np.testing.assert_allclose(np_(out), np_(model(x, 2.0)), atol=1e-12)


def test_default_device_ids_are_every_device_of_the_type():
    dp = nn.DataParallel(make("restricted", ember.float32))
    count = backend_for_device(ember.device("restricted")).device_count()
    assert count > 1 and dp.device_ids == [ember.device("restricted")] + [
        ember.device("restricted", i) for i in range(1, count)
    ]
    assert dp.output_device == ember.device("restricted")
    # on the host, as PyTorch without an accelerator: no devices, the module runs as it is
    # (tests/test_public_programs_examples_findings.py compares it with torch)
    assert nn.DataParallel(make("cpu", ember.float32)).device_ids == []
    dp = nn.DataParallel(make("cpu", ember.float32), device_ids=[0, 1])
    assert dp.device_ids == [ember.device("cpu"), ember.device("cpu", 1)]
    assert dp.output_device == ember.device("cpu")


def test_replicate_scatter_gather_helpers(device):
    model = make(device, ember.float64)
    replicas = replicate(model, device_pair(device))
    assert replicas[1].fc1.weight.device == ember.device("cpu", 1)
    assert replicas[0].fc1.weight is model.fc1.weight
    assert list(replicas[1].parameters()) == []  # replicas hold moved copies, not parameters
    x = ember.arange(10.0).reshape(5, 2)
    parts = scatter((x, "tag"), ["cpu:0", "cpu:1"])
    assert [p[0].shape for p in parts] == [(3, 2), (2, 2)] and parts[1][1] == "tag"
    assert parts[1][0].device == ember.device("cpu", 1)
    back = gather([p[0] for p in parts], "cpu")
    np.testing.assert_array_equal(np_(back), np_(x))


def test_mixed_devices_still_raise():
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        ember.ones(2, device="cpu:1") + ember.ones(2)


def test_errors(device):
    model = make(device, ember.float32)
    with pytest.raises(
        RuntimeError, match=r"module must have its parameters and buffers on device cpu:1 \(device_ids\[0\]\)"
    ):
        nn.DataParallel(model, device_ids=["cpu:1", device])
    with pytest.raises(RuntimeError, match="does not exist"):
        nn.DataParallel(make("cpu", ember.float32), device_ids=[0, 5])
    with pytest.raises(TypeError, match="module must be an nn.Module"):
        nn.DataParallel(lambda x: x)
    with pytest.raises(TypeError, match="a device id must be"):
        nn.DataParallel(model, device_ids=[1.5])
    dp = nn.DataParallel(model, device_ids=device_pair(device))
    with pytest.raises(RuntimeError, match="Linear: expected input with 5 features"):
        dp(ember.randn(4, 6, device=device))  # an error in a replica's thread reaches the caller with its type
    model.to("cpu:1")
    with pytest.raises(RuntimeError, match="module must have its parameters and buffers on device"):
        dp(ember.randn(4, 5, device=device))
