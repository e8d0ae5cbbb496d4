"""Functional pooling: max, average, power-average, adaptive, fractional pooling and max-unpooling.

Every max-type pool is a kernel that picks flat plane indices (PyTorch's) plus a gather;
its gradient is a scatter-add at the same indices, and the scatter-add's gradient is the
gather again, so derivatives of any order work. Average pooling is linear: its backward
is its adjoint, whose backward is the pooling again.
"""

from __future__ import annotations

import functools
import math

from ... import dtypes
from ...amp.policy import autocast_call
from ...amp.state import state as _amp
from ...amp.state import suspended as _amp_suspended
from ...autograd.function import Function
from ...autograd.linear_gradient import LinearGradient
from ...ops.creation import rand
from ...ops.dtype_support import FLOATING, FLOATING_AND_HALF, TORCH_NAMES, not_implemented
from ...ops.movement import cat
from ...ops.operands import (
    bool_arg_error,
    check_same_device,
    int_list,
    named_node,
    read_before_checked,
    require_tensors,
)
from ...ops.reduced_precision import computes_in_float32, narrow_on_cpu
from ...tensor import Tensor
from ...tensor import tensor as _tensor
from ...type_names import type_name
from ..common_types import (
    _ratio_2_t,
    _ratio_3_t,
    _size_1_opt_t,
    _size_1_t,
    _size_2_opt_t,
    _size_2_t,
    _size_3_opt_t,
    _size_3_t,
)
from .activation import relu
from .conv import _ntuple
from .spatial_layout import channels_last_format, in_format, in_input_format

__all__ = [
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "max_pool1d_with_indices",
    "max_pool2d_with_indices",
    "max_pool3d_with_indices",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "lp_pool1d",
    "lp_pool2d",
    "lp_pool3d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "adaptive_max_pool3d",
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d_with_indices",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool3d",
    "fractional_max_pool2d",
    "fractional_max_pool3d",
    "fractional_max_pool2d_with_indices",
    "fractional_max_pool3d_with_indices",
]


# -- autograd Functions ---------------------------------------------------------------------
class _MaxByIndex(Function):
    """Runs a max-type pooling kernel ``compute(kernels, x) -> (values, indices)``."""

    #: whether PyTorch lays the input's gradient out channels-last where the input is (its kernels that
    #: keep the channels-last format; the 3-d adaptive and the fractional ones are row-major)
    _channels_last_gradient = False

    @classmethod
    def forward(cls, ctx, x, compute):
        values, indices = compute(x._backend.kernels, x._data)
        idx = x._make(indices)
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(idx)  # returned to the caller: written in place afterwards, backward refuses
        ctx.values = values
        ctx.plane = tuple(x.shape[2:])
        ctx.format = channels_last_format(x) if cls._channels_last_gradient else None
        return x._make(values), idx

    @staticmethod
    def backward(ctx, grad, _grad_indices=None):
        (indices,) = ctx.saved_tensors
        return _ScatterAdd.of(ctx, grad, indices, ctx.plane, ctx.format), None


class _Gather(Function):
    @staticmethod
    def forward(ctx, x, indices):
        ctx.save_for_backward(indices)
        ctx.plane = tuple(x.shape[2:])
        return x._make(x._backend.kernels.pool_gather(x._data, indices._data))

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        return _ScatterAdd.apply(grad, indices, ctx.plane, None, None), None


class _ToPlane(Function):
    """Values put at flat ``indices`` of planes of shape ``plane`` by the backend's kernel named
    in :meth:`_run`; the backward is the gather at the same indices."""

    @staticmethod
    def _run(ctx, kernel, values, indices, plane):
        # saved, so that indices written in place afterwards (max_unpool's are the caller's) refuse backward
        ctx.save_for_backward(indices)
        return values._make(getattr(values._backend.kernels, kernel)(values._data, indices._data, plane))

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        return _Gather.apply(grad, indices), None, None


class _ScatterAdd(LinearGradient):
    """The gradient of a max-type pool: ``values`` put at ``indices`` of planes of shape ``plane``, laid out
    as ``fmt`` (the pool's input's channels-last format, or None: as the kernel gives it)."""

    @staticmethod
    def forward(ctx, values, indices, plane, fmt, source):
        gx = _ToPlane._run(ctx, "pool_scatter_add", values, indices, plane)
        return gx if fmt is None else in_format(gx, fmt)

    @staticmethod
    def adjoint(ctx, gg):
        (indices,) = ctx.saved_tensors
        # PyTorch's max_pool_double_backward: a gather, viewed in the pool's output shape
        return named_node(_Gather.apply(gg, indices), "ViewBackward0"), None, None, None


class _Unpool(_ToPlane):
    @staticmethod
    def forward(ctx, values, indices, plane):
        return _ToPlane._run(ctx, "max_unpool", values, indices, plane)


class _AvgPool(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, padding, out_shape, count_include_pad, divisor_override):
        ctx.input_shape = tuple(x.shape)
        ctx.args = (kernel, stride, padding, count_include_pad, divisor_override)
        # PyTorch's gradient is laid out as a 2-d batch's input (its 3-d kernel's is row-major)
        ctx.format = channels_last_format(x) if x.ndim == 4 else None
        return x._make(
            x._backend.kernels.avg_pool(
                x._data, kernel, stride, padding, out_shape, count_include_pad, divisor_override
            )
        )

    @staticmethod
    def backward(ctx, grad):
        return (_AvgPoolBackward.of(ctx, grad, ctx.input_shape, ctx.format, *ctx.args),) + (None,) * 6


# the pooling nodes, named as PyTorch's: its 1-D pooling is a 2-D one between an unsqueeze and a squeeze,
# whose node (SqueezeBackward1) is the output's, and whose backward's, the unsqueeze's, its gradient's
class _MaxPool1d(_MaxByIndex):
    _backward_name = "SqueezeBackward1"


class _MaxPool2d(_MaxByIndex):
    _channels_last_gradient = True
    _backward_name = "MaxPool2DWithIndicesBackward0"


class _MaxPool3d(_MaxByIndex):
    _channels_last_gradient = True
    _backward_name = "MaxPool3DWithIndicesBackward0"


class _AdaptiveMaxPool2d(_MaxByIndex):
    _channels_last_gradient = True
    _backward_name = "AdaptiveMaxPool2DBackward0"


class _AdaptiveMaxPool3d(_MaxByIndex):
    _backward_name = "AdaptiveMaxPool3DBackward0"


class _AvgPool1d(_AvgPool):
    _backward_name = "SqueezeBackward1"


class _AvgPool2d(_AvgPool):
    _backward_name = "AvgPool2DBackward0"


class _AvgPool3d(_AvgPool):
    _backward_name = "AvgPool3DBackward0"


_MAX_POOL_NODES = {1: _MaxPool1d, 2: _MaxPool2d, 3: _MaxPool3d}
_ADAPTIVE_MAX_POOL_NODES = {1: _MaxPool1d, 2: _AdaptiveMaxPool2d, 3: _AdaptiveMaxPool3d}
_AVG_POOL_NODES = {1: _AvgPool1d, 2: _AvgPool2d, 3: _AvgPool3d}


class _AvgPoolBackward(LinearGradient):
    @staticmethod
    def forward(ctx, grad, input_shape, fmt, kernel, stride, padding, count_include_pad, divisor_override, source):
        ctx.args = (kernel, stride, padding, tuple(grad.shape[2:]), count_include_pad, divisor_override)
        kernels = grad._backend.kernels
        gx = grad._make(
            kernels.avg_pool_backward(
                grad._data, input_shape, kernel, stride, padding, count_include_pad, divisor_override
            )
        )
        # in the layout of the input (``fmt``, its channels-last format, or None: row-major)
        return gx.contiguous() if fmt is None else in_format(gx, fmt)

    @staticmethod
    def adjoint(ctx, gg):
        return (_AVG_POOL_NODES[len(ctx.args[0])].apply(gg, *ctx.args),) + (None,) * 7


# -- argument handling ------------------------------------------------------------------------
def _batched(op, nd, input, message=None):
    """``input`` with a batch dim (added for unbatched input) and whether it had one."""
    _check_dims(op, nd, input, message)
    _check_nonempty(op, nd, input, message)
    return _add_batch(nd, input)


def _check_dims(op, nd, input, message=None):
    """Refuse an ``input`` that is not a tensor of ``nd + 1`` or ``nd + 2`` dims."""
    require_tensors(op, ("input",), input)
    if input.ndim not in (nd + 1, nd + 2):
        # PyTorch's words: "non-empty ... expected" for a 2-D/3-D op given the wrong number of dims
        raise RuntimeError(
            message
            or (
                f"{op}: non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor expected for input, but got: "
                if nd > 1
                else f"{op}: Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with optional 0 dim batch size for "
                "input, but got: "
            )
            + str(list(input.shape))
        )


