"""The base class of exponential families, as ``torch.distributions.ExponentialFamily``."""

from __future__ import annotations

from typing import Any, cast

import ember

from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    r"""The base class of the distributions of an exponential family, whose density is
    :math:`p_F(x; \theta) = \exp(\langle t(x), \theta \rangle - F(\theta) + k(x))` with natural parameters
    :math:`\theta`, sufficient statistic :math:`t(x)`, log-normalizer :math:`F` and carrier measure :math:`k`.

    A subclass gives ``_natural_params``, ``_log_normalizer`` and ``_mean_carrier_measure``; the entropy
    (and the KL divergence between two members of one family) then follow from the Bregman divergence
    of :math:`F`, its gradient computed by autograd (Nielsen and Nock, "Entropies and cross-entropies
    of exponential families").

    Example::

        >>> from ember.distributions import ContinuousBernoulli, ExponentialFamily
        >>> d = ContinuousBernoulli(ember.tensor([0.2]))
        >>> isinstance(d, ExponentialFamily)
        True
        >>> bool((ExponentialFamily.entropy(d) - d.entropy()).abs().max() < 1e-5)
        True
    """

    @property
    def _natural_params(self) -> tuple[ember.Tensor, ...]:
        """The natural parameters, a tuple of tensors."""
        raise NotImplementedError

    def _log_normalizer(self, *natural_params: ember.Tensor) -> ember.Tensor:
        """The log-normalizer ``F`` as a function of the natural parameters."""
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self) -> Any:
        """The expected carrier measure ``E[k(x)]``, needed for the entropy."""
        raise NotImplementedError

    def _log_normalizer_and_gradients(
        self,
    ) -> tuple[ember.Tensor, list[ember.Tensor], tuple[ember.Tensor, ...]]:
        """``F(theta)``, the detached natural parameters ``theta`` and ``dF/dtheta`` (with its graph)."""
        params = [p.detach().requires_grad_() for p in self._natural_params]
        with ember.enable_grad():
            log_normalizer = self._log_normalizer(*params)
            gradients = ember.autograd.grad(log_normalizer.sum(), params, create_graph=True)
        return log_normalizer, params, cast(tuple[ember.Tensor, ...], gradients)

    def entropy(self) -> ember.Tensor:
        log_normalizer, params, gradients = self._log_normalizer_and_gradients()
        result = log_normalizer - self._mean_carrier_measure
        for param, gradient in zip(params, gradients):
            result = result - (param * gradient).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
