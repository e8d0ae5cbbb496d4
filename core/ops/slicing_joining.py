"""Shape and indexing helpers: select, unique, bincount, searchsorted, tensor_split, h/v/dsplit,
dstack, column_stack, atleast_nd, fliplr/flipud, rot90, meshgrid, unfold, sum_to_size,
index_put, in-place shape changes, and the ``nbytes``/``itemsize`` properties.

Differentiable ones are composites of views, indexing and concatenation.
"""

from __future__ import annotations

import math
import numbers
import operator
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .. import dtypes
from ..autograd import function as autograd_function
from ..autograd import tangents
from ..autograd.function import Function
from ..autograd.grad_mode import grad_state
from ..autograd.view_history import check_view_writable, mark_reshaped_in_place
from ..meta_errors import refuse_meta
from ..tensor import Tensor
from .comparison import _TORCH_NAMES
from .conversion import check_inplace, check_view_of_leaf_writable
from .creation import arange
from .dtype_support import FLOAT8, UNSIGNED_WIDE, not_implemented, refuse_limited
from .indexing import _IndexAccumulate, _native_key, check_index_put_dtype
from .movement import _sizes_or_keyword, cat, flip, movedim, narrow, tensor_list, transpose

if TYPE_CHECKING:
    pass
from ..type_names import type_name
from .operands import (
    bool_arg_error,
    check_same_device,
    dim_or_axis,
    int_arg,
    int_list,
    named_node,
    numpy_names,
    sum_to,
    tensor_input,
    wrap_dim,
)
from .out_argument import write_out
from .searching import searchsorted
from .strided import as_strided

__all__ = [
    "select", "unique", "bincount", "searchsorted", "tensor_split", "hsplit", "vsplit", "dsplit",
    "dstack", "column_stack", "atleast_1d", "atleast_2d", "atleast_3d", "fliplr", "flipud", "rot90",
    "meshgrid", "index_put", "is_complex",
]  # fmt: skip


