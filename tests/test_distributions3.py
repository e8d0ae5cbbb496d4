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


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "family,params",
    [
        ("Beta", ([2.0, 0.5, 1.5, 20.0], [3.0, 1.0, 0.3, 15.0])),
        ("Dirichlet", ([[1.0, 2.0, 3.0], [0.4, 0.7, 5.0], [12.0, 9.0, 8.0]],)),
    ],
)
def test_beta_and_dirichlet_rsample_gradients_are_torchs(family, params, device, dtype):
    # torch differentiates each coordinate through its Beta marginal's CDF (the implicit gradient, which
    # its _dirichlet_grad approximates to ~1e-3), not through the normalized gamma draws
    e_params = [ember.tensor(p, dtype=getattr(ember, dtype), device=device, requires_grad=True) for p in params]
    t_params = [torch.tensor(p, dtype=getattr(torch, dtype), requires_grad=True) for p in params]
    weights = np.linspace(-1.0, 2.0, 4 * int(np.prod(np.shape(params[0]))))
    ember.manual_seed(5)
    e_draws = getattr(D, family)(*e_params).rsample((4,))
    torch.manual_seed(5)
    t_draws = getattr(TD, family)(*t_params).rsample((4,))
    e_weights = ember.tensor(weights.reshape(e_draws.shape), dtype=e_draws.dtype, device=device)
    e_grads = ember.autograd.grad((e_draws * e_weights).sum(), e_params)
    t_grads = torch.autograd.grad(
        (t_draws * torch.tensor(weights.reshape(t_draws.shape), dtype=t_draws.dtype)).sum(), t_params
    )
    if device == "cpu":  # the same draws: the same gradients, to torch's approximation
        assert_close(e_draws, t_draws)
        for e_grad, t_grad in zip(e_grads, t_grads):
            assert_close(e_grad, t_grad, rtol=1e-2, atol=1e-4)


def test_beta_marginal_grad_is_the_implicit_gradient_of_the_cdf():
    # -(dI_x(a, b)/da) / p(x) / (1 - x), against central differences of the CDF by quadrature
    from ember.distributions._sampling import beta_marginal_grad

    # parameters from 1 on, where the density is bounded and the quadrature accurate
    x, a, b = (
        np.array([0.02, 0.3, 0.5, 0.8, 0.97]),
        np.array([1.2, 2.0, 5.0, 1.5, 30.0]),
        np.array([3.0, 1.0, 5.0, 1.1, 2.0]),
    )

    def cdf(a):
        t = np.linspace(0.0, 1.0, 200001)[1:-1]
        log_density = (a[:, None] - 1) * np.log(t) + (b[:, None] - 1) * np.log1p(-t)
        density = np.exp(log_density - log_density.max(1, keepdims=True))
        density /= np.trapezoid(density, t)[:, None]
        return np.array([np.trapezoid(d * (t <= xi), t) for d, xi in zip(density, x)])

    from math import lgamma

    h = 1e-4
    log_pdf = (
        (a - 1) * np.log(x)
        + (b - 1) * np.log1p(-x)
        + np.array([lgamma(p + q) - lgamma(p) - lgamma(q) for p, q in zip(a, b)])
    )
    want = -(cdf(a + h) - cdf(a - h)) / (2 * h) / np.exp(log_pdf) / (1 - x)
    got = beta_marginal_grad(ember.tensor(x), ember.tensor(a), ember.tensor(a + b))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-3)


@pytest.mark.parametrize("family,params", [("Poisson", ([1, 2],)), ("Gamma", ([1, 2], [1, 1]))])
def test_integer_parameters_sample_raises_as_torch(family, params, device):
    # torch's samplers have no integer kernels: NotImplementedError naming the kernel and the type
    with pytest.raises(NotImplementedError) as t_error:
        getattr(TD, family)(*[torch.tensor(p) for p in params]).sample()
    with pytest.raises(NotImplementedError, match=str(t_error.value).replace('"', ".")):
        getattr(D, family)(*[ember.tensor(p, device=device) for p in params]).sample()


def test_beta_marginal_grad_far_apart_parameters_match_torch():
    # Beta(1e5, 10) and Beta(10, 1e5): the series is taken on the side that converges within its terms
    from ember.distributions._sampling import beta_marginal_grad

    for a, b in ((1e5, 10.0), (10.0, 1e5), (0.01, 1e4)):
        torch.manual_seed(0)
        x = TD.Beta(torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)).sample((20,))
        x = x.clamp(1e-300, 1 - 1e-16)
        want = torch._dirichlet_grad(x, torch.full_like(x, a), torch.full_like(x, a + b))
        got = beta_marginal_grad(
            ember.tensor(x.numpy()),
            ember.full((20,), a, dtype=ember.float64),
            ember.full((20,), a + b, dtype=ember.float64),
        )
        assert_close(got, want, rtol=1e-3, atol=0)
