"""ember.nn.utils.parametrize and parametrizations (weight_norm, spectral_norm) against torch's:
the same state_dict keys, torch's state dicts loading, the same outputs, gradients and errors."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn.utils import parametrizations, parametrize

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _seeded():
    """The modules' random initial weights (torch's and ember's) are the same in every run."""
    torch.manual_seed(0)
    ember.manual_seed(0)


_X = np.random.default_rng(2).standard_normal((5, 4)).astype(np.float32)


def _load(module_e, module_t, device):
    state = {k: ember.tensor(v.detach().numpy(), device=device) for k, v in module_t.state_dict().items()}
    module_e.load_state_dict(state)
    return module_e


def _symmetric(lib):
    class Symmetric(lib.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).transpose(-1, -2)

        def right_inverse(self, a):
            return a.triu()

    return Symmetric()


def _scale(lib):
    class Scale(lib.nn.Module):
        def forward(self, x):
            return x * 3

        def right_inverse(self, x):
            return x / 3

    return Scale()


def _pair(lib):
    class Split(lib.nn.Module):
        def forward(self, a, b):
            return a + b

        def right_inverse(self, w):
            return w * 0.25, w * 0.75

    return Split()


def _check(me, mt, device, tol=1e-6):
    assert list(me.state_dict()) == list(mt.state_dict())
    assert [n for n, _ in me.named_parameters()] == [n for n, _ in mt.named_parameters()]
    xe, xt = ember.tensor(_X[:, : mt.in_features], device=device), torch.tensor(_X[:, : mt.in_features])
    ye, yt = me(xe), mt(xt)
    np.testing.assert_allclose(ye.detach().cpu().numpy(), yt.detach().numpy(), rtol=tol, atol=tol)
    (ye**2).sum().backward()
    (yt**2).sum().backward()
    for (name, pe), (_, pt) in zip(me.named_parameters(), mt.named_parameters()):
        np.testing.assert_allclose(pe.grad.cpu().numpy(), pt.grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("chain", ["symmetric", "symmetric+scale", "split"])
def test_register_parametrization_matches_torch(device, chain):
    mods = {"symmetric": [_symmetric], "symmetric+scale": [_symmetric, _scale], "split": [_pair]}[chain]
    mt = torch.nn.Linear(4, 4)
    me = nn.Linear(4, 4).to(device)
    me.load_state_dict({k: ember.tensor(v.detach().numpy(), device=device) for k, v in mt.state_dict().items()})
    for make in mods:
        torch.nn.utils.parametrize.register_parametrization(mt, "weight", make(torch))
        parametrize.register_parametrization(me, "weight", make(ember))
    assert type(me).__name__ == type(mt).__name__ == "ParametrizedLinear"
    assert isinstance(me, nn.Linear)
    assert parametrize.is_parametrized(me) and parametrize.is_parametrized(me, "weight")
    assert not parametrize.is_parametrized(me, "bias")
    _check(me, mt, device)
    # assigning the parametrized name goes through right_inverse
    value = np.arange(16, dtype=np.float32).reshape(4, 4)
    with torch.no_grad():
        mt.weight = torch.tensor(value)
    me.weight = ember.tensor(value, device=device)
    np.testing.assert_allclose(me.weight.detach().cpu().numpy(), mt.weight.detach().numpy(), rtol=1e-6)
    # loading torch's state dict into a fresh parametrized module
    fresh = nn.Linear(4, 4).to(device)
    for make in mods:
        parametrize.register_parametrization(fresh, "weight", make(ember))
    _load(fresh, mt, device)
    np.testing.assert_allclose(fresh.weight.detach().cpu().numpy(), mt.weight.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("leave", [True, False])
def test_remove_parametrizations_matches_torch(leave):
    mt, me = torch.nn.Linear(4, 4), nn.Linear(4, 4)
    me.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in mt.state_dict().items()})
    torch.nn.utils.parametrize.register_parametrization(mt, "weight", _symmetric(torch))
    parametrize.register_parametrization(me, "weight", _symmetric(ember))
    original = me.parametrizations.weight.original
    torch.nn.utils.parametrize.remove_parametrizations(mt, "weight", leave_parametrized=leave)
    parametrize.remove_parametrizations(me, "weight", leave_parametrized=leave)
    assert type(me) is nn.Linear and type(mt) is torch.nn.Linear
    assert list(me.state_dict()) == list(mt.state_dict()) == ["bias", "weight"]
    assert me.weight is original and isinstance(me.weight, nn.Parameter)  # optimizers keep their tensor
    np.testing.assert_allclose(me.weight.detach().numpy(), mt.weight.detach().numpy(), rtol=1e-6)
    assert not parametrize.is_parametrized(me)