@dim_or_axis
def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at ``index`` of dimension ``dim``, which is removed (a view).

    Example::

        >>> ember.arange(6).reshape(2, 3).select(1, 0)
        tensor([0, 3])
    """
    if type(dim) is not int or type(index) is not int:
        dim, index = int_arg("select", "dim", dim, 2), int_arg("select", "index", index, 3)
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    axis = wrap_dim(dim, input.ndim)
    size = input.shape[axis]
    if not -size <= index < size:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(input.shape)} at dimension {axis}"
        )
    # basic indexing: a view on every backend (a squeezed narrow is a copy where squeeze of a
    # non-contiguous array copies, as on OpenCL, and an in-place write would then not reach input)
    return input[(slice(None),) * axis + (index % size,)]


def tensor_select(self: Tensor, dim: int, index: int) -> Tensor:
    """``Tensor.select(dim, index)``: as :func:`select`; a TypeError gives the argument's position as a method's.

    Example::

        >>> ember.arange(6).reshape(2, 3).select(0, 1)
        tensor([3, 4, 5])
    """
    if type(dim) is not int or type(index) is not int:
        dim, index = int_arg("select", "dim", dim, 1), int_arg("select", "index", index, 2)
    return select(self, dim, index)


class _NoDerivative(Function):
    """The values ``data`` of an op that PyTorch records without a derivative (``unique``'s): its result
    requires grad, and a backward through its node raises PyTorch's NotImplementedError."""

    @staticmethod
    def forward(ctx, input, data, name):
        ctx.op_name = name
        return input._make(data)

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError(f"the derivative for '{ctx.op_name}' is not implemented.")


def without_derivative(input: Tensor, values: Tensor, name: str, node: str) -> Tensor:
    """``values``, computed from ``input``, recorded as PyTorch records ``name`` (a node named ``node`` whose
    backward raises) where ``input`` requires grad; as they are otherwise."""
    if not (input._requires_grad and grad_state.enabled):
        return values
    return named_node(_NoDerivative.apply(input, values.detach()._data, name), node)


@tensor_input
def unique(  # noqa: A002
    input: Tensor,
    sorted: bool = True,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
) -> Any:
    """The distinct elements (sorted), optionally with each element's position among them and counts.

    Args:
        input (Tensor): the input (flattened).
        sorted (bool): ignored; the result is always sorted, as PyTorch's CPU result is. Default: ``True``
        return_inverse (bool): also return, per input element, the index of its value. Default: ``False``
        return_counts (bool): also return how often each value occurs. Default: ``False``
        dim (int, optional): the distinct slices along ``dim`` instead of elements. Default: None

    Example::

        >>> ember.unique(ember.tensor([3, 1, 3]))
        tensor([1, 3])
    """
    refuse_limited("unique", input, among=FLOAT8)
    refuse_meta("unique", input)
    for name, flag in (("sorted", sorted), ("return_inverse", return_inverse), ("return_counts", return_counts)):
        if flag is not True and flag is not False:
            raise bool_arg_error("_unique2" if dim is None else "unique_dim", name, flag)
    if input.dtype.is_complex:  # no order to sort by
        not_implemented("unique", input.dtype)
    if dim is not None:
        out = _unique_dim(input, wrap_dim(dim, input.ndim), return_inverse, return_counts)
        if isinstance(out, tuple):
            return (without_derivative(input, out[0], "unique_dim", "UniqueDimBackward0"), *out[1:])
        return without_derivative(input, out, "unique_dim", "UniqueDimBackward0")
    backend = input._backend
    xp, long = backend.xp, backend.native_dtype(dtypes.int64)
    flat = xp.reshape(input.detach()._data, (-1,))
    n = flat.shape[0]
    order = xp.argsort(flat, stable=True)
    values = xp.take(flat, order)
    if n:
        first = xp.concat(
            [xp.ones((1,), dtype=backend.native_dtype(dtypes.bool)), xp.not_equal(values[1:], values[:-1])]
        )
    else:
        first = xp.zeros((0,), dtype=backend.native_dtype(dtypes.bool))
    out = [without_derivative(input, input._make(values[first]), "_unique2", "Unique2Backward0")]
    if return_inverse:
        group = xp.cumulative_sum(xp.astype(first, long)) - 1
        inverse = xp.zeros((n,), dtype=long)
        inverse[order] = group
        out.append(input._make(xp.reshape(inverse, tuple(input.shape))))
    if return_counts:
        starts = xp.astype(xp.nonzero(first)[0], long)
        ends = xp.concat([starts[1:], xp.full((1,), n, dtype=long)]) if n else starts
        out.append(input._make(ends - starts))
    return out[0] if len(out) == 1 else tuple(out)


@tensor_input
def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """Count occurrences of each non-negative integer in a 1-D tensor (summing ``weights`` if given).

    Args:
        input (Tensor): 1-D, non-negative integers.
        weights (Tensor, optional): same length; float32 and float64 weights keep their dtype, others give float64.
        minlength (int): the minimum number of bins. Default: 0

    Example::

        >>> ember.bincount(ember.tensor([0, 1, 1, 3]))
        tensor([1, 2, 0, 1])
        >>> ember.bincount(ember.tensor([0, 1, 1]), weights=ember.tensor([0.5, 1.0, 2.0]), minlength=4)
        tensor([0.5000, 3.0000, 0.0000, 0.0000])
    """
    backend = input._backend
    xp = backend.xp
    if input.dtype.is_floating_point or input.dtype is dtypes.bool:
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{_TORCH_NAMES[input.dtype.name]}'")
    if input.ndim != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if isinstance(minlength, Tensor) and minlength.ndim == 0 and not minlength.dtype.is_floating_point:
        minlength = int(minlength.item())  # PyTorch's argument parser takes a 0-d integer tensor as an int
    if isinstance(minlength, bool) or not isinstance(minlength, numbers.Integral):
        raise TypeError(f"bincount(): argument 'minlength' must be int, not {type_name(minlength)}")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    refuse_meta("bincount", input)  # the count of bins is the largest value plus one
    data = input._data
    n = data.shape[0]
    if n and bool((input < 0).any().item()):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and (weights.ndim != 1 or weights.shape[0] != n):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    if weights is not None:
        check_same_device("bincount", input, weights)
    bins = max(int(input.max().item()) + 1 if n else 0, minlength)
    if weights is None or not n:  # PyTorch counts no elements in int64, weighted or not
        dt, values = dtypes.int64, None
    else:
        dt = weights.dtype if weights.dtype in (dtypes.float32, dtypes.float64) else dtypes.float64
        values = weights.detach().to(dt)._data
    native = backend.native_dtype(dt)
    out = xp.zeros((bins,), dtype=native)
    if n:
        backend.scatter_add(
            out,
            0,
            xp.astype(data, backend.native_dtype(dtypes.int64)),
            xp.ones((n,), dtype=native) if values is None else values,
        )
    return input._make(out)


def _unique_dim(input, axis, return_inverse, return_counts):
    """The distinct slices along ``axis`` in lexicographic order (a stable sort per column)."""
    if any(size == 0 for d, size in enumerate(input.shape) if d != axis):
        raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique cannot be applied")
    x = input.detach().movedim(axis, 0)
    n = x.shape[0]
    rows = x.reshape(n, math.prod(x.shape[1:]))
    order = arange(n, device=input.device)
    for column in reversed(range(rows.shape[1])):
        order = order[rows[order, column].argsort(stable=True)]
    ordered = rows[order]
    first = ordered.new_ones(n, dtype=dtypes.bool)
    if n > 1:
        first[1:] = (ordered[1:] != ordered[:-1]).any(1)
    out = [x[order][first].movedim(0, axis)]
    if return_inverse:
        group = first.long().cumsum(0) - 1
        out.append(group.new_zeros(n).scatter(0, order, group))
    if return_counts:
        starts = first.nonzero().reshape(-1)
        out.append(cat([starts[1:], starts.new_full((1,), n)]) - starts if n else starts)
    return out[0] if len(out) == 1 else tuple(out)


def tensor_split(
    input: Tensor, indices_or_sections: int | Sequence[int] | Tensor, dim: int = 0, *, axis: int | None = None
) -> tuple[Tensor, ...]:
    """Split into ``sections`` nearly equal parts (the first ``n % sections`` one longer) or at ``indices``.

    Returns a tuple of views.

    Args:
        input (Tensor): the input tensor.
        indices_or_sections (int or list of ints): the number of parts, or the indices to split before.
        dim (int): the dimension to split. Default: ``0``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.

    Example::

        >>> x = ember.arange(7)
        >>> ember.tensor_split(x, 3)
        (tensor([0, 1, 2]), tensor([3, 4]), tensor([5, 6]))
        >>> ember.tensor_split(x, [1, 5])
        (tensor([0]), tensor([1, 2, 3, 4]), tensor([5, 6]))
    """
    if axis is not None:
        dim, _ = numpy_names("tensor_split", dim, 0, axis, False, None)
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    split_dim = wrap_dim(dim, input.ndim)
    n = input.shape[split_dim]
    if isinstance(indices_or_sections, Tensor):
        if indices_or_sections.device.type != "cpu":  # PyTorch reads them on the host, from the CPU only
            raise RuntimeError(
                f"tensor_split expected tensor_indices_or_sections to be on cpu, but it's on {indices_or_sections.device}"
            )
        if indices_or_sections.ndim > 1:
            raise RuntimeError(
                "tensor_split expected tensor_indices_or_sections to be a zero-dimensional or one-dimensional "
                f"tensor, but got a tensor with {indices_or_sections.ndim} dims"
            )
        if indices_or_sections.dtype != dtypes.int64:
            raise RuntimeError(
                "tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
                f"{_TORCH_NAMES[indices_or_sections.dtype.name]}"
            )
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        sections = indices_or_sections
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        size, extra = divmod(n, sections)
        bounds, start = [], 0
        for i in range(sections):
            length = size + (1 if i < extra else 0)
            bounds.append((start, start + length))
            start += length
    else:
        cuts = [0] + [max(0, min(n, i + n if i < 0 else i)) for i in indices_or_sections] + [n]
        bounds = [(a, max(a, b)) for a, b in zip(cuts[:-1], cuts[1:])]
    return tuple(narrow(input, split_dim, a, b - a) for a, b in bounds)


def _split_int(value):
    """``value`` as an int where PyTorch's ``int sections``/``tuple of ints`` arguments take it (a Python or
    NumPy integer, a 0-d integer tensor), else None (bool, float, str, a tensor of more dimensions)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Tensor):
        return int(value) if value.ndim == 0 and value.dtype._category == 1 else None
    return operator.index(value) if hasattr(value, "__index__") else None


def _directional_split(name, input, indices_or_sections, axis, min_dims):
    sections = _split_int(indices_or_sections)
    if sections is not None:
        indices_or_sections = sections
    elif (
        not isinstance(indices_or_sections, Sequence)
        or isinstance(indices_or_sections, str)
        or any(_split_int(i) is None for i in indices_or_sections)
    ):
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got (Tensor, {type(indices_or_sections).__name__}), "
            "but expected one of: (Tensor input, int sections) or (Tensor input, tuple of ints indices)"
        )
    else:
        indices_or_sections = [_split_int(i) for i in indices_or_sections]
    if input.ndim < min_dims:
        raise RuntimeError(
            f"torch.{name} requires a tensor with at least {min_dims} dimension, but got a tensor with {input.ndim} dimensions!"
        )
    if isinstance(indices_or_sections, int) and (indices_or_sections == 0 or input.shape[axis] % indices_or_sections):
        raise RuntimeError(
            f"torch.{name} attempted to split along dimension {axis}, but the size of the dimension "
            f"{input.shape[axis]} is not divisible by the split_size {indices_or_sections}!"
        )
    return tensor_split(input, indices_or_sections, axis)


def hsplit(input: Tensor, indices_or_sections: int | Sequence[int]) -> tuple[Tensor, ...]:
    """:func:`tensor_split` along dimension 1 (0 for 1-D); an int must divide the size.

    Args:
        input (Tensor): the input tensor.
        indices_or_sections (int or list of ints): the number of equal parts, or the indices to split before.

    Example::

        >>> x = ember.arange(6).reshape(2, 3)
        >>> ember.hsplit(x, [1])
        (tensor([[0],
                [3]]), tensor([[1, 2],
                [4, 5]]))
    """
    return _directional_split("hsplit", input, indices_or_sections, 1 if input.ndim > 1 else 0, 1)


def vsplit(input: Tensor, indices_or_sections: int | Sequence[int]) -> tuple[Tensor, ...]:
    """:func:`tensor_split` along dimension 0 of an at least 2-D tensor; an int must divide the size.

    Args:
        input (Tensor): the input tensor.
        indices_or_sections (int or list of ints): the number of equal parts, or the indices to split before.

    Example::

        >>> x = ember.arange(8).reshape(4, 2)
        >>> ember.vsplit(x, 2)
        (tensor([[0, 1],
                [2, 3]]), tensor([[4, 5],
                [6, 7]]))
    """
    return _directional_split("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input: Tensor, indices_or_sections: int | Sequence[int]) -> tuple[Tensor, ...]:
    """:func:`tensor_split` along dimension 2 of an at least 3-D tensor; an int must divide the size.

    Args:
        input (Tensor): the input tensor.
        indices_or_sections (int or list of ints): the number of equal parts, or the indices to split before.

    Example::

        >>> x = ember.arange(8).reshape(1, 2, 4)
        >>> [t.shape for t in ember.dsplit(x, 2)]
        [ember.Size([1, 2, 2]), ember.Size([1, 2, 2])]
    """
    return _directional_split("dsplit", input, indices_or_sections, 2, 3)


def _atleast(tensors, ndim):
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    items = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    out = []
    for t in items:
        if t.ndim == 0:
            t = t.reshape((1,) * ndim)
        elif t.ndim == 1 and ndim >= 2:
            t = t.unsqueeze(0)
            if ndim == 3:
                t = t.unsqueeze(-1)
        elif t.ndim == 2 and ndim == 3:
            t = t.unsqueeze(-1)
        out.append(t)
    return out[0] if single else tuple(out)


def atleast_1d(*tensors: Tensor | Sequence[Tensor]) -> Any:
    """Each input with at least one dimension (0-d becomes shape ``(1,)``).

    Args:
        *tensors (Tensor or sequence of Tensors): the inputs.

    Example::

        >>> ember.atleast_1d(ember.tensor(1.5))
        tensor([1.5000])
        >>> ember.atleast_1d(ember.tensor(1), ember.tensor([2, 3]))
        (tensor([1]), tensor([2, 3]))
    """
    return _atleast(tensors, 1)


def atleast_2d(*tensors: Tensor | Sequence[Tensor]) -> Any:
    """Each input with at least two dimensions (1-D ``(n,)`` becomes ``(1, n)``).

    Args:
        *tensors (Tensor or sequence of Tensors): the inputs.

    Example::

        >>> ember.atleast_2d(ember.tensor([1, 2]))
        tensor([[1, 2]])
    """
    return _atleast(tensors, 2)


def atleast_3d(*tensors: Tensor | Sequence[Tensor]) -> Any:
    """Each input with at least three dimensions (``(n,)`` -> ``(1, n, 1)``, ``(m, n)`` -> ``(m, n, 1)``).

    Args:
        *tensors (Tensor or sequence of Tensors): the inputs.

    Example::

        >>> ember.atleast_3d(ember.tensor([1, 2])).shape
        ember.Size([1, 2, 1])
        >>> ember.atleast_3d(ember.zeros(2, 3)).shape
        ember.Size([2, 3, 1])
    """
    return _atleast(tensors, 3)


def dstack(tensors: Sequence[Tensor], *, out: Tensor | None = None) -> Tensor:
    """Concatenate along dimension 2 after :func:`atleast_3d`.

    Args:
        tensors (sequence of Tensors): the tensors to join.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.dstack([ember.tensor([1, 2]), ember.tensor([3, 4])])
        tensor([[[1, 3],
                 [2, 4]]])
    """
    if out is not None:
        return write_out("dstack", dstack(tensors), out, cast_error=TypeError)

    tensors = tensor_list("dstack", tensors)
    return cat(list(atleast_3d(*tensors)) if len(tensors) > 1 else [atleast_3d(tensors[0])], 2)


def column_stack(tensors: Sequence[Tensor], *, out: Tensor | None = None) -> Tensor:
    """Stack 0-/1-D tensors as columns (and concatenate 2-D ones) along dimension 1.

    Args:
        tensors (sequence of Tensors): the tensors to join.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.column_stack([ember.tensor([1, 2]), ember.tensor([3, 4])])
        tensor([[1, 3],
                [2, 4]])
    """
    if out is not None:
        return write_out("column_stack", column_stack(tensors), out, cast_error=TypeError)
    return cat([t.reshape(-1, 1) if t.ndim <= 1 else t for t in tensor_list("column_stack", tensors)], 1)


@tensor_input
def fliplr(input: Tensor) -> Tensor:
    """Reverse the order of columns (dimension 1); the input must be at least 2-D.

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> x = ember.tensor([[1, 2, 3], [4, 5, 6]])
        >>> ember.fliplr(x)
        tensor([[3, 2, 1],
                [6, 5, 4]])
    """
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


@tensor_input
def flipud(input: Tensor) -> Tensor:
    """Reverse the order of rows (dimension 0); the input must be at least 1-D.

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> x = ember.tensor([[1, 2, 3], [4, 5, 6]])
        >>> ember.flipud(x)
        tensor([[4, 5, 6],
                [1, 2, 3]])
    """
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


@tensor_input
def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``dims`` (from the first towards the second axis).

    Args:
        input (Tensor): at least 2-D.
        k (int): number of quarter turns. Default: 1
        dims (list or tuple of two ints): the plane. Default: [0, 1]

    Example::

        >>> x = ember.tensor([[1, 2], [3, 4]])
        >>> ember.rot90(x)
        tensor([[2, 4],
                [1, 3]])
        >>> ember.rot90(x, 2)
        tensor([[4, 3],
                [2, 1]])
    """
    if type(k) is not int:
        k = int_arg("rot90", "k", k, 2)
    dims = int_list("rot90", "dims", dims, position=3)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    a, b = wrap_dim(dims[0], input.ndim), wrap_dim(dims[1], input.ndim)
    if a == b:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {a} and dim1 = {b}")
    k %= 4
    if k == 1:
        return named_node(transpose(flip(input, (b,)), a, b), "Rot90Backward0")
    if k == 2:
        return named_node(flip(input, (a, b)), "Rot90Backward0")
    if k == 3:
        return named_node(flip(transpose(input, a, b), (b,)), "Rot90Backward0")
    return named_node(input.clone(), "Rot90Backward0")


def meshgrid(*tensors: Tensor | Sequence[Tensor], indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors: ``"ij"`` (matrix) or ``"xy"`` (Cartesian) indexing.

    Without ``indexing``, uses ``"ij"`` and warns (as PyTorch does).

    Args:
        *tensors (Tensor or sequence of Tensors): the 1-D coordinate vectors.
        indexing (str, optional): ``'ij'`` (matrix) or ``'xy'`` (Cartesian) indexing.

    Example::

        >>> xs, ys = ember.meshgrid(ember.tensor([1, 2, 3]), ember.tensor([4, 5]), indexing='ij')
        >>> xs
        tensor([[1, 1],
                [2, 2],
                [3, 3]])
        >>> ys
        tensor([[4, 5],
                [4, 5],
                [4, 5]])
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
            UserWarning,
            stacklevel=2,
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    grid_axes = tensor_list("meshgrid", tensors)  # type: ignore[arg-type]
    for t in grid_axes:
        if t.dtype is not grid_axes[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        if t.device != grid_axes[0].device:
            raise RuntimeError(
                f"meshgrid expects all tensors to have the same device, but found {grid_axes[0].device} and {t.device}"
            )
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t.ndim}D")
    flat = [t.reshape(-1) for t in grid_axes]
    swap = indexing == "xy" and len(flat) >= 2
    if swap:
        flat[0], flat[1] = flat[1], flat[0]
    shape = [t.shape[0] for t in flat]
    grids = []
    for i, t in enumerate(flat):
        view = [1] * len(flat)
        view[i] = shape[i]
        grids.append(t.reshape(view).expand(shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def unfold(self, dimension, size, step):
    """All windows of length ``size`` with stride ``step`` along ``dimension``, as a new last dimension.

    The result is a view of ``self`` (its windows overlap when ``step < size``).

    Args:
        dimension (int): the dimension to take windows along.
        size (int): the length of each window.
        step (int): the distance between the starts of consecutive windows.

    Example::

        >>> ember.arange(1.0, 7.0).unfold(0, 2, 2)
        tensor([[1., 2.],
                [3., 4.],
                [5., 6.]])
        >>> ember.arange(5).unfold(0, 3, 1)
        tensor([[0, 1, 2],
                [1, 2, 3],
                [2, 3, 4]])
    """
    axis = wrap_dim(dimension, self.ndim)
    n = self.shape[axis] if self.ndim else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {axis} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if self.ndim == 0:
        return self.reshape(1)
    count = (n - size) // step + 1
    strides, offset = self._backend.layout(self._data)
    shape = list(self.shape)
    shape[axis] = count
    window_strides = list(strides)
    window_strides[axis] = strides[axis] * step
    try:  # a view, as in PyTorch, where the backend has strided views
        windows = as_strided(self, shape + [size], window_strides + [strides[axis]], offset)
    except NotImplementedError:
        index = (arange(count, device=self._device) * step).unsqueeze(-1) + arange(size, device=self._device)
        picked = self.index_select(axis, index.reshape(-1))
        shape = list(self.shape)
        shape[axis : axis + 1] = [count, size]
        windows = movedim(picked.reshape(shape), axis + 1, -1)
    return named_node(windows, "UnfoldBackward0")  # PyTorch's node of the view


def sum_to_size(self, *sizes, size=None):
    """Sum this tensor down to ``size`` (which must expand to this tensor's shape).

    Args:
        *sizes (int): the target shape.
        size (tuple of ints, optional): the target shape, as a keyword instead of ``*sizes``.

    Example::

        >>> x = ember.ones(2, 3)
        >>> x.sum_to_size(1, 3)
        tensor([[2., 2., 2.]])
        >>> x.sum_to_size(2, 1)
        tensor([[3.],
                [3.]])
    """
    if size is not None:
        sizes = _sizes_or_keyword("sum_to_size", "size", sizes, size)
    size = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)) else tuple(sizes)
    shape = tuple(self.shape)
    ok = len(size) <= len(shape) and all(s == t or s == 1 for s, t in zip(size[::-1], shape[::-1]))
    if not ok:
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    if not size:  # a full sum, as PyTorch (a 0-d integer or bool becomes int64)
        return self.sum()
    return sum_to(self, size)


def index_put(
    input: Tensor,
    indices: Sequence[Tensor | None] | tuple[Tensor | None, ...],
    values: Tensor,
    accumulate: bool = False,
) -> Tensor:
    """A copy of ``input`` with ``input[indices] = values`` (``+=`` with ``accumulate``, summing repeats).

    Args:
        input (Tensor): the input.
        indices (tuple of Tensor): one index tensor per leading dimension.
        values (Tensor): broadcast to the indexed shape.
        accumulate (bool): add instead of overwrite. Default: ``False``

    Example::

        >>> x = ember.zeros(3)
        >>> ember.index_put(x, (ember.tensor([0, 2]),), ember.tensor([1.0, 2.0]))
        tensor([1., 0., 2.])
        >>> ember.index_put(x, (ember.tensor([1, 1]),), ember.tensor(1.0), accumulate=True)
        tensor([0., 2., 0.])
    """
    refuse_limited("index_put", input, among=UNSIGNED_WIDE)
    key = tuple(indices)
    for position, index in enumerate(key):  # tensors only: a None is no full slice here, as in PyTorch
        if not isinstance(index, Tensor):
            raise TypeError(
                f"index_put(): expected Tensor as element {position} in argument 'indices', but got "
                f"{type(index).__name__}"
            )
        if index.dtype.is_floating_point or index.dtype.is_complex:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    check_index_put_dtype(input, key, values, accumulate=accumulate)
    if not accumulate:
        out = input.clone()
        out[key] = values
        return out
    if (
        input.is_meta
        and not values.requires_grad
        and any(isinstance(k, Tensor) and k.dtype is dtypes.bool for k in key)
    ):
        # how many elements a meta mask selects is unknown: nothing to add, as in torch (whose gradient in
        # the values needs the count: it raises, and so does the path below)
        return input.clone()
    native, advanced, _ = _native_key(input, key)
    target = tuple(input.detach()[key].shape)
    values = values.to(input.dtype).expand(target)
    return named_node(input + _IndexAccumulate.apply(values, input.shape, native, advanced), "IndexPutBackward0")


@tensor_input
def is_complex(input: Tensor) -> bool:
    """Whether ``input`` has a complex dtype (``complex64`` or ``complex128``).

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> ember.is_complex(ember.tensor([1.0, 2.0]))
        False
        >>> ember.is_complex(ember.tensor([1j]))
        True
    """
    return input.dtype.is_complex


# -- docstrings of the generated shape-changing in-place methods: name -> (tensor, call arguments, new shape)
_GENERATED_DOCS = {
    "squeeze": ("ember.zeros(2, 1, 3)", "1", "ember.Size([2, 3])"),
    "unsqueeze": ("ember.zeros(2, 3)", "0", "ember.Size([1, 2, 3])"),
    "t": ("ember.zeros(2, 3)", "", "ember.Size([3, 2])"),
    "transpose": ("ember.zeros(2, 3, 4)", "0, 2", "ember.Size([4, 3, 2])"),
    "swapaxes": ("ember.zeros(2, 3, 4)", "1, 2", "ember.Size([2, 4, 3])"),
    "swapdims": ("ember.zeros(2, 3, 4)", "0, 1", "ember.Size([3, 2, 4])"),
}


def _generated_doc(name):
    """The docstring of the in-place variant of ``name``, with an example from ``_GENERATED_DOCS``."""
    make, args, shape = _GENERATED_DOCS[name]
    return (
        f"In-place version of :meth:`~Tensor.{name}`: this tensor takes the new shape and is returned.\n\n"
        f"Takes the arguments of :meth:`~Tensor.{name}` after ``input``, which is this tensor.\n\n"
        f"Example::\n\n    >>> x = {make}\n    >>> x.{name}_({args}) is x\n    True\n    >>> x.shape\n    {shape}\n"
    )


#: PyTorch's names of the nodes of the in-place shape ops, by the names of their out-of-place twins' nodes
_IN_PLACE_NODE_NAMES = {
    "TBackward0": "TBackward1",
    "TransposeBackward0": "TransposeBackward1",
    "UnsqueezeBackward0": "UnsqueezeBackward1",
    "SqueezeBackward0": "SqueezeBackward3",
    "SqueezeBackward1": "SqueezeBackward4",
    "SqueezeBackward2": "SqueezeBackward5",
}
_in_place_node_classes: dict[type, type] = {}


def _named_in_place(node):
    """``node``, of an out-of-place shape op, as the node of its in-place twin: the same node, of a subclass
    named as PyTorch names the in-place op's ("TransposeBackward0" -> "TransposeBackward1")."""
    cls = type(node)
    twin = _in_place_node_classes.get(cls)
    if twin is None:
        name = _IN_PLACE_NODE_NAMES.get(cls.__name__)
        if name is None:
            return node
        twin = _in_place_node_classes[cls] = type(name, (cls,), {"__slots__": (), "_name": name})
    node.__class__ = twin
    return node


def _shape_inplace(name):
    out_of_place = getattr(Tensor, name)

    def method(self, *args, **kwargs):
        base = self._base
        if grad_state.enabled and self._requires_grad:
            check_inplace(self)
            if base is not None:  # PyTorch's refusals of an in-place op on a view
                check_view_writable(self)
                check_view_of_leaf_writable(base)
        result = out_of_place(self, *args, **kwargs)
        node = result.grad_fn  # read before the write below, which would make the view read its history anew
        self._data = result._data
        self._version_counter.value += 1  # an in-place op, as in PyTorch: saved tensors see the change
        replay = self._view_replay
        if base is None:
            mark_reshaped_in_place(self)  # the views made of it so far expect its old layout
        elif replay is not None:  # the view now is the shape op applied to the view it was
            self._view_replay = lambda base: out_of_place(replay(base), *args, **kwargs)
            self._view_version = self._version_counter.value
        if node is not None and result is not self:  # a new node, made for this call
            self._set_grad_fn(_named_in_place(node), result._output_nr)
        if autograd_function.tangent_rule is not None:
            tangents.take_tangent(self, result)
        return self

    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = _generated_doc(name)
    return method
