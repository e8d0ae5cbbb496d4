""":class:`Compare`: many :class:`~ember.utils.benchmark.Measurement` objects as the tables
``torch.utils.benchmark.Compare`` prints -- one table per label, a row per sub-label (grouped
by thread count), a column per description, each cell the median time."""

from __future__ import annotations

import collections
import enum
import math
from collections.abc import Iterable

from .measurement import Measurement, select_unit, trim_sigfig

__all__ = ["Colorize", "Compare"]

_UNIT_NAMES = {"ns": "nanosecond", "us": "microsecond", "ms": "millisecond", "s": "second"}
_BEST, _GOOD, _BAD, _VERY_BAD = "\033[92m", "\033[34m", "\033[2m\033[91m", "\033[31m"
_BOLD, _END = "\033[1m", "\033[0m"
_RowKey = tuple[int, str, str]  # threads, env, row name


class Colorize(enum.Enum):
    """Which cells a coloured table compares: none, those of a column, or those of a row."""

    NONE = "none"
    COLUMNWISE = "columnwise"
    ROWWISE = "rowwise"


def _colored(text: str, value: float, best: float) -> str:
    """``text`` coloured by how ``value`` compares with the ``best`` of its row or column."""
    if value <= best * 1.01 or value <= best + 100e-9:
        return _BEST + _BOLD + text + _END * 2
    if value <= best * 1.1:
        return _GOOD + _BOLD + text + _END * 2
    if value >= best * 5:
        return _VERY_BAD + _BOLD + text + _END * 2
    if value >= best * 2:
        return _BAD + text + _END * 2
    return text


