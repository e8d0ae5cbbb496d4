"""``Tensor.to`` and ``Module.to`` read their arguments as PyTorch does, ``non_blocking`` included.

PyTorch's overloads are ``to(device, dtype, non_blocking, copy)``, ``to(dtype, non_blocking, copy)``
and ``to(tensor, non_blocking, copy)``; ``Module.to`` takes the same but refuses ``copy`` and passes
``non_blocking`` on to each parameter's and buffer's ``Tensor.to``.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import nn
from ember.ops.conversion import _parse_to

torch = pytest.importorskip("torch")

TENSOR_CALLS = [
    "x.to(L.float32, False, True)",
    "x.to(L.float32, True)",
    "x.to(L.float32, True, False)",
    "x.to('cpu', L.float32, False, True)",
    "x.to('cpu', L.float64, True)",
    "x.to(x, False, True)",
    "x.to(x, True, False)",
    "x.to(L.float32, non_blocking=True, copy=True)",
    "x.to(L.float32, True, copy=True)",
    "x.to(non_blocking=True)",
    "x.to('cpu', non_blocking=True)",
    "x.to(device='cpu', dtype=L.float64, non_blocking=True, copy=False)",
    "x.to(L.float32, True, non_blocking=True)",
    "x.to(L.float32, False, True, copy=True)",
    "x.to(L.float32, True, True, True)",
]


def _outcome(call, lib):
    """``(result is x, dtype name)`` of ``call`` with ``L`` = ``lib``, or the exception type."""
    x = lib.ones(2)
    try:
        got = eval(call, {"x": x, "L": lib})
    except (TypeError, RuntimeError) as exc:
        return type(exc)
    return got is x, str(got.dtype).split(".")[1]


@pytest.mark.parametrize("call", TENSOR_CALLS)
def test_tensor_to_arguments_match_torch(call):
    assert _outcome(call, ember) == _outcome(call, torch)


MODULE_CALLS = [
    "m.to('cpu', L.float64, True)",
    "m.to(L.float64, True)",
    "m.to(L.float64, non_blocking=True)",
    "m.to(L.ones(1, dtype=L.float64), True)",
    "m.to(non_blocking=True)",
    "m.to()",
    "m.to(copy=True)",
    "m.to(copy=False)",
    "m.to(L.float64, False, True)",
    "m.to(L.int64)",
]


def _module_outcome(call, lib):
    m = lib.nn.Linear(2, 2)
    try:
        got = eval(call, {"m": m, "L": lib})
    except (TypeError, RuntimeError) as exc:
        return type(exc), str(exc).split(",")[0]
    return got is m, str(got.weight.dtype).split(".")[1], str(got.bias.dtype).split(".")[1]


@pytest.mark.parametrize("call", MODULE_CALLS)
def test_module_to_arguments_match_torch(call):
    assert _module_outcome(call, ember) == _module_outcome(call, torch)


def test_module_to_passes_non_blocking_to_each_tensor(monkeypatch):
    seen = []
    to = ember.Tensor.to

    def spy(self, *args, **kwargs):
        seen.append(_parse_to(args, dict(kwargs))[2])  # the non_blocking it was called with
        return to(self, *args, **kwargs)

    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    monkeypatch.setattr(ember.Tensor, "to", spy)
    model.to("cpu", non_blocking=True)
    assert seen and all(seen)  # every parameter and buffer, floating or not
    seen.clear()
    model.to(ember.float64, True)
    assert seen and all(seen)
    seen.clear()
    model.to(ember.float64)
    assert seen and not any(seen)


def test_non_blocking_moves_to_device(device):
    model = nn.Linear(3, 2).to(device, non_blocking=True)
    assert model.weight.device == ember.device(device)
    x = ember.arange(6.0).reshape(2, 3)
    y = x.to(device, non_blocking=True)
    assert y.device == ember.device(device)
    back = model(y).to("cpu", non_blocking=True)
    expected = model.to("cpu")(x)
    assert back.device == ember.device("cpu")
    np.testing.assert_allclose(back.detach().numpy(), expected.detach().numpy(), rtol=1e-6)
