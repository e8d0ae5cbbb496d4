"""``lobpcg``: the k largest (or smallest) eigenpairs of a symmetric positive definite generalized
eigenproblem :math:`A X = B X \\Lambda` by the locally optimal block preconditioned conjugate
gradient method (Knyazev, 2001), PyTorch's ``torch.lobpcg``.

The iteration is PyTorch's step for step: the ``"basic"`` method (Knyazev's) and the default
``"ortho"`` method (Duersch, Shao, Yang and Gu, 2018, with its SVQB orthogonalization), the same
convergence test, parameters and tracker hook, and the initial block drawn by :func:`ember.randn`
in PyTorch's order, so one seed gives PyTorch's iterates (up to LAPACK's rounding). The gradient
(with ``B = I``) is PyTorch's: the symmetric eigen decomposition's, extended to a partial
eigenspace through the characteristic polynomial of the found eigenvalues."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import dtypes, linalg
from ..autograd.function import Function
from ..random import Generator
from ..tensor import Tensor
from .arithmetic import where
from .creation import eye, randn, zeros
from .linalg_decompositions import cholesky_solve

__all__ = ["lobpcg"]

_EPS = {dtypes.float32: 1.2e-07, dtypes.float64: 2.23e-16}


# -- small helpers (torch._linalg_utils) ----------------------------------------------------------
def _times(A: Tensor | None, X: Tensor) -> Tensor:
    """``A @ X``, ``X`` for ``A = None`` (the identity)."""
    return X if A is None else A @ X


def _qform(A: Tensor | None, S: Tensor) -> Tensor:
    return S.mT @ _times(A, S)


def _symeig(A: Tensor, largest: bool | None = False) -> tuple[Tensor, Tensor]:
    """Eigenvalues and vectors of symmetric ``A``, ascending (descending with ``largest``)."""
    E, Z = linalg.eigh(A, UPLO="U")
    return (E.flip(-1), Z.flip(-1)) if largest else (E, Z)


# -- the iteration --------------------------------------------------------------------------------
class LOBPCG:
    """The state of one LOBPCG run (the tracker receives it after each step): the current
    eigenvectors ``X`` and values ``E``, the residual ``R``, the search basis ``S``, and the
    counters ``ivars`` (``istep``, ``converged_count``, ...), ``fvars`` (norms, ``rerr``s) and ``tvars``."""

    def __init__(
        self,
        A: Tensor,
        B: Tensor | None,
        X: Tensor,
        iK: Tensor | None,
        iparams: dict[str, int],
        fparams: dict[str, float],
        bparams: dict[str, bool],
        method: str,
        tracker: Callable[[LOBPCG], Any] | None,
    ) -> None:
        self.A, self.B, self.iK = A, B, iK
        self.iparams, self.fparams, self.bparams = iparams, fparams, bparams
        self.method, self.tracker = method, tracker
        m, n = iparams["m"], iparams["n"]
        self.X = X
        self.E = zeros((n,), dtype=X.dtype, device=X.device)
        self.R = zeros((m, n), dtype=X.dtype, device=X.device)
        self.S = zeros((m, 3 * n), dtype=X.dtype, device=X.device)
        self.tvars: dict[str, Tensor] = {}
        self.ivars: dict[str, int] = {"istep": 0}
        self.fvars: dict[str, float] = {"_": 0.0}
        self.bvars: dict[str, bool] = {"_": False}

    def run(self) -> None:
        """Steps until ``k`` eigenpairs converged, ``niter`` steps were made, or a tracker set
        ``bvars["force_stop"]``."""
        self.update()
        if self.tracker is not None:
            self.tracker(self)
        while not self.stop_iteration():
            self.update()
            if self.tracker is not None:
                self.tracker(self)

    def stop_iteration(self) -> bool:
        return (
            self.bvars.get("force_stop", False)
            or self.ivars["iterations_left"] == 0
            or self.ivars["converged_count"] >= self.iparams["k"]
        )

    def update(self) -> None:
        """One step; the first also measures the norms the convergence test scales by."""
        if self.ivars["istep"] == 0:
            X_norm = float(self.X.norm())
            self.fvars["X_norm"] = X_norm
            self.fvars["A_norm"] = float(_times(self.A, self.X).norm()) / X_norm
            self.fvars["B_norm"] = float(_times(self.B, self.X).norm()) / X_norm
            self.ivars["iterations_left"] = self.iparams["niter"]
            self.ivars["converged_count"] = 0
            self.ivars["converged_end"] = 0
        if self.method == "ortho":
            self._update_ortho()
        else:
            self._update_basic()
        self.ivars["iterations_left"] -= 1
        self.ivars["istep"] += 1

    def update_residual(self) -> None:
        self.R = _times(self.A, self.X) - _times(self.B, self.X) * self.E

    def update_converged_count(self) -> int:
        """The number of leading eigenpairs whose relative residual is below ``tol`` (never fewer than before)."""
        previous = self.ivars["converged_count"]
        E, X, R = self.E, self.X, self.R
        scale = self.fvars["A_norm"] + E[: X.shape[-1]].abs() * self.fvars["B_norm"]
        rerr = linalg.vector_norm(R, 2, (0,)) / (linalg.vector_norm(X, 2, (0,)) * scale)
        count = 0
        for converged in (rerr < self.fparams["tol"]).tolist():
            if not converged:
                break
            count += 1
        if count < previous:
            raise AssertionError(f"the number of converged eigenpairs (was {previous}, got {count}) cannot decrease")
        self.ivars["converged_count"] = count
        self.tvars["rerr"] = rerr
        return count

    def _first_ritz_pairs(self) -> tuple[Tensor, Tensor]:
        """The first step's Ritz values and vectors: the Rayleigh-Ritz problem on ``X``."""
        Ri = self._rayleigh_ritz_transform(self.X)
        E, Z = _symeig(_qform(_qform(self.A, self.X), Ri), self.bparams["largest"])
        return E, self.X @ (Ri @ Z)

    def _update_basic(self) -> None:
        ns, nc, n = self.ivars["converged_end"], self.ivars["converged_count"], self.iparams["n"]
        largest = self.bparams["largest"]
        if self.ivars["istep"] == 0:
            E, X = self._first_ritz_pairs()
            self.X[:] = X  # in place, as PyTorch's basic method: a given X is overwritten
            self.E[:] = E
            found = 0
            self.update_residual()
            nc = self.update_converged_count()
            self.S[..., :n] = self.X
            W = _times(self.iK, self.R)
        else:
            S_ = self.S[:, nc:ns]
            Ri = self._rayleigh_ritz_transform(S_)
            E_, Z = _symeig(_qform(_qform(self.A, S_), Ri), largest)
            self.X[:, nc:] = S_ @ (Ri @ Z[:, : n - nc])
            self.E[nc:] = E_[: n - nc]
            P = S_ @ (Ri @ Z[:, n : 2 * n - nc])
            found = P.shape[-1]
            self.update_residual()
            nc = self.update_converged_count()
            self.S[..., :n] = self.X
            self.S[:, n : n + found] = P
            W = _times(self.iK, self.R[:, nc:])
        self.ivars["converged_end"] = ns = n + found + W.shape[-1]
        self.S[:, n + found : ns] = W

    def _update_ortho(self) -> None:
        ns, nc, n = self.ivars["converged_end"], self.ivars["converged_count"], self.iparams["n"]
        largest = self.bparams["largest"]
        if self.ivars["istep"] == 0:
            self.X = self._first_ritz_pairs()[1]  # PyTorch's ortho method keeps E (zeros) for this step
            self.update_residual()
            found = 0
            nc = self.update_converged_count()
            self.S[:, :n] = self.X
            W = self._get_ortho(self.R, self.X)
        else:
            S_ = self.S[:, nc:ns]
            E_, Z = _symeig(_qform(self.A, S_), largest)
            self.X[:, nc:] = S_ @ Z[:, : n - nc]
            self.E[nc:] = E_[: n - nc]
            P = S_ @ (Z[:, n - nc :] @ linalg.qr(Z[: n - nc, n - nc :].mT).Q)
            found = P.shape[-1]
            self.update_residual()
            nc = self.update_converged_count()
            self.S[:, :n] = self.X
            self.S[:, n : n + found] = P
            W = self._get_ortho(self.R[:, nc:], self.S[:, : n + found])
        self.ivars["converged_end"] = ns = n + found + W.shape[-1]
        self.S[:, n + found : ns] = W

    def _rayleigh_ritz_transform(self, S: Tensor) -> Tensor:
        """``Ri`` with ``Ri^T S^T B S Ri = I``, through the Cholesky factor of the scaled ``S^T B S``."""
        SBS = _qform(self.B, S)
        d_row = SBS.diagonal(0, -2, -1) ** (-0.5)
        d_col = d_row.reshape(d_row.shape[0], 1)
        R = linalg.cholesky(SBS * d_row * d_col, upper=True)
        return linalg.solve_triangular(R, d_row.diag_embed(), upper=True, left=False)

    def _get_svqb(self, U: Tensor, drop: bool, tau: float) -> Tensor:
        """``U`` made ``B``-orthonormal by SVQB (Stathopoulos and Wu, 2002): its zero columns left
        out, then the eigenvalues of its scaled Gram matrix below ``tau`` times the largest
        dropped (``drop``) or raised to it."""
        if U.numel() == 0:
            return U
        UBU = _qform(self.B, U)
        d = UBU.diagonal(0, -2, -1)
        nonzero = (d != 0.0).nonzero()[:, 0]
        if len(nonzero) < len(d):
            U = U[:, nonzero]
            if U.numel() == 0:
                return U
            UBU = _qform(self.B, U)
            d = UBU.diagonal(0, -2, -1)
        d_col = (d ** (-0.5)).reshape(d.shape[0], 1)
        E, Z = _symeig(UBU * d_col * d_col.mT)
        t = tau * E.abs().max()
        if drop:
            keep = (E > t).nonzero()[:, 0]
            E, Z, d_col = E[keep], Z[:, keep], d_col[keep]
        else:
            E[(E < t).nonzero()[:, 0]] = t
        return (U * d_col.mT) @ (Z * E ** (-0.5))

    def _get_ortho(self, U: Tensor, V: Tensor) -> Tensor:
        """``U`` made ``B``-orthonormal and ``B``-orthogonal to ``V`` (which is ``B``-orthonormal)."""
        m = self.iparams["m"]
        tau_ortho, tau_drop, tau_replace = (self.fparams[f"ortho_tol{s}"] for s in ("", "_drop", "_replace"))
        i_max, j_max = self.iparams["ortho_i_max"], self.iparams["ortho_j_max"]
        use_drop = self.bparams["ortho_use_drop"]
        for key in [k for k in self.fvars if k.startswith("ortho_") and k.endswith("_rerr")]:
            self.fvars.pop(key)
        self.ivars.pop("ortho_i", 0)
        self.ivars.pop("ortho_j", 0)
        BV_norm = _times(self.B, V).norm()
        BU = _times(self.B, U)
        VBU = V.mT @ BU
        i = j = 0
        for i in range(i_max):
            U = U - V @ VBU
            drop, tau_svqb = False, tau_drop
            for j in range(j_max):
                if use_drop:
                    U = self._get_svqb(U, drop, tau_svqb)
                    drop, tau_svqb = True, tau_replace
                else:
                    U = self._get_svqb(U, False, tau_replace)
                if U.numel() == 0:
                    self.ivars["ortho_i"], self.ivars["ortho_j"] = i, j
                    return U
                BU = _times(self.B, U)
                UBU = U.mT @ BU
                R = UBU - eye(UBU.shape[-1], dtype=UBU.dtype, device=UBU.device)
                rerr = float(R.norm()) / float(BU.norm() * U.norm())
                self.fvars[f"ortho_UBUmI_rerr[{i}, {j}]"] = rerr
                if rerr < tau_ortho:
                    break
            VBU = V.mT @ BU
            rerr = float(VBU.norm()) / float(BV_norm * U.norm())
            self.fvars[f"ortho_VBU_rerr[{i}]"] = rerr
            if rerr < tau_ortho:
                break
            if m < U.shape[-1] + V.shape[-1]:
                columns = m if self.B is None else self.B.shape[-1]
                raise ValueError(
                    f"Overdetermined shape of U: #B-cols(={columns}) >= #U-cols(={U.shape[-1]}) + "
                    f"#V-cols(={V.shape[-1]}) must hold"
                )
        self.ivars["ortho_i"], self.ivars["ortho_j"] = i, j
        return U


