"""The orthogonal polynomials of ``ember.special`` against ``torch.special``: values over a grid of
points and degrees (negative, fractional and non-finite degrees, points at and beyond the ends of
the interval, NaN) in float64 and float32, the degree as a tensor or a number, the result dtype of
mixed operands, no gradient, no float16 kernel."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.special as S

torch = pytest.importorskip("torch")

NAMES = [
    "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
    "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
    "legendre_polynomial_p",
]  # fmt: skip

POINTS = [-3.0, -1.0, -0.999999, -0.7, -0.5, -1e-20, 0.0, 0.3, 0.5, 0.7, 0.999, 1.0, 1.0000001, 1.5, 3.0]
POINTS += [np.nan, np.inf, -np.inf]
DEGREES = [-3, -1, 0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 20, 50, 129, 200, 2.7, -0.5, np.nan, np.inf]


def _close(got, want, dtype):
    """Equal, both NaN, or within the rounding a recurrence of these degrees gathers in ``dtype``."""
    got = got.cpu().numpy().astype(np.float64)
    want = want.numpy().astype(np.float64)
    tol = 1e-11 if dtype is ember.float64 else 2e-4
    with np.errstate(invalid="ignore"):  # inf - inf
        close = np.abs(got - want) <= tol * np.maximum(np.abs(want), 1)
    same = (np.isnan(got) & np.isnan(want)) | (got == want) | close
    assert same.all(), list(zip(got[~same][:5], want[~same][:5]))


@pytest.mark.parametrize("name", NAMES)
def test_polynomial_grid(name, device, dtype):
    x, n = (a.ravel() for a in np.meshgrid(np.array(POINTS), np.array(DEGREES, dtype=np.float64), indexing="ij"))
    want = getattr(torch.special, name)(
        torch.tensor(x, dtype=getattr(torch, dtype.name)), torch.tensor(n, dtype=getattr(torch, dtype.name))
    )
    got = getattr(S, name)(ember.tensor(x, dtype=dtype, device=device), ember.tensor(n, dtype=dtype, device=device))
    assert got.dtype is dtype
    _close(got, want, dtype)


@pytest.mark.parametrize("degree", [0, 3, 7, 2.9, -2, 100])
@pytest.mark.parametrize("name", NAMES)
def test_degree_as_a_number(name, degree, device, dtype):
    x = np.array([-1.5, -1.0, -0.3, 0.0, 0.4, 1.0, 2.0])
    want = getattr(torch.special, name)(torch.tensor(x, dtype=getattr(torch, dtype.name)), degree)
    got = getattr(S, name)(ember.tensor(x, dtype=dtype, device=device), degree)
    assert got.dtype is dtype
    _close(got, want, dtype)


#: (x, n) makers -> the operands' types (a tensor of a dtype, or a Python number)
PROMOTIONS = [
    ("float32", "int64"),
    ("float32", "float64"),
    ("float32", "0-d float64"),
    ("int64", "int64"),
    ("bool", "bool"),
    ("number", "int64"),
    ("number", "float64"),
    ("float64", "number"),
    ("int32", "number"),
]


def _operand(T, kind, values, device):
    if kind == "number":
        return float(values[0])
    if kind.startswith("0-d "):
        return T.tensor(float(values[0]), dtype=getattr(T, kind[4:]), device=device)
    return T.tensor(values, device=device).to(getattr(T, kind))


@pytest.mark.parametrize("kinds", PROMOTIONS, ids="-".join)
def test_result_type(kinds, device):
    name = "legendre_polynomial_p"
    x_kind, n_kind = kinds

    def run(T, dev):
        return getattr(T.special, name)(_operand(T, x_kind, [0.0, 1.0], dev), _operand(T, n_kind, [3.0, 2.0], dev))

    if "float64" in kinds and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    want, got = run(torch, "cpu"), run(ember, device)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_allclose(got.cpu().numpy(), want.numpy())


@pytest.mark.parametrize("name", NAMES)
def test_no_gradient_and_no_half(name, device):
    x = ember.tensor([0.5, 1.5], device=device, requires_grad=True)
    n = ember.tensor([2.0, 3.0], device=device, requires_grad=True)
    y = getattr(S, name)(x, n)
    assert not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()
    with pytest.raises(NotImplementedError, match="not implemented for 'Half'"):
        getattr(S, name)(ember.tensor([0.5], dtype=ember.float16, device=device), 2)
    with pytest.raises(NotImplementedError):
        getattr(torch.special, name)(torch.tensor([0.5], dtype=torch.float16), 2)
