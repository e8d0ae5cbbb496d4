"""The LDL factorization of symmetric (or Hermitian) indefinite matrices: ``linalg.ldl_factor``,
``ldl_factor_ex`` and ``ldl_solve``, with PyTorch's semantics (LAPACK's ``sytrf``/``hetrf`` on
the lower triangle, Bunch-Kaufman pivoting, and their compact form and pivots).

The factorization and the solve are the backend's ``linalg_ldl_factor`` and ``linalg_ldl_solve``
kernels. As in PyTorch they have no derivative: a backward pass through them raises."""

from __future__ import annotations

from typing import Any

from ..autograd.function import Function
from ..tensor import Tensor
from ..type_names import type_name
from . import linalg_common as results
from .comparison import _TORCH_NAMES
from .linalg_common import batch_shape, check_info, check_input, lapack_layout
from .out_argument import write_out

__all__ = ["linalg_ldl_factor", "linalg_ldl_factor_ex", "linalg_ldl_solve"]


class _LdlFactor(Function):
    _backward_name = "NotImplemented"

    @staticmethod
    def forward(ctx, A, hermitian):
        ld, pivots, info = A._backend.kernels.linalg_ldl_factor(A._data, hermitian)
        return A._make(lapack_layout(A._backend, ld)), A._make(pivots), A._make(info)  # column-major, as PyTorch's

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("derivative for aten::linalg_ldl_factor_ex is not implemented")


class _LdlSolve(Function):
    _backward_name = "NotImplemented"

    @staticmethod
    def forward(ctx, LD, pivots, B, hermitian):
        x = B._backend.kernels.linalg_ldl_solve(LD._data, pivots._data, B._data, hermitian)
        return B._make(lapack_layout(B._backend, x))  # column-major, as PyTorch's

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("derivative for aten::linalg_ldl_solve is not implemented")


def linalg_ldl_factor_ex(
    A: Tensor, *, hermitian: bool = False, check_errors: bool = False, out: Any = None
) -> results.linalg_ldl_factor_ex:
    r"""The LDL factorization :math:`A = P L D L^T P^T` (:math:`L^H` when ``hermitian``) of a
    symmetric (Hermitian) indefinite matrix, and the ``info`` of the factorization.

    Bunch-Kaufman pivoting, as LAPACK's ``sytrf``; only the lower triangle of ``A`` is read. ``LD``
    holds ``L`` (unit diagonal, not stored) below its diagonal and the 1x1 and 2x2 blocks of ``D``
    on the diagonal and subdiagonal. ``pivots`` (int32, 1-based, LAPACK's): ``pivots[k] = p > 0``
    for a 1x1 block (rows and columns ``k`` and ``p - 1`` interchanged), ``pivots[k] =
    pivots[k + 1] = -p`` for a 2x2 block at ``k`` (rows ``k + 1`` and ``p - 1`` interchanged).
    ``info`` is the 1-based order of the first zero column met, where ``D`` is singular, else 0.

    Args:
        A (Tensor): a floating point or complex tensor of shape :math:`(*, n, n)`.
        hermitian (bool): factor the Hermitian (not the symmetric) matrix of a complex ``A``. Default: ``False``
        check_errors (bool): raise for a singular ``D``. Default: ``False``
        out (tuple of Tensors, optional): the output tensors, resized and returned. Default: ``None``.

    Returns:
        A named tuple ``(LD, pivots, info)``.

    Example::

        >>> LD, pivots, info = ember.linalg.ldl_factor_ex(ember.tensor([[0.0, 1.0], [1.0, 0.0]]))
        >>> LD, pivots, info
        (tensor([[0., 0.],
                [1., 0.]]), tensor([-2, -2], dtype=ember.int32), tensor(0, dtype=ember.int32))
    """
    op = "torch.linalg.ldl_factor_ex"
    if out is not None:
        result = linalg_ldl_factor_ex(A, hermitian=hermitian, check_errors=check_errors)
        return write_out(op, result, out, exact_dtype=True)
    check_input(op, A, kernel="ldl_factor_kernel_cpu")
    LD, pivots, info = _LdlFactor.apply(A, hermitian)
    if check_errors:
        _check_singular(op, info)
    return results.linalg_ldl_factor_ex(LD, pivots, info)


def _check_singular(op: str, info: Tensor) -> None:
    # PyTorch fails here on an internal assert ("Unknown error code"); its type, RuntimeError, is kept
    check_info(
        op,
        info,
        lambda order: (
            f"The factorization could not be completed because D[{order},{order}] is zero: the matrix is singular."
        ),
        RuntimeError,
    )


