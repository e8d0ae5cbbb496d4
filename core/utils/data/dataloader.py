"""The :class:`DataLoader`: batches of a dataset, in the order a sampler gives."""

from __future__ import annotations

import math
import multiprocessing
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from multiprocessing.context import BaseContext
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ...dtypes import int64
from ...ops.creation import empty
from ._collate import default_collate, default_convert
from ._pin_memory import pin_batch, pinning
from ._worker import MapFetcher, StreamFetcher, WorkerInfo, get_worker_info
from ._worker_pool import WorkerPoolIterator
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

if TYPE_CHECKING:
    from ...random import Generator

__all__ = ["DataLoader", "get_worker_info", "WorkerInfo"]


class _InfiniteConstantSampler(Sampler):
    """Yields ``None`` forever: the sampler of an :class:`IterableDataset`."""

    def __iter__(self):
        while True:
            yield None


_T_co = TypeVar("_T_co", covariant=True)


class DataLoader(Generic[_T_co]):
    """Iterates over a dataset in batches.

    Args:
        dataset: a map-style :class:`Dataset` (or anything with ``__getitem__`` and
            ``__len__``) or an :class:`IterableDataset`.
        batch_size: samples per batch; ``None`` turns automatic batching off (each item is
            yielded, converted by ``collate_fn``). Default: ``1``.
        shuffle: reshuffle the indices every epoch. Default: ``False``.
        sampler: the order of indices (an iterable with ``__len__``); excludes ``shuffle``.
        batch_sampler: yields lists of indices; excludes ``batch_size``, ``shuffle``,
            ``sampler`` and ``drop_last``.
        num_workers: how many worker processes make batches; ``0`` loads in the main
            process. Default: ``0``.
        collate_fn: turns a list of samples into a batch. Default: :func:`default_collate`
            (:func:`default_convert` when ``batch_size=None``).
        pin_memory: copy every tensor of a batch to pinned (page-locked) host memory
            (:meth:`ember.Tensor.pin_memory`), from which ``.to("cuda", non_blocking=True)``
            copies asynchronously. Without an accelerator it warns and does nothing, as
            PyTorch does; with one whose backend has no pinned memory it does nothing.
            Default: ``False``.
        drop_last: drop the last batch if the dataset size is not divisible by
            ``batch_size``. Default: ``False``.
        timeout: seconds to wait for a batch from the workers before raising
            ``RuntimeError``; ``0`` waits forever. Only with workers: iterating a loader with
            ``num_workers=0`` and a ``timeout`` fails, as in PyTorch. Default: ``0``.
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker after
            seeding, before loading. Default: ``None``.
        multiprocessing_context: start method name (``"fork"``, ``"spawn"``,
            ``"forkserver"``) or context, only with ``num_workers > 0`` (the attribute holds
            the context); ``None`` uses :mod:`multiprocessing`'s default (``fork`` on Linux).
            With ``spawn`` the dataset and functions must pickle.
        generator: the :class:`ember.Generator` that ``shuffle=True`` and the workers'
            base seed draw from; seed it for a reproducible order. Default: ``None`` (the
            default generator).
        prefetch_factor: batches each worker loads ahead. Default: ``2`` with workers
            (must be ``None`` without).
        persistent_workers: keep the workers alive between epochs: ``iter(loader)`` then
            returns the same iterator, restarted. Default: ``False``.
        pin_memory_device: deprecated and ignored (the current accelerator is used), with
            PyTorch's warning. Default: ``""``.
        in_order: hand out batches in sampler order; ``False`` hands them out as workers
            finish them. Default: ``True``.

    Each worker ``i`` seeds ``random``, NumPy's global generator and ember with
    ``base_seed + i`` (the base seed drawn from ``generator`` once per epoch, or once for
    persistent workers), sees itself through :func:`get_worker_info`, and re-raises its
    exceptions in the main process with its traceback. An :class:`IterableDataset` is
    copied into every worker: split the stream with :func:`get_worker_info`, or every
    worker yields all of it (as in PyTorch); if ``len(loader)`` was asked, a warning says when
    more batches than the dataset's ``len()`` come.

    ``iter(loader)`` starts the sampler's iterator, then draws the base seed (as PyTorch does,
    so that a sampler drawing at once sees the same generator state), and returns an iterator
    whose ``len()`` is the number of batches (or samples, without automatic batching).

    Example::

        >>> from ember.utils.data import DataLoader, TensorDataset
        >>> ds = TensorDataset(ember.randn(10, 3), ember.arange(10))
        >>> loader = DataLoader(ds, batch_size=4, shuffle=True, generator=ember.Generator().manual_seed(0))
        >>> [x.shape[0] for x, y in loader]
        [4, 4, 2]
    """

    _locked = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")

    def __init__(
        self,
        dataset: Dataset[_T_co],
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable[Any] | None = None,
        batch_sampler: Sampler | Iterable[Sequence[Any]] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: str | BaseContext | None = None,
        generator: Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 to enable "
                "multiprocessing, otherwise set prefetch_factor to None."
            )
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.num_workers = num_workers
        self.multiprocessing_context = multiprocessing_context  # checked by its setter

        if isinstance(dataset, IterableDataset):
            if shuffle not in (False, None):
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified sampler option, but got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified batch_sampler option, but got "
                    f"batch_sampler={batch_sampler}"
                )
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")

        if sampler is None:
            if isinstance(dataset, IterableDataset):
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)  # type: ignore[arg-type]
            else:
                sampler = SequentialSampler(dataset)  # type: ignore[arg-type]
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.generator = generator
        self.in_order = in_order
        self._iterator: _DataLoaderIter | None = None  # the persistent workers' iterator
        self._IterableDataset_len_called: int | None = None  # len(dataset) as len(self) saw it
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.__initialized = True
        self.check_worker_number_rationality()

    @property
    def multiprocessing_context(self) -> BaseContext | None:
        """The :mod:`multiprocessing` context the workers start from (``None``: the default)."""
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, multiprocessing_context: str | BaseContext | None) -> None:
        if multiprocessing_context is not None:
            if self.num_workers <= 0:
                raise ValueError(
                    "multiprocessing_context can only be used with multi-process loading (num_workers > 0), but got "
                    f"num_workers={self.num_workers}"
                )
            if isinstance(multiprocessing_context, str):
                valid_start_methods = multiprocessing.get_all_start_methods()
                if multiprocessing_context not in valid_start_methods:
                    raise ValueError(
                        f"multiprocessing_context option should specify a valid start method in "
                        f"{valid_start_methods!r}, but got multiprocessing_context={multiprocessing_context!r}"
                    )
                multiprocessing_context = multiprocessing.get_context(multiprocessing_context)
            if not isinstance(multiprocessing_context, BaseContext):
                raise TypeError(
                    "multiprocessing_context option should be a valid context object or a string specifying the "
                    f"start method, but got multiprocessing_context={multiprocessing_context}"
                )
        self.__multiprocessing_context = multiprocessing_context

    def check_worker_number_rationality(self) -> None:
        """Warn, as PyTorch does, when ``num_workers`` exceeds the CPUs this process may use."""
        if not self.num_workers:
            return
        cpuset_checked = hasattr(os, "sched_getaffinity")
        suggested = len(os.sched_getaffinity(0)) if cpuset_checked else os.cpu_count()
        if suggested is not None and self.num_workers <= suggested:
            return
        if suggested is None:
            suggestion = "DataLoader is not able to compute a suggested max number of worker in current system."
        else:
            suggestion = (
                f"Our suggested max number of worker in current system is {suggested}"
                f"{'' if cpuset_checked else ' (`cpuset` is not taken into account)'}, which is smaller than what this "
                "DataLoader is going to create."
            )
        warnings.warn(
            f"This DataLoader will create {self.num_workers} worker processes in total. {suggestion} Please be aware "
            "that excessive worker creation might get DataLoader running slow or even freeze, lower the worker number "
            "to avoid potential slowness/freeze if necessary.",
            stacklevel=2,
        )

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__dict__.get("_DataLoader__initialized") and name in self._locked:
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self) -> _DataLoaderIter:
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    def _get_iterator(self) -> _DataLoaderIter:
        if self.num_workers > 0:
            self.check_worker_number_rationality()
        return _DataLoaderIter(self)

    def _base_seed(self):
        return int(empty((), dtype=int64, device="cpu").random_(generator=self.generator).item())

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            length = len(self.dataset)  # type: ignore[arg-type]  # a sized stream, or it fails here
            self._IterableDataset_len_called = length
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)


