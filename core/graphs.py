"""Capture and replay of a device's work, whatever the backend (PyTorch's CUDA graphs, generalized).

A :class:`Graph` records everything ember launches on the current stream of a device between
:meth:`Graph.capture_begin` and :meth:`Graph.capture_end`, then :meth:`Graph.replay` runs the
recorded work again on the same memory, without Python dispatch or autograd bookkeeping.
The tensors created during the capture are the graph's *static* tensors: fill the inputs in
place (``static_input.copy_(batch)``), replay, read the outputs.

The backend does the recording through its hooks (:meth:`ember.backend.Backend.capture_begin`,
``capture_end``, ``replay``, ``graph_pool``, ``current_stream``); the CuPy backend uses CUDA
graphs. :mod:`ember.cuda` exposes this under PyTorch's names (``ember.cuda.CUDAGraph``,
``ember.cuda.graph``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .device import device
from .tensor import backend_for_device

if TYPE_CHECKING:
    from .backend import Backend

__all__ = ["Graph", "GraphPool", "is_capturing"]

_capturing = 0


def is_capturing() -> bool:
    """Whether a graph capture is in progress in this process (for code whose effect a replay would not repeat)."""
    return _capturing > 0


def _backend(device_type: str) -> Backend:
    return backend_for_device(device(device_type, 0))


class GraphPool:
    """A memory pool private to captured graphs on one device (PyTorch's graph pool handle).

    Graphs captured with the same pool share its memory; replay them in the order they were
    captured.
    """

    def __init__(self, backend: Backend, index: int) -> None:
        self.backend = backend
        self.index = index
        self.native = backend.graph_pool(index)

    def __repr__(self) -> str:
        return f"GraphPool({self.backend.device_type}:{self.index})"


class Graph:
    """A recording of device work for later replay.

    Args:
        device_type (str): the device type whose backend records (``"cuda"``). Default: ``"cuda"``
        current_device (callable): returns the index of the device to capture on.
    """

    def __init__(self, device_type: str = "cuda", current_device: Callable[[], int] = lambda: 0) -> None:
        self._device_type = device_type
        self._current_device = current_device
        self._native: tuple[Backend, int, Any] | None = None
        self._pool: GraphPool | None = None
        self._capturing: tuple[Backend, int, Any] | None = None

    def capture_begin(self, pool: GraphPool | None = None, capture_error_mode: str = "global") -> None:
        """Start recording the work launched on the device's current stream.

        Args:
            pool (GraphPool, optional): share this memory pool (from :meth:`pool` of another
                graph or ``graph_pool_handle()``). Default: a new private pool.
            capture_error_mode (str): accepted for PyTorch compatibility; ember always refuses
                the uncapturable operations it knows of with an error naming them.
        """
        if self._capturing is not None:
            raise RuntimeError("capture_begin: this graph is already capturing; call capture_end() first")
        if self._native is not None:
            raise RuntimeError("capture_begin: this graph already holds a capture; call reset() before capturing again")
        backend = _backend(self._device_type)
        index = self._current_device()
        if pool is None:
            pool = GraphPool(backend, index)
        elif not isinstance(pool, GraphPool) or pool.backend is not backend or pool.index != index:
            raise RuntimeError(f"capture_begin: pool {pool!r} does not belong to {self._device_type}:{index}")
        global _capturing
        stream = backend.current_stream(index)
        backend.capture_begin(index, stream, pool.native)
        _capturing += 1
        self._pool = pool
        self._capturing = (backend, index, stream)

    def capture_end(self) -> None:
        """Stop recording; the graph can now be replayed."""
        if self._capturing is None:
            raise RuntimeError("capture_end: no capture in progress (call capture_begin() first)")
        global _capturing
        backend, index, stream = self._capturing
        self._capturing = None
        _capturing -= 1
        self._native = (backend, index, backend.capture_end(index, stream))

    def replay(self) -> None:
        """Run the recorded work again on the device's current stream (asynchronously)."""
        if self._native is None:
            raise RuntimeError("replay: the graph holds no capture (capture it first, e.g. with ember.cuda.graph(g))")
        backend, index, native = self._native
        backend.replay(native, backend.current_stream(index))

    def reset(self) -> None:
        """Forget the capture (its memory returns to the pool once no graph or tensor uses it)."""
        if self._capturing is not None:
            raise RuntimeError("reset: a capture is in progress; call capture_end() first")
        self._native = None
        self._pool = None

    def pool(self) -> GraphPool:
        """The graph's memory pool, to share with graphs captured after this one."""
        if self._pool is None:
            raise RuntimeError("pool: the graph has no memory pool before capture_begin()")
        return self._pool
