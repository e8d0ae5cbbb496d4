"""OpenCL devices, buffers and the lazily compiled, cached kernel programs."""

from __future__ import annotations

import os
import re
import string
import threading
from importlib import resources
from types import SimpleNamespace

import numpy as np
import pyopencl as cl
from pyopencl import enqueue_nd_range_kernel as _enqueue

from . import binary_cache

__all__ = ["Device", "devices", "current", "selection", "float_dtype", "cl_type", "Storage", "PACK"]

#: NumPy dtype -> OpenCL C type (bool is stored as one byte holding 0 or 1).
_CL_TYPES = {
    np.dtype("bool"): "uchar",
    np.dtype("int8"): "char",
    np.dtype("uint8"): "uchar",
    np.dtype("int16"): "short",
    np.dtype("int32"): "int",
    np.dtype("int64"): "long",
    np.dtype("float16"): "half",
    np.dtype("float32"): "float",
    np.dtype("float64"): "double",
}
_HALF = np.dtype("float16")
#: the names of the dtypes OpenCL arrays hold
DTYPE_NAMES = frozenset(d.name for d in _CL_TYPES)

#: OpenCL C compute type -> the NumPy scalar type passed by value for it.
SCALAR_TYPES = {"uchar": np.uint8, "char": np.int8, "short": np.int16, "int": np.int32, "long": np.int64,
                "float": np.float32, "double": np.float64}  # fmt: skip
#: OpenCL C compute type -> the character that packs a scalar of it (:meth:`Device.run`): NumPy's,
#: which PyOpenCL's packer reads as its invokers do (int64 is "l" on 64-bit Linux and macOS)
PACK = {c: np.dtype(t).char.encode() for c, t in SCALAR_TYPES.items()}


#: ``EMBER_OPENCL_NO_FP64=1``: treat every device as lacking ``cl_khr_fp64`` and reject any
#: program whose source uses ``double`` (tests the code paths of devices without float64).
NO_FP64 = os.environ.get("EMBER_OPENCL_NO_FP64", "") not in ("", "0")

_DOUBLE = re.compile(r"\bdouble\d*\b")
_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)


def uses_double(source):
    """Whether OpenCL C ``source`` uses the ``double`` type (outside comments)."""
    return _DOUBLE.search(_COMMENT.sub("", source)) is not None


#: The work-group size of every 1-D launch (see :meth:`Device.launch`).
_LOCAL_SIZE = 128


def cl_type(dtype):
    """The OpenCL C type name of a NumPy dtype (its storage type)."""
    return _CL_TYPES[np.dtype(dtype)]


def compute_type(dtype):
    """The OpenCL C type values of ``dtype`` are computed in: float for float16 (stored as
    ``half`` and read and written with ``vload_half``/``vstore_half``, which need no
    cl_khr_fp16), else the storage type."""
    dtype = np.dtype(dtype)
    return "float" if dtype == _HALF else _CL_TYPES[dtype]


def _source(name):
    return resources.files(__package__).joinpath("cl", name).read_text()


class Storage:
    """An OpenCL buffer of ``nbytes`` (at least one byte) owned by arrays and their views.

    Freed buffers go back to the device's cache (``Device.free``, by size), since creating
    one costs about as much as a small kernel launch (PoCL allocates on first use). Reuse is
    safe on the device's one in-order queue: work queued on a buffer's new owner runs after
    all the work of its old one. Taking and giving back are inline: every op's result makes
    one Storage.
    """

    __slots__ = ("buffer", "nbytes", "device", "__weakref__")

    def __init__(self, device, nbytes, buffer=None):
        self.device = device
        self.nbytes = nbytes
        if buffer is not None:  # a new buffer of nbytes made by the caller
            self.buffer = buffer
        else:
            free = device.free.get(nbytes)
            if free:
                device.cached -= nbytes
                self.buffer = free.pop()
            else:
                self.buffer = device.new_buffer(nbytes)
        allocated = device.allocated = device.allocated + nbytes
        if allocated > device.peak:
            device.peak = allocated

    def __del__(self):
        try:
            device, nbytes = self.device, self.nbytes
            device.allocated -= nbytes
            if device.cached + nbytes <= device.cache_limit:  # keep it for reuse
                free = device.free.get(nbytes)
                if free is None:
                    device.free[nbytes] = [self.buffer]
                else:
                    free.append(self.buffer)
                device.cached += nbytes
        except AttributeError:  # interpreter shutdown
            pass


