"""Sparse COO tensors (``ember.sparse``): storage, conversion to and from dense, and products.

``SparseCOOTensor`` holds int64 ``indices`` of shape ``(sparse_dim, nnz)`` and ``values`` of
shape ``(nnz, *dense_dims)`` (both ordinary tensors on the same device) and a size. It is
not a dense :class:`~ember.Tensor`; it is what ``Embedding(sparse=True)`` stores in
``weight.grad``, what ``optim.SGD``/``SparseAdam``/``Adagrad`` consume, and what
:meth:`ember.Tensor.to_sparse` makes.

Autograd flows through the values: the products (:func:`mm`, ``sparse @ dense``),
:meth:`~SparseCOOTensor.to_dense` and ``dense + sparse`` are built from differentiable
dense operations on ``values``, so a sparse tensor made with ``requires_grad=True`` gets a
coalesced sparse ``.grad`` holding the gradient at its stored coordinates (a duplicated
coordinate counted once), as ``torch.sparse.mm`` and ``to_dense`` give it. ``sparse @ dense``
(and ``ember.mm``/``ember.matmul`` with a sparse first operand) gives a sparse leaf the dense
gradient at every coordinate instead, as PyTorch's ``torch.mm``/``@`` do: it is collected in a
dense tensor the sparse tensor keeps for it (``.grad`` is then dense).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, overload

from . import dtypes, printing
from .autograd.function import Function
from .autograd.grad_mode import grad_state
from .autograd.grad_mode import no_grad as _no_grad
from .layout import sparse_coo
from .meta_errors import refuse_meta
from .ops.dtype_support import not_implemented as _not_implemented
from .ops.movement import broadcast_shapes as _broadcast_shapes
from .ops.movement import cat, stack
from .ops.operands import normalize_dims, wrap_dim
from .ops.searching import searchsorted as _searchsorted
from .ops.slicing_joining import unique as _unique
from .tensor import Size, Tensor, tensor

if TYPE_CHECKING:
    from .device import device as _device
    from .types import Device, Number, _dtype

__all__ = [
    "SparseCOOTensor",
    "sparse_coo_tensor",
    "mm",
    "addmm",
    "softmax",
    "log_softmax",
    "spmm",
    "sum",
    "FloatTensor",
    "DoubleTensor",
    "HalfTensor",
    "BFloat16Tensor",
    "LongTensor",
    "IntTensor",
    "ShortTensor",
    "CharTensor",
    "ByteTensor",
]


class SparseCOOTensor:
    """A sparse tensor in coordinate format (duplicate coordinates sum, as in PyTorch).

    Build with :func:`ember.sparse_coo_tensor`.
    """

    is_sparse = True
    layout = sparse_coo

    def __init__(self, indices: Tensor, values: Tensor, size: Sequence[int], coalesced: bool = False) -> None:
        self._idx = indices
        self._vals = values
        self._size = Size(size)
        self._coalesced = coalesced
        self._dense_grad: Tensor | None = None  # the leaf that ``sparse @ dense`` gives its gradient

    # -- identity -----------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return self._size

    def size(self, dim: int | None = None) -> Any:
        return self._size if dim is None else self._size[dim]

    def dim(self) -> int:
        return len(self._size)

    @property
    def ndim(self) -> int:
        return len(self._size)

    @property
    def dtype(self) -> _dtype:
        return self._vals.dtype

    @property
    def device(self) -> _device:
        return self._vals.device

    # -- autograd (through the values) ----------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._vals.requires_grad

    def requires_grad_(self, requires_grad: bool = True) -> SparseCOOTensor:
        """Record operations on the values for autograd; returns ``self``."""
        self._vals.requires_grad_(requires_grad)
        return self

    @property
    def grad(self) -> Tensor | SparseCOOTensor | None:
        """The gradient: at the stored coordinates as a coalesced sparse tensor (what
        :func:`mm` and ``to_dense`` give), plus, densely, what ``sparse @ dense`` gives at every
        coordinate (then the sum is dense, as in PyTorch); None before any backward. Duplicate
        coordinates hold one element, so each coordinate's gradient is that of the element (the
        mean of its entries' value gradients), not their sum."""
        return self._gradient(self._vals.grad, None if self._dense_grad is None else self._dense_grad.grad)

    def _grad_leaves(self) -> list[Tensor]:
        """The dense leaves this tensor's gradient collects in: the values, and the dense
        stand-in ``sparse @ dense`` made for it (``autograd.grad`` differentiates through these)."""
        return [self._vals] if self._dense_grad is None else [self._vals, self._dense_grad]

    def _gradient(
        self, g: Tensor | None, dense: Tensor | None = None, materialize: bool = False
    ) -> Tensor | SparseCOOTensor | None:
        """This tensor's gradient from its values' gradient ``g`` and its dense stand-in's ``dense``
        (with neither: None, or an empty sparse tensor of this size when ``materialize``)."""
        if g is None and dense is None and materialize:
            empty = self._vals.new_zeros((0,) + tuple(self._vals.shape[1:]))
            return SparseCOOTensor(self._idx.new_zeros((self.sparse_dim(), 0)), empty, self._size, True)
        if g is None:
            return dense
        if self._coalesced:
            stored = SparseCOOTensor(self._idx, g, self._size, True)
        else:
            summed = SparseCOOTensor(self._idx, g, self._size).coalesce()
            shape = self._size[: self.sparse_dim()]
            counts = SparseCOOTensor(self._idx, g.new_ones((g.shape[0],)), shape).coalesce()._vals
            stored = SparseCOOTensor(
                summed._idx, summed._vals / counts.reshape((-1,) + (1,) * (g.ndim - 1)), self._size, True
            )
        return stored if dense is None else dense + stored

    @property
    def grad_fn(self) -> Any:
        return self._vals.grad_fn

    @property
    def is_leaf(self) -> bool:
        return self._vals.grad_fn is None

    def sparse_dim(self) -> int:
        return self._idx.shape[0]

    def dense_dim(self) -> int:
        return self._vals.ndim - 1

    def _nnz(self) -> int:
        return self._idx.shape[1]

    def _indices(self) -> Tensor:
        """The int64 ``(sparse_dim, nnz)`` coordinates (possibly with duplicates)."""
        return self._idx

    def _values(self) -> Tensor:
        """The ``(nnz, *dense_dims)`` values."""
        return self._vals

    def indices(self) -> Tensor:
        return self._idx

    def values(self) -> Tensor:
        return self._vals

    def is_coalesced(self) -> bool:
        return self._coalesced

    def detach(self) -> SparseCOOTensor:
        return SparseCOOTensor(self._idx, self._vals.detach(), self._size, self._coalesced)

    def clone(self) -> SparseCOOTensor:
        return SparseCOOTensor(self._idx.clone(), self._vals.clone(), self._size, self._coalesced)

    def zero_(self) -> SparseCOOTensor:
        """Empty this tensor in place: no coordinates left (coalesced), its size kept."""
        self._idx = self._idx.new_zeros((self._idx.shape[0], 0))
        self._vals = self._vals.new_zeros((0, *self._vals.shape[1:]))
        self._coalesced = True
        return self

    def to_sparse(self) -> SparseCOOTensor:
        """This tensor (already sparse)."""
        return self

    def t(self) -> SparseCOOTensor:
        """The transpose of a 2-D sparse matrix (indices swapped)."""
        if self.sparse_dim() != 2 or self.dense_dim():
            raise RuntimeError(f"t() expects a 2-D sparse matrix, got size {list(self._size)}")
        return self.transpose(0, 1)

    def transpose(self, dim0: int, dim1: int) -> SparseCOOTensor:
        """Two sparse dimensions swapped (their rows of ``indices``); the result is not coalesced, as in PyTorch."""
        sparse_dim = self.sparse_dim()
        d0, d1 = wrap_dim(dim0, self.dim()), wrap_dim(dim1, self.dim())
        if d0 >= sparse_dim or d1 >= sparse_dim:
            raise RuntimeError(
                "sparse transpose: transposed dimensions must be sparse "
                f"Got sparse_dim: {sparse_dim}, d0: {d0}, d1: {d1}"
            )
        if d0 == d1:  # a new tensor, as PyTorch's
            return SparseCOOTensor(self._idx, self._vals, self._size, self._coalesced)
        order = list(range(sparse_dim))
        order[d0], order[d1] = d1, d0
        size = list(self._size)
        size[d0], size[d1] = size[d1], size[d0]
        return SparseCOOTensor(self._idx[order], self._vals, size)

    def _as(self, dtype: _dtype) -> SparseCOOTensor:
        return self if self.dtype is dtype else self.to(dtype)

    def float(self) -> SparseCOOTensor:
        """This tensor with float32 values (itself when they already are)."""
        return self._as(dtypes.float32)

    def double(self) -> SparseCOOTensor:
        """This tensor with float64 values (itself when they already are)."""
        return self._as(dtypes.float64)

    def half(self) -> SparseCOOTensor:
        """This tensor with float16 values (itself when they already are)."""
        return self._as(dtypes.float16)

    def long(self) -> SparseCOOTensor:
        """This tensor with int64 values (itself when they already are)."""
        return self._as(dtypes.int64)

    def cpu(self) -> SparseCOOTensor:
        """This tensor on the CPU (itself when it is there)."""
        return self if self.device.type == "cpu" else self.to("cpu")

    def to(self, *args: Any, **kwargs: Any) -> SparseCOOTensor:
        """This tensor on another device or with another dtype (its values'); coalesced stays coalesced."""
        return SparseCOOTensor(
            self._idx.to(*args, **kwargs).long(), self._vals.to(*args, **kwargs), self._size, self._coalesced
        )

    # -- conversion ---------------------------------------------------------------------
    def _linear_index(self) -> tuple[Any, Size]:
        sparse_shape = self._size[: self.sparse_dim()]
        flat = None
        for d, extent in enumerate(sparse_shape):
            row = self._idx[d]
            flat = row if flat is None else flat * extent + row
        return flat, sparse_shape

    def to_dense(self, dtype: _dtype | None = None, *, masked_grad: bool = True) -> Tensor:
        """The dense tensor (duplicates summed). As in PyTorch, ``dtype`` is refused for a sparse tensor;
        the gradient is the masked one (``masked_grad=True``: it reaches the values)."""
        if dtype is not None:
            raise RuntimeError("dtype argument is not supported by sparse_to_dense")
        if not masked_grad:
            raise NotImplementedError(
                "to_dense(masked_grad=False): ember's sparse tensors take the gradient of their values only"
            )
        flat, sparse_shape = self._linear_index()
        rest = tuple(self._size[self.sparse_dim() :])
        dense = self._vals.new_zeros((Size(sparse_shape).numel(),) + rest)
        return dense.index_add(0, flat, self._vals).reshape(tuple(self._size))

    def coalesce(self) -> SparseCOOTensor:
        """Sorted unique coordinates with the values of duplicates summed."""
        if self._coalesced:
            return self
        nnz = self._nnz()
        if nnz == 0:
            return SparseCOOTensor(self._idx, self._vals, self._size, True)
        flat, sparse_shape = self._linear_index()
        order = flat.argsort()
        ordered = flat[order]
        starts = ordered.new_ones((nnz,))
        if nnz > 1:
            starts[1:] = (ordered[1:] != ordered[:-1]).long()
        segment = starts.cumsum(0) - 1
        count = int(segment[-1].item()) + 1
        values = self._vals.new_zeros((count,) + tuple(self._vals.shape[1:])).index_add(0, segment, self._vals[order])
        unique = ordered.new_zeros((count,))
        unique[segment] = ordered
        rows = []
        for extent in reversed(sparse_shape):
            rows.append(unique % extent)
            unique = unique.div(extent, rounding_mode="floor")
        indices = stack(rows[::-1], 0)
        return SparseCOOTensor(indices, values, self._size, True)

    # -- arithmetic ---------------------------------------------------------------------
    def _check_size(self, other: Tensor | SparseCOOTensor) -> None:
        if tuple(other.shape) != tuple(self._size):
            raise RuntimeError(f"add: expected sizes to match, got {list(self._size)} and {list(other.shape)}")

    def add(self, other: Tensor | SparseCOOTensor, alpha: Number = 1) -> Tensor | SparseCOOTensor:
        """``self + alpha * other`` for a sparse ``other``: the coordinates concatenated, merged into a
        coalesced sum when both operands are coalesced (as PyTorch merges them); a dense ``other``
        raises, as in PyTorch (``dense + sparse`` is the supported order)."""
        if isinstance(other, SparseCOOTensor):
            self._check_size(other)
            values = other._vals if alpha == 1 else other._vals * alpha
            total = SparseCOOTensor(
                cat((self._idx, other._idx), 1),
                cat((self._vals, values), 0),
                self._size,
            )
            return total.coalesce() if self._coalesced and other._coalesced else total
        if isinstance(other, Tensor):
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
        raise TypeError(f"add: unsupported operand type {type(other).__name__} for a sparse tensor")

    __add__ = add

    def __radd__(self, other: Tensor | SparseCOOTensor) -> Tensor | SparseCOOTensor:
        """``other + self``: sparse for a sparse ``other``, dense for a dense one."""
        if isinstance(other, Tensor):
            return other + self
        return self.add(other)

    def sub(self, other: Tensor | SparseCOOTensor, alpha: Number = 1) -> Tensor | SparseCOOTensor:
        """``self - alpha * other`` (:meth:`add` of ``-alpha * other``)."""
        if isinstance(other, Tensor):
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
        return self.add(other, alpha=-alpha)

    __sub__ = sub

    def mul(self, other: Number | Tensor | SparseCOOTensor) -> SparseCOOTensor:
        """The elementwise product, sparse with this tensor's coordinates (as PyTorch's): by a number or a
        0-d tensor, by a dense tensor that broadcasts to this tensor's size (its elements at the stored
        coordinates), or by a sparse tensor of this size (the coordinates stored in both)."""
        if isinstance(other, SparseCOOTensor):
            return self._mul_sparse(other)
        if not isinstance(other, Tensor) or not other.ndim:
            return SparseCOOTensor(self._idx, self._vals * other, self._size, self._coalesced)
        if other.device != self.device:
            raise RuntimeError(
                f"mul: expected all tensors to be on the same device, but found {self.device} and {other.device}"
            )
        shape = tuple(self._size)
        try:
            broadcast = tuple(Size(_broadcast_shapes(shape, tuple(other.shape))))
        except RuntimeError:
            broadcast = None
        if broadcast != shape:
            raise RuntimeError(
                f"mul: a sparse tensor of size {list(shape)} times a dense one of size {list(other.shape)}: "
                "the dense operand must broadcast to the sparse one's size"
            )
        at_coordinates = other.expand(shape)[tuple(self._idx)]  # (nnz, *dense_dims)
        return SparseCOOTensor(self._idx, self._vals * at_coordinates, self._size, self._coalesced)

    def _mul_sparse(self, other: SparseCOOTensor) -> SparseCOOTensor:
        """``self * other`` for two sparse tensors of one size: each of this tensor's entries times the
        other's (coalesced) value at its coordinate; entries the other does not store are dropped."""
        if tuple(other.shape) != tuple(self._size):
            raise RuntimeError(f"mul: expected sizes to match, got {list(self._size)} and {list(other.shape)}")
        if other.sparse_dim() != self.sparse_dim():
            raise RuntimeError("mul: expected the two sparse tensors to have the same number of sparse dimensions")
        other_coalesced, other = other._coalesced, other.coalesce()
        if not self.sparse_dim():
            raise NotImplementedError("mul: sparse tensors without sparse dimensions are not supported")
        if not self._nnz() or not other._nnz():
            values = self._vals[:0] * other._vals[:0]
            return SparseCOOTensor(self._idx[:, :0], values, self._size, self._coalesced and other_coalesced)
        ours, _ = self._linear_index()
        theirs, _ = other._linear_index()
        position = _searchsorted(theirs, ours).clamp(max=theirs.shape[0] - 1)
        found = (theirs[position] == ours).nonzero().flatten()
        values = self._vals.index_select(0, found) * other._vals.index_select(0, position[found])
        coalesced = self._coalesced and other_coalesced
        return SparseCOOTensor(self._idx.index_select(1, found), values, self._size, coalesced)

    __mul__ = mul
    __rmul__ = mul

    def div(self, other: Number | Tensor, *, rounding_mode: str | None = None) -> SparseCOOTensor:
        """The values divided by a number or a 0-d tensor (PyTorch's division, not a product by the reciprocal);
        with a ``rounding_mode`` of the coalesced values (the result coalesced)."""
        if isinstance(other, SparseCOOTensor) or (isinstance(other, Tensor) and other.ndim):
            raise RuntimeError(
                "Sparse division requires a scalar or zero-dim dense tensor divisor "
                f"(got shape {list(other.shape)} for divisor)"
            )
        if rounding_mode is None:
            return SparseCOOTensor(self._idx, self._vals / other, self._size, self._coalesced)
        return self._map_values(lambda v: v.div(other, rounding_mode=rounding_mode))

    __truediv__ = div

    def __floordiv__(self, other: Number | Tensor) -> SparseCOOTensor:
        return self.div(other, rounding_mode="floor")

    def index_select(self, dim: int, index: Tensor) -> SparseCOOTensor:
        """The slices at ``index`` along ``dim`` (uncoalesced, as PyTorch's): along a sparse dimension the stored
        entries of each selected slice, slice by slice in ``index``'s order; along a dense one, of the values."""
        dim = wrap_dim(dim, self.ndim)
        sparse_dim = self.sparse_dim()
        if not isinstance(index, Tensor) or index.ndim > 1 or index.dtype not in (dtypes.int64, dtypes.int32):
            raise IndexError("index_select(): Expected a 1-D int64 or int32 index tensor")
        index = index.reshape((-1,)).long()
        size = list(self._size)
        size[dim] = index.shape[0]
        if dim >= sparse_dim:
            return SparseCOOTensor(self._idx, self._vals.index_select(dim - sparse_dim + 1, index), size)
        slot, entry = (index.unsqueeze(1) == self._idx[dim].unsqueeze(0)).nonzero().unbind(1)
        indices = self._idx.index_select(1, entry).clone()
        indices[dim] = slot
        # (PyTorch marks a result of at most one element coalesced)
        return SparseCOOTensor(indices, self._vals.index_select(0, entry), size, indices.shape[1] <= 1)

    def unsqueeze(self, dim: int) -> SparseCOOTensor:
        """A dimension of size 1 inserted at ``dim`` (a sparse one where ``dim`` is at most the number of sparse
        dimensions, else a dense one)."""
        dim = wrap_dim(dim, self.ndim + 1)
        size = list(self._size)
        size.insert(dim, 1)
        sparse_dim = self.sparse_dim()
        single = self._nnz() <= 1  # PyTorch's result is uncoalesced unless it holds at most one element
        if dim > sparse_dim:
            return SparseCOOTensor(self._idx, self._vals.unsqueeze(dim - sparse_dim + 1), size, single)
        rows = list(self._idx.unbind(0))
        rows.insert(dim, self._idx.new_zeros((self._nnz(),)))
        return SparseCOOTensor(stack(rows, 0), self._vals, size, single)

    def neg(self) -> SparseCOOTensor:
        """``-self`` (the values negated; coalesced or not as ``self``)."""
        return SparseCOOTensor(self._idx, -self._vals, self._size, self._coalesced)

    __neg__ = neg

    def _map_values(self, fn: Any) -> SparseCOOTensor:
        """``fn`` (zero at zero) of every element: of the coalesced values, as PyTorch coalesces first."""
        merged = self.coalesce()
        return SparseCOOTensor(merged._idx, fn(merged._vals), self._size, True)

    def abs(self) -> SparseCOOTensor:
        """The elementwise absolute value (coalesced)."""
        return self._map_values(lambda v: v.abs())

    def sqrt(self) -> SparseCOOTensor:
        """The elementwise square root (coalesced)."""
        return self._map_values(lambda v: v.sqrt())

    def pow(self, exponent: Number) -> SparseCOOTensor:
        """The elementwise power by a number (coalesced); ``0`` is refused, as in PyTorch, for its
        result would be dense."""
        if isinstance(exponent, (Tensor, SparseCOOTensor)) and getattr(exponent, "ndim", 0):
            raise RuntimeError("pow: a sparse tensor can only be raised to a scalar power")
        if exponent == 0:
            raise RuntimeError(
                "pow: cannot raise to zeroth power on sparse tensor; it would make the result tensor dense"
            )
        return self._map_values(lambda v: v.pow(exponent))

    __pow__ = pow

    def sum(self, dim: int | Sequence[int] | None = None, dtype: _dtype | None = None) -> Tensor | SparseCOOTensor:
        """The sum over ``dim`` (all dimensions by default): :func:`ember.sparse.sum`."""
        return sum(self, dim, dtype=dtype)

    def __matmul__(self, other: Tensor | SparseCOOTensor) -> Tensor | SparseCOOTensor:
        """``self @ other``: :func:`mm`, but a leaf ``self`` that requires grad gets the dense
        gradient at every coordinate, as PyTorch's ``@`` gives it."""
        return _dense_grad_mm(self, other) if isinstance(other, Tensor) else mm(self, other)

    def matmul(self, other: Tensor | SparseCOOTensor) -> Tensor | SparseCOOTensor:
        """``self @ other`` (``Tensor.matmul``)."""
        return self @ other

    def mm(self, mat2: Tensor | SparseCOOTensor) -> Tensor | SparseCOOTensor:
        """``self @ mat2`` for a matrix ``mat2`` (``Tensor.mm``)."""
        if not isinstance(mat2, (Tensor, SparseCOOTensor)) or mat2.ndim != 2:
            raise RuntimeError(f"mm: mat2 must be a matrix, got {getattr(mat2, 'ndim', type(mat2).__name__)}-D tensor")
        return self @ mat2

    def __rmatmul__(self, other: Tensor) -> Tensor:
        """``dense @ sparse`` as ``(sparse.t() @ dense.t()).t()``."""
        if not isinstance(other, Tensor) or other.ndim != 2:
            raise TypeError(f"matmul: expected a 2-D dense left operand, got {type(other).__name__}")
        return _dense_grad_mm(self.t(), other.t(), of=self).t()

    def __repr__(self) -> str:
        return printing.sparse_coo_repr(self)


