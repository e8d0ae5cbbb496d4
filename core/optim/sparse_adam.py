"""Adam for sparse gradients (``optim.SparseAdam``)."""

from __future__ import annotations

import math
from typing import Any

from ..tensor import Tensor
from ._types import LearningRate, ParamsT
from .optimizer import Optimizer, _betas, _check_betas, _check_range, _hyperparameters, _sparse_rows, _to_scalar

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    r"""A masked Adam for sparse gradients (``Embedding(sparse=True)``): only the moments and
    parameter rows present in the gradient are updated.

    Args:
        params (iterable): parameters to optimize or dicts defining parameter groups.
        lr (float): learning rate. Default: 1e-3.
        betas (Tuple[float, float]): coefficients of the running averages. Default: (0.9, 0.999).
        eps (float): term added to the denominator for numerical stability. Default: 1e-8.
        maximize (bool): maximize the objective instead of minimizing it. Default: False.

    Example::

        >>> emb = nn.Embedding(10, 3, sparse=True)
        >>> optimizer = optim.SparseAdam(emb.parameters(), lr=1e-3)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: LearningRate = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        maximize: bool = False,
    ) -> None:
        defaults = _hyperparameters(locals())
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        _check_range(_to_scalar(lr), "learning rate", open_low=True)
        _check_range(eps, "epsilon value", open_low=True)
        _check_betas(betas)
        if not isinstance(params, Tensor):  # the base refuses a sparse tensor as no Tensor: PyTorch's message first
            given: list[Any] = list(params)  # (a generator is read once: the base gets the list)
            params = given
            groups = given if given and isinstance(given[0], dict) else [{"params": given}]
            sparse_params = []
            for index, group in enumerate(groups):
                if isinstance(group, dict) and not isinstance(group.get("params"), (Tensor, type(None))):
                    group["params"] = list(group["params"])
                    members = group["params"]
                    sparse_params += [[index, i] for i, p in enumerate(members) if getattr(p, "is_sparse", False)]
            if sparse_params:
                raise ValueError(
                    f"Sparse params at indices {sparse_params}: SparseAdam requires dense parameter tensors"
                )
        super().__init__(params, defaults)
        complex_params = []
        for index, group in enumerate(self.param_groups):
            for d_index, p in enumerate(group["params"]):
                if p.is_complex():
                    complex_params.append([index, d_index])
        if complex_params:
            raise ValueError(
                f"Complex params at indices {complex_params}: SparseAdam does not support complex parameters"
            )

    def _update(self, param, grad, state, group):
        if not grad.is_sparse:
            raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam instead")
        if not state:
            state["step"] = 0
            state["exp_avg"] = param.new_zeros(param.shape)
            state["exp_avg_sq"] = param.new_zeros(param.shape)
        state["step"] += 1
        rows, values, param_rows, exp_avg, exp_avg_sq = _sparse_rows(
            grad, group, param, state["exp_avg"], state["exp_avg_sq"]
        )
        if values.numel() == 0:
            return
        beta1, beta2 = _betas(group)
        old_avg = exp_avg.index_select(0, rows)
        avg_update = (values - old_avg) * (1 - beta1)
        exp_avg.index_add_(0, rows, avg_update)
        old_sq = exp_avg_sq.index_select(0, rows)
        sq_update = (values * values - old_sq) * (1 - beta2)
        exp_avg_sq.index_add_(0, rows, sq_update)
        numer = avg_update + old_avg
        denom = (sq_update + old_sq).sqrt().add_(group["eps"])
        step = state["step"]
        lr = group["lr"]
        # a tensor lr makes PyTorch's step size a tensor of its dtype: the same rounding here
        step_size = lr * math.sqrt(1 - beta2**step) / (1 - beta1**step)
        step_size = step_size.item() if isinstance(step_size, Tensor) else step_size
        param_rows.index_add_(0, rows, numer / denom, alpha=-step_size)
