"""The Pareto (type I) distribution, as ``torch.distributions.Pareto``."""

from __future__ import annotations

from typing import Any

import ember

from . import constraints
from .exponential import Exponential
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, ExpTransform
from .utils import broadcast_all

__all__ = ["Pareto"]


class Pareto(TransformedDistribution):
    r"""The Pareto type I distribution: :math:`p(x) = \alpha s^\alpha / x^{\alpha+1}` for :math:`x \ge s`,
    an :class:`Exponential` of rate :math:`\alpha` through ``exp`` scaled by :math:`s`.

    Args:
        scale (float or Tensor): scale parameter (the support's lower bound), positive.
        alpha (float or Tensor): shape parameter, positive.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import Pareto
        >>> m = Pareto(ember.tensor([1.0]), ember.tensor([3.0]))
        >>> m.log_prob(ember.tensor([2.0]))
        tensor([-1.6740])
        >>> m.mean
        tensor([1.5000])
    """

    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}

    def __init__(self, scale: Any, alpha: Any, validate_args: bool | None = None) -> None:
        self.scale, self.alpha = broadcast_all(scale, alpha)
        base_dist = Exponential(self.alpha, validate_args=validate_args)
        transforms = [ExpTransform(), AffineTransform(loc=0, scale=self.scale)]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Pareto:
        new = self._get_checked_instance(Pareto, _instance)
        new.scale = self.scale.expand(tuple(batch_shape))
        new.alpha = self.alpha.expand(tuple(batch_shape))
        return super().expand(batch_shape, _instance=new)  # type: ignore[return-value]

    @property
    def mean(self) -> ember.Tensor:
        a = self.alpha.clamp(min=1)
        return a * self.scale / (a - 1)

    @property
    def mode(self) -> ember.Tensor:
        return self.scale

    @property
    def variance(self) -> ember.Tensor:
        a = self.alpha.clamp(min=2)
        return self.scale.pow(2) * a / ((a - 1).pow(2) * (a - 2))

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.greater_than_eq(self.scale)

    def entropy(self) -> ember.Tensor:
        return (self.scale / self.alpha).log() + (1 + self.alpha.reciprocal())
