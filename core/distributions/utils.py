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

__all__ = [
    "broadcast_all",
    "euler_constant",
    "clamp_probs",
    "lazy_property",
    "logits_to_probs",
    "probs_to_logits",
    "tril_matrix_to_vec",
    "vec_to_tril_matrix",
]

euler_constant = 0.57721566490153286060  # Euler-Mascheroni constant


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


def vec_to_tril_matrix(vec: ember.Tensor, diag: int = 0) -> ember.Tensor:
    """Fills the lower triangle (from diagonal ``diag`` down, row by row) of square matrices with the last
    dimension of ``vec``; the rest is zero. The inverse of :func:`tril_matrix_to_vec`.

    Args:
        vec (Tensor): the triangle's entries, ``(..., n)``.
        diag (int): the highest diagonal filled: 0 the main one, -1 the one below it. Default: ``0``.

    Raises:
        ValueError: if ``n`` is not the size of such a triangle.

    Example::

        >>> from ember.distributions.utils import vec_to_tril_matrix
        >>> vec_to_tril_matrix(ember.tensor([1.0, 2.0, 3.0]))
        tensor([[1., 0.],
                [2., 3.]])
    """
    n = vec.shape[-1]
    size = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * n + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if abs(round(size) - size) > 1e-6:
        raise ValueError(
            f"The size of last dimension is {n} which cannot be expressed as the lower triangular part of a "
            "square D x D matrix."
        )
    size = round(size)
    # each matrix entry reads the vector's entry at its place in the triangle, or the appended zero
    places = iter(range(n))
    position = ember.tensor(
        [next(places) if j <= i + diag else n for i in range(size) for j in range(size)], device=vec.device
    )
    padded = ember.cat([vec, vec.new_zeros(tuple(vec.shape[:-1]) + (1,))], -1)
    return padded[..., position].reshape(tuple(vec.shape[:-1]) + (size, size))


def tril_matrix_to_vec(mat: ember.Tensor, diag: int = 0) -> ember.Tensor:
    """The lower triangle (from diagonal ``diag`` down, row by row) of square matrices as a vector.

    Args:
        mat (Tensor): matrices ``(..., n, n)``.
        diag (int): the highest diagonal read. Default: ``0``.

    Example::

        >>> from ember.distributions.utils import tril_matrix_to_vec
        >>> tril_matrix_to_vec(ember.tensor([[1.0, 0.0], [2.0, 3.0]]))
        tensor([1., 2., 3.])
    """
    n = mat.shape[-1]
    rows, cols = ember.tril_indices(n, n, diag, device=mat.device)
    return mat[..., rows, cols]
