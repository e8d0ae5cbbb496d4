"""Convolution layers: ``Conv1d/2d/3d`` and ``ConvTranspose1d/2d/3d``."""

from __future__ import annotations

from collections.abc import Callable

from ...ops.creation import empty
from ...tensor import Tensor
from .. import functional as F
from ..common_types import _device_t, _dtype_t, _size_any_t
from ..functional.conv import _conv_transpose, _ntuple
from ..parameter import Parameter
from .linear import _optional_bias, _reset_kaiming
from .module import Module

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Shared base of the convolution layers: hyperparameters, parameters, initialisation, repr."""

    __constants__ = [
        "stride",
        "padding",
        "dilation",
        "groups",
        "padding_mode",
        "output_padding",
        "in_channels",
        "out_channels",
        "kernel_size",
    ]
    _nd = 0  # the number of spatial dims, set by every concrete subclass

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _size_any_t,
        stride: _size_any_t,
        padding: _size_any_t | str,
        dilation: _size_any_t,
        transposed: bool,
        output_padding: _size_any_t,
        groups: int,
        bias: bool,
        padding_mode: str,
        device: _device_t = None,
        dtype: _dtype_t = None,
    ) -> None:
        super().__init__()
        tup = _ntuple(self._nd)  # ints or sequences to _nd-tuples; only a forward conv takes string padding
        kernel: tuple[int, ...] = tup(kernel_size)
        strides: tuple[int, ...] = tup(stride)
        dilations: tuple[int, ...] = tup(dilation)
        out_padding: tuple[int, ...] = tup(output_padding)
        padding = padding if isinstance(padding, str) and not transposed else tup(padding)
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in strides):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {{'replicate', 'zeros', 'reflect', 'circular'}}, "
                f"but got padding_mode='{padding_mode}'"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel
        self.stride = strides
        self.padding = padding
        self.dilation = dilations
        self.transposed = transposed
        self.output_padding = out_padding
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad order: last dim first, (before, after) each.
        if isinstance(padding, str):
            pads = [0, 0] * len(kernel)
            if padding == "same":
                for d, k, i in zip(dilations, kernel, range(len(kernel) - 1, -1, -1)):
                    total = d * (k - 1)
                    pads[2 * i], pads[2 * i + 1] = total // 2, total - total // 2
        else:
            pads = [p for p in reversed(padding) for _ in range(2)]
        self._reversed_padding_repeated_twice = pads
        shape = (in_channels, out_channels // groups) if transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(empty(*shape, *kernel, device=device, dtype=dtype))
        _optional_bias(self, bias, out_channels, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Kaiming-uniform weights (``a=sqrt(5)``) and a bias uniform in ``±1/sqrt(fan_in)``, like PyTorch."""
        _reset_kaiming(self, layout_free=True)

    def extra_repr(self) -> str:
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        if self.padding != (0,) * len(self.padding):
            s += ", padding={padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += ", dilation={dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += ", output_padding={output_padding}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += ", padding_mode={padding_mode}"
        return s.format(**self.__dict__)

    def __setstate__(self, state):
        super().__setstate__(state)
        if not hasattr(self, "padding_mode"):
            self.padding_mode = "zeros"


class _Conv(_ConvNd):
    """Forward convolution: padding may be ``'same'``/``'valid'``; non-zero padding modes use ``F.pad``."""

    _functional: Callable[..., Tensor] = None  # type: ignore[assignment]  # set by every concrete subclass

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _size_any_t,
        stride: _size_any_t = 1,
        padding: _size_any_t | str = 0,
        dilation: _size_any_t = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: _device_t = None,
        dtype: _dtype_t = None,
    ) -> None:
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, False, 0, groups, bias, padding_mode,
            device, dtype,
        )  # fmt: skip

    def _conv_forward(self, input, weight, bias):
        conv = type(self)._functional
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(padded, weight, bias, self.stride, 0, self.dilation, self.groups)
        return conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    r"""Applies a 1D convolution over an input signal composed of several input planes.

    Args:
        in_channels (int): Number of channels in the input image
        out_channels (int): Number of channels produced by the convolution
        kernel_size (int or tuple): Size of the convolving kernel
        stride (int or tuple, optional): Stride of the convolution. Default: 1
        padding (int, tuple or str, optional): Padding added to both sides of the input,
            or ``'valid'``/``'same'``. Default: 0
        dilation (int or tuple, optional): Spacing between kernel elements. Default: 1
        groups (int, optional): Number of blocked connections from input channels to output
            channels; ``groups == in_channels`` is a depthwise convolution. Default: 1
        bias (bool, optional): If ``True``, adds a learnable bias to the output. Default: ``True``
        padding_mode (str, optional): ``'zeros'``, ``'reflect'``, ``'replicate'`` or
            ``'circular'``. Default: ``'zeros'``

    Shape:
        - Input: :math:`(N, C_{in}, L_{in})` or :math:`(C_{in}, L_{in})`
        - Output: :math:`(N, C_{out}, L_{out})` with
          :math:`L_{out} = \lfloor (L_{in} + 2 \cdot padding - dilation \cdot (kernel\_size - 1) - 1) / stride + 1 \rfloor`

    Attributes:
        weight (Tensor): shape :math:`(out\_channels, in\_channels / groups, kernel\_size)`
        bias (Tensor): shape :math:`(out\_channels)`

    Example::

        >>> m = nn.Conv1d(16, 33, 3, stride=2)
        >>> m(ember.randn(20, 16, 50)).shape
        ember.Size([20, 33, 24])
    """

    _nd = 1
    _functional = staticmethod(F.conv1d)


class Conv2d(_Conv):
    r"""Applies a 2D convolution over an input signal composed of several input planes.

    Args:
        in_channels (int): Number of channels in the input image
        out_channels (int): Number of channels produced by the convolution
        kernel_size (int or tuple): Size of the convolving kernel
        stride (int or tuple, optional): Stride of the convolution. Default: 1
        padding (int, tuple or str, optional): Padding added to all four sides of the input,
            or ``'valid'``/``'same'``. Default: 0
        dilation (int or tuple, optional): Spacing between kernel elements. Default: 1
        groups (int, optional): Number of blocked connections from input channels to output
            channels. Default: 1
        bias (bool, optional): If ``True``, adds a learnable bias to the output. Default: ``True``
        padding_mode (str, optional): ``'zeros'``, ``'reflect'``, ``'replicate'`` or
            ``'circular'``. Default: ``'zeros'``

    Shape:
        - Input: :math:`(N, C_{in}, H_{in}, W_{in})` or :math:`(C_{in}, H_{in}, W_{in})`
        - Output: :math:`(N, C_{out}, H_{out}, W_{out})`, each spatial size as in :class:`Conv1d`

    Example::

        >>> m = nn.Conv2d(16, 33, (3, 5), stride=(2, 1), padding=(4, 2), dilation=(3, 1))
        >>> m(ember.randn(2, 16, 20, 30)).shape
        ember.Size([2, 33, 11, 30])
    """

    _nd = 2
    _functional = staticmethod(F.conv2d)


class Conv3d(_Conv):
    r"""Applies a 3D convolution over an input signal composed of several input planes.

    Args: as :class:`Conv2d`, with 3-tuples.

    Shape:
        - Input: :math:`(N, C_{in}, D_{in}, H_{in}, W_{in})` or :math:`(C_{in}, D_{in}, H_{in}, W_{in})`
        - Output: :math:`(N, C_{out}, D_{out}, H_{out}, W_{out})`

    Example::

        >>> m = nn.Conv3d(4, 8, (3, 5, 2), stride=(2, 1, 1), padding=(4, 2, 0))
        >>> m(ember.randn(2, 4, 6, 7, 8)).shape
        ember.Size([2, 8, 6, 7, 7])
    """

    _nd = 3
    _functional = staticmethod(F.conv3d)


class _ConvTransposeNd(_ConvNd):
    """Transposed convolution; ``forward(input, output_size=None)`` picks ``output_padding`` from ``output_size``."""

    _functional: Callable[..., Tensor] = None  # type: ignore[assignment]  # set by every concrete subclass

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _size_any_t,
        stride: _size_any_t = 1,
        padding: _size_any_t = 0,
        output_padding: _size_any_t = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: _size_any_t = 1,
        padding_mode: str = "zeros",
        device: _device_t = None,
        dtype: _dtype_t = None,
    ) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, True, output_padding, groups, bias,
            padding_mode, device, dtype,
        )  # fmt: skip

    def forward(self, input: Tensor, output_size: list[int] | tuple[int, ...] | None = None) -> Tensor:
        return _conv_transpose(
            type(self)._functional.__name__,
            self._nd,
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self.output_padding,
            self.groups,
            self.dilation,
            output_size,
        )


class ConvTranspose1d(_ConvTransposeNd):
    r"""Applies a 1D transposed convolution operator over an input image composed of several input planes.

    The gradient of :class:`Conv1d` with respect to its input (a fractionally-strided
    convolution).

    Args:
        in_channels (int): Number of channels in the input image
        out_channels (int): Number of channels produced by the convolution
        kernel_size (int or tuple): Size of the convolving kernel
        stride (int or tuple, optional): Stride of the convolution. Default: 1
        padding (int or tuple, optional): ``dilation * (kernel_size - 1) - padding`` zero-padding
            will be added to both sides of the input. Default: 0
        output_padding (int or tuple, optional): Additional size added to one side of the
            output shape. Default: 0
        groups (int, optional): Number of blocked connections from input channels to output
            channels. Default: 1
        bias (bool, optional): If ``True``, adds a learnable bias to the output. Default: ``True``
        dilation (int or tuple, optional): Spacing between kernel elements. Default: 1

    Shape:
        - Input: :math:`(N, C_{in}, L_{in})` or :math:`(C_{in}, L_{in})`
        - Output: :math:`(N, C_{out}, L_{out})` with :math:`L_{out} = (L_{in} - 1) \cdot stride
          - 2 \cdot padding + dilation \cdot (kernel\_size - 1) + output\_padding + 1`

    Attributes:
        weight (Tensor): shape :math:`(in\_channels, out\_channels / groups, kernel\_size)`
        bias (Tensor): shape :math:`(out\_channels)`

    Example::

        >>> m = nn.ConvTranspose1d(16, 33, 3, stride=2)
        >>> m(ember.randn(20, 16, 50)).shape
        ember.Size([20, 33, 101])
    """

    _nd = 1
    _functional = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    r"""Applies a 2D transposed convolution operator over an input image composed of several input planes.

    Args: as :class:`ConvTranspose1d`, with pairs.

    Example::

        >>> downsample = nn.Conv2d(16, 16, 3, stride=2, padding=1)
        >>> upsample = nn.ConvTranspose2d(16, 16, 3, stride=2, padding=1)
        >>> h = downsample(ember.randn(1, 16, 12, 12))
        >>> upsample(h, output_size=[1, 16, 12, 12]).shape
        ember.Size([1, 16, 12, 12])
    """

    _nd = 2
    _functional = staticmethod(F.conv_transpose2d)


class ConvTranspose3d(_ConvTransposeNd):
    r"""Applies a 3D transposed convolution operator over an input image composed of several input planes.

    Args: as :class:`ConvTranspose1d`, with 3-tuples.

    Example::

        >>> m = nn.ConvTranspose3d(4, 6, (3, 5, 2), stride=(2, 1, 1), padding=(0, 4, 2))
        >>> m(ember.randn(2, 4, 3, 9, 5)).shape
        ember.Size([2, 6, 7, 5, 2])
    """

    _nd = 3
    _functional = staticmethod(F.conv_transpose3d)
