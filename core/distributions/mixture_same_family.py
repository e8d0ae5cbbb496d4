"""Mixtures of one family's components, as ``torch.distributions.MixtureSameFamily``."""

from __future__ import annotations

from typing import Any

import ember

from . import constraints
from .categorical import Categorical
from .distribution import Distribution

__all__ = ["MixtureSameFamily"]


class MixtureSameFamily(Distribution):
    r"""A mixture whose ``K`` components are the rightmost batch dimension of one distribution, weighted
    by a :class:`Categorical` over ``K`` (a Gaussian mixture is a ``Normal`` batch of ``K`` means and
    scales mixed by a ``Categorical``).

    Args:
        mixture_distribution (Categorical): the mixing weights, batch shape ``B``, ``K`` categories.
        component_distribution (Distribution): the components, batch shape ``B + (K,)``.
        validate_args (bool, optional): check ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import Categorical, MixtureSameFamily, Normal
        >>> mix = Categorical(ember.ones(3))
        >>> comp = Normal(ember.tensor([-2.0, 0.0, 2.0]), ember.ones(3))
        >>> gmm = MixtureSameFamily(mix, comp)
        >>> gmm.mean
        tensor(0.)
        >>> gmm.sample((4,)).shape
        ember.Size([4])
    """

    arg_constraints: dict[str, constraints.Constraint] = {}
    has_rsample = False

    def __init__(
        self, mixture_distribution: Categorical, component_distribution: Distribution, validate_args: bool | None = None
    ) -> None:
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError(" The Mixture distribution needs to be an  instance of torch.distributions.Categorical")
        if not isinstance(component_distribution, Distribution):
            raise ValueError("The Component distribution needs to be an instance of torch.distributions.Distribution")
        mdbs = tuple(mixture_distribution.batch_shape)
        cdbs = tuple(component_distribution.batch_shape)[:-1]
        for size1, size2 in zip(reversed(mdbs), reversed(cdbs)):
            if size1 != 1 and size2 != 1 and size1 != size2:
                raise ValueError(
                    f"`mixture_distribution.batch_shape` ({ember.Size(mdbs)}) is not compatible with "
                    f"`component_distribution.batch_shape`({ember.Size(cdbs)})"
                )
        km = mixture_distribution.logits.shape[-1]
        kc = component_distribution.batch_shape[-1]
        if km != kc:
            raise ValueError(
                f"`mixture_distribution component` ({km}) does not equal `component_distribution.batch_shape[-1]` ({kc})"
            )
        self._num_component = km
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(cdbs, component_distribution.event_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> MixtureSameFamily:
        new = self._get_checked_instance(MixtureSameFamily, _instance)
        batch_shape = tuple(batch_shape)
        new._component_distribution = self._component_distribution.expand(batch_shape + (self._num_component,))
        new._mixture_distribution = self._mixture_distribution.expand(batch_shape)
        new._num_component = self._num_component
        new._event_ndims = self._event_ndims
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property
    def support(self) -> Any:
        return constraints.MixtureSameFamilyConstraint(self._component_distribution.support)

    @property
    def mixture_distribution(self) -> Categorical:
        """The :class:`Categorical` over the components."""
        return self._mixture_distribution

    @property
    def component_distribution(self) -> Distribution:
        """The components, batched over the rightmost batch dimension."""
        return self._component_distribution

    def _weights(self) -> ember.Tensor:
        """The mixing probabilities, with singleton dimensions for the event."""
        probs = self._mixture_distribution.probs
        return probs.reshape(tuple(probs.shape) + (1,) * self._event_ndims)

    @property
    def mean(self) -> ember.Tensor:
        return (self._weights() * self._component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self) -> ember.Tensor:
        # the law of total variance: E[Var(X | k)] + Var(E[X | k])
        weights = self._weights()
        dim = -1 - self._event_ndims
        mean_cond_var = (weights * self._component_distribution.variance).sum(dim)
        var_cond_mean = (weights * (self._component_distribution.mean - self.mean.unsqueeze(dim)).pow(2)).sum(dim)
        return mean_cond_var + var_cond_mean

    def _pad(self, x: ember.Tensor) -> ember.Tensor:
        return x.unsqueeze(-1 - self._event_ndims)

    def cdf(self, x: ember.Tensor) -> ember.Tensor:
        x = self._pad(x)
        cdf_x = self._component_distribution.cdf(x)
        return (cdf_x * self._mixture_distribution.probs).sum(-1)

    def log_prob(self, x: ember.Tensor) -> ember.Tensor:
        if self._validate_args:
            self._validate_sample(x)
        log_prob_x = self._component_distribution.log_prob(self._pad(x))
        log_mix_prob = self._mixture_distribution.logits.log_softmax(-1)
        return (log_prob_x + log_mix_prob).logsumexp(-1)

    def sample(self, sample_shape: Any = ()) -> ember.Tensor:
        sample_shape = tuple(sample_shape)
        with ember.no_grad():
            gather_dim = len(sample_shape) + len(self.batch_shape)
            mix_sample = self._mixture_distribution.sample(sample_shape)
            comp_samples = self._component_distribution.sample(sample_shape)
            index = mix_sample.reshape(tuple(mix_sample.shape) + (1,) * (self._event_ndims + 1))
            index = index.expand(tuple(mix_sample.shape) + (1,) + tuple(self.event_shape))
            return comp_samples.gather(gather_dim, index).squeeze(gather_dim)

    def __repr__(self) -> str:
        return f"MixtureSameFamily(\n  {self._mixture_distribution},\n  {self._component_distribution})"
