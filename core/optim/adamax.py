"""Adamax (``optim.Adamax``)."""

from __future__ import annotations

from ..ops.movement import cat
from ._types import LearningRate, ParamsT
from .optimizer import Optimizer, _betas, _check_adam, _group_lr, _hyperparameters, _start_state, _to_scalar

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax, the infinity-norm variant of Adam (Kingma & Ba, 2014).

    .. math::
        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \quad
        u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon), \quad
        \theta_t = \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t} \frac{m_t}{u_t}

    Args:
        params (iterable): parameters to optimize or dicts defining parameter groups.
        lr (float): learning rate. Default: 2e-3.
        betas (Tuple[float, float]): coefficients of the running averages. Default: (0.9, 0.999).
        eps (float): term added to the denominator for numerical stability. Default: 1e-8.
        weight_decay (float): weight decay (L2 penalty). Default: 0.
        maximize (bool): maximize the objective instead of minimizing it. Default: False.
        differentiable (bool): run the step in tensor operations that autograd records (PyTorch's
            differentiable path), so that the updated parameters are functions of the parameters, gradients
            and state before it (meta-learning). Default: False.
        foreach: accepted for compatibility (the per-parameter update runs).
        capturable (bool): taken where steps can be captured (CUDA devices); a step on another
            device raises AssertionError, as PyTorch's. Default: False.

    Example::

        >>> optimizer = optim.Adamax(model.parameters())
    """

    def __init__(
        self,
        params: ParamsT,
        lr: LearningRate = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        defaults = _hyperparameters(locals())
        _check_adam(lr, eps, betas, weight_decay)
        super().__init__(params, defaults)

    _scalar_state_keys = ("step",)

    def _update(self, param, grad, state, group):
        self._reject_sparse(grad, "Adamax", alternative=None)
        if not state:
            _start_state(state, param, "exp_avg", "exp_inf")
        state["step"] += 1
        beta1, beta2 = _betas(group)
        grad = self._weight_decay(grad, param, group["weight_decay"])
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        exp_avg.lerp_(grad, 1 - beta1)
        if group["differentiable"]:  # the maximum as PyTorch's differentiable path takes it (ties share the gradient)
            norm_buf = cat([exp_inf.mul_(beta2).unsqueeze(0), grad.abs().add_(group["eps"]).unsqueeze_(0)], 0)
            exp_inf.copy_(norm_buf.amax(0))
        else:
            exp_inf.copy_(exp_inf.mul_(beta2).maximum(grad.abs().add_(group["eps"])))
        clr = _to_scalar(_group_lr(group) / (1 - beta1 ** state["step"].item()))  # a tensor lr's rounding
        param.addcdiv_(exp_avg, exp_inf, value=-clr)

    #: ``differentiable=True`` runs the same tensor operations, recorded by autograd
    _differentiable_update = _update
