"""Functional normalization: batch, instance, layer, group and local response norm, ``normalize``.

Every standardising form goes through one autograd Function, :class:`_Normalize`, which
calls the fused ``normalize_forward``/``normalize_backward`` kernels; the per-channel or
element-wise affine transform is applied after it with tensor ops. Batch norm in training
mode, the CNN's, has its own Function, :class:`_BatchNorm`, whose kernels fold the affine
transform in (one output buffer forward; the parameters' gradients from the normalize
backward's own sums).
"""

from __future__ import annotations

import math
import numbers
import warnings
from array import array
from collections.abc import Sequence
from typing import cast

from ... import dtypes
from ...amp.policy import cast_inputs
from ...amp.state import state as _amp
from ...autograd import function as autograd_function
from ...autograd.function import Function, differentiable_backward, saved_reader
from ...autograd.grad_mode import no_grad
from ...layout import contiguous_format
from ...ops.arithmetic import div
from ...ops.dtype_support import C_NAMES, TORCH_NAMES, not_implemented, refuse_limited
from ...ops.movement import format_copy
from ...ops.operands import (
    check_same_device,
    named_node,
    read_before_checked,
    refuse_gradients,
    sum_to,
    type_name,
)
from ...ops.reduced_precision import computes_in_float32, contracted_fma, narrow_on_cpu
from ...tensor import Tensor
from ...threads import get_num_threads
from ...typeinfo import finfo
from .layer_norm_order import lane_sums
from .padding import pad
from .rowwise_moments import rowwise_moments
from .spatial_layout import channels_last_format, in_input_format

__all__ = [
    "batch_norm",
    "instance_norm",
    "layer_norm",
    "group_norm",
    "local_response_norm",
    "normalize",
    "rms_norm",
    "cross_map_lrn2d",
]


class _Normalize(Function):
    """``(xhat, mean, var)``: ``x`` standardised over ``axes``; ``mean``/``var`` carry no gradient."""

    @staticmethod
    def forward(ctx, x, axes, eps):
        kernels = x._backend.kernels
        xhat, mean, var, invstd = kernels.normalize_forward(x._data, axes, eps)
        ctx.xhat = xhat
        xhat, mean, var = x._make(xhat), x._make(mean), x._make(var)
        ctx.axes, ctx.eps, ctx.invstd = axes, eps, invstd
        # the output may be written in place afterwards (PyTorch saves the input, mean and rstd, not the
        # output): its values are kept with its version counter and made again from x if it was written
        ctx.xhat_version = xhat._version_counter
        ctx.save_for_backward(x)
        ctx.mark_non_differentiable(mean, var)
        return xhat, mean, var

    @staticmethod
    def backward(ctx, grad, _grad_mean, _grad_var):
        (x,) = ctx.saved_tensors
        axes = ctx.axes
        if differentiable_backward():
            return _normalize_grad_graph(x, grad, axes, ctx.eps)[0], None, None
        kernels = grad._backend.kernels
        xhat = ctx.xhat
        if ctx.xhat_version.value:
            xhat = kernels.normalize_forward(x._data, axes, ctx.eps)[0]
        return grad._make(kernels.normalize_backward(grad._data, xhat, ctx.invstd, axes)), None, None


def _normalize_grad_graph(x, grad, axes, eps):
    """``(grad_x, xhat)`` of standardising ``x`` over ``axes``, from tensor ops on ``x`` (create_graph:
    the same formula as the kernels', so that it differentiates again)."""
    centered = x - x.mean(axes, keepdim=True)
    invstd = ((centered * centered).mean(axes, keepdim=True) + eps).rsqrt()
    xhat = centered * invstd
    grad_x = invstd * (grad - grad.mean(axes, keepdim=True) - xhat * (grad * xhat).mean(axes, keepdim=True))
    return grad_x, xhat


class _BatchNorm(Function):
    """``(y, mean, var)``: ``y = xhat * weight + bias`` (per channel; either may be None) with ``xhat``
    ``x`` standardised over ``axes``; ``mean``/``var`` carry no gradient."""

    _backward_name = "NativeBatchNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, axes, eps):
        y, xhat, mean, var, invstd = x._backend.kernels.batch_norm_forward(
            x._data, axes, eps, None if weight is None else weight._data, None if bias is None else bias._data
        )
        y, mean, var = x._make(y), x._make(mean), x._make(var)
        ctx.axes, ctx.eps, ctx.invstd = axes, eps, invstd
        ctx.save_for_backward(x, x._make(xhat), weight)
        ctx.mark_non_differentiable(mean, var)
        return y, mean, var

    @staticmethod
    def backward(ctx, grad, _grad_mean, _grad_var):
        x, xhat, weight = ctx.saved_tensors
        axes = ctx.axes
        need_x, need_weight, need_bias = ctx.needs_input_grad[:3]
        if differentiable_backward():
            view = lambda t: _channel_view(t, x.ndim)  # noqa: E731
            grad_xhat = grad if weight is None else grad * view(weight)
            grad_x, xhat = _normalize_grad_graph(x, grad_xhat, axes, ctx.eps)
            return (
                grad_x if need_x else None,
                (grad * xhat).sum(axes) if need_weight else None,
                grad.sum(axes) if need_bias else None,
                None,
                None,
            )
        grad_x, grad_weight, grad_bias = grad._backend.kernels.batch_norm_backward(
            grad._data, xhat._data, ctx.invstd, axes, None if weight is None else weight._data
        )
        return (
            grad._make(grad_x) if need_x else None,
            grad._make(grad_weight) if need_weight else None,
            grad._make(grad_bias) if need_bias else None,
            None,
            None,
        )


class _BatchNormEval(Function):
    """Batch norm with given statistics: ``(x - mean) * rsqrt(var + eps) * weight + bias`` per channel
    (``weight`` or ``bias`` None: left out), rounded as those ops round it one after the other, as one node
    whose inputs are ``(x, weight, bias)``, as PyTorch's (``mean``/``var`` are native arrays: the running
    statistics take no gradient). The result is laid out as PyTorch's CPU kernel lays it out: channels-last
    where ``x`` is, else row-major."""

    _backward_name = "NativeBatchNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, mean, var, eps):
        backend = x._backend
        xp = backend.xp
        shape = (1, -1) + (1,) * (x.ndim - 2)
        mean = xp.reshape(mean, shape)
        invstd = xp.divide(1, xp.sqrt(xp.reshape(var, shape) + eps))
        y = xp.multiply(xp.subtract(x._data, mean), invstd)
        if weight is not None:
            y = xp.multiply(y, xp.reshape(weight._data, shape))
        if bias is not None:
            y = xp.add(y, xp.reshape(bias._data, shape))
        fmt = channels_last_format(x)
        if fmt is not None or not backend.is_row_major(y):
            y = format_copy(x._make(y), y.dtype, fmt or contiguous_format)
        ctx.save_for_backward(x, weight)
        ctx.mean, ctx.invstd = mean, invstd
        ctx.bias_shape = None if bias is None else bias.shape
        return x._make(y)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        needed = ctx.needs_input_grad[:3]
        if differentiable_backward():  # one node with edges to grad, x and weight, as PyTorch's
            grads = iter(_BatchNormEvalBackward.apply(grad, x, weight, ctx.mean, ctx.invstd, ctx.bias_shape, needed))
            return *(next(grads) if need else None for need in needed), None, None, None
        return (
            *_BatchNormEvalBackward.gradients(grad, x, weight, ctx.mean, ctx.invstd, ctx.bias_shape, needed),
            None,
            None,
            None,
        )


