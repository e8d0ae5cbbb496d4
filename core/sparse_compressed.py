"""Sparse compressed tensors: the CSR, CSC, BSR and BSC layouts (``ember.sparse_csr_tensor`` and kin).

A :class:`SparseCompressedTensor` holds, for a matrix of ``size`` (two sparse dimensions, then
``dense_dim`` dense ones), the ``compressed_indices`` (``crow_indices`` for CSR/BSR, one more than
the number of rows, or of row blocks; ``ccol_indices`` for CSC/BSC), the ``plain_indices``
(``col_indices``/``row_indices``, one per stored element or block) and the ``values`` (shape
``(nnz, *dense)``, or ``(nnz, block_rows, block_cols, *dense)`` for the block layouts), all ordinary
tensors on one device. The constructors check PyTorch's invariants and raise its messages.

Everything is computed through the equivalent COO tensor (:meth:`SparseCompressedTensor._coo`),
whose values are this tensor's values (reshaped for the block layouts), so autograd reaches the
values: ``to_dense`` and :func:`ember.sparse.mm` give a leaf a gradient in its own layout (at the
stored elements), ``@``/``ember.mm`` the dense gradient at every element, as in PyTorch.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import dtypes, printing
from .layout import sparse_bsc, sparse_bsr, sparse_coo, sparse_csc, sparse_csr, strided
from .ops.movement import cat, stack
from .sparse import (
    _LINEAR_UNARY,
    _NONLINEAR_UNARY,
    SparseCOOTensor,
    SparseTensorBase,
    _dense_grad_mm,
    _missing_method,
    _transposed_owner,
)
from .tensor import Size, Tensor, tensor
from .unstrided import is_strided

if TYPE_CHECKING:
    from .types import Device, Number, _dtype

__all__ = [
    "SparseCompressedTensor",
    "sparse_compressed_tensor",
    "sparse_csr_tensor",
    "sparse_csc_tensor",
    "sparse_bsr_tensor",
    "sparse_bsc_tensor",
    "sampled_addmm",
]

_ROW_MAJOR = (sparse_csr, sparse_bsr)  # the compressed dimension is the rows
_BLOCKED = (sparse_bsr, sparse_bsc)
_COMPRESSED = (sparse_csr, sparse_csc, sparse_bsr, sparse_bsc)
_NAMES = {sparse_csr: "SparseCsr", sparse_csc: "SparseCsc", sparse_bsr: "SparseBsr", sparse_bsc: "SparseBsc"}


def _index_names(layout: Any) -> tuple[str, str]:
    return ("crow_indices", "col_indices") if layout in _ROW_MAJOR else ("ccol_indices", "row_indices")


class SparseCompressedTensor(SparseTensorBase):
    """A sparse matrix in a compressed layout (CSR, CSC, BSR or BSC), as PyTorch keeps it.

    Build with :func:`ember.sparse_csr_tensor` (and kin) or :meth:`ember.Tensor.to_sparse_csr`.
    """

    is_sparse = False  # PyTorch's is_sparse is True for the COO layout only
    _dispatch_name = "SparseCsr"
    is_quantized = False
    is_mkldnn = False
    is_nested = False

    def __init__(self, compressed: Tensor, plain: Tensor, values: Tensor, size: Sequence[int], layout: Any) -> None:
        self._compressed = compressed
        self._plain = plain
        self._vals = values
        self._size = Size(size)
        self.layout = layout
        self._dense_grad: Tensor | None = None  # the leaf that ``self @ dense`` gives its gradient
        self._owner: tuple[Any, bool] | None = None  # as SparseCOOTensor._owner

    # -- identity -----------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        return _missing_method(self, name, "SparseCsr")

    @property
    def is_sparse_csr(self) -> bool:
        return self.layout is sparse_csr

    def is_contiguous(self, memory_format: Any = None) -> bool:
        """Refused, as PyTorch's: a compressed tensor has no strides."""
        raise RuntimeError(f"Sparse {self.layout.name[7:].upper()} tensors do not have is_contiguous")

    def contiguous(self, memory_format: Any = None) -> Any:
        """Refused, as PyTorch's (it asks :meth:`is_contiguous`)."""
        return self.is_contiguous()

    def reshape(self, *shape: Any) -> Any:
        """Refused, as PyTorch's (it asks :meth:`is_contiguous`)."""
        return self.is_contiguous()

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Any:
        """Refused, as PyTorch's (it asks :meth:`is_contiguous`)."""
        return self.is_contiguous()

    def sparse_dim(self) -> int:
        return 2

    def __len__(self) -> int:
        return self._size[0]

    def dense_dim(self) -> int:
        return self.ndim - 2

    def _nnz(self) -> int:
        return self._plain.shape[0]

    def _blocksize(self) -> tuple[int, int]:
        return (self._vals.shape[1], self._vals.shape[2]) if self.layout in _BLOCKED else (1, 1)

    # -- the parts ------------------------------------------------------------------------
    def _refuse(self, name: str, wanted: str) -> None:
        raise RuntimeError(f"{name} expected {wanted} tensor layout but got {_NAMES[self.layout]}")

    def crow_indices(self) -> Tensor:
        """The compressed row indices (CSR and BSR): where each row's (row block's) elements start."""
        if self.layout not in _ROW_MAJOR:
            self._refuse("crow_indices", "sparse row compressed")
        return self._compressed

    def col_indices(self) -> Tensor:
        """The column (column block) of each stored element (CSR and BSR)."""
        if self.layout not in _ROW_MAJOR:
            self._refuse("col_indices", "sparse row compressed")
        return self._plain

    def ccol_indices(self) -> Tensor:
        """The compressed column indices (CSC and BSC): where each column's (column block's) elements start."""
        if self.layout in _ROW_MAJOR:
            self._refuse("ccol_indices", "sparse column compressed")
        return self._compressed

    def row_indices(self) -> Tensor:
        """The row (row block) of each stored element (CSC and BSC)."""
        if self.layout in _ROW_MAJOR:
            self._refuse("row_indices", "sparse column compressed")
        return self._plain

    def values(self) -> Tensor:
        """The stored values, ``(nnz, *dense)`` (``(nnz, block_rows, block_cols, *dense)`` for BSR/BSC)."""
        return self._vals

    def indices(self) -> Tensor:
        """Refused, as in PyTorch: a compressed tensor has no coordinates (see :meth:`to_sparse_coo`)."""
        self._refuse("indices", "sparse coordinate")
        raise AssertionError  # unreachable

    _indices = indices

    # -- autograd (through the values) ----------------------------------------------------
    @property
    def grad(self) -> Any:
        """The gradient: in this layout at the stored elements (what ``to_dense`` and
        :func:`ember.sparse.mm` give), plus, densely, what ``self @ dense`` gives (then dense)."""
        return self._gradient(self._vals.grad, None if self._dense_grad is None else self._dense_grad.grad)

    def _grad_leaves(self) -> list[Tensor]:
        """The dense leaves this tensor's gradient collects in (``autograd.grad`` differentiates through these)."""
        return [self._vals] if self._dense_grad is None else [self._vals, self._dense_grad]

    def _gradient(self, g: Tensor | None, dense: Tensor | None = None, materialize: bool = False) -> Any:
        """This tensor's gradient from its values' gradient ``g`` and its dense stand-in's ``dense``."""
        if g is None and dense is None and materialize:
            g = self._vals.new_zeros(tuple(self._vals.shape))
        stored = None if g is None else self._with_values(g)
        if dense is None:
            return stored
        return dense if stored is None else dense + stored.to_dense()

    def _with_values(self, values: Tensor) -> SparseCompressedTensor:
        return SparseCompressedTensor(self._compressed, self._plain, values, self._size, self.layout)

    def detach(self) -> SparseCompressedTensor:
        return self._with_values(self._vals.detach())

    def clone(self) -> SparseCompressedTensor:
        return SparseCompressedTensor(
            self._compressed.clone(), self._plain.clone(), self._vals.clone(), self._size, self.layout
        )

    def copy_(self, src: SparseCompressedTensor, non_blocking: bool = False) -> SparseCompressedTensor:
        """Take ``src``'s indices and values (cast to this tensor's dtype) where it has this tensor's
        layout and size; returns ``self``."""
        if not isinstance(src, SparseCompressedTensor) or src.layout is not self.layout:
            raise RuntimeError(
                f"copy_: expected a {_NAMES[self.layout]} source, got {getattr(src, 'layout', type(src).__name__)}"
            )
        if tuple(src.shape) != tuple(self._size):
            raise RuntimeError(f"copy_: expected a source of size {list(self._size)}, got {list(src.shape)}")
        self._compressed, self._plain = src._compressed.to(self.device), src._plain.to(self.device)
        values = src._vals.detach().to(device=self.device, dtype=self.dtype)
        self._vals = values.requires_grad_(self._vals.requires_grad)
        return self

    # -- conversion -----------------------------------------------------------------------
    def _coo(self) -> SparseCOOTensor:
        """The same elements as a COO tensor whose values are this tensor's (reshaped for the
        block layouts), in this tensor's order (coalesced for CSR)."""
        outer = _outer_of(self._compressed.long(), self._nnz())
        rows, cols = (outer, self._plain) if self.layout in _ROW_MAJOR else (self._plain, outer)
        rows, cols = rows.long(), cols.long()
        if self.layout not in _BLOCKED:
            return SparseCOOTensor(stack((rows, cols), 0), self._vals, self._size, self.layout is sparse_csr)
        bh, bw = self._blocksize()
        nnz = self._nnz()
        inner_r = rows.new_tensor(list(range(bh))).reshape(1, bh, 1).expand(nnz, bh, bw)
        inner_c = rows.new_tensor(list(range(bw))).reshape(1, 1, bw).expand(nnz, bh, bw)
        r = (rows.reshape(nnz, 1, 1) * bh + inner_r).reshape(-1)
        c = (cols.reshape(nnz, 1, 1) * bw + inner_c).reshape(-1)
        values = self._vals.reshape((nnz * bh * bw,) + tuple(self._vals.shape[3:]))
        return SparseCOOTensor(stack((r, c), 0), values, self._size, bh == 1 and self.layout is sparse_bsr)

    def to_dense(self, dtype: _dtype | None = None, *, masked_grad: bool = True) -> Tensor:
        """The dense matrix; differentiable (the gradient reaches the stored values)."""
        if dtype is not None:
            raise RuntimeError("dtype argument is not supported by sparse_csr_to_dense")
        return self._coo().to_dense(masked_grad=masked_grad)

    def to_sparse(
        self,
        sparse_dim: int | None = None,
        *,
        layout: Any = None,
        blocksize: Sequence[int] | None = None,
        dense_dim: int | None = None,
    ) -> Any:
        """This tensor in another sparse layout (COO by default)."""
        if layout is None or layout is sparse_coo:
            if sparse_dim is not None and sparse_dim != 2:
                raise RuntimeError(
                    f"sparse_compressed_to_sparse: sparse_dim argument must be 2 for a {_NAMES[self.layout]} "
                    f"tensor, got {sparse_dim}"
                )
            coo = self._coo()
            return coo if self.layout in _BLOCKED else coo.coalesce()  # PyTorch leaves the blocks' order
        if layout is self.layout and (blocksize is None or tuple(blocksize) == self._blocksize()):
            return self
        if layout not in _COMPRESSED:
            raise RuntimeError(f"to_sparse: unsupported layout {layout}")
        if self.layout in _BLOCKED and layout not in _BLOCKED:
            name = _NAMES[layout]
            raise RuntimeError(
                f"sparse_compressed_to_sparse_{name[6:].lower()}: expected SparseCsr or SparseCsc layout but got "
                f"{_NAMES[self.layout]}"
            )
        return from_coo(self._coo().coalesce(), layout, blocksize, dense_dim)

    def to_sparse_coo(self) -> SparseCOOTensor:
        return self.to_sparse()

    def to(self, *args: Any, **kwargs: Any) -> SparseCompressedTensor:
        """This tensor on another device or with another dtype (its values'; the indices keep theirs)."""
        values = self._vals.to(*args, **kwargs)
        device = values.device
        return SparseCompressedTensor(
            self._compressed.to(device), self._plain.to(device), values, self._size, self.layout
        )

    # -- shape ------------------------------------------------------------------------------
    def t(self) -> SparseCompressedTensor:
        """The transpose: CSR <-> CSC (BSR <-> BSC) on the same indices, as PyTorch gives it."""
        if self.dense_dim():
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self.transpose(0, 1)

    def transpose(self, dim0: int, dim1: int) -> SparseCompressedTensor:
        """The two sparse dimensions swapped: CSR <-> CSC, BSR <-> BSC (no copy of the indices)."""
        d0, d1 = (d + self.ndim if d < 0 else d for d in (dim0, dim1))
        if {d0, d1} != {0, 1}:
            if d0 == d1 and d0 < 2:
                return self
            raise RuntimeError(
                f"transpose(): {_NAMES[self.layout]} tensors can only swap their two sparse dimensions, "
                f"got {dim0} and {dim1}"
            )
        swapped = {sparse_csr: sparse_csc, sparse_csc: sparse_csr, sparse_bsr: sparse_bsc, sparse_bsc: sparse_bsr}
        values = self._vals.transpose(1, 2) if self.layout in _BLOCKED else self._vals
        size = (self._size[1], self._size[0]) + tuple(self._size[2:])
        result = SparseCompressedTensor(self._compressed, self._plain, values, size, swapped[self.layout])
        result._owner = _transposed_owner(self)
        return result

    # -- arithmetic -------------------------------------------------------------------------
    def _same_layout(self, coo: SparseCOOTensor) -> SparseCompressedTensor:
        blocksize = self._blocksize() if self.layout in _BLOCKED else None
        return from_coo(coo.coalesce(), self.layout, blocksize, None)

    def add(self, other: Any, alpha: Number = 1) -> Any:
        """``self + alpha * other``: in this layout for ``other`` in it, dense for a dense ``other``."""
        if isinstance(other, SparseCompressedTensor):
            if alpha != 1 and self.layout is not sparse_csr:
                raise RuntimeError(f"unsupported tensor layout: {_NAMES[self.layout]}")
            if other.layout is not self.layout:
                names = _index_names(self.layout)[0], _NAMES[other.layout]
                raise RuntimeError(f"{names[0]} expected sparse row compressed tensor layout but got {names[1]}")
            if tuple(other.shape) != tuple(self._size):
                raise RuntimeError(
                    f"add: expected both operands to have the same size, got {list(self._size)} and {list(other.shape)}"
                )
            return self._same_layout(self._coo().add(other._coo(), alpha=alpha))  # type: ignore[arg-type]
        if is_strided(other):
            return self.to_dense().add(other, alpha=alpha)
        raise TypeError(f"add: unsupported operand type {type(other).__name__} for a sparse tensor")

    __add__ = add

    def __radd__(self, other: Any) -> Any:
        if is_strided(other):
            return other + self.to_dense()
        return self.add(other)

    def sub(self, other: Any, alpha: Number = 1) -> Any:
        """``self - alpha * other`` for a dense ``other`` (dense); PyTorch refuses two compressed operands."""
        if isinstance(other, SparseCompressedTensor):
            raise RuntimeError(f"unsupported tensor layout: {_NAMES[self.layout]}")
        return self.add(other, alpha=-alpha)

    __sub__ = sub

    def __rsub__(self, other: Any) -> Any:
        if is_strided(other):
            return other - self.to_dense()
        return NotImplemented

    def mul(self, other: Any) -> SparseCompressedTensor:
        """The elementwise product with a number or a 0-d tensor (the values scaled), or, for CSR only (as
        PyTorch), with a CSR tensor or a dense tensor of this size (read at the stored elements)."""
        if isinstance(other, SparseCompressedTensor):
            if other.layout is not self.layout:
                raise RuntimeError(
                    f"mul: expected both operands in one sparse layout, got {self.layout} and {other.layout}"
                )
            self._check_product_layout()
            return self._same_layout(self._coo().mul(other._coo()))
        if is_strided(other) and other.ndim:
            self._check_product_layout()
            if tuple(other.shape) != tuple(self._size):  # PyTorch masks the dense operand: no broadcasting
                raise RuntimeError(
                    f"sparse_mask(): operands have incompatible sizes; self has size {list(other.shape)} "
                    f"but mask has size {list(self._size)}"
                )
            coo = self._coo()
            at = other[tuple(coo._idx.unbind(0))]
            return self._with_values(self._vals * at.reshape(tuple(self._vals.shape)))
        return self._with_values(self._vals * other)

    __mul__ = mul
    __rmul__ = mul

    def _check_product_layout(self) -> None:
        """PyTorch multiplies a compressed tensor by a tensor (not a number) in CSR only."""
        if self.layout in _BLOCKED:
            raise RuntimeError(
                "empty_sparse_compressed expected sparse compressed (non-block) tensor layout but got "
                f"{_NAMES[self.layout]}"
            )
        if self.layout is not sparse_csr:
            raise RuntimeError("Expected result Tensor to be of format CSR")

    def div(self, other: Any) -> SparseCompressedTensor:
        """Refused, as PyTorch refuses it (multiply by the reciprocal instead)."""
        raise RuntimeError(f"unsupported tensor layout: {_NAMES[self.layout]}")

    __truediv__ = div

    def __neg__(self) -> SparseCompressedTensor:
        return self._with_values(-self._vals)

    def pow(self, exponent: Number) -> SparseCompressedTensor:
        """Refused, as PyTorch refuses it (``square()`` or ``values()`` instead)."""
        raise RuntimeError(f"unsupported tensor layout: {_NAMES[self.layout]}")

    __pow__ = pow

    def sum(self, dim: Any = None, keepdim: bool = False, dtype: _dtype | None = None) -> Any:
        """The sum of all elements (a 0-d dense tensor); over ``dim`` with ``keepdim=True``, a sparse
        matrix in this layout (PyTorch refuses ``keepdim=False`` then)."""
        if dim is None:
            return self._vals.sum(dtype=dtype)
        if self.layout is not sparse_csr:  # PyTorch sums over a dimension of CSR only
            raise RuntimeError(
                "Currently the only compressed sparse format supported for sum.dim_IntList is CSR, but got layout "
                f"{_NAMES[self.layout]}"
            )
        if not keepdim:
            raise RuntimeError(
                f"reduction operations on {_NAMES[self.layout][6:].upper()} tensors with keepdim=False is unsupported"
            )
        from .ops.operands import normalize_dims
        from .sparse import sum as sparse_sum

        dims = normalize_dims(dim, self.ndim)
        if any(d >= 2 for d in dims):
            raise RuntimeError(f"sum: reducing a dense dimension of a {_NAMES[self.layout]} tensor is not supported")
        coo = self._coo()
        if len(dims) == 2:  # one element: the total (stored, even when it is zero)
            total = sparse_sum(coo, (0, 1), dtype=dtype).reshape((1,) + tuple(self._vals.shape[1:]))
            one = coo._idx.new_zeros((2, 1))
            return from_coo(SparseCOOTensor(one, total, (1, 1) + tuple(self._size[2:]), True), self.layout, None, None)
        # every row (column) that stores an element keeps its sum, zero or not, as PyTorch keeps it
        return from_coo(sparse_sum(coo, dims[0], dtype=dtype).unsqueeze(dims[0]), self.layout, None, None)

    # -- products ---------------------------------------------------------------------------
    def __matmul__(self, other: Any) -> Any:
        """``self @ other`` for a dense ``other`` (a leaf that requires grad gets the dense gradient,
        as PyTorch's ``@`` gives it) or a sparse one."""
        if not is_strided(other):
            if isinstance(other, SparseCompressedTensor):
                return self._same_layout((self._coo() @ other._coo().to_dense()).to_sparse())
            return NotImplemented
        if self.dense_dim():
            raise RuntimeError(f"matmul: expected a 2-D sparse matrix, got size {list(self._size)}")
        if self.layout is sparse_bsc:
            raise RuntimeError(
                f"addmm: computation on {self.device.type.upper()} is not implemented for Strided + SparseBsc @ Strided"
            )
        return _dense_grad_mm(self, other, coo=self._coo())

    matmul = __matmul__

    def mm(self, mat2: Any) -> Any:
        if is_strided(mat2) and mat2.ndim != 2:
            raise RuntimeError(f"mat2 must be a matrix, got {mat2.ndim}-D tensor")
        return self @ mat2

    def mv(self, vec: Tensor) -> Tensor:
        if not is_strided(vec) or vec.ndim != 1:
            raise RuntimeError(f"vector + matrix @ vector expected, got {self.ndim}, {getattr(vec, 'ndim', 0)}")
        return self @ vec

    def __rmatmul__(self, other: Any) -> Any:
        """``dense @ self``."""
        if not is_strided(other) or other.ndim != 2:
            return NotImplemented
        if other.shape[1] != self._size[0]:
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({other.shape[0]}x{other.shape[1]} and "
                f"{'x'.join(map(str, self._size))})"
            )
        return (self.t() @ other.t()).t()

    def __repr__(self) -> str:
        compressed, plain = _index_names(self.layout)
        return printing.sparse_repr(
            self, ((compressed, self._compressed), (plain, self._plain), ("values", self._vals)), self._nnz()
        )