def test_assignment_needs_every_right_inverse():
    class NoInverse(nn.Module):
        def forward(self, x):
            return x * 2

    m = parametrize.register_parametrization(nn.Linear(2, 2), "weight", NoInverse())
    with pytest.raises(RuntimeError, match="parametrization NoInverse does not implement right_inverse."):
        m.weight = ember.zeros(2, 2)


def test_buffers_and_cached():
    me = nn.BatchNorm1d(3)
    parametrize.register_parametrization(me, "running_var", _scale(ember))
    assert "parametrizations.running_var.original" in me.state_dict()
    m = nn.Linear(3, 3)
    parametrize.register_parametrization(m, "weight", _symmetric(ember))
    assert m.weight is not m.weight
    with parametrize.cached():
        first = m.weight
        assert m.weight is first
        with parametrize.cached():
            assert m.weight is first
        assert m.weight is first
    assert m.weight is not first
    replica = copy.deepcopy(m)
    assert type(replica).__name__ == "ParametrizedLinear"
    np.testing.assert_array_equal(replica.weight.detach().numpy(), m.weight.detach().numpy())


class _Bad:
    @staticmethod
    def shape(lib):
        class Rows(lib.nn.Module):
            def forward(self, x):
                return x[:1]

        return Rows()

    @staticmethod
    def dtype(lib):
        class Double(lib.nn.Module):
            def forward(self, x):
                return x.double()

        return Double()


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, m: lib.nn.utils.parametrize.register_parametrization(m, "nothing", _scale(lib)),
        lambda lib, m: lib.nn.utils.parametrize.register_parametrization(m, "weight", _Bad.shape(lib)),
        lambda lib, m: lib.nn.utils.parametrize.register_parametrization(m, "weight", _Bad.dtype(lib)),
        lambda lib, m: lib.nn.utils.parametrize.remove_parametrizations(m, "weight"),
        lambda lib, m: lib.nn.utils.parametrize.remove_parametrizations(
            lib.nn.utils.parametrize.register_parametrization(m, "weight", _pair(lib)),
            "weight",
            leave_parametrized=False,
        ),
        lambda lib, m: lib.nn.utils.parametrizations.spectral_norm(m, "nothing"),
        lambda lib, m: lib.nn.utils.parametrizations.spectral_norm(m, n_power_iterations=0),
        lambda lib, m: lib.nn.utils.parametrizations.spectral_norm(m, dim=3),
    ],
)
def test_errors_match_torch(call):
    with pytest.raises(Exception) as expected:
        call(torch, torch.nn.Linear(2, 2))
    with pytest.raises(type(expected.value)) as got:
        call(ember, nn.Linear(2, 2))
    first = str(expected.value).replace("torch.", "ember.").split("\n")[0]
    assert str(got.value).split("\n")[0] == first.replace(
        "Linear(in_features=2, out_features=2, bias=True)", repr(nn.Linear(2, 2))
    )


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_matches_torch(device, dim):
    mt = torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(4, 3), dim=dim)
    me = parametrizations.weight_norm(nn.Linear(4, 3).to(device), dim=dim)
    assert [tuple(p.shape) for p in me.parameters()] == [tuple(p.shape) for p in mt.parameters()]
    _load(me, mt, device)
    _check(me, mt, device, tol=1e-5)


