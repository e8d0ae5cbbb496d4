"""The Weibull distribution, as ``torch.distributions.Weibull``."""

from __future__ import annotations

from typing import Any

import ember

from ..ops.special import lgamma
from . import constraints
from .exponential import Exponential
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, PowerTransform
from .utils import broadcast_all, euler_constant

__all__ = ["Weibull"]


class Weibull(TransformedDistribution):
    r"""The two-parameter Weibull distribution:
    :math:`p(x) = \frac{k}{\lambda} (x/\lambda)^{k-1} e^{-(x/\lambda)^k}` for :math:`x > 0`, a unit
    :class:`Exponential` through :math:`x^{1/k}` scaled by :math:`\lambda`.

    Args:
        scale (float or Tensor): scale parameter (lambda), positive.
        concentration (float or Tensor): shape parameter (k), positive.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import Weibull
        >>> m = Weibull(ember.tensor([1.0]), ember.tensor([2.0]))
        >>> m.log_prob(ember.tensor([0.5]))
        tensor([-0.2500])
        >>> m.sample((3,)).shape
        ember.Size([3, 1])
    """

    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive

    def __init__(self, scale: Any, concentration: Any, validate_args: bool | None = None) -> None:
        self.scale, self.concentration = broadcast_all(scale, concentration)
        self.concentration_reciprocal = self.concentration.reciprocal()
        base_dist = Exponential(ember.ones_like(self.scale), validate_args=validate_args)
        super().__init__(base_dist, self._transforms(), validate_args=validate_args)

    def _transforms(self) -> list[Any]:
        return [PowerTransform(exponent=self.concentration_reciprocal), AffineTransform(loc=0, scale=self.scale)]

    def expand(self, batch_shape: Any, _instance: Any = None) -> Weibull:
        new = self._get_checked_instance(Weibull, _instance)
        new.scale = self.scale.expand(tuple(batch_shape))
        new.concentration = self.concentration.expand(tuple(batch_shape))
        new.concentration_reciprocal = new.concentration.reciprocal()
        base_dist = self.base_dist.expand(batch_shape)
        TransformedDistribution.__init__(new, base_dist, new._transforms(), validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> ember.Tensor:
        return self.scale * lgamma(1 + self.concentration_reciprocal).exp()

    @property
    def mode(self) -> ember.Tensor:
        return self.scale * ((self.concentration - 1) / self.concentration).pow(self.concentration.reciprocal())

    @property
    def variance(self) -> ember.Tensor:
        return self.scale.pow(2) * (
            lgamma(1 + 2 * self.concentration_reciprocal).exp() - (2 * lgamma(1 + self.concentration_reciprocal)).exp()
        )

    def entropy(self) -> ember.Tensor:
        return (
            euler_constant * (1 - self.concentration_reciprocal)
            + (self.scale * self.concentration_reciprocal).log()
            + 1
        )
