"""Indexing: ``t[key]``, ``t[key] = v``, gather/scatter, index_select/index_add, masks, sort, topk."""

from __future__ import annotations

import functools
import numbers
import warnings
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np

from .. import dtypes, return_types
from ..amp.policy import cast_inputs
from ..amp.state import state as _amp
from ..autograd import function as autograd_function
from ..autograd import tangents
from ..autograd.function import Function
from ..autograd.grad_mode import grad_state
from ..layout import contiguous_format
from ..meta_errors import refuse_meta
from ..tensor import Tensor, tensor, writable_data
from ..type_names import type_name
from ._std_select import follows_cpu_kernels
from ._ties import kthvalue_ties_as_torch, sort_ties_as_torch, topk_ties_as_torch
from .arithmetic import _MaskedFill, _MaskedFillTensor, where_with_node
from .conversion import assign_, check_inplace, check_view_of_leaf_writable, zero_overwritten
from .creation import full
from .dtype_support import C_NAMES, FLOAT8, TORCH_NAMES, UNSIGNED_WIDE, not_implemented, refuse_limited
from .movement import broadcast_shapes, broadcast_tensors, cat, laid_out_like, ordered_copy, row_major
from .operands import (
    bool_arg_error,
    check_same_device,
    dim_or_axis,
    fill_value_for,
    invalid_combination,
    is_scalar,
    named_node,
    numpy_names,
    sum_to,
    tensor_input,
    wrap_dim,
)
from .out_argument import write_out
from .overlap import (
    aliases,
    check_arrays_no_partial_overlap,
    check_no_internal_overlap,
    check_no_overlap,
    check_no_partial_overlap,
    has_internal_overlap,
    shares_base,
)

if TYPE_CHECKING:
    from ..types import Number

__all__ = [
    "gather", "scatter", "scatter_add", "index_select", "index_add", "index_copy", "index_fill", "masked_fill",
    "masked_select", "masked_scatter", "nonzero", "argwhere", "sort", "argsort", "topk", "kthvalue",
    "take", "take_along_dim", "nonzero_static",
]  # fmt: skip


# -- keys ----------------------------------------------------------------------------------
def _sequence_as_tuple(key):
    """Whether a list index is read as a tuple of indices, by PyTorch's (NumPy's legacy) rule: a list
    of fewer than 32 items of which one is a tensor, a sequence, a slice, ``...`` or ``None``
    (``x[[[0, 1], [2, 0]]]`` is ``x[[0, 1], [2, 0]]``); a list of ints is one index."""
    return (
        isinstance(key, list)
        and len(key) < 32
        and any(isinstance(k, (Tensor, list, tuple, slice, np.ndarray)) or k is None or k is Ellipsis for k in key)
    )


_EVERYTHING = slice(None)
_INDEX_DTYPES = (dtypes.int64, dtypes.int32, dtypes.bool)  # and uint8, read as bool before the check


def check_index_put_dtype(self, key, value, *, accumulate=False):
    """PyTorch's refusal to write a tensor ``value`` of another dtype through a ``key`` that holds an
    integer index (a tensor or a sequence), or through any key when ``accumulate``: such a write is
    its ``index_put_``, which, unlike a write through slices or a bool mask, does not cast."""
    if value.dtype is self.dtype:
        return
    for k in key if isinstance(key, tuple) else (key,):
        if (
            accumulate
            or isinstance(k, Tensor)
            and k.dtype is not dtypes.bool
            and k.dtype is not dtypes.uint8
            or (isinstance(k, (list, np.ndarray)) and np.asarray(k).dtype.kind in "iu")
        ):
            raise RuntimeError(
                "Index put requires the source and destination dtypes match, got "
                f"{TORCH_NAMES[self.dtype]} for the destination and {TORCH_NAMES[value.dtype]} for the source."
            )


def _is_integer_scalar(k: object) -> bool:
    """Whether ``k`` is a NumPy integer, or a 0-d integer tensor or array (bool and uint8 ones are masks)."""
    if isinstance(k, Tensor):
        kind = k.dtype
        return k.ndim == 0 and not (kind.is_floating_point or kind.is_complex or kind in (dtypes.bool, dtypes.uint8))
    if isinstance(k, np.ndarray):
        return k.ndim == 0 and k.dtype.kind in "iu" and k.dtype != np.uint8
    return isinstance(k, np.integer)


def _only_index_is_byte_mask(key: object) -> bool:
    """Whether the one tensor index of ``key`` is a uint8 mask (the others ints, slices, None or ...)."""
    indices = [k for k in (key if isinstance(key, tuple) else (key,)) if isinstance(k, (Tensor, list, np.ndarray))]
    return (
        len(indices) == 1
        and isinstance(indices[0], Tensor)
        and indices[0].dtype is dtypes.uint8
        and indices[0].ndim > 0
    )


def _as_tuple(key, stacklevel):
    """``key`` as a tuple of indices; a list read as a tuple (see :func:`_sequence_as_tuple`) warns."""
    if isinstance(key, tuple):
        return key
    if _sequence_as_tuple(key):
        warnings.warn(
            "Using a non-tuple sequence for multidimensional indexing is deprecated; use x[tuple(seq)] "
            "instead of x[seq] (PyTorch's warning: its later releases read the list as one tensor index).",
            UserWarning,
            stacklevel=stacklevel,
        )
        return tuple(key)
    return (key,)


def _is_bool_scalar(k: object) -> bool:
    """Whether ``k`` is ``True``/``False`` or a 0-d bool (or uint8) tensor: to PyTorch a new
    dimension, indexed by ``[0]`` (true) or ``[]`` (false)."""
    if isinstance(k, Tensor):
        return k.ndim == 0 and (k.dtype is dtypes.bool or k.dtype is dtypes.uint8)
    return isinstance(k, (bool, np.bool_))


def _dims_indexed(k: object) -> int:
    """How many dimensions of the indexed tensor ``k`` consumes, as PyTorch counts them to expand
    ``...``: none for None, ``...`` and bools, a mask's rank for a bool or uint8 mask, else one."""
    if k is None or k is Ellipsis or isinstance(k, (bool, np.bool_)):
        return 0
    if isinstance(k, Tensor):
        return k.ndim if k.dtype is dtypes.bool or k.dtype is dtypes.uint8 else 1
    if isinstance(k, (list, np.ndarray)):
        array = np.asarray(k)
        return array.ndim if array.dtype == np.bool_ else 1
    return 1


def _is_advanced(k: object) -> bool:
    """Whether ``k`` indexes as an advanced index to PyTorch (a tensor, array or sequence that is not a
    0-d integer, or a bool)."""
    if isinstance(k, (Tensor, np.ndarray)):
        return not _is_integer_scalar(k)
    return isinstance(k, (list, tuple, bool, np.bool_))


def _selects_first(x, key):
    """PyTorch's reading of a ``key`` that mixes integer indices with advanced ones: the ints select
    first (views), so only the remaining indices are advanced when their result's dimensions are
    placed (``zeros(2, 3, 4)[0, :, [1, 2]]`` is of shape (3, 2); NumPy, which counts the int as an
    advanced index separated from the list by the slice, gives (2, 3)). Returns the basic key and
    the advanced key to apply after it, or None for a key NumPy reads as PyTorch does."""
    selects, advanced_at, basic_at = [], [], []  # positions of the ints, advanced and other indices
    for position, k in enumerate(key):  # the common keys (slices, ints, None) told apart by their type alone
        kind = type(k)
        if kind is slice or k is None or k is Ellipsis:
            basic_at.append(position)
        elif kind is int or _is_integer_scalar(k):
            selects.append(position)
        elif _is_advanced(k):
            advanced_at.append(position)
    if not selects or not advanced_at:
        return None
    # NumPy's reading differs only where the ints' positions separate the advanced indices that PyTorch
    # keeps together (or move their block): a basic index between the ints and advanced indices, none
    # between the advanced indices themselves
    first, last = min(selects[0], advanced_at[0]), max(selects[-1], advanced_at[-1])
    if not any(first < b < last for b in basic_at) or any(advanced_at[0] < b < advanced_at[-1] for b in basic_at):
        return None
    basic, advanced = [], []
    for k in key:
        if _is_bool_scalar(k):  # an unsqueeze, then [0] (true) or [] (false) along the new dimension
            basic.append(None)
            taken = bool(k.item()) if isinstance(k, Tensor) else bool(k)
            advanced.append(tensor([0] if taken else [], dtype=dtypes.int64, device=x._device))
        elif _is_advanced(k):
            basic.extend([_EVERYTHING] * _dims_indexed(k))
            advanced.append(k)
        elif k is Ellipsis:
            basic.append(k)
            advanced.append(k)
        elif k is None or isinstance(k, slice):
            basic.append(k)
            advanced.append(_EVERYTHING)
        else:  # an integer: selected in the basic key, gone from the advanced one
            basic.append(k)
    return tuple(basic), tuple(advanced)


