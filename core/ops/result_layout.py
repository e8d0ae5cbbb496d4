"""The memory layout of an element-wise op's result over several tensors, as PyTorch's TensorIterator
lays it out (:func:`ember.strides.elementwise_strides`): the first operand that orders two dimensions
decides their order, so ``transposed + row_major`` comes out transposed.

NumPy's ufuncs (``order='K'``) follow their operands too, but where the operands disagree any operand
in row-major order wins; the results that come out so are laid out again here. A backend that
allocates its results in PyTorch's layout (OpenCL) passes through unchanged.
"""

from __future__ import annotations

import functools

from ..layout import contiguous_format
from ..strides import dense_order, elementwise_strides
from ..tensor import Tensor
from .movement import ordered_copy

__all__ = ["in_operands_layout", "laid_out", "binary_layout", "composite_in_operands_layout"]


def in_operands_layout(backend, result, operands):
    """The native element-wise ``result`` over the native ``operands`` (arrays, or Python numbers,
    in argument order), laid out as PyTorch lays out that result: ``result`` itself where it already is,
    else its values in PyTorch's order of the dimensions (a view of it where only the strides of size-1
    dimensions change, else a dense copy).

    A Python number (or 0-d array) counts as TensorIterator's wrapped number: an operand of another
    shape than the result's, so that ``x * 2`` takes the ordered path where ``x * x`` keeps ``x``'s
    strides; an op that PyTorch runs without the number (``pow(x, 2)``, ``lerp`` with a number weight)
    leaves it out. Operands and result all exactly row-major (a size-1 dimension's stride too,
    :meth:`ember.backend.Backend.is_row_major`) give ``result`` without reading any strides."""
    is_row_major = backend.is_row_major
    if is_row_major(result) and all(is_row_major(x) for x in operands if hasattr(x, "shape")):
        return result
    return laid_out(backend, result, operands)


#: a Python number's or 0-d operand's (shape, strides)
_NUMBER: tuple[tuple[int, ...], tuple[int, ...]] = ((), ())


def laid_out(backend, result, operands):
    """:func:`in_operands_layout` without its row-major shortcut, for a caller that knows an operand is
    not row-major."""
    strides = backend.strides
    shape = tuple(result.shape)
    arrays = [] if shape else None
    if shape:
        for x in operands:
            arrays.append((tuple(x.shape), strides(x)) if getattr(x, "ndim", 0) else _NUMBER)
    orders = _relaid_order(shape, tuple(arrays or ()), strides(result))
    if orders is None:
        return result
    wanted, order, inverse = orders
    xp = backend.xp
    if 0 in shape:  # no elements: seen with the strides themselves (their order leaves out a 0 stride's dimension)
        try:
            return backend.as_strided(result, shape, wanted, 0)
        except NotImplementedError:  # a backend without strided views
            pass
    else:
        moved = xp.permute_dims(result, order)
        if backend.is_contiguous(moved):  # the same order in memory: only size-1 dimensions step otherwise,
            # so a row-major view of the same memory in ``order`` has PyTorch's strides, without a copy
            return xp.permute_dims(xp.reshape(xp.reshape(moved, (-1,)), moved.shape), inverse)
    return ordered_copy(backend, result, result.dtype, order)


@functools.lru_cache(maxsize=1024)
def _relaid_order(shape, operands, result_strides):
    """The strides of an element-wise result of ``shape`` over ``operands`` (their shapes and strides) in
    PyTorch, the order of its dimensions (outermost first) and its inverse permutation; None where
    ``result_strides`` already are its strides. Cached: a program meets the same few layouts again and again."""
    strides = elementwise_strides(shape, operands)
    if strides == result_strides:
        return None
    order = dense_order(shape, strides)
    return strides, order, tuple(order.index(d) for d in range(len(order)))


def binary_layout(backend, result, a, b):
    """The native element-wise ``result`` over the native ``a`` and ``b`` (an array, or a Python number
    that TensorIterator wraps) laid out as PyTorch lays it out, with :func:`in_operands_layout` only
    where NumPy's layout may differ from it: where ``a`` is not row-major (its layout may win), or where
    the result has a size-1 dimension, whose stride PyTorch takes from its operands unless they are
    both row-major of one shape, or all exactly row-major. Elsewhere ``result`` itself, for a few
    attribute reads. A result without elements is laid out anew: NumPy zeroes its strides."""
    if not result.size:
        return laid_out(backend, result, (a, b))
    if not hasattr(b, "shape"):  # a Python number
        if 1 in result.shape and not backend.is_row_major(a):
            return laid_out(backend, result, (a, b))
        return result
    if not backend.is_contiguous(a) or (1 in result.shape and not (a.shape == b.shape and backend.is_contiguous(b))):
        return in_operands_layout(backend, result, (a, b))
    return result


def composite_in_operands_layout(result: Tensor, *operands: object) -> Tensor:
    """``result``, an element-wise result composed of several ops over ``operands`` (tensors or numbers,
    in argument order, a number counting as in :func:`in_operands_layout`), laid out as PyTorch lays out
    its one op's result, differentiably: ``result`` itself where the operands are all row-major (a
    size-1 dimension's stride too, where the result has one) or it already is laid out so."""
    tensors = [t for t in operands if isinstance(t, Tensor) and t.ndim]
    backend = result._backend
    shape = tuple(result.shape)
    row_major = backend.is_row_major if 1 in shape else backend.is_contiguous
    if all(row_major(t._data) for t in tensors):
        return result
    strides = elementwise_strides(
        shape, tuple((tuple(t.shape), t.stride()) if isinstance(t, Tensor) and t.ndim else ((), ()) for t in operands)
    )
    if result.stride() == strides:
        return result
    order = dense_order(shape, strides)
    permuted = result.permute(order)  # then a row-major copy, a size-1 dimension's stride too
    if not backend.is_row_major(permuted._data):
        permuted = permuted.clone(memory_format=contiguous_format)
    return permuted.permute(tuple(order.index(d) for d in range(len(order))))
