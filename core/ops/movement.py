"""Shape and layout: view/reshape, permute, transpose, squeeze, expand, repeat, flip, cat, split, ..."""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import dtypes
from ..amp.policy import cast_inputs
from ..amp.state import state as _amp
from ..amp.state import suspended as _amp_suspended
from ..autograd import function as autograd_function
from ..autograd.function import Function
from ..autograd.view_history import MULTI_OUTPUT_VIEW
from ..dim_errors import called_op
from ..layout import (
    check_memory_format,
    contiguous_format,
    format_order,
    format_strides,
    may_keep_other_strides,
    preserve_format,
    suggest_memory_format,
)
from ..strides import dense_order, expand_strides, is_ordered, ordered_strides, view_strides
from ..tensor import Size, Tensor, size_arg, writable_data
from ..type_names import type_name
from ..unstrided import is_strided
from .dtype_support import TORCH_NAMES, not_implemented
from .dtype_views import view_dtype
from .operands import (
    check_same_device,
    dim_or_axis,
    int_arg,
    int_list,
    invalid_combination,
    is_index,
    named_node,
    normalize_dims,
    numpy_names,
    raise_broadcast_error,
    renamed,
    sum_to,
    tensor_input,
    tensor_input_checked,
    wrap_dim,
)
from .out_argument import write_out
from .overlap import check_no_overlap

if TYPE_CHECKING:
    from ..types import _size as _size_t

__all__ = [
    "reshape", "view", "permute", "transpose", "swapaxes", "swapdims", "t", "squeeze", "unsqueeze",
    "expand", "expand_as", "broadcast_to", "repeat", "flatten", "unflatten", "flip", "cat", "concat",
    "concatenate", "stack", "split", "chunk", "narrow", "unbind", "movedim", "contiguous", "view_as",
    "reshape_as", "broadcast_tensors", "tile", "roll", "hstack", "vstack",
]  # fmt: skip


def _sizes_or_keyword(op, name, sizes, keyword):
    """The sizes given to ``op`` as ints or one sequence, or else as the keyword ``name`` (``reshape(x, shape=(2, 3))``),
    which PyTorch takes as a tuple only and never together with positional sizes."""
    if sizes:
        raise TypeError(f"{op}() got multiple values for argument '{name}'")
    if isinstance(keyword, str) or not isinstance(keyword, Sequence):
        raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, not {type_name(keyword)}")
    return (keyword,)


#: the name PyTorch's argument parser gives the ``int[]`` argument of each op that takes its sizes as varargs
_SIZES_NAMES = {"reshape": "shape", "flip": "dims", "permute": "dims", "repeat": "repeats", "tile": "dims"}


def _shape_arg(shape, op="reshape", position=1):
    """``shape``, the sizes given to ``op`` as ints or as one sequence (``x.reshape(2, 3)``, ``x.reshape((2, 3))``),
    as a tuple of ints; ``position``: the argument's 1-based position in PyTorch's parser (2 for a function, 1 for
    a method; None for a keyword), which its TypeError names."""
    for s in shape:  # the common cases first: sizes given as plain ints ...
        if type(s) is not int:
            break
    else:
        return tuple(shape)
    if len(shape) == 1 and (type(shape[0]) is tuple or type(shape[0]) is list or type(shape[0]) is Size):
        for s in shape[0]:  # ... or as one tuple, list or Size of them
            if type(s) is not int:
                break
        else:
            return tuple(shape[0])
    return _checked_shape(op, shape, position)


def _sequence_arg(op, value):
    """``value``, the sizes that the function form of ``op`` takes as one argument (``reshape``'s ``shape``,
    ``permute``'s and ``tile``'s ``dims``), as a tuple of ints: PyTorch's TypeError for anything but a tuple or
    list ("reshape(): argument 'shape' (position 2) must be tuple of ints, not int"); its methods take
    separate ints too (:func:`_shape_arg`)."""
    if not isinstance(value, (tuple, list)):  # (a Size is a tuple)
        int_list(op, _SIZES_NAMES[op], value, position=2)  # raises PyTorch's TypeError
    return _shape_arg((value,), op, 2)


def _checked_shape(op, shape, position):
    """:func:`_shape_arg` beyond ints: 0-d integer tensors and NumPy integers count as ints; anything else gets the
    TypeError of PyTorch's argument parser, naming the op's argument (``reshape``'s ``shape``, ``permute``'s
    ``dims``, ``repeat``'s ``repeats``): "must be tuple of ints, not str", "... but found element of type str at
    pos 0", "failed to unpack the object at pos 2 ...", or, for varargs not starting with an int, Python's count
    of positional arguments (``view`` lists its overloads)."""
    name = _SIZES_NAMES.get(op, "size")
    single = len(shape) == 1 and not isinstance(shape[0], numbers.Integral) and getattr(shape[0], "ndim", None) != 0
    if op == "view" and (
        (single and (isinstance(shape[0], str) or not hasattr(shape[0], "__iter__")))
        or (single and shape[0] and not is_index(next(iter(shape[0]))))
        or (not single and not is_index(shape[0]))
    ):
        raise invalid_combination("view", shape, {}, ("torch.dtype dtype", "tuple of ints size"))
    if not single:  # the sizes as varargs: PyTorch reads them as one tuple where the first is an int
        if not is_index(shape[0]):
            plural = "s" if position and position > 1 else ""
            raise TypeError(
                f"{op}() takes {position or 1} positional argument{plural} but {len(shape) + (position or 1) - 1} "
                "were given"
            )
        return int_list(op, name, list(shape))
    whole = shape[0]
    if isinstance(whole, (tuple, list)):
        return int_list(op, name, list(whole), position=position)
    if isinstance(whole, str) or not hasattr(whole, "__iter__"):  # a float, None, a str
        at = "" if position is None else f" (position {position})"
        raise TypeError(f"{op}(): argument '{name}'{at} must be tuple of ints, not {type_name(whole)}")
    return tuple(size_arg(op, s, i) for i, s in enumerate(whole))


def _infer_shape(op, shape, numel):
    unknown = None
    known = 1
    for i, s in enumerate(shape):
        if s == -1:
            if unknown is not None:
                raise RuntimeError("only one dimension can be inferred")
            unknown = i
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if unknown is not None:
        if known == 0 and numel == 0:
            raise RuntimeError(
                f"cannot reshape tensor of 0 elements into shape {list(shape)} because the unspecified "
                "dimension size -1 can be any value and is ambiguous"
            )
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = list(shape)
        shape[unknown] = numel // known
        return tuple(shape)
    if known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _strided_view(x, shape, new=None):
    """``x``'s data seen in ``shape`` without a copy, or None where the strides do not allow it (or
    the backend makes no strided views); ``new``: the strides of that view where the caller has them."""
    data, backend = writable_data(x), x._backend
    if new is None and backend.is_contiguous(data):
        return backend.xp.reshape(data, shape)
    strides, offset = backend.layout(data)
    if new is None:
        new = view_strides(tuple(data.shape), tuple(strides), tuple(shape))
    if new is None:
        return None
    try:
        return backend.as_strided(data, tuple(shape), new, offset)
    except NotImplementedError:
        return None


class _View(Function):
    """``x`` in a new ``shape``: ``data``, the view the strides allow, or a copy where they allow none (None)."""

    @staticmethod
    def forward(ctx, x, shape, data):
        ctx.shape = x._data.shape
        if data is None:
            return x._make(x._backend.xp.reshape(x._data, shape))
        return x._view_of(data, lambda base: base.reshape(shape))

    #: the name PyTorch gives the node of the gradient (its backward's op, recorded under ``create_graph``)
    #: where that op is not a view (ViewBackward0): the squeeze of an unsqueeze's backward, and the reverse (a
    #: squeeze that removed no dimension passes the gradient on as it is, as PyTorch's)
    _gradient_name: str | None = None

    @staticmethod
    def backward(ctx, grad):
        name = ctx._function._gradient_name
        if name is not None and tuple(grad.shape) == tuple(ctx.shape):
            return grad, None, None
        gx = grad.reshape(ctx.shape)
        return (gx if name is None else named_node(gx, name)), None, None

    @staticmethod
    def _native_backward(ctx, grad):
        # backward's reshape without its node: a view where the strides allow one (reshape's), else a copy
        shape = ctx.shape
        if shape == grad._data.shape:
            return grad._view_of(writable_data(grad), lambda base: base.reshape(shape)), None, None
        data = _strided_view(grad, shape)
        if data is None:
            return grad._backend.xp.reshape(grad._data, shape), None, None
        return grad._view_of(data, lambda base: base.reshape(shape)), None, None

    @staticmethod
    def retarget(args):
        """The arguments that make the same view of another tensor ``args[0]`` (forward mode applies
        a view op to the input's tangent): ``data`` is the view of that tensor's own storage."""
        x, shape, _ = args
        return x, shape, _strided_view(x, shape)


