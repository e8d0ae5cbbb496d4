"""Sparse COO tensors (``ember.sparse``): storage, conversion to and from dense, and products.

``SparseCOOTensor`` holds int64 ``indices`` of shape ``(sparse_dim, nnz)`` and ``values`` of
shape ``(nnz, *dense_dims)`` (both ordinary tensors on the same device) and a size. It is an
:class:`~ember.Tensor` without strided storage (:class:`~ember.unstrided.UnstridedTensor`), as PyTorch's
sparse tensors are tensors; it is what ``Embedding(sparse=True)`` stores in
``weight.grad``, what ``optim.SGD``/``SparseAdam``/``Adagrad`` consume, and what
:meth:`ember.Tensor.to_sparse` makes.

Autograd flows through the values: the products (:func:`mm`, ``sparse @ dense``) and
:meth:`~SparseCOOTensor.to_dense` are built from differentiable dense operations on ``values``,
so a sparse tensor made with ``requires_grad=True`` gets a coalesced sparse ``.grad`` holding the
gradient at its stored coordinates (a duplicated coordinate counted once), as ``torch.sparse.mm``
and ``to_dense`` give it. ``sparse @ dense`` (and ``ember.mm``/``ember.matmul`` with a sparse first
operand) and ``dense + sparse`` give a sparse leaf the dense gradient at every coordinate instead,
as PyTorch's ``torch.mm``/``@``/``add`` do: it is collected in a dense tensor the sparse tensor
keeps for it (``.grad`` is then dense).
"""

from __future__ import annotations

import builtins
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Self, overload

from . import dtypes, printing
from .autograd.function import Function
from .autograd.grad_mode import grad_state
from .layout import factories, sparse_bsc, sparse_bsr, sparse_coo, sparse_csc, sparse_csr
from .meta_errors import refuse_meta
from .ops.movement import broadcast_shapes, cat, stack
from .ops.operands import normalize_dims, wrap_dim
from .tensor import Size, Tensor, tensor
from .type_names import type_name
from .unstrided import UnstridedTensor, is_strided

if TYPE_CHECKING:
    from .device import device as _device
    from .types import Device, Number, _dtype

__all__ = [
    "SparseCOOTensor",
    "sparse_coo_tensor",
    "mm",
    "spmm",
    "sum",
    "addmm",
    "smm",
    "saddmm",
    "hspmm",
    "sspaddmm",
    "dsmm",
    "softmax",
    "log_softmax",
    "spdiags",
    "check_sparse_tensor_invariants",
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


class SparseUnsupportedError(NotImplementedError, AttributeError):
    """A dense tensor's method that a sparse tensor lacks: PyTorch's ``NotImplementedError`` (its kernel
    has no sparse version), and an ``AttributeError`` too, so ``hasattr`` still answers False."""


def _missing_method(obj: Any, name: str, backend: str) -> Any:
    """``obj.name`` for a name a sparse class lacks: PyTorch's error for a public ember.Tensor method."""
    if not name.startswith("_") and hasattr(Tensor, name):
        device = obj.device.type.upper() if obj.device.type in ("cpu", "cuda") else obj.device.type
        raise SparseUnsupportedError(
            f"Could not run 'aten::{name}' with arguments from the '{backend}{device}' backend: ember's "
            f"{type(obj).__name__} has no {name}()"
        )
    raise AttributeError(f"'{type(obj).__name__}' object has no attribute '{name}'")


class SparseTensorBase(UnstridedTensor):
    """What ember's sparse tensors (:class:`SparseCOOTensor` and the compressed
    :class:`~ember.sparse_compressed.SparseCompressedTensor`) answer alike: the queries read from their
    ``_size``, ``_vals``, ``dtype`` and ``device``, the casts of their values through ``to``, and the
    conversions to each compressed layout through ``to_sparse``."""

    _size: Size
    _vals: Tensor

    if TYPE_CHECKING:  # each sparse class defines these, returning its own class

        def detach(self) -> Self: ...
        def to(self, *args: Any, **kwargs: Any) -> Self: ...

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

    @property  # type: ignore[misc]  # read-only: requires_grad_() sets it on the values
    def requires_grad(self) -> bool:
        return self._vals.requires_grad

    def requires_grad_(self, requires_grad: bool = True) -> Self:
        """Record operations on the values for autograd; returns ``self``."""
        self._vals.requires_grad_(requires_grad)
        return self

    @property
    def grad_fn(self) -> Any:
        return self._vals.grad_fn

    @property
    def is_leaf(self) -> bool:
        return self._vals.grad_fn is None

    def get_device(self) -> int:
        """The device index (-1 on the CPU), as PyTorch's."""
        return self._vals.get_device()

    @property  # type: ignore[misc]  # read-only: no `.data =` on a sparse tensor
    def data(self) -> Self:  # type: ignore[override]  # (the same read-only data)
        """This tensor detached from autograd (the same indices and values)."""
        return self.detach()

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.to_dense().reshape(()).item())

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def is_meta(self) -> bool:
        return self.device.type == "meta"

    def numel(self) -> int:
        """The number of elements of the (dense) shape, as PyTorch counts them."""
        return self._size.numel()

    nelement = numel

    def element_size(self) -> int:
        return self._vals.element_size()

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def is_complex(self) -> bool:
        return self.dtype.is_complex

    def is_contiguous(self, memory_format: Any = None) -> bool:
        """False: a sparse tensor has no strides (PyTorch answers the same)."""
        return False

    def _dense_operand(self) -> Tensor:
        """This tensor as the dense operand of ``dense + sparse`` (and ``-``): its dense form, through which a
        leaf that requires grad gets the dense gradient at every coordinate, as PyTorch's ``add`` gives it (in
        the dense stand-in ``sparse @ dense`` uses too)."""
        if not (grad_state.enabled and self.requires_grad and self.is_leaf):
            return self.to_dense()
        if self._dense_grad is None:  # type: ignore[has-type]
            self._dense_grad = self._vals.new_zeros(tuple(self._size)).requires_grad_()
        return self.detach().to_dense() + self._dense_grad

    # -- what a tensor without strided storage refuses, with PyTorch's errors -------------------------
    @property
    def _layout_name(self) -> str:
        """PyTorch's name of this layout in its messages: ``Sparse`` (COO), ``SparseCsr``, ``SparseBsc``..."""
        return "Sparse" if self.layout is sparse_coo else "Sparse" + self.layout.name[7:].capitalize()

    def stride(self, dim: int | None = None) -> Any:
        """Refused for a compressed layout; a COO tensor's strides are zeros, as PyTorch reports them."""
        if self.layout is not sparse_coo:
            raise RuntimeError(f"Sparse {self.layout.name[7:].upper()} tensors do not have strides")
        strides = (0,) * self.dim()
        return strides if dim is None else strides[wrap_dim(dim, self.dim())]

    def storage_offset(self) -> int:
        """0, as PyTorch reports it for a tensor without storage."""
        return 0

    def data_ptr(self) -> int:
        """Refused: a sparse tensor has no storage of its own (its parts have)."""
        raise RuntimeError("Cannot access data pointer of Tensor that doesn't have storage")

    def tolist(self) -> Any:
        """Refused, as PyTorch's: read ``to_dense().tolist()``."""
        raise RuntimeError("Cannot access data pointer of Tensor that doesn't have storage")

    def untyped_storage(self) -> Any:
        """Refused: a sparse tensor has no storage of its own (its parts have)."""
        impl = "SparseTensorImpl" if self.layout is sparse_coo else "SparseCsrTensorImpl"
        raise NotImplementedError(f"Cannot access storage of {impl}")

    storage = untyped_storage

    def numpy(self, *, force: bool = False) -> Any:
        """Refused, as PyTorch's: convert ``to_dense()`` first."""
        raise TypeError(f"can't convert {self._layout_name} layout tensor to numpy. Use Tensor.to_dense() first.")

    def expand(self, *sizes: Any) -> Any:  # type: ignore[override]  # refused whatever the sizes
        """Refused, as PyTorch's."""
        raise RuntimeError(f"expand is unsupported for {self._layout_name} tensors")

    def item(self) -> Any:
        """The one element's value as a Python number."""
        if self.numel() != 1:
            raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted to Scalar")
        return self.to_dense().reshape(()).item()

    def conj(self) -> Self:
        """The complex conjugate: this tensor itself for a real one, as PyTorch's (a lazy conjugate)."""
        return self if not self.dtype.is_complex else self.conj_physical()

    def _as(self, dtype: _dtype) -> Self:
        return self if self.dtype is dtype else self.to(dtype)

    def float(self) -> Self:  # type: ignore[override]  # no memory_format (PyTorch's sparse casts take one)
        """This tensor with float32 values (itself when they already are)."""
        return self._as(dtypes.float32)

    def double(self) -> Self:  # type: ignore[override]  # no memory_format (PyTorch's sparse casts take one)
        """This tensor with float64 values (itself when they already are)."""
        return self._as(dtypes.float64)

    def half(self) -> Self:  # type: ignore[override]  # no memory_format (PyTorch's sparse casts take one)
        """This tensor with float16 values (itself when they already are)."""
        return self._as(dtypes.float16)

    def bfloat16(self) -> Self:  # type: ignore[override]  # no memory_format (PyTorch's sparse casts take one)
        """This tensor with bfloat16 values (itself when they already are)."""
        return self._as(dtypes.bfloat16)

    def long(self) -> Self:  # type: ignore[override]  # no memory_format (PyTorch's sparse casts take one)
        """This tensor with int64 values (itself when they already are)."""
        return self._as(dtypes.int64)

    def to_sparse_csr(self, dense_dim: int | None = None) -> Any:
        """This 2-D sparse matrix in CSR layout (:func:`ember.sparse_csr_tensor`)."""
        return self.to_sparse(layout=sparse_csr, dense_dim=dense_dim)

    def to_sparse_csc(self, dense_dim: int | None = None) -> Any:
        """This 2-D sparse matrix in CSC layout (:func:`ember.sparse_csc_tensor`)."""
        return self.to_sparse(layout=sparse_csc, dense_dim=dense_dim)

    def to_sparse_bsr(self, blocksize: Sequence[int], dense_dim: int | None = None) -> Any:
        """This 2-D sparse matrix in BSR layout with ``blocksize`` blocks."""
        return self.to_sparse(layout=sparse_bsr, blocksize=blocksize, dense_dim=dense_dim)

    def to_sparse_bsc(self, blocksize: Sequence[int], dense_dim: int | None = None) -> Any:
        """This 2-D sparse matrix in BSC layout with ``blocksize`` blocks."""
        return self.to_sparse(layout=sparse_bsc, blocksize=blocksize, dense_dim=dense_dim)

    def cpu(self) -> Self:  # type: ignore[override]  # no memory_format (PyTorch's sparse casts take one)
        """This tensor on the CPU (itself when it is there)."""
        return self if self.device.type == "cpu" else self.to("cpu")

    # last in the class: these names would hide the built-in int and bool from the annotations after them
    def int(self) -> Self:  # type: ignore[override]  # no memory_format (PyTorch's sparse casts take one)
        """This tensor with int32 values (itself when they already are)."""
        return self._as(dtypes.int32)

    def bool(self) -> Self:  # type: ignore[override]  # no memory_format (PyTorch's sparse casts take one)
        """This tensor with bool values (itself when they already are)."""
        return self._as(dtypes.bool)


