"""oneDNN's C API through ctypes: the library found and loaded once, its functions' signatures, the
CPU engine and a stream per calling thread.

The library is the ``onednn-cpu-gomp`` wheel's ``libdnnl.so.3`` (oneDNN 3.2, OpenMP through
the system's ``libgomp.so.1``), loaded with ``RTLD_DEEPBIND`` so that its calls into itself stay
inside it when a process also holds another oneDNN (PyTorch links one in statically).
:func:`load` returns None where it is missing or fails to load (another platform, no libgomp):
the NumPy kernels then serve alone.

The matrix products and the LSTM layers run on a team of ``ember.get_num_threads()``
(:meth:`Library.on_threads`). So do the bfloat16 convolutions, and the float32 ones where Numba's
compiled loops serve the kernels around them (:mod:`ember.backends.numpy.loops`, on the same team).
Without those loops the float32 convolutions run oneDNN on one OpenMP thread per calling thread (:meth:`Library.on_one_thread`),
the batch split over ember's own thread pool (:mod:`ember.backends.numpy.parallel`): a team would
keep its idle threads spinning for milliseconds after each call (libgomp's default wait), taking
the second core from the pool's kernels that run between the convolutions (a 2-thread CNN step:
58 ms with oneDNN's team, against 47 ms with the team told to sleep).
OpenMP's thread count is a setting of the calling thread that another library in the process
(PyTorch) shares and sets, so it is set around each use and given back after it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading

__all__ = ["OnednnError", "Library", "load"]

_handle = ctypes.c_void_p
_dims = ctypes.c_int64 * 12  # dnnl_dims_t: DNNL_MAX_NDIMS int64s

# dnnl_status_t: the names of the codes a call can return (0 is success)
_STATUS = {
    1: "out of memory",
    2: "invalid arguments",
    3: "unimplemented",
    5: "runtime error",
    6: "not required",
}


class OnednnError(RuntimeError):
    """A oneDNN call that returned an error status."""


class _ExecArg(ctypes.Structure):
    """dnnl_exec_arg_t: one argument of a primitive's execution (its index and its memory)."""

    _fields_ = [("arg", ctypes.c_int), ("memory", _handle)]


# (name, argument types) of the functions used; each returns a dnnl_status_t unless listed in _RETURNS
_SIGNATURES = {
    "dnnl_engine_create": (_handle, ctypes.c_int, ctypes.c_size_t),
    "dnnl_stream_create": (_handle, _handle, ctypes.c_uint),
    "dnnl_memory_desc_create_with_strides": (_handle, ctypes.c_int, _dims, ctypes.c_int, _dims),
    "dnnl_memory_desc_create_with_tag": (_handle, ctypes.c_int, _dims, ctypes.c_int, ctypes.c_int),
    "dnnl_memory_desc_equal": (_handle, _handle),
    "dnnl_memory_desc_get_size": (_handle,),
    "dnnl_memory_desc_destroy": (_handle,),
    "dnnl_memory_create": (_handle, _handle, _handle, _handle),
    "dnnl_memory_set_data_handle": (_handle, _handle),
    "dnnl_memory_destroy": (_handle,),
    "dnnl_primitive_desc_query_md": (_handle, ctypes.c_int, ctypes.c_int),
    "dnnl_primitive_desc_destroy": (_handle,),
    "dnnl_primitive_create": (_handle, _handle),
    "dnnl_primitive_destroy": (_handle,),
    "dnnl_primitive_execute": (_handle, _handle, ctypes.c_int, ctypes.POINTER(_ExecArg)),
    "dnnl_reorder_primitive_desc_create": (_handle, _handle, _handle, _handle, _handle, _handle),
    "dnnl_convolution_forward_primitive_desc_create": (
        (_handle, _handle, ctypes.c_int, ctypes.c_int, _handle, _handle, _handle, _handle)
        + (_dims, _dims, _dims, _dims, _handle)
    ),
    "dnnl_deconvolution_forward_primitive_desc_create": (
        (_handle, _handle, ctypes.c_int, ctypes.c_int, _handle, _handle, _handle, _handle)
        + (_dims, _dims, _dims, _dims, _handle)
    ),
    "dnnl_convolution_backward_data_primitive_desc_create": (
        (_handle, _handle, ctypes.c_int, _handle, _handle, _handle) + (_dims, _dims, _dims, _dims, _handle, _handle)
    ),
    "dnnl_convolution_backward_weights_primitive_desc_create": (
        (_handle, _handle, ctypes.c_int, _handle, _handle, _handle, _handle)
        + (_dims, _dims, _dims, _dims, _handle, _handle)
    ),
    "dnnl_lstm_forward_primitive_desc_create": (
        (_handle, _handle, ctypes.c_int, ctypes.c_int) + (_handle,) * 11 + (ctypes.c_uint, _handle)
    ),
    "dnnl_lstm_backward_primitive_desc_create": (
        (_handle, _handle, ctypes.c_int, ctypes.c_int) + (_handle,) * 22 + (ctypes.c_uint, _handle, _handle)
    ),
    "dnnl_primitive_attr_create": (_handle,),
    "dnnl_primitive_attr_destroy": (_handle,),
    "dnnl_primitive_attr_set_post_ops": (_handle, _handle),
    "dnnl_post_ops_create": (_handle,),
    "dnnl_post_ops_destroy": (_handle,),
    "dnnl_post_ops_append_binary": (_handle, ctypes.c_int, _handle),
    "dnnl_binary_primitive_desc_create": (_handle, _handle, ctypes.c_int, _handle, _handle, _handle, _handle),
    "dnnl_eltwise_forward_primitive_desc_create": (
        (_handle, _handle, ctypes.c_int, ctypes.c_int, _handle, _handle, ctypes.c_float, ctypes.c_float, _handle)
    ),
    "dnnl_post_ops_append_sum": (_handle, ctypes.c_float, ctypes.c_int32, ctypes.c_int),
    "dnnl_matmul_primitive_desc_create": (_handle, _handle, _handle, _handle, _handle, _handle, _handle),
}
_RETURNS = {
    "dnnl_memory_desc_equal": ctypes.c_int,
    "dnnl_memory_desc_get_size": ctypes.c_size_t,
    "dnnl_primitive_desc_query_md": _handle,
}