# the nodes of the ops that are views in a new shape, named as PyTorch's
class _UnsafeView(_View):
    """A reshape that copies (PyTorch's clone then ``_unsafe_view``): not a view, writes to it stay in it."""


class _ResultView(_View):
    """PyTorch's ``_unsafe_view`` of an op's fresh result (``matmul``'s product back in the batch dimensions):
    the same memory in a new shape, but no view for autograd (no one else holds the result), so that an
    in-place op on it is recorded as on any tensor."""

    _backward_name = "UnsafeViewBackward0"

    @staticmethod
    def forward(ctx, x, shape, data):
        ctx.shape = x._data.shape
        return x._make(x._backend.xp.reshape(x._data, shape))


class _Squeeze(_View):
    """``squeeze()``: every dimension of size 1."""

    _gradient_name = "UnsqueezeBackward0"


class _SqueezeDim(_View):
    """``squeeze(dim)``."""

    _backward_name = "SqueezeBackward1"
    _gradient_name = "UnsqueezeBackward0"


class _SqueezeDims(_View):
    """``squeeze(dims)``, a tuple."""

    _backward_name = "SqueezeBackward2"
    _gradient_name = "UnsqueezeBackward0"


class _Unsqueeze(_View):
    """``unsqueeze(dim)``: a new dimension of size 1."""

    _gradient_name = "SqueezeBackward1"


class _TVector(_View):
    """``t()`` of a tensor of at most one dimension: itself, as a new view."""

    _backward_name = "TBackward0"


@tensor_input
def reshape(input: Tensor, shape: _size_t) -> Tensor:
    """The same elements in a new shape (a view when the layout allows); one size may be -1.

    The shape is one argument (:meth:`Tensor.reshape` also takes it as separate ints).

    Args:
        input (Tensor): the input tensor.
        shape (tuple of ints): the new shape; one size may be -1 (inferred).

    Example::

        >>> x = ember.arange(6)
        >>> ember.reshape(x, (2, 3))
        tensor([[0, 1, 2],
                [3, 4, 5]])
        >>> x.reshape(-1, 2)
        tensor([[0, 1],
                [2, 3],
                [4, 5]])
    """
    return _reshape(input, _infer_shape("reshape", _sequence_arg("reshape", shape), input.numel()))


def tensor_reshape(self: Tensor, *sizes: int | _size_t, shape: _size_t | None = None) -> Tensor:
    """``Tensor.reshape(*sizes)``: as :func:`reshape`; a TypeError gives the argument's position as a method's.

    Example::

        >>> ember.arange(6).reshape(2, 3).shape
        ember.Size([2, 3])
    """
    position: int | None = 1
    if shape is not None:
        sizes, position = _sizes_or_keyword("reshape", "shape", sizes, shape), None
    return _reshape(self, _infer_shape("reshape", _shape_arg(sizes, "reshape", position), self.numel()))


def _reshape(
    input: Tensor, shape: tuple[int, ...], strides: tuple[int, ...] | None = None, node: type[_View] | None = None
) -> Tensor:
    """:func:`reshape` to the checked ``shape``; ``strides``: those of the view where the caller has them;
    ``node``: the op's node class (default: a view's, or a copy's where the strides allow no view)."""
    # a view without a node where no graph records it and no tangent follows it (forward mode)
    if shape == input._data.shape and not input._requires_grad and autograd_function.tangent_rule is None:
        return input._view_of(writable_data(input), lambda base: base.reshape(shape))
    data = _strided_view(input, shape, strides)
    if node is None:
        node = _UnsafeView if data is None else _View
    return node.apply(input, shape, data)


def _unsafe_view(result: Tensor, shape: tuple[int, ...]) -> Tensor:
    """``result``, a contiguous tensor an op has just made, seen in ``shape``, as PyTorch's ``_unsafe_view``."""
    return _reshape(result, shape, node=_ResultView)


def view(
    input: Tensor, *shape: int | _size_t | dtypes.dtype, size: _size_t | None = None, dtype: dtypes.dtype | None = None
) -> Tensor:
    """The same storage seen in a new shape, or as another dtype; raises where the strides do not allow a view.

    Unlike :func:`reshape`, ``view`` never copies: writes through the result reach ``input``.
    ``view(dtype)`` reads the same bytes as ``dtype`` (see :func:`ember.ops.dtype_views.view_dtype`).

    Args:
        input (Tensor): the input tensor.
        *shape (int or ember.dtype): the new shape, one size may be -1 (inferred); or a dtype.
        size (tuple of ints, optional): the new shape, as a keyword instead of ``*shape``.
        dtype (ember.dtype, optional): the dtype to read the memory as, instead of a shape.

    Example::

        >>> x = ember.arange(6)
        >>> y = ember.view(x, 2, 3)
        >>> y[0, 0] = 100
        >>> x
        tensor([100,   1,   2,   3,   4,   5])
        >>> ember.tensor([1.0]).view(ember.int32)
        tensor([1065353216], dtype=ember.int32)
    """
    if size is not None:
        shape = _sizes_or_keyword("view", "size", shape, size)
    if dtype is not None:
        if shape:
            raise TypeError("view() takes either a shape or a dtype, not both")
        return view_dtype(input, dtype)
    if len(shape) == 1 and isinstance(shape[0], dtypes.dtype):
        return view_dtype(input, shape[0])
    new_shape: tuple[int, ...] = _infer_shape("view", _shape_arg(shape, "view"), input.numel())
    data, backend = writable_data(input), input._backend
    strides = None
    if not backend.is_contiguous(data):
        strides = view_strides(tuple(data.shape), tuple(backend.strides(data)), new_shape)
        if strides is None:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one dimension "
                "spans across two contiguous subspaces). Use .reshape(...) instead."
            )
    return _reshape(input, new_shape, strides)


class _Permute(Function):
    @staticmethod
    def permuted(x, dims):
        """The view of ``x`` with its dimensions in the order ``dims`` (a tuple), without a node."""
        return x._view_of(x._backend.xp.permute_dims(writable_data(x), dims), lambda base: base.permute(dims))

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return _Permute.permuted(x, dims)

    @staticmethod
    def inverse(dims):
        """The order that undoes the order ``dims``."""
        inverse = [0] * len(dims)
        for i, d in enumerate(dims):
            inverse[d] = i
        return tuple(inverse)

    @staticmethod
    def backward(ctx, grad):
        return grad.permute(_Permute.inverse(ctx.dims)), None

    @staticmethod
    def _native_backward(ctx, grad):
        # the view backward's permute gives (transpose's and t()'s orders are their own inverses)
        return _Permute.permuted(grad, _Permute.inverse(ctx.dims)), None


class _Transpose(_Permute):
    """``transpose(dim0, dim1)``: two dimensions swapped; its gradient is the gradient's ``transpose`` (PyTorch's
    formula, which a tensor subclass's handler sees)."""

    @staticmethod
    def backward(ctx, grad):
        swapped = [i for i, d in enumerate(ctx.dims) if i != d] or (0, 0)
        return grad.transpose(*swapped), None


class _T(_Permute):
    """``t()`` of a matrix; its gradient is the gradient's ``t()``."""

    @staticmethod
    def backward(ctx, grad):
        return grad.t(), None


@tensor_input
def permute(input: Tensor, dims: _size_t) -> Tensor:
    """Reorder dimensions: output dimension ``i`` is input dimension ``dims[i]`` (a view).

    The order is one argument (:meth:`Tensor.permute` also takes it as separate ints).

    Args:
        input (Tensor): the input tensor.
        dims (tuple of ints): the new order of the dimensions.

    Example::

        >>> ember.permute(ember.zeros(2, 3, 4), (2, 0, 1)).shape
        ember.Size([4, 2, 3])
    """
    order = _sequence_arg("permute", dims)
    if type(input) is not Tensor and getattr(input, "is_sparse", False):
        return input.permute(*order)  # a sparse COO tensor's own
    return _permute(input, order)


def tensor_permute(self: Tensor, *order: int | _size_t, dims: _size_t | None = None) -> Tensor:
    """``Tensor.permute(*order)``: as :func:`permute`; a TypeError gives the argument's position as a method's.

    Example::

        >>> ember.zeros(2, 3).permute(1, 0).shape
        ember.Size([3, 2])
    """
    position: int | None = 1
    if dims is not None:
        order, position = _sizes_or_keyword("permute", "dims", order, dims), None
    if type(self) is not Tensor and getattr(self, "is_sparse", False):
        return self.permute(*order)  # a sparse COO tensor's own
    return _permute(self, _shape_arg(order, "permute", position))


