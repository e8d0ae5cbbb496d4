"""The decompositions: Cholesky, QR, the singular value and symmetric eigen decompositions, and
what is built on them (``pinv``, ``matrix_rank``, ``lstsq``, ``cholesky_solve``,
``cholesky_inverse``, the classic ``qr``/``svd``/``pinverse``).

The factorizations are the backend's ``linalg_*`` kernels; the gradients (PyTorch's formulas)
are written with differentiable ops, so that they can be differentiated again."""

from __future__ import annotations

import warnings
from typing import Any

from .. import dtypes
from ..amp.policy import autocast_call
from ..amp.state import state as _amp
from ..amp.state import suspended as _amp_suspended
from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from ..type_names import type_name
from ..typeinfo import finfo
from . import linalg_common as results
from .arithmetic import where
from .comparison import _TORCH_NAMES
from .creation import eye, zeros, zeros_like
from .dtype_support import not_implemented
from .linalg_common import (
    LAPACK_TYPES,
    batch_shape,
    check_classic_pair,
    check_info,
    check_input,
    check_svd_driver,
    lapack_layout,
    lapack_strided,
)
from .linalg_solve import _singular_inverse, linalg_solve_triangular
from .movement import cat, row_major
from .operands import check_same_device, tensor_input
from .out_argument import write_out

__all__ = [
    "linalg_cholesky",
    "linalg_cholesky_ex",
    "cholesky",
    "cholesky_solve",
    "cholesky_inverse",
    "linalg_qr",
    "qr",
    "linalg_svd",
    "svd",
    "linalg_eigh",
    "linalg_eigvalsh",
    "linalg_pinv",
    "pinverse",
    "linalg_matrix_rank",
    "linalg_lstsq",
]


# -- Cholesky ---------------------------------------------------------------------------------------
class _Cholesky(Function):
    """The lower factor ``L`` of the Hermitian matrix that the lower triangle of ``A`` holds, or with
    ``upper`` the upper triangle (LAPACK's ``uplo='U'``: ``L`` of ``A^H``, ``U = L^H``)."""

    @staticmethod
    def forward(ctx, A, upper):
        kernels = A._backend.kernels
        lower, info = kernels.linalg_cholesky(kernels._mH(A._data) if upper else A._data)
        if upper:  # the factor returned, U = L^H, column-major, as PyTorch's
            L = A._make(kernels._mH(lapack_layout(A._backend, kernels._mH(lower))))
        else:
            L = A._make(lapack_layout(A._backend, lower))
        ctx.save_for_backward(L)
        return L, A._make(info)

    @staticmethod
    def backward(ctx, grad, _):
        (L,) = ctx.saved_tensors
        # G_A = L^-H Phi L^-1, Phi = (T + tril(T, -1)^H) / 2 of T = tril(L^H G_L) (PyTorch's: the
        # imaginary part of a complex diagonal is kept)
        phi = (L.mH @ grad).tril()
        phi = 0.5 * (phi + phi.tril(-1).mH)
        gA = linalg_solve_triangular(L.mH, phi, upper=True)
        return linalg_solve_triangular(L, gA, upper=False, left=False), None


def _not_positive_definite(order: int) -> str:
    return (
        "The factorization could not be completed because the input is not positive-definite "
        f"(the leading minor of order {order} is not positive-definite)."
    )


def linalg_cholesky_ex(
    A: Tensor, *, upper: bool = False, check_errors: bool = False, out: Any = None
) -> results.linalg_cholesky_ex:
    """The Cholesky factor and the ``info`` of the factorization (0 when it succeeded, else the
    order of the first leading minor that is not positive-definite); raises only when
    ``check_errors``.

    Returns:
        A named tuple ``(L, info)``.

    Example::

        >>> ember.linalg.cholesky_ex(ember.tensor([[1.0, 2.0], [2.0, 1.0]])).info
        tensor(2, dtype=ember.int32)
    """
    if _amp.active and out is None:
        return autocast_call("linalg_cholesky_ex", linalg_cholesky_ex, A, upper=upper, check_errors=check_errors)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out(
                "linalg.cholesky_ex",
                linalg_cholesky_ex(A, upper=upper, check_errors=check_errors),
                out,
                exact_dtype=True,
            )
    check_input("linalg.cholesky", A, kernel="cholesky_cpu")  # PyTorch's argument errors name linalg.cholesky
    L, info = _Cholesky.apply(A, upper)
    if check_errors:
        check_info("linalg.cholesky_ex", info, _not_positive_definite)
    return results.linalg_cholesky_ex(L.mH if upper else L, info)


