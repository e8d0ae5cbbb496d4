"""Non-linear activations, functional forms (``F.relu``, ``F.softmax``, ...).

Element-wise activations are written with differentiable tensor ops, so double backward
comes for free; the hot ones (``relu``, ``threshold``) and the softmax family are
autograd Functions, the latter calling the backend's softmax kernels.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ... import dtypes
from ...amp.policy import cast_inputs
from ...amp.state import state as _amp
from ...autograd.function import Function, differentiable_backward, modified_after_saved, node_output, saved_reader
from ...autograd.grad_mode import grad_state
from ...layout import contiguous_format
from ...ops.arithmetic import _Pointwise, where
from ...ops.conversion import check_inplace, write_result_
from ...ops.dtype_support import ALL, FLOATING_AND_HALF, TORCH_NAMES, not_implemented, refuse_limited
from ...ops.movement import cat, row_major
from ...ops.operands import fill_value_for, named_node, read_before_checked, require_tensors, type_name
from ...ops.reduced_precision import opmath
from ...ops.result_layout import binary_layout
from ...tensor import Tensor, _new, dtype_arg
from ...typeinfo import finfo
from ...unstrided import UnstridedTensor, by_layout
from ..common_types import _dtype_t

__all__ = [
    "threshold",
    "threshold_",
    "relu",
    "relu_",
    "hardtanh",
    "hardtanh_",
    "relu6",
    "elu",
    "elu_",
    "selu",
    "selu_",
    "celu",
    "celu_",
    "leaky_relu",
    "leaky_relu_",
    "prelu",
    "rrelu",
    "rrelu_",
    "glu",
    "gelu",
    "silu",
    "mish",
    "logsigmoid",
    "hardshrink",
    "tanhshrink",
    "softsign",
    "softplus",
    "softmin",
    "softmax",
    "softshrink",
    "gumbel_softmax",
    "log_softmax",
    "tanh",
    "sigmoid",
    "hardsigmoid",
    "hardswish",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _check_tensor(name, input):
    require_tensors(name, ("input",), input)


#: activation -> (PyTorch's CPU kernel, the dtypes it is compiled for)
_KERNELS = {
    **dict.fromkeys(("elu", "selu", "celu"), ("elu_cpu", FLOATING_AND_HALF)),
    **{name: (f"{name}_cpu", FLOATING_AND_HALF) for name in ("mish", "hardsigmoid", "hardswish", "leaky_relu")},
    "silu": ("silu_cpu", FLOATING_AND_HALF | {dtypes.complex64, dtypes.complex128}),  # PyTorch's takes complex
    "rrelu": ("rrelu_with_noise_out_cpu", FLOATING_AND_HALF),
    **dict.fromkeys(("threshold", "threshold_"), ("threshold_cpu", ALL)),
}


#: the activations whose formula takes more than one rounding: a float16/bfloat16 input is computed in
#: float32 and the result rounded once, as PyTorch's kernels compute them (the others are exact)
_OPMATH = frozenset(("elu", "selu", "celu", "hardsigmoid", "hardswish"))


# the composite activations' nodes as PyTorch names its one node: (out of place, in place)
_NODE_NAMES = {
    "elu": ("EluBackward0", "EluBackward1"),
    "selu": ("EluBackward0", "EluBackward1"),
    "celu": ("CeluBackward0", "CeluBackward1"),
    "hardsigmoid": ("HardsigmoidBackward0", "HardsigmoidBackward0"),
    "leaky_relu": ("LeakyReluBackward0", "LeakyReluBackward1"),
    "rrelu": ("RreluWithNoiseBackward0", "RreluWithNoiseBackward1"),
    "threshold": ("ThresholdBackward0", "ThresholdBackward1"),
}


def _apply(name, input, inplace, fn):
    """Run the out-of-place activation ``fn``; with ``inplace`` write the result into ``input``."""
    if not isinstance(input, Tensor):  # PyTorch's in-place form is an op of its own, named with an underscore
        _check_tensor(f"{name}_" if inplace and not name.endswith("_") else name, input)
    dtype = input.dtype
    kernel = _KERNELS.get(name)
    if kernel is not None and dtype not in kernel[1]:
        not_implemented(kernel[0], dtype)
    if name in ("relu6", "hardtanh"):
        _refuse_clamp_types(dtype)
        if dtype is dtypes.bool:
            raise RuntimeError("Bool inputs not supported for hardtanh")
    if name in _OPMATH and dtype in dtypes.narrow_float:
        fn = _in_float32(fn)
    names = _NODE_NAMES.get(name)
    if not inplace:
        return fn(input) if names is None else named_node(fn(input), names[0])
    return _write_inplace(input, fn, names)


def _refuse_clamp_types(dtype):
    """Refuse a complex ``dtype`` as PyTorch's ``clamp``, which computes relu, relu6 and hardtanh."""
    if dtype.is_complex:
        raise NotImplementedError("clamp is not supported for complex types")


def _write_inplace(input, fn, names=None):
    """Write ``fn(input)`` into ``input`` and return it; ``names``: the node names of ``_NODE_NAMES``."""
    if grad_state.enabled and input.requires_grad:
        check_inplace(input)
        # compute from a copy so that the graph never reads the storage the write changes
        copy = input.clone()
        result = write_result_(input, fn(copy), copy)
        return result if names is None or input._base is not None else named_node(result, names[1])
    return input.copy_(fn(input))


def _in_float32(fn):
    """``fn`` computed on a float32 copy of its 16-bit float input, its result rounded back once."""
    return lambda x: fn(x.float()).to(x.dtype)


class _Threshold(Function):
    """``value if x <= threshold else x`` (so NaN passes); the gradient passes where ``x <= threshold`` fails."""

    @staticmethod
    def forward(ctx, x, threshold, value):
        if x.dtype._category == 1:  # an integer input compares with and fills the numbers converted to its type
            threshold, value = (int(fill_value_for(v, x.dtype)) for v in (threshold, value))
        y, ctx.keep = x._backend.kernels.threshold(x._data, threshold, value)
        ctx.y = y
        return x._make(y)

    @staticmethod
    def backward(ctx, grad):
        # a differentiable select (inf/NaN grad stays where x passes)
        output = node_output(ctx, ctx.y, grad) if differentiable_backward() else None
        return _SelectedGrad.apply(grad, output, ctx.keep, 0.0), None, None

    @staticmethod
    def _native_backward(ctx, grad):
        return grad._backend.kernels.threshold_backward(grad._data, ctx.keep), None, None


