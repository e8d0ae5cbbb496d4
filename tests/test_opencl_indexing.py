"""Indexing with a 0-d boolean mask (a new axis of length 1 or 0, no real dimension consumed),
against torch on every test device (the OpenCL backend once indexed a real dimension)."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

DATA = np.arange(24, dtype=np.float32).reshape(2, 3, 4)


def _pair(device):
    return ember.tensor(DATA, device=device), torch.tensor(DATA)


def _check(got, want):
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


@pytest.mark.parametrize("flag", [True, False])
@pytest.mark.parametrize(
    "key",
    [
        lambda m: m,
        lambda m: (Ellipsis, m),
        lambda m: (0, m),
        lambda m: (m, 1),
        lambda m: (slice(None), m, slice(1, 3)),
    ],
    ids=["mask", "ellipsis-mask", "int-mask", "mask-int", "slice-mask-slice"],
)
def test_getitem_with_0d_mask(device, flag, key):
    x, t = _pair(device)
    _check(x[key(ember.tensor(flag, device=device))], t[key(torch.tensor(flag))])


@pytest.mark.parametrize("flag", [True, False])
@pytest.mark.parametrize("value", [-1.0, "tensor"])
def test_setitem_with_0d_mask(device, flag, value):
    x, t = _pair(device)
    if value == "tensor":
        v = np.full((2, 3, 4, 1), -2.0, dtype=np.float32)[..., : int(flag)]
        x[..., ember.tensor(flag, device=device)] = ember.tensor(v, device=device)
        t[..., torch.tensor(flag)] = torch.tensor(v)
    else:
        x[..., ember.tensor(flag, device=device)] = value
        t[..., torch.tensor(flag)] = value
    _check(x, t)
    x[ember.tensor(flag, device=device)] = 5.0
    t[torch.tensor(flag)] = 5.0
    _check(x, t)
