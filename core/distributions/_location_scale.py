"""The base of the real-valued location-scale families (private): Normal, Laplace, Cauchy."""

from __future__ import annotations

from numbers import Number
from typing import Any

import ember

from . import constraints
from .distribution import Distribution
from .utils import broadcast_all


class LocationScale(Distribution):
    """A distribution over the reals with a location ``loc`` (its mode) and a positive ``scale``,
    broadcast together; a batch shape of ``()`` when both are numbers."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        batch_shape = ember.Size() if isinstance(loc, Number) and isinstance(scale, Number) else self.loc.shape
        super().__init__(batch_shape, validate_args=validate_args)

    @property
    def mode(self) -> ember.Tensor:
        return self.loc
