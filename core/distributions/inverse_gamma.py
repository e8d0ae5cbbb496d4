"""The inverse gamma distribution, as ``torch.distributions.InverseGamma``."""

from __future__ import annotations

import math
from typing import Any

import ember

from ..ops.special import digamma, lgamma
from . import constraints
from .gamma import Gamma
from .transformed_distribution import TransformedDistribution
from .transforms import PowerTransform

__all__ = ["InverseGamma"]


class InverseGamma(TransformedDistribution):
    r"""The distribution of :math:`1/X` for :math:`X \sim` ``Gamma(concentration, rate)``:
    :math:`p(y) = \frac{\beta^\alpha}{\Gamma(\alpha)} y^{-\alpha-1} e^{-\beta/y}`.

    Args:
        concentration (float or Tensor): shape parameter (alpha), positive.
        rate (float or Tensor): the gamma's rate (beta; the inverse gamma's scale), positive.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import InverseGamma
        >>> m = InverseGamma(ember.tensor([2.0]), ember.tensor([3.0]))
        >>> m.log_prob(ember.tensor([1.0]))
        tensor([-0.8028])
        >>> m.mean
        tensor([3.])
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True
    base_dist: Gamma

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None) -> None:
        base_dist = Gamma(concentration, rate, validate_args=validate_args)
        neg_one = -base_dist.rate.new_ones(())
        super().__init__(base_dist, PowerTransform(neg_one), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> InverseGamma:
        new = self._get_checked_instance(InverseGamma, _instance)
        return super().expand(batch_shape, _instance=new)  # type: ignore[return-value]

    @property
    def concentration(self) -> ember.Tensor:
        """The shape parameter (alpha)."""
        return self.base_dist.concentration

    @property
    def rate(self) -> ember.Tensor:
        """The rate of the gamma distribution inverted (beta)."""
        return self.base_dist.rate

    @property
    def mean(self) -> ember.Tensor:
        result = self.rate / (self.concentration - 1)
        return ember.where(self.concentration > 1, result, ember.full_like(result, math.inf))

    @property
    def mode(self) -> ember.Tensor:
        return self.rate / (self.concentration + 1)

    @property
    def variance(self) -> ember.Tensor:
        result = self.rate.square() / ((self.concentration - 1).square() * (self.concentration - 2))
        return ember.where(self.concentration > 2, result, ember.full_like(result, math.inf))

    def entropy(self) -> ember.Tensor:
        return (
            self.concentration
            + self.rate.log()
            + lgamma(self.concentration)
            - (1 + self.concentration) * digamma(self.concentration)
        )
