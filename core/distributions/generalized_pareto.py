"""The generalized Pareto distribution, as ``torch.distributions.GeneralizedPareto``."""

from __future__ import annotations

import math
from numbers import Number
from typing import Any

import ember

from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    r"""The generalized Pareto distribution, the limit of the tails of many distributions over a
    threshold: :math:`p(x) = \frac{1}{\sigma}(1 + \xi z)^{-1/\xi - 1}` with :math:`z = (x - \mu)/\sigma`
    (the exponential :math:`e^{-z}/\sigma` at :math:`\xi = 0`), supported on :math:`x \ge \mu`, below
    :math:`\mu - \sigma/\xi` too when :math:`\xi < 0`.

    Args:
        loc (float or Tensor): location (the support's lower bound).
        scale (float or Tensor): scale, positive.
        concentration (float or Tensor): shape (xi), any real.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import GeneralizedPareto
        >>> m = GeneralizedPareto(ember.tensor([0.0]), ember.tensor([1.0]), ember.tensor([0.5]))
        >>> m.log_prob(ember.tensor([1.0]))
        tensor([-1.2164])
        >>> m.cdf(ember.tensor([1.0]))
        tensor([0.5556])
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive, "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, concentration: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        numbers = all(isinstance(v, Number) for v in (loc, scale, concentration))
        super().__init__(ember.Size() if numbers else self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> GeneralizedPareto:
        return self._expanded(GeneralizedPareto, batch_shape, _instance, ("loc", "scale", "concentration"))

    def _safe_concentration(self) -> tuple[ember.Tensor, ember.Tensor]:
        """Where the concentration is 0 (to ``isclose``'s tolerance), and the concentration with 1 there."""
        zero = self.concentration.abs() <= 1e-8
        return zero, ember.where(zero, ember.ones_like(self.concentration), self.concentration)

    def _standardized(self, value: ember.Tensor) -> tuple[ember.Tensor, ember.Tensor, ember.Tensor]:
        """``(value - loc) / scale`` (``value`` validated) and :meth:`_safe_concentration`."""
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.loc) / self.scale, *self._safe_concentration())

    def rsample(self, sample_shape: Any = ()) -> ember.Tensor:
        u = ember.rand(self._extended_shape(sample_shape), dtype=self.loc.dtype, device=self.loc.device)
        return self.icdf(u)

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        z, zero, concentration = self._standardized(value)
        y = 1 / concentration + ember.ones_like(z)
        nonzero = ember.where(y == 0, y, y * (concentration * z).log1p())
        return -self.scale.log() - ember.where(zero, z, nonzero)

    def log_survival_function(self, value: ember.Tensor) -> ember.Tensor:
        """The log of the survival function ``1 - cdf`` at ``value``.

        Args:
            value (Tensor): the value(s).

        Example::

            >>> from ember.distributions import GeneralizedPareto
            >>> GeneralizedPareto(0.0, 1.0, 0.0).log_survival_function(ember.tensor(2.0))
            tensor(-2.)
        """
        z, zero, concentration = self._standardized(value)
        return ember.where(zero, -z, -(concentration * z).log1p() / concentration)

    def log_cdf(self, value: ember.Tensor) -> ember.Tensor:
        """The log of the cumulative distribution function at ``value``.

        Args:
            value (Tensor): the value(s).

        Example::

            >>> from ember.distributions import GeneralizedPareto
            >>> GeneralizedPareto(0.0, 1.0, 0.0).log_cdf(ember.tensor(2.0))
            tensor(-0.1454)
        """
        return (-self.log_survival_function(value).exp()).log1p()

    def cdf(self, value: ember.Tensor) -> ember.Tensor:
        return self.log_cdf(value).exp()

    def icdf(self, value: ember.Tensor) -> ember.Tensor:
        zero, concentration = self._safe_concentration()
        log_u = (-value).log1p()
        nonzero = self.loc + self.scale / concentration * (-concentration * log_u).expm1()
        return ember.where(zero, self.loc - self.scale * log_u, nonzero)

    @property
    def mean(self) -> ember.Tensor:
        valid = self.concentration < 1
        concentration = ember.where(valid, self.concentration, ember.full_like(self.concentration, 0.5))
        result = self.loc + self.scale / (1 - concentration)
        return ember.where(valid, result, ember.full_like(result, math.nan))

    @property
    def variance(self) -> ember.Tensor:
        valid = self.concentration < 0.5
        concentration = ember.where(valid, self.concentration, ember.full_like(self.concentration, 0.25))
        result = self.scale.pow(2) / ((1 - concentration).pow(2) * (1 - 2 * concentration))
        return ember.where(valid, result, ember.full_like(result, math.nan))

    def entropy(self) -> ember.Tensor:
        return (self.scale.log() + self.concentration + 1).broadcast_to(tuple(self._batch_shape))

    @property
    def mode(self) -> ember.Tensor:
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> constraints.Constraint:
        upper = ember.where(
            self.concentration < 0, self.loc - self.scale / self.concentration, ember.full_like(self.loc, math.inf)
        )
        return constraints.interval(self.loc, upper)
