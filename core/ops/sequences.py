"""Ops that difference, repeat, flatten or enumerate elements: diff, repeat_interleave, ravel,
msort, cartesian_prod, tril_indices/triu_indices, bucketize, addr.

All are composites of views, indexing and concatenation, so they are differentiable and run on
every backend.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import numpy as np

from .. import dtypes
from ..layout import contiguous_format
from ..tensor import Tensor
from ..type_names import type_name
from .creation import arange, empty, tensor
from .dtype_support import FLOAT8, not_implemented, refuse_limited
from .linalg import outer, scale_by
from .movement import cat, stack
from .operands import check_factor, check_same_device, numpy_names, tensor_input, wrap_dim
from .out_argument import write_out
from .slicing_joining import meshgrid, searchsorted

if TYPE_CHECKING:
    from ..types import Device, Number, _dtype

__all__ = [
    "diff",
    "repeat_interleave",
    "ravel",
    "msort",
    "cartesian_prod",
    "tril_indices",
    "triu_indices",
    "bucketize",
    "addr",
]


def diff(
    input: Tensor,
    n: int = 1,
    dim: int = -1,
    prepend: Tensor | None = None,
    append: Tensor | None = None,
    *,
    out: Tensor | None = None,
    axis: int | None = None,
) -> Tensor:
    """The ``n``-th forward difference along ``dim`` (``logical_xor`` of neighbours for bool).

    Args:
        input (Tensor): at least 1-D.
        n (int): how many times to difference. Default: 1
        dim (int): the dimension. Default: -1
        prepend, append (Tensor, optional): values joined before/after ``input`` along ``dim``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.

    Example::

        >>> ember.diff(ember.tensor([1, 3, 2]))
        tensor([ 2, -1])
    """
    if axis is not None:
        dim, _ = numpy_names("diff", dim, -1, axis, False, None)
    if out is not None:
        return write_out("diff", diff(input, n, dim, prepend, append), out)
    if not isinstance(input, Tensor):
        raise TypeError(f"diff(): argument 'input' (position 1) must be Tensor, not {type_name(input)}")
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if not isinstance(n, int) or n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    axis = wrap_dim(dim, input.ndim)
    for extra in (prepend, append):
        if extra is not None:
            check_same_device("diff", input, extra)
            if extra.ndim != input.ndim:
                raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    if n == 0:  # PyTorch: no difference taken, prepend and append are not joined
        return input.clone()
    x = (
        input
        if prepend is None and append is None
        else cat([t for t in (prepend, input, append) if t is not None], axis)
    )
    for _ in range(n):
        length = x.shape[axis]
        if length == 0:
            break
        later, earlier = x.narrow(axis, 1, length - 1), x.narrow(axis, 0, length - 1)
        x = later.logical_xor(earlier) if x.dtype is dtypes.bool else later - earlier
    return x


@tensor_input
def repeat_interleave(
    input: Tensor,
    repeats: Tensor | int | None = None,
    dim: int | None = None,
    *,
    output_size: int | None = None,
    axis: int | None = None,
) -> Tensor:
    """Repeat each element (or slice along ``dim``) ``repeats`` times, the copies side by side.

    With a tensor as the only argument, ``repeat_interleave(repeats)`` gives the indices
    ``0, ..., len(repeats) - 1`` each repeated its number of times.

    Args:
        input (Tensor): the input.
        repeats (int or Tensor): the number of repetitions, one for all or one per slice.
        dim (int, optional): the dimension; ``None`` flattens the input first. Default: None
        output_size (int, optional): the total length along ``dim`` (checked when given).
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.

    Example::

        >>> ember.repeat_interleave(ember.tensor([1, 2]), 2)
        tensor([1, 1, 2, 2])
        >>> ember.tensor([[1, 2], [3, 4]]).repeat_interleave(ember.tensor([1, 2]), dim=0)
        tensor([[1, 2],
                [3, 4],
                [3, 4]])
    """
    if axis is not None:
        dim, _ = numpy_names("repeat_interleave", dim, None, axis, False, None)
    if repeats is None:
        counts = input
        if counts.ndim > 1 or counts.dtype.is_floating_point or counts.dtype is dtypes.bool:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        positions = arange(counts.numel(), dtype=counts.dtype, device=counts.device)
        return repeat_interleave(positions, counts, 0, output_size=output_size)
    if dim is not None and input.ndim == 0:
        raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {dim + 1})")
    x = input.reshape(-1) if dim is None else input
    axis = 0 if dim is None else wrap_dim(dim, x.ndim)
    if x.ndim == 0:
        x = x.reshape(1)
    size = x.shape[axis]
    if isinstance(repeats, Tensor):
        check_same_device("repeat_interleave", x, repeats)
        if repeats.ndim > 1 or repeats.dtype.is_floating_point or repeats.dtype is dtypes.bool:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        if repeats.numel() not in (1, size):
            raise RuntimeError(
                f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                f"{repeats.numel()} and input.size({axis}) = {size}"
            )
        if repeats.is_meta:  # no counts to read: the length along dim is output_size
            if output_size is None:
                raise RuntimeError("cannot repeat_interleave a meta tensor without output_size")
            return x.index_select(axis, empty(output_size, dtype=dtypes.int64, device=x.device))
        if repeats.numel() == 1:
            repeats = int(repeats.reshape(()).item())
    if isinstance(repeats, Tensor):
        counts = [int(c) for c in repeats.tolist()]  # type: ignore[assignment]
        if any(c < 0 for c in counts):
            raise RuntimeError("repeats can not be negative")
        index = [i for i, c in enumerate(counts) for _ in range(c)]
        result = x.index_select(axis, tensor(index, dtype=dtypes.int64, device=x.device))
    else:
        if not isinstance(repeats, numbers.Integral) or isinstance(repeats, bool):
            raise TypeError(f"repeat_interleave(): repeats must be an int or a Tensor, got {type(repeats).__name__}")
        if repeats < 0:
            raise RuntimeError("repeats can not be negative")
        shape = list(x.shape)
        expanded = x.unsqueeze(axis + 1).expand(shape[: axis + 1] + [repeats] + shape[axis + 1 :])
        shape[axis] *= repeats
        result = expanded.reshape(shape)
        if result._base is not None:
            # the reshape was a view of ``input`` (a size-1 ``dim``: stride 0, which a write through
            # it or to ``input`` saw; once or no repetitions; no elements): PyTorch returns new memory
            result = result.clone(memory_format=contiguous_format)
    if output_size is not None and result.shape[axis] != output_size:
        raise RuntimeError(
            f"repeat_interleave: allocated size {output_size} does not match the required size {result.shape[axis]}"
        )
    return result


@tensor_input
def ravel(input: Tensor) -> Tensor:
    """The elements as a contiguous 1-D tensor: a view of a contiguous ``input``, a copy of any other
    (even one that a strided 1-D view could show, unlike ``reshape(-1)``), as in PyTorch.

    Example::

        >>> ember.tensor([[1, 2], [3, 4]]).ravel()
        tensor([1, 2, 3, 4])
    """
    return input.contiguous().view(-1)


@tensor_input
def msort(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``input`` sorted along its first dimension (the values of ``sort(input, dim=0)``).

    Example::

        >>> ember.msort(ember.tensor([[3, 1], [2, 4]]))
        tensor([[2, 1],
                [3, 4]])
    """
    refuse_limited("sorting_kernel_method_name", input, among=FLOAT8)
    if out is not None:
        return write_out("msort", msort(input), out, exact_dtype=True, inputs=(input,))
    return input.sort(dim=0).values


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """The Cartesian product of 1-D tensors: one row per combination (a 1-D tensor for one input).

    Example::

        >>> ember.cartesian_prod(ember.tensor([1, 2]), ember.tensor([3, 4]))
        tensor([[1, 3],
                [1, 4],
                [2, 3],
                [2, 4]])
    """
    for t in tensors:
        if not isinstance(t, Tensor) or t.ndim != 1:
            raise RuntimeError("Expect a 1D vector, but got shape " + str(list(getattr(t, "shape", []))))
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


