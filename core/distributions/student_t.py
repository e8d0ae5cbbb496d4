"""Student's t-distribution, as ``torch.distributions.StudentT``."""

from __future__ import annotations

import math
from numbers import Number
from typing import Any

import ember

from ..ops.special import digamma, lgamma
from . import constraints
from .chi2 import Chi2
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["StudentT"]


class StudentT(Distribution):
    r"""Student's t-distribution with ``df`` degrees of freedom, location ``loc`` and scale ``scale``.

    Args:
        df (float or Tensor): degrees of freedom, positive.
        loc (float or Tensor): mean of the distribution. Default: ``0.0``.
        scale (float or Tensor): scale of the distribution, positive. Default: ``1.0``.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import StudentT
        >>> m = StudentT(ember.tensor([2.0]))
        >>> m.log_prob(ember.tensor([0.0]))
        tensor([-1.0397])
    """

    arg_constraints = {"df": constraints.positive, "loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df: Any, loc: Any = 0.0, scale: Any = 1.0, validate_args: bool | None = None) -> None:
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        scalar = all(isinstance(v, Number) for v in (df, loc, scale))
        batch_shape = ember.Size() if scalar else self.df.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> StudentT:
        new = self._expanded(StudentT, batch_shape, _instance, ("df", "loc", "scale"))
        new._chi2 = self._chi2.expand(batch_shape)
        return new

    @property
    def mean(self) -> ember.Tensor:
        return ember.where(self.df <= 1, ember.full_like(self.loc, math.nan), self.loc)

    @property
    def mode(self) -> ember.Tensor:
        return self.loc

    @property
    def variance(self) -> ember.Tensor:
        df = ember.where(self.df > 2, self.df, ember.full_like(self.df, 3.0))  # no inf/nan in the unused branch
        finite = self.scale.pow(2) * df / (df - 2)
        infinite = ember.full_like(finite, math.inf)
        undefined = ember.full_like(finite, math.nan)
        return ember.where(self.df > 2, finite, ember.where(self.df > 1, infinite, undefined))

    def rsample(self, sample_shape: Any = ()) -> ember.Tensor:
        shape = self._extended_shape(sample_shape)
        x = ember.randn(shape, dtype=self.df.dtype, device=self.df.device)
        z = self._chi2.rsample(sample_shape)
        y = x * (z / self.df).rsqrt()
        return self.loc + self.scale * y

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        z = (
            self.scale.log()
            + 0.5 * self.df.log()
            + 0.5 * math.log(math.pi)
            + lgamma(0.5 * self.df)
            - lgamma(0.5 * (self.df + 1.0))
        )
        return -0.5 * (self.df + 1.0) * (y * y / self.df).log1p() - z

    def entropy(self) -> ember.Tensor:
        lbeta = lgamma(0.5 * self.df) + math.lgamma(0.5) - lgamma(0.5 * (self.df + 1))
        return (
            self.scale.log()
            + 0.5 * (self.df + 1) * (digamma(0.5 * (self.df + 1)) - digamma(0.5 * self.df))
            + 0.5 * self.df.log()
            + lbeta
        )
