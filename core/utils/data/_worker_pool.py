"""The main-process side of a :class:`~ember.utils.data.DataLoader` with ``num_workers > 0``.

Tasks (a batch's indices) go round-robin to the workers' index queues, at most
``prefetch_factor`` per worker ahead of the consumer; results come back on one queue and
are put back in task order (unless ``in_order=False``). An iterable dataset's worker that
reports the end of its stream gets no more tasks; the epoch ends when every task was
answered or belongs to an ended worker.
"""

from __future__ import annotations

import itertools
import multiprocessing
import multiprocessing.connection
import os
import pickle
import queue
import signal
import time
import warnings

from . import _worker
from .dataset import IterableDataset

__all__ = ["WorkerPoolIterator"]

_DELIVERED = object()  # a task whose result was handed out early (in_order=False)


def _context(spec):
    if spec is None:
        return multiprocessing.get_context()
    if isinstance(spec, str):
        return multiprocessing.get_context(spec)
    return spec


def _death(process):
    """How a worker died, as PyTorch's SIGCHLD handler words it: the cause of the loader's error."""
    code = process.exitcode
    if code is not None and code < 0:
        try:
            name = signal.strsignal(-code) or f"signal {-code}"
        except ValueError:
            name = f"signal {-code}"
        return RuntimeError(f"DataLoader worker (pid {process.pid}) is killed by signal: {name}. ")
    return RuntimeError(
        f"DataLoader worker (pid {process.pid}) exited unexpectedly with exit code {code}. Details are lost due "
        "to multiprocessing. Rerunning with num_workers=0 may give better error trace."
    )


