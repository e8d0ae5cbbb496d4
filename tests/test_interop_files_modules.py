"""Whole modules that ``torch.save(model)`` pickled, read by ``ember.load(..., weights_only=False)``: PyTorch's
own classes become ember's (same outputs); a class built on PyTorch's (a program's ``torch.nn.Module``
subclass, a library's) is refused naming it, never rebuilt as a half-PyTorch object holding ember tensors."""

import io
import pickle

import numpy as np
import pytest

import ember
from ember.plugins import checkpoint_torch

torch = pytest.importorskip("torch")


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 2)

    def forward(self, x):
        return self.fc(x)


def _saved(obj, zipfile_format=True):
    buffer = io.BytesIO()
    torch.save(obj, buffer, _use_new_zipfile_serialization=zipfile_format)
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize("zipfile_format", [True, False])
def test_pytorch_classes_become_embers(zipfile_format):
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3),
        torch.nn.BatchNorm2d(2),
        torch.nn.GELU("tanh"),
        torch.nn.Flatten(),
        torch.nn.Linear(8, 3),
    ).eval()
    ours = ember.load(_saved(model, zipfile_format), weights_only=False)
    assert isinstance(ours, ember.nn.Sequential) and isinstance(ours[2], ember.nn.GELU) and not ours.training
    assert list(ours.state_dict()) == list(model.state_dict())
    assert all(isinstance(p, ember.nn.Parameter) for p in ours.parameters())
    x = torch.randn(2, 1, 4, 4)
    np.testing.assert_allclose(
        ours(ember.tensor(x.numpy())).detach().numpy(), model(x).detach().numpy(), rtol=1e-6, atol=1e-6
    )


@pytest.mark.parametrize("zipfile_format", [True, False])
def test_a_class_built_on_pytorchs_is_refused_naming_it(zipfile_format):
    buffer = _saved(TorchNet(), zipfile_format)
    with pytest.raises(
        pickle.UnpicklingError, match=r"TorchNet, a class built on PyTorch's torch\.nn\.modules\.module\.Module"
    ):
        ember.load(buffer, weights_only=False)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed.*TorchNet"):
        ember.load(buffer)
    # its state_dict is the way: it loads into the ember model of the same structure
    state = ember.load(_saved(TorchNet().state_dict(), zipfile_format))
    model = ember.nn.Module()
    model.fc = ember.nn.Linear(3, 2)
    model.load_state_dict(state)


class _NamesAGlobal:
    def __init__(self, module, name):
        self.module, self.name = module, name

    def __reduce__(self):
        return checkpoint_torch._Global(self.module, self.name), ()


def test_a_pytorch_global_ember_lacks_is_named():
    buffer = io.BytesIO()
    ember.save({"x": _NamesAGlobal("torch.nn.modules.fancy", "FancyLayer")}, buffer)
    with pytest.raises(
        pickle.UnpicklingError, match=r"torch\.nn\.modules\.fancy\.FancyLayer, which ember does not have"
    ):
        ember.load(io.BytesIO(buffer.getvalue()), weights_only=False)


def test_safe_globals_of_embers_classes_allow_pytorchs_files():
    buffer = _saved(torch.nn.Linear(2, 2))
    with pytest.raises(pickle.UnpicklingError, match="Linear"):
        ember.load(buffer)
    buffer.seek(0)
    with ember.serialization.safe_globals([ember.nn.Linear]):
        assert isinstance(ember.load(buffer), ember.nn.Linear)


@pytest.mark.parametrize("weights_only", [True, False])
def test_a_nested_tensor_is_named_not_offered_to_allow(weights_only):
    # torch.load reads it under weights_only (on its allow-list); ember's loader cannot rebuild one and says so,
    # rather than suggesting add_safe_globals for a global it could not rebuild anyway
    buffer = io.BytesIO()
    torch.save({"n": torch.nested.nested_tensor([torch.ones(2), torch.ones(3)])}, buffer)
    assert torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)["n"].is_nested
    with pytest.raises(
        pickle.UnpicklingError, match="holds a nested tensor .* which ember cannot rebuild from PyTorch"
    ):
        ember.load(io.BytesIO(buffer.getvalue()), weights_only=weights_only)
