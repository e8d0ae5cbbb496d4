"""Loss functions, functional forms (``F.cross_entropy``, ``F.mse_loss``, ...).

Every loss takes the classic ``size_average``/``reduce`` pair (mapped onto ``reduction``
with a warning, as PyTorch's ``_Reduction.legacy_get_string`` does) and the modern
``reduction='mean'|'sum'|'none'``. Negative log-likelihood runs on the backend's
``nll_loss`` kernels inside an autograd Function; the rest are differentiable tensor ops.
"""

from __future__ import annotations

import math
import numbers
import struct
import warnings
from collections.abc import Callable

from ... import dtypes
from ...amp.policy import cast_inputs
from ...amp.state import state as _amp
from ...autograd.function import Function
from ...autograd.grad_mode import grad_state
from ...autograd.linear_gradient import LinearGradient
from ...layout import contiguous_format
from ...ops.arithmetic import _Mul, _Sub, where
from ...ops.creation import arange
from ...ops.dtype_support import (
    C_NAMES,
    FLOATING,
    FLOATING_AND_HALF,
    TORCH_NAMES,
    check_castable,
    not_implemented,
    refuse_limited,
)
from ...ops.movement import broadcast_shapes, broadcast_tensors
from ...ops.operands import (
    broadcast_error,
    check_same_device,
    named_node,
    read_before_checked,
    refuse_gradients,
    require_tensors,
    sum_to,
)
from ...ops.reduced_precision import narrow_on_cpu
from ...tensor import Tensor
from ...type_names import type_name
from .activation import log_softmax, logsigmoid, softmax
from .distance import pairwise_distance
from .nll_cascade import cascade_sum

__all__ = [
    "l1_loss",
    "mse_loss",
    "cross_entropy",
    "nll_loss",
    "poisson_nll_loss",
    "gaussian_nll_loss",
    "kl_div",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "margin_ranking_loss",
    "hinge_embedding_loss",
    "multilabel_margin_loss",
    "smooth_l1_loss",
    "huber_loss",
    "soft_margin_loss",
    "multilabel_soft_margin_loss",
    "cosine_embedding_loss",
    "multi_margin_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    "legacy_get_string",
]

_REDUCTIONS = ("mean", "sum", "none")


class LegacyReductionWarning(UserWarning):
    """Warned when the classic ``size_average``/``reduce`` arguments are used: a ``UserWarning``, as
    PyTorch's, so that Python's default filters (which hide a ``DeprecationWarning`` raised outside
    ``__main__``) show it where a model built in a module passes them."""


def legacy_get_string(size_average: bool | None, reduce: bool | None, emit_warning: bool = True) -> str:
    """Map the classic ``size_average``/``reduce`` pair onto a ``reduction`` string (``None`` means True).

    Args:
        size_average (bool or None): the deprecated ``size_average`` argument.
        reduce (bool or None): the deprecated ``reduce`` argument.
        emit_warning (bool): warn that the pair is deprecated. Default: ``True``

    Examples::

        >>> F.legacy_get_string(None, None, emit_warning=False)
        'mean'
        >>> F.legacy_get_string(False, True, emit_warning=False)
        'sum'
        >>> F.legacy_get_string(True, False, emit_warning=False)
        'none'
    """
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    if emit_warning:
        warnings.warn(
            f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
            LegacyReductionWarning,
            stacklevel=3,
        )
    return ret


def _get_reduction(size_average, reduce, reduction, allowed=_REDUCTIONS):
    if size_average is not None or reduce is not None:
        return legacy_get_string(size_average, reduce)
    if reduction not in allowed:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _reduce_weighted(loss, weight, input, reduction, mean_over_weight):
    """PyTorch's weighted pointwise losses: ``weight`` has ``input``'s size (else ValueError) and multiplies the
    loss; ``'mean'`` divides by the sum of the weights where ``mean_over_weight`` (l1, mse), else by the count."""
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean" and mean_over_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def _check_tensors(name, **tensors):
    """Every argument a tensor, all on one device (PyTorch's errors)."""
    require_tensors(name, tuple(tensors), *tensors.values())
    check_same_device(name, *tensors.values())


def _sizes_compared(input, other):
    """PyTorch's AttributeError where its Python functional compares ``other.size()`` with ``input.size()``
    before any check that they are tensors (``F.mse_loss([1.0], t)``: "'list' object has no attribute 'size'")."""
    read_before_checked(other, "size")
    read_before_checked(input, "size")


def _pointwise_target(name, input, target, kernel=None):
    """Warn (like PyTorch) when ``target`` only broadcasts to ``input``; return both broadcast
    (in float32 under autocast). With ``kernel``, refuse two non-floating operands as PyTorch's
    floating-only kernel of that name does, and take a boolean operand in the common type as it does."""
    _sizes_compared(input, target)
    if _amp.active:
        input, target = cast_inputs(name, input, target)
    _check_tensors(name, input=input, target=target)
    if kernel is not None and input.dtype not in FLOATING_AND_HALF and target.dtype not in FLOATING_AND_HALF:
        not_implemented(kernel, dtypes.promote_types(input.dtype, target.dtype))
    if kernel is not None and dtypes.bool in (input.dtype, target.dtype):
        # the fused kernel computes in the operands' common type: a boolean one counts as 0 and 1
        common = dtypes.promote_types(input.dtype, target.dtype)
        input, target = input.to(common), target.to(common)
    if target.shape != input.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
            "This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            stacklevel=3,
        )
        input, target = broadcast_tensors(input, target)
    return input, target


# -- regression ------------------------------------------------------------------------------
def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    r"""Mean absolute error :math:`|x - y|`, reduced by ``reduction``.

    Args:
        input (Tensor): :math:`(*)`.
        target (Tensor): same shape as ``input``.
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``
        weight (Tensor, optional): a weight per element, of ``input``'s size; ``'mean'`` is then the
            weighted mean :math:`\sum w |x - y| / \sum w`. Default: ``None``

    See :class:`~ember.nn.L1Loss` for details.

    Examples::

        >>> input = ember.tensor([0.5, 2.0, -1.0])
        >>> target = ember.tensor([1.0, 0.0, -1.0])
        >>> F.l1_loss(input, target)
        tensor(0.8333)
        >>> F.l1_loss(input, target, reduction='none')
        tensor([0.5000, 2.0000, 0.0000])
    """
    reduction = _get_reduction(size_average, reduce, reduction)
    input, target = _pointwise_target("l1_loss", input, target)
    if weight is not None:
        return _reduce_weighted((input - target).abs(), weight, input, reduction, mean_over_weight=True)
    return _reduce((input - target).abs(), reduction)


def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    r"""Mean squared error :math:`(x - y)^2`, reduced by ``reduction``.

    Args:
        input (Tensor): :math:`(*)`.
        target (Tensor): same shape as ``input``.
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``
        weight (Tensor, optional): a weight per element, of ``input``'s size; ``'mean'`` is then the
            weighted mean :math:`\sum w (x - y)^2 / \sum w`. Default: ``None``

    See :class:`~ember.nn.MSELoss` for details.

    Examples::

        >>> input = ember.tensor([0.5, 2.0, -1.0])
        >>> target = ember.tensor([1.0, 0.0, -1.0])
        >>> F.mse_loss(input, target)
        tensor(1.4167)
        >>> F.mse_loss(input, target, reduction='sum')
        tensor(4.2500)
    """
    reduction = _get_reduction(size_average, reduce, reduction)
    input, target = _pointwise_target("mse_loss", input, target, "mse_cpu")
    if weight is None and input.dtype is target.dtype and input.dtype.is_floating_point:
        return _MSELoss.apply(input, target, reduction)
    diff = input - target
    loss = diff * diff
    if weight is not None:
        return _reduce_weighted(loss, weight, input, reduction, mean_over_weight=True)
    return _reduce(loss, reduction)


