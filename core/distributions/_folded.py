"""The base of the half (folded at zero) distributions (private): HalfNormal, HalfCauchy."""

from __future__ import annotations

import math
from typing import Any

import ember

from . import constraints
from ._location_scale import LocationScale
from .transformed_distribution import TransformedDistribution
from .transforms import AbsTransform


class FoldedAtZero(TransformedDistribution):
    """``|X|`` for ``X`` symmetric about 0 (``base``): the density doubles on ``[0, inf)``."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    base_dist: LocationScale

    def __init__(self, base: LocationScale, validate_args: bool | None = None) -> None:
        super().__init__(base, AbsTransform(), validate_args=validate_args)

    @property
    def scale(self) -> ember.Tensor:
        """Scale of the underlying symmetric distribution."""
        return self.base_dist.scale

    @property
    def mode(self) -> ember.Tensor:
        return ember.zeros_like(self.scale)

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

    def expand(self, batch_shape: Any, _instance: Any = None) -> FoldedAtZero:
        new = self._get_checked_instance(type(self), _instance)
        return super().expand(batch_shape, _instance=new)  # type: ignore[return-value]
