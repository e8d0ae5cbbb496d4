"""Helpers for the differential tests that compare one result, or one error, of ember with PyTorch's.

Usage::

    from against_torch import same, same_error

    same(ember.tensor([1, 2]) * 2**63, torch.tensor([1, 2]) * 2**63)
    same_error(lambda lib, device: lib.tensor([1], device=device) + 2**64, "cpu")
"""

from __future__ import annotations

import re

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


def laid_out(x, how):
    """``x`` as a test lays it out: ``"t"`` transposed, ``"step"`` every other column, else as it is."""
    if how == "t":
        return x.t()
    if how == "step":
        return x[:, ::2]
    return x
