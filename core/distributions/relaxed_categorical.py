"""The relaxed (Concrete) one-hot categorical distributions, as ``torch.distributions.RelaxedOneHotCategorical``."""

from __future__ import annotations

import math
from typing import Any

import ember

from . import constraints
from .categorical import Categorical, CategoricalParameters
from .distribution import Distribution
from .relaxed_bernoulli import RelaxedParameters
from .transformed_distribution import TransformedDistribution
from .transforms import ExpTransform
from .utils import broadcast_all, clamp_probs

__all__ = ["ExpRelaxedCategorical", "RelaxedOneHotCategorical"]


class ExpRelaxedCategorical(CategoricalParameters, Distribution):
    r"""The log of a :class:`RelaxedOneHotCategorical` sample (the ExpConcrete distribution of
    Maddison et al., 2017), parameterized by ``temperature`` and ``probs`` or ``logits``.

    Args:
        temperature (Tensor): the relaxation temperature, positive.
        probs (Tensor): event probabilities.
        logits (Tensor): unnormalized log-probabilities of the events.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions.relaxed_categorical import ExpRelaxedCategorical
        >>> m = ExpRelaxedCategorical(ember.tensor(1.0), probs=ember.tensor([0.5, 0.5]))
        >>> bool((m.rsample().exp().sum() - 1).abs() < 1e-6)
        True
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector
    has_rsample = True

    def __init__(
        self, temperature: Any, probs: Any = None, logits: Any = None, validate_args: bool | None = None
    ) -> None:
        self._categorical = Categorical(probs, logits)
        self.temperature = temperature
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> ExpRelaxedCategorical:
        new = self._get_checked_instance(ExpRelaxedCategorical, _instance)
        batch_shape = ember.Size(tuple(batch_shape))
        new.temperature = self.temperature
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape: Any = ()) -> ember.Tensor:
        shape = self._extended_shape(sample_shape)
        uniforms = clamp_probs(ember.rand(shape, dtype=self.logits.dtype, device=self.logits.device))
        gumbels = -((-(uniforms.log())).log())
        scores = (self.logits + gumbels) / self.temperature
        return scores - scores.logsumexp(-1, keepdim=True)

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        k = self._categorical._num_events
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        temperature = ember.as_tensor(self.temperature, dtype=logits.dtype, device=logits.device)
        log_scale = math.lgamma(k) + (k - 1) * temperature.log()
        score = logits - value * temperature
        score = (score - score.logsumexp(-1, keepdim=True)).sum(-1)
        return score + log_scale


class RelaxedOneHotCategorical(RelaxedParameters, TransformedDistribution):
    r"""A reparameterizable relaxation of :class:`OneHotCategorical` over the simplex (the Concrete
    or Gumbel-softmax distribution): an :class:`ExpRelaxedCategorical` sample through ``exp``.

    Args:
        temperature (Tensor): the relaxation temperature, positive.
        probs (Tensor): event probabilities.
        logits (Tensor): unnormalized log-probabilities of the events.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import RelaxedOneHotCategorical
        >>> m = RelaxedOneHotCategorical(ember.tensor([2.2]), ember.tensor([0.1, 0.2, 0.3, 0.4]))
        >>> m.sample().shape
        ember.Size([4])
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(
        self, temperature: Any, probs: Any = None, logits: Any = None, validate_args: bool | None = None
    ) -> None:
        base_dist = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base_dist, ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> RelaxedOneHotCategorical:
        new = self._get_checked_instance(RelaxedOneHotCategorical, _instance)
        return super().expand(batch_shape, _instance=new)  # type: ignore[return-value]
