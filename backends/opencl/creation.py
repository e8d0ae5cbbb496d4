"""Creation primitives of the OpenCL namespace and the host transfers: arrays from host data,
filled, ranged and identity arrays."""

from __future__ import annotations

import math

import numpy as np
import pyopencl as cl

from . import runtime
from .array import CLArray, as_shape, empty
from .elementwise import astype, map_into, operand, result_type
from .runtime import Storage, compute_type, current, float_dtype

__all__ = ["from_host", "to_host", "resolve", "full", "zeros", "ones", "empty_array", "asarray", "arange", "eye"]

_INT64 = np.dtype("int64")


# -- host transfer ---------------------------------------------------------------------------
def from_host(host, device):
    host = np.asarray(host, order="C")
    if host.dtype == np.float64 and not device.supports_float64:
        raise TypeError(f"OpenCL device opencl:{device.index} ({device.name}) does not support float64")
    if host.dtype not in runtime._CL_TYPES:
        raise TypeError(f"opencl backend does not support dtype {host.dtype}")
    # a new buffer made holding the data: a copy enqueued into a cached one would wait for the
    # queue to drain (PyOpenCL's host-to-device copies block until done)
    buffer = device.new_buffer(host.nbytes, host) if host.nbytes else None
    return CLArray(Storage(device, host.nbytes, buffer), host.shape, host.dtype)


def to_host(a):
    if not a.is_contiguous:
        a = astype(a, a.dtype, copy=True)
    host = np.empty(a.shape, dtype=a.dtype)
    if host.nbytes:
        cl.enqueue_copy(a.device.queue, host, a.buffer, src_offset=a.offset * a.dtype.itemsize)
    return host


# -- creation ----------------------------------------------------------------------------------
def resolve(device):
    """The :class:`~ember.backends.opencl.runtime.Device` of a ``device=`` argument."""
    if device is None:
        return current()
    if isinstance(device, runtime.Device):
        return device
    return runtime.devices()[int(device)]


def _is_scalar(v):
    return isinstance(v, (bool, int, float, np.generic))


def _native(dtype, default):
    if dtype is None:
        return np.dtype(default)
    return np.dtype(dtype)


def full(shape, fill_value, *, dtype=None, device=None):
    """The array API's ``full``; a scalar value is written by the driver's buffer fill (on PoCL
    a fifth of a kernel launch's cost: ``asarray(0)`` makes a 0-d array this way)."""
    if dtype is None:
        dtype = result_type(fill_value) if not isinstance(fill_value, CLArray) else fill_value.dtype
    device = resolve(device)
    out = empty(as_shape(shape), _native(dtype, None), device)
    if isinstance(fill_value, CLArray):
        return map_into(out, [fill_value], "x0", [compute_type(out.dtype)])
    if out.dtype == np.float64 and not device.supports_float64:
        raise TypeError(f"OpenCL device opencl:{device.index} ({device.name}) does not support float64")
    pattern = operand(fill_value, out.dtype)  # the value in the array's type: its bytes repeat
    if out.storage.nbytes:
        cl.enqueue_fill_buffer(device.queue, out.storage.buffer, pattern, 0, out.storage.nbytes)
    return out


def zeros(shape, *, dtype=None, device=None):
    return full(shape, 0, dtype=_native(dtype, float_dtype(resolve(device))), device=device)


def ones(shape, *, dtype=None, device=None):
    return full(shape, 1, dtype=_native(dtype, float_dtype(resolve(device))), device=device)


def empty_array(shape, *, dtype=None, device=None):
    """The array API's ``empty`` (:func:`~ember.backends.opencl.array.empty` with its defaults)."""
    return empty(as_shape(shape), _native(dtype, float_dtype(resolve(device))), resolve(device))


def asarray(obj, /, *, dtype=None, device=None, copy=None):
    if isinstance(obj, CLArray):
        if dtype is None or np.dtype(dtype) == obj.dtype:
            return astype(obj, obj.dtype, copy=True) if copy else obj
        return astype(obj, dtype)
    if _is_scalar(obj) and not isinstance(obj, np.generic):
        dt = np.dtype(dtype) if dtype is not None else result_type(obj)
        return full((), obj, dtype=dt, device=device)
    host = np.asarray(obj, dtype=dtype)
    if host.dtype == np.float64 and dtype is None and not resolve(device).supports_float64:
        host = host.astype(np.float32)
    return from_host(host, resolve(device))


def arange(start, /, stop=None, step=1, *, dtype=None, device=None):
    if stop is None:
        start, stop = 0, start
    device = resolve(device)
    if dtype is None:
        dtype = _INT64 if all(isinstance(v, (int, np.integer)) for v in (start, stop, step)) else float_dtype(device)
    dtype = np.dtype(dtype)
    n = max(0, math.ceil((stop - start) / step))
    out = empty((n,), dtype, device)
    compute = "long" if dtype.kind in "biu" else compute_type(float_dtype(device))
    ctype = np.int64 if compute == "long" else float_dtype(device).type
    return map_into(out, [ctype(start), ctype(step)], "x0 + i * x1", [compute, compute])


def eye(n_rows, n_cols=None, /, *, k=0, dtype=None, device=None):
    device = resolve(device)
    n_cols = n_rows if n_cols is None else n_cols
    out = empty((n_rows, n_cols), _native(dtype, float_dtype(device)), device)
    return map_into(out, [np.int64(max(n_cols, 1)), np.int64(k)], "(i / x0) + x1 == i % x0", ["long", "long"])
