"""The exponential distribution, as ``torch.distributions.Exponential``."""

from __future__ import annotations

from numbers import Number
from typing import Any

import ember

from . import constraints
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ["Exponential"]


class Exponential(ExponentialFamily):
    r"""The exponential distribution parameterized by ``rate``: :math:`p(x) = \lambda e^{-\lambda x}`.

    Args:
        rate (float or Tensor): rate (the inverse scale), positive.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import Exponential
        >>> m = Exponential(ember.tensor([2.0]))
        >>> m.log_prob(ember.tensor([1.0]))
        tensor([-1.3069])
        >>> m.mean
        tensor([0.5000])
    """

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all(rate)
        batch_shape = ember.Size() if isinstance(rate, Number) else self.rate.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Exponential:
        return self._expanded(Exponential, batch_shape, _instance, ("rate",))

    @property
    def mean(self) -> ember.Tensor:
        return self.rate.reciprocal()

    @property
    def mode(self) -> ember.Tensor:
        return ember.zeros_like(self.rate)

    @property
    def stddev(self) -> ember.Tensor:
        return self.rate.reciprocal()

    @property
    def variance(self) -> ember.Tensor:
        return self.rate.pow(-2)

    def rsample(self, sample_shape: Any = ()) -> ember.Tensor:
        shape = self._extended_shape(sample_shape)
        # as PyTorch: exponential_ samples of rate 1 over the rate
        return ember.empty(shape, dtype=self.rate.dtype, device=self.rate.device).exponential_() / self.rate

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value: ember.Tensor) -> ember.Tensor:
        return -(-value).log1p() / self.rate

    def entropy(self) -> ember.Tensor:
        return 1.0 - self.rate.log()

    @property
    def _natural_params(self) -> tuple[ember.Tensor, ...]:
        return (-self.rate,)

    def _log_normalizer(self, *natural_params: ember.Tensor) -> ember.Tensor:
        (x,) = natural_params
        return -(-x).log()