def linalg_cholesky(A: Tensor, *, upper: bool = False, out: Tensor | None = None) -> Tensor:
    """The Cholesky factor ``L`` (lower triangular, positive diagonal) of a Hermitian
    positive-definite matrix, ``A = L L^H``; ``U = L^H`` when ``upper``.

    Only the lower triangle of ``A`` is read (the upper one when ``upper``, as LAPACK's). Raises :class:`ember.linalg.LinAlgError` when a
    matrix is not positive-definite.

    Args:
        A (Tensor): a floating point or complex tensor of shape :math:`(*, n, n)`.
        upper (bool): return the upper factor ``L^T``. Default: ``False``
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.linalg.cholesky(ember.tensor([[4.0, 2.0], [2.0, 5.0]]))
        tensor([[2., 0.],
                [1., 2.]])
    """
    if _amp.active and out is None:
        return autocast_call("linalg_cholesky", linalg_cholesky, A, upper=upper)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("linalg.cholesky", linalg_cholesky(A, upper=upper), out, exact_dtype=True)
    check_input("linalg.cholesky", A, kernel="cholesky_cpu")
    L, info = _Cholesky.apply(A, upper)
    check_info("linalg.cholesky", info, _not_positive_definite)
    return L.mH if upper else L


@tensor_input
def cholesky(input: Tensor, upper: bool = False, *, out: Tensor | None = None) -> Tensor:
    """The classic Cholesky factor: :func:`ember.linalg.cholesky`.

    Deprecated in PyTorch, and warns as PyTorch does.

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     ember.cholesky(ember.tensor([[4.0, 2.0], [2.0, 5.0]]), upper=True)
        tensor([[2., 1.],
                [0., 2.]])
    """
    if _amp.active and out is None:
        return autocast_call("cholesky", cholesky, input, upper)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("cholesky", cholesky(input, upper), out)
    warnings.warn(
        "torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future PyTorch "
        "release.\nL = torch.cholesky(A)\nshould be replaced with\nL = torch.linalg.cholesky(A)\nand\n"
        "U = torch.cholesky(A, upper=True)\nshould be replaced with\nU = torch.linalg.cholesky(A).mH\n"
        "This transform will produce equivalent results for all valid (symmetric positive definite) inputs.",
        UserWarning,
        stacklevel=2,
    )
    check_input("cholesky", input, kernel="cholesky_cpu", floating=False)
    return linalg_cholesky(input, upper=upper)


class _CholeskySolve(Function):
    """``X = A^-1 B`` for ``A = L L^T`` (``U^T U`` when ``upper``), ``B`` (*, n, k) and ``L``
    (*, n, n) of one batch shape; ``L``'s gradient is PyTorch's (the whole matrix, not a triangle)."""

    @staticmethod
    def forward(ctx, B, L, upper):
        ctx.upper = upper
        kernels = L._backend.kernels
        lower = kernels._mH(L._data) if upper else L._data
        y = kernels.linalg_solve_triangular(lower, B._data, False)
        X = L._make(lapack_layout(L._backend, kernels.linalg_solve_triangular(kernels._mH(lower), y, True)))
        ctx.save_for_backward(L, X)
        return X

    @staticmethod
    def backward(ctx, grad):
        L, X = ctx.saved_tensors
        gB = _CholeskySolve.apply(grad, L, ctx.upper)
        common = gB @ X.mH
        common = common + common.mH
        return gB, -(L @ common) if ctx.upper else -(common @ L), None


def _cholesky_solve(op, B, L, upper):
    if isinstance(B, Tensor) and B.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {B.ndim} dimensions instead")
    check_classic_pair(B, L)
    check_input(op, L, kernel="cholesky_solve_cpu", B=B, floating=False)
    if B.shape[-2] != L.shape[-1]:
        raise RuntimeError(
            f"{op}: Incompatible shapes of A and B for the equation AX = B ({L.shape[-2]}x{L.shape[-1]} and "
            f"{'x'.join(map(str, B.shape))})"
        )
    batch = batch_shape(op, L, B)
    n = L.shape[-1]
    return _CholeskySolve.apply(B.expand(*batch, *B.shape[-2:]), L.expand(*batch, n, n), upper)


def cholesky_solve(input: Tensor, input2: Tensor, upper: bool = False, *, out: Tensor | None = None) -> Tensor:
    """The solution of ``A X = B`` from the Cholesky factor of ``A = L L^T`` (``U^T U`` when ``upper``).

    Args:
        input (Tensor): the right-hand side ``B``, :math:`(*, n, k)`.
        input2 (Tensor): the triangular factor ``L``, :math:`(*, n, n)`.
        upper (bool): ``L`` is the upper factor. Default: ``False``
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> L = ember.linalg.cholesky(ember.tensor([[4.0, 2.0], [2.0, 5.0]]))
        >>> ember.cholesky_solve(ember.tensor([[8.0], [9.0]]), L)
        tensor([[1.3750],
                [1.2500]])
    """
    if _amp.active and out is None:
        return autocast_call("cholesky_solve", cholesky_solve, input, input2, upper)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("cholesky_solve", cholesky_solve(input, input2, upper), out)
    return _cholesky_solve("cholesky_solve", input, input2, upper)


