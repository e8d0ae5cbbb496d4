"""Averaged stochastic gradient descent (``optim.ASGD``)."""

from __future__ import annotations

from .. import dtypes
from ._types import LearningRate, ParamsT
from .optimizer import (
    Optimizer,
    _check_lr,
    _check_range,
    _group_lr,
    _hyperparameters,
    _scalar_dtype,
    _scalar_state,
    _to_scalar,
)

__all__ = ["ASGD"]


class ASGD(Optimizer):
    r"""Averaged stochastic gradient descent (Polyak & Juditsky, 1992).

    .. math::
        \theta_t = (1 - \lambda \eta_t)\theta_{t-1} - \eta_t g_t, \quad
        \bar\theta_t = \bar\theta_{t-1} + \mu_t(\theta_t - \bar\theta_{t-1}), \quad
        \eta_{t+1} = \frac{\gamma}{(1 + \lambda\gamma t)^\alpha}, \quad
        \mu_{t+1} = \frac{1}{\max(1, t - t_0)}

    The average :math:`\bar\theta` is kept in ``state["ax"]``.

    Args:
        params (iterable): parameters to optimize or dicts defining parameter groups.
        lr (float): learning rate. Default: 1e-2.
        lambd (float): decay term. Default: 1e-4.
        alpha (float): power for the eta update. Default: 0.75.
        t0 (float): point at which to start averaging. Default: 1e6.
        weight_decay (float): weight decay (L2 penalty). Default: 0.
        maximize (bool): maximize the objective instead of minimizing it. Default: False.
        differentiable (bool): run the step in tensor operations that autograd records (PyTorch's
            differentiable path), so that the updated parameters are functions of the parameters, gradients
            and state before it (meta-learning). Default: False.
        foreach: accepted for compatibility (the per-parameter update runs).
        capturable (bool): taken where steps can be captured (CUDA devices); a step on another
            device raises AssertionError, as PyTorch's. Default: False.

    Example::

        >>> optimizer = optim.ASGD(model.parameters(), lr=0.01)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: LearningRate = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        defaults = _hyperparameters(locals())
        _check_lr(lr)
        _check_range(weight_decay, "weight_decay value")
        super().__init__(params, defaults)

    _scalar_state_keys = ("step", "eta", "mu")
    _capturable_tensors = "params, mus, etas, and state_steps"

    def _update(self, param, grad, state, group):
        self._reject_sparse(grad, "ASGD", alternative=None)
        lr = _to_scalar(group["lr"])
        if not state:
            state["step"] = _scalar_state(0, param.device)
            state["eta"] = _scalar_state(lr, param.device)
            state["mu"] = _scalar_state(1, param.device)
            state["ax"] = param.new_zeros(param.shape)
        lambd = group["lambd"]
        state["step"] += 1
        grad = self._weight_decay(grad, param, group["weight_decay"])
        ax, mu = state["ax"], state["mu"]
        foreach = bool(group["foreach"]) and not group["differentiable"]
        if foreach:
            # PyTorch's foreach step, its own arithmetic: param - eta * (grad + lambd * param), then
            # ax + mu * (param - ax), eta and mu kept as the 0-d state tensors
            param.addcmul_(grad.add(param, alpha=lambd), state["eta"], value=-1)
            ax.addcmul_(param.sub(ax), mu)
        else:
            eta = state["eta"].item()
            param.mul_(1 - lambd * eta)
            param.add_(grad, alpha=-eta)
            if mu.item() != 1:
                ax.add_(param.sub(ax).mul_(mu))
            else:
                ax.copy_(param)
        step = state["step"].item()
        # PyTorch makes each new value a tensor of the scalar dtype before copying it into the state, which
        # a loaded state dict may hold in the parameters' dtype: it is rounded to float32 all the same;
        # a tensor lr (and, in the foreach step, the step tensor) makes eta a tensor of its dtype
        lr = _group_lr(group)
        counted = state["step"] if foreach else step
        state["eta"].fill_(_in_scalar_dtype(_to_scalar(lr / ((1 + lambd * lr * counted) ** group["alpha"]))))
        state["mu"].fill_(_in_scalar_dtype(1 / max(1, step - group["t0"])))

    #: ``differentiable=True`` runs the same tensor operations, recorded by autograd (as PyTorch's)
    _differentiable_update = _update


def _in_scalar_dtype(value: float) -> float:
    """``value`` rounded to the scalar dtype (float32 unless the default dtype is float64)."""
    return float(dtypes.host_dtype(_scalar_dtype()).type(value))