def _unary_method(name: str) -> Any:
    def method(self: SparseCompressedTensor, *args: Any, **kwargs: Any) -> SparseCompressedTensor:
        return self._with_values(getattr(self._vals, name)(*args, **kwargs))

    method.__name__ = name
    method.__doc__ = f"``{name}`` of the stored values (a sparse result in this layout, as in PyTorch)."
    return method


for _name in _NONLINEAR_UNARY + _LINEAR_UNARY:
    setattr(SparseCompressedTensor, _name, _unary_method(_name))


# -- validation ------------------------------------------------------------------------------------
def _validate(compressed: Tensor, plain: Tensor, values: Tensor, size: tuple[int, ...], layout: Any) -> None:
    """Check PyTorch's invariants of a compressed tensor (its messages); unbatched tensors only."""
    cname, pname = _index_names(layout)
    if compressed.dtype is not plain.dtype:
        raise RuntimeError(
            f"{cname} and {pname} must have the same dtype, bot got "
            f"{_short(compressed.dtype)} and {_short(plain.dtype)}, respectively"
        )
    if compressed.dtype not in (dtypes.int32, dtypes.int64):
        raise RuntimeError(f"{cname} and {pname} must be an int32 or int64 type, but got: {compressed.dtype}")
    if compressed.ndim < 1:
        raise RuntimeError(f"{cname} must have dimensionality >= 1 but got {compressed.ndim}")
    if compressed.ndim != plain.ndim:
        raise RuntimeError(
            f"{cname} and {pname} dimensionalities must be equal but got {compressed.ndim} and {plain.ndim}, "
            "respectively"
        )
    if compressed.ndim != 1:
        raise NotImplementedError(
            f"sparse compressed tensors with batch dimensions are not supported by ember (got {cname} of "
            f"shape {list(compressed.shape)})"
        )
    block = 2 if layout in _BLOCKED else 0
    if values.ndim < 1 + block:
        raise RuntimeError(
            f"values must have dimensionality > sum of batch and block dimensionalities (=0 + {block}) "
            f"but got {values.ndim}"
        )
    dense_dim = values.ndim - 1 - block
    if len(size) != 2 + dense_dim:
        raise RuntimeError(
            f"tensor dimensionality must be sum of batch, base, and dense dimensionalities "
            f"(=0 + 2 + {dense_dim}) but got {len(size)}"
        )
    bh, bw = (values.shape[1], values.shape[2]) if block else (1, 1)
    for d, b in ((0, bh), (1, bw)):
        if block and size[d] % b:
            raise RuntimeError(
                f"tensor shape[{d}] (={size[d]}) must be divisible with blocksize[{d}] (={b}) as defined by values "
                "shape"
            )
    if tuple(values.shape[1 + block :]) != tuple(size[2:]):
        raise RuntimeError(
            f"dense dimensions of values {list(values.shape[1 + block :])} must match those of the size "
            f"{list(size[2:])}"
        )
    nrows, ncols = size[0] // bh, size[1] // bw
    n_compressed, n_plain = (nrows, ncols) if layout in _ROW_MAJOR else (ncols, nrows)
    what = "rows" if layout in _ROW_MAJOR else "columns"
    if compressed.shape[0] != n_compressed + 1:
        raise RuntimeError(
            f"{cname}.shape[-1] must be equal to the number of {what} + 1 (={n_compressed + 1}), "
            f"but got {compressed.shape[0]}"
        )
    nnz = values.shape[0]
    if plain.shape[0] != nnz:
        raise RuntimeError(
            f"{pname}.shape[-1] must be equal to nnz (={nnz}) as defined by values.shape[0], but got {plain.shape[0]}"
        )
    if _well_formed(compressed, plain, nnz, n_plain):
        return
    # something is wrong: found, and named as PyTorch names it, by the exact (slow) walk below
    c = [int(v) for v in compressed.tolist()]
    p = [int(v) for v in plain.tolist()]
    if c[0] != 0:
        raise RuntimeError(f"`{cname}[..., 0] == 0` is not satisfied.")
    if c[-1] != nnz:
        raise RuntimeError(f"`{cname}[..., -1] == nnz` is not satisfied.")
    nplain = "ncols" if layout in _ROW_MAJOR else "nrows"
    nouter = "nrows" if layout in _ROW_MAJOR else "ncols"
    for a, b in zip(c[:-1], c[1:], strict=True):  # row by row (column by column), in PyTorch's order
        if not 0 <= b - a <= n_plain:
            raise RuntimeError(f"`0 <= {cname}[..., 1:] - {cname}[..., :-1] <= {nplain}` is not satisfied.")
        if any(not 0 <= p[k] < n_plain for k in range(a, b)):
            raise RuntimeError(f"`0 <= {pname} < {nplain}` is not satisfied.")
        if any(p[k] >= p[k + 1] for k in range(a, b - 1)):
            raise RuntimeError(
                f"`{pname}[..., {cname}[..., i - 1]:{cname}[..., i]] for all i = 1, ..., {nouter} "
                "are sorted and distinct along the last dimension values` is not satisfied."
            )
    if any(not 0 <= v < n_plain for v in p):
        raise RuntimeError(f"`0 <= {pname} < {nplain}` is not satisfied.")


