"""The memory format of a spatial op's result (convolution, pooling, interpolation, padding), as
PyTorch's CPU kernels allocate it: channels-last (``channels_last_3d``) where an input is laid out so,
row-major otherwise, whatever order the backend's computation left the result in."""

from __future__ import annotations

from ...layout import contiguous_format, suggest_memory_format
from ...tensor import Tensor

__all__ = ["in_input_format"]


def in_input_format(out: Tensor, *inputs: Tensor) -> Tensor:
    """``out``, the result of a spatial op over ``inputs`` (a convolution's input and weight), laid out
    in the first channels-last format among the inputs' (:func:`ember.layout.suggest_memory_format`),
    else row-major; ``out`` itself where it is already laid out so."""
    for x in inputs:
        if x.ndim == out.ndim and x.ndim in (4, 5) and not x._backend.is_contiguous(x._data):
            fmt = suggest_memory_format(tuple(x.shape), x.stride())
            if fmt is not contiguous_format:
                return out.contiguous(memory_format=fmt)
    return out.contiguous()
