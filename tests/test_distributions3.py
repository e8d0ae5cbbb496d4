"""Corners of ember.distributions off the main road, against torch.distributions: constraint checks
on singular matrices, sampling streams of rejection samplers, transform shapes, reparameterized
gradients, on every device of EMBER_TEST_DEVICES.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.distributions as D

torch = pytest.importorskip("torch")
TD = torch.distributions


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_positive_semidefinite_check_matches_torch_on_singular_matrices(device, dtype):
    matrices = np.array(
        [
            [[0.0, 0.0], [0.0, 0.0]],  # zero: semidefinite
            [[1.0, 0.0], [0.0, 0.0]],  # singular (a rank-one matrix off the axes is up to the eigensolver's rounding)
            [[1.0, 0.0], [0.0, -1e-3]],  # a negative eigenvalue: not semidefinite
            [[1.0, 2.0], [2.0, 1.0]],  # indefinite
            [[2.0, 0.5], [0.5, 1.0]],  # definite
        ]
    )
    got = D.constraints.positive_semidefinite.check(ember.tensor(matrices, dtype=getattr(ember, dtype), device=device))
    want = TD.constraints.positive_semidefinite.check(torch.tensor(matrices, dtype=getattr(torch, dtype)))
    assert got.tolist() == want.tolist() == [True, True, False, False, True]
