"""What a :class:`~ember.utils.benchmark.Timer` measured: :class:`TaskSpec` (the statement and
its labels) and :class:`Measurement` (the times, their statistics and PyTorch's printed form)."""

from __future__ import annotations

import collections
import dataclasses
import math
import textwrap
from collections.abc import Iterable
from typing import Any

__all__ = ["TaskSpec", "Measurement", "select_unit", "trim_sigfig"]

_IQR_WARN_THRESHOLD = 0.1  # an interquartile range above this fraction of the median is warned of
_IQR_GROSS_WARN_THRESHOLD = 0.25
_MIN_CONFIDENCE_INTERVAL = 25e-9  # seconds: no measurement is trusted below 25 ns
_MAX_SIGNIFICANT_FIGURES = 4


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """The statement a timer runs and the labels that name it (everything but its globals)."""

    stmt: str
    setup: str
    global_setup: str = ""
    label: str | None = None
    sub_label: str | None = None
    description: str | None = None
    env: str | None = None
    num_threads: int = 1

    @property
    def title(self) -> str:
        """The label (or the one-line statement), with the sub-label after a colon."""
        suffix = f": {self.sub_label}" if self.sub_label else ""
        if self.label is not None:
            return self.label + suffix
        if "\n" not in self.stmt:
            return self.stmt + suffix
        return f"stmt:{f' ({self.sub_label})' if self.sub_label else ''}\n{textwrap.indent(self.stmt, '  ')}"

    def setup_str(self) -> str:
        """The setup as printed (nothing for ``pass``)."""
        if self.setup in ("", "pass"):
            return ""
        return f"setup:\n{textwrap.indent(self.setup, '  ')}" if "\n" in self.setup else f"setup: {self.setup}"

    def summarize(self) -> str:
        """Title, description and setup, one per line (a multi-line one followed by a blank line)."""
        sections = [s for s in (self.title, self.description or "", self.setup_str()) if s]
        return "\n".join(f"{s}\n" if "\n" in s else s for s in sections)


_TASK_SPEC_FIELDS = frozenset(field.name for field in dataclasses.fields(TaskSpec))