def _permute(input: Tensor, dims: tuple[int, ...]) -> Tensor:
    """:func:`permute` to the order ``dims``, a tuple of ints."""
    if len(dims) != input.ndim:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {input.ndim} is not "
            f"equal to len(dims) = {len(dims)}"
        )
    dims = tuple(wrap_dim(d, input.ndim) for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _Permute.apply(input, dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swaps dimensions ``dim0`` and ``dim1`` of ``input``; the result is a view.

    Args:
        input (Tensor): the input tensor.
        dim0 (int): the first dimension.
        dim1 (int): the second dimension.

    Example::

        >>> x = ember.tensor([[1, 2, 3], [4, 5, 6]])
        >>> ember.transpose(x, 0, 1)
        tensor([[1, 4],
                [2, 5],
                [3, 6]])
        >>> ember.swapaxes(ember.zeros(2, 3, 4), 0, 2).shape
        ember.Size([4, 3, 2])
    """
    if type(dim0) is not int or type(dim1) is not int:
        dim0, dim1 = int_arg("transpose", "dim0", dim0, 2), int_arg("transpose", "dim1", dim1, 3)
    n = len(input._data.shape)
    a, b = wrap_dim(dim0, n), wrap_dim(dim1, n)
    if n == 0:
        return input.reshape(())
    dims = list(range(n))
    dims[a], dims[b] = dims[b], dims[a]
    return _Transpose.apply(input, tuple(dims))


def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Another name of :func:`transpose`: dimensions ``dim0`` and ``dim1`` swapped (a view).

    Example::

        >>> ember.swapdims(ember.zeros(2, 3, 4), 0, 2).shape
        ember.Size([4, 3, 2])
    """
    if type(dim0) is not int or type(dim1) is not int:
        dim0, dim1 = int_arg("swapdims", "dim0", dim0, 2), int_arg("swapdims", "dim1", dim1, 3)
    return transpose(input, dim0, dim1)


def tensor_transpose(self: Tensor, dim0: int, dim1: int) -> Tensor:
    """``Tensor.transpose(dim0, dim1)``: as :func:`transpose`; a TypeError gives the argument's position as a
    method's.

    Example::

        >>> ember.zeros(2, 3).transpose(0, 1).shape
        ember.Size([3, 2])
    """
    if type(dim0) is not int or type(dim1) is not int:
        dim0, dim1 = int_arg("transpose", "dim0", dim0, 1), int_arg("transpose", "dim1", dim1, 2)
    # :func:`transpose`'s body, not a call of it: the method is on hot paths (a frame costs it 5%)
    n = len(self._data.shape)
    a, b = wrap_dim(dim0, n), wrap_dim(dim1, n)
    if n == 0:
        return self.reshape(())
    dims = list(range(n))
    dims[a], dims[b] = dims[b], dims[a]
    return _Transpose.apply(self, tuple(dims))


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    """NumPy's name for :func:`transpose`, with NumPy's argument names: ``axis0`` and ``axis1`` swapped (a view).

    Example::

        >>> ember.swapaxes(ember.zeros(2, 3, 4), axis0=0, axis1=2).shape
        ember.Size([4, 3, 2])
    """
    if type(axis0) is not int or type(axis1) is not int:
        axis0, axis1 = int_arg("swapaxes", "axis0", axis0, 2), int_arg("swapaxes", "axis1", axis1, 3)
    return transpose(input, axis0, axis1)


@tensor_input
def t(input: Tensor) -> Tensor:
    """Transposes a tensor of at most 2 dimensions (0-D and 1-D tensors are returned as they are).

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> x = ember.tensor([[1, 2, 3], [4, 5, 6]])
        >>> ember.t(x)
        tensor([[1, 4],
                [2, 5],
                [3, 6]])
    """
    n = len(input._data.shape)
    if n > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {n}D")
    return _T.apply(input, (1, 0)) if n == 2 else _reshape(input, tuple(input.shape), node=_TVector)


@tensor_input
def squeeze(
    input: Tensor, dim: int | Sequence[int] | None = None, *, axis: int | Sequence[int] | None = None
) -> Tensor:
    """Remove dimensions of size 1 (only ``dim`` when given).

    Args:
        input (Tensor): the input tensor.
        dim (int or tuple of ints, optional): the dimensions to remove (left alone when their size is not 1); all size-1
            dimensions when ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.

    Example::

        >>> x = ember.zeros(2, 1, 3, 1)
        >>> ember.squeeze(x).shape
        ember.Size([2, 3])
        >>> ember.squeeze(x, 1).shape
        ember.Size([2, 3, 1])
    """
    if axis is not None:
        dim, _ = numpy_names("squeeze", dim, None, axis, False, None)
    shape = input.shape
    node: type[_Squeeze] | type[_SqueezeDim] | type[_SqueezeDims]
    if dim is None:
        axes, new, node = None, tuple(s for s in shape if s != 1), _Squeeze
    else:
        axes = set(normalize_dims(dim, input.ndim))  # a dim named twice is refused, as in PyTorch
        new = tuple(s for i, s in enumerate(shape) if not (i in axes and s == 1))
        node = _SqueezeDim if isinstance(dim, int) else _SqueezeDims
    strides = None
    if 0 in shape:  # the remaining dimensions keep their strides (a view of an empty tensor gets row-major ones)
        strides = tuple(
            st for i, (s, st) in enumerate(zip(shape, input.stride())) if s != 1 or (axes is not None and i not in axes)
        )
    return _reshape(input, new, strides, node=node)


def unsqueeze(input: Tensor, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """Insert a dimension of size 1 at ``dim``.

    Args:
        input (Tensor): the input tensor.
        dim (int): the position of the new dimension.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.

    Example::

        >>> x = ember.tensor([1, 2, 3])
        >>> ember.unsqueeze(x, 0)
        tensor([[1, 2, 3]])
        >>> ember.unsqueeze(x, 1)
        tensor([[1],
                [2],
                [3]])
    """
    if axis is not None or dim is None:
        dim, _ = numpy_names("unsqueeze", dim, None, axis, False, None, required=True)
    if type(input) is not Tensor and getattr(input, "is_sparse", False):
        return input.unsqueeze(dim)  # a sparse COO tensor's own
    axis = wrap_dim(dim, input.ndim + 1)
    shape = list(input.shape)
    shape.insert(axis, 1)
    strides: tuple[int, ...] | None = None
    data, backend = writable_data(input), input._backend
    if 0 in shape or not backend.is_row_major(data):
        # PyTorch's strides: the new dimension steps over the one it is put before (a reshape steps row-major,
        # which differs for the views of an empty tensor, strided ones and a size-1 dimension stepping otherwise)
        old = backend.strides(data)
        strides = old[:axis] + (shape[axis + 1] * old[axis] if axis < input.ndim else 1,) + old[axis:]
    return _reshape(input, tuple(shape), strides, node=_Unsqueeze)


class _Expand(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x._data.shape
        return x._view_of(expanded_native(x._backend, writable_data(x), shape), lambda base: base.expand(shape))

    @staticmethod
    def backward(ctx, grad):
        return sum_to(grad, ctx.shape), None


def expanded_native(backend, data, shape):
    """The native ``data`` (viewable, see :func:`~ember.tensor.writable_data`) broadcast to ``shape``, laid out
    as PyTorch's ``expand`` lays it out: the backend's ``broadcast_to``, except where ``shape`` has a dimension
    of size 1 or 0, at which the array API's ``broadcast_to`` may step 0 (NumPy does) where PyTorch's strides
    differ (NumPy's new empty array has zeroed strides, read as row-major ones)."""
    if 1 in shape or 0 in shape:
        return _expanded_as_pytorch(backend, data, shape)
    return backend.xp.broadcast_to(data, shape)


def _expanded_as_pytorch(backend, data, shape):
    """``data`` broadcast to ``shape`` with the strides of PyTorch's expand
    (:func:`~ember.strides.expand_strides`: a size-1 dimension, kept or new, steps as in a dense layout, not 0),
    made as one strided view of the storage; the backend's ``broadcast_to`` where it makes no strided views."""
    strides, offset = backend.layout(data)
    try:
        return backend.as_strided(data, shape, expand_strides(tuple(data.shape), tuple(strides), shape), offset)
    except NotImplementedError:
        return backend.xp.broadcast_to(data, shape)


def expand(input: Tensor, *sizes: int | _size_t, size: _size_t | None = None) -> Tensor:
    """Broadcast to a larger shape without copying; -1 keeps a dimension.

    Args:
        input (Tensor): the input tensor.
        *sizes (int): the new shape; -1 keeps a dimension's size, and new leading dimensions may be added.
        size (tuple of ints, optional): the new shape, as a keyword instead of ``*sizes``.

    Example::

        >>> x = ember.tensor([[1], [2]])
        >>> ember.expand(x, 2, 3)
        tensor([[1, 1, 1],
                [2, 2, 2]])
        >>> x.expand(-1, 4).shape
        ember.Size([2, 4])
    """
    if size is not None:
        sizes = _sizes_or_keyword("expand", "size", sizes, size)
    sizes = _shape_arg(sizes, "expand")
    current_shape = input._data.shape
    if len(sizes) < len(current_shape):
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the "
            f"number of dimensions in the tensor ({input.ndim})"
        )
    lead = len(sizes) - len(current_shape)
    shape = []
    for i, s in enumerate(sizes):
        current = current_shape[i - lead] if i >= lead else None
        if s == -1:
            if current is None:
                raise RuntimeError(
                    f"The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension {i}"
                )
            s = current
        elif current is not None and current != 1 and current != s:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({current}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(input.shape)}"
            )
        elif s < 0:  # type: ignore[operator]  # PyTorch's expand computes the element count first
            raise RuntimeError("numel: integer multiplication overflow")
        shape.append(s)
    shape = tuple(shape)  # type: ignore[assignment]
    if shape == current_shape:
        return input.reshape(shape)  # type: ignore[arg-type]
    return _Expand.apply(input, shape)


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    """``input`` broadcast to the shape of ``other`` without copying, as ``input.expand(other.size())``.

    Args:
        input (Tensor): the input tensor.
        other (Tensor): the tensor whose shape to take.

    Example::

        >>> ember.expand_as(ember.tensor([1, 2]), ember.zeros(3, 2))
        tensor([[1, 2],
                [1, 2],
                [1, 2]])
    """
    return expand(input, other.shape)


def broadcast_to(input: Tensor, size: _size_t) -> Tensor:
    """``input`` broadcast to ``size`` without copying, as ``input.expand(size)``.

    Args:
        input (Tensor): the input tensor.
        size (list or tuple of ints): the new shape; -1 keeps a dimension's size.

    Example::

        >>> ember.broadcast_to(ember.tensor([1, 2, 3]), (2, 3))
        tensor([[1, 2, 3],
                [1, 2, 3]])
    """
    return expand(input, tuple(size))


def _broadcast_to_method(input: Tensor, *sizes: int | _size_t, size: _size_t | None = None) -> Tensor:
    """``Tensor.broadcast_to``: the sizes as ints or one sequence (``x.broadcast_to(2, 3)``), or the keyword
    ``size``, as PyTorch's method takes them (:func:`broadcast_to` takes one sequence).

    Example::

        >>> ember.tensor([1, 2, 3]).broadcast_to(2, 3)
        tensor([[1, 2, 3],
                [1, 2, 3]])
    """
    if size is not None:
        sizes = _sizes_or_keyword("broadcast_to", "size", sizes, size)
    if not sizes:
        raise TypeError('broadcast_to() missing 1 required positional arguments: "size"')
    return expand(input, _shape_arg(sizes, "broadcast_to"))


_broadcast_to_method.__name__ = _broadcast_to_method.__qualname__ = "broadcast_to"  # the method's name, as PyTorch's


def broadcast_shapes(*shapes: int | _size_t | None) -> Size:
    """The shape that all ``shapes`` broadcast to.

    Args:
        *shapes (int, tuple of ints or None): the shapes to broadcast together (``None`` is skipped).

    Raises:
        RuntimeError: two shapes do not broadcast (the message names the first dimension and
            shape that does not fit, as PyTorch's), or a shape is not a sequence of ints.
        ValueError: a dimension of negative length would be broadcast.

    Example::

        >>> ember.broadcast_shapes((2, 1), (1, 3))
        ember.Size([2, 3])
        >>> ember.broadcast_shapes((5, 1, 4), (3, 1))
        ember.Size([5, 3, 4])
    """
    given: list[Sequence[int]] = []
    for shape in shapes:
        if shape is None:
            continue
        if isinstance(shape, numbers.Integral):
            shape = (int(shape),)
        if not isinstance(shape, Sequence):
            raise RuntimeError(f"Input shapes should be of type ints, a tuple of ints, or a list of ints, got {shape}")
        given.append(shape)
    result = [1] * max((len(s) for s in given), default=0)
    for index, shape in enumerate(given):  # PyTorch's order: each shape from its last dimension
        for d in range(-1, -1 - len(shape), -1):
            size = shape[d]
            if size == result[d]:
                continue
            if result[d] == 1:
                if size < 0:
                    raise ValueError("Attempting to broadcast a dimension with negative length!")
                result[d] = size
            if size != 1 and size != result[d]:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {size} at {d}! Mismatching argument at index "
                    f"{index} had {shape}; but expected shape should be broadcastable to {result}"
                )
    return Size(result)


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """Expand all tensors to their common broadcast shape.

    Args:
        *tensors (Tensor): the tensors to broadcast.

    Example::

        >>> a, b = ember.broadcast_tensors(ember.tensor([[1], [2]]), ember.tensor([10, 20, 30]))
        >>> a
        tensor([[1, 1, 1],
                [2, 2, 2]])
        >>> b.shape
        ember.Size([2, 3])
    """
    try:
        shape = broadcast_shapes(*(t.shape for t in tensors))
    except RuntimeError as exc:  # PyTorch's message here is its element-wise ops' (infer_size), not broadcast_shapes'
        raise_broadcast_error(exc, *(tuple(t.shape) for t in tensors))
    # a tensor already of the broadcast shape is returned itself, as PyTorch does (not a view of it)
    return tuple(t if t.shape == shape else t.expand(shape) for t in tensors)


def repeat(input: Tensor, *counts: int | _size_t, repeats: _size_t | None = None) -> Tensor:
    """Tile the tensor ``counts[i]`` times along dimension ``i`` (copies).

    Args:
        input (Tensor): the input tensor.
        *counts (int): the number of copies along each dimension; extra leading counts add dimensions.
        repeats (tuple of ints, optional): the counts, as a keyword instead of ``*counts``.

    Example::

        >>> x = ember.tensor([1, 2])
        >>> ember.repeat(x, 2)
        tensor([1, 2, 1, 2])
        >>> x.repeat(2, 2)
        tensor([[1, 2, 1, 2],
                [1, 2, 1, 2]])
    """
    if repeats is not None:
        counts = _sizes_or_keyword("repeat", "repeats", counts, repeats)
    counts = _shape_arg(counts, "repeat")
    if len(counts) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    shape = (1,) * (len(counts) - input.ndim) + tuple(input.shape)
    x = input.reshape(shape)
    interleaved, target, final = [], [], []
    for r, s in zip(counts, shape):
        interleaved += [1, s]
        target += [r, s]
        final.append(r * s)  # type: ignore[operator]
    for n in final:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {final}")
    out = x.reshape(interleaved).expand(target).reshape(final)  # type: ignore[arg-type]
    # a copy, as in PyTorch: the reshape is a view of ``input`` where nothing was tiled (all counts 1)
    return named_node(out.clone(memory_format=contiguous_format) if out._base is not None else out, "RepeatBackward0")


@tensor_input
def tile(input: Tensor, dims: _size_t) -> Tensor:
    """Like :func:`repeat`, padding ``dims`` with leading ones.

    The copies are one argument (:meth:`Tensor.tile` also takes them as separate ints).

    Args:
        input (Tensor): the input tensor.
        dims (tuple of ints): the number of copies along each dimension.

    Example::

        >>> ember.tile(ember.tensor([1, 2]), (2, 2))
        tensor([[1, 2, 1, 2],
                [1, 2, 1, 2]])
    """
    reps = _sequence_arg("tile", dims)
    if len(reps) < input.ndim:
        reps = (1,) * (input.ndim - len(reps)) + reps
    return repeat(input, reps)


def tensor_tile(self: Tensor, *copies: int | _size_t, dims: _size_t | None = None) -> Tensor:
    """``Tensor.tile(*copies)``: as :func:`tile`, the copies given as one tuple, as several ints or as ``dims=``; a
    TypeError gives the argument's position as a method's.

    Example::

        >>> ember.tensor([1, 2]).tile(2)
        tensor([1, 2, 1, 2])
        >>> ember.tensor([1, 2]).tile(2, 1).shape
        ember.Size([2, 2])
    """
    position: int | None = 1
    if dims is not None:
        copies, position = _sizes_or_keyword("tile", "dims", copies, dims), None
    return tile(self, _shape_arg(copies, "tile", position))


@tensor_input_checked
def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one.

    Args:
        input (Tensor): the input tensor.
        start_dim (int): the first dimension to merge. Default: ``0``.
        end_dim (int): the last dimension to merge. Default: ``-1``.

    Example::

        >>> x = ember.zeros(2, 3, 4)
        >>> ember.flatten(x).shape
        ember.Size([24])
        >>> ember.flatten(x, start_dim=1).shape
        ember.Size([2, 12])
    """
    start, end = wrap_dim(start_dim, input.ndim), wrap_dim(end_dim, input.ndim)
    if input.ndim == 0:
        return input.reshape(1)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:  # nothing to merge: the tensor itself, as in PyTorch
        return input
    shape = input.shape
    merged = 1
    for s in shape[start : end + 1]:
        merged *= s
    return input.reshape(tuple(shape[:start]) + (merged,) + tuple(shape[end + 1 :]))


@tensor_input
@dim_or_axis
def unflatten(input: Tensor, dim: int, sizes: _size_t) -> Tensor:
    """Split dimension ``dim`` into ``sizes``.

    Args:
        input (Tensor): the input tensor.
        dim (int): the dimension to split.
        sizes (tuple of ints): the new sizes; one may be -1.

    Example::

        >>> ember.unflatten(ember.zeros(2, 6), 1, (2, 3)).shape
        ember.Size([2, 2, 3])
    """
    if input.ndim == 0:
        raise RuntimeError(f"unflatten: Dimension specified as {dim} but tensor has no dimensions")
    axis = wrap_dim(dim, input.ndim)
    sizes = int_list("unflatten", "sizes", sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    known = math.prod(n for n in sizes if n != -1)
    if known != input.shape[axis] and (-1 not in sizes or not known or input.shape[axis] % known):
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
            f"({input.shape[axis]}) in the input tensor"
        )
    sizes = _infer_shape("unflatten", sizes, input.shape[axis])
    return input.reshape(tuple(input.shape[:axis]) + sizes + tuple(input.shape[axis + 1 :]))  # type: ignore[operator]


class _Flip(Function):
    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        xp = x._backend.xp
        # the array API's flip is a view (negative strides); PyTorch's flip is a copy laid out as ``x``
        data, backend = x._data, x._backend
        flipped = xp.flip(data, axis=axes)
        if backend.is_contiguous(data) and data.size:  # (an empty array counts as contiguous whatever its strides)
            return x._make(xp.astype(flipped, data.dtype, copy=True))
        order = format_order(tuple(data.shape), tuple(backend.strides(data)), None)
        return x._make(ordered_copy(backend, flipped, data.dtype, order))

    @staticmethod
    def backward(ctx, grad):
        return grad.flip(ctx.axes), None


def flip(input: Tensor, dims: _size_t) -> Tensor:
    """Reverse the order of elements along ``dims``.

    ``Tensor.flip`` also takes the dimensions as separate ints (``x.flip(0, 1)``).

    Args:
        input (Tensor): the input tensor.
        dims (list or tuple of ints): the dimensions to reverse.

    Example::

        >>> x = ember.tensor([[1, 2, 3], [4, 5, 6]])
        >>> ember.flip(x, (0,))
        tensor([[4, 5, 6],
                [1, 2, 3]])
        >>> ember.flip(x, (0, 1))
        tensor([[6, 5, 4],
                [3, 2, 1]])
    """
    axes = [wrap_dim(d, input.ndim) for d in int_list("flip", "dims", dims, position=2)]
    for axis in axes:
        if axes.count(axis) > 1:
            raise RuntimeError(f"flip(): dim {axis} appears multiple times in the list of dims")
    if input.dtype in dtypes.limited_dtypes:
        # PyTorch copies a flip of the outer dimensions for every type; only its kernel that reverses
        # the innermost dimension (the last one longer than 1) refuses uint16/32/64 and float8
        innermost = max((d for d, n in enumerate(input.shape) if n > 1), default=None)
        if innermost in axes:
            not_implemented("flip_cpu", input.dtype)
    if not axes or input.ndim == 0:
        return input.clone()
    return _Flip.apply(input, tuple(sorted(axes)))


def tensor_flip(self, *dims, **kwargs):
    """``Tensor.flip(*dims)``: as :func:`flip`, with the dimensions as separate ints or one sequence.

    Example::

        >>> ember.tensor([1, 2, 3]).flip(0)
        tensor([3, 2, 1])
    """
    if kwargs:
        if dims or set(kwargs) != {"dims"}:
            raise TypeError(f"flip() got unexpected arguments {sorted(kwargs)}")
        return flip(self, kwargs["dims"])
    if not dims:
        raise TypeError('flip() missing 1 required positional arguments: "dims"')
    return flip(self, _shape_arg(dims, "flip"))


def roll(input: Tensor, shifts: int | _size_t, dims: int | _size_t | None = None) -> Tensor:
    """Rotate elements along ``dims`` by ``shifts`` (flattened when ``dims`` is None).

    Args:
        input (Tensor): the input tensor.
        shifts (int or tuple of ints): the number of places to shift (per dimension).
        dims (int or tuple of ints, optional): the dimensions to roll; the flattened tensor when ``None``.

    Example::

        >>> x = ember.tensor([[1, 2, 3], [4, 5, 6]])
        >>> ember.roll(x, 1)
        tensor([[6, 1, 2],
                [3, 4, 5]])
        >>> ember.roll(x, 1, dims=1)
        tensor([[3, 1, 2],
                [6, 4, 5]])
    """
    shift_list = int_list("roll", "shifts", shifts, size=1, position=2)
    dim_list = () if dims is None else int_list("roll", "dims", dims, size=1, position=3)
    return _roll(input, shift_list, dim_list)


def tensor_roll(self: Tensor, shifts: int | _size_t, dims: int | _size_t | None = None) -> Tensor:
    """``Tensor.roll(shifts, dims)``: as :func:`roll`; a TypeError gives the argument's position as a method's.

    Example::

        >>> ember.tensor([1, 2, 3]).roll(1)
        tensor([3, 1, 2])
    """
    shift_list = int_list("roll", "shifts", shifts, size=1, position=1)
    dim_list = () if dims is None else int_list("roll", "dims", dims, size=1, position=2)
    return _roll(self, shift_list, dim_list)


def _roll(input: Tensor, shift_list: tuple[int, ...], dim_list: tuple[int, ...]) -> Tensor:
    """:func:`roll` by the checked ``shift_list`` along ``dim_list`` (the flattened tensor where it is empty)."""
    if not shift_list:
        raise RuntimeError("`shifts` required")
    if not dim_list and len(shift_list) == 1:  # no dims (None or empty): the flattened tensor rolls
        return named_node(_roll(input.reshape(-1), shift_list, (0,)).reshape(input.shape), "RollBackward0")
    if input.numel() == 0:  # nothing moves (PyTorch checks no dims here)
        return named_node(input.clone(), "RollBackward0")
    if len(shift_list) != len(dim_list):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shift_list)}, dims:{len(dim_list)}")
    out = input
    for s, d in zip(shift_list, dim_list):
        if input.ndim == 0:  # (wrap_dim lets dim 0 of a 0-d tensor through)
            raise IndexError(f"Dimension specified as {d} but tensor has no dimensions")
        d = wrap_dim(d, input.ndim)
        n = input.shape[d]
        if n == 0:
            continue
        s %= n
        if s:
            out = cat([out.narrow(d, n - s, s), out.narrow(d, 0, n - s)], d)
    # a new tensor even when nothing moves: then a row-major one, as PyTorch's
    return named_node(input.clone(memory_format=contiguous_format) if out is input else out, "RollBackward0")


def _joined(tensors, data):
    """``data``, the native result of joining ``tensors`` (cat, stack), laid out as PyTorch lays it
    out: in the channels-last order where every input is in it (their ``suggest_memory_format``,
    which NumPy's order keeps, and a concatenation on a backend that joins row-major is laid out
    again in), else row-major (NumPy follows transposed inputs)."""
    backend = tensors[0]._backend
    if backend.is_contiguous(data) and backend.is_contiguous(tensors[0]._data):
        return data
    formats = {suggest_memory_format(tuple(t.shape), t.stride()) for t in tensors}
    if len(formats) == 1 and contiguous_format not in formats:
        order = next(iter(formats)).order
        if data.ndim != len(order) or is_ordered(tuple(data.shape), tuple(backend.strides(data)), order):
            return data  # (a stack has a dimension more: NumPy's order only)
        return ordered_copy(backend, data, data.dtype, order)
    return data if backend.is_contiguous(data) else row_major(backend, data)


class _Cat(Function):
    @staticmethod
    def forward(ctx, *tensors, axis):
        ctx.axis = axis
        ctx.sizes = [t._data.shape[axis] for t in tensors]
        first = tensors[0]
        return first._make(_joined(tensors, first._backend.xp.concat([t._data for t in tensors], axis=axis)))

    @staticmethod
    def backward(ctx, grad):
        return tuple(grad.split(ctx.sizes, ctx.axis))


def refuse_non_sequence(op: str, tensors: object) -> None:
    """PyTorch's TypeError for the ``tensors`` argument of a joining op (``cat``, ``stack``, ``hstack``, ...)
    that is no list or tuple, the two sequences its argument parser takes ("stack(): argument 'tensors'
    (position 1) must be tuple of Tensors, not Tensor"), naming the alias called (``row_stack``, ``concat``)."""
    if not isinstance(tensors, (list, tuple)):
        op = called_op(2) or op
        raise TypeError(f"{op}(): argument 'tensors' (position 1) must be tuple of Tensors, not {type_name(tensors)}")


def tensor_list(op: str, tensors: Sequence[Tensor]) -> list[Tensor]:
    """The ``tensors`` argument of a joining op (``stack``, ``hstack``, ``meshgrid``, ...) as a list,
    with PyTorch's errors: a TypeError for anything but a list or tuple (:func:`refuse_non_sequence`), a RuntimeError
    naming the op for an empty one."""
    refuse_non_sequence(op, tensors)
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{op} expects a non-empty TensorList")
    return tensors


def cat(tensors: Sequence[Tensor], dim: int = 0, *, axis: int | None = None, out: Tensor | None = None) -> Tensor:
    """Concatenate tensors along an existing dimension ``dim``.

    All tensors must share a device and, outside ``dim``, a shape; dtypes are promoted.

    Args:
        tensors (sequence of Tensors): the tensors to concatenate.
        dim (int): the dimension to concatenate along. Default: ``0``.
        axis (int, optional): NumPy's name for ``dim``. Default: ``None``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> a = ember.tensor([[1, 2], [3, 4]])
        >>> ember.cat([a, a], dim=0)
        tensor([[1, 2],
                [3, 4],
                [1, 2],
                [3, 4]])
        >>> ember.cat([a, ember.tensor([[5], [6]])], dim=1)
        tensor([[1, 2, 5],
                [3, 4, 6]])
    """
    if axis is not None:
        if dim != 0:
            raise TypeError("cat() got multiple values for argument 'dim' (as dim and as axis)")
        dim = axis
    if out is not None and _amp.active:  # PyTorch autocasts the plain overload only
        with _amp_suspended():
            return cat(tensors, dim, out=out)
    result = _concatenated(tensors, dim)
    if out is not None:
        if isinstance(out, Tensor) and result.dtype._category > out.dtype._category:
            raise TypeError(
                f"torch.cat(): input types can't be cast to the desired output type {TORCH_NAMES[out.dtype]}"
            )
        for t in tensors if isinstance(out, Tensor) else ():
            if isinstance(t, Tensor):
                check_no_overlap(out, t)  # PyTorch refuses an out that is an input too, even whole
        return write_out("cat", result, out, cast_error=TypeError, inputs=tuple(tensors))
    return result


def _concatenated(tensors, dim):
    refuse_non_sequence("cat", tensors)
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for t in tensors:
        if type(t) is not Tensor and not is_strided(t):
            if getattr(t, "is_sparse", False):  # sparse COO tensors: their coordinates joined
                return t._joined(tensors, dim)
            raise TypeError(f"cat(): expected a sequence of Tensors, got {type(t).__name__}")
    check_same_device("cat", *tensors)
    if _amp.active:
        tensors = cast_inputs("cat", *tensors)
    shapes = [t._data.shape for t in tensors]
    if all(shape == (0,) for shape in shapes):  # legacy empties only: nothing to join
        return tensors[0].clone()
    for i, shape in enumerate(shapes):
        if not shape:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    nonempty = [t for t, shape in zip(tensors, shapes) if shape != (0,)] or tensors[:1]
    ref = nonempty[0]._data.shape
    axis = wrap_dim(dim, len(ref))
    for i, t in enumerate(nonempty):
        shape = t._data.shape
        if len(shape) != len(ref):
            raise RuntimeError(f"Tensors must have same number of dimensions: got {len(ref)} and {len(shape)}")
        if shape[:axis] != ref[:axis] or shape[axis + 1 :] != ref[axis + 1 :]:
            d = next(d for d in range(len(ref)) if d != axis and shape[d] != ref[d])
            raise RuntimeError(
                f"Sizes of tensors must match except in dimension {axis}. Expected size "
                f"{ref[d]} but got size {shape[d]} for tensor number {i} in the list."
            )
    # a skipped legacy empty tensor still takes part in the promotion
    nonempty = _promoted(nonempty, _result_type(tensors))
    if len(nonempty) == 1:
        return nonempty[0].clone()
    return _Cat.apply(*nonempty, axis=axis)


def _result_type(tensors: Sequence[Tensor]) -> dtypes.dtype:
    """The dtype ``cat`` and ``stack`` promote their tensors to."""
    result = tensors[0].dtype
    for t in tensors[1:]:
        dtype = t.dtype
        if dtype is not result:
            result = dtypes.promote_types(result, dtype)
    return result


def _promoted(tensors: Sequence[Tensor], result: dtypes.dtype) -> list[Tensor]:
    """``tensors``, each cast to ``result`` where it has another dtype."""
    return [t if t.dtype is result else t.to(result) for t in tensors]


class _Stack(Function):
    @staticmethod
    def forward(ctx, *tensors, axis):
        ctx.axis = axis
        first = tensors[0]
        return first._make(_joined(tensors, first._backend.xp.stack([t._data for t in tensors], axis=axis)))

    @staticmethod
    def backward(ctx, grad):
        return tuple(grad.select(ctx.axis, i) for i in range(grad.shape[ctx.axis]))  # PyTorch's formula

    @staticmethod
    def _native_backward(ctx, grad):
        # the views that backward's selects give, sliced from the native array at once
        data = writable_data(grad)
        if not data.size:  # (the strides of a view without elements are PyTorch's: select's path)
            return NotImplemented
        axis = ctx.axis
        before = (slice(None),) * axis
        return tuple(
            grad._view_of(data[(*before, i)], lambda base, i=i: base.select(axis, i)) for i in range(data.shape[axis])
        )


concat, concatenate = renamed(cat, "concat"), renamed(cat, "concatenate")


def stack(tensors: Sequence[Tensor], dim: int = 0, *, out: Tensor | None = None, axis: int | None = None) -> Tensor:
    """Join tensors of equal shape along a new dimension ``dim``.

    Args:
        tensors (sequence of Tensors): the tensors to stack, all of one shape.
        dim (int): the position of the new dimension. Default: ``0``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.

    Example::

        >>> a, b = ember.tensor([1, 2]), ember.tensor([3, 4])
        >>> ember.stack([a, b])
        tensor([[1, 2],
                [3, 4]])
        >>> ember.stack([a, b], dim=1)
        tensor([[1, 3],
                [2, 4]])
    """
    if axis is not None:
        dim, _ = numpy_names("stack", dim, 0, axis, False, None)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overload only
            result = stack(tensors, dim)
        return write_out("stack", result, out, cast_error=TypeError, apart=tuple(tensors))
    tensors = tensor_list("stack", tensors)
    for i, t in enumerate(tensors):
        if type(t) is not Tensor and not is_strided(t):
            if getattr(t, "is_sparse", False):  # sparse COO tensors: each unsqueezed, then joined
                return t._joined([x.unsqueeze(dim) for x in tensors], dim)
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    if _amp.active:
        tensors = cast_inputs("stack", *tensors)
    shape = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and "
                f"{list(t.shape)} at entry {i}"
            )
    check_same_device("stack", *tensors)
    axis = wrap_dim(dim, len(shape) + 1)
    return _Stack.apply(*_promoted(tensors, _result_type(tensors)), axis=axis)


def hstack(tensors: Sequence[Tensor], *, out: Tensor | None = None) -> Tensor:
    """Concatenate along dimension 1 (0 for 1-D tensors).

    Args:
        tensors (sequence of Tensors): the tensors to join.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.hstack([ember.tensor([1, 2]), ember.tensor([3])])
        tensor([1, 2, 3])
        >>> ember.hstack([ember.tensor([[1], [2]]), ember.tensor([[3], [4]])])
        tensor([[1, 3],
                [2, 4]])
    """
    if out is not None:
        return write_out("hstack", hstack(tensors), out, cast_error=TypeError)
    tensors = [t.reshape(1) if t.ndim == 0 else t for t in tensor_list("hstack", tensors)]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor], *, out: Tensor | None = None) -> Tensor:
    """Concatenate along dimension 0, treating 1-D tensors as rows.

    Args:
        tensors (sequence of Tensors): the tensors to join.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.vstack([ember.tensor([1, 2]), ember.tensor([3, 4])])
        tensor([[1, 2],
                [3, 4]])
    """
    if out is not None:
        return write_out("vstack", vstack(tensors), out, cast_error=TypeError)
    return cat([t.reshape(1, -1) if t.ndim <= 1 else t for t in tensor_list("vstack", tensors)], 0)