class _MSELoss(Function):
    """``(x - y)**2`` reduced by ``reduction``; the backward is PyTorch's ``mse_loss_backward``,
    ``alpha * (x - y) * grad`` in that order, ``alpha`` (2, over the count for a mean) in the
    operands' type: a float16/bfloat16 gradient rounds at each step, as PyTorch's kernel."""

    _backward_name = "MseLossBackward0"

    @staticmethod
    def forward(ctx, input, target, reduction):
        ctx.save_for_backward(input, target)
        ctx.reduction = reduction
        diff = input - target
        return _reduce(diff * diff, reduction)

    @staticmethod
    def backward(ctx, grad):
        input, target = ctx.saved_tensors
        count = input.numel()
        norm = 2.0 if ctx.reduction != "mean" else 2.0 / count if count else math.inf
        gradient = input.new_tensor(norm).item() * (input - target) * grad
        if not gradient._backend.is_row_major(gradient._data):  # PyTorch writes it into a row-major tensor
            gradient = gradient.clone(memory_format=contiguous_format)
        needs_input, needs_target, _ = ctx.needs_input_grad
        return gradient if needs_input else None, -gradient if needs_target else None, None

    @staticmethod
    def _native_backward(ctx, grad):
        # backward's formula, with the kernels of its three ops (sub, then mul by the rounded alpha, then by grad),
        # for the gradient of the input alone, in float32 or float64, of operands of one shape
        input, target = ctx.saved_tensors
        data, other, g = input._data, target._data, grad._data
        dtype = data.dtype
        if (
            ctx.needs_input_grad[1]
            or type(input) is not Tensor
            or type(target) is not Tensor
            or dtype.kind != "f"
            or dtype.itemsize < 4
            or other.dtype != dtype
            or g.dtype != dtype
            or other.shape != data.shape
        ):
            return NotImplemented
        count = math.prod(data.shape)
        norm = 2.0 if ctx.reduction != "mean" else 2.0 / count if count else math.inf
        if dtype.itemsize == 4:  # alpha in the operands' type, as backward's input.new_tensor(norm).item()
            norm = struct.unpack("f", struct.pack("f", norm))[0]
        backend = grad._backend
        gradient = _Mul.native_result(
            backend, _Mul.native_result(backend, _Sub.native_result(backend, data, other), norm, True), g
        )
        if not backend.is_row_major(gradient):  # backward copies it into a row-major tensor
            return NotImplemented
        return gradient, None, None


def smooth_l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    r"""Smooth L1: :math:`0.5 (x-y)^2 / \beta` where :math:`|x-y| < \beta`, else :math:`|x-y| - 0.5 \beta`.

    Args:
        input (Tensor): :math:`(*)`.
        target (Tensor): same shape as ``input``.
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``
        beta (float): the threshold between the quadratic and linear parts (>= 0). Default: 1.0

    See :class:`~ember.nn.SmoothL1Loss` for details.

    Examples::

        >>> input = ember.tensor([0.5, 2.0, -1.0])
        >>> target = ember.tensor([1.0, 0.0, -1.0])
        >>> F.smooth_l1_loss(input, target, reduction='none')
        tensor([0.1250, 1.5000, 0.0000])
        >>> F.smooth_l1_loss(input, target, beta=0.5)
        tensor(0.6667)
    """
    reduction = _get_reduction(size_average, reduce, reduction)
    input, target = _pointwise_target("smooth_l1_loss", input, target, "smooth_l1_cpu")
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:
        return _reduce((input - target).abs(), reduction)  # PyTorch's l1_loss
    input, target = _row_major_gradients(input, target)
    z = (input - target).abs()
    return named_node(
        _reduce(where(z < beta, (0.5 / beta) * z * z, z - 0.5 * beta), reduction), "SmoothL1LossBackward0"
    )


class _RowMajorGradient(Function):
    """``x``'s values (a copy in its layout) whose gradient is laid out row-major, as PyTorch's smooth_l1 and
    huber backward kernels write it (into ``zeros_like(input, contiguous_format)``) where a composite's
    gradient would follow ``x``."""

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        if grad._backend.is_row_major(grad._data):
            return grad
        return grad.clone(memory_format=contiguous_format)


def _row_major_gradients(*tensors: Tensor) -> tuple[Tensor, ...]:
    """``tensors``, each that needs a gradient through :class:`_RowMajorGradient` where any is not row-major
    (the composite's gradients then follow its layout)."""
    if not grad_state.enabled or all(t._backend.is_row_major(t._data) for t in tensors):
        return tensors
    return tuple(_RowMajorGradient.apply(t) if t.requires_grad else t for t in tensors)


def huber_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0, weight: Tensor | None = None
) -> Tensor:
    r"""Huber loss: :math:`0.5 (x-y)^2` where :math:`|x-y| < \delta`, else :math:`\delta (|x-y| - 0.5 \delta)`.

    Args:
        input (Tensor): :math:`(*)`.
        target (Tensor): same shape as ``input``.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``
        delta (float): the threshold (> 0). Default: 1.0
        weight (Tensor, optional): a weight per element, of ``input``'s size. Default: ``None``

    See :class:`~ember.nn.HuberLoss` for details.

    Examples::

        >>> input = ember.tensor([0.5, 2.0, -1.0])
        >>> target = ember.tensor([1.0, 0.0, -1.0])
        >>> F.huber_loss(input, target, reduction='none')
        tensor([0.1250, 1.5000, 0.0000])
        >>> F.huber_loss(input, target, delta=0.5)
        tensor(0.3333)
    """
    reduction = _get_reduction(None, None, reduction)
    _sizes_compared(input, target)
    check_castable(dtypes.promote_types(input.dtype, target.dtype), input.dtype)  # PyTorch's result has input's type
    input, target = _pointwise_target("huber_loss", input, target, "huber_cpu")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    input, target = _row_major_gradients(input, target)
    a, b = (input.float(), target.float()) if input.dtype is dtypes.float16 else (input, target)
    z = (a - b).abs()  # float16 in float32, rounded once, as PyTorch's kernel (its bfloat16 one rounds between)
    loss = where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta))
    if loss.dtype is not input.dtype:
        loss = loss.to(input.dtype)
    if weight is not None:
        return _reduce_weighted(loss, weight, input, reduction, mean_over_weight=False)
    return named_node(_reduce(loss, reduction), "HuberLossBackward0")


def soft_margin_loss(
    input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
) -> Tensor:
    r"""Two-class logistic loss :math:`\log(1 + e^{-y x})` for targets :math:`y \in \{1, -1\}`.

    Args:
        input (Tensor): :math:`(*)`.
        target (Tensor): same shape as ``input``.
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``

    See :class:`~ember.nn.SoftMarginLoss` for details.

    Examples::

        >>> input = ember.tensor([2.0, -1.0, 0.0])
        >>> target = ember.tensor([1.0, 1.0, -1.0])
        >>> F.soft_margin_loss(input, target, reduction='none')
        tensor([0.1269, 1.3133, 0.6931])
        >>> F.soft_margin_loss(input, target)
        tensor(0.7111)
    """
    if _amp.active:
        input, target = cast_inputs("soft_margin_loss", input, target)
    reduction = _get_reduction(size_average, reduce, reduction)
    _check_tensors("soft_margin_loss", input=input, target=target)
    refuse_gradients("soft_margin_loss", target=target)
    if (
        not (input.dtype.is_floating_point or input.dtype.is_complex) and input.dtype is not dtypes.bool
    ):  # its float result goes into `input`'s type (a complex one is computed in complex, as PyTorch)
        raise RuntimeError(f"result type Float can't be cast to the desired output type {TORCH_NAMES[input.dtype]}")
    # PyTorch's order: the input negated (a bool one refused), then times the target (a bool one as 0/1)
    loss = (-input * target).exp().log1p()
    if loss.dtype is not input.dtype:  # PyTorch's result has the input's type
        loss = loss.to(input.dtype)
    return named_node(_reduce(loss, reduction), "SoftMarginLossBackward0")


