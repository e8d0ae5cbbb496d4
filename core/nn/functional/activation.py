"""Non-linear activations, functional forms (``F.relu``, ``F.softmax``, ...).

Element-wise activations are written with differentiable tensor ops, so double backward
comes for free; the hot ones (``relu``, ``threshold``) and the softmax family are
autograd Functions, the latter calling the backend's softmax kernels.
"""

from __future__ import annotations

import math
import warnings

from ... import dtypes
from ...autograd.function import Function
from ...autograd.grad_mode import grad_state
from ...ops.arithmetic import where
from ...ops.comparison import _TORCH_NAMES
from ...tensor import Tensor
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
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")


#: activations PyTorch has only floating-point kernels for
_FLOATING_ONLY = frozenset(
    {"celu", "elu", "selu", "silu", "mish", "hardsigmoid", "hardswish", "rrelu", "gelu", "softplus"}
)


def _apply(name, input, inplace, fn):
    """Run the out-of-place activation ``fn``; with ``inplace`` write the result into ``input``."""
    _check_tensor(name, input)
    if name in _FLOATING_ONLY and not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{input.dtype.name.capitalize()}'")
    if not inplace:
        return fn(input)
    if grad_state.enabled and input.requires_grad:
        if input.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        # compute from a copy so that the graph never reads the storage the write changes
        return input.copy_(fn(input.clone()))
    return input.copy_(fn(input))