# -- the gradient (B = I) -------------------------------------------------------------------------
def _complete_eigenspace_backward(D_grad: Tensor, U_grad: Tensor, D: Tensor, U: Tensor) -> Tensor:
    """``U (diag(gD) + (U^T gU) / (D_j - D_i)) U^T`` (0 on the diagonal of the quotient), the
    gradient of a full symmetric eigen decomposition."""
    gaps = D.unsqueeze(-2) - D.unsqueeze(-1)
    diagonal = eye(gaps.shape[-1], dtype=dtypes.bool, device=gaps.device)
    F = where(diagonal, 0.0, 1 / where(diagonal, 1.0, gaps))
    Ut = U.mT
    return U @ ((D_grad.diag_embed() + (Ut @ U_grad) * F) @ Ut)


def _polynomial_coefficients_given_roots(roots: Tensor) -> Tensor:
    """The coefficients, lowest power first, of the monic polynomial with these roots (last dim)."""
    order = roots.shape[-1]
    coefficients = zeros((*roots.shape[:-1], order + 2), dtype=roots.dtype, device=roots.device)
    coefficients[..., 0] = 1
    coefficients[..., -1] = 1
    for i in range(1, order + 1):
        updated = coefficients.clone()
        updated[..., order - i : order + 1] = (
            coefficients[..., order - i : order + 1]
            - roots[..., i - 1 : i] * coefficients[..., order - i + 1 : order + 2]
        )
        coefficients = updated
    return coefficients[..., 1 : order + 2]