def _native_key(x, key):
    """Translate a Python/tensor index into the backend's; report whether it is advanced, and the node
    class of ``x[key]`` (named as PyTorch's last op for it: select, slice, unsqueeze, alias or index)."""
    key = _as_tuple(key, stacklevel=4)
    out, advanced, consumed, basic = [], False, 0, _AliasIndex
    for k in key:
        if isinstance(k, bool):  # a 0-d mask, as PyTorch reads it: a new dim of size 1 (True) or 0 (False)
            k = tensor(k, device=x._device)
        elif _is_integer_scalar(k):  # a 0-d integer tensor or array selects as an int does: a view
            k = int(k.item())
        if isinstance(k, int):
            size = x.shape[consumed] if consumed < x.ndim else None
            if size is None:
                raise IndexError(f"too many indices for tensor of dimension {x.ndim}")
            if not -size <= k < size:
                raise IndexError(f"index {k} is out of bounds for dimension {consumed} with size {size}")
            out.append(k)
            consumed += 1
            basic = _SelectIndex
        elif isinstance(k, slice):
            if k.step is not None and k.step <= 0:
                raise ValueError("step must be greater than zero")
            if k != _EVERYTHING:  # ``:`` is no op in PyTorch's graph
                basic = _SliceIndex
            out.append(k)
            consumed += 1
        elif k is None or k is Ellipsis:
            out.append(k)
            if k is None:
                basic = _UnsqueezeIndex
            else:
                consumed = x.ndim - sum(_dims_indexed(j) for j in key) + consumed
        else:
            if not isinstance(k, Tensor):
                sequence = isinstance(k, (list, tuple))
                try:
                    k = tensor(k, device=x._device)
                except TypeError:
                    raise TypeError(f"invalid index type {type(k).__name__}") from None
                if sequence and k.dtype.is_floating_point:  # PyTorch reads a list of numbers as int64 ([] too)
                    k = k.to(dtypes.int64)
            if k._device.type == "cpu" and x._device.type != "cpu":  # PyTorch moves a CPU index to the device
                k = k.to(x._device)
            check_same_device("index", x, k)
            if k.dtype is dtypes.uint8:
                if k.ndim:
                    warnings.warn(
                        "indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool instead.",
                        UserWarning,
                        stacklevel=3,
                    )
                k = k.to(dtypes.bool)
            if k.dtype not in _INDEX_DTYPES:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if k.dtype is dtypes.bool:
                dims = k.ndim
                shape = tuple(x.shape[consumed : consumed + dims])
                if tuple(k.shape) != shape:
                    raise IndexError(
                        f"The shape of the mask {list(k.shape)} at index {consumed} does not match the "
                        f"shape of the indexed tensor {list(x.shape)} at index {consumed}"
                    )
                consumed += dims
            else:
                consumed += 1
            out.append(k._data)
            advanced = True
    if consumed > x.ndim:
        raise IndexError(f"too many indices for tensor of dimension {x.ndim}")
    if not any(k is Ellipsis for k in out):
        out.append(Ellipsis)
    return tuple(out), advanced, _Index if advanced else basic


def _index_out_of_bounds(x, key):
    """PyTorch's IndexError for the first index tensor of the native ``key`` holding an index outside its
    dimension of ``x``: "index 3 is out of bounds for dimension 0 with size 3", the dimension counted among the
    index tensors (``x[:, [3]]`` names dimension 0, as PyTorch's); None where no index is outside (read on
    the error path only, where the backend's own error would name NumPy's axis or nothing)."""
    parts = [k if k is None or k is Ellipsis or isinstance(k, (int, slice)) else x._backend.to_host(k) for k in key]
    spanned = [
        0 if k is None or k is Ellipsis else 1 if isinstance(k, (int, slice)) or k.dtype.kind != "b" else k.ndim
        for k in parts
    ]
    consumed = tensors = 0
    for k, span in zip(parts, spanned):
        if k is Ellipsis:
            consumed += x.ndim - sum(spanned)
        elif k is None:
            continue
        elif isinstance(k, (int, slice)):
            consumed += 1
        elif k.dtype.kind == "b":
            consumed += span
            tensors += span
        else:
            host = k
            size = x.shape[consumed]
            outside = host[(host < -size) | (host >= size)]
            if outside.size:
                return IndexError(
                    f"index {int(outside.flat[0])} is out of bounds for dimension {tensors} with size {size}"
                )
            consumed += 1
            tensors += 1
    return None


def _read_indexed(x, key):
    """``x``'s data at the native ``key``, with PyTorch's error for an index outside its dimension."""
    try:
        return writable_data(x)[key]
    except IndexError as error:
        translated = _index_out_of_bounds(x, key)
        if translated is None:
            raise
        raise translated from error


class _Index(Function):
    @staticmethod
    def forward(ctx, x, key, advanced):
        ctx.shape, ctx.key, ctx.advanced = x.shape, key, advanced
        data = _read_indexed(x, key) if advanced else writable_data(x)[key]
        if advanced and not x._backend.is_contiguous(data):
            data = row_major(x._backend, data)  # PyTorch lays an advanced index out row-major
        if advanced:
            return x._make(data)
        if None in key or not data.size:
            data = _with_indexed_strides(x, key, data)
        return x._view_of(data, lambda base: _Index.apply(base, key, False))

    @staticmethod
    def backward(ctx, grad):
        return _IndexAccumulate.apply(grad, ctx.shape, ctx.key, ctx.advanced), None, None


def _with_indexed_strides(x, key, data):
    """``data``, ``x[key]`` for a basic ``key`` holding None or selecting no element, with the strides
    and storage offset PyTorch's indexing gives it where NumPy's differ: a new axis (NumPy's steps 0) is
    unsqueezed before the source dimension after it is indexed, and steps over that whole dimension (size
    times stride; 1 when none is left); a slice steps by its step times the source's stride, an empty one
    too (NumPy's steps by the source's stride), and moves the offset to its start, an empty one too (NumPy's
    stays where it was, and PyTorch's may end up past the end of the storage). Left as it is where the
    backend makes no strided views."""
    backend = x._backend
    shape, (source, start) = x.shape, backend.layout(writable_data(x))
    strides, offset = backend.layout(data)
    fixed = list(strides)
    span = len(shape) - sum(1 for k in key if k is not None and k is not Ellipsis)  # the dimensions ... covers
    position = dim = 0
    for k in key:
        if k is None:
            fixed[position] = shape[dim] * source[dim] if dim < len(shape) else 1
            position += 1
        elif k is Ellipsis:
            position, dim = position + span, dim + span
        elif isinstance(k, slice):
            fixed[position] = source[dim] * (1 if k.step is None else k.step)
            start += k.indices(shape[dim])[0] * source[dim]
            position, dim = position + 1, dim + 1
        else:
            start += k % shape[dim] * source[dim]
            dim += 1
    if fixed == list(strides) and start == offset:
        return data
    try:
        return backend.as_strided(data, tuple(data.shape), tuple(fixed), start)
    except NotImplementedError:
        return data


# ``x[key]`` with basic indices only, its node named as PyTorch's last op for the key
class _SelectIndex(_Index):
    _backward_name = "SelectBackward0"


class _SliceIndex(_Index):
    _backward_name = "SliceBackward0"


class _UnsqueezeIndex(_Index):
    _backward_name = "UnsqueezeBackward0"


class _IndexSelect(_Index):
    """``index_select``: ``x[..., index]`` along one dimension."""


class _MaskedSelect(_Index):
    """``masked_select``: ``x[mask]`` with a mask of ``x``'s shape."""


class _AliasIndex(_Index):
    """A key of full slices and ``...``: the whole tensor, as a new view."""

    _backward_name = "AliasBackward0"


def _flat_positions(backend, shape, key):
    """The flat offsets of the elements ``zeros(shape)[key]`` selects, in selection order."""
    xp = backend.xp
    n = 1
    for s in shape:
        n *= s
    positions = xp.reshape(xp.arange(n, dtype=backend.native_dtype(dtypes.int64)), shape)[key]
    return xp.reshape(positions, (-1,))


class _IndexAccumulate(Function):
    """``zeros(shape)[key] += values``, accumulating over repeated indices."""

    @staticmethod
    def forward(ctx, values, shape, key, advanced):
        ctx.key, ctx.advanced = key, advanced
        backend = values._backend
        xp = backend.xp
        out = xp.zeros(shape, dtype=values._data.dtype)
        if not advanced:
            out[key] = values._data
            return values._make(out)
        flat = xp.reshape(out, (-1,))
        positions = _flat_positions(backend, shape, key)
        backend.scatter_add(flat, 0, positions, xp.reshape(values._data, (-1,)))
        return values._make(xp.reshape(flat, shape))

    @staticmethod
    def backward(ctx, grad):
        return _Index.apply(grad, ctx.key, ctx.advanced), None, None, None


