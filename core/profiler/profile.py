"""``ember.profiler.profile``: PyTorch's profiler context manager, with schedules and trace handlers."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Any

from ..autograd import profiler as _legacy
from .activity import ProfilerActivity, device_type_of, supported_activities
from .events import EventList
from .record_function import record_function
from .schedule import ProfilerAction

__all__ = ["profile"]


def _record_always(step: int) -> ProfilerAction:
    return ProfilerAction.RECORD


def _incorrect(previous: str, following: str) -> Callable[[], None]:
    """A warning that the schedule went from ``previous`` to ``following`` (PyTorch's)."""
    return lambda: warnings.warn(f"Incorrect schedule: {previous} followed by {following}", stacklevel=3)


class profile:  # noqa: N801 - PyTorch's name
    """Profile the ops run inside the ``with`` block (or between :meth:`start` and :meth:`stop`).

    Each ember op run while recording is an event named as PyTorch names it (``aten::mul``,
    ``aten::linear`` around ``aten::addmm``), with its start, end, thread and, with
    ``record_shapes``, its arguments' shapes; ops called inside another op or a
    :class:`record_function` are its children (self time = its time less theirs). The backward
    pass is recorded too: ``autograd::engine::evaluate_function: MulBackward0`` around
    ``MulBackward0`` around the ops of that node's backward.

    With a ``schedule``, the steps marked by :meth:`step` go through the schedule's actions:
    nothing is recorded in ``NONE`` and ``WARMUP`` steps, and at the end of a
    ``RECORD_AND_SAVE`` step ``on_trace_ready(prof)`` gets the cycle's events. Each step is a
    ``ProfilerStep#N`` range then. Without a schedule every step records, and
    ``on_trace_ready`` is called when the profiler stops.

    Recording costs nothing while no profiler records: the profiler installs its hooks when it
    starts recording and removes them when it stops. On an accelerator activity (``CUDA``, or
    ``PrivateUse1`` for ember's other accelerator backends) each op on that device is timed
    with a device synchronization before and after it, only while recording, so that its time
    (``device_time_total``) is that of its device work; ``CUDA`` on a machine without a GPU
    warns and records the CPU only, as PyTorch.

    Args:
        activities (iterable of ProfilerActivity, optional): what to record. Default: every
            :func:`supported_activities`.
        schedule (callable, optional): step number -> :class:`ProfilerAction`
            (see :func:`ember.profiler.schedule`). Default: record every step.
        on_trace_ready (callable, optional): called with the profiler when a cycle's events are
            ready (e.g. :func:`tensorboard_trace_handler`).
        record_shapes (bool): keep the shapes of the ops' arguments. Default: ``False``.
        profile_memory (bool): count the bytes of the tensors each op makes. Default: ``False``.
        with_stack (bool): keep each op's Python stack (outside ember). Default: ``False``.
        acc_events (bool): keep the events of earlier cycles. Default: ``False``.
        use_cuda (bool, optional): deprecated: add (``True``) or remove the ``CUDA`` activity.

    The other arguments of PyTorch's signature (``with_flops``, ``with_modules``,
    ``experimental_config``, ``execution_trace_observer``, ``custom_trace_id_callback``,
    ``post_processing_timeout_s``) are accepted and ignored.

    Example::

        >>> from ember.profiler import profile, ProfilerActivity, record_function
        >>> x = ember.ones(8, 4, requires_grad=True)
        >>> w = ember.ones(3, 4, requires_grad=True)
        >>> with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        ...     with record_function("forward"):
        ...         y = ember.nn.functional.linear(x, w).relu().sum()
        ...     y.backward()
        >>> names = [e.key for e in prof.key_averages()]
        >>> names[:5]
        ['forward', 'aten::linear', 'aten::t', 'aten::matmul', 'aten::mm']
        >>> "autograd::engine::evaluate_function: ReluBackward0" in names
        True
        >>> print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=3))  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        activities: Iterable[ProfilerActivity] | None = None,
        schedule: Callable[[int], ProfilerAction] | None = None,
        on_trace_ready: Callable[[profile], Any] | None = None,
        record_shapes: bool = False,
        profile_memory: bool = False,
        with_stack: bool = False,
        with_flops: bool = False,
        with_modules: bool = False,
        experimental_config: Any = None,
        execution_trace_observer: Any = None,
        acc_events: bool = False,
        use_cuda: bool | None = None,
        custom_trace_id_callback: Callable[[], str] | None = None,
        post_processing_timeout_s: float | None = None,
    ) -> None:
        chosen = set(activities) if activities is not None else supported_activities()
        if use_cuda is not None:
            warnings.warn("`use_cuda` is deprecated, use `activities` argument instead", FutureWarning, stacklevel=2)
            if use_cuda:
                chosen.add(ProfilerActivity.CUDA)
            else:
                chosen.discard(ProfilerActivity.CUDA)
        if not chosen:
            raise AssertionError("No valid profiler activities found")
        if ProfilerActivity.CUDA in chosen:
            from .. import cuda

            if not cuda.is_available():
                warnings.warn("CUDA is not available, disabling CUDA profiling", stacklevel=2)
                chosen.discard(ProfilerActivity.CUDA)
        self.activities = chosen
        self.use_device = device_type_of(chosen)
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = with_flops
        self.acc_events = acc_events
        self.schedule = schedule if schedule is not None else _record_always
        self.record_steps = schedule is not None  # a "ProfilerStep#N" range per step
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.current_action = self.schedule(self.step_num)
        self.step_rec_fn: record_function | None = None
        #: the recorder of the current cycle (made in WARMUP or at the first recorded step)
        self.profiler: _legacy.profile | None = None
        A = ProfilerAction
        prepare, start, stop, ready = self.prepare_trace, self.start_trace, self.stop_trace, self._trace_ready
        # (previous action, next action; None when stopping) -> what to do, as PyTorch's profiler
        self.action_map: dict[tuple[ProfilerAction, ProfilerAction | None], list[Callable[[], Any]]] = {
            (A.NONE, A.NONE): [],
            (A.NONE, A.WARMUP): [prepare],
            (A.NONE, A.RECORD): [prepare, start],
            (A.NONE, A.RECORD_AND_SAVE): [prepare, start],
            (A.WARMUP, A.NONE): [_incorrect("WARMUP", "NONE"), start, stop],
            (A.WARMUP, A.WARMUP): [],
            (A.WARMUP, A.RECORD): [start],
            (A.WARMUP, A.RECORD_AND_SAVE): [start],
            (A.RECORD, A.NONE): [_incorrect("RECORD", "NONE"), stop],
            (A.RECORD, A.WARMUP): [_incorrect("RECORD", "WARMUP"), stop],
            (A.RECORD, A.RECORD): [],
            (A.RECORD, A.RECORD_AND_SAVE): [],
            (A.RECORD_AND_SAVE, A.NONE): [stop, ready],
            (A.RECORD_AND_SAVE, A.WARMUP): [stop, ready, prepare],
            (A.RECORD_AND_SAVE, A.RECORD): [stop, ready, prepare, start],
            (A.RECORD_AND_SAVE, A.RECORD_AND_SAVE): [stop, ready, prepare, start],
            (A.WARMUP, None): [start, stop],
            (A.RECORD, None): [stop, ready],
            (A.RECORD_AND_SAVE, None): [stop, ready],
        }

    # -- the cycle --------------------------------------------------------------------------------

    def prepare_trace(self) -> None:
        """Make the recorder of a new cycle (the last cycle's events are dropped unless ``acc_events``)."""
        previous = self.profiler
        self.profiler = _legacy.profile(
            use_device=self.use_device,
            record_shapes=self.record_shapes,
            profile_memory=self.profile_memory,
            with_stack=self.with_stack,
            acc_events=self.acc_events,
        )
        if self.acc_events and previous is not None:
            self.profiler.function_events = previous.function_events

    def start_trace(self) -> None:
        """Start recording."""
        if self.profiler is None:
            self.prepare_trace()
        self.profiler.__enter__()  # type: ignore[union-attr]

    def stop_trace(self) -> None:
        """Stop recording; the cycle's events are :meth:`events` from now on."""
        if self.profiler is not None:
            self.profiler.__exit__(None, None, None)

    def _trace_ready(self) -> None:
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def _transit_action(self, previous: ProfilerAction, current: ProfilerAction | None) -> None:
        for action in self.action_map.get((previous, current), ()):
            action()

    def _open_step(self) -> None:
        if self.record_steps:
            self.step_rec_fn = record_function(f"ProfilerStep#{self.step_num}")
            self.step_rec_fn.__enter__()

    def _close_step(self) -> None:
        if self.step_rec_fn is not None:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None

    def start(self) -> None:
        """Start the profiler at the current step's action."""
        self._transit_action(ProfilerAction.NONE, self.current_action)
        self._open_step()

    def stop(self) -> None:
        """Stop the profiler (a recording cycle ends and, if it recorded, is handed to ``on_trace_ready``)."""
        self._close_step()
        self._transit_action(self.current_action, None)

    def step(self) -> None:
        """Mark the start of the next step: move to the schedule's action for it."""
        self._close_step()
        previous = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._transit_action(previous, self.current_action)
        self._open_step()

    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- the results ------------------------------------------------------------------------------

    def events(self) -> EventList:
        """The events of the last cycle recorded (:class:`~ember.profiler.events.FunctionEvent`)."""
        if self.profiler is None:
            raise RuntimeError("Profiler didn't finish running")
        return self.profiler.events()

    def key_averages(
        self, group_by_input_shape: bool = False, group_by_stack_n: int = 0, group_by_overload_name: bool = False
    ) -> EventList:
        """The events averaged by name (and by input shapes, or the stack's first frames, if asked):
        a list of :class:`~ember.profiler.events.FunctionEventAvg` whose :meth:`~EventList.table`
        prints them."""
        return self.events().key_averages(group_by_input_shape, group_by_stack_n, group_by_overload_name)

    def export_chrome_trace(self, path: str) -> None:
        """Write the last cycle's events as a Chrome trace JSON file (``.gz``: compressed)."""
        self.events().export_chrome_trace(path)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        """Write one line ``frame;frame;...;op value`` per event with a stack (``with_stack=True``),
        the format of flame graph tools, ``value`` being the event's ``metric`` in microseconds."""
        with open(path, "w", encoding="utf-8") as f:
            for event in self.events():
                if event.stack:
                    f.write(";".join([*reversed(event.stack), event.name]) + f" {int(getattr(event, metric))}\n")
