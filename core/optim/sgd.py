"""Stochastic gradient descent, optionally with momentum (``optim.SGD``)."""

from __future__ import annotations

from typing import Any

from .. import graphs
from ..tensor import Tensor
from ._types import LearningRate, ParamsT
from .optimizer import (
    Optimizer,
    _bump,
    _check_fused,
    _check_lr,
    _check_range,
    _densify,
    _hyperparameters,
    _sparse_rows,
    _to_scalar,
)

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum).

    .. math::
        g_t = \nabla f(\theta_{t-1}) + \lambda \theta_{t-1}, \quad
        b_t = \mu b_{t-1} + (1 - \tau) g_t \ (b_1 = g_1), \quad
        \theta_t = \theta_{t-1} - \gamma\,(g_t + \mu b_t \text{ if nesterov else } b_t)

    Args:
        params (iterable): parameters to optimize or dicts defining parameter groups.
        lr (float): learning rate :math:`\gamma`. Default: 1e-3.
        momentum (float): momentum factor :math:`\mu`. Default: 0.
        dampening (float): dampening for momentum :math:`\tau`. Default: 0.
        weight_decay (float): weight decay (L2 penalty) :math:`\lambda`. Default: 0.
        nesterov (bool): enables Nesterov momentum. Default: False.
        maximize (bool): maximize the objective instead of minimizing it. Default: False.
        differentiable (bool): run the step in tensor operations that autograd records, so
            that the updated parameters are functions of the gradients, the parameters before the
            step and a learning rate given as a tensor (meta-learning). Default: False.
        foreach, fused: accepted for compatibility; ember always runs the per-parameter update.

    Sparse gradients (``Embedding(sparse=True)``) update only the rows they touch when
    there is no momentum; with momentum they are densified first (same values as
    PyTorch's sparse momentum buffer). Weight decay with sparse gradients is an error.

    Example::

        >>> optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> optimizer.zero_grad()
        >>> loss_fn(model(input), target).backward()
        >>> optimizer.step()
    """

    def __init__(
        self,
        params: ParamsT,
        lr: LearningRate = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = _hyperparameters(locals())
        _check_lr(lr)
        _check_range(momentum, "momentum value")
        _check_range(weight_decay, "weight_decay value")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        _check_fused(defaults)

    _update_maximizes = True
    _capturable = True

    def _update(self, param: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr = _to_scalar(group["lr"])
        momentum, weight_decay, maximize = group["momentum"], group["weight_decay"], group["maximize"]
        if grad.is_sparse:
            if weight_decay != 0:
                raise RuntimeError("SGD: weight_decay is not supported with sparse gradients (as in PyTorch)")
            if momentum == 0:
                rows, values, param_rows = _sparse_rows(grad, group, param)
                param_rows.index_add_(0, rows, values, alpha=-lr)
                return
            grad, maximize = _densify(grad, group), False
        buf = state.get("momentum_buffer") if momentum != 0 else None
        if buf is not None and buf.is_sparse:  # PyTorch's buffer after sparse gradients, loaded: held dense
            buf = state["momentum_buffer"] = buf.to_dense()
        if buf is None and momentum != 0 and graphs.is_capturing():
            raise RuntimeError("SGD.step(): warm up before capturing: the first step's momentum update differs")
        new_buf = param._backend.kernels.sgd_step(
            param._data,
            grad._data,
            None if buf is None else buf._data,
            lr,
            momentum,
            group["dampening"],
            group["nesterov"],
            weight_decay,
            maximize,
        )
        _bump(param, buf)
        if momentum != 0 and buf is None:
            state["momentum_buffer"] = param._make(new_buf)

    def _differentiable_update(self, param: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        """PyTorch's single-tensor SGD in tensor operations (``differentiable=True``)."""
        lr, momentum, weight_decay = group["lr"], group["momentum"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.detach().clone()
            else:
                buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
        if isinstance(lr, Tensor) and lr.requires_grad:
            param.addcmul_(grad, lr, value=-1)
        else:
            param.add_(grad, alpha=-_to_scalar(lr))
