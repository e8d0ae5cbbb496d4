"""NumPy as an array namespace (see :func:`ember.backend.build_namespace`)."""

from __future__ import annotations

import numpy as np

from ember.backend import build_namespace
from ember.dtypes import native_dtype_name
from ember.float8 import to_float8

from . import loops
from .onednn import gemm

__all__ = ["namespace", "quiet"]

namespace = build_namespace(np, "ember.backends.numpy.namespace")


def _matmul(x1, x2, /):
    """``np.matmul``, except that large float32 and bfloat16 matrix products go through oneDNN where it is
    installed (:func:`.onednn.gemm.matmul`: for bfloat16, PyTorch's own product), that smaller bfloat16
    operands (which ml_dtypes multiplies into float32) give bfloat16, as PyTorch's bfloat16 matmul does
    (float32 accumulation, one rounding), and that float8 operands are multiplied in float32 and rounded
    (saturated) as PyTorch rounds into float8."""
    out = gemm.matmul(x1, x2)
    if out is not None:
        return out
    if x1.dtype.itemsize == 1 and x1.dtype.kind in "fV":  # float8: float32 products, rounded as PyTorch's
        return to_float8(np.matmul(x1.astype(np.float32), x2.astype(np.float32)), x1.dtype)
    out = np.matmul(x1, x2)
    return out if out.dtype == x1.dtype else out.astype(x1.dtype)


namespace.matmul = _matmul


def _broadcast_to(x, /, shape):
    """``np.broadcast_to`` that writes through to ``x`` (NumPy's view is read-only), as PyTorch's
    ``expand`` does; ember's in-place ops refuse the writes whose result the aliasing would decide.
    A C-contiguous array with elements is laid out over directly, with the strides NumPy's view has
    (0 for a new dimension and any of size 1, its own elsewhere): one constructor call, where
    ``np.broadcast_to`` runs ~4 us of Python; any other case (and every error) is NumPy's."""
    lead = len(shape) - x.ndim
    if type(x) is np.ndarray and lead >= 0 and x.flags.c_contiguous and x.size:
        strides = [0] * lead
        for n, size, step in zip(x.shape, shape[lead:], x.strides):
            if n == size:
                strides.append(0 if size == 1 else step)
            elif n == 1 and size > 0:
                strides.append(0)
            else:
                break
        else:
            if all(size > 0 for size in shape[:lead]):
                return np.ndarray(shape, x.dtype, buffer=x, strides=tuple(strides))
    out = np.broadcast_to(x, shape)
    if x.flags.writeable:
        out.flags.writeable = True
    return out


namespace.broadcast_to = _broadcast_to

_astype = namespace.astype


#: casts between bfloat16 and float32 of fewer elements stay with ml_dtypes, whose one call costs less
BIT_CAST_MIN = 1 << 10
_FLOAT32 = np.dtype(np.float32)


def _bfloat16_from_float32(x):
    """float32 ``x`` rounded to bfloat16 by the compiled loop on its bits, or None where it does not serve."""
    compiled = loops.get() if x.size >= loops.runtime.MIN_ELEMENTWISE and x.flags.c_contiguous else None
    if compiled is None:
        return None
    out = np.empty(x.shape, dtype=np.uint16)
    loops.launch(compiled.bfloat16_from_float32, x.reshape(-1).view(np.uint32), out.reshape(-1))
    return out


def _astype_rounding_as_pytorch(x, dtype, /, *, copy=True):
    """``astype`` whose casts into the float8 types round, saturate and write NaN as PyTorch's
    (:func:`ember.float8.to_float8`); the float8 types are the only 1-byte floating (``f``, or ``V`` for some) NumPy types.
    Large casts between bfloat16 and float32 work on the bits (ml_dtypes converts element by element):
    out of bfloat16 a shift (exact, NaN payloads included), into it the compiled rounding loop."""
    if x.size >= BIT_CAST_MIN and dtype != x.dtype:
        if dtype == _FLOAT32 and native_dtype_name(x.dtype) == "bfloat16":
            return np.left_shift(x.view(np.uint16), 16, dtype=np.uint32).view(np.float32)
        if x.dtype == _FLOAT32 and native_dtype_name(dtype) == "bfloat16":
            bits = _bfloat16_from_float32(x)
            if bits is not None:
                return bits.view(dtype)
    if getattr(dtype, "itemsize", 0) == 1 and dtype.kind in "fV" and dtype != x.dtype:
        return to_float8(x, dtype)
    if x.dtype.itemsize == 1 and x.dtype.kind in "fV" and dtype != x.dtype:  # out of float8 through float32,
        return _astype(_astype(x, np.float32), dtype, copy=False)  # as PyTorch (-2.5 into uint8 is 254)
    if getattr(dtype, "kind", None) in ("i", "u") and native_dtype_name(x.dtype) == "bfloat16":  # so out of bfloat16
        return _astype(_astype(x, np.float32), dtype, copy=False)  # (ml_dtypes gives 0 for -8 into uint8, not 248)
    return _astype(x, dtype, copy=copy)


