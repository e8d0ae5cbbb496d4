"""Tensor creation and Python conversions off the main road, against PyTorch: dtype inference of
factories and constructors, memory sharing with NumPy, legacy constructors and Python protocols."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def outcome(make, lib):
    """``make(lib)`` as comparable facts: a tensor's dtype name, shape and values, or the error type."""
    try:
        result = make(lib)
    except Exception as error:  # noqa: BLE001 - the error's type is the fact compared
        return type(error)
    if isinstance(result, (ember.Tensor, torch.Tensor)):
        return str(result.dtype).split(".")[-1], tuple(result.shape), result.detach().cpu().tolist()
    return result


def same(make):
    """``make`` gives the same outcome on ember as on torch."""
    expected, got = outcome(make, torch), outcome(make, ember)
    assert got == expected, f"ember {got!r}, torch {expected!r}"


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t.linspace(0, 1j, 3),
        lambda t: t.linspace(1j, 2j, 1),
        lambda t: t.linspace(0, 1 + 1j, 5, dtype=t.complex128),
        lambda t: t.linspace(t.tensor(1 + 1j, dtype=t.complex128), 1, 1),
        lambda t: t.linspace(0, 1j, 3, dtype=t.float32),
        lambda t: t.linspace(0, 1j, 3, dtype=t.int64),
        lambda t: t.logspace(0, 1j, 1),
        lambda t: t.logspace(0, 1j, 3, dtype=t.complex128),
        lambda t: t.logspace(0, 1j, 3, dtype=t.float64),
    ],
)
def test_linspace_logspace_complex_ends_infer_a_complex_dtype(make):
    same(make)


def test_logspace_complex_end_rounds_as_torch():
    expected = torch.logspace(0, 1j, 3)
    got = ember.logspace(0, 1j, 3)
    assert got.dtype is ember.complex64
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)