def _matrix_polynomial_value(poly: Tensor, x: Tensor) -> Tensor:
    """The polynomial ``poly`` (lowest power first) at the square matrix ``x``, by Horner's rule."""
    identity = eye(x.shape[-1], dtype=x.dtype, device=x.device)
    value = identity
    for k in range(poly.shape[-1] - 2, -1, -1):
        value = x @ value + poly[..., k, None, None] * identity
    return value


def _vector_polynomial_value(poly: Tensor, x: Tensor) -> Tensor:
    value = x.new_ones(1).expand(x.shape)
    for k in range(poly.shape[-1] - 2, -1, -1):
        value = poly[..., k].unsqueeze(-1) + x * value
    return value


def _partial_eigenspace_backward(
    D_grad: Tensor, U_grad: Tensor, A: Tensor, D: Tensor, U: Tensor, largest: bool
) -> Tensor:
    """The gradient through ``k < m`` eigenpairs: the complement of ``U``'s span enters through the
    characteristic polynomial of ``D`` evaluated at ``A`` (PyTorch's derivation)."""
    Ut = U.mT
    projection = -(U @ Ut) + eye(U.shape[-2], dtype=U.dtype, device=U.device)
    complement = projection @ randn(
        (*A.shape[:-1], A.shape[-1] - D.shape[-1]), dtype=A.dtype, device=A.device, generator=Generator()
    )
    complement_t = complement.mT
    characteristic = _polynomial_coefficients_given_roots(D)
    projected = U_grad
    series = zeros(U_grad.shape, dtype=U_grad.dtype, device=U_grad.device)
    for k in range(1, characteristic.shape[-1]):
        series = series + projected * _vector_polynomial_value(characteristic[..., k:], D).unsqueeze(-2)
        projected = A @ projected
    at_A = complement_t @ (_matrix_polynomial_value(characteristic, A) @ complement)
    sign = -1 if largest and k % 2 == 1 else 1
    L = linalg.cholesky(sign * at_A)
    gradient = _complete_eigenspace_backward(D_grad, U_grad, D, U)
    return gradient - (complement @ (sign * cholesky_solve(complement_t @ series, L))) @ Ut