@tensor_input
def cholesky_inverse(input: Tensor, upper: bool = False, *, out: Tensor | None = None) -> Tensor:
    """The inverse of ``A = L L^T`` (``U^T U`` when ``upper``) from its Cholesky factor ``input`` (``L``, or ``U``).

    Example::

        >>> ember.cholesky_inverse(ember.tensor([[2.0, 0.0], [0.0, 4.0]]))
        tensor([[0.2500, 0.0000],
                [0.0000, 0.0625]])
    """
    if _amp.active and out is None:
        return autocast_call("cholesky_inverse", cholesky_inverse, input, upper)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("cholesky_inverse", cholesky_inverse(input, upper), out)
    check_input("cholesky_inverse", input, kernel="cholesky_inverse_out_cpu", floating=False)
    if input.shape[-1]:  # a singular factor: LAPACK's potri refuses it
        zero = input.diagonal(0, -2, -1) == 0
        check_info("cholesky_inverse", where(zero.any(-1), zero.int().argmax(-1) + 1, 0), _singular_inverse)
    identity = eye(input.shape[-1], dtype=input.dtype, device=input.device).expand(input.shape)
    return _cholesky_solve("cholesky_inverse", identity, input, upper)


# -- QR ---------------------------------------------------------------------------------------------
def _qr_backward_tall(Q, R, gQ, gR):
    """G_A of ``A = Q R`` (m >= n, reduced): ``(G_Q + Q copyltu(M)) R^-H``, ``M = R G_R^H - G_Q^H Q``,
    ``copyltu(M) = tril(M, -1) + tril(M, -1)^H + Re(diag(M))`` (``R``'s diagonal is real)."""
    M = R @ gR.mH - gQ.mH @ Q
    lower, diagonal = M.tril(-1), M.diagonal(0, -2, -1)
    hermitian = lower + lower.mH + (diagonal.real if diagonal.dtype.is_complex else diagonal).diag_embed()
    return linalg_solve_triangular(R.mH, gQ + Q @ hermitian, upper=False, left=False)


class _Qr(Function):
    @staticmethod
    def forward(ctx, A, mode):
        ctx.mode = mode
        q, r = A._backend.kernels.linalg_qr(A._data, mode == "complete")
        backend = A._backend  # column-major Q and R, as PyTorch's (mode='r': Q is empty, 1-D)
        Q, R = A._make(lapack_layout(backend, q) if q.ndim >= 2 else q), A._make(lapack_layout(backend, r))
        ctx.save_for_backward(Q, R)
        return Q, R

    @staticmethod
    def backward(ctx, gQ, gR):
        Q, R = ctx.saved_tensors
        m, n = Q.shape[-2], R.shape[-1]
        if ctx.mode == "r":
            raise RuntimeError(
                "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please use "
                "linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr."
            )
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        gQ = zeros(Q.shape, dtype=Q.dtype, device=Q.device) if gQ is None else gQ
        gR = zeros(R.shape, dtype=R.dtype, device=R.device) if gR is None else gR
        if m >= n:
            return _qr_backward_tall(Q, R, gQ, gR), None
        # A = [X | Y] with X square: X = Q R1, Y = Q R2
        Y = Q @ R[..., :, m:]
        gX = _qr_backward_tall(Q, R[..., :, :m], gQ + Y @ gR[..., :, m:].mH, gR[..., :, :m])
        return cat([gX, Q @ gR[..., :, m:]], dim=-1), None


def linalg_qr(A: Tensor, mode: str = "reduced", *, out: Any = None) -> results.linalg_qr:
    """The QR decomposition ``A = Q R`` by Householder reflections: ``Q`` with orthonormal
    columns, ``R`` upper triangular (LAPACK's signs: ``R``'s diagonal may be negative).

    The gradient is PyTorch's (``mode='reduced'``, or ``'complete'`` with ``m <= n``).

    Args:
        A (Tensor): a floating point or complex tensor of shape :math:`(*, m, n)`.
        mode (str): ``'reduced'`` (``Q`` (*, m, k), ``R`` (*, k, n), ``k = min(m, n)``),
            ``'complete'`` (``Q`` (*, m, m), ``R`` (*, m, n)) or ``'r'`` (``R`` only, ``Q``
            empty). Default: ``'reduced'``
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Returns:
        A named tuple ``(Q, R)``.

    Example::

        >>> A = ember.tensor([[3.0, 1.0], [4.0, 2.0]])
        >>> Q, R = ember.linalg.qr(A)
        >>> ember.allclose(Q @ R, A), ember.allclose(Q.mT @ Q, ember.eye(2))
        (True, True)
    """
    if _amp.active and out is None:
        return autocast_call("linalg_qr", linalg_qr, A, mode)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("linalg.qr", linalg_qr(A, mode), out, exact_dtype=True)
    check_input("linalg.qr", A, square=False, kernel="geqrf_cpu")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(
            f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or 'complete'"
        )
    Q, R = _Qr.apply(A, mode)
    if mode == "r":
        Q = zeros(0, dtype=A.dtype, device=A.device)
    return results.linalg_qr(Q, R)


@tensor_input
def qr(input: Tensor, some: bool = True, *, out: Any = None) -> results.qr:
    """The classic QR decomposition: reduced when ``some``, else complete.

    Deprecated in PyTorch for :func:`ember.linalg.qr`, and warns as PyTorch does.

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     Q, R = ember.qr(ember.tensor([[3.0, 1.0], [4.0, 2.0], [0.0, 1.0]]))
        >>> Q.shape, R.shape
        (ember.Size([3, 2]), ember.Size([2, 2]))
    """
    if _amp.active and out is None:
        return autocast_call("qr", qr, input, some)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("qr", qr(input, some), out, exact_dtype=True)
    warnings.warn(
        "torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch release.\n"
        "The boolean parameter 'some' has been replaced with a string parameter 'mode'.\nQ, R = torch.qr(A, some)\n"
        "should be replaced with\nQ, R = torch.linalg.qr(A, 'reduced' if some else 'complete')",
        UserWarning,
        stacklevel=2,
    )
    check_input("qr", input, square=False, kernel="geqrf_cpu")
    return results.qr(*linalg_qr(input, "reduced" if some else "complete"))


# -- singular value decomposition --------------------------------------------------------------------
def _off_diagonal_inverse(d):
    """``F[i, j] = 1 / d[i, j]`` off the diagonal, 0 on it (``d`` (*, k, k))."""
    diagonal = eye(d.shape[-1], dtype=dtypes.bool, device=d.device)
    return (1 / d.masked_fill(diagonal, 1.0)).masked_fill(diagonal, 0.0)


class _Svd(Function):
    @staticmethod
    def forward(ctx, A, full_matrices):
        backend = A._backend
        u, s, vh = backend.kernels.linalg_svd(A._data, full_matrices)
        # column-major U and Vh, as PyTorch's (svd's V = Vh.mH is then row-major)
        U, S, Vh = A._make(lapack_layout(backend, u)), A._make(s), A._make(lapack_layout(backend, vh))
        ctx.save_for_backward(U, S, Vh)
        ctx.set_materialize_grads(False)  # unused vectors: no 0 / (s_j^2 - s_i^2) terms (NaN at repeated values)
        return U, S, Vh

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        U, S, Vh = ctx.saved_tensors
        k = S.shape[-1]
        U, V = U[..., :, :k], Vh[..., :k, :].mH
        if gU is None and gVh is None:
            return (U * gS.unsqueeze(-2)) @ V.mH, None
        m, n = U.shape[-2], V.shape[-2]
        # U [(F o (U^H gU - gU^H U)) S + diag(gS) + S (F o (V^H gV - gV^H V))] V^H
        #   + (I - U U^H) gU S^-1 V^H + U S^-1 gV^H (I - V V^H),  F[i, j] = 1 / (s_j^2 - s_i^2)
        #   + U diag(i Im(diag(U^H gU)) / S) V^H for complex A (the phases of the vectors);
        # the terms of an unused side are left out, not computed from zeros (0 / 0 at repeated or zero s)
        s2 = S * S
        F = _off_diagonal_inverse(s2.unsqueeze(-2) - s2.unsqueeze(-1))
        inner = zeros((*S.shape, k), dtype=U.dtype, device=U.device) if gS is None else gS.diag_embed()
        expected = zeros(S.shape, dtype=S.dtype, device=S.device)  # -Im(diag(V^H gV)), the phase U^H gU must have
        if gVh is not None:
            gV = gVh[..., :k, :].mH
            VgV = V.mH @ gV
            inner = inner + S.unsqueeze(-1) * (F * (VgV - VgV.mH))
            expected = -VgV.diagonal(0, -2, -1).imag if U.dtype.is_complex else expected
        if gU is not None:
            gU = gU[..., :, :k]
            UgU = U.mH @ gU
            inner = inner + (F * (UgU - UgU.mH)) * S.unsqueeze(-2)
            if U.dtype.is_complex:
                phase = _check_phase_invariance(UgU.diagonal(0, -2, -1).imag, expected, "svd")
                inner = inner + (1j * phase / S).diag_embed()
        elif U.dtype.is_complex:  # only V used: its phase term must vanish alone
            _check_phase_invariance(zeros_like(expected), expected, "svd")
        gA = U @ inner @ V.mH
        if m > k and gU is not None:
            gA = gA + ((gU - U @ UgU) / S.unsqueeze(-2)) @ V.mH
        if n > k and gVh is not None:
            gA = gA + U @ ((gV - V @ VgV) / S.unsqueeze(-2)).mH
        return gA, None


def _check_phase_invariance(phase: Tensor, expected: Tensor, op: str) -> Tensor:
    """``phase`` (the imaginary diagonal of ``U^H G_U``), after PyTorch's check that the loss does not
    depend on the phases of complex singular or eigen vectors, which the decomposition leaves free
    (``phase`` equals ``expected`` when it does not)."""
    if not bool(((phase - expected).abs() <= 1e-2 + 1e-2 * expected.abs()).all()):
        vectors = "singular vectors" if op == "svd" else "eigenvectors"
        raise RuntimeError(
            f"{op}_backward: The {vectors} in the complex case are specified up to multiplication by e^{{i phi}}. "
            "The specified loss function depends on this phase term, making it ill-defined."
            if op == "svd"
            else f"linalg_{op}_backward: The {vectors} in the complex case are specified up to multiplication by "
            "e^{i phi}. The specified loss function depends on this quantity, so it is ill-defined."
        )
    return phase


