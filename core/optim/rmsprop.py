"""RMSprop (``optim.RMSprop``)."""

from __future__ import annotations

from ._types import LearningRate, ParamsT
from .optimizer import Optimizer, _check_lr, _check_range, _hyperparameters, _start_state, _to_scalar

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton), optionally centered and with momentum.

    .. math::
        v_t = \alpha v_{t-1} + (1 - \alpha) g_t^2, \quad
        \tilde v_t = v_t - \bar g_t^2 \text{ if centered}, \quad
        b_t = \mu b_{t-1} + \frac{g_t}{\sqrt{\tilde v_t} + \epsilon}, \quad
        \theta_t = \theta_{t-1} - \gamma b_t

    Args:
        params (iterable): parameters to optimize or dicts defining parameter groups.
        lr (float): learning rate. Default: 1e-2.
        alpha (float): smoothing constant. Default: 0.99.
        eps (float): term added to the denominator for numerical stability. Default: 1e-8.
        weight_decay (float): weight decay (L2 penalty). Default: 0.
        momentum (float): momentum factor. Default: 0.
        centered (bool): normalize by an estimate of the gradient's variance. Default: False.
        maximize (bool): maximize the objective instead of minimizing it. Default: False.
        differentiable (bool): run the step in tensor operations that autograd records (PyTorch's
            differentiable path), so that the updated parameters are functions of the parameters, gradients
            and state before it (meta-learning). Default: False.
        foreach: accepted for compatibility (the per-parameter update runs).
        capturable (bool): taken where steps can be captured (CUDA devices); a step on another
            device raises AssertionError, as PyTorch's. Default: False.

    Example::

        >>> optimizer = optim.RMSprop(model.parameters(), lr=0.01, momentum=0.9)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: LearningRate = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = _hyperparameters(
            locals(),
            order=(
                "lr",
                "momentum",
                "alpha",
                "eps",
                "centered",
                "weight_decay",
                "capturable",
                "foreach",
                "maximize",
                "differentiable",
            ),
        )
        _check_lr(lr)
        _check_range(eps, "epsilon value")
        _check_range(momentum, "momentum value")
        _check_range(weight_decay, "weight_decay value")
        _check_range(alpha, "alpha value")
        super().__init__(params, defaults)

    _scalar_state_keys = ("step",)

    def _update(self, param, grad, state, group):
        self._reject_sparse(grad, "RMSprop", alternative=None)
        if not state:
            momentum_buffer = "momentum_buffer" if group["momentum"] > 0 else None
            _start_state(state, param, "square_avg", momentum_buffer, "grad_avg" if group["centered"] else None)
        state["step"] += 1
        alpha = group["alpha"]
        grad = self._weight_decay(grad, param, group["weight_decay"])
        square_avg = state["square_avg"]
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg.lerp_(grad, 1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
        else:
            avg = square_avg.sqrt()
        # the square root's result is saved for its backward: out of place when differentiable, as PyTorch
        avg = avg.add(group["eps"]) if group["differentiable"] else avg.add_(group["eps"])
        lr = _to_scalar(group["lr"])
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf.mul_(group["momentum"]).addcdiv_(grad, avg)
            param.add_(buf, alpha=-lr)
        else:
            param.addcdiv_(grad, avg, value=-lr)

    #: ``differentiable=True`` runs the same tensor operations, recorded by autograd
    _differentiable_update = _update