def getitem(self, key):
    """``self[key]``: basic indexing gives a view; tensors and lists index advanced (copies)."""
    if isinstance(key, (tuple, list)):
        key = _as_tuple(key, stacklevel=3)
        split = _selects_first(self, key)
        if split is not None:
            return getitem(getitem(self, split[0]), split[1])
    native, advanced, node = _native_key(self, key)
    return node.apply(self, native, advanced)


class _SetItem(Function):
    """``x[key] = value`` with basic indices: a write into the region a view of ``x`` covers."""

    _backward_name = "torch::autograd::CopySlices"

    @staticmethod
    def forward(ctx, x, value, key):
        try:
            writable_data(x)[key] = value._data
        except IndexError as error:  # PyTorch's message for an index outside its dimension
            translated = _index_out_of_bounds(x, key)
            if translated is None:
                raise
            raise translated from error
        ctx.key, ctx.value_shape = key, value.shape
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = zero_overwritten(grad, lambda mask: mask._data.__setitem__(ctx.key, True))
        if ctx.needs_input_grad[1]:
            gv = sum_to(_Index.apply(grad, ctx.key, True), ctx.value_shape)
        return gx, gv, None


class _IndexPut(_SetItem):
    """``x[key] = value`` with advanced indices."""

    _backward_name = "IndexPutBackward0"


def setitem(self, key, value):
    """``self[key] = value`` in place; ``value`` broadcasts and is cast to ``self.dtype``."""
    if type(value) is int and not -(1 << 63) <= value < 1 << 63:  # PyTorch unpacks an int as a C long long first
        raise ValueError("Overflow when unpacking long long")
    _write_item(self, key, value)
    if autograd_function.tangent_rule is not None:
        tangents.write_tangent(self, value, key)


def _refuse_limited_index_put(self, key, value):
    """PyTorch's refusal of an indexed write into uint16/32/64 or float8: a number through a bool mask
    is its masked_fill (no kernel for either family), anything else its index_put (none for the
    unsigned types)."""
    if isinstance(key, Tensor) and key.dtype is dtypes.bool and not isinstance(value, Tensor):
        not_implemented("masked_fill", self.dtype)
    refuse_limited("index_put", self, among=UNSIGNED_WIDE)


def _write_item(self, key, value):
    if isinstance(key, (tuple, list)):
        key = _as_tuple(key, stacklevel=4)
        split = _selects_first(self, key)
        if split is not None:
            _write_item(getitem(self, split[0]), split[1], value)
            return
    native, advanced, node = _native_key(self, key)
    if (not isinstance(value, Tensor) or value.numel() == 1) and _only_index_is_byte_mask(key):
        # PyTorch fills through masked_fill_ here, which refuses the deprecated uint8 mask
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype unsigned char")
    if advanced and self.dtype in dtypes.limited_dtypes:
        _refuse_limited_index_put(self, key, value)
    if isinstance(value, Tensor):
        if (
            value.ndim == 0 and value._device.type == "cpu"
        ):  # PyTorch writes a 0-d CPU value into a tensor of any device
            value = value.to(self._device)
        check_same_device("index_put_", self, value)
        if shares_base(self, value):  # PyTorch refuses a value that is part of the memory written
            check_arrays_no_partial_overlap(self._backend, self._data if advanced else self._data[native], value._data)
        if value.dtype is not self.dtype:
            check_index_put_dtype(self, key, value)
            value = value.to(self.dtype)
    elif not is_scalar(value) or (
        isinstance(value, np.generic) and not isinstance(value, (float, complex, np.integer))
    ):
        # PyTorch writes tensors and numbers only (no list, tuple or array), and of NumPy's scalars those
        # that are Python floats (float64, complex128) or integers: float32, float16, bool, complex64 raise
        kind = type(value)
        name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
        raise TypeError(f"can't assign a {name} to a {self.type()}")
    else:  # a number is stored as a fill value (-1 is 255 in uint8; 300 in int8 raises, as in PyTorch)
        value = fill_value_for(value, self.dtype)
        if self.dtype in FLOAT8:  # rounded into float8 as PyTorch rounds (NumPy's ml_dtypes rounds its own way)
            value = full((), value, dtype=self.dtype, device=self._device)
    recording = grad_state.enabled and (self.requires_grad or (isinstance(value, Tensor) and value._requires_grad))
    if recording:
        if self._base is None and not advanced and node is not _AliasIndex:  # a write into a view of self
            check_view_of_leaf_writable(self)
        check_inplace(self)
        if not isinstance(value, Tensor):
            value = full((), value, dtype=self.dtype, device=self._device)
        if self._base is not None and self._view_replay is not None:
            # a write into a view: compute the view's new values, then write them through the base
            updated = self.clone()
            _SetItem.apply(updated, value, native)
            assign_(self, updated)
            return
        (_IndexPut if advanced else _SetItem).apply(self, value, native)
        return
    if self._base is not None and not advanced and has_internal_overlap(self):
        # PyTorch writes into a basic-indexed region as a copy into that view: refused when the
        # region's own elements alias each other
        region = self._data[native]
        if aliases(region.shape, self._backend.strides(region)):
            check_no_internal_overlap(self)
    try:
        writable_data(self)[native] = value._data if isinstance(value, Tensor) else value
    except IndexError as error:  # PyTorch's message for an index outside its dimension
        translated = _index_out_of_bounds(self, native)
        if translated is None:
            raise
        raise translated from error
    except ValueError as exc:  # the backend's words for a value that does not broadcast to the target
        if not getattr(getattr(self._data, "flags", None), "writeable", True):
            raise RuntimeError(
                "index_put_: the tensor's memory is read-only (it shares a non-writable NumPy array, from "
                "from_numpy or as_tensor); write to a copy (tensor.clone())"
            ) from None
        raise RuntimeError(
            f"index_put_: a value of shape {list(value.shape) if isinstance(value, Tensor) else []} does not "
            f"broadcast to the indexed shape of a tensor of shape {list(self.shape)}: {exc}"
        ) from None
    self._version_counter.value += 1


