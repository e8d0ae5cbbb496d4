"""Recording: the hooks that turn ember's ops into :class:`~ember.profiler.events.FunctionEvent`.

While no profiler records, ember's per-op path is exactly what it is without a profiler: no
flag is checked. A :class:`Collector` that starts installs its hooks, and removes them when it
stops:

* a layer around :meth:`ember.autograd.Function.apply` (:mod:`ember.autograd.apply_layers`),
  which records each forward op under its ATen name (:mod:`ember.profiler.op_names`);
* a wrapper around the ``backward`` of every ``Function`` class, which records each node the
  engine runs as PyTorch names it (``autograd::engine::evaluate_function: MulBackward0``
  around ``MulBackward0``), with the ops of the backward nested inside (the formulas on native
  arrays, ``Function._native_backward``, are switched off meanwhile, so that every node runs its
  ``backward`` and the ops PyTorch's formulas record, ``aten::mul`` in ``MulBackward0``, are seen);
* a wrapper around the engine's accumulation into a leaf's ``.grad``
  (``torch::autograd::AccumulateGrad``, PyTorch's name);
* wrappers around the public calls that PyTorch records as one op and ember runs as several
  Functions or none (:mod:`ember.profiler.entry_points`).

Ranges nest per thread: a range opened while another is open on the same thread is its child.
One collector records at a time, for every thread of the process.

On an accelerator (``use_device="cuda"``, ...), each op's tensors' device is synchronized before the
op starts and after it ends, so that the time of an op is the time of its device work; that
sync happens only while recording.
"""

from __future__ import annotations

import itertools
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from ..autograd import engine
from ..autograd.apply_layers import ApplyFunction, set_apply_layer
from ..autograd.function import Function
from ..overrides import _WRAPPER_FILENAME
from ..own_frames import EMBER_DIR
from ..tensor import Tensor
from . import entry_points
from .events import EventList, FunctionEvent
from .op_names import op_event_names
from .schemas import function_inputs

__all__ = ["Collector", "active_collector"]

_EVALUATE = "autograd::engine::evaluate_function: "
_ACCUMULATE_GRAD = "torch::autograd::AccumulateGrad"

#: the collector that records now, if any
_active: Collector | None = None


def active_collector() -> Collector | None:
    """The :class:`Collector` that records now (``None`` when no profiler records)."""
    return _active