class SparseCOOTensor(SparseTensorBase):
    """A sparse tensor in coordinate format (duplicate coordinates sum, as in PyTorch).

    Build with :func:`ember.sparse_coo_tensor`.
    """

    is_sparse = True
    layout = sparse_coo
    _dispatch_name = "Sparse"

    def __init__(self, indices: Tensor, values: Tensor, size: Sequence[int], coalesced: bool = False) -> None:
        self._idx = indices
        self._vals = values
        self._size = Size(size)
        self._coalesced = coalesced
        self._dense_grad: Tensor | None = None  # the leaf that ``sparse @ dense`` gives its gradient
        # (tensor, True) for the transpose of a matrix that shares its values: its products give that
        # tensor the dense gradient (transposed back), as PyTorch's ``s.t() @ dense`` gives ``s``
        self._owner: tuple[Any, bool] | None = None

    # -- identity -----------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # an internal name (or one asked before __init__ set the parts)
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        return _missing_method(self, name, "Sparse")

    # -- autograd (through the values) ----------------------------------------------------
    @property  # type: ignore[misc]  # read-only: the gradient is read from the values'
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
        """The coordinates of a coalesced tensor (``_indices()`` reads them from any tensor)."""
        if not self._coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call .coalesce() first")
        return self._idx

    def values(self) -> Tensor:
        """The values of a coalesced tensor (``_values()`` reads them from any tensor)."""
        if not self._coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call .coalesce() first")
        return self._vals

    def _coalesced_(self, coalesced: bool) -> SparseCOOTensor:
        """Declare the coordinates sorted and unique (or not), as PyTorch's ``_coalesced_``; returns ``self``."""
        self._coalesced = bool(coalesced)
        return self

    # -- what PyTorch's sparse tensors answer about themselves ------------------------------
    is_sparse_csr = False
    is_quantized = False
    is_mkldnn = False
    is_nested = False

    def is_coalesced(self) -> bool:
        return self._coalesced

    def reshape(self, *shape: Any) -> Any:  # type: ignore[override]  # refused whatever the shape
        """Refused, as PyTorch's (``view`` is, too)."""
        raise RuntimeError("reshape is not implemented for sparse tensors")

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Any:
        """Refused, as PyTorch's (it reshapes)."""
        return self.reshape(-1)

    def contiguous(self, memory_format: Any = None) -> Any:
        """Refused, as PyTorch's: a sparse tensor has no memory format."""
        raise RuntimeError("unsupported memory format option Contiguous")

    def detach(self) -> SparseCOOTensor:
        return SparseCOOTensor(self._idx, self._vals.detach(), self._size, self._coalesced)

    def clone(self) -> SparseCOOTensor:  # type: ignore[override]  # no memory_format: a sparse tensor has none
        return SparseCOOTensor(self._idx.clone(), self._vals.clone(), self._size, self._coalesced)

    def copy_(self, src: Tensor, non_blocking: bool = False) -> SparseCOOTensor:
        """Take ``src``'s size, coordinates and values (cast to this tensor's dtype, on its device); returns ``self``."""
        if not isinstance(src, SparseCOOTensor):
            raise NotImplementedError(
                "copy_() between dense and sparse Tensors is not implemented! Found self type = "
                f"SparseCOOTensor and src type = {type(src).__name__}"
            )
        values = src._vals.detach().to(device=self.device, dtype=self.dtype)
        self._idx, self._vals = src._idx.to(self.device), values.requires_grad_(self._vals.requires_grad)
        self._size, self._coalesced = src._size, src._coalesced
        return self

    def zero_(self) -> SparseCOOTensor:
        """Empty this tensor in place: no coordinates left (coalesced), its size kept."""
        self._idx = self._idx.new_zeros((self._idx.shape[0], 0))
        self._vals = self._vals.new_zeros((0, *self._vals.shape[1:]))
        self._coalesced = True
        return self

    def to_sparse(
        self,
        sparse_dim: int | None = None,
        *,
        layout: Any = None,
        blocksize: Sequence[int] | None = None,
        dense_dim: int | None = None,
    ) -> Any:
        """This tensor (already sparse COO), or it in a compressed ``layout`` (2 sparse dimensions)."""
        if layout is None or layout is sparse_coo:
            if sparse_dim is not None and sparse_dim != self.sparse_dim():
                raise RuntimeError(
                    "to_sparse: conversion from Sparse to Sparse with sparse_dim argument !=self.sparse_dim() "
                    "is not supported"
                )
            return self
        return _compressed.from_coo(self, layout, blocksize, dense_dim)

    def to_sparse_coo(self) -> SparseCOOTensor:
        """This tensor (already sparse COO)."""
        return self

    def sparse_mask(self, mask: SparseCOOTensor) -> SparseCOOTensor:
        """This tensor's elements at the coordinates ``mask`` stores (:meth:`ember.Tensor.sparse_mask`)."""
        return _sparse_mask(self.to_dense(), mask)

    def sparse_resize_(self, size: Sequence[int], sparse_dim: int, dense_dim: int) -> SparseCOOTensor:
        """Resize in place to ``size`` with ``sparse_dim`` sparse and ``dense_dim`` dense dimensions.

        As in PyTorch, a tensor that stores elements may only grow its sparse sizes and keep its
        dense ones and its numbers of dimensions; an empty one takes any size."""
        size = tuple(int(n) for n in size)
        if sparse_dim + dense_dim != len(size):
            raise RuntimeError(
                f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = {len(size)}, "
                f"sparse_dim = {sparse_dim}, dense_dim = {dense_dim}"
            )
        if self._nnz():
            for what, old, new in (("sparse", self.sparse_dim(), sparse_dim), ("dense", self.dense_dim(), dense_dim)):
                if old != new:
                    raise RuntimeError(
                        f"changing the number of {what} dimensions (from {old} to {new}) on a non-empty sparse "
                        "tensor is not supported."
                    )
            old_sparse, old_dense = list(self._size[:sparse_dim]), list(self._size[sparse_dim:])
            if any(n < o for n, o in zip(size[:sparse_dim], old_sparse, strict=True)):
                raise RuntimeError(
                    f"shrinking the size of sparse dimensions (from {old_sparse} to {list(size[:sparse_dim])}) "
                    "on a non-empty sparse tensor is not supported."
                )
            if list(size[sparse_dim:]) != old_dense:
                raise RuntimeError(
                    f"shrinking the size of dense dimensions (from {old_dense} to {list(size[sparse_dim:])}) "
                    "on a non-empty sparse tensor is not supported."
                )
        else:
            self._idx = self._idx.new_zeros((sparse_dim, 0))
            self._vals = self._vals.new_zeros((0,) + size[sparse_dim:])
        self._size = Size(size)
        return self

    def sparse_resize_and_clear_(self, size: Sequence[int], sparse_dim: int, dense_dim: int) -> SparseCOOTensor:
        """Empty this tensor in place and give it ``size`` (``sparse_dim`` + ``dense_dim`` dimensions)."""
        self.zero_()
        self._idx = self._idx.new_zeros((sparse_dim, 0))
        self._vals = self._vals.new_zeros((0,) + tuple(size)[sparse_dim:])
        return self.sparse_resize_(size, sparse_dim, dense_dim)

    def resize_as_(self, other: SparseCOOTensor) -> SparseCOOTensor:
        """:meth:`sparse_resize_` to ``other``'s size and numbers of sparse and dense dimensions."""
        return self.sparse_resize_(other.shape, other.sparse_dim(), other.dense_dim())

    def t(self) -> SparseCOOTensor:
        """The transpose of a 2-D sparse matrix (indices swapped)."""
        if self.sparse_dim() > 2 or self.dense_dim():
            raise RuntimeError(
                f"t() expects a tensor with <= 2 sparse and 0 dense dimensions, but got {self.sparse_dim()} sparse "
                f"and {self.dense_dim()} dense dimensions"
            )
        return self.transpose(0, 1) if self.sparse_dim() == 2 else self

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
        result = SparseCOOTensor(self._idx[order], self._vals, size)
        if self.ndim == 2:
            result._owner = _transposed_owner(self)
        return result

    def type(self, dtype: Any = None, non_blocking: bool = False) -> Any:  # type: ignore[override]  # sparse type names and casts only
        """With no argument, the type name (``'ember.sparse.FloatTensor'``); else the values cast to ``dtype``."""
        if dtype is None:
            name = {v.dtype: k for k, v in _TYPE_CLASSES.items()}.get(self.dtype, "Tensor")
            return f"ember.sparse.{name}"
        if isinstance(dtype, str):
            name = dtype.rsplit(".", 1)[-1]
            if name not in _TYPE_CLASSES:
                raise ValueError(f"invalid type: {dtype!r}")
            dtype = _TYPE_CLASSES[name].dtype
        return self._as(dtype)

    def type_as(self, other: Any) -> SparseCOOTensor:
        return self._as(other.dtype)

    def to(self, *args: Any, **kwargs: Any) -> SparseCOOTensor:
        """This tensor on another device or with another dtype (its values'); coalesced stays coalesced."""
        values = self._vals.to(*args, **kwargs)  # the indices stay int64: only moved with the values
        return SparseCOOTensor(self._idx.to(values.device), values, self._size, self._coalesced)

    # -- conversion ---------------------------------------------------------------------
    def _linear_index(self) -> tuple[Any, Size]:
        sparse_shape = self._size[: self.sparse_dim()]
        flat = None
        for d, extent in enumerate(sparse_shape):
            row = self._idx[d]
            flat = row if flat is None else flat * extent + row
        if flat is None:  # no sparse dimension: every entry is at the one coordinate
            flat = self._idx.new_zeros((self._nnz(),))
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
        indices = stack(rows[::-1], 0) if rows else self._idx[:, :count]
        return SparseCOOTensor(indices, values, self._size, True)

    # -- arithmetic ---------------------------------------------------------------------
    def _check_size(self, other: Tensor | SparseCOOTensor) -> None:
        if tuple(other.shape) != tuple(self._size):
            raise RuntimeError(f"add: expected sizes to match, got {list(self._size)} and {list(other.shape)}")

    def add(self, other: Tensor | SparseCOOTensor, alpha: Number = 1) -> Tensor | SparseCOOTensor:  # type: ignore[override]  # a tensor other only, no out=
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
        if is_strided(other):
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
        raise TypeError(f"add: unsupported operand type {type(other).__name__} for a sparse tensor")

    __add__ = add

    def __radd__(self, other: Tensor | SparseCOOTensor) -> Tensor | SparseCOOTensor:
        """``other + self``: sparse for a sparse ``other``, dense for a dense one."""
        if is_strided(other):
            return other.add(self)
        return self.add(other)

    def sub(self, other: Tensor | SparseCOOTensor, alpha: Number = 1) -> Tensor | SparseCOOTensor:  # type: ignore[override]  # a tensor other only, no out=
        """``self - alpha * other`` (:meth:`add` with ``-alpha``)."""
        if isinstance(other, SparseCOOTensor):
            return self.add(other, alpha=-alpha)
        if is_strided(other):
            raise RuntimeError("sub(sparse, dense) is not supported. Use sub(dense, sparse) instead.")
        raise TypeError(f"sub: unsupported operand type {type(other).__name__} for a sparse tensor")

    __sub__ = sub
    subtract = sub  # type: ignore[assignment]  # sub's signature

    def __rsub__(self, other: Tensor) -> Tensor:
        """``dense - sparse``: dense."""
        if is_strided(other):
            return other - self.to_dense()
        return NotImplemented

    def mul(self, other: Number | Tensor | SparseCOOTensor) -> SparseCOOTensor:  # type: ignore[override]  # no out=: a sparse product
        """The elementwise product with a number, a dense tensor or a sparse tensor: sparse, as in PyTorch.

        A number (or a 0-d tensor) scales the values; a dense tensor is read at the stored coordinates
        (it broadcasts to this tensor's size); two sparse tensors keep the coordinates both store."""
        if isinstance(other, SparseCOOTensor):
            return _mul_sparse(self, other)
        if is_strided(other) and other.ndim:
            return _mul_dense(self, other)
        return SparseCOOTensor(self._idx, self._vals * other, self._size, self._coalesced)

    __mul__ = mul
    __rmul__ = mul
    multiply = mul

    def div(self, other: Number | Tensor, *, rounding_mode: str | None = None) -> SparseCOOTensor:  # type: ignore[override]  # no out=: a sparse quotient
        """The values divided by a number or a 0-d tensor (PyTorch refuses any other divisor)."""
        if isinstance(other, SparseCOOTensor) or (is_strided(other) and other.ndim):
            raise RuntimeError(
                "Sparse division requires a scalar or zero-dim dense tensor divisor "
                f"(got shape {list(other.shape)} for divisor)"
            )
        if rounding_mode is None:
            return SparseCOOTensor(self._idx, self._vals / other, self._size, self._coalesced)
        coalesced = self.coalesce()  # a rounded quotient of a sum is not the sum of rounded quotients
        values = coalesced._vals.div(other, rounding_mode=rounding_mode)
        return SparseCOOTensor(coalesced._idx, values, self._size, True)

    __truediv__ = div
    divide = div
    true_divide = div  # type: ignore[assignment]  # div's signature

    def __floordiv__(self, other: Number | Tensor) -> SparseCOOTensor:
        return self.div(other, rounding_mode="floor")

    def floor_divide(self, other: Number | Tensor) -> SparseCOOTensor:  # type: ignore[override]  # no out=: a sparse quotient
        return self.div(other, rounding_mode="floor")

    def pow(self, exponent: Number | Tensor) -> SparseCOOTensor:
        """The values raised to ``exponent`` (not 0: that would fill the zeros with ones)."""
        if isinstance(exponent, (Tensor, SparseCOOTensor)):
            raise TypeError("pow: a sparse tensor can only be raised to a number")
        if exponent == 0:
            raise RuntimeError(
                "pow: cannot raise to zeroth power on sparse tensor; it would make the result tensor dense"
            )
        coalesced = self.coalesce()
        return SparseCOOTensor(coalesced._idx, coalesced._vals.pow(exponent), self._size, True)

    __pow__ = pow

    def __neg__(self) -> SparseCOOTensor:
        return self.mul(-1)

    def _assign(self, result: SparseCOOTensor) -> SparseCOOTensor:
        """Take ``result``'s coordinates and values (an in-place op's result); returns ``self``."""
        if result.dtype is not self.dtype:
            raise RuntimeError(f"result type {result.dtype} can't be cast to the desired output type {self.dtype}")
        if tuple(result.shape) != tuple(self._size):
            raise RuntimeError(
                f"output with shape {list(self._size)} doesn't match the broadcast shape {list(result.shape)}"
            )
        self._idx, self._vals, self._coalesced = result._idx, result._vals, result._coalesced
        return self

    def add_(self, other: SparseCOOTensor, alpha: Number = 1) -> SparseCOOTensor:  # type: ignore[override]  # a sparse other only, no out=
        return self._assign(self.add(other, alpha=alpha))  # type: ignore[arg-type]

    def sub_(self, other: SparseCOOTensor, alpha: Number = 1) -> SparseCOOTensor:  # type: ignore[override]  # a sparse other only, no out=
        return self._assign(self.sub(other, alpha=alpha))  # type: ignore[arg-type]

    def mul_(self, other: Number | Tensor | SparseCOOTensor) -> SparseCOOTensor:  # type: ignore[override]  # no out=: in place
        return self._assign(self.mul(other))

    def div_(self, other: Number | Tensor, *, rounding_mode: str | None = None) -> SparseCOOTensor:  # type: ignore[override]  # no out=: in place
        return self._assign(self.div(other, rounding_mode=rounding_mode))

    def pow_(self, exponent: Number | Tensor) -> SparseCOOTensor:
        return self._assign(self.pow(exponent))

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def sum(self, dim: int | Sequence[int] | None = None, dtype: _dtype | None = None) -> Tensor | SparseCOOTensor:  # type: ignore[override]  # no keepdim/out= (ember.sum adds keepdim)
        """The sum over ``dim`` (all dimensions by default): :func:`ember.sparse.sum`."""
        return sum(self, dim, dtype=dtype)

    # -- Python protocols ----------------------------------------------------------------------
    def __len__(self) -> int:
        if not self._size:
            raise TypeError("len() of a 0-d tensor")
        return self._size[0]

    def select(self, dim: int, index: int) -> SparseCOOTensor:
        """The slice at ``index`` along ``dim`` (that dimension removed): the entries there, for a
        sparse ``dim``; every entry's values sliced, for a dense one."""
        dim = wrap_dim(dim, self.ndim)
        extent = self._size[dim]
        if not -extent <= index < extent:
            raise IndexError(
                f"select(): index {index} out of range for tensor of size {list(self._size)} at dimension {dim}"
            )
        index %= extent
        size = list(self._size)
        del size[dim]
        if dim >= self.sparse_dim():
            return SparseCOOTensor(
                self._idx, self._vals.select(dim - self.sparse_dim() + 1, index), size, self._coalesced
            )
        keep = (self._idx[dim] == index).nonzero().reshape(-1)
        if self.sparse_dim() == 1:  # no sparse dimension left: the dense values there, summed (PyTorch's)
            return self._vals.index_select(0, keep).sum(0, dtype=self.dtype)  # type: ignore[return-value]
        rows = [r for d, r in enumerate(self._idx.index_select(1, keep).unbind(0)) if d != dim]
        indices = stack(rows, 0) if rows else self._idx.new_zeros((0, keep.shape[0]))
        return SparseCOOTensor(indices, self._vals.index_select(0, keep), size, self._coalesced)

    def __getitem__(self, key: Any) -> Any:
        """Integers and slices of step 1 per dimension (PyTorch takes integers and full slices): a
        dense result once every sparse dimension is indexed away, as PyTorch's."""
        key = key if isinstance(key, tuple) else (key,)
        if len(key) > self.ndim:
            raise IndexError(f"too many indices for tensor of dimension {self.ndim}")
        result, dim = self, 0
        for i, k in enumerate(key):
            if isinstance(k, bool) or not isinstance(k, (int, slice)):
                raise NotImplementedError(f"sparse tensors take integer and slice indices only, got {type(k).__name__}")
            if isinstance(k, int):
                result = result.select(dim, k)
                if is_strided(result):  # no sparse dimension left: dense from here on
                    return result[key[i + 1 :]] if key[i + 1 :] else result
                continue
            start, stop, step = k.indices(result._size[dim])
            if step != 1:
                raise NotImplementedError("sparse tensors take slices of step 1 only")
            if (start, stop) != (0, result._size[dim]):
                result = result.narrow_copy(dim, start, max(stop - start, 0))
            dim += 1
        return result

    # -- shape ----------------------------------------------------------------------------------
    def unsqueeze(self, dim: int) -> SparseCOOTensor:  # type: ignore[override]  # no axis=
        """A new dimension of size 1 at ``dim``: a sparse one (a row of zero coordinates) where it lies
        among the sparse dimensions (at their end included), else a dense one. Uncoalesced unless it holds at
        most one element, as PyTorch marks it."""
        dim = wrap_dim(dim, self.ndim + 1)
        single = self._nnz() <= 1
        size = list(self._size)
        size.insert(dim, 1)
        if dim <= self.sparse_dim():
            rows = list(self._idx.unbind(0)) if self.sparse_dim() else []
            rows.insert(dim, self._idx.new_zeros((self._nnz(),)))
            return SparseCOOTensor(stack(rows, 0), self._vals, size, single)
        return SparseCOOTensor(self._idx, self._vals.unsqueeze(dim - self.sparse_dim() + 1), size, single)

    def permute(self, *dims: Any) -> SparseCOOTensor:  # type: ignore[override]  # no dims=
        """The dimensions reordered: sparse ones among themselves, dense ones among themselves (PyTorch's rule)."""
        order = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], Sequence) else dims
        if len(order) != self.ndim:
            raise RuntimeError(
                "permute(sparse_coo): number of dimensions in the tensor input does not match the length of the "
                f"desired ordering of dimensions i.e. input.dim() = {self.ndim} is not equal to len(dims) = {len(order)}"
            )
        order = tuple(wrap_dim(d, self.ndim) for d in order)
        if sorted(order) != list(range(self.ndim)):
            raise RuntimeError("permute(sparse_coo): duplicate dims are not allowed.")
        sparse_dim = self.sparse_dim()
        if any(d >= sparse_dim for d in order[:sparse_dim]):
            raise RuntimeError(
                "permute(sparse_coo): transpositions between sparse and dense dimensions are not allowed."
                "Only transpositions within sparse and dense dimensions are supported."
            )
        values = self._vals.permute((0,) + tuple(d - sparse_dim + 1 for d in order[sparse_dim:]))
        size = [self._size[d] for d in order]
        keep = order[:sparse_dim] == tuple(range(sparse_dim))
        return SparseCOOTensor(self._idx[list(order[:sparse_dim])], values, size, self._coalesced and keep)

    def index_select(self, dim: int, index: Tensor) -> SparseCOOTensor:  # type: ignore[override]  # no out=: a sparse result
        """The entries whose coordinate along ``dim`` is in ``index``, renumbered by their place in it
        (an index given twice gives its entries twice); along a dense dimension, the values'."""
        dim = wrap_dim(dim, self.ndim)
        if not is_strided(index) or index.ndim > 1 or index.dtype not in (dtypes.int64, dtypes.int32):
            raise IndexError("index_select() argument index must be 1-D strided (non-sparse) long-tensor.")
        index = index.reshape(-1).long()
        size = list(self._size)
        size[dim] = index.shape[0]
        if dim >= self.sparse_dim():
            values = self._vals.index_select(dim - self.sparse_dim() + 1, index)
            return SparseCOOTensor(self._idx, values, size, self._coalesced)
        bad = ((index < 0) | (index >= self._size[dim])).nonzero().reshape(-1)
        if bad.numel():
            raise IndexError(
                f"index_select(): index contains {int(index[bad[0]].item())} that is out of range for tensor of size "
                f"{list(self._size)} at dimension {dim}"
            )
        hits = (index.unsqueeze(1) == self._idx[dim].unsqueeze(0)).nonzero()  # (place in index, entry)
        place, entry = hits[:, 0], hits[:, 1]
        indices = self._idx.index_select(1, entry)
        indices[dim] = place
        # uncoalesced, as PyTorch's, unless it holds at most one element
        return SparseCOOTensor(indices, self._vals.index_select(0, entry), size, indices.shape[1] <= 1)

    def narrow_copy(self, dim: int, start: int, length: int) -> SparseCOOTensor:
        """The entries with ``start <= coordinate < start + length`` along ``dim``, shifted to start at 0."""
        dim = wrap_dim(dim, self.ndim)
        if not (0 <= start and length >= 0 and start + length <= self._size[dim]):
            raise RuntimeError(
                f"Invalid range to narrow. range(start, start+length) must be a subset of range(0, {self._size[dim]})."
            )
        size = list(self._size)
        size[dim] = length
        if dim >= self.sparse_dim():
            values = self._vals.narrow(dim - self.sparse_dim() + 1, start, length)
            return SparseCOOTensor(self._idx, values, size, self._coalesced)
        row = self._idx[dim]
        keep = ((row >= start) & (row < start + length)).nonzero().reshape(-1)
        indices = self._idx.index_select(1, keep)
        indices[dim] = indices[dim] - start
        return SparseCOOTensor(indices, self._vals.index_select(0, keep), size, self._coalesced)

    @staticmethod
    def _joined(tensors: Sequence[SparseCOOTensor], dim: int) -> SparseCOOTensor:
        """:func:`sparse_cat`, for ``ember.cat`` and ``ember.stack``, which find it on a sparse member of their
        list (the ops do not import this module)."""
        return sparse_cat(tensors, dim)

    def __matmul__(self, other: Tensor | SparseCOOTensor) -> Tensor | SparseCOOTensor:
        """``self @ other``: :func:`mm`, but a leaf ``self`` that requires grad gets the dense
        gradient at every coordinate, as PyTorch's ``@`` gives it."""
        return _dense_grad_mm(self, other) if is_strided(other) else mm(self, other)

    def mm(self, mat2: Tensor | SparseCOOTensor) -> Tensor | SparseCOOTensor:  # type: ignore[override]  # no out=; a sparse mat2 gives a sparse result
        """``ember.mm(self, mat2)``."""
        if is_strided(mat2) and mat2.ndim != 2:
            raise RuntimeError(f"mat2 must be a matrix, got {mat2.ndim}-D tensor")
        return self @ mat2

    matmul = __matmul__  # type: ignore[assignment]  # __matmul__'s signature

    def mv(self, vec: Tensor) -> Tensor:  # type: ignore[override]  # no out=
        """``ember.mv(self, vec)``: the sparse matrix times a dense vector."""
        if not is_strided(vec) or vec.ndim != 1 or self.ndim != 2:
            raise RuntimeError(f"vector + matrix @ vector expected, got {self.ndim}, {getattr(vec, 'ndim', 0)}")
        return self @ vec  # a dense vector gives a dense result

    def smm(self, mat2: Tensor) -> SparseCOOTensor:
        """:func:`ember.smm`."""
        return smm(self, mat2)

    def sspaddmm(self, mat1: SparseCOOTensor, mat2: Tensor, *, beta: Number = 1, alpha: Number = 1) -> SparseCOOTensor:
        """:func:`ember.sspaddmm` with ``self`` as ``input``."""
        return sspaddmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def hspmm(self, mat2: Tensor) -> SparseCOOTensor:
        """:func:`ember.hspmm`."""
        return hspmm(self, mat2)

    def __rmatmul__(self, other: Tensor) -> Tensor:
        """``dense @ sparse`` as ``(sparse.t() @ dense.t()).t()``."""
        if not is_strided(other) or other.ndim != 2:
            raise TypeError(f"matmul: expected a 2-D dense left operand, got {type(other).__name__}")
        return _dense_grad_mm(self.t(), other.t(), of=self).t()

    def __repr__(self) -> str:
        return printing.sparse_coo_repr(self)


