"""``spawn``: run a function in ``nprocs`` processes, as ``torch.multiprocessing.spawn``."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Any


class ProcessException(Exception):
    """A process started by :func:`spawn` failed."""

    def __init__(self, msg: str, error_index: int, pid: int) -> None:
        super().__init__(msg)
        self.msg, self.error_index, self.pid = msg, error_index, pid

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """A process raised; the message carries its traceback."""


class ProcessExitedException(ProcessException):
    """A process exited with a non-zero code or was killed by a signal."""

    def __init__(
        self, msg: str, error_index: int, error_pid: int, exit_code: int, signal_name: str | None = None
    ) -> None:
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return type(self), (self.msg, self.error_index, self.pid, self.exit_code, self.signal_name)


def _wrap(fn: Callable[..., object], i: int, args: tuple[Any, ...], error_file: str) -> None:
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass  # the parent is shutting the processes down
    except Exception:
        with open(error_file, "wb") as f:
            pickle.dump(traceback.format_exc(), f)
        sys.exit(1)


class ProcessContext:
    """The processes of one :func:`spawn` call; :meth:`join` waits for them and re-raises a failure."""

    def __init__(self, processes: list[BaseProcess], error_files: list[str]) -> None:
        self.processes, self.error_files = processes, error_files
        self.sentinels = {p.sentinel: i for i, p in enumerate(processes)}

    def _remove_error_files(self) -> None:
        for error_file in self.error_files:
            if os.path.exists(error_file):
                os.unlink(error_file)

    def pids(self) -> list[int | None]:
        return [p.pid for p in self.processes]

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the processes; ``True`` once all have exited cleanly, ``False`` if ``timeout`` ran out first.

        Raises:
            ProcessRaisedException: a process raised (the others are terminated); its traceback is in the message.
            ProcessExitedException: a process exited with a non-zero code or was killed by a signal.
        """
        if not self.sentinels:
            return True
        ready = multiprocessing.connection.wait(self.sentinels.keys(), timeout=timeout)
        failed = None
        for sentinel in ready:
            index = self.sentinels.pop(sentinel)  # type: ignore[arg-type]  # the sentinels are ints
            self.processes[index].join()
            if self.processes[index].exitcode != 0 and failed is None:
                failed = index
        if failed is None:
            if self.sentinels:
                return False
            self._remove_error_files()
            return True
        for p in self.processes:
            if p.is_alive():
                p.terminate()
            p.join()
        # a joined process has its pid and exit code (typeshed allows None before start and join)
        pid: Any
        code: Any
        pid, code = self.processes[failed].pid, self.processes[failed].exitcode
        trace = None
        if os.path.getsize(self.error_files[failed]):
            with open(self.error_files[failed], "rb") as f:
                trace = pickle.load(f)
        self._remove_error_files()
        if trace is not None:
            msg = f"\n\n-- Process {failed} terminated with the following error:\n{trace}"
            raise ProcessRaisedException(msg, failed, pid)
        if code < 0:
            name = signal.Signals(-code).name
            raise ProcessExitedException(f"process {failed} terminated with signal {name}", failed, pid, code, name)
        raise ProcessExitedException(f"process {failed} terminated with exit code {code}", failed, pid, code)


def start_processes(
    fn: Callable[..., object],
    args: tuple[Any, ...] = (),
    nprocs: int = 1,
    join: bool = True,
    daemon: bool = False,
    start_method: str = "spawn",
) -> ProcessContext | None:
    """Start ``nprocs`` processes running ``fn(i, *args)`` with the given start method; see :func:`spawn`."""
    ctx = multiprocessing.get_context(start_method)
    processes, error_files = [], []
    for i in range(nprocs):
        fd, error_file = tempfile.mkstemp(prefix="ember-spawn-")
        os.close(fd)
        process = ctx.Process(  # type: ignore[attr-defined]  # every start method's context has it
            target=_wrap, args=(fn, i, args, error_file), daemon=daemon
        )
        process.start()
        processes.append(process)
        error_files.append(error_file)
    context = ProcessContext(processes, error_files)
    if not join:
        return context
    while not context.join():
        pass
    return None


def spawn(
    fn: Callable[..., object],
    args: tuple[Any, ...] = (),
    nprocs: int = 1,
    join: bool = True,
    daemon: bool = False,
    start_method: str = "spawn",
) -> ProcessContext | None:
    """Run ``fn(i, *args)`` in ``nprocs`` new processes, ``i`` being the process index.

    Args:
        fn (callable): a module-level function (it is pickled by reference).
        args (tuple): the arguments after the index; tensors among them are shared, not copied.
        nprocs (int): how many processes.
        join (bool): wait for all of them (and re-raise a failure) before returning.
        daemon (bool): start them as daemon processes.
        start_method (str): ``"spawn"`` (the default), ``"fork"`` or ``"forkserver"``.

    Returns:
        ``None`` if ``join``, else a :class:`ProcessContext` to :meth:`~ProcessContext.join`.

    Raises:
        ProcessRaisedException: a process raised; its traceback is in the message.
        ProcessExitedException: a process exited with a non-zero code.

    Examples::

        >>> import operator
        >>> import ember.multiprocessing as mp
        >>> mp.spawn(operator.add, args=(1,), nprocs=2)  # each process computes operator.add(i, 1)
    """
    return start_processes(fn, args, nprocs, join, daemon, start_method)
