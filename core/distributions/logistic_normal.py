"""The logistic-normal distribution, as ``torch.distributions.LogisticNormal``."""

from __future__ import annotations

from typing import Any

import ember

from . import constraints
from .independent import Independent
from .normal import Normal
from .transformed_distribution import TransformedDistribution
from .transforms import StickBreakingTransform

__all__ = ["LogisticNormal"]


class LogisticNormal(TransformedDistribution):
    r"""The logistic-normal distribution on the simplex: a :class:`Normal` vector of size ``K - 1`` through
    the :class:`~ember.distributions.transforms.StickBreakingTransform` to the simplex of size ``K``.

    Args:
        loc (float or Tensor): mean of the base normal distribution.
        scale (float or Tensor): standard deviation of the base normal distribution, positive.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import LogisticNormal
        >>> m = LogisticNormal(ember.zeros(2), ember.ones(2))
        >>> m.event_shape, m.sample().shape
        (ember.Size([3]), ember.Size([3]))
        >>> m.log_prob(ember.tensor([0.2, 0.3, 0.5]))
        tensor(1.2980)
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex
    has_rsample = True
    base_dist: Independent

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        base_dist: Any = Normal(loc, scale, validate_args=validate_args)
        if not base_dist.batch_shape:
            base_dist = base_dist.expand([1])
        super().__init__(base_dist, StickBreakingTransform(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> LogisticNormal:
        new = self._get_checked_instance(LogisticNormal, _instance)
        return super().expand(batch_shape, _instance=new)  # type: ignore[return-value]

    @property
    def loc(self) -> ember.Tensor:
        """The mean of the base normal distribution."""
        return self.base_dist.base_dist.loc  # type: ignore[attr-defined]

    @property
    def scale(self) -> ember.Tensor:
        """The standard deviation of the base normal distribution."""
        return self.base_dist.base_dist.scale  # type: ignore[attr-defined]