@overload
def mm(mat1: SparseCOOTensor, mat2: Tensor) -> Tensor: ...
@overload
def mm(mat1: SparseCOOTensor, mat2: SparseCOOTensor) -> SparseCOOTensor: ...
def mm(mat1: SparseCOOTensor, mat2: Tensor | SparseCOOTensor) -> Tensor | SparseCOOTensor:
    """Matrix product of the sparse COO matrix ``mat1`` and the dense (or sparse) ``mat2``.

    Differentiable with respect to ``mat2`` and to the values of ``mat1`` (whose ``.grad``
    is sparse with ``mat1``'s indices, as in PyTorch). A sparse ``mat2`` gives a sparse result.

    Args:
        mat1 (SparseCOOTensor): an ``(n, m)`` sparse matrix.
        mat2 (Tensor or SparseCOOTensor): an ``(m, p)`` matrix or an ``(m,)`` vector.

    Shape:
        - mat1: :math:`(n, m)`; mat2: :math:`(m, p)` or :math:`(m)`.
        - Output: :math:`(n, p)` or :math:`(n)`.

    Example::

        >>> s = ember.sparse_coo_tensor([[0, 1, 1], [2, 0, 2]], [3.0, 4.0, 5.0], (2, 3))
        >>> ember.sparse.mm(s, ember.ones(3, 2))
        tensor([[3., 3.],
                [9., 9.]])
    """
    if not isinstance(mat1, SparseCOOTensor):
        raise TypeError(f"sparse.mm: expected a sparse COO first argument, got {type(mat1).__name__}")
    if isinstance(mat2, SparseCOOTensor):
        return mm(mat1, mat2.to_dense()).to_sparse()
    if not isinstance(mat2, Tensor):
        raise TypeError(f"sparse.mm: expected a tensor second argument, got {type(mat2).__name__}")
    if mat1.sparse_dim() != 2 or mat1.dense_dim():
        raise RuntimeError(f"sparse.mm: expected a 2-D sparse matrix, got size {list(mat1.shape)}")
    if mat2.ndim not in (1, 2) or mat2.shape[0] != mat1.shape[1]:
        raise RuntimeError(
            f"addmm: Argument #3 (dense): Expected dim 0 size {mat1.shape[1]}, got {mat2.shape[0] if mat2.ndim else 0}"
        )
    if mat1.dtype is not mat2.dtype:
        raise RuntimeError(
            f"sparse.mm: expected mat1 and mat2 to have the same dtype, but got: {mat1.dtype} != {mat2.dtype}"
        )
    if mat1.device != mat2.device:
        raise RuntimeError(f"sparse.mm: expected both matrices on one device, got {mat1.device} and {mat2.device}")
    rows, cols = mat1._idx[0], mat1._idx[1]
    gathered = mat2.index_select(0, cols)
    values = mat1._vals if mat2.ndim == 1 else mat1._vals.unsqueeze(1)
    out = mat2.new_zeros((mat1.shape[0],) + tuple(mat2.shape[1:]))
    return out.index_add(0, rows, gathered * values)


