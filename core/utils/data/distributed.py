"""``DistributedSampler``: each rank of a distributed job visits its own share of a dataset."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, TypeVar

from ... import distributed as dist
from ...ops.creation import randperm
from ...random import Generator
from .sampler import Sampler

if TYPE_CHECKING:
    from .dataset import Dataset

__all__ = ["DistributedSampler"]


_T_co = TypeVar("_T_co", covariant=True)


class DistributedSampler(Sampler[_T_co]):
    r"""Sampler that restricts data loading to a subset of the dataset, one per rank.

    Used with :class:`ember.nn.parallel.DistributedDataParallel`: each process passes a
    ``DistributedSampler`` to its :class:`DataLoader` and loads a subset exclusive to it.
    The indices (shuffled with ``seed + epoch`` if ``shuffle``) are padded by repeating
    their start to a multiple of ``num_replicas`` (or cut to one, with ``drop_last``), and
    rank ``r`` takes every ``num_replicas``-th one starting at ``r``.

    Args:
        dataset: dataset used for sampling.
        num_replicas (int, optional): number of processes. Default: the world size of
            the default process group.
        rank (int, optional): rank of this process. Default: its rank in the default
            process group.
        shuffle (bool): shuffle the indices. Default: ``True``.
        seed (int): shuffling seed, the same on every rank. Default: 0.
        drop_last (bool): drop the tail so every rank gets the same number of samples
            without padding. Default: ``False``.

    .. note::
        The partition (padding, ``drop_last``, which positions each rank takes) and the shuffled
        order are PyTorch's for the same ``seed``: :func:`ember.randperm` with an
        :class:`ember.Generator` seeded with ``seed + epoch``, which on the ``cpu`` device draws
        PyTorch's CPU stream. Every rank computes the same permutation, which is what the
        partition needs.

    .. warning::
        Call :meth:`set_epoch` at the start of every epoch before creating the
        :class:`DataLoader` iterator, or every epoch uses the same order.

    Example::

        >>> sampler = DistributedSampler(dataset)
        >>> loader = DataLoader(dataset, batch_size=32, sampler=sampler)
        >>> for epoch in range(10):
        ...     sampler.set_epoch(epoch)
        ...     for batch in loader:
        ...         train(batch)
    """

    def __init__(
        self,
        dataset: Dataset,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            if num_replicas is None:
                num_replicas = dist.get_world_size()
            if rank is None:
                rank = dist.get_rank()
        if not isinstance(num_replicas, int) or isinstance(num_replicas, bool) or num_replicas < 1:
            raise ValueError(f"num_replicas should be a positive integer, but got num_replicas={num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if self.drop_last and len(self.dataset) % self.num_replicas != 0:  # type: ignore[arg-type]
            self.num_samples = math.ceil((len(self.dataset) - self.num_replicas) / self.num_replicas)  # type: ignore[arg-type]
        else:
            self.num_samples = math.ceil(len(self.dataset) / self.num_replicas)  # type: ignore[arg-type]
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        if self.shuffle:
            g = Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = randperm(len(self.dataset), generator=g).tolist()  # type: ignore[arg-type]
        else:
            indices = list(range(len(self.dataset)))  # type: ignore[arg-type]
        if not self.drop_last:
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use ``epoch`` (with ``seed``) to shuffle: call it at the start of every epoch."""
        self.epoch = epoch
