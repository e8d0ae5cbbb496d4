"""``ember.ao.nn.qat``: layers for quantization-aware training, as ``torch.ao.nn.qat``: the float
layers with their weight passed through a fake-quantize module (``qconfig.weight()``) on every call.

Example::

    >>> from ember.ao.nn import qat
    >>> from ember.ao.quantization import default_qat_qconfig
    >>> layer = qat.Linear(3, 2, qconfig=default_qat_qconfig)
    >>> layer(ember.ones(4, 3)).shape
    ember.Size([4, 2])
"""

from __future__ import annotations

from typing import Any

from .... import nn
from ....nn import functional as F
from ....nn.parameter import Parameter
from ....tensor import Tensor

__all__ = ["Linear", "Conv1d", "Conv2d", "Conv3d"]


def _weight_fake_quant(qconfig: Any, device: Any, dtype: Any) -> Any:
    if not qconfig:
        raise AssertionError("qconfig must be provided for QAT module")
    return qconfig.weight(factory_kwargs={"device": device, "dtype": dtype})


def _check_float(cls: type, mod: Any) -> None:
    if type(mod) is not cls._FLOAT_MODULE:  # type: ignore[attr-defined]
        raise AssertionError(
            f"qat.{cls.__name__}.from_float only works for {cls._FLOAT_MODULE.__name__}, "  # type: ignore[attr-defined]
            f"got {type(mod).__name__}"
        )
    if not hasattr(mod, "qconfig"):
        raise AssertionError("Input float module must have qconfig defined")
    if not mod.qconfig:
        raise AssertionError("Input float module must have a valid qconfig")


class Linear(nn.Linear):
    """:class:`ember.nn.Linear` whose weight is fake-quantized by ``qconfig.weight()`` on every call
    (``weight_fake_quant``), for quantization-aware training.

    Args:
        in_features, out_features, bias: as :class:`ember.nn.Linear`.
        qconfig (QConfig): required; its ``weight`` makes ``weight_fake_quant``.

    Example::

        >>> from ember.ao.nn.qat import Linear
        >>> from ember.ao.quantization import default_qat_qconfig
        >>> Linear(2, 2, qconfig=default_qat_qconfig).weight_fake_quant.dtype
        ember.qint8
    """

    _FLOAT_MODULE = nn.Linear

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        qconfig: Any = None,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(in_features, out_features, bias, device=device, dtype=dtype)
        self.weight_fake_quant = _weight_fake_quant(qconfig, device, dtype)
        self.qconfig = qconfig

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight_fake_quant(self.weight), self.bias)

    @classmethod
    def from_float(cls, mod: Any, use_precomputed_fake_quant: bool = False) -> Linear:
        """The QAT layer of the float ``mod`` (which has a ``qconfig``), sharing its parameters."""
        _check_float(cls, mod)
        qat = cls(mod.in_features, mod.out_features, bias=mod.bias is not None, qconfig=mod.qconfig)
        qat.weight = mod.weight
        qat.bias = mod.bias
        return qat

    def to_float(self) -> nn.Linear:
        """A plain :class:`ember.nn.Linear` with copies of the parameters."""
        linear = nn.Linear(self.in_features, self.out_features, self.bias is not None)
        linear.weight = Parameter(self.weight.detach())
        if self.bias is not None:
            linear.bias = Parameter(self.bias.detach())
        linear.train(self.training)
        return linear


class _ConvNd:
    """The QAT convolutions' shared part (a mixin before the float convolution class)."""

    _FLOAT_MODULE: Any

    def _qat_init(self, qconfig: Any, device: Any, dtype: Any) -> None:
        self.weight_fake_quant = _weight_fake_quant(qconfig, device, dtype)
        self.qconfig = qconfig

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, self.weight_fake_quant(self.weight), self.bias)  # type: ignore[attr-defined]

    @classmethod
    def from_float(cls, mod: Any, use_precomputed_fake_quant: bool = False) -> Any:
        """The QAT convolution of the float ``mod`` (which has a ``qconfig``), sharing its parameters."""
        _check_float(cls, mod)
        qat = cls(  # type: ignore[call-arg]
            mod.in_channels,
            mod.out_channels,
            mod.kernel_size,
            stride=mod.stride,
            padding=mod.padding,
            dilation=mod.dilation,
            groups=mod.groups,
            bias=mod.bias is not None,
            padding_mode=mod.padding_mode,
            qconfig=mod.qconfig,
        )
        qat.weight = mod.weight
        qat.bias = mod.bias
        return qat

    def to_float(self) -> Any:
        """A plain float convolution with copies of the parameters."""
        m = self
        conv = self._FLOAT_MODULE(
            m.in_channels,  # type: ignore[attr-defined]
            m.out_channels,  # type: ignore[attr-defined]
            m.kernel_size,  # type: ignore[attr-defined]
            m.stride,  # type: ignore[attr-defined]
            m.padding,  # type: ignore[attr-defined]
            m.dilation,  # type: ignore[attr-defined]
            m.groups,  # type: ignore[attr-defined]
            m.bias is not None,  # type: ignore[attr-defined]
            m.padding_mode,  # type: ignore[attr-defined]
        )
        conv.weight = Parameter(m.weight.detach())  # type: ignore[attr-defined]
        if m.bias is not None:  # type: ignore[attr-defined]
            conv.bias = Parameter(m.bias.detach())  # type: ignore[attr-defined]
        conv.train(m.training)  # type: ignore[attr-defined]
        return conv


def _conv_class(name: str, float_cls: type) -> type:
    def __init__(
        self: Any,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        qconfig: Any = None,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        float_cls.__init__(
            self,
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=bias,
            padding_mode=padding_mode,
            device=device,
            dtype=dtype,
        )
        self._qat_init(qconfig, device, dtype)

    doc = f""":class:`ember.nn.{name}` whose weight is fake-quantized by ``qconfig.weight()`` on every call
    (``weight_fake_quant``), for quantization-aware training; the arguments are ``nn.{name}``'s and a
    required ``qconfig``."""
    return type(
        name,
        (_ConvNd, float_cls),
        {"__init__": __init__, "_FLOAT_MODULE": float_cls, "__doc__": doc, "__module__": __name__},
    )


Conv1d = _conv_class("Conv1d", nn.Conv1d)
Conv2d = _conv_class("Conv2d", nn.Conv2d)
Conv3d = _conv_class("Conv3d", nn.Conv3d)