def _outer_of(compressed: Tensor, nnz: int) -> Tensor:
    """The row (column) of each stored element, from well-formed int64 compressed indices: the number
    of rows that end at or before it (a mark at each row's end, summed)."""
    marks = compressed.new_zeros((nnz + 1,)).index_add(
        0, compressed[1:-1], compressed.new_ones((max(compressed.shape[0] - 2, 0),))
    )
    return marks.cumsum(0)[:nnz]


def _well_formed(compressed: Tensor, plain: Tensor, nnz: int, n_plain: int) -> bool:
    """Whether the compressed and plain indices satisfy every invariant (tensor ops, no Python loop
    over the elements)."""
    c, p = compressed.long(), plain.long()
    counts = c.diff()
    if int(c[0].item()) != 0 or int(c[-1].item()) != nnz:
        return False
    if counts.numel() and not bool(((counts >= 0) & (counts <= n_plain)).all().item()):
        return False
    if nnz == 0:
        return True
    if not bool(((p >= 0) & (p < n_plain)).all().item()):
        return False
    outer = _outer_of(c, nnz)
    same_row = outer[1:] == outer[:-1]
    return bool(((p[1:] > p[:-1]) | ~same_row).all().item())


def _short(dtype: _dtype) -> str:
    return {dtypes.int64: "Long", dtypes.int32: "Int", dtypes.float32: "Float", dtypes.float64: "Double"}.get(
        dtype, str(dtype)
    )


