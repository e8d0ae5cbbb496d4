"""Differences from PyTorch found by the round-6 public programs (tests/test_public_programs_6.py), each
checked against torch on its own."""

from __future__ import annotations

import pytest

import ember

torch = pytest.importorskip("torch")


def _outcome(fn):
    try:
        return fn().tolist()
    except Exception as error:  # noqa: BLE001 - the error's type is what is compared
        return type(error).__name__


@pytest.mark.parametrize(
    "shifts, dims",
    [((), None), ((), ()), ((), (0,)), ((1,), ()), ((1,), None), ((1, 2), None), ((1, 2), ()), ((1, -1), (0, 1))],
)
def test_roll_without_dims_or_shifts_as_torch(shifts, dims):
    """No shifts is an error; empty dims, like None, roll the flattened tensor."""
    x = ember.arange(6.0).view(2, 3)
    expected = _outcome(lambda: torch.roll(torch.arange(6.0).view(2, 3), shifts, dims))
    assert _outcome(lambda: ember.roll(x, shifts, dims)) == expected


@pytest.mark.parametrize("margin", [1.0, 0.0, -1.0])
@pytest.mark.parametrize("name", ["triplet_margin_loss", "triplet_margin_with_distance_loss"])
def test_triplet_losses_refuse_a_margin_that_is_not_positive_as_torch(name, margin):
    a, p, n = ([[1.0, 2.0], [3.0, 4.0]], [[1.0, 1.0], [3.0, 3.0]], [[1.0, 2.5], [0.0, 4.0]])

    def call(lib):
        return getattr(lib.nn.functional, name)(lib.tensor(a), lib.tensor(p), lib.tensor(n), margin=margin)

    expected = _outcome(lambda: call(torch))
    assert _outcome(lambda: call(ember)) == (pytest.approx(expected) if margin > 0 else expected)
