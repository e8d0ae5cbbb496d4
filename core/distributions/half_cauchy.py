"""The half-Cauchy distribution, as ``torch.distributions.HalfCauchy``."""

from __future__ import annotations

import math
from typing import Any

import ember

from ._folded import FoldedAtZero
from .cauchy import Cauchy

__all__ = ["HalfCauchy"]


class HalfCauchy(FoldedAtZero):
    r"""The distribution of ``|X|`` for ``X ~ Cauchy(0, scale)``; its mean and variance are infinite.

    Args:
        scale (float or Tensor): scale of the underlying Cauchy, positive.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import HalfCauchy
        >>> m = HalfCauchy(ember.tensor([1.0]))
        >>> m.log_prob(ember.tensor([1.0]))
        tensor([-1.1447])
    """

    base_dist: Cauchy

    def __init__(self, scale: Any, validate_args: bool | None = None) -> None:
        super().__init__(Cauchy(0, scale, validate_args=False), validate_args=validate_args)

    @property
    def mean(self) -> ember.Tensor:
        return ember.full(self._extended_shape(), math.inf, dtype=self.scale.dtype, device=self.scale.device)

    @property
    def variance(self) -> ember.Tensor:
        return self.base_dist.variance