# -- probabilistic ---------------------------------------------------------------------------
def poisson_nll_loss(
    input: Tensor,
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    size_average: bool | None = None,
    eps: float = 1e-8,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    r"""Negative log-likelihood of a Poisson-distributed ``target``.

    Args:
        input (Tensor): the expectation (its log when ``log_input``).
        target (Tensor): samples, same shape.
        log_input (bool): the loss is :math:`e^x - y x` if ``True``, else :math:`x - y \log(x + \epsilon)`. Default: ``True``
        full (bool): add the Stirling term :math:`y \log y - y + 0.5 \log(2 \pi y)` for :math:`y > 1`. Default: ``False``
        size_average (bool, optional): deprecated (see ``reduction``).
        eps (float): avoids :math:`\log(0)` when ``log_input=False``. Default: 1e-8
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``

    See :class:`~ember.nn.PoissonNLLLoss` for details.

    Examples::

        >>> log_rate = ember.tensor([0.0, 1.0, -1.0])
        >>> counts = ember.tensor([1.0, 3.0, 0.0])
        >>> F.poisson_nll_loss(log_rate, counts, reduction='none')  # exp(x) - y * x
        tensor([ 1.0000, -0.2817,  0.3679])
        >>> F.poisson_nll_loss(log_rate.exp(), counts, log_input=False)
        tensor(0.3621)
    """
    if _amp.active:
        input, target = cast_inputs("poisson_nll_loss", input, target)
    reduction = _get_reduction(size_average, reduce, reduction)
    _check_tensors("poisson_nll_loss", input=input, target=target)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:  # Stirling's term, masked to 0 up to target 1 (PyTorch's masked_fill: NaN in the gradient at 0)
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + where(target > 1, stirling, 0.0).to(loss.dtype)
    return _reduce(loss, reduction)


def gaussian_nll_loss(
    input: Tensor, target: Tensor, var: Tensor, full: bool = False, eps: float = 1e-6, reduction: str = "mean"
) -> Tensor:
    r"""Gaussian negative log-likelihood :math:`0.5 (\log \sigma^2 + (x - y)^2 / \sigma^2)`.

    Args:
        input (Tensor): the expectations :math:`(N, *)`.
        target (Tensor): samples, same shape.
        var (Tensor): the variances, same shape, or one fewer trailing dimension, or one dimension of size 1.
        full (bool): add the constant :math:`0.5 \log(2\pi)`. Default: ``False``
        eps (float): lower clamp of ``var`` (the gradient is not clamped). Default: 1e-6
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``

    See :class:`~ember.nn.GaussianNLLLoss` for details.

    Examples::

        >>> input = ember.tensor([[1.0, 2.0], [0.0, 1.0]])
        >>> target = ember.tensor([[1.5, 2.0], [1.0, 1.0]])
        >>> var = ember.tensor([[1.0, 0.5], [2.0, 1.0]])
        >>> F.gaussian_nll_loss(input, target, var, reduction='none')
        tensor([[ 0.1250, -0.3466],
                [ 0.5966,  0.0000]])
        >>> F.gaussian_nll_loss(input, target, ember.ones(2, 1))  # one variance per sample
        tensor(0.1562)
    """
    _sizes_compared(input, var)
    _check_tensors("gaussian_nll_loss", input=input, target=target)
    if not isinstance(var, Tensor):
        var = input.detach().new_full(input.shape, float(var))
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (
            input.ndim == var.ndim and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1
        ):  # broadcastable with one mismatched dimension of size 1, e.g. (4, 3) and (1, 3)
            raise ValueError("var is of incorrect size")
    if reduction not in _REDUCTIONS:
        raise ValueError(reduction + " is not valid")
    if bool((var.detach() < 0).any()):
        raise ValueError("var has negative entry/entries")
    if not var.dtype.is_floating_point:  # PyTorch clamps var in place to eps, which its type cannot hold
        raise RuntimeError(f"result type Float can't be cast to the desired output type {C_NAMES[var.dtype]}")
    d = var.detach()
    var = var + (d.clamp(min=eps) - d)
    diff = input - target
    loss = 0.5 * (var.log() + diff * diff / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def kl_div(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    r"""Kullback-Leibler divergence :math:`y (\log y - x)` for log-probabilities ``input``.

    Args:
        input (Tensor): log-probabilities :math:`(*)`.
        target (Tensor): probabilities (log-probabilities if ``log_target``), same shape.
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'batchmean'`` | ``'sum'`` | ``'mean'``. Default: ``'mean'``
        log_target (bool): ``target`` holds log-probabilities. Default: ``False``

    See :class:`~ember.nn.KLDivLoss` for details.

    Examples::

        >>> input = F.log_softmax(ember.tensor([[1.0, 2.0, 3.0]]), dim=1)
        >>> target = ember.tensor([[0.2, 0.3, 0.5]])
        >>> F.kl_div(input, target, reduction='batchmean')
        tensor(0.0780)
        >>> F.kl_div(input, target.log(), reduction='batchmean', log_target=True)
        tensor(0.0780)
    """
    if _amp.active:
        input, target = cast_inputs("kl_div", input, target)
    _check_tensors("kl_div", input=input, target=target)
    if not (input.dtype.is_floating_point and target.dtype.is_floating_point):
        raise RuntimeError("kl_div: Integral inputs not supported.")
    if size_average is not None or reduce is not None:
        reduction = legacy_get_string(size_average, reduce)
    else:
        if reduction == "mean":
            warnings.warn(
                "reduction: 'mean' divides the total loss by both the batch size and the support size."
                "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                stacklevel=2,
            )
        if reduction not in _REDUCTIONS + ("batchmean",):
            raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # PyTorch's xlogy(target, target): 0 at target 0, NaN for a negative target (and, in the
        # target's gradient, at 0)
        loss = where(target == 0, 0.0, target * target.log()).to(input.dtype) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)


def _check_same_size(name, input, target):
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}) is "
            "deprecated. Please ensure they have the same size."
        )