def _triangle_indices(op, row, col, offset, dtype, device, lower):
    for name, value in (("row", row), ("col", col), ("offset", offset)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{op}(): argument '{name}' must be int, not {type_name(value)}")
    if row < 0 or col < 0:
        raise RuntimeError(f"{op}: row and col must be non-negative, got row={row}, col={col}")
    dtype = dtypes.int64 if dtype is None else dtype
    if dtype not in (dtypes.int64, dtypes.int32):
        not_implemented(op, dtype)
    # known from the arguments alone: NumPy's, on the host (no device round trip, and a meta result too)
    rows, cols = (np.tril_indices if lower else np.triu_indices)(row, offset, col)
    return tensor(np.stack([rows, cols]), dtype=dtype, device=device)


def tril_indices(
    row: int, col: int, offset: int = 0, *, dtype: _dtype | None = None, device: Device = None, layout: object = None
) -> Tensor:
    """The ``(2, N)`` coordinates of the lower triangle (diagonal ``offset`` included) of a ``row x col`` matrix.

    Example::

        >>> ember.tril_indices(3, 3)
        tensor([[0, 1, 1, 2, 2, 2],
                [0, 0, 1, 0, 1, 2]])
    """
    return _triangle_indices("tril_indices", row, col, offset, dtype, device, True)


def triu_indices(
    row: int, col: int, offset: int = 0, *, dtype: _dtype | None = None, device: Device = None, layout: object = None
) -> Tensor:
    """The ``(2, N)`` coordinates of the upper triangle (diagonal ``offset`` included) of a ``row x col`` matrix.

    Example::

        >>> ember.triu_indices(3, 3, 1)
        tensor([[0, 0, 1],
                [1, 2, 2]])
    """
    return _triangle_indices("triu_indices", row, col, offset, dtype, device, False)


def bucketize(
    input: Tensor | Number,
    boundaries: Tensor,
    *,
    out_int32: bool = False,
    right: bool = False,
    out: Tensor | None = None,
) -> Tensor:
    """The index of the bucket of ``boundaries`` (a sorted 1-D tensor) each value of ``input`` falls in.

    Example::

        >>> ember.bucketize(ember.tensor([1, 5, 9]), ember.tensor([2, 4, 6, 8]))
        tensor([0, 2, 4])
    """
    if out is not None:
        return write_out(
            "bucketize", bucketize(input, boundaries, out_int32=out_int32, right=right), out, exact_dtype=True
        )
    if not isinstance(boundaries, Tensor) or boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({getattr(boundaries, 'ndim', None)})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def addr(
    input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Number = 1, alpha: Number = 1, out: Tensor | None = None
) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``.

    Example::

        >>> ember.addr(ember.zeros(2, 2), ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0]))
        tensor([[3., 4.],
                [6., 8.]])
    """
    if out is not None:
        return write_out("addr", addr(input, vec1, vec2, beta=beta, alpha=alpha), out)
    result = dtypes.promote_types(input.dtype, dtypes.promote_types(vec1.dtype, vec2.dtype))
    check_factor("beta", beta, result)
    check_factor("alpha", alpha, result)
    product = scale_by(outer(vec1, vec2), alpha)
    if not (product.dtype.is_floating_point or product.dtype.is_complex) and product.dtype is not dtypes.bool:
        beta = int(beta)  # an integer addr truncates beta (and alpha), as PyTorch
    if beta == 0:  # input is ignored, NaN included (PyTorch's rule)
        return product
    return scale_by(input, beta) + product
