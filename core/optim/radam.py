"""RAdam (``optim.RAdam``)."""

from __future__ import annotations

import math

from ._types import LearningRate, ParamsT
from .nadam import _decay
from .optimizer import Optimizer, _betas, _check_adam, _group_lr, _hyperparameters, _start_state, _to_scalar

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""RAdam, Adam with a rectified adaptive learning rate (Liu et al., 2019).

    While the variance of the adaptive rate is intractable (:math:`\rho_t \le 5`) the step is
    plain bias-corrected momentum; afterwards it is Adam's, scaled by the rectification
    :math:`r_t = \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}{(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}}`.

    Args:
        params (iterable): parameters to optimize or dicts defining parameter groups.
        lr (float): learning rate. Default: 1e-3.
        betas (Tuple[float, float]): coefficients of the running averages. Default: (0.9, 0.999).
        eps (float): term added to the denominator for numerical stability. Default: 1e-8.
        weight_decay (float): weight decay. Default: 0.
        decoupled_weight_decay (bool): decay the weights directly (RAdamW). Default: False.
        maximize (bool): maximize the objective instead of minimizing it. Default: False.
        differentiable (bool): run the step in tensor operations that autograd records (PyTorch's
            differentiable path), so that the updated parameters are functions of the parameters, gradients
            and state before it (meta-learning). Default: False.
        foreach: accepted for compatibility (the per-parameter update runs).
        capturable (bool): taken where steps can be captured (CUDA devices); a step on another
            device raises AssertionError, as PyTorch's. Default: False.

    Example::

        >>> model = ember.nn.Linear(3, 1)
        >>> optimizer = ember.optim.RAdam(model.parameters())
        >>> model(ember.ones(2, 3)).sum().backward()
        >>> optimizer.step()
    """

    def __init__(
        self,
        params: ParamsT,
        lr: LearningRate = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = _hyperparameters(
            locals(),
            order=(
                "lr",
                "betas",
                "eps",
                "weight_decay",
                "maximize",
                "foreach",
                "capturable",
                "decoupled_weight_decay",
                "differentiable",
            ),
        )
        _check_adam(lr, eps, betas, weight_decay)
        super().__init__(params, defaults)

    _scalar_state_keys = ("step",)

    def _update(self, param, grad, state, group):
        self._reject_sparse(grad, "RAdam", alternative=None)
        if not state:
            _start_state(state, param, "exp_avg", "exp_avg_sq")
        lr_t = _group_lr(group)  # the decoupled decay's factor in a tensor lr's dtype, as PyTorch's
        lr = _to_scalar(lr_t)
        beta1, beta2 = _betas(group)
        state["step"] += 1
        step = state["step"].item()
        grad = _decay(param, grad, lr_t, group)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction2 = 1 - beta2**step
        corrected = exp_avg / (1 - beta1**step)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            root = exp_avg_sq.sqrt()  # its result is saved for its backward: out of place when differentiable
            root = root.add(group["eps"]) if group["differentiable"] else root.add_(group["eps"])
            adaptive = (bias_correction2**0.5) / root
            param.add_(corrected * lr * adaptive * rect, alpha=-1.0)
        else:
            param.add_(corrected * lr, alpha=-1.0)

    #: ``differentiable=True`` runs the same tensor operations, recorded by autograd
    _differentiable_update = _update
