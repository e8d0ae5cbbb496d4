"""Square systems through the LU factorization: ``linalg.det``, ``slogdet``, ``inv``, ``solve``
(and their ``_ex`` forms), triangular systems, ``lu_factor``/``lu``/``lu_solve``, ``matrix_power``
and the classic spellings (``det``, ``logdet``, ``inverse``, ``triangular_solve``, ``lu_solve``).

The factorizations are the backend's ``linalg_*`` kernels; the gradients are written with these
differentiable ops, so that they can be differentiated again."""

from __future__ import annotations

import math
import warnings
from typing import Any

from ..amp.policy import autocast_call
from ..amp.state import state as _amp
from ..amp.state import suspended as _amp_suspended
from ..autograd.function import Function
from ..tensor import Tensor
from ..type_names import type_name
from . import linalg_common as results
from .arithmetic import where
from .creation import eye
from .dtype_support import not_implemented
from .linalg_common import (
    batch_shape,
    check_classic_pair,
    check_info,
    check_input,
    lapack_layout,
    lapack_strided,
    triangle,
)
from .movement import cat
from .operands import tensor_input
from .out_argument import write_out

__all__ = [
    "det",
    "logdet",
    "slogdet",
    "inverse",
    "matrix_power",
    "triangular_solve",
    "lu_solve",
    "linalg_det",
    "linalg_slogdet",
    "linalg_inv",
    "linalg_inv_ex",
    "linalg_solve",
    "linalg_solve_ex",
    "linalg_solve_triangular",
    "linalg_lu_factor",
    "linalg_lu_factor_ex",
    "linalg_lu",
    "linalg_lu_solve",
    "linalg_tensorinv",
    "linalg_tensorsolve",
]


def _singular_inverse(order: int) -> str:
    return (
        f"The diagonal element {order} is zero, the inversion could not be completed because the input matrix "
        "is singular."
    )


def _singular_solve(order: int) -> str:
    return "The solver failed because the input matrix is singular."