def _quantile(sorted_values: tuple[float, ...], q: float) -> float:
    """The ``q`` quantile, interpolating linearly between the two nearest values."""
    position = (len(sorted_values) - 1) * q
    lower = math.floor(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    return sorted_values[lower] + (sorted_values[upper] - sorted_values[lower]) * (position - lower)


@dataclasses.dataclass(repr=False)
class Measurement:
    """The result of a :class:`~ember.utils.benchmark.Timer` run: ``raw_times`` are the seconds
    each block of ``number_per_run`` executions took; the statistics are per execution.

    The fields of its :class:`TaskSpec` (``stmt``, ``label``, ``num_threads``, ...) read as its own.

    Example::

        >>> from ember.utils.benchmark import Measurement, TaskSpec
        >>> m = Measurement(10, [2e-5, 3e-5, 4e-5, 5e-5], TaskSpec("x + y", "pass"))
        >>> round(m.median, 12), round(m.iqr, 12)
        (3.5e-06, 1.5e-06)
        >>> print(repr(m).split("\\n", 1)[1])
        x + y
          Median: 3.50 us
          IQR:    1.50 us (2.75 to 4.25)
          4 measurements, 10 runs per measurement, 1 thread
          WARNING: Interquartile range is 42.9% of the median measurement.
                   This suggests significant environmental influence.
    """

    number_per_run: int
    raw_times: list[float]
    task_spec: TaskSpec
    metadata: dict[Any, Any] | None = None

    def __getattr__(self, name: str) -> Any:
        if name in _TASK_SPEC_FIELDS:
            return getattr(self.task_spec, name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    @property
    def times(self) -> list[float]:
        """The time of one execution, from each block."""
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def _sorted_times(self) -> tuple[float, ...]:
        return tuple(sorted(self.times))

    @property
    def median(self) -> float:
        """The median time of one execution, in seconds."""
        return _quantile(self._sorted_times, 0.5)

    @property
    def mean(self) -> float:
        """The mean time of one execution, in seconds."""
        times = self.times
        return sum(times) / len(times)

    @property
    def iqr(self) -> float:
        """The interquartile range of the times, in seconds."""
        times = self._sorted_times
        return _quantile(times, 0.75) - _quantile(times, 0.25)

    @property
    def significant_figures(self) -> int:
        """How many figures of the median the spread of the central half of the times supports (1 to 4)."""
        times = self._sorted_times
        central = times[len(times) // 4 : math.ceil(3 * len(times) / 4)]
        mean = sum(central) / len(central)
        std = math.sqrt(sum((t - mean) ** 2 for t in central) / len(central))
        confidence_interval = max(1.645 * std / math.sqrt(len(central)), _MIN_CONFIDENCE_INTERVAL)
        figures = math.floor(math.log10(self.median / confidence_interval))
        return min(max(figures, 1), _MAX_SIGNIFICANT_FIGURES)

    def meets_confidence(self, threshold: float = _IQR_WARN_THRESHOLD) -> bool:
        """Whether the interquartile range is below ``threshold`` times the median."""
        return self.iqr / self.median < threshold

    @property
    def _warnings(self) -> tuple[str, ...]:
        if self.meets_confidence(_IQR_WARN_THRESHOLD):
            return ()
        cause = (
            "This suggests significant environmental influence."
            if not self.meets_confidence(_IQR_GROSS_WARN_THRESHOLD)
            else "This could indicate system fluctuation."
        )
        relative = self.iqr / self.median * 100
        return (f"  WARNING: Interquartile range is {relative:.1f}% of the median measurement.\n           {cause}",)

    @property
    def has_warnings(self) -> bool:
        """Whether the spread of the times is large enough to be warned of."""
        return bool(self._warnings)

    @property
    def title(self) -> str:
        return self.task_spec.title

    @property
    def env(self) -> str:
        return "Unspecified env" if self.task_spec.env is None else self.task_spec.env

    @property
    def as_row_name(self) -> str:
        return self.sub_label or self.stmt or "[Unknown]"

    def __repr__(self) -> str:
        n = len(self.raw_times)
        unit, scale = select_unit(self.median)
        lines = [object.__repr__(self), self.task_spec.summarize()]
        lines.append(f"  {'Median: ' if n > 1 else ''}{self.median / scale:.2f} {unit}")
        if n >= 4:
            p25, p75 = _quantile(self._sorted_times, 0.25), _quantile(self._sorted_times, 0.75)
            lines.append(f"  IQR:    {self.iqr / scale:.2f} {unit} ({p25 / scale:.2f} to {p75 / scale:.2f})")
        threads = f"{self.num_threads} thread{'s' if self.num_threads > 1 else ''}"
        if n > 1:
            lines.append(f"  {n} measurements, {self.number_per_run} runs per measurement, {threads}")
        else:
            lines.append(f"  1 measurement, {self.number_per_run} runs , {threads}")
        lines.extend(self._warnings)
        return "\n".join(lines)

    @staticmethod
    def merge(measurements: Iterable[Measurement]) -> list[Measurement]:
        """One measurement per task of ``measurements``, the replicates' times pooled (per
        execution: ``number_per_run=1``; metadata dropped)."""
        pooled: dict[TaskSpec, list[float]] = collections.defaultdict(list)
        for m in measurements:
            pooled[m.task_spec].extend(m.times)
        return [Measurement(1, times, spec) for spec, times in pooled.items()]


def select_unit(t: float) -> tuple[str, float]:
    """The unit (``"ns"``, ``"us"``, ``"ms"`` or ``"s"``) and its length in seconds that print ``t`` seconds best.

    Example::

        >>> select_unit(2.5e-5)
        ('us', 1e-06)
    """
    unit = {-3: "ns", -2: "us", -1: "ms"}.get(int(math.log10(t) // 3), "s") if t > 0 else "s"
    return unit, {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


def trim_sigfig(x: float, n: int) -> float:
    """``x`` rounded to ``n`` significant figures.

    Example::

        >>> trim_sigfig(3.14159, 2)
        3.1
    """
    return float(round(x, n - math.ceil(math.log10(abs(x)))))