def spmm(input: SparseCOOTensor, mat2: Tensor) -> Tensor:
    """Matrix product of the sparse COO matrix ``input`` and the dense ``mat2``, differentiated as
    ``input @ mat2``: a sparse leaf gets the dense gradient at every coordinate (PyTorch's
    ``torch.spmm``), where :func:`mm` gives the stored coordinates only.

    Args:
        input (SparseCOOTensor): an ``(n, m)`` sparse matrix.
        mat2 (Tensor): an ``(m, p)`` matrix or an ``(m,)`` vector.

    Example::

        >>> s = ember.sparse_coo_tensor([[0, 1], [1, 0]], [2.0, 3.0], (2, 2), requires_grad=True)
        >>> ember.spmm(s, ember.ones(2, 1)).sum().backward()
        >>> s.grad
        tensor([[1., 1.],
                [1., 1.]])
    """
    if not isinstance(input, SparseCOOTensor) or not isinstance(mat2, Tensor):
        raise TypeError(
            f"spmm: expected a sparse COO matrix and a dense tensor, got {type(input).__name__} and {type(mat2).__name__}"
        )
    return _dense_grad_mm(input, mat2)


def sum(
    input: SparseCOOTensor, dim: int | Sequence[int] | None = None, dtype: _dtype | None = None
) -> Tensor | SparseCOOTensor:
    """The sum of the sparse tensor ``input`` over the dimensions ``dim``.

    Summing every sparse dimension (``dim`` None, the default, sums all dimensions) gives a dense
    tensor; summing only some of them gives a coalesced sparse tensor over the others. Duplicate
    coordinates add up. Differentiable through the values (``input.grad`` is sparse, with the
    stored coordinates).

    Args:
        input (SparseCOOTensor): the tensor to sum.
        dim (int or tuple of ints, optional): the dimensions to reduce. Default: all of them.
        dtype (ember.dtype, optional): the dtype the values are cast to before summing.
            Default: that of ``input``, integers summed as int64.

    Example::

        >>> a = ember.sparse_coo_tensor([[0, 1, 1], [2, 0, 2]], [3.0, 4.0, 5.0], (2, 3))
        >>> ember.sparse.sum(a)
        tensor(12.)
        >>> ember.sparse.sum(a, dim=1).to_dense()
        tensor([3., 9.])
    """
    if not isinstance(input, SparseCOOTensor):
        raise RuntimeError(f"sparse.sum: expected a sparse COO tensor, got {type(input).__name__}")
    values = input._vals if dtype is None else input._vals.to(dtype)
    if dim is None:
        return values.sum(dtype=dtype)
    dims = normalize_dims(dim, input.ndim)
    sparse_dim = input.sparse_dim()
    dense_dims = tuple(d - sparse_dim + 1 for d in dims if d >= sparse_dim)
    if dense_dims:
        values = values.sum(dense_dims)
    kept = [d for d in range(sparse_dim) if d not in dims]
    if not kept:
        return values.sum(0)
    size = [extent for d, extent in enumerate(input.shape) if d not in dims]
    return SparseCOOTensor(input._idx[kept], values, size).coalesce()


