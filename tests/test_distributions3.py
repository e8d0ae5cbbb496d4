"""Corners of ember.distributions off the main road, against torch.distributions: constraint checks
on singular matrices, sampling streams of rejection samplers, transform shapes, reparameterized
gradients, on every device of EMBER_TEST_DEVICES.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import assert_close

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


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_von_mises_samples_are_torchs(dtype):
    # rejection sampling: an element accepted again in a later round takes the later draw, as torch's
    loc, concentration = [0.0, 1.0, -2.0], [0.1, 2.0, 50.0]
    ember.manual_seed(0)
    got = D.VonMises(
        ember.tensor(loc, dtype=getattr(ember, dtype)), ember.tensor(concentration, dtype=getattr(ember, dtype))
    )
    got = got.sample((50,))
    torch.manual_seed(0)
    want = TD.VonMises(
        torch.tensor(loc, dtype=getattr(torch, dtype)), torch.tensor(concentration, dtype=getattr(torch, dtype))
    )
    want = want.sample((50,))
    assert_close(got, want, rtol=0, atol=0)
    assert_close(ember.rand(3), torch.rand(3), rtol=0, atol=0)  # the stream goes on as torch's


@pytest.mark.parametrize(
    "make,shape",
    [
        (lambda T, m: m.AffineTransform(T.zeros(3), 1.0), (2, 1)),
        (lambda T, m: m.AffineTransform(1.0, 2.0), (2, 3)),
        (lambda T, m: m.PowerTransform(T.ones(3)), (2, 1)),
        (lambda T, m: m.ReshapeTransform((2, 3), (6,)), (4, 2, 3)),
        (lambda T, m: m.ComposeTransform([m.ReshapeTransform((2, 3), (6,)), m.AffineTransform(0.0, 2.0)]), (4, 2, 3)),
    ],
)
def test_transform_shapes_are_sizes_as_torchs(make, shape):
    transform, t_transform = make(ember, D.transforms), make(torch, TD.transforms)
    forward, t_forward = transform.forward_shape(shape), t_transform.forward_shape(shape)
    assert isinstance(forward, ember.Size) and tuple(forward) == tuple(t_forward)
    inverse, t_inverse = transform.inverse_shape(forward), t_transform.inverse_shape(t_forward)
    assert isinstance(inverse, ember.Size) and tuple(inverse) == tuple(t_inverse)