# -- constructors -----------------------------------------------------------------------------------
def sparse_compressed_tensor(
    compressed_indices: Any,
    plain_indices: Any,
    values: Any,
    size: Sequence[int] | None = None,
    *,
    dtype: _dtype | None = None,
    layout: Any = None,
    device: Device = None,
    pin_memory: bool = False,
    requires_grad: bool = False,
    check_invariants: bool | None = None,
) -> SparseCompressedTensor:
    """A sparse matrix in the compressed ``layout`` (``ember.sparse_csr``, ``sparse_csc``,
    ``sparse_bsr`` or ``sparse_bsc``) from its compressed indices, plain indices and values.

    The invariants (PyTorch's) are always checked: the compressed indices start at 0, end at nnz and
    do not decrease; the plain indices lie in the matrix and are sorted and distinct within each
    compressed row (column).

    Args:
        compressed_indices: ``crow_indices`` (CSR, BSR) or ``ccol_indices`` (CSC, BSC), int32 or int64,
            one more than the number of rows (columns; of blocks for BSR/BSC).
        plain_indices: ``col_indices`` or ``row_indices``, one per stored element (block), same dtype.
        values: ``(nnz, *dense)``, or ``(nnz, block_rows, block_cols, *dense)`` for BSR/BSC.
        size (tuple, optional): the matrix size; inferred from the indices if omitted.
        dtype, device (optional): of the values. Default: inferred.
        layout (ember.layout): the compressed layout (required).
        pin_memory (bool, optional): accepted for PyTorch compatibility. Default: ``False``.
        requires_grad (bool, optional): record operations on the values. Default: ``False``.
        check_invariants (bool, optional): accepted for PyTorch compatibility (ember always checks).

    Example::

        >>> t = ember.sparse_compressed_tensor([0, 1, 3], [2, 0, 2], [4.0, 4.0, 5.0], (2, 3), layout=ember.sparse_csr)
        >>> t.to_dense()
        tensor([[0., 0., 4.],
                [4., 0., 5.]])
    """
    if layout not in _COMPRESSED:
        name = "none" if layout is None else {sparse_coo: "Sparse", strided: "Strided"}.get(layout, str(layout))
        raise RuntimeError(f"sparse_compressed_tensor expected sparse compressed tensor layout but got {name}")
    if not is_strided(values):
        values = tensor(values, dtype=dtype, device=device)
    elif dtype is not None or device is not None:
        values = values.to(device=device or values.device, dtype=dtype or values.dtype)
    indices = []
    for part in (compressed_indices, plain_indices):
        if not is_strided(part):
            part = tensor(part, dtype=dtypes.int64, device=values.device)
        indices.append(part.to(values.device))
    compressed, plain = indices
    if size is None:
        if values.ndim < (3 if layout in _BLOCKED else 1):
            raise RuntimeError(f"values must have at least {3 if layout in _BLOCKED else 1} dimensions")
        bh, bw = (values.shape[1], values.shape[2]) if layout in _BLOCKED else (1, 1)
        n_compressed = compressed.shape[-1] - 1 if compressed.ndim else 0
        n_plain = int(plain.max().item()) + 1 if plain.numel() else 0
        rows, cols = (n_compressed, n_plain) if layout in _ROW_MAJOR else (n_plain, n_compressed)
        dense = tuple(values.shape[3:] if layout in _BLOCKED else values.shape[1:])
        size = (rows * bh, cols * bw) + dense
    size = tuple(int(n) for n in size)
    _validate(compressed, plain, values, size, layout)
    if requires_grad:
        values = values.detach().requires_grad_()
    return SparseCompressedTensor(compressed, plain, values, size, layout)