class _BatchNormEvalBackward(Function):
    """The gradients of :class:`_BatchNormEval` for ``grad``, those of ``(x, weight, bias)`` that ``needed`` says,
    in that order, as one node whose inputs are ``(grad, x, weight)``: PyTorch's (``batchnorm_double_backward``),
    so that under ``create_graph`` each requires grad where ``x`` or ``weight`` does, and a second derivative
    through it reaches ``x`` (by the weight's gradient) and the weight (by the input's)."""

    _backward_name = "NativeBatchNormBackwardBackward0"

    @staticmethod
    def gradients(grad, x, weight, mean, invstd, bias_shape, needed):
        """``(grad_x, grad_weight, grad_bias)``, each None where not ``needed``."""
        channels = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        invstd = grad._make(invstd)
        need_x, need_weight, need_bias = needed
        grad_x = grad_weight = grad_bias = None
        if need_x:
            grad_x = (grad if weight is None else grad * weight.reshape(channels)) * invstd
        if need_weight:
            xhat = (x - grad._make(mean)) * invstd
            grad_weight = sum_to(grad * xhat, channels).reshape(weight.shape)
        if need_bias:
            grad_bias = sum_to(grad, channels).reshape(bias_shape)
        return grad_x, grad_weight, grad_bias

    @staticmethod
    def forward(ctx, grad, x, weight, mean, invstd, bias_shape, needed):
        ctx.save_for_backward(grad, x, weight)
        ctx.mean, ctx.invstd, ctx.needed = mean, invstd, needed
        return tuple(
            g
            for g in _BatchNormEvalBackward.gradients(grad, x, weight, mean, invstd, bias_shape, needed)
            if g is not None
        )

    @staticmethod
    def backward(ctx, *ggs):
        grad, x, weight = ctx.saved_tensors
        channels = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        invstd = grad._make(ctx.invstd)
        scale = invstd if weight is None else weight.reshape(channels) * invstd
        given = iter(ggs)  # one per gradient computed, in order
        gg_x, gg_weight, gg_bias = (next(given) if need else None for need in ctx.needed)
        d_grad = d_x = d_weight = None
        if gg_x is not None:  # grad_x = grad * weight * invstd
            d_grad = gg_x * scale
            if weight is not None and ctx.needs_input_grad[2]:
                d_weight = sum_to(gg_x * grad * invstd, channels).reshape(weight.shape)
        if gg_weight is not None:  # grad_weight = sum(grad * (x - mean) * invstd)
            gw = gg_weight.reshape(channels) * invstd
            term = (x - grad._make(ctx.mean)) * gw
            d_grad = term if d_grad is None else d_grad + term
            d_x = grad * gw
        if gg_bias is not None:  # grad_bias = sum(grad)
            term = gg_bias.reshape(channels).expand(tuple(grad.shape))
            d_grad = term if d_grad is None else d_grad + term
        return d_grad, d_x, d_weight, None, None, None, None


