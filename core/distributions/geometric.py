"""The geometric distribution, as ``torch.distributions.Geometric``."""

from __future__ import annotations

from typing import Any

import ember
import ember.nn.functional as F

from . import constraints
from ._binary import BinaryParameters
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["Geometric"]


class Geometric(BinaryParameters, Distribution):
    r"""The number of failures before the first success in Bernoulli trials of success probability
    ``probs``: :math:`P(X = k) = (1-p)^k p`, ``k = 0, 1, ...``.

    Args:
        probs (Number or Tensor): the probability of success, in ``(0, 1]``.
        logits (Number or Tensor): the log-odds of success.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import Geometric
        >>> m = Geometric(ember.tensor([0.3]))
        >>> m.log_prob(ember.tensor([2.0]))
        tensor([-1.9173])
        >>> m.mean
        tensor([2.3333])
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        is_scalar, _ = self._set_probs_or_logits(probs, logits)
        batch_shape = ember.Size() if is_scalar else self._param.shape
        super().__init__(batch_shape, validate_args=validate_args)
        if self._validate_args and probs is not None:
            valid = self.probs > 0
            if not bool(valid.all()):
                raise ValueError(
                    f"Expected parameter probs ({type(self.probs).__name__} of shape {tuple(self.probs.shape)}) "
                    f"of distribution {self!r} to be positive but found invalid values:\n{self.probs[~valid]}"
                )

    def expand(self, batch_shape: Any, _instance: Any = None) -> Geometric:
        return self._expanded(Geometric, batch_shape, _instance, ("probs", "logits"))

    @property
    def mean(self) -> ember.Tensor:
        return 1.0 / self.probs - 1.0

    @property
    def mode(self) -> ember.Tensor:
        return ember.zeros_like(self.probs)

    @property
    def variance(self) -> ember.Tensor:
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape: Any = ()) -> ember.Tensor:
        shape = self._extended_shape(sample_shape)
        tiny = ember.finfo(self.probs.dtype).tiny
        with ember.no_grad():
            u = ember.rand(shape, dtype=self.probs.dtype, device=self.probs.device).clamp(min=tiny)
            return (u.log() / (-self.probs).log1p()).floor()

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        # a certain success at k = 0: 0 * log(0) is 0, not nan
        probs = ember.where((probs == 1) & (value == 0), ember.zeros_like(probs), probs)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self) -> ember.Tensor:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none") / self.probs
