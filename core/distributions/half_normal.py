"""The half-normal distribution, as ``torch.distributions.HalfNormal``."""

from __future__ import annotations

import math
from typing import Any

import ember

from ._folded import FoldedAtZero
from .normal import Normal

__all__ = ["HalfNormal"]


class HalfNormal(FoldedAtZero):
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

    base_dist: Normal

    def __init__(self, scale: Any, validate_args: bool | None = None) -> None:
        super().__init__(Normal(0, scale, validate_args=False), validate_args=validate_args)

    @property
    def mean(self) -> ember.Tensor:
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self) -> ember.Tensor:
        return self.scale.pow(2) * (1 - 2 / math.pi)
