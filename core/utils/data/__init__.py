"""Datasets, samplers and the :class:`DataLoader`, with ``torch.utils.data``'s API and semantics.

Example::

    >>> from ember.utils.data import DataLoader, TensorDataset
    >>> ds = TensorDataset(ember.arange(10.0).reshape(5, 2), ember.arange(5))
    >>> for x, y in DataLoader(ds, batch_size=2, shuffle=True, generator=ember.Generator().manual_seed(0)):
    ...     pass
"""

from . import _utils
from ._collate import default_collate, default_convert
from .dataloader import DataLoader, WorkerInfo, get_worker_info
from .dataset import ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .distributed import DistributedSampler
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from .stack_dataset import StackDataset

__all__ = [
    "BatchSampler",
    "ChainDataset",
    "StackDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
]