def _channel_sums(values, lanes):
    """The per-channel float32 sums of ``values`` ``(N, C, ...)`` in the order of PyTorch's CPU batch
    norm loops over a 16-bit input. A 2-D input takes its channels-last loop: the rows split among
    the threads (:func:`ember.get_num_threads`), each adding its rows in turn, the threads' sums
    added in order. Otherwise, along each image, pairs of ``lanes``-wide float32 vectors go into
    one accumulator (images and pairs in turn) and the images' last ``S % (2 lanes)`` values one by
    one into a scalar, which takes the accumulator's lanes last, in order."""
    n, c = values.shape[0], values.shape[1]
    if values.ndim == 2:
        step = -(-n // max(1, min(get_num_threads(), n)))
        total = values[:step].cumsum(0)[-1]
        for start in range(step, n, step):
            total = total + values[start : start + step].cumsum(0)[-1]
        return total
    values = values.reshape((n, c, -1))
    size = values.shape[2]
    cut = size - size % (2 * lanes) if lanes else 0
    tail = values[:, :, cut:].permute(1, 0, 2).reshape((c, -1))
    total = tail.cumsum(1)[:, -1] if tail.shape[1] else values.new_zeros((c,))
    if cut:
        vectors = values[:, :, :cut].reshape((n, c, cut // lanes, lanes)).permute(1, 0, 2, 3)
        total = total + vectors.reshape((c, -1, lanes)).cumsum(1)[:, -1].cumsum(1)[:, -1]
    return total


class _NarrowBatchNorm(Function):
    """``(y, mean, var_sum)``: batch norm in training of a float16/bfloat16 input as PyTorch's CPU
    kernel computes it. The channel's mean and sum of squared deviations are float32; where the
    parameters share the input's type (``rounded``; not with float32 parameters, "mixed type"),
    the statistics it saves and normalizes with, the mean and the reciprocal standard deviation,
    are rounded to that type, and bfloat16 keeps the sum and the variance in bfloat16 on the way.
    ``y = ((x - mean) * invstd) * weight + bias`` in float32, rounded once; the backward computes
    in float32 from the saved statistics, each gradient rounded once to its parameter's type.
    ``mean`` and ``var_sum`` (float32) are for the running statistics."""

    _backward_name = "NativeBatchNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, axes, eps, rounded):
        low, count = x.dtype, _count(x.shape, axes)
        view = lambda t: _channel_view(t, x.ndim)  # noqa: E731
        xf, lanes = x.float(), x._backend.kernels.VECTOR_LANES
        mean = _channel_sums(xf, lanes) / count
        # the channels-last loop centres on the saved mean, rounded where the parameters are 16-bit
        centre = mean.to(low).float() if rounded and x.ndim == 2 else mean
        var_sum = _channel_sums((xf - view(centre)).square(), lanes)
        if rounded and low is dtypes.bfloat16:
            var_sum = var_sum.to(low).float()
            var = (var_sum / count).to(low).float()
        else:
            var = var_sum / count
        saved_mean, invstd = mean, (var.double() + eps).rsqrt().float()
        if rounded:
            saved_mean, invstd = saved_mean.to(low), invstd.to(low)
        y = (xf - view(saved_mean.float())) * view(invstd.float())
        y = _affine(y, _float32(weight), _float32(bias), view)
        ctx.axes, ctx.count = axes, count
        ctx.save_for_backward(x, weight, saved_mean, invstd)
        ctx.mark_non_differentiable(mean, var_sum)
        return y.to(low), mean, var_sum

    @staticmethod
    def backward(ctx, grad, _grad_mean, _grad_var_sum):
        x, weight, mean, invstd = ctx.saved_tensors
        count, low = ctx.count, x.dtype
        view = lambda t: _channel_view(t, x.ndim)  # noqa: E731
        dy, centered, a = grad.float(), x.float() - view(mean.float()), invstd.float()
        lanes = x._backend.kernels.VECTOR_LANES
        total, dotp = _channel_sums(dy, lanes), _channel_sums(centered * dy, lanes)
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:  # PyTorch's (dy - mean(dy) - (x - mean) * k) * invstd * w
            k = view(dotp * a * a / count)
            grad_x = (dy - view(total / count) - centered * k) * view(a)
            grad_x = (grad_x if weight is None else grad_x * view(weight.float())).to(low)
        if ctx.needs_input_grad[1]:
            grad_weight = (dotp * a).to(weight.dtype)
        if ctx.needs_input_grad[2]:
            grad_bias = total.to(low if weight is None else weight.dtype)
        return grad_x, grad_weight, grad_bias, None, None, None


def _update_narrow_running(running_mean, running_var, mean, var_sum, count, momentum):
    """The running statistics of a float16/bfloat16 input's batch norm updated in place as PyTorch's
    CPU kernel does: bfloat16 ones in bfloat16 arithmetic (the momentum, ``1 - momentum``, each
    product and the sum rounded; the mean and the unbiased variance from rounded statistics),
    float16 and float32 ones in float32 from the float32 statistics, rounded once."""
    with no_grad():
        low = running_mean.dtype if running_mean is not None else running_var.dtype
        if low is dtypes.bfloat16:
            r = lambda t: t.to(low).float()  # noqa: E731
            m = r(mean.new_full((), momentum))
            keep = r(1 - m)
            new_mean = None if running_mean is None else r(m * r(mean)) + r(keep * running_mean.float())
            unbiased = r(var_sum / max(count - 1, 1))
            new_var = None if running_var is None else m * unbiased + r(keep * running_var.float())
        else:
            m = array("f", [momentum])[0]
            keep = array("f", [1 - m])[0]
            new_mean = None if running_mean is None else m * mean + keep * running_mean.float()
            new_var = None if running_var is None else m * (var_sum / max(count - 1, 1)) + keep * running_var.float()
        for running, new in ((running_mean, new_mean), (running_var, new_var)):
            if running is not None:
                running.copy_(new)


#: op -> the PyTorch CPU kernel that refuses a non-floating input (LRN's avg_pool2d takes int64)
_KERNELS = {
    "batch_norm": "batch_norm", "instance_norm": "batch_norm", "layer_norm": "LayerNormKernelImpl",
    "group_norm": "GroupNormKernelImpl", "rms_norm": "rms_norm", "local_response_norm": "avg_pool2d",
}  # fmt: skip


def _check_tensor(op, name, value):
    if not isinstance(value, Tensor):  # the ops' input, their first argument
        raise TypeError(f"{op}(): argument '{name}' (position 1) must be Tensor, not {type_name(value)}")
    if not value.dtype.is_floating_point:
        if op == "rms_norm" and value.dtype.is_complex:
            return  # PyTorch's rms_norm composes complex ops (x * x, not |x|^2)
        if op == "local_response_norm" and value.dtype is dtypes.int64:
            return  # PyTorch's avg_pool2d takes int64
        if op in _KERNELS:
            not_implemented(_KERNELS[op], value.dtype)
        raise RuntimeError(f"{op}(): expected a floating point {name}, got {value.dtype}")


def _check_param(op, name, value, count):
    if value is not None and not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type_name(value)}")
    if value is not None and value.numel() != count:
        raise RuntimeError(f"{op}(): {name} should contain {count} elements not {value.numel()}")


def _check_group_norm_param(name, value, input):
    """PyTorch's check of group norm's ``weight``/``bias``: ``None`` or a vector of the input's ``C`` elements.
    (PyTorch's message for a wrong bias shows the weight's shape; this one shows the bias's.)"""
    if value is not None and not isinstance(value, Tensor):
        raise TypeError(f"group_norm(): argument '{name}' must be Tensor, not {type_name(value)}")
    if value is not None and (value.ndim != 1 or value.numel() != input.shape[1]):
        raise RuntimeError(
            f"Expected {name} to be a vector of size equal to the number of channels in input, but got {name} of "
            f"shape {list(value.shape)} and input of shape {list(input.shape)}"
        )


def _check_channel_input(op, input, min_ndim, layout, **params):
    """Check ``input`` (a floating point tensor with at least ``min_ndim`` dimensions, laid out as
    ``layout``) and the per-channel tensors ``params`` (each ``None`` or with ``C`` elements)."""
    _check_tensor(op, "input", input)
    if input.ndim < min_ndim:
        raise ValueError(
            f"{op}(): expected input with at least {min_ndim} dimensions {layout}, got {input.ndim}D input"
        )
    for name, value in params.items():
        _check_param(op, name, value, input.shape[1])
        if value is not None:
            check_same_device(op, input, value)


def _check_parameter_dtypes(op, input, **params):
    """PyTorch's normalizations take a float32 or float64 input's parameters in its own dtype only
    (no promotion: a float32 input with a float64 weight is refused); a 16-bit input's in its own dtype
    or float32 (a float16 input with bfloat16 or float64 parameters is refused)."""
    if input.dtype in dtypes.narrow_float:
        for name, value in params.items():
            if value is not None and value.dtype not in (input.dtype, dtypes.float32):
                raise RuntimeError(
                    f"{op}(): mixed dtype (CPU): expect parameter {name} to have scalar type of Float, "
                    f"but got {TORCH_NAMES[value.dtype]}"
                )
        return
    if input.dtype not in (dtypes.float32, dtypes.float64):
        return
    for name, value in params.items():
        if value is not None and value.dtype is not input.dtype:
            raise RuntimeError(
                f"{op}(): mixed dtype (CPU): expect parameter {name} to have scalar type of "
                f"{TORCH_NAMES[input.dtype]}, but got {TORCH_NAMES[value.dtype]}"
            )


def _channel_view(t, ndim):
    """A per-channel vector shaped to broadcast against an ``ndim``-D ``(N, C, ...)`` input."""
    return t.reshape((1, -1) + (1,) * (ndim - 2))


def _affine(y, weight, bias, view, fused=True):
    """``y * weight + bias`` per channel (``view`` shapes them): one node (:class:`_ScaleShift`) where both
    parameters are given and of ``y``'s real floating type, unless not ``fused`` (instance norm, whose PyTorch
    graph repeats the parameters per sample and accumulates the bias's gradient before the weight's)."""
    low = _mixed_type(y)
    if (
        fused
        and weight is not None
        and bias is not None
        and y.dtype is weight.dtype is bias.dtype
        and not y.is_complex()
    ):
        y = _ScaleShift.apply(y, weight, bias, view)
    else:
        if weight is not None:
            y = y * view(weight)
        if bias is not None:
            y = y + view(bias)
    return y if low is None or y.dtype is low else y.to(low)


class _ScaleShift(Function):
    """``y * view(weight) + view(bias)``, rounded as the two ops round it, as one node whose inputs are
    ``(y, weight, bias)``, as PyTorch's normalization nodes list them: the engine then accumulates the
    weight's gradient before the bias's, as PyTorch's does."""

    @staticmethod
    def forward(ctx, y, weight, bias, view):
        needs_y, needs_weight = ctx.needs_input_grad[:2]
        ctx.save_for_backward(y if needs_weight else None, weight if needs_y else None)
        ctx.view, ctx.shapes = view, (weight.shape, bias.shape)
        return y * view(weight) + view(bias)

    @staticmethod
    def backward(ctx, grad):
        y, weight = ctx.saved_tensors
        view, (weight_shape, bias_shape) = ctx.view, ctx.shapes
        needs_y, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        grad_y = grad * view(weight) if needs_y else None
        grad_weight = grad_bias = None
        if needs_weight:
            grad_weight = sum_to(grad * y, view(y.new_empty(weight_shape)).shape).reshape(weight_shape)
        if needs_bias:
            grad_bias = sum_to(grad, view(grad.new_empty(bias_shape)).shape).reshape(bias_shape)
        return grad_y, grad_weight, grad_bias, None


def _mixed_type(y):
    """The dtype a normalization returns whatever its parameters' dtype when ``y`` is 16-bit
    (PyTorch's CPU "mixed type": a bfloat16/float16 input with float32 parameters, as in an
    autocast region, gives the input's dtype), else None."""
    return y.dtype if y.dtype in dtypes.narrow_float else None


def _float32(param):
    """A 16-bit parameter as float32 (a differentiable cast), any other one, or None, as it is."""
    return param.float() if param is not None and param.dtype in dtypes.narrow_float else param


def _update_running(running, batch_stat, momentum, scale=1.0):
    """``running = (1 - momentum) * running + momentum * scale * batch_stat`` in place (one kernel)."""
    with no_grad():
        stat = batch_stat.to(running.dtype)._data
        running._backend.kernels.running_update(running._data, stat, momentum, scale)
        running._version_counter.value += 1


def _count(shape, axes):
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-05,
) -> Tensor:
    r"""Applies Batch Normalization for each channel across a batch of data.

    .. math:: y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}} * \gamma + \beta

    In training mode the statistics are those of the batch (biased variance) and, when
    given, ``running_mean``/``running_var`` are updated in place with ``momentum``
    (the running variance with the unbiased batch variance). Otherwise the running
    statistics normalise.

    Args:
        input: ``(N, C, *)``.
        running_mean, running_var: ``(C,)`` running statistics, or None.
        weight, bias: ``(C,)`` affine parameters, or None. Default: None
        training: use batch statistics. Default: False
        momentum: running statistics update factor. Default: 0.1
        eps: added to the variance. Default: 1e-5

    Shape:
        - Input: :math:`(N, C)` or :math:`(N, C, *)`
        - Output: same shape as input.

    See :class:`~ember.nn.BatchNorm1d` for details.

    Examples::

        >>> x = ember.tensor([[1.0, 10.0], [3.0, 30.0]])  # (N, C) = (2, 2)
        >>> mean, var = ember.zeros(2), ember.ones(2)
        >>> F.batch_norm(x, mean, var, training=True)
        tensor([[-1.0000, -1.0000],
                [ 1.0000,  1.0000]])
        >>> mean, var  # updated in place with momentum 0.1
        (tensor([0.2000, 2.0000]), tensor([ 1.1000, 20.9000]))
        >>> F.batch_norm(x, mean, var)  # evaluation: the running statistics normalise
        tensor([[0.7628, 1.7499],
                [2.6697, 6.1247]])
    """
    if training:  # PyTorch's Python functional reads input.size() first
        read_before_checked(input, "size")
    refuse_limited("batch_norm", input)
    op = "batch_norm"
    if isinstance(input, Tensor) and input.ndim < 2:
        if input.numel() == 0:
            return _empty_batch_norm(input, weight, bias)
        raise RuntimeError(f"{op}(): expected input with at least 2 dimensions (N, C, ...), got {input.ndim}D input")
    _check_channel_input(
        op, input, 2, "(N, C, ...)", running_mean=running_mean, running_var=running_var, weight=weight, bias=bias
    )
    _check_parameter_dtypes(op, input, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias)
    refuse_gradients("native_batch_norm", running_mean=running_mean, running_var=running_var)
    for stat in (running_mean, running_var):  # (the weight and bias may have any shape of C elements)
        if stat is not None and stat.ndim != 1:
            raise RuntimeError(f"{op}(): running statistics must be 1-D, but got shape {list(stat.shape)}")
    if training and (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be None")
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if training and running_mean is not None and autograd_function.vmap_level is not None:
        autograd_function.vmap_level.check_running_stats(running_mean, running_var)
    axes = (0,) + tuple(range(2, input.ndim))
    if training:
        count = _count(input.shape, axes)
        if count == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
        if input.numel() == 0:  # an empty batch: the running statistics untouched (as PyTorch)
            return _empty_batch_norm(input, weight, bias)
        if narrow_on_cpu(input):
            rounded = all(p is None or p.dtype is input.dtype for p in (weight, bias, running_mean, running_var))
            y, mean, var_sum = _NarrowBatchNorm.apply(input, weight, bias, axes, eps, rounded)
            if running_mean is not None or running_var is not None:
                _update_narrow_running(running_mean, running_var, mean, var_sum, count, momentum)
            return y
        low = _mixed_type(input)
        if low is not None:  # computed in float32 and rounded once, as PyTorch's (float32 parameters too)
            input, weight, bias = input.float(), _float32(weight), _float32(bias)
        y, mean, var = _BatchNorm.apply(input, weight, bias, axes, eps)
        if running_mean is not None:
            _update_running(running_mean, mean.reshape(-1), momentum)
        if running_var is not None:
            _update_running(running_var, var.reshape(-1), momentum, count / max(count - 1, 1))
        return _batch_norm_result(y if low is None else y.to(low), input)
    if input.numel() == 0:
        return _empty_batch_norm(input, weight, bias)
    for name, stat in (("running_mean", running_mean), ("running_var", running_var)):
        if stat is None:  # PyTorch's words, the mean's first
            raise RuntimeError(f"{name} must be defined in evaluation mode")
    low = _mixed_type(input)
    if low is not None:  # in float32, rounded once, as in training
        input, weight, bias = input.float(), _float32(weight), _float32(bias)
        running_mean, running_var = _float32(running_mean), _float32(running_var)
    mean, var = cast(Tensor, running_mean)._data, cast(Tensor, running_var)._data  # (both checked above)
    y = _BatchNormEval.apply(input, weight, bias, mean, var, eps)
    return y if low is None else _batch_norm_result(y.to(low), input)


def _batch_norm_result(y, input):
    """``y`` as PyTorch's batch norm returns it: laid out channels-last where ``input`` is, row-major
    otherwise (a transposed input's too), made by one node, NativeBatchNormBackward0."""
    return named_node(in_input_format(y, input), "NativeBatchNormBackward0")


def _empty_batch_norm(input, weight, bias):
    """Batch norm of an input with no elements, as PyTorch's: a copy, times ``weight[0]``, plus ``bias[0]``
    (its graph: CloneBackward0, MulBackward0, AddBackward0; no statistics read or updated)."""
    out = input.clone() if weight is None else input * weight[0]
    return out if bias is None else out + bias[0]


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-05,
) -> Tensor:
    r"""Applies Instance Normalization: each channel of each sample is standardised on its own.

    Args:
        input: ``(N, C, *)``.
        running_mean, running_var: ``(C,)`` running statistics, updated in place when
            ``use_input_stats`` (averaged over the batch). Default: None
        weight, bias: ``(C,)`` affine parameters. Default: None
        use_input_stats: normalise with the sample statistics; otherwise with the
            running ones. Default: True
        momentum: running statistics update factor. Default: 0.1
        eps: added to the variance. Default: 1e-5

    Shape:
        - Input: :math:`(N, C, *)`
        - Output: same shape as the input

    See :class:`~ember.nn.InstanceNorm2d` for details.

    Examples::

        >>> x = ember.tensor([[[1.0, 2.0, 3.0], [0.0, 0.0, 6.0]]])
        >>> F.instance_norm(x)
        tensor([[[-1.2247,  0.0000,  1.2247],
                 [-0.7071, -0.7071,  1.4142]]])
        >>> F.instance_norm(ember.randn(2, 3, 4, 4)).shape
        ember.Size([2, 3, 4, 4])
    """
    op = "instance_norm"
    if use_input_stats:  # PyTorch's Python functional checks input.size() first
        read_before_checked(input, "size")
    if _amp.active:  # float32 on cuda (cpu leaves it alone)
        input, weight, bias = cast_inputs(op, input, weight, bias)
    _check_channel_input(
        op, input, 3, "(N, C, *)", running_mean=running_mean, running_var=running_var, weight=weight, bias=bias
    )
    _check_parameter_dtypes(op, input, weight=weight, bias=bias)  # running statistics of any float type
    refuse_gradients("native_batch_norm", running_mean=running_mean, running_var=running_var)
    view = lambda t: _channel_view(t, input.ndim)  # noqa: E731
    axes = tuple(range(2, input.ndim))
    count = _count(input.shape, axes)
    if use_input_stats:
        if running_mean is not None and autograd_function.vmap_level is not None:
            autograd_function.vmap_level.check_running_stats(running_mean, running_var)
        if count == 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input size {input.shape}")
    # a 16-bit input rounded as PyTorch's batch norm rounds it; the running statistics as PyTorch's graph has them
    if input.dtype in dtypes.narrow_float or not use_input_stats:
        stats = (running_mean, running_var, weight, bias, use_input_stats, momentum, eps)
        return named_node(_instance_norm_as_batch_norm(input, *stats), "ViewBackward0")
    y, mean, var = _Normalize.apply(input.contiguous(), axes, eps)  # row-major whatever the input's layout, as PyTorch
    if running_mean is not None:
        _update_running(running_mean, mean.reshape(input.shape[:2]).mean(0), momentum)
    if running_var is not None:
        _update_running(running_var, var.reshape(input.shape[:2]).mean(0), momentum, count / (count - 1))
    return named_node(_affine(y, weight, bias, view, fused=False), "ViewBackward0")


def _instance_norm_as_batch_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps):
    """PyTorch's instance norm: batch norm of ``input`` viewed as one sample of ``N * C`` channels, the
    parameters and running statistics repeated ``N`` times, the running statistics then averaged back over the
    batch. Taken for a float16/bfloat16 input (the statistics in the parameters' type, the input's without them,
    as PyTorch's results come out; :class:`_NarrowBatchNorm` reproduces its rounding) and with the running
    statistics (``use_input_stats=False``), so that the input's gradient is viewed back from the batch norm's, as
    PyTorch's."""
    n, c = input.shape[:2]
    kind = (input.dtype if weight is None else weight.dtype) if input.dtype in dtypes.narrow_float else None
    repeat = lambda t: None if t is None else t.repeat(n)  # noqa: E731
    means, variances = (
        None if t is None else t.repeat(n) if kind is None else t.repeat(n).to(kind)
        for t in (running_mean, running_var)
    )
    rows = input.contiguous().reshape((1, n * c) + tuple(input.shape[2:]))
    y = batch_norm(rows, means, variances, repeat(weight), repeat(bias), use_input_stats, momentum, eps)
    if use_input_stats:
        with no_grad():
            for running, repeated in ((running_mean, means), (running_var, variances)):
                if running is not None:
                    running.copy_(repeated.reshape(n, c).mean(0))
    return y.reshape(input.shape)


