"""An exact Gaussian process as GPyTorch's ``ExactGP`` regression tutorial computes it (written out
by hand), run on ember and on torch in float64 from the same hyperparameters.

Positive hyperparameters through ``softplus`` of raw parameters; an RBF kernel from ``cdist`` of the
scaled inputs (its gradient through zero distances on the diagonal); the marginal log likelihood
from ``linalg.cholesky``, ``cholesky_solve`` and the log determinant (``diagonal().log().sum()``,
checked against ``logdet`` and ``MultivariateNormal(scale_tril=...).log_prob``); Adam on the
hyperparameters; the predictive mean and variance with ``linalg.solve_triangular`` and the
deprecated ``triangular_solve``.
"""

from __future__ import annotations

import math

import numpy as np
from public_programs import assert_same_run, torch

import ember

RNG = np.random.default_rng(0)
TRAIN_X = np.sort(RNG.uniform(0, 1, (30, 2)), axis=0)  # over 25 points: cdist by matrix product
TRAIN_Y = np.sin(TRAIN_X[:, 0] * (2 * math.pi)) + 0.5 * TRAIN_X[:, 1] + 0.1 * RNG.standard_normal(30)
TEST_X = RNG.uniform(0, 1, (5, 2))


def build(lib):
    nn, F = lib.nn, lib.nn.functional

    class ExactGP(nn.Module):
        def __init__(self):
            super().__init__()
            self.raw_lengthscale = nn.Parameter(lib.zeros(1, 2, dtype=lib.float64))
            self.raw_outputscale = nn.Parameter(lib.tensor(0.0, dtype=lib.float64))
            self.raw_noise = nn.Parameter(lib.tensor(-1.0, dtype=lib.float64))
            self.constant = nn.Parameter(lib.zeros((), dtype=lib.float64))

        def kernel(self, x1, x2):
            lengthscale = F.softplus(self.raw_lengthscale)
            dist = lib.cdist(x1.div(lengthscale), x2.div(lengthscale)).pow(2)
            return F.softplus(self.raw_outputscale) * lib.exp(-0.5 * dist)

        def covariance(self, x):
            noise = F.softplus(self.raw_noise) + 1e-4
            return self.kernel(x, x) + noise * lib.eye(x.shape[0], dtype=x.dtype)

        def marginal_log_likelihood(self, x, y):
            K = self.covariance(x)
            L = lib.linalg.cholesky(K)
            residual = (y - self.constant).unsqueeze(-1)
            alpha = lib.cholesky_solve(residual, L)
            half_logdet = L.diagonal(dim1=-2, dim2=-1).log().sum()
            n = y.shape[-1]
            mll = -0.5 * (residual * alpha).sum() - half_logdet - 0.5 * n * math.log(2 * math.pi)
            return mll / n, K, L

        def predict(self, x, y, x_star):
            _, _, L = self.marginal_log_likelihood(x, y)
            alpha = lib.cholesky_solve((y - self.constant).unsqueeze(-1), L)
            k_star = self.kernel(x_star, x)
            mean = self.constant + (k_star @ alpha).squeeze(-1)
            v = lib.linalg.solve_triangular(L, k_star.T, upper=False)
            v_old = lib.triangular_solve(k_star.T, L, upper=False).solution
            variance = F.softplus(self.raw_outputscale) - v.pow(2).sum(0)
            return mean, variance, v_old

    return ExactGP


def fit(lib):
    model = build(lib)()
    x, y, x_star = lib.tensor(TRAIN_X), lib.tensor(TRAIN_Y), lib.tensor(TEST_X)
    optimizer = lib.optim.Adam(model.parameters(), lr=0.1)
    record = []
    for _ in range(5):
        optimizer.zero_grad()
        mll, K, L = model.marginal_log_likelihood(x, y)
        loss = -mll
        loss.backward()
        with lib.no_grad():
            dist = lib.distributions.MultivariateNormal(model.constant.expand(y.shape[0]), scale_tril=L)
            record += [loss, lib.logdet(K), dist.log_prob(y) / y.shape[0]]
        optimizer.step()
    record += [p.grad for p in model.parameters()] + list(model.parameters())
    model.eval()
    with lib.no_grad():
        record += list(model.predict(x, y, x_star))
    return record


def test_exact_gp_regression_matches_torch():
    ours, theirs = fit(ember), fit(torch)
    assert_same_run(ours, theirs, rtol=1e-9, atol=1e-11)
    for i in range(0, 15, 3):  # the hand-written likelihood is MultivariateNormal's
        np.testing.assert_allclose(-ours[i].item(), ours[i + 2].item(), rtol=1e-12)
