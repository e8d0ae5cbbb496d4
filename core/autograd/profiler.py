"""``ember.autograd.profiler``: PyTorch's original profiler API (``torch.autograd.profiler``).

:class:`profile` records from ``__enter__`` to ``__exit__``; :class:`ember.profiler.profile`, the
newer API with schedules and trace handlers, records each of its cycles with one of these.
Both record through :mod:`ember.profiler.collector`, which costs nothing while neither is on.
"""

from __future__ import annotations

import warnings
from typing import Any

from ..profiler.collector import Collector
from ..profiler.events import EventList, FunctionEvent, FunctionEventAvg
from ..profiler.record_function import record_function

__all__ = ["profile", "record_function", "EventList", "FunctionEvent", "FunctionEventAvg"]


class profile:  # noqa: N801 - PyTorch's name
    """Record the ops run inside the ``with`` block, their backward and ``record_function`` ranges.

    Args:
        enabled (bool): record (``False``: the block runs as it is). Default: ``True``.
        use_cuda (bool): deprecated spelling of ``use_device="cuda"``. Default: ``False``.
        use_device (str, optional): also time ops on this device type (``"cuda"``, ``"opencl"``)
            with a device synchronization around each one, while recording only: the op's time
            is then the time of its device work. Default: ``None`` (host time only).
        record_shapes (bool): keep the shapes of the ops' arguments. Default: ``False``.
        profile_memory (bool): count the bytes of the tensors each op makes. Default: ``False``.
        with_stack (bool): keep each op's Python stack (outside ember). Default: ``False``.
        acc_events (bool): keep the events of earlier ``with`` blocks of this object. Default: ``False``.

    The other arguments of PyTorch's signature (``with_flops``, ``with_modules``, ``use_kineto``,
    ``use_cpu``, ``experimental_config``, ``custom_trace_id_callback``) are accepted and ignored.

    Example::

        >>> x = ember.ones(2, 2, requires_grad=True)
        >>> with ember.autograd.profiler.profile(record_shapes=True) as prof:
        ...     y = (x * x).sum()
        >>> [(e.name, e.input_shapes) for e in prof.function_events]
        [('aten::mul', [[2, 2], [2, 2]]), ('aten::sum', [[2, 2], []])]
        >>> prof.key_averages().table(sort_by="cpu_time_total").splitlines()[1].split()[:3]
        ['Name', 'Self', 'CPU']
    """

    def __init__(
        self,
        enabled: bool = True,
        *,
        use_cuda: bool = False,
        use_device: str | None = None,
        record_shapes: bool = False,
        with_flops: bool = False,
        profile_memory: bool = False,
        with_stack: bool = False,
        with_modules: bool = False,
        use_kineto: bool = False,
        use_cpu: bool = True,
        experimental_config: Any = None,
        acc_events: bool = False,
        custom_trace_id_callback: Any = None,
    ) -> None:
        self.enabled = enabled
        if use_cuda:
            warnings.warn(
                "The attribute `use_cuda` will be deprecated soon, please use ``use_device = 'cuda'`` instead.",
                FutureWarning,
                stacklevel=2,
            )
            use_device = "cuda"
        if use_device == "cuda":
            from .. import cuda

            if not cuda.is_available():
                warnings.warn("CUDA is not available, disabling CUDA profiling", stacklevel=2)
                use_device = None
        self.use_device = use_device
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = with_flops
        self.acc_events = acc_events
        self.entered = False
        self.function_events: EventList | None = None
        self._collector: Collector | None = None

    def __enter__(self) -> profile:
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self.entered = True
        self._collector = Collector(
            record_shapes=self.record_shapes,
            profile_memory=self.profile_memory,
            with_stack=self.with_stack,
            use_device=self.use_device,
        )
        try:
            self._collector.start()
        except RuntimeError:
            self.entered = False
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self.enabled or self._collector is None:
            return
        events = self._collector.stop()
        self._collector = None
        self.entered = False
        if self.acc_events and self.function_events:
            events = EventList(
                [*self.function_events, *events], use_device=self.use_device, profile_memory=self.profile_memory
            )
        self.function_events = events

    def _finished(self) -> EventList:
        if self.function_events is None:
            raise RuntimeError("Profiler didn't finish running")
        return self.function_events

    def events(self) -> EventList:
        """The recorded events (:class:`~ember.profiler.events.FunctionEvent`), by start time."""
        return self._finished()

    def key_averages(
        self, group_by_input_shape: bool = False, group_by_stack_n: int = 0, group_by_overload_name: bool = False
    ) -> EventList:
        """The events averaged by name (and by input shapes, or the stack's first frames, if asked)."""
        return self._finished().key_averages(group_by_input_shape, group_by_stack_n, group_by_overload_name)

    def table(self, sort_by: str | None = None, row_limit: int = 100, **kwargs: Any) -> str:
        """:meth:`EventList.table` of the events (one row per event, not averaged)."""
        return self._finished().table(sort_by=sort_by, row_limit=row_limit, **kwargs)

    def total_average(self) -> FunctionEventAvg:
        """The sums over every event."""
        return self._finished().total_average()

    @property
    def self_cpu_time_total(self) -> float:
        """The sum of the events' self CPU time, in microseconds."""
        return self._finished().self_cpu_time_total

    def export_chrome_trace(self, path: str) -> None:
        """Write the events as a Chrome trace JSON file (see :mod:`ember.profiler.chrome_trace`)."""
        self._finished().export_chrome_trace(path)

    def __str__(self) -> str:
        return self.table()
