"""The multivariate normal with low-rank plus diagonal covariance, as ``torch.distributions.LowRankMultivariateNormal``."""

from __future__ import annotations

import math
from typing import Any

import ember

from . import constraints
from ._linalg import cholesky, tril_inverse
from .distribution import Distribution
from .multivariate_normal import _batch_mahalanobis, _batch_mv
from .utils import lazy_property

__all__ = ["LowRankMultivariateNormal"]


def _capacitance_tril(w: ember.Tensor, d: ember.Tensor) -> ember.Tensor:
    """Cholesky factor of the capacitance matrix ``I + W^T D^-1 W`` (m x m, m the rank)."""
    m = w.shape[-1]
    return cholesky((w.mT / d.unsqueeze(-2)) @ w + ember.eye(m, dtype=w.dtype, device=w.device))


class LowRankMultivariateNormal(Distribution):
    r"""A multivariate normal whose covariance is low-rank plus diagonal,
    ``covariance_matrix = cov_factor @ cov_factor.T + diag(cov_diag)``: densities and samples cost
    O(n m^2) rather than O(n^3), through the Woodbury identity and the matrix determinant lemma.

    Args:
        loc (Tensor): mean, shape ``batch_shape + (n,)``.
        cov_factor (Tensor): the low-rank factor, shape ``batch_shape + (n, m)``.
        cov_diag (Tensor): the diagonal part, positive, shape ``batch_shape + (n,)``.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import LowRankMultivariateNormal
        >>> m = LowRankMultivariateNormal(ember.zeros(2), ember.tensor([[1.0], [0.0]]), ember.ones(2))
        >>> m.covariance_matrix
        tensor([[2., 0.],
                [0., 1.]])
        >>> m.log_prob(ember.zeros(2))
        tensor(-2.1845)
    """

    arg_constraints = {
        "loc": constraints.real_vector,
        "cov_factor": constraints.independent(constraints.real, 2),
        "cov_diag": constraints.independent(constraints.positive, 1),
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(
        self, loc: ember.Tensor, cov_factor: ember.Tensor, cov_diag: ember.Tensor, validate_args: bool | None = None
    ) -> None:
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        event_shape = tuple(loc.shape[-1:])
        if cov_factor.dim() < 2:
            raise ValueError("cov_factor must be at least two-dimensional, with optional leading batch dimensions")
        if tuple(cov_factor.shape[-2:-1]) != event_shape:
            raise ValueError(f"cov_factor must be a batch of matrices with shape {event_shape[0]} x m")
        if tuple(cov_diag.shape[-1:]) != event_shape:
            raise ValueError(f"cov_diag must be a batch of vectors with shape {ember.Size(event_shape)}")
        try:
            batch_shape = tuple(
                ember.broadcast_shapes(tuple(loc.shape[:-1]), tuple(cov_factor.shape[:-2]), tuple(cov_diag.shape[:-1]))
            )
        except RuntimeError as e:
            raise ValueError(
                f"Incompatible batch shapes: loc {loc.shape}, cov_factor {cov_factor.shape}, cov_diag {cov_diag.shape}"
            ) from e
        n, m = event_shape[0], cov_factor.shape[-1]
        self.loc = loc.expand(batch_shape + (n,))
        self.cov_factor = cov_factor.expand(batch_shape + (n, m))
        self.cov_diag = cov_diag.expand(batch_shape + (n,))
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        self._capacitance_tril = _capacitance_tril(cov_factor, cov_diag)
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> LowRankMultivariateNormal:
        new = self._get_checked_instance(LowRankMultivariateNormal, _instance)
        batch_shape = ember.Size(tuple(batch_shape))
        loc_shape = tuple(batch_shape) + tuple(self.event_shape)
        new.loc = self.loc.expand(loc_shape)
        new.cov_diag = self.cov_diag.expand(loc_shape)
        new.cov_factor = self.cov_factor.expand(loc_shape + tuple(self.cov_factor.shape[-1:]))
        new._unbroadcasted_cov_factor = self._unbroadcasted_cov_factor
        new._unbroadcasted_cov_diag = self._unbroadcasted_cov_diag
        new._capacitance_tril = self._capacitance_tril
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> ember.Tensor:
        return self.loc

    @property
    def mode(self) -> ember.Tensor:
        return self.loc

    @lazy_property
    def variance(self) -> ember.Tensor:
        variance = self._unbroadcasted_cov_factor.pow(2).sum(-1) + self._unbroadcasted_cov_diag
        return variance.expand(tuple(self._batch_shape) + tuple(self._event_shape))

    def _matrix_shape(self) -> tuple[int, ...]:
        return tuple(self._batch_shape) + tuple(self._event_shape) * 2

    @lazy_property
    def covariance_matrix(self) -> ember.Tensor:
        w = self._unbroadcasted_cov_factor
        covariance = w @ w.mT + ember.diag_embed(self._unbroadcasted_cov_diag)
        return covariance.expand(self._matrix_shape())

    @lazy_property
    def scale_tril(self) -> ember.Tensor:
        n = self._event_shape[0]
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        # the covariance scaled by 1/sqrt(D) on both sides is I + (W/sqrt(D))(W/sqrt(D))^T, well conditioned
        d_sqrt = d.sqrt().unsqueeze(-1)
        w_scaled = w / d_sqrt
        inner = w_scaled @ w_scaled.mT + ember.eye(n, dtype=w.dtype, device=w.device)
        return (d_sqrt * cholesky(inner)).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self) -> ember.Tensor:
        # Woodbury: D^-1 - D^-1 W C^-1 W^T D^-1
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        wt_dinv = w.mT / d.unsqueeze(-2)
        a = tril_inverse(self._capacitance_tril) @ wt_dinv
        precision = ember.diag_embed(d.reciprocal()) - a.mT @ a
        return precision.expand(self._matrix_shape())

    def rsample(self, sample_shape: Any = ()) -> ember.Tensor:
        shape = self._extended_shape(sample_shape)
        w_shape = tuple(shape[:-1]) + tuple(self.cov_factor.shape[-1:])
        eps_w = ember.randn(w_shape, dtype=self.loc.dtype, device=self.loc.device)
        eps_d = ember.randn(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + _batch_mv(self._unbroadcasted_cov_factor, eps_w) + self._unbroadcasted_cov_diag.sqrt() * eps_d

    def _log_det(self) -> ember.Tensor:
        # matrix determinant lemma: log|W W^T + D| = log|C| + log|D|
        capacitance_log_det = 2 * self._capacitance_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return capacitance_log_det + self._unbroadcasted_cov_diag.log().sum(-1)

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        wt_dinv_x = _batch_mv(w.mT / d.unsqueeze(-2), diff)
        mahalanobis = (diff.pow(2) / d).sum(-1) - _batch_mahalanobis(self._capacitance_tril, wt_dinv_x)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + self._log_det() + mahalanobis)

    def entropy(self) -> ember.Tensor:
        h = 0.5 * (self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._log_det())
        return h.expand(self._batch_shape)