def _check_nonempty(op, nd, input, message=None):
    """Refuse an ``input`` with an empty channel or spatial dim (an empty batch is PyTorch's "optional 0 dim batch
    size")."""
    if 0 in input.shape[input.ndim - nd - 1 :]:
        raise RuntimeError(
            message
            or f"{op}: Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with optional 0 dim batch size for input, "
            f"but got: {list(input.shape)}"
        )


def _add_batch(nd, input):
    """``input`` with a batch dim (added for unbatched input) and whether it had one."""
    if input.ndim == nd + 1:
        return input.unsqueeze(0), False
    return input, True


def _unbatch(out, batched):
    return out if batched else out.squeeze(0)


# where PyTorch's max pools pass each argument to their kernel positionally (its avg pools are the kernels
# themselves: a position there is the caller's, which the errors below cannot know, so they name none)
_MAX_POOL_POSITIONS = {"kernel_size": 2, "stride": 3, "padding": 4, "dilation": 5, "ceil_mode": 6}


def _ints(op, name, value, nd, own_1d=False, parser=None):
    """``value``, the argument ``name`` of the pool ``op``, as ``nd`` ints; ``parser``: the op PyTorch's argument
    parser names in a TypeError where it is another (``max_pool2d_with_indices`` for ``return_indices=True``)."""
    # ints first: the checks against the Iterable and numbers.Integral ABCs cost ten times as much
    if type(value) is int:
        return (value,) * nd
    position = _MAX_POOL_POSITIONS.get(name) if op.startswith("max_pool") else None
    out = int_list(parser or op, name, value, nd, position)
    if len(out) == 1 and nd > 1:
        out = out * nd
    if len(out) != nd:
        if own_1d:
            raise RuntimeError(
                f"max_pool1d() {name} must be {_MAX_POOL1D_SIZES[name]} of size 1 but got size {len(out)}"
            )
        if nd == 1:
            raise RuntimeError(f"{op}() argument '{name}' should contain one int (got {len(out)})")
        raise RuntimeError(f"{op}: {name} {_length_rule(op, name, nd)}")
    return out


def _length_rule(op, name, nd):
    """What PyTorch's pool ``op`` says its argument ``name`` of another length than ``nd`` must be."""
    if op.startswith("fractional"):
        return "must either be a single Int or tuple of Ints"
    count = {2: "two", 3: "three"}[nd]
    if name == "stride":
        return f"must either be omitted, a single int, or a tuple of {count} ints"
    if name == "dilation":
        return f"must be either a single int, or a tuple of {count} ints"
    if op == "avg_pool3d" and name == "padding":
        return f"must be a single int, or a tuple of {count} ints"
    return f"must either be a single int, or a tuple of {count} ints"


# what max_pool1d's values-only kernel says an argument of another length than one must be
_MAX_POOL1D_SIZES = {
    "kernel_size": "an int, list of ints or tuple of ints",
    "stride": "None, an int, list of ints, or tuple of ints",
    "padding": "an int, list of ints, or tuple of ints",
    "dilation": "an int, list of ints or tuple of ints",
}


def _pool_output_size(size, k, s, p, d, ceil_mode):
    """PyTorch's pooling_output_shape: the last window must start inside the input or left padding."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _per_axis(name, values):
    """PyTorch's pooling shape checks' way of showing ``values``, one per pooled axis: ``kH: 2 kW: 3`` (1-D
    pooling, which PyTorch runs as 2-D, shows height 1)."""
    values = (1,) * (len(values) == 1) + tuple(values)
    return " ".join(f"{name}{axis}: {v}" for axis, v in zip("THW"[-len(values) :], values))


def _pool_geometry(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode, own_1d=False, parser=None):
    """Checked ``(kernel, stride, padding, dilation, out_shape)`` of a sliding-window pool over ``input`` (batched
    or not), checked in PyTorch's order: a zero stride and the padding (while it computes the output size), then
    the signs of kernel, stride and dilation, then the input's empty dims, then the output size (``own_1d``: with
    the messages of PyTorch's values-only max_pool1d kernel, which ``max_pool1d`` without indices runs;
    ``parser``: the op a TypeError names where it is not ``op``, as :func:`_ints`)."""
    kernel = _ints(op, "kernel_size", kernel_size, nd, own_1d, parser)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) else stride
    stride = _ints(op, "stride", stride, nd, own_1d, parser)
    padding = _ints(op, "padding", padding, nd, own_1d, parser)
    dilation = _ints(op, "dilation", dilation, nd, own_1d, parser)
    if ceil_mode is not True and ceil_mode is not False:
        at = " (position 6)" if op.startswith("max_pool") else ""
        raise TypeError(f"{parser or op}(): argument 'ceil_mode'{at} must be bool, not {type_name(ceil_mode)}")
    one_d = own_1d
    if not one_d:
        for k, s, p, d in zip(kernel, stride, padding, dilation):
            if s == 0:
                raise RuntimeError("stride should not be zero")
            if p < 0:
                raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
            if p > int(((k - 1) * d + 1) / 2):  # (C++'s division, which truncates a negative kernel's to 0)
                raise RuntimeError(
                    f"pad should be at most half of effective kernel size, but got pad={p}, kernel_size={k} and "
                    f"dilation={d}"
                )
    if one_d and kernel[0] <= 0:
        raise RuntimeError(f"max_pool1d() kernel_size must be greater than zero, but got {kernel[0]}")
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"kernel size should be greater than zero, but got {_per_axis('k', kernel)}")
    if any(s <= 0 for s in stride):
        if one_d:
            raise RuntimeError(f"max_pool1d() stride must be greater than zero, but got {stride[0]}")
        raise RuntimeError(f"stride should be greater than zero, but got {_per_axis('d', stride)}")
    if any(d <= 0 for d in dilation):
        if one_d:
            raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {dilation[0]}")
        raise RuntimeError(f"dilation should be greater than zero, but got {_per_axis('dilation', dilation)}")
    if one_d:
        for k, p in zip(kernel, padding):
            if p < 0:
                raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {p}")
            if p > k // 2:  # its own kernel's bound, which leaves dilation out
                raise RuntimeError(
                    f"max_pool1d() padding should be at most half of kernel size, but got padding={p} and "
                    f"kernel_size={k}"
                )
    _check_nonempty(op, nd, input)
    spatial = tuple(input.shape[-nd:])
    out_shape = tuple(
        _pool_output_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in zip(spatial, kernel, stride, padding, dilation)
    )
    if any(o <= 0 for o in out_shape):
        if one_d:
            raise RuntimeError(f"max_pool1d() Invalid computed output size: {out_shape[0]}")
        raise RuntimeError(
            f"Given input size: ({'x'.join(str(v) for v in input.shape[-nd - 1 :])}). Calculated output size: "
            f"({'x'.join(str(v) for v in (input.shape[-nd - 1],) + out_shape)}). Output size is too small"
        )
    return kernel, stride, padding, dilation, out_shape


def _pool_node(out: Tensor, nd: int, name: str) -> Tensor:
    """``out`` with its node named as PyTorch names its pooling's last node: ``name`` with the count of pooled
    dimensions; for 1-D pooling, a 2-D one between an unsqueeze and a squeeze in PyTorch, its squeeze's."""
    return named_node(out, "SqueezeBackward1" if nd == 1 else name.format(nd))


# -- max pooling ------------------------------------------------------------------------------
def _max_pool(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode, own_1d=False, parser=None):
    """``(values, indices)`` of the max pool ``op`` over ``nd`` dimensions; ``parser``: the op a TypeError about
    an argument names where it is not ``op`` (``max_pool2d_with_indices``)."""
    if _amp.active:
        args = (input, kernel_size, stride, padding, dilation, ceil_mode, own_1d, parser)
        return autocast_call(op, _max_pool, op, nd, *args)
    _check_dims(op, nd, input)
    if input.dtype is dtypes.bool or input.dtype in dtypes.limited_dtypes or input.dtype.is_complex:  # (no order)
        not_implemented("max_pool3d" if nd == 3 else "max_pool2d", input.dtype)
    kernel, stride, padding, dilation, out_shape = _pool_geometry(
        op, nd, input, kernel_size, stride, padding, dilation, ceil_mode, own_1d, parser
    )
    x, batched = _add_batch(nd, input)

    def compute(kernels, data):
        return kernels.max_pool(data, kernel, stride, padding, dilation, out_shape)

    values, indices = _MAX_POOL_NODES[nd].apply(x, compute)
    values, indices = in_input_format(values, x), in_input_format(indices, x)
    return _pool_node(_unbatch(values, batched), nd, "MaxPool{}DWithIndicesBackward0"), _unbatch(indices, batched)


