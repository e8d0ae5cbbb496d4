"""Singular values of a (batch of) matrices (the ``linalg_svd`` kernel: one-sided Jacobi rotations
over the array primitives, LAPACK where a backend overrides it), and their gradient."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..autograd.function import Function, once_differentiable
from ..tensor import Tensor
from .comparison import _TORCH_NAMES
from .dtype_support import FLOATING, not_implemented

if TYPE_CHECKING:
    from ..backend import _Array

__all__ = ["svdvals"]


def singular_triplets(input: Tensor) -> tuple[_Array, _Array, _Array]:
    """``(u, s, v)`` arrays of ``input`` (..., m, n), ``k = min(m, n)``: ``u`` (..., m, k), ``s``
    (..., k) in descending order and ``v`` (..., n, k) with ``input = u @ diag(s) @ v.T``."""
    backend = input._backend
    u, s, vh = backend.kernels.linalg_svd(input._data, False)
    return u, s, backend.xp.permute_dims(vh, (*range(vh.ndim - 2), vh.ndim - 1, vh.ndim - 2))


class _Svdvals(Function):
    @staticmethod
    def forward(ctx, x):
        u, s, v = singular_triplets(x)
        ctx.u, ctx.v = x._make(u), x._make(v)
        return x._make(s)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        # d(sum_i g_i s_i) = U diag(g) V^T
        return (ctx.u * grad.unsqueeze(-2)) @ ctx.v.mT


def svdvals(input: Tensor) -> Tensor:
    """The singular values of a matrix or a batch of matrices, in descending order.

    Computed by one-sided Jacobi rotations; the gradient is :math:`U \\operatorname{diag}(g) V^T`
    (first order only).

    Args:
        input (Tensor): a floating point tensor of shape :math:`(*, m, n)`.

    Returns:
        Tensor of shape :math:`(*, \\min(m, n))`.

    Example::

        >>> ember.linalg.svdvals(ember.tensor([[3.0, 0.0], [0.0, -4.0]]))
        tensor([4., 3.])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"linalg.svdvals(): argument 'A' must be Tensor, not {type(input).__name__}")
    if input.ndim < 2:
        raise RuntimeError("linalg.svd: The input tensor A must have at least 2 dimensions.")
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            f"linalg.svd: Expected a floating point or complex tensor as input. Got {_TORCH_NAMES[input.dtype.name]}"
        )
    if input.dtype not in FLOATING:
        not_implemented("linalg_svd_cpu", input.dtype)
    return _Svdvals.apply(input)