def linalg_svd(
    A: Tensor, full_matrices: bool = True, *, driver: str | None = None, out: Any = None
) -> results.linalg_svd:
    """The singular value decomposition ``A = U diag(S) Vh``, ``S`` descending.

    The signs of the singular vectors are not unique (a column of ``U`` and the matching row of
    ``Vh`` may both change sign); the gradient is PyTorch's, defined where the singular values are
    distinct and, for the vectors, non-zero.

    Args:
        A (Tensor): a floating point or complex tensor of shape :math:`(*, m, n)`.
        full_matrices (bool): ``U`` (*, m, m) and ``Vh`` (*, n, n) when true, else (*, m, k)
            and (*, k, n), ``k = min(m, n)``. Default: ``True``
        driver (str, optional): a cuSOLVER choice, for CUDA tensors only (refused elsewhere, as
            PyTorch does); ignored. Default: ``None``
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Returns:
        A named tuple ``(U, S, Vh)``.

    Example::

        >>> A = ember.tensor([[3.0, 0.0], [0.0, -4.0], [0.0, 0.0]])
        >>> U, S, Vh = ember.linalg.svd(A, full_matrices=False)
        >>> S
        tensor([4., 3.])
        >>> ember.allclose(U @ S.diag_embed() @ Vh, A)
        True
    """
    if _amp.active and out is None:
        return autocast_call("linalg_svd", linalg_svd, A, full_matrices, driver=driver)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("linalg.svd", linalg_svd(A, full_matrices, driver=driver), out, exact_dtype=True)
    check_input("linalg.svd", A, square=False, kernel="linalg_svd_cpu")
    check_svd_driver(A, driver)
    return results.linalg_svd(*_Svd.apply(A, full_matrices))


@tensor_input
def svd(input: Tensor, some: bool = True, compute_uv: bool = True, *, out: Any = None) -> results.svd:
    """The classic SVD ``input = U diag(S) V^T`` (``V``, not ``V^T``): reduced when ``some``;
    ``U`` and ``V`` zero-filled when not ``compute_uv``.

    Example::

        >>> A = ember.tensor([[3.0, 0.0], [0.0, -4.0]])
        >>> U, S, V = ember.svd(A)
        >>> S
        tensor([4., 3.])
        >>> ember.allclose(U @ S.diag() @ V.mT, A)
        True
    """
    if _amp.active and out is None:
        return autocast_call("svd", svd, input, some, compute_uv)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("svd", svd(input, some, compute_uv), out, exact_dtype=True)
    check_input("svd", input, square=False, kernel="linalg_svd_cpu")
    U, S, Vh = _Svd.apply(input, not some)
    if not compute_uv:  # zero-filled, and square, as PyTorch's
        m, n = input.shape[-2:]
        batch = tuple(input.shape[:-2])
        U = zeros((*batch, m, m), dtype=input.dtype, device=input.device)
        return results.svd(U, S, zeros((*batch, n, n), dtype=input.dtype, device=input.device))
    return results.svd(U, S, Vh.mH)


# -- symmetric eigen decomposition -------------------------------------------------------------------
class _Eigh(Function):
    @staticmethod
    def forward(ctx, A, upper):
        w, v = A._backend.kernels.linalg_eigh(A._data, upper)
        backend = A._backend  # row-major w (a kernel may give a flipped view), column-major V, as PyTorch's
        W = A._make(w if backend.is_row_major(w) else row_major(backend, w))
        V = A._make(lapack_layout(backend, v))
        ctx.save_for_backward(W, V)
        ctx.set_materialize_grads(False)  # unused vectors: no 0 / (w_j - w_i) terms (NaN at repeated values)
        return W, V

    @staticmethod
    def backward(ctx, gW, gV):
        W, V = ctx.saved_tensors
        inner = zeros(V.shape, dtype=V.dtype, device=V.device) if gW is None else gW.diag_embed().to(V.dtype)
        if gV is not None:
            # the skew part of V^H G_V over E[i, j] = w_j - w_i (the orthogonality constraint)
            VgV = V.mH @ gV
            if V.dtype.is_complex:
                phase = VgV.diagonal(0, -2, -1).imag
                _check_phase_invariance(phase, zeros(phase.shape, dtype=phase.dtype, device=phase.device), "eigh")
            F = _off_diagonal_inverse(W.unsqueeze(-2) - W.unsqueeze(-1))
            inner = inner + F * (0.5 * (VgV - VgV.mH))
        return V @ inner @ V.mH, None


