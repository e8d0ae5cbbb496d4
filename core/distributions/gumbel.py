"""The Gumbel distribution, as ``torch.distributions.Gumbel``."""

from __future__ import annotations

import math
from numbers import Number
from typing import Any

import ember

from . import constraints
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, ExpTransform
from .uniform import Uniform
from .utils import broadcast_all
from .utils import euler_constant as _EULER_GAMMA

__all__ = ["Gumbel"]


class Gumbel(TransformedDistribution):
    r"""The Gumbel (type-I extreme value) distribution: ``loc - scale * log(-log(U))`` for uniform ``U``.

    Args:
        loc (float or Tensor): location parameter.
        scale (float or Tensor): scale parameter, positive.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import Gumbel
        >>> m = Gumbel(ember.tensor([1.0]), ember.tensor([2.0]))
        >>> m.log_prob(ember.tensor([1.0]))
        tensor([-1.6931])
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        finfo = ember.finfo(self.loc.dtype)
        if isinstance(loc, Number) and isinstance(scale, Number):
            base_dist = Uniform(finfo.tiny, 1 - finfo.eps, validate_args=validate_args)
        else:
            low = ember.full_like(self.loc, finfo.tiny)
            base_dist = Uniform(low, ember.full_like(self.loc, 1 - finfo.eps), validate_args=validate_args)
        transforms = [
            ExpTransform().inv,
            AffineTransform(loc=0, scale=-ember.ones_like(self.scale)),
            ExpTransform().inv,
        ]
        transforms.append(AffineTransform(loc=self.loc, scale=-self.scale))
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Gumbel:
        new = self._get_checked_instance(Gumbel, _instance)
        new.loc = self.loc.expand(tuple(batch_shape))
        new.scale = self.scale.expand(tuple(batch_shape))
        return super().expand(batch_shape, _instance=new)  # type: ignore[return-value]

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        y = (self.loc - value) / self.scale
        return (y - y.exp()) - self.scale.log()

    @property
    def mean(self) -> ember.Tensor:
        return self.loc + self.scale * _EULER_GAMMA

    @property
    def mode(self) -> ember.Tensor:
        return self.loc

    @property
    def stddev(self) -> ember.Tensor:
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self) -> ember.Tensor:
        return self.stddev.pow(2)

    def entropy(self) -> ember.Tensor:
        return self.scale.log() + (1 + _EULER_GAMMA)
