"""The chi-squared distribution, as ``torch.distributions.Chi2``."""

from __future__ import annotations

from typing import Any

import ember

from . import constraints
from .gamma import Gamma

__all__ = ["Chi2"]


class Chi2(Gamma):
    r"""The chi-squared distribution with ``df`` degrees of freedom: ``Gamma(0.5 * df, 0.5)``.

    Args:
        df (float or Tensor): degrees of freedom, positive.
        validate_args (bool, optional): check the parameters and ``log_prob``'s values. Default: ``None``.

    Example::

        >>> from ember.distributions import Chi2
        >>> m = Chi2(ember.tensor([3.0]))
        >>> m.mean, m.variance
        (tensor([3.]), tensor([6.]))
    """

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df: Any, validate_args: bool | None = None) -> None:
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Chi2:
        new = self._get_checked_instance(Chi2, _instance)
        return super().expand(batch_shape, new)  # type: ignore[return-value]

    @property
    def df(self) -> ember.Tensor:
        """Degrees of freedom."""
        return self.concentration * 2
