"""Sliding blocks: ``nn.Fold`` and ``nn.Unfold``."""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from ..common_types import _size_any_t
from .module import Module

__all__ = ["Fold", "Unfold"]


class Fold(Module):
    r"""Combines an array of sliding local blocks into a large containing tensor (col2im).

    Overlapping values are summed. See :func:`~ember.nn.functional.fold`.

    Args:
        output_size (int or tuple): the spatial shape of the output.
        kernel_size (int or tuple): the size of the blocks.
        dilation (int or tuple): the stride of the elements within a block. Default: 1
        padding (int or tuple): implicit zero padding on both sides. Default: 0
        stride (int or tuple): the stride of the blocks. Default: 1

    Shape:
        - Input: :math:`(N, C \times \prod(\text{kernel\_size}), L)` or :math:`(C \times \prod(\text{kernel\_size}), L)`
        - Output: :math:`(N, C, \text{output\_size}[0], \text{output\_size}[1])` or without :math:`N`

    Examples::

        >>> fold = nn.Fold(output_size=(4, 5), kernel_size=(2, 2))
        >>> fold(ember.randn(1, 3 * 2 * 2, 12)).shape
        ember.Size([1, 3, 4, 5])
    """

    __constants__ = ["output_size", "kernel_size", "dilation", "padding", "stride"]

    def __init__(
        self,
        output_size: _size_any_t,
        kernel_size: _size_any_t,
        dilation: _size_any_t = 1,
        padding: _size_any_t = 0,
        stride: _size_any_t = 1,
    ) -> None:
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
            f"padding={self.padding}, stride={self.stride}"
        )


class Unfold(Module):
    r"""Extracts sliding local blocks from a batched input tensor (im2col).

    See :func:`~ember.nn.functional.unfold`.

    Args:
        kernel_size (int or tuple): the size of the blocks.
        dilation (int or tuple): the stride of the elements within a block. Default: 1
        padding (int or tuple): implicit zero padding on both sides. Default: 0
        stride (int or tuple): the stride of the blocks. Default: 1

    Shape:
        - Input: :math:`(N, C, H, W)` or :math:`(C, H, W)`
        - Output: :math:`(N, C \times \prod(\text{kernel\_size}), L)` or without :math:`N`

    Examples::

        >>> unfold = nn.Unfold(kernel_size=(2, 3))
        >>> unfold(ember.randn(2, 5, 3, 4)).shape
        ember.Size([2, 30, 4])
    """

    __constants__ = ["kernel_size", "dilation", "padding", "stride"]

    def __init__(
        self, kernel_size: _size_any_t, dilation: _size_any_t = 1, padding: _size_any_t = 0, stride: _size_any_t = 1
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, stride={self.stride}"
