"""The sign of a zero result, checked against PyTorch (``signbit``) on every test device.

Only ops whose zero sign PyTorch gives consistently are compared: PyTorch's own ``softshrink``,
``maximum``/``minimum`` and tensor-bound ``clamp`` give ``-0.0`` or ``0.0`` depending on whether
an element falls in a vectorized block or in the scalar tail, so no sign is specified for them.
"""

import numpy as np
import pytest

import ember
import ember.nn.functional as F

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402

VALUES = [-4.0, -2.0, -1.0, -0.3, -0.0, 0.0, 0.3, 1.0, 2.0, 3.0, 4.0, 7.0]


def _functional(T):
    return TF if T is torch else F


OPS = {
    "remainder": lambda T, x: T.remainder(x, 2),
    "remainder_negative_divisor": lambda T, x: T.remainder(x, -2),
    "remainder_tensor": lambda T, x: T.remainder(x, T.full_like(x, -2.0)),
    "remainder_of_negative_zero": lambda T, x: T.remainder(T.zeros_like(x) * -1, x),
    "mod_operator": lambda T, x: x % 2,
    "fmod": lambda T, x: T.fmod(x, 2),
    "fmod_negative_divisor": lambda T, x: T.fmod(x, -2),
    "clamp_min": lambda T, x: T.clamp(x, min=0.0),
    "clamp_min_negative_zero": lambda T, x: T.clamp(x, min=-0.0),
    "clamp_max_negative_zero": lambda T, x: T.clamp(x, max=-0.0),
    "clamp_both": lambda T, x: T.clamp(x, -1.0, 0.0),
    "clip": lambda T, x: x.clip(0.0, 1.0),
    "hardshrink": lambda T, x: _functional(T).hardshrink(x, 0.5),
    "threshold": lambda T, x: _functional(T).threshold(x, 0.5, 0.0),
    "threshold_value_negative_zero": lambda T, x: _functional(T).threshold(x, 0.0, -0.0),
    "relu": lambda T, x: _functional(T).relu(x),
    "relu_method": lambda T, x: x.relu(),
    "sign": lambda T, x: T.sign(x),
    "hardtanh": lambda T, x: _functional(T).hardtanh(x, 0.0, 1.0),
    "relu6": lambda T, x: _functional(T).relu6(x),
    "elu": lambda T, x: _functional(T).elu(x),
    "selu": lambda T, x: _functional(T).selu(x),
    "celu": lambda T, x: _functional(T).celu(x, 2.0),
    "leaky_relu": lambda T, x: _functional(T).leaky_relu(x),
    "xlogy": lambda T, x: T.xlogy(x * 0, T.ones_like(x)),
    "floor_divide": lambda T, x: T.floor_divide(x, 5),
    "div_trunc": lambda T, x: T.div(x, 5, rounding_mode="trunc"),
    "trunc": lambda T, x: T.trunc(x * 0.1),
    "round": lambda T, x: T.round(x * 0.1),
    "digamma": lambda T, x: T.digamma(x),  # the pole at zero: +inf at -0.0, -inf at +0.0
}


@pytest.mark.parametrize("name", list(OPS))
def test_sign_of_zero_matches_pytorch(name, device, dtype):
    fn = OPS[name]
    torch_dtype = getattr(torch, str(dtype).split(".")[-1])
    expected = fn(torch, torch.tensor(VALUES, dtype=torch_dtype))
    actual = fn(ember, ember.tensor(VALUES, dtype=dtype, device=device)).cpu().numpy()
    np.testing.assert_allclose(actual, expected.numpy(), rtol=1e-6, atol=1e-7)
    finite = ~np.isnan(actual)  # a NaN's sign bit is not specified
    np.testing.assert_array_equal(np.signbit(actual)[finite], torch.signbit(expected).numpy()[finite])


@pytest.mark.parametrize("name", ["hardtanh", "relu6", "clamp_min", "relu"])
def test_edges_keep_the_gradient_rule(name, device):
    """Keeping ``x`` on an edge must not change the gradient there (0 for hardtanh, 1 for clamp)."""
    fn = OPS[name]
    values = [-1.0, -0.0, 0.0, 0.5, 1.0, 6.0, 7.0]
    x = ember.tensor(values, dtype=ember.float64, device=device, requires_grad=True)
    fn(ember, x).sum().backward()
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    fn(torch, t).sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), t.grad.numpy())


NAN_OPS = {
    **{name: OPS[name] for name in ("relu", "relu6", "hardtanh", "elu", "leaky_relu", "clamp_min", "hardshrink")},
    "softshrink": lambda T, x: _functional(T).softshrink(x, 0.5),
    "sign": lambda T, x: T.sign(x),
    "sgn": lambda T, x: T.sgn(x),
    "threshold": lambda T, x: _functional(T).threshold(x, 0.0, 0.0),
    "celu": lambda T, x: _functional(T).celu(x),
    "selu": lambda T, x: _functional(T).selu(x),
    "softplus": lambda T, x: _functional(T).softplus(x),
    "hardswish": lambda T, x: _functional(T).hardswish(x),
    "hardsigmoid": lambda T, x: _functional(T).hardsigmoid(x),
}


@pytest.mark.parametrize("name", list(NAN_OPS))
def test_nan_and_infinities_match_pytorch(name, device, dtype):
    """NaN propagates (or, for sign, maps to 0) and infinities map as in PyTorch."""
    fn = NAN_OPS[name]
    values = [float("nan"), float("inf"), -float("inf"), -0.25, 0.25]
    torch_dtype = getattr(torch, str(dtype).split(".")[-1])
    expected = fn(torch, torch.tensor(values, dtype=torch_dtype)).numpy()
    actual = fn(ember, ember.tensor(values, dtype=dtype, device=device)).cpu().numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-7, equal_nan=True)
