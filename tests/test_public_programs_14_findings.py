"""Differences from PyTorch found by the round-14 public programs (tests/test_public_programs_14.py), each
checked against torch on its own."""

from __future__ import annotations

import copy
import io
import pickle

import pytest

import ember

torch = pytest.importorskip("torch")


def _error(call):
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the error is the result compared
        return type(error).__name__, str(error)
    return None


class _Symmetric:
    """Built per library: the Parametrizations tutorial's ``Symmetric``."""

    @staticmethod
    def make(lib):
        class Symmetric(lib.nn.Module):
            def forward(self, X):
                return X.triu() + X.triu(1).transpose(-1, -2)

        return Symmetric()


def _parametrized_model(lib, device, how):
    model = lib.nn.Sequential(lib.nn.Linear(3, 3), lib.nn.Tanh(), lib.nn.Linear(3, 2)).to(device)
    if how == "register":
        lib.nn.utils.parametrize.register_parametrization(model[0], "weight", _Symmetric.make(lib))
    elif how == "orthogonal":
        lib.nn.utils.parametrizations.orthogonal(model[2])
    else:
        lib.nn.utils.parametrizations.weight_norm(model[0])
    return model


@pytest.mark.parametrize("how", ["register", "orthogonal", "weight_norm"])
@pytest.mark.parametrize("save", ["zipfile", "legacy", "pickle", "in-a-dict"])
def test_saving_a_parametrized_model_whole_is_refused_as_torch(device, how, save):
    """``torch.save(model)`` of a model holding a parametrization: PyTorch's parametrized class refuses to be
    pickled ("Serialization of parametrized modules is only supported through state_dict()"), a RuntimeError;
    ember's pickler failed on the class's lookup with a ``PicklingError``."""

    def run(lib, dev):
        model = _parametrized_model(lib, dev, how)
        calls = {
            "zipfile": lambda: lib.save(model, io.BytesIO()),
            "legacy": lambda: lib.save(model, io.BytesIO(), _use_new_zipfile_serialization=False),
            "pickle": lambda: pickle.dumps(model),
            "in-a-dict": lambda: lib.save({"epoch": 1, "model": model}, io.BytesIO()),
        }
        return _error(calls[save])

    ours, theirs = run(ember, device), run(torch, "cpu")
    assert theirs is not None
    assert ours == theirs


@pytest.mark.parametrize("how", ["register", "orthogonal", "weight_norm"])
def test_a_parametrized_model_still_deep_copies_and_saves_its_state_dict(device, how):
    """What PyTorch leaves open beside the refusal: ``copy.deepcopy`` and the state dict round trip."""
    torch.manual_seed(0)
    theirs = _parametrized_model(torch, "cpu", how)
    ours = _parametrized_model(ember, device, how)
    ours.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    copied = copy.deepcopy(ours)
    assert type(copied[0]).__name__ == type(copy.deepcopy(theirs)[0]).__name__
    buffer = io.BytesIO()
    ember.save(copied.state_dict(), buffer)
    buffer.seek(0)
    restored = _parametrized_model(ember, device, how)
    restored.load_state_dict(ember.load(buffer, weights_only=True))
    x = torch.randn(4, 3)
    expected = theirs(x).detach().numpy()
    actual = restored(ember.tensor(x.numpy()).to(device)).detach().cpu().numpy()
    assert actual == pytest.approx(expected, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("returned", ["int", "list", "tuple"])
def test_a_parametrization_that_returns_no_tensor_is_refused_as_torch(device, returned):
    """A parametrization whose ``forward`` returns a Python value: PyTorch's ValueError says "A parametrization
    must return a tensor. Got <type>."; ember added the printed list of parametrizations."""

    def run(lib, dev):
        class NotATensor(lib.nn.Module):
            def forward(self, X):
                return {"int": 3, "list": X.tolist(), "tuple": (X,)}[returned]

        layer = lib.nn.Linear(2, 2).to(dev)
        return _error(lambda: lib.nn.utils.parametrize.register_parametrization(layer, "weight", NotATensor()))

    assert run(ember, device) == run(torch, "cpu")


@pytest.mark.parametrize("mode", [True, False])
def test_set_grad_enabled_prints_and_clones_as_torch(mode):
    """``torch.set_grad_enabled(False)`` as a notebook cell's last line shows
    ``torch.autograd.grad_mode.set_grad_enabled(mode=False)``; ember showed the default object repr, and had no
    ``clone`` (which, as PyTorch's, sets the mode again)."""

    def run(lib):
        try:
            context = lib.set_grad_enabled(mode)
            lib.set_grad_enabled(True)
            cloned = context.clone()
            return (
                repr(context).replace(lib.__name__, "lib"),
                str(cloned).replace(lib.__name__, "lib"),
                (lib.is_grad_enabled()),
            )
        finally:
            lib.set_grad_enabled(True)

    assert run(ember) == run(torch)


@pytest.mark.parametrize("kind", ["no_grad", "enable_grad", "inference_mode", "inference_mode(False)"])
def test_grad_mode_contexts_clone_and_keep_their_mode_as_torch(kind):
    """``inference_mode(mode).mode`` is the inference flag in PyTorch (ember kept the opposite, the recording
    flag, there), and every grad-mode context has ``clone``."""

    def run(lib):
        context = lib.inference_mode(False) if kind == "inference_mode(False)" else getattr(lib, kind)()
        cloned = context.clone()
        with cloned:
            inside = lib.is_grad_enabled(), lib.is_inference_mode_enabled()
        modes = (context.mode, cloned.mode) if kind.startswith("inference_mode") else None
        return type(cloned).__name__, modes, inside

    assert run(ember) == run(torch)
