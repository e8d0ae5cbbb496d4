"""Adadelta (``optim.Adadelta``)."""

from __future__ import annotations

from ._types import LearningRate, ParamsT
from .optimizer import Optimizer, _check_lr, _check_range, _hyperparameters, _start_state, _to_scalar

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012).

    .. math::
        v_t = \rho v_{t-1} + (1 - \rho) g_t^2, \quad
        \Delta x_t = \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}} g_t, \quad
        u_t = \rho u_{t-1} + (1 - \rho) \Delta x_t^2, \quad
        \theta_t = \theta_{t-1} - \gamma \Delta x_t

    Args:
        params (iterable): parameters to optimize or dicts defining parameter groups.
        lr (float): coefficient that scales delta before it is applied. Default: 1.0.
        rho (float): coefficient of the running averages. Default: 0.9.
        eps (float): term added to the denominator for numerical stability. Default: 1e-6.
        weight_decay (float): weight decay (L2 penalty). Default: 0.
        maximize (bool): maximize the objective instead of minimizing it. Default: False.
        differentiable (bool): run the step in tensor operations that autograd records (PyTorch's
            differentiable path), so that the updated parameters are functions of the parameters, gradients
            and state before it (meta-learning). Default: False.
        foreach: accepted for compatibility (the per-parameter update runs).
        capturable (bool): taken where steps can be captured (CUDA devices); a step on another
            device raises AssertionError, as PyTorch's. Default: False.

    Example::

        >>> optimizer = optim.Adadelta(model.parameters())
    """

    def __init__(
        self,
        params: ParamsT,
        lr: LearningRate = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = _hyperparameters(
            locals(), order=("lr", "rho", "eps", "weight_decay", "maximize", "capturable", "foreach", "differentiable")
        )
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_range(eps, "epsilon value")
        _check_range(weight_decay, "weight_decay value")
        super().__init__(params, defaults)

    _scalar_state_keys = ("step",)

    def _update(self, param, grad, state, group):
        self._reject_sparse(grad, "Adadelta", alternative=None)
        if not state:
            _start_state(state, param, "square_avg", "acc_delta")
        state["step"] += 1
        rho, eps = group["rho"], group["eps"]
        grad = self._weight_decay(grad, param, group["weight_decay"])
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        std = square_avg.add(eps).sqrt_()
        delta = acc_delta.add(eps).sqrt_()
        if group["differentiable"]:  # the square root's result is saved for its backward: PyTorch clones it
            delta = delta.clone()
        delta.div_(std).mul_(grad)
        acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        param.add_(delta, alpha=-_to_scalar(group["lr"]))

    #: ``differentiable=True`` runs the same tensor operations, recorded by autograd
    _differentiable_update = _update
