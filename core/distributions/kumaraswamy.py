"""The Kumaraswamy distribution, as ``torch.distributions.Kumaraswamy``."""

from __future__ import annotations

import math
from typing import Any

import ember

from ..ops.special import digamma, lgamma
from . import constraints
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, PowerTransform
from .uniform import Uniform
from .utils import broadcast_all, euler_constant

__all__ = ["Kumaraswamy"]


def _moment(a: ember.Tensor, b: ember.Tensor, n: int) -> ember.Tensor:
    """The ``n``-th raw moment ``b B(1 + n/a, b)``."""
    arg = 1 + n / a
    return b * (lgamma(arg) + lgamma(b) - lgamma(arg + b)).exp()


class Kumaraswamy(TransformedDistribution):
    r"""The Kumaraswamy distribution on :math:`(0, 1)`: :math:`p(x) = a b x^{a-1} (1 - x^a)^{b-1}`, a uniform
    variable through :math:`(1 - u^{1/b})^{1/a}` (so that its samples are reparameterized).

    Args:
        concentration1 (float or Tensor): the first concentration parameter (a), positive.
        concentration0 (float or Tensor): the second concentration parameter (b), positive.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import Kumaraswamy
        >>> m = Kumaraswamy(ember.tensor([2.0]), ember.tensor([3.0]))
        >>> m.log_prob(ember.tensor([0.5]))
        tensor([0.5232])
        >>> m.mean
        tensor([0.4571])
    """

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1: Any, concentration0: Any, validate_args: bool | None = None) -> None:
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        base_dist = Uniform(
            ember.full_like(self.concentration0, 0),
            ember.full_like(self.concentration0, 1),
            validate_args=validate_args,
        )
        transforms = [
            PowerTransform(exponent=self.concentration0.reciprocal()),
            AffineTransform(loc=1.0, scale=-1.0),
            PowerTransform(exponent=self.concentration1.reciprocal()),
        ]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Kumaraswamy:
        new = self._get_checked_instance(Kumaraswamy, _instance)
        new.concentration1 = self.concentration1.expand(tuple(batch_shape))
        new.concentration0 = self.concentration0.expand(tuple(batch_shape))
        return super().expand(batch_shape, _instance=new)  # type: ignore[return-value]

    @property
    def mean(self) -> ember.Tensor:
        return _moment(self.concentration1, self.concentration0, 1)

    @property
    def mode(self) -> ember.Tensor:
        log_mode = (
            self.concentration0.reciprocal() * (-self.concentration0).log1p()
            - (-self.concentration0 * self.concentration1).log1p()
        )
        undefined = (self.concentration0 < 1) | (self.concentration1 < 1)
        return ember.where(undefined, ember.full_like(log_mode, math.nan), log_mode).exp()

    @property
    def variance(self) -> ember.Tensor:
        return _moment(self.concentration1, self.concentration0, 2) - self.mean.pow(2)

    def entropy(self) -> ember.Tensor:
        t1 = 1 - self.concentration1.reciprocal()
        t0 = 1 - self.concentration0.reciprocal()
        h0 = digamma(self.concentration0 + 1) + euler_constant
        return t0 + t1 * h0 - self.concentration1.log() - self.concentration0.log()
