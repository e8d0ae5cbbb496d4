"""Chrome trace files (``chrome://tracing``, Perfetto, TensorBoard's profiler plugin).

One complete event (``"ph": "X"``) per profiled range, with its start ``ts`` and duration
``dur`` in microseconds, the process id as ``pid`` and the native thread id as ``tid``, as
PyTorch's ``export_chrome_trace`` writes them; ops are of category ``cpu_op``, ``record_function``
ranges of ``user_annotation``.
"""

from __future__ import annotations

import gzip
import json
import os
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["write_chrome_trace", "tensorboard_trace_handler"]


def _trace_event(event: Any, pid: int) -> dict[str, Any]:
    args: dict[str, Any] = {"External id": event.id, "Record function id": 0}
    if event.sequence_nr >= 0:
        args["Sequence number"] = event.sequence_nr
        args["Fwd thread id"] = 0
    if event.input_shapes:
        args["Input Dims"] = event.input_shapes
    if event.stack:
        args["Call stack"] = ";".join(event.stack)
    if event.cpu_memory_usage or event.device_memory_usage:
        args["Bytes"] = event.cpu_memory_usage + event.device_memory_usage
    if event.device_time_total:
        args["Device time (us)"] = event.device_time_total
    return {
        "ph": "X",
        "cat": "user_annotation" if event.is_user_annotation else "cpu_op",
        "name": event.trace_name,
        "pid": pid,
        "tid": event.thread,
        "ts": event.time_range.start,
        "dur": event.time_range.elapsed_us(),
        "args": args,
    }


def chrome_trace(events: Iterable[Any]) -> dict[str, Any]:
    """The Chrome trace of ``events`` as a JSON-ready dict (times from the profiler's start)."""
    pid = os.getpid()
    trace_events: list[dict[str, Any]] = [
        {"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": "python"}},
        {"ph": "M", "name": "process_labels", "pid": pid, "tid": 0, "args": {"labels": "CPU"}},
    ]
    threads = []
    body = []
    for event in events:
        if event.thread not in threads:
            threads.append(event.thread)
        body.append(_trace_event(event, pid))
    for tid in threads:
        trace_events.append(
            {"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "args": {"name": f"thread {tid} (python)"}}
        )
    trace_events.extend(body)
    return {
        "schemaVersion": 1,
        "deviceProperties": [],
        "displayTimeUnit": "ms",
        "traceEvents": trace_events,
    }


def write_chrome_trace(events: Iterable[Any], path: str) -> None:
    """Write the Chrome trace of ``events`` to ``path``, gzip-compressed if it ends in ``.gz``."""
    trace = chrome_trace(events)
    trace["traceName"] = path
    text = json.dumps(trace)
    if path.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def tensorboard_trace_handler(
    dir_name: str, worker_name: str | None = None, use_gzip: bool = False
) -> Callable[[Any], None]:
    """An ``on_trace_ready`` handler that writes each cycle's trace into ``dir_name``.

    The file of a cycle is ``{worker_name}.{time_ns}.pt.trace.json`` (``.gz`` added with
    ``use_gzip``), the name TensorBoard's profiler plugin reads; ``worker_name`` defaults to
    ``{hostname}_{pid}``.

    Args:
        dir_name (str): the folder (made if missing).
        worker_name (str, optional): a name unique per process. Default: ``{hostname}_{pid}``.
        use_gzip (bool): compress the files. Default: ``False``.

    Example::

        >>> import os, tempfile
        >>> from ember.profiler import profile, schedule, tensorboard_trace_handler
        >>> folder = tempfile.mkdtemp()
        >>> with profile(schedule=schedule(wait=0, warmup=1, active=1),
        ...              on_trace_ready=tensorboard_trace_handler(folder, worker_name="w")) as prof:
        ...     for _ in range(4):
        ...         _ = ember.ones(2) + 1
        ...         prof.step()
        >>> len(os.listdir(folder))
        2
    """

    def handler(prof: Any) -> None:
        try:
            os.makedirs(dir_name, exist_ok=True)
        except OSError as error:
            raise RuntimeError("Can't create directory: " + dir_name) from error
        name = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        file_name = f"{name}.{time.time_ns()}.pt.trace.json" + (".gz" if use_gzip else "")
        prof.export_chrome_trace(os.path.join(dir_name, file_name))

    return handler