def addmm(mat: Tensor, mat1: SparseCOOTensor, mat2: Tensor, *, beta: Number = 1, alpha: Number = 1) -> Tensor:
    """``beta * mat + alpha * (mat1 @ mat2)`` for the sparse COO matrix ``mat1``, differentiable as :func:`mm`.

    Args:
        mat (Tensor): the dense matrix added, ``(n, p)`` (or broadcastable to it).
        mat1 (SparseCOOTensor): an ``(n, m)`` sparse matrix.
        mat2 (Tensor): an ``(m, p)`` dense matrix.
        beta (Number, optional): the multiplier for ``mat``. Default: ``1``.
        alpha (Number, optional): the multiplier for ``mat1 @ mat2``. Default: ``1``.

    Example::

        >>> s = ember.sparse_coo_tensor([[0, 1], [1, 0]], [2.0, 3.0], (2, 2))
        >>> ember.sparse.addmm(ember.ones(2, 1), s, ember.ones(2, 1), beta=0.5, alpha=2)
        tensor([[4.5000],
                [6.5000]])
    """
    product = mm(mat1, mat2)
    product = product if alpha == 1 else product * alpha
    return product + (mat if beta == 1 else mat * beta)


def softmax(input: SparseCOOTensor, dim: int, *, dtype: _dtype | None = None) -> SparseCOOTensor:
    r"""The softmax of the sparse COO tensor ``input`` along ``dim``, over its stored elements only: the
    elements it does not store count as :math:`-\infty` (they stay unstored, not 0 probabilities).

    .. math::
        \text{softmax}(x)_i = \frac{\exp(x_i)}{\sum_{j \text{ stored}} \exp(x_j)}

    The result is coalesced, with ``input``'s coordinates (duplicates summed first). Differentiable through
    the values.

    Args:
        input (SparseCOOTensor): the input.
        dim (int): the dimension softmax is taken along (a sparse or a dense one).
        dtype (ember.dtype, optional): the dtype the values are cast to first. Default: ``None``.

    Example::

        >>> s = ember.sparse_coo_tensor([[0, 0, 1], [0, 2, 1]], [1.0, 1.0, 5.0], (2, 3))
        >>> ember.sparse.softmax(s, dim=1).to_dense()
        tensor([[0.5000, 0.0000, 0.5000],
                [0.0000, 1.0000, 0.0000]])
    """
    return _sparse_softmax(input, dim, dtype, log=False)


def log_softmax(input: SparseCOOTensor, dim: int, *, dtype: _dtype | None = None) -> SparseCOOTensor:
    r"""The log of :func:`softmax` of the sparse COO tensor ``input`` along ``dim``, over its stored
    elements only (the unstored ones stay unstored).

    Args:
        input (SparseCOOTensor): the input.
        dim (int): the dimension log-softmax is taken along (a sparse or a dense one).
        dtype (ember.dtype, optional): the dtype the values are cast to first. Default: ``None``.

    Example::

        >>> s = ember.sparse_coo_tensor([[0, 0, 1], [0, 2, 1]], [1.0, 1.0, 5.0], (2, 3))
        >>> ember.sparse.log_softmax(s, dim=1).values()
        tensor([-0.6931, -0.6931,  0.0000])
    """
    return _sparse_softmax(input, dim, dtype, log=True)


def _sparse_softmax(input: SparseCOOTensor, dim: int, dtype: _dtype | None, log: bool) -> SparseCOOTensor:
    name = "log_softmax" if log else "softmax"
    if not isinstance(input, SparseCOOTensor):
        raise TypeError(f"sparse.{name}: expected a sparse COO tensor, got {type(input).__name__}")
    dim = wrap_dim(dim, input.ndim)
    merged = input.coalesce()
    values = merged._vals if dtype is None else merged._vals.to(dtype)
    if not values.dtype.is_floating_point:
        _not_implemented(name, values.dtype)
    sparse_dim = merged.sparse_dim()
    if dim >= sparse_dim:  # a dense dimension: each stored slice on its own
        dense_dim = dim - sparse_dim + 1
        out = values.log_softmax(dense_dim) if log else values.softmax(dense_dim)
        return SparseCOOTensor(merged._idx, out, merged._size, True)
    if not merged._nnz():
        return SparseCOOTensor(merged._idx, values, merged._size, True)
    # the stored elements that share every other sparse coordinate form one group
    key = merged._idx.new_zeros((merged._nnz(),))
    for d in range(sparse_dim):
        if d != dim:
            key = key * merged._size[d] + merged._idx[d]
    _, group = _unique(key, return_inverse=True)
    groups = int(group.max().item()) + 1
    rest = tuple(values.shape[1:])
    spread = group.reshape((-1,) + (1,) * len(rest)).expand(tuple(values.shape))
    with _no_grad():
        peak = values.new_full((groups, *rest), float("-inf")).scatter_reduce(0, spread, values, "amax")
    shifted = values - peak.index_select(0, group)
    exp = shifted.exp()
    total = values.new_zeros((groups, *rest)).index_add(0, group, exp)
    out = shifted - total.log().index_select(0, group) if log else exp / total.index_select(0, group)
    return SparseCOOTensor(merged._idx, out, merged._size, True)


def _cat(tensors: Sequence[SparseCOOTensor], dim: int) -> SparseCOOTensor:
    """``ember.cat`` of sparse COO tensors along a sparse dimension (PyTorch's batching of adjacencies): the
    coordinates joined, each tensor's shifted by the sizes before it; uncoalesced."""
    for i, t in enumerate(tensors):
        if not isinstance(t, SparseCOOTensor):
            raise RuntimeError(f"Concatenating sparse tensors, but a dense tensor was found at position {i}.")
    first = tensors[0]
    dim = wrap_dim(dim, first.ndim)
    for i, t in enumerate(tensors):
        if t.sparse_dim() != first.sparse_dim() or t.dense_dim() != first.dense_dim():
            raise RuntimeError(
                f"concatenating sparse tensors, but they have different numbers of sparse and dense dimensions: "
                f"tensor 0 has {first.sparse_dim()} and {first.dense_dim()}, tensor {i} has {t.sparse_dim()} and "
                f"{t.dense_dim()}"
            )
        if any(a != b for d, (a, b) in enumerate(zip(t.shape, first.shape)) if d != dim):
            raise RuntimeError(
                f"All tensors must have the same shape: {list(first.shape)} (except in the concatenating "
                f"dimension), but found shape: {list(t.shape)} at position {i}."
            )
    if dim >= first.sparse_dim():
        raise NotImplementedError("cat of sparse COO tensors along a dense dimension is not supported")
    indices, offset = [], 0
    for t in tensors:
        shifted = t._idx.clone()
        shifted[dim] += offset
        indices.append(shifted)
        offset += t.shape[dim]
    size = list(first.shape)
    size[dim] = offset
    return SparseCOOTensor(cat(indices, 1), cat([t._vals for t in tensors], 0), size)