def layer_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-05,
) -> Tensor:
    r"""Applies Layer Normalization over the last ``len(normalized_shape)`` dimensions.

    Args:
        input: ``(*, normalized_shape)``.
        normalized_shape (int or tuple): the trailing shape to normalise over.
        weight, bias: element-wise affine parameters of shape ``normalized_shape``. Default: None
        eps: added to the variance. Default: 1e-5

    Shape:
        - Input: :math:`(*, \text{normalized\_shape})`
        - Output: same shape as the input

    See :class:`~ember.nn.LayerNorm` for details.

    Examples::

        >>> x = ember.tensor([[1.0, 2.0, 3.0], [2.0, 2.0, 8.0]])
        >>> F.layer_norm(x, (3,))
        tensor([[-1.2247,  0.0000,  1.2247],
                [-0.7071, -0.7071,  1.4142]])
        >>> F.layer_norm(x, (3,), weight=ember.tensor([1.0, 2.0, 0.0]), bias=ember.tensor([0.0, 0.0, 5.0]))
        tensor([[-1.2247,  0.0000,  5.0000],
                [-0.7071, -1.4142,  5.0000]])
        >>> F.layer_norm(ember.randn(2, 5, 10, 10), [10, 10]).shape
        ember.Size([2, 5, 10, 10])
    """
    refuse_limited("LayerNormKernelImpl", input)
    if _amp.active:  # float32 on cuda (cpu leaves it alone)
        input, weight, bias = cast_inputs("layer_norm", input, weight, bias)
    axes = _trailing_axes("layer_norm", input, normalized_shape, weight=weight, bias=bias)
    _check_parameter_dtypes("layer_norm", input, weight=weight, bias=bias)
    if input.dtype in dtypes.narrow_float:  # computed in float32 and rounded once, as PyTorch's
        rounded = all(p is None or p.dtype is input.dtype for p in (weight, bias))
        mixed = all(p is None or p.dtype is dtypes.float32 for p in (weight, bias))
        if narrow_on_cpu(input) and (rounded or mixed):
            y = _NarrowLayerNorm.apply(input.contiguous(), weight, bias, axes, eps, rounded)
            return named_node(y, "NativeLayerNormBackward0")
        weight, bias = (None if p is None else p.float() for p in (weight, bias))
        y = layer_norm(input.float(), normalized_shape, weight, bias, eps).to(input.dtype)
        return named_node(y, "NativeLayerNormBackward0")
    y, _, _ = _Normalize.apply(input.contiguous(), axes, eps)  # row-major whatever the input's layout, as PyTorch
    return named_node(_affine(y, weight, bias, lambda t: t), "NativeLayerNormBackward0")  # PyTorch's one node