# Elementwise functions that map 0 to 0, applied to the stored values as PyTorch applies them: the
# nonlinear ones to the coalesced values (``f(a) + f(b)`` is not ``f(a + b)``), the linear ones as stored.
_NONLINEAR_UNARY = (
    "abs", "absolute", "sqrt", "square", "sin", "sinh", "tan", "tanh", "asin", "arcsin", "asinh", "arcsinh",
    "atan", "arctan", "atanh", "arctanh", "relu", "sign", "sgn", "floor", "ceil", "round", "trunc", "fix", "frac",
    "log1p", "expm1", "erf", "erfinv", "deg2rad", "rad2deg", "isnan", "isinf", "isposinf", "isneginf", "signbit",
    "nan_to_num",
)  # fmt: skip
_LINEAR_UNARY = ("neg", "negative", "conj_physical", "positive")


def _unary_method(name: str, coalesce: bool) -> Any:
    def method(self: SparseCOOTensor, *args: Any, **kwargs: Any) -> SparseCOOTensor:
        source = self.coalesce() if coalesce else self
        values = getattr(source._vals, name)(*args, **kwargs)
        return SparseCOOTensor(source._idx, values, self._size, source._coalesced)

    def method_(self: SparseCOOTensor, *args: Any, **kwargs: Any) -> SparseCOOTensor:
        if coalesce and not self._coalesced:
            raise RuntimeError(f"{name}_ requires coalesced input")
        return self._assign(method(self, *args, **kwargs))

    method.__name__, method_.__name__ = name, name + "_"
    method.__doc__ = f"``{name}`` of the stored values (a sparse result, as in PyTorch)."
    method_.__doc__ = f"In-place ``{name}`` of the stored values."
    return method, method_