def _checked_eigh(op, A, UPLO):
    """``UPLO == 'U'`` (in either case, as PyTorch reads it) after PyTorch's checks of ``A`` and ``UPLO``:
    an integer matrix reaches the kernel's dtype dispatch (``NotImplementedError``)."""
    if isinstance(A, Tensor) and A.ndim >= 2 and A.shape[-1] == A.shape[-2] and A.dtype not in LAPACK_TYPES:
        if not (A.dtype.is_floating_point or A.dtype.is_complex):
            not_implemented("linalg_eigh_cpu", A.dtype)
    check_input(op, A, kernel="linalg_eigh_cpu")
    if not isinstance(UPLO, str) or UPLO.upper() not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO.upper() == "U"


def linalg_eigh(A: Tensor, UPLO: str = "L", *, out: Any = None) -> results.linalg_eigh:
    """The eigenvalues (ascending) and eigenvectors of a symmetric matrix: ``A = V diag(w) V^T``.

    Only the lower (``UPLO='L'``) or upper (``'U'``) triangle of ``A`` is read. The signs of the
    eigenvectors are not unique; the gradient is PyTorch's, defined where the eigenvalues are
    distinct.

    Args:
        A (Tensor): a floating point or complex tensor of shape :math:`(*, n, n)`.
        UPLO (str): the triangle to read, ``'L'`` or ``'U'``. Default: ``'L'``
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Returns:
        A named tuple ``(eigenvalues, eigenvectors)``.

    Example::

        >>> A = ember.tensor([[2.0, 1.0], [1.0, 2.0]])
        >>> w, V = ember.linalg.eigh(A)
        >>> ember.allclose(w, ember.tensor([1.0, 3.0])), ember.allclose(V @ w.diag() @ V.mT, A)
        (True, True)
    """
    if _amp.active and out is None:
        return autocast_call("linalg_eigh", linalg_eigh, A, UPLO)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("linalg.eigh", linalg_eigh(A, UPLO), out, exact_dtype=True)
    return results.linalg_eigh(*_Eigh.apply(A, _checked_eigh("linalg.eigh", A, UPLO)))


def linalg_eigvalsh(A: Tensor, UPLO: str = "L", *, out: Tensor | None = None) -> Tensor:
    """The eigenvalues (ascending) of a symmetric matrix (see :func:`eigh`).

    Example::

        >>> ember.allclose(ember.linalg.eigvalsh(ember.tensor([[2.0, 1.0], [1.0, 2.0]])), ember.tensor([1.0, 3.0]))
        True
    """
    if _amp.active and out is None:
        return autocast_call("linalg_eigvalsh", linalg_eigvalsh, A, UPLO)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("linalg.eigvalsh", linalg_eigvalsh(A, UPLO), out, exact_dtype=True)
    return _Eigh.apply(A, _checked_eigh("linalg.eigvalsh", A, UPLO))[0]


# -- built on the SVD -------------------------------------------------------------------------------
def _tolerance(A, S, atol, rtol):
    """PyTorch's cut-off ``max(atol, rtol * S[0])`` (*, 1) for singular values ``S`` (*, k)
    descending; ``rtol`` defaults to ``eps * max(m, n)`` when neither is given, to 0 when only
    ``atol`` is."""
    if rtol is None:
        rtol = finfo(A.dtype).eps * max(A.shape[-2:]) if atol is None else 0.0
    if isinstance(rtol, Tensor):
        rtol = rtol.unsqueeze(-1)
    largest = S[..., :1] if S.shape[-1] else zeros((*S.shape[:-1], 1), dtype=S.dtype, device=S.device)
    cut = largest * rtol
    if isinstance(atol, Tensor):
        return cut.maximum(atol.unsqueeze(-1))
    return cut if atol is None else cut.clamp_min(atol)


def _reciprocal_above(S, cut):
    """``1 / S`` where ``S > cut``, 0 elsewhere (broadcast with ``cut``: tolerances may add batch dimensions)."""
    small = S <= cut
    return (1 / S.expand(small.shape).masked_fill(small, 1.0)).masked_fill(small, 0.0)


def _legacy_tolerance(op, name, value, atol, rtol, absolute):
    """``(atol, rtol)`` with the earlier positional tolerance ``value`` (``tol``: absolute, with
    ``rtol`` 0; ``rcond``: relative), which PyTorch refuses together with ``atol`` or ``rtol``."""
    if value is None:
        return atol, rtol
    if atol is not None or rtol is not None:
        raise TypeError(f"{op}() received an invalid combination of arguments - got {name} with atol or rtol")
    return (value, 0.0) if absolute else (None, value)