def _constructor(layout: Any) -> Any:
    def make(
        compressed_indices: Any,
        plain_indices: Any,
        values: Any,
        size: Sequence[int] | None = None,
        *,
        dtype: _dtype | None = None,
        device: Device = None,
        pin_memory: bool = False,
        requires_grad: bool = False,
        check_invariants: bool | None = None,
    ) -> SparseCompressedTensor:
        return sparse_compressed_tensor(
            compressed_indices,
            plain_indices,
            values,
            size,
            dtype=dtype,
            layout=layout,
            device=device,
            pin_memory=pin_memory,
            requires_grad=requires_grad,
            check_invariants=check_invariants,
        )

    return make


sparse_csr_tensor = _constructor(sparse_csr)
sparse_csr_tensor.__name__ = sparse_csr_tensor.__qualname__ = "sparse_csr_tensor"
sparse_csr_tensor.__doc__ = """A sparse matrix in CSR layout: :func:`sparse_compressed_tensor` with ``layout=ember.sparse_csr``.

    Args:
        crow_indices: int32/int64, ``nrows + 1``: where each row's elements start in ``col_indices``.
        col_indices: the column of each element, sorted within each row.
        values: ``(nnz, *dense)``.
        size (tuple, optional): the matrix size. Default: inferred.

    Example::

        >>> ember.sparse_csr_tensor([0, 1, 3], [2, 0, 2], [4.0, 4.0, 5.0], (2, 3)).to_dense()
        tensor([[0., 0., 4.],
                [4., 0., 5.]])
    """
