"""The deprecated out-of-place ``Tensor.resize`` and ``Tensor.resize_as`` of PyTorch's ``Variable``: unlike
the in-place ``resize_``, they only reshape, keeping the number of elements, and warn that they are
deprecated.
"""

from __future__ import annotations

import math
import warnings

from ..tensor import Tensor

__all__ = ["resize", "resize_as"]


def _resized(self: Tensor, sizes: tuple[int, ...]) -> Tensor:
    if math.prod(sizes) != self.numel():
        shape = "x".join(str(s) for s in self.shape)
        raise RuntimeError(
            f"requested resize to {'x'.join(str(s) for s in sizes)} ({math.prod(sizes)} elements in total), but the "
            f"given tensor has a size of {shape} ({self.numel()} elements). autograd's resize can only change the "
            "shape of a given tensor, while preserving the number of elements. "
        )
    return self.contiguous().view(sizes)


def resize(self: Tensor, *sizes: int) -> Tensor:
    """This tensor's elements, in row-major order, as a tensor of ``sizes``: a view when the tensor is
    contiguous, a copy otherwise (deprecated: use :meth:`reshape`, or :meth:`resize_` to change the number of
    elements in place).

    Args:
        *sizes (int): the new shape, with as many elements as this tensor.

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     ember.arange(6).resize(3, 2)
        tensor([[0, 1],
                [2, 3],
                [4, 5]])
    """
    warnings.warn("non-inplace resize is deprecated", stacklevel=2)
    if len(sizes) == 1 and not isinstance(sizes[0], int):
        sizes = tuple(sizes[0])
    return _resized(self, sizes)


def resize_as(self: Tensor, tensor: Tensor) -> Tensor:
    """:meth:`resize` to ``tensor``'s shape (deprecated: use :meth:`reshape_as`).

    Args:
        tensor (Tensor): the tensor whose shape to take; it must have as many elements as this one.

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     ember.arange(4).resize_as(ember.zeros(2, 2))
        tensor([[0, 1],
                [2, 3]])
    """
    warnings.warn("non-inplace resize_as is deprecated", stacklevel=2)
    return _resized(self, tuple(tensor.shape))