# -- gather / scatter ----------------------------------------------------------------------
def _check_index(op, input, dim, index, src=None):
    """PyTorch's checks of ``gather``/``scatter``/``scatter_add``: an integer ``index`` of ``input``'s
    rank, on its device, no larger than ``input`` outside ``dim`` nor than ``src`` (when given), with
    values in range along ``dim``. Returns ``dim`` wrapped."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type_name(index)}")
    check_same_device(op, input, index)
    if (
        index.dtype is not dtypes.int64
        and index.dtype is not dtypes.int32
        and (index.numel() or index.dtype.is_floating_point)
    ):
        raise RuntimeError(f"{'gather' if op == 'gather' else 'scatter'}(): Expected dtype int32/int64 for index")
    axis = wrap_dim(dim, input.ndim)
    if index.ndim != input.ndim and index.numel() and input.ndim:
        raise RuntimeError(
            f"Index tensor must have the same number of dimensions as {'input' if op == 'gather' else 'self'} tensor"
        )
    if src is not None and index.numel() and max(index.ndim, 1) != max(src.ndim, 1):
        check_src_rank(input, axis, index, src)
    sizes = input.shape if input.ndim else (1,)
    for d in range(index.ndim if index.numel() else 0):
        beyond_self = d != axis and d < len(sizes) and index.shape[d] > sizes[d]
        if src is not None and (beyond_self or index.shape[d] > (src.shape[d] if src.ndim else 1)):
            raise RuntimeError(
                f"Expected index {list(index.shape)} to be no larger than self {list(input.shape)} apart from "
                f"dimension {axis} and to be no larger size than src {list(src.shape)}"
            )
        if beyond_self:
            raise RuntimeError(
                f"Size does not match at dimension {d} expected index {list(index.shape)} to be no "
                f"larger than self {list(input.shape)} apart from dimension {axis}"
            )
    if index.numel():  # the backend may check on the device and report at its next sync (CUDA)
        size = sizes[axis]
        message = f"{op}(): index {{value}} is out of bounds for dimension {axis} with size {size}"
        index._backend.check_indices(op, index._data, size, None, RuntimeError, message)
    return axis


def check_src_rank(input: Tensor, axis: int, index: Tensor, src: Tensor) -> None:
    """PyTorch's error for a scatter's ``src`` of another rank than ``index``: an IndexError where ``src``
    has fewer dimensions and ``index`` fits in ``input`` outside ``axis`` (PyTorch then reads ``src``'s size
    along a dimension it lacks), else a RuntimeError."""
    rank = src.ndim
    fits = all(n <= m for d, (n, m) in enumerate(zip(index.shape, input.shape)) if d != axis)
    if 0 < rank < index.ndim and fits:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got {rank})")
    raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")


_LONG = (dtypes.int64,)
_INT_OR_LONG = (dtypes.int64, dtypes.int32)


def _check_index_dtype(index, accepted, error, message):
    """Raise ``error(message)`` unless ``index``'s dtype is one of ``accepted``: each indexing op of
    PyTorch takes its own set and words its own message (``{dtype}`` is the index's dtype, named as
    PyTorch names it)."""
    if index.dtype not in accepted:
        raise error(message.format(dtype=TORCH_NAMES[index.dtype]))


def _on_0d(fn, input, index, *tensors):
    """``fn`` applied to the 1-element 1-D views of a 0-d ``input``, ``index`` and ``tensors``; the
    result is shaped like the index (PyTorch treats a 0-d tensor as size 1 along dim 0)."""
    flat = [t.reshape(-1) if isinstance(t, Tensor) else t for t in tensors]
    out = fn(input.reshape(1), 0, index.reshape(-1), *flat)
    return out.reshape(index.shape if index.ndim <= 1 and index.numel() != 1 else ())


def _leading_slices(index_shape):
    return tuple(slice(0, s) for s in index_shape)


class _Gather(Function):
    @staticmethod
    def forward(ctx, x, axis, index):
        ctx.shape, ctx.axis = x.shape, axis
        ctx.save_for_backward(index)
        xp = x._backend.xp
        key = list(_leading_slices(index.shape))
        key[axis] = slice(None)
        data = xp.take_along_axis(x._data[tuple(key)], index._data, axis=axis)
        if not x._backend.is_contiguous(data):  # PyTorch's gather is row-major whatever the layouts
            data = row_major(x._backend, data)
        return x._make(data)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        zeros = grad.new_zeros(ctx.shape)
        return zeros.scatter_add(ctx.axis, index, grad), None, None


@dim_or_axis
def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False, out: Tensor | None = None) -> Tensor:
    """``out[i][j][k] = input[i][index[i][j][k]][k]`` for ``dim == 1`` (and likewise for others).

    Args:
        input (Tensor): the input tensor.
        dim (int): the dimension to gather along.
        index (Tensor): the int64 indices; the result has its shape.
        sparse_grad (bool): accepted for PyTorch compatibility; the gradient is dense. Default: ``False``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> x = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> ember.gather(x, 1, ember.tensor([[1, 0], [0, 0]]))
        tensor([[2., 1.],
                [3., 3.]])
    """
    refuse_limited("scatter_gather_tensor_cpu", input)
    if out is not None:
        check_no_overlap(out, input)
        return write_out("gather", gather(input, dim, index, sparse_grad=sparse_grad), out, exact_dtype=True)
    axis = _check_index("gather", input, dim, index)
    if input.ndim == 0:
        return _on_0d(gather, input, index).reshape(index.shape)
    if not index.numel():  # an empty index of any rank gathers nothing
        return _Gather.apply(input.reshape(-1), 0, index.reshape(-1)).reshape(index.shape)
    return _Gather.apply(input, axis, index)


def take_along_dim(
    input: Tensor, indices: Tensor, dim: int | None = None, *, out: Tensor | None = None, axis: int | None = None
) -> Tensor:
    """Gather along ``dim`` with ``indices`` and ``input`` broadcast against each other in the
    other dimensions (both flattened when ``dim`` is None).

    Args:
        input (Tensor): the input tensor.
        indices (Tensor): the int64 indices along ``dim``.
        dim (int, optional): the dimension to gather along; the flattened tensors when ``None``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.

    Example::

        >>> x = ember.tensor([[10.0, 30.0, 20.0], [60.0, 40.0, 50.0]])
        >>> ember.take_along_dim(x, ember.argsort(x, dim=1), dim=1)
        tensor([[10., 20., 30.],
                [40., 50., 60.]])
        >>> ember.take_along_dim(x, ember.tensor([0, 5]))
        tensor([10., 50.])
    """
    refuse_limited("scatter_gather_tensor_cpu", input)
    if axis is not None:
        dim, _ = numpy_names("take_along_dim", dim, None, axis, False, None)
    if out is not None:
        return write_out("take_along_dim", take_along_dim(input, indices, dim), out, exact_dtype=True)
    if isinstance(indices, Tensor) and indices.dtype is not dtypes.int64:
        raise RuntimeError(
            f"torch.take_along_dim(): dtype of indices should be Long but got {TORCH_NAMES[indices.dtype]}"
        )
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    if input.ndim != indices.ndim:
        raise RuntimeError(
            f"torch.take_along_dim(): input and indices should have the same number of dimensions, but got "
            f"{input.ndim} dimensions for input, and {indices.ndim} dimensions for indices"
        )
    axis = wrap_dim(dim, input.ndim)
    if input.shape[axis] and indices.numel():  # PyTorch reads the indices modulo the size (-1 is the last)
        indices = indices.remainder(input.shape[axis])
    common = list(
        broadcast_shapes(*(tuple(1 if d == axis else s for d, s in enumerate(t.shape)) for t in (input, indices)))
    )
    return gather(
        input.expand(common[:axis] + [input.shape[axis]] + common[axis + 1 :]),
        axis,
        indices.expand(common[:axis] + [indices.shape[axis]] + common[axis + 1 :]),
    )


class _ScatterAdd(Function):
    @staticmethod
    def forward(ctx, x, axis, index, src):
        return _scatter_forward(ctx, x, axis, index, src, accumulate=True)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        gsrc = _src_gradient(grad, ctx.axis, index, ctx.src_shape) if ctx.needs_input_grad[3] else None
        return grad, None, None, gsrc


def _src_gradient(grad, axis, index, src_shape):
    """The gradient of a scatter's ``src``: ``grad`` at the positions ``index`` addresses, and zero for
    the part of ``src`` beyond ``index``'s shape, which the scatter does not read."""
    picked = grad.gather(axis, index)
    for d, (have, want) in enumerate(zip(picked.shape, src_shape)):
        if have != want:
            picked = cat([picked, picked.new_zeros((*picked.shape[:d], want - have, *picked.shape[d + 1 :]))], d)
    return picked


