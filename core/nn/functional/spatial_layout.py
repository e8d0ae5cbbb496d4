"""The memory format of a spatial op's result (convolution, pooling, interpolation, padding), as
PyTorch's CPU kernels allocate it: channels-last (``channels_last_3d``) where an input is laid out so,
row-major otherwise, whatever order the backend's computation left the result in."""

from __future__ import annotations

from ...layout import contiguous_format, memory_format, suggest_memory_format
from ...strides import ordered_strides
from ...tensor import Tensor

__all__ = ["in_input_format", "channels_last_format", "in_format"]


def channels_last_format(x: Tensor) -> memory_format | None:
    """The channels-last format (``channels_last``, ``channels_last_3d``) ``x`` is laid out in
    (:func:`ember.layout.suggest_memory_format`), else None."""
    # (a contiguous input with a size-1 dimension may still be laid out channels-last: (N, 1, H, W)
    # with strides (HW, 1, W, 1), as ``.to(memory_format=channels_last)`` lays it out)
    if x.ndim in (4, 5) and not x._backend.is_row_major(x._data):
        fmt = suggest_memory_format(tuple(x.shape), x.stride())
        if fmt is not contiguous_format:
            return fmt
    return None


def in_format(out: Tensor, fmt: memory_format) -> Tensor:
    """``out`` laid out in the channels-last format ``fmt`` with its exact strides (a size-1 dimension's
    too, as PyTorch's fresh result has them); ``out`` itself where it already is."""
    out = out.contiguous(memory_format=fmt)
    shape = tuple(out.shape)
    if 1 in shape and fmt.order is not None and out.stride() != ordered_strides(shape, fmt.order):
        out = out.clone(memory_format=fmt)
    return out


def in_input_format(out: Tensor, *inputs: Tensor) -> Tensor:
    """``out``, the result of a spatial op over ``inputs`` (a convolution's input and weight), laid out
    in the first channels-last format among the inputs' (:func:`channels_last_format`), else row-major;
    ``out`` itself where it is already laid out so."""
    for x in inputs:
        if x.ndim == out.ndim:
            fmt = channels_last_format(x)
            if fmt is not None:
                return in_format(out, fmt)
    return out.contiguous()
