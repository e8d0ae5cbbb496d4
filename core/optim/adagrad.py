"""Adagrad (``optim.Adagrad``)."""

from __future__ import annotations

from ..ops.complex_views import view_as_real
from ._types import LearningRate, ParamsT
from .optimizer import (
    Optimizer,
    _check_fused,
    _check_lr,
    _check_range,
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
        foreach, differentiable, fused: accepted for compatibility.

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
        _check_fused(defaults)  # before the base refuses differentiable=True, which Adagrad does not implement
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _scalar_state(0)
                # a complex parameter is updated as its real view (Optimizer._complex_as_real): both
                # parts start at the initial value, as PyTorch's
                coordinates = view_as_real(p) if p.dtype.is_complex else p
                state["sum"] = coordinates.new_full(coordinates.shape, group["initial_accumulator_value"])

    _scalar_state_keys = ("step",)

    def _update(self, param, grad, state, group):
        state["step"] += 1
        step = state["step"].item()
        weight_decay, eps = group["weight_decay"], group["eps"]
        if weight_decay != 0:
            if grad.is_sparse:
                raise RuntimeError("weight_decay option is not compatible with sparse gradients")
            grad = grad.add(param, alpha=weight_decay)
        clr = _to_scalar(group["lr"]) / (1 + (step - 1) * group["lr_decay"])
        state_sum = state["sum"]
        if grad.is_sparse:
            rows, values, param_rows, sum_rows = _sparse_rows(grad, group, param, state_sum)
            sum_rows.index_add_(0, rows, values * values)
            std = sum_rows.index_select(0, rows).sqrt().add_(eps)
            param_rows.index_add_(0, rows, values / std, alpha=-clr)
            return
        state_sum.addcmul_(grad, grad, value=1)
        param.addcdiv_(grad, state_sum.sqrt().add_(eps), value=-clr)
