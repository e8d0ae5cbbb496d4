"""Connectionist Temporal Classification, functional form: ``F.ctc_loss``.

The alpha/beta recursions are the ``ctc_loss_forward``/``ctc_loss_backward`` kernels
(:mod:`ember.kernels.ctc`); this file prepares the extended label sequences and reduces.
"""

from __future__ import annotations

from collections.abc import Sequence

from ... import dtypes
from ...amp.policy import cast_inputs
from ...amp.state import state as _amp
from ...autograd import function as autograd_function
from ...autograd import tangents
from ...autograd.function import Function
from ...autograd.grad_mode import grad_state
from ...meta_errors import refuse_meta
from ...ops.dtype_support import FLOATING, not_implemented
from ...tensor import Tensor
from ...type_names import type_name
from .loss import _REDUCTIONS

__all__ = ["ctc_loss"]

#: where PyTorch's argument checks say they failed
_CHECKING = "(while checking arguments for ctc_loss_allocate_outputs)"


class _CtcLoss(Function):
    """The negative log-likelihood per sample ``(N,)`` of ``log_probs`` ``(T, N, C)``."""

    @staticmethod
    def forward(ctx, log_probs, labels, input_lengths, target_lengths, zero_infinity):
        kernels = log_probs._backend.kernels
        nll, log_alpha = kernels.ctc_loss_forward(log_probs._data, labels, input_lengths, target_lengths)
        ctx.args = (labels, input_lengths, target_lengths, nll, log_alpha, zero_infinity)
        ctx.save_for_backward(log_probs)
        return log_probs._make(nll)

    @staticmethod
    def backward(ctx, grad):
        (log_probs,) = ctx.saved_tensors
        data = log_probs._backend.kernels.ctc_loss_backward(grad._data, log_probs._data, *ctx.args[:3], *ctx.args[3:])
        result = log_probs._make(data)
        if grad_state.enabled and (grad.requires_grad or log_probs.requires_grad):  # create_graph
            result = _CtcLossBackward.apply(result, log_probs, grad)
        return result, None, None, None, None


class _CtcLossBackward(Function):
    """The gradient ``_CtcLoss`` computed, tied to what it came from by a node that refuses to be
    differentiated: PyTorch has no derivative of ctc_loss's backward, so a higher derivative raises
    rather than treating the gradient as a constant."""

    @staticmethod
    def forward(ctx, gradient, *sources):
        return gradient.detach()

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("derivative for ctc_loss_backward is not implemented")


def _refuse_forward_mode(log_probs):
    """PyTorch's ``_ctc_loss`` has no forward-mode formula: a dual ``log_probs`` is refused with its
    NotImplementedError (forward mode's double-backward rule would meet ``_CtcLossBackward``'s
    RuntimeError instead)."""
    level = tangents.live() if autograd_function.tangent_rule is not None else None
    if level is not None and level.tangent(log_probs) is not None:
        raise NotImplementedError(
            "Trying to use forward AD with ctc_loss that does not support it because it has not been implemented yet."
        )


def _lengths(name, value, n):
    """A list of ``n`` ints from a list, tuple, int or integer tensor (not a meta one: the lengths shape the
    computation)."""
    refuse_meta("ctc_loss", value)
    if isinstance(value, Tensor):
        if value.dtype.is_floating_point or value.dtype.is_complex:
            raise RuntimeError(f"{name} must be integral")
        value = value.tolist()
    elif not isinstance(value, int) and not all(isinstance(v, int) for v in value):
        raise TypeError(f"ctc_loss(): argument '{name}' must be a tuple of ints or an integer Tensor, got {value!r}")
    if isinstance(value, int):
        value = [value]
    value = [int(v) for v in value]
    if len(value) != n:
        raise RuntimeError(f"ctc_loss(): expected {name} to have {n} entries (the batch size), got {len(value)}")
    return value


def _check_target_lengths(targets, target_lengths):
    """PyTorch's checks of the targets against their lengths: none negative, and each within the
    padded targets (``(N, S)``) or all of them summing to the concatenated targets' size."""
    for length in target_lengths:
        if length < 0:
            raise RuntimeError(f"Expected target_lengths to have value at least 0, but got value {length} {_CHECKING}")
    if targets.ndim == 1:
        total = sum(target_lengths)
        if targets.shape[0] != total:
            raise RuntimeError(
                f"Expected tensor to have size {total} at dimension 0, but got size {targets.shape[0]} for "
                f"argument #2 'targets' {_CHECKING}"
            )
    elif target_lengths and targets.shape[1] < max(target_lengths):
        raise RuntimeError(
            f"Expected tensor to have size at least {max(target_lengths)} at dimension 1, but got size "
            f"{targets.shape[1]} for argument #2 'targets' {_CHECKING}"
        )


