"""The Bernoulli distribution, as ``torch.distributions.Bernoulli``."""

from __future__ import annotations

import math
from typing import Any

import ember
import ember.nn.functional as F

from . import constraints
from ._binary import BinaryParameters
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ["Bernoulli"]


class Bernoulli(BinaryParameters, ExponentialFamily):
    r"""A Bernoulli distribution: ``1`` with probability ``probs``, ``0`` otherwise, parameterized by
    ``probs`` or ``logits`` (exactly one of them).

    Args:
        probs (Number or Tensor): the probability of sampling ``1``.
        logits (Number or Tensor): the log-odds of sampling ``1``.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import Bernoulli
        >>> m = Bernoulli(ember.tensor([0.3]))
        >>> m.log_prob(ember.tensor([1.0]))
        tensor([-1.2040])
        >>> m.sample().shape
        ember.Size([1])
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _mean_carrier_measure = 0

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        is_scalar, _ = self._set_probs_or_logits(probs, logits)
        batch_shape = ember.Size() if is_scalar else self._param.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Bernoulli:
        return self._expanded(Bernoulli, batch_shape, _instance, ("probs", "logits"))

    @property
    def mean(self) -> ember.Tensor:
        return self.probs

    @property
    def mode(self) -> ember.Tensor:
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        return ember.where(self.probs == 0.5, ember.full_like(mode, math.nan), mode)

    @property
    def variance(self) -> ember.Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> ember.Tensor:
        shape = self._extended_shape(sample_shape)
        with ember.no_grad():
            return ember.bernoulli(self.probs.expand(shape))

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self) -> ember.Tensor:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand: bool = True) -> ember.Tensor:
        values = ember.arange(2, dtype=self._param.dtype, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values

    @property
    def _natural_params(self) -> tuple[ember.Tensor, ...]:
        return (ember.logit(self.probs),)

    def _log_normalizer(self, *natural_params: ember.Tensor) -> ember.Tensor:
        (x,) = natural_params
        return x.exp().log1p()