class WorkerPoolIterator:
    """Iterates over a loader's batches, made by worker processes."""

    def __init__(self, loader, base_seed):
        ctx = _context(loader.multiprocessing_context)
        self._num_workers = loader.num_workers
        self._prefetch = loader.prefetch_factor * loader.num_workers
        self._timeout = loader.timeout
        self._in_order = loader.in_order
        self._persistent = loader.persistent_workers
        self._result_queue = ctx.Queue()
        self._done = ctx.Event()  # set at shutdown: the workers skip what is still queued
        self._index_queues, self._workers = [], []
        self._closed = False
        self._owner = os.getpid()  # a forked copy of this object must not stop the workers
        fetcher = _worker.StreamFetcher if isinstance(loader.dataset, IterableDataset) else _worker.MapFetcher
        for worker_id in range(self._num_workers):
            index_queue = ctx.Queue()
            index_queue.cancel_join_thread()
            process = ctx.Process(
                target=_worker.worker_loop,
                args=(
                    fetcher, loader.dataset, index_queue, self._result_queue, loader._auto_collation,
                    loader.collate_fn, loader.drop_last, base_seed, loader.worker_init_fn, worker_id,
                    self._num_workers, os.getpid(), self._done,
                ),
                daemon=True,
            )  # fmt: skip
            try:
                process.start()
            except (TypeError, AttributeError, pickle.PicklingError):
                warnings.warn(  # PyTorch's hint, then the error itself
                    "Got pickle error when attempting to start a worker Process. This might be because the worker "
                    "Process arguments are not picklable. Python 3.14+ changed the multiprocessing start method in "
                    "non-Mac POSIX platforms to 'forkserver', which requires the worker Process arguments to be "
                    "picklable. You can also try multiprocessing.set_start_method('fork').",
                    stacklevel=4,
                )
                raise
            self._index_queues.append(index_queue)
            self._workers.append(process)
        self._reader = self._result_queue._reader  # the queue's end of its pipe
        self._waitables = [self._reader, *(process.sentinel for process in self._workers)]
        # the index sampler's iterator of this epoch, made once the workers started, as PyTorch makes
        # it (its loader iterator made and dropped one before drawing the base seed)
        self._start(loader._index_sampler)

    def _start(self, index_sampler):
        self._sampler_iter = iter(index_sampler)
        self._send_id = self._receive_id = 0
        self._tasks = {}  # task id -> [worker id] until answered, then [worker id, payload]
        self._active = [True] * self._num_workers
        self._cycle = itertools.cycle(range(self._num_workers))
        for _ in range(self._prefetch):
            self._send_next()

    def reset(self, loader):
        """Start a new epoch on the same (persistent) workers (a new iterator of the index sampler)."""
        for index_queue in self._index_queues:
            index_queue.put(_worker.Resume())
        waiting = self._num_workers
        while waiting:  # drop what the previous epoch left in flight
            task_id, payload = self._get()
            if isinstance(task_id, _worker.Resume):
                waiting -= 1
            else:  # unpickled, so that the worker hands over (and closes) its batch's shared segments
                self._load(payload)
        self._start(loader._index_sampler)

    def __iter__(self):
        return self

    def _send_next(self):
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(self._num_workers):
            worker_id = next(self._cycle)
            if self._active[worker_id]:
                break
        else:
            return
        self._index_queues[worker_id].put((self._send_id, index))
        self._tasks[self._send_id] = [worker_id]
        self._send_id += 1

    def __next__(self):
        while True:
            while self._receive_id < self._send_id:  # skip tasks no answer will come for
                task = self._tasks[self._receive_id]
                if task is not _DELIVERED and (len(task) == 2 or self._active[task[0]]):
                    break
                del self._tasks[self._receive_id]
                self._receive_id += 1
            else:
                if not self._persistent:
                    self.close()
                raise StopIteration
            task = self._tasks[self._receive_id]
            if len(task) == 2:
                del self._tasks[self._receive_id]
                self._receive_id += 1
                self._send_next()
                return self._unpack(task[1])
            task_id, payload = self._get()
            if isinstance(task_id, _worker.Resume):
                continue
            data = self._load(payload)
            if isinstance(data, _worker.IterationEnd):
                self._active[data.worker_id] = False
                continue
            if task_id == self._receive_id or not self._in_order:
                self._tasks[task_id] = _DELIVERED
                self._send_next()
                return self._unpack(data)
            self._tasks[task_id].append(data)

    def _unpack(self, data):
        if isinstance(data, _worker.ExceptionWrapper):
            data.reraise()
        return data

    def _get(self):
        """The next ``(task id, payload)`` from any worker, watching for timeouts and dead workers."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = (
                _worker.STATUS_INTERVAL
                if deadline is None
                else min(_worker.STATUS_INTERVAL, deadline - time.monotonic())
            )
            # the queue's pipe and the workers' sentinels: a worker's death ends the wait at once, as
            # PyTorch's SIGCHLD handler does (a result already queued is still received first)
            ready = multiprocessing.connection.wait(self._waitables, timeout=max(wait, 0.0))
            try:
                return self._result_queue.get(timeout=_worker.STATUS_INTERVAL if self._reader in ready else 0.0)
            except queue.Empty:
                if len(ready) > (self._reader in ready):  # a sentinel: reap its worker (its fds close first)
                    for process in self._workers:
                        if process.sentinel in ready:
                            process.join(_worker.STATUS_INTERVAL)
                self._raise_if_a_worker_died()
                if deadline is not None and time.monotonic() >= deadline:
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds") from None

    def _load(self, payload):
        try:
            return pickle.loads(payload)
        except Exception as exc:  # a tensor's shared memory is fetched from its worker, which may be dead
            self._raise_if_a_worker_died(exc)
            raise

    def _raise_if_a_worker_died(self, cause=None):
        """PyTorch's error when a worker is dead, from ``cause`` (the error met while waiting) or, without
        one, from how the first dead worker died (its signal or exit code)."""
        if cause is not None:  # a worker that broke the connection may be exiting, and not reaped yet
            sentinels = {w.sentinel: w for w in self._workers}
            for ready in multiprocessing.connection.wait(list(sentinels), timeout=_worker.STATUS_INTERVAL):
                sentinels[ready].join(_worker.STATUS_INTERVAL)  # its fds close before it can be waited for
        dead = [w for w in self._workers if not w.is_alive()]
        if dead:
            self.close()
            pids = ", ".join(str(w.pid) for w in dead)
            raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly") from (cause or _death(dead[0]))

    def close(self):
        """Stop the workers and release the queues (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._done.set()
        for index_queue in self._index_queues:
            try:
                index_queue.put(None)
            except (OSError, ValueError):  # already closed
                pass
        for process in self._workers:
            process.join(timeout=_worker.STATUS_INTERVAL * 5)
            if process.is_alive():
                process.terminate()
                process.join()
        for q in (*self._index_queues, self._result_queue):
            q.cancel_join_thread()
            q.close()

    def __del__(self):
        if getattr(self, "_owner", None) == os.getpid():
            self.close()
