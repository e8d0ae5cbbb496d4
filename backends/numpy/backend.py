"""The NumPy backend: ``cpu`` tensors are NumPy arrays; BLAS does the matrix products."""

from __future__ import annotations

import functools
import math
import os
import warnings

import numpy as np

from ember import dtypes
from ember.backend import Backend
from ember.kernels.unsignalling import is_unsignalling
from ember.strides import contiguous_strides

from . import libm
from .addresses import data_address
from .allocator import tune_malloc
from .cpu_generator import CpuGenerator
from .kernels import NumpyKernels
from .namespace import namespace, quiet

__all__ = ["NumpyBackend", "numpy_bfloat16", "register_limited_dtypes"]

_erf = np.frompyfunc(math.erf, 1, 1)
_FP_WARNINGS = r"(divide by zero|invalid value|overflow|underflow) encountered"


def _root(array):
    """The array that owns ``array``'s memory (its storage)."""
    base = array.base
    while base is not None:
        if isinstance(base, np.ndarray):
            array = base
        elif type(base) is _EmptyView:
            array = base.root
        else:
            break
        base = array.base
    return array


class _EmptyView:
    """The array interface of a position in the storage ``root`` (one of its elements, or past its end),
    from which :meth:`NumpyBackend.as_strided` lays out an array without elements: PyTorch's empty views
    keep the storage offset of their slice, which may lie past the end of the storage, where NumPy's
    constructor refuses to start an array. An array laid out from it keeps the strides it was given,
    even all zero (an empty array that NumPy allocates has all-zero strides, read as row-major ones)."""

    __slots__ = ("__array_interface__", "root")

    def __init__(self, root, address):
        self.root = root
        self.__array_interface__ = {"data": (address, False), "shape": (0,), "typestr": "|u1", "version": 3}


def _zeroed(array):
    """Whether the strides of ``array``, which has no elements, are the zeros NumPy gives the empty arrays
    it allocates, which stand for a fresh row-major array's strides (PyTorch's), rather than strides
    :meth:`NumpyBackend.as_strided` laid it out with (or a view of such an array has)."""
    if any(array.strides):
        return False
    base = array.base
    while isinstance(base, np.ndarray):
        base = base.base
    return type(base) is not _EmptyView


def numpy_bfloat16():
    """NumPy's dtype for bfloat16 (from ml_dtypes), or None where ml_dtypes is absent."""
    native = dtypes.numpy_bfloat16()
    return None if native is None else np.dtype(native)


def register_limited_dtypes(backend):
    """Registers uint16/32/64 and, lazily (ml_dtypes holds them), the float8 types on a host backend."""
    for d in dtypes.unsigned_dtypes:
        backend.register_dtype(d, np.dtype(d.name))
    for d in dtypes.float8_dtypes:
        backend.register_dtype_lazily(d, functools.partial(_ml_dtype, d))


def _ml_dtype(d):
    """NumPy's dtype for ``d`` from ml_dtypes, or None where ml_dtypes is absent."""
    native = dtypes.ml_dtypes_type(d)
    return None if native is None else np.dtype(native)


#: (shape, itemsize) -> a fresh row-major array's strides in bytes, for is_row_major
_ROW_MAJOR_BYTES: dict[tuple[tuple[int, ...], int], tuple[int, ...]] = {}


