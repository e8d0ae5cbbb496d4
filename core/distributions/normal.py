"""The normal (Gaussian) distribution, as ``torch.distributions.Normal``."""

from __future__ import annotations

import math
from typing import Any

import ember

from ..ops.special import erfinv
from ._location_scale import LocationScale
from .exp_family import ExponentialFamily

__all__ = ["Normal"]


class Normal(LocationScale, ExponentialFamily):
    r"""A normal distribution parameterized by ``loc`` (mean) and ``scale`` (standard deviation).

    .. math:: p(x) = \frac{1}{\sigma\sqrt{2\pi}} e^{-(x-\mu)^2 / 2\sigma^2}

    Args:
        loc (float or Tensor): mean of the distribution.
        scale (float or Tensor): standard deviation of the distribution (positive).
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``
            (the process-wide default).

    Example::

        >>> from ember.distributions import Normal
        >>> m = Normal(ember.tensor([0.0]), ember.tensor([1.0]))
        >>> m.sample().shape
        ember.Size([1])
        >>> m.log_prob(ember.tensor([1.0]))
        tensor([-1.4189])
    """

    _mean_carrier_measure = 0

    def expand(self, batch_shape: Any, _instance: Any = None) -> Normal:
        return self._expanded(Normal, batch_shape, _instance, ("loc", "scale"))

    @property
    def mean(self) -> ember.Tensor:
        return self.loc

    @property
    def stddev(self) -> ember.Tensor:
        return self.scale

    @property
    def variance(self) -> ember.Tensor:
        return self.scale.pow(2)

    def rsample(self, sample_shape: Any = ()) -> ember.Tensor:
        shape = self._extended_shape(sample_shape)
        eps = ember.randn(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + eps * self.scale

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return -((value - self.loc) ** 2) / (2 * self.scale**2) - self.scale.log() - 0.5 * math.log(2 * math.pi)

    def cdf(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + ember.erf((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)))

    def icdf(self, value: ember.Tensor) -> ember.Tensor:
        return self.loc + self.scale * erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self) -> ember.Tensor:
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    @property
    def _natural_params(self) -> tuple[ember.Tensor, ...]:
        return (self.loc / self.scale.pow(2), -0.5 * self.scale.pow(2).reciprocal())

    def _log_normalizer(self, *natural_params: ember.Tensor) -> ember.Tensor:
        x, y = natural_params
        return -0.25 * x.pow(2) / y + 0.5 * (-math.pi / y).log()
