"""Helpers of the OpInfo-derived tests (``test_opinfo_*.py``): the ember copy of a torch tensor, the
comparison of an ember result with torch's (shape, dtype, values) and the check of which dtypes a test
device holds (complex on restricted and OpenCL, bfloat16 on OpenCL are refused there)."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def ember_copy(t, device, requires_grad=False):
    """The ember copy of a torch tensor on ``device``."""
    data = t.detach().float().numpy() if t.dtype == torch.bfloat16 else t.detach().numpy()  # NumPy has no bfloat16
    out = ember.tensor(data, dtype=getattr(ember, str(t.dtype).split(".")[-1]), device=device)
    return out.requires_grad_(requires_grad)


def assert_same_as_torch(actual, expected, rtol=1e-7, atol=1e-9):
    """Same shape, dtype and values (NaN where torch has NaN; exact for integers and bools) for an
    ember and a torch tensor."""
    assert tuple(actual.shape) == tuple(expected.shape), (actual.shape, expected.shape)
    assert str(actual.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1], (actual.dtype, expected.dtype)
    if expected.dtype.is_floating_point or expected.dtype.is_complex:
        a = actual.detach().float() if actual.dtype is ember.bfloat16 else actual.detach()
        e = expected.detach().float() if expected.dtype == torch.bfloat16 else expected.detach()
        np.testing.assert_allclose(a.cpu().numpy(), e.numpy(), rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(actual.cpu().numpy(), expected.numpy())


def has_dtype(device, name):
    """Whether ``device`` holds arrays of ember.<name>."""
    try:
        ember.zeros(1, dtype=getattr(ember, name), device=device)
    except Exception:  # noqa: BLE001 - no such arrays on this device
        return False
    return True


def need_dtypes(device, *names):
    """Skip where ``device`` holds no arrays of one of the dtypes ``names``: the op cannot be called
    there at all."""
    for name in names:
        if not has_dtype(device, name):
            pytest.skip(f"{device} has no {name} arrays")
