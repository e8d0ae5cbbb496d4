"""The binomial distribution, as ``torch.distributions.Binomial``."""

from __future__ import annotations

from typing import Any

import ember

from ..ops.special import lgamma
from . import constraints
from ._binary import BinaryParameters
from ._sampling import binomial
from .distribution import Distribution

__all__ = ["Binomial"]


def _clamp_by_zero(x: ember.Tensor) -> ember.Tensor:
    # max(x, 0) with gradient 1/2 at 0, as PyTorch's
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class Binomial(BinaryParameters, Distribution):
    r"""The number of successes in ``total_count`` Bernoulli trials of probability ``probs`` (or
    log-odds ``logits``): :math:`P(k) = \binom{n}{k} p^k (1-p)^{n-k}`.

    Sampling sums Bernoulli trials (its cost grows with ``total_count``).

    Args:
        total_count (int or Tensor): the number of trials. Default: ``1``.
        probs (Tensor): event probabilities.
        logits (Tensor): event log-odds.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import Binomial
        >>> m = Binomial(10, ember.tensor([0.5]))
        >>> m.log_prob(ember.tensor([5.0]))
        tensor([-1.4020])
        >>> m.mean
        tensor([5.])
    """

    arg_constraints = {
        "total_count": constraints.nonnegative_integer,
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    has_enumerate_support = True

    def __init__(
        self, total_count: Any = 1, probs: Any = None, logits: Any = None, validate_args: bool | None = None
    ) -> None:
        _, (total_count,) = self._set_probs_or_logits(probs, logits, total_count)
        self.total_count = total_count.to(self._param.dtype)
        super().__init__(self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Binomial:
        return self._expanded(Binomial, batch_shape, _instance, ("total_count", "probs", "logits"))

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self) -> ember.Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> ember.Tensor:
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self) -> ember.Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> ember.Tensor:
        shape = self._extended_shape(sample_shape)
        return binomial(self.total_count.detach().expand(shape), self.probs.detach().expand(shape))

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        n, k = self.total_count, value
        normalize_term = n * _clamp_by_zero(self.logits) + n * (-self.logits.abs()).exp().log1p() - lgamma(n + 1)
        return k * self.logits - lgamma(k + 1) - lgamma(n - k + 1) - normalize_term

    def _homogeneous_count(self, op: str) -> int:
        total_count = int(self.total_count.max())
        if not int(self.total_count.min()) == total_count:
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{op}`.")
        return total_count

    def entropy(self) -> ember.Tensor:
        self._homogeneous_count("entropy")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(log_prob.exp() * log_prob).sum(0)

    def enumerate_support(self, expand: bool = True) -> ember.Tensor:
        total_count = self._homogeneous_count("enumerate_support")
        values = ember.arange(1 + total_count, dtype=self._param.dtype, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values
