"""``ember.cuda``: CUDA device management for the backend serving device type ``cuda``.

Devices, memory statistics, streams and events, and PyTorch's CUDA-graph API
(:class:`CUDAGraph`, :class:`graph`, :func:`make_graphed_callables`) over the generic capture
of :mod:`ember.graphs`. Nothing here imports CuPy until a function is called; without CuPy or
a GPU, :func:`is_available` is False, the seeding functions do nothing (as PyTorch's CPU build) and
the other functions raise with the reason.
"""

from __future__ import annotations

import contextlib
import gc
import secrets
import sys
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any, Literal

from .. import device_memory
from ..device import device as _device
from ..device_errors import AcceleratorError, OutOfMemoryError
from ..graphed import graph_callable
from ..graphs import Graph as _Graph
from ..graphs import GraphPool, is_capturing
from ..ops.creation import CUDA_LEGACY_TYPES
from ..plugin import backend_registry
from ..random import decode_state, encode_state
from ..tensor import Tensor
from . import amp, nvtx
from .availability import backend as _backend
from .availability import is_available, is_bf16_supported
from .current import current_device as _current_device
from .current import index_of, set_current_device
from .memory import (
    empty_cache,
    get_per_process_memory_fraction,
    max_memory_allocated,
    max_memory_cached,
    max_memory_reserved,
    mem_get_info,
    memory_allocated,
    memory_cached,
    memory_reserved,
    memory_stats,
    memory_stats_as_nested_dict,
    memory_summary,
    reset_accumulated_memory_stats,
    reset_max_memory_allocated,
    reset_max_memory_cached,
    reset_peak_memory_stats,
    set_per_process_memory_fraction,
)
from .properties import get_device_capability, get_device_properties
from .sync_debug import get_sync_debug_mode, set_sync_debug_mode

__all__ = [
    "is_available",
    "is_bf16_supported",
    "device_count",
    "current_device",
    "set_device",
    "device",
    "get_device_name",
    "synchronize",
    "get_device_properties",
    "get_device_capability",
    "memory_allocated",
    "memory_reserved",
    "max_memory_allocated",
    "max_memory_reserved",
    "memory_stats",
    "memory_summary",
    "reset_peak_memory_stats",
    "reset_max_memory_allocated",
    "mem_get_info",
    "empty_cache",
    "memory_cached",
    "max_memory_cached",
    "reset_max_memory_cached",
    "reset_accumulated_memory_stats",
    "memory_stats_as_nested_dict",
    "set_per_process_memory_fraction",
    "get_per_process_memory_fraction",
    "ipc_collect",
    "can_device_access_peer",
    "get_arch_list",
    "get_gencode_flags",
    "is_tf32_supported",
    "initial_seed",
    "is_current_stream_capturing",
    "get_sync_debug_mode",
    "set_sync_debug_mode",
    "device_of",
    "StreamContext",
    "OutOfMemoryError",
    "AcceleratorError",
    "nvtx",
    "is_initialized",
    "init",
    "default_stream",
    "manual_seed",
    "manual_seed_all",
    "seed",
    "seed_all",
    "get_rng_state",
    "set_rng_state",
    "get_rng_state_all",
    "set_rng_state_all",
    "Stream",
    "Event",
    "current_stream",
    "set_stream",
    "stream",
    "CUDAGraph",
    "graph",
    "graph_pool_handle",
    "make_graphed_callables",
    "amp",
    *CUDA_LEGACY_TYPES,
]


# the legacy CUDA tensor types (``ember.cuda.FloatTensor(2, 3)``: a tensor on the current device), in
# the order of ember.ops.creation.LEGACY_TYPES
(
    FloatTensor,
    DoubleTensor,
    HalfTensor,
    LongTensor,
    IntTensor,
    ShortTensor,
    CharTensor,
    ByteTensor,
    BoolTensor,
    BFloat16Tensor,
) = CUDA_LEGACY_TYPES.values()


def device_count() -> int:
    """Number of CUDA devices (0 when CUDA is unavailable)."""
    return _backend().device_count() if is_available() else 0


def current_device() -> int:
    """Index of the current CUDA device; raises without CUDA, as PyTorch's CPU build."""
    _backend()
    return _current_device()


def is_initialized() -> bool:
    """True once a backend serving ``cuda`` has been loaded (by a CUDA tensor, a function of
    this module or :func:`init`); asking loads nothing."""
    return backend_registry().loaded_backend("cuda") is not None