class _Lobpcg(Function):
    @staticmethod
    def forward(ctx, A, k, B, X, n, iK, niter, tol, largest, method, tracker, iparams, fparams, bparams):
        D, U = _lobpcg(A, k, B, X, n, iK, niter, tol, largest, method, tracker, iparams, fparams, bparams)
        ctx.save_for_backward(A, D, U)
        ctx.largest, ctx.has_B = largest, B is not None
        return D, U

    @staticmethod
    def backward(ctx, D_grad, U_grad):
        A, D, U = ctx.saved_tensors
        if ctx.has_B:
            raise ValueError("lobpcg.backward does not support backward with B != I yet.")
        D_grad = zeros(D.shape, dtype=D.dtype, device=D.device) if D_grad is None else D_grad
        U_grad = zeros(U.shape, dtype=U.dtype, device=U.device) if U_grad is None else U_grad
        largest = True if ctx.largest is None else ctx.largest
        if U.shape[-1] == U.shape[-2]:
            A_grad = _complete_eigenspace_backward(D_grad, U_grad, D, U)
        else:
            A_grad = _partial_eigenspace_backward(D_grad, U_grad, A, D, U, largest)
        return (A_grad, *[None] * 13)


def lobpcg(
    A: Tensor,
    k: int | None = None,
    B: Tensor | None = None,
    X: Tensor | None = None,
    n: int | None = None,
    iK: Tensor | None = None,
    niter: int | None = None,
    tol: float | None = None,
    largest: bool | None = None,
    method: str | None = None,
    tracker: Callable[[LOBPCG], Any] | None = None,
    ortho_iparams: dict[str, int] | None = None,
    ortho_fparams: dict[str, float] | None = None,
    ortho_bparams: dict[str, bool] | None = None,
) -> tuple[Tensor, Tensor]:
    r"""The ``k`` largest (or smallest) eigenpairs of :math:`A X = B X \operatorname{diag}(E)`
    for symmetric positive definite ``A`` and ``B``, by LOBPCG.

    Args:
        A (Tensor or sparse COO tensor): the symmetric input of shape :math:`(*, m, m)`.
        k (int, optional): the number of eigenpairs. Default: ``X``'s columns, or 1.
        B (Tensor, optional): the symmetric positive definite right-hand side. Default: the identity.
        X (Tensor, optional): the initial block :math:`(*, m, n)`. Default: :func:`ember.randn`.
        n (int, optional): the block size when ``X`` is not given. Default: ``k``.
        iK (Tensor, optional): a preconditioner :math:`(*, m, m)`. Default: the identity.
        niter (int, optional): the most steps (-1: until convergence). Default: 1000.
        tol (float, optional): the relative residual of convergence. Default: the square root
            of the dtype's epsilon.
        largest (bool, optional): the largest eigenvalues, else the smallest. Default: ``True``.
        method (str, optional): ``"ortho"`` or ``"basic"``. Default: ``"ortho"``.
        tracker (callable, optional): called with the solver state after each step.
        ortho_iparams, ortho_fparams, ortho_bparams (dict, optional): the ``"ortho"`` method's
            parameters (``ortho_i_max``, ``ortho_j_max``, ``ortho_tol``, ``ortho_tol_drop``,
            ``ortho_tol_replace``, ``ortho_use_drop``).

    Returns:
        ``(E, X)``: the eigenvalues :math:`(*, k)` and eigenvectors :math:`(*, m, k)`.

    Example::

        >>> A = ember.diag(ember.arange(1.0, 13.0, dtype=ember.float64))
        >>> E, X = ember.lobpcg(A, k=2)
        >>> E.round()
        tensor([12., 11.], dtype=ember.float64)
    """
    if A.requires_grad or (B is not None and B.requires_grad):
        A_sym = (A + A.mT) / 2
        B_sym = (B + B.mT) / 2 if B is not None else None
        return _Lobpcg.apply(
            A_sym, k, B_sym, X, n, iK, niter, tol, largest, method, tracker, ortho_iparams, ortho_fparams, ortho_bparams
        )
    return _lobpcg(A, k, B, X, n, iK, niter, tol, largest, method, tracker, ortho_iparams, ortho_fparams, ortho_bparams)