class _Threshold(Function):
    """``value if x <= threshold else x`` (so NaN passes); the gradient passes where ``x <= threshold`` fails."""

    @staticmethod
    def forward(ctx, x, threshold, value):
        y, ctx.keep = x._backend.kernels.threshold(x._data, threshold, value)
        return x._make(y)

    @staticmethod
    def backward(ctx, grad):
        if grad_state.enabled:  # create_graph: a differentiable product
            return grad * grad._make(grad._backend.xp.astype(ctx.keep, grad._data.dtype)), None, None
        return grad._make(grad._backend.kernels.threshold_backward(grad._data, ctx.keep)), None, None


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    r"""Thresholds each element: :math:`y = x` if :math:`x > \text{threshold}`, else ``value``.

    Args:
        input (Tensor): the input.
        threshold (float): the value to threshold at.
        value (float): the value to replace with.
        inplace (bool): do the operation in-place. Default: ``False``
    """
    return _apply("threshold", input, inplace, lambda x: _Threshold.apply(x, threshold, value))


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place version of :func:`threshold`."""
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
    if isinstance(input, Tensor) and input.dtype is dtypes.bool:
        raise RuntimeError("Boolean inputs not supported for relu")
    return _apply("relu", input, inplace, lambda x: _Threshold.apply(x, 0, 0))


def relu_(input: Tensor) -> Tensor:
    """In-place version of :func:`relu`."""
    return relu(input, inplace=True)


def _hardtanh(x, min_val, max_val):
    # gradient 1 strictly inside (min_val, max_val), 0 outside and on the edges (PyTorch's rule)
    return where(x <= min_val, min_val, where(x >= max_val, max_val, x)).to(x.dtype)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    r"""HardTanh: clamps ``input`` to ``[min_val, max_val]``.

    Args:
        input (Tensor): the input.
        min_val (float): lower end of the linear region. Default: -1
        max_val (float): upper end of the linear region. Default: 1
        inplace (bool): do the operation in-place. Default: ``False``
    """
    if min_val > max_val:
        raise ValueError("hardtanh: min_val cannot be greater than max_val")
    return _apply("hardtanh", input, inplace, lambda x: _hardtanh(x, min_val, max_val))


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place version of :func:`hardtanh`."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    r""":math:`\min(\max(0, x), 6)`, element-wise.

    Args:
        input (Tensor): the input.
        inplace (bool): do the operation in-place. Default: ``False``
    """
    return _apply("relu6", input, inplace, lambda x: _hardtanh(x, 0.0, 6.0))


def _elu(x, alpha, scale=1.0, input_scale=1.0):
    negative = alpha * (x.clamp(max=0) * input_scale).expm1()
    out = where(x > 0, x, negative)
    return out * scale if scale != 1.0 else out


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    r"""ELU: :math:`\max(0,x) + \min(0, \alpha (e^x - 1))`, element-wise.

    Args:
        input (Tensor): the input.
        alpha (float): the :math:`\alpha` of the formulation. Default: 1.0
        inplace (bool): do the operation in-place. Default: ``False``
    """
    return _apply("elu", input, inplace, lambda x: _elu(x, alpha))


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place version of :func:`elu`."""
    return elu(input, alpha, inplace=True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    r"""SELU: :math:`\text{scale} (\max(0,x) + \min(0, \alpha (e^x - 1)))` with the paper's constants.

    Args:
        input (Tensor): the input.
        inplace (bool): do the operation in-place. Default: ``False``
    """
    return _apply("selu", input, inplace, lambda x: _elu(x, _SELU_ALPHA, _SELU_SCALE))


def selu_(input: Tensor) -> Tensor:
    """In-place version of :func:`selu`."""
    return selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    r"""CELU: :math:`\max(0,x) + \min(0, \alpha (e^{x/\alpha} - 1))`, element-wise.

    Args:
        input (Tensor): the input.
        alpha (float): the :math:`\alpha` of the formulation. Default: 1.0
        inplace (bool): do the operation in-place. Default: ``False``
    """
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: celu: alpha must not be 0")
    return _apply("celu", input, inplace, lambda x: _elu(x, alpha, input_scale=1.0 / alpha))


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place version of :func:`celu`."""
    return celu(input, alpha, inplace=True)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    r""":math:`\max(0, x) + \text{negative\_slope} \min(0, x)`, element-wise.

    Args:
        input (Tensor): the input.
        negative_slope (float): slope for negative inputs. Default: 0.01
        inplace (bool): do the operation in-place. Default: ``False``
    """
    return _apply("leaky_relu", input, inplace, lambda x: where(x > 0, x, x * negative_slope))


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place version of :func:`leaky_relu`."""
    return leaky_relu(input, negative_slope, inplace=True)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    r""":math:`\max(0,x) + a \min(0,x)` with a learnable ``weight`` :math:`a` per channel.

    Args:
        input (Tensor): the input; dimension 1 holds the channels.
        weight (Tensor): one slope, or one per channel (1-D).
    """
    _check_tensor("prelu", input)
    if not isinstance(weight, Tensor):
        raise TypeError(f"prelu(): argument 'weight' must be Tensor, not {type(weight).__name__}")
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
    return where(input > 0, input, weight * input)


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
    """
    if not training:
        return _apply("rrelu", input, inplace, lambda x: where(x >= 0, x, x * ((lower + upper) / 2)))

    def sample(x):
        slope = x.detach().new_empty(x.shape).uniform_(lower, upper)
        return where(x > 0, x, x * slope)

    return _apply("rrelu", input, inplace, sample)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """In-place version of :func:`rrelu`."""
    return rrelu(input, lower, upper, training, inplace=True)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    r"""Gated linear unit: splits ``input`` in halves :math:`a, b` along ``dim``, returns :math:`a \otimes \sigma(b)`.

    Args:
        input (Tensor): the input.
        dim (int): the dimension to split. Default: -1
    """
    _check_tensor("glu", input)
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = input._wrap_dim(dim)
    if input.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {input.shape[d]}")
    a, b = input.chunk(2, d)
    return a * b.sigmoid()


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    r"""GELU: :math:`x \Phi(x)` (``approximate='none'``, through ``erf``) or its tanh approximation.

    Args:
        input (Tensor): the input.
        approximate (str): ``'none'`` | ``'tanh'``. Default: ``'none'``
    """
    _check_tensor("gelu", input)
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got {approximate!r}")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"GeluKernelImpl\" not implemented for '{_TORCH_NAMES[input.dtype.name]}'")
    return _Gelu.apply(input, approximate)


class _Gelu(Function):
    """GELU as one kernel each way (the backend's ``gelu``/``gelu_backward``)."""

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        return x._make(x._backend.kernels.gelu(x._data, approximate))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if grad_state.enabled:  # create_graph: the derivative from differentiable tensor operations
            if ctx.approximate == "tanh":
                t = (math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)).tanh()
                slope = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x)
                return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * slope), None
            cdf = 0.5 * (1 + (x * (1 / math.sqrt(2))).erf())
            return grad * (cdf + x * (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi))), None
        return grad._make(grad._backend.kernels.gelu_backward(grad._data, x._data, ctx.approximate)), None


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    r"""SiLU (swish): :math:`x \sigma(x)`.

    Args:
        input (Tensor): the input.
        inplace (bool): do the operation in-place. Default: ``False``
    """
    return _apply("silu", input, inplace, lambda x: x * x.sigmoid())


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    r"""Mish: :math:`x \tanh(\text{softplus}(x))`.

    Args:
        input (Tensor): the input.
        inplace (bool): do the operation in-place. Default: ``False``
    """
    return _apply("mish", input, inplace, lambda x: x * softplus(x).tanh())