def init() -> None:
    """Load the backend serving ``cuda`` now rather than on first use; raises ``RuntimeError``
    with the reason when none can serve it."""
    _backend()


def set_device(index: _device | str | int) -> None:
    """Make ``index`` the current CUDA device for the backend's allocations and launches."""
    index = index_of(index)
    _backend().set_device(index)
    set_current_device(index)


class device:  # noqa: N801 - mirrors torch.cuda.device
    """Context manager that makes ``index`` the current CUDA device inside the block
    (``None`` or a negative index: no change)."""

    def __init__(self, index: _device | str | int | None) -> None:
        if index is None:
            index = -1
        self.index = index_of(index)

    def __enter__(self) -> device:
        if self.index < 0:
            return self
        self._previous = _current_device()
        self._context = _backend().device_context(self.index)
        self._context.__enter__()
        set_current_device(self.index)
        return self

    def __exit__(self, *exc: Any) -> bool | None:
        if self.index < 0:
            return None
        set_current_device(self._previous)
        return self._context.__exit__(*exc)


class device_of(device):  # noqa: N801 - mirrors torch.cuda.device_of
    """Context manager that makes the device of ``obj`` (a tensor) current inside the block; a
    no-op for a tensor that is not on a CUDA device.

    Args:
        obj (Tensor): the tensor whose device to use.
    """

    def __init__(self, obj: Tensor) -> None:
        super().__init__(obj.get_device() if obj.is_cuda else -1)


def can_device_access_peer(device: _device | str | int | None, peer_device: _device | str | int | None) -> bool:
    """Whether ``device`` can read and write ``peer_device``'s memory directly.

    Args:
        device (ember.device or int): the device that reads.
        peer_device (ember.device or int): the device that is read.
    """
    count = _backend().device_count()
    index, peer = index_of(device), index_of(peer_device)
    if not 0 <= index < count:
        raise AssertionError(f"Invalid device id: {index} ({count} CUDA device(s))")
    if not 0 <= peer < count:
        raise AssertionError(f"Invalid peer device id: {peer} ({count} CUDA device(s))")
    return _backend().can_access_peer(index, peer)


def get_arch_list() -> list[str]:
    """The GPU architectures ember's CUDA kernels are built for (``['sm_90']`` on an H200).

    The CUDA backend compiles its kernels at run time for the GPUs present, so this lists their
    architectures; empty without CUDA.
    """
    if not is_available():
        return []
    archs = {get_device_capability(index) for index in range(device_count())}
    return [f"sm_{major}{minor}" for major, minor in sorted(archs)]


def get_gencode_flags() -> str:
    """The NVCC ``-gencode`` flags of :func:`get_arch_list` (empty without CUDA)."""
    return " ".join(f"-gencode compute=compute_{arch[3:]},code={arch}" for arch in get_arch_list())


def is_tf32_supported() -> bool:
    """Whether the current GPU computes in TF32 (compute capability 8.0 and later); False without CUDA."""
    return is_available() and get_device_capability() >= (8, 0)


def initial_seed() -> int:
    """The seed of the current CUDA device's default generator; raises without CUDA."""
    return _backend().generator(_current_device()).initial_seed()


def is_current_stream_capturing() -> bool:
    """Whether a CUDA graph is being captured (see :class:`graph`); raises without CUDA."""
    _backend()
    return is_capturing()


def ipc_collect() -> None:
    """Free GPU memory that other processes no longer hold through CUDA IPC; raises without CUDA.

    ember does not share CUDA memory between processes (``ember.multiprocessing`` sends
    CUDA tensors by value), so there is nothing to collect.
    """
    _backend()


def get_device_name(index: int | None = None) -> str:
    """The GPU's name, e.g. ``'NVIDIA H200'``."""
    return _backend().device_name(index_of(index))


def synchronize(device: _device | str | int | None = None) -> None:
    """Wait until all queued work on the device has finished.

    Args:
        device (ember.device or int, optional): the device. Default: the current device
    """
    index = index_of(device)
    backend = _backend()
    backend.synchronize(index)
    device_memory.observe(backend, index)