@dim_or_axis
def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``input`` with ``src`` added at ``index`` along ``dim`` (repeated indices accumulate).

    Args:
        input (Tensor): the input tensor.
        dim (int): the dimension to scatter along.
        index (Tensor): the int64 indices to add at.
        src (Tensor): the values to add.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.scatter_add(ember.zeros(3), 0, ember.tensor([0, 2, 0]), ember.tensor([1.0, 2.0, 3.0]))
        tensor([4., 0., 2.])
    """
    refuse_limited("scatter_gather_tensor_cpu", input)
    if out is not None:
        return write_out(
            "scatter_add",
            scatter_add(input, dim, index, src),
            out,
            exact_dtype=True,
            inputs=(input,),
            apart=(index, src),
        )
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' (position 4) must be Tensor, not {type_name(src)}")
    check_same_device("scatter_add", input, src)
    axis = _check_index("scatter_add", input, dim, index, src)
    if src.dtype is not input.dtype:
        raise RuntimeError(
            f"scatter(): Expected self.dtype to be equal to src.dtype ({TORCH_NAMES[input.dtype]} vs {TORCH_NAMES[src.dtype]})"
        )
    if not index.numel():  # an empty index of any rank scatters nothing
        return _scatter_nothing(_ScatterAdd, input, index, src)
    if input.ndim == 0:
        return _on_0d(scatter_add, input, index, src).reshape(())
    return _ScatterAdd.apply(input, axis, index, src)


def _scatter_nothing(node, input, index, src):
    """The copy of ``input`` that an empty ``index`` (of any rank) scatters into, row-major as PyTorch's scatter
    results; a ``src`` that requires grad goes through ``node`` on flat views, so that the result keeps its
    graph (a zero gradient for ``src``)."""
    if src is None or not src.requires_grad:
        return input.clone(memory_format=contiguous_format)
    return node.apply(input.reshape(-1), 0, index.reshape(-1), src.reshape(-1)[:0]).reshape(input.shape)


class _Scatter(Function):
    @staticmethod
    def forward(ctx, x, axis, index, src):
        return _scatter_forward(ctx, x, axis, index, src, accumulate=False)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        gx = grad.scatter(ctx.axis, index, 0) if ctx.needs_input_grad[0] else None
        gsrc = _src_gradient(grad, ctx.axis, index, ctx.src_shape) if ctx.needs_input_grad[3] else None
        return gx, None, None, gsrc


class _ScatterValue(_Scatter):
    """``scatter`` of a number (PyTorch's ``scatter.value``)."""

    _backward_name = "ScatterBackward1"


def _scatter_forward(ctx, x, axis, index, src, accumulate):
    """The forward of scatter (``accumulate=False``) and scatter_add: a copy of ``x`` with the ``src`` values
    (its part under ``index``'s shape) written, or added, at the positions ``index`` addresses along ``axis``."""
    ctx.axis, ctx.src_shape = axis, src.shape
    ctx.save_for_backward(index)
    xp = x._backend.xp
    flat = xp.reshape(xp.astype(x._data, x._data.dtype, copy=True), (-1,))
    positions = _scatter_positions(x._backend, x.shape, axis, index._data)
    values = xp.reshape(src._data[tuple(_leading_slices(index.shape))], (-1,))
    if accumulate:
        x._backend.scatter_add(flat, 0, positions, values)
    else:
        flat[positions] = values
    return x._make(xp.reshape(flat, x.shape))


def _scatter_positions(backend, shape, axis, index):
    """Flat offsets in a tensor of ``shape`` addressed by ``index`` along ``axis``."""
    xp = backend.xp
    long = backend.native_dtype(dtypes.int64)
    strides = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    offsets = xp.astype(index, long) * strides[axis]
    for d, size in enumerate(index.shape):
        if d == axis:
            continue
        view = [1] * len(index.shape)
        view[d] = size
        offsets = offsets + xp.reshape(xp.arange(size, dtype=long) * strides[d], view)
    return xp.reshape(offsets, (-1,))


@dim_or_axis
def scatter(
    input: Tensor,
    dim: int,
    index: Tensor,
    src: Tensor | Number | None = None,
    value: Number | None = None,
    *,
    reduce: str | None = None,
    out: Tensor | None = None,
) -> Tensor:
    """``input`` with ``src`` (or the scalar ``value``) written at ``index`` along ``dim``.

    ``reduce='add'`` accumulates (like :func:`scatter_add`); ``'multiply'`` multiplies.

    Args:
        input (Tensor): the input tensor.
        dim (int): the dimension to scatter along.
        index (Tensor): the int64 indices to write at.
        src (Tensor, optional): the values to write.
        value (Number, optional): one value to write instead of ``src``.
        reduce (str, optional): ``'add'`` or ``'multiply'`` to combine with the existing values instead of replacing
            them.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.scatter(ember.zeros(2, 3), 1, ember.tensor([[2], [0]]), ember.tensor([[5.0], [6.0]]))
        tensor([[0., 0., 5.],
                [6., 0., 0.]])
        >>> ember.scatter(ember.zeros(3), 0, ember.tensor([1]), value=9.0)
        tensor([0., 9., 0.])
    """
    refuse_limited("scatter_gather_tensor_cpu", input)
    if out is not None:
        return write_out(
            "scatter",
            scatter(input, dim, index, src, value, reduce=reduce),
            out,
            exact_dtype=True,
            inputs=(input,),
            apart=(index, src),
        )
    if src is None and value is None:
        raise TypeError("scatter(): expected src or value")
    if src is not None and not isinstance(src, Tensor):
        value, src = src, None
    axis = _check_index("scatter", input, dim, index, src)
    if src is not None and (check_same_device("scatter", input, src) or src.dtype is not input.dtype):
        raise RuntimeError(
            f"scatter(): Expected self.dtype to be equal to src.dtype ({TORCH_NAMES[input.dtype]} vs {TORCH_NAMES[src.dtype]})"
        )
    if not index.numel():  # an empty index of any rank scatters nothing
        return _scatter_nothing(_Scatter, input, index, src)
    if input.ndim == 0:
        return _on_0d(lambda x, d, i, s: scatter(x, d, i, s, value, reduce=reduce), input, index, src).reshape(())
    node = _ScatterValue if src is None else _Scatter
    if src is None:
        src = input.new_full(index.shape, value)  # type: ignore[arg-type]  # given when src is not
    if reduce == "add":
        return _ScatterAdd.apply(input, axis, index, src)
    if reduce == "multiply":  # repeated indices multiply each factor in, as they add for "add"
        return input.scatter_reduce(axis, index, src, "prod")
    if reduce is not None:
        raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
    return node.apply(input, axis, index, src)


@dim_or_axis
def index_select(input: Tensor, dim: int, index: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Rows (along ``dim``) of ``input`` picked by the 1-D ``index``.

    Args:
        input (Tensor): the input tensor.
        dim (int): the dimension to index.
        index (Tensor): the 1-D indices along ``dim``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> x = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> ember.index_select(x, 0, ember.tensor([1, 1, 0]))
        tensor([[3., 4.],
                [3., 4.],
                [1., 2.]])
    """
    if type(input) is not Tensor and getattr(input, "is_sparse", False):
        return input.index_select(dim, index)  # a sparse COO tensor's own
    refuse_limited("index_select", input, among=UNSIGNED_WIDE)
    if out is not None:
        check_no_overlap(out, input)
        return write_out("index_select", index_select(input, dim, index), out, exact_dtype=True, apart=(index,))
    axis = wrap_dim(dim, input.ndim)
    if not isinstance(index, Tensor):
        raise TypeError(f"index_select(): argument 'index' must be Tensor, not {type_name(index)}")
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    _check_index_dtype(index, _INT_OR_LONG, RuntimeError, "index_select(): Expected dtype int32 or int64 for index")
    check_same_device("index_select", input, index)
    if input.ndim == 0:
        return _on_0d(index_select, input, index)
    key = (slice(None),) * axis + (index.reshape(-1)._data, Ellipsis)
    message = f"index out of range in self (index {{value}} for dimension {axis} with size {input.shape[axis]})"
    input._backend.check_indices("index_select", index._data, input.shape[axis], None, IndexError, message)
    return _IndexSelect.apply(input, key, True)


def _check_index_source(op, input, dim, index, source, index_problem, accepted, dtype_problem):
    """The checks of ``index_add``/``index_copy``: a 1-D index of an ``accepted`` dtype, a tensor
    source, one device."""
    axis = wrap_dim(dim, input.ndim)
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type_name(index)}")
    if index.ndim > 1:
        raise IndexError(f"{op}_(): {index_problem}")
    _check_index_dtype(index, accepted, RuntimeError, f"{op}_(): {dtype_problem}")
    if not isinstance(source, Tensor):
        raise TypeError(f"{op}(): argument 'source' must be Tensor, not {type_name(source)}")
    check_same_device(op, input, index, source)
    return axis


def _same_slices(input: Tensor, source: Tensor, axis: int) -> bool:
    """Whether ``source`` has ``input``'s rank and shape outside dimension ``axis``."""
    return input.ndim == source.ndim and all(
        a == b for d, (a, b) in enumerate(zip(input.shape, source.shape)) if d != axis
    )


def check_index_func_source(op: str, input: Tensor, axis: int, index: Tensor, source: Tensor) -> None:
    """PyTorch's checks of the ``source`` of ``index_add``/``index_reduce``: ``input``'s dtype, one slice
    along ``axis`` per index, and ``input``'s shape outside ``axis`` (no broadcasting)."""
    if source.dtype is not input.dtype:
        raise RuntimeError(
            f"{op}_(): self ({TORCH_NAMES[input.dtype]}) and source ({TORCH_NAMES[source.dtype]}) must have the "
            "same scalar type"
        )
    if axis and axis >= source.ndim:
        raise RuntimeError(f"{op}_(): Indexing dim {axis} is out of bounds of the source tensor with dim {source.ndim}")
    if not source.ndim and index.numel() != 1:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    if source.ndim and source.shape[axis] != index.numel():
        raise RuntimeError(
            f"{op}_(): Number of indices ({index.numel()}) should be equal to source.size(dim): "
            f"({source.shape[axis]}), for dim: {axis}"
        )
    if not _same_slices(input, source, axis):
        raise RuntimeError(
            "source tensor shape must match self tensor shape, excluding the specified dimension. Got self.shape = "
            f"{list(input.shape)} source.shape = {list(source.shape)}"
        )


@dim_or_axis
def index_add(
    input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Number = 1, out: Tensor | None = None
) -> Tensor:
    """``input`` with ``alpha * source`` rows added at ``index`` along ``dim``.

    Args:
        input (Tensor): the input tensor.
        dim (int): the dimension to index.
        index (Tensor): the 1-D indices along ``dim``.
        source (Tensor): the rows to add.
        alpha (Number): the multiplier of ``source``. Default: ``1``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.index_add(ember.zeros(3, 2), 0, ember.tensor([0, 2, 0]), ember.ones(3, 2))
        tensor([[2., 2.],
                [0., 0.],
                [1., 1.]])
    """
    refuse_limited("index_add_", input)
    if out is not None:
        return write_out(
            "index_add",
            index_add(input, dim, index, source, alpha=alpha),
            out,
            exact_dtype=True,
            inputs=(input,),
            apart=(index, source),
        )
    axis = _check_index_source(
        "index_add",
        input,
        dim,
        index,
        source,
        "Index is supposed to be a vector",
        _INT_OR_LONG,
        "Expected dtype int32/int64 for index but got: {dtype}",
    )
    check_index_func_source("index_add", input, axis, index, source)
    if input.ndim == 0:
        result = _on_0d(lambda x, d, i, s: index_add(x, d, i, s, alpha=alpha), input, index, source).reshape(())
        return named_node(result, "IndexAddBackward0")
    if index.numel():  # PyTorch's errors: an IndexError into a vector (as index_select's), else scatter_add's words
        size = input.shape[axis] if input.ndim else 1
        vector = input.ndim <= 1
        message = (
            f"index out of range in self (index {{value}} for dimension {axis} with size {size})"
            if vector
            else f"index {{value}} is out of bounds for dimension {axis} with size {size}"
        )
        error = IndexError if vector else RuntimeError
        input._backend.check_indices("index_add", index._data, size, None, error, message)
    if alpha != 1:
        source = source * alpha
    view = [1] * max(source.ndim, 1)
    view[axis] = index.numel()
    expanded = index.reshape(view).expand(source.shape if source.ndim else (1,))
    return named_node(
        scatter_add(input, axis, expanded, source if source.ndim else source.reshape(1)), "IndexAddBackward0"
    )


def _check_copy_source(input: Tensor, axis: int, index: Tensor, source: Tensor) -> None:
    """PyTorch's checks of the ``source`` of ``index_copy``: one slice along ``axis`` per index, of
    ``input``'s rank (a 0-d source for one index) and shape outside ``axis`` (no broadcasting)."""
    if not source.ndim and index.numel() != 1:
        raise IndexError(f"index_copy_(): When source is scalar, index should have one element (got {index.numel()})")
    if source.ndim and input.ndim and source.ndim != input.ndim:
        raise IndexError(
            "index_copy_(): When source and destination are not scalars, their dimensionality must match. Source "
            f"dimensionality ({source.ndim}), destination dimensionality ({input.ndim})"
        )
    slices = [[n for d, n in enumerate(t.shape) if d != axis] for t in (input, source)]
    if slices[0] != slices[1]:
        raise RuntimeError(
            "index_copy_(): Source/destination tensor must have same slice shapes. Destination slice shape: "
            f"{', '.join(map(str, slices[0]))} at dimension {axis} and source slice shape: "
            f"{', '.join(map(str, slices[1]))} at dimension 0."
        )
    if source.ndim and source.shape[axis] != index.numel():
        raise IndexError(
            f"index_copy_(): Number of indices ({index.numel()}) should be equal to source.size(dim) "
            f"({source.shape[axis]})"
        )


@dim_or_axis
def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``input`` with the slices of ``source`` written at ``index`` along ``dim``.

    Example::

        >>> ember.zeros(3).index_copy(0, ember.tensor([2, 0]), ember.tensor([1.0, 2.0]))
        tensor([2., 0., 1.])
    """
    refuse_limited("index_copy_cpu", input)
    if out is not None:
        return write_out(
            "index_copy",
            index_copy(input, dim, index, source),
            out,
            exact_dtype=True,
            inputs=(input,),
            apart=(index, source),
        )
    axis = _check_index_source(
        "index_copy",
        input,
        dim,
        index,
        source,
        "Index should have dimension 1 or 0 (got more)",
        _LONG,
        "Expected a long tensor for index, but got {dtype}",
    )
    if _amp.active:
        input, source = cast_inputs("index_copy", input, source)
    if source.dtype is not input.dtype:
        raise RuntimeError(
            f"index_copy_(): self and source expected to have the same dtype, but got (self) "
            f"{TORCH_NAMES[input.dtype]} and (source) {TORCH_NAMES[source.dtype]}"
        )
    _check_copy_source(input, axis, index, source)
    if input.ndim == 0:
        return named_node(_on_0d(index_copy, input, index, source).reshape(()), "IndexCopyBackward0")
    size = input.shape[axis]  # no negative indices, as PyTorch's index_copy (an IndexError)
    message = f"index_copy_(): index {{value}} is out of bounds for dimension {axis} with size {size}"
    input._backend.check_indices("index_copy_", index._data, size, None, IndexError, message)
    src = source if source.ndim else source.reshape(1)
    view = [1] * src.ndim
    view[axis] = index.numel()
    return named_node(scatter(input, axis, index.reshape(view).expand(src.shape), src), "IndexCopyBackward0")


@dim_or_axis
def index_fill(input: Tensor, dim: int, index: Tensor, value: Tensor | Number) -> Tensor:
    """``input`` with the slices at ``index`` along ``dim`` set to ``value``.

    Args:
        input (Tensor): the input tensor.
        dim (int): the dimension to index.
        index (Tensor): the 1-D indices along ``dim``.
        value (Number): the value to write.

    Example::

        >>> x = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> ember.index_fill(x, 1, ember.tensor([0]), -1.0)
        tensor([[-1.,  2.],
                [-1.,  4.]])
    """
    refuse_limited("index_fill_cpu", input)
    axis = wrap_dim(dim, input.ndim)
    if not isinstance(index, Tensor):
        raise TypeError(f"index_fill(): argument 'index' must be Tensor, not {type_name(index)}")
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(
            f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with {value.ndim} dimension(s)."
        )
    if index.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    _check_index_dtype(index, _LONG, IndexError, "index_fill_(): Expected dtype int64 for index.")
    check_same_device("index_fill", input, index)
    name = "IndexFillBackward1" if isinstance(value, Tensor) else "IndexFillBackward0"  # PyTorch's one node
    if input.ndim == 0:
        return named_node(_on_0d(lambda x, d, i: index_fill(x, d, i, value), input, index).reshape(()), name)
    mask = input.new_zeros(input.shape[axis], dtype=dtypes.bool)
    mask[index] = True
    view = [1] * input.ndim
    view[axis] = input.shape[axis]
    # PyTorch fills a clone of input
    return named_node(laid_out_like(masked_fill(input, mask.reshape(view), value), input), name)


def masked_fill(input: Tensor, mask: Tensor, value: Tensor | Number) -> Tensor:
    """``input`` with ``value`` where the (broadcast) bool ``mask`` is true.

    Args:
        input (Tensor): the input tensor.
        mask (Tensor): the bool mask, broadcast against ``input``.
        value (Number or 0-d Tensor): the value to write.

    Example::

        >>> x = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> ember.masked_fill(x, x > 2, 0.0)
        tensor([[1., 2.],
                [0., 0.]])
    """
    refuse_limited("masked_fill", input)
    if not isinstance(mask, Tensor):
        raise TypeError(f"masked_fill(): argument 'mask' must be Tensor, not {type_name(mask)}")
    if mask.dtype is not dtypes.bool:
        raise RuntimeError(
            f"masked_fill_ only supports boolean masks, but got mask with dtype {C_NAMES.get(mask.dtype, mask.dtype)}"
        )
    node = _MaskedFillTensor if isinstance(value, Tensor) else _MaskedFill
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(
                f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with {value.ndim} dimension(s)."
            )
        if value._device.type == "cpu" and value.dtype is not input.dtype:  # read without a device sync
            fill_value_for(value.item(), input.dtype)  # checked as PyTorch converts it (uint8 takes no 300)
        value = value.to(input.dtype)
    else:
        value = input.new_full((), value)
    out = where_with_node(
        node, mask, value, input
    )  # of the broadcast shape, which may be larger than input's (as PyTorch's)
    if not out._backend.is_row_major(out._data):  # PyTorch fills a row-major copy; where follows input's layout
        out._data = row_major(out._backend, out._data)  # the fresh result: no other tensor sees its memory
    return out


def masked_select(input: Tensor, mask: Tensor, *, out: Tensor | None = None) -> Tensor:
    """A 1-D tensor of the elements of ``input`` where ``mask`` is true (both broadcast).

    Args:
        input (Tensor): the input tensor.
        mask (Tensor): the bool mask, broadcast against ``input``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> x = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> ember.masked_select(x, x > 1.5)
        tensor([2., 3., 4.])
    """
    refuse_limited("masked_select", input, among=UNSIGNED_WIDE)
    if out is not None:
        check_no_overlap(out, input)
        if isinstance(mask, Tensor):
            check_no_overlap(out, mask)
        return write_out("masked_select", masked_select(input, mask), out, exact_dtype=True)
    if mask.dtype is not dtypes.bool:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {TORCH_NAMES[mask.dtype]}")
    check_same_device("masked_select", input, mask)
    refuse_meta("masked_select", mask)
    a, m = broadcast_tensors(input, mask)
    return _MaskedSelect.apply(a, (m._data, Ellipsis), True)


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """``input`` with consecutive elements of ``source`` written where ``mask`` is true.

    Args:
        input (Tensor): the input tensor.
        mask (Tensor): the bool mask, broadcast against ``input``.
        source (Tensor): the values to write, in order; at least as many as ``mask`` has ``True`` elements.

    Example::

        >>> ember.masked_scatter(ember.zeros(4), ember.tensor([True, False, True, False]), ember.tensor([1.0, 2.0, 3.0]))
        tensor([1., 0., 2., 0.])
    """
    refuse_limited("masked_scatter", input)
    if mask.dtype is not dtypes.bool:
        raise RuntimeError(
            f"masked_scatter_ only supports boolean masks, but got mask with dtype {TORCH_NAMES[mask.dtype]}"
        )
    if source.dtype is not input.dtype:
        raise RuntimeError(
            "masked_scatter: expected self and source to have same dtypes but got "
            f"{TORCH_NAMES[input.dtype]} and {TORCH_NAMES[source.dtype]}"
        )
    a, m = broadcast_tensors(input, mask)
    if m.is_meta:
        check_same_device("masked_scatter_", a, source)
        return _MaskedScatterOnMeta.apply(a, source)
    count = int(m.sum())
    if source.numel() < count:
        raise RuntimeError("masked_scatter: Number of elements of source < number of ones in mask")
    out = a.clone(memory_format=contiguous_format)  # row-major whatever input's layout, as PyTorch's
    out[m] = source.reshape(-1)[:count]
    return named_node(out, "MaskedScatterBackward0")


class _MaskedScatterOnMeta(Function):
    """``masked_scatter`` through a meta mask, which selects an unknown count of elements: the result is a
    copy of the input (its writes are no-ops), the gradients have the inputs' shapes (PyTorch's meta kernels)."""

    _backward_name = "MaskedScatterBackward0"

    @staticmethod
    def forward(ctx, input, source):
        ctx.source_shape = source.shape
        return input._make(input._backend.xp.asarray(input._data, copy=True))

    @staticmethod
    def backward(ctx, grad):
        return grad.clone(), grad.new_empty(ctx.source_shape)


@overload
def nonzero(input: Tensor, *, as_tuple: Literal[False] = False) -> Tensor: ...
@overload
def nonzero(input: Tensor, *, as_tuple: Literal[True]) -> tuple[Tensor, ...]: ...
@tensor_input
def nonzero(input: Tensor, *, as_tuple: bool = False, out: Tensor | None = None) -> Tensor | tuple[Tensor, ...]:
    """Indices of the non-zero elements: an ``(n, ndim)`` int64 tensor, or a tuple of 1-D ones.

    Args:
        input (Tensor): the input tensor.
        as_tuple (bool): return one 1-D index tensor per dimension instead. Default: ``False``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> x = ember.tensor([[1, 0], [0, 3]])
        >>> ember.nonzero(x)
        tensor([[0, 0],
                [1, 1]])
        >>> ember.nonzero(x, as_tuple=True)
        (tensor([0, 1]), tensor([0, 1]))
    """
    refuse_limited("nonzero_count_cpu", input)
    if as_tuple is not False and as_tuple is not True:
        raise bool_arg_error("nonzero", "as_tuple", as_tuple)
    if out is not None:
        return write_out("nonzero", nonzero(input), out, exact_dtype=True, apart=(input,))
    backend = input._backend
    xp = backend.xp
    long = backend.native_dtype(dtypes.int64)
    data = input._data if input.ndim else xp.reshape(input._data, (1,))
    parts = [xp.astype(p, long) for p in xp.nonzero(data)]
    if as_tuple:
        return tuple(input._make(p) for p in parts)
    if not parts:
        return input._make(xp.zeros((0, 0), dtype=long))
    # PyTorch's (n, ndim) result lies column by column in memory: strides (1, n)
    if not input.ndim:
        result = xp.zeros((int(parts[0].shape[0]), 0), dtype=long)
    else:
        result = xp.permute_dims(xp.stack(parts, axis=0), (1, 0))
    if not result.size:  # (NumPy zeroes the strides of an array without elements)
        result = ordered_copy(backend, result, long, (1, 0))
    return input._make(result)


@tensor_input
def argwhere(input: Tensor) -> Tensor:
    """The indices of the non-zero elements of ``input``, one row per element, as ``nonzero(input)``.

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> ember.argwhere(ember.tensor([[1, 0], [0, 3]]))
        tensor([[0, 0],
                [1, 1]])
    """
    refuse_limited("nonzero_count_cpu", input)
    return nonzero(input)


def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """:func:`nonzero` with a fixed number of rows: the first ``size`` rows of the indices of the non-zero
    elements, padded with rows of ``fill_value`` when there are fewer.

    Args:
        input (Tensor): the input tensor.
        size (int): the number of rows of the result.
        fill_value (int): the value of the padding rows. Default: -1

    Example::

        >>> ember.nonzero_static(ember.tensor([0, 1, 0, 2]), size=3)
        tensor([[ 1],
                [ 3],
                [-1]])
    """
    if not isinstance(size, int) or isinstance(size, bool):
        raise TypeError(f"nonzero_static(): argument 'size' must be int, not {type_name(size)}")
    if size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    found = nonzero(input)[:size]
    missing = size - found.shape[0]
    if not missing:
        return found
    padding = full((missing, found.shape[1]), fill_value, dtype=dtypes.int64, device=input.device)
    return cat([found, padding])


def _sort_indices(input, axis, descending, stable=True):
    xp = input._backend.xp
    data = input._data
    if descending:
        indices = xp.argsort(data, axis=axis, descending=True, stable=stable)
    else:
        indices = xp.argsort(data, axis=axis, stable=stable)
    return input._make(xp.astype(indices, input._backend.native_dtype(dtypes.int64)))


def _check_sortable(input: Tensor) -> None:
    """PyTorch's error for sorting complex numbers, which have no order."""
    if input.dtype.is_complex:
        raise RuntimeError("Sort does not support complex dtypes on CPU")


def _stable_by_keyword(op: Any) -> Any:
    """``op`` (sort, argsort) with PyTorch's two signatures: ``(input, dim=-1, descending=False)``, or, once
    ``stable`` is given (a keyword only), ``(input, *, stable, dim=-1, descending=False)``: a positional
    ``dim`` or ``descending`` beside ``stable`` is PyTorch's TypeError (and argsort's ``out`` without ``stable``,
    which only its first signature has)."""
    name = op.__name__
    out = ", tuple of Tensors out = None" if name == "sort" else ", Tensor out = None"

    @functools.wraps(op)
    def checked(input: Any, *args: Any, **kwargs: Any) -> Any:
        stable = "stable" in kwargs
        if args and stable or name == "argsort" and "out" in kwargs and not stable:
            raise invalid_combination(
                name,
                (input, *args),
                kwargs,
                (f"Tensor input, *, bool stable, int dim = -1, bool descending = False{out}",
                 f"Tensor input, int dim = -1, bool descending = False{', *' + out if name == 'sort' else ''}"),
            )  # fmt: skip
        return op(input, *args, **kwargs)

    return tensor_input(checked)


@_stable_by_keyword
def sort(
    input: Tensor,
    dim: int = -1,
    descending: bool = False,
    *,
    stable: bool | None = False,
    out: Any = None,
    axis: int | None = None,
) -> return_types.sort:
    """``(values, indices)`` sorted along ``dim``.

    Args:
        input (Tensor): the input tensor.
        dim (int): the dimension to sort along. Default: ``-1``.
        descending (bool): sort from largest to smallest. Default: ``False``.
        stable (bool): keep the order of equal elements. Default: ``False``.
        out (tuple of Tensors, optional): the output ``(values, indices)``, resized and returned. Default: ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.

    Example::

        >>> ember.sort(ember.tensor([3.0, 1.0, 2.0]))
        ember.return_types.sort(
        values=tensor([1., 2., 3.]),
        indices=tensor([1, 2, 0]))
        >>> ember.sort(ember.tensor([3.0, 1.0, 2.0]), descending=True).values
        tensor([3., 2., 1.])
    """
    refuse_limited("sorting_kernel_method_name", input, among=FLOAT8)
    if descending is not True and descending is not False:
        raise bool_arg_error("sort", "descending", descending)
    if stable is not False and stable is not True and stable is not None:
        raise bool_arg_error("sort", "stable", stable)
    if axis is not None:
        dim, _ = numpy_names("sort", dim, -1, axis, False, None)
    if out is not None:
        if isinstance(out, (tuple, list)) and out and isinstance(out[0], Tensor):
            check_no_partial_overlap(out[0], input)  # PyTorch checks the values only
        return write_out("sort", sort(input, dim=dim, descending=descending, stable=stable), out, exact_dtype=True)

    _check_sortable(input)
    axis = wrap_dim(dim, input.ndim)
    if input.ndim == 0:
        return return_types.sort(named_node(input.clone(), "SortBackward0"), input.new_zeros((), dtype=dtypes.int64))
    indices = _sort_indices(input, axis, descending)
    if not stable and follows_cpu_kernels(input):
        indices = sort_ties_as_torch(input, axis, indices, descending)
    values = _Gather.apply(input, axis, indices)  # both laid out as the input, as PyTorch's
    values = named_node(laid_out_like(values, input), "SortBackward0")  # PyTorch's one node
    return return_types.sort(values, laid_out_like(indices, input))


@_stable_by_keyword
def argsort(
    input: Tensor,
    dim: int = -1,
    descending: bool = False,
    *,
    stable: bool | None = False,
    out: Tensor | None = None,
    axis: int | None = None,
) -> Tensor:
    """Indices that sort ``input`` along ``dim``.

    Args:
        input (Tensor): the input tensor.
        dim (int): the dimension to sort along. Default: ``-1``.
        descending (bool): sort from largest to smallest. Default: ``False``.
        stable (bool): keep the order of equal elements. Default: ``False``.
        out (Tensor, optional): the output tensor (with ``stable`` only, as PyTorch), resized and returned.
            Default: ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.

    Example::

        >>> ember.argsort(ember.tensor([3.0, 1.0, 2.0]))
        tensor([1, 2, 0])
        >>> ember.argsort(ember.tensor([[3, 1], [0, 5]]), dim=1, descending=True)
        tensor([[0, 1],
                [1, 0]])
    """
    refuse_limited("sorting_kernel_method_name", input, among=FLOAT8)
    if descending is not True and descending is not False:
        raise bool_arg_error("argsort", "descending", descending)
    if stable is not False and stable is not True:
        raise bool_arg_error("argsort", "stable", stable)
    if axis is not None:
        dim, _ = numpy_names("argsort", dim, -1, axis, False, None)
    if out is not None:
        return write_out(
            "argsort", argsort(input, dim=dim, descending=descending, stable=stable), out, exact_dtype=True
        )
    _check_sortable(input)
    axis = wrap_dim(dim, input.ndim)  # a 0-d input takes dim 0 or -1 only
    if input.ndim == 0:
        return input.new_zeros((), dtype=dtypes.int64)
    indices = _sort_indices(input, axis, descending)
    if not stable and follows_cpu_kernels(input):
        indices = sort_ties_as_torch(input, axis, indices, descending)
    return laid_out_like(indices, input)


def _k_arg(op: str, k: Any) -> int:
    """``k`` of topk/kthvalue as an int (an integer 0-d tensor or NumPy integer too); anything else is PyTorch's
    TypeError (``topk(x, 2.0)``)."""
    if type(k) is int:
        return k
    if isinstance(k, Tensor) and k.ndim == 0 and not (k.dtype.is_floating_point or k.dtype.is_complex):
        return int(k.item())
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"{op}(): argument 'k' (position 2) must be int, not {type_name(k)}")
    return int(k)