def logsigmoid(input: Tensor) -> Tensor:
    r""":math:`\log(1 / (1 + e^{-x}))`, computed stably."""
    _check_tensor("logsigmoid", input)
    return input.clamp(max=0) - (-input.abs()).exp().log1p()


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    r"""Hard shrinkage: ``x`` where :math:`|x| > \lambda`, else 0.

    Args:
        input (Tensor): the input.
        lambd (float): the :math:`\lambda`. Default: 0.5
    """
    _check_tensor("hardshrink", input)
    return where((input > lambd).logical_or(input < -lambd), input, 0.0).to(input.dtype)


def tanhshrink(input: Tensor) -> Tensor:
    r""":math:`x - \tanh(x)`."""
    _check_tensor("tanhshrink", input)
    return input - input.tanh()


def softsign(input: Tensor) -> Tensor:
    r""":math:`x / (1 + |x|)`."""
    _check_tensor("softsign", input)
    return input / (1 + input.abs())


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    r"""Softplus: :math:`\frac{1}{\beta} \log(1 + e^{\beta x})`, linear where :math:`\beta x > \text{threshold}`.

    Args:
        input (Tensor): the input.
        beta (float): the :math:`\beta`. Default: 1
        threshold (float): above this :math:`\beta x` the function is linear. Default: 20
    """
    _check_tensor("softplus", input)
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"softplus_cpu\" not implemented for '{input.dtype.name.capitalize()}'")
    scaled = input * beta if beta != 1 else input
    smooth = scaled.clamp(max=threshold).exp().log1p()
    if beta != 1:
        smooth = smooth / beta
    return where(scaled > threshold, input, smooth)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    r"""Soft shrinkage: :math:`x - \lambda` above :math:`\lambda`, :math:`x + \lambda` below :math:`-\lambda`, else 0.

    Args:
        input (Tensor): the input.
        lambd (float): the :math:`\lambda` (must be >= 0). Default: 0.5
    """
    _check_tensor("softshrink", input)
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return where(input > lambd, input - lambd, where(input < -lambd, input + lambd, 0.0)).to(input.dtype)


def tanh(input: Tensor) -> Tensor:
    r""":math:`\tanh(x)`, element-wise."""
    _check_tensor("tanh", input)
    return input.tanh()


def sigmoid(input: Tensor) -> Tensor:
    r""":math:`1 / (1 + e^{-x})`, element-wise."""
    _check_tensor("sigmoid", input)
    return input.sigmoid()


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    r"""Hard sigmoid: :math:`\text{relu6}(x + 3) / 6`.

    Args:
        input (Tensor): the input.
        inplace (bool): do the operation in-place. Default: ``False``
    """
    return _apply("hardsigmoid", input, inplace, lambda x: _hardtanh(x + 3, 0.0, 6.0) / 6)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    r"""Hard swish: :math:`x \, \text{relu6}(x + 3) / 6`.

    Args:
        input (Tensor): the input.
        inplace (bool): do the operation in-place. Default: ``False``
    """
    return _apply("hardswish", input, inplace, lambda x: x * _hardtanh(x + 3, 0.0, 6.0) / 6)


# -- softmax family -------------------------------------------------------------------------
def _get_softmax_dim(name, ndim, stacklevel):
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an argument.",
        UserWarning,
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def _run_softmax_kernel(ctx, kernel, x, dim):
    """Forward of softmax and log-softmax: the backend's ``kernel`` along ``dim``; the output is kept for backward."""
    y = x._make(getattr(x._backend.kernels, kernel)(x._data, dim))
    ctx.save_for_backward(y)
    ctx.dim = dim
    return y