for _name in _NONLINEAR_UNARY + _LINEAR_UNARY:
    _m, _m_ = _unary_method(_name, _name in _NONLINEAR_UNARY)
    setattr(SparseCOOTensor, _name, _m)
    if _name not in ("isnan", "isinf", "isposinf", "isneginf", "signbit", "positive", "conj_physical"):
        setattr(SparseCOOTensor, _name + "_", _m_)


def sparse_cat(tensors: Sequence[SparseCOOTensor], dim: int = 0) -> SparseCOOTensor:
    """``ember.cat`` of sparse COO tensors: along a sparse dimension their coordinates joined (each
    shifted past the ones before it), along a dense one their values placed side by side."""
    tensors = list(tensors)
    first = tensors[0]
    dim = wrap_dim(dim, first.ndim)
    for i, t in enumerate(tensors):
        if t.ndim != first.ndim or any(t.shape[d] != first.shape[d] for d in range(first.ndim) if d != dim):
            raise RuntimeError(
                f"All tensors must have the same shape: {list(first.shape)} (except in the concatenating dimension),"
                f" but found shape: {list(t.shape)} at position {i}."
            )
    for i, t in enumerate(tensors):
        if not isinstance(t, SparseCOOTensor):
            raise RuntimeError(f"Concatenating sparse tensors, but a dense tensor was found at position {i}.")
        if t.sparse_dim() != first.sparse_dim() or t.dense_dim() != first.dense_dim():
            raise RuntimeError(
                f"concatenating sparse tensors, but sparse_dim / dense_dim differ: ({first.sparse_dim()}, "
                f"{first.dense_dim()}) at position 0 and ({t.sparse_dim()}, {t.dense_dim()}) at position {i}"
            )
        if t.device != first.device:
            raise RuntimeError(f"cat(): expected all tensors on one device, got {first.device} and {t.device}")

    size = list(first.shape)
    size[dim] = builtins_sum(t.shape[dim] for t in tensors)
    if dim < first.sparse_dim():
        parts, offset = [], 0
        for t in tensors:
            shifted = t._idx.clone()
            shifted[dim] = shifted[dim] + offset
            parts.append(shifted)
            offset += t.shape[dim]
        return SparseCOOTensor(cat(parts, 1), cat([t._vals for t in tensors], 0), size)
    along, offset, values = dim - first.sparse_dim() + 1, 0, []
    for t in tensors:
        pad = list(t._vals.shape)
        before, after = pad.copy(), pad.copy()
        before[along], after[along] = offset, size[dim] - offset - t.shape[dim]
        values.append(cat((t._vals.new_zeros(tuple(before)), t._vals, t._vals.new_zeros(tuple(after))), along))
        offset += t.shape[dim]
    return SparseCOOTensor(cat([t._idx for t in tensors], 1), cat(values, 0), size)