def _own_slice(t: Tensor, axis: int, start: int, stop: int) -> Tensor:
    """``t[start:stop]`` along ``axis`` as a row-major tensor with a storage of its own (sliced natively:
    ``narrow().contiguous()`` costs more than a small topk's selection, and keeps a contiguous slice in
    ``t``'s storage)."""
    backend = t._backend
    key = [slice(None)] * t.ndim
    key[axis] = slice(start, stop)
    data = backend.xp.astype(t._data[tuple(key)], t._data.dtype)  # a copy
    return t._make(data if backend.is_contiguous(data) else row_major(backend, data))


def topk(  # noqa: A002
    input: Tensor,
    k: int,
    dim: int = -1,
    largest: bool = True,
    sorted: bool = True,
    *,
    out: Any = None,
    axis: int | None = None,
) -> return_types.topk:
    """The ``k`` largest (or smallest) elements along ``dim`` as ``(values, indices)``.

    Args:
        input (Tensor): the input tensor.
        k (int): the number of elements.
        dim (int): the dimension to search. Default: ``-1``.
        largest (bool): take the largest elements; the smallest when ``False``. Default: ``True``.
        sorted (bool): return the elements in sorted order. Default: ``True``.
        out (tuple of Tensors, optional): the output ``(values, indices)``, resized and returned. Default: ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.

    Example::

        >>> ember.topk(ember.tensor([1.0, 5.0, 3.0, 4.0]), 2)
        ember.return_types.topk(
        values=tensor([5., 4.]),
        indices=tensor([1, 3]))
        >>> ember.topk(ember.tensor([1.0, 5.0, 3.0, 4.0]), 2, largest=False)
        ember.return_types.topk(
        values=tensor([1., 3.]),
        indices=tensor([0, 2]))
    """
    refuse_limited("topk_cpu", input)
    k = _k_arg("topk", k)
    if largest is not True and largest is not False:
        raise bool_arg_error("topk", "largest", largest)
    if sorted is not True and sorted is not False:
        raise bool_arg_error("topk", "sorted", sorted)
    if axis is not None:
        dim, _ = numpy_names("topk", dim, -1, axis, False, None)
    if out is not None:
        return write_out("topk", topk(input, k, dim, largest, sorted), out, exact_dtype=True, inputs=(input,))
    if input.dtype is dtypes.bool or input.dtype.is_complex:
        kind = "bool" if input.dtype is dtypes.bool else "complex"
        raise RuntimeError(f"topk does not support {kind} dtypes on CPU")
    axis = wrap_dim(dim, input.ndim)
    size = input.shape[axis] if input.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError(f"selected index k out of range (k={k}, size {size} in dimension {axis})")
    if input.ndim == 0:
        return return_types.topk(named_node(input.clone(), "TopkBackward0"), input.new_zeros((), dtype=dtypes.int64))
    backend = input._backend
    head = backend.kernels.stable_order_head(input._data, min(k + 1, size), axis, largest)  # one more: ties
    int64 = backend.native_dtype(dtypes.int64)
    order = input._make(backend.xp.astype(head, int64, copy=False))
    indices = _own_slice(order, axis, 0, k)  # a tensor of its own, as torch's
    if k and follows_cpu_kernels(input):
        indices = topk_ties_as_torch(input, axis, order, indices, largest, sorted)
    return return_types.topk(named_node(_Gather.apply(input, axis, indices), "TopkBackward0"), indices)


