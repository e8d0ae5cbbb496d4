"""ember.autograd.functional and anomaly mode against torch's: the same Jacobians, Hessians and
products (and their gradients with create_graph=True), the same strict-mode and argument errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

_rng = np.random.default_rng(5)
_A = _rng.standard_normal(3)
_B = _rng.standard_normal((2, 3))
_V3 = _rng.standard_normal(3)
_V23 = _rng.standard_normal((2, 3))


def _single(x):
    return (x.sin() * x).exp()


def _pair_out(x, y):
    return (x * y).sum(0).tanh(), (x + y.sum(0)) ** 2


def _scalar(x, y):
    return ((x * y).sum(0) ** 3).sum() + (x.exp() * y.sum(0)).sum()


def _cube(x):
    return (x**3).sum() + (x[0] * x[1]) ** 2


def _np(x):
    if isinstance(x, (tuple, list)):
        return [_np(t) for t in x]
    return x.detach().cpu().numpy()


def _close(a, b, tol):
    if isinstance(a, (tuple, list)):
        assert isinstance(b, (tuple, list)) and len(a) == len(b)
        for u, v in zip(a, b):
            _close(u, v, tol)
        return
    assert tuple(a.shape) == tuple(b.shape)
    np.testing.assert_allclose(_np(a), _np(b), rtol=tol, atol=tol)


def _args(device, dtype, *arrays):
    e = tuple(ember.tensor(a, dtype=getattr(ember, dtype), device=device) for a in arrays)
    t = tuple(torch.tensor(a, dtype=getattr(torch, dtype)) for a in arrays)
    return e, t


def _dtype(device):
    return "float64" if ember.device(device).type == "cpu" else "float32"


CASES = [
    ("jacobian", _single, (_A,), None, False),
    ("jacobian", _pair_out, (_A, _B), None, True),
    ("hessian", _cube, (_A,), None, False),
    ("hessian", _scalar, (_A, _B), None, True),
    ("vjp", _single, (_A,), (_V3,), False),
    ("vjp", _pair_out, (_A, _B), (_V3, _V3), True),
    ("jvp", _single, (_A,), (_V3,), False),
    ("jvp", _pair_out, (_A, _B), (_V3, _V23), True),
    ("vhp", _cube, (_A,), (_V3,), False),
    ("vhp", _scalar, (_A, _B), (_V3, _V23), True),
    ("hvp", _cube, (_A,), (_V3,), False),
    ("hvp", _scalar, (_A, _B), (_V3, _V23), True),
]


@pytest.mark.parametrize("name,fn,inputs,v,as_tuple", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_torch(device, name, fn, inputs, v, as_tuple):
    dtype = _dtype(device)
    tol = 1e-10 if dtype == "float64" else 1e-4
    xe, xt = _args(device, dtype, *inputs)
    extra_e, extra_t = ((), ()) if v is None else _args(device, dtype, *v)
    if not as_tuple:
        xe, xt = xe[0], xt[0]
    if v is not None:  # v is one argument: a tensor, or a tuple like the inputs/outputs
        extra_e, extra_t = ((extra_e,), (extra_t,)) if as_tuple else ((extra_e[0],), (extra_t[0],))
    got = getattr(ember.autograd.functional, name)(fn, xe, *extra_e)
    expected = getattr(torch.autograd.functional, name)(fn, xt, *extra_t)
    _close(got, expected, tol)


@pytest.mark.parametrize("name", ["jacobian", "hessian", "vjp", "jvp", "vhp", "hvp"])
def test_create_graph_differentiates_again(name):
    fn = _cube if name in ("hessian", "vhp", "hvp") else _single
    results = []
    for lib in (ember, torch):
        x = lib.tensor(_A, requires_grad=True)
        extra = () if name in ("jacobian", "hessian") else (lib.tensor(_V3),)
        out = getattr(lib.autograd.functional, name)(fn, x, *extra, create_graph=True)
        res = out if name in ("jacobian", "hessian") else out[1]
        assert res.requires_grad
        (g,) = lib.autograd.grad((res * res).sum(), x)
        results.append((res, g))
    _close(list(results[0]), list(results[1]), 1e-10)


def test_results_are_detached_without_create_graph():
    x = ember.tensor(_A, requires_grad=True)
    out, g = ember.autograd.functional.vjp(_single, x, ember.tensor(_V3))
    assert not out.requires_grad and not g.requires_grad
    assert not ember.autograd.functional.jacobian(_single, x).requires_grad


def test_vectorize_and_forward_mode_give_the_same_jacobian():
    x = ember.tensor(_A)
    expected = ember.autograd.functional.jacobian(_single, x)
    for kwargs in ({"vectorize": True}, {"vectorize": True, "strategy": "forward-mode"}):
        _close(ember.autograd.functional.jacobian(_single, x, **kwargs), expected, 0)
    _close(
        ember.autograd.functional.hessian(_cube, x, vectorize=True),
        torch.autograd.functional.hessian(_cube, torch.tensor(_A), vectorize=True),
        1e-10,
    )


def _independent(x, y):
    return x * 2


def _constant(x):
    return x.detach() * 2


ERRORS = [
    ("jacobian", lambda F, x, y: F.jacobian(_independent, (x, y), strict=True)),
    ("jacobian", lambda F, x, y: F.jacobian(_constant, x, strict=True)),
    ("jacobian", lambda F, x, y: F.jacobian(_single, x, strategy="sideways")),
    ("jacobian", lambda F, x, y: F.jacobian(_single, x, strategy="forward-mode")),
    ("jacobian", lambda F, x, y: F.jacobian(_single, x, strict=True, vectorize=True)),
    ("jacobian", lambda F, x, y: F.jacobian(_single, [x, 3])),
    ("jacobian", lambda F, x, y: F.jacobian(_single, 3)),
    ("vjp", lambda F, x, y: F.vjp(_single, x)),
    ("vjp", lambda F, x, y: F.vjp(_single, x, (x, x))),
    ("vjp", lambda F, x, y: F.vjp(_pair_out, (x, y), (x, y))),
    ("vjp", lambda F, x, y: F.vjp(_independent, (x, y), x, strict=True)),
    ("jvp", lambda F, x, y: F.jvp(_single, x)),
    ("jvp", lambda F, x, y: F.jvp(_independent, (x, y), (x, y), strict=True)),
    ("hessian", lambda F, x, y: F.hessian(_single, x)),
    ("hessian", lambda F, x, y: F.hessian(_pair_out, (x, y))),
    ("hessian", lambda F, x, y: F.hessian(lambda a: a.sum(), x, strict=True)),
    ("vhp", lambda F, x, y: F.vhp(_single, x, x)),
    ("vhp", lambda F, x, y: F.vhp(lambda a: (a * 2).sum(), x, x, strict=True)),
    ("hvp", lambda F, x, y: F.hvp(_cube, x)),
    ("hvp", lambda F, x, y: F.hvp(lambda a: a.exp().sum(), x, y)),
]


@pytest.mark.parametrize("name,call", ERRORS, ids=[f"{e[0]}-{i}" for i, e in enumerate(ERRORS)])
def test_errors_match_torch(name, call):
    with pytest.raises(Exception) as expected:
        call(torch.autograd.functional, torch.tensor(_A), torch.tensor(_B))
    with pytest.raises(type(expected.value)) as got:
        call(ember.autograd.functional, ember.tensor(_A), ember.tensor(_B))
    assert str(got.value) == str(expected.value).replace("torch.Size", "ember.Size")


def _nan_backward(lib):
    x = lib.tensor([0.0, 1.0], requires_grad=True)
    y = x.sqrt() * 0
    return y.sum()


@pytest.mark.parametrize("use", ["detect_anomaly", "set_detect_anomaly"])
def test_anomaly_mode_names_the_backward_function(device, use):
    messages = []
    for lib in (torch, ember):
        x = lib.tensor([0.0, 1.0], requires_grad=True) if lib is torch else ember.tensor([0.0, 1.0], device=device)
        x.requires_grad_(True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            mode = lib.autograd.detect_anomaly() if use == "detect_anomaly" else lib.autograd.set_detect_anomaly(True)
            with mode, pytest.raises(RuntimeError) as raised:
                loss = (x.sqrt() * 0).sum()  # the forward call the warning points at
                loss.backward()
        messages.append(str(raised.value))
        forward = [str(w.message) for w in caught if "Traceback of forward call" in str(w.message)]
        assert forward and "the forward call the warning points at" in forward[0]
    assert messages[1] == messages[0] == "Function 'SqrtBackward0' returned nan values in its 0th output."
    # off again: the same backward gives NaN silently, and the node keeps no traceback
    x = ember.tensor([0.0, 1.0], device=device, requires_grad=True)
    loss = (x.sqrt() * 0).sum()
    assert "traceback_" not in getattr(loss.grad_fn, "metadata", {})
    loss.backward()
    assert bool(x.grad.isnan().any())


def test_anomaly_mode_check_nan_off_and_nesting():
    from ember.autograd.anomaly_mode import is_anomaly_check_nan_enabled, is_anomaly_enabled

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ember.autograd.detect_anomaly(check_nan=False):
            assert is_anomaly_enabled() and not is_anomaly_check_nan_enabled()
            x = ember.tensor([0.0], requires_grad=True)
            (x.sqrt() * 0).sum().backward()  # no check: no error
            with ember.autograd.set_detect_anomaly(False):
                assert not is_anomaly_enabled()
            assert is_anomaly_enabled()
    assert not is_anomaly_enabled() and is_anomaly_check_nan_enabled()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        @ember.autograd.detect_anomaly()
        def decorated():
            return is_anomaly_enabled()

        assert decorated() and not is_anomaly_enabled()
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        ember.autograd.detect_anomaly()


def test_set_multithreading_enabled_matches_torch():
    states = []
    for lib in (torch, ember):
        seen = [lib.autograd.is_multithreading_enabled()]
        with lib.autograd.grad_mode.set_multithreading_enabled(False):
            seen.append(lib.autograd.is_multithreading_enabled())
            x = lib.ones(2, requires_grad=True)
            (x * 3).sum().backward()  # backward runs the same either way
            seen.append(x.grad.tolist())

        inside = lib.autograd.set_multithreading_enabled(False)(lib.autograd.is_multithreading_enabled)
        seen += [inside(), lib.autograd.is_multithreading_enabled()]  # decorating leaves it set, as torch's
        lib.autograd.set_multithreading_enabled(True)
        states.append(seen)
    assert states[0] == states[1] == [True, False, [3.0, 3.0], False, False]


def test_jvp_of_det_as_torch():
    """det's backward is zero where ``grad * det`` is: the back trick must not differentiate it at a
    zero cotangent (it gave 0 where torch gives det(A) tr(A^-1 T))."""
    rng = np.random.default_rng(3)
    a, t = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    _, got = ember.autograd.functional.jvp(ember.linalg.det, ember.tensor(a), ember.tensor(t))
    _, expected = torch.autograd.functional.jvp(torch.linalg.det, torch.tensor(a), torch.tensor(t))
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-10)
