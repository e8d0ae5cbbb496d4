"""ember.nn.utils.parametrizations.orthogonal against torch's: the same parametrized weight, original
tensor and base after registration and after assignment, the same gradients through each map,
the same parameters after a few SGD steps, Q^T Q = I, and the same errors."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn.utils import parametrizations

torch = pytest.importorskip("torch")

_MAPS = ["matrix_exp", "cayley", "householder"]
# square, tall, wide, and a batch of tall matrices
_SHAPES = [(4, 4), (5, 3), (3, 5), (2, 4, 3)]


def _tol(dtype):
    return {"rtol": 1e-10, "atol": 1e-10} if dtype == ember.float64 else {"rtol": 1e-5, "atol": 2e-6}


def _grad_tol(dtype):
    return {"rtol": 1e-9, "atol": 1e-10} if dtype == ember.float64 else {"rtol": 1e-4, "atol": 1e-5}


def _np(t):
    return t.detach().cpu().numpy() if isinstance(t, ember.Tensor) else t.detach().numpy()


def _holder(lib, value, dtype, device=None):
    """A module whose parameter ``weight`` holds ``value``."""
    module = lib.nn.Module()
    if lib is torch:
        weight = torch.tensor(value, dtype=getattr(torch, dtype.name))
    else:
        weight = ember.tensor(value, dtype=dtype, device=device)
    module.register_parameter("weight", lib.nn.Parameter(weight))
    return module


def _pair(shape, dtype, device, orthogonal_map, use_trivialization, seed=0):
    value = np.random.default_rng(seed).standard_normal(shape)
    mt = _holder(torch, value, dtype)
    me = _holder(ember, value, dtype, device)
    torch.nn.utils.parametrizations.orthogonal(mt, orthogonal_map=orthogonal_map, use_trivialization=use_trivialization)
    parametrizations.orthogonal(me, orthogonal_map=orthogonal_map, use_trivialization=use_trivialization)
    return mt, me


def _load(me, mt, device, dtype):
    me.load_state_dict(
        {k: ember.tensor(v.detach().numpy(), dtype=dtype, device=device) for k, v in mt.state_dict().items()}
    )


def _assert_orthogonal(Q, dtype):
    Q = _np(Q)
    if Q.shape[-2] < Q.shape[-1]:
        Q = np.swapaxes(Q, -1, -2)
    gram = np.swapaxes(Q, -1, -2) @ Q
    atol = 1e-12 if dtype == ember.float64 else 1e-5
    np.testing.assert_allclose(gram, np.broadcast_to(np.eye(Q.shape[-1]), gram.shape), atol=atol)


@pytest.mark.parametrize("shape", _SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("use_trivialization", [True, False], ids=["trivialization", "plain"])
@pytest.mark.parametrize("orthogonal_map", _MAPS)
def test_registration_and_gradients_match_torch(device, dtype, orthogonal_map, use_trivialization, shape):
    mt, me = _pair(shape, dtype, device, orthogonal_map, use_trivialization)
    assert list(me.state_dict()) == list(mt.state_dict())
    assert type(me).__name__ == type(mt).__name__
    # the registered values: the weight, the original tensor, the base's determined columns
    np.testing.assert_allclose(_np(me.weight), _np(mt.weight), **_tol(dtype))
    original_e, original_t = me.parametrizations.weight.original, mt.parametrizations.weight.original
    np.testing.assert_allclose(_np(original_e), _np(original_t), **_tol(dtype))
    if use_trivialization:
        k = min(shape[-2:])
        base_e, base_t = _np(me.parametrizations.weight[0].base), _np(mt.parametrizations.weight[0].base)
        assert base_e.shape == base_t.shape == (*shape[:-2], max(shape[-2:]), max(shape[-2:]))
        np.testing.assert_allclose(base_e[..., :k], base_t[..., :k], **_tol(dtype))
    _assert_orthogonal(me.weight, dtype)
    # the gradients through the map, from the same state (torch's random completion of the base)
    _load(me, mt, device, dtype)
    np.testing.assert_allclose(_np(me.weight), _np(mt.weight), **_tol(dtype))
    weights = np.random.default_rng(1).standard_normal(shape)
    (me.weight * ember.tensor(weights, dtype=dtype, device=device)).sin().sum().backward()
    (mt.weight * torch.tensor(weights, dtype=original_t.dtype)).sin().sum().backward()
    np.testing.assert_allclose(_np(original_e.grad), _np(original_t.grad), **_grad_tol(dtype))
    assert np.abs(_np(original_t.grad)).max() > 0


@pytest.mark.parametrize("shape", _SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("orthogonal", [True, False], ids=["orthogonal", "any"])
@pytest.mark.parametrize(
    "orthogonal_map, use_trivialization",
    [("matrix_exp", True), ("cayley", True), ("householder", True), ("householder", False)],
)
def test_assignment_matches_torch(device, dtype, orthogonal_map, use_trivialization, orthogonal, shape):
    mt, me = _pair(shape, dtype, device, orthogonal_map, use_trivialization)
    value = np.random.default_rng(3).standard_normal(shape)
    if orthogonal:  # orthonormal columns (rows when wide)
        tall = value if shape[-2] >= shape[-1] else np.swapaxes(value, -1, -2)
        tall = np.linalg.qr(tall)[0]
        value = tall if shape[-2] >= shape[-1] else np.swapaxes(tall, -1, -2)
    with torch.no_grad():
        mt.weight = torch.tensor(value, dtype=mt.parametrizations.weight.original.dtype)
    me.weight = ember.tensor(value, dtype=dtype, device=device)
    np.testing.assert_allclose(_np(me.weight), _np(mt.weight), **_tol(dtype))
    np.testing.assert_allclose(
        _np(me.parametrizations.weight.original), _np(mt.parametrizations.weight.original), **_tol(dtype)
    )
    if orthogonal:
        np.testing.assert_allclose(_np(me.weight), value, **_tol(dtype))
    _assert_orthogonal(me.weight, dtype)


@pytest.mark.parametrize("use_trivialization", [True, False], ids=["trivialization", "plain"])
@pytest.mark.parametrize("orthogonal_map", _MAPS)
def test_sgd_steps_match_torch(device, dtype, orthogonal_map, use_trivialization):
    """A tall orthogonal layer, a square one and a plain head trained by SGD with momentum."""

    def model(lib, dtype, device=None):
        first, second = lib.nn.Linear(3, 5, dtype=dtype), lib.nn.Linear(5, 5, dtype=dtype)
        for layer in (first, second):
            layer.to(device)
            lib.nn.utils.parametrizations.orthogonal(
                layer, orthogonal_map=orthogonal_map, use_trivialization=use_trivialization
            )
        return lib.nn.Sequential(first, lib.nn.Tanh(), second, lib.nn.Tanh(), lib.nn.Linear(5, 2, dtype=dtype)).to(
            device
        )

    torch_dtype = getattr(torch, dtype.name)
    mt = model(torch, torch_dtype)
    me = model(ember, dtype, device)
    _load(me, mt, device, dtype)
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((8, 3)), rng.standard_normal((8, 2))
    xt, yt = torch.tensor(x, dtype=torch_dtype), torch.tensor(y, dtype=torch_dtype)
    xe, ye = ember.tensor(x, dtype=dtype, device=device), ember.tensor(y, dtype=dtype, device=device)
    opt_t = torch.optim.SGD(mt.parameters(), lr=0.2, momentum=0.9)
    opt_e = ember.optim.SGD(me.parameters(), lr=0.2, momentum=0.9)
    for _ in range(4):
        for m, opt, a, b in ((mt, opt_t, xt, yt), (me, opt_e, xe, ye)):
            opt.zero_grad()
            ((m(a) - b) ** 2).mean().backward()
            opt.step()
    tol = {"rtol": 1e-8, "atol": 1e-9} if dtype == ember.float64 else {"rtol": 1e-4, "atol": 1e-5}
    state_t = mt.state_dict()
    for name, value in me.state_dict().items():
        np.testing.assert_allclose(_np(value), _np(state_t[name]), err_msg=name, **tol)
    for index in (0, 2):
        _assert_orthogonal(me[index].weight, dtype)
        np.testing.assert_allclose(_np(me[index].weight), _np(mt[index].weight), **tol)


@pytest.mark.parametrize("shape, expected", [((4, 4), "matrix_exp"), ((5, 3), "householder"), ((3, 5), "householder")])
def test_default_map_and_repr(shape, expected):
    mt, me = _pair(shape, ember.float32, "cpu", None, True)
    assert me.parametrizations.weight[0].orthogonal_map == mt.parametrizations.weight[0].orthogonal_map.name == expected
    linear_t = torch.nn.utils.parametrizations.orthogonal(torch.nn.Linear(3, 5))
    linear_e = parametrizations.orthogonal(nn.Linear(3, 5))
    assert repr(linear_e) == repr(linear_t)


def _int_buffer(lib):
    module = lib.nn.Module()
    module.register_buffer("weight", lib.ones(3, 3, dtype=lib.int64))
    return module


def _assign(lib, module, shape):
    module.weight = lib.zeros(*shape)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(2, 2), "nothing"),
        lambda lib: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(2, 2), "bias"),
        lambda lib: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(2, 2), orthogonal_map="qr"),
        lambda lib: _assign(lib, lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(2, 3)), (2, 2)),
        lambda lib: _assign(
            lib, lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(2, 2), use_trivialization=False), (2, 2)
        ),
        lambda lib: _assign(
            lib,
            lib.nn.utils.parametrizations.orthogonal(
                lib.nn.Linear(2, 3), orthogonal_map="cayley", use_trivialization=False
            ),
            (3, 2),
        ),
    ],
    ids=["no-tensor", "vector", "unknown-map", "assign-shape", "assign-matrix-exp", "assign-cayley"],
)
def test_errors_match_torch(call):
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(type(expected.value)) as got:
        call(ember)
    first = str(expected.value).replace("torch.", "ember.").split("\n")[0]
    assert str(got.value).split("\n")[0] == first.replace(
        "Linear(in_features=2, out_features=2, bias=True)", repr(nn.Linear(2, 2))
    )


def test_type_errors_as_torch():
    """The same exception types as torch's, whose messages come from deeper calls (``getattr``,
    ``finfo``); ember's name the argument."""
    with pytest.raises(TypeError):
        torch.nn.utils.parametrizations.orthogonal(_int_buffer(torch))
    with pytest.raises(TypeError, match="orthogonal: expected a real floating point tensor .* got dtype ember.int64"):
        parametrizations.orthogonal(_int_buffer(ember))
    with pytest.raises(TypeError):
        torch.nn.utils.parametrizations.orthogonal(torch.nn.Linear(2, 2), orthogonal_map=5)
    with pytest.raises(TypeError, match="orthogonal_map must be a str, not 'int'"):
        parametrizations.orthogonal(nn.Linear(2, 2), orthogonal_map=5)


@pytest.mark.parametrize("orthogonal_map", _MAPS)
def test_remove_parametrizations_keeps_the_orthogonal_weight(device, orthogonal_map):
    mt, me = _pair((5, 3), ember.float32, device, orthogonal_map, True)
    _load(me, mt, device, ember.float32)
    torch.nn.utils.parametrize.remove_parametrizations(mt, "weight")
    ember.nn.utils.parametrize.remove_parametrizations(me, "weight")
    assert list(me.state_dict()) == list(mt.state_dict()) == ["weight"]
    assert isinstance(me.weight, nn.Parameter)
    np.testing.assert_allclose(_np(me.weight), _np(mt.weight), rtol=1e-5, atol=2e-6)
    _assert_orthogonal(me.weight, ember.float32)