namespace.astype = _astype_rounding_as_pytorch

_full = namespace.full


def _full_rounding_as_pytorch(shape, fill_value, *, dtype=None, **kwargs):
    """``full`` whose float8 fill value rounds as PyTorch's (through float32, :func:`ember.float8.to_float8`)."""
    if getattr(dtype, "itemsize", 0) == 1 and dtype.kind in "fV":
        return to_float8(_full(shape, fill_value, dtype=np.float32, **kwargs), dtype)
    return _full(shape, fill_value, dtype=dtype, **kwargs)


namespace.full = _full_rounding_as_pytorch

# PyTorch computes log(0) = -inf, 0/0 = nan and exp(1000) = inf silently. The functions that can
# signal a floating-point error run with NumPy's warnings off for that call only: the error state is
# a context variable (NumPy 2), set and reset around the call, so the user's own NumPy state and
# warning filters are untouched (np.seterr would change them for the whole thread).
try:  # NumPy's private context variable: set and reset around a call, the cheapest way
    from numpy._core._ufunc_config import _extobj_contextvar as _errstate
except ImportError:  # a NumPy without it: the public context manager (same effect, ~3 us a call)
    _errstate = None
else:
    with np.errstate(all="ignore"):
        _IGNORE_ALL = _errstate.get()

#: the namespace functions that can overflow, divide by zero or take an invalid operand, by arity:
#: a fixed signature keeps the wrapper's cost per call low
_SIGNALLING_BINARY = ("add", "subtract", "multiply", "divide", "floor_divide", "remainder", "pow", "atan2")
_SIGNALLING_UNARY = ("exp", "expm1", "log", "log1p", "sqrt", "sin", "cos", "tan", "asin", "acos", "sinh", "cosh")
_SIGNALLING_OTHER = ("sum", "prod", "mean", "cumulative_sum", "astype", "matmul")


def _quiet(fn, arity):
    if _errstate is None:
        return _quiet_public(fn)
    set_state, reset_state = _errstate.set, _errstate.reset  # closure cells: the cheapest lookups

    def quiet_unary(x, /):
        token = set_state(_IGNORE_ALL)
        try:
            return fn(x)
        finally:
            reset_state(token)

    def quiet_binary(x1, x2, /):
        token = set_state(_IGNORE_ALL)
        try:
            return fn(x1, x2)
        finally:
            reset_state(token)

    def quiet_any(*args, **kwargs):
        token = set_state(_IGNORE_ALL)
        try:
            return fn(*args, **kwargs)
        finally:
            reset_state(token)

    wrapper = {1: quiet_unary, 2: quiet_binary}.get(arity, quiet_any)
    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def _quiet_public(fn):
    def quiet_any(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    quiet_any.__name__, quiet_any.__doc__ = fn.__name__, fn.__doc__
    return quiet_any


def quiet(fn):
    """``fn`` run with NumPy's floating-point warnings off for each call (as the namespace's functions)."""
    return _quiet(fn, None)


for _arity, _names in ((2, _SIGNALLING_BINARY), (1, _SIGNALLING_UNARY), (None, _SIGNALLING_OTHER)):
    for _name in _names:
        setattr(namespace, _name, _quiet(getattr(namespace, _name), _arity))


_sum = namespace.sum


def _unwrapped_sum(x, axis, keepdims):
    """``x.sum(axis=axis, keepdims=keepdims)`` as the ufunc's reduction itself (the method forwards to
    it through a Python function), as an array."""
    total = np.add.reduce(x, axis=axis, keepdims=keepdims)
    return total if type(total) is np.ndarray else np.asarray(total)


_unwrapped_sum = _quiet(_unwrapped_sum, None)


def _sum_of(x, /, *, axis=None, keepdims=False, dtype=None, **kwargs):
    """``sum``: NumPy's own reduction called directly, unless a dtype is given or the sum of a 16-bit
    float accumulates in float32 (the namespace's general ``sum``)."""
    if dtype is not None or kwargs or x.dtype.itemsize == 2:
        return _sum(x, axis=axis, keepdims=keepdims, dtype=dtype, **kwargs)
    return _unwrapped_sum(x, axis, keepdims)


namespace.sum = _sum_of

_mean = namespace.mean


def _float_mean(x, axis, keepdims):
    """NumPy's mean of a non-empty float32/float64/complex array, computed as ``np.mean`` computes it
    (``add.reduce``, then ``true_divide`` by the count as an ``intp``, into the sum's own type) without
    its Python wrapper (``np.mean`` costs four times ``add.reduce`` on a small array)."""
    total = np.add.reduce(x, axis=axis, keepdims=keepdims)
    if type(total) is not np.ndarray:  # a NumPy scalar: every axis reduced
        total = np.asarray(total)
    return np.true_divide(total, np.intp(x.size // total.size), out=total, casting="unsafe")


_float_mean = _quiet(_float_mean, None)


def _mean_of_empty_is_nan(x, /, *, axis=None, keepdims=False, **kwargs):
    """``mean``; an empty slice gives NaN without NumPy's "Mean of empty slice" warning (PyTorch is silent)."""
    if x.size:
        if not kwargs and x.dtype.kind in "fc" and x.dtype.itemsize > 2:
            return _float_mean(x, axis, keepdims)
        return _mean(x, axis=axis, keepdims=keepdims, **kwargs)
    return namespace.divide(namespace.sum(x, axis=axis, keepdims=keepdims, **kwargs), 0)


namespace.mean = _mean_of_empty_is_nan

_argsort = namespace.argsort

#: stable orders of at least this many elements, in rows of at least :data:`KEYED_ROW` elements, sort
#: 64-bit keys (the value's order in the high half, the position in the low half): NumPy's vectorized
#: sort of unique keys against its merge sort (float32, one thread: 64x64 along a row 77 -> 24 us;
#: 100,000 elements 4.6x faster); below, the keys' half-dozen calls cost more than they save
KEYED_MIN = 1 << 10
KEYED_ROW = 32
#: the types whose order fits in the keys' 32-bit half: float16 and bfloat16 by way of float32 (exact)
_KEYED_TYPES = frozenset("efEihHIbB")  # E: ml_dtypes' bfloat16
_SIGN_BIT = np.uint32(0x80000000)
_POSITION_BITS = np.uint64(0xFFFFFFFF)


def _order_keys(rows):
    """Each element's place in the order as an unsigned 32-bit number: a float's bits with the negative ones
    reversed (``-0.`` read as ``0.``, every NaN as one NaN above ``inf``, as NumPy's sort orders them), an
    integer's offset by the sign bit."""
    if rows.dtype.kind in "fV":
        values = np.add(rows, np.float32(0), dtype=np.float32)  # a fresh array, -0. as 0.
        np.putmask(values, np.isnan(values), np.float32(np.nan))
        bits = values.view(np.uint32)  # all bits set for a negative number (arithmetic shift), else the sign bit
        return np.bitwise_xor(bits, np.right_shift(values.view(np.int32), 31).view(np.uint32) | _SIGN_BIT, out=bits)
    if rows.dtype.kind == "i":
        return np.bitwise_xor(rows.astype(np.int32).view(np.uint32), _SIGN_BIT)
    return rows.astype(np.uint32)


def _argsort_by_keys(x, /, *, axis=-1, descending=False, stable=True):
    """``argsort``: where the stable order of many elements is asked for, found by a sort of unique 64-bit keys
    (see :data:`KEYED_MIN`), the same order NumPy's stable sort gives (ties in position order, NaN last
    ascending and first descending); else the namespace's own."""
    n = x.shape[axis] if x.ndim else 1
    if x.size < KEYED_MIN or n < KEYED_ROW or n > 1 << 32 or x.dtype.char not in _KEYED_TYPES:
        return _argsort(x, axis=axis, descending=descending, stable=stable)
    last = axis in (-1, x.ndim - 1)
    key = _order_keys(x if last else np.moveaxis(x, axis, -1))
    if descending:  # the order of the values reversed, the positions' kept
        np.invert(key, out=key)
    keys = np.left_shift(key, 32, dtype=np.uint64)
    keys |= np.arange(n, dtype=np.uint64)
    keys.sort(axis=-1)
    order = np.bitwise_and(keys, _POSITION_BITS).astype(np.intp)
    return order if last else np.moveaxis(order, -1, axis)


namespace.argsort = _argsort_by_keys

_take_along_axis = namespace.take_along_axis


def _take_along_rows(x, indices, /, *, axis=-1):
    """``take_along_axis``; for 2-d operands one indexing with a broadcast ``arange`` (what NumPy's builds, without
    its checks and its loop over the dimensions: 64x64, 1.4 against 3.6 us)."""
    if x.ndim == 2 and indices.ndim == 2 and indices.dtype.kind in "iu":
        if axis in (1, -1):
            return x[np.arange(x.shape[0])[:, None], indices]
        if axis in (0, -2):
            return x[indices, np.arange(x.shape[1])]
    return _take_along_axis(x, indices, axis=axis)


namespace.take_along_axis = _take_along_rows