@dim_or_axis
def narrow(input: Tensor, dim: int, start: int | Tensor, length: int) -> Tensor:
    """The slice ``start:start+length`` of dimension ``dim`` (a view).

    Args:
        input (Tensor): the input tensor.
        dim (int): the dimension to slice.
        start (int): the first index of the slice.
        length (int): the length of the slice.

    Example::

        >>> x = ember.tensor([[1, 2, 3], [4, 5, 6]])
        >>> ember.narrow(x, 1, 1, 2)
        tensor([[2, 3],
                [5, 6]])
    """
    if type(dim) is not int or type(start) is not int or type(length) is not int:
        dim, length = _narrow_args((input, dim, start, length), _NARROW_SIGNATURES)
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if isinstance(start, Tensor):
        if start.ndim or start.dtype.is_floating_point or start.dtype.is_complex or start.dtype is dtypes.bool:
            raise RuntimeError("start must be an 0-dim integral Tensor.")
        start = int(start)
    axis = wrap_dim(dim, input.ndim)
    size = input.shape[axis]
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {int(start)})")
    if start < 0:
        start += size
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    key = (slice(None),) * axis + (slice(start, start + length),)
    return input[key]


_NARROW_SIGNATURES = ("int dim, Tensor start, int length", "int dim, int start, int length")


