"""Activations: functional and module forms against PyTorch, in-place, gradchecks, errors, seed examples."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from reference import assert_close, check, randn, to_torch

import ember
import ember.nn.functional as F
from ember import nn
from ember.autograd import Variable, gradcheck, gradgradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional

# (name, positional args, keyword args); away from the kinks so finite differences agree
ELEMENTWISE = [
    ("relu", (), {}),
    ("relu6", (), {}),
    ("elu", (0.7,), {}),
    ("selu", (), {}),
    ("celu", (1.3,), {}),
    ("leaky_relu", (0.2,), {}),
    ("hardtanh", (-2.0, 2.0), {}),
    ("threshold", (0.1, 20.0), {}),
    ("gelu", (), {}),
    ("gelu", (), {"approximate": "tanh"}),
    ("silu", (), {}),
    ("mish", (), {}),
    ("logsigmoid", (), {}),
    ("hardshrink", (0.5,), {}),
    ("tanhshrink", (), {}),
    ("softsign", (), {}),
    ("softplus", (2.0, 3.0), {}),
    ("softshrink", (0.5,), {}),
    ("hardsigmoid", (), {}),
    ("hardswish", (), {}),
    ("tanh", (), {}),
    ("sigmoid", (), {}),
    ("rrelu", (), {}),
    ("glu", (), {"dim": 1}),
    ("softmax", (), {"dim": 1}),
    ("softmax", (), {"dim": 0}),
    ("log_softmax", (), {"dim": -1}),
    ("softmin", (), {"dim": 1}),
]


def _input():
    x = randn(3, 4) * 3
    x[np.abs(x) < 0.05] = 0.3  # keep away from kinks
    return x


@pytest.mark.parametrize("name,args,kwargs", ELEMENTWISE, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(ELEMENTWISE)])
def test_functional_matches_torch(name, args, kwargs, device, dtype):
    check(
        lambda x: getattr(F, name)(x, *args, **kwargs),
        lambda x: getattr(TF, name)(x, *args, **kwargs),
        [_input()],
        device=device,
        dtype=dtype,
    )


MODULES = [
    ("ReLU", ()),
    ("ReLU6", ()),
    ("ELU", (0.5,)),
    ("SELU", ()),
    ("CELU", (0.8,)),
    ("GELU", ()),
    ("SiLU", ()),
    ("Mish", ()),
    ("LeakyReLU", (0.1,)),
    ("Threshold", (0.1, 20.0)),
    ("Hardtanh", (-2.0, 2.0)),
    ("Hardsigmoid", ()),
    ("Hardswish", ()),
    ("Sigmoid", ()),
    ("Tanh", ()),
    ("LogSigmoid", ()),
    ("Softplus", (1.5, 10.0)),
    ("Softshrink", (0.3,)),
    ("Hardshrink", (0.3,)),
    ("Softsign", ()),
    ("Tanhshrink", ()),
    ("Softmin", (1,)),
    ("Softmax", (1,)),
    ("LogSoftmax", (1,)),
    ("GLU", (-1,)),
]


@pytest.mark.parametrize(
    "name, args",
    [("hardswish", ()), ("hardsigmoid", ()), ("rrelu", (0.1, 0.3)), ("leaky_relu", (0.2,)), ("relu6", ())]
    + [("hardtanh", (-1.0, 2.0)), ("threshold", (0.5, 20.0)), ("softshrink", (0.5,)), ("hardshrink", (0.5,))],
)
def test_gradient_at_the_kinks_matches_torch(name, args, device, dtype):
    """The one-sided choices at the breakpoints are PyTorch's: hardswish's gradient is 0 at -3 and
    1 at 3, rrelu's (evaluation) is the slope at 0 (ember once gave -0.5, 1.5 and 1)."""
    x = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, 6.0, -6.0])
    check(lambda t: getattr(F, name)(t, *args), lambda t: getattr(TF, name)(t, *args), [x], device=device, dtype=dtype)


@pytest.mark.parametrize("name,args", MODULES, ids=[m[0] for m in MODULES])
def test_module_matches_torch(name, args, device, dtype):
    m, tm = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(m) == repr(tm)
    check(m, tm, [_input()], device=device, dtype=dtype)


@pytest.mark.parametrize(
    "name", ["ReLU", "ReLU6", "SELU", "CELU", "ELU", "Hardtanh", "LeakyReLU", "RReLU", "SiLU", "Mish",
             "Hardsigmoid", "Hardswish"],
)  # fmt: skip
def test_inplace_module_repr_matches_torch(name):
    """Hardsigmoid and Hardswish print no options even in place, as PyTorch (ember printed inplace=True)."""
    assert repr(getattr(nn, name)(inplace=True)) == repr(getattr(torch.nn, name)(inplace=True))


