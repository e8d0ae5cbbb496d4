"""The negative binomial distribution, as ``torch.distributions.NegativeBinomial``."""

from __future__ import annotations

from typing import Any

import ember
import ember.nn.functional as F

from ..ops.special import lgamma
from . import constraints
from ._binary import BinaryParameters
from ._sampling import poisson, standard_gamma
from .distribution import Distribution

__all__ = ["NegativeBinomial"]


class NegativeBinomial(BinaryParameters, Distribution):
    r"""The number of successes before ``total_count`` failures in Bernoulli trials of success
    probability ``probs`` (or log-odds ``logits``).

    Sampling draws a gamma-distributed Poisson rate, then the Poisson count.

    Args:
        total_count (float or Tensor): the number of failures, non-negative (need not be an integer).
        probs (Tensor): the success probability, in ``[0, 1)``.
        logits (Tensor): the success log-odds.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import NegativeBinomial
        >>> m = NegativeBinomial(3.0, ember.tensor([0.4]))
        >>> m.mean
        tensor([2.])
        >>> m.log_prob(ember.tensor([2.0]))
        tensor([-1.5733])
    """

    arg_constraints = {
        "total_count": constraints.greater_than_eq(0),
        "probs": constraints.half_open_interval(0.0, 1.0),
        "logits": constraints.real,
    }
    support = constraints.nonnegative_integer

    def __init__(
        self, total_count: Any, probs: Any = None, logits: Any = None, validate_args: bool | None = None
    ) -> None:
        _, (total_count,) = self._set_probs_or_logits(probs, logits, total_count)
        self.total_count = total_count.to(self._param.dtype)
        super().__init__(self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> NegativeBinomial:
        return self._expanded(NegativeBinomial, batch_shape, _instance, ("total_count", "probs", "logits"))

    @property
    def mean(self) -> ember.Tensor:
        return self.total_count * self.logits.exp()

    @property
    def mode(self) -> ember.Tensor:
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self) -> ember.Tensor:
        return self.mean / ember.sigmoid(-self.logits)

    def sample(self, sample_shape: Any = ()) -> ember.Tensor:
        shape = self._extended_shape(sample_shape)
        with ember.no_grad():
            # Gamma(total_count, rate = exp(-logits)) rates; a zero total_count gives rate 0, count 0
            concentration = self.total_count.expand(shape)
            safe = ember.where(concentration > 0, concentration, ember.ones_like(concentration))
            rate = standard_gamma(safe) * self.logits.exp().expand(shape)
            return poisson(ember.where(concentration > 0, rate, ember.zeros_like(rate)))

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        log_unnormalized = self.total_count * F.logsigmoid(-self.logits) + value * F.logsigmoid(self.logits)
        # the case total_count == value == 0 has probability 1, but lgamma(0) is infinite
        empty = self.total_count + value == 0
        safe_count = ember.where(empty, ember.ones_like(self.total_count + value), self.total_count + value)
        log_normalization = (
            -lgamma(safe_count)
            + lgamma(1.0 + value)
            + lgamma(ember.where(empty, ember.ones_like(safe_count), self.total_count + 0 * value))
        )
        return log_unnormalized - ember.where(empty, ember.zeros_like(log_normalization), log_normalization)
