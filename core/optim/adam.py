"""Adam and AdamW (``optim.Adam``, ``optim.AdamW``)."""

from __future__ import annotations

from ..ops.arithmetic import maximum
from ..tensor import Tensor
from ._types import LearningRate, ParamsT
from .optimizer import (
    Optimizer,
    _betas,
    _bump,
    _check_adam,
    _check_fused,
    _group_lr,
    _hyperparameters,
    _start_state,
    _tensor_betas,
    _to_scalar,
)

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2014), with the AMSGrad variant and optional decoupled weight decay.

    .. math::
        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \quad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2, \quad
        \theta_t = \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t}
            \frac{m_t}{\sqrt{v_t^{(\max)}} / \sqrt{1 - \beta_2^t} + \epsilon}

    Args:
        params (iterable): parameters to optimize or dicts defining parameter groups.
        lr (float): learning rate. Default: 1e-3.
        betas (Tuple[float, float]): coefficients of the running averages of the gradient
            and its square. Default: (0.9, 0.999).
        eps (float): term added to the denominator for numerical stability. Default: 1e-8.
        weight_decay (float): weight decay (L2 penalty). Default: 0.
        amsgrad (bool): use the AMSGrad variant. Default: False.
        maximize (bool): maximize the objective instead of minimizing it. Default: False.
        decoupled_weight_decay (bool): decay the weights directly (AdamW). Default: False.
        differentiable (bool): run the step in tensor operations that autograd records, so that
            the updated parameters are functions of the gradients and of the state before the step
            (meta-learning); its numbers are those of PyTorch's differentiable path. Default: False.
        foreach, fused: accepted for compatibility (the per-parameter update runs).
        capturable (bool): taken where steps can be captured (CUDA devices); a step on another
            device raises AssertionError, as PyTorch's. Default: False.

    Example::

        >>> optimizer = optim.Adam(model.parameters(), lr=1e-3)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: LearningRate = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = _hyperparameters(
            locals(),
            order=(
                "lr",
                "betas",
                "eps",
                "weight_decay",
                "amsgrad",
                "maximize",
                "foreach",
                "capturable",
                "differentiable",
                "fused",
                "decoupled_weight_decay",
            ),
        )
        _check_adam(lr, eps, betas, weight_decay, foreach, capturable)
        defaults["betas"] = _tensor_betas(betas, foreach, capturable)
        super().__init__(params, defaults)
        _check_fused(defaults)

    _update_maximizes = True
    _scalar_state_keys = ("step",)

    @staticmethod
    def _first_step_state(state, param, group):
        """A parameter's state on its first step, for both update paths: ``step``, ``exp_avg``,
        ``exp_avg_sq`` and, with ``amsgrad``, ``max_exp_avg_sq``."""
        _start_state(
            state,
            param,
            "exp_avg",
            "exp_avg_sq",
            "max_exp_avg_sq" if group["amsgrad"] else None,
            fused=bool(group["fused"]),
        )

    def _update(self, param, grad, state, group):
        self._reject_sparse(grad, "Adam")
        if not state:
            self._first_step_state(state, param, group)
        beta1, beta2 = _betas(group)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        max_exp_avg_sq = state["max_exp_avg_sq"] if group["amsgrad"] else None
        state["step"] += 1
        weight_decay, step_size = group["weight_decay"], None
        if isinstance(group["lr"], Tensor) and not group["fused"]:
            # PyTorch's single-tensor step keeps a tensor lr a tensor: 1 - lr * weight_decay and
            # lr / bias_correction1 are then tensors of its dtype (the kernel would compute them in double);
            # the decoupled decay comes first either way
            lr = _group_lr(group)
            if weight_decay != 0 and group["decoupled_weight_decay"]:
                param.mul_(_to_scalar(1 - lr * weight_decay))
                weight_decay = 0
            step_size = _to_scalar(lr / (1 - beta1 ** state["step"].item()))
        param._backend.kernels.adam_step(
            param._data,
            grad._data,
            exp_avg._data,
            exp_avg_sq._data,
            None if max_exp_avg_sq is None else max_exp_avg_sq._data,
            state["step"].item(),
            _to_scalar(group["lr"]),
            beta1,
            beta2,
            group["eps"],
            weight_decay,
            group["maximize"],
            group["decoupled_weight_decay"],
            step_size,
        )
        _bump(param, exp_avg, exp_avg_sq, max_exp_avg_sq)

    def _differentiable_update(self, param, grad, state, group):
        """PyTorch's single-tensor Adam in tensor operations (``differentiable=True``): the bias
        corrections are computed from the ``step`` tensor (float32), as PyTorch's are on this path."""
        if not state:
            self._first_step_state(state, param, group)
        lr, weight_decay, eps = group["lr"], group["weight_decay"], group["eps"]
        beta1, beta2 = group["betas"]
        exp_avg, exp_avg_sq, step = state["exp_avg"], state["exp_avg_sq"], state["step"]
        if group["maximize"]:
            grad = -grad
        step += 1
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                param.mul_(1 - lr * weight_decay)
            else:
                grad = grad.add(param, alpha=weight_decay)
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        step_size_neg = -(lr / (1 - beta1**step))
        bias_correction2_sqrt = (1 - beta2**step).sqrt()
        if group["amsgrad"]:
            state["max_exp_avg_sq"].copy_(maximum(state["max_exp_avg_sq"].clone(), exp_avg_sq))
            second_moment = state["max_exp_avg_sq"]
        else:
            second_moment = exp_avg_sq
        denom = (second_moment.sqrt() / (bias_correction2_sqrt * step_size_neg)).add_(eps / step_size_neg)
        param.addcdiv_(exp_avg.clone(), denom)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2017): the weights are
    multiplied by :math:`1 - \gamma\lambda` before the Adam update.

    Args: as :class:`Adam`, with ``weight_decay`` defaulting to 1e-2.

    Example::

        >>> optimizer = optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: LearningRate = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )
