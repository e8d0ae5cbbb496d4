"""Padding layers: reflection, replication, zero, constant and circular padding in 1, 2 and 3 dimensions."""

from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = [
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
    "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
    "CircularPad1d", "CircularPad2d", "CircularPad3d",
]  # fmt: skip


def _expand(padding, count):
    """An int becomes ``count`` copies; a sequence is kept as a tuple."""
    if isinstance(padding, int):
        return (padding,) * count
    return tuple(padding)


class _PadNd(Module):
    """Shared by the padding layers: ``forward`` is ``F.pad(input, self.padding, mode)``."""

    mode = "constant"
    dims = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _expand(padding, 2 * self.dims)

    def forward(self, input):
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class _ReflectionPadNd(_PadNd):
    mode = "reflect"


class _ReplicationPadNd(_PadNd):
    mode = "replicate"


class _CircularPadNd(_PadNd):
    mode = "circular"

    def forward(self, input):
        if input.dim() not in (self.dims + 1, self.dims + 2):
            raise ValueError(f"expected {self.dims + 1}D or {self.dims + 2}D input (got {input.dim()}D input)")
        return super().forward(input)


class ReflectionPad1d(_ReflectionPadNd):
    r"""Pads the input tensor using the reflection of the input boundary.

    Args:
        padding (int, tuple): the size of the padding. If an int, the same padding on every
            boundary; if a 2-tuple, (padding_left, padding_right).

    Shape:
        - Input: :math:`(C, W_in)` or :math:`(N, C, W_in)`.
        - Output: the same layout, with W each grown by its two paddings.

    Example::

        >>> m = nn.ReflectionPad1d(1)
        >>> m(ember.randn(1, 2, 4)).shape
        ember.Size([1, 2, 6])
    """

    dims = 1


class ReflectionPad2d(_ReflectionPadNd):
    r"""Pads the input tensor using the reflection of the input boundary.

    Args:
        padding (int, tuple): the size of the padding. If an int, the same padding on every
            boundary; if a 4-tuple, (padding_left, padding_right, padding_top, padding_bottom).

    Shape:
        - Input: :math:`(C, H_in, W_in)` or :math:`(N, C, H_in, W_in)`.
        - Output: the same layout, with H, W each grown by its two paddings.

    Example::

        >>> m = nn.ReflectionPad2d(1)
        >>> m(ember.randn(1, 1, 3, 3)).shape
        ember.Size([1, 1, 5, 5])
    """

    dims = 2


class ReflectionPad3d(_ReflectionPadNd):
    r"""Pads the input tensor using the reflection of the input boundary.

    Args:
        padding (int, tuple): the size of the padding. If an int, the same padding on every
            boundary; if a 6-tuple, (padding_left, padding_right, padding_top, padding_bottom, padding_front, padding_back).

    Shape:
        - Input: :math:`(C, D_in, H_in, W_in)` or :math:`(N, C, D_in, H_in, W_in)`.
        - Output: the same layout, with D, H, W each grown by its two paddings.

    Example::

        >>> m = nn.ReflectionPad3d(1)
        >>> m(ember.randn(1, 1, 2, 2, 2)).shape
        ember.Size([1, 1, 4, 4, 4])
    """

    dims = 3


class ReplicationPad1d(_ReplicationPadNd):
    r"""Pads the input tensor using replication of the input boundary.

    Args:
        padding (int, tuple): the size of the padding. If an int, the same padding on every
            boundary; if a 2-tuple, (padding_left, padding_right).

    Shape:
        - Input: :math:`(C, W_in)` or :math:`(N, C, W_in)`.
        - Output: the same layout, with W each grown by its two paddings.

    Example::

        >>> m = nn.ReplicationPad1d(1)
        >>> m(ember.randn(1, 2, 4)).shape
        ember.Size([1, 2, 6])
    """

    dims = 1


class ReplicationPad2d(_ReplicationPadNd):
    r"""Pads the input tensor using replication of the input boundary.

    Args:
        padding (int, tuple): the size of the padding. If an int, the same padding on every
            boundary; if a 4-tuple, (padding_left, padding_right, padding_top, padding_bottom).

    Shape:
        - Input: :math:`(C, H_in, W_in)` or :math:`(N, C, H_in, W_in)`.
        - Output: the same layout, with H, W each grown by its two paddings.

    Example::

        >>> m = nn.ReplicationPad2d(1)
        >>> m(ember.randn(1, 1, 3, 3)).shape
        ember.Size([1, 1, 5, 5])
    """

    dims = 2


class ReplicationPad3d(_ReplicationPadNd):
    r"""Pads the input tensor using replication of the input boundary.

    Args:
        padding (int, tuple): the size of the padding. If an int, the same padding on every
            boundary; if a 6-tuple, (padding_left, padding_right, padding_top, padding_bottom, padding_front, padding_back).

    Shape:
        - Input: :math:`(C, D_in, H_in, W_in)` or :math:`(N, C, D_in, H_in, W_in)`.
        - Output: the same layout, with D, H, W each grown by its two paddings.

    Example::

        >>> m = nn.ReplicationPad3d(1)
        >>> m(ember.randn(1, 1, 2, 2, 2)).shape
        ember.Size([1, 1, 4, 4, 4])
    """

    dims = 3


class ZeroPad1d(_ZeroPadNd):
    r"""Pads the input tensor boundaries with zero.

    Args:
        padding (int, tuple): the size of the padding. If an int, the same padding on every
            boundary; if a 2-tuple, (padding_left, padding_right).

    Shape:
        - Input: :math:`(C, W_in)` or :math:`(N, C, W_in)`.
        - Output: the same layout, with W each grown by its two paddings.

    Example::

        >>> m = nn.ZeroPad1d(1)
        >>> m(ember.randn(1, 2, 4)).shape
        ember.Size([1, 2, 6])
    """

    dims = 1


class ZeroPad2d(_ZeroPadNd):
    r"""Pads the input tensor boundaries with zero.

    Args:
        padding (int, tuple): the size of the padding. If an int, the same padding on every
            boundary; if a 4-tuple, (padding_left, padding_right, padding_top, padding_bottom).

    Shape:
        - Input: :math:`(C, H_in, W_in)` or :math:`(N, C, H_in, W_in)`.
        - Output: the same layout, with H, W each grown by its two paddings.

    Example::

        >>> m = nn.ZeroPad2d(1)
        >>> m(ember.randn(1, 1, 3, 3)).shape
        ember.Size([1, 1, 5, 5])
    """

    dims = 2


class ZeroPad3d(_ZeroPadNd):
    r"""Pads the input tensor boundaries with zero.

    Args:
        padding (int, tuple): the size of the padding. If an int, the same padding on every
            boundary; if a 6-tuple, (padding_left, padding_right, padding_top, padding_bottom, padding_front, padding_back).

    Shape:
        - Input: :math:`(C, D_in, H_in, W_in)` or :math:`(N, C, D_in, H_in, W_in)`.
        - Output: the same layout, with D, H, W each grown by its two paddings.

    Example::

        >>> m = nn.ZeroPad3d(1)
        >>> m(ember.randn(1, 1, 2, 2, 2)).shape
        ember.Size([1, 1, 4, 4, 4])
    """

    dims = 3


class ConstantPad1d(_ConstantPadNd):
    r"""Pads the input tensor boundaries with a constant value.

    Args:
        padding (int, tuple): the size of the padding. If an int, the same padding on every
            boundary; if a 2-tuple, (padding_left, padding_right).
        value (float): the fill value.

    Shape:
        - Input: :math:`(C, W_in)` or :math:`(N, C, W_in)`.
        - Output: the same layout, with W each grown by its two paddings.

    Example::

        >>> m = nn.ConstantPad1d(1, 3.5)
        >>> m(ember.randn(1, 2, 4)).shape
        ember.Size([1, 2, 6])
    """

    dims = 1


class ConstantPad2d(_ConstantPadNd):
    r"""Pads the input tensor boundaries with a constant value.

    Args:
        padding (int, tuple): the size of the padding. If an int, the same padding on every
            boundary; if a 4-tuple, (padding_left, padding_right, padding_top, padding_bottom).
        value (float): the fill value.

    Shape:
        - Input: :math:`(C, H_in, W_in)` or :math:`(N, C, H_in, W_in)`.
        - Output: the same layout, with H, W each grown by its two paddings.

    Example::

        >>> m = nn.ConstantPad2d(1, 3.5)
        >>> m(ember.randn(1, 1, 3, 3)).shape
        ember.Size([1, 1, 5, 5])
    """

    dims = 2


class ConstantPad3d(_ConstantPadNd):
    r"""Pads the input tensor boundaries with a constant value.

    Args:
        padding (int, tuple): the size of the padding. If an int, the same padding on every
            boundary; if a 6-tuple, (padding_left, padding_right, padding_top, padding_bottom, padding_front, padding_back).
        value (float): the fill value.

    Shape:
        - Input: :math:`(C, D_in, H_in, W_in)` or :math:`(N, C, D_in, H_in, W_in)`.
        - Output: the same layout, with D, H, W each grown by its two paddings.

    Example::

        >>> m = nn.ConstantPad3d(1, 3.5)
        >>> m(ember.randn(1, 1, 2, 2, 2)).shape
        ember.Size([1, 1, 4, 4, 4])
    """

    dims = 3


class CircularPad1d(_CircularPadNd):
    r"""Pads the input tensor using circular padding of the input boundary.

    Args:
        padding (int, tuple): the size of the padding. If an int, the same padding on every
            boundary; if a 2-tuple, (padding_left, padding_right).

    Shape:
        - Input: :math:`(C, W_in)` or :math:`(N, C, W_in)`.
        - Output: the same layout, with W each grown by its two paddings.

    Example::

        >>> m = nn.CircularPad1d(1)
        >>> m(ember.randn(1, 2, 4)).shape
        ember.Size([1, 2, 6])
    """

    dims = 1


class CircularPad2d(_CircularPadNd):
    r"""Pads the input tensor using circular padding of the input boundary.

    Args:
        padding (int, tuple): the size of the padding. If an int, the same padding on every
            boundary; if a 4-tuple, (padding_left, padding_right, padding_top, padding_bottom).

    Shape:
        - Input: :math:`(C, H_in, W_in)` or :math:`(N, C, H_in, W_in)`.
        - Output: the same layout, with H, W each grown by its two paddings.

    Example::

        >>> m = nn.CircularPad2d(1)
        >>> m(ember.randn(1, 1, 3, 3)).shape
        ember.Size([1, 1, 5, 5])
    """

    dims = 2


class CircularPad3d(_CircularPadNd):
    r"""Pads the input tensor using circular padding of the input boundary.

    Args:
        padding (int, tuple): the size of the padding. If an int, the same padding on every
            boundary; if a 6-tuple, (padding_left, padding_right, padding_top, padding_bottom, padding_front, padding_back).

    Shape:
        - Input: :math:`(C, D_in, H_in, W_in)` or :math:`(N, C, D_in, H_in, W_in)`.
        - Output: the same layout, with D, H, W each grown by its two paddings.

    Example::

        >>> m = nn.CircularPad3d(1)
        >>> m(ember.randn(1, 1, 2, 2, 2)).shape
        ember.Size([1, 1, 4, 4, 4])
    """

    dims = 3