def test_softmax2d(device, dtype):
    check(nn.Softmax2d(), torch.nn.Softmax2d(), [randn(2, 3, 2, 2)], device=device, dtype=dtype)
    with pytest.raises(ValueError):
        nn.Softmax2d()(ember.randn(3, 4, device=device))


@pytest.mark.parametrize("channels", [1, 3])
def test_prelu_parameter_grad(channels, device, dtype):
    m, tm = nn.PReLU(channels, init=0.2), torch.nn.PReLU(channels, init=0.2)
    m = m.to(device=device, dtype=dtype)
    tm = tm.to(getattr(torch, dtype.name))
    x = _input().reshape(2, 3, 2)
    check(m, tm, [x], device=device, dtype=dtype)
    assert_close(m.weight.grad, tm.weight.grad, dtype, what="PReLU weight grad")
    assert repr(m) == repr(tm)


@pytest.mark.parametrize("name,args", [("relu", ()), ("elu", (0.5,)), ("leaky_relu", (0.1,)), ("hardtanh", (-0.5, 0.5)),
                                       ("threshold", (0.2, -1.0)), ("selu", ()), ("celu", (1.0,)), ("rrelu", ())])  # fmt: skip
def test_inplace_matches_and_bumps_version(name, args, device, dtype):
    x = _input()
    leaf = ember.tensor(x, dtype=dtype, device=device, requires_grad=True)
    y = leaf * 1.0
    version = y._version
    out = getattr(F, name)(y, *args, inplace=True)
    assert out is y and y._version > version
    tleaf = torch.tensor(x, dtype=getattr(torch, dtype.name), requires_grad=True)
    tout = getattr(TF, name)(tleaf * 1.0, *args, inplace=True)
    assert_close(out, tout, dtype)
    out.sum().backward()
    tout.sum().backward()
    assert_close(leaf.grad, tleaf.grad, dtype)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        getattr(F, name)(leaf, *args, inplace=True)


def test_inplace_module_and_functional_underscore(device):
    x = ember.tensor([-1.0, 2.0], device=device)
    assert nn.ReLU(inplace=True)(x) is x
    assert x.tolist() == [0.0, 2.0]
    y = ember.tensor([-1.0, 2.0], device=device)
    F.relu_(y)
    assert y.tolist() == [0.0, 2.0]
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"


def test_rrelu_train_and_eval(device):
    m = nn.RReLU(0.1, 0.3)
    x = -ember.ones(1000, device=device)
    y = m(x)
    slopes = -y.cpu().numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.01
    m.eval()
    np.testing.assert_allclose(m(x).cpu().numpy(), -0.2)


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
def test_rrelu_training_draws_torchs_slopes_on_cpu(dtype_name):
    """From the same seed, rrelu in training gives PyTorch's CPU values and gradients: a double drawn per
    element <= 0 in row-major order (NaN and positives keep slope 1), and the generator ends where torch's does."""
    data = np.random.default_rng(0).standard_normal((7, 9))
    data[0, 0], data[1, 1] = 0.0, np.nan
    results = []
    for lib, functional in ((torch, TF), (ember, F)):
        x = lib.tensor(data, dtype=getattr(lib, dtype_name), requires_grad=True)
        lib.manual_seed(3)
        y = functional.rrelu(x, 0.1, 0.3, training=True)
        y.sum().backward()
        module = (torch.nn if lib is torch else nn).RReLU()(x.detach()[2:].t())
        results.append([y.detach().numpy(), x.grad.numpy(), module.numpy(), lib.rand(3).numpy()])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_array_equal(ours, theirs)


def test_rrelu_training_refuses_float16_on_cpu():
    for functional, lib in ((TF, torch), (F, ember)):
        with pytest.raises(NotImplementedError, match="rrelu_with_noise_out_cpu"):
            functional.rrelu(-lib.ones(3, dtype=lib.float16), training=True)


def test_hardtanh_legacy_kwargs():
    with pytest.warns(FutureWarning):
        m = nn.Hardtanh(min_value=-2, max_value=3)
    assert (m.min_val, m.max_val) == (-2, 3)


def test_softmax_implicit_dim_warns(device):
    x = randn(2, 3)
    for ndim_input, dim in ((randn(3), 0), (x, 1), (randn(2, 3, 4), 0), (randn(2, 3, 4, 5), 1)):
        with pytest.warns(UserWarning, match="Implicit dimension choice"):
            out = F.softmax(ember.tensor(ndim_input, device=device))
        assert_close(out, TF.softmax(torch.tensor(ndim_input), dim=dim))


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax, F.softmin])
def test_softmax_family_gradgradcheck(fn, device):
    x = ember.tensor(randn(3, 4), device=device, requires_grad=True)
    assert gradcheck(lambda t: fn(t, dim=1), (x,))
    assert gradgradcheck(lambda t: fn(t, dim=1), (x,))


