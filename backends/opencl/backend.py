"""The OpenCL backend: arrays in OpenCL buffers, kernels compiled from ``cl/*.cl`` on first use."""

from __future__ import annotations

import contextlib

try:
    import pyopencl  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(f"the opencl backend needs PyOpenCL (pip install 'ember[opencl]'): {exc}") from None

import numpy as np

from ember import dtypes
from ember.backend import Backend, Generator

from . import namespace as ns
from . import runtime
from .array import empty
from .elementwise import narrow_half
from .kernels import OpenCLKernels

__all__ = ["OpenCLBackend", "PhiloxGenerator"]


class PhiloxGenerator(Generator):
    """A counter-based Philox4x32-10 stream: draw element ``i`` depends only on (seed, offset + i).

    The state is ``(seed, offset)``; each draw of ``n`` values advances ``offset`` by ``n``.
    """

    def __init__(self, device, seed):
        self.device = device
        self.manual_seed(seed)

    def manual_seed(self, seed):
        self.seed = int(seed) & 0xFFFFFFFFFFFFFFFF
        self.offset = 0

    def _draw(self, shape, dtype, kind, low=0, span=1, local=None):
        dtype = np.dtype(dtype)
        if dtype == np.float16:  # drawn as float32, rounded
            return narrow_half(self._draw(shape, np.float32, kind, low, span, local), dtype)
        out = empty(tuple(shape), dtype, self.device)
        n = out.size
        t = runtime.cl_type(dtype)
        wide = dtype == np.float64
        defines = {"T": t, "R": "double" if wide else "float", "WIDE": int(wide)}
        kern = self.device.kernel(("philox", t), "philox.cl", "philox_fill", defines)
        self.device.launch(
            kern, n, np.int64(n), out.buffer, np.uint32(self.seed & 0xFFFFFFFF), np.uint32(self.seed >> 32),
            np.uint64(self.offset), np.int32(kind), np.int64(low), np.uint64(span), local=local,
        )  # fmt: skip
        self.offset += n
        return out

    def uniform(self, shape, dtype):
        return self._draw(shape, dtype, 0)

    def normal(self, shape, dtype):
        return self._draw(shape, dtype, 1)

    def integers(self, low, high, shape, dtype):
        if high <= low:
            raise ValueError(f"integers: high ({high}) must be greater than low ({low})")
        return self._draw(shape, dtype, 2, low, high - low)

    def get_state(self):
        return (self.seed, self.offset)

    def set_state(self, state):
        self.seed, self.offset = int(state[0]), int(state[1])


class OpenCLBackend(Backend):
    """Device type ``opencl``: every OpenCL device of every platform (GPUs first)."""

    device_type = "opencl"
    xp = ns.namespace

    def __init__(self):
        super().__init__()
        self.devices = runtime.devices()
        self.supports_float64 = all(d.supports_float64 for d in self.devices)
        for d in dtypes.all_dtypes:
            native = np.dtype(d.name) if d.name in runtime.DTYPE_NAMES else None
            if native is None or (d is dtypes.float64 and not self.supports_float64):
                continue
            self.register_dtype(d, native)
        self.kernels = OpenCLKernels(self)

    # -- devices ------------------------------------------------------------------------
    def device_count(self):
        return len(self.devices)

    def device_name(self, index):
        return self.devices[index].name

    @contextlib.contextmanager
    def device_context(self, index):
        previous = runtime.selection.index
        runtime.selection.index = int(index or 0)
        try:
            yield
        finally:
            runtime.selection.index = previous

    def device_of(self, array):
        return array.device.index

    def synchronize(self, index=None):
        for d in self.devices if index is None else [self.devices[index]]:
            d.queue.finish()

    def memory_allocated(self, index=None):
        return sum(d.allocated for d in (self.devices if index is None else [self.devices[index]]))

    def memory_reserved(self, index=None):
        return sum(d.allocated + d.cached for d in (self.devices if index is None else [self.devices[index]]))

    def empty_cache(self, index=None):
        """Release the cached freed buffers (of device ``index``, else of every device)."""
        for d in self.devices if index is None else [self.devices[index]]:
            d.empty_cache()

    def max_memory_allocated(self, index=None):
        return sum(d.peak for d in (self.devices if index is None else [self.devices[index]]))

    def reset_max_memory_allocated(self, index=None):
        for d in self.devices if index is None else [self.devices[index]]:
            d.peak = d.allocated

    # -- host transfer ------------------------------------------------------------------
    def from_host(self, host_array, index, copy=True):
        return ns.from_host(np.asarray(host_array), self.devices[index or 0])

    def to_host(self, array):
        return ns.to_host(array)

    # -- primitives beyond the standard ---------------------------------------------------
    def is_contiguous(self, array):
        return array.is_contiguous

    def layout(self, array):
        return array.strides, array.offset

    def storage_size(self, array):
        return array.storage.nbytes // array.dtype.itemsize

    def memory_owner(self, array):
        return array.storage

    def as_strided(self, array, shape, strides, offset):
        return array.view(shape, strides, offset)

    def bitcast(self, array, dtype):
        return array.bitcast(dtype)

    def scatter_add(self, target, axis, index, values):
        ns.scatter_add(target, axis, index, values)

    def erf(self, array):
        return ns.erf(array)

    def create_generator(self, index, seed):
        return PhiloxGenerator(self.devices[index or 0], seed)