sparse_csc_tensor = _constructor(sparse_csc)
sparse_csc_tensor.__name__ = sparse_csc_tensor.__qualname__ = "sparse_csc_tensor"
sparse_csc_tensor.__doc__ = """A sparse matrix in CSC layout: :func:`sparse_compressed_tensor` with ``layout=ember.sparse_csc``.

    Args:
        ccol_indices: int32/int64, ``ncols + 1``: where each column's elements start in ``row_indices``.
        row_indices: the row of each element, sorted within each column.
        values: ``(nnz, *dense)``.
        size (tuple, optional): the matrix size. Default: inferred.

    Example::

        >>> ember.sparse_csc_tensor([0, 1, 1, 3], [1, 0, 1], [4.0, 4.0, 5.0], (2, 3)).to_dense()
        tensor([[0., 0., 4.],
                [4., 0., 5.]])
    """
sparse_bsr_tensor = _constructor(sparse_bsr)
sparse_bsr_tensor.__name__ = sparse_bsr_tensor.__qualname__ = "sparse_bsr_tensor"
sparse_bsr_tensor.__doc__ = """A sparse matrix in BSR layout (CSR of dense blocks): :func:`sparse_compressed_tensor`
    with ``layout=ember.sparse_bsr``.

    Args:
        crow_indices: int32/int64, one more than the number of row blocks.
        col_indices: the column block of each stored block.
        values: ``(nnz, block_rows, block_cols, *dense)``.
        size (tuple, optional): the matrix size. Default: inferred.

    Example::

        >>> ember.sparse_bsr_tensor([0, 1], [1], [[[1.0], [2.0]]], (2, 2)).to_dense()
        tensor([[0., 1.],
                [0., 2.]])
    """