def _check_weight_fits(weight, loss, first="loss"):
    """PyTorch weighs the loss in place: a ``weight`` (or ``pos_weight``) broadcasts to the loss's shape
    and never widens it. Shapes that do not broadcast are refused with PyTorch's message: its shape
    inference's for ``first="target"`` (BCE's weight), its element-wise product's otherwise, the weight
    being operand a for ``first="weight"`` (``pos_weight``) and b for ``first="loss"``."""
    if weight is not None and weight.shape != loss.shape:
        if first == "target":
            shape = broadcast_shapes(loss.shape, weight.shape)
        else:
            error = broadcast_error(*((weight.shape, loss.shape) if first == "weight" else (loss.shape, weight.shape)))
            if error is not None:
                raise error
            shape = broadcast_shapes(weight.shape, loss.shape)
        if tuple(shape) != tuple(loss.shape):
            raise RuntimeError(f"output with shape {list(loss.shape)} doesn't match the broadcast shape {list(shape)}")


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    r"""Binary cross entropy :math:`-w [y \log x + (1 - y) \log(1 - x)]` with each log clamped at -100.

    Args:
        input (Tensor): probabilities in [0, 1], :math:`(*)`.
        target (Tensor): same shape, values in [0, 1].
        weight (Tensor, optional): rescaling weight broadcast against the loss. Default: ``None``
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``

    See :class:`~ember.nn.BCELoss` for details.

    Examples::

        >>> input = ember.tensor([0.9, 0.2, 0.6])
        >>> target = ember.tensor([1.0, 0.0, 0.0])
        >>> F.binary_cross_entropy(input, target, reduction='none')
        tensor([0.1054, 0.2231, 0.9163])
        >>> F.binary_cross_entropy(input, target)
        tensor(0.4149)
    """
    _sizes_compared(input, target)
    if _amp.active:
        input, target, weight = cast_inputs("binary_cross_entropy", input, target, weight)
    reduction = _get_reduction(size_average, reduce, reduction)
    _check_tensors("binary_cross_entropy", input=input, target=target)
    refuse_gradients("binary_cross_entropy", weight=weight)
    if input.dtype not in FLOATING_AND_HALF:
        not_implemented("binary_cross_entropy", input.dtype)
    _check_same_size("binary_cross_entropy", input, target)
    if target.dtype is not input.dtype:  # PyTorch's kernel takes one dtype, no promotion
        raise RuntimeError(f"Found dtype {TORCH_NAMES[target.dtype]} but expected {TORCH_NAMES[input.dtype]}")
    _check_weight_fits(weight, input, first="target")
    d = input.detach()
    if not d.is_meta and bool(((d < 0).logical_or(d > 1)).any()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    loss = _BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = (loss * weight).to(loss.dtype)  # the weight does not promote (PyTorch)
    return named_node(_reduce(loss, reduction), "BinaryCrossEntropyBackward0")


class _BinaryCrossEntropy(Function):
    """The element-wise BCE (each log clamped at -100) with PyTorch's backward: ``grad`` is multiplied once,
    by ``(x - y) / max(x (1 - x), 1e-12)`` for the input and by ``-logit(x)`` for the target (the composite's
    two log terms would add ``inf - inf`` for an inf ``grad``)."""

    @staticmethod
    def forward(ctx, input, target):
        ctx.save_for_backward(input, target)
        # the loss and the input's gradient are laid out as the input (PyTorch's empty_like(input))
        return -(input.log().clamp(min=-100) * target + (1 - input).log().clamp(min=-100) * (1 - target))

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        gx = (x - y) * grad / ((1 - x) * x).clamp(min=1e-12) if ctx.needs_input_grad[0] else None
        gy = -x.logit() * grad if ctx.needs_input_grad[1] else None
        return gx, gy


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    r"""Sigmoid followed by binary cross entropy, computed stably:
    :math:`(1 - y) x - (1 + (p_w - 1) y) \log \sigma(x)`, times ``weight``.

    Args:
        input (Tensor): logits :math:`(*)`.
        target (Tensor): same shape, values in [0, 1].
        weight (Tensor, optional): rescaling weight broadcast against the loss. Default: ``None``
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``
        pos_weight (Tensor, optional): weight of positive examples, broadcast along the classes. Default: ``None``

    See :class:`~ember.nn.BCEWithLogitsLoss` for details.

    Examples::

        >>> logits = ember.tensor([2.0, -1.0, 0.5])
        >>> target = ember.tensor([1.0, 0.0, 0.0])
        >>> F.binary_cross_entropy_with_logits(logits, target)
        tensor(0.4714)
        >>> F.binary_cross_entropy(ember.sigmoid(logits), target)  # the same, less stably
        tensor(0.4714)
        >>> F.binary_cross_entropy_with_logits(logits, target, pos_weight=ember.tensor([3.0]))
        tensor(0.5560)
    """
    _sizes_compared(input, target)
    if _amp.active:
        input, target, weight, pos_weight = cast_inputs(
            "binary_cross_entropy_with_logits", input, target, weight, pos_weight
        )
    reduction = _get_reduction(size_average, reduce, reduction)
    _check_tensors("binary_cross_entropy_with_logits", input=input, target=target)
    refuse_gradients("binary_cross_entropy_with_logits", weight=weight, pos_weight=pos_weight)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    if not target.dtype.is_floating_point:  # PyTorch computes in the target's type, in place
        check_castable(input.dtype, target.dtype)
    _check_weight_fits(pos_weight, input, first="weight")
    _check_weight_fits(weight, input)
    loss = _BinaryCrossEntropyWithLogits.apply(input, target, pos_weight)
    if weight is not None:
        loss = (loss * weight).to(loss.dtype)  # weighted in place in PyTorch: no promotion
    return named_node(_reduce(loss, reduction), "BinaryCrossEntropyWithLogitsBackward0")


class _BinaryCrossEntropyWithLogits(Function):
    """The element-wise BCE of logits with PyTorch's backward: ``grad`` is multiplied once per operand (the
    composite's terms would add ``inf - inf`` for an inf ``grad``)."""

    @staticmethod
    def forward(ctx, input, target, pos_weight):
        ctx.save_for_backward(input, target, pos_weight)
        log_sig = logsigmoid(input)
        # PyTorch's body works in place from 1 - target: the result has the target's floating type
        # (the logits' for an integer target); pos_weight does not promote it either
        result_type = (
            target.dtype if target.dtype.is_floating_point else dtypes.promote_types(input.dtype, target.dtype)
        )
        linear = (1 - target) * input
        if pos_weight is not None:
            return (linear - ((pos_weight - 1) * target + 1) * log_sig).to(result_type)
        return (linear - log_sig).to(result_type)

    @staticmethod
    def backward(ctx, grad):
        x, y, pos_weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        gx = gy = gp = None
        if pos_weight is None:
            gx = (x.sigmoid() - y) * grad if needs[0] else None
            gy = -x * grad if needs[1] else None
        else:
            if needs[0]:
                weighted = pos_weight * y
                gx = ((weighted + 1 - y) * x.sigmoid() - weighted) * grad
            if needs[1]:
                gy = (logsigmoid(-x) - pos_weight * logsigmoid(x)) * grad
            if needs[2]:
                gp = sum_to(-(y * logsigmoid(x)) * grad, pos_weight.shape)
        # each gradient in its operand's dtype (a float64 target of float32 logits promotes the products)
        return (
            None if gx is None else sum_to(gx, x.shape).to(x.dtype),
            None if gy is None else sum_to(gy, y.shape).to(y.dtype),
            None if gp is None else gp.to(pos_weight.dtype),
        )


# -- margin ----------------------------------------------------------------------------------
def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    r""":math:`\max(0, -y (x_1 - x_2) + \text{margin})` for labels :math:`y \in \{1, -1\}`.

    Args:
        input1 (Tensor): :math:`(N)` or :math:`()`.
        input2 (Tensor): same shape.
        target (Tensor): same shape.
        margin (float): Default: 0
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``

    See :class:`~ember.nn.MarginRankingLoss` for details.

    Examples::

        >>> x1 = ember.tensor([0.8, 0.1, 0.5])
        >>> x2 = ember.tensor([0.3, 0.4, 0.5])
        >>> y = ember.tensor([1.0, 1.0, -1.0])  # 1: x1 should rank higher
        >>> F.margin_ranking_loss(x1, x2, y, reduction='none')
        tensor([0.0000, 0.3000, 0.0000])
        >>> F.margin_ranking_loss(x1, x2, y, margin=0.5)
        tensor(0.4333)
    """
    if _amp.active:
        input1, input2, target = cast_inputs("margin_ranking_loss", input1, input2, target)
    reduction = _get_reduction(size_average, reduce, reduction)
    # PyTorch's Python functional compares input1.dim() with input2.dim(), then with target.dim() (its error
    # message reads target.size() where the first two differ)
    read_before_checked(input1, "dim")
    read_before_checked(input2, "dim")
    if isinstance(input1, Tensor) and isinstance(input2, Tensor):
        read_before_checked(target, "dim" if input1.ndim == input2.ndim else "size")
    _check_tensors("margin_ranking_loss", input1=input1, input2=input2, target=target)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} "
        )
    return _reduce(named_node((-target * (input1 - input2) + margin).clamp(min=0), "ClampMinBackward0"), reduction)


