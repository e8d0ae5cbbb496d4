"""Muon (``optim.Muon``): momentum orthogonalized by Newton-Schulz iterations, for 2-D weights."""

from __future__ import annotations

import math

from ..ops.linalg import addmm
from ..tensor import Tensor
from ._types import LearningRate, ParamsT
from .optimizer import Optimizer, _group_lr, _hyperparameters, _to_scalar

__all__ = ["Muon"]

#: the quintic Newton-Schulz coefficients (a, b, c) of Keller Jordan's Muon
NS_COEFFICIENTS = (3.4445, -4.775, 2.0315)


class Muon(Optimizer):
    r"""Muon (Jordan et al., 2024), with PyTorch's update.

    For each 2-D parameter: the momentum buffer :math:`B_t = \mu B_{t-1} + (1 - \mu) g_t` (a
    ``lerp``), the update :math:`U_t` = ``lerp(g_t, B_t, μ)`` with Nesterov momentum or
    :math:`B_t` without, orthogonalized by ``ns_steps`` Newton-Schulz iterations in bfloat16 (after
    scaling to unit Frobenius norm), then :math:`\theta \leftarrow (1 - \gamma\lambda)\theta -
    \gamma' U_t` with decoupled weight decay and the learning rate :math:`\gamma'` adjusted to the
    matrix's shape :math:`A \times B`: :math:`\gamma\sqrt{\max(1, A/B)}` (``"original"``, the
    default) or :math:`0.2\gamma\sqrt{\max(A, B)}` (``"match_rms_adamw"``). Biases, embeddings and
    other parameters that are not 2-D belong to another optimizer such as AdamW.

    Args:
        params (iterable): 2-D parameters to optimize, or dicts defining parameter groups.
        lr (float or Tensor): learning rate. Default: 1e-3
        weight_decay (float): decoupled weight decay. Default: 0.1
        momentum (float): momentum factor. Default: 0.95
        nesterov (bool): Nesterov momentum. Default: ``True``
        ns_coefficients (tuple of 3 floats): the Newton-Schulz polynomial's coefficients.
            Default: ``(3.4445, -4.775, 2.0315)``
        eps (float): floor of the norm the update is divided by. Default: 1e-7
        ns_steps (int): Newton-Schulz iterations (under 100). Default: 5
        adjust_lr_fn (str, optional): ``"original"`` or ``"match_rms_adamw"``. Default: ``None``
            (``"original"``)

    Example::

        >>> model = ember.nn.Linear(4, 3, bias=False)
        >>> optimizer = ember.optim.Muon(model.parameters(), lr=0.02)
        >>> model(ember.ones(2, 4)).sum().backward()
        >>> optimizer.step()
    """

    def __init__(
        self,
        params: ParamsT,
        lr: LearningRate = 1e-3,
        weight_decay: float = 0.1,
        momentum: float = 0.95,
        nesterov: bool = True,
        ns_coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
        eps: float = 1e-7,
        ns_steps: int = 5,
        adjust_lr_fn: str | None = None,
    ) -> None:
        defaults = _hyperparameters(locals())
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        checks = (
            (0.0 <= _to_scalar(lr), f"Learning rate should be >= 0 but is: {lr}"),
            (0.0 <= momentum, f"momentum should be >= 0 but is: {momentum}"),
            (0.0 <= weight_decay, f"weight decay should be >= 0 but is: {weight_decay}"),
            (
                adjust_lr_fn in (None, "original", "match_rms_adamw"),
                f"Adjust learning rate function {adjust_lr_fn} is not supported",
            ),
        )
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(
                        f"Muon only supports 2D parameters whereas we found a parameter with size: {p.size()}"
                    )

    _complex_as_real = False  # PyTorch's Muon refuses complex parameters

    def _update(self, param, grad, state, group):
        if param.is_complex():
            raise RuntimeError("Muon does not support complex parameters")
        self._reject_sparse(grad, "Muon", alternative=None)
        if grad.ndim != 2:
            raise ValueError("Param gradient must be a 2D matrix")
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = grad.new_zeros(grad.shape)
        momentum = group["momentum"]
        buffer = state["momentum_buffer"]
        buffer.lerp_(grad, 1 - momentum)
        update = grad.lerp(buffer, momentum) if group["nesterov"] else buffer
        update = _orthogonalize(update, group["ns_coefficients"], group["ns_steps"], group["eps"])
        lr = _group_lr(group)  # a tensor lr: the factors are tensors of its dtype, as in PyTorch
        param.mul_(_to_scalar(1 - lr * group["weight_decay"]))
        param.add_(update, alpha=_to_scalar(-_adjusted_lr(lr, group["adjust_lr_fn"], param.shape)))


def _orthogonalize(matrix: Tensor, coefficients: tuple[float, float, float], steps: int, eps: float) -> Tensor:
    """The nearest semi-orthogonal matrix to ``matrix`` by ``steps`` quintic Newton-Schulz iterations
    in bfloat16: :math:`X \\leftarrow aX + (bA + cA^2)X` with :math:`A = XX^T`, on the wide orientation."""
    if steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if matrix.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = coefficients
    tall = matrix.size(0) > matrix.size(1)
    x = matrix.bfloat16()
    if tall:
        x = x.T
    x.div_(x.norm().clamp(min=eps))
    for _ in range(steps):
        gram = x @ x.T
        x = addmm(x, addmm(gram, gram, gram, beta=b, alpha=c), x, beta=a)
    return x.T if tall else x


def _adjusted_lr(lr: float | Tensor, adjust_lr_fn: str | None, shape: tuple[int, ...]) -> float | Tensor:
    """``lr`` times the shape's ratio (the ratio computed first, as PyTorch's: ``lr * 0.2 * sqrt(n)``
    rounds differently from ``lr * (0.2 * sqrt(n))``)."""
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, rows / cols))
    else:
        ratio = 0.2 * math.sqrt(max(rows, cols))
    return lr * ratio