class _Relu(Function):
    """``max(0, x)`` keeping ``-0.`` and NaN (PyTorch's ``clamp_min(x, 0)``, unlike ``threshold(x, 0, 0)``,
    which gives ``+0.`` at ``-0.``); the gradient passes where the output is not ``<= 0``."""

    @staticmethod
    def forward(ctx, x):
        y = x._backend.kernels.relu(x._data)
        out = x._make(y)
        ctx.y, ctx.y_version = y, out._version_counter
        return out

    @staticmethod
    def backward(ctx, grad):
        _Relu.check_output(ctx, grad)
        # a differentiable select (inf/NaN grad stays where y > 0)
        keep = grad._backend.xp.logical_not(ctx.y <= 0)
        output = node_output(ctx, ctx.y, grad) if differentiable_backward() else None
        return _SelectedGrad.apply(grad, output, keep, 0.0)

    @staticmethod
    def _native_backward(ctx, grad):
        _Relu.check_output(ctx, grad)
        return (grad._backend.kernels.relu_backward(grad._data, ctx.y),)

    @staticmethod
    def check_output(ctx, grad):
        """Refuse the backward where the output, which the mask is read from, was written in place since."""
        if ctx.y_version.value:
            raise modified_after_saved(_new(ctx.y, grad._backend, grad._device, False, ctx.y_version), 0, ctx)


class _SelectedGrad(Function):
    """``grad`` where ``keep``, ``grad * slope`` elsewhere: the gradient of a piecewise-linear activation
    (relu, threshold, leaky_relu, hardtanh) when the backward is recorded (``create_graph``).

    Its ``output`` argument is the activation's output (:func:`~ember.autograd.function.node_output`), whose
    derivative here is zero: like PyTorch's ``threshold_backward`` and ``leaky_relu_backward``, which read
    the activation's saved tensor, the gradient stays in the graph of the input, so that a second
    derivative through the activation is zeros (a gradient penalty, a Hessian of a ReLU network)
    rather than "does not require grad" or "not used in the graph".
    """

    _backward_name = "ThresholdBackwardBackward0"

    @staticmethod
    def forward(ctx, grad, output, keep, slope):
        ctx.output, ctx.keep, ctx.slope = output, keep, slope
        if slope == 0.0:
            return grad._make(grad._backend.kernels.threshold_backward(grad._data, keep))
        return where(grad._make(keep), grad, grad * slope)

    @staticmethod
    def backward(ctx, gg):
        output = ctx.output
        zeros = gg.new_zeros(gg.shape) if ctx.needs_input_grad[1] else None
        return _SelectedGrad.apply(gg, output, ctx.keep, ctx.slope), zeros, None, None


class _PiecewiseLinear(Function):
    """An activation with slope 1 where ``keep`` and ``slope`` elsewhere: ``forward(ctx, x, compute)`` with
    ``compute(x) -> (y, keep, slope)`` run on ``x`` with recording off; the backward is :class:`_SelectedGrad`."""

    @staticmethod
    def forward(ctx, x, compute):
        y, ctx.keep, ctx.slope = compute(x)
        ctx.y = y._data
        return y

    @staticmethod
    def backward(ctx, grad):
        output = node_output(ctx, ctx.y, grad) if differentiable_backward() else None
        return _SelectedGrad.apply(grad, output, ctx.keep, ctx.slope), None


class _LeakyRelu(_PiecewiseLinear):
    pass


class _RreluWithNoise(_PiecewiseLinear):
    pass


class _Hardtanh(_PiecewiseLinear):
    pass


class _Hardshrink(_PiecewiseLinear):
    pass