def linalg_pinv(
    A: Tensor,
    rcond: float | Tensor | None = None,
    hermitian: bool = False,
    *,
    atol: float | Tensor | None = None,
    rtol: float | Tensor | None = None,
    out: Tensor | None = None,
) -> Tensor:
    """The Moore-Penrose pseudo-inverse, from the SVD (the eigen decomposition when
    ``hermitian``): the singular values at most ``max(atol, rtol * S[0])`` count as zero.

    Args:
        A (Tensor): a floating point or complex tensor of shape :math:`(*, m, n)`.
        rcond (float or Tensor, optional): the earlier name of ``rtol`` (it cannot be given with
            ``atol`` or ``rtol``). Default: ``None``
        hermitian (bool): ``A`` is Hermitian (its lower triangle is read). Default: ``False``
        atol (float or Tensor, optional): the absolute tolerance. Default: ``None`` (0)
        rtol (float or Tensor, optional): the relative tolerance. Default: ``None`` (``eps *
            max(m, n)`` when ``atol`` is not given either, else 0)
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.linalg.pinv(ember.tensor([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]]))
        tensor([[1.0000, 0.0000, 0.0000],
                [0.0000, 0.5000, 0.0000]])
    """
    atol, rtol = _legacy_tolerance("linalg_pinv", "rcond", rcond, atol, rtol, absolute=False)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("linalg.pinv", linalg_pinv(A, atol=atol, rtol=rtol, hermitian=hermitian), out)
    if isinstance(A, Tensor) and (A.ndim < 2 or A.dtype not in LAPACK_TYPES):
        shape = ", ".join(map(str, A.shape))
        raise RuntimeError(
            f"linalg.pinv({_TORCH_NAMES[A.dtype.name]}{{[{shape}]}}): expected a tensor with 2 or more dimensions "
            "of float, double, cfloat or cdouble types"
        )
    check_input("linalg.pinv", A, square=hermitian)
    with no_grad():
        if hermitian:
            w, V = _Eigh.apply(A, False)
            magnitude = w.abs()
            largest = magnitude.amax(-1, keepdim=True) if w.shape[-1] else magnitude  # none of a 0x0 matrix
            cut = _tolerance(A, largest, atol, rtol)
            X = (V * (_reciprocal_above(magnitude, cut) * w.sign()).unsqueeze(-2)) @ V.mH
        else:
            U, S, Vh = _Svd.apply(A, False)
            X = (Vh.mH * _reciprocal_above(S, _tolerance(A, S, atol, rtol)).unsqueeze(-2)) @ U.mH
    return _Pinv.apply(A, X)


