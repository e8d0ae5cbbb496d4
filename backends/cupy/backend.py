"""The CuPy backend: ``cuda:N`` tensors are CuPy arrays; cuBLAS does the matrix products."""

from __future__ import annotations

import cupy
import cupyx
import numpy as np

from ember import dtypes
from ember.backend import Backend, Generator, build_namespace
from ember.backends import cuda as cuda_flags
from ember.cuda import sync_debug
from ember.shared_memory import buffer_owner

from . import cublas
from .allocator import raising_torch_oom
from .capture import CaptureState, PrivatePool, refuse
from .device_assert import DeviceAsserts
from .kernels import CupyKernels

__all__ = ["CupyBackend", "CupyGenerator"]


class CupyGenerator(Generator):
    """A per-device stream: draw ``k`` after seeding with ``s`` comes from cuRAND seeded with ``mix(s, k)``.

    Keying every draw by ``(seed, counter)`` makes the state two integers, so it can be saved
    and restored exactly (checkpoints resume bit for bit), at the cost of one cuRAND
    generator set-up per draw: a counter-based Philox generator, chosen because cuRAND's
    default XORWOW initialises per-thread states at the first draw after every seeding.
    """

    def __init__(self, index, seed, capture):
        self._index = index
        self._capture = capture
        self.manual_seed(seed)

    def manual_seed(self, seed):
        self._seed, self._counter = int(seed), 0

    def key(self):
        """The next draw's 64-bit key (Philox keys of ember's own kernels, e.g. dropout's)."""
        if self._capture.active:
            refuse("random sampling (dropout, rand, randn, bernoulli, ...)")
        key = (self._seed * 0x9E3779B97F4A7C15 + self._counter) % (1 << 63)
        self._counter += 1
        return key

    def _state(self):
        return cupy.random.RandomState(self.key(), method=cupy.cuda.curand.CURAND_RNG_PSEUDO_PHILOX4_32_10)

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

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return {"seed": self._seed, "counter": self._counter}

    def set_state(self, state):
        self._seed, self._counter = int(state["seed"]), int(state["counter"])


def _apply_matmul_precision():
    """CuPy's compute type for float32 products: TF32 exactly when ``ember.backends.cuda.matmul.allow_tf32``."""
    from cupy._core import _routines_linalg as linalg

    kind = linalg.COMPUTE_TYPE_TF32 if cuda_flags.matmul.allow_tf32 else linalg.COMPUTE_TYPE_DEFAULT
    linalg.set_compute_type(np.dtype(np.float32), kind)


_SCALARS = (bool, int, float, complex, np.generic)


def _asarray(obj, /, dtype=None, **kwargs):
    """``cupy.asarray``, but a Python or NumPy scalar becomes a fill kernel, not a copy from the host.

    A host copy waits for pageable memory and cannot be captured in a CUDA graph; scalars
    (``where(keep, x, asarray(0.0))`` in activations) are common on the training path.
    """
    if isinstance(obj, _SCALARS):
        return cupy.full((), obj, dtype=np.asarray(obj).dtype if dtype is None else dtype)
    return cupy.asarray(obj, dtype=dtype, **kwargs)


_GEMM_TYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _matmul(a, b, /):
    """``cupy.matmul``, but a product of two 2-D float32/float64 arrays goes to cuBLAS through ctypes.

    That path costs less host time per call than CuPy's (see :mod:`.cublas`) and is the one
    captured graphs use, so eager and captured steps compute their products alike.
    """
    if a.ndim == 2 and b.ndim == 2 and a.dtype == b.dtype and a.dtype in _GEMM_TYPES and a.shape[1] == b.shape[0]:
        return cublas.matmul_2d(a, b)
    return cupy.matmul(a, b)


def _namespace():
    namespace = build_namespace(cupy, "ember.backends.cupy.namespace")
    namespace.asarray = _asarray
    namespace.matmul = _matmul
    return namespace


def _cupy_bfloat16():
    """``ml_dtypes``' bfloat16 where this CuPy computes with it (CuPy 14 and later), else None."""
    native = dtypes.numpy_bfloat16()
    if native is None:
        return None
    try:  # one element-wise kernel: compiles only where CuPy's headers know the type
        (cupy.ones(1, dtype=native) + cupy.ones(1, dtype=native)).get()
    except Exception:  # noqa: BLE001 - an older CuPy refuses the dtype in one of several ways
        return None
    return np.dtype(native)


def _widened(array):
    """``array`` as float32 when it is bfloat16 (cupyx's kernels have no bfloat16 loops), else None."""
    return array.astype(np.float32) if array.dtype.kind == "V" else None


class CupyBackend(Backend):
    """Device type ``cuda``: one device index per visible GPU, arrays are ``cupy.ndarray``."""

    device_type = "cuda"
    xp = _namespace()

    def __init__(self):
        super().__init__()
        self._count = cupy.cuda.runtime.getDeviceCount()
        for d in dtypes.all_dtypes + dtypes.complex_dtypes:
            self.register_dtype(d, np.dtype(d.name))
        self.register_dtype_lazily(dtypes.bfloat16, _cupy_bfloat16)
        self.kernels = CupyKernels(self)
        self._capture = CaptureState(self.xp)
        self._asserts = DeviceAsserts()
        self._in_flight = []  # (event, pinned host array) until the asynchronous copy reading it ends
        self._memory_fractions = {}  # device index -> the cap ember.cuda.set_per_process_memory_fraction set
        self._range_depth = 0  # nesting of the profiler ranges range_push opened
        cupy.cuda.set_allocator(raising_torch_oom(cupy.get_default_memory_pool().malloc))
        cuda_flags.matmul._subscribe(_apply_matmul_precision)

    def device_count(self):
        return self._count

    def device_name(self, index):
        name = cupy.cuda.runtime.getDeviceProperties(index)["name"]
        return name.decode() if isinstance(name, bytes) else str(name)

    def device_context(self, index):
        return cupy.cuda.Device(index)

    def set_device(self, index):
        cupy.cuda.Device(index).use()

    def device_of(self, array):
        return array.device.id

    def is_contiguous(self, array):
        return array.flags.c_contiguous

    def layout(self, array):
        size = array.itemsize
        return tuple(s // size for s in array.strides), (array.data.ptr - array.data.mem.ptr) // size

    def storage_size(self, array):
        return array.data.mem.size // array.itemsize

    def memory_owner(self, array):
        return array.data.mem

    def as_strided(self, array, shape, strides, offset):
        size = array.itemsize
        memory = cupy.cuda.MemoryPointer(array.data.mem, offset * size)
        return cupy.ndarray(shape, array.dtype, memptr=memory, strides=tuple(s * size for s in strides))

    def bitcast(self, array, dtype):
        # built on the memory pointer, as as_strided is, so that only the caller's checks apply
        dtype = np.dtype(dtype)
        shape, strides = list(array.shape), list(array.strides)
        if dtype.itemsize != array.itemsize:
            shape[-1] = shape[-1] * array.itemsize // dtype.itemsize
            strides[-1] = dtype.itemsize
        return cupy.ndarray(tuple(shape), dtype, memptr=array.data, strides=tuple(strides))

    def synchronize(self, index=None):
        if self._capture.active:
            refuse("synchronize")
        if index is None:
            cupy.cuda.get_current_stream().synchronize()
        else:
            with cupy.cuda.Device(index):
                cupy.cuda.get_current_stream().synchronize()
        self._asserts.report()

    def memory_allocated(self, index=None):
        with cupy.cuda.Device(index or 0):
            return cupy.get_default_memory_pool().used_bytes()

    def memory_reserved(self, index=None):
        with cupy.cuda.Device(index or 0):
            return cupy.get_default_memory_pool().total_bytes()

    def empty_cache(self, index=None):
        cupy.get_default_memory_pool().free_all_blocks()

    def set_memory_fraction(self, index, fraction):
        with cupy.cuda.Device(index):
            total = cupy.cuda.runtime.memGetInfo()[1]
            # CuPy reads a limit of 0 as "none": a zero fraction caps at one byte instead
            cupy.get_default_memory_pool().set_limit(size=max(int(fraction * total), 1))
        self._memory_fractions[index] = fraction

    def memory_fraction(self, index):
        return self._memory_fractions.get(index, 1.0)

    def can_access_peer(self, index, peer):
        return bool(cupy.cuda.runtime.deviceCanAccessPeer(index, peer))

    def range_push(self, message):
        cupy.cuda.nvtx.RangePush(message)
        self._range_depth += 1
        return self._range_depth - 1

    def range_pop(self):
        cupy.cuda.nvtx.RangePop()
        self._range_depth -= 1
        return self._range_depth

    def mark(self, message):
        cupy.cuda.nvtx.Mark(message)

    def memory_info(self, index):
        with cupy.cuda.Device(index):
            free, total = cupy.cuda.runtime.memGetInfo()
        return int(free), int(total)

    def device_properties(self, index):
        props = cupy.cuda.runtime.getDeviceProperties(index)
        name = props["name"]
        # the names of torch.cuda.get_device_properties; fields a CUDA release dropped are left out
        fields = {
            "major": "major",
            "minor": "minor",
            "total_memory": "totalGlobalMem",
            "multi_processor_count": "multiProcessorCount",
            "is_integrated": "integrated",
            "is_multi_gpu_board": "isMultiGpuBoard",
            "max_threads_per_multi_processor": "maxThreadsPerMultiProcessor",
            "warp_size": "warpSize",
            "regs_per_multiprocessor": "regsPerMultiprocessor",
            "shared_memory_per_block": "sharedMemPerBlock",
            "shared_memory_per_block_optin": "sharedMemPerBlockOptin",
            "shared_memory_per_multiprocessor": "sharedMemPerMultiprocessor",
            "L2_cache_size": "l2CacheSize",
        }
        properties = {"name": name.decode() if isinstance(name, bytes) else str(name)}
        properties.update({ours: int(props[theirs]) for ours, theirs in fields.items() if theirs in props})
        for flag in ("is_integrated", "is_multi_gpu_board"):
            if flag in properties:
                properties[flag] = bool(properties[flag])
        return properties

    def from_host(self, host_array, index, copy=True):
        with cupy.cuda.Device(index):
            if host_array.size == 1:  # a fill kernel: no copy from pageable memory, capturable
                return cupy.full(host_array.shape, host_array.reshape(-1)[0], dtype=host_array.dtype)
            if self._capture.active:
                refuse(f"a copy from the host to the GPU (shape {tuple(host_array.shape)})")
            return cupy.array(host_array, copy=True)

    def to_host(self, array):
        if self._capture.active:
            refuse("a copy from the GPU to the host (.item(), .tolist(), .numpy(), printing, bool())")
        if sync_debug.mode:
            sync_debug.check("a copy from the GPU to the host")
        host = cupy.asnumpy(array)
        self._asserts.report()
        return host

    # -- pinned host memory (Tensor.pin_memory, DataLoader(pin_memory=True)) -------------
    def pin_host(self, host_array):
        memory = cupy.cuda.alloc_pinned_memory(max(host_array.nbytes, 1))
        pinned = np.frombuffer(memory, host_array.dtype, count=host_array.size).reshape(host_array.shape)
        pinned[...] = host_array
        return pinned

    def is_pinned_host(self, host_array):
        return isinstance(buffer_owner(host_array), cupy.cuda.PinnedMemoryPointer)

    def from_host_async(self, host_array, index):
        if (
            host_array.size == 1
            or self._capture.active
            or not host_array.flags.c_contiguous
            or not self.is_pinned_host(host_array)
        ):
            return self.from_host(host_array, index)
        with cupy.cuda.Device(index):
            stream = cupy.cuda.get_current_stream()
            out = cupy.empty(host_array.shape, host_array.dtype)
            out.set(host_array, stream=stream)
            # the pinned block must outlive the copy: kept until the stream passes this event
            self._in_flight = [(event, held) for event, held in self._in_flight if not event.done]
            self._in_flight.append((stream.record(), host_array))
            return out

    def check_indices(self, name, indices, bound, ignore_index, error, message):
        """Checked on the GPU; a failure raises ``RuntimeError`` at the next synchronizing call."""
        self._asserts.check(name, indices, bound, ignore_index, message)

    # -- streams, events, graphs (see ember.cuda and ember.graphs) ------------------------
    def current_stream(self, index):
        return cupy.cuda.get_current_stream(index)

    def default_stream(self, index):
        return cupy.cuda.Stream.null

    def create_stream(self, index, priority=0):
        with cupy.cuda.Device(index):
            return cupy.cuda.Stream(non_blocking=True, priority=priority)

    def create_event(self, index, enable_timing=False, blocking=False):
        with cupy.cuda.Device(index):
            return cupy.cuda.Event(block=blocking, disable_timing=not enable_timing)

    def event_elapsed_ms(self, start, end):
        return cupy.cuda.get_elapsed_time(start, end)

    def graph_pool(self, index):
        return PrivatePool(index)

    def capture_begin(self, index, stream, pool):
        self._asserts.prepare(index)
        self._capture.begin(index, stream, pool)

    def capture_end(self, index, stream):
        graph = self._capture.end(index, stream)
        graph.upload(stream)
        return graph

    def replay(self, graph, stream):
        graph.launch(stream)
        self._asserts.armed = True  # a replayed index check may have failed

    def transfer(self, array, index):
        """Copy between GPUs without a trip through the host."""
        with cupy.cuda.Device(index):
            return cupy.array(array, copy=True)

    def scatter_add(self, target, axis, index, values):
        wide = _widened(target)
        if wide is not None:  # accumulated in float32, rounded once
            self.scatter_add(wide, axis, index, values.astype(np.float32))
            target[...] = wide.astype(target.dtype)
            return
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

        wide = _widened(array)
        if wide is not None:
            return cupyx.scipy.special.erf(wide).astype(array.dtype)
        return cupyx.scipy.special.erf(array)

    def create_generator(self, index, seed):
        return CupyGenerator(index, seed, self._capture)

    def from_dlpack(self, obj):
        array = cupy.from_dlpack(obj)
        return array, array.device.id