class _Softshrink(_PiecewiseLinear):
    pass


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    r"""Thresholds each element: :math:`y = x` if :math:`x > \text{threshold}`, else ``value``.

    Args:
        input (Tensor): the input.
        threshold (float): the value to threshold at.
        value (float): the value to replace with.
        inplace (bool): do the operation in-place. Default: ``False``

    See :class:`~ember.nn.Threshold` for details.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
        >>> F.threshold(x, 0.5, -1.0)
        tensor([-1., -1., -1.,  1.,  3.])
    """
    return _apply("threshold", input, inplace, lambda x: _Threshold.apply(x, threshold, value))


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place version of :func:`threshold`.

    The input is overwritten with the result and returned.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
        >>> _ = F.threshold_(x, 0.5, -1.0)
        >>> x
        tensor([-1., -1., -1.,  1.,  3.])
    """
    return _apply("threshold_", input, True, lambda x: _Threshold.apply(x, threshold, value))


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    r"""Rectified linear unit, element-wise: :math:`\max(0, x)`.

    Args:
        input (Tensor): the input.
        inplace (bool): do the operation in-place. Default: ``False``

    Example::

        >>> F.relu(ember.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """
    if type(input) is not Tensor and isinstance(input, UnstridedTensor):  # sparse or nested: its layout's op
        return by_layout("relu_" if inplace else "relu", input)
    if not isinstance(input, Tensor) or input.dtype not in FLOATING_AND_HALF:  # the only inputs refused
        _check_tensor("relu_" if inplace else "relu", input)
        if input.dtype is dtypes.bool:
            raise RuntimeError("Boolean inputs not supported for relu")
        refuse_limited("clamp_min_scalar_cpu", input)
        _refuse_clamp_types(input.dtype)
    return _write_inplace(input, _Relu.apply) if inplace else _Relu.apply(input)


def relu_(input: Tensor) -> Tensor:
    """In-place version of :func:`relu`.

    The input is overwritten with the result and returned.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
        >>> _ = F.relu_(x)
        >>> x
        tensor([0., 0., 0., 1., 3.])
    """
    return relu(input, inplace=True)


def _hardtanh(x, min_val, max_val):
    return _Hardtanh.apply(x, lambda x: _hardtanh_values(x, min_val, max_val))


def _hardtanh_values(x, min_val, max_val):
    # gradient 1 strictly inside (min_val, max_val), 0 outside and on the edges (PyTorch's rule; NaN passes it)
    # (the value on an edge is x itself, as clamp gives it: hardtanh(-0.0, 0.0) is -0.0 in PyTorch)
    outside = (x <= min_val).logical_or(x >= max_val)
    return where(outside, x.clamp(min_val, max_val), x).to(x.dtype), outside.logical_not()._data, 0.0


def _leaky_relu(x, negative_slope, node=None):
    """``x`` where ``x > 0``, else ``x * negative_slope`` (so NaN takes the slope, as in PyTorch)."""

    def compute(x):
        positive = x > 0
        return where(positive, x, x * negative_slope), positive._data, negative_slope

    return (node or _LeakyRelu).apply(x, compute)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    r"""HardTanh: clamps ``input`` to ``[min_val, max_val]``.

    Args:
        input (Tensor): the input.
        min_val (float): lower end of the linear region. Default: -1
        max_val (float): upper end of the linear region. Default: 1
        inplace (bool): do the operation in-place. Default: ``False``

    See :class:`~ember.nn.Hardtanh` for details.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
        >>> F.hardtanh(x)
        tensor([-1.0000, -0.5000,  0.0000,  1.0000,  1.0000])
        >>> F.hardtanh(x, min_val=0.0, max_val=2.0)
        tensor([0., 0., 0., 1., 2.])
    """
    if min_val > max_val:
        raise ValueError("hardtanh: min_val cannot be greater than max_val")
    _check_unsigned_limits(input, min_val, max_val)
    return _apply("hardtanh", input, inplace, lambda x: _hardtanh(x, min_val, max_val))


def _check_unsigned_limits(input, min_val, max_val):
    """PyTorch's refusal of negative limits for an unsigned input (uint8 would wrap them), the limits read
    in the input's type (truncated: -0.5 is 0 and passes)."""
    if isinstance(input, Tensor) and input.dtype is dtypes.uint8 and (int(min_val) < 0 or int(max_val) < 0):
        raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place version of :func:`hardtanh`.

    The input is overwritten with the result and returned.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
        >>> _ = F.hardtanh_(x)
        >>> x
        tensor([-1.0000, -0.5000,  0.0000,  1.0000,  1.0000])
    """
    _check_unsigned_limits(input, min_val, max_val)  # (before the order of the limits, as PyTorch's)
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    r""":math:`\min(\max(0, x), 6)`, element-wise.

    Args:
        input (Tensor): the input.
        inplace (bool): do the operation in-place. Default: ``False``

    See :class:`~ember.nn.ReLU6` for details.

    Examples::

        >>> F.relu6(ember.tensor([-1.0, 3.0, 8.0]))
        tensor([0., 3., 6.])
    """
    return _apply("relu6", input, inplace, lambda x: _hardtanh(x, 0.0, 6.0))


class _Elu(Function):
    """ELU (SELU, CELU: ``scale``, ``input_scale``) as PyTorch's kernels compute it, their coefficients
    ``alpha * scale``, ``scale`` and ``input_scale`` rounded to the input's type (float32 for the 16-bit
    ones): ``expm1(x * input_scale) * alpha * scale`` where ``x`` is not positive, else ``x * scale``;
    the gradient ``grad * input_scale * alpha * scale * exp(x * input_scale)`` there, else ``grad * scale``
    (NaN where ``x`` is: the vectorised kernels' choice). ``grad_input_scale`` is the ``input_scale`` the
    backward reads (CELU's derivative takes ``1.0 / alpha.toFloat()``: ``alpha`` read as a float32)."""

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale, grad_input_scale):
        ctx.save_for_backward(x)
        negcoef, poscoef, negiptcoef = _elu_coefficients(x.dtype, alpha, scale, input_scale)
        ctx.coefficients = _elu_coefficients(x.dtype, alpha, scale, grad_input_scale)
        return where(x > 0, x * poscoef, (x * negiptcoef).expm1() * negcoef)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        negcoef, poscoef, negiptcoef = ctx.coefficients
        result = where(x > 0, grad * poscoef, grad * negiptcoef * negcoef * (x * negiptcoef).exp())
        return result, None, None, None, None


def _elu_coefficients(dtype, alpha, scale, input_scale):
    """PyTorch's ``negcoef``, ``poscoef`` and ``negiptcoef`` of an ELU kernel over ``dtype``: in double for
    float64, else in float32 (``alpha.to<float>() * scale.to<float>()``)."""
    if dtype is dtypes.float64:
        return alpha * scale, scale, input_scale
    f32 = np.float32
    return float(f32(alpha) * f32(scale)), float(f32(scale)), float(f32(input_scale))


class _Celu(_Elu):
    """CELU: :class:`_Elu`, its graph node named as PyTorch's (``CeluBackward0``)."""


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    r"""ELU: :math:`\max(0,x) + \min(0, \alpha (e^x - 1))`, element-wise.

    Args:
        input (Tensor): the input.
        alpha (float): the :math:`\alpha` of the formulation. Default: 1.0
        inplace (bool): do the operation in-place. Default: ``False``

    See :class:`~ember.nn.ELU` for details.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
        >>> F.elu(x)
        tensor([-0.8647, -0.3935,  0.0000,  1.0000,  3.0000])
    """
    return _apply("elu", input, inplace, lambda x: _Elu.apply(x, alpha, 1.0, 1.0, 1.0))


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place version of :func:`elu`.

    The input is overwritten with the result and returned.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
        >>> _ = F.elu_(x, alpha=0.5)
        >>> x
        tensor([-0.4323, -0.1967,  0.0000,  1.0000,  3.0000])
    """
    return elu(input, alpha, inplace=True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    r"""SELU: :math:`\text{scale} (\max(0,x) + \min(0, \alpha (e^x - 1)))` with the paper's constants.

    Args:
        input (Tensor): the input.
        inplace (bool): do the operation in-place. Default: ``False``

    With :math:`\alpha \approx 1.6733` and :math:`\text{scale} \approx 1.0507`.

    See :class:`~ember.nn.SELU` for details.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
        >>> F.selu(x)
        tensor([-1.5202, -0.6918,  0.0000,  1.0507,  3.1521])
    """
    return _apply("selu", input, inplace, lambda x: _Elu.apply(x, _SELU_ALPHA, _SELU_SCALE, 1.0, 1.0))


def selu_(input: Tensor) -> Tensor:
    """In-place version of :func:`selu`.

    The input is overwritten with the result and returned.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
        >>> _ = F.selu_(x)
        >>> x
        tensor([-1.5202, -0.6918,  0.0000,  1.0507,  3.1521])
    """
    return selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    r"""CELU: :math:`\max(0,x) + \min(0, \alpha (e^{x/\alpha} - 1))`, element-wise.

    Args:
        input (Tensor): the input.
        alpha (float): the :math:`\alpha` of the formulation. Default: 1.0
        inplace (bool): do the operation in-place. Default: ``False``

    See :class:`~ember.nn.CELU` for details.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
        >>> F.celu(x, alpha=2.0)
        tensor([-1.2642, -0.4424,  0.0000,  1.0000,  3.0000])
    """
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: celu: alpha must not be 0")
    backward_scale = 1.0 / float(np.float32(alpha))  # PyTorch's derivative reads alpha as a float
    return _apply("celu", input, inplace, lambda x: _Celu.apply(x, alpha, 1.0, 1.0 / alpha, backward_scale))


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place version of :func:`celu`.

    The input is overwritten with the result and returned.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
        >>> _ = F.celu_(x)
        >>> x
        tensor([-0.8647, -0.3935,  0.0000,  1.0000,  3.0000])
    """
    return celu(input, alpha, inplace=True)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    r""":math:`\max(0, x) + \text{negative\_slope} \min(0, x)`, element-wise.

    Args:
        input (Tensor): the input.
        negative_slope (float): slope for negative inputs. Default: 0.01
        inplace (bool): do the operation in-place. Default: ``False``

    See :class:`~ember.nn.LeakyReLU` for details.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
        >>> F.leaky_relu(x, negative_slope=0.1)
        tensor([-0.2000, -0.0500,  0.0000,  1.0000,  3.0000])
    """
    return _apply("leaky_relu", input, inplace, lambda x: _leaky_relu(x, negative_slope))


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place version of :func:`leaky_relu`.

    The input is overwritten with the result and returned.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
        >>> _ = F.leaky_relu_(x, 0.1)
        >>> x
        tensor([-0.2000, -0.0500,  0.0000,  1.0000,  3.0000])
    """
    return leaky_relu(input, negative_slope, inplace=True)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    r""":math:`\max(0,x) + a \min(0,x)` with a learnable ``weight`` :math:`a` per channel.

    Args:
        input (Tensor): the input; dimension 1 holds the channels.
        weight (Tensor): one slope, or one per channel (1-D).

    Shape:
        - Input: :math:`(N, C, *)` (or :math:`(C)` for a 1-D input, whose only dimension holds the channels)
        - Weight: :math:`(1)` or :math:`(C)`
        - Output: same shape as the input

    See :class:`~ember.nn.PReLU` for details.

    Examples::

        >>> x = ember.tensor([[-1.0, 2.0], [-3.0, -4.0]])
        >>> F.prelu(x, ember.tensor([0.25]))
        tensor([[-0.2500,  2.0000],
                [-0.7500, -1.0000]])
        >>> F.prelu(x, ember.tensor([0.1, 0.5]))  # one slope per channel (column)
        tensor([[-0.1000,  2.0000],
                [-0.3000, -2.0000]])
    """
    _check_tensor("prelu", input)
    if not isinstance(weight, Tensor):
        raise TypeError(f"prelu(): argument 'weight' must be Tensor, not {type_name(weight)}")
    if _amp.active:
        input, weight = cast_inputs("prelu", input, weight)
    if weight.dtype is not input.dtype:  # checked before the dtype dispatch, as PyTorch does
        raise RuntimeError(
            f"prelu: Type promoting not supported. Got {TORCH_NAMES[input.dtype]} and {TORCH_NAMES[weight.dtype]}"
        )
    if input.dtype not in FLOATING_AND_HALF:
        not_implemented("prelu_cpu", input.dtype)
    n = weight.numel()
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}")
    if n != 1:
        if input.ndim == 0:
            raise RuntimeError("prelu: Not allow zero-dim input tensor when weight has more than one element.")
        channels = input.shape[1] if input.ndim >= 2 else 1
        if n != channels:
            raise RuntimeError(
                "Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                f"{n} and channel size = {channels}."
            )
        if input.ndim >= 2:
            weight = weight.reshape((n,) + (1,) * (input.ndim - 2))
    elif weight.ndim == 1 and input.ndim == 0:
        weight = weight.reshape(())
    return named_node(where(input > 0, input, weight * input), "PreluKernelBackward0")  # PyTorch's one node


def _rrelu_slopes_as_torch_cpu(values: Tensor, lower: float, upper: float) -> Tensor:
    """The slopes PyTorch's CPU kernel draws: for each element ``<= 0``, in row-major order, one double
    ``u`` in [0, 1) scaled as ``u * (upper - lower) + lower`` (two roundings, the bounds first rounded to
    the computation's type), 1 elsewhere; in ``values``' dtype."""
    drawn = values <= 0
    if values.dtype is not dtypes.float64:
        lower, upper = float(np.float32(lower)), float(np.float32(upper))
    unit = values.new_empty(int(drawn.sum()), dtype=dtypes.float64).uniform_()
    slope = values.new_ones(values.shape)
    slope[drawn] = (unit * (upper - lower) + lower).to(values.dtype)
    return slope


def rrelu(
    input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False, inplace: bool = False
) -> Tensor:
    r"""Randomized leaky ReLU: in training the negative slope of each element is drawn from
    :math:`U(\text{lower}, \text{upper})`; in evaluation it is :math:`(\text{lower}+\text{upper})/2`.

    Args:
        input (Tensor): the input.
        lower (float): lower bound of the slope. Default: 1/8
        upper (float): upper bound of the slope. Default: 1/3
        training (bool): draw random slopes. Default: ``False``
        inplace (bool): do the operation in-place. Default: ``False``

    See :class:`~ember.nn.RReLU` for details.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
        >>> F.rrelu(x)  # evaluation: slope (1/8 + 1/3) / 2
        tensor([-0.4583, -0.1146,  0.0000,  1.0000,  3.0000])
        >>> y = F.rrelu(x, training=True)  # training: a random slope per element
        >>> bool(((y[:2] / x[:2] >= 1 / 8) & (y[:2] / x[:2] <= 1 / 3)).all())
        True
    """
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if not training:  # PyTorch's leaky_relu
        if isinstance(input, Tensor) and input.dtype not in FLOATING_AND_HALF:
            not_implemented("leaky_relu_cpu", input.dtype)
        return _apply("rrelu", input, inplace, lambda x: _leaky_relu(x, (lower + upper) / 2, _RreluWithNoise))

    on_cpu = isinstance(input, Tensor) and input.device.type == "cpu"
    if on_cpu and input.dtype is dtypes.float16:
        not_implemented("rrelu_with_noise_out_cpu", input.dtype)

    def sample(x):
        values = x.detach()
        if on_cpu:
            slope = _rrelu_slopes_as_torch_cpu(values, lower, upper)
        else:
            slope = values.new_empty(values.shape).uniform_(lower, upper)
        return where(x > 0, x, x * slope)

    return _apply("rrelu", input, inplace, sample)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """In-place version of :func:`rrelu`.

    The input is overwritten with the result and returned.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
        >>> _ = F.rrelu_(x)
        >>> x
        tensor([-0.4583, -0.1146,  0.0000,  1.0000,  3.0000])
    """
    return rrelu(input, lower, upper, training, inplace=True)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    r"""Gated linear unit: splits ``input`` in halves :math:`a, b` along ``dim``, returns :math:`a \otimes \sigma(b)`.

    Args:
        input (Tensor): the input.
        dim (int): the dimension to split. Default: -1

    Shape:
        - Input: :math:`(*_1, N, *_2)`, ``N`` even, at dimension ``dim``
        - Output: :math:`(*_1, M, *_2)` with :math:`M = N / 2`

    See :class:`~ember.nn.GLU` for details.

    Examples::

        >>> x = ember.tensor([[1.0, 2.0, 0.0, 100.0]])
        >>> F.glu(x)  # [1, 2] * sigmoid([0, 100])
        tensor([[0.5000, 2.0000]])
    """
    read_before_checked(input, "dim")  # PyTorch's Python functional: input.dim() first
    _check_tensor("glu", input)
    if input.dtype not in FLOATING_AND_HALF:
        not_implemented("glu_cpu", input.dtype)
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = input._wrap_dim(dim)
    if input.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {input.shape[d]}")
    if input.dtype in dtypes.narrow_float:
        return _NarrowGlu.apply(input, d)
    a, b = input.chunk(2, d)
    return named_node(a * b.sigmoid(), "GluBackward0")


class _NarrowGlu(Function):
    """GLU of a 16-bit input rounded as PyTorch's kernels round it: the forward in float32, rounded once;
    the backward from ``sigmoid(b)`` rounded to the input's dtype, the first half's gradient ``sigmoid(b) *
    grad`` and the second's ``(1 - sigmoid(b)) sigmoid(b) a grad`` in float32, each rounded once."""

    _backward_name = "GluBackward0"

    @staticmethod
    def forward(ctx, input, dim):
        ctx.save_for_backward(input)
        ctx.dim = dim
        a, b = input.float().chunk(2, dim)
        return (a * b.sigmoid()).to(input.dtype)

    @staticmethod
    def backward(ctx, grad):
        (input,) = ctx.saved_tensors
        a, b = input.chunk(2, ctx.dim)
        sig = b.sigmoid().float()
        wide = grad.float()
        first = (sig * wide).to(input.dtype)
        second = ((1 - sig) * sig * a.float() * wide).to(input.dtype)
        return cat([first, second], ctx.dim), None


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    r"""GELU: :math:`x \Phi(x)` (``approximate='none'``, through ``erf``) or its tanh approximation.

    Args:
        input (Tensor): the input.
        approximate (str): ``'none'`` | ``'tanh'``. Default: ``'none'``

    See :class:`~ember.nn.GELU` for details.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 2.0])
        >>> F.gelu(x)
        tensor([-0.0455, -0.1543,  0.0000,  0.8413,  1.9545])
        >>> F.gelu(x, approximate='tanh')
        tensor([-0.0454, -0.1543,  0.0000,  0.8412,  1.9546])
    """
    _check_tensor("gelu", input)
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")  # (PyTorch names no value)
    if input.dtype not in FLOATING_AND_HALF:
        not_implemented("GeluKernelImpl", input.dtype)
    return _Gelu.apply(input, approximate)


class _Gelu(Function):
    """GELU as one kernel each way (the backend's ``gelu``/``gelu_backward``)."""

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        return x._make(opmath(x, lambda data: x._backend.kernels.gelu(data, approximate), x._data))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if differentiable_backward():  # create_graph: the derivative from differentiable tensor operations
            if ctx.approximate == "tanh":
                t = (math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)).tanh()
                slope = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x)
                return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * slope), None
            cdf = 0.5 * (1 + (x * (1 / math.sqrt(2))).erf())
            return grad * (cdf + x * (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi))), None
        backend = grad._backend
        backward = backend.kernels.gelu_backward
        native = opmath(grad, lambda g, data: backward(g, data, ctx.approximate), grad._data, x._data)
        # laid out as PyTorch's gelu_backward(grad, x), one element-wise op
        return grad._make(binary_layout(backend, native, grad._data, x._data)), None