class _NarrowLayerNorm(Function):
    """Layer norm of a float16/bfloat16 input, as PyTorch's CPU kernel: the output computed in
    float32 and rounded once; with parameters of the input's type (``rounded``) the mean and the
    reciprocal standard deviation kept in that type, with float32 ones (mixed type) in float32, and
    the backward computed in float32 from them (``dx = rstd * dy * w + b * x + c``, PyTorch's ``b``
    and ``c``, :func:`_layer_norm_input_grad`, with its kernel's row sums and fused multiply-adds),
    rounded once. The parameters' gradients are summed as PyTorch's kernel sums them: each thread
    adds its rows into a buffer of the input's 16-bit type, then the threads' buffers are added in
    float32 (:func:`_row_sums_by_thread`). Under ``create_graph`` the backward is a graph of tensor
    ops of the same formula, with plain sums."""

    _backward_name = "NativeLayerNormBackward0"
    #: PyTorch's readers of what the node saved (``_saved_result1``/``2``: the mean and reciprocal
    #: standard deviation, the normalized dimensions kept as size 1)
    _saved_attributes = {
        "_saved_input": saved_reader(0),
        "_saved_weight": saved_reader(1),
        "_saved_result1": saved_reader(2),
        "_saved_result2": saved_reader(3),
        "_saved_normalized_shape": lambda ctx: tuple(ctx.normalized_shape),
    }

    @staticmethod
    def forward(ctx, x, weight, bias, axes, eps, rounded):
        backend = x._backend
        xp, wide = backend.xp, backend.native_dtype(dtypes.float32)
        n = math.prod(x.shape[i] for i in axes)
        rows = x.numel() // n if n else 0
        xf = xp.reshape(xp.astype(x._data, wide), (rows, n))
        mean, var = rowwise_moments(backend, xf, x.dtype)
        rstd = xp.divide(1.0, xp.sqrt(xp.add(var, eps)))
        mean, rstd = xp.reshape(mean, (rows, 1)), xp.reshape(rstd, (rows, 1))
        y = contracted_fma(backend, xf, rstd, xp.multiply(-rstd, mean))  # PyTorch's x * rstd - rstd * mean
        if weight is not None or bias is not None:
            gamma, beta = (None if p is None else xp.reshape(xp.astype(p._data, wide), (n,)) for p in (weight, bias))
            if gamma is None:
                y = xp.add(y, beta)
            else:
                y = contracted_fma(backend, y, gamma, xp.zeros((n,), dtype=wide) if beta is None else beta)
        ctx.axes, ctx.normalized_shape = axes, [x.shape[i] for i in axes]
        stat_shape = tuple(1 if i in axes else size for i, size in enumerate(x.shape))
        mean, rstd = (x._make(xp.reshape(t, stat_shape)) for t in (mean, rstd))
        if rounded:
            mean, rstd = mean.to(x.dtype), rstd.to(x.dtype)
        ctx.save_for_backward(x, weight, mean, rstd)
        return x._make(xp.astype(xp.reshape(y, x.shape), x._data.dtype))

    @staticmethod
    def backward(ctx, grad):
        x, weight, mean, rstd = ctx.saved_tensors
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        needs_weight = needs_weight and weight is not None
        if differentiable_backward():
            grads = _narrow_layer_norm_grad_graph(grad, x, weight, mean, rstd, ctx.axes)
        else:
            grads = _narrow_layer_norm_grad(grad, x, weight, mean, rstd, ctx.axes, needs_x, needs_weight, needs_bias)
        grad_x, grad_weight, grad_bias = (
            g if needed else None for g, needed in zip(grads, (needs_x, needs_weight, needs_bias))
        )
        grad_x = None if grad_x is None else grad_x.to(x.dtype)
        grad_weight = None if grad_weight is None else grad_weight.reshape(weight.shape).to(weight.dtype)
        if grad_bias is not None:
            grad_bias = grad_bias.reshape(grad.shape[grad.ndim - len(ctx.axes) :])
            grad_bias = grad_bias.to(x.dtype if weight is None else weight.dtype)
        return grad_x, grad_weight, grad_bias, None, None, None


def _narrow_layer_norm_grad_graph(grad, x, weight, mean, rstd, axes):
    """The float32 ``(grad_x, grad_weight, grad_bias)`` of :class:`_NarrowLayerNorm` from tensor ops
    (create_graph), with PyTorch's formula and plain sums."""
    dy, xf, m, a = grad.float(), x.float(), mean.float(), rstd.float()
    w = None if weight is None else weight.float()
    scale = 1.0 / math.prod(x.shape[i] for i in axes)
    ds = (dy * xf if w is None else dy * xf * w).sum(axes, keepdim=True)
    db = (dy if w is None else dy * w).sum(axes, keepdim=True)
    b = (db * m - ds) * a * a * a * scale
    c = -b * m - db * a * scale
    batch_axes = tuple(range(x.ndim - len(axes)))
    grad_x = (a * dy if w is None else a * dy * w) + b * xf + c
    return grad_x, (dy * (a * xf + -a * m)).sum(batch_axes), dy.sum(batch_axes)


