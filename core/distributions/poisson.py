"""The Poisson distribution, as ``torch.distributions.Poisson``."""

from __future__ import annotations

from numbers import Number
from typing import Any

import ember

from ..ops.special import lgamma
from . import constraints
from ._sampling import poisson
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ["Poisson"]


class Poisson(ExponentialFamily):
    r"""The Poisson distribution with rate ``rate``: :math:`P(k) = \lambda^k e^{-\lambda} / k!`.

    Samples are non-negative integers (as floats of the rate's dtype).

    Args:
        rate (Number or Tensor): the rate parameter, non-negative.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import Poisson
        >>> m = Poisson(ember.tensor([4.0]))
        >>> m.log_prob(ember.tensor([2.0]))
        tensor([-1.9206])
        >>> m.sample((3,)).shape
        ember.Size([3, 1])
    """

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all(rate)
        batch_shape = ember.Size() if isinstance(rate, Number) else self.rate.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Poisson:
        return self._expanded(Poisson, batch_shape, _instance, ("rate",))

    @property
    def mean(self) -> ember.Tensor:
        return self.rate

    @property
    def mode(self) -> ember.Tensor:
        return self.rate.floor()

    @property
    def variance(self) -> ember.Tensor:
        return self.rate

    def sample(self, sample_shape: Any = ()) -> ember.Tensor:
        return poisson(self.rate.detach().expand(self._extended_shape(sample_shape)))

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return ember.xlogy(value, rate) - rate - lgamma(value + 1)

    @property
    def _natural_params(self) -> tuple[ember.Tensor, ...]:
        return (self.rate.log(),)

    def _log_normalizer(self, *natural_params: ember.Tensor) -> ember.Tensor:
        (x,) = natural_params
        return x.exp()
