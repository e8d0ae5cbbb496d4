"""The Dirichlet distribution, as ``torch.distributions.Dirichlet``."""

from __future__ import annotations

from typing import Any

import ember
import ember.nn.functional as F

from ..ops.special import digamma, lgamma
from . import constraints
from ._sampling import beta_marginal_grad, dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily

__all__ = ["Dirichlet"]


class Dirichlet(ExponentialFamily):
    r"""The Dirichlet distribution over the simplex, parameterized by ``concentration``:
    :math:`p(x) \propto \prod_i x_i^{\alpha_i - 1}`.

    ``rsample`` normalizes gamma draws; its gradients are PyTorch's, each coordinate's implicit
    reparameterization gradient through its Beta marginal.

    Args:
        concentration (Tensor): concentration parameters, shape ``batch_shape + (K,)``, positive.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import Dirichlet
        >>> m = Dirichlet(ember.tensor([0.5, 0.5]))
        >>> m.log_prob(ember.tensor([0.25, 0.75]))
        tensor(-0.3077)
        >>> m.sample().shape
        ember.Size([2])
    """

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration: ember.Tensor, validate_args: bool | None = None) -> None:
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Dirichlet:
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = ember.Size(tuple(batch_shape))
        new.concentration = self.concentration.expand(tuple(batch_shape) + tuple(self.event_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape: Any = ()) -> ember.Tensor:
        shape = self._extended_shape(sample_shape)
        concentration = self.concentration.expand(shape)
        value = dirichlet(concentration)  # PyTorch's _sample_dirichlet
        if not (ember.is_grad_enabled() and concentration.requires_grad):
            return value
        # PyTorch's reparameterization: dx_j/da_i = g_i (delta_ij - x_j), g_i the implicit gradient of x_i's
        # Beta(a_i, total - a_i) marginal over 1 - x_i, attached as a linear term in the concentration
        detached = concentration.detach()
        slope = beta_marginal_grad(value, detached, detached.sum(-1, keepdim=True).expand(shape))
        step = slope * (concentration - detached)
        return value + step - value * step.sum(-1, keepdim=True)

    def log_prob(self, value: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return (
            ember.xlogy(self.concentration - 1.0, value).sum(-1)
            + lgamma(self.concentration.sum(-1))
            - lgamma(self.concentration).sum(-1)
        )

    @property
    def mean(self) -> ember.Tensor:
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self) -> ember.Tensor:
        concentrationm1 = (self.concentration - 1).clamp(min=0.0)
        mode = concentrationm1 / concentrationm1.sum(-1, keepdim=True)
        # all concentrations below 1: the density peaks at the vertex of the largest one
        vertex = F.one_hot(self.concentration.argmax(-1), self.concentration.shape[-1]).to(mode.dtype)
        below_one = (self.concentration < 1).all(-1, keepdim=True)
        return ember.where(below_one, vertex, mode)

    @property
    def variance(self) -> ember.Tensor:
        con0 = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (con0 - self.concentration) / (con0.pow(2) * (con0 + 1))

    def entropy(self) -> ember.Tensor:
        k = self.concentration.shape[-1]
        a0 = self.concentration.sum(-1)
        return (
            lgamma(self.concentration).sum(-1)
            - lgamma(a0)
            - (k - a0) * digamma(a0)
            - ((self.concentration - 1.0) * digamma(self.concentration)).sum(-1)
        )

    @property
    def _natural_params(self) -> tuple[ember.Tensor, ...]:
        return (self.concentration,)

    def _log_normalizer(self, *natural_params: ember.Tensor) -> ember.Tensor:
        (x,) = natural_params
        return lgamma(x).sum(-1) - lgamma(x.sum(-1))