def tensor_narrow(self: Tensor, dim: int, start: int | Tensor, length: int) -> Tensor:
    """``Tensor.narrow(dim, start, length)``: as :func:`narrow`; a TypeError lists the arguments as a method's.

    Example::

        >>> ember.arange(6).narrow(0, 2, 3)
        tensor([2, 3, 4])
    """
    if type(dim) is not int or type(start) is not int or type(length) is not int:
        dim, length = _narrow_args((dim, start, length), _NARROW_SIGNATURES)
    return narrow(self, dim, start, length)


def _narrow_args(given, signatures):
    """``(dim, length)`` of a :func:`narrow` given the arguments ``given`` (the last three: dim, start, length) as
    ints, or PyTorch's TypeError listing ``signatures`` (a function's list ``Tensor input`` first); ``start`` may be
    a tensor."""
    dim, start, length = given[-3:]
    if not (is_index(dim) and is_index(length) and (isinstance(start, Tensor) or is_index(start))):
        if len(given) == 4:
            signatures = tuple(f"Tensor input, {signature}" for signature in signatures)
        raise invalid_combination("narrow", given, {}, signatures)
    return operator.index(dim), operator.index(length)


def split(tensor: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    """Split into chunks of ``split_size`` (the last may be smaller) or of the given sizes.

    Args:
        tensor (Tensor): the input tensor.
        split_size_or_sections (int or list of ints): the size of each piece, or the list of sizes.
        dim (int): the dimension to split. Default: ``0``.

    Example::

        >>> x = ember.arange(5)
        >>> ember.split(x, 2)
        (tensor([0, 1]), tensor([2, 3]), tensor([4]))
        >>> ember.split(x, [1, 4])
        (tensor([0]), tensor([1, 2, 3, 4]))
    """
    return split_into_views(tensor, split_size_or_sections, dim)


def split_into_views(
    input: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0, *, unsafe: bool = False
) -> tuple[Tensor, ...]:
    """:func:`split`, or with ``unsafe`` PyTorch's ``unsafe_split``, whose views allow in-place writes."""
    if input.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    axis = wrap_dim(dim, input.ndim)
    size = input.shape[axis]
    if isinstance(split_size_or_sections, Tensor) and split_size_or_sections.ndim == 0:
        split_size_or_sections = int(split_size_or_sections)  # as PyTorch's Tensor.split
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
        if step == 0 and size:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        sizes = [min(step, size - i) for i in range(0, size, step)] if size else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != size:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at "
                f"dimension {axis}), but got split_sizes={sizes}"
            )
    nodes = (_UnsafeSplit, _UnsafeSplitWithSizes) if unsafe else (_Split, _SplitWithSizes)
    return nodes[not isinstance(split_size_or_sections, int)].apply(input, tuple(sizes), axis)