def _mul_dense(s: SparseCOOTensor, dense: Tensor) -> SparseCOOTensor:
    """``s * dense`` (either order): ``dense`` read at ``s``'s coordinates; sparse, with ``s``'s coordinates."""
    shape = tuple(broadcast_shapes(tuple(s.shape), tuple(dense.shape)))
    if shape != tuple(s.shape):  # the dense operand adds or widens dimensions: the product densely
        product = s.to_dense() * dense
        return product.to_sparse(s.sparse_dim() + product.ndim - s.ndim)
    if dense.device != s.device:
        raise RuntimeError(
            f"mul: expected all tensors to be on the same device, but found {s.device} and {dense.device}"
        )
    at = dense.expand(shape)[tuple(s._idx.unbind(0))] if s.sparse_dim() else dense.expand(shape).unsqueeze(0)
    return SparseCOOTensor(s._idx, s._vals * at, s._size, s._coalesced)


def _mul_sparse(a: SparseCOOTensor, b: SparseCOOTensor) -> SparseCOOTensor:
    """``a * b`` for two sparse tensors: the coordinates both store, the product of their (summed) values."""
    if tuple(a.shape) != tuple(b.shape):
        raise RuntimeError(f"mul_out_sparse: sizes mismatch: {list(a.shape)} vs {list(b.shape)}")
    if a.sparse_dim() != b.sparse_dim():
        raise RuntimeError(
            f"mul: expected the same number of sparse dimensions, got {a.sparse_dim()} and {b.sparse_dim()}"
        )
    ca, cb = a.coalesce(), b.coalesce()
    if ca._nnz() == 0 or cb._nnz() == 0:
        keep_a = ca._idx.new_zeros((ca._nnz(),), dtype=dtypes.bool)
        keep_b = cb._idx.new_zeros((cb._nnz(),), dtype=dtypes.bool)
    else:
        from .ops.value_tests import isin

        fa, fb = ca._linear_index()[0], cb._linear_index()[0]
        keep_a, keep_b = isin(fa, fb), isin(fb, fa)  # both sorted and unique: the kept ones pair in order
    values = ca._vals[keep_a] * cb._vals[keep_b]
    return SparseCOOTensor(ca._idx[:, keep_a], values, a._size, a._coalesced and b._coalesced)


def _sparse_mask(dense: Tensor, mask: SparseCOOTensor) -> SparseCOOTensor:
    """``dense`` at the coordinates ``mask`` stores (as ``mask`` stores them: duplicates kept)."""
    if not isinstance(mask, SparseCOOTensor):
        raise TypeError(f"sparse_mask: expected a sparse COO mask, got {type(mask).__name__}")
    if tuple(dense.shape) != tuple(mask.shape):
        raise RuntimeError(
            f"sparse_mask(): operands have incompatible sizes; self has size {list(dense.shape)} "
            f"but mask has size {list(mask.shape)}"
        )
    values = (
        dense[tuple(mask._idx.unbind(0))] if mask.sparse_dim() else dense.unsqueeze(0).expand(mask._nnz(), *dense.shape)
    )
    return SparseCOOTensor(mask._idx, values, mask._size, mask._coalesced)


def _refused_on_dense(name: str, wanted: str) -> Any:
    def method(self: Tensor) -> Any:
        raise RuntimeError(f"{name} expected {wanted} tensor layout but got Strided")

    method.__name__ = method.__qualname__ = name
    method.__doc__ = (
        f"Refused on a dense tensor, as PyTorch refuses it (a {wanted} tensor's ``{name}``).\n\n"
        f"Example::\n\n    >>> ember.ones(2).{name}()\n    Traceback (most recent call last):\n    ...\n"
        f"    RuntimeError: {name} expected {wanted} tensor layout but got Strided\n"
    )
    return method


#: the sparse accessors a dense tensor refuses with PyTorch's RuntimeError (ember.Tensor methods)
DENSE_REFUSALS = {
    name: _refused_on_dense(name, wanted)
    for name, wanted in (
        ("is_coalesced", "sparse coordinate"),
        ("coalesce", "sparse coordinate"),
        ("indices", "sparse coordinate"),
        ("values", "sparse"),
        ("crow_indices", "sparse row compressed"),
        ("col_indices", "sparse row compressed"),
        ("ccol_indices", "sparse column compressed"),
        ("row_indices", "sparse column compressed"),
    )
}


def _dense_sparse_dim(self: Tensor) -> int:
    """0: a dense tensor has no sparse dimension (PyTorch's answer).

    Example::

        >>> ember.ones(2, 3).sparse_dim()
        0
    """
    return 0


def _dense_dense_dim(self: Tensor) -> int:
    """All of a dense tensor's dimensions are dense (PyTorch's answer).

    Example::

        >>> ember.ones(2, 3).dense_dim()
        2
    """
    return self.ndim


def _dense_sparse_mask(self: Tensor, mask: SparseCOOTensor) -> SparseCOOTensor:
    """The elements of this dense tensor at the coordinates the sparse ``mask`` stores, as a sparse
    tensor with ``mask``'s coordinates (its values are not read).

    Args:
        mask (SparseCOOTensor): a sparse tensor of this tensor's size.

    Example::

        >>> m = ember.sparse_coo_tensor([[0, 1], [1, 0]], [1.0, 1.0], (2, 2))
        >>> ember.tensor([[1.0, 2.0], [3.0, 4.0]]).sparse_mask(m).to_dense()
        tensor([[0., 2.],
                [3., 0.]])
    """
    return _sparse_mask(self, mask)