def _stack(tensors: Sequence[SparseCOOTensor], dim: int) -> SparseCOOTensor:
    """``ember.stack`` of sparse COO tensors: each given a new sparse dimension at ``dim``, then joined."""
    for i, t in enumerate(tensors):
        if not isinstance(t, SparseCOOTensor):
            raise RuntimeError(f"Concatenating sparse tensors, but a dense tensor was found at position {i}.")
    shape = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and "
                f"{list(t.shape)} at entry {i}"
            )
    dim = wrap_dim(dim, len(shape) + 1)
    return _cat([t.unsqueeze(dim) for t in tensors], dim)


def _dense_grad_mm(mat1: SparseCOOTensor, mat2: Tensor, of: SparseCOOTensor | None = None) -> Tensor:
    """:func:`mm`, giving a sparse leaf ``mat1`` that requires grad the dense gradient at every
    coordinate; ``of``: the leaf whose transpose ``mat1`` is (``dense @ sparse``), given the gradient instead."""
    leaf = mat1 if of is None else of
    if not (grad_state.enabled and leaf.requires_grad and leaf.is_leaf):
        return mm(mat1, mat2)
    if leaf._dense_grad is None:
        leaf._dense_grad = leaf._vals.new_zeros(tuple(leaf._size)).requires_grad_()
    return _DenseGradProduct.apply(leaf._dense_grad, mat2, mat1, of is not None)


class _DenseGradProduct(Function):
    """``mat1 @ mat2`` for a sparse leaf ``mat1``: its gradient ``grad @ mat2.T`` (every coordinate)
    goes to ``slot``, the dense leaf that stands for ``mat1`` (for ``mat1``'s transpose when
    ``transposed``; its value is not read)."""

    @staticmethod
    def forward(ctx: Any, slot: Tensor, mat2: Tensor, mat1: SparseCOOTensor, transposed: bool) -> Tensor:
        ctx.mat1 = mat1
        ctx.transposed = transposed
        ctx.save_for_backward(mat2)
        return mm(mat1.detach(), mat2)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None, None]:
        (mat2,) = ctx.saved_tensors
        mat1 = ctx.mat1
        rows, inner = mat1.shape
        grad_slot = None
        if ctx.needs_input_grad[0]:
            grad_slot = grad.reshape((rows, -1)) @ mat2.reshape((inner, -1)).t()
            grad_slot = grad_slot.t() if ctx.transposed else grad_slot
        grad_mat2 = mm(mat1.detach().t(), grad) if ctx.needs_input_grad[1] else None
        return grad_slot, grad_mat2, None, None


def _to_sparse(self: Tensor, sparse_dim: int | None = None) -> SparseCOOTensor:
    """This dense tensor as a coalesced sparse COO tensor holding its non-zero entries.

    Differentiable: the gradient reaches the entries that were stored.

    Args:
        sparse_dim (int, optional): how many leading dimensions are sparse; the rest are
            stored densely per entry (an entry is kept where any of its values is non-zero).
            Default: all dimensions.

    Example::

        >>> ember.tensor([[0.0, 1.0], [2.0, 0.0]]).to_sparse().indices()
        tensor([[0, 1],
                [1, 0]])
    """
    sparse_dim = self.ndim if sparse_dim is None else int(sparse_dim)
    if not 0 < sparse_dim <= self.ndim:
        raise RuntimeError(f"to_sparse: sparse_dim {sparse_dim} out of range for a {self.ndim}-D tensor")
    refuse_meta("to_sparse", self)  # which elements are stored depends on the values
    sparse_shape = tuple(self.shape[:sparse_dim])
    present = self.detach() != 0
    if sparse_dim < self.ndim:
        present = present.reshape(sparse_shape + (-1,)).any(-1)
    indices = present.nonzero().t().contiguous() if present.ndim else present.nonzero().t()
    values = self[tuple(indices.unbind(0))]
    return SparseCOOTensor(indices, values, tuple(self.shape), coalesced=True)


