"""Transforms from unconstrained space onto a constraint's set, as ``torch.distributions.constraint_registry``.

``biject_to(constraint)`` gives a bijective transform (for HMC-style samplers, where the
log-det-Jacobian must be exact); ``transform_to(constraint)`` gives a transform that need not be
bijective but suits optimization (the simplex through a softmax rather than stick breaking).

Example::

    >>> from ember.distributions import biject_to, constraints, transform_to
    >>> transform_to(constraints.positive)(ember.tensor([0.0]))
    tensor([1.])
    >>> transform_to(constraints.greater_than(2.0))(ember.tensor([0.0]))
    tensor([3.])
    >>> biject_to(constraints.simplex)
    StickBreakingTransform()
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

from . import constraints, transforms

__all__ = ["ConstraintRegistry", "biject_to", "transform_to"]


class ConstraintRegistry:
    """A registry from constraint types to factories of transforms onto them.

    Example::

        >>> from ember.distributions import constraints
        >>> from ember.distributions.constraint_registry import ConstraintRegistry
        >>> from ember.distributions.transforms import ExpTransform
        >>> registry = ConstraintRegistry()
        >>> _ = registry.register(constraints.positive, lambda constraint: ExpTransform())
        >>> registry(constraints.positive)
        ExpTransform()
    """

    def __init__(self) -> None:
        self._registry: dict[type, Callable[[Any], transforms.Transform]] = {}
        super().__init__()

    def register(self, constraint: Any, factory: Callable[[Any], transforms.Transform] | None = None) -> Any:
        """Registers ``factory`` (a function from a constraint to a transform) for the constraint's type;
        without ``factory``, returns a decorator.

        Args:
            constraint (Constraint or type): a constraint or a subclass of :class:`Constraint`.
            factory (callable, optional): the function from a constraint to a transform.

        Example::

            >>> from ember.distributions import constraints
            >>> from ember.distributions.constraint_registry import ConstraintRegistry
            >>> from ember.distributions.transforms import ExpTransform
            >>> registry = ConstraintRegistry()
            >>> @registry.register(constraints.positive)
            ... def to_positive(constraint):
            ...     return ExpTransform()
        """
        if factory is None:
            return lambda factory: self.register(constraint, factory)
        if isinstance(constraint, constraints.Constraint):
            constraint = type(constraint)
        if not isinstance(constraint, type) or not issubclass(constraint, constraints.Constraint):
            raise TypeError(f"Expected constraint to be either a Constraint subclass or instance, but got {constraint}")
        self._registry[constraint] = factory
        return factory

    def __call__(self, constraint: constraints.Constraint) -> transforms.Transform:
        """The transform from unconstrained space onto ``constraint``'s set.

        Args:
            constraint (Constraint): the constraint.

        Example::

            >>> from ember.distributions import biject_to, constraints
            >>> biject_to(constraints.interval(-1.0, 1.0))(ember.tensor([0.0]))
            tensor([0.])
        """
        try:
            factory = self._registry[type(constraint)]
        except KeyError:
            raise NotImplementedError(f"Cannot transform {type(constraint).__name__} constraints") from None
        return factory(constraint)


biject_to = ConstraintRegistry()
transform_to = ConstraintRegistry()


def _to_real(constraint: Any) -> transforms.Transform:
    return transforms.identity_transform


def _to_independent(registry: ConstraintRegistry) -> Callable[[Any], transforms.Transform]:
    def factory(constraint: Any) -> transforms.Transform:
        base = registry(constraint.base_constraint)
        return transforms.IndependentTransform(base, constraint.reinterpreted_batch_ndims)

    return factory


def _to_greater_than(constraint: Any) -> transforms.Transform:
    return transforms.ComposeTransform(
        [transforms.ExpTransform(), transforms.AffineTransform(constraint.lower_bound, 1)]
    )


def _to_less_than(constraint: Any) -> transforms.Transform:
    return transforms.ComposeTransform(
        [transforms.ExpTransform(), transforms.AffineTransform(constraint.upper_bound, -1)]
    )


def _to_interval(constraint: Any) -> transforms.Transform:
    lower, upper = constraint.lower_bound, constraint.upper_bound
    if isinstance(lower, numbers.Number) and isinstance(upper, numbers.Number) and lower == 0 and upper == 1:
        return transforms.SigmoidTransform()
    return transforms.ComposeTransform(
        [transforms.SigmoidTransform(), transforms.AffineTransform(lower, upper - lower)]
    )


for _registry in (biject_to, transform_to):
    _registry.register(constraints.real, _to_real)
    _registry.register(constraints.independent, _to_independent(_registry))
    # positive and nonnegative are instances of these two types: exp, then shifted by their bound (0)
    _registry.register(constraints.greater_than, _to_greater_than)
    _registry.register(constraints.greater_than_eq, _to_greater_than)
    _registry.register(constraints.less_than, _to_less_than)
    _registry.register(constraints.interval, _to_interval)
    _registry.register(constraints.half_open_interval, _to_interval)
biject_to.register(constraints.simplex, lambda constraint: transforms.StickBreakingTransform())
transform_to.register(constraints.simplex, lambda constraint: transforms.SoftmaxTransform())


def _to_cat(registry: ConstraintRegistry) -> Callable[[Any], transforms.Transform]:
    def factory(constraint: Any) -> transforms.Transform:
        return transforms.CatTransform([registry(c) for c in constraint.cseq], constraint.dim, constraint.lengths)

    return factory


def _to_stack(registry: ConstraintRegistry) -> Callable[[Any], transforms.Transform]:
    def factory(constraint: Any) -> transforms.Transform:
        return transforms.StackTransform([registry(c) for c in constraint.cseq], constraint.dim)

    return factory


for _registry in (biject_to, transform_to):
    _registry.register(constraints.corr_cholesky, lambda constraint: transforms.CorrCholeskyTransform())
    _registry.register(constraints.cat, _to_cat(_registry))
    _registry.register(constraints.stack, _to_stack(_registry))
transform_to.register(constraints.lower_cholesky, lambda constraint: transforms.LowerCholeskyTransform())
transform_to.register(constraints.positive_definite, lambda constraint: transforms.PositiveDefiniteTransform())
transform_to.register(constraints.positive_semidefinite, lambda constraint: transforms.PositiveDefiniteTransform())