def max_pool1d_with_indices(
    input: Tensor,
    kernel_size: _size_1_t,
    stride: _size_1_t | None = None,
    padding: _size_1_t = 0,
    dilation: _size_1_t = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> tuple[Tensor, Tensor]:
    """:func:`max_pool1d` returning ``(output, indices)``.

    The indices are flat positions of the maxima within each input plane.

    Returns:
        ``(output, indices)``, as :func:`max_pool1d` with ``return_indices=True``.

    Examples::

        >>> x = ember.tensor([[[1.0, 5.0, 2.0, 4.0, 3.0, 0.0]]])
        >>> F.max_pool1d_with_indices(x, 2)
        (tensor([[[5., 4., 3.]]]), tensor([[[1, 3, 4]]]))
    """
    require_tensors("max_pool1d_with_indices", ("input",), input)
    return _max_pool(
        "max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, parser="max_pool1d_with_indices"
    )


def max_pool2d_with_indices(
    input: Tensor,
    kernel_size: _size_2_t,
    stride: _size_2_t | None = None,
    padding: _size_2_t = 0,
    dilation: _size_2_t = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> tuple[Tensor, Tensor]:
    """:func:`max_pool2d` returning ``(output, indices)``.

    The indices are flat positions of the maxima within each input plane.

    Returns:
        ``(output, indices)``, as :func:`max_pool2d` with ``return_indices=True``.

    Examples::

        >>> x = ember.arange(16.0).reshape(1, 1, 4, 4)
        >>> out, idx = F.max_pool2d_with_indices(x, 2)
        >>> out
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]])
        >>> idx
        tensor([[[[ 5,  7],
                  [13, 15]]]])
    """
    require_tensors("max_pool2d_with_indices", ("input",), input)
    return _max_pool(
        "max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, parser="max_pool2d_with_indices"
    )


def max_pool3d_with_indices(
    input: Tensor,
    kernel_size: _size_3_t,
    stride: _size_3_t | None = None,
    padding: _size_3_t = 0,
    dilation: _size_3_t = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> tuple[Tensor, Tensor]:
    """:func:`max_pool3d` returning ``(output, indices)``.

    The indices are flat positions of the maxima within each input plane.

    Returns:
        ``(output, indices)``, as :func:`max_pool3d` with ``return_indices=True``.

    Examples::

        >>> x = ember.arange(8.0).reshape(1, 1, 2, 2, 2)
        >>> F.max_pool3d_with_indices(x, 2)
        (tensor([[[[[7.]]]]]), tensor([[[[[7]]]]]))
    """
    read_before_checked(input, "is_cuda", called=False)  # PyTorch's Python functional reads input.is_cuda first
    with _amp_suspended():  # PyTorch's autocast lists max_pool3d (float32), not this op (the input's dtype)
        return _max_pool(
            "max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, parser="max_pool3d_with_indices"
        )


def _max_pool_doc(nd):
    dims = {1: "L", 2: "H, W", 3: "D, H, W"}[nd]
    return f"""Applies a {nd}D max pooling over an input signal composed of several input planes.

    Args:
        input: input tensor of shape :math:`(N, C, {dims})` or :math:`(C, {dims})`.
        kernel_size: the size of the window, an int or a tuple of {nd} ints.
        stride: the stride of the window. Default: ``kernel_size``
        padding: implicit negative-infinity padding on both sides, at most half the
            effective kernel size. Default: 0
        dilation: spacing between the elements of a window. Default: 1
        ceil_mode: use ceil instead of floor for the output size; the last window must
            start inside the input or the left padding. Default: ``False``
        return_indices: also return the flat positions of the maxima in each input plane
            (for :func:`max_unpool{nd}d`). Default: ``False``

    Shape:
        - Input: :math:`(N, C, {dims})` or :math:`(C, {dims})`
        - Output: the same layout, each spatial size being
          ``floor((in + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1)``
          (ceil with ``ceil_mode``)

    Example::

        >>> F.max_pool{nd}d(ember.randn(1, 2{", 4" * nd}), 2).shape
        ember.Size([1, 2{", 2" * nd}])
    """


def max_pool1d(
    input: Tensor,
    kernel_size: _size_1_t,
    stride: _size_1_t | None = None,
    padding: _size_1_t = 0,
    dilation: _size_1_t = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    if not return_indices and isinstance(input, Tensor) and input.dtype not in FLOATING_AND_HALF:
        not_implemented("max_pool1d_impl", input.dtype)  # PyTorch's values-only kernel
    if return_indices:
        return max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    require_tensors("max_pool1d", ("input",), input)
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, True)[0]


def max_pool2d(
    input: Tensor,
    kernel_size: _size_2_t,
    stride: _size_2_t | None = None,
    padding: _size_2_t = 0,
    dilation: _size_2_t = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    if return_indices:
        return max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    require_tensors("max_pool2d", ("input",), input)
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode)[0]


def max_pool3d(
    input: Tensor,
    kernel_size: _size_3_t,
    stride: _size_3_t | None = None,
    padding: _size_3_t = 0,
    dilation: _size_3_t = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    if return_indices:
        return max_pool3d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode)[0]


max_pool1d.__doc__, max_pool2d.__doc__, max_pool3d.__doc__ = (_max_pool_doc(n) for n in (1, 2, 3))


# -- max unpooling ----------------------------------------------------------------------------
def _unpool_output_size(op, input, kernel, stride, padding, output_size):
    nd = len(kernel)
    default = [(input.shape[2 + d] - 1) * stride[d] - 2 * padding[d] + kernel[d] for d in range(nd)]
    if output_size is None:
        return tuple(default)
    size = output_size[2:] if len(output_size) == nd + 2 else output_size  # its own type, for the messages
    if len(size) != nd:
        raise ValueError(
            f"output_size should be a sequence containing {nd} or {nd + 2} elements, "
            f"but it has a length of '{len(size)}'"
        )
    for d in range(nd):
        low, high = default[d] - stride[d], default[d] + stride[d]
        if not low < size[d] < high:
            raise ValueError(f'invalid output_size "{size}" (dim {d} must be between {low} and {high})')
    return tuple(int(s) for s in size)


def _max_unpool(op, nd, input, indices, kernel_size, stride, padding, output_size):
    read_before_checked(input, "size")  # PyTorch's Python functional reads input.size() first
    if _amp.active:
        return autocast_call(op, _max_unpool, op, nd, input, indices, kernel_size, stride, padding, output_size)
    x, batched = _batched(op, nd, input)
    if not isinstance(indices, Tensor):
        raise TypeError(f"{op}: expected 'indices' to be a Tensor, got {type(indices).__name__}")
    if indices.dtype is not dtypes.int64:
        raise RuntimeError(f"{op}: elements in indices should be type int64 but got: {TORCH_NAMES[indices.dtype]}")
    if x.dtype not in FLOATING_AND_HALF:
        not_implemented("max_unpool3d" if nd == 3 else "max_unpool2d", x.dtype)
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(
            f"{op}: Expected shape of indices to be same as that of the input tensor ({list(input.shape)}) "
            f"but got indices tensor with shape: {list(indices.shape)}"
        )
    idx = indices if batched else indices.unsqueeze(0)
    kernel = _ints(op, "kernel_size", kernel_size, nd)
    stride = _ints(op, "stride", kernel if stride is None else stride, nd)
    padding = _ints(op, "padding", padding, nd)
    plane = _unpool_output_size(op, x, kernel, stride, padding, output_size)
    message = f"Found an invalid max index: {{value}} (output volumes are of size {'x'.join(str(p) for p in plane)})"
    x._backend.check_indices(op, idx._data, math.prod(plane), None, RuntimeError, message)
    return _pool_node(_unbatch(_Unpool.apply(x, idx.long(), plane), batched), nd, "MaxUnpool{}DBackward0")


def max_unpool1d(
    input: Tensor,
    indices: Tensor,
    kernel_size: _size_1_t,
    stride: _size_1_t | None = None,
    padding: _size_1_t = 0,
    output_size: list[int] | tuple[int, ...] | None = None,
) -> Tensor:
    r"""Computes a partial inverse of :func:`max_pool1d` (see :class:`~ember.nn.MaxUnpool1d`).

    Places each value of ``input`` at its position in ``indices`` (from :func:`max_pool1d` with
    ``return_indices=True``) in a zero-filled output; the non-maximal values are lost.

    Args:
        input: the pooled values :math:`(N, C, L_{in})` or :math:`(C, L_{in})`.
        indices: the indices :func:`max_pool1d` returned.
        kernel_size: the size of the pooling window.
        stride: the stride of the window. Default: ``kernel_size``
        padding: the padding of the pooling. Default: 0
        output_size: the target size, to pick among the sizes the pooling maps to the same one. Default: ``None``

    Shape:
        - Input: :math:`(N, C, L_{in})` or :math:`(C, L_{in})`
        - Output: :math:`(N, C, L_{out})` with :math:`L_{out} = (L_{in} - 1) \times \text{stride} - 2 \times \text{padding} + \text{kernel\_size}`, or ``output_size``

    Examples::

        >>> x = ember.tensor([[[1.0, 5.0, 2.0, 4.0, 3.0, 0.0]]])
        >>> out, idx = F.max_pool1d(x, 2, return_indices=True)
        >>> F.max_unpool1d(out, idx, 2)
        tensor([[[0., 5., 0., 4., 3., 0.]]])
    """
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(
    input: Tensor,
    indices: Tensor,
    kernel_size: _size_2_t,
    stride: _size_2_t | None = None,
    padding: _size_2_t = 0,
    output_size: list[int] | tuple[int, ...] | None = None,
) -> Tensor:
    r"""Computes a partial inverse of :func:`max_pool2d` (see :class:`~ember.nn.MaxUnpool2d`).

    Args:
        input: the pooled values :math:`(N, C, H_{in}, W_{in})` or :math:`(C, H_{in}, W_{in})`.
        indices: the indices :func:`max_pool2d` returned.
        kernel_size: the size of the pooling window.
        stride: the stride of the window. Default: ``kernel_size``
        padding: the padding of the pooling. Default: 0
        output_size: the target size, to pick among the sizes the pooling maps to the same one. Default: ``None``

    Shape:
        - Input: :math:`(N, C, H_{in}, W_{in})` or :math:`(C, H_{in}, W_{in})`
        - Output: :math:`(N, C, H_{out}, W_{out})` with each spatial size
          :math:`(\text{in} - 1) \times \text{stride} - 2 \times \text{padding} + \text{kernel\_size}`, or ``output_size``

    Example::

        >>> out, idx = F.max_pool2d(ember.randn(1, 1, 4, 4), 2, return_indices=True)
        >>> F.max_unpool2d(out, idx, 2).shape
        ember.Size([1, 1, 4, 4])
    """
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(
    input: Tensor,
    indices: Tensor,
    kernel_size: _size_3_t,
    stride: _size_3_t | None = None,
    padding: _size_3_t = 0,
    output_size: list[int] | tuple[int, ...] | None = None,
) -> Tensor:
    """Computes a partial inverse of :func:`max_pool3d` (see :class:`~ember.nn.MaxUnpool3d`).

    Places each value of ``input`` at its position in ``indices`` in a zero-filled output.

    Args:
        input: the pooled values :math:`(N, C, D, H, W)` or :math:`(C, D, H, W)`.
        indices: the indices :func:`max_pool3d` returned.
        kernel_size: the size of the pooling window.
        stride: the stride of the window. Default: ``kernel_size``
        padding: the padding of the pooling. Default: 0
        output_size: the target size. Default: ``None``

    Examples::

        >>> out, idx = F.max_pool3d(ember.randn(1, 1, 4, 4, 4), 2, return_indices=True)
        >>> F.max_unpool3d(out, idx, 2).shape
        ember.Size([1, 1, 4, 4, 4])
    """
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)


# -- average pooling --------------------------------------------------------------------------
#: the types of PyTorch's average pooling kernels: floating types and int64; avg_pool3d's CPU kernel
#: has no float16 and bfloat16 (autocast computes those in float32)
_AVG_POOL_TYPES = FLOATING_AND_HALF | {dtypes.int64}
_AVG_POOL3D_TYPES = FLOATING | {dtypes.int64}


def _avg_pool(op, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    if _amp.active:
        args = (input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
        return autocast_call(op, _avg_pool, op, nd, *args)
    if nd == 2 and isinstance(input, Tensor) and input.ndim < 3:
        input.size(-3)  # PyTorch's 2-d kernel reads the channels first: its IndexError
    _check_dims(op, nd, input)
    if count_include_pad is not True and count_include_pad is not False:
        raise bool_arg_error(op, "count_include_pad", count_include_pad)
    kernel, stride, padding, _, out_shape = _pool_geometry(op, nd, input, kernel_size, stride, padding, 1, ceil_mode)
    x, batched = _add_batch(nd, input)
    if nd == 3 and any(n < k for n, k in zip(x.shape[-3:], kernel)):  # PyTorch's 3-d check, padding aside
        (t, h, w), (kt, kh, kw) = x.shape[-3:], kernel
        raise RuntimeError(
            f"{op}(): input image (T: {t} H: {h} W: {w}) smaller than kernel size (kT: {kt} kH: {kh} kW: {kw})"
        )
    if divisor_override is not None and not isinstance(divisor_override, int):
        raise TypeError(f"{op}(): argument 'divisor_override' must be int, not {type_name(divisor_override)}")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    if x.dtype not in (_AVG_POOL3D_TYPES if nd == 3 else _AVG_POOL_TYPES):  # after the argument checks, as PyTorch
        not_implemented("avg_pool3d_out_frame" if nd == 3 else "avg_pool2d", x.dtype)
    node = _AVG_POOL_NODES[nd]
    out = node.apply(x, kernel, stride, padding, out_shape, bool(count_include_pad), divisor_override)
    if not x.dtype.is_floating_point and out.dtype is not x.dtype:  # an integer mean truncates, as in PyTorch
        out = out.trunc().to(x.dtype)
    out = _unbatch(in_input_format(out, x) if nd == 2 else out.contiguous(), batched)  # PyTorch's 3-d kernel: row-major
    return _pool_node(out, nd, "AvgPool{}DBackward0")


@computes_in_float32
def avg_pool1d(
    input: Tensor,
    kernel_size: _size_1_t,
    stride: _size_1_t | None = None,
    padding: _size_1_t = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    r"""Applies a 1D average pooling over an input signal composed of several input planes.

    Args:
        input: input tensor of shape :math:`(N, C, L)` or :math:`(C, L)`.
        kernel_size: the size of the window.
        stride: the stride of the window. Default: ``kernel_size``
        padding: implicit zero padding on both sides, at most half the kernel. Default: 0
        ceil_mode: use ceil instead of floor for the output size. Default: ``False``
        count_include_pad: include the zero-padding in the averaging. Default: ``True``

    Shape:
        - Input: :math:`(N, C, L_{in})` or :math:`(C, L_{in})`
        - Output: :math:`(N, C, L_{out})` or :math:`(C, L_{out})`, where each spatial size is
          :math:`\left\lfloor \frac{\text{in} + 2 \times \text{padding} - \text{kernel\_size}}{\text{stride}} + 1 \right\rfloor` (ceil with ``ceil_mode``)

    Example::

        >>> F.avg_pool1d(ember.tensor([[[1.0, 2, 3, 4, 5, 6, 7]]]), 3, stride=2)
        tensor([[[2., 4., 6.]]])
    """
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


@computes_in_float32
def avg_pool2d(
    input: Tensor,
    kernel_size: _size_2_t,
    stride: _size_2_t | None = None,
    padding: _size_2_t = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    r"""Applies 2D average pooling over an input composed of several input planes.

    Args:
        input: input tensor of shape :math:`(N, C, H, W)` or :math:`(C, H, W)`.
        kernel_size: the size of the window, an int or ``(kH, kW)``.
        stride: the stride of the window. Default: ``kernel_size``
        padding: implicit zero padding on both sides, at most half the kernel. Default: 0
        ceil_mode: use ceil instead of floor for the output size. Default: ``False``
        count_include_pad: include the zero-padding in the averaging. Default: ``True``
        divisor_override: if given, the divisor instead of the window size. Default: ``None``

    Shape:
        - Input: :math:`(N, C, H_{in}, W_{in})` or :math:`(C, H_{in}, W_{in})`
        - Output: :math:`(N, C, H_{out}, W_{out})` or :math:`(C, H_{out}, W_{out})`, where each spatial size is
          :math:`\left\lfloor \frac{\text{in} + 2 \times \text{padding} - \text{kernel\_size}}{\text{stride}} + 1 \right\rfloor` (ceil with ``ceil_mode``)

    Example::

        >>> F.avg_pool2d(ember.ones(1, 1, 4, 4), 2).shape
        ember.Size([1, 1, 2, 2])
    """
    return _avg_pool(
        "avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )


def avg_pool3d(  # float16/bfloat16: refused on the CPU as PyTorch's CPU kernel does, else computed in float32
    input: Tensor,
    kernel_size: _size_3_t,
    stride: _size_3_t | None = None,
    padding: _size_3_t = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    r"""Applies 3D average pooling over an input composed of several input planes (see :func:`avg_pool2d`).

    Args:
        input: input tensor of shape :math:`(N, C, D, H, W)` or :math:`(C, D, H, W)`.
        kernel_size: the size of the window, an int or ``(kD, kH, kW)``.
        stride: the stride of the window. Default: ``kernel_size``
        padding: implicit zero padding on every side. Default: 0
        ceil_mode: use ceil instead of floor for the output size. Default: ``False``
        count_include_pad: include the zero padding in the averages. Default: ``True``
        divisor_override: divide by this instead of the window size. Default: ``None``

    Shape:
        - Input: :math:`(N, C, D_{in}, H_{in}, W_{in})` or :math:`(C, D_{in}, H_{in}, W_{in})`
        - Output: :math:`(N, C, D_{out}, H_{out}, W_{out})` or :math:`(C, D_{out}, H_{out}, W_{out})`, where each spatial size is
          :math:`\left\lfloor \frac{\text{in} + 2 \times \text{padding} - \text{kernel\_size}}{\text{stride}} + 1 \right\rfloor` (ceil with ``ceil_mode``)

    Examples::

        >>> F.avg_pool3d(ember.arange(8.0).reshape(1, 1, 2, 2, 2), 2)
        tensor([[[[[3.5000]]]]])
        >>> F.avg_pool3d(ember.ones(1, 3, 4, 6, 6), (2, 3, 3)).shape
        ember.Size([1, 3, 2, 2, 2])
    """
    args = (kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
    if narrow_on_cpu(input):  # refused, as PyTorch's CPU kernel does (its CUDA kernel takes them)
        return _avg_pool3d(input, *args)
    return _avg_pool3d_in_float32(input, *args)


def _avg_pool3d(input, *args):
    return _avg_pool("avg_pool3d", 3, input, *args)


_avg_pool3d.__name__ = "avg_pool3d"  # autocast's policy knows the op by this name
#: avg_pool3d of float16/bfloat16 off the CPU, computed in float32 and rounded back once
_avg_pool3d_in_float32 = computes_in_float32(_avg_pool3d)


# -- power-average pooling --------------------------------------------------------------------
def _lp_pool(nd, input, norm_type, kernel_size, stride, ceil_mode):
    kernel = _ints(f"lp_pool{nd}d", "kernel_size", kernel_size, nd)
    if isinstance(norm_type, (int, float)) and math.isinf(norm_type):
        # p = +inf is the largest magnitude in the window, p = -inf the smallest (PyTorch's rule)
        max_pool = (max_pool1d, max_pool2d, max_pool3d)[nd - 1]
        if norm_type > 0:
            return max_pool(input.abs(), kernel, stride, 0, 1, ceil_mode)
        return -max_pool(-input.abs(), kernel, stride, 0, 1, ceil_mode)
    pool = (avg_pool1d, avg_pool2d, avg_pool3d)[nd - 1]
    out = pool(input.pow(norm_type), kernel, stride, 0, ceil_mode)
    return (out.sign() * relu(out.abs())).mul(math.prod(kernel)).pow(1.0 / norm_type)


def lp_pool1d(
    input: Tensor, norm_type: float, kernel_size: _size_1_t, stride: _size_1_t | None = None, ceil_mode: bool = False
) -> Tensor:
    r"""Applies a 1D power-average pooling: :math:`f(X) = \sqrt[p]{\sum_{x \in X} x^{p}}`.

    Args:
        input: input tensor of shape :math:`(N, C, L)` or :math:`(C, L)`.
        norm_type: the exponent :math:`p`.
        kernel_size: the size of the window.
        stride: the stride of the window. Default: ``kernel_size``
        ceil_mode: use ceil instead of floor for the output size. Default: ``False``

    Shape:
        - Input: :math:`(N, C, L_{in})` or :math:`(C, L_{in})`
        - Output: :math:`(N, C, L_{out})` with :math:`L_{out} = \lfloor (L_{in} - \text{kernel\_size}) / \text{stride} \rfloor + 1`

    Examples::

        >>> x = ember.tensor([[[3.0, 4.0, 1.0, 1.0]]])
        >>> F.lp_pool1d(x, 2, 2)  # sqrt(3^2 + 4^2), sqrt(1 + 1)
        tensor([[[5.0000, 1.4142]]])
    """
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(
    input: Tensor, norm_type: float, kernel_size: _size_2_t, stride: _size_2_t | None = None, ceil_mode: bool = False
) -> Tensor:
    r"""Applies a 2D power-average pooling: :math:`f(X) = \sqrt[p]{\sum_{x \in X} x^{p}}`.

    Args:
        input: input tensor of shape :math:`(N, C, H, W)` or :math:`(C, H, W)`.
        norm_type: the exponent :math:`p`.
        kernel_size: the size of the window, an int or ``(kH, kW)``.
        stride: the stride of the window. Default: ``kernel_size``
        ceil_mode: use ceil instead of floor for the output size. Default: ``False``

    Shape:
        - Input: :math:`(N, C, H_{in}, W_{in})` or :math:`(C, H_{in}, W_{in})`
        - Output: :math:`(N, C, H_{out}, W_{out})` or :math:`(C, H_{out}, W_{out})`, where each spatial size is
          :math:`\left\lfloor \frac{\text{in} - \text{kernel\_size}}{\text{stride}} + 1 \right\rfloor` (ceil with ``ceil_mode``)

    Example::

        >>> F.lp_pool2d(ember.ones(1, 1, 4, 4), 2, 2)
        tensor([[[[2., 2.],
                  [2., 2.]]]])
    """
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(
    input: Tensor, norm_type: float, kernel_size: _size_3_t, stride: _size_3_t | None = None, ceil_mode: bool = False
) -> Tensor:
    r"""Applies a 3D power-average pooling: :math:`f(X) = \sqrt[p]{\sum_{x \in X} x^{p}}` (see :func:`lp_pool2d`).

    Args:
        input: input tensor of shape :math:`(N, C, D, H, W)` or :math:`(C, D, H, W)`.
        norm_type: the exponent :math:`p`.
        kernel_size: the size of the window, an int or ``(kD, kH, kW)``.
        stride: the stride of the window. Default: ``kernel_size``
        ceil_mode: use ceil instead of floor for the output size. Default: ``False``

    Shape:
        - Input: :math:`(N, C, D_{in}, H_{in}, W_{in})` or :math:`(C, D_{in}, H_{in}, W_{in})`
        - Output: :math:`(N, C, D_{out}, H_{out}, W_{out})` or :math:`(C, D_{out}, H_{out}, W_{out})`, where each spatial size is
          :math:`\left\lfloor \frac{\text{in} - \text{kernel\_size}}{\text{stride}} + 1 \right\rfloor` (ceil with ``ceil_mode``)

    Examples::

        >>> F.lp_pool3d(ember.ones(1, 1, 2, 4, 4), 2, 2)
        tensor([[[[[2.8284, 2.8284],
                   [2.8284, 2.8284]]]]])
    """
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


# -- adaptive pooling -------------------------------------------------------------------------
def _adaptive_output_size(op, nd, x, output_size, batched):
    """The checked output size of adaptive pooling of ``x`` (batched; ``batched``: whether the caller's input
    was)."""
    given = output_size
    if nd > 1 and not isinstance(given, int):  # the 2-d and 3-d forms: None stands for the input's size
        given = [x.shape[i - len(given)] if s is None else s for i, s in enumerate(given)]
    size = int_list(op, "output_size", given, nd, 2)
    if len(size) != nd:  # a sequence of another length (one int is not repeated either, as in PyTorch)
        if nd == 1:
            raise RuntimeError(f"{op}() argument 'output_size' should contain one int (got {len(size)})")
        if op.startswith("adaptive_max"):
            raise RuntimeError(f"{op}(): internal error: output_size.size() must be {nd}, got {output_size!r}")
        raise RuntimeError(f"{op}: output_size must be {nd}, got {output_size!r}")
    if any(s < 0 for s in size):
        if op.startswith("adaptive_max"):  # PyTorch's max kernels allocate their result unchecked (1-d: as 2-d)
            shape = tuple(x.shape[:2] if batched else x.shape[1:2]) + (1,) * (nd == 1) + size
            negative = next(s for s in shape if s < 0)
            raise RuntimeError(f"Trying to create tensor with negative dimension {negative}: {list(shape)}")
        # PyTorch's avg kernels print the size as an IntArrayRef (1-d: the 2-d op's (1, size))
        shown = (
            "{" + ", ".join(str(s) for s in ((1,) * (nd == 1) + size)[:2]) + "".join(f",{s}" for s in size[2:]) + "}"
        )
        raise RuntimeError(
            f"adaptive_avg_pool{max(nd, 2)}d: elements of output_size must be greater than or equal to 0 but received "
            f"{shown}"
        )
    return size


def _check_output_size_dims(nd, input, output_size):
    """PyTorch's Python-level check of the 2-d and 3-d forms: an ``output_size`` but an int has a length (else
    Python's TypeError for ``len()``: "object of type 'float' has no len()"), and needs an input with more
    dimensions than it has entries."""
    if nd > 1 and not isinstance(output_size, int) and isinstance(input, Tensor):
        if input.ndim <= len(output_size):
            raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")


def _adaptive_batched(op, nd, input, check_empty=True):
    """``input`` with a batch dim, after PyTorch's checks: its rank (the 1-d forms through ``checkDimRange``),
    then (with ``check_empty``) no empty dim but the first (the batch, or the channels of unbatched input); its
    1-d and 2-d average pools check only the spatial dims, the 1-d one as the 2-d pool it runs on the input
    unsqueezed."""
    require_tensors(op, ("input",), input)
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor for argument #1 'self' "
            f"(while checking arguments for {op})"
            if nd == 1
            else f"{op}(): Expected {nd + 1}D or {nd + 2}D tensor, but got{':' if 'max' in op else ''} {list(input.shape)}"
        )
    name, shape, first = op, list(input.shape), 1
    if op.startswith("adaptive_avg") and nd < 3:
        if nd == 1:
            name, shape = "adaptive_avg_pool2d", shape[:-1] + [1] + shape[-1:]
        first = len(shape) - 2
    for dim in range(first, len(shape) if check_empty else first):
        if shape[dim] == 0:
            raise RuntimeError(
                f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input has sizes "
                f"{shape} with dimension {dim} being empty"
            )
    return _add_batch(nd, input)


def _adaptive_max(nd, input, output_size):
    if nd > 1:  # PyTorch's Python functional reads input.size() first
        read_before_checked(input, "size")
    if _amp.active:
        return autocast_call(f"adaptive_max_pool{nd}d", _adaptive_max, nd, input, output_size)
    op = f"adaptive_max_pool{nd}d"
    _check_output_size_dims(nd, input, output_size)
    x, batched = _adaptive_batched(op, nd, input)
    if x.dtype not in FLOATING_AND_HALF:
        not_implemented("adaptive_max_pool3d_cpu" if nd == 3 else "adaptive_max_pool2d", x.dtype)
    out_shape = _adaptive_output_size(op, nd, x, output_size, batched)

    def compute(kernels, data):
        return kernels.adaptive_max_pool(data, out_shape)

    values, indices = _ADAPTIVE_MAX_POOL_NODES[nd].apply(x, compute)
    if nd == 2:
        values, indices = in_input_format(values, x), in_input_format(indices, x)
    else:  # PyTorch's 3-d kernel gives row-major results
        values, indices = values.contiguous(), indices.contiguous()
    return _pool_node(_unbatch(values, batched), nd, "AdaptiveMaxPool{}DBackward0"), _unbatch(indices, batched)


def adaptive_max_pool1d_with_indices(
    input: Tensor, output_size: _size_1_opt_t, return_indices: bool = False
) -> tuple[Tensor, Tensor]:
    """:func:`adaptive_max_pool1d` returning ``(output, indices)``.

    Returns:
        ``(output, indices)``, the indices being positions along :math:`L`.

    Examples::

        >>> x = ember.tensor([[[1.0, 5.0, 2.0, 4.0, 3.0, 0.0]]])
        >>> F.adaptive_max_pool1d_with_indices(x, 3)
        (tensor([[[5., 4., 3.]]]), tensor([[[1, 3, 4]]]))
    """
    return _adaptive_max(1, input, output_size)


def adaptive_max_pool2d_with_indices(
    input: Tensor, output_size: _size_2_opt_t, return_indices: bool = False
) -> tuple[Tensor, Tensor]:
    r""":func:`adaptive_max_pool2d` returning ``(output, indices)``.

    Returns:
        ``(output, indices)``, the indices being flat positions in each :math:`H \times W` plane.

    Examples::

        >>> x = ember.arange(16.0).reshape(1, 1, 4, 4)
        >>> out, idx = F.adaptive_max_pool2d_with_indices(x, (2, 1))
        >>> out
        tensor([[[[ 7.],
                  [15.]]]])
        >>> idx
        tensor([[[[ 7],
                  [15]]]])
    """
    return _adaptive_max(2, input, output_size)


def adaptive_max_pool3d_with_indices(
    input: Tensor, output_size: _size_3_opt_t, return_indices: bool = False
) -> tuple[Tensor, Tensor]:
    r""":func:`adaptive_max_pool3d` returning ``(output, indices)``.

    Returns:
        ``(output, indices)``, the indices being flat positions in each :math:`D \times H \times W` volume.

    Examples::

        >>> out, idx = F.adaptive_max_pool3d_with_indices(ember.randn(1, 2, 4, 5, 6), (2, 2, 3))
        >>> out.shape, idx.shape
        (ember.Size([1, 2, 2, 2, 3]), ember.Size([1, 2, 2, 2, 3]))
    """
    return _adaptive_max(3, input, output_size)


def adaptive_max_pool1d(
    input: Tensor, output_size: _size_1_opt_t, return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """Applies a 1D adaptive max pooling; bin ``i`` covers ``[floor(i*L/O), ceil((i+1)*L/O))``.

    Args:
        input: input tensor of shape :math:`(N, C, L)` or :math:`(C, L)`.
        output_size: the target output size.
        return_indices: also return the indices of the maxima. Default: ``False``

    Shape:
        - Input: :math:`(N, C, L_{in})` or :math:`(C, L_{in})`
        - Output: :math:`(N, C, O)` or :math:`(C, O)`, :math:`O` = ``output_size``

    Examples::

        >>> x = ember.tensor([[[1.0, 5.0, 2.0, 4.0, 3.0, 0.0]]])
        >>> F.adaptive_max_pool1d(x, 3)
        tensor([[[5., 4., 3.]]])
        >>> F.adaptive_max_pool1d(x, 4)  # overlapping bins
        tensor([[[5., 5., 4., 3.]]])
    """
    out = _adaptive_max(1, input, output_size)
    return out if return_indices else out[0]


def adaptive_max_pool2d(
    input: Tensor, output_size: _size_2_opt_t, return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """Applies a 2D adaptive max pooling (bins as in :func:`adaptive_max_pool1d`, per dim).

    Args:
        input: input tensor of shape :math:`(N, C, H, W)` or :math:`(C, H, W)`.
        output_size: the target output size, an int or ``(H, W)``; ``None`` keeps that dim.
        return_indices: also return the indices of the maxima. Default: ``False``

    Shape:
        - Input: :math:`(N, C, H_{in}, W_{in})` or :math:`(C, H_{in}, W_{in})`
        - Output: :math:`(N, C, H_{out}, W_{out})` or :math:`(C, H_{out}, W_{out})`, :math:`(H_{out}, W_{out})` = ``output_size``

    Example::

        >>> F.adaptive_max_pool2d(ember.randn(1, 64, 8, 9), (5, 7)).shape
        ember.Size([1, 64, 5, 7])
    """
    out = _adaptive_max(2, input, output_size)
    return out if return_indices else out[0]


def adaptive_max_pool3d(
    input: Tensor, output_size: _size_3_opt_t, return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """Applies a 3D adaptive max pooling (see :func:`adaptive_max_pool2d`).

    Args:
        input: input tensor of shape :math:`(N, C, D, H, W)` or :math:`(C, D, H, W)`.
        output_size: the target output size, an int or ``(D, H, W)``; ``None`` keeps that dim.
        return_indices: also return the indices of the maxima. Default: ``False``

    Shape:
        - Input: :math:`(N, C, D_{in}, H_{in}, W_{in})` or :math:`(C, D_{in}, H_{in}, W_{in})`
        - Output: :math:`(N, C, D_{out}, H_{out}, W_{out})` or :math:`(C, D_{out}, H_{out}, W_{out})`, :math:`(D_{out}, H_{out}, W_{out})` = ``output_size``

    Examples::

        >>> F.adaptive_max_pool3d(ember.randn(1, 64, 8, 9, 10), (5, 7, None)).shape
        ember.Size([1, 64, 5, 7, 10])
    """
    out = _adaptive_max(3, input, output_size)
    return out if return_indices else out[0]


@functools.lru_cache(maxsize=256)
def _bin_members(size, out):
    """PyTorch's adaptive bins of ``size`` elements into ``out``: bin ``i`` is
    ``[floor(i*size/out), ceil((i+1)*size/out))``. Returns ``(index, counts, width)``: ``index`` lists the
    ``width`` members of each bin in turn, a shorter bin padded with ``size`` (an appended zero), and
    ``counts`` the number of members of each bin."""
    bounds = [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]
    width = max((end - begin for begin, end in bounds), default=0)
    index = tuple(j if j < end else size for begin, end in bounds for j in range(begin, begin + width))
    return index, tuple(end - begin for begin, end in bounds), width


def _average_bins(x, out):
    """The mean of each adaptive bin over the last dimension of ``x``, each bin summing its own members
    only (as PyTorch's kernel: an inf or NaN input reaches no other bin, nor does its gradient)."""
    size = x.shape[-1]
    if out and size % out == 0:  # equal bins side by side
        return x.reshape(tuple(x.shape[:-1]) + (out, size // out)).mean(-1)
    index, counts, width = _bin_members(size, out)
    if len(set(counts)) > 1:  # a shorter bin reads the appended zero
        x = cat([x, x.new_zeros(tuple(x.shape[:-1]) + (1,))], -1)
    members = x.index_select(-1, _tensor(index, dtype=dtypes.int64, device=x.device))
    total = members.reshape(tuple(x.shape[:-1]) + (out, width)).sum(-1)
    return total / _tensor(counts, dtype=x.dtype, device=x.device)


def _spread_bins(grad, size):
    """The adjoint of :func:`_average_bins` over the last dimension: each bin's ``grad`` divided by its count
    and added to each of its members among ``size`` elements (PyTorch's adaptive average pool's backward)."""
    out = grad.shape[-1]
    lead = tuple(grad.shape[:-1])
    if out and size % out == 0:
        width = size // out
        return (grad / width).unsqueeze(-1).expand(lead + (out, width)).reshape(lead + (size,))
    index, counts, width = _bin_members(size, out)
    shares = (grad / _tensor(counts, dtype=grad.dtype, device=grad.device)).unsqueeze(-1)
    shares = shares.expand(lead + (out, width)).reshape(lead + (out * width,))
    members = _tensor(index, dtype=dtypes.int64, device=grad.device)
    # a shorter bin's padding goes to one more element, dropped
    return grad.new_zeros(lead + (size + 1,)).index_add(-1, members, shares)[..., :size]


class _AdaptiveAvgPool(Function):
    """The adaptive average pool of a batch ``x`` into ``out_shape`` (its last dimensions), bin by bin along each
    dimension in turn; its gradient is a :class:`_AdaptiveAvgPoolBackward`."""

    @staticmethod
    def forward(ctx, x, out_shape):
        ctx.input_shape = tuple(x.shape)
        # PyTorch's gradient is laid out as a 2-d batch's input (its 3-d kernel's is row-major)
        ctx.format = channels_last_format(x) if x.ndim == 4 else None
        pooled = x
        for axis, o in enumerate(out_shape, 2):
            if x.shape[axis] != o:
                pooled = _average_bins(pooled.transpose(axis, -1), o).transpose(axis, -1)
        return x.clone() if pooled is x else pooled  # every bin is one element: still a new tensor, as in PyTorch

    @staticmethod
    def backward(ctx, grad):
        return _AdaptiveAvgPoolBackward.of(ctx, grad, ctx.input_shape, ctx.format), None


class _AdaptiveAvgPool1d(_AdaptiveAvgPool):
    _backward_name = "SqueezeBackward1"


class _AdaptiveAvgPool2d(_AdaptiveAvgPool):
    _backward_name = "AdaptiveAvgPool2DBackward0"


class _AdaptiveAvgPool3d(_AdaptiveAvgPool):
    _backward_name = "AdaptiveAvgPool3DBackward0"


_ADAPTIVE_AVG_POOL_NODES = {1: _AdaptiveAvgPool1d, 2: _AdaptiveAvgPool2d, 3: _AdaptiveAvgPool3d}


class _AdaptiveAvgPoolBackward(LinearGradient):
    """The gradient of :class:`_AdaptiveAvgPool` for the pool's input of shape ``input_shape``, laid out as ``fmt``
    (the input's channels-last format, or None: row-major); its adjoint is the pool again."""

    @staticmethod
    def forward(ctx, grad, input_shape, fmt, source):
        ctx.out_shape = tuple(grad.shape[2:])
        gx = grad
        for axis, size in enumerate(input_shape[2:], 2):
            if grad.shape[axis] != size:
                gx = _spread_bins(gx.transpose(axis, -1), size).transpose(axis, -1)
        if gx is grad:
            return grad.clone() if fmt is None else in_format(grad.clone(), fmt)
        return gx.contiguous() if fmt is None else in_format(gx, fmt)

    @staticmethod
    def adjoint(ctx, gg):
        node = _ADAPTIVE_AVG_POOL_NODES[len(ctx.out_shape)]
        return node.apply(gg, ctx.out_shape), None, None


_MEAN_OF_INTEGERS = (
    "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: "
)


def _adaptive_avg(nd, input, output_size):
    if nd > 1:  # PyTorch's Python functional reads input.size() first
        read_before_checked(input, "size")
    require_tensors(f"adaptive_avg_pool{nd}d", ("input",), input)
    if _amp.active:  # (its body averages through matmul, which runs as it is inside)
        return autocast_call(f"adaptive_avg_pool{nd}d", _adaptive_avg, nd, input, output_size)
    if input.dtype in dtypes.narrow_float:  # summed in float32 and rounded once, as PyTorch's (and its node)
        out = _adaptive_avg(nd, input.float(), output_size)
        node = out.grad_fn
        return out.to(input.dtype) if node is None else named_node(out.to(input.dtype), type(node).__name__)
    op = f"adaptive_avg_pool{nd}d"
    _check_output_size_dims(nd, input, output_size)
    # PyTorch averages into sizes of all 1 with mean() over the last nd dimensions, which takes empty dims,
    # before it checks the rank (its 1-d form checks the rank first)
    size = _ntuple(nd)(output_size)
    ones = (
        len(size) == nd
        and (input.ndim >= nd or None not in size)  # (an input of too few dims: mean's IndexError, as PyTorch's)
        and all((input.shape[d - nd] if s is None else s) == 1 for d, s in enumerate(size))
    )
    if ones and nd > 1 and input.ndim not in (nd + 1, nd + 2):
        return input.mean(tuple(range(-nd, 0)), keepdim=True)
    x, batched = _adaptive_batched(op, nd, input, check_empty=not ones)
    out_shape = _adaptive_output_size(op, nd, x, output_size, batched)
    if x.dtype.is_complex and all(o == 1 for o in out_shape):  # PyTorch's mean() path, which takes complex
        return _unbatch(x.mean(tuple(range(2, 2 + nd)), keepdim=True), batched)
    if x.dtype not in FLOATING_AND_HALF:
        if x.numel() == 0 and nd < 3:  # PyTorch's 2-d kernel returns an empty batch before its dtype dispatch
            return _unbatch(x.new_zeros(tuple(x.shape[:2]) + tuple(out_shape)), batched)
        if all(o == 1 for o in out_shape):  # PyTorch averages into 1x1 with mean()
            raise RuntimeError(_MEAN_OF_INTEGERS + TORCH_NAMES[x.dtype])
        not_implemented("adaptive_avg_pool3d_cpu" if nd == 3 else "adaptive_avg_pool2d", x.dtype)
    ones = all(o == 1 for o in out_shape)
    if ones:  # PyTorch averages into sizes of all 1 with mean(), whose gradient has no edge to the input
        pooled = x.mean(tuple(range(2, 2 + nd)), keepdim=True)
    else:
        pooled = _ADAPTIVE_AVG_POOL_NODES[nd].apply(x, tuple(out_shape))
    fmt = channels_last_format(x) if ones else None
    if fmt is not None:  # PyTorch's mean() restrided in place to the input's channels-last format (as_strided_)
        return named_node(in_format(pooled, fmt), "AsStridedBackward1")
    pooled = _unbatch(in_input_format(pooled, x) if nd == 2 else pooled.contiguous(), batched)  # 3-d: row-major
    # PyTorch averages into 1x1 with mean()
    return _pool_node(pooled, nd, "MeanBackward1" if ones else "AdaptiveAvgPool{}DBackward0")


def adaptive_avg_pool1d(input: Tensor, output_size: _size_1_opt_t) -> Tensor:
    """Applies a 1D adaptive average pooling; bin ``i`` covers ``[floor(i*L/O), ceil((i+1)*L/O))``.

    Args:
        input: input tensor of shape :math:`(N, C, L)` or :math:`(C, L)`.
        output_size: the target output size.

    Shape:
        - Input: :math:`(N, C, L_{in})` or :math:`(C, L_{in})`
        - Output: :math:`(N, C, O)` or :math:`(C, O)`, :math:`O` = ``output_size``

    Examples::

        >>> x = ember.tensor([[[1.0, 5.0, 2.0, 4.0, 3.0, 0.0]]])
        >>> F.adaptive_avg_pool1d(x, 3)
        tensor([[[3.0000, 3.0000, 1.5000]]])
        >>> F.adaptive_avg_pool1d(x, 1)  # global average
        tensor([[[2.5000]]])
    """
    return _adaptive_avg(1, input, output_size)


def adaptive_avg_pool2d(input: Tensor, output_size: _size_2_opt_t) -> Tensor:
    """Applies a 2D adaptive average pooling (bins as in :func:`adaptive_avg_pool1d`, per dim).

    Args:
        input: input tensor of shape :math:`(N, C, H, W)` or :math:`(C, H, W)`.
        output_size: the target output size, an int or ``(H, W)``; ``None`` keeps that dim.

    Shape:
        - Input: :math:`(N, C, H_{in}, W_{in})` or :math:`(C, H_{in}, W_{in})`
        - Output: :math:`(N, C, H_{out}, W_{out})` or :math:`(C, H_{out}, W_{out})`, :math:`(H_{out}, W_{out})` = ``output_size``

    Example::

        >>> F.adaptive_avg_pool2d(ember.randn(1, 64, 8, 9), (5, 7)).shape
        ember.Size([1, 64, 5, 7])
    """
    return _adaptive_avg(2, input, output_size)


def adaptive_avg_pool3d(input: Tensor, output_size: _size_3_opt_t) -> Tensor:
    """Applies a 3D adaptive average pooling (see :func:`adaptive_avg_pool2d`).

    Args:
        input: input tensor of shape :math:`(N, C, D, H, W)` or :math:`(C, D, H, W)`.
        output_size: the target output size, an int or ``(D, H, W)``; ``None`` keeps that dim.

    Shape:
        - Input: :math:`(N, C, D_{in}, H_{in}, W_{in})` or :math:`(C, D_{in}, H_{in}, W_{in})`
        - Output: :math:`(N, C, D_{out}, H_{out}, W_{out})` or :math:`(C, D_{out}, H_{out}, W_{out})`, :math:`(D_{out}, H_{out}, W_{out})` = ``output_size``

    Examples::

        >>> F.adaptive_avg_pool3d(ember.randn(1, 64, 8, 9, 10), (5, 7, 9)).shape
        ember.Size([1, 64, 5, 7, 9])
        >>> F.adaptive_avg_pool3d(ember.arange(8.0).reshape(1, 1, 2, 2, 2), 1)
        tensor([[[[[3.5000]]]]])
    """
    return _adaptive_avg(3, input, output_size)


# -- fractional max pooling -------------------------------------------------------------------
def _fractional_max(nd, input, kernel_size, output_size, output_ratio, _random_samples):
    read_before_checked(input, "dim")  # PyTorch's Python functional reads input.dim() first
    if _amp.active:
        args = (input, kernel_size, output_size, output_ratio, _random_samples)
        return autocast_call(f"fractional_max_pool{nd}d", _fractional_max, nd, *args)
    op = f"fractional_max_pool{nd}d"
    x, batched = _batched(op, nd, input)
    kernel = _ints(op, "kernel_size", kernel_size, nd)
    if output_size is None and output_ratio is None:
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        ratio = _ntuple(nd)(output_ratio)
        ratio = ratio * nd if len(ratio) == 1 else ratio
        output_size = [int(x.shape[2 + i] * ratio[i]) for i in range(nd)]
    out_shape = _ints(op, "output_size", output_size, nd)
    names = ("height", "width") if nd == 2 else ("time", "height", "width")
    for name, n, k, o in zip(names, x.shape[2:], kernel, out_shape):
        if o + k - 1 > n:
            raise RuntimeError(f"{op}(): pool {name} {k} too large relative to input {name} {n}")
    n, c = x.shape[0], x.shape[1]
    if x.dtype not in FLOATING_AND_HALF:  # PyTorch draws (or takes) the samples in the input's type
        if _random_samples is None or _random_samples.dtype is x.dtype:
            # (complex samples PyTorch draws; its pooling kernel refuses them)
            drawn = _random_samples is None and not x.dtype.is_complex
            not_implemented("check_uniform_bounds" if drawn else f"{op}_out_frame", x.dtype)
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    if _random_samples is None:
        samples = rand(n, c, nd, dtype=x.dtype, device=x.device)
    else:
        samples = _random_samples
        check_same_device(op, x, samples)
        if samples.dtype is not x.dtype:  # PyTorch takes the samples in the input's type, never casts them
            raise RuntimeError(
                f"{op}: Expect _random_samples to have the same dtype as input ({x.dtype}), got {samples.dtype}"
            )
        if samples.ndim != 3 or samples.shape[0] < n or samples.shape[1] != c or samples.shape[2] != nd:
            raise RuntimeError(
                f"{op}: expected _random_samples of shape [>= {n}, {c}, {nd}], but got {list(samples.shape)}"
            )
        samples = samples[:n]

    def compute(kernels, data):
        return kernels.fractional_max_pool(data, kernel, out_shape, samples._data)

    values, indices = _MaxByIndex.apply(x, compute)
    # PyTorch's kernel takes an unbatched input as it is: its one node either way
    return named_node(_unbatch(values, batched), f"FractionalMaxPool{nd}DBackward0"), _unbatch(indices, batched)


def fractional_max_pool2d_with_indices(
    input: Tensor,
    kernel_size: _size_2_t,
    output_size: _size_2_t | None = None,
    output_ratio: _ratio_2_t | None = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """:func:`fractional_max_pool2d` returning ``(output, indices)``.

    Returns:
        ``(output, indices)``, the indices being flat positions in each input plane.

    Examples::

        >>> x = ember.arange(25.0).reshape(1, 1, 5, 5)
        >>> samples = ember.tensor([[[0.5, 0.5]]])  # fixes the windows
        >>> F.fractional_max_pool2d_with_indices(x, 2, output_size=3, _random_samples=samples)
        (tensor([[[[ 6.,  8.,  9.],
                  [16., 18., 19.],
                  [21., 23., 24.]]]]), tensor([[[[ 6,  8,  9],
                  [16, 18, 19],
                  [21, 23, 24]]]]))
    """
    return _fractional_max(2, input, kernel_size, output_size, output_ratio, _random_samples)


def fractional_max_pool3d_with_indices(
    input: Tensor,
    kernel_size: _size_3_t,
    output_size: _size_3_t | None = None,
    output_ratio: _ratio_3_t | None = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """:func:`fractional_max_pool3d` returning ``(output, indices)``.

    Returns:
        ``(output, indices)``, the indices being flat positions in each input volume.

    Examples::

        >>> out, idx = F.fractional_max_pool3d_with_indices(ember.randn(1, 2, 6, 6, 6), 2, output_size=3)
        >>> out.shape, idx.dtype
        (ember.Size([1, 2, 3, 3, 3]), ember.int64)
    """
    return _fractional_max(3, input, kernel_size, output_size, output_ratio, _random_samples)


def fractional_max_pool2d(
    input: Tensor,
    kernel_size: _size_2_t,
    output_size: _size_2_t | None = None,
    output_ratio: _ratio_2_t | None = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> Tensor | tuple[Tensor, Tensor]:
    """Applies 2D fractional max pooling (Graham, *Fractional Max-Pooling*).

    Windows of ``kernel_size`` start at pseudo-random, increasing positions chosen so that
    the output has ``output_size`` (or ``floor(input_size * output_ratio)``) elements.

    Args:
        input: input tensor of shape :math:`(N, C, H, W)` or :math:`(C, H, W)`.
        kernel_size: the size of the window, an int or ``(kH, kW)``.
        output_size: the target output size ``(oH, oW)`` or an int. Default: ``None``
        output_ratio: the output size as a ratio of the input size, in (0, 1). Default: ``None``
        return_indices: also return the indices of the maxima. Default: ``False``
        _random_samples: ``(N, C, 2)`` samples in [0, 1) fixing the windows. Default: drawn

    Shape:
        - Input: :math:`(N, C, H_{in}, W_{in})` or :math:`(C, H_{in}, W_{in})`
        - Output: :math:`(N, C, H_{out}, W_{out})` or :math:`(C, H_{out}, W_{out})`, from ``output_size`` or ``output_ratio``

    Example::

        >>> F.fractional_max_pool2d(ember.randn(1, 2, 10, 10), 3, output_size=(5, 4)).shape
        ember.Size([1, 2, 5, 4])
    """
    out = _fractional_max(2, input, kernel_size, output_size, output_ratio, _random_samples)
    return out if return_indices else out[0]


def fractional_max_pool3d(
    input: Tensor,
    kernel_size: _size_3_t,
    output_size: _size_3_t | None = None,
    output_ratio: _ratio_3_t | None = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> Tensor | tuple[Tensor, Tensor]:
    """Applies 3D fractional max pooling (see :func:`fractional_max_pool2d`; samples ``(N, C, 3)``).

    Args:
        input: input tensor of shape :math:`(N, C, D, H, W)` or :math:`(C, D, H, W)`.
        kernel_size: the size of the window, an int or ``(kD, kH, kW)``.
        output_size: the target output size ``(oD, oH, oW)`` or an int. Default: ``None``
        output_ratio: the output size as a ratio of the input size, in (0, 1). Default: ``None``
        return_indices: also return the indices of the maxima. Default: ``False``
        _random_samples: ``(N, C, 3)`` samples in [0, 1) fixing the windows. Default: drawn

    Shape:
        - Input: :math:`(N, C, D_{in}, H_{in}, W_{in})` or :math:`(C, D_{in}, H_{in}, W_{in})`
        - Output: :math:`(N, C, D_{out}, H_{out}, W_{out})` or :math:`(C, D_{out}, H_{out}, W_{out})`, from ``output_size`` or ``output_ratio``

    Examples::

        >>> F.fractional_max_pool3d(ember.randn(1, 2, 8, 8, 8), 2, output_ratio=0.5).shape
        ember.Size([1, 2, 4, 4, 4])
    """
    out = _fractional_max(3, input, kernel_size, output_size, output_ratio, _random_samples)
    return out if return_indices else out[0]
