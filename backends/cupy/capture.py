"""CUDA-graph capture for the CuPy backend: the native side of :mod:`ember.graphs`.

While a capture is in progress:

- every allocation comes from the graph's private ``cupy.cuda.MemoryPool`` (PyTorch's graph
  pool), so memory the graph reads and writes is never handed to eager code afterwards;
- ``xp.matmul`` is the ctypes cuBLAS path of :mod:`.cublas` (CuPy refuses cuBLAS then);
- what cannot be captured raises ``RuntimeError`` naming the op: copies between host and
  device (``.item()``, ``.numpy()``, printing, ``ember.tensor(...)`` of non-scalars),
  synchronization, and random sampling (its seed would be frozen into the graph).
"""

from __future__ import annotations

import sys

import cupy

from . import cublas
from .allocator import raising_torch_oom

__all__ = ["CaptureState", "PrivatePool", "refuse"]


class PrivatePool:
    """A memory pool of graphs on one device; graphs given the same pool share its memory."""

    def __init__(self, index):
        self.index = index
        with cupy.cuda.Device(index):
            self.pool = cupy.cuda.MemoryPool()
        self.malloc = raising_torch_oom(self.pool.malloc)


def _caller():
    """The nearest ember function outside the CuPy backend on the stack, as ``module.qualname``."""
    frame = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not module.startswith("ember.backends.cupy"):
            return f"{module}.{frame.f_code.co_qualname}"
        frame = frame.f_back
    return "?"


def refuse(what):
    """Raise the error for an operation that cannot run while a graph is captured."""
    raise RuntimeError(
        f"{what} cannot run while a CUDA graph is being captured (called from {_caller()}); "
        "a captured step must keep its data on the device: create inputs, scalars and indices "
        "before the capture and read results (.item(), printing) after replay()"
    )


class CaptureState:
    """Which captures are in progress in this process (one per stream at most)."""

    def __init__(self, xp):
        self._xp = xp
        self._eager_matmul = xp.matmul
        self._allocators = {}
        self.active = 0

    def begin(self, index, stream, pool):
        if stream.ptr == 0:
            raise RuntimeError(
                "CUDA graphs must be captured on a non-default stream: use ember.cuda.graph(g), "
                "which captures on a side stream, or make a stream current with ember.cuda.stream(s)"
            )
        if stream.is_capturing():
            raise RuntimeError("capture_begin: this stream is already capturing a graph")
        cublas.prepare(index)
        with cupy.cuda.Device(index):
            cupy.cuda.get_current_stream().synchronize()
            previous = cupy.cuda.get_allocator()
            cupy.cuda.set_allocator(pool.malloc)
            try:
                stream.begin_capture()
            except Exception:
                cupy.cuda.set_allocator(previous)
                raise
        self._allocators[stream.ptr] = previous
        self.active += 1
        self._xp.matmul = cublas.matmul

    def end(self, index, stream):
        previous = self._allocators.pop(stream.ptr, None)
        self.active -= 1
        if not self.active:
            self._xp.matmul = self._eager_matmul
        try:
            with cupy.cuda.Device(index):
                graph = stream.end_capture()
        finally:
            cupy.cuda.set_allocator(previous)
        return graph
