"""PyTorch's older top-level linear-algebra spellings, still found in training code: ``chain_matmul``
(:func:`ember.linalg.multi_dot`), ``frobenius_norm`` and ``nuclear_norm`` (vector and matrix
norms), ``lu`` (:func:`ember.linalg.lu_factor_ex`) and ``lu_unpack``. Each warns as PyTorch does
where PyTorch deprecates it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from .. import dtypes
from ..amp.policy import cast_inputs
from ..amp.state import state as _amp
from ..amp.state import suspended as _amp_suspended
from ..linalg import multi_dot, vector_norm
from ..return_types import _return_type
from ..tensor import Tensor
from .creation import empty
from .linalg_solve import _unpack, linalg_lu_factor_ex
from .matrix_norms import matrix_norm
from .operands import dim_or_axis
from .out_argument import write_out

__all__ = ["chain_matmul", "frobenius_norm", "nuclear_norm", "lu", "lu_unpack"]

lu_unpack_result = _return_type("lu_unpack", ("P", "L", "U"))


def chain_matmul(*matrices: Tensor, out: Tensor | None = None) -> Tensor:
    """The product of the given 2-D matrices, multiplied in the cheapest order (deprecated in
    PyTorch for :func:`ember.linalg.multi_dot`).

    Args:
        matrices (Tensor...): two or more 2-D tensors of chaining shapes (one is returned copied).
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     ember.chain_matmul(ember.ones(2, 3), ember.ones(3, 4), ember.ones(4, 1))
        tensor([[12.],
                [12.]])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out("chain_matmul", chain_matmul(*matrices), out, exact_dtype=True)
    warnings.warn(
        "torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use torch.linalg.multi_dot "
        "instead, which accepts a list of two or more tensors rather than multiple parameters.",
        UserWarning,
        stacklevel=2,
    )
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for m in matrices:
        if m.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {m.ndim}, expected 2 instead.")
    if len(matrices) == 1:
        return matrices[0].clone()
    return multi_dot(list(matrices))


@dim_or_axis
def frobenius_norm(input: Tensor, dim: Sequence[int], keepdim: bool = False) -> Tensor:
    """The 2-norm of ``input`` over ``dim`` (one or two dimensions), deprecated in PyTorch for
    ``linalg.vector_norm(input, 2, dim, keepdim)``.

    Args:
        input (Tensor): the input tensor.
        dim (tuple of int): the dimensions to reduce.
        keepdim (bool, optional): keep the reduced dimensions with size 1. Default: ``False``.

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     ember.frobenius_norm(ember.tensor([[3.0, 0.0], [0.0, 4.0]]), (0, 1))
        tensor(5.)
    """
    warnings.warn(
        "at::frobenius_norm is deprecated and it is just left for JIT compatibility. It will be removed in a future "
        "PyTorch release. Please use `linalg.vector_norm(A, 2., dim, keepdim)` instead",
        UserWarning,
        stacklevel=2,
    )
    return vector_norm(input, 2.0, dim=tuple(dim) if not isinstance(dim, int) else dim, keepdim=keepdim)


@dim_or_axis
def nuclear_norm(input: Tensor, dim: Sequence[int] | bool | None = None, keepdim: bool = False) -> Tensor:
    """The sum of the singular values of the matrices over ``dim`` (the last two by default),
    deprecated in PyTorch for ``linalg.matrix_norm(input, 'nuc', dim, keepdim)``.

    Args:
        input (Tensor): the input tensor, at least 2-dimensional.
        dim (tuple of int, optional): the two matrix dimensions. Default: the last two.
        keepdim (bool, optional): keep the reduced dimensions with size 1. Default: ``False``.

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     ember.nuclear_norm(ember.tensor([[3.0, 0.0], [0.0, -4.0]]))
        tensor(7.)
    """
    warnings.warn(
        "at::nuclear_norm is deprecated and it is just left for JIT compatibility. It will be removed in a future "
        "PyTorch release. Please use `linalg.matrix_norm(A, 'nuc', dim, keepdim)` instead",
        UserWarning,
        stacklevel=2,
    )
    if isinstance(dim, bool):  # nuclear_norm(input, keepdim)
        dim, keepdim = None, dim
    return matrix_norm(input, "nuc", dim=(-2, -1) if dim is None else tuple(dim), keepdim=keepdim)


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False) -> tuple[Tensor, ...]:
    """The LU factorization with partial pivoting in LAPACK's compact form, ``(LU, pivots)``, and
    with ``get_infos`` the ``info`` tensor too (deprecated in PyTorch for :func:`ember.linalg.lu_factor`).

    Args:
        A (Tensor): a floating point tensor of shape :math:`(*, m, n)`.
        pivot (bool, optional): only ``True`` is supported. Default: ``True``.
        get_infos (bool, optional): also return ``info``. Default: ``False``.

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     LU, pivots = ember.lu(ember.tensor([[1.0, 2.0], [3.0, 4.0]]))
        >>> pivots
        tensor([2, 2], dtype=ember.int32)
    """
    warnings.warn(
        "torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and will be removed "
        "in a future PyTorch release.",
        UserWarning,
        stacklevel=2,
    )
    if _amp.active:  # PyTorch's _lu_with_info, on its autocast float32 list
        (A,) = cast_inputs("lu", A)
    LU, pivots, info = linalg_lu_factor_ex(A, pivot=pivot)
    return (LU, pivots, info) if get_infos else (LU, pivots)


def _check_lu_unpack(LU: Tensor, pivots: Tensor, unpack_pivots: bool) -> None:
    """PyTorch's checks: ``LU`` a (batch of) matrices, ``pivots`` int32 row numbers in ``1..m`` for
    the first ``min(m, n)`` steps (one host read, as PyTorch's)."""
    if LU.ndim < 2:
        raise RuntimeError(
            f"torch.lu_unpack: Expected tensor with 2 or more dimensions. Got size: {list(LU.shape)} instead"
        )
    if not unpack_pivots:
        return
    if pivots.dtype is not dtypes.int32:
        raise RuntimeError(
            "torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 dtype.\n"
            "Note: this function is intended to be used with the output produced by torch.linalg.lu_factor"
        )
    m, k = LU.shape[-2], min(LU.shape[-2:])
    used = pivots[..., :k]
    values_known = used.numel() and not used.is_meta  # the meta device has no values to check
    if pivots.shape[-1] < k or (values_known and bool(((used < 1) | (used > m)).any())):
        raise RuntimeError(
            "pivots passed to lu_unpack must be between 1 and LU.size(-2) inclusive.Did you properly pass the result "
            "of lu_factor?"
        )


def lu_unpack(
    LU_data: Tensor,
    LU_pivots: Tensor,
    unpack_data: bool = True,
    unpack_pivots: bool = True,
    *,
    out: tuple[Tensor, Tensor, Tensor] | None = None,
):
    """Unpacks the compact LU factorization of :func:`ember.linalg.lu_factor` into ``(P, L, U)``
    with ``A = P L U``; what is not asked for comes back as an empty tensor.

    Args:
        LU_data (Tensor): the packed ``L`` and ``U``, shape :math:`(*, m, n)`.
        LU_pivots (Tensor): the 1-based row swaps, shape :math:`(*, \\min(m, n))`.
        unpack_data (bool, optional): return ``L`` and ``U``. Default: ``True``.
        unpack_pivots (bool, optional): return ``P``. Default: ``True``.
        out (tuple of Tensors, optional): ``(P, L, U)`` of ``LU_data``'s dtype, each resized to its result's shape.
            Default: ``None``.

    Example::

        >>> LU, pivots = ember.linalg.lu_factor(ember.tensor([[1.0, 2.0], [3.0, 4.0]]))
        >>> P, L, U = ember.lu_unpack(LU, pivots)
        >>> P @ L @ U
        tensor([[1., 2.],
                [3., 4.]])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overloads only, not out=
            return write_out(
                "lu_unpack", lu_unpack(LU_data, LU_pivots, unpack_data, unpack_pivots), out, exact_dtype=True
            )
    _check_lu_unpack(LU_data, LU_pivots, unpack_pivots)
    k = min(LU_data.shape[-2:])
    P, L, U = _unpack(LU_data, LU_pivots[..., :k])
    none = empty(0, dtype=LU_data.dtype, device=LU_data.device)
    return lu_unpack_result(P if unpack_pivots else none, L if unpack_data else none, U if unpack_data else none)
