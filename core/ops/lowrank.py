"""Randomized low-rank decompositions: ``svd_lowrank`` and ``pca_lowrank`` (PyTorch's
``torch.svd_lowrank``/``torch.pca_lowrank``, Halko, Martinsson and Tropp, 2009).

The random test matrix is drawn by :func:`ember.randn` from the default generator in PyTorch's
order, so one seed gives PyTorch's basis; the QR and SVD factorizations after it are LAPACK's, whose
signs and last bits may differ between LAPACK builds. Both ops are differentiable (they are
compositions of differentiable ops)."""

from __future__ import annotations

from .. import dtypes
from ..sparse import SparseCOOTensor
from ..tensor import Tensor
from .creation import ones, randn
from .linalg_decompositions import linalg_qr, linalg_svd

__all__ = ["pca_lowrank", "svd_lowrank"]


def _adjoint(A: Tensor | SparseCOOTensor) -> Tensor | SparseCOOTensor:
    return A.t() if isinstance(A, SparseCOOTensor) else A.mH


def _approximate_basis(A: Tensor | SparseCOOTensor, q: int, niter: int, M: Tensor | None) -> Tensor:
    """``Q`` with ``q`` orthonormal columns such that ``Q Q^H (A - M)`` approximates ``A - M``
    (Halko et al., algorithm 4.4: a random range, then ``niter`` subspace iterations)."""
    # PyTorch's choice: A's own half, single, double or complex type, else float32 (bfloat16 and the
    # integers: their product with a float32 matrix is then refused, as in PyTorch)
    dtype = (
        A.dtype if A.dtype in (dtypes.float16, dtypes.float32, dtypes.float64) or A.dtype.is_complex else dtypes.float32
    )
    R = randn(A.shape[-1], q, dtype=dtype, device=A.device)

    def times(left: Tensor | SparseCOOTensor, minus: Tensor | None, right: Tensor) -> Tensor:
        product = left @ right
        return product if minus is None else product - minus @ right

    Q = linalg_qr(times(A, M, R)).Q
    for _ in range(niter):
        Q = linalg_qr(times(_adjoint(A), None if M is None else M.mH, Q)).Q
        Q = linalg_qr(times(A, M, Q)).Q
    return Q


def svd_lowrank(
    A: Tensor, q: int | None = 6, niter: int | None = 2, M: Tensor | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    r"""An approximate rank-``q`` singular value decomposition ``(U, S, V)`` with
    :math:`A - M \approx U \operatorname{diag}(S) V^{\text{H}}`, by random projection.

    Worth it for large (sparse) matrices of low rank; :func:`ember.linalg.svd` is exact and
    faster on small dense ones. The result is random: :func:`ember.manual_seed` makes it repeatable.

    Args:
        A (Tensor or sparse COO tensor): the input of shape :math:`(*, m, n)`.
        q (int, optional): a slightly overestimated rank of ``A``. Default: ``6``.
        niter (int, optional): the number of subspace iterations. Default: ``2``.
        M (Tensor, optional): a mean subtracted from ``A``, broadcast to its shape. Default: ``None``.

    Returns:
        ``U`` :math:`(*, m, q)`, ``S`` :math:`(*, q)` descending and ``V`` :math:`(*, n, q)`.

    Example::

        >>> A = ember.randn(20, 3) @ ember.randn(3, 10)
        >>> U, S, V = ember.svd_lowrank(A, q=4)
        >>> ember.allclose(U @ S.diag() @ V.mT, A, atol=1e-4)
        True
    """
    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.shape)
    wide = m < n
    if wide:  # the basis of the smaller side
        A = _adjoint(A)
        M = None if M is None else M.mH
    Q = _approximate_basis(A, q, niter, M)
    B = (_adjoint(A) @ Q).mH if isinstance(A, SparseCOOTensor) else Q.mH @ A
    if M is not None:
        B = B - Q.mH @ M
    U, S, Vh = linalg_svd(B, full_matrices=False)
    U, V = Q @ U, Vh.mH
    return (V, S, U) if wide else (U, S, V)


def pca_lowrank(
    A: Tensor | SparseCOOTensor, q: int | None = None, center: bool = True, niter: int = 2
) -> tuple[Tensor, Tensor, Tensor]:
    r"""Principal component analysis of the rows of ``A`` by :func:`svd_lowrank`: ``(U, S, V)``
    of the centered ``A``, the columns of ``V`` being the principal directions.

    Args:
        A (Tensor or sparse COO tensor): the data of shape :math:`(*, m, n)`: ``m`` samples of
            ``n`` features. A sparse ``A`` is centered through ``M`` (see :func:`svd_lowrank`).
        q (int, optional): the number of components, at most :math:`\min(m, n)`.
            Default: :math:`\min(6, m, n)`.
        center (bool, optional): subtract the mean of each column first. Default: ``True``.
        niter (int, optional): the number of subspace iterations. Default: ``2``.

    Returns:
        ``U`` :math:`(*, m, q)`, ``S`` :math:`(*, q)` and ``V`` :math:`(*, n, q)`;
        ``S**2 / (m - 1)`` are the variances along the principal directions.

    Example::

        >>> data = ember.randn(100, 2) @ ember.tensor([[3.0, 0.0], [0.0, 0.5]])
        >>> U, S, V = ember.pca_lowrank(data, q=2)
        >>> V.abs().round()
        tensor([[1., 0.],
                [0., 1.]])
    """
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not 0 <= q <= min(m, n):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return svd_lowrank(A, q, niter=niter)
    if isinstance(A, SparseCOOTensor):
        column_means = (A.t() @ ones(m, 1, dtype=A.dtype, device=A.device)) / m
        return svd_lowrank(A, q, niter=niter, M=ones(m, 1, dtype=A.dtype, device=A.device) @ column_means.mT)
    return svd_lowrank(A - A.mean(dim=(-2,), keepdim=True), q, niter=niter)