def _lobpcg(A, k, B, X, n, iK, niter, tol, largest, method, tracker, ortho_iparams, ortho_fparams, ortho_bparams):
    if A.shape[-2] != A.shape[-1]:
        raise AssertionError(f"A must be square, got shape {A.shape}")
    if B is not None and A.shape != B.shape:
        raise AssertionError(f"A and B must have same shape, got {A.shape} vs {B.shape}")
    dtype = A.dtype if A.dtype in (dtypes.float16, dtypes.float32, dtypes.float64) else dtypes.float32
    if tol is None:
        tol = _EPS[dtype] ** 0.5
    m = A.shape[-1]
    k = (1 if X is None else X.shape[-1]) if k is None else k
    n = (k if n is None else n) if X is None else X.shape[-1]
    if m < 3 * n:
        raise ValueError(
            f"LOBPCG algorithm is not applicable when the number of A rows (={m}) is smaller than 3 x the number "
            f"of requested eigenpairs (={n})"
        )
    method = "ortho" if method is None else method
    iparams = {"m": m, "n": n, "k": k, "niter": 1000 if niter is None else niter}
    fparams = {"tol": tol}
    bparams = {"largest": True if largest is None else largest}
    if method == "ortho":
        iparams.update(ortho_iparams or {})
        fparams.update(ortho_fparams or {})
        bparams.update(ortho_bparams or {})
        iparams.setdefault("ortho_i_max", 3)
        iparams.setdefault("ortho_j_max", 3)
        for key in ("ortho_tol", "ortho_tol_drop", "ortho_tol_replace"):
            fparams.setdefault(key, tol)
        bparams.setdefault("ortho_use_drop", False)

    def solve(A_, B_, X_):
        X_ = randn((m, n), dtype=dtype, device=A.device) if X_ is None else X_
        if not (X_.ndim == 2 and tuple(X_.shape) == (m, n)):
            raise AssertionError(f"X shape mismatch: got {X_.shape}, expected {(m, n)}")
        worker = LOBPCG(A_, B_, X_, iK, iparams, fparams, bparams, method, tracker)
        worker.run()
        return worker.E[:k], worker.X[:, :k]

    if A.ndim == 2:
        return solve(A, B, X)
    batch = A.shape[:-2]
    flat = (-1, *A.shape[-2:])
    bA, bB = A.reshape(flat), None if B is None else B.reshape(flat)
    bX = None if X is None else X.reshape((-1, *X.shape[-2:]))
    E = zeros((bA.shape[0], k), dtype=dtype, device=A.device)
    V = zeros((bA.shape[0], m, k), dtype=dtype, device=A.device)
    for i in range(bA.shape[0]):
        iparams["batch_index"] = i
        E[i], V[i] = solve(bA[i], None if bB is None else bB[i], None if bX is None else bX[i])
    return E.reshape((*batch, k)), V.reshape((*batch, m, k))