def hinge_embedding_loss(
    input: Tensor,
    target: Tensor,
    margin: float = 1.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    r""":math:`x` where :math:`y = 1`, :math:`\max(0, \Delta - x)` where :math:`y = -1`.

    Args:
        input (Tensor): :math:`(*)`.
        target (Tensor): labels 1 or -1, same shape.
        margin (float): the :math:`\Delta`. Default: 1.0
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``

    See :class:`~ember.nn.HingeEmbeddingLoss` for details.

    Examples::

        >>> distances = ember.tensor([0.3, 2.0, 0.4])
        >>> target = ember.tensor([1.0, -1.0, -1.0])
        >>> F.hinge_embedding_loss(distances, target, reduction='none')
        tensor([0.3000, 0.0000, 0.6000])
        >>> F.hinge_embedding_loss(distances, target)
        tensor(0.3000)
    """
    if _amp.active:
        input, target = cast_inputs("hinge_embedding_loss", input, target)
    reduction = _get_reduction(size_average, reduce, reduction)
    _check_tensors("hinge_embedding_loss", input=input, target=target)
    if not input.dtype.is_floating_point:  # PyTorch computes in the input's type: the margin truncated to it
        margin = int(margin)
    zero = input.detach().new_zeros(())
    margin_part = where(target != 1, (margin - input).clamp(min=0), zero)
    self_part = where(target != -1, input, zero)
    return _reduce(margin_part + self_part, reduction)


def _multiclass_shapes(name, input, target):
    """(N, C) input and (N,) target views; a 1-D input is one sample."""
    if input.ndim not in (1, 2) or input.shape[-1] == 0:  # (N, 0) too: no class to score
        raise RuntimeError(
            f"{name}: Expected non-empty vector or matrix with optional 0-dim batch size, but got: {list(input.shape)}"
        )
    batch = 1 if input.ndim == 1 else input.shape[0]
    if target.ndim > 1 or target.numel() != batch:
        raise RuntimeError(
            f"{name}: target tensor should be 1-D with size equal to the number of input samples (batch size). "
            f"Expected target size [{batch}], but got {list(target.shape)}. Input has shape {list(input.shape)}."
        )
    if input.ndim == 1:
        return input.unsqueeze(0), target.reshape((1,))
    return input, target.reshape((batch,))


def _check_long(name, target):
    if target.dtype is not dtypes.int64:
        raise RuntimeError(f"{name}: expected scalar type Long but found {TORCH_NAMES[target.dtype]}")


def _check_class_range(
    name, target, num_classes, ignore_index=None, error=IndexError, message="Target {value} is out of bounds."
):
    # the backend may check on the device and report at its next sync (CUDA: no wait per step)
    target._backend.check_indices(name, target._data, num_classes, ignore_index, error, message)


def multi_margin_loss(
    input: Tensor,
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    r"""Multi-class hinge loss :math:`\sum_{i \ne y} w_y \max(0, \text{margin} - x_y + x_i)^p / C`.

    Args:
        input (Tensor): :math:`(N, C)` or :math:`(C)`.
        target (Tensor): class indices :math:`(N)` or :math:`()`, int64.
        p (int): 1 or 2. Default: 1
        margin (float): Default: 1
        weight (Tensor, optional): per-class weights :math:`(C)`. Default: ``None``
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``

    See :class:`~ember.nn.MultiMarginLoss` for details.

    Examples::

        >>> input = ember.tensor([[0.1, 0.2, 0.4, 0.8], [0.9, 0.1, 0.3, 0.2]])
        >>> target = ember.tensor([3, 0])
        >>> F.multi_margin_loss(input, target, reduction='none')
        tensor([0.3250, 0.2250])
        >>> F.multi_margin_loss(input, target, p=2, margin=0.5)
        tensor(0.0012)
    """
    if _amp.active:
        input, weight = cast_inputs("multi_margin_loss", input, weight)
    reduction = _get_reduction(size_average, reduce, reduction)
    _check_tensors("multi_margin_loss", input=input, target=target)
    refuse_gradients("multi_margin_loss", weight=weight)
    if input.dtype not in FLOATING:
        not_implemented("multi_margin_loss_cpu_kernel", input.dtype)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and isinstance(weight, Tensor) and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    x, t = _multiclass_shapes("multi_margin_loss", input.reshape((1,)) if input.ndim == 0 else input, target)
    n_classes = x.shape[1]
    if weight is not None and (weight.ndim != 1 or weight.shape[0] != n_classes):
        raise RuntimeError(
            f"multi_margin_loss: inconsistent weight size, expected {n_classes} but got {list(weight.shape)}"
        )
    _check_long("multi_margin_loss", target)  # after the shapes, as PyTorch
    _check_class_range("multi_margin_loss", t, n_classes, error=RuntimeError, message="target out of range")
    if weight is not None:
        _check_weight_dtype(weight, input)
        weight = weight[t]
    loss = _MultiMargin.apply(x, t, weight, p, margin)
    if reduction == "none":
        loss = loss.reshape(target.shape)  # as the target: () or (1,) for one sample, batched or not
    return named_node(_reduce(loss, reduction), "MultiMarginLossBackward0")


def _arange_like(x, n):
    return arange(n, device=x.device)


class _MultiMargin(Function):
    """The per-sample multi-class hinge loss; its gradient is PyTorch's ``multi_margin_loss_backward``: the
    coefficient of each input (0 off the active hinges, minus their sum at the target) times the upstream
    gradient, so an inf/NaN upstream reaches the whole row as in PyTorch. ``weight`` is the class weight
    of each sample's target."""

    @staticmethod
    def forward(ctx, x, t, weight, p, margin):
        hinge, not_target = _multi_margin_hinge(x, t, margin)
        z = hinge.clamp(min=0)
        if p == 2:
            z = z * z
        if weight is not None:
            z = z * weight.unsqueeze(1)
        ctx.save_for_backward(x, t, weight)
        ctx.p, ctx.margin = p, margin
        return (z * not_target.to(z.dtype)).sum(1) / x.shape[1]

    @staticmethod
    def backward(ctx, grad):
        x, t, weight = ctx.saved_tensors
        n_classes = x.shape[1]
        hinge, not_target = _multi_margin_hinge(x, t, ctx.margin)
        active = (hinge > 0) & not_target
        slope = where(active, hinge * (2 / n_classes), 0.0) if ctx.p == 2 else active.to(x.dtype) / n_classes
        if weight is not None:
            slope = slope * weight.unsqueeze(1)
        coefficient = where(not_target, slope, -slope.sum(1, keepdim=True))
        grad_weight = None
        if weight is not None and ctx.needs_input_grad[2]:
            z = where(active, hinge, 0.0) ** ctx.p
            grad_weight = grad * z.sum(1) / n_classes
        return coefficient * grad.unsqueeze(1), None, grad_weight, None, None


def _multi_margin_hinge(x, t, margin):
    """``margin - x[t] + x`` and where the class is not the target."""
    not_target = t.unsqueeze(1) != _arange_like(x, x.shape[1]).unsqueeze(0)
    return margin - x.gather(1, t.unsqueeze(1)) + x, not_target


def multilabel_margin_loss(
    input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
) -> Tensor:
    r"""Multi-label hinge loss :math:`\sum_{j, i \notin y} \max(0, 1 - (x_{y_j} - x_i)) / C`; each
    target row lists class indices up to the first -1.

    Args:
        input (Tensor): :math:`(N, C)` or :math:`(C)`.
        target (Tensor): int64 of the same shape, padded with -1.
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``

    See :class:`~ember.nn.MultiLabelMarginLoss` for details.

    Examples::

        >>> input = ember.tensor([[0.1, 0.2, 0.4, 0.8]])
        >>> target = ember.tensor([[3, 0, -1, 1]])  # classes 3 and 0; the rest is ignored
        >>> F.multilabel_margin_loss(input, target)
        tensor(0.8500)
    """
    if _amp.active:
        (input,) = cast_inputs("multilabel_margin_loss", input)
    reduction = _get_reduction(size_average, reduce, reduction)
    _check_tensors("multilabel_margin_loss", input=input, target=target)
    if input.dtype not in FLOATING:
        not_implemented("multilabel_margin_loss_forward_out_frame", input.dtype)
    unbatched = input.ndim <= 1  # a 0-d input is one sample of one class
    if input.ndim > 2 or (input.ndim >= 1 and input.shape[-1] == 0):  # (N, 0) too: no class to score
        raise RuntimeError(
            "multilabel_margin_loss: Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
            f"{list(input.shape)}"
        )
    if target.shape != input.shape and not (unbatched and target.ndim <= 1 and target.numel() == input.numel()):
        raise RuntimeError(
            f"multilabel_margin_loss: inconsistent target size: {list(target.shape)} for input of size: "
            f"{list(input.shape)}"
        )
    _check_long("multilabel_margin_loss", target)  # after the shapes, as PyTorch
    x = input.reshape((1, input.numel())) if unbatched else input
    t = target.reshape((1, input.numel())) if unbatched else target
    n_classes = x.shape[1]
    if not t.is_meta and bool(((t < -1).logical_or(t >= n_classes)).any()):  # (a meta target has no values)
        raise RuntimeError(
            f"multilabel_margin_loss: argument #2 'target' is out of range (values in [-1, {n_classes - 1}])"
        )
    active = (t < 0).to(dtypes.int64).cumsum(1) == 0  # (N, J): before the first -1
    safe = where(active, t, 0)
    classes = _arange_like(x, n_classes)
    hits = (safe.unsqueeze(-1) == classes).logical_and(active.unsqueeze(-1))  # (N, J, C)
    is_target = hits.any(1)  # (N, C)
    mask = active.unsqueeze(-1).logical_and(is_target.logical_not().unsqueeze(1))
    loss = _MultiLabelMargin.apply(x, safe, hits, mask)
    if unbatched and reduction == "none":
        loss = loss.reshape(())
    return named_node(_reduce(loss, reduction), "MultilabelMarginLossBackward0")


class _MultiLabelMargin(Function):
    """The per-sample multi-label hinge loss over the (target j, class c) pairs in ``mask``; its gradient is
    PyTorch's ``multilabel_margin_loss_backward``: each input's count of active hinges (minus, at a target
    class) over C, times the upstream gradient, so an inf/NaN upstream reaches the whole row as in PyTorch.
    ``safe``: the target classes (N, J), ``hits``: (N, J, C) where class c is target j."""

    @staticmethod
    def forward(ctx, x, safe, hits, mask):
        hinge = 1 - x.gather(1, safe).unsqueeze(-1) + x.unsqueeze(1)  # (N, J, C)
        ctx.on, ctx.hits = mask.logical_and(hinge > 0), hits
        return (hinge.clamp(min=0) * mask.to(hinge.dtype)).sum((1, 2)) / x.shape[1]

    @staticmethod
    def backward(ctx, grad):
        on = ctx.on.to(grad.dtype)
        raised = on.sum(1)  # (N, C): the hinges that class c raises
        lowered = (ctx.hits.to(grad.dtype) * on.sum(2, keepdim=True)).sum(1)  # those that target class c lowers
        return (raised - lowered) / on.shape[2] * grad.unsqueeze(1), None, None, None


def multilabel_soft_margin_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    r"""Multi-label one-versus-all logistic loss, averaged over the classes:
    :math:`-\frac{1}{C} \sum_i w_i [y_i \log \sigma(x_i) + (1 - y_i) \log \sigma(-x_i)]`.

    Args:
        input (Tensor): :math:`(N, C)`.
        target (Tensor): 0/1 labels, same shape.
        weight (Tensor, optional): per-class weights :math:`(C)`. Default: ``None``
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``

    See :class:`~ember.nn.MultiLabelSoftMarginLoss` for details.

    Examples::

        >>> input = ember.tensor([[2.0, -1.0, 0.5], [0.0, 1.0, -2.0]])
        >>> target = ember.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
        >>> F.multilabel_soft_margin_loss(input, target, reduction='none')
        tensor([0.3048, 0.3778])
    """
    reduction = _get_reduction(size_average, reduce, reduction)
    require_tensors("log_sigmoid", ("input",), input)  # PyTorch's functional calls logsigmoid(input) first
    _check_tensors("multilabel_soft_margin_loss", input=input, target=target)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(-1) / input.shape[-1]
    return _reduce(loss, reduction)


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    r""":math:`1 - \cos(x_1, x_2)` where :math:`y = 1`, :math:`\max(0, \cos(x_1, x_2) - \text{margin})` where :math:`y = -1`.

    Args:
        input1 (Tensor): :math:`(N, D)` or :math:`(D)`.
        input2 (Tensor): same shape.
        target (Tensor): labels 1 or -1, :math:`(N)` or :math:`()`.
        margin (float): Default: 0
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``

    See :class:`~ember.nn.CosineEmbeddingLoss` for details.

    Examples::

        >>> x1 = ember.tensor([[1.0, 0.0], [1.0, 1.0]])
        >>> x2 = ember.tensor([[1.0, 1.0], [-1.0, 1.0]])
        >>> y = ember.tensor([1.0, -1.0])
        >>> F.cosine_embedding_loss(x1, x2, y, reduction='none')
        tensor([0.2929, 0.0000])
        >>> F.cosine_embedding_loss(x1, x2, -y, margin=0.5, reduction='none')
        tensor([0.2071, 1.0000])
    """
    if _amp.active:
        input1, input2, target = cast_inputs("cosine_embedding_loss", input1, input2, target)
    reduction = _get_reduction(size_average, reduce, reduction)
    _check_tensors("cosine_embedding_loss", input1=input1, input2=input2, target=target)
    if target.ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input1.ndim != target.ndim + 1 or input2.ndim != target.ndim + 1:  # (their shapes broadcast)
        raise RuntimeError(
            f"{target.ndim}D target tensor expects {target.ndim + 1}D input tensors, but found inputs with sizes "
            f"{list(input1.shape)} and {list(input2.shape)}."
        )
    dim = input1.ndim - 1
    eps = 1e-12
    prod = (input1 * input2).sum(dim)
    mag1 = (input1 * input1).sum(dim) + eps
    mag2 = (input2 * input2).sum(dim) + eps
    cos = prod / (mag1 * mag2).sqrt()
    zero = cos.detach().new_zeros(())
    loss = where(target == 1, 1 - cos, zero) + where(target == -1, (cos - margin).clamp(min=0), zero)
    return _reduce(loss, reduction)


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    r"""Triplet loss :math:`\max(d(a, p) - d(a, n) + \text{margin}, 0)` with the ``p``-norm distance.

    Args:
        anchor (Tensor): :math:`(N, D)` or :math:`(D)`.
        positive (Tensor): same shape.
        negative (Tensor): same shape.
        margin (float): Default: 1.0
        p (float): the norm degree. Default: 2
        eps (float): added to differences, as in :func:`pairwise_distance`. Default: 1e-6
        swap (bool): use :math:`\min(d(a, n), d(p, n))` as the negative distance. Default: ``False``
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``

    Example::

        >>> loss = F.triplet_margin_loss(ember.randn(100, 128), ember.randn(100, 128), ember.randn(100, 128))
    """
    if _amp.active:
        anchor, positive, negative = cast_inputs("triplet_margin_loss", anchor, positive, negative)
    reduction = _get_reduction(size_average, reduce, reduction)
    _check_tensors("triplet_margin_loss", anchor=anchor, positive=positive, negative=negative)
    distance = lambda x, y: pairwise_distance(x, y, p, eps)  # noqa: E731
    return _triplet("triplet_margin_loss", anchor, positive, negative, distance, margin, swap, reduction)


def _triplet(name, anchor, positive, negative, distance, margin, swap, reduction):
    if margin <= 0:
        raise ValueError(f"{name}: margin must be greater than 0, got {margin}")
    dims = (anchor.ndim, positive.ndim, negative.ndim)
    if len(set(dims)) != 1:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of dimensions, "
            f"but got: anchor {dims[0]}D, positive {dims[1]}D, and negative {dims[2]}D inputs"
        )
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = d_neg.minimum(distance(positive, negative))
    return _reduce(named_node((margin + d_pos - d_neg).clamp(min=0), "ClampMinBackward0"), reduction)


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    r"""Triplet loss with a custom ``distance_function(x, y)`` (default :func:`pairwise_distance`).

    Args:
        anchor (Tensor): :math:`(N, D)` or :math:`(D)`.
        positive (Tensor): same shape.
        negative (Tensor): same shape.
        distance_function (callable, optional): Default: ``None`` (pairwise distance)
        margin (float): must be > 0. Default: 1.0
        swap (bool): use :math:`\min(d(a, n), d(p, n))`. Default: ``False``
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``

    See :class:`~ember.nn.TripletMarginWithDistanceLoss` for details.

    Examples::

        >>> anchor = ember.tensor([[0.0, 0.0], [1.0, 1.0]])
        >>> positive = ember.tensor([[0.0, 1.0], [1.0, 2.0]])
        >>> negative = ember.tensor([[3.0, 4.0], [1.0, 1.5]])
        >>> F.triplet_margin_with_distance_loss(anchor, positive, negative, reduction='none')
        tensor([0.0000, 1.5000])
        >>> cosine_distance = lambda x, y: 1.0 - F.cosine_similarity(x, y)
        >>> F.triplet_margin_with_distance_loss(
        ...     anchor, positive, negative, distance_function=cosine_distance, margin=0.5, reduction='none'
        ... )
        tensor([0.5000, 0.5319])
    """
    reduction = _get_reduction(None, None, reduction)
    name = "triplet_margin_with_distance_loss"
    for argument in (anchor, positive, negative):  # PyTorch's Python functional reads each one's ndim first
        read_before_checked(argument, "ndim", called=False)
    _check_tensors(name, anchor=anchor, positive=positive, negative=negative)
    distance = distance_function or pairwise_distance
    return _triplet(name, anchor, positive, negative, distance, margin, swap, reduction)


# -- classification --------------------------------------------------------------------------
class _NLLLossGrad(LinearGradient):
    """The (N, C) gradient of the NLL loss; linear in ``grad``, so its adjoint is the NLL loss again."""

    @staticmethod
    def forward(ctx, grad, target, weight, ignore_index, reduction, total, num_classes, source):
        ctx.args = (target, weight, ignore_index, reduction)
        return grad._make(_NLLLossGrad.values(grad, target, weight, ignore_index, reduction, total, num_classes))

    @staticmethod
    def values(grad, target, weight, ignore_index, reduction, total, num_classes):
        """The native (N, C) gradient, from the backend's ``nll_loss_backward``."""
        # the backend's divide: 0 / 0 (every target ignored) is NaN silently, as in PyTorch
        coeff = grad._backend.xp.divide(grad._data, total) if reduction == "mean" else grad._data
        wdata = None if weight is None else weight._data
        return grad._backend.kernels.nll_loss_backward(coeff, target._data, wdata, ignore_index, num_classes)

    @staticmethod
    def adjoint(ctx, u):
        target, weight, ignore_index, reduction = ctx.args
        return _NLLLoss.apply(u, target, weight, ignore_index, reduction), None, None, None, None, None, None


def _reduce_losses(xp, losses, w, reduction):
    """``(loss, total)``: the per-sample ``losses`` reduced; ``'mean'`` divides by ``total``, the sum of
    the per-sample weights ``w`` (None for the other reductions)."""
    if reduction == "none":
        return losses, None
    if reduction == "sum":
        return xp.sum(losses), None
    total = xp.sum(w)
    return xp.divide(xp.sum(losses), total), total  # the backend's divide: 0 / 0 is NaN silently


def _reduce_16_bit_losses(backend, losses, w, counted, weighted, reduction):
    """:func:`_reduce_losses` as PyTorch's CPU ``nll_loss`` reduces float16/bfloat16 losses: summed in
    the 16-bit type in its cascade order; the mean divides by the weights summed the same way, or by
    the count of the counted targets in the 16-bit type."""
    if reduction == "none":
        return losses, None
    out = cascade_sum(backend, losses, counted)
    if reduction == "sum":
        return out, None
    xp = backend.xp
    total = cascade_sum(backend, w, counted) if weighted else xp.astype(xp.sum(xp.astype(counted, w.dtype)), w.dtype)
    return xp.divide(out, total), total


class _NLLLoss(Function):
    _backward_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction):
        losses, w = x._backend.kernels.nll_loss(
            x._data, target._data, None if weight is None else weight._data, ignore_index
        )
        if x.dtype in dtypes.narrow_float and narrow_on_cpu(x):
            counted = target._data != ignore_index
            out, total = _reduce_16_bit_losses(x._backend, losses, w, counted, weight is not None, reduction)
        else:
            out, total = _reduce_losses(x._backend.xp, losses, w, reduction)
        ctx.save_for_backward(target, weight)  # checked against in-place writes when read, as PyTorch's
        ctx.args = (ignore_index, reduction, total, x.shape[1])
        return x._make(out)

    @staticmethod
    def backward(ctx, grad):
        target, weight = ctx.saved_tensors
        ignore_index, reduction, total, num_classes = ctx.args
        g = _NLLLossGrad.of(ctx, grad, target, weight, ignore_index, reduction, total, num_classes)
        return g, None, None, None, None

    @staticmethod
    def _native_backward(ctx, grad):
        # the values of the backward Function, without its node
        target, weight = ctx.saved_tensors
        g = _NLLLossGrad.values(grad, target, weight, *ctx.args)
        return g, None, None, None, None