def _extended_labels(targets, target_lengths, blank, n, like):
    """``(N, 2 S + 1)`` int64 labels on ``like``'s device: blank, t_1, blank, t_2, ..., blank (padding
    beyond a target is blank)."""
    _check_target_lengths(targets, target_lengths)
    if targets.is_meta:  # labels of the width the lengths give, without values
        return like.new_empty((n, 2 * max(target_lengths, default=0) + 1), dtype=dtypes.int64)
    host = targets.tolist()
    if targets.ndim == 1:
        starts = [sum(target_lengths[:i]) for i in range(n)]
        rows = [host[s : s + length] for s, length in zip(starts, target_lengths)]
    else:
        rows = [row[:length] for row, length in zip(host, target_lengths)]
    width = 2 * max([len(r) for r in rows] + [0]) + 1
    extended = []
    for row in rows:
        ext = [blank] * width
        ext[1 : 2 * len(row) : 2] = row
        extended.append(ext)
    return like.new_tensor(extended, dtype=dtypes.int64)


def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths: Tensor | Sequence[int],
    target_lengths: Tensor | Sequence[int],
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> Tensor:
    r"""The Connectionist Temporal Classification loss: :math:`-\log p(\text{target} \mid \text{input})`
    summed over every alignment of the target with the input.

    Args:
        log_probs (Tensor): :math:`(T, N, C)` or :math:`(T, C)` log-probabilities (e.g. from
            :func:`log_softmax`).
        targets (Tensor): :math:`(N, S)` padded targets or the concatenated targets
            :math:`(\sum \text{target\_lengths})`; never containing ``blank``.
        input_lengths (Tensor or tuple): :math:`(N)` lengths of the inputs (each :math:`\le T`; an
            empty input has loss 0 with an empty target, else infinite).
        target_lengths (Tensor or tuple): :math:`(N)` lengths of the targets.
        blank (int): the blank label. Default: 0
        reduction (str): ``'none'`` | ``'mean'`` (each loss divided by its target length, then
            averaged over the batch) | ``'sum'``. Default: ``'mean'``
        zero_infinity (bool): zero infinite losses (impossible alignments) and their gradients.
            Default: ``False``

    The gradient in ``log_probs`` is PyTorch's: that of normalised log-probabilities
    (:math:`\exp(\text{log\_probs}) - \text{posterior}`), exact when ``log_probs`` come from
    ``log_softmax``.

    Examples::

        >>> log_probs = ember.randn(10, 2, 5).log_softmax(2).requires_grad_()
        >>> targets = ember.tensor([[1, 2, 2], [3, 4, 0]])
        >>> loss = F.ctc_loss(log_probs, targets, (10, 8), (3, 2))
        >>> loss.backward()
        >>> log_probs.grad.shape
        ember.Size([10, 2, 5])
    """
    if _amp.active:
        (log_probs,) = cast_inputs("ctc_loss", log_probs)
    for name, value in (("log_probs", log_probs), ("targets", targets)):
        if not isinstance(value, Tensor):
            raise TypeError(f"ctc_loss(): argument '{name}' must be Tensor, not {type_name(value)}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_probs.ndim in (2, 3) and log_probs.dtype not in FLOATING:  # PyTorch's CPU kernel: float32, float64
        not_implemented("ctc_loss_cpu", log_probs.dtype)
    if log_probs.ndim not in (2, 3) or not log_probs.dtype.is_floating_point:
        raise RuntimeError(
            f"ctc_loss(): expected floating point log_probs of shape (T, N, C) or (T, C), got {log_probs.dtype} "
            f"{list(log_probs.shape)}"
        )
    batched = log_probs.ndim == 3
    if not batched:
        log_probs, targets = log_probs.unsqueeze(1), targets.unsqueeze(0)
    T, n, c = log_probs.shape
    if not 0 <= blank < c:
        raise RuntimeError(f"ctc_loss(): blank must be in label range [0, {c}), got {blank}")
    input_lengths = _lengths("input_lengths", input_lengths, n)
    target_lengths = _lengths("target_lengths", target_lengths, n)
    for length in input_lengths:
        if length < 0:
            raise RuntimeError(f"Expected input_lengths to have value at least 0, but got value {length} {_CHECKING}")
        if length > T:
            raise RuntimeError(f"Expected input_lengths to have value at most {T}, but got value {length} {_CHECKING}")
    labels = _extended_labels(targets, target_lengths, blank, n, log_probs)
    _refuse_forward_mode(log_probs)
    loss = _CtcLoss.apply(log_probs, labels._data, input_lengths, target_lengths, zero_infinity)
    if zero_infinity:
        loss = loss.masked_fill(loss.isinf(), 0.0)
    if reduction == "mean":
        divisor = loss.new_tensor([max(length, 1) for length in target_lengths])
        return (loss / divisor).mean()
    if reduction == "sum":
        return loss.sum()
    return loss if batched else loss.squeeze(0)