def _single_process(fetcher, sampler_iter):
    for index in sampler_iter:
        try:
            yield fetcher.fetch(index)
        except StopIteration:
            return


class _DataLoaderIter:
    """What ``iter(loader)`` returns (PyTorch's ``_BaseDataLoaderIter``): the batches, made in this
    process or by worker processes, pinned if asked; ``len()`` is the index sampler's length."""

    def __init__(self, loader: DataLoader) -> None:
        if loader.pin_memory and loader.pin_memory_device:
            warnings.warn(
                "pin_memory_device is deprecated, the current accelerator will be used as the device,"
                f"ignore pin_memory_device='{loader.pin_memory_device}'.",
                stacklevel=4,
            )
        pin = pinning("") if loader.pin_memory else False
        if pin is None:
            warnings.warn(
                "'pin_memory' argument is set as true but no accelerator is found, then device pinned memory "
                "won't be used.",
                stacklevel=4,
            )
        self._pin = bool(pin)
        self._dataset = loader.dataset
        self._iterable = isinstance(loader.dataset, IterableDataset)
        self._num_workers = loader.num_workers
        self._index_sampler = loader._index_sampler
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._num_yielded = 0
        # the sampler's iterator first, then the base seed, as PyTorch: a sampler that draws when
        # iter() is called (not in a generator) draws before the seed, from the same generator state;
        # with workers this iterator is dropped and the pool makes the epoch's own once they started
        sampler_iter = iter(self._index_sampler)
        base_seed = loader._base_seed()  # drawn with or without workers, as PyTorch does: same order either way
        self._pool: WorkerPoolIterator | None = None
        if loader.num_workers == 0:
            if loader.timeout != 0:
                raise AssertionError("_SingleProcessDataLoaderIter requires timeout == 0")
            fetcher_class = StreamFetcher if self._iterable else MapFetcher
            fetcher = fetcher_class(loader.dataset, loader._auto_collation, loader.collate_fn, loader.drop_last)
            self._source: Iterator[Any] = _single_process(fetcher, sampler_iter)
        else:
            if loader.prefetch_factor is None or loader.prefetch_factor <= 0:
                raise AssertionError("prefetch_factor must be greater than 0 for MultiProcessingDataLoaderIter")
            del sampler_iter
            self._pool = self._source = WorkerPoolIterator(loader, base_seed)

    def _reset(self, loader: DataLoader) -> None:
        """A new epoch on the same (persistent) workers."""
        self._index_sampler = loader._index_sampler
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._num_yielded = 0
        assert self._pool is not None  # only persistent workers restart
        self._pool.reset(loader)

    def __iter__(self) -> _DataLoaderIter:
        return self

    def __next__(self) -> Any:
        data = next(self._source)
        if self._pin:
            data = pin_batch(data, "")
        self._num_yielded += 1
        if (
            self._iterable
            and self._IterableDataset_len_called is not None
            and self._num_yielded > self._IterableDataset_len_called
        ):
            message = (
                f"Length of IterableDataset {self._dataset} was reported to be {self._IterableDataset_len_called}"
                f"(when accessing len(dataloader)), but {self._num_yielded} samples have been fetched. "
            )
            if self._num_workers > 0:
                message += (
                    "For multiprocessing data-loading, this could be caused by not properly configuring the "
                    "IterableDataset replica at each worker. Please see "
                    "https://pytorch.org/docs/stable/data.html#torch.utils.data.IterableDataset for examples."
                )
            warnings.warn(message, stacklevel=2)
        return data

    def __len__(self) -> int:
        return len(self._index_sampler)

    @property
    def _workers(self) -> list[Any]:
        """The worker processes (PyTorch's attribute name); none without workers."""
        return [] if self._pool is None else self._pool._workers

    def _shutdown_workers(self) -> None:
        """Stop the workers now (PyTorch's method name); the iterator is then exhausted."""
        if self._pool is not None:
            self._pool.close()