class Compare:
    """Formats many measurements as tables (printed with :meth:`print` or ``str()``).

    Replicates of one task (same statement and labels) are merged first. Rows are named by
    ``sub_label`` (or the statement), columns by ``description``; the tables are titled by
    ``label`` and grouped by ``num_threads``.

    Args:
        results (list[Measurement]): the measurements.

    Example::

        >>> from ember.utils.benchmark import Compare, Measurement, TaskSpec
        >>> def m(sub_label, description, seconds):
        ...     spec = TaskSpec("x + y", "pass", label="add", sub_label=sub_label, description=description)
        ...     return Measurement(1, [seconds], spec)
        >>> Compare([m("small", "cpu", 1.5e-6), m("large", "cpu", 2.25e-5), m("small", "gpu", 3e-6)]).print()
        [---------- add -----------]
                     |  cpu   |  gpu
        1 threads: -----------------
              small  |   1.5  |  3.0
              large  |  22.5  |
        <BLANKLINE>
        Times are in microseconds (us).
        <BLANKLINE>
    """

    def __init__(self, results: list[Measurement]) -> None:
        self._results: list[Measurement] = []
        self.extend_results(results)
        self._trim_significant_figures = False
        self._colorize = Colorize.NONE
        self._highlight_warnings = False

    def extend_results(self, results: Iterable[Measurement]) -> None:
        """Adds measurements (ValueError for anything else)."""
        results = list(results)
        for r in results:
            if not isinstance(r, Measurement):
                raise ValueError(f"Expected an instance of `Measurement`, got {type(r)} instead.")
        self._results.extend(results)

    def trim_significant_figures(self) -> None:
        """Prints each time with only the figures its spread supports."""
        self._trim_significant_figures = True

    def colorize(self, rowwise: bool = False) -> None:
        """Colours each time by how it compares with the best of its column (or row)."""
        self._colorize = Colorize.ROWWISE if rowwise else Colorize.COLUMNWISE

    def highlight_warnings(self) -> None:
        """Marks the times with a large spread with ``(! XX%)``, the IQR as a percentage of the median."""
        self._highlight_warnings = True

    def print(self) -> None:
        """Prints the tables."""
        print(str(self))

    def __str__(self) -> str:
        by_label: dict[str | None, list[Measurement]] = collections.defaultdict(list)
        for m in Measurement.merge(self._results):
            by_label[m.label].append(m)
        return "\n".join(self._table(results) for results in by_label.values())

    def _table(self, results: list[Measurement]) -> str:
        unit, scale = select_unit(min(r.median for r in results))
        row_keys = list(dict.fromkeys((r.num_threads, r.env, r.as_row_name) for r in results))
        row_keys.sort(key=lambda key: key[:2])  # by threads and env, each keeping the statements' order
        column_keys = list(dict.fromkeys(r.description for r in results))
        cells: dict[tuple[_RowKey, str | None], Measurement] = {
            ((r.num_threads, r.env, r.as_row_name), r.description): r for r in results
        }
        highlight = self._highlight_warnings and any(r.has_warnings for r in results)
        render_env = len({r.env for r in results}) > 1
        env_width = max(len(r.env) for r in results) if render_env else 0

        formats = [self._column_format(col, results, scale) for col in column_keys]
        string_rows: list[list[str]] = [[""] + [str(c) if c is not None else "" for c in column_keys]]
        previous_env = None
        for threads, env, name in row_keys:
            label = f"({env})" if render_env and env != previous_env else ""
            previous_env = env
            row = ["  " + label.ljust(env_width + 4) + name]
            for col, template in zip(column_keys, formats):
                m = cells.get(((threads, env, name), col))
                if m is None:
                    row.append(" " * len(template.format(1.0, "")))
                    continue
                value = m.median / scale
                if self._trim_significant_figures:
                    value = trim_sigfig(value, m.significant_figures)
                spread = f" (! {m.iqr / m.median * 100:.0f}%)" if self._highlight_warnings and m.has_warnings else ""
                row.append(template.format(value, spread))
            string_rows.append(row)
        widths = [max(len(row[i]) for row in string_rows) for i in range(len(string_rows[0]))]
        header = "  |  ".join(text.center(w) for text, w in zip(string_rows[0], widths))
        lines = [f"[{(' ' + (results[0].label or '') + ' ').center(len(header) - 2, '-')}]", header]
        previous_threads = None
        for (threads, env, name), row in zip(row_keys, string_rows[1:]):
            if threads != previous_threads:
                lines.append(f"{threads} threads: ".ljust(len(header), "-"))
                previous_threads = threads
            parts = [row[0].ljust(widths[0])]
            for text, width, col in zip(row[1:], widths[1:], column_keys):
                text = text.center(width)
                m = cells.get(((threads, env, name), col))
                best = self._best(m, (threads, env, name), col, cells, row_keys, column_keys)
                if m is not None and best is not None:
                    text = _colored(text, m.median, best)
                parts.append(text)
            lines.append("  |  ".join(parts))
        lines.append(f"\nTimes are in {_UNIT_NAMES[unit]}s ({unit}).")
        if highlight:
            lines.append("(! XX%) Measurement has high variance, where XX is the IQR / median * 100.")
        return "\n".join(lines) + "\n"

    def _best(
        self,
        m: Measurement | None,
        row_key: _RowKey,
        column: str | None,
        cells: dict[tuple[_RowKey, str | None], Measurement],
        row_keys: list[_RowKey],
        column_keys: list[str | None],
    ) -> float | None:
        """The median the cell is coloured against (None: no colouring)."""
        if self._colorize is Colorize.NONE or m is None:
            return None
        if self._colorize is Colorize.ROWWISE:
            peers = [cells.get((row_key, c)) for c in column_keys]
        else:  # the column, within the same thread count
            peers = [cells.get((key, column)) for key in row_keys if key[0] == row_key[0]]
        return min(p.median for p in peers if p is not None)

    def _column_format(self, column: str | None, results: list[Measurement], scale: float) -> str:
        """The format of a column's cells: wide enough for its largest time, with one decimal (or,
        trimming, as many as its most precise time supports), and room for a spread warning."""
        ms = [r for r in results if r.description == column]
        highlight = self._highlight_warnings and any(m.has_warnings for m in ms)
        leading = [math.ceil(math.log10(m.median / scale)) for m in ms]
        decimals = (
            min(max(m.significant_figures - d, 0) for m, d in zip(ms, leading)) if self._trim_significant_figures else 1
        )
        length = max(leading) + decimals + (1 if decimals else 0)
        return f"{{:>{length}.{decimals}f}}{{:>{7 if highlight else 0}}}"
