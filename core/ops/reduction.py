"""Reductions and scans: sum, mean, prod, max/min, arg-max/min, var/std, norm, logsumexp, cumsum."""

from __future__ import annotations

import builtins
import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, overload

from .. import dtypes, return_types
from ..amp.policy import cast_inputs
from ..amp.state import state as _amp
from ..amp.state import suspended as _amp_suspended
from ..autograd import function as autograd_function
from ..autograd.function import Function, differentiable_backward
from ..autograd.grad_mode import grad_state
from ..layout import sparse_coo
from ..own_frames import outside_ember_stacklevel
from ..tensor import Tensor, dtype_arg, writable_data
from ..typeinfo import finfo
from ..unstrided import UnstridedTensor
from . import arithmetic, composite_math
from .arithmetic import where
from .comparison import _TORCH_NAMES
from .dtype_support import FLOAT8, FLOATING_AND_HALF, TORCH_NAMES, not_implemented, refuse_limited
from .matrix_norms import check_vector_norm_dtype, matrix_norm
from .movement import cat, expanded_native, row_major, stack
from .operands import (
    DIM_OMITTED,
    KEEPDIM_OMITTED,
    bool_arg_error,
    dim_and_keepdim,
    invalid_combination,
    named_node,
    normalize_dims,
    numpy_names,
    refuse_keepdim_without_dim,
    refuse_none_dim,
    require_tensors,
    tensor_input,
    tensor_input_checked,
    wrap_dim,
)
from .out_argument import SAME_DTYPE_OUT, reduced_operands, write_out
from .overloads import SIGNATURES
from .reduced_precision import computes_in_float32

if TYPE_CHECKING:
    from ..types import _dtype

__all__ = [
    "sum", "mean", "prod", "amax", "amin", "max", "min", "argmax", "argmin", "var", "std",
    "var_mean", "std_mean", "norm", "logsumexp", "cumsum", "all", "any", "count_nonzero", "aminmax",
]  # fmt: skip


def _restore_dims(grad, axes, ndim, keepdim):
    """Re-insert reduced axes (size 1) so that ``grad`` broadcasts against the input."""
    if keepdim or not axes:
        return grad
    shape = list(grad.shape)
    for axis in axes:
        shape.insert(axis, 1)
    return grad.reshape(shape)


def _reduced(x: Tensor, data: Any) -> Tensor:
    """``x._make(data)`` for the native result of a reduction or scan of ``x``, laid out row-major as
    PyTorch lays out those results (NumPy follows the order of a transposed or channels-last input), a
    size-1 dimension's stride too (``sum(1, keepdim=True)`` of a transposed input)."""
    backend = x._backend
    if not backend.is_contiguous(data) or (1 in data.shape and not backend.is_row_major(data)):
        data = row_major(backend, data)
    return x._make(data)


class _Sum(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim, native, dropped):
        # ``native``: the NumPy dtype it sums in or None; ``dropped``: the dimensions its backward unsqueezes back
        ctx.shape, ctx.dropped = x._data.shape, dropped
        return _reduced(x, x._backend.xp.sum(x._data, axis=axes, keepdims=keepdim, dtype=native))

    @staticmethod
    def backward(ctx, grad):
        # PyTorch's sum_backward: the gradient expanded to the input's shape, after unsqueezes that put back the
        # ``dropped`` dimensions (those of sum(dim), not of sum() nor sum(dim=())): the views step differently along
        # the input's size-1 dimensions, as PyTorch's do
        for axis in ctx.dropped:
            grad = grad.unsqueeze(axis)
        return grad.expand(ctx.shape), None, None, None, None

    @staticmethod
    def _native_backward(ctx, grad):
        # that view (the unsqueezes of a row-major gradient step as its reshape does) made on the native array
        # without the ops' nodes
        shape, dropped = ctx.shape, ctx.dropped
        backend = grad._backend
        if 0 in shape or not backend.is_row_major(grad._data):
            return NotImplemented
        data = writable_data(grad)
        if dropped:
            data = backend.xp.reshape(data, tuple(1 if i in dropped else n for i, n in enumerate(shape)))
        kept = tuple(data.shape)
        expanded = expanded_native(backend, data, shape)
        return grad._view_of(expanded, lambda base: base.reshape(kept).expand(shape)), None, None, None, None


class _SumDims(_Sum):
    """``sum(dim)`` (PyTorch's ``sum.dim_IntList``)."""

    _backward_name = "SumBackward1"


def _every_dim_if_empty(dim):
    """``dim`` with an empty list read as every dimension, as PyTorch's sum, mean, var, std, amax and amin read it."""
    return None if isinstance(dim, (tuple, list)) and len(dim) == 0 else dim


def _accumulate_dtype(d, dtype, kernel):
    """The type a sum or product of elements of type ``d`` is computed in; PyTorch's ``kernel`` has
    no instance for uint16/32/64 nor the float8 types (an unsigned input sums in int64)."""
    # (PyTorch takes a dtype or float/int/bool/complex, not a name nor a NumPy type: sum(dtype='float64') raises)
    result = dtype_arg(kernel.split("_")[0], dtype) if dtype is not None else dtypes.int64 if d._category < 2 else d
    if result in dtypes.limited_dtypes:
        not_implemented(kernel, result)
    return result


@tensor_input
def sum(
    input: Tensor,
    dim: int | Sequence[int] | None = DIM_OMITTED,
    keepdim: bool = KEEPDIM_OMITTED,
    *,
    dtype: _dtype | None = None,
    out: Tensor | None = None,
    axis: int | Sequence[int] | None = DIM_OMITTED,
    keepdims: bool | None = None,
) -> Tensor:  # noqa: A001
    """Sum of elements over ``dim`` (all when None); integer inputs sum in int64.

    .. math::
        out = sum_i input_i

    Args:
        input (Tensor): the input tensor.
        dim (int or tuple of ints, optional): dimensions to reduce.
        keepdim (bool): keep reduced dimensions with size 1. Default: False.
        dtype (ember.dtype, optional): the type to accumulate in and return.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int or tuple of ints, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> ember.sum(x)
        tensor(21.)
        >>> ember.sum(x, dim=0)
        tensor([5., 7., 9.])
        >>> ember.sum(x, dim=1, keepdim=True)
        tensor([[ 6.],
                [15.]])
    """
    if dim is DIM_OMITTED:  # (identity tests inline: the common call, x.sum(), pays no call for them)
        if (keepdim is not KEEPDIM_OMITTED or keepdims is not None) and axis is DIM_OMITTED:
            dim_and_keepdim("sum", dim, keepdim if keepdims is None else keepdims)  # TypeError: keepdim without dim
        dim = None
    if axis is DIM_OMITTED:  # (omitted and None differ only above: x.sum(axis=None, keepdims=True) is accepted)
        axis = None
    if keepdim is KEEPDIM_OMITTED:
        keepdim = False
    elif keepdim is not True and keepdim is not False:
        raise bool_arg_error("sum", "keepdim", keepdim)
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("sum", dim, None, axis, keepdim, keepdims)
    if out is None and type(input) is not Tensor and isinstance(input, UnstridedTensor):
        # a sparse tensor (COO or compressed): its own sum
        if not keepdim:
            return input.sum(dim, dtype=dtype)
        if input.layout is not sparse_coo:
            return input.sum(dim, keepdim=True, dtype=dtype)
        summed = input.sum(dim, dtype=dtype)  # the COO's sum keeps no dims: they come back with size 1
        axes = sorted(normalize_dims(_every_dim_if_empty(dim), input.ndim))
        if len(axes) == input.ndim:  # every dim: a dense result, as PyTorch's
            return summed.reshape((1,) * input.ndim)
        for d in axes:
            summed = summed.unsqueeze(d)
        return summed
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out(
                "sum", sum(input, dim, keepdim, dtype=out.dtype if dtype is None else dtype), out, exact_dtype=True
            )
    if _amp.active:
        (input,) = cast_inputs("sum", input, dtype=dtype)
    listed = _every_dim_if_empty(dim)
    axes = normalize_dims(listed, len(input._data.shape))
    d = input.dtype
    out = _accumulate_dtype(d, dtype, "sum_cpu")
    if out is not d:
        input = input.to(out)
    # an integer sum stays in its type (NumPy widens int32/uint8 sums to the platform integer)
    node = _Sum if dim is None else _SumDims
    dropped = () if keepdim or listed is None else axes  # the dimensions its backward unsqueezes back
    return node.apply(input, axes, keepdim, None if out._category >= 2 else input._data.dtype, dropped)


