"""Singular values of a (batch of) matrices (the ``linalg_svd`` kernel: one-sided Jacobi rotations
over the array primitives, LAPACK where a backend overrides it), and their gradient."""

from __future__ import annotations

from ..amp.policy import autocast_call
from ..amp.state import state as _amp
from ..amp.state import suspended as _amp_suspended
from ..autograd.function import Function, differentiable_backward, modified_after_saved
from ..tensor import Tensor
from ..type_names import type_name
from .linalg_common import check_input, check_svd_driver
from .out_argument import write_out

__all__ = ["svdvals"]


class _Svdvals(Function):
    @staticmethod
    def forward(ctx, x):
        u, s, vh = x._backend.kernels.linalg_svd(x._data, False)
        ctx.u, ctx.vh = x._make(u), x._make(vh)
        # x for a second derivative only, not saved: an in-place change of x after the op breaks
        # only that, as PyTorch (which saves U, S, V) never breaks the first
        ctx.x, ctx.x_version = x, x._version_counter.value
        return x._make(s)

    @staticmethod
    def backward(ctx, grad):
        # d(sum_i g_i s_i) = U diag(g) V^H; building a graph (a second derivative), U and V are
        # taken from the differentiable SVD of x, as PyTorch's svdvals differentiates through svd
        if differentiable_backward() and ctx.needs_input_grad[0]:
            from .linalg_decompositions import linalg_svd  # it builds on this module

            x = ctx.x
            if x._version_counter.value != ctx.x_version:
                raise modified_after_saved(x, ctx.x_version)
            u, _, vh = linalg_svd(x, full_matrices=False)
            return (u * grad.unsqueeze(-2)) @ vh
        return (ctx.u * grad.unsqueeze(-2)) @ ctx.vh


def svdvals(input: Tensor, *, driver: str | None = None, out: Tensor | None = None) -> Tensor:
    """The singular values of a matrix or a batch of matrices, in descending order.

    Computed by one-sided Jacobi rotations; the gradient is :math:`U \\operatorname{diag}(g) V^H`,
    itself differentiable (through :func:`ember.linalg.svd`).

    Args:
        input (Tensor): a floating point or complex tensor of shape :math:`(*, m, n)`.
        driver (str, optional): a cuSOLVER choice, for CUDA tensors only; ignored. Default: ``None``
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
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("linalg.svdvals", svdvals(input, driver=driver), out, exact_dtype=True)
    if not isinstance(input, Tensor):
        raise TypeError(f"linalg_svdvals(): argument 'A' (position 1) must be Tensor, not {type_name(input)}")
    if input.ndim < 2:
        raise RuntimeError("linalg.svd: The input tensor A must have at least 2 dimensions.")
    check_input("linalg.svd", input, square=False, kernel="linalg_svd_cpu")
    check_svd_driver(input, driver)
    return _Svdvals.apply(input)