def _run_softmax_backward_kernel(ctx, kernel, grad, y, dim):
    """Forward of the two backward Functions: the backend's ``kernel`` on ``(grad, y)``; both are kept."""
    ctx.save_for_backward(grad, y)
    ctx.dim = dim
    return grad._make(getattr(grad._backend.kernels, kernel)(grad._data, y._data, dim))


class _SoftmaxGrad(Function):
    """``y * (g - sum(g * y))``: softmax's backward as a Function, itself differentiable."""

    @staticmethod
    def forward(ctx, grad, y, dim):
        return _run_softmax_backward_kernel(ctx, "softmax_backward", grad, y, dim)

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


class _Softmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        return _run_softmax_kernel(ctx, "softmax", x, dim)

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return _SoftmaxGrad.apply(grad, y, ctx.dim), None


class _LogSoftmaxGrad(Function):
    """``g - exp(y) * sum(g)``: log-softmax's backward as a Function, itself differentiable."""

    @staticmethod
    def forward(ctx, grad, y, dim):
        return _run_softmax_backward_kernel(ctx, "log_softmax_backward", grad, y, dim)

    @staticmethod
    def backward(ctx, u):
        grad, y = ctx.saved_tensors
        dim = ctx.dim
        p = y.exp()
        g_grad = u - (u * p).sum(dim, keepdim=True) if ctx.needs_input_grad[0] else None
        y_grad = -u * p * grad.sum(dim, keepdim=True) if ctx.needs_input_grad[1] else None
        return g_grad, y_grad, None


class _LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        return _run_softmax_kernel(ctx, "log_softmax", x, dim)

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return _LogSoftmaxGrad.apply(grad, y, ctx.dim), None


def _softmax_family(name, fn, input, dim, stacklevel, dtype):
    _check_tensor(name, input)
    if dim is None:
        dim = _get_softmax_dim(name, input.ndim, stacklevel + 1)
    if dtype is not None:
        input = input.to(dtypes.as_dtype(dtype))
    if not input.dtype.is_floating_point and input.numel():
        raise RuntimeError(f"\"{name}\" not implemented for '{input.dtype.name.capitalize()}'")
    axis = input._wrap_dim(dim)
    if input.ndim == 0:
        return fn.apply(input.reshape((1,)), 0).reshape(())
    if input.numel() == 0:  # nothing to normalise (the kernels' max has no identity)
        return input.clone()
    return fn.apply(input, axis)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: _dtype_t = None) -> Tensor:
    r"""Softmax along ``dim``: :math:`\exp(x_i) / \sum_j \exp(x_j)`.

    Args:
        input (Tensor): the input.
        dim (int): the dimension along which the slices sum to 1. ``None`` picks one with a
            warning (0 for 0-, 1- and 3-d inputs, else 1).
        dtype (ember.dtype, optional): cast the input to this dtype first.
    """
    return _softmax_family("softmax", _Softmax, input, dim, _stacklevel, dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: _dtype_t = None) -> Tensor:
    r"""Softmin along ``dim``: :math:`\exp(-x_i) / \sum_j \exp(-x_j)`.

    Args:
        input (Tensor): the input.
        dim (int): the dimension along which the slices sum to 1 (``None``: as :func:`softmax`).
        dtype (ember.dtype, optional): cast the input to this dtype first.
    """
    _check_tensor("softmin", input)
    return _softmax_family("softmin", _Softmax, -input, dim, _stacklevel, dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: _dtype_t = None) -> Tensor:
    r""":math:`\log(\text{softmax}(x))` along ``dim``, computed stably.

    Args:
        input (Tensor): the input.
        dim (int): the dimension along which log-softmax is computed (``None``: as :func:`softmax`).
        dtype (ember.dtype, optional): cast the input to this dtype first.
    """
    return _softmax_family("log_softmax", _LogSoftmax, input, dim, _stacklevel, dtype)


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    r"""Samples from the Gumbel-softmax distribution; with ``hard`` a one-hot sample whose
    gradient is the soft sample's (straight-through).

    Args:
        logits (Tensor): unnormalised log-probabilities.
        tau (float): temperature. Default: 1
        hard (bool): return one-hot samples. Default: ``False``
        dim (int): the class dimension. Default: -1
    """
    gumbels = -logits.detach().new_empty(logits.shape).exponential_().log()
    y_soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = y_soft.argmax(dim, keepdim=True)
    y_hard = y_soft.detach().new_zeros(y_soft.shape).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft
