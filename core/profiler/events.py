"""The profiler's results: one :class:`FunctionEvent` per recorded range, their averages by key
(:class:`FunctionEventAvg`) and the list that holds either (:class:`EventList`), as in
``torch.autograd.profiler_util``.

Times are in microseconds, as PyTorch reports them; memory in bytes.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

from .formatting import format_time

__all__ = ["DeviceType", "Interval", "FunctionEvent", "FunctionEventAvg", "EventList"]


class DeviceType(enum.Enum):
    """Where an event ran (``torch.autograd.DeviceType``'s names for the kinds ember has)."""

    CPU = 0
    CUDA = 1
    PrivateUse1 = 19


class Interval:
    """A time range ``[start, end]`` in microseconds since the profiler started."""

    __slots__ = ("start", "end")

    def __init__(self, start: float, end: float) -> None:
        self.start, self.end = start, end

    def elapsed_us(self) -> float:
        """``end - start``, in microseconds."""
        return self.end - self.start

    def __repr__(self) -> str:
        return f"Interval(start={self.start}, end={self.end})"


class _TimesAsText:
    """The ``*_str`` forms of the time totals, and the averages per call (of a class with ``count``,
    ``cpu_time_total``, ``self_cpu_time_total``, ``device_time_total`` and ``self_device_time_total``)."""

    @property
    def cpu_time(self: Any) -> float:
        """CPU time per call (``cpu_time_total / count``)."""
        return 0.0 if self.count == 0 else self.cpu_time_total / self.count

    @property
    def device_time(self: Any) -> float:
        """Device time per call (``device_time_total / count``)."""
        return 0.0 if self.count == 0 else self.device_time_total / self.count

    cuda_time = device_time

    @property
    def cpu_time_str(self: Any) -> str:
        return format_time(self.cpu_time)

    @property
    def cpu_time_total_str(self: Any) -> str:
        return format_time(self.cpu_time_total)

    @property
    def self_cpu_time_total_str(self: Any) -> str:
        return format_time(self.self_cpu_time_total)

    @property
    def device_time_str(self: Any) -> str:
        return format_time(self.device_time)

    @property
    def device_time_total_str(self: Any) -> str:
        return format_time(self.device_time_total)

    @property
    def self_device_time_total_str(self: Any) -> str:
        return format_time(self.self_device_time_total)


class FunctionEvent(_TimesAsText):
    """One recorded range: an op, a backward node, or a :class:`~ember.profiler.record_function`.

    Attributes:
        id (int): unique within the profile, in the order the ranges opened.
        name (str): ``"aten::mul"``, ``"MulBackward0"``, a ``record_function``'s name
            (``"ProfilerStep*"`` for every step of a scheduled profiler).
        trace_name (str): the name in a Chrome trace (``"ProfilerStep#3"`` for a step).
        thread (int): the native id of the thread it ran on.
        time_range (Interval): start and end, microseconds since the profiler started.
        input_shapes (list): the shape of each argument (``[]`` for a non-tensor) with
            ``record_shapes=True``, else ``[]``.
        stack (list[str]): the Python frames ``"file(line): function"`` of the call outside
            ember, innermost first, with ``with_stack=True``.
        cpu_children (list[FunctionEvent]): the ranges directly inside it, on its thread.
        cpu_parent (FunctionEvent or None): the range directly around it.
        sequence_nr (int): the sequence number of the autograd node that the op made or that
            ran (links a forward op to its backward), ``-1`` for none.
        cpu_memory_usage (int): bytes of the new tensors the range made on the CPU, its
            children's included (with ``profile_memory=True``).
        device_memory_usage (int): the same for the tensors it made on an accelerator.
        is_user_annotation (bool): made by ``record_function``.
    """

    count = 1
    is_async = False
    is_remote = False
    is_legacy = False
    node_id = -1
    scope = 0
    flops = 0
    overload_name = ""
    device_type = DeviceType.CPU
    device_index = 0
    #: recorded around a public call (:mod:`ember.profiler.entry_points`) rather than a Function
    wraps_op = False

    def __init__(
        self,
        id: int,  # noqa: A002 - PyTorch's name
        name: str,
        thread: int,
        start_us: float,
        end_us: float,
        input_shapes: list[list[int]] | None = None,
        stack: list[str] | None = None,
        sequence_nr: int = -1,
        is_user_annotation: bool = False,
        use_device: str | None = None,
    ) -> None:
        self.id = id
        # the steps share one name, as PyTorch's (the trace keeps the numbered one)
        self.name = "ProfilerStep*" if name.startswith("ProfilerStep#") else name
        self.trace_name = name
        self.thread = thread
        self.fwd_thread = thread
        self.time_range = Interval(start_us, end_us)
        self.input_shapes = [] if input_shapes is None else input_shapes
        self.stack = [] if stack is None else stack
        self.sequence_nr = sequence_nr
        self.is_user_annotation = is_user_annotation
        self.use_device = use_device
        self.cpu_children: list[FunctionEvent] = []
        self.cpu_parent: FunctionEvent | None = None
        #: bytes of the tensors this range itself made, on the CPU and on an accelerator
        self.own_cpu_memory = 0
        self.own_device_memory = 0
        #: the time of an op on an accelerator, measured with a device sync around it (None: not measured)
        self.measured_device_time: float | None = None

    @property
    def key(self) -> str:
        """What :meth:`EventList.key_averages` groups by: the name."""
        return self.name

    @property
    def cpu_time_total(self) -> float:
        """Microseconds between the start and the end, children included."""
        return self.time_range.elapsed_us()

    @property
    def self_cpu_time_total(self) -> float:
        """``cpu_time_total`` less the children's (the time spent in this range itself)."""
        return self.cpu_time_total - sum(child.cpu_time_total for child in self.cpu_children)

    @property
    def device_time_total(self) -> float:
        """The device time of an op measured on an accelerator; of another range, its children's."""
        if self.measured_device_time is not None:
            return self.measured_device_time
        return sum(child.device_time_total for child in self.cpu_children)

    @property
    def self_device_time_total(self) -> float:
        return self.device_time_total - sum(child.device_time_total for child in self.cpu_children)

    @property
    def cpu_memory_usage(self) -> int:
        return self.own_cpu_memory + sum(child.cpu_memory_usage for child in self.cpu_children)

    @property
    def self_cpu_memory_usage(self) -> int:
        return self.own_cpu_memory

    @property
    def device_memory_usage(self) -> int:
        return self.own_device_memory + sum(child.device_memory_usage for child in self.cpu_children)

    @property
    def self_device_memory_usage(self) -> int:
        return self.own_device_memory

    def __repr__(self) -> str:
        return (
            f"<FunctionEvent id={self.id} name={self.name} thread={self.thread} "
            f"cpu_time_total={self.cpu_time_total:.3f} self_cpu_time_total={self.self_cpu_time_total:.3f} "
            f"cpu_children={[child.id for child in self.cpu_children]} input_shapes={self.input_shapes}>"
        )


class FunctionEventAvg(_TimesAsText):
    """The sums over the events of one key (a name, and the shapes or stack when grouped by them).

    Attributes:
        key (str): the events' name.
        count (int): how many events were summed.
        cpu_time_total (float): the sum of the events' times, in microseconds (``cpu_time`` is
            ``cpu_time_total / count``).
        self_cpu_time_total (float): the sum of their self times.
        device_time_total (float): the sum of their device times (``self_device_time_total``:
            of their self device times).
        input_shapes (list): the key's shapes when grouped by them, else ``[]``.
        stack (list[str]): the key's frames when grouped by them, else ``[]``.
    """

    def __init__(self) -> None:
        self.key: str | None = None
        self.count = 0
        self.node_id = 0
        self.is_async = False
        self.is_remote = False
        self.is_legacy = False
        self.use_device: str | None = None
        self.cpu_time_total = 0.0
        self.device_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.self_device_time_total = 0.0
        self.input_shapes: list[list[int]] | None = None
        self.overload_name: str | None = None
        self.stack: list[str] | None = None
        self.scope: int | None = None
        self.cpu_memory_usage = 0
        self.device_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.self_device_memory_usage = 0
        self.cpu_children: list[FunctionEvent] | None = None
        self.cpu_parent: FunctionEvent | None = None
        self.device_type = DeviceType.CPU
        self.flops = 0
        self.is_user_annotation = False

    def add(self, other: FunctionEvent | FunctionEventAvg) -> FunctionEventAvg:
        """Add ``other``'s totals to these (the first one added sets the shapes and, if unset, the key)."""
        if self.count == 0:
            self.key = other.key if self.key is None else self.key
            self.node_id = other.node_id
            self.is_async = other.is_async
            self.is_remote = other.is_remote
            self.is_legacy = other.is_legacy
            self.use_device = other.use_device
            self.input_shapes = other.input_shapes
            self.overload_name = other.overload_name
            self.stack = other.stack
            self.scope = other.scope
            self.cpu_parent = other.cpu_parent
            self.cpu_children = other.cpu_children
            self.device_type = other.device_type
            self.is_user_annotation = other.is_user_annotation
        self.cpu_time_total += other.cpu_time_total
        self.device_time_total += other.device_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.self_device_time_total += other.self_device_time_total
        self.cpu_memory_usage += other.cpu_memory_usage
        self.device_memory_usage += other.device_memory_usage
        self.self_cpu_memory_usage += other.self_cpu_memory_usage
        self.self_device_memory_usage += other.self_device_memory_usage
        self.count += other.count
        self.flops += other.flops
        return self

    __iadd__ = add

    def __repr__(self) -> str:
        return (
            f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str} "
            f"cpu_time={self.cpu_time_str} count={self.count} input_shapes={self.input_shapes}>"
        )


class EventList(list):
    """A list of :class:`FunctionEvent` (or, from :meth:`key_averages`, of :class:`FunctionEventAvg`).

    Example::

        >>> x = ember.ones(4)
        >>> with ember.profiler.profile() as prof:
        ...     y = x * 2
        >>> events = prof.events()
        >>> [e.name for e in events]
        ['aten::mul']
        >>> averages = events.key_averages()
        >>> averages[0].key, averages[0].count
        ('aten::mul', 1)
    """

    def __init__(
        self,
        events: Iterable[Any] = (),
        use_device: str | None = None,
        profile_memory: bool = False,
        with_flops: bool = False,
    ) -> None:
        super().__init__(events)
        self._use_device = use_device
        self._profile_memory = profile_memory
        self._with_flops = with_flops

    @property
    def self_cpu_time_total(self) -> float:
        """The sum of the events' self CPU time, in microseconds."""
        return sum(event.self_cpu_time_total for event in self)

    def table(
        self,
        sort_by: str | None = None,
        row_limit: int = 100,
        max_src_column_width: int = 75,
        max_name_column_width: int = 55,
        max_shapes_column_width: int = 80,
        header: str | None = None,
        top_level_events_only: bool = False,
        time_unit: str | None = None,
    ) -> str:
        """The events as a table like PyTorch's, one row per event, sorted by ``sort_by``.

        Args:
            sort_by (str, optional): an attribute to sort by, largest first: ``"cpu_time_total"``,
                ``"self_cpu_time_total"``, ``"cpu_time"``, ``"count"``, ``"cpu_memory_usage"``,
                ``"self_cpu_memory_usage"``, ``"device_time_total"`` (``"cuda_time_total"``), ...
                Default: ``None`` (as they are).
            row_limit (int): at most this many rows (``-1``: all). Default: ``100``.
            header (str, optional): a line printed above the table.
            top_level_events_only (bool): only events with no parent. Default: ``False``.
            time_unit (str, optional): ``"s"``, ``"ms"`` or ``"us"`` for every time (default: each
                time in the unit that suits it).
        """
        from .table import build_table

        return build_table(
            self,
            sort_by=sort_by,
            row_limit=row_limit,
            max_src_column_width=max_src_column_width,
            max_name_column_width=max_name_column_width,
            max_shapes_column_width=max_shapes_column_width,
            header=header,
            profile_memory=self._profile_memory,
            use_device=self._use_device,
            top_level_events_only=top_level_events_only,
            time_unit=time_unit,
        )

    def __str__(self) -> str:
        return self.table()

    def export_chrome_trace(self, path: str) -> None:
        """Write the events as a Chrome trace (``chrome://tracing``, Perfetto) to ``path``
        (gzip-compressed when it ends in ``.gz``)."""
        from .chrome_trace import write_chrome_trace

        write_chrome_trace(self, path)

    def key_averages(
        self, group_by_input_shapes: bool = False, group_by_stack_n: int = 0, group_by_overload_name: bool = False
    ) -> EventList:
        """One :class:`FunctionEventAvg` per key: the name, and the input shapes or the first
        ``group_by_stack_n`` frames of the stack when asked (the averages keep the shapes and
        the frames only then)."""
        averages: dict[tuple[Any, ...], FunctionEventAvg] = {}
        for event in self:
            key: tuple[Any, ...] = (event.key, event.node_id)
            if group_by_input_shapes:
                key += (str(event.input_shapes),)
            if group_by_stack_n > 0:
                key += (tuple(event.stack[:group_by_stack_n]),)
            if group_by_overload_name:
                key += (event.overload_name,)
            average = averages.get(key)
            if average is None:
                average = averages[key] = FunctionEventAvg()
            average.add(event)
        for average in averages.values():  # what the key holds, as PyTorch keeps it
            average.stack = (average.stack or [])[:group_by_stack_n]
            if not group_by_input_shapes:
                average.input_shapes = []
        return EventList(
            averages.values(), use_device=self._use_device, profile_memory=self._profile_memory, with_flops=False
        )

    def total_average(self) -> FunctionEventAvg:
        """The sums over every event, under the key ``"Total"``."""
        total = FunctionEventAvg()
        for event in self:
            total.add(event)
        total.key = "Total"
        return total
