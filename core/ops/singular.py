"""Singular values of a (batch of) matrices (the ``linalg_svd`` kernel: one-sided Jacobi rotations
over the array primitives, LAPACK where a backend overrides it), and their gradient."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..amp.policy import autocast_call
from ..amp.state import state as _amp
from ..autograd.function import Function, modified_after_saved
from ..autograd.grad_mode import grad_state
from ..tensor import Tensor
from .comparison import _TORCH_NAMES
from .dtype_support import FLOATING, not_implemented
from .out_argument import write_out

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
        # x for a second derivative only, not saved: an in-place change of x after the op breaks
        # only that, as PyTorch (which saves U, S, V) never breaks the first
        ctx.x, ctx.x_version = x, x._version_counter.value
        return x._make(s)

    @staticmethod
    def backward(ctx, grad):
        # d(sum_i g_i s_i) = U diag(g) V^T; building a graph (a second derivative), U and V are
        # taken from the differentiable SVD of x, as PyTorch's svdvals differentiates through svd
        if grad_state.enabled and ctx.needs_input_grad[0]:
            from .linalg_decompositions import linalg_svd  # it builds on this module

            x = ctx.x
            if x._version_counter.value != ctx.x_version:
                raise modified_after_saved(x, ctx.x_version)
            u, _, vh = linalg_svd(x, full_matrices=False)
            return (u * grad.unsqueeze(-2)) @ vh
        return (ctx.u * grad.unsqueeze(-2)) @ ctx.v.mT


def svdvals(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The singular values of a matrix or a batch of matrices, in descending order.

    Computed by one-sided Jacobi rotations; the gradient is :math:`U \\operatorname{diag}(g) V^T`,
    itself differentiable (through :func:`ember.linalg.svd`).

    Args:
        input (Tensor): a floating point tensor of shape :math:`(*, m, n)`.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Returns:
        Tensor of shape :math:`(*, \\min(m, n))`.

    Example::

        >>> ember.linalg.svdvals(ember.tensor([[3.0, 0.0], [0.0, -4.0]]))
        tensor([4., 3.])
    """
    if _amp.active and out is None:
        return autocast_call("linalg_svdvals", svdvals, input)
    if out is not None:
        return write_out("linalg.svdvals", svdvals(input), out, exact_dtype=True)
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
