"""The log-normal distribution, as ``torch.distributions.LogNormal``."""

from __future__ import annotations

from typing import Any

import ember

from . import constraints
from .normal import Normal
from .transformed_distribution import TransformedDistribution
from .transforms import ExpTransform

__all__ = ["LogNormal"]


class LogNormal(TransformedDistribution):
    r"""The distribution of ``exp(X)`` for ``X ~ Normal(loc, scale)``.

    Args:
        loc (float or Tensor): mean of the log of the distribution.
        scale (float or Tensor): standard deviation of the log of the distribution (positive).
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import LogNormal
        >>> m = LogNormal(ember.tensor([0.0]), ember.tensor([1.0]))
        >>> m.log_prob(ember.tensor([1.0]))
        tensor([-0.9189])
        >>> bool((m.sample((10,)) > 0).all())
        True
    """

    base_dist: Normal
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        base_dist = Normal(loc, scale, validate_args=validate_args)
        super().__init__(base_dist, ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> LogNormal:
        new = self._get_checked_instance(LogNormal, _instance)
        return super().expand(batch_shape, _instance=new)  # type: ignore[return-value]

    @property
    def loc(self) -> ember.Tensor:
        """Mean of the underlying normal."""
        return self.base_dist.loc

    @property
    def scale(self) -> ember.Tensor:
        """Standard deviation of the underlying normal."""
        return self.base_dist.scale

    @property
    def mean(self) -> ember.Tensor:
        return (self.loc + self.scale.pow(2) / 2).exp()

    @property
    def mode(self) -> ember.Tensor:
        return (self.loc - self.scale.square()).exp()

    @property
    def variance(self) -> ember.Tensor:
        scale_sq = self.scale.pow(2)
        return scale_sq.expm1() * (2 * self.loc + scale_sq).exp()

    def entropy(self) -> ember.Tensor:
        return self.base_dist.entropy() + self.loc