class _Silu(_Pointwise):
    @staticmethod
    def value(x):
        return x * x.sigmoid()

    @staticmethod
    def gradient(x, grad):
        s = x.sigmoid()
        return grad * (s * (1 + x * (1 - s)))


class _Mish(_Pointwise):
    @staticmethod
    def value(x):
        return x * softplus(x).tanh()

    @staticmethod
    def gradient(x, grad):
        t = softplus(x).tanh()
        return grad * (t + x * x.sigmoid() * (1 - t * t))


class _LogSigmoid(_Pointwise):
    @staticmethod
    def value(x):  # row-major whatever the input's layout, as PyTorch's kernel allocates it
        return (x.clamp(max=0) - (-x.abs()).exp().log1p()).contiguous()

    @classmethod
    def backward(cls, ctx, grad):
        # PyTorch's log_sigmoid_backward: from the buffer exp(-|x|) its forward kept in x's type,
        # grad * (1 - z / (1 + z)) below 0, grad * z / (1 + z) above, in float32 for 16-bit types
        (x,) = ctx.saved_tensors
        buffer = (-x.abs()).exp()
        if x.dtype in dtypes.narrow_float:
            return cls.gradient(x, buffer.float(), grad.float()).to(x.dtype)
        return cls.gradient(x, buffer, grad)

    @staticmethod
    def gradient(x, buffer, grad):
        share = buffer / (1 + buffer)
        return where(x < 0, 1 - share, share) * grad


