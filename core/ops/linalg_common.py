"""What the ``ember.linalg`` decompositions share: :class:`LinAlgError`, the argument checks with
PyTorch's messages, the ``info`` checks that turn a failed factorization into an error, the
named tuples they return, and the masks (triangles, identities) of their gradients."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from .. import dtypes
from ..layout import contiguous_format
from ..return_types import _return_type
from ..strides import ordered_strides
from ..tensor import Tensor
from ..type_names import type_name
from .comparison import _TORCH_NAMES
from .dtype_support import FLOATING, not_implemented
from .movement import ordered_copy
from .operands import check_same_device

__all__ = ["LinAlgError"]


class LinAlgError(RuntimeError):
    """A matrix on which a linear algebra function cannot be computed (singular, not
    positive-definite); ``torch.linalg.LinAlgError``, a :class:`RuntimeError`.

    Example::

        >>> try:
        ...     ember.linalg.inv(ember.zeros(2, 2))
        ... except ember.linalg.LinAlgError as error:
        ...     print(error)
        linalg.inv: The diagonal element 1 is zero, the inversion could not be completed because the input matrix is singular.
    """


# the named tuples, with PyTorch's names (``torch.return_types.linalg_qr`` ...)
if TYPE_CHECKING:
    # what type checkers see: the same fields, typed

    class linalg_slogdet(NamedTuple):
        sign: Tensor
        logabsdet: Tensor

    class slogdet(NamedTuple):
        sign: Tensor
        logabsdet: Tensor

    class linalg_inv_ex(NamedTuple):
        inverse: Tensor
        info: Tensor

    class linalg_solve_ex(NamedTuple):
        result: Tensor
        info: Tensor

    class linalg_cholesky_ex(NamedTuple):
        L: Tensor
        info: Tensor

    class linalg_lu_factor(NamedTuple):
        LU: Tensor
        pivots: Tensor

    class linalg_lu_factor_ex(NamedTuple):
        LU: Tensor
        pivots: Tensor
        info: Tensor

    class linalg_lu(NamedTuple):
        P: Tensor
        L: Tensor
        U: Tensor

    class triangular_solve(NamedTuple):
        solution: Tensor
        cloned_coefficient: Tensor

    class linalg_qr(NamedTuple):
        Q: Tensor
        R: Tensor

    class qr(NamedTuple):
        Q: Tensor
        R: Tensor

    class linalg_svd(NamedTuple):
        U: Tensor
        S: Tensor
        Vh: Tensor

    class svd(NamedTuple):
        U: Tensor
        S: Tensor
        V: Tensor

    class linalg_eigh(NamedTuple):
        eigenvalues: Tensor
        eigenvectors: Tensor

    class linalg_eig(NamedTuple):
        eigenvalues: Tensor
        eigenvectors: Tensor

    class linalg_ldl_factor(NamedTuple):
        LD: Tensor
        pivots: Tensor

    class linalg_ldl_factor_ex(NamedTuple):
        LD: Tensor
        pivots: Tensor
        info: Tensor

    class linalg_lstsq(NamedTuple):
        solution: Tensor
        residuals: Tensor
        rank: Tensor
        singular_values: Tensor

else:
    linalg_slogdet = _return_type("linalg_slogdet", ("sign", "logabsdet"))
    slogdet = _return_type("slogdet", ("sign", "logabsdet"))
    linalg_inv_ex = _return_type("linalg_inv_ex", ("inverse", "info"))
    linalg_solve_ex = _return_type("linalg_solve_ex", ("result", "info"))
    linalg_cholesky_ex = _return_type("linalg_cholesky_ex", ("L", "info"))
    linalg_lu_factor = _return_type("linalg_lu_factor", ("LU", "pivots"))
    linalg_lu_factor_ex = _return_type("linalg_lu_factor_ex", ("LU", "pivots", "info"))
    linalg_lu = _return_type("linalg_lu", ("P", "L", "U"))
    triangular_solve = _return_type("triangular_solve", ("solution", "cloned_coefficient"))
    linalg_qr = _return_type("linalg_qr", ("Q", "R"))
    qr = _return_type("qr", ("Q", "R"))
    linalg_svd = _return_type("linalg_svd", ("U", "S", "Vh"))
    svd = _return_type("svd", ("U", "S", "V"))
    linalg_eigh = _return_type("linalg_eigh", ("eigenvalues", "eigenvectors"))
    linalg_eig = _return_type("linalg_eig", ("eigenvalues", "eigenvectors"))
    linalg_ldl_factor = _return_type("linalg_ldl_factor", ("LD", "pivots"))
    linalg_ldl_factor_ex = _return_type("linalg_ldl_factor_ex", ("LD", "pivots", "info"))
    linalg_lstsq = _return_type("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))


#: the types LAPACK factors: single and double precision, real and complex
LAPACK_TYPES = FLOATING | {dtypes.complex64, dtypes.complex128}

_NO_B = object()  # check_input without a right-hand side


def check_matrix(op: str, A: object, name: str = "A", square: bool = True, floating: bool = True) -> None:
    """PyTorch's checks of a matrix argument: a floating point tensor of at least two
    dimensions, square when ``square``. ``floating=False``: the op does not check the dtype
    itself (its kernel's dispatch refuses an integer type, :func:`check_precision`)."""
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type_name(A)}")
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions.")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"{op}: {name} must be batches of square matrices, but they are {A.shape[-2]} by {A.shape[-1]} matrices"
        )
    if floating and not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise RuntimeError(
            f"{op}: Expected a floating point or complex tensor as input. Got {_TORCH_NAMES[A.dtype.name]}"
        )


def check_precision(op: str, A: Tensor, kernel: str | None) -> None:
    """Refuse float16 and bfloat16, which have no LAPACK kernel, as PyTorch's CPU does: with
    ``NotImplementedError`` naming ``kernel`` (``"lu_cpu"``) where the op reaches the kernel's dtype
    dispatch, with ``RuntimeError`` ("Low precision dtypes not supported") where the op checks
    first (``linalg.inv``, ``linalg.slogdet``: ``kernel=None``)."""
    if A.dtype not in LAPACK_TYPES:
        if kernel is not None:
            not_implemented(kernel, A.dtype)
        raise RuntimeError(f"{op}: Low precision dtypes not supported. Got {_TORCH_NAMES[A.dtype.name]}")


def check_input(
    op: str,
    A: object,
    name: str = "A",
    square: bool = True,
    *,
    kernel: str | None = None,
    B: object = _NO_B,
    floating: bool = True,
) -> None:
    """:func:`check_matrix`, then with ``B`` :func:`check_pair`, then :func:`check_precision`, in
    PyTorch's order (``floating=False``: an integer ``A`` reaches ``kernel``'s refusal)."""
    check_matrix(op, A, name, square, floating)
    matrix = cast(Tensor, A)
    if B is not _NO_B:
        check_pair(op, matrix, B, name)
    check_precision(op, matrix, kernel)


def check_classic_pair(b: object, A: object) -> None:
    """The classic solvers' check (``cholesky_solve``, ``triangular_solve``): ``b`` of ``A``'s dtype."""
    if isinstance(b, Tensor) and isinstance(A, Tensor) and b.dtype != A.dtype:
        raise RuntimeError(
            f"Expected b and A to have the same dtype, but found b of type {_TORCH_NAMES[b.dtype.name]} and A of "
            f"type {_TORCH_NAMES[A.dtype.name]} instead."
        )


def check_svd_driver(A: Tensor, driver: str | None) -> None:
    """PyTorch's refusal of ``driver=`` (a cuSOLVER choice) outside CUDA."""
    if driver is not None and A.device.type != "cuda":
        raise RuntimeError(
            "torch.linalg.svd: keyword argument `driver=` is only supported on CUDA inputs with cuSOLVER backend."
        )


def check_pair(op: str, A: Tensor, B: object, name: str = "A") -> None:
    """``B`` a tensor of ``A``'s dtype and device (``A`` called ``name`` in the messages)."""
    if not isinstance(B, Tensor):
        raise TypeError(f"{op}(): argument 'B' must be Tensor, not {type_name(B)}")
    check_same_device(op, A, B)
    if A.dtype != B.dtype:
        raise RuntimeError(
            f"{op}: Expected {name} and B to have the same dtype, but found {name} of type "
            f"{_TORCH_NAMES[A.dtype.name]} and B of type {_TORCH_NAMES[B.dtype.name]} instead"
        )


def check_info(op: str, info: Tensor, message: Callable[[int], str], error: type[Exception] = LinAlgError) -> None:
    """Raise ``error`` for the first matrix whose ``info`` (a tensor) is not zero;
    ``message(order)`` says what failed. One host read; none on the meta device, which has no values
    to check (as PyTorch's meta kernels check none)."""
    if info.is_meta:
        return
    values = info.reshape(-1).tolist()
    for index, value in enumerate(values):
        if value:
            batch = f"(Batch element {index}): " if info.ndim else ""
            raise error(f"{op}: {batch}{message(value)}")


def batch_shape(op: str, A: Tensor, B: Tensor) -> tuple[int, ...]:
    """The broadcast batch shape of ``A`` and ``B`` (their leading dimensions)."""
    a, b = tuple(A.shape[:-2]), tuple(B.shape[:-2])
    out = []
    for x, y in zip((1,) * (len(b) - len(a)) + a, (1,) * (len(a) - len(b)) + b):
        if x != y and 1 not in (x, y):
            raise RuntimeError(
                f"{op}: the batch dimensions of A {tuple(A.shape)} and B {tuple(B.shape)} do not broadcast"
            )
        out.append(y if x == 1 else x)  # a size 1 takes the other's, 0 included
    return tuple(out)


def triangle(x: Tensor, upper: bool, strict: bool = False) -> Tensor:
    """The upper (or lower) triangle of ``x``, without the diagonal when ``strict``."""
    if upper:
        return x.triu(1 if strict else 0)
    return x.tril(-1 if strict else 0)


def lapack_layout(backend: Any, matrices: Any) -> Any:
    """The native ``matrices`` laid out as LAPACK leaves PyTorch's results: each matrix column-major, the
    batch row-major outside them (without elements: strides that step over each size-0 dim as over a size-1
    one, as PyTorch's ``batched_matrix_contiguous_strides``)."""
    nd = matrices.ndim
    order = (*range(nd - 2), nd - 1, nd - 2)
    if 0 in matrices.shape:
        shape = tuple(matrices.shape)
        strides = ordered_strides(tuple(max(n, 1) for n in shape), order)
        try:
            return backend.as_strided(backend.xp.reshape(matrices, (0,)), shape, strides, 0)
        except NotImplementedError:  # a backend without strided views
            pass
    return ordered_copy(backend, matrices, matrices.dtype, order)


def lapack_strided(matrices: Tensor) -> Tensor:
    """A copy of the tensor ``matrices`` laid out as :func:`lapack_layout` lays out arrays, differentiably: the
    layout of PyTorch's results of composed linear algebra (the strides of size-1 dims included)."""
    return matrices.mT.clone(memory_format=contiguous_format).mT