@pytest.mark.filterwarnings("ignore:`torch.nn.utils.weight_norm` is deprecated")
def test_weight_norm_loads_the_old_hook_state_dict():
    old = torch.nn.utils.weight_norm(torch.nn.Linear(4, 3))
    me = parametrizations.weight_norm(nn.Linear(4, 3))
    mt = torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(4, 3))
    mt.load_state_dict(old.state_dict())
    _load(me, old, "cpu")
    np.testing.assert_allclose(me.weight.detach().numpy(), mt.weight.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("kind", ["linear", "conv", "conv_transpose"])
def test_spectral_norm_matches_torch(device, kind):
    make = {
        "linear": lambda lib: lib.nn.Linear(4, 3),
        "conv": lambda lib: lib.nn.Conv2d(2, 3, 2),
        "conv_transpose": lambda lib: lib.nn.ConvTranspose2d(2, 3, 2),
    }[kind]
    mt = torch.nn.utils.parametrizations.spectral_norm(make(torch), n_power_iterations=2)
    me = parametrizations.spectral_norm(make(ember).to(device), n_power_iterations=2)
    assert list(me.state_dict()) == list(mt.state_dict())
    _load(me, mt, device)
    for mode in ("train", "train", "eval"):  # training steps run the power iteration on the buffers
        getattr(me, mode)()
        getattr(mt, mode)()
        np.testing.assert_allclose(me.weight.detach().cpu().numpy(), mt.weight.detach().numpy(), rtol=1e-4, atol=1e-6)
    u_e, u_t = me.parametrizations.weight[0]._u, mt.parametrizations.weight[0]._u
    np.testing.assert_allclose(u_e.cpu().numpy(), u_t.numpy(), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("kind", ["linear", "conv_transpose"])
def test_spectral_norm_hook_api_matches_torch(device, kind):
    make = {"linear": lambda lib: lib.nn.Linear(4, 3), "conv_transpose": lambda lib: lib.nn.ConvTranspose2d(2, 3, 2)}[
        kind
    ]
    mt = torch.nn.utils.spectral_norm(make(torch), n_power_iterations=2)
    me = nn.utils.spectral_norm(make(ember).to(device), n_power_iterations=2)
    assert list(me.state_dict()) == list(mt.state_dict())
    _load(me, mt, device)
    x = np.random.default_rng(4).standard_normal((2, 4) if kind == "linear" else (1, 2, 3, 3)).astype(np.float32)
    for mode in ("train", "train", "eval"):
        getattr(me, mode)()
        getattr(mt, mode)()
        ye, yt = me(ember.tensor(x, device=device)), mt(torch.tensor(x))
        np.testing.assert_allclose(ye.detach().cpu().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    (ye**2).sum().backward()
    (yt**2).sum().backward()
    np.testing.assert_allclose(me.weight_orig.grad.cpu().numpy(), mt.weight_orig.grad.numpy(), rtol=1e-4, atol=1e-5)
    torch.nn.utils.remove_spectral_norm(mt)
    nn.utils.remove_spectral_norm(me)
    assert list(me.state_dict()) == list(mt.state_dict())
    np.testing.assert_allclose(me.weight.detach().cpu().numpy(), mt.weight.detach().numpy(), rtol=1e-4, atol=1e-6)


def test_spectral_norm_hook_api_errors_match_torch():
    calls = [
        lambda lib: lib.nn.utils.spectral_norm(lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2))),
        lambda lib: lib.nn.utils.remove_spectral_norm(lib.nn.Linear(2, 2)),
        lambda lib: lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2), n_power_iterations=0),
        lambda lib: lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2, bias=False), name="bias"),
    ]
    for call in calls:
        with pytest.raises(Exception) as expected:
            call(torch)
        with pytest.raises(type(expected.value)) as got:
            call(ember)
        assert str(got.value) == str(expected.value).replace(
            "Linear(in_features=2, out_features=2, bias=True)", repr(nn.Linear(2, 2))
        )


@pytest.mark.parametrize("tensor_name", [None, "weight"])
@pytest.mark.parametrize("make", ["weight_norm", "custom"])
def test_type_before_and_transfer_parametrizations_match_torch(make, tensor_name):
    """type_before_parametrizations and transfer_parametrizations_and_params (missing before): the
    receiving module gets the same parametrizations, shares the originals and computes the same weight."""

    def run(lib):
        lib.manual_seed(0)
        src = lib.nn.Linear(3, 2)
        if make == "weight_norm":
            lib.nn.utils.parametrizations.weight_norm(src)
        else:

            class Double(lib.nn.Module):
                def forward(self, x):
                    return x * 2

            lib.nn.utils.parametrize.register_parametrization(src, "weight", Double())
            lib.nn.utils.parametrize.register_parametrization(src, "bias", Double())
        P = lib.nn.utils.parametrize
        dst = P.transfer_parametrizations_and_params(src, lib.nn.Linear(3, 2), tensor_name)
        shared = [
            getattr(dst.parametrizations[n], k) is getattr(src.parametrizations[n], k)
            for n in dst.parametrizations
            for k, _ in dst.parametrizations[n].named_parameters(recurse=False)
        ]
        return (
            P.type_before_parametrizations(src).__name__,
            P.type_before_parametrizations(lib.nn.Linear(1, 1)).__name__,
            type(dst).__name__,
            sorted(dst.state_dict()),
            shared,
            dst.weight.detach().numpy().tolist() == src.weight.detach().numpy().tolist(),
            P.transfer_parametrizations_and_params(lib.nn.Linear(3, 2), lib.nn.Linear(1, 1)).weight.shape[1],
        )

    assert run(ember) == run(torch)
