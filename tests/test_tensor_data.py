"""``Tensor.data`` as in PyTorch: a storage-sharing alias with its own version counter, so
in-place writes through it between forward and backward are invisible to autograd, and
``x.data = y`` swaps the payload under the same tensor (shape and dtype may change)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember


def _both(device, values, requires_grad=True):
    return (
        ember.tensor(values, device=device, requires_grad=requires_grad),
        torch.tensor(values, requires_grad=requires_grad),
    )


@pytest.mark.parametrize("write", ["mul_", "add_", "copy_", "zero_"])
def test_inplace_write_through_data_between_forward_and_backward(device, write):
    results = []
    for lib, x in zip((ember, torch), _both(device, [1.0, 2.0, 3.0])):
        y = (x * x).sum()
        d = x.data
        if write == "copy_":
            d.copy_(lib.full((3,), 5.0, **({"device": device} if lib is ember else {})))
        elif write == "zero_":
            d.zero_()
        else:
            getattr(d, write)(2.0)
        assert x._version == 0 and d._version == 1
        y.backward()  # PyTorch does not complain: the write bumped only the alias's counter
        results.append((x.grad.tolist(), x.tolist()))
    assert results[0] == results[1]


def test_manual_sgd_update_through_data(device):
    results = []
    for lib, w in zip((ember, torch), _both(device, [[0.5, -1.0], [2.0, 0.25]])):
        kwargs = {"device": device} if lib is ember else {}
        inputs = lib.tensor([[1.0, 2.0], [3.0, 4.0]], **kwargs)
        for _ in range(3):
            loss = (inputs @ w).pow(2).sum()
            w.data -= 0.01 * w.data  # a write between forward and backward
            loss.backward()
            w.data.add_(w.grad, alpha=-0.001)
            w.grad = None
        results.append(np.array(w.tolist()))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


def test_data_is_a_fresh_alias_each_time(device):
    x = ember.tensor([1.0, 2.0], device=device, requires_grad=True)
    a, b = x.data, x.data
    assert a is not b and not a.requires_grad and a.grad_fn is None
    a.fill_(7.0)
    assert x.tolist() == [7.0, 7.0] and b._version == 0 and x._version == 0


def test_view_data_is_not_a_view(device):
    x = ember.ones(4, device=device)
    d = x[:2].data
    assert d._base is None and torch.ones(4)[:2].data._base is None


@pytest.mark.parametrize(
    "new",
    [lambda lib: lib.zeros(2, 2), lambda lib: lib.zeros(3, dtype=lib.float64), lambda lib: lib.full((5,), 2.0)],
)
def test_assignment_swaps_the_payload(device, new):
    seen = []
    for lib, x in zip((ember, torch), _both(device, [1.0, 1.0, 1.0])):
        value = new(lib)
        if lib is ember:
            if value.dtype == ember.float64 and not ember.backends.get_backend(device).supports_float64:
                pytest.skip(f"{device} has no float64")
            value = value.to(device)
        ident = id(x)
        x.data = value
        assert id(x) == ident and x.requires_grad and x._version == 0
        x.data.add_(1.0)
        seen.append((tuple(x.shape), str(x.dtype).split(".")[-1], x.tolist()))
    assert seen[0] == seen[1]


def test_assignment_after_forward_keeps_saved_outputs(device):
    grads = []
    for lib, x in zip((ember, torch), _both(device, [0.5, 1.0])):
        z = x.exp()
        x.data = lib.full((2,), 2.0, **({"device": device} if lib is ember else {}))
        z.sum().backward()
        grads.append(x.grad.tolist())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


def test_assignment_errors_match_torch(device):
    for lib, x in zip((ember, torch), _both(device, [1.0, 2.0])):
        with pytest.raises(TypeError, match="has to be a tensor"):
            x.data = [1.0, 2.0]
        with pytest.raises(RuntimeError, match="floating point"):
            x.data = lib.zeros(2, dtype=lib.int64, **({"device": device} if lib is ember else {}))
    plain = ember.ones(2, device=device)
    plain.data = ember.zeros(2, dtype=ember.int64, device=device)  # allowed without requires_grad, as in torch
    assert plain.dtype == ember.int64 and torch.ones(2).data.dtype == torch.float32


def test_assignment_across_devices_moves(device):
    other = "restricted" if not device.startswith("restricted") else "cpu"
    try:
        ember.backends.get_backend(other)
    except RuntimeError as exc:
        pytest.skip(f"{other} unavailable: {exc}")
    x = ember.ones(2, device=device, requires_grad=True)
    x.data = ember.zeros(2, device=other)  # dense tensors are shallow-copy compatible in torch too
    assert x.device == ember.device(other) and x.requires_grad and x.tolist() == [0.0, 0.0]
