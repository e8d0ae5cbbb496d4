"""Strides and errors of views against PyTorch: the new axes of an index (``x[None]``, ``x[..., None]``)
and ``unflatten``'s refusals, on every test device."""

from __future__ import annotations

import numpy as np
import pytest
from reference import torch

import ember

KEYS = {
    "leading": (None,),
    "middle": (slice(None), None),
    "trailing": (Ellipsis, None),
    "before_a_slice": (0, None, slice(1, None)),
    "before_a_select": (None, 0),
    "before_a_step": (slice(None), slice(None, None, 2), None),
    "two": (None, None),
    "around_ellipsis": (None, Ellipsis, None, 1),
    "many": (None, slice(None), None, Ellipsis, None),
}


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("key", KEYS)
def test_new_axes_of_an_index_step_as_torch_unsqueezes(device, key, transposed):
    x = ember.arange(24.0, device=device).reshape(2, 3, 4)
    t = torch.arange(24.0).reshape(2, 3, 4)
    if transposed:
        x, t = x.transpose(0, 2), t.transpose(0, 2)
    y, ty = x[KEYS[key]], t[KEYS[key]]
    assert y.shape == ty.shape and y.stride() == ty.stride() and y.storage_offset() == ty.storage_offset()
    np.testing.assert_array_equal(y.cpu().numpy(), ty.numpy())
    y.fill_(-1), ty.fill_(-1)  # still a view of x
    np.testing.assert_array_equal(x.cpu().numpy(), t.numpy())


def test_new_axes_of_small_tensors(device):
    for make in (lambda L, **kw: L.tensor(3.0, **kw)[None], lambda L, **kw: L.zeros(0, 3, **kw)[None]):
        assert make(ember, device=device).stride() == make(torch).stride()


def test_unflatten_errors():
    for L in (ember, torch):
        x = L.arange(6.0)
        for sizes in ((4, -1), (4, 2)):
            with pytest.raises(
                RuntimeError, match=r"unflatten: Provided sizes \[4, .*\] don't multiply up to the size of dim 0 \(6\)"
            ):
                x.unflatten(0, sizes)
        with pytest.raises(RuntimeError, match="unflatten: sizes must be non-empty"):
            x.unflatten(0, ())
        assert tuple(L.zeros(2, 0).unflatten(1, (0, 5)).shape) == (2, 0, 5)
