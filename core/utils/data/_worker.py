"""What runs inside a :class:`~ember.utils.data.DataLoader` worker process.

A worker seeds its random generators, runs ``worker_init_fn``, then answers tasks
``(task_id, indices)`` from its index queue with ``(task_id, pickled batch)`` on the shared
result queue until it receives ``None``. Batches are pickled by :mod:`ember.multiprocessing`'s
reductions, as PyTorch's are: a CPU tensor is moved to shared memory (``default_collate`` stacks
into it directly) and travels as its segment's file descriptor, which the main process maps;
everything else travels by value. An exception becomes an :class:`ExceptionWrapper` that the main process
re-raises with the worker's traceback.
"""

from __future__ import annotations

import os
import pickle
import queue
import random
import sys
import traceback
from typing import Any

import numpy as np

from ...multiprocessing.reductions import dumps
from ...random import manual_seed
from ...threads import set_num_threads

__all__ = ["WorkerInfo", "get_worker_info", "ExceptionWrapper", "IterationEnd", "Resume"]

#: seconds a worker (or the main process) waits on a queue before checking that its peer lives
STATUS_INTERVAL = 1.0

_worker_info = None


class WorkerInfo:
    """What a worker knows about itself, from :func:`get_worker_info` (read-only).

    Attributes:
        id (int): this worker's index, ``0 <= id < num_workers``.
        num_workers (int): how many workers the loader runs.
        seed (int): the seed of this worker's generators (``base_seed + id``).
        dataset: this worker's copy of the dataset.
    """

    __slots__ = ("id", "num_workers", "seed", "dataset")
    id: int
    num_workers: int
    seed: int
    dataset: Any

    def __init__(self, id: int, num_workers: int, seed: int, dataset: Any) -> None:  # noqa: A002 - torch's attribute name
        for name, value in (("id", id), ("num_workers", num_workers), ("seed", seed), ("dataset", dataset)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"


def get_worker_info() -> WorkerInfo | None:
    """Information about the current :class:`~ember.utils.data.DataLoader` worker process.

    In a worker, a :class:`WorkerInfo` with ``id``, ``num_workers``, ``seed`` and ``dataset``
    (the worker's copy); in the main process, ``None``. An :class:`IterableDataset` uses it
    to give each worker its own share of the stream, and ``worker_init_fn`` to configure
    the worker's dataset copy.

    Example::

        >>> from ember.utils.data import get_worker_info
        >>> get_worker_info() is None  # the main process
        True
    """
    return _worker_info


class ExceptionWrapper:
    """An exception caught in a worker, carried to the main process with its formatted traceback."""

    def __init__(self, where):
        exc_type, exc, tb = sys.exc_info()
        try:
            pickle.dumps(exc_type)
        except Exception:  # noqa: BLE001 - a local exception class cannot travel: name it in the message
            exc_type = RuntimeError
        self.exc_type = exc_type
        self.where = where
        self.message = "".join(traceback.format_exception(type(exc), exc, tb))

    def reraise(self):
        """Raise an exception of the worker's type whose message holds the worker's traceback."""
        message = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.message}"
        if self.exc_type is KeyError:
            message = _KeyErrorMessage(message)
        try:
            exception = self.exc_type(message)
        except Exception:  # noqa: BLE001 - the type needs other arguments: fall back as PyTorch does
            raise RuntimeError(message) from None
        raise exception


class _KeyErrorMessage(str):
    """KeyError quotes its argument; this keeps a multi-line message readable."""

    def __repr__(self):
        return str(self)


class IterationEnd:
    """Sent by a worker whose iterable-dataset stream is exhausted."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


class Resume:
    """Sent to a persistent worker to start a new epoch; echoed back once it has."""


class MapFetcher:
    """Makes a batch of a map-style dataset from a list of indices (or one sample from one index)."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn

    def fetch(self, index):
        dataset = self.dataset
        if not self.auto_collation:
            return self.collate_fn(dataset[index])
        getitems = getattr(dataset, "__getitems__", None)
        if callable(getitems):
            return self.collate_fn(getitems(index))
        return self.collate_fn([dataset[i] for i in index])


class StreamFetcher:
    """Makes a batch from the next items of an iterable dataset; raises StopIteration at its end."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.stream = iter(dataset)
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.stream))
        data = []
        for _ in index:
            try:
                data.append(next(self.stream))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.drop_last and len(data) < len(index)):
            raise StopIteration
        return self.collate_fn(data)


def _seed(seed, worker_id, base_seed):
    random.seed(seed)
    manual_seed(seed)
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))


def worker_loop(
    fetcher_class, dataset, index_queue, result_queue, auto_collation, collate_fn, drop_last, base_seed,
    init_fn, worker_id, num_workers, parent_pid, done_event,
):  # fmt: skip
    """The body of worker ``worker_id``: seed, initialise, then serve tasks until told to stop.
    Once ``done_event`` is set (the loader is shutting down), the tasks still queued are skipped
    instead of fetched, so that the worker reaches its stop message at once."""
    global _worker_info
    set_num_threads(1)  # as PyTorch's workers: one intra-op thread each
    seed = base_seed + worker_id
    _seed(seed, worker_id, base_seed)
    _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
    where = f"in DataLoader worker process {worker_id}"
    failure = fetcher = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
        fetcher = fetcher_class(dataset, auto_collation, collate_fn, drop_last)
    except Exception:  # noqa: BLE001 - reported with the first task
        failure = ExceptionWrapper(where)
    ended = False
    while True:
        try:
            task = index_queue.get(timeout=STATUS_INTERVAL)
        except queue.Empty:
            # the main process died without telling us, or is shutting the workers down and its
            # stop message was lost (a loader collected with its queues, in a reference cycle)
            if done_event.is_set() or os.getppid() != parent_pid:
                break
            continue
        if task is None:
            break
        if isinstance(task, Resume):
            ended = False
            if failure is None:
                try:
                    fetcher = fetcher_class(dataset, auto_collation, collate_fn, drop_last)
                except Exception:  # noqa: BLE001
                    failure = ExceptionWrapper(where)
            result_queue.put((task, None))
            continue
        if ended or done_event.is_set():
            continue
        task_id, index = task
        if failure is not None:
            data, failure = failure, None
        else:
            try:
                data = fetcher.fetch(index)
            except StopIteration:
                data, ended = IterationEnd(worker_id), True
            except Exception:  # noqa: BLE001 - re-raised in the main process
                data = ExceptionWrapper(where)
        try:
            payload = dumps(data)
        except Exception:  # noqa: BLE001 - a batch that cannot travel is the worker's error
            payload = dumps(ExceptionWrapper(where))
        result_queue.put((task_id, payload))
    result_queue.cancel_join_thread()  # at shutdown, results nobody will read need not be flushed
