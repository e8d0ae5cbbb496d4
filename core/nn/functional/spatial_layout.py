"""The memory format of a spatial op's result (convolution, pooling, interpolation, padding), as
PyTorch's CPU kernels allocate it: channels-last (``channels_last_3d``) where an input is laid out so,
row-major otherwise, whatever order the backend's computation left the result in."""

from __future__ import annotations

from ...layout import contiguous_format, suggest_memory_format
from ...strides import ordered_strides
from ...tensor import Tensor

__all__ = ["in_input_format"]


def in_input_format(out: Tensor, *inputs: Tensor) -> Tensor:
    """``out``, the result of a spatial op over ``inputs`` (a convolution's input and weight), laid out
    in the first channels-last format among the inputs' (:func:`ember.layout.suggest_memory_format`),
    else row-major; ``out`` itself where it is already laid out so."""
    for x in inputs:
        # (a contiguous input with a size-1 dimension may still be laid out channels-last: (N, 1, H, W)
        # with strides (HW, 1, W, 1), as ``.to(memory_format=channels_last)`` lays it out)
        if x.ndim == out.ndim and x.ndim in (4, 5) and not x._backend.is_row_major(x._data):
            fmt = suggest_memory_format(tuple(x.shape), x.stride())
            if fmt is not contiguous_format:
                out = out.contiguous(memory_format=fmt)
                shape = tuple(out.shape)
                if 1 in shape and fmt.order is not None and out.stride() != ordered_strides(shape, fmt.order):
                    # contiguous in both formats: PyTorch's fresh result has the format's strides exactly
                    out = out.clone(memory_format=fmt)
                return out
    return out.contiguous()
