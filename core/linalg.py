"""``ember.linalg``: norms, determinants, inverses and linear systems, the LU, Cholesky, QR,
singular value and symmetric eigen decompositions, and the functions built on them (PyTorch's
``torch.linalg`` names and semantics)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .amp.policy import autocast_call
from .amp.state import state as _amp
from .ops.linalg import matmul
from .ops.linalg_common import LinAlgError, check_matrix
from .ops.linalg_decompositions import linalg_cholesky as cholesky
from .ops.linalg_decompositions import linalg_cholesky_ex as cholesky_ex
from .ops.linalg_decompositions import linalg_eigh as eigh
from .ops.linalg_decompositions import linalg_eigvalsh as eigvalsh
from .ops.linalg_decompositions import linalg_lstsq as lstsq
from .ops.linalg_decompositions import linalg_matrix_rank as matrix_rank
from .ops.linalg_decompositions import linalg_pinv as pinv
from .ops.linalg_decompositions import linalg_qr as qr
from .ops.linalg_decompositions import linalg_svd as svd
from .ops.linalg_eig import linalg_eig as eig
from .ops.linalg_eig import linalg_eigvals as eigvals
from .ops.linalg_functions import linalg_cross as cross
from .ops.linalg_functions import linalg_diagonal as diagonal
from .ops.linalg_functions import linalg_householder_product as householder_product
from .ops.linalg_functions import linalg_matrix_exp as matrix_exp
from .ops.linalg_functions import linalg_multi_dot as multi_dot
from .ops.linalg_functions import linalg_vander as vander
from .ops.linalg_functions import linalg_vecdot as vecdot
from .ops.linalg_ldl import linalg_ldl_factor as ldl_factor
from .ops.linalg_ldl import linalg_ldl_factor_ex as ldl_factor_ex
from .ops.linalg_ldl import linalg_ldl_solve as ldl_solve
from .ops.linalg_solve import linalg_det as det
from .ops.linalg_solve import linalg_inv as inv
from .ops.linalg_solve import linalg_inv_ex as inv_ex
from .ops.linalg_solve import linalg_lu as lu
from .ops.linalg_solve import linalg_lu_factor as lu_factor
from .ops.linalg_solve import linalg_lu_factor_ex as lu_factor_ex
from .ops.linalg_solve import linalg_lu_solve as lu_solve
from .ops.linalg_solve import linalg_slogdet as slogdet
from .ops.linalg_solve import linalg_solve as solve
from .ops.linalg_solve import linalg_solve_ex as solve_ex
from .ops.linalg_solve import linalg_solve_triangular as solve_triangular
from .ops.linalg_solve import linalg_tensorinv as tensorinv
from .ops.linalg_solve import linalg_tensorsolve as tensorsolve
from .ops.linalg_solve import matrix_power
from .ops.matrix_norms import _check_floating, matrix_norm
from .ops.operands import bool_arg_error, numpy_names
from .ops.out_argument import write_out
from .ops.reduction import norm as _pnorm
from .ops.singular import svdvals
from .tensor import Tensor, dtype_arg

if TYPE_CHECKING:
    from .types import _dtype

__all__ = [
    "LinAlgError",
    "cholesky",
    "cholesky_ex",
    "cond",
    "cross",
    "det",
    "diagonal",
    "eig",
    "eigh",
    "eigvals",
    "eigvalsh",
    "householder_product",
    "inv",
    "inv_ex",
    "ldl_factor",
    "ldl_factor_ex",
    "ldl_solve",
    "lstsq",
    "lu",
    "lu_factor",
    "lu_factor_ex",
    "lu_solve",
    "matmul",
    "matrix_exp",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_ex",
    "solve_triangular",
    "svd",
    "svdvals",
    "tensorinv",
    "tensorsolve",
    "vander",
    "vecdot",
    "vector_norm",
]


def vector_norm(
    x: Tensor,
    ord: float = 2,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    dtype: _dtype | None = None,
    out: Tensor | None = None,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    r"""The vector ``ord``-norm of ``x`` over ``dim`` (every element when ``None``).

    .. math::
        \|x\|_{ord} = \left(\sum_i |x_i|^{ord}\right)^{1/ord}

    Args:
        x (Tensor): a floating point tensor.
        ord (float): the order: any real number, ``inf`` (the largest magnitude), ``-inf`` (the
            smallest) or 0 (the count of non-zeros). Default: 2
        dim (int or tuple of ints, optional): the dimensions to reduce. Default: ``None`` (all)
        keepdim (bool): keep the reduced dimensions with size 1. Default: ``False``
        dtype (ember.dtype, optional): compute and return in this type. Default: ``None``
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int or tuple of ints, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> ember.linalg.vector_norm(ember.tensor([[3.0, -4.0], [0.0, 12.0]]))
        tensor(13.)
        >>> ember.linalg.vector_norm(ember.tensor([[3.0, -4.0], [0.0, 12.0]]), ord=1, dim=1)
        tensor([ 7., 12.])
    """
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("vector_norm", dim, None, axis, keepdim, keepdims)
    if keepdim is not True and keepdim is not False:
        raise bool_arg_error("linalg_vector_norm", "keepdim", keepdim)
    if out is not None:
        return write_out("linalg.vector_norm", vector_norm(x, ord, dim, keepdim, dtype=dtype), out, exact_dtype=True)

    if not isinstance(x, Tensor):
        _check_floating("linalg.vector_norm", x, "x")
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    if dtype is not None:
        dtype = dtype_arg("linalg_vector_norm", dtype)
    return _pnorm(x, ord, dim=None if dim == () else dim, keepdim=keepdim, dtype=dtype)


def norm(
    A: Tensor,
    ord: float | str | None = None,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    dtype: _dtype | None = None,
    out: Tensor | None = None,
    axis: int | Sequence[int] | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    r"""A vector or matrix norm, chosen as :func:`torch.linalg.norm` does: a matrix norm when ``ord``
    is a string or ``dim`` has two entries (or, with ``ord`` given and ``dim`` not, ``A`` is 2-D),
    else a vector norm; with neither given, the 2-norm of every element.

    Args:
        A (Tensor): a floating point tensor.
        ord (int, float, inf or str, optional): the order (see :func:`vector_norm` and
            :func:`matrix_norm`). Default: ``None``
        dim (int or tuple of ints, optional): the dimensions to reduce. Default: ``None``
        keepdim (bool): keep the reduced dimensions with size 1. Default: ``False``
        dtype (ember.dtype, optional): compute and return in this type. Default: ``None``
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int or tuple of ints, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> A = ember.tensor([[3.0, 0.0], [0.0, -4.0]])
        >>> ember.linalg.norm(A), ember.linalg.norm(A, 'nuc'), ember.linalg.norm(A, dim=1)
        (tensor(5.), tensor(7.), tensor([3., 4.]))
    """
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("norm", dim, None, axis, keepdim, keepdims)
    if keepdim is not True and keepdim is not False:
        raise bool_arg_error("linalg_norm", "keepdim", keepdim)
    if out is not None:
        return write_out("linalg.norm", norm(A, ord, dim, keepdim, dtype=dtype), out, exact_dtype=True)
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if isinstance(ord, str) or len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if isinstance(A, Tensor) and A.ndim not in (1, 2):
        raise RuntimeError(
            f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.ndim}D."
        )
    if isinstance(ord, str) or (isinstance(A, Tensor) and A.ndim == 2):
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    return vector_norm(A, ord, None, keepdim, dtype=dtype)


def cond(A: Tensor, p: float | str | None = None, *, out: Tensor | None = None) -> Tensor:
    r"""The condition number of a matrix (or of each matrix of a batch) in the norm ``p``.

    .. math::
        \kappa(A) = \|A\|_p \|A^{-1}\|_p

    For ``p`` of ``None``, 2 or -2 it is the ratio of the largest to the smallest singular value (its
    inverse for -2), for any shape; the other orders need square matrices and give ``inf`` for a
    singular one. An empty matrix gives 0.

    Args:
        A (Tensor): a floating point tensor of shape :math:`(*, m, n)`.
        p (int, inf, -inf, 'fro' or 'nuc', optional): the norm (see :func:`matrix_norm`). Default: ``None``
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.linalg.cond(ember.tensor([[1.0, 0.0], [0.0, 4.0]]))
        tensor(4.)
    """
    if _amp.active and out is None:
        return autocast_call("linalg_cond", cond, A, p)
    if out is not None:
        return write_out("linalg.cond", cond(A, p), out)
    if isinstance(A, Tensor) and A.ndim < 2:
        raise RuntimeError("linalg.cond: The input tensor must have at least 2 dimensions.")
    if p not in (None, 2, -2, 1, -1, math.inf, -math.inf, "fro", "nuc"):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    if p is None or p in (2, -2):
        if isinstance(A, Tensor) and A.numel() == 0:  # zeros of the real type, whatever the dtype (as PyTorch)
            return A.new_zeros(A.shape[:-2], dtype=A.dtype.to_real())
        check_matrix("linalg.svd", A, square=False)
        s = svdvals(A)
        largest, smallest = s[..., 0], s[..., -1]
        return smallest / largest if p == -2 else largest / smallest
    name = p if isinstance(p, str) else ("inf" if p == math.inf else "-inf" if p == -math.inf else int(p))
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"linalg.cond(ord={name}): A must be batches of square matrices, "
            f"but they are {A.shape[-2]} by {A.shape[-1]} matrices"
        )
    # PyTorch's order of the dtype checks: the nuclear norm's SVD, else the inverse
    if A.numel() == 0:  # zeros of the real type, whatever the dtype (as PyTorch)
        return A.new_zeros(A.shape[:-2], dtype=A.dtype.to_real())
    check_matrix("linalg.svd" if p == "nuc" else "linalg.inv", A)
    inverse, info = inv_ex(A)
    inverse = inverse.masked_fill((info > 0)[..., None, None], math.inf)
    # inf * 0 (a singular matrix of zeros) is inf, as PyTorch's nan_to_num makes it
    return (matrix_norm(A, p) * matrix_norm(inverse, p)).nan_to_num(math.inf, math.inf, -math.inf)
