"""``nn.utils.parametrizations.orthogonal``: a matrix (or a batch of matrices) with orthonormal
columns or rows, computed from an unconstrained tensor by the matrix exponential, the Cayley map
or a product of Householder reflections, optionally on a moving base (the dynamic trivialization).

Real floating point weights only: ember has no complex dtypes, so the unitary case of PyTorch's
function does not arise.
"""

from __future__ import annotations

from typing import TypeVar

from ...autograd.grad_mode import no_grad
from ...ops.arithmetic import where
from ...ops.comparison import allclose
from ...ops.creation import arange, eye, randn, zeros_like
from ...ops.linalg_functions import linalg_householder_product, matrix_exp
from ...ops.linalg_solve import linalg_solve
from ...ops.movement import cat
from ...tensor import Tensor
from ...typeinfo import finfo
from ..modules.module import Module
from . import parametrize

__all__ = ["orthogonal"]

_M = TypeVar("_M", bound=Module)

#: the maps from an unconstrained matrix to an orthogonal one, as PyTorch names them
_MAPS = ("matrix_exp", "cayley", "householder")


def _is_orthogonal(Q: Tensor) -> bool:
    """Whether the tall ``Q`` (..., n, k) has orthonormal columns, to PyTorch's tolerance."""
    n, k = Q.shape[-2:]
    identity = eye(k, dtype=Q.dtype, device=Q.device)
    return allclose(Q.mT @ Q, identity, atol=10.0 * n * finfo(Q.dtype).eps)


def _geqrf(A: Tensor) -> tuple[Tensor, Tensor]:
    """LAPACK's ``geqrf`` of a tall ``A`` (..., n, k): ``R`` on and above the diagonal, the
    Householder vectors (their unit first entries left implicit) below it, and their scales
    ``tau`` (..., k). Each reflection maps its column ``x`` to ``beta = -sign(x_0) |x|``; a column
    already zero below the diagonal gets ``tau = 0`` (no reflection), as ``dlarfg`` does."""
    n, k = A.shape[-2:]
    rows = arange(n, device=A.device).unsqueeze(-1)
    cols = arange(k, device=A.device)
    out, taus = A, []
    for i in range(k):
        x = out[..., :, i : i + 1]
        alpha = out[..., i : i + 1, i : i + 1]
        below = where(rows > i, x, 0.0)
        tail = (below * below).sum(dim=-2, keepdim=True)
        reflect = tail > 0
        norm = (alpha * alpha + tail).sqrt()
        beta = where(reflect, where(alpha >= 0, -norm, norm), alpha)
        tau = where(reflect, (beta - alpha) / beta, 0.0)
        v = where(rows > i, below / where(reflect, alpha - beta, 1.0), (rows == i).to(A.dtype))
        reflected = out - (tau * v) * (v.mT @ out)
        column = where(rows > i, v, where(rows == i, beta, x))
        out = where(cols > i, reflected, where(cols == i, column, out))
        taus.append(tau[..., 0, 0])
    if not taus:
        return out, A.new_zeros(*A.shape[:-2], 0)
    return out, cat([t.unsqueeze(-1) for t in taus], dim=-1)


def _make_orthogonal(A: Tensor) -> Tensor:
    """The ``Q`` factor of the tall ``A = QR`` with ``R``'s diagonal non-negative."""
    reflectors, tau = _geqrf(A)
    Q = linalg_householder_product(reflectors, tau)
    return Q * reflectors.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