class _Hardsigmoid(_Pointwise):
    @staticmethod
    def value(x):
        return _hardtanh(x + 3, 0.0, 6.0) / 6

    @staticmethod
    def gradient(x, grad):
        # grad * 1/6 on (-3, 3), else 0 (NaN too): PyTorch's kernel's one_sixth is 1.0f / 6.0f, a float
        return where((x > -3) & (x < 3), grad * _ONE_SIXTH, grad.new_zeros(()))


_ONE_SIXTH = float(np.float32(1.0) / np.float32(6.0))


class _Hardswish(_Pointwise):
    @staticmethod
    def value(x):
        return x * _hardtanh(x + 3, 0.0, 6.0) / 6

    @staticmethod
    def gradient(x, grad):
        # 0 up to -3 whatever grad holds, grad * (x / 3 + 1/2) on (-3, 3), grad from 3 on (PyTorch's
        # ends: 0 at -3 and grad at 3)
        return where(x <= -3, grad.new_zeros(()), where(x < 3, grad * (x / 3 + 0.5), grad))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    r"""SiLU (swish): :math:`x \sigma(x)`.

    Args:
        input (Tensor): the input.
        inplace (bool): do the operation in-place. Default: ``False``

    See :class:`~ember.nn.SiLU` for details.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
        >>> F.silu(x)
        tensor([-0.2384, -0.1888,  0.0000,  0.7311,  2.8577])
    """
    if isinstance(input, Tensor) and input.dtype.is_complex and grad_state.enabled and input.requires_grad:
        raise RuntimeError("silu does not support automatic differentiation for outputs with complex dtype.")
    return _apply("silu", input, inplace, _Silu.apply)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    r"""Mish: :math:`x \tanh(\text{softplus}(x))`.

    Args:
        input (Tensor): the input.
        inplace (bool): do the operation in-place. Default: ``False``

    See :class:`~ember.nn.Mish` for details.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
        >>> F.mish(x)
        tensor([-0.2525, -0.2207,  0.0000,  0.8651,  2.9865])
    """
    return _apply("mish", input, inplace, _Mish.apply)