def chunk(input: Tensor, chunks: int, dim: int = 0, *, axis: int | None = None) -> tuple[Tensor, ...]:
    """Split into ``chunks`` pieces of (nearly) equal size.

    Args:
        input (Tensor): the input tensor.
        chunks (int): the number of pieces.
        dim (int): the dimension to split. Default: ``0``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.

    Example::

        >>> ember.chunk(ember.arange(5), 3)
        (tensor([0, 1]), tensor([2, 3]), tensor([4]))
    """
    if axis is not None:
        dim, _ = numpy_names("chunk", dim, 0, axis, False, None)
    return chunk_into_views(input, chunks, dim)


def chunk_into_views(input: Tensor, chunks: int, dim: int = 0, *, unsafe: bool = False) -> tuple[Tensor, ...]:
    """:func:`chunk`, or with ``unsafe`` PyTorch's ``unsafe_chunk``, whose views allow in-place writes."""
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0")
    axis = wrap_dim(dim, input.ndim)
    size = input.shape[axis]
    if size == 0:  # PyTorch: ``chunks`` empty pieces
        return split_into_views(input, [0] * chunks, axis, unsafe=unsafe)
    step = int(max(-(-size // chunks), 1))  # an int also for a NumPy integer ``chunks``
    return split_into_views(input, step, dim, unsafe=unsafe)


@tensor_input
def unbind(input: Tensor, dim: int = 0, *, axis: int | None = None) -> tuple[Tensor, ...]:
    """All slices along ``dim``, with that dimension removed.

    Args:
        input (Tensor): the input tensor.
        dim (int): the dimension to remove. Default: ``0``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.

    Example::

        >>> x = ember.tensor([[1, 2, 3], [4, 5, 6]])
        >>> ember.unbind(x)
        (tensor([1, 2, 3]), tensor([4, 5, 6]))
        >>> ember.unbind(x, dim=1)
        (tensor([1, 4]), tensor([2, 5]), tensor([3, 6]))
    """
    if axis is not None:
        dim, _ = numpy_names("unbind", dim, 0, axis, False, None)
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    return _Unbind.apply(input, wrap_dim(dim, input.ndim))


class _Split(Function):
    """``split`` into pieces of the given ``sizes`` along ``axis``: views of ``x``, the outputs of one node.

    As in PyTorch, such views refuse an in-place write while recording (their histories cannot be
    rebuilt one at a time), and so do the views made of them.
    """

    @staticmethod
    def forward(ctx, x, sizes, axis):
        return _multi_output_views(_pieces(ctx, x, sizes, axis))

    @staticmethod
    def backward(ctx, *grads):
        return cat(grads, ctx.axis), None, None


class _SplitWithSizes(_Split):
    """``split`` into pieces of the sizes listed."""


class _UnsafeSplit(_Split):
    """``unsafe_split``: as :class:`_Split`, but its views allow in-place writes (ember rebuilds their
    histories through their base, where PyTorch leaves the base's history as it was)."""

    @staticmethod
    def forward(ctx, x, sizes, axis):
        return _pieces(ctx, x, sizes, axis)


class _UnsafeSplitWithSizes(_UnsafeSplit):
    """``unsafe_split_with_sizes``."""


def _pieces(ctx, x, sizes, axis):
    ctx.axis = axis
    before, start, pieces = (slice(None),) * axis, 0, []
    for size in sizes:
        pieces.append(x[(*before, slice(start, start + size))])
        start += size
    return tuple(pieces)


class _Unbind(Function):
    """``unbind``: the slices of ``x`` along ``axis``, views that are the outputs of one node (see :class:`_Split`)."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        before = (slice(None),) * axis
        return _multi_output_views(tuple(x[(*before, i)] for i in range(x.shape[axis])))

    @staticmethod
    def backward(ctx, *grads):
        return stack(grads, ctx.axis), None


def _multi_output_views(views):
    for view in views:
        view._rebase_refusal = MULTI_OUTPUT_VIEW
    return tuple(views)


def movedim(input: Tensor, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """Move dimension(s) ``source`` to position(s) ``destination``.

    Args:
        input (Tensor): the input tensor.
        source (int or tuple of ints): the original positions of the dimensions to move.
        destination (int or tuple of ints): their new positions.

    Example::

        >>> ember.movedim(ember.zeros(2, 3, 4), 0, -1).shape
        ember.Size([3, 4, 2])
        >>> ember.movedim(ember.zeros(2, 3, 4), (0, 1), (2, 0)).shape
        ember.Size([3, 4, 2])
    """
    if type(source) is int and type(destination) is int:
        src, dst = (source,), (destination,)
    else:
        src, dst = _movedim_args((input, source, destination), 2)
    n = input.ndim
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(src)} dims) should contain the same "
            f"number of dims as destination ({list(dst)} dims)"
        )
    src = [wrap_dim(s, n) for s in src]  # type: ignore[assignment]
    dst = [wrap_dim(d, n) for d in dst]  # type: ignore[assignment]
    for name, given, dims in (("source", source, src), ("destination", destination, dst)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(given)})")  # type: ignore[arg-type]
    if n == 0:
        return input.reshape(())
    order = [d for d in range(n) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


def tensor_movedim(self: Tensor, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """``Tensor.movedim(source, destination)``: as :func:`movedim`; a TypeError gives the arguments as a method's.

    Example::

        >>> ember.zeros(2, 3, 4).movedim(0, -1).shape
        ember.Size([3, 4, 2])
    """
    if type(source) is not int or type(destination) is not int:
        source, destination = _movedim_args((source, destination), 1)
    return movedim(self, source, destination)


def _movedim_args(given, position):
    """``(source, destination)`` of a :func:`movedim` given the arguments ``given`` (the last two: source,
    destination), both ints or both sequences of ints, as tuples; else PyTorch's TypeError (``position``: that of
    ``source``, 2 for the function, 1 for the method)."""
    source, destination = given[-2:]
    if is_index(source) and is_index(destination):
        return (operator.index(source),), (operator.index(destination),)
    if isinstance(source, (tuple, list)) and isinstance(destination, (tuple, list)):
        return (
            int_list("movedim", "source", source, position=position),
            int_list("movedim", "destination", destination, position=position + 1),
        )
    signatures = ("int source, int destination", "tuple of ints source, tuple of ints destination")
    if len(given) == 3:
        signatures = tuple(f"Tensor input, {signature}" for signature in signatures)
    raise invalid_combination("movedim", given, {}, signatures)


def row_major(backend, data):
    """A row-major copy of the non-contiguous native array ``data``."""
    xp = backend.xp
    if data.ndim == 1:  # flat already: copied as it is (a reshape would give it back unchanged)
        return xp.astype(data, data.dtype, copy=True)
    # flattening a strided array copies it in row-major order; the reshape back is a view. A
    # strided array that flattens without a copy (one step between all elements, e.g. x[::2])
    # is copied as the 1-D array it then is
    flat = xp.reshape(data, (-1,))
    if not backend.is_contiguous(flat):
        flat = xp.astype(flat, flat.dtype, copy=True)
    return xp.reshape(flat, data.shape)


def format_copy(x, native_dtype, memory_format=None):
    """``x``'s values copied into a new native array of ``native_dtype``, laid out as PyTorch lays out
    a copy with ``memory_format`` (None: ``preserve_format``), see :class:`ember.memory_format`:
    ``preserve_format`` keeps the order of ``x``'s strides (a transpose stays transposed, a
    broadcast row copies row-major, where the array API's ``astype`` would put its zero stride
    innermost). The copy is row-major in that order of the dimensions, on every backend."""
    backend, data = x._backend, x._data
    xp = backend.xp
    preserve = memory_format is None or memory_format is preserve_format
    if preserve and backend.is_contiguous(data) and not may_keep_other_strides(data.shape):
        return xp.astype(data, native_dtype, copy=True)
    if memory_format is contiguous_format:  # row-major, whatever ``x``'s strides: none to read
        return ordered_copy(backend, data, native_dtype, None)
    shape, strides = tuple(data.shape), tuple(backend.strides(data))
    if preserve:
        # a dense ``x``'s strides are kept exactly, a size-1 dimension's too (PyTorch's empty_like)
        kept = format_strides(shape, strides, None)
        if kept is None:
            return (
                xp.astype(data, native_dtype, copy=True)
                if backend.is_contiguous(data) and data.size
                else (ordered_copy(backend, data, native_dtype, None))
            )
        copied = ordered_copy(backend, data, native_dtype, dense_order(shape, kept))
        if tuple(backend.strides(copied)) == kept:
            return copied
        try:  # only the strides of size-1 dimensions differ: the same elements, seen with ``x``'s strides
            return backend.as_strided(copied, shape, kept, backend.layout(copied)[1])
        except NotImplementedError:  # a backend without strided views
            return copied
    return ordered_copy(backend, data, native_dtype, format_order(shape, strides, memory_format))


def ordered_copy(backend, data, native_dtype, order):
    """The native array ``data``'s values copied into a new dense array of ``native_dtype`` whose
    dimensions lie in memory in ``order``, from the outermost to the innermost (None: row-major)."""
    xp = backend.xp
    if order is not None and 0 in data.shape:  # no elements: NumPy would zero the strides, so give them
        shape = tuple(data.shape)
        try:
            return backend.as_strided(
                xp.astype(xp.reshape(data, (0,)), native_dtype), shape, ordered_strides(shape, order), 0
            )
        except NotImplementedError:  # a backend without strided views
            pass
    moved = data if order is None else xp.permute_dims(data, order)
    if backend.is_contiguous(moved):
        copied = xp.astype(moved, native_dtype, copy=True)
    else:
        copied = row_major(backend, moved)  # a new array: cast where its dtype is not the one asked for
        if copied.dtype != native_dtype:
            copied = xp.astype(copied, native_dtype, copy=False)
    if order is None:
        return copied
    return xp.permute_dims(copied, tuple(order.index(d) for d in range(len(order))))


def laid_out_like(result: Tensor, like: Tensor) -> Tensor:
    """``result``, a new tensor shaped as ``like``, laid out as PyTorch lays out ``empty_like(like)``
    (``preserve_format``): dense, in the order of ``like``'s dimensions (``like``'s very strides where it
    has no elements); ``result`` itself where it is."""
    backend = like._backend
    if backend.is_contiguous(like._data) and backend.is_contiguous(result._data):
        if like._data.size:
            return result
        strides = like.stride()  # (an array without elements counts as contiguous whatever its strides)
        return result if result.stride() == strides else result.as_strided(tuple(result.shape), strides, 0)
    return in_order(result, format_order(tuple(like.shape), like.stride(), None))


def in_order(result: Tensor, order: tuple[int, ...] | None) -> Tensor:
    """``result``'s values, differentiably, in a dense tensor whose dimensions lie in memory in ``order``,
    from the outermost to the innermost (None: row-major); ``result`` itself where they already do."""
    if order is None:
        return result.contiguous()
    inverse = tuple(order.index(d) for d in range(len(order)))
    return result.permute(order).contiguous().permute(inverse)


class _Contiguous(Function):
    _backward_name = "CloneBackward0"

    @staticmethod
    def forward(ctx, x, memory_format):
        return x._make(format_copy(x, x._data.dtype, memory_format))

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def contiguous(input: Tensor, memory_format: object = None) -> Tensor:
    """A tensor with the same values laid out contiguously in row-major order; ``input`` itself when it already is.

    Args:
        input (Tensor): the input tensor.
        memory_format (ember.memory_format): the layout asked for, see :class:`ember.memory_format`.
            Default: ``ember.contiguous_format``.

    Example::

        >>> x = ember.tensor([[1, 2, 3], [4, 5, 6]]).t()
        >>> x.is_contiguous()
        False
        >>> ember.contiguous(x).is_contiguous()
        True
    """
    if memory_format is None:
        return input if input._backend.is_contiguous(input._data) else _Contiguous.apply(input, contiguous_format)
    check_memory_format(memory_format, input.ndim, "contiguous")
    if is_contiguous(input, memory_format):
        return input
    if memory_format is preserve_format:
        raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
    return _Contiguous.apply(input, memory_format)


def is_contiguous(input: Tensor, memory_format: object = None) -> bool:
    """True if the elements are laid out in row-major order without gaps (or, for
    ``memory_format=ember.channels_last``/``channels_last_3d``, in that order: channels innermost).

    Args:
        memory_format (ember.memory_format): the memory format to test against. Default: ``ember.contiguous_format``.

    Example::

        >>> x = ember.tensor([[1, 2, 3], [4, 5, 6]])
        >>> x.is_contiguous()
        True
        >>> x.t().is_contiguous()
        False
    """
    check_memory_format(memory_format, None, "is_contiguous")
    rank = getattr(memory_format, "rank", None)  # the channels-last formats' rank
    if rank is None:
        return input._backend.is_contiguous(input._data)
    if input.ndim != rank:
        return False
    # channels innermost: the strides of (C, W, H, N) -- (C, W, H, D, N) in 3-D -- run row-major
    order = [1, *range(input.ndim - 1, 1, -1), 0]
    expected = 1
    for dim in order:
        size = input.shape[dim]
        if size != 1 and input.stride(dim) != expected:
            return False
        expected *= size
    return True


def view_as(input: Tensor, other: Tensor) -> Tensor:
    """``input`` seen in the shape of ``other``, as ``input.view(other.size())``.

    Args:
        input (Tensor): the input tensor.
        other (Tensor): the tensor whose shape to take.

    Example::

        >>> ember.view_as(ember.arange(4), ember.zeros(2, 2))
        tensor([[0, 1],
                [2, 3]])
    """
    return view(input, other.shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    """``input`` in the shape of ``other``, as ``input.reshape(other.size())``.

    Args:
        input (Tensor): the input tensor.
        other (Tensor): the tensor whose shape to take.

    Example::

        >>> ember.reshape_as(ember.arange(4), ember.zeros(2, 2))
        tensor([[0, 1],
                [2, 3]])
    """
    return reshape(input, other.shape)
