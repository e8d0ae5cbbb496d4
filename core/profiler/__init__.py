"""``ember.profiler``: PyTorch's profiler (``torch.profiler``) for ember's ops.

Example::

    >>> from ember.profiler import profile, record_function, ProfilerActivity
    >>> with profile(activities=[ProfilerActivity.CPU]) as prof:
    ...     with record_function("step"):
    ...         y = ember.ones(4) * 2 + 1
    >>> [e.key for e in prof.key_averages()]
    ['step', 'aten::ones', 'aten::mul', 'aten::add']

See :class:`profile` for what is recorded, and the profiling guide in the documentation.
"""

from __future__ import annotations

from .activity import ProfilerActivity, supported_activities
from .chrome_trace import tensorboard_trace_handler
from .events import EventList, FunctionEvent, FunctionEventAvg
from .profile import profile
from .record_function import record_function
from .schedule import ProfilerAction, schedule

__all__ = [
    "profile",
    "record_function",
    "ProfilerActivity",
    "ProfilerAction",
    "schedule",
    "supported_activities",
    "tensorboard_trace_handler",
    "EventList",
    "FunctionEvent",
    "FunctionEventAvg",
]
