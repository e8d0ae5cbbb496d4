"""``parameters_to_vector`` and ``vector_to_parameters``: a model's parameters as one flat vector."""

from __future__ import annotations

from collections.abc import Iterable

from ...ops.movement import cat
from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _same_device(param: Tensor, first: Tensor | None) -> Tensor:
    if first is not None and param.device != first.device:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")
    return param if first is None else first


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    r"""Flatten an iterable of parameters into one vector (their elements in order).

    Args:
        parameters (Iterable[Tensor]): the parameters of a model.

    Returns:
        The parameters as a single 1-D tensor (differentiable with respect to them).

    Example::

        >>> v = nn.utils.parameters_to_vector(nn.Linear(3, 2).parameters())
        >>> v.shape
        ember.Size([8])
    """
    first = None
    pieces = []
    for param in parameters:
        first = _same_device(param, first)
        pieces.append(param.view(-1))
    return cat(pieces)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    r"""Copy consecutive slices of ``vec`` into the parameters (each parameter's ``.data`` is
    replaced by a view of ``vec``).

    Args:
        vec (Tensor): a single vector, as :func:`parameters_to_vector` makes.
        parameters (Iterable[Tensor]): the parameters of a model.

    Example::

        >>> m = nn.Linear(3, 2)
        >>> nn.utils.vector_to_parameters(ember.zeros(8), m.parameters())
        >>> float(m.weight.abs().sum())
        0.0
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    first = None
    pointer = 0
    for param in parameters:
        first = _same_device(param, first)
        count = param.numel()
        param.data = vec[pointer : pointer + count].view_as(param).data
        pointer += count