class _Pinv(Function):
    """The pseudo-inverse ``X`` of ``A``, computed by the caller, with its gradient."""

    @staticmethod
    def forward(ctx, A, X):
        out = X._make(X._data)
        ctx.save_for_backward(A, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        # dX = -X dA X + X X^H dA^H (I - A X) + (I - X A) dA^H X^H X
        A, X = ctx.saved_tensors
        gH = grad.mH
        gA = -(X.mH @ grad @ X.mH) + (gH - A @ (X @ gH)) @ X @ X.mH + X.mH @ X @ (gH - gH @ X @ A)
        return gA, None


@tensor_input
def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """The classic pseudo-inverse: :func:`ember.linalg.pinv` with ``rtol=rcond``.

    Example::

        >>> ember.pinverse(ember.tensor([[2.0, 0.0], [0.0, 0.0]]))
        tensor([[0.5000, 0.0000],
                [0.0000, 0.0000]])
    """
    if _amp.active:
        return autocast_call("pinverse", pinverse, input, rcond)
    return linalg_pinv(input, rtol=rcond)


def linalg_matrix_rank(
    A: Tensor,
    tol: float | Tensor | None = None,
    hermitian: bool = False,
    *,
    atol: float | Tensor | None = None,
    rtol: float | Tensor | None = None,
    out: Tensor | None = None,
) -> Tensor:
    """The numerical rank: the count of singular values above ``max(atol, rtol * S[0])`` (see
    :func:`pinv` for the defaults).

    Args:
        A (Tensor): a floating point or complex tensor of shape :math:`(*, m, n)`.
        tol (float or Tensor, optional): the earlier name of ``atol`` (with ``rtol`` 0; it cannot
            be given with ``atol`` or ``rtol``). Default: ``None``
        hermitian (bool): ``A`` is Hermitian. Default: ``False``
        atol (float or Tensor, optional): the absolute tolerance. Default: ``None``
        rtol (float or Tensor, optional): the relative tolerance. Default: ``None``
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Returns:
        An int64 tensor of shape :math:`(*)`.

    Example::

        >>> ember.linalg.matrix_rank(ember.tensor([[1.0, 2.0], [2.0, 4.0]]))
        tensor(1)
    """
    atol, rtol = _legacy_tolerance("linalg_matrix_rank", "tol", tol, atol, rtol, absolute=True)
    if _amp.active and out is None:
        return autocast_call("linalg_matrix_rank", linalg_matrix_rank, A, atol=atol, rtol=rtol, hermitian=hermitian)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out(
                "linalg.matrix_rank", linalg_matrix_rank(A, atol=atol, rtol=rtol, hermitian=hermitian), out
            )
    if isinstance(A, Tensor) and A.ndim < 2:
        raise RuntimeError("torch.linalg.matrix_rank: The input tensor input must have at least 2 dimensions.")
    check_input("linalg.matrix_rank", A, square=hermitian)
    if hermitian:
        S = _Eigh.apply(A.detach(), False)[0].abs().sort(-1, descending=True).values
    else:
        S = _Svd.apply(A.detach(), False)[1]
    return (S > _tolerance(A, S, atol, rtol)).sum(-1)


_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def _check_lstsq(op: str, A: Tensor, B: Tensor) -> None:
    """PyTorch's checks of ``lstsq``'s operands, in its order."""
    for name, x in (("self", A), ("b", B)):
        if not isinstance(x, Tensor):
            raise TypeError(f"linalg_lstsq(): argument '{name}' must be Tensor, not {type_name(x)}")
    if A.ndim < 2:
        raise RuntimeError(f"{op}: input must have at least 2 dimensions.")
    if B.ndim < 1:
        raise RuntimeError(f"{op}: other must have at least 1 dimension.")
    if A.dtype != B.dtype:
        raise RuntimeError(
            f"{op}: Expected input and other to have the same dtype, but got input's dtype "
            f"{_TORCH_NAMES[A.dtype.name]} and other's dtype {_TORCH_NAMES[B.dtype.name]}"
        )
    # PyTorch's refusal of other types names neither the op nor the type: ember's words name both
    check_input(op, A, square=False)
    check_same_device(op, A, B)
    if not 0 <= A.ndim - B.ndim <= 1:
        raise RuntimeError(
            f"{op}: input.dim() must be greater or equal to other.dim() and (input.dim() - other.dim()) <= 1"
        )


def linalg_lstsq(
    A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None
) -> results.linalg_lstsq:
    """The least-squares solution of ``A X = B``: the ``X`` of smallest norm among those that
    minimize ``|A X - B|``, through the pseudo-inverse (and differentiable through it).

    As PyTorch's CPU drivers: ``rank`` for ``'gelsy'`` (the default), ``'gelsd'`` and ``'gelss'``;
    ``singular_values`` for ``'gelsd'`` and ``'gelss'``; ``residuals`` (the squared norms of the
    columns of ``A X - B``) for drivers other than ``'gelsy'`` when ``m > n`` and every matrix has
    full rank (``'gels'``, which reads no ``rcond``, takes it to have); the others are empty.

    Args:
        A (Tensor): a floating point or complex tensor of shape :math:`(*, m, n)`.
        B (Tensor): the right-hand side, :math:`(*, m, k)`.
        rcond (float, optional): singular values at most ``rcond * S[0]`` count as zero.
            Default: ``None`` (``eps * max(m, n)``)
        driver (str, optional): ``'gels'``, ``'gelsy'``, ``'gelsd'`` or ``'gelss'``. Default: ``'gelsy'``

    Returns:
        A named tuple ``(solution, residuals, rank, singular_values)``.

    Example::

        >>> A = ember.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
        >>> ember.linalg.lstsq(A, ember.tensor([[1.0], [2.0], [3.0]])).solution
        tensor([[1.],
                [2.]])
    """
    if _amp.active:
        return autocast_call("linalg_lstsq", linalg_lstsq, A, B, rcond, driver=driver)
    op = "torch.linalg.lstsq"
    _check_lstsq(op, A, B)
    driver = "gelsy" if driver is None else driver
    if driver not in _DRIVERS:
        raise RuntimeError(f"{op}: parameter `driver` should be one of ({', '.join(_DRIVERS)})")
    vector = B.ndim == 1 or tuple(B.shape) == tuple(A.shape[:-1])
    if vector:
        B = B.unsqueeze(-1)
    if B.shape[-2] != A.shape[-2]:
        raise RuntimeError(f"{op}: input.size(-2) should match other.size({-1 if vector else -2})")
    batch = batch_shape(op, A, B)
    A, B = A.expand(*batch, *A.shape[-2:]), B.expand(*batch, *B.shape[-2:])
    m, n = A.shape[-2:]
    # gels (QR, no rank detection) reads no rcond: A is taken to have full rank
    default = rcond is None or rcond < 0 or driver == "gels"
    rtol = finfo(A.dtype).eps * max(m, n) if default else rcond
    S = _Svd.apply(A.detach(), False)[1]
    rank = (S > _tolerance(A, S, None, rtol)).sum(-1)
    X = linalg_pinv(A, rtol=rtol) @ B
    empty = zeros(0, dtype=S.dtype, device=A.device)  # real, as the residuals and singular values are
    # empty residuals are still an output of the differentiable solve (PyTorch's require grad)
    residuals = X.reshape(-1)[:0].abs() if X.requires_grad else empty
    if driver != "gelsy" and m > n and (driver == "gels" or bool((rank == n).all())):
        residuals = ((A @ X - B).abs() ** 2).sum(-2)
    if driver == "gels":
        rank = zeros(0, dtype=dtypes.int64, device=A.device)
    singular_values = S if driver in ("gelsd", "gelss") else empty
    # column-major in a buffer of max(m, n) rows, which LAPACK overwrites with X, as PyTorch's
    if m > n:
        X = cat([X, zeros((*X.shape[:-2], m - n, X.shape[-1]), dtype=X.dtype, device=X.device)], -2)
    X = lapack_strided(X)[..., :n, :]
    return results.linalg_lstsq(X.squeeze(-1) if vector else X, residuals, rank, singular_values)