def kthvalue(
    input: Tensor,
    k: int,
    dim: int = -1,
    keepdim: bool = False,
    *,
    out: Any = None,
    axis: int | None = None,
    keepdims: bool | None = None,
) -> return_types.kthvalue:
    """The ``k``-th smallest element along ``dim`` as ``(values, indices)``.

    Args:
        input (Tensor): the input tensor.
        k (int): which smallest element to take, counting from 1.
        dim (int): the dimension to search. Default: ``-1``.
        keepdim (bool): whether the output keeps the reduced dimensions with size 1. Default: ``False``.
        out (tuple of Tensors, optional): the output ``(values, indices)``, resized and returned. Default: ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.
        keepdims (bool, optional): NumPy's name for ``keepdim``, which PyTorch accepts too.

    Example::

        >>> ember.kthvalue(ember.tensor([5.0, 1.0, 4.0, 2.0]), 2)
        ember.return_types.kthvalue(
        values=tensor(2.),
        indices=tensor(3))
    """
    refuse_limited("kthvalue_cpu", input)
    k = _k_arg("kthvalue", k)
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("kthvalue", dim, -1, axis, keepdim, keepdims)
    if keepdim is not True and keepdim is not False:
        raise bool_arg_error("kthvalue", "keepdim", keepdim)
    if out is not None:
        if isinstance(out, (tuple, list)) and out and isinstance(out[0], Tensor):
            check_no_overlap(out[0], input)  # PyTorch checks the values only
        return write_out("kthvalue", kthvalue(input, k, dim, keepdim), out, exact_dtype=True)
    if input.dtype is dtypes.bool or input.dtype.is_complex:
        not_implemented("kthvalue_cpu", input.dtype)
    axis = wrap_dim(dim, input.ndim)
    if input.ndim == 0:
        values, indices = kthvalue(input.reshape(1), k, 0, keepdim)
        return return_types.kthvalue(named_node(values.reshape(()), "KthvalueBackward0"), indices.reshape(()))
    if not 1 <= k <= input.shape[axis]:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {axis}")
    order = _sort_indices(input, axis, False)
    indices = _own_slice(order, axis, k - 1, k)  # as torch's: its own tensor
    if input.shape[axis] > 1 and follows_cpu_kernels(input):
        indices = kthvalue_ties_as_torch(input, axis, indices, k)
    values = _Gather.apply(input, axis, indices)
    if not keepdim:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return return_types.kthvalue(named_node(values, "KthvalueBackward0"), indices)


