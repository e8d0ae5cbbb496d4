"""The memory layout of an element-wise op's result over several tensors, as PyTorch's TensorIterator
lays it out (:func:`ember.strides.elementwise_strides`): the first operand that orders two dimensions
decides their order, so ``transposed + row_major`` comes out transposed.

NumPy's ufuncs (``order='K'``) follow their operands too, but where the operands disagree any operand
in row-major order wins; the results that come out so are laid out again here. A backend that
allocates its results in PyTorch's layout (OpenCL) passes through unchanged.
"""

from __future__ import annotations

from ..strides import dense_order, elementwise_strides
from ..tensor import Tensor
from .movement import in_order, ordered_copy

__all__ = ["in_operands_layout", "composite_in_operands_layout"]


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


def composite_in_operands_layout(result: Tensor, *operands: object) -> Tensor:
    """``result``, an element-wise result composed of several ops over ``operands`` (tensors or numbers,
    in argument order), laid out as PyTorch lays out its one op's result, differentiably:
    ``result`` itself where the operands are all row-major or it already is laid out so."""
    tensors = [t for t in operands if isinstance(t, Tensor) and t.ndim]
    backend = result._backend
    if all(backend.is_contiguous(t._data) for t in tensors):
        return result
    shape = tuple(result.shape)
    strides = elementwise_strides(shape, tuple((tuple(t.shape), t.stride()) for t in tensors))
    if result.stride() == strides:
        return result
    return in_order(result, dense_order(shape, strides))