@tensor_input
def mean(
    input: Tensor,
    dim: int | Sequence[int] | None = DIM_OMITTED,
    keepdim: bool = KEEPDIM_OMITTED,
    *,
    dtype: _dtype | None = None,
    out: Tensor | None = None,
    axis: int | Sequence[int] | None = DIM_OMITTED,
    keepdims: bool | None = None,
) -> Tensor:
    """Arithmetic mean over ``dim``; the input must be floating point (or give ``dtype``).

    .. math::
        out = (1 / n) sum_i input_i

    Args:
        input (Tensor): the input tensor.
        dim (int or tuple of ints, optional): the dimension or dimensions to reduce; all of them when ``None``.
        keepdim (bool): whether the output keeps the reduced dimensions with size 1. Default: ``False``.
        dtype (ember.dtype, optional): the data type of the result (and of the computation).
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int or tuple of ints, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> ember.mean(x)
        tensor(3.5000)
        >>> ember.mean(x, dim=1)
        tensor([2., 5.])
    """
    if dim is DIM_OMITTED:  # (identity tests inline: the common call, x.mean(), pays no call for them)
        if (keepdim is not KEEPDIM_OMITTED or keepdims is not None) and axis is DIM_OMITTED:
            dim_and_keepdim("mean", dim, keepdim if keepdims is None else keepdims)  # TypeError: keepdim without dim
        dim = None
    if axis is DIM_OMITTED:  # (omitted and None differ only above: x.mean(axis=None, keepdims=True) is accepted)
        axis = None
    if keepdim is KEEPDIM_OMITTED:
        keepdim = False
    elif keepdim is not True and keepdim is not False:
        raise bool_arg_error("mean", "keepdim", keepdim)
    if dtype is None:
        refuse_limited("sum_cpu", input, among=FLOAT8)
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("mean", dim, None, axis, keepdim, keepdims)
    if out is not None:  # a floating-point mean is computed in out's dtype, as PyTorch
        if dtype is None and input.dtype.is_floating_point and out.dtype.is_floating_point:
            dtype = out.dtype
        return write_out("mean", mean(input, dim, keepdim, dtype=dtype), out, exact_dtype=True)
    if dtype is not None:
        input = input.to(dtype_arg("mean", dtype))
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(
            f"mean(): could not infer output dtype. {'Input' if dtype is None else 'Optional'} dtype must be either "
            f"a floating point or complex dtype. Got: {_TORCH_NAMES[input.dtype.name]}"
        )
    axes = normalize_dims(_every_dim_if_empty(dim), len(input._data.shape))
    return (_Mean if dim is None else _MeanDims).apply(input, axes, keepdim)


class _Mean(Function):
    """The mean as one node: the backend's mean (float16/bfloat16 summed and divided in float32,
    rounded once, as PyTorch's CPU kernel), NaN over no elements."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        shape = ctx.shape = x._data.shape
        ctx.axes, ctx.keepdim = axes, keepdim
        xp = x._backend.xp
        if not math.prod([shape[a] for a in axes]):  # no elements: NaN (NumPy's mean would warn)
            return _reduced(x, xp.sum(x._data, axis=axes, keepdims=keepdim) * math.nan)
        return _reduced(x, xp.mean(x._data, axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        shape, axes, keepdim = ctx.shape, ctx.axes, ctx.keepdim
        count = math.prod([shape[a] for a in axes])
        # PyTorch divides the expanded gradient: a fresh row-major tensor, not a broadcast view
        return _restore_dims(grad, axes, len(shape), keepdim).expand(shape) / count, None, None

    @staticmethod
    def _native_backward(ctx, grad):
        shape, axes = ctx.shape, ctx.axes
        xp = grad._backend.xp
        g = grad._data
        if axes and not ctx.keepdim:
            g = xp.reshape(g, tuple(1 if i in axes else n for i, n in enumerate(shape)))
        return xp.divide(xp.broadcast_to(g, shape), math.prod([shape[a] for a in axes])), None, None


class _MeanDims(_Mean):
    """``mean(dim)``."""

    _backward_name = "MeanBackward1"


class _Prod(Function):
    @staticmethod
    def forward(ctx, x, axis, keepdim):
        y = _reduced(x, x._backend.xp.prod(x._data, axis=axis, keepdims=keepdim, dtype=x._data.dtype))
        ctx.save_for_backward(x)
        ctx.axis, ctx.keepdim = axis, keepdim
        return y

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        axes = tuple(range(x.ndim)) if ctx.axis is None else (ctx.axis,)
        if ctx.axis is None:
            flat = x.reshape(-1)
            return _prod_grad(flat, grad.reshape(1), 0).reshape(x.shape), None, None
        grad = _restore_dims(grad, axes, x.ndim, ctx.keepdim)
        return _prod_grad(x, grad, ctx.axis), None, None


class _ProdDim(_Prod):
    """``prod(dim)``."""

    _backward_name = "ProdBackward1"


def _prod_grad(x, grad, axis):
    """d prod / d x_i = product of the other elements, exact in the presence of zeros."""
    zero = x == 0
    zeros = zero.sum(axis, keepdim=True)
    ones = x.masked_fill(zero, 1)
    prod_nonzero = ones.prod(axis, keepdim=True)
    no_zero = prod_nonzero / ones
    others = where_(zeros == 0, no_zero, where_(zero & (zeros == 1), prod_nonzero.expand(x.shape), x * 0))
    return grad * others.conj()


def where_(condition, a, b):
    return where(condition, a, b)


@tensor_input
def prod(
    input: Tensor,
    dim: int | None = DIM_OMITTED,
    keepdim: bool = False,
    *,
    dtype: _dtype | None = None,
    out: Tensor | None = None,
    axis: int | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Product of elements over one ``dim`` (all when None).

    Args:
        input (Tensor): the input tensor.
        dim (int, optional): the dimension to reduce; all of them when ``None``.
        keepdim (bool): whether the output keeps the reduced dimensions with size 1. Default: ``False``.
        dtype (ember.dtype, optional): the data type of the result (and of the computation).
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> ember.prod(x)
        tensor(720.)
        >>> ember.prod(x, dim=1)
        tensor([  6., 120.])
    """
    dim = refuse_none_dim("prod", dim)
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("prod", dim, None, axis, keepdim, keepdims)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out(
                "prod",
                prod(input, DIM_OMITTED if dim is None else dim, keepdim, dtype=out.dtype if dtype is None else dtype),
                out,
                exact_dtype=True,
            )
    refuse_keepdim_without_dim("prod", dim, keepdim)
    if _amp.active:  # float32 under autocast (cpu), or the dtype asked for (cuda)
        (input,) = cast_inputs("prod", input, dtype=dtype)
    d = input.dtype
    out = _accumulate_dtype(d, dtype, "prod_out_cpu")
    if out is not d:
        input = input.to(out)
    axis = None if dim is None else wrap_dim(dim, input.ndim)
    if input.ndim == 0:
        axis = None
    return (_Prod if dim is None else _ProdDim).apply(input, axis, keepdim if axis is not None else False)


class _Extremum(Function):
    """amax/amin over axes; the gradient is shared equally between tied maxima."""

    @classmethod
    def forward(cls, ctx, x, axes, keepdim):
        y = _reduced(x, cls.compute(x._backend.xp, x._data, axes, keepdim))
        ctx.save_for_backward(x, y)
        ctx.axes, ctx.keepdim = axes, keepdim
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        y = _restore_dims(y, ctx.axes, x.ndim, ctx.keepdim)
        grad = _restore_dims(grad, ctx.axes, x.ndim, ctx.keepdim)
        mask = (x == y).to(grad.dtype)
        count = mask.sum(ctx.axes, keepdim=True) if ctx.axes else mask
        return grad * mask / count, None, None


class _Amax(_Extremum):
    compute = staticmethod(lambda xp, x, axes, keepdim: xp.max(x, axis=axes, keepdims=keepdim))


class _Amin(_Extremum):
    compute = staticmethod(lambda xp, x, axes, keepdim: xp.min(x, axis=axes, keepdims=keepdim))


class _Evenly:
    """max(input)/min(input) over every element: the gradient is shared equally between the elements equal to
    the result (the NaNs when it is NaN) and selected, so an inf/NaN grad reaches only those (PyTorch's
    ``evenly_distribute_backward``; ``amax``/``amin`` multiply by the mask instead)."""

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        mask = (x == y) | (x.isnan() & y.isnan())
        return where_(mask, grad / mask.sum(), grad.new_zeros(())), None, None


class _AllMax(_Evenly, _Amax):
    _backward_name = "MaxBackward1"


class _SelectedOfAll(Function):
    """The median of all of ``x``, the values of ``along(x.reshape(-1), 0, False)`` (``median``'s or
    ``nanmedian``'s selection along a dimension): as for ``max(input)``, the gradient is shared equally between
    the elements equal to it (PyTorch's ``evenly_distribute_backward``)."""

    @staticmethod
    def forward(ctx, x, along):
        y = along(x.reshape(-1), 0, False)[0]
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        return _Evenly.backward(ctx, grad)[0], None


class _Median(_SelectedOfAll):
    pass


class _Nanmedian(_SelectedOfAll):
    pass


class _AllMin(_Evenly, _Amin):
    _backward_name = "MinBackward1"


def _check_nonempty(name, input, axes, given=None):
    for i, a in enumerate(axes):
        if input.shape[a] == 0:
            shown = a if given is None else given[i]  # amax/amin name the dim as given (-1), others wrapped
            raise IndexError(f"{name}(): Expected reduction dim {shown} to have non-zero size.")
    if input.numel() == 0 and not axes:
        raise RuntimeError(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument."
        )


