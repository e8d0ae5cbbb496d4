"""The categorical distribution, as ``torch.distributions.Categorical``."""

from __future__ import annotations

import math
from typing import Any

import ember

from . import constraints
from .distribution import Distribution
from .utils import lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Categorical"]


class CategoricalParameters:
    """Mixin of the distributions built on a :class:`Categorical` (``self._categorical``): its
    parameters, read through."""

    _categorical: Categorical

    @property
    def _param(self) -> ember.Tensor:
        return self._categorical._param

    @property
    def probs(self) -> ember.Tensor:
        """The event probabilities."""
        return self._categorical.probs

    @property
    def logits(self) -> ember.Tensor:
        """The normalized event log-probabilities."""
        return self._categorical.logits

    @property
    def param_shape(self) -> ember.Size:
        """The shape of the parameter tensor, ``batch_shape + (K,)``."""
        return self._categorical.param_shape


class Categorical(Distribution):
    r"""A categorical distribution over ``{0, ..., K-1}`` parameterized by ``probs`` or ``logits``
    (exactly one of them), whose last dimension indexes the ``K`` categories.

    ``probs`` need not sum to one (it is normalized) but must be non-negative; ``logits`` are
    unnormalized log-probabilities (normalized by ``logsumexp``).

    Args:
        probs (Tensor): event probabilities, shape ``batch_shape + (K,)``.
        logits (Tensor): event log-probabilities (unnormalized), shape ``batch_shape + (K,)``.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import Categorical
        >>> m = Categorical(ember.tensor([0.25, 0.25, 0.25, 0.25]))
        >>> m.log_prob(ember.tensor(3))
        tensor(-1.3863)
        >>> m.sample((5,)).shape
        ember.Size([5])
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.shape[-1]
        batch_shape = self._param.shape[:-1] if self._param.dim() > 1 else ember.Size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Categorical:
        new = self._get_checked_instance(Categorical, _instance)
        batch_shape = ember.Size(tuple(batch_shape))
        param_shape = ember.Size(tuple(batch_shape) + (self._num_events,))
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(param_shape)
            new._param = new.probs
        if "logits" in self.__dict__:
            new.logits = self.logits.expand(param_shape)
            new._param = new.logits
        new._num_events = self._num_events
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _new(self, *args: Any, **kwargs: Any) -> ember.Tensor:
        return self._param.new_tensor(*args, **kwargs)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self) -> ember.Tensor:
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self) -> ember.Tensor:
        return logits_to_probs(self.logits)

    @property
    def param_shape(self) -> ember.Size:
        """The shape of the parameter tensor, ``batch_shape + (K,)``."""
        return self._param.shape

    @property
    def mean(self) -> ember.Tensor:
        return ember.full(self._extended_shape(), math.nan, dtype=self.probs.dtype, device=self.probs.device)

    @property
    def mode(self) -> ember.Tensor:
        return self.probs.argmax(-1)

    @property
    def variance(self) -> ember.Tensor:
        return ember.full(self._extended_shape(), math.nan, dtype=self.probs.dtype, device=self.probs.device)

    def sample(self, sample_shape: Any = ()) -> ember.Tensor:
        sample_shape = ember.Size(tuple(sample_shape))
        count = sample_shape.numel()
        with ember.no_grad():
            probs_2d = self.probs.reshape(-1, self._num_events)
            samples_2d = ember.multinomial(probs_2d, count, True).T
        return samples_2d.reshape(self._extended_shape(sample_shape))

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = ember.broadcast_tensors(value, self.logits)
        return log_pmf.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self) -> ember.Tensor:
        logits = self.logits.clamp(min=ember.finfo(self.logits.dtype).min)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> ember.Tensor:
        values = ember.arange(self._num_events, dtype=ember.int64, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values