def _narrow_layer_norm_grad(grad, x, weight, mean, rstd, axes, needs_x, needs_weight, needs_bias):
    """The float32 ``(grad_x, grad_weight, grad_bias)`` of :class:`_NarrowLayerNorm` (None where not
    needed; ``grad_weight`` and ``grad_bias`` flat) as PyTorch's CPU kernel computes them, on the
    native arrays: :func:`_layer_norm_input_grad` and :func:`_row_sums_by_thread`."""
    backend = x._backend
    xp, wide = backend.xp, backend.native_dtype(dtypes.float32)
    n = math.prod(x.shape[i] for i in axes)
    rows = (x.numel() // n if n else 0, n)
    flat = lambda t: xp.reshape(xp.astype(t._data, wide), rows)  # noqa: E731
    dy, xf = flat(grad.contiguous()), flat(x)
    m, a = (xp.reshape(xp.astype(t._data, wide), (rows[0], 1)) for t in (mean, rstd))
    grad_x = grad_weight = grad_bias = None
    if needs_x:
        w = None if weight is None else xp.reshape(xp.astype(weight._data, wide), (n,))
        mixed = weight is not None and weight.dtype is dtypes.float32
        grad_x = x._make(xp.reshape(_layer_norm_input_grad(backend, dy, xf, m, a, w, mixed), x.shape))
    if needs_weight:
        scaled = contracted_fma(backend, a, xf, -a * m)  # PyTorch's rstd * x - rstd * mean
        grad_weight = x._make(_row_sums_by_thread(backend, dy, scaled, x.dtype))
    if needs_bias:
        grad_bias = x._make(_row_sums_by_thread(backend, dy, None, x.dtype))
    return grad_x, grad_weight, grad_bias


def _layer_norm_input_grad(backend, dy, x, m, a, w, mixed):
    """``dx = a * dy * w + b * x + c`` (float32 ``(M, N)``) from the float32 rows ``dy`` and ``x``, the
    saved mean ``m`` and reciprocal standard deviation ``a`` ``(M, 1)`` and the weight ``w`` (None:
    none), with PyTorch's ``b = (db * m - ds) * a**3 / N`` and ``c = -b * m - db * a / N``, its row
    sums ``ds = sum(dy * x * w)`` and ``db = sum(dy * w)`` and its fused multiply-adds
    (:mod:`.layer_norm_order`); a float32 weight (``mixed`` type) takes its own loop's order."""
    scale = 1.0 / x.shape[1]
    if w is None:
        ds, db = lane_sums(backend, dy, x), lane_sums(backend, dy, None)
    elif mixed:
        dyw = dy * w
        ds, db = lane_sums(backend, x, dyw, halve_short=True), lane_sums(backend, dyw, None, halve_short=True)
    else:
        ds, db = lane_sums(backend, dy * x, w), lane_sums(backend, dy, w)
    xp = backend.xp
    ds, db = (xp.reshape(t, (x.shape[0], 1)) for t in (ds, db))
    b = contracted_fma(backend, db, m, -ds) * a * a * a * scale
    c = contracted_fma(backend, -b, m, -(db * a * scale))
    return contracted_fma(backend, b, x, a * dy if w is None else a * dy * w) + c


def _row_sums_by_thread(backend, dy, factor, low):
    """The column sums of float32 ``dy * factor`` (``dy`` alone where ``factor`` is None), ``(M, N)``
    arrays, as PyTorch's CPU layer norm backward adds its parameters' gradients: the rows split among
    the threads (:func:`ember.get_num_threads`), each thread adding its rows in turn into a buffer of
    the 16-bit type ``low`` (each product fused with its addition, the buffer rounded after every
    row), the threads' buffers then added in float32. Returns an ``(N,)`` float32 array."""
    xp = backend.xp
    narrow, wide = backend.native_dtype(low), dy.dtype
    m, n = dy.shape
    threads = max(1, min(get_num_threads(), m))
    step = -(-m // threads)
    if step * threads != m:  # rows of zeros after the last: adding 0 leaves a rounded buffer as it is
        zeros = xp.zeros((step * threads - m, n), dtype=wide)
        dy = xp.concat([dy, zeros], axis=0)
        factor = None if factor is None else xp.concat([factor, zeros], axis=0)
    dy = xp.reshape(dy, (threads, step, n))
    factor = None if factor is None else xp.reshape(factor, (threads, step, n))
    buffers = xp.zeros((threads, n), dtype=wide)
    for row in range(step):
        total = (
            buffers + dy[:, row, :]
            if factor is None
            else contracted_fma(backend, dy[:, row, :], factor[:, row, :], buffers)
        )
        buffers = xp.astype(xp.astype(total, narrow), wide)
    total = buffers[0]
    for t in range(1, threads):
        total = total + buffers[t]
    return total


def _normalized_shape(normalized_shape):
    """``normalized_shape`` (an int or a sequence of ints) as a tuple of ints (``F.layer_norm``,
    ``F.rms_norm`` and the ``LayerNorm``/``RMSNorm`` modules)."""
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


def _trailing_axes(op, input, normalized_shape, **params):
    """The trailing axes of ``input`` that ``normalized_shape`` names; checks the shapes of ``params``."""
    _check_tensor(op, "input", input)
    if isinstance(normalized_shape, Tensor) or not isinstance(normalized_shape, Sequence):
        # the modules take an int; the functional forms, as PyTorch's, only a sequence of ints
        raise TypeError(
            f"{op}(): argument 'normalized_shape' (position 2) must be tuple of ints, not {type_name(normalized_shape)}"
        )
    for s in normalized_shape:
        if not isinstance(s, numbers.Integral):
            raise TypeError(
                f"{op}(): argument 'normalized_shape' (position 2) must be tuple of ints, "
                f"but found element of type {type(s).__name__}"
            )
    normalized_shape = _normalized_shape(normalized_shape)
    k = len(normalized_shape)
    if k == 0:
        raise RuntimeError(
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, but got "
            f"normalized_shape = {list(normalized_shape)}"
        )
    for position, (name, value) in enumerate(params.items(), 3):  # before the input's shape, as PyTorch
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"{op}(): argument '{name}' (position {position}) must be Tensor, not {type_name(value)}")
        if value is not None and tuple(value.shape) != normalized_shape:
            raise RuntimeError(
                f"{op}(): Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                f"{list(value.shape)} and normalized_shape = {list(normalized_shape)}"
            )
    if input.ndim < k or tuple(input.shape[input.ndim - k :]) != normalized_shape:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(str(s) for s in normalized_shape)}], but got input of size{list(input.shape)}"
        )
    return tuple(range(input.ndim - k, input.ndim))


def rms_norm(
    input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None, eps: float | None = None
) -> Tensor:
    r"""Applies Root Mean Square Layer Normalization over the last ``len(normalized_shape)`` dimensions.

    .. math:: y = \frac{x}{\sqrt{\mathrm{E}[x^2] + \epsilon}} * \gamma

    Args:
        input: ``(*, normalized_shape)``.
        normalized_shape (int or tuple): the trailing shape to normalise over.
        weight: element-wise scale of shape ``normalized_shape``. Default: None
        eps: added to the mean square. Default: ``None``, the machine epsilon of the input's
            dtype (``ember.finfo(input.dtype).eps``)

    Examples::

        >>> F.rms_norm(ember.tensor([[3.0, 4.0]]), (2,), eps=0.0)
        tensor([[0.8485, 1.1314]])
    """
    if _amp.active:  # float32 on cuda (cpu leaves it alone)
        input, weight = cast_inputs("rms_norm", input, weight)
    axes = _trailing_axes("rms_norm", input, normalized_shape, weight=weight)
    if weight is not None and weight.dtype is not input.dtype and not _rms_norm_warned:
        _rms_norm_warned.append(True)  # PyTorch warns once a process (TORCH_WARN_ONCE)
        warnings.warn(
            f"Mismatch dtype between input and weight: input dtype = {C_NAMES[input.dtype]}, weight dtype = "
            f"{C_NAMES[weight.dtype]}, Cannot dispatch to fused implementation.",
            stacklevel=2,
        )
    return _rms_norm(input, axes, normalized_shape, weight, eps)


