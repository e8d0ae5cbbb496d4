"""The beta distribution, as ``torch.distributions.Beta``."""

from __future__ import annotations

from numbers import Real
from typing import Any

import ember

from ..ops.special import lgamma
from . import constraints
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ["Beta"]


class Beta(ExponentialFamily):
    r"""The beta distribution over ``(0, 1)``: :math:`p(x) \propto x^{\alpha-1} (1-x)^{\beta-1}`, a
    two-category :class:`Dirichlet`.

    Args:
        concentration1 (float or Tensor): the first concentration parameter (alpha), positive.
        concentration0 (float or Tensor): the second concentration parameter (beta), positive.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import Beta
        >>> m = Beta(ember.tensor([0.5]), ember.tensor([0.5]))
        >>> m.log_prob(ember.tensor([0.25]))
        tensor([-0.3077])
        >>> m.mean
        tensor([0.5000])
    """

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1: Any, concentration0: Any, validate_args: bool | None = None) -> None:
        if isinstance(concentration1, Real) and isinstance(concentration0, Real):
            concentration1_0 = ember.tensor([float(concentration1), float(concentration0)])
        else:
            concentration1, concentration0 = broadcast_all(concentration1, concentration0)
            concentration1_0 = ember.stack([concentration1, concentration0], -1)
        self._dirichlet = Dirichlet(concentration1_0, validate_args=validate_args)
        super().__init__(self._dirichlet._batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Beta:
        new = self._get_checked_instance(Beta, _instance)
        batch_shape = ember.Size(tuple(batch_shape))
        new._dirichlet = self._dirichlet.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def concentration1(self) -> ember.Tensor:
        """The first concentration parameter (alpha)."""
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self) -> ember.Tensor:
        """The second concentration parameter (beta)."""
        return self._dirichlet.concentration[..., 1]

    @property
    def mean(self) -> ember.Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> ember.Tensor:
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self) -> ember.Tensor:
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape: Any = ()) -> ember.Tensor:
        return self._dirichlet.rsample(sample_shape)[..., 0]

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        heads_tails = ember.stack([value, 1.0 - value], -1)
        return self._dirichlet.log_prob(heads_tails)

    def entropy(self) -> ember.Tensor:
        return self._dirichlet.entropy()

    @property
    def _natural_params(self) -> tuple[ember.Tensor, ...]:
        return (self.concentration1, self.concentration0)

    def _log_normalizer(self, *natural_params: ember.Tensor) -> ember.Tensor:
        x, y = natural_params
        return lgamma(x) + lgamma(y) - lgamma(x + y)
