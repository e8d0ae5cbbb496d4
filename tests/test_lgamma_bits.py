"""lgamma against PyTorch: exact at the special values in every floating dtype, within a few units in the
last place elsewhere (PyTorch's float64 kernel is MKL's vector math, which no C library reproduces bit for
bit), and near the zeros at 1 and 2, where the portable series lost up to 1e8 units, within one on the
NumPy backend (the C library's ``lgamma``); float32 and 16-bit values rounded from float64 as PyTorch's."""

import math

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

DTYPES = ["float64", "float32", "float16", "bfloat16"]
_MANTISSA = {"float64": 52, "float32": 23, "float16": 10, "bfloat16": 7}
SPECIAL = [
    math.nan, math.inf, -math.inf, 0.0, -0.0, -1.0, -2.0, -170.0, 1.0, 2.0, 1e-300, -1e-300, 5e-324, 1e300,
    1.7e308, -1e-30, 1e-30,
]  # fmt: skip


def _grid(seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([
        rng.uniform(-40, 40, 4000),  # negative non-integers among them
        1 + rng.uniform(-1e-3, 1e-3, 1000),
        2 + rng.uniform(-1e-3, 1e-3, 1000),
        np.exp(rng.uniform(-700, -5, 500)) * rng.choice([-1.0, 1.0], 500),
        np.exp(rng.uniform(5, 709, 500)),
    ])  # fmt: skip


def _ulps(got, want, dtype):
    """The largest distance of ``got`` from ``want`` (float64 arrays of ``dtype``'s values) in ``want``'s ulps."""
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    scale = np.maximum(np.abs(np.where(np.isfinite(want), want, 0.0)), torch.finfo(getattr(torch, dtype)).tiny)
    ulp = 2.0 ** (np.floor(np.log2(scale)) - _MANTISSA[dtype])
    with np.errstate(invalid="ignore"):
        return float(np.max(np.where(same, 0.0, np.abs(got - want) / ulp), initial=0.0))


def _both(values, dtype, device):
    try:
        x = ember.tensor(values, dtype=ember.float64, device=device).to(getattr(ember, dtype))
    except TypeError as error:  # a backend without the dtype (OpenCL's bfloat16)
        pytest.skip(str(error))
    got = ember.lgamma(x)
    want = torch.lgamma(torch.tensor(values, dtype=torch.float64).to(getattr(torch, dtype)))
    assert str(got.dtype) == str(want.dtype).replace("torch", "ember")
    return got.to(ember.float64).cpu().numpy(), want.double().numpy()


@pytest.mark.parametrize("dtype", DTYPES)
def test_special_values_exact(device, dtype):
    got, want = _both(SPECIAL, dtype, device)
    np.testing.assert_array_equal(got, want)  # (NaN where NaN; inf at the poles and infinities)


def test_pole_signs_and_negative_integers(device):
    values = [-float(k) for k in range(0, 50)] + [-0.0]
    got, want = _both(values, "float64", device)
    np.testing.assert_array_equal(got, want)
    assert np.all(got == math.inf)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_narrow_dtypes_grid(device, dtype):
    got, want = _both(_grid(), dtype, device)
    assert _ulps(got, want, dtype) <= (4 if dtype == "float32" else 1)


def test_float64_grid_cpu():
    got, want = _both(_grid(), "float64", "cpu")
    assert _ulps(got, want, "float64") <= 16


@pytest.mark.parametrize("centre", [1.0, 2.0])
def test_float64_near_zeros_cpu(centre):
    x = centre + np.random.default_rng(1).uniform(-1e-3, 1e-3, 2000)
    got, want = _both(x, "float64", "cpu")
    assert _ulps(got, want, "float64") <= 1


def test_portable_kernel_without_numba(monkeypatch):
    """Without the compiled loops the NumPy backend computes the portable series (Python's math.lgamma is not the
    C library's): finite and within an absolute 1e-14 of PyTorch, exact at the special values."""
    from ember.backends.numpy import loops

    monkeypatch.setattr(loops, "serial", lambda: None)
    got, want = _both(_grid(), "float64", "cpu")
    finite = np.isfinite(want)
    np.testing.assert_array_equal(np.isfinite(got), finite)
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(*_both(SPECIAL, "float64", "cpu"))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_gradient_is_digamma(device, dtype):
    x = np.array([0.3, 1.0, 1.5, 2.0, 7.25, -0.5, -2.75])
    a = ember.tensor(x, dtype=getattr(ember, dtype), device=device, requires_grad=True)
    b = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
    ember.lgamma(a).sum().backward()
    torch.lgamma(b).sum().backward()
    np.testing.assert_array_equal(a.grad.cpu().numpy(), b.grad.numpy())
    assert type(ember.lgamma(a).grad_fn).__name__ == type(torch.lgamma(b).grad_fn).__name__


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_mvlgamma(device, dtype):
    """Within 4 ulps on the NumPy backend; the portable series elsewhere, within an absolute 1e-14."""
    eps = np.finfo(dtype).eps
    rtol, atol = (4 * eps, 0.0) if device == "cpu" or dtype == "float32" else (1e-13, 1e-14)
    x = np.array([2.5, 3.0, 10.75, 1.5001])
    for p in (1, 2, 3):
        got = ember.mvlgamma(ember.tensor(x, dtype=getattr(ember, dtype), device=device), p).cpu().numpy()
        want = torch.mvlgamma(torch.tensor(x, dtype=getattr(torch, dtype)), p).numpy()
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