@tensor_input
def amax(
    input: Tensor,
    dim: int | Sequence[int] = (),
    keepdim: bool = False,
    *,
    out: Tensor | None = None,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Maximum over ``dim`` (all dims when empty).

    Unlike :func:`max`, the gradient is spread evenly over the elements that tie for the maximum.

    Args:
        input (Tensor): the input tensor.
        dim (int or tuple of ints): the dimensions to reduce; all of them when empty. Default: ``()``.
        keepdim (bool): whether the output keeps the reduced dimensions with size 1. Default: ``False``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int or tuple of ints, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> ember.amax(x)
        tensor(6.)
        >>> ember.amax(x, dim=0)
        tensor([4., 5., 6.])
    """
    return _amax_or_amin("amax", _Amax, input, dim, keepdim, out, axis, keepdims)


@tensor_input
def amin(
    input: Tensor,
    dim: int | Sequence[int] = (),
    keepdim: bool = False,
    *,
    out: Tensor | None = None,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Minimum over ``dim`` (all dims when empty).

    Unlike :func:`min`, the gradient is spread evenly over the elements that tie for the minimum.

    Args:
        input (Tensor): the input tensor.
        dim (int or tuple of ints): the dimensions to reduce; all of them when empty. Default: ``()``.
        keepdim (bool): whether the output keeps the reduced dimensions with size 1. Default: ``False``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int or tuple of ints, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> ember.amin(x)
        tensor(1.)
        >>> ember.amin(x, dim=1)
        tensor([1., 4.])
    """
    return _amax_or_amin("amin", _Amin, input, dim, keepdim, out, axis, keepdims)


def _amax_or_amin(name, node, input, dim, keepdim, out, axis, keepdims):
    """:func:`amax` or :func:`amin` (``name``): their checks, then ``node`` (``_Amax`` or ``_Amin``) over ``dim``."""
    kernel = "max_values_cpu" if name == "amax" else "min_values_cpu"  # PyTorch's kernel, named in its errors
    refuse_limited(kernel, input)
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(name, dim, (), axis, keepdim, keepdims)
    if keepdim is not True and keepdim is not False:
        raise bool_arg_error(name, "keepdim", keepdim)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            result = _amax_or_amin(name, node, input, dim, keepdim, None, None, None)
            return write_out(name, result, out, exact_dtype=SAME_DTYPE_OUT)

    if input.dtype.is_complex:
        not_implemented(kernel, input.dtype)
    every = _every_dim_if_empty(dim) is None  # () and [] reduce every dimension
    given = () if every or not input.ndim else tuple(dim) if isinstance(dim, Sequence) else (dim,)
    _check_nonempty(name, input, [wrap_dim(d, input.ndim) for d in given], given)  # before a repeated dim
    axes = normalize_dims(None if every else dim, input.ndim)
    _check_nonempty(name, input, () if every else axes)
    return node.apply(input, axes, keepdim)


def _arg(name, input, dim, keepdim):
    if input.dtype.is_complex:
        raise RuntimeError(f"{name}(): does not support complex input")
    xp = input._backend.xp
    if dim is None:
        if input.numel() == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        flat = xp.reshape(input._data, (-1,))
        data = (xp.argmax if name == "argmax" else xp.argmin)(flat)
        data = xp.reshape(data, (1,) * input.ndim) if keepdim else data
        return input._make(xp.astype(data, input._backend.native_dtype(dtypes.int64)))
    axis = wrap_dim(dim, input.ndim)
    if input.ndim == 0:
        return input._make(xp.zeros((), dtype=input._backend.native_dtype(dtypes.int64)))
    _check_nonempty(name, input, (axis,))
    data = (xp.argmax if name == "argmax" else xp.argmin)(input._data, axis=axis, keepdims=keepdim)
    return input._make(xp.astype(data, input._backend.native_dtype(dtypes.int64)))


@tensor_input
def argmax(
    input: Tensor,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    out: Tensor | None = None,
    axis: int | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Index of the maximum (over the flattened tensor when ``dim`` is None).

    Args:
        input (Tensor): the input tensor.
        dim (int, optional): the dimension to reduce; the flattened tensor when ``None``.
        keepdim (bool): whether the output keeps the reduced dimensions with size 1. Default: ``False``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> x = ember.tensor([[1.0, 9.0, 3.0], [7.0, 5.0, 6.0]])
        >>> ember.argmax(x)
        tensor(1)
        >>> ember.argmax(x, dim=1)
        tensor([1, 0])
    """
    return _argmax_or_argmin("argmax", input, dim, keepdim, out, axis, keepdims)


@tensor_input
def argmin(
    input: Tensor,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    out: Tensor | None = None,
    axis: int | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Index of the minimum (over the flattened tensor when ``dim`` is None).

    Args:
        input (Tensor): the input tensor.
        dim (int, optional): the dimension to reduce; the flattened tensor when ``None``.
        keepdim (bool): whether the output keeps the reduced dimensions with size 1. Default: ``False``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> x = ember.tensor([[1.0, 9.0, 3.0], [7.0, 5.0, 0.0]])
        >>> ember.argmin(x)
        tensor(5)
        >>> ember.argmin(x, dim=1, keepdim=True)
        tensor([[0],
                [2]])
    """
    return _argmax_or_argmin("argmin", input, dim, keepdim, out, axis, keepdims)


def _argmax_or_argmin(name, input, dim, keepdim, out, axis, keepdims):
    """:func:`argmax` or :func:`argmin` (``name``): their checks, then the index along ``dim``."""
    refuse_limited(f"{name}_cpu", input)  # PyTorch's kernel, named in its errors
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(name, dim, None, axis, keepdim, keepdims)
    if keepdim is not True and keepdim is not False:
        raise bool_arg_error(name, "keepdim", keepdim)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            result = _argmax_or_argmin(name, input, dim, keepdim, None, None, None)
            return write_out(name, result, out, exact_dtype=True)
    if input.dtype is dtypes.bool:
        raise RuntimeError(f"{name}(): does not support bool input")
    return _arg(name, input, dim, keepdim)


def _refuse_non_tensor(name: str, input: Any, dim: Any) -> None:
    """PyTorch's TypeError for ``max``/``min`` (``name``) of an ``input`` that is no tensor (``max(2, 3)``):
    the one-argument overload's "must be Tensor" alone, else the list of its overloads."""
    if not isinstance(input, Tensor):
        if dim is DIM_OMITTED:
            require_tensors(name, ("input",), input)
        raise invalid_combination(name, (input, dim), {}, SIGNATURES[name])


def _with_dim_overloads(name, body, input, dim, keepdim, out, axis, keepdims):
    """The ops with PyTorch's overloads ``name(input)`` and ``name(input, dim, keepdim)`` (``max``, ``min``,
    ``median``, ``nanmedian``): ``dim=None`` refused, NumPy's names taken, ``out=`` written (in the exact dtype
    with ``dim``; ``median(input)`` takes none), then ``body(name, input, dim, keepdim)`` computes, ``dim`` None
    over every element."""
    dim = refuse_none_dim(name, dim)
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(name, dim, None, axis, keepdim, keepdims)
    if out is not None:
        if dim is None and name in _NO_OUT_WITHOUT_DIM:
            raise TypeError(f'{name}() missing 1 required positional arguments: "dim"')
        given: Any = DIM_OMITTED if dim is None else dim  # (as the caller gave it)
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            result = _with_dim_overloads(name, body, input, given, keepdim, None, None, None)
            operands = reduced_operands(input, dim, keepdim)
            return write_out(name, result, out, exact_dtype=isinstance(dim, int), inputs=operands)
    return body(name, input, dim, keepdim)


#: the ops whose overload without ``dim`` takes no ``out=`` (PyTorch's parser asks for ``dim``)
_NO_OUT_WITHOUT_DIM = frozenset({"median", "nanmedian"})


def _extremum_with_indices(name, input, dim, keepdim):
    if isinstance(dim, Tensor):  # max(input, other): element-wise
        return (arithmetic.maximum if name == "max" else arithmetic.minimum)(input, dim)
    refuse_keepdim_without_dim(name, dim, keepdim)
    refuse_limited(f"{name}_all" if dim is None else f"{name}_cpu", input)
    if input.dtype.is_complex:
        if dim is None:
            not_implemented(f"{name}_all", input.dtype)
        raise RuntimeError(f"{name}(): does not support complex input")
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        return (_AllMax if name == "max" else _AllMin).apply(input, tuple(range(input.ndim)), False)
    axis = wrap_dim(dim, input.ndim)
    if input.ndim:
        _check_nonempty(name, input, (axis,))
    indices = _arg("argmax" if name == "max" else "argmin", input, axis, True)
    node = "MaxBackward0" if name == "max" else "MinBackward0"  # PyTorch's one node
    if not input.ndim:
        return getattr(return_types, name)(named_node(input.clone(), node), indices)
    return getattr(return_types, name)(*_selected_along(input, axis, indices, keepdim, node))


def _selected_along(input, axis, index, keepdim, node):
    """``(values, indices)`` of a selection along ``axis`` of ``input`` (not 0-d) from ``index``, its positions
    (``int64``, ``axis`` kept): the values gathered, made by one node named ``node`` as PyTorch names its op's;
    both without ``axis`` unless ``keepdim``. Where no graph records the op and no tangent follows it, the
    values are taken from the arrays directly (the op's bookkeeping costs most of a small max)."""
    if (grad_state.enabled and input.requires_grad) or autograd_function.tangent_rule is not None:
        values = named_node(_SelectAlong.apply(input, axis, index._data, keepdim), node)
    else:
        values = input._make(_taken_along(input, axis, index._data, keepdim))
    if not keepdim:
        index = index._make(index._backend.xp.squeeze(index._data, axis=axis))
    return values, index


def _taken_along(x, axis, index, keepdim):
    """The native array of ``x``'s values at ``index`` (a native array) along ``axis`` (which ``index`` keeps),
    row-major as PyTorch's gather, without ``axis`` unless ``keepdim``."""
    backend = x._backend
    data = backend.xp.take_along_axis(x._data, index, axis=axis)
    if not backend.is_contiguous(data):
        data = row_major(backend, data)
    return data if keepdim else backend.xp.squeeze(data, axis=axis)


class _SelectAlong(Function):
    """:func:`_taken_along` as one node whose one input is ``x`` (a gather and a squeeze: PyTorch records its
    selections along a dimension, max/min/median, so): its gradient is the incoming one scattered to the
    positions (the op's own, a native array no one else writes)."""

    @staticmethod
    def forward(ctx, x, axis, index, keepdim):
        ctx.shape, ctx.axis, ctx.index, ctx.keepdim = x.shape, axis, index, keepdim
        return x._make(_taken_along(x, axis, index, keepdim))

    @staticmethod
    def backward(ctx, grad):
        if not ctx.keepdim:
            grad = grad.unsqueeze(ctx.axis)
        index = grad._make(ctx.index)
        return grad.new_zeros(ctx.shape).scatter_add(ctx.axis, index, grad), None, None, None


@overload
def max(input: Tensor) -> Tensor: ...  # noqa: A001
@overload
def max(input: Tensor, dim: int, keepdim: bool = False) -> return_types.max: ...  # noqa: A001
@overload
def max(input: Tensor, dim: Tensor) -> Tensor: ...  # noqa: A001
@tensor_input
def max(  # noqa: A001
    input: Tensor,
    dim: int | Tensor | None = DIM_OMITTED,
    keepdim: bool = False,
    *,
    out: Any = None,
    axis: int | None = None,
    keepdims: bool | None = None,
) -> Any:
    """Maximum of all elements, or ``(values, indices)`` along ``dim``, or element-wise with a tensor.

    Args:
        input (Tensor): the input tensor.
        dim (int or Tensor, optional): the dimension to reduce; all elements when ``None``; a tensor to take the
            element-wise maximum with (as :func:`maximum`).
        keepdim (bool): whether the output keeps the reduced dimensions with size 1. Default: ``False``.
        out (Tensor or tuple of Tensors, optional): the output tensor, or ``(values, indices)`` with ``dim``; resized and returned. Default: ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Returns:
        A 0-d tensor without ``dim``; with it, a named tuple ``(values, indices)``.

    Example::

        >>> x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> ember.max(x)
        tensor(6.)
        >>> ember.max(x, dim=1)
        ember.return_types.max(
        values=tensor([3., 6.]),
        indices=tensor([2, 2]))
    """
    _refuse_non_tensor("max", input, dim)
    return _with_dim_overloads("max", _extremum_with_indices, input, dim, keepdim, out, axis, keepdims)


@overload
def min(input: Tensor) -> Tensor: ...  # noqa: A001
@overload
def min(input: Tensor, dim: int, keepdim: bool = False) -> return_types.min: ...  # noqa: A001
@overload
def min(input: Tensor, dim: Tensor) -> Tensor: ...  # noqa: A001
@tensor_input
def min(  # noqa: A001
    input: Tensor,
    dim: int | Tensor | None = DIM_OMITTED,
    keepdim: bool = False,
    *,
    out: Any = None,
    axis: int | None = None,
    keepdims: bool | None = None,
) -> Any:
    """Minimum of all elements, or ``(values, indices)`` along ``dim``, or element-wise with a tensor.

    Args:
        input (Tensor): the input tensor.
        dim (int or Tensor, optional): the dimension to reduce; all elements when ``None``; a tensor to take the
            element-wise minimum with (as :func:`minimum`).
        keepdim (bool): whether the output keeps the reduced dimensions with size 1. Default: ``False``.
        out (Tensor or tuple of Tensors, optional): the output tensor, or ``(values, indices)`` with ``dim``; resized and returned. Default: ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Returns:
        A 0-d tensor without ``dim``; with it, a named tuple ``(values, indices)``.

    Example::

        >>> x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> ember.min(x)
        tensor(1.)
        >>> ember.min(x, dim=0)
        ember.return_types.min(
        values=tensor([1., 2., 3.]),
        indices=tensor([0, 0, 0]))
    """
    _refuse_non_tensor("min", input, dim)
    return _with_dim_overloads("min", _extremum_with_indices, input, dim, keepdim, out, axis, keepdims)


@tensor_input
def aminmax(
    input: Tensor,
    *,
    dim: int | None = None,
    keepdim: bool = False,
    out: Any = None,
    axis: int | None = None,
    keepdims: bool | None = None,
) -> return_types.aminmax:
    """``(amin, amax)`` in one call.

    Args:
        input (Tensor): the input tensor.
        dim (int, optional): the dimension to reduce; all of them when ``None``.
        keepdim (bool): whether the output keeps the reduced dimensions with size 1. Default: ``False``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> ember.aminmax(x)
        ember.return_types.aminmax(
        min=tensor(1.),
        max=tensor(6.))
        >>> ember.aminmax(x, dim=1)
        ember.return_types.aminmax(
        min=tensor([1., 4.]),
        max=tensor([3., 6.]))
    """
    refuse_limited("aminmax_cpu", input)
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("aminmax", dim, None, axis, keepdim, keepdims)
    if keepdim is not True and keepdim is not False:
        raise bool_arg_error("aminmax", "keepdim", keepdim)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            result = aminmax(input, dim=dim, keepdim=keepdim)
            return write_out("aminmax", result, out, exact_dtype=True, inputs=reduced_operands(input, dim, keepdim))
    d = () if dim is None else (wrap_dim(dim, input.ndim),)  # one int dim, not amin's tuples
    if input.numel() == 0:  # amin's errors, named as aminmax's
        if dim is None:
            raise RuntimeError(
                "aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity."
            )
        axis = wrap_dim(dim, input.ndim)
        if input.ndim and input.shape[axis] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {axis} to have non-zero size.")
    if input.dtype.is_complex and input.numel():  # (an empty one: amin's error first, as PyTorch's)
        not_implemented("aminmax_cpu", input.dtype)
    return return_types.aminmax(amin(input, d, keepdim), amax(input, d, keepdim))


def _refuse_unbiased_and_correction(op, dim, unbiased, correction):
    """PyTorch's TypeError for ``unbiased`` and ``correction`` given together (they belong to two overloads):
    ``x.var(unbiased=False, correction=1)`` would otherwise pick one of them silently; and its TypeError for an
    ``unbiased`` that is no bool (``x.var(0, unbiased=1)``)."""
    if unbiased is not None and unbiased is not True and unbiased is not False:
        raise bool_arg_error(op, "unbiased", unbiased)
    if correction is not None and (unbiased is not None or isinstance(dim, bool)):
        raise TypeError(
            f"{op}() received an invalid combination of arguments - got (correction=..., unbiased=bool): give "
            "either correction or unbiased"
        )


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


def _scaled_variance(input, axes, keepdim, correction):
    """``(scale, v)`` with the variance equal to ``scale**2 * v``: the deviations are divided by
    their largest magnitude before squaring, so that neither var nor std overflows where the
    result itself is finite (PyTorch accumulates in a wider type to the same effect)."""
    count = math.prod(input.shape[a] for a in axes)
    centered = input - input.mean(axes, keepdim=True)
    scale = centered.abs().amax(axes, keepdim=True) if count else centered.sum(axes, keepdim=True)
    scale = where_(scale == 0, scale * 0 + 1, scale)
    scale = where_(scale.isfinite(), scale, scale * 0 + 1)
    unit = centered / scale
    dof = builtins.max(count - correction, 0)
    total = (unit * unit).sum(axes, keepdim=keepdim)
    if not keepdim:
        scale = scale.reshape(total.shape)
    return scale, (total / dof if dof else total * math.inf)


class _Variance(Function):
    """var (or std, ``is_std``) over ``axes``; the backward is PyTorch's ``var_backward``/``std_backward``:
    ``grad`` is multiplied once by ``2 (x - mean) / (N - correction)``, so an inf/NaN ``grad`` reaches each
    element of its own slice, and nothing flows through the mean (its gradient sums to zero)."""

    _backward_name = "VarBackward0"

    @staticmethod
    def forward(ctx, input, axes, keepdim, correction, is_std, full):
        narrow = input.dtype in dtypes.narrow_float  # in float32, rounded once; the backward in the 16-bit type
        scale, v = _scaled_variance(input.float() if narrow else input, axes, keepdim, correction)
        out = v.sqrt() * scale if is_std else v * (scale * scale)
        if narrow:
            out = out.to(input.dtype)
        ctx.axes, ctx.keepdim, ctx.correction, ctx.is_std, ctx.full = axes, keepdim, correction, is_std, full
        ctx.save_for_backward(input, out if is_std else None)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, result = ctx.saved_tensors
        axes = ctx.axes
        if ctx.is_std:  # 0 where the deviation is 0 (std's infinite slope is not taken), as PyTorch
            grad = where_(result == 0, grad.new_zeros(()), grad / (result * 2))
        if not ctx.keepdim:
            grad = grad.reshape(tuple(1 if i in axes else n for i, n in enumerate(x.shape)))
        centered = x - x.mean(axes, keepdim=True)
        dof = math.prod(x.shape[a] for a in axes) - ctx.correction
        if dof <= 0 and ctx.full:  # PyTorch: NaN where x equals the mean, inf elsewhere
            inf = centered.new_full((), math.inf)
            return grad * where_(centered == 0, centered.new_full((), math.nan), inf), None, None, None, None, None
        return grad * (2.0 / dof if dof else math.inf) * centered, None, None, None, None, None


class _StandardDeviation(_Variance):
    _backward_name = "StdBackward0"


def _variance(input, dim, unbiased, keepdim, correction, is_std, op=None):
    op = op or ("std" if is_std else "var")  # the name in the warning: var_mean and std_mean give their own
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    if input.dtype.is_complex:  # the variance of complex numbers: the real parts' plus the imaginary parts'
        parts = (_variance(part, dim, unbiased, keepdim, correction, False, op) for part in (input.real, input.imag))
        variance = builtins.sum(parts)
        return variance.sqrt() if is_std else variance
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            f"std and var only support floating point and complex dtypes, got {TORCH_NAMES[input.dtype]}"
        )
    axes = normalize_dims(_every_dim_if_empty(dim), input.ndim)
    full = len(axes) == input.ndim
    if input.dtype in FLOAT8:  # PyTorch's whole-tensor kernel and its kernel over dims both refuse float8
        if full and dim is None:
            raise RuntimeError(f"std_var_all: Unsupported dtype {_TORCH_NAMES[input.dtype.name]}")
        not_implemented("std_cpu", input.dtype)
    correction = _correction(unbiased, correction)
    kept = math.prod(n for i, n in enumerate(input.shape) if i not in axes)
    if input.numel() / builtins.max(kept, 1) - correction <= 0:  # PyTorch's reduction factor: numel in / out
        warnings.warn(
            f"{op}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction factor "
            "(input numel divided by output numel).",
            UserWarning,
            stacklevel=outside_ember_stacklevel(),  # the caller's line, however the op was reached
        )
    node = _StandardDeviation if is_std else _Variance
    return node.apply(input, axes, keepdim, correction, is_std, full)


@tensor_input
def var(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
    out: Tensor | None = None,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Variance over ``dim`` with Bessel's correction (``correction=1``) by default.

    .. math::
        var = (1 / (N - correction)) sum_i (input_i - mean)^2

    Args:
        input (Tensor): the input tensor.
        dim (int or tuple of ints, optional): the dimension or dimensions to reduce; all of them when ``None``.
        unbiased (bool, optional): the older spelling of ``correction`` (``True`` is 1, ``False`` is 0).
        keepdim (bool): whether the output keeps the reduced dimensions with size 1. Default: ``False``.
        correction (int, optional): the difference between the sample size and the degrees of freedom (Bessel's
            correction); 1 when ``None``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int or tuple of ints, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> ember.var(x)
        tensor(3.5000)
        >>> ember.var(x, dim=1, correction=0)
        tensor([0.6667, 0.6667])
    """
    return _variance_call("var", input, dim, unbiased, keepdim, correction, out, axis, keepdims)


@tensor_input
def std(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
    out: Tensor | None = None,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Standard deviation over ``dim`` (square root of :func:`var`).

    .. math::
        std = sqrt((1 / (N - correction)) sum_i (input_i - mean)^2)

    Args:
        input (Tensor): the input tensor.
        dim (int or tuple of ints, optional): the dimension or dimensions to reduce; all of them when ``None``.
        unbiased (bool, optional): the older spelling of ``correction`` (``True`` is 1, ``False`` is 0).
        keepdim (bool): whether the output keeps the reduced dimensions with size 1. Default: ``False``.
        correction (int, optional): the difference between the sample size and the degrees of freedom (Bessel's
            correction); 1 when ``None``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int or tuple of ints, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> ember.std(x)
        tensor(1.8708)
        >>> ember.std(x, dim=0)
        tensor([2.1213, 2.1213, 2.1213])
    """
    return _variance_call("std", input, dim, unbiased, keepdim, correction, out, axis, keepdims)


@tensor_input
def var_mean(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
) -> tuple[Tensor, Tensor]:
    """``(var, mean)`` over ``dim``.

    Args:
        input (Tensor): the input tensor.
        dim (int or tuple of ints, optional): the dimension or dimensions to reduce; all of them when ``None``.
        unbiased (bool, optional): the older spelling of ``correction`` (``True`` is 1, ``False`` is 0).
        keepdim (bool): whether the output keeps the reduced dimensions with size 1. Default: ``False``.
        correction (int, optional): the difference between the sample size and the degrees of freedom (Bessel's
            correction); 1 when ``None``.
        axis (int or tuple of ints, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> ember.var_mean(x, dim=1)
        (tensor([1., 1.]), tensor([2., 5.]))
    """
    return _variance_call("var_mean", input, dim, unbiased, keepdim, correction, None, axis, keepdims)


@tensor_input
def std_mean(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
) -> tuple[Tensor, Tensor]:
    """``(std, mean)`` over ``dim``.

    Args:
        input (Tensor): the input tensor.
        dim (int or tuple of ints, optional): the dimension or dimensions to reduce; all of them when ``None``.
        unbiased (bool, optional): the older spelling of ``correction`` (``True`` is 1, ``False`` is 0).
        keepdim (bool): whether the output keeps the reduced dimensions with size 1. Default: ``False``.
        correction (int, optional): the difference between the sample size and the degrees of freedom (Bessel's
            correction); 1 when ``None``.
        axis (int or tuple of ints, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> ember.std_mean(x, dim=1)
        (tensor([1., 1.]), tensor([2., 5.]))
    """
    return _variance_call("std_mean", input, dim, unbiased, keepdim, correction, None, axis, keepdims)


def _variance_call(name, input, dim, unbiased, keepdim, correction, out, axis, keepdims):
    """``var``, ``std``, ``var_mean`` or ``std_mean`` (``name``): their checks, then the variance (its root for
    the ``std`` ones) and for the ``_mean`` ones the mean too, both made by PyTorch's one node's name."""
    with_mean, is_std = name.endswith("_mean"), name.startswith("std")
    if with_mean:
        refuse_limited("std_cpu", input, among=FLOAT8)  # (var and std refuse it in _variance, as PyTorch's)
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names(name, dim, None, axis, keepdim, keepdims)
    if keepdim is not True and keepdim is not False:
        raise bool_arg_error(name, "keepdim", keepdim)
    _refuse_unbiased_and_correction(name, dim, unbiased, correction)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            result = _variance_call(name, input, dim, unbiased, keepdim, correction, None, None, None)
            return write_out(name, result, out)
    if not with_mean:
        return _variance(input, dim, unbiased, keepdim, correction, is_std=is_std)
    mean_dim = None if isinstance(dim, bool) else dim  # ``var_mean(x, True)``: the positional ``unbiased``
    spread = _variance(input, dim, unbiased, keepdim, correction, is_std, name)
    mean = input.mean(normalize_dims(_every_dim_if_empty(mean_dim), input.ndim), keepdim)
    node = "StdMeanBackward0" if is_std else "VarMeanBackward0"  # PyTorch's one node's name
    return named_node(spread, node), named_node(mean, node)


class _PNorm(Function):
    """``(sum |x|^p)^(1/p)`` for finite ``p > 0``, the count of non-zeros for ``p == 0``; the backward is
    PyTorch's ``norm_backward``."""

    _backward_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        xp = x._backend.xp
        a = xp.abs(x._data)
        narrow = x.dtype in dtypes.narrow_float  # in float32, rounded once; the backward in the 16-bit type
        if narrow:
            a = xp.astype(a, x._backend.native_dtype(dtypes.float32))
        if p == 2:
            n = xp.sqrt(xp.sum(a * a, axis=axes, keepdims=keepdim))
        elif p == 1:
            n = xp.sum(a, axis=axes, keepdims=keepdim)
        elif p == 0:  # the count of non-zeros
            n = xp.sum(xp.astype(a != 0, a.dtype), axis=axes, keepdims=keepdim)
        else:
            n = xp.pow(xp.sum(xp.pow(a, p), axis=axes, keepdims=keepdim), 1.0 / p)
        y = _reduced(x, xp.astype(n, x._data.dtype) if narrow else n)
        ctx.save_for_backward(x, y)
        ctx.p, ctx.axes, ctx.keepdim = p, axes, keepdim
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        p = ctx.p
        if p == 0:  # in the graph, without a gradient: None (x.grad stays None), as PyTorch
            return None, None, None, None
        y = _restore_dims(y, ctx.axes, x.ndim, ctx.keepdim)
        grad = _restore_dims(grad, ctx.axes, x.ndim, ctx.keepdim)
        # PyTorch's norm_backward: the subgradient 0 at a zero norm is a factor of grad, so an inf/NaN grad
        # still gives NaN there, as in PyTorch; its masked_fill_ in place keeps the layout of the quotient
        if p == 1:
            g = x.sign() * grad
        elif p == 2:
            g = grad * (x / y).masked_fill_(y == 0, 0)
        elif p < 1:
            g = x.sign() * x.abs().pow(p - 1).masked_fill_(x == 0, 0) * grad * y.pow(1 - p)
        else:
            scaled = x.sign() * x.abs().pow(p - 1) if p < 2 else x * x.abs().pow(p - 2)
            g = scaled * (grad / y.pow(p - 1)).masked_fill_(y == 0, 0)
        return g, None, None, None


def norm(
    input: Tensor,
    p: float | str | None = "fro",
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    dtype: _dtype | None = None,
    *,
    out: Tensor | None = None,
) -> Tensor:
    """The ``p``-norm over ``dim`` (all elements when None).

    .. math::
        ||input||_p = (sum_i |input_i|^p)^{1/p}

    Args:
        input (Tensor): the input tensor.
        p (float, inf or str): ``'fro'`` (the 2-norm), ``'nuc'`` (the nuclear norm of matrices, see
            :func:`ember.linalg.matrix_norm`), a positive number, ``inf``, ``-inf`` or 0 (the count of
            non-zeros). Default: ``'fro'``.
        dim (int or tuple of ints, optional): the dimensions to reduce; all of them when ``None``.
        keepdim (bool): whether the output keeps the reduced dimensions with size 1. Default: ``False``.
        dtype (ember.dtype, optional): the type to compute and return in.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> x = ember.tensor([[3.0, 4.0], [6.0, 8.0]])
        >>> ember.norm(x)
        tensor(11.1803)
        >>> ember.norm(x, p=1, dim=1)
        tensor([ 7., 14.])
        >>> ember.norm(x, p=float('inf'))
        tensor(8.)
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("norm", norm(input, p, dim, keepdim, dtype), out, exact_dtype=True)
    if _amp.active:  # float32 on cuda (cpu leaves it alone)
        (input,) = cast_inputs("norm", input)
    if keepdim is not True and keepdim is not False:
        raise bool_arg_error("norm", "keepdim", keepdim)
    if p != "nuc":
        check_vector_norm_dtype("linalg.vector_norm", input, dtype)
    if dtype is not None:
        input = input.to(dtype)
    if p == "nuc":  # the nuclear norm of the matrices over the two dims (all of a 2-D input)
        return matrix_norm(input, "nuc", tuple(range(input.ndim)) if dim is None else dim, keepdim)
    if input.dtype.is_complex:  # a vector norm of complex numbers is the norm of their absolute values
        input = input.abs()
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"norm(): input dtype should be floating point, but got {input.dtype}")
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise RuntimeError(f"norm(): unsupported norm type {p!r}")
    axes = normalize_dims(_every_dim_if_empty(dim), input.ndim)
    if p < 0 or p == math.inf:
        _check_norm_identity(input, p, dim, axes)
    if p == math.inf:
        return input.abs().amax(axes, keepdim)
    if p == -math.inf:
        return input.abs().amin(axes, keepdim)
    return _PNorm.apply(input, float(p), axes, keepdim)


def _check_norm_identity(input: Tensor, p: float, dim: object, axes: tuple[int, ...]) -> None:
    """The largest magnitude, and a negative order's norm, of no elements has no value (no identity):
    refuse an empty reduction, as PyTorch."""
    order = {math.inf: "inf", -math.inf: "-inf"}.get(p, f"{p:g}")
    if dim is None or dim == ():
        if input.numel() == 0:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {order} norm on an empty tensor because the operation does "
                "not have an identity"
            )
        return
    for axis in axes:
        if input.shape[axis] == 0:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {order} norm on the dimension {axis} because this dimension "
                "is empty and the operation does not have an identity"
            )


@tensor_input
@computes_in_float32
def logsumexp(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    out: Tensor | None = None,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """``log(sum(exp(input)))`` over ``dim``, computed stably.

    .. math::
        out = log(sum_j exp(input_j))

    Args:
        input (Tensor): the input tensor.
        dim (int): the dimension to reduce.
        keepdim (bool): whether the output keeps the reduced dimensions with size 1. Default: ``False``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int or tuple of ints, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> ember.logsumexp(ember.tensor([[0.0, 0.0], [1000.0, 1000.0]]), dim=1)
        tensor([6.9315e-01, 1.0007e+03])
    """
    if axis is not None or keepdims is not None or dim is None:
        dim, keepdim = numpy_names("logsumexp", dim, None, axis, keepdim, keepdims, required=True)
    if keepdim is not True and keepdim is not False:
        raise bool_arg_error("logsumexp", "keepdim", keepdim)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("logsumexp", logsumexp(input, dim, keepdim), out)
    if _amp.active:  # float32 on cuda (cpu leaves it alone)
        (input,) = cast_inputs("logsumexp", input)
    axes = normalize_dims(_every_dim_if_empty(dim), input.ndim)
    if not keepdim and input.ndim and input.numel() and _every_dim_if_empty(dim) is None:
        # PyTorch's kernel reduces every dim for () but writes into an output shaped for no dim reduced
        raise RuntimeError(
            f"logsumexp(): output with shape [] doesn't match the broadcast shape [{', '.join(['1'] * input.ndim)}]"
        )
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        input = input.to(dtypes.get_default_dtype())
    if input.numel() == 0:
        return (input.exp().sum(axes, keepdim=keepdim)).log()
    m = input.detach().real.amax(axes, keepdim=True)  # complex numbers shift by their largest real part
    m = m.masked_fill(m.isinf(), 0)
    out = (input - m).exp().sum(axes, keepdim=True).log() + m
    return named_node(out if keepdim else out.squeeze(axes) if axes else out, "LogsumexpBackward0")


class _Cumsum(Function):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return _reduced(x, x._backend.xp.cumulative_sum(x._data, axis=axis, dtype=x._data.dtype))

    @staticmethod
    def backward(ctx, grad):
        return grad.flip(ctx.axis).cumsum(ctx.axis).flip(ctx.axis), None


def cumsum(
    input: Tensor,
    dim: int | None = None,
    *,
    dtype: _dtype | None = None,
    out: Tensor | None = None,
    axis: int | None = None,
) -> Tensor:
    """Cumulative sum along ``dim``.

    .. math::
        out_i = input_1 + input_2 + ... + input_i

    Args:
        input (Tensor): the input tensor.
        dim (int): the dimension to scan.
        dtype (ember.dtype, optional): the data type of the result (and of the computation).
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.

    Example::

        >>> x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> ember.cumsum(x, dim=1)
        tensor([[ 1.,  3.,  6.],
                [ 4.,  9., 15.]])
        >>> ember.cumsum(ember.tensor([1, 2, 3]), dim=0)
        tensor([1, 3, 6])
    """
    if axis is not None or dim is None:
        dim, _ = numpy_names("cumsum", dim, None, axis, False, None, required=True)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out(
                "cumsum",
                cumsum(input, dim, dtype=out.dtype if dtype is None else dtype),
                out,
                exact_dtype=True,
                inputs=(input,),
            )
    if _amp.active:
        (input,) = cast_inputs("cumsum", input, dtype=dtype)
    out = _accumulate_dtype(input.dtype, dtype, "cumsum_out_cpu")
    if out is dtypes.bool:
        not_implemented("cumsum_out_cpu", out)
    if out is not input.dtype:
        input = input.to(out)
    axis = wrap_dim(dim, input.ndim)
    if input.ndim == 0:
        return input.clone()
    return _Cumsum.apply(input, axis)


@tensor_input
def all(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    out: Tensor | None = None,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
) -> Tensor:  # noqa: A001
    """True where every element over ``dim`` is non-zero.

    Args:
        input (Tensor): the input tensor.
        dim (int or tuple of ints, optional): the dimension or dimensions to test; all of them when ``None``.
        keepdim (bool): whether the output keeps the reduced dimensions with size 1. Default: ``False``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int or tuple of ints, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> x = ember.tensor([[True, False], [True, True]])
        >>> ember.all(x)
        tensor(False)
        >>> ember.all(x, dim=1)
        tensor([False,  True])
    """
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("all", dim, None, axis, keepdim, keepdims)
    if keepdim is not True and keepdim is not False:
        raise bool_arg_error("all", "keepdim", keepdim)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("all", all(input, dim, keepdim), out, exact_dtype=True)
    axes = normalize_dims(dim, input.ndim)
    data = input._data if input.dtype is dtypes.bool else input._data != 0
    out = _reduced(input, input._backend.xp.all(data, axis=axes, keepdims=keepdim))
    return out.to(dtypes.uint8) if input.dtype is dtypes.uint8 else out  # PyTorch keeps uint8


@tensor_input
def any(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    out: Tensor | None = None,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
) -> Tensor:  # noqa: A001
    """True where some element over ``dim`` is non-zero.

    Args:
        input (Tensor): the input tensor.
        dim (int or tuple of ints, optional): the dimension or dimensions to test; all of them when ``None``.
        keepdim (bool): whether the output keeps the reduced dimensions with size 1. Default: ``False``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int or tuple of ints, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> x = ember.tensor([[0, 0], [0, 3]])
        >>> ember.any(x)
        tensor(True)
        >>> ember.any(x, dim=1)
        tensor([False,  True])
    """
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("any", dim, None, axis, keepdim, keepdims)
    if keepdim is not True and keepdim is not False:
        raise bool_arg_error("any", "keepdim", keepdim)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("any", any(input, dim, keepdim), out, exact_dtype=True)
    axes = normalize_dims(dim, input.ndim)
    data = input._data if input.dtype is dtypes.bool else input._data != 0
    out = _reduced(input, input._backend.xp.any(data, axis=axes, keepdims=keepdim))
    return out.to(dtypes.uint8) if input.dtype is dtypes.uint8 else out  # PyTorch keeps uint8


@tensor_input_checked
def count_nonzero(
    input: Tensor, dim: int | Sequence[int] | None = None, *, axis: int | Sequence[int] | None = None
) -> Tensor:
    """Number of non-zero elements over ``dim``.

    Args:
        input (Tensor): the input tensor.
        dim (int or tuple of ints, optional): the dimension or dimensions to reduce; all of them when ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.

    Example::

        >>> x = ember.tensor([[0, 1, 2], [0, 0, 3]])
        >>> ember.count_nonzero(x)
        tensor(3)
        >>> ember.count_nonzero(x, dim=1)
        tensor([2, 1])
    """
    refuse_limited("nonzero_count_cpu", input)
    if axis is not None:
        dim, _ = numpy_names("count_nonzero", dim, None, axis, False, None)
    return (input != 0).sum(dim)


# -- more scans and NaN-aware reductions -----------------------------------------------------
def _scan(input, dim, combine):
    """Inclusive scan along ``dim`` with the differentiable binary op ``combine(running, next)``."""
    axis = wrap_dim(dim, input.ndim)
    if input.ndim == 0:
        return input.clone()
    if input.shape[axis] == 0:
        return input.clone()
    parts = input.unbind(axis)
    acc, run = parts[0], [parts[0]]
    for part in parts[1:]:
        acc = combine(acc, part)
        run.append(acc)
    return stack(run, axis)


@computes_in_float32
def cumprod(
    input: Tensor,
    dim: int | None = None,
    *,
    dtype: _dtype | None = None,
    out: Tensor | None = None,
    axis: int | None = None,
) -> Tensor:
    """Cumulative product along ``dim`` (integers accumulate in int64).

    The gradient is exact in the presence of zeros (PyTorch's formula, which selects around them).

    Args:
        input (Tensor): the input.
        dim (int): the dimension to scan.
        dtype (ember.dtype, optional): accumulate and return in this type. Default: None
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.

    Example::

        >>> ember.cumprod(ember.tensor([1.0, 2.0, 3.0]), 0)
        tensor([1., 2., 6.])
    """
    if axis is not None or dim is None:
        dim, _ = numpy_names("cumprod", dim, None, axis, False, None, required=True)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out(
                "cumprod",
                cumprod(input, dim, dtype=out.dtype if dtype is None else dtype),
                out,
                exact_dtype=True,
                inputs=(input,),
            )
    out = _accumulate_dtype(input.dtype, dtype, "cumprod_out_cpu")
    if out is dtypes.bool:
        not_implemented("cumprod_out_cpu", out)
    if out is not input.dtype:
        input = input.to(out)
    axis = wrap_dim(dim, input.ndim)
    if input.ndim == 0 or input.shape[axis] <= 1:
        return input.clone()
    return _Cumprod.apply(input, axis)


class _Cumprod(Function):
    """The scan of products, with PyTorch's ``cumprod_backward``: the gradient before a slice's first zero is
    the reversed cumulative sum of ``out * grad`` over ``x``, at the first zero the products up to the second
    one, 0 after it, each selected, so an inf/NaN upstream past a zero stays there as in PyTorch."""

    @staticmethod
    def forward(ctx, x, axis):
        out = _scan(x, axis, lambda acc, part: acc * part)
        ctx.save_for_backward(x, out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        if grad.dtype.is_complex:  # a polynomial in x: the conjugate Wirtinger gradient takes conj(x)
            x, out = x.conj(), out.conj()
        if differentiable_backward():
            return _cumprod_grad_differentiable(x, out, grad, ctx.axis), None
        return _cumprod_grad(x, out, grad, ctx.axis), None


def _reversed_cumsum(w, axis):
    return w.flip(axis).cumsum(axis).flip(axis)


def _cumprod_grad(x, out, grad, axis):
    """PyTorch's O(n) gradient: the three regions of each slice (before, at and after its first zero)."""
    zeros = (x == 0).to(dtypes.int64).cumsum(axis)
    before = zeros == 0
    first = zeros == 1
    at_first_zero = first & (x == 0)
    between = first & ~at_first_zero
    grad_before = _reversed_cumsum((out * grad).masked_fill(~before, 0), axis) / x
    index = first.to(dtypes.int64).argmax(axis, keepdim=True)
    prefix = out.gather(axis, (index - 1).clamp(min=0)).masked_fill(index == 0, 1)
    run = x.masked_fill(~between, 1).cumprod(axis) * grad.masked_fill(~first, 0)
    grad_zero = run.sum(axis, keepdim=True) * prefix
    return where(before, grad_before, where(at_first_zero, grad_zero, x.new_zeros(())))


def _cumprod_grad_differentiable(x, out, grad, axis):
    """The gradient under ``create_graph``: PyTorch's O(n) formula without zeros (a host sync decides, as in
    PyTorch), else the sum of ``grad`` times the products with ``x_k`` left out, differentiable everywhere."""
    if not bool((x == 0).any()):
        return _reversed_cumsum(out * grad, axis) / x
    parts = []
    for k in range(x.shape[axis]):
        until = x.narrow(axis, 0, k).prod(axis, keepdim=True) if k else None
        rest = x.narrow(axis, k + 1, x.shape[axis] - k - 1)
        if until is None:
            omitted = cat([x.new_ones(()).expand(*grad.narrow(axis, 0, 1).shape), rest.cumprod(axis)], axis)
        elif rest.shape[axis]:
            omitted = cat([until, until * rest.cumprod(axis)], axis)
        else:
            omitted = until
        parts.append((grad.narrow(axis, k, x.shape[axis] - k) * omitted).sum(axis))
    return stack(parts, axis)


def _cumulative_extremum(name, input, dim):
    if input.dtype.is_complex and input.ndim and input.numel():  # (0-d or empty: PyTorch calls no kernel)
        not_implemented(f"{name}_cpu", input.dtype)
    axis = wrap_dim(dim, input.ndim)
    xp, backend = input._backend.xp, input._backend
    long = backend.native_dtype(dtypes.int64)
    if input.ndim == 0:
        return getattr(return_types, name)(input.clone(), input._make(xp.zeros((), dtype=long)))
    if input.shape[axis] == 0:
        empty = input._make(xp.zeros(input._data.shape, dtype=long))
        return getattr(return_types, name)(input.clone(), empty)
    indices = input._make(backend.kernels.cumulative_extremum_positions(input._data, axis, name == "cummax"))
    values = named_node(input.gather(axis, indices), f"{name.capitalize()}Backward0")  # CummaxBackward0
    return getattr(return_types, name)(values, indices)


def cummax(input: Tensor, dim: int | None = None, *, out: Any = None, axis: int | None = None) -> return_types.cummax:
    """Running maximum along ``dim`` and the index where it was found, as ``(values, indices)``.

    Ties take the later index; a NaN propagates (as in PyTorch).

    Example::

        >>> ember.cummax(ember.tensor([1.0, 3.0, 2.0]), 0).values
        tensor([1., 3., 3.])
    """
    refuse_limited("cummax_cpu", input)
    if axis is not None or dim is None:
        dim, _ = numpy_names("cummax", dim, None, axis, False, None, required=True)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("cummax", cummax(input, dim), out, exact_dtype=True)
    return _cumulative_extremum("cummax", input, dim)


def cummin(input: Tensor, dim: int | None = None, *, out: Any = None, axis: int | None = None) -> return_types.cummin:
    """Running minimum along ``dim`` and the index where it was found, as ``(values, indices)``.

    Args:
        input (Tensor): the input tensor.
        dim (int): the dimension to scan.
        out (tuple of Tensors, optional): the output ``(values, indices)``, resized and returned. Default: ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.

    Example::

        >>> ember.cummin(ember.tensor([3.0, 1.0, 2.0, 0.0]), dim=0)
        ember.return_types.cummin(
        values=tensor([3., 1., 1., 0.]),
        indices=tensor([0, 1, 1, 3]))
    """
    refuse_limited("cummin_cpu", input)
    if axis is not None or dim is None:
        dim, _ = numpy_names("cummin", dim, None, axis, False, None, required=True)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("cummin", cummin(input, dim), out, exact_dtype=True)
    return _cumulative_extremum("cummin", input, dim)


@computes_in_float32
def logcumsumexp(
    input: Tensor, dim: int | None = None, *, out: Tensor | None = None, axis: int | None = None
) -> Tensor:
    """``log(cumsum(exp(input)))`` along ``dim``, computed stably (a running log-add-exp).

    Example::

        >>> ember.logcumsumexp(ember.tensor([0.0, 0.0]), 0)
        tensor([0.0000, 0.6931])
    """
    if axis is not None or dim is None:
        dim, _ = numpy_names("logcumsumexp", dim, None, axis, False, None, required=True)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("logcumsumexp", logcumsumexp(input, dim), out, exact_dtype=True, inputs=(input,))
    if input.dtype not in FLOATING_AND_HALF and not input.dtype.is_complex:
        not_implemented("logcumsumexp_out_cpu", input.dtype)
    return _LogCumSumExp.apply(input, dim)


class _LogCumSumExp(Function):
    """The scan of :func:`_log_add_exp`, with PyTorch's ``logcumsumexp_backward``: the positive and the negative
    parts of ``grad`` go through a reversed logcumsumexp in log space (a NaN ``grad`` is neither, so it does
    not spread along the scan as the chain of log-add-exps would spread it)."""

    _backward_name = "LogcumsumexpBackward0"

    @staticmethod
    def forward(ctx, input, dim):
        out = _complex_log_add_exp_scan(input, dim) if input.dtype.is_complex else _scan(input, dim, _log_add_exp)
        ctx.save_for_backward(input, out)
        ctx.axis = wrap_dim(dim, input.ndim) if input.ndim else 0
        return out

    @staticmethod
    def backward(ctx, grad):
        if grad.ndim == 0 or grad.numel() == 0:
            return grad, None
        x, out = ctx.saved_tensors
        axis = ctx.axis
        if grad.dtype.is_complex:  # the complex log of grad needs no split into signs
            reversed_sum = logcumsumexp((grad.conj().log() - out).flip(axis), axis).flip(axis)
            return (reversed_sum + x).exp().conj(), None
        dtype = grad.dtype
        if dtype is not dtypes.float64 and grad._backend.supports_float64:  # the log-space sums lose digits
            grad, x, out = grad.to(dtypes.float64), x.to(dtypes.float64), out.to(dtypes.float64)
        lowest = grad.new_full((), finfo(grad.dtype).min)
        log_abs = grad.abs().log()

        def part(log_grad):  # exp(reversed logcumsumexp(log_grad - out) + x)
            return (logcumsumexp((log_grad - out).flip(axis), axis).flip(axis) + x).exp()

        result = part(where_(grad > 0, log_abs, lowest)) - part(where_(grad < 0, log_abs, lowest))
        return result.to(dtype), None


def _complex_log_add_exp_scan(input, dim):
    """PyTorch's complex logcumsumexp loop: ``acc = logaddexp(x_i, acc)`` from ``acc = -inf``, accumulated
    in complex128 (so a leading ``-inf+2j`` gives ``-inf+0j``, and a NaN part NaN in both)."""
    if input.ndim == 0:  # PyTorch returns the one element as it is (-inf+2j stays -inf+2j)
        return input.clone()
    wide = input.to(dtypes.complex128) if input._backend.supports_float64 else input
    axis = wrap_dim(dim, wide.ndim)
    acc = wide.new_full((), complex(-math.inf, 0))
    run = []
    for part in wide.unbind(axis):
        acc = composite_math.logaddexp(part, acc)
        run.append(acc)
    if not run:
        return input.clone()
    return stack(run, axis).to(input.dtype)


def _log_add_exp(acc, part):
    """``log(exp(acc) + exp(part))`` stably: max + log1p(e^-|a - b|); the max itself when it is +-inf."""
    high = acc.maximum(part)
    finite = high.detach().isfinite()
    gap = (acc - part).masked_fill(finite.logical_not(), 0).abs()
    return high + (-gap).exp().log1p().masked_fill(finite.logical_not(), 0)


def median_of_no_elements(input: Tensor) -> Tensor:
    """What PyTorch's median and nanmedian of an empty tensor give: NaN, 0 in an integer type."""
    return input.new_full((), math.nan) if input.dtype.is_floating_point else input.new_zeros(())


@overload
def median(input: Tensor) -> Tensor: ...
@overload
def median(input: Tensor, dim: int, keepdim: bool = False) -> return_types.median: ...
@tensor_input
def median(
    input: Tensor,
    dim: int | None = DIM_OMITTED,
    keepdim: bool = False,
    *,
    out: Any = None,
    axis: int | None = None,
    keepdims: bool | None = None,
) -> Any:
    """The median (the lower of the two middle values for an even count); NaN if any element is NaN.

    With ``dim``, returns ``(values, indices)`` along that dimension.

    Args:
        input (Tensor): the input.
        dim (int, optional): the dimension to reduce. Default: all elements, values only.
        keepdim (bool, optional): keep the reduced dimension. Default: ``False``
        out (Tensor or tuple of Tensors, optional): the output tensor, or ``(values, indices)`` with ``dim``; resized and returned. Default: ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> ember.median(ember.tensor([3.0, 1.0, 2.0, 4.0]))
        tensor(2.)
    """
    return _with_dim_overloads("median", _median_of, input, dim, keepdim, out, axis, keepdims)


def _median_of(name, input, dim, keepdim, along=None):
    """``median`` or ``nanmedian`` (``name``) of ``input``: over every element (``dim`` None) or along ``dim``
    by ``along(input, axis, keepdim)``, which gives ``(values, indices)`` (``median``'s by default)."""
    along = _median_along if along is None else along
    kernel = "median_cpu" if dim is None else "median_out"  # PyTorch's kernel of each overload (nanmedian's too)
    refuse_limited(kernel, input)
    refuse_keepdim_without_dim(name, dim, keepdim)
    if input.dtype is dtypes.bool or input.dtype.is_complex:
        not_implemented(kernel, input.dtype)
    if dim is None:
        if input.numel() == 0:
            return median_of_no_elements(input)
        return (_Median if name == "median" else _Nanmedian).apply(input, along)
    axis = wrap_dim(dim, input.ndim)
    if input.ndim and input.shape[axis] == 0:
        raise IndexError(f"median(): Expected reduction dim {axis} to have non-zero size.")  # nanmedian's too
    return along(input, axis, keepdim)


def _median_along(input, axis, keepdim):
    """``median(input, axis, keepdim)`` of an ``input`` with elements along ``axis``."""
    if input.ndim == 0:
        return return_types.median(
            named_node(input.clone(), "MedianBackward1"),
            input._make(input._backend.xp.zeros((), dtype=input._backend.native_dtype(dtypes.int64))),
        )
    backend = input._backend
    positions = backend.kernels.median_positions(input._data, axis)
    if not backend.is_row_major(positions):  # PyTorch's indices are laid out as a fresh tensor
        positions = row_major(backend, positions)
    index = input._make(positions)
    return return_types.median(*_selected_along(input, axis, index, keepdim, "MedianBackward1"))


def _refuse_complex_nansum(input: Tensor) -> None:
    if input.dtype.is_complex:
        raise RuntimeError("nansum on CPU does not support complex inputs")


@tensor_input
def nansum(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    dtype: _dtype | None = None,
    out: Tensor | None = None,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Sum over ``dim`` treating NaN as zero.

    Args:
        input (Tensor): the input.
        dim (int or tuple of ints, optional): dimensions to reduce. Default: all.
        keepdim (bool, optional): keep reduced dimensions. Default: ``False``
        dtype (ember.dtype, optional): accumulate and return in this type. Default: None
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int or tuple of ints, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> x = ember.tensor([[1.0, float('nan')], [3.0, 4.0]])
        >>> ember.nansum(x)
        tensor(8.)
        >>> ember.nansum(x, dim=0)
        tensor([4., 4.])
    """
    if dtype is None:
        refuse_limited("nansum_cpu", input, among=FLOAT8)
    else:
        dtype = dtype_arg("nansum", dtype)
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("nansum", dim, None, axis, keepdim, keepdims)
    if keepdim is not True and keepdim is not False:
        raise bool_arg_error("nansum", "keepdim", keepdim)
    if out is not None:  # computed in out's dtype, as torch, which has no integer kernel for a floating input
        if dtype is None and input.dtype.is_floating_point and not out.dtype.is_floating_point:
            not_implemented("nansum_cpu", out.dtype)
        return write_out(
            "nansum",
            nansum(input, dim, keepdim, dtype=out.dtype if dtype is None else dtype),
            out,
            exact_dtype=True,
        )

    _refuse_complex_nansum(input)
    if dtype is not None:  # summed in that type (a float8 input read in float32)
        input = input.to(dtype)
    if input.dtype.is_floating_point:
        input = input.masked_fill(input.detach().isnan(), 0)
    return named_node(sum(input, dim, keepdim, dtype=dtype), "NansumBackward0")


@tensor_input
def nanmean(
    input: Tensor,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    dtype: _dtype | None = None,
    out: Tensor | None = None,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Mean over ``dim`` of the elements that are not NaN.

    Args:
        input (Tensor): a floating tensor (or give ``dtype``).
        dim (int or tuple of ints, optional): dimensions to reduce. Default: all.
        keepdim (bool, optional): keep reduced dimensions. Default: ``False``
        dtype (ember.dtype, optional): compute and return in this type. Default: None
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int or tuple of ints, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> x = ember.tensor([[1.0, float('nan')], [3.0, 4.0]])
        >>> ember.nanmean(x)
        tensor(2.6667)
        >>> ember.nanmean(x, dim=1)
        tensor([1.0000, 3.5000])
    """
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("nanmean", dim, None, axis, keepdim, keepdims)
    if keepdim is not True and keepdim is not False:
        raise bool_arg_error("nanmean", "keepdim", keepdim)
    if out is not None:  # computed in out's dtype, as torch
        return write_out(
            "nanmean", nanmean(input, dim, keepdim, dtype=out.dtype if dtype is None else dtype), out, exact_dtype=True
        )
    if not (input.dtype.is_floating_point or input.dtype.is_complex):  # the input's own type, whatever ``dtype`` is
        raise RuntimeError(
            "nanmean(): expected input to have floating point or complex dtype but got "
            f"{_TORCH_NAMES[input.dtype.name]}"
        )
    _refuse_complex_nansum(input)  # before a cast to ``dtype`` could drop the imaginary parts
    if dtype is not None:
        dtype = dtype_arg("nanmean", dtype)
        if dtypes.as_dtype(dtype).is_complex:
            not_implemented("nansum_cpu", dtypes.as_dtype(dtype))
        if not dtypes.as_dtype(dtype).is_floating_point:
            raise RuntimeError(
                "nanmean(): could not infer output dtype. Optional dtype must be either a floating point or "
                f"complex dtype. Got: {_TORCH_NAMES[dtypes.as_dtype(dtype).name]}"
            )
        input = input.to(dtype)
    count = input.detach().isnan().logical_not().sum(dim, keepdim=keepdim)
    return nansum(input, dim, keepdim) / count


__all__ += ["cumprod", "cummax", "cummin", "logcumsumexp", "median", "nansum", "nanmean"]
