""":class:`Timer`: PyTorch's ``torch.utils.benchmark.Timer`` for ember, timing a Python statement
with :mod:`timeit`, the accelerator synchronized before each clock read so that queued device
work is counted."""

from __future__ import annotations

import contextlib
import enum
import textwrap
import timeit
from collections.abc import Callable, Iterator
from typing import Any

from ... import accelerator
from ...threads import get_num_threads, set_num_threads
from .measurement import Measurement, TaskSpec, _quantile

__all__ = ["Timer", "Language", "timer"]


class Language(enum.Enum):
    """The language of a timed statement (ember times Python only)."""

    PYTHON = 0
    CPP = 1


def timer() -> float:
    """The clock of :class:`Timer`: ``timeit.default_timer()`` read after the accelerator (when
    there is one) has finished its queued work.

    Example::

        >>> from ember.utils.benchmark import timer
        >>> timer() <= timer()
        True
    """
    if _ACCELERATOR:
        accelerator.synchronize()
    return timeit.default_timer()


_ACCELERATOR = accelerator.is_available()


@contextlib.contextmanager
def _threads(n: int) -> Iterator[None]:
    previous = get_num_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        set_num_threads(previous)


def _dedent(code: str) -> str:
    code = textwrap.dedent(code)
    return (code[1:] if code.startswith("\n") else code).rstrip()


class Timer:
    """Times a Python statement, as ``torch.utils.benchmark.Timer`` does.

    Args:
        stmt (str): the statement to time. Default: ``"pass"``.
        setup (str): run once before the timing. Default: ``"pass"``.
        global_setup (str): C++ only in PyTorch; must be empty.
        timer (callable): the clock. Default: :func:`timer`, which synchronizes the accelerator (the
            ``cuda`` device, or the device type named by ``EMBER_ACCELERATOR``, ``opencl`` say).
        globals (dict, optional): the names ``stmt`` and ``setup`` see (``ember`` is added).
        label, sub_label, description, env (str, optional): names for the printed
            :class:`Measurement` and for :class:`Compare` (label: the table, sub_label: the row,
            description: the column).
        num_threads (int): the intra-op threads while timing. Default: ``1``.
        language: ``"python"`` only.

    Example::

        >>> from ember.utils.benchmark import Timer
        >>> x = ember.ones(100)
        >>> t = Timer("x + x", globals={"x": x}, label="add", description="100 elements")
        >>> m = t.timeit(100)
        >>> m.number_per_run, len(m.times), m.mean > 0
        (100, 1, True)
        >>> m = t.blocked_autorange(min_run_time=0.01)
        >>> m.median > 0 and sum(m.raw_times) >= 0.01
        True
    """

    def __init__(
        self,
        stmt: str = "pass",
        setup: str = "pass",
        global_setup: str = "",
        timer: Callable[[], float] = timer,
        globals: dict[str, Any] | None = None,
        label: str | None = None,
        sub_label: str | None = None,
        description: str | None = None,
        env: str | None = None,
        num_threads: int = 1,
        language: Language | str = Language.PYTHON,
    ) -> None:
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        if language not in (Language.PYTHON, "py", "python"):
            if language in (Language.CPP, "cpp", "c++"):
                raise NotImplementedError("Timer: ember times Python statements only (language='cpp')")
            raise ValueError(f"Invalid language `{language}`.")
        if global_setup:
            raise ValueError(
                f"global_setup is C++ only, got `{global_setup}`. Most likely this code can simply be moved to `setup`."
            )
        namespace = dict(globals or {})
        namespace.setdefault("ember", __import__("ember"))
        stmt, setup = _dedent(stmt), _dedent(setup)
        self._timer = timeit.Timer(stmt=stmt, setup=setup, timer=timer, globals=namespace)
        self._task_spec = TaskSpec(stmt, setup, global_setup, label, sub_label, description, env, num_threads)

    def _timeit(self, number: int) -> float:
        return max(self._timer.timeit(number), 1e-9)

    def timeit(self, number: int = 1000000) -> Measurement:
        """Runs ``stmt`` ``number`` times (after a warm-up of ``number // 100``) as one measurement."""
        with _threads(self._task_spec.num_threads):
            self._timeit(max(number // 100, 2))
            return Measurement(number, [self._timeit(number)], self._task_spec)

    def repeat(self, repeat: int = -1, number: int = -1) -> None:
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback: Callable[[int, float], None] | None = None) -> None:
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def _block_size(self, min_run_time: float) -> int:
        """The executions per block that make the clock's own cost negligible (at most 0.01%)."""
        with _threads(self._task_spec.num_threads):
            overhead = _quantile(tuple(sorted(self._timeit(0) for _ in range(5))), 0.5)
            number = 1
            while True:
                taken = self._timeit(number)
                if (overhead / taken <= 1e-4 and taken >= min_run_time / 1000) or taken > min_run_time:
                    return number
                if number * 10 > 2147483647:
                    return number
                number *= 10

    def _measure(
        self,
        number: int,
        stop: Callable[[list[float]], bool],
        min_run_time: float,
        max_run_time: float | None,
        callback: Callable[[int, float], None] | None,
    ) -> Measurement:
        total, times = 0.0, []
        with _threads(self._task_spec.num_threads):
            while True:
                spent = self._timeit(number)
                times.append(spent)
                total += spent
                if callback:
                    callback(number, spent)
                if (total >= min_run_time and stop(times)) or (max_run_time and total > max_run_time):
                    break
        return Measurement(number, times, self._task_spec)

    def blocked_autorange(
        self, callback: Callable[[int, float], None] | None = None, min_run_time: float = 0.2
    ) -> Measurement:
        """Times blocks of executions until ``min_run_time`` seconds are spent; the block size is
        chosen first so that the clock's cost (an accelerator synchronization) is amortized.

        Args:
            callback (callable, optional): called with ``(number, seconds)`` after each block.
            min_run_time (float): the total seconds to time for. Default: ``0.2``.
        """
        number = self._block_size(min_run_time)
        return self._measure(number, lambda times: True, min_run_time, None, callback)

    def adaptive_autorange(
        self,
        threshold: float = 0.1,
        *,
        min_run_time: float = 0.01,
        max_run_time: float = 10.0,
        callback: Callable[[int, float], None] | None = None,
    ) -> Measurement:
        """Times blocks until, after ``min_run_time`` seconds and four blocks, the interquartile
        range is below ``threshold`` times the median, or ``max_run_time`` seconds are spent."""
        number = self._block_size(0.05)

        def confident(times: list[float]) -> bool:
            return len(times) > 3 and Measurement(number, times, self._task_spec).meets_confidence(threshold)

        return self._measure(number, confident, min_run_time, max_run_time, callback)