@overload
def mm(mat1: SparseCOOTensor, mat2: SparseCOOTensor, reduce: str = "sum") -> SparseCOOTensor: ...
@overload
def mm(mat1: SparseCOOTensor, mat2: Tensor, reduce: str = "sum") -> Tensor: ...
def mm(mat1: SparseCOOTensor, mat2: Tensor | SparseCOOTensor, reduce: str = "sum") -> Tensor | SparseCOOTensor:
    """Matrix product of the sparse COO matrix ``mat1`` and the dense (or sparse) ``mat2``.

    Differentiable with respect to ``mat2`` and to the values of ``mat1`` (whose ``.grad``
    is sparse with ``mat1``'s indices, as in PyTorch). A sparse ``mat2`` gives a sparse result.

    Args:
        mat1 (SparseCOOTensor): an ``(n, m)`` sparse matrix.
        mat2 (Tensor or SparseCOOTensor): an ``(m, p)`` matrix or an ``(m,)`` vector.
        reduce (str, optional): how each row's products are combined, for a CSR ``mat1`` and a dense
            ``mat2``: ``"sum"``, ``"mean"``, ``"amax"`` or ``"amin"`` over the stored elements (a row
            storing none gives zeros). Default: ``"sum"``.

    Shape:
        - mat1: :math:`(n, m)`; mat2: :math:`(m, p)` or :math:`(m)`.
        - Output: :math:`(n, p)` or :math:`(n)`.

    Example::

        >>> s = ember.sparse_coo_tensor([[0, 1, 1], [2, 0, 2]], [3.0, 4.0, 5.0], (2, 3))
        >>> ember.sparse.mm(s, ember.ones(3, 2))
        tensor([[3., 3.],
                [9., 9.]])
    """
    if reduce != "sum":
        return _mm_reduce(mat1, mat2, reduce)
    if hasattr(mat1, "_coo"):  # a compressed sparse matrix: its COO form shares its values
        if hasattr(mat2, "_coo"):
            return mat1 @ mat2
        return mm(mat1._coo(), mat2)
    if is_strided(mat1):  # a dense first matrix: PyTorch's _sparse_mm, (mat2^T @ mat1^T)^T, dense
        if not is_strided(mat2) and getattr(mat2, "layout", None) is None:
            raise TypeError(f"_sparse_mm(): argument 'dense' (position 2) must be Tensor, not {type_name(mat2)}")
        left, right = mat2.transpose(-2, -1), mat1.transpose(-2, -1)
        if is_strided(left):
            from .ops.linalg import mm as dense_mm

            return dense_mm(left, right).transpose(-2, -1)
        # (a sparse left, mat2's transpose, and a dense right, mat1's: mat1's annotation leaves out this case)
        return mm(left, right).transpose(-2, -1)  # type: ignore[call-overload]
    if not isinstance(mat1, SparseCOOTensor):
        raise TypeError(f"sparse.mm: expected a sparse COO first argument, got {type(mat1).__name__}")
    if isinstance(mat2, SparseCOOTensor):
        return mm(mat1, mat2.to_dense()).to_sparse()
    if not is_strided(mat2):
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


def _mm_reduce(mat1: Any, mat2: Any, reduce: str) -> Tensor:
    """``ember.sparse.mm(csr, dense, reduce)``: each row's products ``A[i, j] * mat2[j]`` over the
    stored ``j`` combined by ``reduce``, as PyTorch's ``_sparse_mm_reduce_impl`` (CSR only)."""
    if reduce not in ("mean", "amax", "amin"):
        raise RuntimeError(f"sparse_mm_reduce: reduce type of {reduce} has not been enabled.")
    layout = getattr(mat1, "layout", None)
    if layout is sparse_coo:
        raise NotImplementedError(
            "Could not run 'aten::_sparse_mm_reduce_impl' with arguments from the 'SparseCPU' backend."
        )
    if layout is None or layout.name != "sparse_csr" or not is_strided(mat2):
        raise RuntimeError(f"sparse.mm with reduce={reduce!r}: expected a CSR matrix and a dense one")
    coo = mat1._coo()
    mm(coo.detach(), mat2.detach())  # its checks
    rows, cols = coo._idx[0], coo._idx[1]
    products = mat2.index_select(0, cols) * coo._vals.unsqueeze(1)
    index = rows.unsqueeze(1).expand(tuple(products.shape))
    out = products.new_zeros((mat1.shape[0], mat2.shape[1]))
    return out.scatter_reduce(0, index, products, reduce, include_self=False)


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
    if is_strided(input):  # a dense matrix: PyTorch's spmm is mm then
        from .ops.linalg import mm as dense_mm

        return dense_mm(input, mat2)
    if not isinstance(input, SparseCOOTensor) or not is_strided(mat2):
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
        layout = {"strided": "Strided"}.get(getattr(getattr(input, "layout", None), "name", ""))
        if hasattr(input, "_coo"):  # a compressed tensor: PyTorch's coalesce refuses it
            layout = "Sparse" + input.layout.name[len("sparse_") :].capitalize()
        if layout is None:
            raise TypeError(f"sparse.sum: expected a sparse COO tensor, got {type(input).__name__}")
        raise RuntimeError(f"coalesce expected sparse coordinate tensor layout but got {layout}")
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


def _check_sparse_self(op: str, mat: Any) -> None:
    """PyTorch's RuntimeError for a strided tensor where smm/sspaddmm take a sparse one (a non-tensor is
    left to :func:`_check_sparse_matrix`'s TypeError)."""
    if is_strided(mat) and not isinstance(mat, SparseCOOTensor):
        raise RuntimeError(
            f"{op}: expected sparse COO tensors where a sparse operand goes, got a strided tensor of size "
            f"{list(mat.shape)} (tensor.sspaddmm(...) can only be called on sparse tensors)"
        )


def _check_sparse_matrix(op: str, mat: Any) -> None:
    if not isinstance(mat, SparseCOOTensor):
        raise TypeError(f"{op}: expected a sparse COO matrix, got {type(mat).__name__}")
    if mat.sparse_dim() != 2 or mat.dense_dim():
        raise RuntimeError(f"{op}: expected a 2-D sparse matrix, got size {list(mat.shape)}")


def addmm(mat: Tensor, mat1: SparseCOOTensor, mat2: Tensor, *, beta: Number = 1, alpha: Number = 1) -> Tensor:
    """``beta * mat + alpha * (mat1 @ mat2)`` for a sparse ``mat1``, differentiated as :func:`mm` (the
    gradient of ``mat1`` at its stored coordinates).

    Args:
        mat (Tensor): the dense matrix added, broadcast to ``(n, p)``.
        mat1 (SparseCOOTensor): an ``(n, m)`` sparse matrix.
        mat2 (Tensor): an ``(m, p)`` dense matrix.
        beta (Number, optional): the multiplier of ``mat``. Default: 1.
        alpha (Number, optional): the multiplier of the product. Default: 1.

    Example::

        >>> s = ember.sparse_coo_tensor([[0, 1], [1, 0]], [2.0, 3.0], (2, 2))
        >>> ember.sparse.addmm(ember.ones(2, 2), s, ember.eye(2), beta=0.5)
        tensor([[0.5000, 2.5000],
                [3.5000, 0.5000]])
    """
    if not hasattr(mat1, "_coo"):  # a compressed matrix: mm checks it
        _check_sparse_matrix("addmm", mat1)
    product = mm(mat1, mat2)
    if not is_strided(mat):
        raise TypeError(f"addmm: expected a dense tensor to add, got {type(mat).__name__}")
    if mat.dtype is not product.dtype:
        raise RuntimeError(
            f"addmm: expected self and mat2 to have the same dtype, but got: {mat.dtype} != {product.dtype}"
        )
    mat = mat.expand(tuple(product.shape))
    scaled = product if alpha == 1 else product * alpha
    return scaled if beta == 0 else scaled + (mat if beta == 1 else mat * beta)


def smm(input: SparseCOOTensor, mat: Tensor) -> SparseCOOTensor:
    """The product of the sparse matrix ``input`` and the dense matrix ``mat``, as a sparse matrix.

    Args:
        input (SparseCOOTensor): an ``(n, m)`` sparse matrix.
        mat (Tensor): an ``(m, p)`` dense matrix.

    Example::

        >>> s = ember.sparse_coo_tensor([[0], [1]], [2.0], (2, 2))
        >>> ember.smm(s, ember.ones(2, 2)).to_dense()
        tensor([[2., 2.],
                [0., 0.]])
    """
    _check_sparse_self("smm", input)
    _check_sparse_matrix("smm", input)
    return mm(input, mat).to_sparse()


def hspmm(mat1: SparseCOOTensor, mat2: Tensor) -> SparseCOOTensor:
    """The product of the sparse matrix ``mat1`` and the dense matrix ``mat2`` as a hybrid sparse
    tensor: one sparse dimension (the rows where ``mat1`` stores elements), one dense.

    Args:
        mat1 (SparseCOOTensor): an ``(n, m)`` sparse matrix.
        mat2 (Tensor): an ``(m, p)`` dense matrix.

    Example::

        >>> s = ember.sparse_coo_tensor([[1], [0]], [2.0], (3, 2))
        >>> ember.hspmm(s, ember.ones(2, 2))
        tensor(indices=tensor([[1]]),
               values=tensor([[2., 2.]]),
               size=(3, 2), nnz=1, layout=ember.sparse_coo)
    """
    _check_sparse_matrix("hspmm", mat1)
    if not is_strided(mat2) or mat2.ndim != 2:
        raise RuntimeError(
            f"hspmm: Argument #3: Expected dim 0 size {mat1.shape[1]}, got {getattr(mat2, 'shape', None)}"
        )
    product = mm(mat1, mat2)
    rows = mat1.coalesce()._idx[0].unique()
    return SparseCOOTensor(rows.unsqueeze(0), product[rows], (mat1.shape[0], mat2.shape[1]), True)