def manual_seed(seed: int) -> None:
    """Seed the default generator of the current CUDA device.

    Without CUDA this does nothing, as PyTorch's CPU build (which queues the seed for a CUDA
    that never starts), so a program may seed CUDA unconditionally.

    Args:
        seed (int): the seed.
    """
    if is_available():
        _backend().generator(current_device()).manual_seed(int(seed))


def manual_seed_all(seed: int) -> None:
    """Seed the default generators of every CUDA device (nothing without CUDA, as :func:`manual_seed`).

    Args:
        seed (int): the seed.
    """
    if is_available():
        backend = _backend()
        for index in range(backend.device_count()):
            backend.generator(index).manual_seed(int(seed))


def seed() -> None:
    """Seed the current CUDA device's default generator with a random number (nothing without CUDA)."""
    if is_available():
        _backend().generator(current_device()).manual_seed(secrets.randbits(63))


def seed_all() -> None:
    """Seed every CUDA device's default generator with one random number (nothing without CUDA)."""
    if is_available():
        manual_seed_all(secrets.randbits(63))


def get_rng_state(device: _device | str | int = "cuda") -> Tensor:
    """The state of a CUDA device's default generator as a CPU uint8 tensor.

    Without CUDA this raises AssertionError, as PyTorch's CPU build does.

    Args:
        device (ember.device or int): the device. Default: the current CUDA device.
    """
    if not is_available():
        raise AssertionError("get_rng_state: ember has no CUDA device (no backend serves 'cuda')")
    return encode_state(_backend().generator(index_of(device)).get_state())


def set_rng_state(new_state: Tensor, device: _device | str | int = "cuda") -> None:
    """Restore a CUDA device's default generator to a state from :func:`get_rng_state`.

    Without CUDA this does nothing, as PyTorch's CPU build (which queues it for a CUDA that never starts).

    Args:
        new_state (ember.ByteTensor): the state to restore.
        device (ember.device or int): the device. Default: the current CUDA device.
    """
    if is_available():
        generator = _backend().generator(index_of(device))
        generator.set_state(decode_state(new_state, generator.raw_state))


def get_rng_state_all() -> list[Tensor]:
    """The states of every CUDA device's default generator (empty without CUDA)."""
    return [get_rng_state(index) for index in range(device_count())]


def set_rng_state_all(new_states: Iterable[Tensor]) -> None:
    """Restore every CUDA device's default generator, device ``i`` from ``new_states[i]``."""
    for index, state in enumerate(new_states):
        set_rng_state(state, index)


# -- streams and events ---------------------------------------------------------------------
class Stream:
    """A CUDA stream: an ordered queue of device work (PyTorch's ``torch.cuda.Stream``).

    Args:
        device (int or str, optional): the device. Default: the current device
        priority (int): lower numbers run first. Default: 0

    Example::

        >>> s = ember.cuda.Stream()  # doctest: +SKIP
        >>> with ember.cuda.stream(s):  # doctest: +SKIP
        ...     y = x * 2
    """

    def __init__(self, device: _device | str | int | None = None, priority: int = 0, _native: Any = None) -> None:
        self.device_index = index_of(device)
        self._native = _native if _native is not None else _backend().create_stream(self.device_index, priority)

    @property
    def cuda_stream(self) -> int:
        """The raw ``cudaStream_t`` handle as an integer."""
        return self._native.ptr

    def wait_event(self, event: Event) -> None:
        """Make later work on this stream wait for ``event``."""
        self._native.wait_event(event._native)

    def wait_stream(self, stream: Stream) -> None:
        """Make later work on this stream wait for the work queued so far on ``stream``."""
        self.wait_event(stream.record_event())

    def record_event(self, event: Event | None = None) -> Event:
        """Record ``event`` (a new one by default) on this stream and return it."""
        event = Event() if event is None else event
        event.record(self)
        return event

    def query(self) -> bool:
        """True when all work queued on the stream has finished."""
        return bool(self._native.done)

    def synchronize(self) -> None:
        """Wait until all work queued on the stream has finished."""
        self._native.synchronize()

    def __enter__(self) -> Stream | None:
        self._context = stream(self)
        return self._context.__enter__()

    def __exit__(self, *exc: Any) -> bool | None:
        return self._context.__exit__(*exc)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Stream) and self.cuda_stream == other.cuda_stream

    def __hash__(self) -> int:
        return hash(self.cuda_stream)

    def __repr__(self) -> str:
        return f"<ember.cuda.Stream device=cuda:{self.device_index} cuda_stream={self.cuda_stream:#x}>"


