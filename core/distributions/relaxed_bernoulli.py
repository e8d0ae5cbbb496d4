"""The relaxed (Concrete) Bernoulli distributions, as ``torch.distributions.RelaxedBernoulli``."""

from __future__ import annotations

from typing import Any

import ember
import ember.nn.functional as F

from . import constraints
from ._binary import BinaryParameters
from .distribution import Distribution
from .transformed_distribution import TransformedDistribution
from .transforms import SigmoidTransform
from .utils import broadcast_all, clamp_probs

__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli"]


class RelaxedParameters:
    """Mixin of the relaxed distributions built on a base distribution: its parameters, read through."""

    base_dist: Any

    @property
    def temperature(self) -> Any:
        """The relaxation temperature."""
        return self.base_dist.temperature

    @property
    def logits(self) -> ember.Tensor:
        """The log-odds (log-probabilities) of the events."""
        return self.base_dist.logits

    @property
    def probs(self) -> ember.Tensor:
        """The probabilities of the events."""
        return self.base_dist.probs


class LogitRelaxedBernoulli(BinaryParameters, Distribution):
    r"""The logit of a :class:`RelaxedBernoulli` sample (Maddison et al., 2017): a reparameterizable
    distribution over the reals, parameterized by ``temperature`` and ``probs`` or ``logits``.

    Args:
        temperature (Tensor): the relaxation temperature, positive.
        probs (Number or Tensor): the probability of sampling ``1``.
        logits (Number or Tensor): the log-odds of sampling ``1``.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions.relaxed_bernoulli import LogitRelaxedBernoulli
        >>> m = LogitRelaxedBernoulli(ember.tensor(0.5), probs=ember.tensor([0.3]))
        >>> m.log_prob(ember.tensor([0.0]))
        tensor([-2.2538])
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real
    has_rsample = True

    def __init__(
        self, temperature: Any, probs: Any = None, logits: Any = None, validate_args: bool | None = None
    ) -> None:
        self.temperature = temperature
        is_scalar, _ = self._set_probs_or_logits(probs, logits)
        batch_shape = ember.Size() if is_scalar else self._param.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> LogitRelaxedBernoulli:
        new = self._expanded(LogitRelaxedBernoulli, batch_shape, _instance, ("probs", "logits"))
        new.temperature = self.temperature
        return new

    def rsample(self, sample_shape: Any = ()) -> ember.Tensor:
        shape = self._extended_shape(sample_shape)
        probs = clamp_probs(self.probs.expand(shape))
        uniforms = clamp_probs(ember.rand(shape, dtype=probs.dtype, device=probs.device))
        return (uniforms.log() - (-uniforms).log1p() + probs.log() - (-probs).log1p()) / self.temperature

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        diff = logits - value * self.temperature
        return (
            ember.as_tensor(self.temperature, dtype=diff.dtype, device=diff.device).log() + diff - 2 * F.softplus(diff)
        )


class RelaxedBernoulli(RelaxedParameters, TransformedDistribution):
    r"""A reparameterizable relaxation of :class:`Bernoulli` over ``(0, 1)`` (the Concrete or
    Gumbel-sigmoid distribution): a :class:`LogitRelaxedBernoulli` sample through a sigmoid.

    Args:
        temperature (Tensor): the relaxation temperature, positive.
        probs (Number or Tensor): the probability of sampling ``1``.
        logits (Number or Tensor): the log-odds of sampling ``1``.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import RelaxedBernoulli
        >>> m = RelaxedBernoulli(ember.tensor([2.2]), ember.tensor([0.1, 0.2, 0.3, 0.99]))
        >>> sample = m.sample()
        >>> bool(((sample > 0) & (sample < 1)).all())
        True
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(
        self, temperature: Any, probs: Any = None, logits: Any = None, validate_args: bool | None = None
    ) -> None:
        base_dist = LogitRelaxedBernoulli(temperature, probs, logits)
        super().__init__(base_dist, SigmoidTransform(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> RelaxedBernoulli:
        new = self._get_checked_instance(RelaxedBernoulli, _instance)
        return super().expand(batch_shape, _instance=new)  # type: ignore[return-value]
