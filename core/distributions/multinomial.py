"""The multinomial distribution, as ``torch.distributions.Multinomial``."""

from __future__ import annotations

import math
from typing import Any

import ember

from ..ops.special import lgamma
from . import constraints
from .binomial import Binomial
from .categorical import Categorical, CategoricalParameters
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["Multinomial"]


class Multinomial(CategoricalParameters, Distribution):
    r"""The counts of ``total_count`` categorical draws over ``K`` categories, parameterized by ``probs``
    or ``logits`` as :class:`Categorical`; samples have event shape ``(K,)``.

    ``log_prob`` does not need ``total_count`` (it is the sum of the counts).

    Args:
        total_count (int): the number of trials. Default: ``1``.
        probs (Tensor): event probabilities (normalized over the last dimension).
        logits (Tensor): event log-probabilities (unnormalized).
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import Multinomial
        >>> m = Multinomial(100, ember.tensor([1.0, 1.0, 1.0, 1.0]))
        >>> m.sample().sum()
        tensor(100.)
        >>> Multinomial(probs=ember.tensor([1.0, 2.0, 3.0])).log_prob(ember.tensor([1.0, 0.0, 0.0]))
        tensor(-1.7918)
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}

    def __init__(
        self, total_count: int = 1, probs: Any = None, logits: Any = None, validate_args: bool | None = None
    ) -> None:
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Multinomial:
        new = self._get_checked_instance(Multinomial, _instance)
        batch_shape = ember.Size(tuple(batch_shape))
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        new._binomial = Binomial(total_count=self.total_count, probs=new._categorical.probs, validate_args=False)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self) -> constraints.Constraint:
        return constraints.multinomial(self.total_count)

    @property
    def mean(self) -> ember.Tensor:
        return self.probs * self.total_count

    @property
    def variance(self) -> ember.Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> ember.Tensor:
        sample_shape = tuple(sample_shape)
        draws = self._categorical.sample((self.total_count,) + sample_shape)
        # the draws' leading dimension (the trials) becomes the last, then each trial adds one count
        draws = draws.permute(*range(1, draws.dim()), 0)
        counts = ember.zeros(self._extended_shape(sample_shape), dtype=self.probs.dtype, device=self.probs.device)
        return counts.scatter_add(-1, draws, ember.ones_like(draws, dtype=self.probs.dtype))

    def entropy(self) -> ember.Tensor:
        n = ember.tensor(float(self.total_count), dtype=self.probs.dtype, device=self.probs.device)
        support = self._binomial.enumerate_support()[1:]
        binomial_probs = self._binomial.log_prob(support).exp()
        weights = lgamma(support + 1)
        return (n * self._categorical.entropy() - math.lgamma(self.total_count + 1)) + (binomial_probs * weights).sum(
            (0, -1)
        )

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        # 0 * log(0) is 0 where a category has probability 0 and count 0
        logits = ember.where((value == 0) & (logits == -math.inf), ember.zeros_like(logits), logits)
        log_factorial_n = lgamma(value.sum(-1) + 1)
        log_factorial_xs = lgamma(value + 1).sum(-1)
        log_powers = (logits * value).sum(-1)
        return log_factorial_n - log_factorial_xs + log_powers