class Event:
    """A marker in a stream, to wait for or to time (PyTorch's ``torch.cuda.Event``).

    Args:
        enable_timing (bool): record time, for :meth:`elapsed_time`. Default: ``False``
        blocking (bool): :meth:`synchronize` blocks the thread instead of spinning. Default: ``False``
        interprocess (bool): not supported; must be ``False``. Default: ``False``
    """

    def __init__(self, enable_timing: bool = False, blocking: bool = False, interprocess: bool = False) -> None:
        if interprocess:
            raise RuntimeError("Event: interprocess events are not supported by ember")
        self._native = _backend().create_event(current_device(), enable_timing, blocking)

    def record(self, stream: Stream | None = None) -> None:
        """Record the event on ``stream`` (default: the current stream)."""
        stream = current_stream() if stream is None else stream
        self._native.record(stream._native)

    def wait(self, stream: Stream | None = None) -> None:
        """Make later work on ``stream`` (default: the current stream) wait for this event."""
        (current_stream() if stream is None else stream).wait_event(self)

    def query(self) -> bool:
        """True when the work before the event has finished."""
        return bool(self._native.done)

    def synchronize(self) -> None:
        """Wait until the work before the event has finished."""
        self._native.synchronize()

    def elapsed_time(self, end_event: Event) -> float:
        """Milliseconds from this event to ``end_event`` (both recorded, with ``enable_timing=True``)."""
        return _backend().event_elapsed_ms(self._native, end_event._native)


def default_stream(device: _device | str | int | None = None) -> Stream:
    """The default stream of ``device`` (default: the current device): CUDA's null stream.

    Args:
        device (ember.device or int, optional): the device. Default: the current device
    """
    index = index_of(device)
    return Stream(index, _native=_backend().default_stream(index))


def current_stream(device: _device | str | int | None = None) -> Stream:
    """The stream ember launches on for ``device`` (default: the current device)."""
    index = index_of(device)
    return Stream(index, _native=_backend().current_stream(index))


def set_stream(stream: Stream | None) -> None:
    """Make ``stream`` the current stream of its device (prefer the :func:`stream` context)."""
    if stream is not None:
        stream._native.use()


class StreamContext:
    """Context manager that launches the work of the ``with`` block on ``stream`` (``None``: no
    change); what :func:`stream` returns.

    Args:
        stream (Stream, optional): the stream.
    """

    def __init__(self, stream: Stream | None) -> None:
        self.stream = stream

    def __enter__(self) -> Stream | None:
        if self.stream is None:
            return None
        self._contexts = contextlib.ExitStack()
        self._contexts.enter_context(device(self.stream.device_index))
        self._contexts.enter_context(self.stream._native)
        return self.stream

    def __exit__(self, *exc: Any) -> bool | None:
        return None if self.stream is None else self._contexts.__exit__(*exc)


def stream(stream: Stream | None) -> StreamContext:
    """Launch the work of the ``with`` block on ``stream`` (``None``: no change).

    Example::

        >>> s = ember.cuda.Stream()  # doctest: +SKIP
        >>> with ember.cuda.stream(s):  # doctest: +SKIP
        ...     y = model(x)
    """
    return StreamContext(stream)


# -- CUDA graphs ----------------------------------------------------------------------------
class CUDAGraph(_Graph):
    """A captured sequence of CUDA work, replayed with :meth:`replay` (PyTorch's ``torch.cuda.CUDAGraph``).

    Capture with the :class:`graph` context manager after warming the code up on a side
    stream; every tensor the captured code creates is a static tensor reused by each replay.
    ``.item()``, printing, host-to-device copies of non-scalars, random sampling and
    synchronization cannot be captured: they raise ``RuntimeError`` naming the operation.

    Example::

        >>> g = ember.cuda.CUDAGraph()  # doctest: +SKIP
        >>> with ember.cuda.graph(g):  # doctest: +SKIP
        ...     static_loss = train_step(static_input, static_target)
        >>> static_input.copy_(next_batch); g.replay()  # doctest: +SKIP
    """

    def __init__(self, keep_graph: bool = False) -> None:
        super().__init__("cuda", current_device)


def graph_pool_handle() -> GraphPool:
    """A new graph memory pool on the current device, to share between graphs (``pool=``)."""
    return GraphPool(_backend(), current_device())


