"""The multivariate normal distribution, as ``torch.distributions.MultivariateNormal``."""

from __future__ import annotations

import math
from typing import Any

import ember

from . import constraints
from ._linalg import cholesky, solve_lower, tril_inverse
from .distribution import Distribution
from .utils import lazy_property

__all__ = ["MultivariateNormal"]


def _as_columns(matrix: ember.Tensor, vectors: ember.Tensor) -> tuple[ember.Tensor, ember.Tensor, tuple]:
    """``matrix`` (B..., r, n) and ``vectors`` (S..., B..., n) broadcast, the vectors laid out as the
    columns of (B..., n, prod(S)) matrices: one matmul per batch element rather than one per vector."""
    batch_dims = matrix.dim() - 2
    n = matrix.shape[-1]
    lead = max(vectors.dim() - 1 - batch_dims, 0)
    batch = tuple(ember.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(vectors.shape[lead:-1])))
    sample = tuple(vectors.shape[:lead])
    flat = vectors.expand(sample + batch + (n,)).reshape((-1,) + batch + (n,))
    return matrix.expand(batch + tuple(matrix.shape[-2:])), flat.permute(*range(1, batch_dims + 2), 0), sample


def _from_columns(columns: ember.Tensor, sample: tuple) -> ember.Tensor:
    """The inverse of :func:`_as_columns`' layout: (B..., n, prod(S)) to (S..., B..., n)."""
    flat = columns.permute(columns.dim() - 1, *range(columns.dim() - 1))
    return flat.reshape(sample + tuple(flat.shape[1:]))


def _batch_mv(matrix: ember.Tensor, vectors: ember.Tensor) -> ember.Tensor:
    """``matrix @ vector`` for every vector of ``vectors``, broadcasting the batch dimensions."""
    matrix, columns, sample = _as_columns(matrix, vectors)
    return _from_columns(matrix @ columns, sample)


def _batch_mahalanobis(scale_tril: ember.Tensor, diff: ember.Tensor) -> ember.Tensor:
    """``diff^T (L L^T)^{-1} diff`` for lower-triangular ``L``, broadcasting their batch dimensions."""
    scale_tril, columns, sample = _as_columns(scale_tril, diff)
    return _from_columns(solve_lower(scale_tril, columns), sample).pow(2).sum(-1)


def _precision_to_scale_tril(precision: ember.Tensor) -> ember.Tensor:
    inverse_factor = tril_inverse(cholesky(precision))
    return cholesky(inverse_factor.mT @ inverse_factor)


class MultivariateNormal(Distribution):
    r"""A multivariate normal distribution parameterized by a mean vector and one of a covariance
    matrix, a precision matrix or a lower-triangular ``scale_tril`` with positive diagonal (the
    covariance's Cholesky factor, the cheapest of the three).

    Args:
        loc (Tensor): mean of the distribution, shape ``batch_shape + (n,)``.
        covariance_matrix (Tensor): positive-definite covariance, shape ``batch_shape + (n, n)``.
        precision_matrix (Tensor): positive-definite precision (inverse covariance).
        scale_tril (Tensor): lower-triangular factor of the covariance, positive diagonal.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import MultivariateNormal
        >>> m = MultivariateNormal(ember.zeros(2), ember.eye(2))
        >>> m.sample().shape
        ember.Size([2])
        >>> m.log_prob(ember.zeros(2))
        tensor(-1.8379)
    """

    arg_constraints = {
        "loc": constraints.real_vector,
        "covariance_matrix": constraints.positive_definite,
        "precision_matrix": constraints.positive_definite,
        "scale_tril": constraints.lower_cholesky,
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(
        self,
        loc: ember.Tensor,
        covariance_matrix: ember.Tensor | None = None,
        precision_matrix: ember.Tensor | None = None,
        scale_tril: ember.Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [m is not None for m in (covariance_matrix, precision_matrix, scale_tril)]
        if sum(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        name, matrix = next(
            (n, m)
            for n, m in zip(
                ("scale_tril", "covariance_matrix", "precision_matrix"),
                (scale_tril, covariance_matrix, precision_matrix),
            )
            if m is not None
        )
        if matrix.dim() < 2:
            label = "scale_tril matrix" if name == "scale_tril" else name
            raise ValueError(f"{label} must be at least two-dimensional, with optional leading batch dimensions")
        batch_shape = ember.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1]))
        setattr(self, name, matrix.expand(tuple(batch_shape) + (-1, -1)))
        self.loc = loc.expand(tuple(batch_shape) + (-1,))
        super().__init__(batch_shape, self.loc.shape[-1:], validate_args=validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = matrix
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = cholesky(matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(matrix)

    def expand(self, batch_shape: Any, _instance: Any = None) -> MultivariateNormal:
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = ember.Size(tuple(batch_shape))
        loc_shape = tuple(batch_shape) + tuple(self.event_shape)
        cov_shape = loc_shape + tuple(self.event_shape)
        new.loc = self.loc.expand(loc_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(cov_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def scale_tril(self) -> ember.Tensor:
        return self._unbroadcasted_scale_tril.expand(tuple(self._batch_shape) + tuple(self._event_shape) * 2)

    @lazy_property
    def covariance_matrix(self) -> ember.Tensor:
        tril = self._unbroadcasted_scale_tril
        return (tril @ tril.mT).expand(tuple(self._batch_shape) + tuple(self._event_shape) * 2)

    @lazy_property
    def precision_matrix(self) -> ember.Tensor:
        inverse = tril_inverse(self._unbroadcasted_scale_tril)
        return (inverse.mT @ inverse).expand(tuple(self._batch_shape) + tuple(self._event_shape) * 2)

    @property
    def mean(self) -> ember.Tensor:
        return self.loc

    @property
    def mode(self) -> ember.Tensor:
        return self.loc

    @property
    def variance(self) -> ember.Tensor:
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(tuple(self._batch_shape) + tuple(self._event_shape))

    def rsample(self, sample_shape: Any = ()) -> ember.Tensor:
        shape = self._extended_shape(sample_shape)
        eps = ember.randn(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + _batch_mv(self._unbroadcasted_scale_tril, eps)

    def _half_log_det(self) -> ember.Tensor:
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        m = _batch_mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + m) - self._half_log_det()

    def entropy(self) -> ember.Tensor:
        h = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return h.expand(self._batch_shape)