class _CrossEntropy(Function):
    """Cross entropy of logits ``x`` (N, C) and class indices ``target`` (N,) in one node: the
    log-softmax, the NLL and the label smoothing in one kernel each way."""

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction, label_smoothing):
        wdata = None if weight is None else weight._data
        saved, losses, w = x._backend.kernels.cross_entropy(x._data, target._data, wdata, ignore_index, label_smoothing)
        out, total = _reduce_losses(x._backend.xp, losses, w, reduction)
        ctx.save_for_backward(x, target, weight)
        ctx.kernel_saved, ctx.args = saved, (ignore_index, reduction, total, label_smoothing)
        return x._make(out)

    @staticmethod
    def backward(ctx, grad):
        ignore_index, reduction, total, label_smoothing = ctx.args
        # x read even where unused: what the kernel kept may be the logits' storage (NumPy's keeps it, not the
        # log-probabilities), so logits written in place since must refuse rather than give another gradient
        x, target, weight = ctx.saved_tensors
        args = (target, weight, ignore_index, reduction, total, label_smoothing)
        return _cross_entropy_grad_graph(x, grad, *args), None, None, None, None, None

    @staticmethod
    def _native_backward(ctx, grad):
        # the backend's one kernel
        ignore_index, reduction, total, label_smoothing = ctx.args
        _, target, weight = ctx.saved_tensors  # (the logits read too, as backward reads them)
        coeff = grad._backend.xp.divide(grad._data, total) if reduction == "mean" else grad._data
        wdata = None if weight is None else weight._data
        kernel = grad._backend.kernels.cross_entropy_backward
        return (
            kernel(coeff, ctx.kernel_saved, target._data, wdata, ignore_index, label_smoothing),
            None,
            None,
            None,
            None,
            None,
        )


