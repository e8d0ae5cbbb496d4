"""Adagrad (``optim.Adagrad``)."""

from __future__ import annotations

from ._types import LearningRate, ParamsT
from .optimizer import (
    Optimizer,
    _check_fused,
    _check_lr,
    _check_range,
    _group_lr,
    _hyperparameters,
    _scalar_state,
    _sparse_rows,
    _to_scalar,
)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011).

    .. math::
        \tilde\gamma = \frac{\gamma}{1 + (t - 1)\eta}, \quad
        s_t = s_{t-1} + g_t^2, \quad
        \theta_t = \theta_{t-1} - \tilde\gamma \frac{g_t}{\sqrt{s_t} + \epsilon}

    Args:
        params (iterable): parameters to optimize or dicts defining parameter groups.
        lr (float): learning rate. Default: 1e-2.
        lr_decay (float): learning rate decay :math:`\eta`. Default: 0.
        weight_decay (float): weight decay (L2 penalty). Default: 0.
        initial_accumulator_value (float): initial value of the sum of squares. Default: 0.
        eps (float): term added to the denominator for numerical stability. Default: 1e-10.
        maximize (bool): maximize the objective instead of minimizing it. Default: False.
        differentiable (bool): run the step in tensor operations that autograd records (PyTorch's
            differentiable path), so that the updated parameters are functions of the parameters, gradients
            and state before it (meta-learning). Default: False.
        foreach, fused: accepted for compatibility.

    Sparse gradients update only the rows they touch (weight decay is then an error).

    Example::

        >>> optimizer = optim.Adagrad(model.parameters(), lr=0.01)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: LearningRate = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = _hyperparameters(
            locals(),
            order=(
                "lr",
                "lr_decay",
                "eps",
                "weight_decay",
                "initial_accumulator_value",
                "foreach",
                "maximize",
                "differentiable",
                "fused",
            ),
        )
        _check_lr(lr)
        _check_range(lr_decay, "lr_decay value")
        _check_range(weight_decay, "weight_decay value")
        _check_range(initial_accumulator_value, "initial_accumulator_value value")
        _check_range(eps, "epsilon value")
        _check_fused(defaults)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _scalar_state(0, fused=bool(group["fused"]))
                # a complex parameter is updated as its real view (Optimizer._complex_as_real): both
                # parts start at the initial value, as PyTorch's (the sum is kept complex, as PyTorch keeps it)
                value = group["initial_accumulator_value"]
                state["sum"] = p.new_full(p.shape, complex(value, value) if p.dtype.is_complex else value)

    _scalar_state_keys = ("step",)

    def _update(self, param, grad, state, group):
        state["step"] += 1
        step = state["step"].item()
        weight_decay, eps = group["weight_decay"], group["eps"]
        if weight_decay != 0:
            if grad.is_sparse:
                raise RuntimeError("weight_decay option is not compatible with sparse gradients")
            grad = grad.add(param, alpha=weight_decay)
        # a tensor lr's rounding, as PyTorch's single-tensor step (its fused step takes lr as a double)
        lr = _to_scalar(group["lr"]) if group["fused"] else _group_lr(group)
        clr = _to_scalar(lr / (1 + (step - 1) * group["lr_decay"]))
        state_sum = state["sum"]
        if grad.is_sparse:
            rows, values, param_rows, sum_rows = _sparse_rows(grad, group, param, state_sum)
            sum_rows.index_add_(0, rows, values * values)
            std = sum_rows.index_select(0, rows).sqrt().add_(eps)
            param_rows.index_add_(0, rows, values / std, alpha=-clr)
            return
        state_sum.addcmul_(grad, grad, value=1)
        std = state_sum.sqrt()
        # the square root's result is saved for its backward: out of place when differentiable, as PyTorch
        std = std + eps if group["differentiable"] else std.add_(eps)
        param.addcdiv_(grad, std, value=-clr)

    #: ``differentiable=True`` runs the same tensor operations, recorded by autograd
    _differentiable_update = _update