def logsigmoid(input: Tensor) -> Tensor:
    r""":math:`\log(1 / (1 + e^{-x}))`, computed stably.

    Args:
        input (Tensor): the input.

    See :class:`~ember.nn.LogSigmoid` for details.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
        >>> F.logsigmoid(x)
        tensor([-2.1269, -0.9741, -0.6931, -0.3133, -0.0486])
    """
    _check_tensor("log_sigmoid", input)  # the op PyTorch's functional calls
    if input.dtype not in FLOATING_AND_HALF:
        not_implemented("log_sigmoid_cpu", input.dtype)
    return _LogSigmoid.apply(input)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    r"""Hard shrinkage: ``x`` where :math:`|x| > \lambda`, else 0.

    Args:
        input (Tensor): the input.
        lambd (float): the :math:`\lambda`. Default: 0.5

    See :class:`~ember.nn.Hardshrink` for details.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
        >>> F.hardshrink(x, lambd=0.5)
        tensor([-2.,  0.,  0.,  1.,  3.])
    """
    _check_tensor("hardshrink", input)
    if input.dtype not in FLOATING_AND_HALF:
        not_implemented("hardshrink_cpu", input.dtype)
    return _Hardshrink.apply(input, lambda x: _shrink(x, lambd, x))


def _shrink(x, lambd, outside):
    """0 inside ``[-lambd, lambd]``, ``outside`` elsewhere (NaN passes, as in PyTorch), for :class:`_PiecewiseLinear`."""
    inside = (x >= -lambd).logical_and(x <= lambd)
    return where(inside, 0.0, outside).to(x.dtype), inside.logical_not()._data, 0.0


def tanhshrink(input: Tensor) -> Tensor:
    r""":math:`x - \tanh(x)`.

    Args:
        input (Tensor): the input.

    See :class:`~ember.nn.Tanhshrink` for details.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
        >>> F.tanhshrink(x)
        tensor([-1.0360, -0.0379,  0.0000,  0.2384,  2.0049])
    """
    if not isinstance(input, Tensor):  # PyTorch's Python functional: input.tanh() first
        read_before_checked(input, "tanh")
    _check_tensor("tanhshrink", input)
    return input - input.tanh()


def softsign(input: Tensor) -> Tensor:
    r""":math:`x / (1 + |x|)`.

    Args:
        input (Tensor): the input.

    See :class:`~ember.nn.Softsign` for details.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
        >>> F.softsign(x)
        tensor([-0.6667, -0.3333,  0.0000,  0.5000,  0.7500])
    """
    if not isinstance(input, Tensor):  # PyTorch's Python functional: input.abs() first
        read_before_checked(input, "abs")
    _check_tensor("softsign", input)
    return input / (1 + input.abs())


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    r"""Softplus: :math:`\frac{1}{\beta} \log(1 + e^{\beta x})`, linear where :math:`\beta x > \text{threshold}`.

    Args:
        input (Tensor): the input.
        beta (float): the :math:`\beta`. Default: 1
        threshold (float): above this :math:`\beta x` the function is linear. Default: 20

    See :class:`~ember.nn.Softplus` for details.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
        >>> F.softplus(x)
        tensor([0.1269, 0.4741, 0.6931, 1.3133, 3.0486])
        >>> F.softplus(x, beta=2.0)
        tensor([0.0091, 0.1566, 0.3466, 1.0635, 3.0012])
    """
    if _amp.active:  # float32 on cuda (cpu leaves it alone)
        (input,) = cast_inputs("softplus", input)
    _check_tensor("softplus", input)
    if input.dtype not in FLOATING_AND_HALF:
        not_implemented("softplus_cpu", input.dtype)
    return _Softplus.apply(input, beta, threshold)


class _Softplus(Function):
    """Softplus as one node (PyTorch's ``SoftplusBackward0``), each way in float32 for 16-bit inputs;
    the gradient is PyTorch's ``softplus_backward``: ``grad * z / (z + 1)`` with ``z = exp(x * beta)``,
    ``grad`` itself where ``x * beta > threshold`` (``beta=0``: ``grad / 2``, never ``0 / 0``)."""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        if x.dtype in dtypes.narrow_float:  # computed in float32 and rounded once, as PyTorch (opmath)
            return _Softplus.value(x.float(), beta, threshold).to(x.dtype)
        return _Softplus.value(x, beta, threshold)

    @staticmethod
    def value(x, beta, threshold):
        scaled = x * beta if beta != 1 else x
        smooth = scaled.clamp(max=threshold).exp().log1p()
        if beta != 1:
            smooth = smooth / beta
        return where(scaled > threshold, x, smooth)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return _SoftplusBackward.apply(grad, x, ctx.beta, ctx.threshold), None, None


class _SoftplusBackward(Function):
    """PyTorch's ``softplus_backward`` as a node of its own, for double backward: its derivative in ``x`` is
    PyTorch's ``gg * grad * s * (1 - s) * beta`` with ``s = sigmoid(x * beta)`` (0 from ``x * beta >= threshold``),
    not the difference of two nearly equal terms that differentiating ``grad * z / (z + 1)`` would give."""

    @staticmethod
    def forward(ctx, grad, x, beta, threshold):
        ctx.save_for_backward(grad, x)
        ctx.beta, ctx.threshold = beta, threshold
        if x.dtype in dtypes.narrow_float:  # PyTorch's backward kernel's opmath
            return _SoftplusBackward.value(grad.float(), x.float(), beta, threshold).to(x.dtype)
        return _SoftplusBackward.value(grad, x, beta, threshold)

    @staticmethod
    def value(grad, x, beta, threshold):
        scaled = x * beta
        z = scaled.exp()
        return where(scaled > threshold, grad, grad * z / (z + 1))

    @staticmethod
    def backward(ctx, gg):
        grad, x = ctx.saved_tensors
        beta, threshold = ctx.beta, ctx.threshold
        scaled = x * beta
        s = scaled.sigmoid()
        # PyTorch's softplus_double_backward: sigmoid_backward(gg * grad, s) where x * beta < threshold, times beta
        d_x = (gg * grad) * (1 - s) * s * (scaled < threshold).to(gg.dtype) * beta
        return _SoftplusBackward.apply(gg, x, beta, threshold), d_x, None, None


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    r"""Soft shrinkage: :math:`x - \lambda` above :math:`\lambda`, :math:`x + \lambda` below :math:`-\lambda`, else 0.

    Args:
        input (Tensor): the input.
        lambd (float): the :math:`\lambda` (must be >= 0). Default: 0.5

    See :class:`~ember.nn.Softshrink` for details.

    Examples::

        >>> x = ember.tensor([-2.0, 0.0, 0.25, 1.0, 3.0])
        >>> F.softshrink(x, lambd=0.5)
        tensor([-1.5000,  0.0000,  0.0000,  0.5000,  2.5000])
    """
    _check_tensor("softshrink", input)
    if input.dtype not in FLOATING_AND_HALF:
        not_implemented("softshrink_check", input.dtype)
    if not 0 <= lambd <= finfo(input.dtype).max:  # (NaN too)
        raise RuntimeError(
            f"lambda must be in range [0, {finfo(input.dtype).max:g}] for input dtype "
            f"{TORCH_NAMES[input.dtype]}, but found {float(lambd):g}"
        )
    if input.dtype in dtypes.narrow_float:  # computed in float32 and rounded once, as PyTorch (opmath)
        return softshrink(input.float(), lambd).to(input.dtype)
    # shrunk toward 0 outside [-lambd, lambd]
    return _Softshrink.apply(input, lambda x: _shrink(x, lambd, where(x < 0, x + lambd, x - lambd)))


def tanh(input: Tensor) -> Tensor:
    r""":math:`\tanh(x)`, element-wise.

    Args:
        input (Tensor): the input.

    See :class:`~ember.nn.Tanh` for details.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
        >>> F.tanh(x)
        tensor([-0.9640, -0.4621,  0.0000,  0.7616,  0.9951])
    """
    if not isinstance(input, Tensor):  # PyTorch's Python functional: input.tanh() first
        read_before_checked(input, "tanh")
    _check_tensor("tanh", input)
    return input.tanh()