def take(input: Tensor, index: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elements of the flattened ``input`` at ``index`` (output has ``index``'s shape).

    Args:
        input (Tensor): the input tensor.
        index (Tensor): the int64 indices into the flattened ``input``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> x = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> ember.take(x, ember.tensor([[0, 3], [2, 2]]))
        tensor([[1., 4.],
                [3., 3.]])
    """
    refuse_limited("take_cpu", input)
    if out is not None:
        check_no_overlap(out, input)
        return write_out("take", take(input, index), out, exact_dtype=True, apart=(index,))

    if not isinstance(index, Tensor):
        raise TypeError(f"take(): argument 'index' must be Tensor, not {type_name(index)}")
    _check_index_dtype(index, _LONG, RuntimeError, "take(): Expected a long tensor for index, but got {dtype}")
    try:
        taken = input.reshape(-1)[index.reshape(-1)]
    except IndexError as error:
        raise flat_index_error(input, index) from error
    return named_node(taken.reshape(index.shape), "TakeBackward0")


def flat_index_error(input: Tensor, index: Tensor) -> IndexError:
    """PyTorch's IndexError of ``take``/``put_`` for the first flat ``index`` outside ``[-n, n)``, ``n`` the
    number of elements of ``input`` (read on the error path only)."""
    n = input.numel()
    host = index._backend.to_host(index._data).reshape(-1)
    outside = host[(host < -n) | (host >= n)]
    value = int(outside[0]) if outside.size else n
    return IndexError(f"out of range: tried to access index {value} on a tensor of {n} elements.")