class NumpyBackend(Backend):
    """Device type ``cpu``: arrays are ``numpy.ndarray``.

    ``cpu:0`` ... ``cpu:N-1``, all in host memory but distinct devices (so that multi-device code
    such as ``nn.DataParallel`` runs on a CPU): N is 2, the same on every machine, unless
    ``EMBER_CPU_DEVICES=N`` asks for another number.
    """

    device_type = "cpu"
    indexed_tensor_devices = False
    xp = namespace
    #: the complex dtypes it registers: its namespace has the complex primitives and ``xp.fft``
    _complex_dtypes = dtypes.complex_dtypes

    def __init__(self):
        super().__init__()
        for d in dtypes.all_dtypes + self._complex_dtypes:
            self.register_dtype(d, np.dtype(d.name))
        self.register_dtype_lazily(dtypes.bfloat16, numpy_bfloat16)
        register_limited_dtypes(self)
        self.kernels = NumpyKernels(self)
        # silent on log(0), 0/0, overflow ... as the namespace is; a kernel marked unsignalling (it cannot
        # signal) is called as it is, without the error state set and reset around it (~0.3-0.5 us a call)
        for name in dir(self.kernels):
            method = getattr(self.kernels, name)
            if not name.startswith("_") and hasattr(method, "__func__") and not is_unsignalling(method):
                setattr(self.kernels, name, quiet(method))
        # PyTorch computes log(0) = -inf and 0/0 = nan silently; so do we, without touching NumPy's
        # error state (the user's own NumPy code keeps its warnings): only the floating-point
        # warnings that ember's own code triggers are ignored (a filter costs nothing per op).
        warnings.filterwarnings("ignore", _FP_WARNINGS, RuntimeWarning, r"ember(\.|$)")
        tune_malloc()
        self._count = int(os.environ.get("EMBER_CPU_DEVICES", "2"))

    def device_count(self):
        return self._count

    def device_name(self, index):
        import platform

        return platform.processor() or platform.machine() or "cpu"

    def from_host(self, host_array, index, copy=True):
        return np.array(host_array, copy=True) if copy else np.asarray(host_array)

    def to_host(self, array):
        return array

    def is_contiguous(self, array):
        return array.flags.c_contiguous

    def strides(self, array):
        if not array.size and _zeroed(array):  # as layout reads them
            return contiguous_strides(array.shape)
        size = array.itemsize
        return tuple([s // size for s in array.strides])

    def viewable(self, array):
        if not _zeroed(array):
            return array
        return NumpyBackend.as_strided(self, array, array.shape, *NumpyBackend.layout(self, array))

    def is_row_major(self, array):
        key = (array.shape, array.itemsize)
        expected = _ROW_MAJOR_BYTES.get(key)
        if expected is None:
            if len(_ROW_MAJOR_BYTES) > 4096:
                _ROW_MAJOR_BYTES.clear()
            expected = _ROW_MAJOR_BYTES[key] = tuple(s * array.itemsize for s in contiguous_strides(array.shape))
        return array.strides == expected or (not array.size and _zeroed(array))  # (as layout reads them)

    def layout(self, array):
        if isinstance(array, np.generic):  # a 0-d result NumPy returns as a scalar: a storage of its own
            return (), 0
        size = array.itemsize
        if not array.size and _zeroed(array):
            strides = contiguous_strides(array.shape)
        else:
            strides = tuple(s // size for s in array.strides)
        if array.base is None:  # an array that owns its memory starts its storage: no pointer reads
            return strides, 0
        return strides, (data_address(array) - data_address(_root(array))) // size

    def storage_offset(self, array):
        if isinstance(array, np.generic) or array.base is None:  # a storage of its own: no pointer reads
            return 0
        return (data_address(array) - data_address(_root(array))) // array.itemsize

    def storage_size(self, array):
        return _root(array).nbytes // array.itemsize

    def memory_owner(self, array):
        return array if array.base is None else _root(array)  # a fresh array owns its memory: no walk

    def as_strided(self, array, shape, strides, offset):
        root = _root(array)
        size = array.itemsize
        if not all(shape):  # no elements: from its position, which may lie past the storage's end
            start = np.asarray(_EmptyView(root, data_address(root) + offset * size))
            return np.ndarray(shape, array.dtype, buffer=start, strides=tuple(s * size for s in strides))
        if not (root.flags.c_contiguous or root.flags.f_contiguous):
            # a dense block in another order (NumPy's order="K" result of an op on a permuted input):
            # its dimensions from the outermost in memory to the innermost make a row-major view of it
            root = root.transpose(sorted(range(root.ndim), key=lambda d: -root.strides[d]))
            if not root.flags.c_contiguous:
                raise NotImplementedError("as_strided: the storage is not one contiguous block")
        flat = root.ravel(order="K").view(np.uint8)  # in memory order: a view of the block
        return np.ndarray(
            shape, array.dtype, buffer=flat, offset=offset * size, strides=tuple(s * size for s in strides)
        )

    def bitcast(self, array, dtype):
        return array.view(dtype)

    def check_indices(self, name, indices, bound, ignore_index, error, message):
        # two reductions answer the common case, every index in range; the default finds the culprit
        host = self.to_host(indices)  # (the ufuncs' reductions: the min/max methods add a Python wrapper)
        if not host.size or (np.minimum.reduce(host, axis=None) >= 0 and np.maximum.reduce(host, axis=None) < bound):
            return
        super().check_indices(name, indices, bound, ignore_index, error, message)

    def scatter_add(self, target, axis, index, values):
        if target.ndim == 1:
            np.add.at(target, index, values)
            return
        grid = list(np.indices(index.shape, sparse=True))
        grid[axis] = index
        np.add.at(target, tuple(grid), values)

    def erf(self, array):
        if array.dtype.kind != "f":
            return np.asarray(_erf(array), dtype=array.dtype)  # a 0-d input gives a 0-d array, not a float
        values = libm.erf(array)  # Python's math.erf's bits, from a compiled loop where Numba serves
        if array.flags.c_contiguous:
            return values.astype(array.dtype, copy=False)
        out = np.empty_like(array)  # laid out as the input, as a ufunc's output
        out[...] = values
        return out

    def create_generator(self, index, seed):
        return CpuGenerator(seed)

    def from_dlpack(self, obj):
        array = np.from_dlpack(obj)
        if not array.flags.writeable and getattr(obj, "unversioned", False):
            # NumPy imports a capsule without DLPack 1.0's read-only flag read-only; its producer meant it writable
            array = np.asarray(_WritableAlias(array))
        return array, 0


class _WritableAlias:
    """A writable view of ``array``'s memory through the array interface (it keeps ``array``, the memory's owner, alive)."""

    def __init__(self, array):
        self._array = array
        interface = dict(array.__array_interface__)
        interface["data"] = (interface["data"][0], False)
        self.__array_interface__ = interface
