"""The memory layout of an element-wise op's result over several tensors, as PyTorch's TensorIterator
lays it out (:func:`ember.strides.elementwise_strides`): the first operand that orders two dimensions
decides their order, so ``transposed + row_major`` comes out transposed.

NumPy's ufuncs (``order='K'``) follow their operands too, but where the operands disagree any operand
in row-major order wins; the results that come out so are laid out again here. A backend that
allocates its results in PyTorch's layout (OpenCL) passes through unchanged.
"""

from __future__ import annotations

from ..strides import dense_order, elementwise_strides
from .movement import ordered_copy

__all__ = ["in_operands_layout"]


def in_operands_layout(backend, result, operands):
    """The native element-wise ``result`` over the native ``operands`` (arrays, or Python numbers,
    in argument order), laid out as PyTorch lays out that result: ``result`` itself where it already is,
    else a dense copy in PyTorch's order of the dimensions."""
    layout = backend.layout
    arrays = tuple((tuple(x.shape), tuple(layout(x)[0])) for x in operands if hasattr(x, "shape") and x.ndim)
    shape = tuple(result.shape)
    strides = elementwise_strides(shape, arrays)
    if tuple(layout(result)[0]) == strides:
        return result
    return ordered_copy(backend, result, result.dtype, dense_order(shape, strides))