sparse_bsc_tensor = _constructor(sparse_bsc)
sparse_bsc_tensor.__name__ = sparse_bsc_tensor.__qualname__ = "sparse_bsc_tensor"
sparse_bsc_tensor.__doc__ = """A sparse matrix in BSC layout (CSC of dense blocks): :func:`sparse_compressed_tensor`
    with ``layout=ember.sparse_bsc``.

    Args:
        ccol_indices: int32/int64, one more than the number of column blocks.
        row_indices: the row block of each stored block.
        values: ``(nnz, block_rows, block_cols, *dense)``.
        size (tuple, optional): the matrix size. Default: inferred.

    Example::

        >>> ember.sparse_bsc_tensor([0, 0, 1], [0], [[[1.0], [2.0]]], (2, 2)).to_dense()
        tensor([[0., 1.],
                [0., 2.]])
    """


# -- conversions --------------------------------------------------------------------------------------
def _blocks(blocksize: int | Sequence[int] | None, layout: Any, op: str) -> tuple[int, int]:
    if isinstance(blocksize, int) and not isinstance(blocksize, bool):  # one int: square blocks, as PyTorch's
        blocksize = (blocksize, blocksize)
    if layout not in _BLOCKED:
        if blocksize is not None and tuple(blocksize) != (1, 1):
            raise RuntimeError(f"{op}: blocksize is only meaningful for the block layouts, got {tuple(blocksize)}")
        return 1, 1
    if blocksize is None:
        raise RuntimeError(f"{op}: blocksize needs to be specified for {_NAMES[layout]} layout")
    if len(blocksize) != 2:
        raise RuntimeError(f"{op}: blocksize needs to be a tuple of size 2, but got {len(blocksize)}")
    return int(blocksize[0]), int(blocksize[1])


def from_coo(coo: SparseCOOTensor, layout: Any, blocksize: Sequence[int] | None, dense_dim: int | None) -> Any:
    """The sparse COO matrix ``coo`` in the compressed ``layout`` (differentiable through the values)."""
    if layout not in _COMPRESSED:
        raise RuntimeError(f"to_sparse: unsupported layout {layout}")
    name = _NAMES[layout]
    if coo.sparse_dim() != 2:
        raise RuntimeError(
            f"coo_to_sparse_{name[6:].lower()}: conversion from Sparse to {name} for input tensors with "
            "sparse_dim()!=2 is not supported"
        )
    if dense_dim is not None and dense_dim != coo.dense_dim():
        raise RuntimeError(
            f"to_sparse: conversion from Sparse to {name} with dense_dim argument != self.dense_dim() is not supported"
        )
    bh, bw = _blocks(blocksize, layout, "to_sparse")
    if layout in _BLOCKED:
        return from_dense(coo.to_dense(), layout, (bh, bw), None)
    coo = coo.coalesce()
    rows, cols = coo._idx[0], coo._idx[1]
    values = coo._vals
    nrows, ncols = coo.shape[0], coo.shape[1]
    if layout is sparse_csc:
        order = (cols * nrows + rows).argsort()
        rows, cols, values = rows[order], cols[order], values[order]
        outer, n_outer, plain = cols, ncols, rows
    else:
        outer, n_outer, plain = rows, nrows, cols
    counts = outer.bincount(minlength=n_outer) if outer.numel() else outer.new_zeros((n_outer,))
    compressed = cat((outer.new_zeros((1,)), counts.cumsum(0)), 0)
    return SparseCompressedTensor(compressed, plain.contiguous(), values, coo.shape, layout)