class graph:  # noqa: N801 - mirrors torch.cuda.graph
    """Capture the work of a ``with`` block into ``cuda_graph`` (PyTorch's ``torch.cuda.graph``).

    The block runs on ``stream`` (default: a side stream shared by all captures); the
    device is synchronized first. If the block raises, the capture is abandoned and the
    graph left empty.

    Args:
        cuda_graph (CUDAGraph): the graph to capture into.
        pool (GraphPool, optional): memory pool to share (``other_graph.pool()`` or
            :func:`graph_pool_handle`). Default: a pool of this graph's own
        stream (Stream, optional): the capture stream. Default: a side stream
        capture_error_mode (str): accepted for PyTorch compatibility. Default: ``"global"``
    """

    default_capture_stream: Stream | None = None

    def __init__(
        self,
        cuda_graph: CUDAGraph,
        pool: GraphPool | None = None,
        stream: Stream | None = None,
        capture_error_mode: str = "global",
    ) -> None:
        if stream is None:
            if graph.default_capture_stream is None:
                graph.default_capture_stream = Stream()
            stream = graph.default_capture_stream
        self.cuda_graph = cuda_graph
        self.pool = pool
        self.capture_stream = stream
        self.capture_error_mode = capture_error_mode

    def __enter__(self) -> graph:
        synchronize()
        gc.collect()
        self._stream = stream(self.capture_stream)
        self._stream.__enter__()
        try:
            self.cuda_graph.capture_begin(pool=self.pool, capture_error_mode=self.capture_error_mode)
        except BaseException:
            self._stream.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Literal[False]:
        try:
            self.cuda_graph.capture_end()
        except Exception:
            if exc_type is None:
                raise
        finally:
            self._stream.__exit__(None, None, None)
        if exc_type is None:
            return False
        self.cuda_graph.reset()
        if "captur" in str(exc) and "cannot run while a CUDA graph" not in str(exc):
            # the array library's own refusal: say which ember code ran into it
            raise RuntimeError(
                f"an operation in the block cannot be captured in a CUDA graph (the traceback above shows "
                f"which): {type(exc).__name__}: {exc}"
            ) from exc
        return False


def make_graphed_callables(
    callables: Any,
    sample_args: tuple[Any, ...],
    num_warmup_iters: int = 3,
    allow_unused_input: bool = False,
    pool: GraphPool | None = None,
) -> Any:
    """Graphed versions of functions or modules: forward and backward each replay a captured graph.

    Each callable is warmed up ``num_warmup_iters`` times on a side stream with
    ``sample_args``, then its forward and its backward (``ember.autograd.grad`` of its
    outputs with respect to its tensor arguments that require grad and, for a module, its
    parameters) are captured. Calling the result copies the arguments into the static
    inputs and replays the forward graph; its backward replays the backward graph and
    accumulates the parameters' gradients as usual. A module keeps its eager ``forward``
    while its ``training`` flag differs from the one it was graphed in.

    Args:
        callables (callable or Module or tuple): what to graph (a tuple: one result each).
        sample_args (tuple): the tensor arguments of each callable (a tuple of tuples for a
            tuple of callables); their shapes, dtypes and ``requires_grad`` are fixed.
        num_warmup_iters (int): eager runs before capture. Default: 3
        allow_unused_input (bool): allow arguments that no output depends on. Default: ``False``
        pool (GraphPool, optional): memory pool for the graphs. Default: a new one

    Example::

        >>> model = ember.nn.Linear(8, 4).cuda()  # doctest: +SKIP
        >>> x = ember.randn(16, 8, device="cuda", requires_grad=True)  # doctest: +SKIP
        >>> graphed = ember.cuda.make_graphed_callables(model, (x,))  # doctest: +SKIP
        >>> graphed(x).sum().backward()  # doctest: +SKIP
    """
    single = not isinstance(callables, tuple)
    if single:
        callables, sample_args = (callables,), (sample_args,)
    if len(callables) != len(sample_args):
        raise ValueError(
            f"make_graphed_callables: {len(callables)} callables but {len(sample_args)} tuples of sample arguments"
        )
    pool = graph_pool_handle() if pool is None else pool
    results = tuple(
        graph_callable(fn, tuple(args), num_warmup_iters, allow_unused_input, pool, sys.modules[__name__])
        for fn, args in zip(callables, sample_args)
    )
    return results[0] if single else results
