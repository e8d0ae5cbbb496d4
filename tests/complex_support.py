"""Helpers of the complex-number tests: the same complex data in ember and torch, compared with
dtypes and gradients, and the device check (backends without complex dtypes refuse them)."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

_TOLERANCES = {"complex64": (1e-5, 1e-5), "complex128": (1e-12, 1e-12), "float32": (1e-5, 1e-5)}


def holds_complex(device: str) -> bool:
    """Whether ``device``'s backend registers the complex dtypes."""
    try:
        ember.zeros(1, dtype=ember.complex64, device=device)
    except TypeError:
        return False
    return True


def complex_data(*shape: int, seed: int = 0) -> np.ndarray:
    """complex128 NumPy values with both parts standard normal."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def pair(values, dtype: str, device: str = "cpu", requires_grad: bool = False):
    """``values`` as an ember tensor on ``device`` and a torch tensor, both of dtype ``dtype``."""
    array = np.asarray(values)
    e = ember.tensor(array, dtype=getattr(ember, dtype), device=device, requires_grad=requires_grad)
    t = torch.tensor(array, dtype=getattr(torch, dtype), requires_grad=requires_grad)
    return e, t


def assert_same(actual, expected, rtol: float | None = None, atol: float | None = None) -> None:
    """Same dtype, shape and values (NaN where torch has NaN) for an ember and a torch tensor."""
    assert str(actual.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1], (actual.dtype, expected.dtype)
    assert tuple(actual.shape) == tuple(expected.shape)
    default_rtol, default_atol = _TOLERANCES.get(str(expected.dtype).split(".")[-1], (1e-12, 1e-12))
    np.testing.assert_allclose(
        actual.detach().cpu().numpy(),
        expected.detach().resolve_conj().numpy(),
        rtol=default_rtol if rtol is None else rtol,
        atol=default_atol if atol is None else atol,
        equal_nan=True,
    )
