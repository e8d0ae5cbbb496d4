"""Matrix norms (``ember.linalg.matrix_norm``, ``ember.norm(x, 'nuc')``): Frobenius, nuclear, spectral
and the induced 1- and inf-norms, over two dimensions of a batch of matrices."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import dtypes
from ..tensor import Tensor, dtype_arg
from ..type_names import type_name
from .comparison import _TORCH_NAMES
from .dtype_support import TORCH_NAMES
from .operands import wrap_dim
from .out_argument import write_out
from .reduced_precision import computes_in_float32
from .singular import svdvals

if TYPE_CHECKING:
    from ..types import _dtype

__all__ = ["matrix_norm"]

_MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)


def _check_floating(op: str, input: object, name: str = "input") -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type_name(input)}")
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            f"{op}: Expected a floating point or complex tensor as input. Got {_TORCH_NAMES.get(input.dtype.name, input.dtype.name)}"
        )


def check_norm_dtype(op: str, input: Tensor, dtype: _dtype | None) -> None:
    """Refuse an output ``dtype`` that ``input``'s type cannot be converted to without narrowing, as
    PyTorch's norms do (``linalg.matrix_norm(float32, dtype=float16)``)."""
    if dtype is not None and dtypes.promote_types(input.dtype, dtype) is not dtype:
        raise RuntimeError(
            f"{op}: the dtype of the input ({_TORCH_NAMES.get(input.dtype.name, input.dtype.name)}) should be "
            f"convertible without narrowing to the specified dtype ({_TORCH_NAMES.get(dtype.name, dtype.name)})"
        )


def check_vector_norm_dtype(op: str, input: Tensor, dtype: _dtype | None) -> None:
    """PyTorch's checks of a vector norm's ``input`` and output ``dtype``: a floating or complex
    input, a complex ``dtype`` for a complex input and a real one for a real input, no narrowing
    (``vector_norm(complex64, dtype=float64)`` is refused rather than dropping the imaginary parts)."""
    if not input.dtype.is_complex:
        _check_floating(op, input)
    if dtype is None:
        return
    if not (dtype.is_floating_point or dtype.is_complex):
        raise RuntimeError(
            f"{op}: dtype should be floating point or complex, but got {_TORCH_NAMES.get(dtype.name, dtype.name)}"
        )
    if dtype.is_complex != input.dtype.is_complex:
        kind = "complex" if input.dtype.is_complex else "real"
        raise RuntimeError(
            f"{op}: dtype should be {kind} for {kind} inputs, but got {_TORCH_NAMES.get(dtype.name, dtype.name)}"
        )
    check_norm_dtype(op, input, dtype)


def _matrix_dims(op, A, dim):
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if isinstance(dim, int) or len(dim) != 2:
        shown = dim if isinstance(dim, int) else " ".join(str(d) for d in dim)
        raise RuntimeError(f"{op}: dim must be a 2-tuple. Got {shown}")
    d0, d1 = wrap_dim(dim[0], A.ndim), wrap_dim(dim[1], A.ndim)
    if d0 == d1:
        raise RuntimeError(f"{op}: dims must be different. Got ({dim[0]}, {dim[1]})")
    return d0, d1


def _keep(out, dims, keepdim):
    """``out`` (the matrix dims removed) with size-1 dims put back at ``dims`` when ``keepdim``."""
    if keepdim:
        for d in sorted(dims):
            out = out.unsqueeze(d)
    return out


def matrix_norm(
    A: Tensor,
    ord: float | str = "fro",
    dim: int | Sequence[int] = (-2, -1),  # an int is refused with PyTorch's message
    keepdim: bool = False,
    *,
    dtype: _dtype | None = None,
    out: Tensor | None = None,
) -> Tensor:
    r"""The matrix norm of ``A`` over the two dimensions ``dim`` (a batch over the others).

    ``ord``: ``'fro'`` (Frobenius), ``'nuc'`` (nuclear: the sum of the singular values), ``2`` /
    ``-2`` (the largest / smallest singular value), ``1`` / ``-1`` (the largest / smallest column
    sum of magnitudes), ``inf`` / ``-inf`` (the largest / smallest row sum of magnitudes).

    Args:
        A (Tensor): a floating point or complex tensor of shape :math:`(*, m, n)`.
        ord (int, inf or str): the order. Default: ``'fro'``
        dim (tuple of two ints): the matrix dimensions. Default: ``(-2, -1)``
        keepdim (bool): keep the reduced dimensions with size 1. Default: ``False``
        dtype (ember.dtype, optional): compute and return in this type. Default: ``None``
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> A = ember.tensor([[3.0, 0.0], [0.0, -4.0]])
        >>> ember.linalg.matrix_norm(A, ord='nuc')
        tensor(7.)
        >>> ember.linalg.matrix_norm(A, ord=2), ember.linalg.matrix_norm(A)
        (tensor(4.), tensor(5.))
    """
    if out is not None:
        return write_out("linalg.matrix_norm", matrix_norm(A, ord, dim, keepdim, dtype=dtype), out, exact_dtype=True)
    if dtype is not None:
        dtype = dtype_arg("linalg_matrix_norm", dtype)
    low = dtype or getattr(A, "dtype", None)
    if ord in ("nuc", 2, -2) and low in dtypes.narrow_float:  # PyTorch's SVD has no float16 kernel
        _check_floating("linalg.matrix_norm", A, "A")  # (its earlier checks first)
        check_norm_dtype("linalg.matrix_norm", A, dtype)
        raise RuntimeError(f"linalg.matrix_norm: Low precision dtypes not supported. Got {TORCH_NAMES[low]}")
    return _matrix_norm(A, ord, dim, keepdim, dtype=dtype)


@computes_in_float32
def _matrix_norm(A, ord, dim, keepdim, *, dtype):
    op = "linalg.matrix_norm"
    if not (isinstance(A, Tensor) and A.dtype.is_complex):
        _check_floating(op, A, "A")
    if ord not in _MATRIX_ORDS:
        raise RuntimeError(f"{op}: Order {ord} not supported.")
    d0, d1 = _matrix_dims(op, A, dim)
    check_vector_norm_dtype(op, A, dtype)
    if dtype is not None:
        A = A.to(dtype)
    if ord == "fro":
        return A.norm(2, (d0, d1), keepdim)
    if (A.shape[d0] == 0 or A.shape[d1] == 0) and ord in ("nuc", 2, 1, math.inf):  # 0, as PyTorch (the
        # negative orders reduce over an empty dimension with amin, an error in both)
        return _keep(A.abs().sum((d0, d1)), (d0, d1), keepdim)
    if isinstance(ord, str) or ord in (2, -2):  # the string is "nuc": "fro" returned above
        s = svdvals(A.movedim((d0, d1), (-2, -1)))
        out = s.sum(-1) if ord == "nuc" else s.amax(-1) if ord == 2 else s.amin(-1)
        return _keep(out, (d0, d1), keepdim)
    summed, picked = (d0, d1) if abs(ord) == 1 else (d1, d0)  # column sums for 1, row sums for inf
    sums = A.abs().sum(summed, keepdim=True)
    out = sums.amax(picked, keepdim=True) if ord > 0 else sums.amin(picked, keepdim=True)
    return out if keepdim else out.squeeze((d0, d1))
