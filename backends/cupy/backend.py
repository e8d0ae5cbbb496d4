"""The CuPy backend: ``cuda:N`` tensors are CuPy arrays; cuBLAS does the matrix products."""

from __future__ import annotations

import cupy
import cupyx
import numpy as np

from ember import dtypes
from ember.backend import Backend, Generator
from ember.backends.numpylike import build_namespace

from .kernels import CupyKernels

__all__ = ["CupyBackend", "CupyGenerator"]


class CupyGenerator(Generator):
    """A per-device stream: draw ``k`` after seeding with ``s`` comes from cuRAND seeded with ``mix(s, k)``.

    Keying every draw by ``(seed, counter)`` makes the state two integers, so it can be saved
    and restored exactly (checkpoints resume bit for bit), at the cost of one cuRAND
    generator set-up per draw.
    """

    def __init__(self, index, seed):
        self._index = index
        self.manual_seed(seed)

    def manual_seed(self, seed):
        self._seed, self._counter = int(seed), 0

    def _state(self):
        key = (self._seed * 0x9E3779B97F4A7C15 + self._counter) % (1 << 63)
        self._counter += 1
        return cupy.random.RandomState(key)

    def _sample(self, draw, dtype):
        with cupy.cuda.Device(self._index):
            native = dtype if dtype in (np.float32, np.float64) else np.float32
            out = draw(self._state(), native)
        return out if out.dtype == dtype else out.astype(dtype)

    def uniform(self, shape, dtype):
        return self._sample(lambda state, native: state.random_sample(shape, dtype=native), dtype)

    def normal(self, shape, dtype):
        return self._sample(lambda state, native: state.standard_normal(shape, dtype=native), dtype)

    def integers(self, low, high, shape, dtype):
        with cupy.cuda.Device(self._index):
            return self._state().randint(low, high, size=shape, dtype=np.int64).astype(dtype, copy=False)

    def get_state(self):
        return {"seed": self._seed, "counter": self._counter}

    def set_state(self, state):
        self._seed, self._counter = int(state["seed"]), int(state["counter"])


class CupyBackend(Backend):
    """Device type ``cuda``: one device index per visible GPU, arrays are ``cupy.ndarray``."""

    device_type = "cuda"
    xp = build_namespace(cupy, "ember.backends.cupy.namespace")

    def __init__(self):
        super().__init__()
        self._count = cupy.cuda.runtime.getDeviceCount()
        for d in dtypes.all_dtypes:
            self.register_dtype(d, np.dtype(d.name))
        self.kernels = CupyKernels(self)

    def device_count(self):
        return self._count

    def device_name(self, index):
        name = cupy.cuda.runtime.getDeviceProperties(index)["name"]
        return name.decode() if isinstance(name, bytes) else str(name)

    def device_context(self, index):
        return cupy.cuda.Device(index)

    def device_of(self, array):
        return array.device.id

    def synchronize(self, index=None):
        if index is None:
            cupy.cuda.get_current_stream().synchronize()
            return
        with cupy.cuda.Device(index):
            cupy.cuda.get_current_stream().synchronize()

    def memory_allocated(self, index=None):
        with cupy.cuda.Device(index or 0):
            return cupy.get_default_memory_pool().used_bytes()

    def memory_reserved(self, index=None):
        with cupy.cuda.Device(index or 0):
            return cupy.get_default_memory_pool().total_bytes()

    def empty_cache(self):
        cupy.get_default_memory_pool().free_all_blocks()

    def from_host(self, host_array, index, copy=True):
        with cupy.cuda.Device(index):
            return cupy.array(host_array, copy=True)

    def to_host(self, array):
        return cupy.asnumpy(array)

    def transfer(self, array, index):
        """Copy between GPUs without a trip through the host."""
        with cupy.cuda.Device(index):
            return cupy.array(array, copy=True)

    def scatter_add(self, target, axis, index, values):
        if target.ndim == 1:
            cupyx.scatter_add(target, index, values)
            return
        grid = [
            cupy.arange(size).reshape(tuple(size if d == i else 1 for d in range(index.ndim)))
            for i, size in enumerate(index.shape)
        ]
        grid[axis] = index
        cupyx.scatter_add(target, tuple(grid), values)

    def erf(self, array):
        import cupyx.scipy.special

        return cupyx.scipy.special.erf(array)

    def create_generator(self, index, seed):
        return CupyGenerator(index, seed)

    def from_dlpack(self, obj):
        array = cupy.from_dlpack(obj)
        return array, array.device.id
