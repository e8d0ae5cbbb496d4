"""Matrix functions and products of ``ember.linalg``: ``matrix_exp``, ``householder_product``,
``multi_dot``, ``vecdot``, ``cross`` and ``diagonal``."""

from __future__ import annotations

from collections.abc import Sequence

from .. import dtypes
from ..amp.policy import autocast_call
from ..amp.state import state as _amp
from ..amp.state import suspended as _amp_suspended
from ..autograd.function import Function
from ..tensor import Tensor
from ..type_names import type_name
from .arithmetic import where
from .comparison import _TORCH_NAMES
from .creation import arange, eye, zeros
from .linalg_common import check_matrix, check_precision, lapack_strided
from .matrix import cross as _cross
from .matrix import diagonal as _diagonal
from .movement import cat
from .operands import tensor_input
from .out_argument import write_out

__all__ = [
    "matrix_exp",
    "linalg_matrix_exp",
    "linalg_householder_product",
    "linalg_multi_dot",
    "linalg_vecdot",
    "linalg_cross",
    "linalg_diagonal",
    "linalg_vander",
]


class _MatrixExp(Function):
    @staticmethod
    def forward(ctx, A):
        E = A._make(A._backend.kernels.linalg_matrix_exp(A._data))
        ctx.save_for_backward(A)
        return E

    @staticmethod
    def backward(ctx, grad):
        # the Frechet derivative at A^H applied to G: the upper-right block of exp([[A^H, G], [0, A^H]])
        (A,) = ctx.saved_tensors
        n = A.shape[-1]
        top = cat([A.mH, grad], dim=-1)
        bottom = cat([grad.new_zeros(grad.shape), A.mH], dim=-1)  # zeros, not grad * 0 (NaN where grad is inf)
        return _MatrixExp.apply(cat([top, bottom], dim=-2))[..., :n, n:]


def linalg_matrix_exp(A: Tensor) -> Tensor:
    """The matrix exponential :math:`e^A = \\sum_k A^k / k!` of a square matrix (of each of a batch).

    Scaling and squaring with a Taylor polynomial; the gradient is the Fréchet derivative at
    :math:`A^T`, itself a matrix exponential (so it can be differentiated again).

    Args:
        A (Tensor): a floating point or complex tensor of shape :math:`(*, n, n)`.

    Example::

        >>> ember.linalg.matrix_exp(ember.tensor([[0.0, 1.0], [0.0, 0.0]]))
        tensor([[1., 1.],
                [0., 1.]])
    """
    check_matrix("linalg.matrix_exp", A)  # no LAPACK: float16 and bfloat16 too, as in PyTorch
    return _MatrixExp.apply(A)


@tensor_input
def matrix_exp(input: Tensor) -> Tensor:
    """The matrix exponential of a square matrix (of each of a batch): :func:`ember.linalg.matrix_exp`.

    Args:
        input (Tensor): a floating point or complex tensor of shape :math:`(*, n, n)`.

    Example::

        >>> ember.matrix_exp(ember.tensor([[0.0, 1.0], [0.0, 0.0]]))
        tensor([[1., 1.],
                [0., 1.]])
    """
    return linalg_matrix_exp(input)