def linalg_ldl_factor(A: Tensor, *, hermitian: bool = False, out: Any = None) -> results.linalg_ldl_factor:
    r"""The LDL factorization of a symmetric (Hermitian) indefinite matrix, in LAPACK's compact form
    (see :func:`ldl_factor_ex`); raises ``RuntimeError`` where ``D`` is singular.

    Args:
        A (Tensor): a floating point or complex tensor of shape :math:`(*, n, n)`.
        hermitian (bool): factor the Hermitian matrix of a complex ``A``. Default: ``False``
        out (tuple of Tensors, optional): the output tensors, resized and returned. Default: ``None``.

    Returns:
        A named tuple ``(LD, pivots)``.

    Example::

        >>> LD, pivots = ember.linalg.ldl_factor(ember.tensor([[4.0, 2.0], [2.0, 3.0]]))
        >>> LD
        tensor([[4.0000, 0.0000],
                [0.5000, 2.0000]])
        >>> pivots
        tensor([1, 2], dtype=ember.int32)
    """
    if out is not None:
        return write_out("torch.linalg.ldl_factor", linalg_ldl_factor(A, hermitian=hermitian), out, exact_dtype=True)
    LD, pivots, info = linalg_ldl_factor_ex(A, hermitian=hermitian)
    _check_singular("torch.linalg.ldl_factor", info)
    return results.linalg_ldl_factor(LD, pivots)


def linalg_ldl_solve(
    LD: Tensor, pivots: Tensor, B: Tensor, *, hermitian: bool = False, out: Tensor | None = None
) -> Tensor:
    """The solution ``X`` of ``A X = B`` from ``A``'s :func:`ldl_factor`; the batch dimensions of
    ``LD`` (and ``pivots``) and ``B`` broadcast.

    Args:
        LD (Tensor), pivots (Tensor): :func:`ldl_factor`'s outputs, :math:`(*, n, n)` and :math:`(*, n)`.
        B (Tensor): the right-hand side, :math:`(*, n, k)`.
        hermitian (bool): the factorization is of a Hermitian matrix. Default: ``False``
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> A = ember.tensor([[1.0, 2.0], [2.0, -1.0]])
        >>> LD, pivots = ember.linalg.ldl_factor(A)
        >>> ember.linalg.ldl_solve(LD, pivots, ember.tensor([[3.0], [1.0]]))
        tensor([[1.],
                [1.]])
    """
    op = "torch.linalg.ldl_solve"
    if out is not None:
        return write_out(op, linalg_ldl_solve(LD, pivots, B, hermitian=hermitian), out, exact_dtype=True)
    check_input(op, LD, kernel="ldl_solve_cpu")
    if not isinstance(pivots, Tensor) or not isinstance(B, Tensor):
        bad, name = (pivots, "pivots") if not isinstance(pivots, Tensor) else (B, "B")
        raise TypeError(f"linalg_ldl_solve(): argument '{name}' must be Tensor, not {type_name(bad)}")
    if B.ndim < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(B.ndim, 1)}, 0], but got -2)")
    n = LD.shape[-1]
    if B.shape[-2] != n:
        raise RuntimeError(
            f"Incompatible matrix sizes for {op}: each A matrix is {n} by {n} but each b matrix is "
            f"{B.shape[-2]} by {B.shape[-1]}"
        )
    if tuple(pivots.shape) != tuple(LD.shape[:-1]):
        raise RuntimeError(
            f"{op}: Expected LD.shape[:-1] and pivots.shape to be the same, but got pivots with shape "
            f"{list(pivots.shape)} instead"
        )
    if pivots.dtype.is_floating_point or pivots.dtype.is_complex or pivots.dtype.name == "bool":
        raise RuntimeError(f"{op}: Expected pivots to be integers. Got {_TORCH_NAMES[pivots.dtype.name]}")
    if B.dtype != LD.dtype:
        raise RuntimeError(
            f"Expected b and A to have the same dtype, but found b of type {_TORCH_NAMES[B.dtype.name]} and A of "
            f"type {_TORCH_NAMES[LD.dtype.name]} instead."
        )
    batch = batch_shape(op, LD, B)
    return _LdlSolve.apply(
        LD.expand(*batch, n, n), pivots.expand(*batch, n), B.expand(*batch, *B.shape[-2:]), hermitian
    )