def _cross_entropy_grad_graph(x, grad, target, weight, ignore_index, reduction, total, label_smoothing):
    """:class:`_CrossEntropy`'s gradient from differentiable pieces (create_graph): the NLL's gradient
    Function and the smoothing term in the log-probabilities, then log-softmax's backward formula."""
    num_classes = x.shape[1]
    g = _NLLLossGrad.apply(grad, target, weight, ignore_index, reduction, total, num_classes, None)
    if label_smoothing > 0:
        coeff = grad / x._make(total) if reduction == "mean" else grad
        valid = x._make(target._data != ignore_index).reshape((-1, 1))
        coeff = coeff.reshape((-1, 1)) if coeff.ndim else coeff
        # an ignored row's share selected to 0 (not multiplied by 0: coeff is inf when every row is ignored)
        spread = where(valid, coeff * (label_smoothing / num_classes), 0.0)
        spread = spread if weight is None else spread * weight.reshape((1, -1))
        g = g * (1 - label_smoothing) - spread
    return named_node(g - softmax(x, 1) * g.sum(1, keepdim=True), _LOG_SOFTMAX_GRADIENT)


# the node of the gradient of PyTorch's cross_entropy (log_softmax, then nll_loss) for its input
_LOG_SOFTMAX_GRADIENT = "LogSoftmaxBackwardDataBackward0"


class _ClassesLast(Function):
    """An (N, C, d1, ...) input as (N*d1*..., C), its gradient's node named ``name`` (PyTorch's last op of the
    loss's backward, recorded under ``create_graph``; None: the permute's, PermuteBackward0)."""

    @staticmethod
    def forward(ctx, x, name):
        ctx.moved, ctx.name = tuple(x.shape[:1]) + tuple(x.shape[2:]) + tuple(x.shape[1:2]), name
        xp, axes = x._backend.xp, (0, *range(2, x.ndim), 1)
        return x._make(xp.reshape(xp.permute_dims(x._data, axes), (-1, x.shape[1])))

    @staticmethod
    def backward(ctx, grad):
        gx = grad.reshape(ctx.moved).movedim(-1, 1)
        return (gx if ctx.name is None else named_node(gx, ctx.name)), None


def _flatten_classes(name, input, target, gradient_name=None):
    """View an (N, C, d1, ...) input as (N*d1*..., C) and its target as (N*d1*...,); returns the target shape too.
    ``gradient_name``: the name of the node of the input's gradient (see :class:`_ClassesLast`)."""
    shape, target_shape = input._data.shape, target._data.shape  # the arrays' tuples: no Size per read
    ndim, target_ndim = len(shape), len(target_shape)
    if ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {ndim})")
    if ndim == 1:
        if target_ndim > 1:
            raise RuntimeError(f"{name}: 0D or 1D target tensor expected, multi-target not supported")
        if target_ndim == 1 and target_shape[0] != 1:  # a 1-D target of one element is taken as a 0-D one
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target_shape[0]}")
        return input.unsqueeze(0), target.reshape((1,)), ()
    if target_ndim == 0 or shape[0] != target_shape[0]:
        raise ValueError(
            f"Expected input batch_size ({shape[0]}) to match target batch_size "
            f"({target_shape[0] if target_ndim else 0})."
        )
    if ndim == 2:
        if target_ndim != 1:
            raise RuntimeError(f"{name}: 0D or 1D target tensor expected, multi-target not supported")
        return input, target, tuple(target_shape)
    expected = (shape[0],) + tuple(shape[2:])
    if ndim == 4 and target_ndim != 3:  # PyTorch's nll_loss2d words its checks its own way
        raise RuntimeError(
            f"{name}: only batches of spatial targets supported (3D tensors) but got targets of dimension: "
            f"{target_ndim}"
        )
    if tuple(target_shape) != expected:
        if ndim == 4:
            raise RuntimeError(f"{name}: size mismatch (got input: {list(shape)} , target: {list(target_shape)})")
        raise RuntimeError(f"{name}: Expected target size {list(expected)}, got {list(target_shape)}")
    return _ClassesLast.apply(input, gradient_name), target.reshape((-1,)), expected


def _ignore_index_arg(op, ignore_index):
    """``ignore_index``, the fifth argument of PyTorch's ``op``, as an int, checked as PyTorch's argument parser
    does: an integer (not a bool), or a tensor of one element of an integer dtype (a bool one is refused)."""
    if type(ignore_index) is int:  # the common case: no ABC check
        return ignore_index
    if isinstance(ignore_index, Tensor) and ignore_index.numel() == 1 and not ignore_index.dtype.is_floating_point:
        if ignore_index.dtype is dtypes.bool:  # (PyTorch's parser takes it, then fails an internal assert)
            raise RuntimeError(f"{op}(): argument 'ignore_index' (position 5) must be an integer, not a bool Tensor")
        if not ignore_index.dtype.is_complex:
            return int(ignore_index.item())
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"{op}(): argument 'ignore_index' (position 5) must be int, not {type_name(ignore_index)}")
    return int(ignore_index)


def _check_weight_dtype(weight, input):
    """PyTorch's class-index kernels take the weight in the input's dtype, without promotion."""
    if weight is not None and weight.dtype is not input.dtype:
        raise RuntimeError(f"expected scalar type {TORCH_NAMES[input.dtype]} but found {TORCH_NAMES[weight.dtype]}")