def sparse_coo_tensor(
    indices: Any,
    values: Any,
    size: Sequence[int] | None = None,
    dtype: _dtype | None = None,
    device: Device = None,
    requires_grad: bool = False,
    *,
    pin_memory: bool = False,
    check_invariants: bool | None = None,
    is_coalesced: bool | None = None,
) -> SparseCOOTensor:
    """A sparse COO tensor with ``values`` at ``indices``.

    Args:
        indices: int coordinates of shape ``(sparse_dim, nnz)`` (tensor or nested lists).
        values: the values, shape ``(nnz, *dense_dims)``.
        size (tuple, optional): the full size; inferred from the largest coordinates if omitted.
        dtype, device: of the values. Default: inferred.
        requires_grad (bool): record operations on the values for autograd. Default: False.
        pin_memory (bool, optional): accepted for PyTorch compatibility. Default: ``False``.
        check_invariants (bool, optional): also check that coordinates declared coalesced are sorted and
            unique (the coordinates are always checked against ``size``). Default: ``None`` (``False``).
        is_coalesced (bool, optional): declare the coordinates sorted and unique (``True``) or not; PyTorch
            trusts the declaration unless ``check_invariants``. Default: ``None``: coalesced when there
            is at most one coordinate.

    Example::

        >>> s = ember.sparse_coo_tensor([[0, 2, 0]], [1.0, 2.0, 3.0], (4,))
        >>> s.coalesce().to_dense()
        tensor([4., 0., 2., 0.])
    """
    if not isinstance(values, Tensor):
        values = tensor(values, dtype=dtype, device=device)
    elif dtype is not None or device is not None:
        values = values.to(device=device or values.device, dtype=dtype or values.dtype)
    if not isinstance(indices, Tensor):
        indices = tensor(indices, dtype=dtypes.int64, device=values.device)
    if indices.dtype.is_floating_point:
        raise RuntimeError(f"indices must be an int64 tensor, got {indices.dtype}")
    indices = indices.long()
    if indices.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(indices.shape)}")
    if values.ndim < 1 or values.shape[0] != indices.shape[1]:
        raise RuntimeError(
            f"indices and values must have same nnz, but got nnz from indices: {indices.shape[1]}, "
            f"nnz from values: {values.shape[0] if values.ndim else 0}"
        )
    sparse_dim = indices.shape[0]
    if size is None:
        top = indices.amax(1).tolist() if indices.shape[1] else [-1] * sparse_dim
        size = tuple(int(m) + 1 for m in top) + tuple(values.shape[1:])
    size = tuple(size)
    if len(size) != sparse_dim + values.ndim - 1:
        raise RuntimeError(
            f"number of dimensions must be sparse_dim ({sparse_dim}) + dense_dim ({values.ndim - 1}), "
            f"but got {len(size)}"
        )
    if indices.shape[1]:
        top = indices.amax(1).tolist()
        low = indices.amin(1).tolist()
        for d in range(sparse_dim):
            if low[d] < 0 or top[d] >= size[d]:
                raise RuntimeError(
                    f"size is inconsistent with indices: for dim {d}, size is {size[d]} but found index {top[d]}"
                )
    if requires_grad:
        values = values.detach().requires_grad_()
    nnz = indices.shape[1]
    result = SparseCOOTensor(indices, values, size, nnz <= 1 if is_coalesced is None else bool(is_coalesced))
    if is_coalesced and check_invariants and nnz > 1:
        flat, _ = result._linear_index()
        if not bool((flat[1:] > flat[:-1]).all()):
            raise RuntimeError("cannot set is_coalesced to true if indices correspond to uncoalesced COO tensor")
    return result


class _SparseTypeMeta(type):
    """The metaclass of the legacy sparse type classes: ``isinstance`` asks for a sparse tensor of the class's dtype."""

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, SparseCOOTensor) and instance.dtype is cls.__dict__.get("dtype")


class _SparseTensorType(metaclass=_SparseTypeMeta):
    """PyTorch's deprecated ``torch.sparse.FloatTensor`` family (GCN code builds its adjacency with it).

    ``FloatTensor(indices, values[, size])`` is :func:`sparse_coo_tensor` (its dtype is the values', as
    in PyTorch, whatever the class); ``FloatTensor(*size)`` is an empty sparse tensor of the class's dtype.
    """

    dtype: _dtype
    is_sparse = True

    def __new__(cls, *args: Any, device: Device = None) -> Any:
        warnings.warn(
            f"ember.sparse.{cls.__name__}(...) is deprecated. Please use ember.sparse_coo_tensor(indices, values, "
            "shape, dtype=, device=).",
            UserWarning,
            stacklevel=2,
        )
        if args and isinstance(args[0], Tensor):
            if len(args) not in (2, 3) or not isinstance(args[1], Tensor):
                raise TypeError(f"{cls.__name__}(): expected (indices, values) or (indices, values, size) tensors")
            if args[0].dtype is not dtypes.int64:  # the legacy constructor takes no other (sparse_coo_tensor casts)
                raise RuntimeError(f"{cls.__name__}: indices must be an int64 tensor, got {args[0].dtype}")
            return sparse_coo_tensor(args[0], args[1], args[2] if len(args) == 3 else None, device=device)
        size = tuple(args[0]) if len(args) == 1 and isinstance(args[0], Sequence) else args
        size = size or (0,)
        values = tensor([], dtype=cls.dtype, device=device)
        return SparseCOOTensor(values.new_zeros((len(size), 0), dtype=dtypes.int64), values, size, True)


def _sparse_type(name: str, dtype: _dtype) -> type:
    return _SparseTypeMeta(name, (_SparseTensorType,), {"dtype": dtype, "__module__": __name__})


FloatTensor = _sparse_type("FloatTensor", dtypes.float32)
DoubleTensor = _sparse_type("DoubleTensor", dtypes.float64)
HalfTensor = _sparse_type("HalfTensor", dtypes.float16)
BFloat16Tensor = _sparse_type("BFloat16Tensor", dtypes.bfloat16)
LongTensor = _sparse_type("LongTensor", dtypes.int64)
IntTensor = _sparse_type("IntTensor", dtypes.int32)
ShortTensor = _sparse_type("ShortTensor", dtypes.int16)
CharTensor = _sparse_type("CharTensor", dtypes.int8)
ByteTensor = _sparse_type("ByteTensor", dtypes.uint8)
