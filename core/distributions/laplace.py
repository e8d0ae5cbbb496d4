"""The Laplace distribution, as ``torch.distributions.Laplace``."""

from __future__ import annotations

import math
from typing import Any

import ember

from ._location_scale import LocationScale

__all__ = ["Laplace"]


class Laplace(LocationScale):
    r"""The Laplace distribution: :math:`p(x) = \frac{1}{2b} e^{-|x - \mu| / b}`.

    Args:
        loc (float or Tensor): mean of the distribution.
        scale (float or Tensor): scale ``b`` of the distribution, positive.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import Laplace
        >>> m = Laplace(ember.tensor([0.0]), ember.tensor([1.0]))
        >>> m.log_prob(ember.tensor([1.0]))
        tensor([-1.6931])
        >>> m.variance
        tensor([2.])
    """

    def expand(self, batch_shape: Any, _instance: Any = None) -> Laplace:
        return self._expanded(Laplace, batch_shape, _instance, ("loc", "scale"))

    @property
    def mean(self) -> ember.Tensor:
        return self.loc

    @property
    def variance(self) -> ember.Tensor:
        return 2 * self.scale.pow(2)

    @property
    def stddev(self) -> ember.Tensor:
        return math.sqrt(2) * self.scale

    def rsample(self, sample_shape: Any = ()) -> ember.Tensor:
        shape = self._extended_shape(sample_shape)
        eps = ember.finfo(self.loc.dtype).eps
        u = (ember.rand(shape, dtype=self.loc.dtype, device=self.loc.device) * 2 - 1).clamp(min=eps - 1)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 - 0.5 * (value - self.loc).sign() * (-(value - self.loc).abs() / self.scale).expm1()

    def icdf(self, value: ember.Tensor) -> ember.Tensor:
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self) -> ember.Tensor:
        return 1 + (2 * self.scale).log()
