"""Pooling layers: max, max-unpool, average, fractional max, power-average and adaptive pooling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...tensor import Tensor
from .. import functional as F
from ..common_types import _ratio_any_t, _size_1_t, _size_any_opt_t, _size_any_t
from ..functional.conv import _ntuple, _pair, _single, _triple
from .module import Module

__all__ = [
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "MaxUnpool3d",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "FractionalMaxPool2d",
    "FractionalMaxPool3d",
    "LPPool1d",
    "LPPool2d",
    "LPPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
]


def _set_window(module, kernel_size, stride, padding, tup=None):
    """Store a pooling window on ``module``: ``kernel_size``, ``stride`` (``kernel_size`` when ``None``) and
    ``padding``, each through ``tup`` where given (as given otherwise)."""
    stride = stride if stride is not None else kernel_size
    if tup is not None:
        kernel_size, stride, padding = tup(kernel_size), tup(stride), tup(padding)
    module.kernel_size = kernel_size
    module.stride = stride
    module.padding = padding


class _MaxPoolNd(Module):
    __constants__ = ["kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"]
    _functional: Callable[..., Any] = None  # type: ignore[assignment]  # set by every concrete subclass

    def __init__(
        self,
        kernel_size: _size_any_t,
        stride: _size_any_t | None = None,
        padding: _size_any_t = 0,
        dilation: _size_any_t = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        _set_window(self, kernel_size, stride, padding)
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return type(self)._functional(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )

    def extra_repr(self) -> str:
        return (
            "kernel_size={kernel_size}, stride={stride}, padding={padding}, dilation={dilation}, ceil_mode={ceil_mode}"
        ).format(**self.__dict__)


class MaxPool1d(_MaxPoolNd):
    r"""Applies a 1D max pooling over an input signal composed of several input planes.

    Args:
        kernel_size: The size of the sliding window, must be > 0.
        stride: The stride of the sliding window. Default: ``kernel_size``
        padding: Implicit negative infinity padding on both sides, at most half the
            effective kernel size. Default: 0
        dilation: The stride between elements within a sliding window. Default: 1
        return_indices: If ``True``, also return the argmax along with the max values
            (for :class:`MaxUnpool1d`). Default: ``False``
        ceil_mode: If ``True``, use ceil instead of floor to compute the output shape
            (the last window must start inside the input or the left padding). Default: ``False``

    Shape:
        - Input: :math:`(N, C, L_{in})` or :math:`(C, L_{in})`
        - Output: :math:`(N, C, L_{out})` with :math:`L_{out} = \lfloor (L_{in} + 2 \cdot padding
          - dilation \cdot (kernel\_size - 1) - 1) / stride + 1 \rfloor`

    Example::

        >>> m = nn.MaxPool1d(3, stride=2)
        >>> m(ember.randn(20, 16, 50)).shape
        ember.Size([20, 16, 24])
    """

    _functional = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    r"""Applies a 2D max pooling over an input signal composed of several input planes.

    Args: as :class:`MaxPool1d`; ``kernel_size``, ``stride``, ``padding`` and ``dilation``
    may be an int or a pair ``(height, width)``.

    Shape:
        - Input: :math:`(N, C, H_{in}, W_{in})` or :math:`(C, H_{in}, W_{in})`
        - Output: :math:`(N, C, H_{out}, W_{out})`, each size as in :class:`MaxPool1d`

    Example::

        >>> m = nn.MaxPool2d((3, 2), stride=(2, 1))
        >>> m(ember.randn(20, 16, 50, 32)).shape
        ember.Size([20, 16, 24, 31])
    """

    _functional = staticmethod(F.max_pool2d)


class MaxPool3d(_MaxPoolNd):
    r"""Applies a 3D max pooling over an input signal composed of several input planes.

    Args: as :class:`MaxPool1d`, with ints or 3-tuples.

    Example::

        >>> m = nn.MaxPool3d((3, 2, 2), stride=(2, 1, 2))
        >>> m(ember.randn(2, 3, 10, 8, 6)).shape
        ember.Size([2, 3, 4, 7, 3])
    """

    _functional = staticmethod(F.max_pool3d)


class _MaxUnpoolNd(Module):
    _functional: Callable[..., Any] = None  # type: ignore[assignment]  # set by every concrete subclass
    _tuple: Callable[[Any], tuple[int, ...]] = None  # type: ignore[assignment]  # set by every concrete subclass

    def __init__(self, kernel_size: _size_any_t, stride: _size_any_t | None = None, padding: _size_any_t = 0) -> None:
        super().__init__()
        _set_window(self, kernel_size, stride, padding, type(self)._tuple)

    def forward(self, input: Tensor, indices: Tensor, output_size: list[int] | tuple[int, ...] | None = None) -> Tensor:
        return type(self)._functional(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    r"""Computes a partial inverse of :class:`MaxPool1d`: the maxima go back to their indices, zeros elsewhere.

    Args:
        kernel_size (int or tuple): Size of the max pooling window.
        stride (int or tuple): Stride of the max pooling window. Default: ``kernel_size``
        padding (int or tuple): Padding that was added to the input. Default: 0

    Inputs:
        - `input`: the input Tensor to invert
        - `indices`: the indices given out by :class:`MaxPool1d`
        - `output_size` (optional): the targeted output size

    Shape:
        - Output: :math:`L_{out} = (L_{in} - 1) \cdot stride - 2 \cdot padding + kernel\_size`,
          or as given by ``output_size``

    Example::

        >>> pool = nn.MaxPool1d(2, stride=2, return_indices=True)
        >>> unpool = nn.MaxUnpool1d(2, stride=2)
        >>> output, indices = pool(ember.tensor([[[1.0, 2, 3, 4, 5, 6, 7, 8]]]))
        >>> unpool(output, indices)
        tensor([[[0., 2., 0., 4., 0., 6., 0., 8.]]])
    """

    _functional = staticmethod(F.max_unpool1d)
    _tuple = staticmethod(_single)


class MaxUnpool2d(_MaxUnpoolNd):
    r"""Computes a partial inverse of :class:`MaxPool2d` (see :class:`MaxUnpool1d`).

    Example::

        >>> pool = nn.MaxPool2d(2, stride=2, return_indices=True)
        >>> unpool = nn.MaxUnpool2d(2, stride=2)
        >>> x = ember.tensor([[[[1.0, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]]])
        >>> output, indices = pool(x)
        >>> unpool(output, indices, output_size=[1, 1, 5, 5]).shape
        ember.Size([1, 1, 5, 5])
    """

    _functional = staticmethod(F.max_unpool2d)
    _tuple = staticmethod(_pair)


class MaxUnpool3d(_MaxUnpoolNd):
    r"""Computes a partial inverse of :class:`MaxPool3d` (see :class:`MaxUnpool1d`).

    Example::

        >>> pool = nn.MaxPool3d(3, stride=2, return_indices=True)
        >>> unpool = nn.MaxUnpool3d(3, stride=2)
        >>> output, indices = pool(ember.randn(2, 3, 7, 5, 9))
        >>> unpool(output, indices).shape
        ember.Size([2, 3, 7, 5, 9])
    """

    _functional = staticmethod(F.max_unpool3d)
    _tuple = staticmethod(_triple)


class _AvgPoolNd(Module):
    __constants__ = ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"]

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    r"""Applies a 1D average pooling over an input signal composed of several input planes.

    Args:
        kernel_size: the size of the window
        stride: the stride of the window. Default: ``kernel_size``
        padding: implicit zero padding to be added on both sides. Default: 0
        ceil_mode: when ``True``, use ceil instead of floor to compute the output shape. Default: ``False``
        count_include_pad: when ``True``, include the zero-padding in the averaging. Default: ``True``

    Shape:
        - Input: :math:`(N, C, L_{in})` or :math:`(C, L_{in})`
        - Output: :math:`(N, C, L_{out})`, :math:`L_{out} = \lfloor (L_{in} + 2 \cdot padding - kernel\_size) / stride + 1 \rfloor`

    Example::

        >>> m = nn.AvgPool1d(3, stride=2)
        >>> m(ember.tensor([[[1.0, 2, 3, 4, 5, 6, 7]]]))
        tensor([[[2., 4., 6.]]])
    """

    def __init__(
        self,
        kernel_size: _size_1_t,
        stride: _size_1_t | None = None,
        padding: _size_1_t = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        _set_window(self, kernel_size, stride, padding, _single)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)


class _AvgPoolWithDivisor(_AvgPoolNd):
    __constants__ = _AvgPoolNd.__constants__ + ["divisor_override"]
    _functional: Callable[..., Any] = None  # type: ignore[assignment]  # set by every concrete subclass

    def __init__(
        self,
        kernel_size: _size_any_t,
        stride: _size_any_t | None = None,
        padding: _size_any_t = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        _set_window(self, kernel_size, stride, padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._functional(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )


class AvgPool2d(_AvgPoolWithDivisor):
    r"""Applies a 2D average pooling over an input signal composed of several input planes.

    Args:
        kernel_size: the size of the window, an int or ``(kH, kW)``
        stride: the stride of the window. Default: ``kernel_size``
        padding: implicit zero padding to be added on both sides. Default: 0
        ceil_mode: when ``True``, use ceil instead of floor to compute the output shape. Default: ``False``
        count_include_pad: when ``True``, include the zero-padding in the averaging. Default: ``True``
        divisor_override: if specified, used as the divisor instead of the window size. Default: ``None``

    Shape:
        - Input: :math:`(N, C, H_{in}, W_{in})` or :math:`(C, H_{in}, W_{in})`
        - Output: :math:`(N, C, H_{out}, W_{out})`, each size as in :class:`AvgPool1d`

    Example::

        >>> m = nn.AvgPool2d((3, 2), stride=(2, 1))
        >>> m(ember.randn(20, 16, 50, 32)).shape
        ember.Size([20, 16, 24, 31])
    """

    _functional = staticmethod(F.avg_pool2d)


class AvgPool3d(_AvgPoolWithDivisor):
    r"""Applies a 3D average pooling over an input signal composed of several input planes.

    Args: as :class:`AvgPool2d`, with ints or 3-tuples.

    Example::

        >>> m = nn.AvgPool3d((3, 2, 2), stride=(2, 1, 2))
        >>> m(ember.randn(2, 3, 10, 8, 6)).shape
        ember.Size([2, 3, 4, 7, 3])
    """

    _functional = staticmethod(F.avg_pool3d)


class _FractionalMaxPoolNd(Module):
    _nd = 0
    _functional: Callable[..., Any] = None  # type: ignore[assignment]  # set by every concrete subclass

    def __init__(
        self,
        kernel_size: _size_any_t,
        output_size: _size_any_t | None = None,
        output_ratio: _ratio_any_t | None = None,
        return_indices: bool = False,
        _random_samples: Tensor | None = None,
    ) -> None:
        super().__init__()
        tup = _ntuple(self._nd)
        self.kernel_size = tup(kernel_size)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = tup(output_size) if output_size is not None else None
        self.output_ratio = tup(output_ratio) if output_ratio is not None else None
        name = type(self).__name__
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return type(self)._functional(
            input,
            self.kernel_size,
            self.output_size,
            self.output_ratio,
            self.return_indices,
            _random_samples=self._random_samples,
        )


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    r"""Applies a 2D fractional max pooling over an input signal composed of several input planes.

    Windows of ``kernel_size`` start at pseudo-random, increasing positions (Graham,
    *Fractional Max-Pooling*) chosen so that the output has the target size.

    Args:
        kernel_size: the size of the window to take a max over, ``k`` or ``(kh, kw)``
        output_size: the target output size ``oH x oW``, a tuple or a single int. Default: ``None``
        output_ratio: the output size as a ratio of the input size, in (0, 1). Default: ``None``
        return_indices: if ``True``, also return the indices (for :class:`MaxUnpool2d`). Default: ``False``

    Shape:
        - Input: :math:`(N, C, H_{in}, W_{in})` or :math:`(C, H_{in}, W_{in})`
        - Output: :math:`(N, C, H_{out}, W_{out})` from ``output_size`` or ``output_ratio``

    Example::

        >>> m = nn.FractionalMaxPool2d(3, output_size=(13, 12))
        >>> m(ember.randn(2, 3, 50, 32)).shape
        ember.Size([2, 3, 13, 12])
        >>> m = nn.FractionalMaxPool2d(3, output_ratio=(0.5, 0.5))
        >>> m(ember.randn(2, 3, 50, 32)).shape
        ember.Size([2, 3, 25, 16])
    """

    _nd = 2
    _functional = staticmethod(F.fractional_max_pool2d)


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    r"""Applies a 3D fractional max pooling over an input signal composed of several input planes.

    Args: as :class:`FractionalMaxPool2d`, with ints or 3-tuples.

    Example::

        >>> m = nn.FractionalMaxPool3d(3, output_size=(5, 6, 7))
        >>> m(ember.randn(2, 3, 10, 12, 14)).shape
        ember.Size([2, 3, 5, 6, 7])
    """

    _nd = 3
    _functional = staticmethod(F.fractional_max_pool3d)


class _LPPoolNd(Module):
    __constants__ = ["norm_type", "kernel_size", "stride", "ceil_mode"]
    _functional: Callable[..., Any] = None  # type: ignore[assignment]  # set by every concrete subclass

    def __init__(
        self, norm_type: float, kernel_size: _size_any_t, stride: _size_any_t | None = None, ceil_mode: bool = False
    ) -> None:
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._functional(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self) -> str:
        return (
            f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"ceil_mode={self.ceil_mode}"
        )


class LPPool1d(_LPPoolNd):
    r"""Applies a 1D power-average pooling: :math:`f(X) = \sqrt[p]{\sum_{x \in X} x^{p}}`.

    At :math:`p = \infty` one gets max pooling; at :math:`p = 1`, sum pooling.

    Args:
        norm_type: the exponent :math:`p`
        kernel_size: a single int, the size of the window
        stride: a single int, the stride of the window. Default: ``kernel_size``
        ceil_mode: when ``True``, use ceil instead of floor to compute the output shape. Default: ``False``

    Example::

        >>> m = nn.LPPool1d(2, 3, stride=2)
        >>> m(ember.randn(20, 16, 50)).shape
        ember.Size([20, 16, 24])
    """

    _functional = staticmethod(F.lp_pool1d)


class LPPool2d(_LPPoolNd):
    r"""Applies a 2D power-average pooling: :math:`f(X) = \sqrt[p]{\sum_{x \in X} x^{p}}`.

    Args:
        norm_type: the exponent :math:`p`
        kernel_size: the size of the window, an int or ``(kH, kW)``
        stride: the stride of the window. Default: ``kernel_size``
        ceil_mode: when ``True``, use ceil instead of floor to compute the output shape. Default: ``False``

    Example::

        >>> m = nn.LPPool2d(2, 3, stride=2)
        >>> m = nn.LPPool2d(1.2, (3, 2), stride=(2, 1))
        >>> m(ember.randn(20, 16, 50, 32)).shape
        ember.Size([20, 16, 24, 31])
    """

    _functional = staticmethod(F.lp_pool2d)


class LPPool3d(_LPPoolNd):
    r"""Applies a 3D power-average pooling (see :class:`LPPool2d`).

    Example::

        >>> m = nn.LPPool3d(2, 3, stride=2)
        >>> m(ember.randn(2, 3, 7, 7, 7)).shape
        ember.Size([2, 3, 3, 3, 3])
    """

    _functional = staticmethod(F.lp_pool3d)


class _AdaptiveMaxPoolNd(Module):
    __constants__ = ["output_size", "return_indices"]
    _functional: Callable[..., Any] = None  # type: ignore[assignment]  # set by every concrete subclass

    def __init__(self, output_size: _size_any_opt_t, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return type(self)._functional(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    r"""Applies a 1D adaptive max pooling; output bin ``i`` covers ``[floor(i*L/O), ceil((i+1)*L/O))``.

    Args:
        output_size: the target output size :math:`L_{out}`
        return_indices: if ``True``, also return the indices (for :class:`MaxUnpool1d`). Default: ``False``

    Example::

        >>> m = nn.AdaptiveMaxPool1d(5)
        >>> m(ember.randn(1, 64, 8)).shape
        ember.Size([1, 64, 5])
    """

    _functional = staticmethod(F.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    r"""Applies a 2D adaptive max pooling (bins as in :class:`AdaptiveMaxPool1d`, per dim).

    Args:
        output_size: ``(H, W)`` or a single ``H``; ``None`` keeps that input size
        return_indices: if ``True``, also return the indices. Default: ``False``

    Example::

        >>> m = nn.AdaptiveMaxPool2d((5, 7))
        >>> m(ember.randn(1, 64, 8, 9)).shape
        ember.Size([1, 64, 5, 7])
        >>> m = nn.AdaptiveMaxPool2d((None, 7))
        >>> m(ember.randn(1, 64, 10, 9)).shape
        ember.Size([1, 64, 10, 7])
    """

    _functional = staticmethod(F.adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    r"""Applies a 3D adaptive max pooling (see :class:`AdaptiveMaxPool2d`).

    Example::

        >>> m = nn.AdaptiveMaxPool3d((5, 7, 9))
        >>> m(ember.randn(1, 64, 8, 9, 10)).shape
        ember.Size([1, 64, 5, 7, 9])
    """

    _functional = staticmethod(F.adaptive_max_pool3d)


class _AdaptiveAvgPoolNd(Module):
    __constants__ = ["output_size"]
    _functional: Callable[..., Any] = None  # type: ignore[assignment]  # set by every concrete subclass

    def __init__(self, output_size: _size_any_opt_t) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._functional(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    r"""Applies a 1D adaptive average pooling; output bin ``i`` averages ``[floor(i*L/O), ceil((i+1)*L/O))``.

    Args:
        output_size: the target output size :math:`L_{out}`

    Example::

        >>> m = nn.AdaptiveAvgPool1d(5)
        >>> m(ember.randn(1, 64, 8)).shape
        ember.Size([1, 64, 5])
    """

    _functional = staticmethod(F.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    r"""Applies a 2D adaptive average pooling (bins as in :class:`AdaptiveAvgPool1d`, per dim).

    Args:
        output_size: ``(H, W)`` or a single ``H``; ``None`` keeps that input size

    Example::

        >>> m = nn.AdaptiveAvgPool2d((5, 7))
        >>> m(ember.randn(1, 64, 8, 9)).shape
        ember.Size([1, 64, 5, 7])
    """

    _functional = staticmethod(F.adaptive_avg_pool2d)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    r"""Applies a 3D adaptive average pooling (see :class:`AdaptiveAvgPool2d`).

    Example::

        >>> m = nn.AdaptiveAvgPool3d((5, 7, 9))
        >>> m(ember.randn(1, 64, 8, 9, 10)).shape
        ember.Size([1, 64, 5, 7, 9])
    """

    _functional = staticmethod(F.adaptive_avg_pool3d)
