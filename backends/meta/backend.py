"""The meta backend: arrays with a shape, a dtype and strides but no elements (PyTorch's ``meta`` device)."""

from __future__ import annotations

import numpy as np

from ember import dtypes
from ember.backend import Backend, Generator
from ember.backends.numpy.backend import numpy_bfloat16, register_limited_dtypes
from ember.strides import contiguous_strides

from .array import MetaArray
from .kernels import MetaKernels
from .namespace import namespace

__all__ = ["MetaBackend", "MetaGenerator"]


class MetaGenerator(Generator):
    """Random arrays of the right shape and dtype, without values (so nothing to seed)."""

    def manual_seed(self, seed):
        pass

    def uniform(self, shape, dtype):
        return MetaArray.empty(shape, dtype)

    def normal(self, shape, dtype):
        return MetaArray.empty(shape, dtype)

    def integers(self, low, high, shape, dtype):
        return MetaArray.empty(shape, dtype)

    def get_state(self):
        return None

    def set_state(self, state):
        pass


class MetaBackend(Backend):
    """Device type ``meta``: one device, whose arrays (:class:`~.array.MetaArray`) hold no data.

    Its namespace computes the shapes and dtypes of results by the NumPy backend's rules; the kernels
    are the portable defaults, which run on it unchanged, but for linear algebra (:mod:`.kernels`). Copying a meta array to the host raises
    NotImplementedError, as in PyTorch; writes (in place, scatter-add) change nothing, there being
    nothing to change.
    """

    device_type = "meta"
    indexed_tensor_devices = False
    autocast_device_type = "cpu"
    xp = namespace

    def __init__(self):
        super().__init__()
        for d in dtypes.all_dtypes + dtypes.complex_dtypes:
            self.register_dtype(d, np.dtype(d.name))
        self.register_dtype_lazily(dtypes.bfloat16, numpy_bfloat16)
        register_limited_dtypes(self)
        self.kernels = MetaKernels(self)

    def device_name(self, index):
        return "meta (shapes and dtypes, no data)"

    def from_host(self, host_array, index, copy=True):
        host = np.asarray(host_array)
        return MetaArray.laid_out_as(host.shape, tuple(s // host.itemsize for s in host.strides), host.dtype)

    def to_host(self, array):
        raise NotImplementedError("Cannot copy out of meta tensor; no data!")

    def transfer(self, array, index):
        return MetaArray.empty(array.shape, array.dtype)

    def is_contiguous(self, array):
        expected = contiguous_strides(array.shape)
        return array.size == 0 or all(n == 1 or s == e for n, s, e in zip(array.shape, array.strides, expected))

    def layout(self, array):
        return array.strides, array.offset

    def storage_size(self, array):
        return array.storage.nbytes // array.dtype.itemsize

    def memory_owner(self, array):
        return array.storage

    def data_address(self, array):
        return 0  # PyTorch's data_ptr() of a meta tensor

    def as_strided(self, array, shape, strides, offset):
        return array.view(tuple(shape), tuple(strides), offset)

    def bitcast(self, array, dtype):
        old, new = array.dtype.itemsize, np.dtype(dtype).itemsize
        if old == new:
            return array.view(array.shape, array.strides, array.offset, np.dtype(dtype))
        shape = array.shape[:-1] + (array.shape[-1] * old // new,)
        strides = tuple(s * old // new for s in array.strides[:-1]) + (1,)
        return array.view(shape, strides, array.offset * old // new, np.dtype(dtype))

    def view_as_real(self, array, native):
        strides = tuple(2 * s for s in array.strides) + (1,)
        return array.view(array.shape + (2,), strides, 2 * array.offset, np.dtype(native))

    def view_as_complex(self, array, native):
        strides = tuple(s // 2 for s in array.strides[:-1])
        return array.view(array.shape[:-1], strides, array.offset // 2, np.dtype(native))

    def check_indices(self, name, indices, bound, ignore_index, error, message):
        pass  # the indices have no values to check (PyTorch's meta kernels check none either)

    def scatter_add(self, target, axis, index, values):
        pass

    def erf(self, array):
        return MetaArray.empty(array.shape, array.dtype)

    def create_generator(self, index, seed):
        return MetaGenerator()

    def from_dlpack(self, obj):
        raise NotImplementedError("the meta device does not exchange DLPack")
