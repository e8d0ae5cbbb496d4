"""``bessel_y0``/``bessel_y1``, ``modified_bessel_k0``/``k1``, their scaled forms and ``airy_ai``
against ``torch.special`` in float64 and float32 (values over their whole range, the switches between
methods, the edges: 0, negative, infinite and NaN inputs, integer inputs; no gradient) and against
SciPy, whose float64 values are exact where torch's Y are off by up to 9e-7."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.special as S

torch = pytest.importorskip("torch")

NAMES = [
    "bessel_y0", "bessel_y1", "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
    "scaled_modified_bessel_k1", "airy_ai",
]  # fmt: skip

#: the switches between methods, and the edges
_POSITIVE = [1e-300, 1e-10, 0.5, 1.99, 2.01, 4.99, 5.01, 19.99, 20.01, 24.99, 25.01, 100.0, 700.0, 800.0]
_EDGES = [0.0, -0.0, -1.0, np.inf, -np.inf, np.nan]
_AIRY = [-60.0, -8.51, -8.49, -7.5, -2.5, -1.51, -1.49, 0.0, 1.99, 2.01, 11.99, 12.01, 103.8, 104.0, 200.0]


def _points(name):
    rng = np.random.default_rng(0)
    if name == "airy_ai":
        return np.concatenate([rng.uniform(-30, 30, 300), _AIRY, _EDGES])
    return np.concatenate([rng.uniform(0, 60, 300), rng.uniform(0, 3, 100), _POSITIVE, _EDGES])


def _amplitude(name, x):
    """The size of the function's oscillation (Y, Ai on the left), or of the value itself."""
    if name.startswith("bessel_y"):
        return np.minimum(1.0, np.sqrt(2 / (np.pi * np.maximum(np.abs(x), 1e-300))))
    if name == "airy_ai":
        with np.errstate(divide="ignore"):
            return np.where(x < 0, np.minimum(0.6, np.abs(x) ** -0.25 / np.sqrt(np.pi)), 0.0)
    return 0.0


def _assert_matches(got, want, name, x, rtol, atol):
    # float32's subnormals: torch's float32 kernels flush what ember rounds from float64
    floor = np.finfo(np.float32).tiny if got.dtype == np.float32 else 1e-300
    got, want = got.astype(np.float64), want.astype(np.float64)
    both_nan = np.isnan(got) & np.isnan(want)
    with np.errstate(invalid="ignore"):
        close = np.abs(got - want) <= rtol * np.abs(want) + atol * np.maximum(_amplitude(name, x), 1e-300) + floor
    ok = both_nan | (got == want) | close
    assert ok.all(), list(zip(x[~ok][:5], got[~ok][:5], want[~ok][:5]))


@pytest.mark.parametrize("name", NAMES)
def test_against_torch(name, device, dtype):
    x = _points(name)
    want = getattr(torch.special, name)(torch.tensor(x, dtype=getattr(torch, dtype.name))).numpy()
    got = getattr(S, name)(ember.tensor(x, dtype=dtype, device=device))
    assert got.dtype is dtype
    # torch's float64 Y and Ai carry Cephes' float32-grade coefficients (errors up to 9e-7)
    rtol, atol = (
        (1e-5, 1e-5) if dtype is ember.float32 or name in ("bessel_y0", "bessel_y1", "airy_ai") else (1e-13, 1e-15)
    )
    # float32: the argument of Y's and Ai's oscillation is rounded, and so is Ai's decay past 10
    if dtype is ember.float32 and name in ("bessel_y0", "bessel_y1", "airy_ai"):
        keep = (np.abs(x) < 25) | ~np.isfinite(x) | (name == "airy_ai") & (x > 0)
        x, want, got = x[keep], want[keep], got.cpu().numpy()[keep]
    else:
        got = got.cpu().numpy()
    if name == "airy_ai":
        rtol = max(rtol, 3e-5) if dtype is ember.float32 else rtol
    _assert_matches(got, want, name, x, rtol, atol)


@pytest.mark.parametrize("name", NAMES)
def test_against_scipy(name, device):
    if not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    special = pytest.importorskip("scipy.special")
    reference = {
        "bessel_y0": special.y0, "bessel_y1": special.y1, "modified_bessel_k0": special.k0,
        "modified_bessel_k1": special.k1, "scaled_modified_bessel_k0": special.k0e,
        "scaled_modified_bessel_k1": special.k1e, "airy_ai": lambda v: special.airy(v)[0],
    }[name]  # fmt: skip
    x = _points(name)
    x = x[np.isfinite(x) & (x != 0) & ((x > 0) | (name == "airy_ai")) & (x < 103)]
    got = getattr(S, name)(ember.tensor(x, dtype=ember.float64, device=device)).cpu().numpy()
    _assert_matches(got, reference(x), name, x, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_integer_input_and_no_gradient(name, device):
    x = ember.tensor([0.5, 2.0], device=device, requires_grad=True)
    y = getattr(S, name)(x)
    assert not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()
    got = getattr(S, name)(ember.tensor([1, 3], device=device))
    want = getattr(torch.special, name)(torch.tensor([1, 3]))
    assert got.dtype is ember.float32 and want.dtype is torch.float32
    np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=2e-6)