_CPU_ENGINE = 1  # dnnl_cpu
_IN_ORDER_STREAM = 1  # dnnl_stream_in_order


class Library:
    """The loaded library: its functions as attributes (``lib.dnnl_memory_create(...)``), one CPU engine and a
    stream per calling thread, :meth:`check` for the status a call returns and :meth:`execute` for a
    primitive."""

    def __init__(self, cdll, gomp):
        for name, argtypes in _SIGNATURES.items():
            function = getattr(cdll, name)
            function.argtypes = argtypes
            function.restype = _RETURNS.get(name, ctypes.c_int)
            setattr(self, name, function)
        self._set_omp_threads, self._omp_threads = gomp.omp_set_num_threads, gomp.omp_get_max_threads
        self.engine = _handle()
        self.check(self.dnnl_engine_create(ctypes.byref(self.engine), _CPU_ENGINE, 0), "dnnl_engine_create")
        self._streams = threading.local()  # one stream per calling thread (the chunks of a split run at once)

    def _stream(self):
        stream = getattr(self._streams, "stream", None)
        if stream is None:
            stream = self._streams.stream = _handle()
            self.check(
                self.dnnl_stream_create(ctypes.byref(stream), self.engine, _IN_ORDER_STREAM), "dnnl_stream_create"
            )
        return stream

    @staticmethod
    def check(status, call):
        """Raise :class:`OnednnError` naming ``call`` when ``status`` is not success."""
        if status:
            raise OnednnError(f"oneDNN: {call} failed ({_STATUS.get(status, f'status {status}')})")

    @contextlib.contextmanager
    def on_threads(self, count):
        """Inside, oneDNN's calls from this thread run on ``count`` OpenMP threads (a primitive must run on
        the thread count it was created with); the count is given back after."""
        saved = self._omp_threads()
        if saved != count:
            self._set_omp_threads(count)
        try:
            yield
        finally:
            if saved != count:
                self._set_omp_threads(saved)

    def on_one_thread(self):
        """:meth:`on_threads` of one: oneDNN on the calling thread alone."""
        return self.on_threads(1)

    def execute(self, primitive, args):
        """Run ``primitive`` on this thread's stream with ``args``, a ctypes array of :class:`_ExecArg` (inside
        :meth:`on_one_thread`)."""
        status = self.dnnl_primitive_execute(primitive, self._stream(), len(args), args)
        if status:
            self.check(status, "dnnl_primitive_execute")

    @staticmethod
    def exec_args(pairs):
        """The ctypes array of ``(argument index, memory)`` pairs that :meth:`execute` takes."""
        return (_ExecArg * len(pairs))(*(_ExecArg(arg, memory) for arg, memory in pairs))

    @staticmethod
    def dims(values):
        """A dnnl_dims_t holding ``values``."""
        return _dims(*values)


_state = {}


def _library_path():
    """The path of ``libdnnl.so.3`` from the installed ``onednn-cpu-gomp`` distribution, or None."""
    from importlib import metadata

    try:
        distribution = metadata.distribution("onednn-cpu-gomp")
    except metadata.PackageNotFoundError:
        return None
    for file in distribution.files or ():
        if file.name == "libdnnl.so.3":
            return os.path.realpath(distribution.locate_file(file))
    return None


def load():
    """The :class:`Library`, loaded on the first call; None where oneDNN is not installed or fails to load."""
    if "library" not in _state:
        _state["library"] = None
        path = _library_path() if hasattr(os, "RTLD_DEEPBIND") else None
        if path is not None:
            try:
                cdll = ctypes.CDLL(path, mode=os.RTLD_LOCAL | os.RTLD_DEEPBIND)
                gomp = ctypes.CDLL("libgomp.so.1")  # the OpenMP runtime libdnnl was linked against
                _state["library"] = Library(cdll, gomp)
            except (OSError, AttributeError, OnednnError):
                _state["library"] = None
    return _state["library"]
