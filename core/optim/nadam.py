"""NAdam (``optim.NAdam``)."""

from __future__ import annotations

from ._types import LearningRate, ParamsT
from .optimizer import (
    Optimizer,
    _betas,
    _check_adam,
    _check_range,
    _group_lr,
    _hyperparameters,
    _scalar_state,
    _start_state,
    _to_scalar,
)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam: Adam with Nesterov momentum (Dozat, 2016), with PyTorch's momentum-decay schedule.

    .. math::
        \mu_t = \beta_1 \left(1 - \tfrac12 \, 0.96^{t\psi}\right), \quad
        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \quad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2, \\
        \theta_t = \theta_{t-1}
            - \gamma \frac{1 - \mu_t}{1 - \prod_{i \le t} \mu_i} \frac{g_t}{\sqrt{\hat v_t} + \epsilon}
            - \gamma \frac{\mu_{t+1}}{1 - \prod_{i \le t+1} \mu_i} \frac{m_t}{\sqrt{\hat v_t} + \epsilon}

    Args:
        params (iterable): parameters to optimize or dicts defining parameter groups.
        lr (float): learning rate. Default: 2e-3.
        betas (Tuple[float, float]): coefficients of the running averages. Default: (0.9, 0.999).
        eps (float): term added to the denominator for numerical stability. Default: 1e-8.
        weight_decay (float): weight decay. Default: 0.
        momentum_decay (float): the momentum decay :math:`\psi`. Default: 4e-3.
        decoupled_weight_decay (bool): decay the weights directly (NAdamW). Default: False.
        maximize (bool): maximize the objective instead of minimizing it. Default: False.
        differentiable (bool): run the step in tensor operations that autograd records (PyTorch's
            differentiable path), so that the updated parameters are functions of the parameters, gradients
            and state before it (meta-learning). Default: False.
        foreach: accepted for compatibility (the per-parameter update runs).
        capturable (bool): taken where steps can be captured (CUDA devices); a step on another
            device raises AssertionError, as PyTorch's. Default: False.

    Example::

        >>> model = ember.nn.Linear(3, 1)
        >>> optimizer = ember.optim.NAdam(model.parameters(), lr=1e-2)
        >>> model(ember.ones(2, 3)).sum().backward()
        >>> optimizer.step()
    """

    def __init__(
        self,
        params: ParamsT,
        lr: LearningRate = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
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
                "momentum_decay",
                "decoupled_weight_decay",
                "maximize",
                "foreach",
                "capturable",
                "differentiable",
            ),
        )
        _check_adam(lr, eps, betas, weight_decay)
        _check_range(momentum_decay, "momentum_decay value")
        super().__init__(params, defaults)

    _scalar_state_keys = ("step", "mu_product")
    _capturable_tensors = "params, mu_products and state_steps"

    def _update(self, param, grad, state, group):
        self._reject_sparse(grad, "NAdam", alternative=None)
        if not state:
            _start_state(state, param)
            state["mu_product"] = _scalar_state(1.0)
            state["exp_avg"] = param.new_zeros(param.shape)
            state["exp_avg_sq"] = param.new_zeros(param.shape)
        lr = _group_lr(group)  # a tensor lr: the factors are tensors of its dtype, as PyTorch's
        beta1, beta2 = _betas(group)
        state["step"] += 1
        step = state["step"].item()
        grad = _decay(param, grad, lr, group)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * group["momentum_decay"]))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * group["momentum_decay"]))
        state["mu_product"] *= mu
        mu_product = state["mu_product"].item()
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = exp_avg_sq.div(1 - beta2**step).sqrt()
        if group["differentiable"]:
            # PyTorch's differentiable path: the factors are 0-d tensors of the product's dtype (its rounding)
            denom = denom.add(group["eps"])
            mu_product_t = state["mu_product"]
            grad = grad * (-lr * (1.0 - mu) / (1.0 - mu_product_t))
            scaled_avg = exp_avg * (-lr * mu_next / (1.0 - mu_product_t * mu_next))
            param.addcdiv_(grad, denom)
            param.addcdiv_(scaled_avg, denom)
            return
        denom.add_(group["eps"])
        param.addcdiv_(grad, denom, value=_to_scalar(-lr * (1.0 - mu) / (1.0 - mu_product)))
        param.addcdiv_(exp_avg, denom, value=_to_scalar(-lr * mu_next / (1.0 - mu_product * mu_next)))

    #: ``differentiable=True`` runs the same tensor operations, recorded by autograd
    _differentiable_update = _update


def _decay(param, grad, lr, group):
    """Apply ``weight_decay``: decoupled (the weights shrink by ``1 - lr * wd``) or as an L2 term
    added to the gradient, which is returned."""
    weight_decay = group["weight_decay"]
    if weight_decay == 0:
        return grad
    if group["decoupled_weight_decay"]:
        param.mul_(_to_scalar(1 - lr * weight_decay))  # a tensor lr's rounding, as PyTorch's
        return grad
    return grad.add(param, alpha=weight_decay)
