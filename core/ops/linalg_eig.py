"""The eigen decomposition of a general (non-symmetric) square matrix: ``linalg.eig`` and
``linalg.eigvals``.

The eigenvalues and eigenvectors of a real matrix are complex in general, so both ops return
complex tensors (complex64 for float32, complex128 for float64), as PyTorch does. The
factorization is the backend's ``linalg_eig`` kernel (LAPACK's ``geev`` through NumPy, as
PyTorch's CPU): each eigenvector has unit norm and its largest component real. The gradient is
PyTorch's; it is defined where the eigenvalues are distinct, and only for losses that do not
depend on the phase of the eigenvectors (which the decomposition leaves free)."""

from __future__ import annotations

from typing import Any, cast

from ..amp.policy import autocast_call
from ..amp.state import state as _amp
from ..amp.state import suspended as _amp_suspended
from ..autograd.function import Function
from ..tensor import Tensor
from . import linalg_common as results
from .arithmetic import isfinite
from .comparison import allclose
from .complex_views import complex
from .creation import eye, zeros_like
from .dtype_support import TORCH_NAMES
from .linalg_common import check_input, check_matrix, lapack_layout
from .linalg_solve import linalg_solve
from .movement import cat
from .out_argument import write_out

__all__ = ["linalg_eig", "linalg_eigvals"]


def _solve_complex(M: Tensor, B: Tensor) -> Tensor:
    """``M^-1 B`` for complex ``M`` and ``B``, as the real system ``[[X, -Y], [Y, X]] [Zr; Zi] = [Br; Bi]``
    of ``M = X + iY`` (differentiable, as the real solve is)."""
    X, Y = M.real, M.imag
    Z = linalg_solve(cat((cat((X, -Y), -1), cat((Y, X), -1)), -2), cat((B.real, B.imag), -2))
    n = M.shape[-1]
    return complex(Z[..., :n, :], Z[..., n:, :])


def _eig_backward(L: Tensor, V: Tensor, gL: Tensor | None, gV: Tensor | None) -> Tensor:
    """``V^-H (diag(gL) + (V^H gV - V^H V Re(diag(V^H gV))) / (conj(L_j) - conj(L_i))) V^H``."""
    Vh = V.mH
    n = V.shape[-1]
    if gV is None:
        inner = gL.diag_embed()
    else:
        VhgV = Vh @ gV
        diagonal = VhgV.diagonal(0, -2, -1)
        if not allclose(diagonal.imag, zeros_like(diagonal.imag), rtol=1e-2, atol=1e-2):
            raise RuntimeError(
                "linalg_eig_backward: The eigenvectors in the complex case are specified up to multiplication "
                "by e^{i phi}. The specified loss function depends on this quantity, so it is ill-defined."
            )
        conjugate = L.conj()
        gaps = conjugate.unsqueeze(-2) - conjugate.unsqueeze(-1) + eye(n, dtype=L.dtype, device=L.device)
        inner = (VhgV - Vh @ (V * diagonal.real.unsqueeze(-2))) / gaps
        if gL is not None:
            inner = inner + (gL - inner.diagonal(0, -2, -1)).diag_embed()
    return _solve_complex(Vh, inner @ Vh)


