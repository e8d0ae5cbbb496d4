"""The half-normal distribution, as ``torch.distributions.HalfNormal``."""

from __future__ import annotations

import math
from typing import Any

import ember

from . import constraints
from .normal import Normal
from .transformed_distribution import TransformedDistribution
from .transforms import AbsTransform

__all__ = ["HalfNormal"]


class HalfNormal(TransformedDistribution):
    r"""The distribution of ``|X|`` for ``X ~ Normal(0, scale)``.

    Args:
        scale (float or Tensor): scale of the underlying normal, positive.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import HalfNormal
        >>> m = HalfNormal(ember.tensor([1.0]))
        >>> m.log_prob(ember.tensor([1.0]))
        tensor([-0.7258])
    """

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale: Any, validate_args: bool | None = None) -> None:
        base_dist = Normal(0, scale, validate_args=False)
        super().__init__(base_dist, AbsTransform(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> HalfNormal:
        new = self._get_checked_instance(HalfNormal, _instance)
        return super().expand(batch_shape, _instance=new)  # type: ignore[return-value]

    @property
    def scale(self) -> ember.Tensor:
        """Scale of the underlying normal."""
        return self.base_dist.scale

    @property
    def mean(self) -> ember.Tensor:
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def mode(self) -> ember.Tensor:
        return ember.zeros_like(self.scale)

    @property
    def variance(self) -> ember.Tensor:
        return self.scale.pow(2) * (1 - 2 / math.pi)

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return ember.where(value >= 0, log_prob, ember.full_like(log_prob, -math.inf))

    def cdf(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob: ember.Tensor) -> ember.Tensor:
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self) -> ember.Tensor:
        return self.base_dist.entropy() - math.log(2)
