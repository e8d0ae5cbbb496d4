"""Helpers for the differential tests that compare one result, or one error, of ember with PyTorch's.

Usage::

    from against_torch import same, same_error

    same(ember.tensor([1, 2]) * 2**63, torch.tensor([1, 2]) * 2**63)
    same_error(lambda lib, device: lib.tensor([1], device=device) + 2**64, "cpu")
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def same(got, expected) -> None:
    """``got`` (ember's tensor) has the dtype (by name) and exactly the values of ``expected`` (PyTorch's)."""
    assert str(got.dtype).split(".")[1] == str(expected.dtype).split(".")[1]
    assert got.tolist() == expected.tolist()


def same_error(fn, *args) -> None:
    """``fn(ember, *args)`` raises what ``fn(torch, *args)`` raises: the same exception type and message."""
    with pytest.raises(Exception) as expected:
        fn(torch, *args)
    with pytest.raises(type(expected.value), match=f"^{re.escape(str(expected.value))}$"):
        fn(ember, *args)


def to_numpy(t):
    """The values of the tensor ``t`` (ember's or PyTorch's) as a NumPy array."""
    return np.asarray(t.detach().cpu().tolist())


def normal_tensor(lib, device, dtype, shape, seed=0, requires_grad=True):
    """A tensor of ``lib`` (``ember`` or ``torch``; PyTorch's on its CPU) of ``shape`` and the dtype named ``dtype``
    holding standard normal values drawn from ``seed``: the same values for both libraries."""
    return tensor_of(lib, device, dtype, np.random.default_rng(seed).standard_normal(shape).tolist(), requires_grad)


def tensor_of(lib, device, dtype, values, requires_grad=True):
    """A tensor of ``lib`` (``ember`` or ``torch``; PyTorch's on its CPU) holding ``values`` (nested lists) in the
    dtype named ``dtype``."""
    if lib is torch:
        return torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=requires_grad)
    return ember.tensor(values, dtype=getattr(ember, dtype), device=device, requires_grad=requires_grad)


def laid_out(x, how):
    """``x`` as a test lays it out: ``"t"`` transposed, ``"step"`` every other column, else as it is."""
    if how == "t":
        return x.t()
    if how == "step":
        return x[:, ::2]
    return x