class Device:
    """One OpenCL device with its context, queue and program cache."""

    def __init__(self, index, cl_device):
        self.index = index
        self.cl_device = cl_device
        self.context = cl.Context([cl_device])
        self.queue = cl.CommandQueue(self.context)
        self.name = f"{cl_device.platform.name.strip()}: {cl_device.name.strip()}"
        self.supports_float64 = not NO_FP64 and (
            "cl_khr_fp64" in cl_device.extensions or cl_device.double_fp_config != 0
        )
        self.max_work_group = cl_device.max_work_group_size
        self.local_size = min(_LOCAL_SIZE, self.max_work_group)
        self.local_range = (self.local_size,)
        self.allocated = 0
        self.peak = 0
        #: freed buffers by size, their bytes, and the most bytes kept (a quarter of the memory, 1 GiB at most)
        self.free = {}
        self.cached = 0
        self.cache_limit = min(cl_device.global_mem_size // 4, 1 << 30)
        self._programs = {}
        self._kernels = {}
        self._meta = {}
        #: element-wise maps: layout -> (flat, meta buffer) and kernel key -> kernel (elementwise.map_into)
        self.layouts = {}
        self.map_kernels = {}
        #: (what, dtype) -> whether CLBlast's GEMM measured faster than the own kernel (clblast.py)
        self.gemm_choice = {}
        self._lock = threading.Lock()
        #: a kernel's arguments are set and the kernel enqueued as one step: a cached kernel is
        #: shared by every thread, and another thread's arguments in between would be launched
        #: (or, on PoCL, crash the process)
        self.launch_lock = threading.Lock()

    # -- buffers -------------------------------------------------------------------------
    def new_buffer(self, nbytes, host=None):
        """A new buffer of ``nbytes`` (the cached ones released first if the device is full),
        holding a copy of ``host`` (a C-contiguous NumPy array of ``nbytes > 0``) when given:
        the driver copies it as it creates the buffer, without waiting for the queue."""
        flags = cl.mem_flags.READ_WRITE
        if host is not None:
            flags |= cl.mem_flags.COPY_HOST_PTR
        for attempt in (0, 1):
            try:
                return cl.Buffer(self.context, flags, max(nbytes, 1), hostbuf=host)
            except cl.MemoryError:
                if attempt:
                    raise
                self.empty_cache()

    def empty_cache(self):
        """Release every cached buffer to the driver."""
        self.free.clear()
        self.cached = 0

    # -- programs -------------------------------------------------------------------------
    def kernel(self, key, file, name, defines=None, substitutions=None, prelude=""):
        """The kernel ``name`` of the program built from ``cl/<file>``, cached by ``key``.

        The program is ``#define`` lines from ``defines``, then ``prelude`` (helper code),
        then the file with ``substitutions`` filled in: one dict, or a list of dicts to
        instantiate the file once per dict, so that one program (one build) holds several
        kernels; a callable returning either (or ``prelude``) is called only when the program
        is built, so a cached kernel costs one dictionary look-up. A key names one program; each of its
        kernels is fetched by ``name``.
        """
        kern = self._kernels.get((key, name))
        if kern is None:
            program = self._programs.get(key)
            if program is None:
                if callable(substitutions):
                    substitutions = substitutions()
                if callable(prelude):
                    prelude = prelude()
                text = _source(file)
                if substitutions:
                    parts = [substitutions] if isinstance(substitutions, dict) else substitutions
                    text = "".join(string.Template(text).substitute(p) for p in parts)
                if "half" in (defines or {}).values():
                    raise TypeError(
                        f"float16 is not supported by the OpenCL kernels of cl/{file} (float16 has element-wise "
                        "ops, casts, reductions, indexing and matmul on OpenCL); convert to float32 first"
                    )
                header = "".join(f"#define {k} {v}\n" for k, v in (defines or {}).items()) + prelude
                if uses_double(header + text):
                    if not self.supports_float64:
                        reason = " (EMBER_OPENCL_NO_FP64 is set)" if NO_FP64 else ""
                        raise TypeError(
                            f"OpenCL device opencl:{self.index} ({self.name}) has no float64{reason}, "
                            f"but the program {key!r} built from cl/{file} uses double"
                        )
                    header = "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n" + header
                with self._lock:
                    program = self._programs[key] = binary_cache.build(self.context, self.cl_device, header + text)
            with self._lock:  # one kernel object per name, however many threads ask at once
                kern = self._kernels.get((key, name))
                if kern is None:
                    kern = getattr(program, name)
                    kern.typed = False
                    self._kernels[(key, name)] = kern
        return kern

    def meta(self, values):
        """A small constant buffer holding the int64 ``values`` (cached; shapes and strides)."""
        values = tuple(int(v) for v in values) or (0,)
        buf = self._meta.get(values)
        if buf is None:
            buf = self._meta_buffer(values, values)
        return buf

    def _meta_buffer(self, key, values):
        """A new constant buffer of the int64 ``values``, cached under ``key``."""
        if len(self._meta) > 4096:
            self._meta.clear()
        host = np.asarray(values or (0,), dtype=np.int64)
        buf = self._meta[key] = cl.Buffer(
            self.context, cl.mem_flags.READ_ONLY | cl.mem_flags.COPY_HOST_PTR, hostbuf=host
        )
        return buf

    def enqueue(self, kern, global_size, local_size, *args):
        """Run ``kern`` over an N-D range; its scalar arguments must be NumPy scalars.

        The first call fixes the kernel's scalar argument types from ``args``: PyOpenCL's
        typed invoker packs them without inspecting each value (about 5x cheaper per launch).
        """
        with self.launch_lock:
            if not kern.typed:
                kern.set_scalar_arg_dtypes([a.dtype if isinstance(a, np.generic) else None for a in args])
                kern.typed = True
            kern(self.queue, global_size, local_size, *args)

    def run(self, kern, global_size, buffers, scalars):
        """Run ``kern`` over ``global_size`` work-items in groups of :attr:`local_size` (see
        :meth:`launch`), its memory arguments ``buffers`` (index, buffer, index, buffer, ...)
        and its scalar arguments ``scalars`` (index, :data:`PACK` character, value, ...) set
        by one call each: the shortest launch PyOpenCL has (no invoker, no event list). The two
        setters are those PyOpenCL's generated invokers call (``Kernel._set_arg_multi``,
        ``_set_arg_buf_pack_multi``; PyOpenCL 2024.1 and later, as ember requires).
        """
        with self.launch_lock:
            kern._set_arg_multi(buffers)
            kern._set_arg_buf_pack_multi(scalars)
            _enqueue(self.queue, kern, global_size, self.local_range, None, None, False, False)

    def launch(self, kern, n, *args, local=None):
        """Run ``kern`` over ``n`` work-items (nothing for ``n == 0``), as :meth:`enqueue`.

        The global size is rounded up to a multiple of one fixed work-group size (every
        kernel returns early past ``n``): runtimes such as PoCL compile a kernel anew for
        each work-group size, and letting them pick one per global size would recompile
        every kernel for nearly every array size.
        """
        if n > 0:
            local = local or self.local_size
            if kern.typed:
                with self.launch_lock:
                    kern(self.queue, (-(-n // local) * local,), (local,), *args)
            else:
                self.enqueue(kern, (-(-n // local) * local,), (local,), *args)


_devices = None


def devices():
    """Every OpenCL device of every platform, GPUs first (raises if there is none)."""
    global _devices
    if _devices is None:
        try:
            platforms = cl.get_platforms()
        except cl.Error as exc:
            raise RuntimeError(f"no OpenCL platform found ({exc}); install an OpenCL runtime such as PoCL") from None
        found = [d for p in platforms for d in p.get_devices()]
        if not found:
            raise RuntimeError("no OpenCL device found on any platform")
        found.sort(key=lambda d: 0 if d.type & cl.device_type.GPU else 1)
        _devices = [Device(i, d) for i, d in enumerate(found)]
    return _devices


#: The index of the current device (``OpenCLBackend.device_context`` sets it).
selection = SimpleNamespace(index=0)


def current():
    """The current OpenCL device (see ``OpenCLBackend.device_context``)."""
    return devices()[selection.index]


def float_dtype(device):
    """The default floating dtype of ``device``'s integer-to-float promotions."""
    return np.dtype("float64" if device.supports_float64 else "float32")
