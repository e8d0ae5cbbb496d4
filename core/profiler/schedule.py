"""When the profiler records: :class:`ProfilerAction` and :func:`schedule`, as PyTorch's."""

from __future__ import annotations

import enum
import warnings
from collections.abc import Callable

__all__ = ["ProfilerAction", "schedule"]


class ProfilerAction(enum.Enum):
    """What the profiler does during a step.

    ``NONE``: nothing. ``WARMUP``: get ready, discard. ``RECORD``: record.
    ``RECORD_AND_SAVE``: record, and at the end of the step hand the cycle's events to
    ``on_trace_ready``.
    """

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(
    *, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0, skip_first_wait: int = 0
) -> Callable[[int], ProfilerAction]:
    """A profiler schedule: the :class:`ProfilerAction` of each step number.

    After ``skip_first`` steps, cycles of ``wait`` idle steps, ``warmup`` steps and ``active``
    recorded steps follow one another, ``repeat`` times (``0``: until the profiler stops). The
    last active step of a cycle is ``RECORD_AND_SAVE``. With ``skip_first_wait`` set, the first
    cycle starts without its ``wait`` steps.

    Args:
        wait (int): idle steps at the start of each cycle.
        warmup (int): warmup steps after them.
        active (int): recorded steps after those (at least 1).
        repeat (int): the number of cycles (``0``: no limit). Default: ``0``.
        skip_first (int): idle steps before the first cycle. Default: ``0``.
        skip_first_wait (int): skip the first cycle's ``wait`` steps if non-zero. Default: ``0``.

    Raises:
        AssertionError: a negative count, or ``active <= 0`` (as PyTorch).

    Example::

        >>> from ember.profiler import schedule
        >>> s = schedule(wait=1, warmup=1, active=2, repeat=1)
        >>> [s(step).name for step in range(5)]
        ['NONE', 'WARMUP', 'RECORD', 'RECORD_AND_SAVE', 'NONE']
    """
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup={warmup} (need >= 0), "
            f"active={active} (need > 0), repeat={repeat} (need >= 0), skip_first={skip_first} (need >= 0)."
        )
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results", stacklevel=2)
    cycle = wait + warmup + active

    def action(step: int) -> ProfilerAction:
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            step += wait
        if repeat > 0 and step >= repeat * cycle:
            return ProfilerAction.NONE
        phase = step % cycle
        if phase < wait:
            return ProfilerAction.NONE
        if phase < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if phase < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return action
