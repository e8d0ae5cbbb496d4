"""The one-hot categorical distribution, as ``torch.distributions.OneHotCategorical``."""

from __future__ import annotations

from typing import Any

import ember
import ember.nn.functional as F

from . import constraints
from .categorical import Categorical, CategoricalParameters
from .distribution import Distribution

__all__ = ["OneHotCategorical", "OneHotCategoricalStraightThrough"]


class OneHotCategorical(CategoricalParameters, Distribution):
    r"""A categorical distribution whose samples are one-hot vectors of size ``K`` (the event shape),
    parameterized by ``probs`` or ``logits`` as :class:`Categorical`.

    Args:
        probs (Tensor): event probabilities, shape ``batch_shape + (K,)``.
        logits (Tensor): event log-probabilities (unnormalized).
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import OneHotCategorical
        >>> m = OneHotCategorical(ember.tensor([0.25, 0.25, 0.25, 0.25]))
        >>> m.sample().sum()
        tensor(1.)
        >>> m.log_prob(ember.tensor([0.0, 1.0, 0.0, 0.0]))
        tensor(-1.3863)
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        self._categorical = Categorical(probs, logits)
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> OneHotCategorical:
        new = self._get_checked_instance(OneHotCategorical, _instance)
        batch_shape = ember.Size(tuple(batch_shape))
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> ember.Tensor:
        return self._categorical.probs

    @property
    def mode(self) -> ember.Tensor:
        probs = self._categorical.probs
        return F.one_hot(probs.argmax(-1), probs.shape[-1]).to(probs.dtype)

    @property
    def variance(self) -> ember.Tensor:
        return self._categorical.probs * (1 - self._categorical.probs)

    def sample(self, sample_shape: Any = ()) -> ember.Tensor:
        probs = self._categorical.probs
        indices = self._categorical.sample(sample_shape)
        return F.one_hot(indices, probs.shape[-1]).to(probs.dtype)

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self) -> ember.Tensor:
        return self._categorical.entropy()

    def enumerate_support(self, expand: bool = True) -> ember.Tensor:
        n = self.event_shape[0]
        values = ember.eye(n, dtype=self._param.dtype, device=self._param.device)
        values = values.view((n,) + (1,) * len(self.batch_shape) + (n,))
        if expand:
            values = values.expand((n,) + tuple(self.batch_shape) + (n,))
        return values


class OneHotCategoricalStraightThrough(OneHotCategorical):
    r""":class:`OneHotCategorical` with a straight-through gradient estimator: ``rsample`` returns the
    one-hot sample whose gradient is that of the probabilities (Bengio et al., 2013).

    Args:
        probs (Tensor): event probabilities.
        logits (Tensor): event log-probabilities (unnormalized).
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import OneHotCategoricalStraightThrough
        >>> logits = ember.zeros(3, requires_grad=True)
        >>> sample = OneHotCategoricalStraightThrough(logits=logits).rsample()
        >>> (sample * ember.arange(3.0)).sum().backward()
        >>> logits.grad.shape
        ember.Size([3])
    """

    has_rsample = True

    def rsample(self, sample_shape: Any = ()) -> ember.Tensor:
        samples = self.sample(sample_shape)
        probs = self._categorical.probs
        return samples + (probs - probs.detach())
