"""Functional padding: :func:`pad` with the constant, reflect, replicate and circular modes."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

from ... import dtypes
from ...amp.policy import cast_inputs
from ...amp.state import state as _amp
from ...autograd.function import Function
from ...autograd.linear_gradient import LinearGradient
from ...layout import contiguous_format
from ...ops.dtype_support import not_implemented
from ...ops.operands import check_scalar_fits, int_list, named_node, require_tensors
from ...tensor import Tensor
from ...type_names import type_name
from .spatial_layout import channels_last_format, in_format, in_input_format

__all__ = ["pad"]


class _TakeAxis(Function):
    """Slices of ``x`` along ``axis`` picked by a native integer index vector (differentiable)."""

    @staticmethod
    def forward(ctx, x, index, axis):
        ctx.index, ctx.axis, ctx.size = index, axis, x.shape[axis]
        return x._make(x._backend.kernels.take_axis(x._data, index, axis))

    @staticmethod
    def backward(ctx, grad):
        return _TakeAxisBackward.apply(grad, ctx.index, ctx.axis, ctx.size), None, None


class _TakeAxisBackward(Function):
    """The adjoint of :class:`_TakeAxis`: rows summed back into a length-``size`` axis."""

    @staticmethod
    def forward(ctx, grad, index, axis, size):
        ctx.index, ctx.axis = index, axis
        return grad._make(grad._backend.kernels.take_axis_backward(grad._data, index, axis, size))

    @staticmethod
    def backward(ctx, grad):
        return _TakeAxis.apply(grad, ctx.index, ctx.axis), None, None, None


class _IndexPad(Function):
    """Reflection or replication padding: ``x`` taken along each padded dimension in turn at the native
    integer indices of ``takes``, ``((dim, index), ...)``, laid out as ``x`` (channels-last where it is)."""

    @staticmethod
    def forward(ctx, x, takes):
        ctx.takes, ctx.shape, ctx.format = takes, tuple(x.shape), channels_last_format(x)
        data = x._data if takes else x.clone(memory_format=contiguous_format)._data  # a new tensor, padded or not
        for dim, index in takes:
            data = x._backend.kernels.take_axis(data, index, dim)
        return in_input_format(x._make(data), x)

    @staticmethod
    def backward(ctx, grad):
        return _IndexPadBackward.of(ctx, grad, ctx.takes, ctx.shape, ctx.format, type(ctx).__name__), None


class _IndexPadBackward(LinearGradient):
    """The adjoint of :class:`_IndexPad`: each padded dimension's rows summed back, in reverse order, laid out
    as the input (``fmt``, its channels-last format, or None: row-major); ``name``, the padding's node's."""

    @staticmethod
    def forward(ctx, grad, takes, shape, fmt, name, source):
        ctx.takes, ctx.name = takes, name
        data = grad._data if takes else grad.clone(memory_format=contiguous_format)._data
        for dim, index in reversed(takes):
            data = grad._backend.kernels.take_axis_backward(data, index, dim, shape[dim])
        return grad._make(data) if fmt is None else in_format(grad._make(data), fmt)

    @staticmethod
    def adjoint(ctx, gg):
        return named_node(_IndexPad.apply(gg, ctx.takes), ctx.name), None, None, None, None


def take_axis(x, index, axis):
    """Differentiable ``x.take(index, axis)`` for a native integer index vector ``index``."""
    return _TakeAxis.apply(x, index, axis)


class _ConstantPad(Function):
    _backward_name = "ConstantPadNdBackward0"

    @staticmethod
    def forward(ctx, x, pads, value):
        ctx.pads = pads
        xp = x._backend.xp
        shape = x.shape
        out_shape, src, dst = [], [], []
        for size, (before, after) in zip(shape, pads):
            out_shape.append(size + before + after)
            src.append(slice(max(-before, 0), size - max(-after, 0)))
            dst.append(slice(max(before, 0), max(before, 0) + max(size - max(-before, 0) - max(-after, 0), 0)))
        if all(before <= 0 and after <= 0 for before, after in pads):
            # a crop only: PyTorch clones the cropped view, laid out in its dims' order
            return x._make(x._data[tuple(src)]).clone()
        out = xp.full(tuple(out_shape), value, dtype=x._data.dtype)
        if all(s.stop > s.start for s in dst):
            out[tuple(dst)] = x._data[tuple(src)]
        return x._make(out)

    @staticmethod
    def backward(ctx, grad):
        return _ConstantPad.apply(grad, tuple((-b, -a) for b, a in ctx.pads), 0), None, None


_MODES = ("constant", "reflect", "replicate", "circular")
_AUTOCAST_NAMES = {"reflect": "reflection_pad", "replicate": "replication_pad", "circular": "circular_pad"}


def _pairs(pad, ndim):
    """Per-dimension ``(before, after)`` pairs from PyTorch's last-dim-first flat pad list."""
    pairs = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        pairs[ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return tuple(pairs)


def _source_index(xp, size, before, after, mode):
    """Indices into a length-``size`` axis that realise the padding ``mode``."""
    index = xp.arange(-before, size + after)
    if mode == "reflect":
        index = (size - 1) - xp.abs((size - 1) - xp.abs(index))
    elif mode == "replicate":
        index = xp.minimum(xp.maximum(index, 0), size - 1)
    else:
        # PyTorch crops the negative sides first, then wraps around what is left.
        low, kept = max(-before, 0), size - max(-before, 0) - max(-after, 0)
        index = low + xp.remainder(xp.arange(-max(before, 0), kept + max(after, 0)), kept)
    return index


def _check_non_constant(input, pad, mode):
    k = len(pad) // 2
    if k not in (1, 2, 3) or input.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
        )
    shape = input.shape
    batched = input.ndim == k + 2
    if mode != "circular" and any(s == 0 for s in shape[1 if batched else 0 :]):  # (PyTorch's circular: no check)
        raise RuntimeError(
            f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size and other "
            f"non-zero dimensions for input, but got: {list(shape)}"
        )
    for i in range(k):
        dim = input.ndim - 1 - i
        before, after = int(pad[2 * i]), int(pad[2 * i + 1])
        size = shape[dim]
        if mode == "reflect" and (before >= size or after >= size):
            raise RuntimeError(
                f"Argument #{4 + 2 * i}: Padding size should be less than the corresponding input dimension, but got: "
                f"padding ({before}, {after}) at dimension {dim} of input {list(shape)}"
            )
        if mode == "circular" and (before > size or after > size):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if mode == "circular":  # PyTorch's circular padding may leave a dimension empty
            if size + before + after < 0:
                raise RuntimeError("Negative padding value is resulting in an empty dimension")
        elif size + before + after < 1:
            raise RuntimeError(
                f"input tensor size {list(shape)} at dimension {dim} is too small for padding ({before}, {after})"
            )


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    r"""Pads a tensor.

    ``pad`` lists the padding sizes starting from the last dimension and moving forward:
    ``(left, right)`` pads the last dimension, ``(left, right, top, bottom)`` the last two,
    and so on. Negative sizes crop.

    Args:
        input (Tensor): N-dimensional tensor.
        pad (tuple): m-element tuple, where :math:`\frac{m}{2} \leq` input dimensions and
            :math:`m` is even.
        mode: ``'constant'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.
            Default: ``'constant'``
        value: fill value for ``'constant'`` padding. Default: ``0``

    Non-constant modes pad the last 1, 2 or 3 dimensions of a (batched or unbatched)
    input of 2 to 5 dimensions. Reflect padding must be smaller than the padded dimension.

    Example::

        >>> t4d = ember.empty(3, 3, 4, 2)
        >>> F.pad(t4d, (1, 1, 2, 2), "constant", 0).size()
        ember.Size([3, 3, 8, 4])
    """
    require_tensors("pad", ("input",), input)
    pad = int_list("pad", "pad", pad, position=2)  # PyTorch's Python pad passes its arguments by position
    if type(mode) is not str:
        raise TypeError(f"pad(): argument 'mode' (position 3) must be str, not {type_name(mode)}")
    if value is not None and not isinstance(value, (numbers.Number, Tensor)) or isinstance(value, complex):
        raise TypeError(f"pad(): argument 'value' (position 4) must be float, not {type_name(value)}")
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but got "
            f"padding length {len(pad)} and input of dimension {input.ndim}"
        )
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if mode == "constant":
        pairs = _pairs(pad, input.ndim)
        for dim, (size, (before, after)) in enumerate(zip(input.shape, pairs)):
            if size + before + after < 0:
                raise RuntimeError(
                    f"The input size {size}, plus negative padding {before} and {after} resulted in a "
                    f"negative output size, which is invalid. Check dimension {dim} of your input."
                )
            if size + min(before, 0) + min(after, 0) < 0:  # PyTorch crops (narrows) the negative sides first
                raise RuntimeError(
                    f"pad: the negative padding ({before}, {after}) crops more than the {size} elements of "
                    f"dimension {dim} of the input"
                )
        if isinstance(value, Tensor):  # a one-element tensor is read as the number it holds (PyTorch's float)
            if value.numel() != 1:
                raise TypeError("pad(): argument 'value' (position 4) must be float, not Tensor")
            value = value.item()
        if isinstance(value, numbers.Real):  # PyTorch's checked conversion of the fill value
            check_scalar_fits(value, input.dtype)
        if not any(before or after for before, after in pairs):  # PyTorch's clone, in the input's layout
            out = input.clone()
        else:
            out = _ConstantPad.apply(input, pairs, 0 if value is None else value)
            if any(before > 0 or after > 0 for before, after in pairs):  # a crop only keeps its clone's layout
                out = in_input_format(out, input)
        return named_node(out, "ConstantPadNdBackward0")  # (a channels-last input's copy: still PyTorch's one node)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    _check_non_constant(input, pad, mode)
    bool_or_limited = input.dtype is dtypes.bool or input.dtype in dtypes.limited_dtypes
    if bool_or_limited and mode != "circular":  # PyTorch's reflection/replication kernels
        not_implemented(f"{_AUTOCAST_NAMES[mode]}{len(pad) // 2}d", input.dtype)
    if _amp.active:  # reflection_pad1d, replication_pad3d, ... as autocast's tables name them
        (input,) = cast_inputs(f"{_AUTOCAST_NAMES[mode]}{len(pad) // 2}d", input)
    xp = input._backend.xp
    with input._backend.device_context(input._device.index):
        takes = tuple(
            (dim, _source_index(xp, input.shape[dim], int(pad[2 * i]), int(pad[2 * i + 1]), mode))
            for i, dim in enumerate(range(input.ndim - 1, input.ndim - 1 - len(pad) // 2, -1))
            if pad[2 * i] or pad[2 * i + 1]
        )
        if mode == "circular":  # PyTorch's circular padding does not keep a channels-last input so
            # and writes the wrapped-around parts into slices of its result (its last node a CopySlices)
            out = input
            for dim, index in takes:
                out = take_axis(out, index, dim)
            out = input.clone(memory_format=contiguous_format) if out is input else out.contiguous()
            return named_node(out, "CopySlices")
        # a new tensor even when nothing pads, row-major, but PyTorch's reflection and replication kernels keep
        # a channels-last input so; their one node is named by the mode and the count of padded dimensions (ReflectionPad2DBackward0)
        out = _IndexPad.apply(input, takes)
    return named_node(out, f"{_AUTOCAST_NAMES[mode].title().replace('_', '')}{len(pad) // 2}DBackward0")