class _Eig(Function):
    @staticmethod
    def forward(ctx, A):
        w, v = A._backend.kernels.linalg_eig(A._data)
        L, V = A._make(w), A._make(lapack_layout(A._backend, v))  # column-major V, as PyTorch's
        ctx.save_for_backward(L, V)
        ctx.set_materialize_grads(False)  # unused vectors: no 0 / (L_j - L_i) terms (NaN at repeated values)
        ctx.real_input = not A.dtype.is_complex
        ctx.save_for_forward(L, V)
        return L, V

    @staticmethod
    def backward(ctx, gL, gV):
        gA = _eig_backward(*ctx.saved_tensors, gL, gV)
        return gA.real if ctx.real_input else gA

    @staticmethod
    def jvp(ctx, dA):
        # PyTorch's forward formula (the backward, at a cotangent with phases, refuses): with dP = V^-1 dA V,
        # dL = diag(dP) and dV = V (dP / (L_j - L_i), zero diagonal), less V Re(diag(V^H dV)) (unit norms)
        L, V = ctx.saved_tensors
        n = V.shape[-1]
        dP = _solve_complex(V, dA.to(V.dtype) @ V)
        gaps = L.unsqueeze(-2) - L.unsqueeze(-1) + eye(n, dtype=L.dtype, device=L.device)
        off = dP / gaps - dP.diagonal(0, -2, -1).diag_embed()  # (the diagonal of dP / gaps is dP's own)
        dV = V @ off
        dV = dV - V * (V.mH @ dV).diagonal(0, -2, -1).real.unsqueeze(-2)
        return dP.diagonal(0, -2, -1), dV


def _checked(op: str, A: object) -> Tensor:
    """``A``, a square matrix (batch) of a floating or complex dtype, with PyTorch's errors otherwise."""
    if isinstance(A, Tensor) and not A.dtype.is_floating_point and not A.dtype.is_complex:
        raise RuntimeError(f"Unknown Complex ScalarType for {TORCH_NAMES[A.dtype]}")
    if isinstance(A, Tensor) and A.dtype.is_complex:
        check_matrix(op, A.real)
    else:
        check_input(op, A, kernel="linalg_eig_out_cpu")
    return cast(Tensor, A)


def linalg_eig(A: Tensor, *, out: Any = None) -> results.linalg_eig:
    r"""The eigenvalues and eigenvectors of a square matrix: :math:`A V = V \operatorname{diag}(L)`.

    Both are complex (complex64 for a float32 ``A``, complex128 for float64). Each eigenvector
    (a column of ``V``) has unit norm; eigenvectors are unique only up to a complex phase, and
    LAPACK's choice makes the largest component real. For a symmetric matrix,
    :func:`ember.linalg.eigh` is faster and returns real results.

    Args:
        A (Tensor): a floating point or complex tensor of shape :math:`(*, n, n)`.
        out (tuple, optional): the output tensors. Default: ``None``.

    Returns:
        A named tuple ``(eigenvalues, eigenvectors)`` of shapes :math:`(*, n)` and :math:`(*, n, n)`.

    Example::

        >>> A = ember.tensor([[2.0, 1.0], [0.0, 3.0]])
        >>> L, V = ember.linalg.eig(A)
        >>> L
        tensor([2.+0.j, 3.+0.j])
        >>> ember.allclose(V @ L.diag_embed() @ ember.linalg.inv(V.real).to(V.dtype), A.to(V.dtype))
        True
    """
    if _amp.active and out is None:
        return autocast_call("linalg_eig", linalg_eig, A)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("linalg.eig", linalg_eig(A), out, exact_dtype=True)
    A = _checked("linalg.eig", A)
    if not bool(isfinite(A).all()):
        raise RuntimeError("torch.linalg.eig: input tensor should not contain infs or NaNs.")
    return results.linalg_eig(*_Eig.apply(A))


def linalg_eigvals(A: Tensor, *, out: Tensor | None = None) -> Tensor:
    r"""The eigenvalues of a square matrix, complex (see :func:`ember.linalg.eig`).

    Args:
        A (Tensor): a floating point or complex tensor of shape :math:`(*, n, n)`.
        out (Tensor, optional): the output tensor. Default: ``None``.

    Example::

        >>> ember.linalg.eigvals(ember.tensor([[0.0, -1.0], [1.0, 0.0]]))
        tensor([0.+1.j, 0.-1.j])
    """
    if _amp.active and out is None:
        return autocast_call("linalg_eigvals", linalg_eigvals, A)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("linalg.eigvals", linalg_eigvals(A), out, exact_dtype=True)
    return _Eig.apply(_checked("linalg.eigvals", A))[0]
