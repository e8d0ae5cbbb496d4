"""The Wishart distribution, as ``torch.distributions.Wishart``."""

from __future__ import annotations

import math
import warnings
from numbers import Number
from typing import Any

import ember

from ..linalg import slogdet
from ..ops.special import digamma, mvlgamma
from . import constraints
from ._linalg import cholesky
from .chi2 import Chi2
from .exp_family import ExponentialFamily
from .multivariate_normal import _precision_to_scale_tril
from .utils import lazy_property, vec_to_tril_matrix

__all__ = ["Wishart"]

_LOG_2 = math.log(2)


def _mvdigamma(x: ember.Tensor, p: int) -> ember.Tensor:
    """The multivariate digamma ``sum_j digamma(x - j/2)`` for ``j < p`` (the derivative of ``mvlgamma``)."""
    halves = ember.arange(p, dtype=x.dtype, device=x.device) / 2
    return digamma(x.unsqueeze(-1) - halves).sum(-1)


class Wishart(ExponentialFamily):
    r"""The Wishart distribution over positive-definite ``p x p`` matrices with ``df`` degrees of freedom
    and scale matrix :math:`\Sigma`: the law of :math:`\sum_{k} x_k x_k^T` for ``df`` normal vectors
    :math:`x_k \sim N(0, \Sigma)`, with density
    :math:`p(X) \propto |X|^{(\nu - p - 1)/2} e^{-\mathrm{tr}(\Sigma^{-1} X)/2}`.

    The scale matrix is given by exactly one of ``covariance_matrix``, ``precision_matrix`` (its inverse)
    or ``scale_tril`` (its lower Cholesky factor). Samples are drawn by Bartlett's decomposition and carry
    gradients; draws that come out singular (possible for ``p - 1 < df < p``) are redrawn up to
    ``max_try_correction`` times.

    Args:
        df (float or Tensor): degrees of freedom, greater than ``p - 1``.
        covariance_matrix (Tensor): positive-definite scale matrix, ``(..., p, p)``.
        precision_matrix (Tensor): positive-definite inverse of the scale matrix.
        scale_tril (Tensor): lower-triangular factor of the scale matrix, positive diagonal.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import Wishart
        >>> m = Wishart(ember.tensor(4.0), covariance_matrix=ember.eye(2))
        >>> m.sample().shape, m.mean
        (ember.Size([2, 2]), tensor([[4., 0.],
                [0., 4.]]))
        >>> m.log_prob(ember.eye(2))
        tensor(-4.2242)
    """

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self) -> dict[str, constraints.Constraint]:
        return {
            "covariance_matrix": constraints.positive_definite,
            "precision_matrix": constraints.positive_definite,
            "scale_tril": constraints.lower_cholesky,
            "df": constraints.greater_than(self.event_shape[-1] - 1),
        }

    def __init__(
        self,
        df: Any,
        covariance_matrix: ember.Tensor | None = None,
        precision_matrix: ember.Tensor | None = None,
        scale_tril: ember.Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        given = [p for p in (covariance_matrix, precision_matrix, scale_tril) if p is not None]
        if len(given) != 1:
            raise AssertionError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        param = given[0]
        if param.dim() < 2:
            raise ValueError("scale_tril must be at least two-dimensional, with optional leading batch dimensions")
        if isinstance(df, Number):
            batch_shape = ember.Size(tuple(param.shape[:-2]))
            self.df = ember.tensor(df, dtype=param.dtype, device=param.device)
        else:
            batch_shape = ember.broadcast_shapes(tuple(param.shape[:-2]), tuple(df.shape))
            self.df = df.expand(batch_shape)
        event_shape = ember.Size(tuple(param.shape[-2:]))
        p = event_shape[-1]
        if bool((self.df <= p - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {p - 1}.")
        full = tuple(batch_shape) + (-1, -1)
        if scale_tril is not None:
            self.scale_tril = param.expand(full)
        elif covariance_matrix is not None:
            self.covariance_matrix = param.expand(full)
        else:
            self.precision_matrix = param.expand(full)
        if bool((self.df < p).any()):
            warnings.warn(
                "Low df values detected. Singular samples are highly likely to occur for ndim - 1 < df < ndim.",
                stacklevel=2,
            )
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        self._batch_dims = [-(x + 1) for x in range(len(self._batch_shape))]
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(param)
        self._dist_chi2 = self._chi2()

    def _chi2(self) -> Chi2:
        """The squared diagonal of Bartlett's factor: chi-square with ``df - i`` degrees of freedom in row ``i``."""
        tril = self._unbroadcasted_scale_tril
        rows = ember.arange(self._event_shape[-1], dtype=tril.dtype, device=tril.device)
        return Chi2(self.df.unsqueeze(-1) - rows.expand(tuple(self._batch_shape) + (-1,)))

    def expand(self, batch_shape: Any, _instance: Any = None) -> Wishart:
        new = self._get_checked_instance(Wishart, _instance)
        batch_shape = ember.Size(tuple(batch_shape))
        matrix_shape = tuple(batch_shape) + tuple(self.event_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(matrix_shape)
        new.df = self.df.expand(batch_shape)
        new._batch_dims = [-(x + 1) for x in range(len(batch_shape))]
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(matrix_shape))
        ExponentialFamily.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._dist_chi2 = new._chi2()
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def scale_tril(self) -> ember.Tensor:
        return self._unbroadcasted_scale_tril.expand(tuple(self._batch_shape) + tuple(self._event_shape))

    @lazy_property
    def covariance_matrix(self) -> ember.Tensor:
        tril = self._unbroadcasted_scale_tril
        return (tril @ tril.mT).expand(tuple(self._batch_shape) + tuple(self._event_shape))

    @lazy_property
    def precision_matrix(self) -> ember.Tensor:
        tril = self._unbroadcasted_scale_tril
        identity = ember.eye(self._event_shape[-1], dtype=tril.dtype, device=tril.device)
        return ember.cholesky_solve(identity, tril).expand(tuple(self._batch_shape) + tuple(self._event_shape))

    def _df_matrix(self, df: ember.Tensor) -> ember.Tensor:
        # df stays a 0-d tensor when given as a number (as PyTorch's, whose mean then fails on batched matrices)
        return df.expand(self._batch_shape).reshape(tuple(self._batch_shape) + (1, 1))

    @property
    def mean(self) -> ember.Tensor:
        return self._df_matrix(self.df) * self.covariance_matrix

    @property
    def mode(self) -> ember.Tensor:
        factor = self.df - self.covariance_matrix.shape[-1] - 1
        factor = ember.where(factor <= 0, ember.full_like(factor, math.nan), factor)
        return self._df_matrix(factor) * self.covariance_matrix

    @property
    def variance(self) -> ember.Tensor:
        cov = self.covariance_matrix
        diagonal = cov.diagonal(dim1=-2, dim2=-1)
        return self._df_matrix(self.df) * (cov.pow(2) + diagonal.unsqueeze(-1) * diagonal.unsqueeze(-2))

    def _bartlett_sampling(self, sample_shape: Any = ()) -> ember.Tensor:
        p = self._event_shape[-1]
        diagonal = self._dist_chi2.rsample(sample_shape).sqrt()
        diagonal = diagonal.clamp(min=ember.finfo(diagonal.dtype).eps)
        below = ember.randn(
            tuple(sample_shape) + tuple(self._batch_shape) + (p * (p - 1) // 2,),
            dtype=diagonal.dtype,
            device=diagonal.device,
        )
        factor = self._unbroadcasted_scale_tril @ (vec_to_tril_matrix(below, diag=-1) + diagonal.diag_embed())
        return factor @ factor.mT

    def rsample(self, sample_shape: Any = (), max_try_correction: int | None = None) -> ember.Tensor:
        """Draws a reparameterized sample by Bartlett's decomposition, redrawing singular ones.

        PyTorch 2.13's ``rsample`` tests its first draw with ``support.check`` without negating it, so that it
        redraws every *valid* sample once (warning "Singular sample detected.") and keeps singular ones; ember
        redraws only singular samples, so that the same seed gives other draws than PyTorch's (of the same
        distribution).

        Args:
            sample_shape (Size): the leading shape of independent draws. Default: ``Size([])``.
            max_try_correction (int, optional): how many times singular draws are redrawn. Default: ``10``.

        Example::

            >>> from ember.distributions import Wishart
            >>> Wishart(3.0, scale_tril=ember.eye(2)).rsample((5,)).shape
            ember.Size([5, 2, 2])
        """
        max_try_correction = 10 if max_try_correction is None else max_try_correction
        sample = self._bartlett_sampling(sample_shape)
        singular = ~self.support.check(sample)
        if bool(singular.any()):
            warnings.warn("Singular sample detected.", stacklevel=2)
            for _ in range(max_try_correction):
                sample = ember.where(singular[..., None, None], self._bartlett_sampling(sample_shape), sample)
                singular = ~self.support.check(sample)
                if not bool(singular.any()):
                    break
        return sample

    def _log_scale_determinant(self) -> ember.Tensor:
        """``p log(2) / 2 + log |L|``: half the log-determinant of ``2 Sigma``."""
        p = self._event_shape[-1]
        return p * _LOG_2 / 2 + self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        nu, p = self.df, self._event_shape[-1]
        trace = ember.cholesky_solve(value, self._unbroadcasted_scale_tril).diagonal(dim1=-2, dim2=-1).sum(-1)
        return (
            -nu * self._log_scale_determinant()
            - mvlgamma(nu / 2, p)
            + (nu - p - 1) / 2 * slogdet(value).logabsdet
            - trace / 2
        )

    def entropy(self) -> ember.Tensor:
        nu, p = self.df, self._event_shape[-1]
        return (
            (p + 1) * self._log_scale_determinant()
            + mvlgamma(nu / 2, p)
            - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p)
            + nu * p / 2
        )

    @property
    def _natural_params(self) -> tuple[ember.Tensor, ...]:
        p = self._event_shape[-1]
        return -self.precision_matrix / 2, (self.df - p - 1) / 2

    def _log_normalizer(self, *natural_params: ember.Tensor) -> ember.Tensor:
        x, y = natural_params
        p = self._event_shape[-1]
        return (y + (p + 1) / 2) * (-slogdet(-2 * x).logabsdet + _LOG_2 * p) + mvlgamma(y + (p + 1) / 2, p)
