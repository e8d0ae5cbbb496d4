"""The Cauchy distribution, as ``torch.distributions.Cauchy``."""

from __future__ import annotations

import math
from typing import Any

import ember

from ._location_scale import LocationScale

__all__ = ["Cauchy"]


class Cauchy(LocationScale):
    r"""The Cauchy (Lorentz) distribution: the ratio of two independent standard normals, located and
    scaled. Its mean and variance are undefined (``nan`` and ``inf``).

    Args:
        loc (float or Tensor): the mode (median) of the distribution.
        scale (float or Tensor): half width at half maximum, positive.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import Cauchy
        >>> m = Cauchy(ember.tensor([0.0]), ember.tensor([1.0]))
        >>> m.log_prob(ember.tensor([1.0]))
        tensor([-1.8379])
        >>> m.cdf(ember.tensor([0.0]))
        tensor([0.5000])
    """

    def expand(self, batch_shape: Any, _instance: Any = None) -> Cauchy:
        return self._expanded(Cauchy, batch_shape, _instance, ("loc", "scale"))

    @property
    def mean(self) -> ember.Tensor:
        return ember.full(self._extended_shape(), math.nan, dtype=self.loc.dtype, device=self.loc.device)

    @property
    def variance(self) -> ember.Tensor:
        return ember.full(self._extended_shape(), math.inf, dtype=self.loc.dtype, device=self.loc.device)

    def rsample(self, sample_shape: Any = ()) -> ember.Tensor:
        shape = self._extended_shape(sample_shape)
        # as PyTorch: cauchy_ samples of the standard distribution, scaled and shifted
        return self.loc + ember.empty(shape, dtype=self.loc.dtype, device=self.loc.device).cauchy_() * self.scale

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return -math.log(math.pi) - self.scale.log() - (((value - self.loc) / self.scale) ** 2).log1p()

    def cdf(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return ember.atan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value: ember.Tensor) -> ember.Tensor:
        return (math.pi * (value - 0.5)).tan() * self.scale + self.loc

    def entropy(self) -> ember.Tensor:
        return math.log(4 * math.pi) + self.scale.log()