def _check_weight(weight, n_classes, input):
    if weight is not None:
        if not isinstance(weight, Tensor):
            raise TypeError(f"weight must be a Tensor, not {type_name(weight)}")
        check_same_device("nll_loss", input, weight)
        if weight.ndim != 1 or weight.shape[0] != n_classes:
            raise RuntimeError(
                f"weight tensor should be defined either for all {n_classes} classes or no classes but got "
                f"weight tensor of shape: {list(weight.shape)}"
            )
        return weight.detach()
    return None


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    r"""Negative log-likelihood :math:`-w_{y_n} x_{n, y_n}` of class indices ``target`` under
    log-probabilities ``input``; ``'mean'`` divides by the summed weights of the non-ignored targets.

    Args:
        input (Tensor): :math:`(N, C)`, :math:`(C)` or :math:`(N, C, d_1, ..., d_K)` log-probabilities.
        target (Tensor): int64 class indices :math:`(N)`, :math:`()` or :math:`(N, d_1, ..., d_K)`.
        weight (Tensor, optional): per-class weights :math:`(C)`. Default: ``None``
        size_average (bool, optional): deprecated (see ``reduction``).
        ignore_index (int): target value that contributes neither loss nor gradient. Default: -100
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``

    Shape:
        - Input: :math:`(C)`, :math:`(N, C)` or :math:`(N, C, d_1, ..., d_K)`
        - Target: :math:`()`, :math:`(N)` or :math:`(N, d_1, ..., d_K)`, values in :math:`[0, C)`
        - Output: a scalar; with ``reduction='none'`` the target's shape

    Example::

        >>> input = F.log_softmax(ember.randn(3, 5, requires_grad=True), dim=1)
        >>> F.nll_loss(input, ember.tensor([1, 0, 4])).backward()
    """
    refuse_limited("nll_loss_out_frame", input)
    if _amp.active:
        input, weight = cast_inputs("nll_loss", input, weight)
    reduction = _get_reduction(size_average, reduce, reduction)
    require_tensors("nll_loss_nd", ("input", "target"), input, target)  # the op PyTorch's functional calls
    check_same_device("nll_loss", input, target)
    ignore_index = _ignore_index_arg("nll_loss_nd", ignore_index)
    if not input.dtype.is_floating_point:
        not_implemented("nll_loss_out_frame", input.dtype)
    # PyTorch's gradient of a 4-D input is nll_loss2d's; of a 3-D or over 4-D one, viewed back from 4-D
    gradient_name = "NllLoss2DBackwardBackward0" if input.ndim == 4 else "ViewBackward0"
    x, t, out_shape, weight = _class_index_operands(input, target, weight, ignore_index, gradient_name)
    loss = _NLLLoss.apply(x, t, weight, ignore_index, reduction)
    return named_node(loss.reshape(out_shape) if reduction == "none" else loss, _nll_node(input.ndim, reduction))


def _nll_node(ndim, reduction):
    """The name of the node of PyTorch's ``nll_loss`` of an ``ndim``-D input: ``nll_loss2d``'s for a 4-D one;
    a 3-D or over 4-D one is viewed as 4-D for ``nll_loss2d``, and its unreduced loss viewed back."""
    if ndim <= 2:
        return "NllLossBackward0"
    return "ViewBackward0" if ndim != 4 and reduction == "none" else "NllLoss2DBackward0"


def _class_index_operands(input, target, weight, ignore_index, gradient_name):
    """The checked operands of a class-index loss: ``input`` as (N, C), ``target`` as (N,), the
    target's shape, and the weight (detached, or None); ``gradient_name``: as :func:`_flatten_classes`'s."""
    refuse_gradients("nll_loss_forward", weight=weight)
    x, t, out_shape = _flatten_classes("nll_loss", input, target, gradient_name)
    if target.dtype is not dtypes.int64:  # PyTorch's nll_loss also takes uint8 indices
        if target.dtype is not dtypes.uint8:
            raise RuntimeError(f"expected target dtype to be Long or Byte, but got {TORCH_NAMES[target.dtype]}")
        if input.ndim > 2:  # but not its kernel for spatial inputs
            _check_long("nll_loss", target)
        t = t.long()
    n_classes = x._data.shape[1]
    weight = _check_weight(weight, n_classes, input)
    _check_weight_dtype(weight, input)
    _check_class_range("nll_loss", t, n_classes, ignore_index)
    return x, t, out_shape, weight


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    r"""Cross entropy between the logits ``input`` and ``target``: :func:`log_softmax` over the
    classes, then :func:`nll_loss` (class indices) or :math:`-\sum_c w_c y_c \log p_c`
    (class probabilities).

    Args:
        input (Tensor): logits :math:`(N, C)`, :math:`(C)` or :math:`(N, C, d_1, ..., d_K)`.
        target (Tensor): int64 class indices of the input's shape without C, or class
            probabilities of the input's shape.
        weight (Tensor, optional): per-class weights :math:`(C)`. Default: ``None``
        size_average (bool, optional): deprecated (see ``reduction``).
        ignore_index (int): class-index target value to ignore. Default: -100
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``
        label_smoothing (float): in [0, 1]; mixes the target with the uniform distribution. Default: 0.0

    Shape:
        - Input: :math:`(C)`, :math:`(N, C)` or :math:`(N, C, d_1, ..., d_K)`
        - Target: class indices :math:`()`, :math:`(N)` or :math:`(N, d_1, ..., d_K)`, or probabilities shaped as the input
        - Output: a scalar; with ``reduction='none'`` the target's shape (class indices) or the input's without :math:`C`

    Example::

        >>> input = ember.randn(3, 5, requires_grad=True)
        >>> F.cross_entropy(input, ember.randint(5, (3,))).backward()
    """
    if _amp.active:
        input, target, weight = cast_inputs("cross_entropy", input, target, weight)
    reduction = _get_reduction(size_average, reduce, reduction)
    require_tensors("cross_entropy_loss", ("input", "target"), input, target)  # the op PyTorch's functional calls
    check_same_device("cross_entropy", input, target)
    shape = input._data.shape  # the array's tuple: no Size per read
    # its log_softmax has no uint16/32/64 nor float8 kernel (over the last dimension of an (N, C) input)
    refuse_limited("log_softmax_lastdim_kernel_impl" if len(shape) <= 2 else "log_softmax_kernel_impl", input)
    ignore_index = _ignore_index_arg("cross_entropy_loss", ignore_index)
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    label_smoothing = max(label_smoothing, 0.0)  # PyTorch smooths only for a positive value
    class_dim = 1 if len(shape) >= 2 else 0
    # the fused kernel computes in the input's type; a 16-bit input takes log_softmax (float32
    # inside, rounded once) and nll_loss, whose rounding is PyTorch's
    fused = input.dtype.is_floating_point and input.dtype not in dtypes.narrow_float
    # a target of the input's shape holds probabilities; any other is class indices (a float one is refused)
    probabilities = target._data.shape == shape
    if probabilities and not target.dtype.is_floating_point:
        raise RuntimeError(
            f"Expected floating point type for target with class probabilities, got {TORCH_NAMES[target.dtype]}"
        )
    if probabilities and ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    if not probabilities and fused and shape:
        x, t, out_shape, weight = _class_index_operands(input, target, weight, ignore_index, _LOG_SOFTMAX_GRADIENT)
        loss = _CrossEntropy.apply(x, t, weight, ignore_index, reduction, label_smoothing)
        loss = loss.reshape(out_shape) if reduction == "none" else loss
        # PyTorch's cross_entropy is nll_loss(log_softmax), plus the smoothing term when there is one
        return named_node(loss, "AddBackward0" if label_smoothing > 0 else _nll_node(len(shape), reduction))
    logp = log_softmax(input, class_dim)
    n_classes = input.shape[class_dim] if input.ndim else 0
    if probabilities:
        weight = _check_weight(weight, n_classes, input)
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / n_classes
        terms = logp * target
        if weight is not None:
            terms = terms * weight.reshape((n_classes,) + (1,) * (input.ndim - class_dim - 1))
        if reduction == "none":
            return -terms.sum(class_dim)
        total = -terms.sum()
        # (PyTorch divides by a Scalar: div.Scalar's node)
        return named_node(total / (input.numel() / n_classes), "DivBackward1") if reduction == "mean" else total
    # class indices with a non-floating or 0-d input: nll_loss raises PyTorch's error
    loss = nll_loss(logp, target, weight, None, ignore_index, None, reduction)
    if label_smoothing > 0:
        return _smoothed(loss, logp, target, weight, ignore_index, reduction, label_smoothing, class_dim)
    return loss


def _smoothed(nll, logp, target, weight, ignore_index, reduction, label_smoothing, class_dim):
    """PyTorch's composition of label smoothing from tensor operations, each rounding in the input's
    type: ``(1 - s) * nll + smooth * (s / C)``, ``smooth`` the negated (weighted) sum of the
    log-probabilities over the classes, 0 at an ignored target, reduced as ``reduction`` says (the
    mean over the counted targets or their weights)."""
    n_classes = logp.shape[class_dim]
    if weight is not None:
        shape = [1] * logp.ndim
        shape[class_dim] = n_classes
        smooth = -(logp * weight.reshape(shape)).sum(class_dim)
    else:
        smooth = -logp.sum(class_dim)
    ignored = target == ignore_index
    smooth = smooth.masked_fill(ignored, 0.0)
    if reduction == "mean":
        counted = ignored.logical_not()
        total = counted.sum() if weight is None else weight.take(target.masked_select(counted)).sum()
        smooth = smooth.sum() / total
    elif reduction == "sum":
        smooth = smooth.sum()
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / n_classes)