@pytest.mark.parametrize("name", ["elu", "gelu", "softplus", "mish", "logsigmoid", "silu", "selu"])
def test_gradcheck_smooth(name, device):
    x = ember.tensor(_input(), device=device, requires_grad=True)
    assert gradcheck(getattr(F, name), (x,))
    assert gradgradcheck(getattr(F, name), (x,))


def test_softmax_dtype_argument(device):
    x = ember.tensor(randn(2, 3), dtype=ember.float32, device=device)
    assert F.softmax(x, 1, dtype=ember.float64).dtype is ember.float64


def test_errors(device):
    with pytest.raises(TypeError):
        F.relu([1.0, 2.0])
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        F.glu(ember.randn(2, 3, device=device), 1)
    with pytest.raises(RuntimeError, match="approximate"):
        F.gelu(ember.randn(2, device=device), approximate="fast")
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers"):
        F.prelu(ember.randn(2, 3, device=device), ember.ones(4, device=device))
    with pytest.raises(IndexError):
        F.softmax(ember.randn(2, 3, device=device), dim=2)
    for low, high in ((1, -1), (1, 1)):  # PyTorch asserts in the module
        with pytest.raises(AssertionError, match="must be greater than min_val"):
            nn.Hardtanh(low, high)
        with pytest.raises(AssertionError):
            torch.nn.Hardtanh(low, high)
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(ember.randn(2, device=device), 1.0, -1.0)


def test_seed_examples():
    for name, args in [("ReLU", ()), ("ReLU6", ()), ("ELU", ()), ("SELU", ()), ("PReLU", ()), ("LeakyReLU", (0.1,)),
                       ("Hardtanh", (-2, 2)), ("Sigmoid", ()), ("Tanh", ()), ("LogSigmoid", ()), ("Softplus", ()),
                       ("Softshrink", ()), ("Softsign", ()), ("Tanhshrink", ())]:  # fmt: skip
        m = getattr(nn, name)(*args)
        input = Variable(ember.randn(2))
        assert m(input).shape == (2,)
    m = nn.Threshold(0.1, 20)
    input = Variable(ember.randn(2))
    assert m(input).shape == (2,)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in ("Softmin", "Softmax", "LogSoftmax"):
            m = getattr(nn, name)()
            input = Variable(ember.randn(2, 3))
            assert m(input).shape == (2, 3)
    m = nn.Softmax2d()
    input = Variable(ember.randn(2, 3, 12, 13))
    out = m(input)
    np.testing.assert_allclose(out.sum(1).detach().numpy(), 1, rtol=1e-5)
    assert to_torch(out).shape == (2, 3, 12, 13)


@pytest.mark.parametrize("block_bytes", [None, 1])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("min_masked", [0, None])
def test_numpy_relu_backward_agrees_with_portable(
    dtype, threads, block_bytes, min_masked, numpy_and_portable_kernels, monkeypatch
):
    """The NumPy ReLU backward (mask ``y != 0``) against the portable one on ReLU outputs with zeros,
    ``-0.``, NaN and inf, on 1 and 2 threads, in one block or blocks of one row; a 0-d output too;
    the masked path at every size (``MIN_MASKED`` 0) and as it serves (small gradients: the portable one)."""
    from ember.backends.numpy.kernels import activation as numpy_activation

    if min_masked is not None:
        monkeypatch.setattr(numpy_activation, "MIN_MASKED", min_masked)
    backend, portable = numpy_and_portable_kernels(numpy_activation, threads, block_bytes)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 3, 4)).astype(dtype)
    x[0, 0, :4] = [0.0, -0.0, np.nan, -np.inf]
    x[1, 1, 1] = np.inf
    y = np.maximum(np.zeros((), dtype=dtype), x)
    grad = rng.standard_normal(x.shape).astype(dtype)
    grad[2, 2, 2] = np.inf
    for g, out in ((grad, y), (grad[0, 0, 2], y[0, 0, 2])):
        mine = backend.kernels.relu_backward(g, out)
        assert mine.dtype == dtype
        np.testing.assert_array_equal(mine, portable.relu_backward(g, out))


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("dim", [-1, 0])
def test_16_bit_log_softmax_rounds_as_torchs_kernels(dtype, dim):
    """Over the last dimension torch rounds the row's sum of exponentials and its log to the dtype
    before the subtraction; over another it rounds once. Bit for bit, both ways."""
    source = torch.randn(64, 100, generator=torch.Generator().manual_seed(0)).to(getattr(torch, dtype))
    x = ember.tensor(source.float().numpy()).to(getattr(ember, dtype))
    expected = torch.log_softmax(source, dim).float().numpy()
    np.testing.assert_array_equal(F.log_softmax(x, dim).float().numpy(), expected)