class _Orthogonal(Module):
    """The parametrization: ``forward`` maps the unconstrained original tensor to the orthogonal
    one, ``right_inverse`` gives an original tensor (and, with the trivialization, a new
    ``base``) from which ``forward`` computes an orthogonalized ``Q``."""

    base: Tensor

    def __init__(self, weight: Tensor, orthogonal_map: str, *, use_trivialization: bool = True) -> None:
        super().__init__()
        if not weight.dtype.is_floating_point:
            raise TypeError(
                f"orthogonal: expected a real floating point tensor (complex tensors are out of ember's scope), "
                f"got dtype {weight.dtype}"
            )
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        self.use_trivialization = use_trivialization
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2:]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        # X is tall (n >= k) from here
        if self.orthogonal_map == "householder":
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            # the diagonal of X holds the signs of the columns (+1 or -1), not trained: cast, not multiplied
            Q = linalg_householder_product(A, tau) * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        else:
            # the skew-symmetric A = L - L^T of the lower triangle L of X padded to n x n
            L = X.tril()
            if n != k:
                L = cat([L, L.new_zeros(n, n - k).expand(*L.shape[:-2], n, n - k)], dim=-1)
            A = L - L.mT
            if self.orthogonal_map == "matrix_exp":
                Q = matrix_exp(A)
            else:  # the Cayley map (I + A/2)(I - A/2)^{-1}
                identity = eye(n, dtype=A.dtype, device=A.device)
                Q = linalg_solve(identity - 0.5 * A, identity + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        if self.use_trivialization:
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        if Q.shape != self.shape:
            raise ValueError(
                f"Expected a matrix or batch of matrices of shape {self.shape}. Got a tensor of shape {Q.shape}."
            )
        with no_grad():
            return self._right_inverse(Q)

    def _right_inverse(self, Q: Tensor) -> Tensor:
        given = Q
        n, k = Q.shape[-2:]
        transposed = n < k
        if transposed:
            Q = Q.mT
            n, k = k, n
        if not self.use_trivialization:
            if self.orthogonal_map != "householder":
                raise NotImplementedError(
                    "It is not possible to assign to the matrix exponential or the Cayley parametrizations when "
                    "use_trivialization=False."
                )
            # the reflectors of Q's QR factorization, the diagonal holding the signs of R's (a column
            # left unreflected, tau = 0, has the sign flipped: forward's tau = 2 reflects it)
            A, tau = _geqrf(Q)
            signs = A.diagonal(dim1=-2, dim2=-1).sign() * where(tau == 0, -1.0, 1.0)
            A = where(arange(n, device=A.device).unsqueeze(-1) == arange(k, device=A.device), signs.unsqueeze(-2), A)
            return A.mT if transposed else A
        if n == k:
            Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
        else:  # complete Q's columns to an n x n orthogonal base
            fill = randn(*Q.shape[:-2], n, n - k, dtype=Q.dtype, device=Q.device)
            Q = _make_orthogonal(cat([Q, fill], dim=-1))
        self.base = Q
        # the original is -I: every map sends it to the first columns of the identity (householder's
        # through its diagonal of signs), so the parametrized tensor starts as base[..., :k]
        negative_identity = zeros_like(given)
        negative_identity.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
        return negative_identity


def orthogonal(
    module: _M, name: str = "weight", orthogonal_map: str | None = None, *, use_trivialization: bool = True
) -> _M:
    r"""Apply an orthogonal parametrization to a matrix or a batch of matrices.

    The parametrized matrix :math:`Q \in \mathbb{R}^{m \times n}` is **orthogonal**:

    .. math::

        Q^{T} Q = \mathrm{I}_n \quad \text{if } m \geq n, \qquad Q Q^{T} = \mathrm{I}_m \quad \text{if } m < n,

    that is, :math:`Q` has orthonormal columns when it is tall (or square) and orthonormal rows
    when it is wide. A tensor of more than two dimensions is a batch of matrices ``(..., m, n)``.

    ``orthogonal_map`` chooses how :math:`Q` is computed from the original tensor:

    - ``"matrix_exp"`` / ``"cayley"``: the matrix exponential :math:`Q = \exp(A)` or the Cayley
      map :math:`Q = (\mathrm{I} + A/2)(\mathrm{I} - A/2)^{-1}` of the skew-symmetric
      :math:`A` made of the original's lower triangle (its first columns when not square).
    - ``"householder"``: a product of Householder reflections (:func:`ember.linalg.householder_product`)
      whose vectors are the original's entries below the diagonal; the diagonal holds the signs
      (``+1``/``-1``) of :math:`Q`'s columns and is not trained.

    With ``use_trivialization=True`` (default), the "dynamic trivialization": an extra orthogonal
    matrix :math:`B`, the buffer ``module.parametrizations.<name>[0].base``, multiplies the map's
    output (:math:`Q = B \phi(X)`), which helps the convergence at the cost of some memory.

    Initial value: with ``use_trivialization=True``, or with ``orthogonal_map="householder"``,
    :math:`Q` starts as the original tensor if it is orthogonal, else as its orthogonalization by
    the QR decomposition (:math:`Q` of :math:`QR` with :math:`R`'s diagonal positive). Otherwise
    it starts as the map applied to the original tensor. Assigning ``module.<name> = Q`` sets it the
    same way (through ``right_inverse``), which ``"matrix_exp"`` and ``"cayley"`` without the
    trivialization do not support (``NotImplementedError``).

    Complex (unitary) weights are out of scope: ember has no complex dtypes, and a weight that is
    not of a floating point dtype raises ``TypeError``. ``float16``/``bfloat16`` weights are not
    supported (ember's linear algebra refuses them).

    Args:
        module (nn.Module): the module on which to register the parametrization.
        name (str, optional): the name of the tensor to make orthogonal. Default: ``"weight"``.
        orthogonal_map (str, optional): ``"matrix_exp"``, ``"cayley"`` or ``"householder"``.
            Default: ``"matrix_exp"`` if the matrix is square, ``"householder"`` otherwise.
        use_trivialization (bool, optional): whether to use the dynamic trivialization.
            Default: ``True``.

    Returns:
        The module, with the parametrization registered on ``name``.

    Shape:
        - ``module.<name>``: :math:`(*, m, n)`, at least two dimensions.

    Example::

        >>> orth_linear = nn.utils.parametrizations.orthogonal(nn.Linear(20, 40))
        >>> orth_linear
        ParametrizedLinear(
          in_features=20, out_features=40, bias=True
          (parametrizations): ModuleDict(
            (weight): ParametrizationList(
              (0): _Orthogonal()
            )
          )
        )
        >>> Q = orth_linear.weight
        >>> ember.allclose(Q.T @ Q, ember.eye(20), atol=1e-5)
        True
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    if not isinstance(orthogonal_map, str):
        raise TypeError(f"orthogonal_map must be a str, not '{type(orthogonal_map).__name__}'")
    if orthogonal_map not in _MAPS:
        raise ValueError(
            f'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". Got: {orthogonal_map}'
        )
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