class _Det(Function):
    @staticmethod
    def forward(ctx, A):
        out = A._make(A._backend.kernels.linalg_det(A._data))
        ctx.save_for_backward(A, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        A, out = ctx.saved_tensors
        # conj(det(A)) A^-H; 0 where A is singular, as PyTorch's
        scale = (grad * out.conj())[..., None, None]
        return where(scale == 0, 0.0, scale * _inverse_unchecked(A).mH)


class _Slogdet(Function):
    @staticmethod
    def forward(ctx, A):
        sign, logabsdet = A._backend.kernels.linalg_slogdet(A._data)
        # as PyTorch, sign is an output of the node too (requires grad, contributes no gradient)
        ctx.set_materialize_grads(False)
        sign = A._make(sign)
        ctx.save_for_backward(A, sign)
        return sign, A._make(logabsdet)

    @staticmethod
    def backward(ctx, grad_sign, grad):
        A, sign = ctx.saved_tensors
        # d log det(A) = tr(A^-1 dA) = d logabsdet + i d(angle of sign): a complex sign carries the angle's part
        if A.dtype.is_complex and grad_sign is not None:
            angle = 1j * (grad_sign * sign.conj()).imag
            grad = angle if grad is None else grad + angle
        if grad is None:  # only a real sign was used: no gradient (None), as PyTorch
            return None
        return grad[..., None, None] * _inverse_unchecked(A).mH


class _Inv(Function):
    @staticmethod
    def forward(ctx, A):
        inverse, info = A._backend.kernels.linalg_inv(A._data)
        inverse = A._make(lapack_layout(A._backend, inverse))  # column-major, as PyTorch's
        ctx.save_for_backward(inverse)
        return inverse, A._make(info)

    @staticmethod
    def backward(ctx, grad, _):
        (inverse,) = ctx.saved_tensors
        return -(inverse.mH @ grad @ inverse.mH)


def _inverse_unchecked(A):
    return _Inv.apply(A)[0]


class _Solve(Function):
    """``X = A^-1 B`` for ``A`` (*, n, n) and ``B`` (*, n, k) of one batch shape."""

    @staticmethod
    def forward(ctx, A, B):
        x, info = A._backend.kernels.linalg_solve(A._data, B._data)
        X = A._make(lapack_layout(A._backend, x))  # column-major, as PyTorch's
        ctx.save_for_backward(A, X)
        return X, A._make(info)

    @staticmethod
    def backward(ctx, grad, _):
        A, X = ctx.saved_tensors
        gB = _Solve.apply(A.mH, grad)[0]
        return -(gB @ X.mH), gB


class _SolveTriangular(Function):
    """``X = A^-1 B`` for triangular ``A`` (*, n, n) and ``B`` (*, n, k) of one batch shape."""

    @staticmethod
    def forward(ctx, A, B, upper, unitriangular):
        ctx.upper, ctx.unitriangular = upper, unitriangular
        x = A._backend.kernels.linalg_solve_triangular(A._data, B._data, upper, unitriangular)
        X = A._make(lapack_layout(A._backend, x))  # column-major, as PyTorch's
        ctx.save_for_backward(A, X)
        return X

    @staticmethod
    def backward(ctx, grad):
        A, X = ctx.saved_tensors
        gB = _SolveTriangular.apply(A.mH, grad, not ctx.upper, ctx.unitriangular)
        gA = triangle(-(gB @ X.mH), ctx.upper, strict=ctx.unitriangular) if ctx.needs_input_grad[0] else None
        return gA, gB, None, None


def _is_vector_rhs(A, B):
    """PyTorch's rule: ``B`` is a (batch of) vector(s) when 1-D or shaped ``A.shape[:-1]``."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


def _solve_operands(op, A, B, left):
    """``(A, B, vector)`` broadcast to one batch shape, ``B`` (*, n, k)."""
    check_input(op, A, kernel="lu_cpu", B=B)
    vector = _is_vector_rhs(A, B)
    if vector:
        B = B.unsqueeze(-1)
    n = A.shape[-1]
    if B.ndim < 2 or B.shape[-2 if left else -1] != n:
        shape = f"{B.shape[-2]}x{B.shape[-1]}" if B.ndim > 1 else f"{B.shape[0]}x1"
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(
            f"{op}: Incompatible shapes of A and B for the equation {equation} ({A.shape[-2]}x{n} and {shape})"
        )
    batch = batch_shape(op, A, B)
    return A.expand(*batch, n, n), B.expand(*batch, *B.shape[-2:]), vector


# -- determinants ---------------------------------------------------------------------------------
def linalg_det(A: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The determinant of a square matrix or of each matrix of a batch.

    Computed from the LU factorization with partial pivoting; the gradient is
    :math:`\\det(A) A^{-T}` (0 where ``A`` is singular, as PyTorch's).

    Args:
        A (Tensor): a floating point or complex tensor of shape :math:`(*, n, n)`.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Returns:
        Tensor of shape :math:`(*)`.

    Example::

        >>> ember.linalg.det(ember.tensor([[2.0, 1.0], [1.0, 3.0]]))
        tensor(5.)
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("linalg.det", linalg_det(A), out, exact_dtype=True)
    check_input("linalg.det", A, kernel="lu_cpu")
    return _Det.apply(A)


@tensor_input
def det(input: Tensor) -> Tensor:
    """The determinant: :func:`ember.linalg.det`.

    Example::

        >>> ember.det(ember.tensor([[2.0, 1.0], [1.0, 3.0]]))
        tensor(5.)
    """
    return linalg_det(input)


def linalg_slogdet(A: Tensor, *, out: Any = None) -> results.linalg_slogdet:
    """The sign and the natural logarithm of the absolute value of the determinant.

    ``sign`` is 0 and ``logabsdet`` ``-inf`` for a singular matrix. The gradient of ``logabsdet``
    is :math:`A^{-T}`; ``sign`` requires grad (as in PyTorch) but contributes none.

    Args:
        A (Tensor): a floating point or complex tensor of shape :math:`(*, n, n)`.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Returns:
        A named tuple ``(sign, logabsdet)`` of tensors of shape :math:`(*)`.

    Example::

        >>> sign, logabsdet = ember.linalg.slogdet(ember.tensor([[0.0, 1.0], [1.0, 0.0]]))
        >>> sign, logabsdet
        (tensor(-1.), tensor(0.))
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("linalg.slogdet", linalg_slogdet(A), out, exact_dtype=True)
    check_input("linalg.slogdet", A)
    return results.linalg_slogdet(*_Slogdet.apply(A))


@tensor_input
def slogdet(input: Tensor, *, out: Any = None) -> results.slogdet:
    """The sign and log absolute determinant: :func:`ember.linalg.slogdet` (a ``slogdet`` tuple).

    Example::

        >>> ember.slogdet(ember.tensor([[2.0, 0.0], [0.0, -3.0]])).sign
        tensor(-1.)
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("slogdet", slogdet(input), out, exact_dtype=True)
    check_input("slogdet", input)
    return results.slogdet(*_Slogdet.apply(input))


@tensor_input
def logdet(input: Tensor) -> Tensor:
    """The natural logarithm of the determinant: ``nan`` where it is negative, ``-inf`` where
    the matrix is singular.

    Args:
        input (Tensor): a floating point or complex tensor of shape :math:`(*, n, n)`.

    Example::

        >>> ember.logdet(ember.tensor([[1.0, 0.0], [0.0, 1.0]]))
        tensor(0.)
        >>> ember.logdet(-ember.eye(3))
        tensor(nan)
    """
    check_input("logdet", input)
    sign, logabsdet = _Slogdet.apply(input)
    if input.dtype.is_complex:  # the logarithm of sign, e^{i angle}, added
        return logabsdet + sign.log()
    return where(sign < 0, math.nan, logabsdet)


# -- inverses and square systems --------------------------------------------------------------------
def linalg_inv_ex(A: Tensor, *, check_errors: bool = False, out: Any = None) -> results.linalg_inv_ex:
    """The inverse and the ``info`` of the LU factorization: 0 for an invertible matrix, else the
    1-based order of the first zero pivot; raises only when ``check_errors``.

    Args:
        A (Tensor): a floating point or complex tensor of shape :math:`(*, n, n)`.
        check_errors (bool): raise :class:`ember.linalg.LinAlgError` for a singular matrix.
            Default: ``False``
        out (tuple of Tensors, optional): the output tensors, resized and returned. Default: ``None``.

    Returns:
        A named tuple ``(inverse, info)``; ``info`` (int32) of shape :math:`(*)`.

    Example::

        >>> ember.linalg.inv_ex(ember.tensor([[1.0, 2.0], [2.0, 4.0]])).info
        tensor(2, dtype=ember.int32)
    """
    if _amp.active and out is None:
        return autocast_call("linalg_inv_ex", linalg_inv_ex, A, check_errors=check_errors)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("linalg.inv_ex", linalg_inv_ex(A, check_errors=check_errors), out, exact_dtype=True)
    check_input("linalg.inv", A)  # PyTorch names linalg.inv in inv_ex's argument errors
    inverse, info = _Inv.apply(A)
    if check_errors:
        check_info("linalg.inv_ex", info, _singular_inverse)
    return results.linalg_inv_ex(inverse, info)


def linalg_inv(A: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The inverse of a square matrix or of each matrix of a batch.

    Raises :class:`ember.linalg.LinAlgError` when a matrix is singular. The gradient is
    :math:`-A^{-T} G A^{-T}`.

    Args:
        A (Tensor): a floating point or complex tensor of shape :math:`(*, n, n)`.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.linalg.inv(ember.tensor([[2.0, 0.0], [0.0, 4.0]]))
        tensor([[0.5000, 0.0000],
                [0.0000, 0.2500]])
    """
    if _amp.active and out is None:
        return autocast_call("linalg_inv", linalg_inv, A)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("linalg.inv", linalg_inv(A), out, exact_dtype=True)
    check_input("linalg.inv", A)
    inverse, info = _Inv.apply(A)
    check_info("linalg.inv", info, _singular_inverse)
    return inverse


@tensor_input
def inverse(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The inverse of a square matrix: :func:`ember.linalg.inv`.

    Example::

        >>> ember.inverse(ember.tensor([[2.0, 0.0], [0.0, 4.0]])).diagonal()
        tensor([0.5000, 0.2500])
    """
    if _amp.active and out is None:
        return autocast_call("inverse", inverse, input)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("inverse", inverse(input), out, exact_dtype=True)
    return linalg_inv(input)


def linalg_solve_ex(
    A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False, out: Any = None
) -> results.linalg_solve_ex:
    """:func:`ember.linalg.solve` that returns the ``info`` of the LU factorization instead of
    raising (unless ``check_errors``).

    Returns:
        A named tuple ``(result, info)``.

    Example::

        >>> result, info = ember.linalg.solve_ex(ember.tensor([[2.0, 0.0], [0.0, 4.0]]), ember.tensor([2.0, 2.0]))
        >>> result, info
        (tensor([1.0000, 0.5000]), tensor(0, dtype=ember.int32))
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out(
                "linalg.solve_ex", linalg_solve_ex(A, B, left=left, check_errors=check_errors), out, exact_dtype=True
            )
    X, info = _solve("linalg.solve", A, B, left)  # PyTorch's argument errors name linalg.solve
    if check_errors:
        check_info("torch.linalg.solve_ex", info, _singular_solve)
    return results.linalg_solve_ex(X, info)


def _solve(op, A, B, left):
    A, B, vector = _solve_operands(op, A, B, left)
    if not left:  # X A = B: A^T X^T = B^T
        X, info = _Solve.apply(A.mT, B.mT)
        return X.mT, info
    X, info = _Solve.apply(A, B)
    if vector and X.ndim > 2:  # the vectors of a batch: PyTorch lays them out as the columns of matrices
        return lapack_strided(X.squeeze(-1)), info
    return (X.squeeze(-1) if vector else X), info


def linalg_solve(A: Tensor, B: Tensor, *, left: bool = True, out: Tensor | None = None) -> Tensor:
    """The solution ``X`` of ``A X = B`` (``X A = B`` when ``left`` is false) for square ``A``.

    ``B`` is a (batch of) vector(s) when it is 1-D or shaped ``A.shape[:-1]``, else a (batch of)
    matrices; the batch dimensions broadcast. Raises :class:`ember.linalg.LinAlgError` when ``A``
    is singular. The gradients are :math:`G_B = A^{-T} G` and :math:`G_A = -G_B X^T`.

    Args:
        A (Tensor): a floating point or complex tensor of shape :math:`(*, n, n)`.
        B (Tensor): the right-hand side, :math:`(*, n)` or :math:`(*, n, k)`.
        left (bool): solve ``A X = B`` (else ``X A = B``). Default: ``True``
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> A = ember.tensor([[3.0, 1.0], [1.0, 2.0]])
        >>> ember.linalg.solve(A, ember.tensor([9.0, 8.0]))
        tensor([2., 3.])
    """
    if _amp.active and out is None:
        return autocast_call("linalg_solve", linalg_solve, A, B, left=left)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("linalg.solve", linalg_solve(A, B, left=left), out, exact_dtype=True)
    X, info = _solve("linalg.solve", A, B, left)
    check_info("torch.linalg.solve", info, _singular_solve)
    return X


def linalg_tensorinv(A: Tensor, ind: int = 2, *, out: Tensor | None = None) -> Tensor:
    """The inverse of ``A`` for :func:`ember.tensordot` over ``ind`` dimensions: the result ``X``,
    shaped ``A.shape[ind:] + A.shape[:ind]``, satisfies ``tensordot(X, A, ind)`` = the identity.

    Args:
        A (Tensor): a floating point tensor with ``prod(A.shape[:ind]) == prod(A.shape[ind:])``.
        ind (int): how many leading dimensions index the rows. Default: ``2``
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> X = ember.linalg.tensorinv(ember.eye(6).reshape(2, 3, 6), ind=2)
        >>> X.shape
        ember.Size([6, 2, 3])
    """
    if _amp.active and out is None:
        return autocast_call("linalg_tensorinv", linalg_tensorinv, A, ind)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("linalg.tensorinv", linalg_tensorinv(A, ind), out)
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = math.prod(A.shape[:ind]), math.prod(A.shape[ind:])
    if rows != cols:
        raise RuntimeError(
            "Expected self to satisfy the requirement prod(self.shape[ind:]) == prod(self.shape[:ind]), but got "
            f"{cols} != {rows}"
        )
    inverse, info = linalg_inv_ex(A.reshape(rows, cols))
    check_info("inv", info, _singular_inverse)
    return inverse.reshape(*A.shape[ind:], *A.shape[:ind])


def linalg_tensorsolve(
    A: Tensor, B: Tensor, dims: tuple[int, ...] | None = None, *, out: Tensor | None = None
) -> Tensor:
    """The ``X`` with ``tensordot(A, X, X.ndim) == B``: ``A`` (its ``dims`` first moved to the end)
    is read as a square matrix of ``prod(B.shape)`` rows, and ``X`` has shape ``A.shape[B.ndim:]``.

    Args:
        A (Tensor): a floating point tensor with ``prod(A.shape[B.ndim:]) == prod(B.shape)``.
        B (Tensor): the right-hand side.
        dims (tuple of ints, optional): dimensions of ``A`` moved to the end first. Default: ``None``
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> A = ember.eye(6).reshape(2, 3, 6)
        >>> ember.linalg.tensorsolve(A, ember.ones(2, 3)).shape
        ember.Size([6])
    """
    if _amp.active and out is None:
        return autocast_call("linalg_tensorsolve", linalg_tensorsolve, A, B, dims)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("linalg.tensorsolve", linalg_tensorsolve(A, B, dims), out)
    if dims is not None:
        A = A.movedim(tuple(dims), tuple(range(A.ndim - len(dims), A.ndim)))
    shape = tuple(A.shape[B.ndim :])
    size, rhs = math.prod(shape), B.numel()
    if size != rhs:
        raise RuntimeError(
            "Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
            f"prod(self.shape[:other.ndim]), but got {size} != {rhs}"
        )
    return linalg_solve(A.reshape(size, size), B.flatten()).reshape(shape)


def linalg_solve_triangular(
    A: Tensor,
    B: Tensor,
    *,
    upper: bool,
    left: bool = True,
    unitriangular: bool = False,
    out: Tensor | None = None,
) -> Tensor:
    """The solution ``X`` of ``A X = B`` (``X A = B`` when ``left`` is false) for triangular ``A``.

    Only the ``upper`` (or lower) triangle of ``A`` is read, and its diagonal is taken as ones when
    ``unitriangular``. No check for a zero on the diagonal: the result is then not finite.

    Args:
        A (Tensor): a floating point or complex tensor of shape :math:`(*, n, n)`.
        B (Tensor): the right-hand side, :math:`(*, n, k)` (:math:`(*, k, n)` when not ``left``).
        upper (bool): ``A`` is upper triangular (else lower).
        left (bool): solve ``A X = B`` (else ``X A = B``). Default: ``True``
        unitriangular (bool): the diagonal of ``A`` is all ones. Default: ``False``
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> A = ember.tensor([[2.0, 1.0], [0.0, 4.0]])
        >>> ember.linalg.solve_triangular(A, ember.tensor([[4.0], [8.0]]), upper=True)
        tensor([[1.],
                [2.]])
    """
    if out is not None:
        result = linalg_solve_triangular(A, B, upper=upper, left=left, unitriangular=unitriangular)
        return write_out("linalg.solve_triangular", result, out, exact_dtype=True)
    op = "linalg.solve_triangular"
    if isinstance(A, Tensor) and isinstance(B, Tensor) and A.ndim >= 2:
        if not (A.dtype.is_floating_point or A.dtype.is_complex):  # PyTorch reaches the kernel's dispatch
            not_implemented("triangular_solve_cpu", A.dtype)
        if B.dtype != A.dtype:  # PyTorch casts B to A's type (a complex B to a real A with its warning)
            B = B.to(A.dtype)
    check_input(op, A, kernel="triangular_solve_cpu", B=B)
    if B.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor B must have at least 2 dimensions.")
    if B.shape[-2 if left else -1] != A.shape[-1]:
        shape = "x".join(map(str, B.shape))
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(
            f"{op}: Incompatible shapes of A and B for the equation {equation} ({A.shape[-2]}x{A.shape[-1]} and {shape})"
        )
    if not left:
        return linalg_solve_triangular(A.mT, B.mT, upper=not upper, unitriangular=unitriangular).mT
    batch = batch_shape(op, A, B)
    n = A.shape[-1]
    return _SolveTriangular.apply(A.expand(*batch, n, n), B.expand(*batch, *B.shape[-2:]), upper, unitriangular)


def triangular_solve(
    b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False, unitriangular: bool = False, *, out: Any = None
) -> results.triangular_solve:
    """The classic triangular solver: ``X`` with ``A X = b`` (``A^T X = b`` when ``transpose``).

    Args:
        b (Tensor): the right-hand side, :math:`(*, n, k)`.
        A (Tensor): the triangular matrix, :math:`(*, n, n)`.
        upper (bool): ``A`` is upper triangular. Default: ``True``
        transpose (bool): solve with ``A^T``. Default: ``False``
        unitriangular (bool): the diagonal of ``A`` is all ones. Default: ``False``
        out (tuple of Tensors, optional): the output tensors, resized and returned. Default: ``None``.

    Returns:
        A named tuple ``(solution, cloned_coefficient)``, the second a copy of ``A``.

    Deprecated in PyTorch for :func:`ember.linalg.solve_triangular`, and warns as PyTorch does.

    Example::

        >>> import warnings
        >>> A = ember.tensor([[2.0, 1.0], [0.0, 4.0]])
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     ember.triangular_solve(ember.tensor([[4.0], [8.0]]), A).solution
        tensor([[1.],
                [2.]])
    """
    if _amp.active and out is None:
        return autocast_call("triangular_solve", triangular_solve, b, A, upper, transpose, unitriangular)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out(
                "triangular_solve", triangular_solve(b, A, upper, transpose, unitriangular), out, exact_dtype=True
            )
    warnings.warn(
        "torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangularand will be removed in a "
        "future PyTorch release.\ntorch.linalg.solve_triangular has its arguments reversed and does not return a "
        "copy of one of the inputs.\nX = torch.triangular_solve(B, A).solution\nshould be replaced with\n"
        "X = torch.linalg.solve_triangular(A, B).",
        UserWarning,
        stacklevel=2,
    )
    if isinstance(A, Tensor) and A.ndim >= 2 and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"A must be batches of square matrices, but they are {A.shape[-2]} by {A.shape[-1]} matrices"
        )
    check_classic_pair(b, A)
    coefficient = A.mT if transpose else A
    X = linalg_solve_triangular(coefficient, b, upper=upper != transpose, unitriangular=unitriangular)
    return results.triangular_solve(X, lapack_strided(A))  # a column-major copy, as PyTorch's


# -- LU -----------------------------------------------------------------------------------------------
class _LuFactor(Function):
    @staticmethod
    def forward(ctx, A):
        lu, pivots, info = A._backend.kernels.linalg_lu_factor(A._data)
        LU = A._make(lapack_layout(A._backend, lu))  # column-major, as PyTorch's
        ctx.save_for_backward(LU)
        ctx.pivots = A._make(pivots)
        return LU, ctx.pivots, A._make(info)

    @staticmethod
    def backward(ctx, grad, _, __):
        (LU,) = ctx.saved_tensors
        m, n = LU.shape[-2:]
        k = min(m, n)
        P, L, U = _unpack(LU, ctx.pivots)
        gL, gU = grad[..., :, :k].tril(-1), grad[..., :k, :].triu()
        if m < n:  # A = P L [U1 | U2]: U2 = L^-1 P^T A2
            U2, gU2 = U[..., :, k:], gU[..., :, k:]
            gA2 = linalg_solve_triangular(L.mH, gU2, upper=True, unitriangular=True)
            gB = _lu_square_backward(L, U[..., :, :k], gL - gA2 @ U2.mH, gU[..., :, :k])
            return P @ cat([gB, gA2], dim=-1)
        if m > n:  # P^T A = [L1; L2] U: L2 = B2 U^-1, so G_B2 = G_L2 U^-T
            L2, gL2 = L[..., k:, :], gL[..., k:, :]
            gB2 = linalg_solve_triangular(U.mH, gL2, upper=False, left=False)
            gB = _lu_square_backward(L[..., :k, :], U, gL[..., :k, :], gU - L2.mH @ gB2)
            return P @ cat([gB, gB2], dim=-2)
        return P @ _lu_square_backward(L, U, gL, gU)


def _lu_square_backward(L, U, gL, gU):
    """G_B of square ``B = L U``: ``L^-H (tril(L^H G_L, -1) + triu(G_U U^H)) U^-H``."""
    inner = (L.mH @ gL).tril(-1) + (gU @ U.mH).triu()
    inner = linalg_solve_triangular(L.mH, inner, upper=True, unitriangular=True)
    return linalg_solve_triangular(U.mH, inner, upper=False, left=False)


def _unpack(LU, pivots):
    """``(P, L, U)`` tensors of a factorization, ``A = P L U`` (``L`` and ``U`` differentiable)."""
    m, n = LU.shape[-2:]
    k = min(m, n)
    perm = LU._make(LU._backend.kernels.linalg_lu_permutation(pivots._data, m))
    P = eye(m, dtype=LU.dtype, device=LU.device)[perm].mT.contiguous()  # row-major, as PyTorch's
    L = LU[..., :, :k].tril(-1) + eye(m, k, dtype=LU.dtype, device=LU.device)
    return P, L, LU[..., :k, :].triu()


class _LuSolve(Function):
    """``X`` with ``A X = B`` (``A^T X = B`` when ``adjoint``) from ``A``'s ``LU`` (*, n, n), for
    ``B`` (*, n, k) of ``LU``'s batch shape."""

    @staticmethod
    def forward(ctx, LU, pivots, B, adjoint):
        ctx.adjoint = adjoint
        x = LU._backend.kernels.linalg_lu_solve(LU._data, pivots._data, B._data, adjoint)
        X = LU._make(lapack_layout(LU._backend, x))  # column-major, as PyTorch's
        ctx.save_for_backward(LU, pivots, X)
        return X

    @staticmethod
    def backward(ctx, grad):
        LU, pivots, X = ctx.saved_tensors
        gB = _LuSolve.apply(LU, pivots, grad, not ctx.adjoint)
        gLU = None
        if ctx.needs_input_grad[0]:
            # G_A = -G_B X^H (of A^H when adjoint), and A = P L U gives G_L and G_U
            gA = -(X @ gB.mH) if ctx.adjoint else -(gB @ X.mH)
            P, L, U = _unpack(LU, pivots)
            gA = P.mT @ gA
            gLU = (gA @ U.mH).tril(-1) + (L.mH @ gA).triu()
        return gLU, None, gB, None


def linalg_lu_factor_ex(
    A: Tensor, *, pivot: bool = True, check_errors: bool = False, out: Any = None
) -> results.linalg_lu_factor_ex:
    """The LU factorization with partial pivoting in LAPACK's compact form, and its ``info``.

    ``LU`` holds ``L`` (unit diagonal, not stored) below its diagonal and ``U`` on and above it;
    ``pivots`` (int32, 1-based) are the row swaps; ``info`` is the order of the first zero
    diagonal element of ``U`` (0 when none).

    Args:
        A (Tensor): a floating point or complex tensor of shape :math:`(*, m, n)`.
        pivot (bool): only ``True`` (partial pivoting) is supported. Default: ``True``
        check_errors (bool): raise for a singular matrix. Default: ``False``
        out (tuple of Tensors, optional): the output tensors, resized and returned. Default: ``None``.

    Returns:
        A named tuple ``(LU, pivots, info)``.

    Example::

        >>> ember.linalg.lu_factor_ex(ember.tensor([[1.0, 2.0], [3.0, 4.0]])).pivots
        tensor([2, 2], dtype=ember.int32)
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out(
                "linalg.lu_factor_ex",
                linalg_lu_factor_ex(A, pivot=pivot, check_errors=check_errors),
                out,
                exact_dtype=True,
            )
    LU, pivots, info = _lu_factor(A, pivot, "torch.lu_factor")
    if check_errors:
        _check_lu_info("torch.linalg.lu_factor_ex", info)
    return results.linalg_lu_factor_ex(LU, pivots, info)


def _lu_factor(A: Tensor, pivot: bool, op: str) -> tuple[Tensor, Tensor, Tensor]:
    """``(LU, pivots, info)`` after PyTorch's checks (``op`` names the caller in the dimension check)."""
    if isinstance(A, Tensor) and A.ndim < 2:
        raise RuntimeError(f"{op}: Expected tensor with 2 or more dimensions. Got size: {list(A.shape)} instead")
    check_input("linalg.lu_factor_ex", A, square=False, kernel="lu_cpu", floating=False)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    return _LuFactor.apply(A)


def _check_lu_info(op: str, info: Tensor) -> None:
    """PyTorch's ``RuntimeError`` (not a ``LinAlgError``) for a zero on the diagonal of ``U``."""
    check_info(
        op,
        info,
        lambda order: (
            f"U[{order},{order}] is zero and using it on lu_solve would result in a division by zero. If you still "
            "want to perform the factorization, consider calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)"
        ),
        RuntimeError,
    )


def linalg_lu_factor(A: Tensor, *, pivot: bool = True, out: Any = None) -> results.linalg_lu_factor:
    """The LU factorization with partial pivoting in LAPACK's compact form.

    Raises :class:`ember.linalg.LinAlgError` where ``U`` has a zero on its diagonal (use
    :func:`lu_factor_ex` or :func:`lu` to factor a singular matrix).

    Args:
        A (Tensor): a floating point or complex tensor of shape :math:`(*, m, n)`.
        pivot (bool): only ``True`` is supported. Default: ``True``
        out (tuple of Tensors, optional): the output tensors, resized and returned. Default: ``None``.

    Returns:
        A named tuple ``(LU, pivots)``.

    Example::

        >>> LU, pivots = ember.linalg.lu_factor(ember.tensor([[1.0, 2.0], [3.0, 4.0]]))
        >>> LU
        tensor([[3.0000, 4.0000],
                [0.3333, 0.6667]])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("linalg.lu_factor", linalg_lu_factor(A, pivot=pivot), out, exact_dtype=True)
    LU, pivots, info = linalg_lu_factor_ex(A, pivot=pivot)
    _check_lu_info("torch.linalg.lu_factor", info)
    return results.linalg_lu_factor(LU, pivots)


def linalg_lu(A: Tensor, *, pivot: bool = True, out: Any = None) -> results.linalg_lu:
    """The LU factorization with partial pivoting, ``A = P L U``, unpacked.

    Args:
        A (Tensor): a floating point or complex tensor of shape :math:`(*, m, n)`.
        pivot (bool): only ``True`` is supported. Default: ``True``
        out (tuple of Tensors, optional): the output tensors, resized and returned. Default: ``None``.

    Returns:
        A named tuple ``(P, L, U)``: ``P`` (*, m, m) a permutation, ``L`` (*, m, k) unit lower
        triangular, ``U`` (*, k, n) upper triangular, ``k = min(m, n)``.

    Example::

        >>> P, L, U = ember.linalg.lu(ember.tensor([[1.0, 2.0], [3.0, 4.0]]))
        >>> P
        tensor([[0., 1.],
                [1., 0.]])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("linalg.lu", linalg_lu(A, pivot=pivot), out, exact_dtype=True)
    LU, pivots, _ = _lu_factor(A, pivot, "linalg.lu")
    return results.linalg_lu(*_unpack(LU, pivots))


def linalg_lu_solve(
    LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False, out: Tensor | None = None
) -> Tensor:
    """The solution of ``A X = B`` from ``A``'s :func:`lu_factor` (``A^T X = B`` when
    ``adjoint``, ``X A = B`` when ``left`` is false).

    Args:
        LU (Tensor), pivots (Tensor): :func:`lu_factor`'s outputs for a square ``A``.
        B (Tensor): the right-hand side, :math:`(*, n, k)`.
        left (bool): solve ``A X = B`` (else ``X A = B``). Default: ``True``
        adjoint (bool): solve with ``A^T``. Default: ``False``
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> A = ember.tensor([[3.0, 1.0], [1.0, 2.0]])
        >>> LU, pivots = ember.linalg.lu_factor(A)
        >>> ember.linalg.lu_solve(LU, pivots, ember.tensor([[9.0], [8.0]]))
        tensor([[2.],
                [3.]])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out(
                "linalg.lu_solve", linalg_lu_solve(LU, pivots, B, left=left, adjoint=adjoint), out, exact_dtype=True
            )
    op = "linalg.lu_solve"
    check_input(op, LU, "LU", kernel="linalg.lu_solve_cpu", B=B)
    if B.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor B must have at least 2 dimensions.")
    if pivots.shape != LU.shape[:-1]:
        raise RuntimeError(f"{op}: Expected pivots of shape {tuple(LU.shape[:-1])}, got {tuple(pivots.shape)}")
    if B.shape[-2 if left else -1] != LU.shape[-1]:
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(
            f"{op}: Incompatible shapes of A and B for the equation {equation} "
            f"({LU.shape[-2]}x{LU.shape[-1]} and {'x'.join(map(str, B.shape))})"
        )
    if not left:  # X A = B: A^H X^H = B^H (and X A^H = B: A X^H = B^H)
        return linalg_lu_solve(LU, pivots, B.mH, adjoint=not adjoint).mH
    batch = batch_shape(op, LU, B)
    n = LU.shape[-1]
    return _LuSolve.apply(LU.expand(*batch, n, n), pivots.expand(*batch, n), B.expand(*batch, *B.shape[-2:]), adjoint)


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The classic spelling of :func:`ember.linalg.lu_solve` (``b`` first).

    Deprecated in PyTorch, and warns as PyTorch does.

    Example::

        >>> import warnings
        >>> A = ember.tensor([[3.0, 1.0], [1.0, 2.0]])
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     ember.lu_solve(ember.tensor([[9.0], [8.0]]), *ember.linalg.lu_factor(A))
        tensor([[2.],
                [3.]])
    """
    if _amp.active and out is None:
        return autocast_call("lu_solve", lu_solve, b, LU_data, LU_pivots)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("lu_solve", lu_solve(b, LU_data, LU_pivots), out, exact_dtype=True)
    warnings.warn(
        "torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be removed in a future PyTorch "
        "release.\nNote that torch.linalg.lu_solve has its arguments reversed.\nX = torch.lu_solve(B, LU, pivots)\n"
        "should be replaced with\nX = torch.linalg.lu_solve(LU, pivots, B)",
        UserWarning,
        stacklevel=2,
    )
    return linalg_lu_solve(LU_data, LU_pivots, b)


# -- powers -------------------------------------------------------------------------------------------
@tensor_input
def matrix_power(input: Tensor, n: int, *, out: Tensor | None = None) -> Tensor:
    """The ``n``-th power of a square matrix (of each of a batch), by repeated squaring; the
    inverse's power for negative ``n``, the identity for 0.

    Args:
        input (Tensor): a tensor of shape :math:`(*, m, m)`.
        n (int): the exponent.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.linalg.matrix_power(ember.tensor([[1.0, 1.0], [0.0, 1.0]]), 3)
        tensor([[1., 3.],
                [0., 1.]])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("matrix_power", matrix_power(input, n), out, exact_dtype=True)
    op, A = "linalg.matrix_power", input
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type_name(A)}")
    if isinstance(n, Tensor) and not n.dtype.is_floating_point and not n.dtype.is_complex and n.numel() == 1:
        n = int(n.item())
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"linalg_matrix_power(): argument 'n' (position 2) must be int, not {type_name(n)}")
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"{op}: A must be batches of square matrices, but they are {A.shape[-2]} by {A.shape[-1]} matrices"
        )
    if n == 0:  # the identity, connected to A with a zero gradient as PyTorch's is
        return A.masked_fill(A.new_ones(()).bool(), 0.0) + eye(A.shape[-1], dtype=A.dtype, device=A.device)
    if n < 0:
        A, n = linalg_inv(A), -n
    result: Tensor | None = None
    while n:
        if n & 1:
            result = A if result is None else result @ A
        n >>= 1
        if n:
            A = A @ A
    assert result is not None  # n > 0 here, so the loop set it
    return result.clone() if result is input else result  # n == 1: a new tensor, as PyTorch's