def linalg_householder_product(A: Tensor, tau: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The first ``n`` columns of the product :math:`H_1 \\cdots H_k` of Householder reflections
    :math:`H_i = I - \tau_i v_i v_i^T`, where :math:`v_i` is column ``i`` of ``A`` below its
    diagonal with a 1 on it (LAPACK's ``orgqr``: ``Q`` from a compact QR factorization).

    Differentiable in ``A`` and ``tau`` (composed of differentiable ops).

    Args:
        A (Tensor): the reflectors, :math:`(*, m, n)` with ``m >= n``.
        tau (Tensor): their scales, :math:`(*, k)` with ``k <= n``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> A = ember.tensor([[1.0, 0.0], [1.0, 1.0]])
        >>> ember.linalg.householder_product(A, ember.tensor([1.0, 0.0]))
        tensor([[ 0., -1.],
                [-1.,  0.]])
    """
    if _amp.active and out is None:
        return autocast_call("linalg_householder_product", linalg_householder_product, A, tau)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("linalg.householder_product", linalg_householder_product(A, tau), out)
    op = "torch.linalg.householder_product"
    check_matrix(op, A, square=False, floating=False)
    if not isinstance(tau, Tensor):
        raise TypeError(f"{op}(): argument 'tau' must be Tensor, not {type_name(tau)}")
    m, n = A.shape[-2:]
    if m < n:
        raise RuntimeError(f"{op}: input.shape[-2] must be greater than or equal to input.shape[-1]")
    if n < tau.shape[-1]:
        raise RuntimeError(f"{op}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    if tau.ndim != A.ndim - 1:
        raise RuntimeError(
            f"{op}: Expected tau to have one dimension less than input, but got tau.ndim equal to {tau.ndim} and "
            f"input.ndim is equal to {A.ndim}"
        )
    if tau.dtype != A.dtype:
        raise RuntimeError(
            f"{op}: tau dtype {_TORCH_NAMES[tau.dtype.name]} does not match input dtype {_TORCH_NAMES[A.dtype.name]}"
        )
    check_precision(op, A, "orgqr_cpu")
    rows = arange(m, device=A.device).unsqueeze(-1)
    Q = eye(m, n, dtype=A.dtype, device=A.device).expand(*A.shape[:-2], m, n)
    for i in range(tau.shape[-1] - 1, -1, -1):  # H_i (H_i+1 ... H_k [I; 0])
        v = where(rows > i, A[..., :, i : i + 1], (rows == i).to(A.dtype))
        Q = Q - (tau[..., i, None, None] * v) * (v.mH @ Q)
    if not tau.shape[-1] and A.requires_grad:  # no reflection: Q still depends on A (a zero gradient), as in PyTorch
        Q = where(zeros(A.shape, dtype=dtypes.bool, device=A.device), A, Q)
    return lapack_strided(Q)  # column-major, as LAPACK's orgqr leaves PyTorch's


def _chain_order(sizes: Sequence[int]) -> list[list[int]]:
    """The split points of the cheapest product of matrices ``sizes[i] x sizes[i + 1]``."""
    count = len(sizes) - 1
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j], split[i][j] = min(
                (cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1], k) for k in range(i, j)
            )
    return split


def _chain_product(tensors: Sequence[Tensor], split: list[list[int]], i: int, j: int) -> Tensor:
    if i == j:
        return tensors[i]
    k = split[i][j]
    return _chain_product(tensors, split, i, k) @ _chain_product(tensors, split, k + 1, j)


def linalg_multi_dot(tensors: Sequence[Tensor], *, out: Tensor | None = None) -> Tensor:
    """The product of two or more matrices, in the order of multiplications that costs the
    fewest operations; the first may be a row vector and the last a column vector (1-D).

    Args:
        tensors (sequence of Tensor): 2-D tensors (the first and the last may be 1-D).
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.linalg.multi_dot([ember.ones(3), ember.ones(3, 4), ember.ones(4)])
        tensor(12.)
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("multi_dot", linalg_multi_dot(tensors), out, exact_dtype=True)
    op = "multi_dot"
    if len(tensors) < 2:
        raise RuntimeError(f"{op}(): expected at least 2 tensors but got {len(tensors)}")
    first, last = tensors[0], tensors[-1]
    matrices = list(tensors)
    if first.ndim == 1:
        matrices[0] = first.unsqueeze(0)
    if last.ndim == 1:
        matrices[-1] = last.unsqueeze(-1)
    for index, t in enumerate(matrices):
        if t.ndim != 2:
            raise RuntimeError(
                f"{op}(): tensor {index} must be 2D but got {tensors[index].ndim}D"
                if 0 < index < len(matrices) - 1
                else f"{op}(): the {'first' if index == 0 else 'last'} tensor must be 1D or 2D but got {t.ndim}D"
            )
    for index in range(1, len(matrices)):
        if matrices[index - 1].shape[1] != matrices[index].shape[0]:
            a, b = matrices[index - 1].shape, matrices[index].shape
            raise RuntimeError(
                f"{op}(): tensors {index - 1} and {index} with shapes {list(a)} and {list(b)} cannot be multiplied"
            )
    sizes = [matrices[0].shape[0], *(t.shape[1] for t in matrices)]
    out = _chain_product(matrices, _chain_order(sizes), 0, len(matrices) - 1)
    if first.ndim == 1:
        out = out.squeeze(0)
    if last.ndim == 1:
        out = out.squeeze(-1)
    return out


def linalg_vecdot(x: Tensor, y: Tensor, *, dim: int = -1, out: Tensor | None = None) -> Tensor:
    """The dot product of vectors along ``dim`` (the other dimensions broadcast).

    Args:
        x (Tensor), y (Tensor): the operands.
        dim (int): the dimension of the vectors. Default: -1
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.linalg.vecdot(ember.tensor([[1.0, 2.0], [3.0, 4.0]]), ember.tensor([1.0, 1.0]))
        tensor([3., 7.])
    """
    if _amp.active and out is None:
        return autocast_call("linalg_vecdot", linalg_vecdot, x, y, dim=dim)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("linalg.vecdot", linalg_vecdot(x, y, dim=dim), out, exact_dtype=True)
    if not isinstance(x, Tensor) or not isinstance(y, Tensor):
        raise TypeError(f"linalg.vecdot(): expected Tensor arguments, got {type(x).__name__} and {type(y).__name__}")
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        raise RuntimeError(
            f"linalg.vecdot: Expected a floating point or complex tensor as input. Got {_TORCH_NAMES[x.dtype.name]}"
        )
    if x.dtype != y.dtype:
        raise RuntimeError(
            f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type {_TORCH_NAMES[x.dtype.name]} "
            f"and y of type {_TORCH_NAMES[y.dtype.name]} instead"
        )
    return (x.conj() * y).sum(dim)


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1, out: Tensor | None = None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (the other dimensions broadcast).

    Example::

        >>> ember.linalg.cross(ember.tensor([1.0, 0.0, 0.0]), ember.tensor([0.0, 1.0, 0.0]))
        tensor([0., 0., 1.])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out(
                "linalg.cross", linalg_cross(input, other, dim=dim), out, exact_dtype=True, apart=(input, other)
            )
    return _cross(input, other, dim=dim)


def linalg_diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonals of a (batch of) matrices, over the last two dimensions by default.

    Example::

        >>> ember.linalg.diagonal(ember.tensor([[1.0, 2.0], [3.0, 4.0]]))
        tensor([1., 4.])
    """
    return _diagonal(A, offset, dim1, dim2)


def linalg_vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """The Vandermonde matrix of ``x``: its columns are the powers ``x^0, x^1, ..., x^(N-1)``.

    Args:
        x (Tensor): a tensor of shape :math:`(*, n)` (a number is read as one element), floating
            point (float32 or float64) or integer.
        N (int, optional): the number of columns, at least 2. Default: ``n``

    Returns:
        A tensor of shape :math:`(*, n, N)`.

    Example::

        >>> ember.linalg.vander(ember.tensor([1, 2, 3]))
        tensor([[1, 1, 1],
                [1, 2, 4],
                [1, 3, 9]])
    """
    if x.dtype.name not in ("float32", "float64") and (x.dtype.is_floating_point or x.dtype.name == "bool"):
        raise RuntimeError(
            f"linalg.vander supports floating point, complex, and integer tensors, but got {_TORCH_NAMES[x.dtype.name]}"
        )
    x = x.unsqueeze(-1) if x.ndim == 0 else x
    n = x.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    powers = x.unsqueeze(-1).expand(*x.shape, n - 1).cumprod(-1)
    return cat([powers.new_ones((*x.shape, 1)), powers], dim=-1)