class Collector:
    """Records ranges into :attr:`events` from :meth:`start` to :meth:`stop`.

    Args:
        record_shapes (bool): keep the shapes of each op's arguments.
        profile_memory (bool): count the bytes of the tensors each op makes.
        with_stack (bool): keep the Python stack of each op's call.
        use_device (str, optional): a device type (``"cuda"``, ``"opencl"``) whose ops are timed
            with a device synchronization around them, and whose time the events report.

    Attributes:
        events (list[FunctionEvent]): the ranges recorded so far.
        running (bool): between :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        record_shapes: bool = False,
        profile_memory: bool = False,
        with_stack: bool = False,
        use_device: str | None = None,
    ) -> None:
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.use_device = use_device
        self.start_ns = 0
        self.events: list[FunctionEvent] = []
        self._ids = itertools.count(1)
        self._local = threading.local()
        self.running = False

    # -- the ranges ---------------------------------------------------------------------------------

    def _stack(self) -> list[FunctionEvent]:
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def open(
        self,
        name: str,
        inputs: tuple[Any, ...] = (),
        sequence_nr: int = -1,
        is_user_annotation: bool = False,
    ) -> FunctionEvent:
        """Open a range named ``name`` on this thread (the child of the one open there)."""
        stack = self._stack()
        event = FunctionEvent(
            next(self._ids),
            name,
            threading.get_native_id(),
            0.0,
            0.0,
            input_shapes=_shapes(inputs) if self.record_shapes else None,
            stack=_python_stack() if self.with_stack and not is_user_annotation else None,
            sequence_nr=sequence_nr,
            is_user_annotation=is_user_annotation,
            use_device=self.use_device,
        )
        if stack:
            event.cpu_parent = stack[-1]
            stack[-1].cpu_children.append(event)
        stack.append(event)
        self.events.append(event)
        event.time_range.start = (time.perf_counter_ns() - self.start_ns) / 1e3
        return event

    def close(self, event: FunctionEvent) -> None:
        """Close ``event`` (and any range still open inside it on this thread)."""
        end = (time.perf_counter_ns() - self.start_ns) / 1e3
        stack = self._stack()
        if event in stack:
            while stack:
                inner = stack.pop()
                inner.time_range.end = end
                if inner is event:
                    break
        elif event.time_range.end == 0.0 and self.running:  # opened on another thread
            event.time_range.end = end

    # -- the ops -------------------------------------------------------------------------------------

    def _open_op(self, names: tuple[str, ...], cls: type, args: tuple[Any, ...]) -> tuple[list[FunctionEvent], float]:
        """The events of ``cls.apply(*args)`` (outermost first) and its start time; the event of the public
        call that runs it under the same name (``aten::add_`` for ``aten::add``) is its first event."""
        if self.use_device is not None:
            _synchronize(args, self.use_device)
        stack = self._stack()
        adopted = []
        if stack and stack[-1].wraps_op and stack[-1].name in (names[0], names[0] + "_"):
            adopted, names = [stack[-1]], names[1:]
        start = (time.perf_counter_ns() - self.start_ns) / 1e3
        opened = [self.open(name, function_inputs(name, cls, args) if self.record_shapes else ()) for name in names]
        return adopted + opened, start

    def _close_op(
        self, events: list[FunctionEvent], start: float, outputs: Any, args: tuple[Any, ...], node_type: type
    ) -> None:
        """Close the events of an op that returned ``outputs``; ``node_type``: the class of the
        backward node it makes, whose sequence number links the op to its backward."""
        outs = outputs if isinstance(outputs, tuple) else (outputs,)
        device = _synchronize(outs, self.use_device) if self.use_device is not None else None
        end = (time.perf_counter_ns() - self.start_ns) / 1e3
        opened = [event for event in events if not event.wraps_op]
        if opened:
            self.close(opened[0])
        if device is not None:
            for event in events:
                event.measured_device_time = (event.measured_device_time or 0.0) + end - start
        node: Any = next(
            (out.grad_fn for out in outs if isinstance(out, Tensor) and type(out.grad_fn) is node_type), None
        )
        if node is not None:
            for event in events:
                event.sequence_nr = node._sequence_nr
        if self.profile_memory:
            cpu, accelerator = _new_bytes(outs, args)
            events[-1].own_cpu_memory += cpu  # the innermost: its parents count their children's
            events[-1].own_device_memory += accelerator

    # -- start and stop ------------------------------------------------------------------------------

    def start(self) -> None:
        """Install the hooks and record from now on."""
        global _active
        if _active is not None:
            raise RuntimeError("Profiler is already enabled: one profiler records at a time")
        self.start_ns = time.perf_counter_ns()
        self.running = True
        _active = self
        set_apply_layer("profiler", _profiling_layer)
        _patch_backwards(Function)
        entry_points.install(self)
        engine._accumulate_into_leaf = _profiled_accumulate

    def stop(self) -> EventList:
        """Remove the hooks, close the ranges still open, and return the events by start time."""
        global _active
        if _active is self:
            engine._accumulate_into_leaf = _original_accumulate
            entry_points.remove()
            _restore_backwards()
            set_apply_layer("profiler", None)
            _active = None
        end = (time.perf_counter_ns() - self.start_ns) / 1e3
        self.running = False
        for event in self.events:
            if event.time_range.end == 0.0:
                event.time_range.end = end
        self.events.sort(key=lambda e: (e.time_range.start, -e.time_range.end))
        return EventList(self.events, use_device=self.use_device, profile_memory=self.profile_memory)


# -- the hooks ---------------------------------------------------------------------------------------


def _profiling_layer(inner: ApplyFunction) -> ApplyFunction:
    def profiling_apply(cls: Any, *args: Any, **kwargs: Any) -> Any:
        collector = _active
        names = op_event_names(cls, args) if collector is not None else ()
        if not names:
            return inner(cls, *args, **kwargs)
        if cls not in _visited:
            _patch_backwards(cls)  # a Function class defined while recording
        events, start = collector._open_op(names, cls, args)  # type: ignore[union-attr]
        try:
            outputs = inner(cls, *args, **kwargs)
        except BaseException:
            collector._close_op(events, start, None, args, cls._backward_cls)  # type: ignore[union-attr]
            raise
        collector._close_op(events, start, outputs, args, cls._backward_cls)  # type: ignore[union-attr]
        return outputs

    return profiling_apply


#: the Function classes whose ``backward`` is wrapped now -> their own ``backward`` attribute
_patched: dict[type, Any] = {}
#: the Function classes whose formula on native arrays is switched off now -> their own ``_native_backward``
_natives: dict[type, Any] = {}
#: the Function classes looked at since recording started (whether or not they define backward)
_visited: set[type] = set()


def _patch_backwards(root: type) -> None:
    """Wrap the ``backward`` of ``root``, its bases and its subclasses that define one."""
    pending = [root, *root.__mro__[1:]]
    while pending:
        cls = pending.pop()
        if cls in _visited or not (isinstance(cls, type) and issubclass(cls, Function)):
            continue
        _visited.add(cls)
        pending.extend(cls.__subclasses__())
        native = cls.__dict__.get("_native_backward")
        if native is not None:
            _natives[cls] = native
            setattr(cls, "_native_backward", None)  # noqa: B010 - any Function class
        own = cls.__dict__.get("backward")
        if isinstance(own, classmethod):  # backward(cls, ctx, *grads)
            wrapped: Any = classmethod(_profiled_backward(own.__func__, ctx_at=1))
        elif isinstance(own, staticmethod) or callable(own):  # backward(ctx, *grads)
            wrapped = staticmethod(_profiled_backward(getattr(own, "__func__", own), ctx_at=0))
        else:
            continue
        _patched[cls] = own
        setattr(cls, "backward", wrapped)  # noqa: B010 - any Function class


def _restore_backwards() -> None:
    for cls, own in _patched.items():
        setattr(cls, "backward", own)  # noqa: B010 - any Function class
    for cls, native in _natives.items():
        setattr(cls, "_native_backward", native)  # noqa: B010 - any Function class
    _patched.clear()
    _natives.clear()
    _visited.clear()


def _profiled_backward(backward: Callable[..., Any], ctx_at: int) -> Callable[..., Any]:
    """``backward`` recording the node it runs for (its argument ``ctx_at``)."""

    def profiled_backward(*args: Any) -> Any:
        collector = _active
        if collector is None:
            return backward(*args)
        ctx = args[ctx_at]
        name = ctx.name()
        sequence_nr = getattr(ctx, "_sequence_nr", -1)
        outer = collector.open(_EVALUATE + name, sequence_nr=sequence_nr)
        collector.open(name, args[ctx_at + 1 :], sequence_nr=sequence_nr)
        try:
            return backward(*args)
        finally:
            collector.close(outer)

    profiled_backward.__wrapped__ = backward  # type: ignore[attr-defined]
    return profiled_backward


_original_accumulate = engine._accumulate_into_leaf


def _profiled_accumulate(leaf: Any, grad: Any, create_graph: bool, held: Any) -> Any:
    collector = _active
    if collector is None:
        return _original_accumulate(leaf, grad, create_graph, held)
    outer = collector.open(_EVALUATE + _ACCUMULATE_GRAD)
    collector.open(_ACCUMULATE_GRAD, (grad,))
    try:
        return _original_accumulate(leaf, grad, create_graph, held)
    finally:
        collector.close(outer)


# -- what an event keeps -----------------------------------------------------------------------------


def _shapes(values: tuple[Any, ...]) -> list[list[int]]:
    return [list(value.shape) if isinstance(value, Tensor) else [] for value in values]


def _python_stack() -> list[str]:
    """The Python frames of the call outside ember, innermost first (as PyTorch lists them): neither
    ember's modules nor the argument checks :mod:`ember.overrides` puts on Tensor's methods."""
    frames = reversed(traceback.extract_stack()[:-1])
    return [
        f"{frame.filename}({frame.lineno}): {frame.name}"
        for frame in frames
        if not frame.filename.startswith(EMBER_DIR) and frame.filename != _WRAPPER_FILENAME
    ]


def _synchronize(values: tuple[Any, ...], device_type: str) -> Any:
    """Wait for the device of the first tensor in ``values`` on a ``device_type`` device; that device."""
    for value in values:
        if isinstance(value, Tensor) and value._device.type == device_type:
            value._backend.synchronize(value._device.index)
            return value._device
    return None


def _new_bytes(outputs: tuple[Any, ...], inputs: tuple[Any, ...]) -> tuple[int, int]:
    """Bytes of the ``outputs`` that are new tensors (not an input, not a view): on the CPU, elsewhere."""
    cpu = accelerator = 0
    for out in outputs:
        if isinstance(out, Tensor) and out._base is None and not any(out is a for a in inputs):
            size = out.numel() * out.element_size()
            if out._device.type == "cpu":
                cpu += size
            else:
                accelerator += size
    return cpu, accelerator
