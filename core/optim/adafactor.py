"""Adafactor (``optim.Adafactor``)."""

from __future__ import annotations

from ..tensor import Tensor
from ..typeinfo import finfo
from ._types import LearningRate, ParamsT
from .optimizer import Optimizer, _group_lr, _hyperparameters, _start_state, _to_scalar

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    r"""Adafactor (Shazeer & Stern, 2018), with PyTorch's use of ``lr`` and :math:`\epsilon_1`.

    The second moment of a matrix-shaped gradient is kept factored, as a row and a column
    mean of :math:`G_t^2` (running averages with :math:`\hat\beta_{2,t} = 1 - t^{\tau}`); vectors keep
    it whole. The relative step :math:`\rho_t = \min(\gamma, 1/\sqrt t)` is scaled by
    :math:`\max(\epsilon_2, \mathrm{RMS}(\theta))`, the update is clipped to RMS ``d``, and
    ``weight_decay`` is decoupled (the weights shrink by :math:`1 - \gamma\lambda`).

    Args:
        params (iterable): parameters to optimize or dicts defining parameter groups.
        lr (float): the maximum relative step size and the weight decay's factor. Default: 1e-2.
        beta2_decay (float): the decay rate :math:`\tau` of beta2. Default: -0.8.
        eps (Tuple[float | None, float]): :math:`\epsilon_1` (default: the dtype's machine
            epsilon) and :math:`\epsilon_2`. Default: (None, 1e-3).
        d (float): the update clipping threshold. Default: 1.0.
        weight_decay (float): weight decay coefficient. Default: 0.0.
        maximize (bool): maximize the objective instead of minimizing it. Default: False.
        foreach: accepted for compatibility.

    Example::

        >>> model = ember.nn.Linear(3, 2)
        >>> optimizer = ember.optim.Adafactor(model.parameters())
        >>> model(ember.ones(2, 3)).sum().backward()
        >>> optimizer.step()
    """

    def __init__(
        self,
        params: ParamsT,
        lr: LearningRate = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float | None, float] = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
    ) -> None:
        defaults = _hyperparameters(locals())
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        checks = (
            (0.0 <= _to_scalar(lr), f"Learning rate should be >= 0 but is: {lr}"),
            (0.0 >= beta2_decay, f"beta2_decay should be <= 0 but is: {beta2_decay}"),
            (eps[0] is None or 0.0 <= eps[0], f"epsilon1 should be >= 0 but is: {eps[0]}"),
            (0.0 <= eps[1], f"epsilon2 should be >= 0 but is: {eps[1]}"),
            (1.0 <= d, f"Clipping threshold d should be >= 1 but is: {d}"),
            (0.0 <= weight_decay, f"weight_decay should be >= 0 but is: {weight_decay}"),
        )
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        super().__init__(params, defaults)

    _complex_as_real = False  # PyTorch's Adafactor refuses complex parameters
    _scalar_state_keys = ("step",)

    def _update(self, param, grad, state, group):
        if param.is_complex():
            raise RuntimeError("Adafactor does not support complex parameters")
        self._reject_sparse(grad, "Adafactor", alternative=None)
        factored = grad.dim() > 1
        if not state:
            _start_state(state, param, None if factored else "variance")
            if factored:
                state["row_var"] = grad.new_zeros((*grad.shape[:-1], 1))
                state["col_var"] = grad.new_zeros((*grad.shape[:-2], 1, grad.shape[-1]))
        lr = _group_lr(group)  # a tensor lr makes rho, alpha and the decay tensors of its dtype, as in PyTorch
        eps1, eps2 = group["eps"]
        if eps1 is None:
            eps1 = finfo(param.dtype).eps
        state["step"] += 1
        step = state["step"].item()
        one_minus_beta2 = step ** group["beta2_decay"]
        rho = min(lr, 1 / step**0.5)
        alpha = max(eps2, param.norm(2).item() / param.numel() ** 0.5) * rho
        if group["weight_decay"] != 0:
            param.mul_(_to_scalar(1 - lr * group["weight_decay"]))
        if factored:
            row_var, col_var = state["row_var"], state["col_var"]
            row_var.lerp_(grad.norm(dim=-1, keepdim=True).square_().div_(grad.size(-1)), one_minus_beta2)
            col_var.lerp_(grad.norm(dim=-2, keepdim=True).square_().div_(grad.size(-2)), one_minus_beta2)
            estimate = (row_var @ col_var).div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1))
        else:
            state["variance"].lerp_(grad * grad, one_minus_beta2)
            estimate = state["variance"].clone()
        update = estimate.clamp_(min=eps1 * eps1).rsqrt_().mul_(grad)
        denom = max(1.0, update.norm(2).item() / (update.numel() ** 0.5 * group["d"]))
        param.add_(update, alpha=_to_scalar(-alpha / denom))