def sspaddmm(
    input: SparseCOOTensor, mat1: SparseCOOTensor, mat2: Tensor, *, beta: Number = 1, alpha: Number = 1
) -> SparseCOOTensor:
    """``beta * input + alpha * (mat1 @ mat2)`` as a sparse matrix: ``input``'s coordinates followed
    by those of the rows where ``mat1`` stores elements (uncoalesced, as PyTorch gives it).

    Args:
        input (SparseCOOTensor): the ``(n, p)`` sparse matrix added.
        mat1 (SparseCOOTensor): an ``(n, m)`` sparse matrix.
        mat2 (Tensor): an ``(m, p)`` dense matrix.
        beta (Number, optional): the multiplier of ``input``. Default: 1.
        alpha (Number, optional): the multiplier of the product. Default: 1.

    Example::

        >>> a = ember.sparse_coo_tensor([[0], [0]], [1.0], (2, 2))
        >>> s = ember.sparse_coo_tensor([[1], [0]], [2.0], (2, 2))
        >>> ember.sspaddmm(a, s, ember.ones(2, 2)).to_dense()
        tensor([[1., 0.],
                [2., 2.]])
    """
    _check_sparse_self("sspaddmm", input)
    _check_sparse_self("sspaddmm", mat1)
    _check_sparse_matrix("sspaddmm", mat1)
    _check_sparse_matrix("sspaddmm", input)
    if not is_strided(mat2) or mat2.ndim != 2 or mat2.shape[0] != mat1.shape[1]:
        raise RuntimeError(
            f"sspaddmm: Argument #3: Expected dim 0 size {mat1.shape[1]}, got {getattr(mat2, 'shape', [None])[0]}"
        )
    if tuple(input.shape) != (mat1.shape[0], mat2.shape[1]):
        raise RuntimeError(
            f"sspaddmm: Argument #1: Expected dim 1 size {mat2.shape[1]}, got {input.shape[1]}"
            if input.shape[0] == mat1.shape[0]
            else f"sspaddmm: Argument #1: Expected dim 0 size {mat1.shape[0]}, got {input.shape[0]}"
        )
    part = hspmm(mat1, mat2)
    cols = part._idx.new_tensor(list(range(mat2.shape[1])))
    rows = part._idx[0].repeat_interleave(mat2.shape[1])
    product = part._vals.reshape(-1)
    product = product if alpha == 1 else product * alpha
    kept = input._vals if beta == 1 else input._vals * beta
    indices = cat((input._idx, stack((rows, cols.repeat(part._nnz())), 0)), 1)
    return SparseCOOTensor(indices, cat((kept, product), 0), input.shape)


def dsmm(input: SparseCOOTensor, mat: Tensor) -> Tensor:
    """The product of the sparse matrix ``input`` and the dense ``mat``, dense (:func:`mm`).

    Args:
        input (SparseCOOTensor): an ``(n, m)`` sparse matrix.
        mat (Tensor): an ``(m, p)`` dense matrix.

    Example::

        >>> s = ember.sparse_coo_tensor([[0], [1]], [2.0], (2, 2))
        >>> ember.dsmm(s, ember.ones(2, 2))
        tensor([[2., 2.],
                [0., 0.]])
    """
    if is_strided(input):  # two dense matrices: their product, as PyTorch's dsmm gives it
        from .ops.linalg import mm as dense_mm

        return dense_mm(input, mat)
    _check_sparse_matrix("dsmm", input)
    return mm(input, mat)


def _softmax(op: str, input: SparseCOOTensor, dim: int, dtype: _dtype | None, log: bool) -> SparseCOOTensor:
    if not isinstance(input, SparseCOOTensor):
        raise TypeError(f"{op}: expected a sparse COO tensor, got {type(input).__name__}")
    dim = wrap_dim(dim, input.ndim)
    source = input.coalesce()
    values = source._vals if dtype is None else source._vals.to(dtype)
    if values.dtype not in (dtypes.float32, dtypes.float64):  # PyTorch's sparse softmax kernels (CPU)
        name = dtypes.TORCH_SCALAR_NAMES.get(values.dtype.name, values.dtype.name)
        raise NotImplementedError(f"\"{op}\" not implemented for '{name}'")
    sparse_dim = source.sparse_dim()
    if dim >= sparse_dim:  # along a dense dimension: within each stored entry
        along = dim - sparse_dim + 1
        out = values.log_softmax(along) if log else values.softmax(along)
        return SparseCOOTensor(source._idx, out, input.shape, True)
    nnz = source._nnz()
    if nnz == 0:
        return SparseCOOTensor(source._idx, values, input.shape, True)
    group = None  # the entries that share every sparse coordinate but ``dim``'s are normalised together
    for d in range(sparse_dim):
        if d != dim:
            row = source._idx[d]
            group = row if group is None else group * input.shape[d] + row
    if group is None:
        group = source._idx.new_zeros((nnz,))
    _, group = group.unique(return_inverse=True)
    count = int(group.max().item()) + 1
    shape = (count,) + tuple(values.shape[1:])
    index = group.reshape((-1,) + (1,) * (values.ndim - 1)).expand(tuple(values.shape))
    top = values.detach().new_zeros(shape).scatter_reduce(0, index, values.detach(), "amax", include_self=False)
    shifted = values - top[group]
    total = shifted.exp().new_zeros(shape).index_add(0, group, shifted.exp())
    out = shifted - total.log()[group] if log else shifted.exp() / total[group]
    return SparseCOOTensor(source._idx, out, input.shape, True)


def softmax(input: SparseCOOTensor, dim: int, *, dtype: _dtype | None = None) -> SparseCOOTensor:
    """Softmax of a sparse tensor along ``dim`` over its stored elements only (the unstored ones count
    as minus infinity, not zero), as ``torch.sparse.softmax``: a sparse result with the coalesced
    coordinates. Differentiable through the values.

    Args:
        input (SparseCOOTensor): the input.
        dim (int): the dimension along which softmax is computed.
        dtype (ember.dtype, optional): the dtype the values are cast to first. Default: None.

    Example::

        >>> s = ember.sparse_coo_tensor([[0, 0, 1], [0, 2, 1]], [1.0, 1.0, 5.0], (2, 3))
        >>> ember.sparse.softmax(s, 1).to_dense()
        tensor([[0.5000, 0.0000, 0.5000],
                [0.0000, 1.0000, 0.0000]])
    """
    return _softmax("softmax", input, dim, dtype, log=False)


def log_softmax(input: SparseCOOTensor, dim: int, *, dtype: _dtype | None = None) -> SparseCOOTensor:
    """Log-softmax of a sparse tensor along ``dim`` over its stored elements only, as
    ``torch.sparse.log_softmax`` (see :func:`softmax`).

    Args:
        input (SparseCOOTensor): the input.
        dim (int): the dimension along which log-softmax is computed.
        dtype (ember.dtype, optional): the dtype the values are cast to first. Default: None.

    Example::

        >>> s = ember.sparse_coo_tensor([[0, 0], [0, 2]], [1.0, 1.0], (1, 3))
        >>> ember.sparse.log_softmax(s, 1).to_dense()
        tensor([[-0.6931,  0.0000, -0.6931]])
    """
    return _softmax("log_softmax", input, dim, dtype, log=True)


def spdiags(diagonals: Tensor, offsets: Tensor, shape: Sequence[int], layout: Any = None) -> Any:
    """A sparse ``shape`` matrix with the rows of ``diagonals`` on the diagonals ``offsets``
    (0 the main one, positive above it): element ``j`` of row ``i`` goes to column ``j``, row
    ``j - offsets[i]``, where that lies in the matrix (SciPy's and PyTorch's convention).

    Args:
        diagonals (Tensor): a 2-D tensor, one row per diagonal.
        offsets (Tensor): a 1-D integer tensor, one offset per row of ``diagonals``.
        shape (tuple of two ints): the size of the result.
        layout (ember.layout, optional): ``ember.sparse_coo`` (default), ``ember.sparse_csr`` or
            ``ember.sparse_csc``.

    Example::

        >>> ember.sparse.spdiags(ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), ember.tensor([0, -1]), (3, 3)).to_dense()
        tensor([[1., 0., 0.],
                [4., 2., 0.],
                [0., 5., 3.]])
    """
    from .layout import sparse_csc, sparse_csr

    if layout not in (None, sparse_coo, sparse_csr, sparse_csc):
        raise RuntimeError("Only output layouts (Sparse, SparseCsc, SparseCsr) are supported")
    if offsets.ndim != 1:
        raise RuntimeError("Offsets tensor must be one-dimensional")
    if diagonals.ndim != 2:
        raise RuntimeError("Diagonals tensor must be two-dimensional")
    if len(shape) != 2:
        raise RuntimeError("Output shape must be 2d")
    if diagonals.shape[0] != offsets.shape[0]:
        raise RuntimeError(
            f"Number of diagonals ({diagonals.shape[0]}) does not match the number of offsets ({offsets.shape[0]})"
        )
    rows_out, cols_out = int(shape[0]), int(shape[1])
    offs = [int(k) for k in offsets.tolist()]
    if len(set(offs)) != len(offs):
        raise RuntimeError("Offset tensor contains duplicate values")
    rows, cols, picks = [], [], []
    for i, k in enumerate(offs):
        first, last = max(0, k), min(cols_out, rows_out + k, diagonals.shape[1])
        for j in range(first, last):
            rows.append(j - k)
            cols.append(j)
            picks.append(i * diagonals.shape[1] + j)
    where = tensor(picks, dtype=dtypes.int64, device=diagonals.device)
    values = diagonals.reshape(-1)[where]
    indices = tensor([rows, cols], dtype=dtypes.int64, device=diagonals.device).reshape(2, len(picks))
    result = SparseCOOTensor(indices, values, (rows_out, cols_out), len(picks) <= 1)
    return result if layout in (None, sparse_coo) else result.to_sparse(layout=layout)


