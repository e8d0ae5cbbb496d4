"""``NestedTensor``: a batch of tensors whose sizes differ along one dimension, PyTorch's jagged layout.

A nested tensor of ``B`` components, each of shape ``(j_i, *inner)``, holds them packed one after the
other in ``values`` (shape ``(sum j_i, *inner)``, an ordinary tensor) and the ``offsets`` at which each
begins (``B + 1`` int64 values, the last the total length). Its outer shape is ``(B, j, *inner)`` where
``j`` (a :class:`NestedInt`, printed ``j1``) stands for the ragged sizes; after a transpose the ragged
dimension may sit further right (``(B, H, j, D)`` for attention), the values keeping their order.

Operations run on ``values`` with ordinary ember operations, so autograd flows through them: a nested
tensor made from tensors with :func:`ember.nested.as_nested_tensor` passes gradients back to them, and one
made with ``requires_grad=True`` gets a nested ``.grad``. Functions of ``ember`` and
``ember.nn.functional`` reach the nested implementations through ``__torch_function__``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..layout import jagged
from ..tensor import Size, Tensor, tensor
from ..unstrided import UnstridedTensor, is_strided

__all__ = ["NestedTensor", "NestedInt"]

_counter = itertools.count(1)


class NestedInt:
    """The size of a nested tensor's ragged dimension (``j1``): one object per set of offsets, equal only
    to itself, as PyTorch's nested ints.

    Example::

        >>> nt = ember.nested.nested_tensor([ember.ones(2, 3), ember.ones(1, 3)], layout=ember.jagged)
        >>> j = nt.size(1)
        >>> j == nt.relu().size(1), j == 2
        (True, False)
    """

    __slots__ = ("_id",)

    def __init__(self) -> None:
        self._id = next(_counter)

    def __repr__(self) -> str:
        return f"j{self._id}"

    def __hash__(self) -> int:
        return hash(("NestedInt", self._id))

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other


class _Structure:
    """What nested tensors with the same components' lengths share: the offsets (a tensor on the values'
    device and, where known without reading the device, a host copy) and the ragged size."""

    __slots__ = ("offsets", "_host", "size", "padded_length", "_positions")

    def __init__(self, offsets: Tensor, host: list[int] | None = None, padded_length: int | None = None) -> None:
        self.offsets = offsets
        self._host = host
        self.size = NestedInt()
        #: the ragged length :meth:`NestedTensor.to_padded_tensor` pads to where it is not the longest
        #: component's (PyTorch's nested_tensor_from_jagged without max_seqlen pads to the values' length)
        self.padded_length = padded_length
        self._positions: dict[Any, tuple[Tensor, Tensor]] = {}  # device -> positions(device)

    @property
    def host(self) -> list[int]:
        if self._host is None:  # offsets given as a tensor: read once
            self._host = [int(v) for v in self.offsets.cpu().tolist()]
        return self._host

    def lengths(self) -> list[int]:
        host = self.host
        return [host[i + 1] - host[i] for i in range(len(host) - 1)]

    def positions(self, device: Any) -> tuple[Tensor, Tensor]:
        """For each row of the values, the index of its component and its position within it: built once
        per device (padding, unpadding and per-batch operands of every tensor of this structure use them)."""
        found = self._positions.get(device)
        if found is None:
            lengths = self.lengths()
            batch = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
            starts = np.repeat(np.asarray(self.host[:-1], dtype=np.int64), lengths)
            position = np.arange(len(batch), dtype=np.int64) - starts
            found = self._positions[device] = (tensor(batch, device=device), tensor(position, device=device))
        return found


class NestedTensor(UnstridedTensor):
    """A batch of tensors of different lengths along one dimension, in PyTorch's jagged layout.

    Made by :func:`ember.nested.nested_tensor`, :func:`~ember.nested.as_nested_tensor` and
    :func:`~ember.nested.nested_tensor_from_jagged`. Its shape is ``(B, j, *inner)`` with the ragged
    size ``j`` a :class:`NestedInt`; the element-wise operations, ``linear``/``matmul`` by a dense
    matrix, ``softmax``/``layer_norm`` and the reductions over the non-ragged dimensions, reductions over
    the ragged one (to a dense result), reshapes of the inner dimensions, ``transpose`` of the ragged
    dimension with an inner one and ``scaled_dot_product_attention`` work on it, and
    :meth:`to_padded_tensor`/:meth:`unbind` give dense tensors back.

    It is an :class:`ember.Tensor` (``isinstance(nt, ember.Tensor)``), as PyTorch's nested tensors are.

    Example::

        >>> nt = ember.nested.nested_tensor([ember.ones(2, 3), ember.ones(1, 3)], layout=ember.jagged)
        >>> nt.shape[0], nt.shape[2], nt.is_nested
        (2, 3, True)
        >>> (nt * 2).to_padded_tensor(0.0)[1]
        tensor([[2., 2., 2.],
                [0., 0., 0.]])
    """

    is_nested = True
    _dispatch_name = "NestedTensor"
    is_sparse = False
    is_sparse_csr = False
    is_quantized = False
    is_mkldnn = False

    def __init__(self, values: Tensor, structure: _Structure, ragged_idx: int = 1, layout: Any = jagged) -> None:
        self._values = values
        self._structure = structure
        self._ragged_idx = ragged_idx
        self._layout = layout

    # -- what it is ---------------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        batch = len(self._structure.host) - 1
        inner = list(self._values.shape[1:])
        inner.insert(self._ragged_idx - 1, self._structure.size)
        return Size((batch, *inner))

    def size(self, dim: int | None = None) -> Any:
        """The shape, or the size of dimension ``dim`` (the ragged one's is a :class:`NestedInt`)."""
        shape = self.shape
        return shape if dim is None else shape[self._wrap(dim, "size")]

    def dim(self) -> int:
        """The number of dimensions, the batch and ragged ones included."""
        return self._values.dim() + 1

    ndim = property(dim)

    def numel(self) -> int:
        """The number of elements of all the components together."""
        return self._values.numel()

    def __len__(self) -> int:
        return len(self._structure.host) - 1

    @property
    def dtype(self) -> Any:
        return self._values.dtype

    @property
    def device(self) -> Any:
        return self._values.device

    @property
    def layout(self) -> Any:
        return self._layout

    @property
    def requires_grad(self) -> bool:
        return self._values.requires_grad

    @property
    def is_leaf(self) -> bool:
        return self._values.is_leaf

    @property
    def grad_fn(self) -> Any:
        return self._values.grad_fn

    @property
    def grad(self) -> NestedTensor | None:
        grad = self._values.grad
        return None if grad is None else self._like(grad)

    def requires_grad_(self, requires_grad: bool = True) -> NestedTensor:
        self._values.requires_grad_(requires_grad)
        return self

    def values(self) -> Tensor:
        """The components packed along the ragged dimension, ``(sum j_i, *inner)``: a view."""
        return self._values

    def offsets(self) -> Tensor:
        """Where each component begins in :meth:`values` (``B + 1`` int64 values)."""
        return self._structure.offsets

    def lengths(self) -> None:
        """The components' lengths where they are not contiguous in :meth:`values`: None here, as for
        PyTorch's contiguous nested tensors."""
        return None

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._values.reshape(()).item())

    def numpy(self, *, force: bool = False) -> Any:
        """Refused, as PyTorch's: read :meth:`unbind` or :meth:`to_padded_tensor`."""
        raise RuntimeError(".numpy() is not supported for tensor subclasses.")

    def tolist(self) -> Any:
        """Refused, as PyTorch's: read :meth:`unbind` or :meth:`to_padded_tensor`."""
        raise RuntimeError(f".tolist() is not supported for tensor subclasses, got {type(self).__name__}")

    def is_contiguous(self, memory_format: Any = None) -> bool:
        return self._values.is_contiguous()

    def __repr__(self) -> str:
        size = ", ".join(str(s) for s in self.shape)
        return f"NestedTensor(size=({size}), offsets={self.offsets()!r}, contiguous={self.is_contiguous()})"

    # -- back to dense --------------------------------------------------------------------------------
    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        """The components, each a view of :meth:`values` (only ``dim=0``)."""
        if self._wrap(dim, "unbind") != 0:
            raise RuntimeError("unbind(): only supported for NestedTensor on dim=0")
        host = self._structure.host
        parts = [self._values[host[i] : host[i + 1]] for i in range(len(host) - 1)]
        if self._ragged_idx != 1:
            parts = [p.movedim(0, self._ragged_idx - 1) for p in parts]
        return tuple(parts)

    def __iter__(self) -> Any:
        return iter(self.unbind())

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, int):
            return self.unbind()[index]
        if isinstance(index, tuple) and index and isinstance(index[0], int):
            return self.unbind()[index[0]][index[1:]]
        raise NotImplementedError(f"ember.nested: indexing a nested tensor with {index!r}: only an int is supported")

    def to_padded_tensor(self, padding: float, output_size: Sequence[int] | None = None) -> Tensor:
        """The dense tensor of shape ``(B, max j_i, *inner)`` (the ragged dimension where it is), each
        component in its row and ``padding`` around it; ``output_size`` pads further.

        Args:
            padding (float): the value of the padding.
            output_size (sequence of int, optional): the shape of the result, at least the padded one.
        """
        padded = _pad(self._values, self._structure, padding, self._structure.padded_length)
        if self._ragged_idx != 1:
            padded = padded.movedim(1, self._ragged_idx)
        if output_size is not None:
            output_size = list(output_size)
            if len(output_size) != padded.dim() or any(o < s for o, s in zip(output_size, padded.shape)):
                raise RuntimeError(
                    f"to_padded_tensor(): output_size {output_size} is smaller than the padded shape "
                    f"{list(padded.shape)}"
                )
            widths: list[int] = []
            for o, s in reversed(list(zip(output_size, padded.shape))):
                widths += [0, o - s]
            from ..nn.functional import pad

            padded = pad(padded, widths, value=padding)
        return padded

    # -- conversions ------------------------------------------------------------------------------------
    def _like(self, values: Tensor, ragged_idx: int | None = None) -> NestedTensor:
        return NestedTensor(
            values, self._structure, self._ragged_idx if ragged_idx is None else ragged_idx, self._layout
        )

    def to(self, *args: Any, **kwargs: Any) -> NestedTensor:
        values = self._values.to(*args, **kwargs)
        if values.device != self._values.device:
            structure = _Structure(self._structure.offsets.to(values.device), self._structure._host)
            return NestedTensor(values, structure, self._ragged_idx, self._layout)
        return self._like(values)

    def detach(self) -> NestedTensor:
        return self._like(self._values.detach())

    def clone(self, *, memory_format: Any = None) -> NestedTensor:
        return self._like(self._values.clone())

    def contiguous(self, memory_format: Any = None) -> NestedTensor:
        return self._like(self._values.contiguous())

    def float(self) -> NestedTensor:
        return self._like(self._values.float())

    def double(self) -> NestedTensor:
        return self._like(self._values.double())

    def half(self) -> NestedTensor:
        return self._like(self._values.half())

    def bfloat16(self) -> NestedTensor:
        return self._like(self._values.bfloat16())

    def cpu(self) -> NestedTensor:
        return self.to("cpu")

    def backward(
        self, gradient: NestedTensor | None = None, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Back-propagate ``gradient`` (a nested tensor of the same structure) from this one."""
        if gradient is None:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        self._values.backward(
            _values_of(gradient, self, "backward"), retain_graph=retain_graph, create_graph=create_graph
        )

    # -- dimensions ---------------------------------------------------------------------------------------
    def _wrap(self, dim: int, op: str) -> int:
        n = self.dim()
        if not -n <= dim < n:
            raise IndexError(
                f"{op}(): Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
            )
        return dim % n

    def _inner(self, dim: int, op: str) -> int:
        """The dimension of :meth:`values` that holds the (non-batch, non-ragged) dimension ``dim``."""
        d = self._wrap(dim, op)
        if d == 0:
            raise RuntimeError(f"{op}(): not supported for NestedTensor on the batch dimension (dim=0)")
        if d == self._ragged_idx:
            raise RuntimeError(f"{op}(): not supported for NestedTensor on the ragged dimension (dim={d})")
        return d if d < self._ragged_idx else d - 1

    def transpose(self, dim0: int, dim1: int) -> NestedTensor:
        """Swap two dimensions: the ragged one with an inner one (the values keep their order where the
        two are neighbours), or two inner ones; never the batch dimension."""
        d0, d1 = sorted((self._wrap(dim0, "transpose"), self._wrap(dim1, "transpose")))
        if d0 == 0 and d1 != 0:
            raise ValueError("Transpose is not supported on the batch dimension for jagged NT")
        if d0 == d1:
            return self
        r = self._ragged_idx
        if r not in (d0, d1):
            return self._like(self._values.transpose(self._inner(d0, "transpose"), self._inner(d1, "transpose")))
        other = d1 if d0 == r else d0  # the inner dimension that changes places with the ragged one
        old_inner = [d for d in range(1, self.dim()) if d != r]
        order = [old_inner.index(other if p == r else p) + 1 for p in range(1, self.dim()) if p != other]
        return self._like(self._values.permute(0, *order), ragged_idx=other)

    def unflatten(self, dim: int, sizes: Sequence[int]) -> NestedTensor:
        """Split an inner dimension into ``sizes``."""
        d = self._wrap(dim, "unflatten")
        values = self._values.unflatten(self._inner(d, "unflatten"), sizes)
        return self._like(values, self._ragged_idx + (len(sizes) - 1 if d < self._ragged_idx else 0))

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> NestedTensor:
        """Merge inner dimensions ``start_dim`` to ``end_dim`` (neither the batch nor the ragged one)."""
        start, end = self._wrap(start_dim, "flatten"), self._wrap(end_dim, "flatten")
        if start <= self._ragged_idx <= end or start == 0:
            raise RuntimeError("flatten(): only inner dimensions of a NestedTensor can be flattened")
        values = self._values.flatten(self._inner(start, "flatten"), self._inner(end, "flatten"))
        return self._like(values, self._ragged_idx - (end - start if end < self._ragged_idx else 0))

    def view(self, *shape: Any) -> NestedTensor:
        """The same components with the inner dimensions viewed as ``shape`` (its batch entry ``B`` or -1,
        its ragged entry the ragged size or -1)."""
        return self._reshaped(shape, "view")

    def reshape(self, *shape: Any) -> NestedTensor:
        """:meth:`view`, copying where a view cannot be made."""
        return self._reshaped(shape, "reshape")

    def _reshaped(self, shape: Any, op: str) -> NestedTensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        r = self._ragged_idx
        if (
            len(shape) <= r
            or shape[0] not in (-1, len(self))
            or not (shape[r] == -1 or shape[r] is self._structure.size)
        ):
            raise RuntimeError(
                f"{op}(): the batch and ragged dimensions of a NestedTensor of shape {tuple(self.shape)} must "
                f"stay (got {tuple(shape)})"
            )
        inner = [s for i, s in enumerate(shape) if i not in (0, r)]
        values = getattr(self._values, op)(self._values.shape[0], *inner)
        return self._like(values)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[NestedTensor, ...]:
        """Split an inner dimension into ``chunks`` parts."""
        return tuple(self._like(v) for v in self._values.chunk(chunks, self._inner(dim, "chunk")))

    def split(self, split_size: int | list[int], dim: int = 0) -> tuple[NestedTensor, ...]:
        """Split an inner dimension into parts of ``split_size``."""
        return tuple(self._like(v) for v in self._values.split(split_size, self._inner(dim, "split")))

    def narrow(self, dim: int, start: int, length: int) -> NestedTensor:
        """The part ``start:start + length`` of an inner dimension."""
        return self._like(self._values.narrow(self._inner(dim, "narrow"), start, length))

    def unsqueeze(self, dim: int) -> NestedTensor:
        """A size-1 dimension inserted at inner position ``dim``."""
        n = self.dim() + 1
        d = dim % n if -n <= dim < n else self._wrap(dim, "unsqueeze")
        if d == 0:
            raise RuntimeError("unsqueeze(): cannot unsqueeze the batch dimension of a NestedTensor")
        r = self._ragged_idx
        values = self._values.unsqueeze(d if d <= r else d - 1)
        return self._like(values, r + 1 if d <= r else r)

    def squeeze(self, dim: int) -> NestedTensor:
        """Remove the size-1 inner dimension ``dim``."""
        d = self._wrap(dim, "squeeze")
        values = self._values.squeeze(self._inner(d, "squeeze"))
        return self._like(values, self._ragged_idx - (1 if d < self._ragged_idx else 0))

    # -- reductions and normalisations ----------------------------------------------------------------
    def softmax(self, dim: int, dtype: Any = None) -> NestedTensor:
        return self._normalized("softmax", dim, dtype)

    def log_softmax(self, dim: int, dtype: Any = None) -> NestedTensor:
        return self._normalized("log_softmax", dim, dtype)

    def _normalized(self, op: str, dim: int, dtype: Any) -> NestedTensor:
        from ..nn import functional as F

        fn = getattr(F, op)
        d = self._wrap(dim, op)
        if d == self._ragged_idx:  # over each component's own length: padded with -inf
            padded = _pad(self._values, self._structure, -math.inf)
            return self._like(_unpad(fn(padded, 1, dtype=dtype), self._structure))
        return self._like(fn(self._values, self._inner(d, op), dtype=dtype))

    def sum(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Any:
        return self._reduced("sum", dim, keepdim, dtype=dtype)

    def mean(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Any:
        return self._reduced("mean", dim, keepdim, dtype=dtype)

    def amax(self, dim: Any = (), keepdim: bool = False) -> Any:
        return self._reduced("amax", dim, keepdim)

    def amin(self, dim: Any = (), keepdim: bool = False) -> Any:
        return self._reduced("amin", dim, keepdim)

    def _reduced(self, op: str, dim: Any, keepdim: bool, **kwargs: Any) -> Any:
        if dim is None or (op in ("amax", "amin") and dim == ()):
            return getattr(self._values, op)(**kwargs)
        dims = sorted({self._wrap(d, op) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))})
        r = self._ragged_idx
        if 0 in dims and r not in dims:
            raise RuntimeError(
                f"{op}(): reducing along the batch dimension but not the ragged dimension is not supported "
                "for nested tensors"
            )
        if r in dims and 0 not in dims and len(dims) > 1:
            raise RuntimeError(
                f"{op}(): reducing along a ragged and non-batch dimension is not supported for nested tensors"
            )
        if r in dims:  # over each component's length (and the batch): a dense result
            inner = [self._inner(d, op) for d in dims if d not in (0, r)]
            if 0 in dims:  # the batch and ragged dimensions together are the values' first
                return getattr(self._values, op)([0, *inner], keepdim=keepdim, **kwargs)
            fill = {"sum": 0.0, "mean": 0.0, "amax": -math.inf, "amin": math.inf}[op]
            padded = _pad(self._values, self._structure, fill)
            if op == "mean":
                lengths = tensor(self._structure.lengths(), device=self._values.device)
                total = padded.sum(1, keepdim=keepdim, **kwargs)
                result = total / lengths.reshape(-1, *([1] * (total.dim() - 1))).to(total.dtype)
            else:
                result = getattr(padded, op)(1, keepdim=keepdim, **kwargs)
            if keepdim and r != 1:
                result = result.movedim(1, r)
            return result
        values = getattr(self._values, op)([self._inner(d, op) for d in dims], keepdim=keepdim, **kwargs)
        return self._like(values, r - (0 if keepdim else sum(1 for d in dims if d < r)))

    # -- products ---------------------------------------------------------------------------------------
    def matmul(self, other: Tensor) -> NestedTensor:
        """``self @ other`` for a dense matrix ``other`` over the last dimension."""
        if isinstance(other, NestedTensor) or not is_strided(other) or other.dim() != 2:
            raise RuntimeError(
                f"matmul(): not supported between inputs of shapes {tuple(self.shape)} and "
                f"{tuple(getattr(other, 'shape', ()))}"
            )
        return self._like(self._values.matmul(other))

    __matmul__ = matmul

    # -- element-wise ---------------------------------------------------------------------------------
    def _unary(self, op: str, *args: Any, **kwargs: Any) -> NestedTensor:
        return self._like(getattr(self._values, op)(*args, **kwargs))

    def _binary(self, op: str, other: Any, reflected: bool = False) -> NestedTensor:
        other_values = _values_of(other, self, op)
        if not reflected:
            return self._like(getattr(self._values, op)(other_values))
        if is_strided(other_values):
            return self._like(getattr(other_values, op)(self._values))
        return self._like(getattr(self._values, _REFLECTED_DUNDERS.get(op, f"__r{op}__"))(other_values))


def _values_of(other: Any, like: NestedTensor, op: str) -> Any:
    """``other`` laid out as ``like``'s values: a nested tensor of the same structure gives its values, a
    number itself, a dense tensor broadcast to each row of the values (with its batch dimension, if any,
    picked per row)."""
    if isinstance(other, NestedTensor):
        if other._structure is not like._structure or other._ragged_idx != like._ragged_idx:
            raise RuntimeError(
                f"cannot call binary pointwise function {op} with inputs of shapes {tuple(like.shape)} and "
                f"{tuple(other.shape)}"
            )
        return other._values
    if not is_strided(other):
        return other
    n, r = like.dim(), like._ragged_idx
    if other.dim() > n:
        raise RuntimeError(
            f"{op}(): a dense tensor of shape {tuple(other.shape)} does not broadcast to the nested tensor "
            f"of shape {tuple(like.shape)}"
        )
    if other.dim() < n - r:  # only the dimensions right of the ragged one: broadcasts as it is
        return other
    full = other.reshape((1,) * (n - other.dim()) + tuple(other.shape))
    if full.shape[r] != 1 or full.shape[0] not in (1, len(like)):
        raise RuntimeError(
            f"{op}(): a dense tensor of shape {tuple(other.shape)} does not broadcast to the nested tensor "
            f"of shape {tuple(like.shape)}"
        )
    per_row = full.squeeze(r)  # (B or 1, inner...)
    if per_row.shape[0] == 1:
        return per_row
    batch, _ = like._structure.positions(like.device)
    return per_row[batch]


def _pad(values: Tensor, structure: _Structure, padding: float, length: int | None = None) -> Tensor:
    """``values`` (``(sum j_i, *inner)``) as a dense ``(B, L, *inner)`` filled with ``padding``, ``L`` the
    longest component's length (or ``length``)."""
    from ..ops.creation import full

    lengths = structure.lengths()
    length = max(max(lengths, default=0), length or 0)
    padded = full((len(lengths), length, *values.shape[1:]), padding, dtype=values.dtype, device=values.device)
    return padded.index_put(structure.positions(values.device), values)


def _unpad(padded: Tensor, structure: _Structure) -> Tensor:
    """The rows of a dense ``(B, L, *inner)`` that belong to the components: ``(sum j_i, *inner)``."""
    return padded[structure.positions(padded.device)]


_UNARY = (
    "abs", "neg", "relu", "sigmoid", "tanh", "exp", "log", "sqrt", "rsqrt", "sin", "cos", "square", "sign",
    "reciprocal", "floor", "ceil", "round", "trunc", "logical_not", "isnan", "isinf", "isfinite", "erf",
    "expm1", "log1p", "silu", "clamp", "clamp_min", "clamp_max", "nan_to_num", "bitwise_not",
)  # fmt: skip
_BINARY = (
    "add", "sub", "mul", "div", "pow", "remainder", "maximum", "minimum", "atan2", "eq", "ne", "lt", "le", "gt",
    "ge", "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor", "floor_divide",
)  # fmt: skip
#: the Tensor operator that computes ``number <op> tensor``
_REFLECTED_DUNDERS = {
    "div": "__rtruediv__", "remainder": "__rmod__", "floor_divide": "__rfloordiv__", "bitwise_and": "__rand__",
    "bitwise_or": "__ror__", "bitwise_xor": "__rxor__", "maximum": "maximum", "minimum": "minimum",
    "eq": "eq", "ne": "ne", "atan2": "__ratan2__",
}  # fmt: skip
_IN_PLACE = ("add_", "sub_", "mul_", "div_", "clamp_", "relu_", "zero_", "fill_", "copy_", "neg_", "abs_")


def _install() -> None:
    for name in _UNARY:
        setattr(NestedTensor, name, _unary_method(name))
    for name in _BINARY:
        setattr(NestedTensor, name, _binary_method(name))
    for name in _IN_PLACE:
        setattr(NestedTensor, name, _in_place_method(name))
    operators = {
        "add": "add", "sub": "sub", "mul": "mul", "truediv": "div", "pow": "pow", "mod": "remainder",
        "floordiv": "floor_divide", "and": "bitwise_and", "or": "bitwise_or", "xor": "bitwise_xor",
    }  # fmt: skip
    for dunder, name in operators.items():
        setattr(NestedTensor, f"__{dunder}__", _binary_method(name))
        setattr(NestedTensor, f"__r{dunder}__", _binary_method(name, reflected=True))
    for dunder, name in {"eq": "eq", "ne": "ne", "lt": "lt", "le": "le", "gt": "gt", "ge": "ge"}.items():
        setattr(NestedTensor, f"__{dunder}__", _binary_method(name))
    NestedTensor.__neg__ = _unary_method("neg")  # type: ignore[method-assign]
    NestedTensor.__abs__ = _unary_method("abs")  # type: ignore[method-assign]
    NestedTensor.__invert__ = _unary_method("bitwise_not")  # type: ignore[method-assign]
    NestedTensor.__hash__ = object.__hash__  # type: ignore[method-assign]


def _unary_method(name: str) -> Callable[..., NestedTensor]:
    def method(self: NestedTensor, *args: Any, **kwargs: Any) -> NestedTensor:
        return self._unary(name, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"``{name}`` of every element."
    return method


def _binary_method(name: str, reflected: bool = False) -> Callable[..., NestedTensor]:
    def method(self: NestedTensor, other: Any) -> NestedTensor:
        return self._binary(name, other, reflected)

    method.__name__ = name
    method.__doc__ = f"``{name}`` of every element with ``other`` (a nested tensor of the same structure, a number or a dense tensor that broadcasts)."
    return method


def _in_place_method(name: str) -> Callable[..., NestedTensor]:
    def method(self: NestedTensor, *args: Any, **kwargs: Any) -> NestedTensor:
        args = tuple(_values_of(a, self, name) for a in args)
        getattr(self._values, name)(*args, **kwargs)
        return self

    method.__name__ = name
    method.__doc__ = f"``{name}`` on the values, in place."
    return method


_install()