def from_dense(dense: Tensor, layout: Any, blocksize: Sequence[int] | None, dense_dim: int | None) -> Any:
    """The dense ``dense`` in the compressed ``layout``: its non-zero elements (blocks with a non-zero
    element for BSR/BSC). Differentiable: the gradient reaches the stored elements."""
    name = _NAMES.get(layout)
    if name is None:
        raise RuntimeError(f"to_sparse: unsupported layout {layout}")
    op = f"dense_to_sparse_{name[6:].lower()}"
    dense_dim = 0 if dense_dim is None else int(dense_dim)
    if dense.ndim < 2:
        raise RuntimeError(f"{op}: expected a tensor of at least 2 dimensions, got {dense.ndim}")
    if not 0 <= dense_dim <= dense.ndim - 2:
        raise RuntimeError(f"{op}: dense_dim argument must be in [0,{dense.ndim - 2}] range, but {dense_dim} is given")
    if dense.ndim - dense_dim != 2:
        raise NotImplementedError(
            f"{op}: sparse compressed tensors with batch dimensions are not supported by ember "
            f"(a {dense.ndim}-D tensor with dense_dim={dense_dim})"
        )
    bh, bw = _blocks(blocksize, layout, op)
    if layout not in _BLOCKED:
        return from_coo(dense.to_sparse(2), layout, None, None)
    rows, cols = dense.shape[0], dense.shape[1]
    if rows % bh or cols % bw:
        raise RuntimeError(f"{op}: tensor sparse size ({rows},{cols}) must be divisible by given blocksize ({bh},{bw})")
    rest = tuple(dense.shape[2:])
    blocks = dense.reshape((rows // bh, bh, cols // bw, bw) + rest).transpose(1, 2)  # (R, C, bh, bw, *rest)
    present = (blocks.detach() != 0).reshape(rows // bh, cols // bw, -1).any(-1)
    if layout is sparse_bsc:
        present, blocks = present.t(), blocks.transpose(0, 1)
    where = present.nonzero()
    outer, plain = where[:, 0], where[:, 1]
    values = blocks[outer, plain]
    counts = outer.bincount(minlength=present.shape[0]) if outer.numel() else outer.new_zeros((present.shape[0],))
    compressed = cat((outer.new_zeros((1,)), counts.cumsum(0)), 0)
    return SparseCompressedTensor(compressed, plain.contiguous(), values, tuple(dense.shape), layout)


def sampled_addmm(
    input: SparseCompressedTensor, mat1: Tensor, mat2: Tensor, *, beta: Number = 1.0, alpha: Number = 1.0
) -> SparseCompressedTensor:
    """``beta * input + alpha * (mat1 @ mat2)`` computed only at the elements ``input`` stores (a CSR
    result with ``input``'s indices), as ``torch.sparse.sampled_addmm``.

    Args:
        input (SparseCompressedTensor): an ``(n, p)`` CSR matrix.
        mat1 (Tensor): an ``(n, m)`` dense matrix.
        mat2 (Tensor): an ``(m, p)`` dense matrix.
        beta (Number, optional): the multiplier of ``input``. Default: 1.
        alpha (Number, optional): the multiplier of the product. Default: 1.

    Example::

        >>> s = ember.sparse_csr_tensor([0, 1, 1], [1], [1.0], (2, 2))
        >>> ember.sparse.sampled_addmm(s, ember.ones(2, 3), ember.ones(3, 2)).to_dense()
        tensor([[0., 4.],
                [0., 0.]])
    """
    if not isinstance(input, SparseCompressedTensor) or input.layout is not sparse_csr:
        got = _NAMES.get(getattr(input, "layout", None), "Strided" if is_strided(input) else "Sparse")
        raise RuntimeError(f"sampled_addmm: Expected result to have sparse csr layout, but got {got}")
    for name, m in (("mat1", mat1), ("mat2", mat2)):
        if not is_strided(m) or m.ndim != 2:
            raise RuntimeError(f"sampled_addmm: Expected {name} to be a matrix, got {getattr(m, 'ndim', 0)}-D tensor")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(
            f"sampled_addmm: mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x{mat1.shape[1]} and "
            f"{mat2.shape[0]}x{mat2.shape[1]})"
        )
    if input.shape[0] != mat1.shape[0]:
        raise RuntimeError("sampled_addmm: self.shape[-2] must match mat1.shape[-2]")
    if input.shape[1] != mat2.shape[1]:
        raise RuntimeError("sampled_addmm: self.shape[-1] must match mat2.shape[-1]")
    if not (input.dtype is mat1.dtype is mat2.dtype):
        raise RuntimeError(
            f"sampled_addmm: Expected mat1, mat2 and self to have the same dtype, got {mat1.dtype}, "
            f"{mat2.dtype} and {input.dtype}"
        )
    coo = input._coo()
    rows, cols = coo._idx[0], coo._idx[1]
    sampled = (mat1.index_select(0, rows) * mat2.t().index_select(0, cols)).sum(-1)
    values = sampled if alpha == 1 else sampled * alpha
    if beta != 0:
        values = values + (input._vals if beta == 1 else input._vals * beta)
    return input._with_values(values)


def _to_sparse_csr(self: Tensor, dense_dim: int | None = None) -> SparseCompressedTensor:
    """This dense matrix in CSR layout: its non-zero elements, row by row.

    Args:
        dense_dim (int, optional): trailing dimensions kept dense per element. Default: 0.

    Example::

        >>> ember.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse_csr().crow_indices()
        tensor([0, 1, 2])
    """
    return from_dense(self, sparse_csr, None, dense_dim)


def _to_sparse_csc(self: Tensor, dense_dim: int | None = None) -> SparseCompressedTensor:
    """This dense matrix in CSC layout: its non-zero elements, column by column.

    Args:
        dense_dim (int, optional): trailing dimensions kept dense per element. Default: 0.

    Example::

        >>> ember.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse_csc().row_indices()
        tensor([1, 0])
    """
    return from_dense(self, sparse_csc, None, dense_dim)


def _to_sparse_bsr(self: Tensor, blocksize: Sequence[int], dense_dim: int | None = None) -> SparseCompressedTensor:
    """This dense matrix in BSR layout: its ``blocksize`` blocks that hold a non-zero element.

    Args:
        blocksize (tuple of two ints): the block size; it divides the matrix size.
        dense_dim (int, optional): trailing dimensions kept dense per element. Default: 0.

    Example::

        >>> ember.tensor([[0.0, 0.0], [0.0, 1.0]]).to_sparse_bsr((1, 2)).values()
        tensor([[[0., 1.]]])
    """
    return from_dense(self, sparse_bsr, blocksize, dense_dim)


def _to_sparse_bsc(self: Tensor, blocksize: Sequence[int], dense_dim: int | None = None) -> SparseCompressedTensor:
    """This dense matrix in BSC layout: its ``blocksize`` blocks that hold a non-zero element.

    Args:
        blocksize (tuple of two ints): the block size; it divides the matrix size.
        dense_dim (int, optional): trailing dimensions kept dense per element. Default: 0.

    Example::

        >>> ember.tensor([[0.0, 0.0], [0.0, 1.0]]).to_sparse_bsc((2, 1)).values()
        tensor([[[0.],
                 [1.]]])
    """
    return from_dense(self, sparse_bsc, blocksize, dense_dim)


# installed in ember.sparse, which this module builds on (see ember.sparse._compressed)
_coo_module = sys.modules[SparseCOOTensor.__module__]
_coo_module._compressed = sys.modules[__name__]
_coo_module.SparseCompressedTensor = SparseCompressedTensor
_coo_module.sampled_addmm = sampled_addmm
_coo_module.__all__ += ["SparseCompressedTensor", "sampled_addmm"]