def sigmoid(input: Tensor) -> Tensor:
    r""":math:`1 / (1 + e^{-x})`, element-wise.

    Args:
        input (Tensor): the input.

    See :class:`~ember.nn.Sigmoid` for details.

    Examples::

        >>> x = ember.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
        >>> F.sigmoid(x)
        tensor([0.1192, 0.3775, 0.5000, 0.7311, 0.9526])
    """
    if not isinstance(input, Tensor):  # PyTorch's Python functional: input.sigmoid() first
        read_before_checked(input, "sigmoid")
    _check_tensor("sigmoid", input)
    return input.sigmoid()


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    r"""Hard sigmoid: :math:`\text{relu6}(x + 3) / 6`.

    Args:
        input (Tensor): the input.
        inplace (bool): do the operation in-place. Default: ``False``

    See :class:`~ember.nn.Hardsigmoid` for details.

    Examples::

        >>> F.hardsigmoid(ember.tensor([-4.0, -1.5, 0.0, 1.5, 4.0]))
        tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    return _apply("hardsigmoid", input, inplace, _Hardsigmoid.apply)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    r"""Hard swish: :math:`x \, \text{relu6}(x + 3) / 6`.

    Args:
        input (Tensor): the input.
        inplace (bool): do the operation in-place. Default: ``False``

    See :class:`~ember.nn.Hardswish` for details.

    Examples::

        >>> F.hardswish(ember.tensor([-4.0, -1.5, 0.0, 1.5, 4.0]))
        tensor([-0.0000, -0.3750,  0.0000,  1.1250,  4.0000])
    """
    return _apply("hardswish", input, inplace, _Hardswish.apply)


# -- softmax family -------------------------------------------------------------------------
def _get_softmax_dim(name, ndim, stacklevel):
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an argument.",
        UserWarning,
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def _run_softmax_backward_kernel(ctx, kernel, grad, y, dim):
    """Forward of the two backward Functions: the backend's ``kernel`` on ``(grad, y)``; both are kept
    (the kernels compute float16/bfloat16 as PyTorch's CPU kernels, in float32 rounded once)."""
    ctx.save_for_backward(grad, y)
    ctx.dim = dim
    return grad._make(kernel(grad._data, y._data, dim))


class _SoftmaxGrad(Function):
    """``y * (g - sum(g * y))``: softmax's backward as a Function, itself differentiable."""

    kernel = "softmax_backward"  # the name of its kernel in the backend's table

    @staticmethod
    def forward(ctx, grad, y, dim):
        return _run_softmax_backward_kernel(ctx, grad._backend.kernels.softmax_backward, grad, y, dim)

    @staticmethod
    def backward(ctx, u):
        grad, y = ctx.saved_tensors
        dim = ctx.dim
        uy = (u * y).sum(dim, keepdim=True)
        g_grad = _SoftmaxGrad.apply(u, y, dim) if ctx.needs_input_grad[0] else None
        y_grad = None
        if ctx.needs_input_grad[1]:
            s = (grad * y).sum(dim, keepdim=True)
            y_grad = u * (grad - s) - grad * uy
        return g_grad, y_grad, None


class _SoftmaxKernel(Function):
    """Softmax and log-softmax: ``forward`` runs the backend's kernel through :meth:`_run`, which
    keeps the output and the Function of the output that is the backward."""

    _saved_attributes = {"_saved_result": saved_reader(0), "_saved_dim": lambda ctx: ctx.dim}

    @staticmethod
    def _run(ctx, kernel, grad_function, x, dim):
        data = kernel(x._data, dim)  # float16/bfloat16 as PyTorch's CPU kernels, in float32 rounded once
        if not x._backend.is_contiguous(data):  # PyTorch's softmax is row-major whatever the input's layout
            data = row_major(x._backend, data)
        y = x._make(data)
        ctx.save_for_backward(y)
        ctx.dim, ctx.grad_function = dim, grad_function
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return ctx.grad_function.apply(grad, y, ctx.dim), None

    @staticmethod
    def _native_backward(ctx, grad):
        # the kernel of the backward Function, without its node
        (y,) = ctx.saved_tensors
        return getattr(grad._backend.kernels, ctx.grad_function.kernel)(grad._data, y._data, ctx.dim), None


class _Softmax(_SoftmaxKernel):
    @staticmethod
    def forward(ctx, x, dim):
        return _SoftmaxKernel._run(ctx, x._backend.kernels.softmax, _SoftmaxGrad, x, dim)


class _LogSoftmaxGrad(Function):
    """``g - exp(y) * sum(g)``: log-softmax's backward as a Function, itself differentiable."""

    kernel = "log_softmax_backward"  # the name of its kernel in the backend's table

    @staticmethod
    def forward(ctx, grad, y, dim):
        return _run_softmax_backward_kernel(ctx, grad._backend.kernels.log_softmax_backward, grad, y, dim)

    @staticmethod
    def backward(ctx, u):
        grad, y = ctx.saved_tensors
        dim = ctx.dim
        p = y.exp()
        g_grad = u - (u * p).sum(dim, keepdim=True) if ctx.needs_input_grad[0] else None
        y_grad = -u * p * grad.sum(dim, keepdim=True) if ctx.needs_input_grad[1] else None
        return g_grad, y_grad, None


class _LogSoftmax(_SoftmaxKernel):
    @staticmethod
    def forward(ctx, x, dim):
        return _SoftmaxKernel._run(ctx, x._backend.kernels.log_softmax, _LogSoftmaxGrad, x, dim)


def _softmax_family(name, fn, input, dim, stacklevel, dtype):
    _check_tensor(name, input)
    if dim is None:
        dim = _get_softmax_dim(name, input.ndim, stacklevel + 1)
    if _amp.active:  # softmax and log_softmax run in float32 (or dtype) under autocast on cuda
        (input,) = cast_inputs(name, input, dtype=dtype)
    if dtype is not None:
        input = input.to(dtype_arg(name, dtype))
    shape = input._data.shape  # the array's tuple, read once
    axis = input._wrap_dim(dim, len(shape))
    empty = 0 in shape
    if input.dtype not in FLOATING_AND_HALF and not empty:
        kernel = "log_softmax" if name == "log_softmax" else "softmax"
        not_implemented(f"{kernel}{'_lastdim' if axis >= len(shape) - 1 else ''}_kernel_impl", input.dtype)
    node = "LogSoftmaxBackward0" if fn is _LogSoftmax else "SoftmaxBackward0"
    if not shape:  # (PyTorch's kernel takes a 0-d input as it is: its one node)
        return named_node(fn.apply(input.reshape((1,)), 0).reshape(()), node)
    if empty:  # nothing to normalise (the kernels' max has no identity): PyTorch's row-major result
        return named_node(input.clone(memory_format=contiguous_format), node)
    return fn.apply(input, axis)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: _dtype_t = None) -> Tensor:
    r"""Softmax along ``dim``: :math:`\exp(x_i) / \sum_j \exp(x_j)`.

    Args:
        input (Tensor): the input.
        dim (int): the dimension along which the slices sum to 1. ``None`` picks one with a
            warning (0 for 0-, 1- and 3-d inputs, else 1).
        dtype (ember.dtype, optional): cast the input to this dtype first.

    See :class:`~ember.nn.Softmax` for details.

    Examples::

        >>> x = ember.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
        >>> F.softmax(x, dim=1)
        tensor([[0.0900, 0.2447, 0.6652],
                [0.3333, 0.3333, 0.3333]])
        >>> F.softmax(x, dim=1).sum(dim=1)
        tensor([1., 1.])
        >>> F.softmax(x, dim=0, dtype=ember.float64)
        tensor([[0.7311, 0.8808, 0.9526],
                [0.2689, 0.1192, 0.0474]], dtype=ember.float64)
    """
    read_before_checked(input, "dim" if dim is None else "softmax")  # PyTorch's Python functional reads these first
    return _softmax_family("softmax", _Softmax, input, dim, _stacklevel, dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: _dtype_t = None) -> Tensor:
    r"""Softmin along ``dim``: :math:`\exp(-x_i) / \sum_j \exp(-x_j)`.

    Args:
        input (Tensor): the input.
        dim (int): the dimension along which the slices sum to 1 (``None``: as :func:`softmax`).
        dtype (ember.dtype, optional): cast the input to this dtype first.

    See :class:`~ember.nn.Softmin` for details.

    Examples::

        >>> x = ember.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
        >>> F.softmin(x, dim=1)
        tensor([[0.6652, 0.2447, 0.0900],
                [0.3333, 0.3333, 0.3333]])
    """
    if dim is None:  # PyTorch's Python functional reads input.dim() first
        read_before_checked(input, "dim")
    if not isinstance(input, Tensor):  # then it negates the input and calls the result's softmax()
        read_before_checked(-input, "softmax")
    _check_tensor("softmin", input)
    return _softmax_family("softmin", _Softmax, -input, dim, _stacklevel, dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: _dtype_t = None) -> Tensor:
    r""":math:`\log(\text{softmax}(x))` along ``dim``, computed stably.

    Args:
        input (Tensor): the input.
        dim (int): the dimension along which log-softmax is computed (``None``: as :func:`softmax`).
        dtype (ember.dtype, optional): cast the input to this dtype first.

    See :class:`~ember.nn.LogSoftmax` for details.

    Examples::

        >>> x = ember.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
        >>> F.log_softmax(x, dim=1)
        tensor([[-2.4076, -1.4076, -0.4076],
                [-1.0986, -1.0986, -1.0986]])
        >>> F.log_softmax(x, dim=1).exp().sum(dim=1)
        tensor([1., 1.])
    """
    read_before_checked(input, "dim" if dim is None else "log_softmax")  # PyTorch's Python functional reads these first
    return _softmax_family("log_softmax", _LogSoftmax, input, dim, _stacklevel, dtype)


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    r"""Samples from the Gumbel-softmax distribution; with ``hard`` a one-hot sample whose
    gradient is the soft sample's (straight-through).

    Args:
        logits (Tensor): unnormalised log-probabilities.
        tau (float): temperature. Default: 1
        hard (bool): return one-hot samples. Default: ``False``
        dim (int): the class dimension. Default: -1

    Shape:
        - Input: :math:`(*)`, the classes along ``dim``
        - Output: same shape as ``logits``

    Examples::

        >>> _ = ember.manual_seed(0)
        >>> logits = ember.tensor([[1.0, 2.0, 3.0], [3.0, 0.0, 0.0]])
        >>> y = F.gumbel_softmax(logits, tau=0.5)
        >>> y.shape, y.sum(dim=-1)
        (ember.Size([2, 3]), tensor([1., 1.]))
        >>> F.gumbel_softmax(logits, hard=True)  # one-hot rows
        tensor([[0., 0., 1.],
                [1., 0., 0.]])
    """
    require_tensors("empty_like", ("input",), logits)  # the first op PyTorch's functional calls
    gumbels = -logits.detach().new_empty(logits.shape).exponential_().log()
    y_soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = y_soft.argmax(dim, keepdim=True)
    y_hard = y_soft.detach().new_zeros(y_soft.shape).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft
