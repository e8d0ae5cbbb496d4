"""The :class:`DataLoader`: batches of a dataset, in the order a sampler gives."""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ...dtypes import int64
from ...ops.creation import empty
from ._collate import default_collate, default_convert
from ._pin_memory import pin_batch, pinning
from ._worker import MapFetcher, StreamFetcher, WorkerInfo, get_worker_info
from ._worker_pool import WorkerPoolIterator
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

    from ...random import Generator

__all__ = ["DataLoader", "get_worker_info", "WorkerInfo"]


class _InfiniteConstantSampler(Sampler):
    """Yields ``None`` forever: the sampler of an :class:`IterableDataset`."""

    def __iter__(self):
        while True:
            yield None


class DataLoader:
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
            ``RuntimeError``; ``0`` waits forever. Default: ``0``.
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker after
            seeding, before loading. Default: ``None``.
        multiprocessing_context: start method name (``"fork"``, ``"spawn"``,
            ``"forkserver"``) or context; ``None`` uses :mod:`multiprocessing`'s default
            (``fork`` on Linux). With ``spawn`` the dataset and functions must pickle.
        generator: the :class:`ember.Generator` that ``shuffle=True`` and the workers'
            base seed draw from; seed it for a reproducible order. Default: ``None`` (the
            default generator).
        prefetch_factor: batches each worker loads ahead. Default: ``2`` with workers
            (must be ``None`` without).
        persistent_workers: keep the workers alive between epochs. Default: ``False``.
        in_order: hand out batches in sampler order; ``False`` hands them out as workers
            finish them. Default: ``True``.

    Each worker ``i`` seeds ``random``, NumPy's global generator and ember with
    ``base_seed + i`` (the base seed drawn from ``generator`` once per epoch, or once for
    persistent workers), sees itself through :func:`get_worker_info`, and re-raises its
    exceptions in the main process with its traceback. An :class:`IterableDataset` is
    copied into every worker: split the stream with :func:`get_worker_info`, or every
    worker yields all of it (as in PyTorch).

    Example::

        >>> from ember.utils.data import DataLoader, TensorDataset
        >>> ds = TensorDataset(ember.randn(10, 3), ember.arange(10))
        >>> loader = DataLoader(ds, batch_size=4, shuffle=True, generator=ember.Generator().manual_seed(0))
        >>> [x.shape[0] for x, y in loader]
        [4, 4, 2]
    """

    _locked = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset")

    def __init__(
        self,
        dataset: Dataset,
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
        if prefetch_factor is not None and prefetch_factor < 1:
            raise ValueError(f"prefetch_factor option should be a positive integer, got {prefetch_factor}")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

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
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.generator = generator
        self.in_order = in_order
        self._pool = None
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.__initialized = True

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

    def __iter__(self) -> Iterator[Any]:
        pin = pinning(self.pin_memory_device) if self.pin_memory else False
        batches = self._batches(warn=pin is None)
        if pin:
            return map(functools.partial(pin_batch, device=self.pin_memory_device), batches)
        return batches

    def _batches(self, warn):
        if self.persistent_workers and self._pool is not None:
            self._pool.reset(self)
            return self._pool
        if warn:
            warnings.warn(
                "'pin_memory' argument is set as true but no accelerator is found, then device pinned memory "
                "won't be used.",
                stacklevel=3,
            )
        base_seed = self._base_seed()  # drawn with or without workers, as PyTorch does: same order either way
        if self.num_workers == 0:
            return self._iter_single()
        pool = WorkerPoolIterator(self, base_seed)
        if self.persistent_workers:
            self._pool = pool
        return pool

    def _base_seed(self):
        return int(empty((), dtype=int64, device="cpu").random_(generator=self.generator).item())

    def _iter_single(self):
        fetcher_class = StreamFetcher if isinstance(self.dataset, IterableDataset) else MapFetcher
        fetcher = fetcher_class(self.dataset, self._auto_collation, self.collate_fn, self.drop_last)
        for index in self._index_sampler:
            try:
                yield fetcher.fetch(index)
            except StopIteration:
                return

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            length = len(self.dataset)  # type: ignore[arg-type]  # a sized stream, or it fails here
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)
