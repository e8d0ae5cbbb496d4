"""The text table of :meth:`EventList.table`, laid out as PyTorch's profiler prints it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .formatting import format_memory, format_time

__all__ = ["build_table"]

_COLUMN = 12
_SPACING = 2


def _share(part: float, total: float) -> str:
    return "NaN" if total == 0 else f"{part * 100.0 / total:.2f}%"


def _time(time_us: float, unit: str | None) -> str:
    if unit == "s":
        return f"{time_us / 1e6:.3f}s"
    if unit == "ms":
        return f"{time_us / 1e3:.3f}ms"
    if unit == "us":
        return f"{time_us:.3f}us"
    return format_time(time_us)


def _cut(text: str, width: int | None) -> str:
    return text[: width - 3] + "..." if width is not None and len(text) >= width - 3 else text


def build_table(
    events: Sequence[Any],
    sort_by: str | None = None,
    row_limit: int = 100,
    max_src_column_width: int | None = 75,
    max_name_column_width: int | None = 55,
    max_shapes_column_width: int | None = 80,
    header: str | None = None,
    profile_memory: bool = False,
    use_device: str | None = None,
    top_level_events_only: bool = False,
    time_unit: str | None = None,
) -> str:
    """The table of ``events`` (:class:`FunctionEvent` or :class:`FunctionEventAvg`); ``""`` if none."""
    if not events:
        return ""
    if sort_by is not None:
        attribute = sort_by.replace("cuda", "device")
        events = sorted(events, key=lambda event: getattr(event, attribute), reverse=True)
    has_device_time = any(event.self_device_time_total > 0 for event in events)
    device = (use_device or "device").upper()
    has_shapes = any(event.input_shapes for event in events)
    stacks = [event.stack for event in events if event.stack]

    widths: list[int] = []
    aligns: list[str] = []
    headers: list[str] = []

    def column(title: str, width: int, align: str = ">") -> None:
        headers.append(title)
        widths.append(width)
        aligns.append(align)

    name_width = max(len(event.key) for event in events) + 4
    if max_name_column_width is not None:
        name_width = min(name_width, max_name_column_width)
    column("Name", name_width)
    for title in ("Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"):
        column(title, _COLUMN)
    if has_device_time:
        for title in (f"Self {device}", f"Self {device} %", f"{device} total", f"{device} time avg"):
            column(title, _COLUMN)
    if profile_memory:
        column("CPU Mem", _COLUMN)
        column("Self CPU Mem", _COLUMN)
        if any(event.device_memory_usage for event in events):
            column(f"{device} Mem", _COLUMN)
            column(f"Self {device} Mem", _COLUMN)
    column("# of Calls", _COLUMN)
    if has_shapes:
        shapes_width = max(len(str(event.input_shapes)) for event in events) + 4
        if max_shapes_column_width is not None:
            shapes_width = min(shapes_width, max_shapes_column_width)
        column("Input Shapes", shapes_width)
    if stacks:
        source_width = max(len(line) for stack in stacks for line in stack) + 4
        if max_src_column_width is not None:
            source_width = min(source_width, max_src_column_width)
        column("Source Location", source_width, "<")

    def row(values: Sequence[str]) -> str:
        return "".join(
            f"{value:{align}{width}}" + " " * _SPACING for value, align, width in zip(values, aligns, widths)
        )

    separator = "".join("-" * width + " " * _SPACING for width in widths)
    line_length = sum(widths) + _SPACING * (len(widths) - 1)
    total_self_cpu = sum(event.self_cpu_time_total for event in events)
    total_self_device = sum(event.self_device_time_total for event in events if not event.is_user_annotation)

    lines: list[str] = []
    if header is not None:
        lines += ["=" * line_length, header]
    if top_level_events_only:
        lines += ["=" * line_length, "This report only display top-level ops statistics"]
    lines += [separator, row(headers), separator]
    shown = 0
    for event in events:
        if shown == row_limit:
            break
        if top_level_events_only and event.cpu_parent is not None:
            continue
        shown += 1
        values = [
            _cut(event.key, max_name_column_width),
            _share(event.self_cpu_time_total, total_self_cpu),
            _time(event.self_cpu_time_total, time_unit),
            _share(event.cpu_time_total, total_self_cpu),
            _time(event.cpu_time_total, time_unit),
            _time(event.cpu_time, time_unit),
        ]
        if has_device_time:
            values += [
                _time(event.self_device_time_total, time_unit),
                _share(event.self_device_time_total, total_self_device),
                _time(event.device_time_total, time_unit),
                _time(event.device_time, time_unit),
            ]
        if profile_memory:
            values += [format_memory(event.cpu_memory_usage), format_memory(event.self_cpu_memory_usage)]
            if f"{device} Mem" in headers:
                values += [format_memory(event.device_memory_usage), format_memory(event.self_device_memory_usage)]
        values.append(str(event.count))
        if has_shapes:
            values.append(_cut(str(event.input_shapes), max_shapes_column_width))
        if stacks:
            values.append(_cut(event.stack[0] if event.stack else "", max_src_column_width))
        lines.append(row(values))
    lines.append(separator)
    lines.append(f"Self CPU time total: {_time(total_self_cpu, time_unit)}")
    if has_device_time:
        lines.append(f"Self {device} time total: {_time(total_self_device, time_unit)}")
    return "\n".join(lines) + "\n"
