"""Upsampling layers: Upsample, UpsamplingNearest2d, UpsamplingBilinear2d."""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from ..common_types import _size_2_t, _size_any_t
from .module import Module

__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]


class Upsample(Module):
    r"""Upsamples multi-channel 1D (temporal), 2D (spatial) or 3D (volumetric) data.

    Args:
        size (int or Tuple[int]): output spatial size.
        scale_factor (float or Tuple[float]): multiplier for spatial size.
        mode (str): ``'nearest'``, ``'nearest-exact'``, ``'linear'``, ``'bilinear'``,
            ``'bicubic'`` or ``'trilinear'``. Default: ``'nearest'``
        align_corners (bool, optional): align the corner pixels of input and output
            (interpolating modes only). Default: ``False``
        recompute_scale_factor (bool, optional): interpolate with the scale implied by the
            computed output size. Default: None

    Shape:
        - Input: :math:`(N, C, W_{in})`, :math:`(N, C, H_{in}, W_{in})` or :math:`(N, C, D_{in}, H_{in}, W_{in})`
        - Output: the same with each spatial size :math:`\lfloor in \times scale\_factor \rfloor` or ``size``.

    Example::

        >>> m = nn.Upsample(scale_factor=2, mode="bilinear")
        >>> m(ember.randn(1, 1, 2, 2)).shape
        ember.Size([1, 1, 4, 4])
    """

    def __init__(
        self,
        size: _size_any_t | None = None,
        scale_factor: float | tuple[float, ...] | None = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
    ) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        self.scale_factor: float | tuple[float, ...] | None
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.interpolate(
            input,
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            recompute_scale_factor=self.recompute_scale_factor,
        )

    def extra_repr(self) -> str:
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    r"""Applies 2D nearest neighbor upsampling (``Upsample(..., mode='nearest')``) to 4D input.

    Args:
        size (int or Tuple[int, int]): output spatial sizes.
        scale_factor (float or Tuple[float, float]): multiplier for spatial size.

    Example::

        >>> m = nn.UpsamplingNearest2d(scale_factor=2)
        >>> m(ember.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]))
        tensor([[[[1., 1., 2., 2.],
                  [1., 1., 2., 2.],
                  [3., 3., 4., 4.],
                  [3., 3., 4., 4.]]]])
    """

    def __init__(self, size: _size_2_t | None = None, scale_factor: float | tuple[float, ...] | None = None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    r"""Applies 2D bilinear upsampling with ``align_corners=True`` to 4D input.

    Args:
        size (int or Tuple[int, int]): output spatial sizes.
        scale_factor (float or Tuple[float, float]): multiplier for spatial size.

    Example::

        >>> m = nn.UpsamplingBilinear2d(scale_factor=2)
        >>> m(ember.randn(1, 1, 2, 2)).shape
        ember.Size([1, 1, 4, 4])
    """

    def __init__(self, size: _size_2_t | None = None, scale_factor: float | tuple[float, ...] | None = None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
