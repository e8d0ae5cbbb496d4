"""Gradients through complex tensors against PyTorch's: the conjugate Wirtinger convention,
``backward()`` of a real loss computed from complex intermediates."""

from __future__ import annotations

import numpy as np
import pytest
from complex_support import assert_same, complex_data, pair, torch

import ember

HOLOMORPHIC = [
    "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "sin", "cos", "tan", "asin", "acos", "atan",
    "sinh", "cosh", "tanh", "sigmoid", "reciprocal", "neg", "square", "conj",
]  # fmt: skip

FUNCTIONS = {
    "abs": lambda m, z, w: z.abs(),
    "angle": lambda m, z, w: z.angle(),
    "sgn": lambda m, z, w: z.sgn(),
    "real": lambda m, z, w: z.real,
    "imag": lambda m, z, w: z.imag,
    "view_as_real": lambda m, z, w: m.view_as_real(z),
    "view_as_complex": lambda m, z, w: m.view_as_complex(m.view_as_real(z) * 2),
    "mul": lambda m, z, w: z * w,
    "div": lambda m, z, w: z / w,
    "rdiv": lambda m, z, w: w / z,
    "pow tensor": lambda m, z, w: z**w,
    "pow scalar": lambda m, z, w: z**2.5,
    "pow complex scalar": lambda m, z, w: z ** (1 - 0.5j),
    "rpow": lambda m, z, w: 2**z,
    "complex rpow": lambda m, z, w: (1 + 1j) ** z,
    "add sub": lambda m, z, w: z + w - 3j,
    "sum": lambda m, z, w: (z * w).sum(0),
    "mean": lambda m, z, w: z.mean(),
    "prod": lambda m, z, w: z.prod(1),
    "matmul": lambda m, z, w: z @ w.mT,
    "mH": lambda m, z, w: z.mH @ w,
    "z times conj z": lambda m, z, w: z * z.conj(),
    "complex()": lambda m, z, w: m.complex(z.real * 2, z.imag.exp()),
    "polar()": lambda m, z, w: m.polar(z.abs(), z.angle() + 0.5),
    "to complex128": lambda m, z, w: z.to(m.complex128) * w.to(m.complex128),
    "sinc": lambda m, z, w: z.sinc(),
    "float_power": lambda m, z, w: m.float_power(z, 2),
    "vdot": lambda m, z, w: m.vdot(z[0], w[1]),
    "logsumexp": lambda m, z, w: z.logsumexp(1),
    "asinh": lambda m, z, w: z.asinh(),
    "acosh": lambda m, z, w: z.acosh(),
    "atanh": lambda m, z, w: z.atanh(),
    "var": lambda m, z, w: z.var(1),
    "std": lambda m, z, w: z.std(),
    "norm": lambda m, z, w: z.norm(),
    "norm p=3": lambda m, z, w: z.norm(p=3, dim=0),
    "vector_norm inf": lambda m, z, w: m.linalg.vector_norm(z, float("inf"), dim=1),
    "linalg.norm": lambda m, z, w: m.linalg.norm(z),
    "cumprod": lambda m, z, w: z.cumprod(1),
    "lerp": lambda m, z, w: m.lerp(z, w, 0.7 - 0.2j),
    "lerp tensor weight": lambda m, z, w: m.lerp(w, z, z * 0.2),
    "linear": lambda m, z, w: m.nn.functional.linear(z, w, w[0, :2]),
    "conv1d": lambda m, z, w: m.nn.functional.conv1d(z.unsqueeze(0), w.reshape(1, 2, 3), padding=1),
    "conv2d": lambda m, z, w: m.nn.functional.conv2d(z.reshape(1, 1, 2, 3), w.reshape(1, 1, 2, 3), padding=1),
}


