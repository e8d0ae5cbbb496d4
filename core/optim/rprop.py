"""Rprop (``optim.Rprop``)."""

from __future__ import annotations

from ._types import LearningRate, ParamsT
from .optimizer import Optimizer, _check_lr, _hyperparameters, _start_state, _to_scalar

__all__ = ["Rprop"]


class Rprop(Optimizer):
    r"""Resilient backpropagation (Riedmiller & Braun, 1993).

    Each element keeps its own step size: multiplied by ``etaplus`` while the gradient keeps
    its sign, by ``etaminus`` when the sign flips (and that element's step is skipped),
    clamped to ``step_sizes``; the parameter moves by the step size against the gradient's sign.

    Args:
        params (iterable): parameters to optimize or dicts defining parameter groups.
        lr (float): the initial step size. Default: 1e-2.
        etas (Tuple[float, float]): ``(etaminus, etaplus)``. Default: (0.5, 1.2).
        step_sizes (Tuple[float, float]): minimal and maximal step sizes. Default: (1e-6, 50).
        maximize (bool): maximize the objective instead of minimizing it. Default: False.
        differentiable (bool): run the step in tensor operations that autograd records (PyTorch's
            differentiable path), so that the updated parameters are functions of the parameters, gradients
            and state before it (meta-learning). Default: False.
        foreach: accepted for compatibility (the per-parameter update runs).
        capturable (bool): taken where steps can be captured (CUDA devices); a step on another
            device raises AssertionError, as PyTorch's. Default: False.

    Example::

        >>> model = ember.nn.Linear(3, 1)
        >>> optimizer = ember.optim.Rprop(model.parameters())
        >>> model(ember.ones(2, 3)).sum().backward()
        >>> optimizer.step()
    """

    def __init__(
        self,
        params: ParamsT,
        lr: LearningRate = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = _hyperparameters(
            locals(), order=("lr", "etas", "step_sizes", "foreach", "maximize", "differentiable", "capturable")
        )
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        super().__init__(params, defaults)

    _scalar_state_keys = ("step",)

    def _update(self, param, grad, state, group):
        self._reject_sparse(grad, "Rprop", alternative=None)
        if not state:
            _start_state(state, param, "prev")
            state["step_size"] = param.new_full(param.shape, _to_scalar(group["lr"]))
        etaminus, etaplus = group["etas"]
        step_min, step_max = group["step_sizes"]
        state["step"] += 1
        prev, step_size = state["prev"], state["step_size"]
        # the product saves ``prev``, which the step overwrites: PyTorch clones it when differentiable
        sign = grad.mul(prev.clone() if group["differentiable"] else prev).sign()
        rising, falling, flat = sign.gt(0), sign.lt(0), sign.eq(0)
        sign.masked_fill_(rising, etaplus).masked_fill_(falling, etaminus).masked_fill_(flat, 1)
        step_size.mul_(sign).clamp_(step_min, step_max)
        grad = grad.masked_fill(falling, 0)
        param.addcmul_(grad.sign(), step_size, value=-1)
        prev.copy_(grad)

    #: ``differentiable=True`` runs the same tensor operations, recorded by autograd
    _differentiable_update = _update
