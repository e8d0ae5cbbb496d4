"""Helpers shared by the distributions, as ``torch.distributions.utils``.

Example::

    >>> from ember.distributions.utils import probs_to_logits, logits_to_probs
    >>> logits_to_probs(probs_to_logits(ember.tensor([0.25, 0.75])))
    tensor([0.2500, 0.7500])
"""

from __future__ import annotations

import numbers
from functools import update_wrapper
from typing import Any

import ember

__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs", "probs_to_logits"]


def broadcast_all(*values: Any) -> tuple[ember.Tensor, ...]:
    """Broadcasts tensors and numbers to one shape; numbers become tensors of the first tensor's dtype
    and device (the default dtype where all are numbers).

    Args:
        *values (Tensor or Number): the values to broadcast.

    Raises:
        ValueError: if a value is neither a tensor nor a number.

    Example::

        >>> from ember.distributions.utils import broadcast_all
        >>> loc, scale = broadcast_all(ember.zeros(2), 1.0)
        >>> scale
        tensor([1., 1.])
    """
    if not all(isinstance(v, (ember.Tensor, numbers.Number)) for v in values):
        raise ValueError(
            "Input arguments must all be instances of numbers.Number, ember.Tensor or objects implementing __torch_function__."
        )
    like = next((v for v in values if isinstance(v, ember.Tensor)), None)
    if like is None:
        return tuple(ember.tensor(v, dtype=ember.get_default_dtype()) for v in values)
    tensors = [
        v if isinstance(v, ember.Tensor) else ember.tensor(v, dtype=like.dtype, device=like.device) for v in values
    ]
    return tuple(ember.broadcast_tensors(*tensors))


def clamp_probs(probs: ember.Tensor) -> ember.Tensor:
    """Clamps probabilities into ``[eps, 1 - eps]`` (``eps`` of their dtype).

    Args:
        probs (Tensor): probabilities.

    Example::

        >>> from ember.distributions.utils import clamp_probs
        >>> bool(clamp_probs(ember.tensor([0.0]))[0] > 0)
        True
    """
    eps = ember.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits: ember.Tensor, is_binary: bool = False) -> ember.Tensor:
    """Probabilities from logits: a sigmoid when ``is_binary``, else a softmax over the last dimension.

    Args:
        logits (Tensor): the logits.
        is_binary (bool): one Bernoulli logit per element rather than a categorical row. Default: ``False``.

    Example::

        >>> from ember.distributions.utils import logits_to_probs
        >>> logits_to_probs(ember.tensor([0.0]), is_binary=True)
        tensor([0.5000])
    """
    if is_binary:
        return ember.sigmoid(logits)
    return logits.softmax(-1)


def probs_to_logits(probs: ember.Tensor, is_binary: bool = False) -> ember.Tensor:
    """Logits from probabilities (clamped away from 0 and 1): ``log p - log1p(-p)`` when ``is_binary``,
    else ``log p``.

    Args:
        probs (Tensor): the probabilities.
        is_binary (bool): one Bernoulli probability per element. Default: ``False``.

    Example::

        >>> from ember.distributions.utils import probs_to_logits
        >>> probs_to_logits(ember.tensor([0.5]), is_binary=True)
        tensor([0.])
    """
    clamped = clamp_probs(probs)
    if is_binary:
        return clamped.log() - (-clamped).log1p()
    return clamped.log()


class lazy_property:  # noqa: N801 - PyTorch's name
    """A property computed on first access and then stored on the instance (``probs`` from ``logits``).

    Args:
        wrapped (callable): the method that computes the value.

    Example::

        >>> from ember.distributions.utils import lazy_property
        >>> class A:
        ...     @lazy_property
        ...     def x(self):
        ...         return 3
        >>> A().x
        3
    """

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped
        update_wrapper(self, wrapped)  # type: ignore[arg-type]

    def __get__(self, instance: Any, obj_type: Any = None) -> Any:
        if instance is None:
            return self
        with ember.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def sum_rightmost(value: ember.Tensor, dim: int) -> ember.Tensor:
    """Sums the ``dim`` rightmost dimensions of ``value``.

    Args:
        value (Tensor): the tensor to reduce.
        dim (int): how many rightmost dimensions to sum.

    Example::

        >>> from ember.distributions.utils import sum_rightmost
        >>> sum_rightmost(ember.ones(2, 3), 1)
        tensor([3., 3.])
    """
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[: value.dim() - dim]) + (-1,)).sum(-1)