def _loss(out, weights):
    """A real loss that reads every part of ``out`` with its own weight."""
    if out.dtype.is_complex:
        return (out * weights).real.sum()
    return (out * weights.real).sum()


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("name", HOLOMORPHIC + list(FUNCTIONS))
def test_gradient_as_torch(dtype, name):
    values = complex_data(2, 3)
    z, tz = pair(values, dtype, requires_grad=True)
    w, tw = pair(complex_data(2, 3, seed=1), dtype)
    fn = FUNCTIONS.get(name) or (lambda m, x, _: getattr(m, name)(x))
    out, tout = fn(ember, z, w), fn(torch, tz, tw)
    assert_same(out, tout, rtol=1e-4, atol=1e-4)
    weights, tweights = pair(complex_data(*tout.shape, seed=2), dtype)
    _loss(out, weights).backward()
    _loss(tout, tweights).backward()
    assert_same(z.grad, tz.grad, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_real_leaf_through_complex_intermediates(dtype):
    x, tx = pair(np.random.default_rng(0).standard_normal(4), dtype, requires_grad=True)
    for m, leaf in ((ember, x), (torch, tx)):
        y = leaf * (1 + 2j)
        ((y * y.conj()).real.sum() + (y.exp() * 1j).abs().sum() + m.view_as_real(y).sum()).backward()
    assert_same(x.grad, tx.grad)


def test_abs_backward_at_zero_and_loss_of_abs():
    z, tz = pair([0j, 3 + 4j], "complex64", requires_grad=True)
    z.abs().sum().backward()
    tz.abs().sum().backward()
    assert_same(z.grad, tz.grad)


def test_backward_of_complex_output_needs_a_gradient():
    z = ember.tensor([1j], requires_grad=True)
    with pytest.raises(RuntimeError, match="only for real scalar outputs but got ember.complex64"):
        (z * 2).sum().backward()
    with pytest.raises(RuntimeError, match="only for real scalar outputs but got ember.complex64"):
        ember.autograd.grad((z * 2).sum(), z)


def test_complex_linear_layer_gradients_and_init():
    layer = ember.nn.Linear(4, 3, dtype=ember.cfloat)
    assert layer.weight.dtype is ember.complex64 and layer.bias.dtype is ember.complex64
    reference = torch.nn.Linear(4, 3, dtype=torch.cfloat)
    with torch.no_grad():
        reference.weight.copy_(torch.from_numpy(layer.weight.detach().numpy()))
        reference.bias.copy_(torch.from_numpy(layer.bias.detach().numpy()))
    x, tx = pair(complex_data(5, 4), "complex64")
    (layer(x).abs() ** 2).mean().backward()
    (reference(tx).abs() ** 2).mean().backward()
    assert_same(layer.weight.grad, reference.weight.grad, rtol=1e-4, atol=1e-5)
    assert_same(layer.bias.grad, reference.bias.grad, rtol=1e-4, atol=1e-5)


def test_complex_uniform_and_normal_fill_each_part():
    ember.manual_seed(0)
    u = ember.empty(20000, dtype=ember.cdouble).uniform_(2.0, 3.0)
    assert 2.0 <= u.real.min().item() and u.imag.max().item() < 3.0
    n = ember.empty(20000, dtype=ember.cfloat).normal_(1.0, 2.0)
    assert abs(n.imag.mean().item() - 1.0) < 0.05 and abs(n.real.std().item() - 2.0**0.5) < 0.05


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("SGD", {"lr": 0.1, "momentum": 0.9}),
        ("Adam", {"lr": 0.1}),
        ("AdamW", {"lr": 0.1, "amsgrad": True}),
        ("RMSprop", {"lr": 0.01, "centered": True}),
        ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5}),
        ("Adamax", {"lr": 0.1}),
        ("NAdam", {"lr": 0.1}),
        ("RAdam", {"lr": 0.1}),
        ("Adadelta", {"lr": 1.0}),
        ("ASGD", {"lr": 0.1}),
        ("Rprop", {"lr": 0.1}),
    ],
)
def test_optimizers_update_complex_parameters_as_torch(name, kwargs):
    # PyTorch's optimizers update a complex parameter as the real view of its parts
    start, target = complex_data(5), complex_data(5, seed=1)
    params = []
    for m in (ember, torch):
        p = m.tensor(start, dtype=m.complex64, requires_grad=True)
        goal = m.tensor(target, dtype=m.complex64)
        opt = getattr(m.optim, name)([p], **kwargs)
        for _ in range(3):
            opt.zero_grad()
            ((p - goal).abs() ** 2).sum().backward()
            opt.step()
        params.append(p)
    assert_same(params[0], params[1], rtol=1e-4, atol=1e-5)


def test_adafactor_refuses_complex_parameters():
    p = ember.tensor([1j], requires_grad=True)
    p.grad = ember.tensor([1 + 0j])
    with pytest.raises(RuntimeError, match="Adafactor does not support complex parameters"):
        ember.optim.Adafactor([p]).step()