class check_sparse_tensor_invariants:  # noqa: N801 - mirrors torch.sparse.check_sparse_tensor_invariants
    """Check the invariants of the sparse tensors the constructors make (PyTorch's switch): coalesced
    COO coordinates sorted and unique where declared so, compressed indices well formed. Use it as a
    context manager, a decorator, or through its static methods.

    ember checks the coordinates against the size and the compressed indices whatever the switch says
    (a tensor that breaks them would give wrong answers); the switch adds the check that COO
    coordinates declared coalesced are so.

    Args:
        enable (bool, optional): the state inside the context. Default: True.

    Example::

        >>> with ember.sparse.check_sparse_tensor_invariants():
        ...     ember.sparse.check_sparse_tensor_invariants.is_enabled()
        True
        >>> ember.sparse.check_sparse_tensor_invariants.is_enabled()
        False
    """

    _enabled = False

    @staticmethod
    def is_enabled() -> bool:
        """Whether the constructors check the invariants by default."""
        return check_sparse_tensor_invariants._enabled

    @staticmethod
    def enable() -> None:
        """Check the invariants by default from now on."""
        check_sparse_tensor_invariants._enabled = True

    @staticmethod
    def disable() -> None:
        """Stop checking the invariants by default."""
        check_sparse_tensor_invariants._enabled = False

    def __init__(self, enable: bool = True) -> None:
        self.state = enable
        self.saved_state: bool | None = None

    def __enter__(self) -> None:
        if self.saved_state is not None:
            raise RuntimeError(
                "This context manager instance is already activated. Use a different context manager instance for context nesting."
            )
        self.saved_state = self.is_enabled()
        check_sparse_tensor_invariants._enabled = self.state

    def __exit__(self, *exc: Any) -> None:
        assert self.saved_state is not None
        check_sparse_tensor_invariants._enabled = self.saved_state
        self.saved_state = None

    def __call__(self, func: Any) -> Any:
        import functools

        @functools.wraps(func)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with check_sparse_tensor_invariants(self.state):
                return func(*args, **kwargs)

        return wrapped


def _transposed_owner(matrix: Any) -> tuple[Any, bool]:
    """The ``_owner`` of the transpose of ``matrix`` (a sparse matrix, COO or compressed)."""
    return (matrix, True) if matrix._owner is None else (matrix._owner[0], not matrix._owner[1])


def _dense_grad_mm(mat1: SparseCOOTensor, mat2: Tensor, of: Any = None, coo: SparseCOOTensor | None = None) -> Tensor:
    """:func:`mm`, giving a sparse leaf ``mat1`` that requires grad the dense gradient at every
    coordinate; ``of``: the leaf whose transpose ``mat1`` is (``dense @ sparse``), given the gradient
    instead; a transpose made by ``t()`` gives it to the matrix it transposes. ``coo``: ``mat1`` in COO
    form where ``mat1`` is compressed."""
    leaf, transposed = (mat1, False) if of is None else (of, True)
    if leaf._owner is not None:
        leaf, transposed = leaf._owner[0], transposed != leaf._owner[1]
    product = mat1 if coo is None else coo
    if not (grad_state.enabled and leaf.requires_grad and leaf.is_leaf):
        return mm(product, mat2)
    mm(product.detach(), mat2.detach())  # its checks, before a slot is made
    if leaf._dense_grad is None:
        leaf._dense_grad = leaf._vals.new_zeros(tuple(leaf._size)).requires_grad_()
    return _DenseGradProduct.apply(leaf._dense_grad, mat2, product, transposed)


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


def _to_sparse(
    self: Tensor,
    sparse_dim: int | None = None,
    *,
    layout: Any = None,
    blocksize: Sequence[int] | None = None,
    dense_dim: int | None = None,
) -> Any:
    """This dense tensor as a coalesced sparse COO tensor holding its non-zero entries (or, with
    ``layout``, as a compressed sparse tensor: :meth:`to_sparse_csr` and its kin).

    Differentiable: the gradient reaches the entries that were stored.

    Args:
        sparse_dim (int, optional): how many leading dimensions are sparse; the rest are
            stored densely per entry (an entry is kept where any of its values is non-zero).
            Default: all dimensions.
        layout (ember.layout, optional): the layout of the result. Default: ``ember.sparse_coo``.
        blocksize (tuple of two ints, optional): the block size of a BSR/BSC result.
        dense_dim (int, optional): the number of dense dimensions of a compressed result.

    Example::

        >>> ember.tensor([[0.0, 1.0], [2.0, 0.0]]).to_sparse().indices()
        tensor([[0, 1],
                [1, 0]])
    """
    if layout is not None and layout is not sparse_coo:
        if sparse_dim is not None:
            raise RuntimeError("to_sparse: sparse_dim argument must be None when layout is not sparse_coo")
        return _compressed.from_dense(self, layout, blocksize, dense_dim)
    if blocksize is not None:
        raise RuntimeError("to_sparse for Strided to SparseCoo conversion does not use specified blocksize")
    sparse_dim = self.ndim if sparse_dim is None else int(sparse_dim)
    if self.ndim and sparse_dim <= 0:
        raise RuntimeError("dense_to_sparse: sparse_dim argument must be in >0 when self.dim()>0")
    if not 0 <= sparse_dim <= self.ndim:
        raise RuntimeError(
            f"dense_to_sparse: sparse_dim argument must be in [0,{self.ndim}] range, but {sparse_dim} is given"
        )
    refuse_meta("to_sparse", self)  # which elements are stored depends on the values
    if self.ndim == 0:  # one entry with no coordinates, as PyTorch keeps a 0-d tensor
        indices = self.new_zeros((0, 1), dtype=dtypes.int64)
        return SparseCOOTensor(indices, self.reshape(1), (), coalesced=True)
    sparse_shape = tuple(self.shape[:sparse_dim])
    present = self.detach() != 0
    if sparse_dim < self.ndim:
        present = present.reshape(sparse_shape + (-1,)).any(-1)
    indices = present.nonzero().t().contiguous() if present.ndim else present.nonzero().t()
    values = self[tuple(indices.unbind(0))]
    return SparseCOOTensor(indices, values, tuple(self.shape), coalesced=True)


def _to_sparse_coo(self: Tensor) -> SparseCOOTensor:
    """This dense tensor as a sparse COO tensor (:meth:`to_sparse` with its defaults).

    Example::

        >>> ember.tensor([0.0, 3.0]).to_sparse_coo().values()
        tensor([3.])
    """
    return _to_sparse(self)


def sparse_coo_tensor(
    indices: Any = None,
    values: Any = None,
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
    if indices is None and values is None:  # sparse_coo_tensor(size=...): an empty tensor of that size
        if size is None:
            raise TypeError("sparse_coo_tensor() missing required argument 'size'")
        indices = tensor([], dtype=dtypes.int64, device=device).reshape(len(size), 0)
        values = tensor([], dtype=dtype or dtypes.get_default_dtype(), device=device)
    elif indices is None or values is None:
        raise TypeError("sparse_coo_tensor(): expected both indices and values (or neither, with size)")
    if not is_strided(values):
        values = tensor(values, dtype=dtype, device=device)
    elif dtype is not None or device is not None:
        values = values.to(device=device or values.device, dtype=dtype or values.dtype)
    if not is_strided(indices):
        indices = tensor(indices, dtype=dtypes.int64, device=values.device)
    if indices.dtype.is_complex:
        indices = indices.real
    indices = indices.long()  # any real dtype, truncated as PyTorch converts it
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
            f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = {len(size)}, "
            f"sparse_dim = {sparse_dim}, dense_dim = {values.ndim - 1}"
        )
    if indices.shape[1]:
        top = indices.amax(1).tolist()
        low = indices.amin(1).tolist()
        for d in range(sparse_dim):
            if low[d] < 0:
                raise RuntimeError(f"found negative index {low[d]} for dim {d}")
            if top[d] >= size[d]:
                raise RuntimeError(
                    f"size is inconsistent with indices: for dim {d}, size is {size[d]} but found index {top[d]}"
                )
    if requires_grad:
        values = values.detach().requires_grad_()
    nnz = indices.shape[1]
    result = SparseCOOTensor(indices, values, size, nnz <= 1 if is_coalesced is None else bool(is_coalesced))
    if check_invariants is None:
        check_invariants = check_sparse_tensor_invariants.is_enabled()
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
        if args and is_strided(args[0]):
            if len(args) not in (2, 3) or not is_strided(args[1]):
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


_TYPE_CLASSES: dict[str, Any] = {}
FloatTensor = _sparse_type("FloatTensor", dtypes.float32)
DoubleTensor = _sparse_type("DoubleTensor", dtypes.float64)
HalfTensor = _sparse_type("HalfTensor", dtypes.float16)
BFloat16Tensor = _sparse_type("BFloat16Tensor", dtypes.bfloat16)
LongTensor = _sparse_type("LongTensor", dtypes.int64)
IntTensor = _sparse_type("IntTensor", dtypes.int32)
ShortTensor = _sparse_type("ShortTensor", dtypes.int16)
CharTensor = _sparse_type("CharTensor", dtypes.int8)
ByteTensor = _sparse_type("ByteTensor", dtypes.uint8)

_TYPE_CLASSES.update(
    (cls.__name__, cls)
    for cls in (
        FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor
    )
)  # fmt: skip

factories["sparse_coo"] = sparse_coo_tensor  # the factories' layout=ember.sparse_coo (ember.layout)

#: :mod:`ember.sparse_compressed`, which builds on this module: it installs itself here when ``ember``
#: imports it (with ``SparseCompressedTensor`` and ``sampled_addmm`` in this namespace), so that the two
#: modules do not import each other
_compressed: Any = None

builtins_sum = builtins.sum  # this module's sum is ember.sparse.sum


saddmm = sspaddmm  # PyTorch's older name of the same op (torch.saddmm)
