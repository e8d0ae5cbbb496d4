"""Padding layers: reflection, replication, zero, constant and circular padding in 1, 2 and 3 dimensions."""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from ..common_types import _size_any_t
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

    def __init__(self, padding: _size_any_t) -> None:
        super().__init__()
        self.padding = _expand(padding, 2 * self.dims)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: _size_any_t, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding: _size_any_t) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ReflectionPadNd(_PadNd):
    mode = "reflect"


class _ReplicationPadNd(_PadNd):
    mode = "replicate"


class _CircularPadNd(_PadNd):
    mode = "circular"

    def forward(self, input: Tensor) -> Tensor:
        if input.dim() not in (self.dims + 1, self.dims + 2):
            raise ValueError(f"expected {self.dims + 1}D or {self.dims + 2}D input (got {input.dim()}D input)")
        return super().forward(input)


_PAD_FAMILIES = {
    # family: (summary, whether it takes a fill value)
    "ReflectionPad": ("Pads the input tensor using the reflection of the input boundary.", False),
    "ReplicationPad": ("Pads the input tensor using replication of the input boundary.", False),
    "ZeroPad": ("Pads the input tensor boundaries with zero.", False),
    "ConstantPad": ("Pads the input tensor boundaries with a constant value.", True),
    "CircularPad": ("Pads the input tensor using circular padding of the input boundary.", False),
}

_PAD_LAYOUTS = {
    # dims: (tuple form of ``padding``, input layouts, padded dims, example input size, example output size)
    1: ("a 2-tuple, (padding_left, padding_right)", "(C, W_in)` or :math:`(N, C, W_in)", "W", "(1, 2, 4)",
        "[1, 2, 6]"),
    2: ("a 4-tuple, (padding_left, padding_right, padding_top, padding_bottom)",
        "(C, H_in, W_in)` or :math:`(N, C, H_in, W_in)", "H, W", "(1, 1, 3, 3)", "[1, 1, 5, 5]"),
    3: ("a 6-tuple, (padding_left, padding_right, padding_top, padding_bottom, padding_front, padding_back)",
        "(C, D_in, H_in, W_in)` or :math:`(N, C, D_in, H_in, W_in)", "D, H, W", "(1, 1, 2, 2, 2)",
        "[1, 1, 4, 4, 4]"),
}  # fmt: skip


def _pad_doc(family, dims):
    """The docstring of ``{family}{dims}d``."""
    summary, takes_value = _PAD_FAMILIES[family]
    tuple_form, layouts, padded, example_in, example_out = _PAD_LAYOUTS[dims]
    value_arg = "\n        value (float): the fill value." if takes_value else ""
    example_args = "1, 3.5" if takes_value else "1"
    return f"""{summary}

    Args:
        padding (int, tuple): the size of the padding. If an int, the same padding on every
            boundary; if {tuple_form}.{value_arg}

    Shape:
        - Input: :math:`{layouts}`.
        - Output: the same layout, with {padded} each grown by its two paddings.

    Example::

        >>> m = nn.{family}{dims}d({example_args})
        >>> m(ember.randn{example_in}).shape
        ember.Size({example_out})
    """


class ReflectionPad1d(_ReflectionPadNd):
    __doc__ = _pad_doc("ReflectionPad", 1)
    dims = 1


class ReflectionPad2d(_ReflectionPadNd):
    __doc__ = _pad_doc("ReflectionPad", 2)
    dims = 2


class ReflectionPad3d(_ReflectionPadNd):
    __doc__ = _pad_doc("ReflectionPad", 3)
    dims = 3


class ReplicationPad1d(_ReplicationPadNd):
    __doc__ = _pad_doc("ReplicationPad", 1)
    dims = 1


class ReplicationPad2d(_ReplicationPadNd):
    __doc__ = _pad_doc("ReplicationPad", 2)
    dims = 2


class ReplicationPad3d(_ReplicationPadNd):
    __doc__ = _pad_doc("ReplicationPad", 3)
    dims = 3


class ZeroPad1d(_ZeroPadNd):
    __doc__ = _pad_doc("ZeroPad", 1)
    dims = 1


class ZeroPad2d(_ZeroPadNd):
    __doc__ = _pad_doc("ZeroPad", 2)
    dims = 2


class ZeroPad3d(_ZeroPadNd):
    __doc__ = _pad_doc("ZeroPad", 3)
    dims = 3


class ConstantPad1d(_ConstantPadNd):
    __doc__ = _pad_doc("ConstantPad", 1)
    dims = 1


class ConstantPad2d(_ConstantPadNd):
    __doc__ = _pad_doc("ConstantPad", 2)
    dims = 2


class ConstantPad3d(_ConstantPadNd):
    __doc__ = _pad_doc("ConstantPad", 3)
    dims = 3


class CircularPad1d(_CircularPadNd):
    __doc__ = _pad_doc("CircularPad", 1)
    dims = 1


class CircularPad2d(_CircularPadNd):
    __doc__ = _pad_doc("CircularPad", 2)
    dims = 2


class CircularPad3d(_CircularPadNd):
    __doc__ = _pad_doc("CircularPad", 3)
    dims = 3
