"""PixelShuffle and PixelUnshuffle."""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from .module import Module

__all__ = ["PixelShuffle", "PixelUnshuffle"]


class PixelShuffle(Module):
    r"""Rearranges elements of a tensor of shape :math:`(*, C \times r^2, H, W)` into :math:`(*, C, H \times r, W \times r)`.

    Args:
        upscale_factor (int): factor to increase spatial resolution by.

    Shape:
        - Input: :math:`(*, C \times r^2, H, W)`
        - Output: :math:`(*, C, H \times r, W \times r)`

    Example::

        >>> ps = nn.PixelShuffle(3)
        >>> ps(ember.randn(1, 9, 4, 4)).shape
        ember.Size([1, 1, 12, 12])
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    r"""Reverses :class:`PixelShuffle`: :math:`(*, C, H \times r, W \times r)` into :math:`(*, C \times r^2, H, W)`.

    Args:
        downscale_factor (int): factor to decrease spatial resolution by.

    Shape:
        - Input: :math:`(*, C, H \times r, W \times r)`
        - Output: :math:`(*, C \times r^2, H, W)`

    Example::

        >>> pu = nn.PixelUnshuffle(3)
        >>> pu(ember.randn(1, 1, 12, 12)).shape
        ember.Size([1, 9, 4, 4])
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