_rms_norm_warned: list[bool] = []


def _rms_norm(input, axes, normalized_shape, weight, eps):
    if input.dtype in dtypes.narrow_float:  # computed in float32 and rounded once, as PyTorch's
        return _rms_norm(input.float(), axes, normalized_shape, weight, eps).to(input.dtype)
    if eps is None:  # the epsilon of the type computed in (float32 for a 16-bit input), as PyTorch's
        eps = finfo(input.dtype).eps
    y = _affine(input * ((input * input).mean(axes, keepdim=True) + eps).rsqrt(), weight, None, lambda t: t)
    return y if y.dtype is input.dtype else y.to(input.dtype)  # PyTorch's type_as(input), whatever weight's type


def group_norm(
    input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None, eps: float = 1e-05
) -> Tensor:
    r"""Applies Group Normalization: channels are split into ``num_groups`` groups, each standardised per sample.

    Args:
        input: ``(N, C, *)``.
        num_groups (int): number of groups; must divide ``C``.
        weight, bias: ``(C,)`` affine parameters. Default: None
        eps: added to the variance. Default: 1e-5

    Shape:
        - Input: :math:`(N, C, *)`, :math:`C` divisible by ``num_groups``
        - Output: same shape as the input

    See :class:`~ember.nn.GroupNorm` for details.

    Examples::

        >>> x = ember.tensor([[1.0, 3.0, 10.0, 30.0]])  # N = 1, C = 4
        >>> F.group_norm(x, 2)  # groups {1, 3} and {10, 30}
        tensor([[-1.0000,  1.0000, -1.0000,  1.0000]])
        >>> F.group_norm(ember.randn(2, 6, 8, 8), 3).shape
        ember.Size([2, 6, 8, 8])
    """
    read_before_checked(input, "dim")  # PyTorch's Python functional: input.dim() first
    if _amp.active:  # float32 on cuda (cpu leaves it alone)
        input, weight, bias = cast_inputs("group_norm", input, weight, bias)
    op = "group_norm"
    _check_tensor(op, "input", input)
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.ndim}")
    channels = input.shape[1]
    if num_groups <= 0 or channels % num_groups:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got input of shape "
            f"{list(input.shape)} and num_groups={num_groups}"
        )
    # PyTorch's check of the batch, on the shape that puts the groups on the channel dimension
    size = [input.shape[0] * channels // num_groups, num_groups, *input.shape[2:]]
    if size[0] * math.prod(size[2:]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")
    for name, value in (("weight", weight), ("bias", bias)):
        _check_group_norm_param(name, value, input)
    _check_parameter_dtypes(op, input, weight=weight, bias=bias)
    if input.dtype in dtypes.narrow_float:  # computed in float32 and rounded once, as PyTorch's
        if narrow_on_cpu(input) and all(p is None or p.dtype is input.dtype for p in (weight, bias)):
            y = _NarrowGroupNorm.apply(input.contiguous(), weight, bias, num_groups, eps)
            return named_node(in_input_format(y, input), "NativeGroupNormBackward0")
        y = group_norm(input.float(), num_groups, _float32(weight), _float32(bias), eps).to(input.dtype)
        return named_node(y, "NativeGroupNormBackward0")
    grouped = input.reshape(input.shape[0], num_groups, math.prod(input.shape[1:]) // num_groups)
    y, mean, var = _Normalize.apply(grouped, (2,), eps)
    y = y.reshape(input.shape)
    if weight is not None:
        y = _GroupScale.apply(y, weight, bias, input, mean, var, eps)
    elif bias is not None:
        y = y + _channel_view(bias, input.ndim)
    # PyTorch's one node, its result laid out channels-last where the input is
    return named_node(in_input_format(y, input), "NativeGroupNormBackward0")


class _NarrowGroupNorm(Function):
    """Group norm of a float16/bfloat16 input with parameters of its type, as PyTorch's CPU kernel:
    the output computed in float32 and rounded once; the mean and the reciprocal standard
    deviation of each group kept in the input's type, and the backward computed in float32 from
    those rounded statistics with PyTorch's terms (``dx = rstd * w * dy + b * x + c`` per group,
    the weight's gradient ``sum_n (sum(dy x) - sum(dy) mean) rstd``), each gradient rounded once."""

    _backward_name = "NativeGroupNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, groups, eps):
        n, xf = x.shape[0], x.float()
        grouped = xf.reshape((n, groups, math.prod(x.shape[1:]) // groups))  # not -1: n may be 0
        y, mean, var = _Normalize.apply(grouped, (2,), eps)
        view = lambda t: _channel_view(t, x.ndim)  # noqa: E731
        y = _affine(y.reshape(x.shape), _float32(weight), _float32(bias), view)
        ctx.groups = groups
        ctx.save_for_backward(
            x, weight, mean.reshape((n, groups)).to(x.dtype), (var + eps).rsqrt().reshape((n, groups)).to(x.dtype)
        )
        return y.to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        x, weight, mean, rstd = ctx.saved_tensors
        n, c, groups = x.shape[0], x.shape[1], ctx.groups
        per_group = c // groups
        planes = (n, c, math.prod(x.shape[2:]))
        dy, xf = grad.float().reshape(planes), x.float().reshape(planes)
        m, a = mean.float(), rstd.float()  # (N, G)
        gamma = None if weight is None else weight.float().reshape((1, groups, per_group))
        ds, db = (dy * xf).sum(2), dy.sum(2)  # (N, C)
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            ds_g, db_g = ds.reshape((n, groups, per_group)), db.reshape((n, groups, per_group))
            sum1 = (ds_g if gamma is None else ds_g * gamma).sum(2)
            sum2 = (db_g if gamma is None else db_g * gamma).sum(2)
            scale = 1.0 / (per_group * planes[2])
            b = (sum2 * m - sum1) * a * a * a * scale
            cc = -b * m - sum2 * a * scale
            c1 = (
                a.reshape((n, groups, 1)).expand((n, groups, per_group))
                if gamma is None
                else a.reshape((n, groups, 1)) * gamma
            )
            dx = c1.reshape((n, c, 1)) * dy
            per_group_elements = per_group * planes[2]  # not -1: n may be 0
            grouped = (n, groups, per_group_elements)
            dx = dx.reshape(grouped) + b.reshape((n, groups, 1)) * xf.reshape(grouped)
            grad_x = (dx + cc.reshape((n, groups, 1))).reshape(x.shape).to(x.dtype)
        if weight is not None and ctx.needs_input_grad[1]:
            spread = lambda t: t.reshape((n, groups, 1)).expand((n, groups, per_group)).reshape((n, c))  # noqa: E731
            grad_weight = ((ds - db * spread(m)) * spread(a)).sum(0).to(weight.dtype)
        if ctx.needs_input_grad[2]:
            grad_bias = db.sum(0).to(x.dtype)
        return grad_x, grad_weight, grad_bias, None, None


class _GroupScale(Function):
    """``xhat * weight + bias`` per channel in group_norm (``bias`` may be None), one node whose inputs are
    ``xhat``, ``weight`` and ``bias``, so that the weight's gradient is accumulated before the bias's, as
    PyTorch's; the weight's gradient is PyTorch's grouping, ``sum_n (sum(grad x) - sum(grad) mean) rstd`` per
    channel (an inf upstream gives inf - inf = NaN where ``sum(grad xhat)`` would not), and ``sum(grad xhat)``
    under create_graph (it differentiates again)."""

    @staticmethod
    def forward(ctx, y, weight, bias, x, mean, var, eps):
        ctx.save_for_backward(y, weight, x, mean, var)
        ctx.eps = eps
        out = y * _channel_view(weight, y.ndim)
        return out if bias is None else out + _channel_view(bias, y.ndim)

    @staticmethod
    def backward(ctx, grad):
        y, weight, x, mean, var = ctx.saved_tensors
        grad_y = (grad * _channel_view(weight, y.ndim)).to(y.dtype)
        grad_bias = None
        if ctx.needs_input_grad[2]:
            grad_bias = sum_to(grad, (1, weight.shape[0]) + (1,) * (y.ndim - 2)).reshape(weight.shape)
        if not ctx.needs_input_grad[1]:
            return grad_y, None, grad_bias, None, None, None, None
        planes = (x.shape[0], x.shape[1], math.prod(x.shape[2:]))
        batch, channels = planes[:2]
        if differentiable_backward():
            grad_weight = (grad * y).reshape(planes).sum((0, 2))
        else:
            groups = mean.shape[1]
            grad = grad.reshape(planes)
            by_channel = (grad * x.reshape(planes)).sum(2)  # sum(grad x), (N, C)
            spread = (batch, groups, channels // groups)  # each group's statistic over its channels
            mean = mean.reshape(batch, groups, 1).expand(spread).reshape(batch, channels)
            rstd = (var + ctx.eps).rsqrt().reshape(batch, groups, 1).expand(spread).reshape(batch, channels)
            grad_weight = ((by_channel - grad.sum(2) * mean) * rstd).sum(0)
        return grad_y, grad_weight.to(weight.dtype), grad_bias, None, None, None, None


@computes_in_float32
def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    r"""Applies local response normalization over channels (dimension 1).

    .. math:: b_c = a_c \left(k + \frac{\alpha}{n} \sum_{c'} a_{c'}^2\right)^{-\beta}

    the sum running over the ``size`` neighbouring channels.

    Args:
        input: ``(N, C, *)``, at least 3-D.
        size (int): number of neighbouring channels.
        alpha: multiplicative factor. Default: 0.0001
        beta: exponent. Default: 0.75
        k: additive factor. Default: 1

    Shape:
        - Input: :math:`(N, C, *)`
        - Output: same shape as the input

    See :class:`~ember.nn.LocalResponseNorm` for details.

    Examples::

        >>> x = ember.tensor([[[1.0], [2.0], [3.0]]])  # N = 1, C = 3, L = 1
        >>> F.local_response_norm(x, size=2, alpha=1.0, beta=1.0)
        tensor([[[0.6667],
                 [0.5714],
                 [0.4000]]])
        >>> F.local_response_norm(ember.randn(2, 8, 5, 5), size=3).shape
        ember.Size([2, 8, 5, 5])
    """
    read_before_checked(input, "dim")  # PyTorch's Python functional: input.dim() first
    _check_tensor("local_response_norm", "input", input)
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} dimensions)")
    if input.numel() == 0:
        return input
    channels = input.shape[1]
    squares = pad(input * input, (0, 0) * (input.ndim - 2) + (size // 2, (size - 1) // 2))
    if _amp.active and input.ndim > 3:  # PyTorch averages the window with avg_pool3d there: float32 under autocast
        (squares,) = cast_inputs("avg_pool3d", squares)
    div = squares.narrow(1, 0, channels)
    for offset in range(1, size):
        div = div + squares.narrow(1, offset, channels)
    # (PyTorch averages an int64 window in int64, truncating, before it scales)
    scaled = div * (alpha / size) if input.dtype.is_floating_point else div // size * alpha
    return input / (scaled + k).pow(beta)


# PyTorch averages the window of a 4-D or larger input with avg_pool3d (float32 under cpu autocast), of a
# 3-D one with avg_pool2d (the input's dtype)
local_response_norm.__wrapped__.autocast_op = lambda input: "avg_pool3d" if input.ndim > 3 else "avg_pool2d"  # type: ignore[attr-defined]


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Tensor | None = None) -> Tensor:
    r"""Divides ``input`` by its :math:`L_p` norm over dimension ``dim``.

    .. math:: v = \frac{v}{\max(\lVert v \rVert_p, \epsilon)}

    Args:
        input: tensor of any shape.
        p (float): the exponent of the norm. Default: 2
        dim (int or tuple of ints): the dimension(s) to reduce. Default: 1
        eps (float): small value to avoid division by zero. Default: 1e-12
        out (Tensor, optional): the tensor to write the result into. Default: ``None``

    Examples::

        >>> x = ember.tensor([[3.0, 4.0], [1.0, 0.0]])
        >>> F.normalize(x, dim=1)  # unit rows
        tensor([[0.6000, 0.8000],
                [1.0000, 0.0000]])
        >>> F.normalize(x, p=1.0, dim=0)  # columns with unit L1 norm
        tensor([[0.7500, 1.0000],
                [0.2500, 0.0000]])
    """
    read_before_checked(input, "norm")  # PyTorch's Python functional: input.norm(...) first
    if not (isinstance(input, Tensor) and input.dtype.is_complex):  # a complex input has a real norm
        _check_tensor("normalize", "input", input)
    denom = input.norm(p, dim, keepdim=True).clamp(min=eps).expand_as(input)
    if out is not None:  # as PyTorch: div's out= (resized, cast, refused while recording)
        return div(input, denom, out=out)
    return input / denom


def _window_sums(values, lo, size):
    """Per channel ``c``, the sum of ``values`` over channels ``[c + lo, c + lo + size)`` clipped to ``[0, C)``."""
    c = values.shape[1]
    cum = pad(values.cumsum(1), (0, 0, 0, 0, 1, 0))
    starts = [min(max(i + lo, 0), c) for i in range(c)]
    ends = [min(max(i + lo + size, 0), c) for i in range(c)]
    index = lambda idx: values.new_tensor(idx, dtype=dtypes.int64)  # noqa: E731
    return cum.index_select(1, index(ends)) - cum.index_select(1, index(starts))


class _CrossMapLRN2d(Function):
    """PyTorch's legacy cross-channel LRN: its forward window keeps channel 0 in every window from
    channel ``pre_pad`` on, and its backward uses its own window; both are reproduced as they are."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        c = x.shape[1]
        pre_pad = int((size - 1) / 2 + 1)
        sq = x * x
        window = _window_sums(sq, -(pre_pad - 1), 2 * pre_pad - 1)
        # PyTorch's running sum never drops channel 0: add it back where the window has passed it
        past = [1.0 if i > pre_pad - 1 else 0.0 for i in range(c)]
        window = window + sq[:, :1] * x.new_tensor(past).reshape((1, c, 1, 1))
        scale = window * (alpha / size) + k
        out = x * scale.pow(-beta)
        ctx.save_for_backward(x, out, scale)
        ctx.size, ctx.alpha, ctx.beta = size, alpha, beta
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out, scale = ctx.saved_tensors
        size = ctx.size
        inverse_pre_pad = int(size - (size - 1) / 2)
        ratio = grad * out / scale
        accum = _window_sums(ratio, -inverse_pre_pad, size)
        return scale.pow(-ctx.beta) * grad - (2 * ctx.alpha * ctx.beta / size) * x * accum, None, None, None, None


def cross_map_lrn2d(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    r"""The functional form of :class:`~ember.nn.CrossMapLRN2d` (PyTorch's legacy channel LRN).

    Args:
        input: ``(N, C, H, W)``.
        size: number of neighbouring channels.
        alpha, beta, k: as in :func:`local_response_norm`.

    Examples::

        >>> F.cross_map_lrn2d(ember.ones(1, 3, 1, 1), 3).shape
        ember.Size([1, 3, 1, 1])
    """
    _check_tensor("cross_map_lrn2d", "input", input)
    if input.ndim != 4:
        raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.ndim}D instead.")
    return _CrossMapLRN2d.apply(input, size, alpha, beta, k)
