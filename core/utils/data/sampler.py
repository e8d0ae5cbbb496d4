"""Samplers: which dataset indices a :class:`DataLoader` visits, in which order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any, Generic, TypeVar

from ...dtypes import float64, int64
from ...ops.creation import empty, multinomial, randint, randperm
from ...random import Generator
from ...tensor import Tensor, as_tensor

__all__ = [
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
]


def _seeded_generator():
    """A fresh CPU generator seeded from the default generator (how PyTorch's samplers draw without one)."""
    seed = int(empty((), dtype=int64, device="cpu").random_().item())
    return Generator().manual_seed(seed)


def _check_positive_int(name, value, exc=ValueError):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise exc(f"{name} should be a positive integer value, but got {name}={value}")


def _check_bool(name, value, exc=ValueError):
    if not isinstance(value, bool):
        raise exc(f"{name} should be a boolean value, but got {name}={value}")


_T_co = TypeVar("_T_co", covariant=True)


class Sampler(Generic[_T_co]):
    """Base class: an iterable of dataset indices (or of lists of indices, for batch samplers).

    Generic in what it yields, as PyTorch's: ``Sampler[int]``, ``Sampler[list[int]]``.
    """

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError


class SequentialSampler(Sampler[int]):
    """``0, 1, ..., len(data_source) - 1``, always in order.

    Args:
        data_source: the dataset to sample from.
    """

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """Indices in random order: a fresh permutation each pass, or draws with replacement.

    Args:
        data_source: the dataset to sample from.
        replacement: draw with replacement. Default: ``False``.
        num_samples: how many indices per pass. Default: ``len(data_source)``.
        generator: the :class:`ember.Generator` to draw from. Default: ``None`` (each pass
            seeds a fresh generator from the default generator).
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Generator | None = None,
    ) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        _check_bool("replacement", replacement, TypeError)
        _check_positive_int("num_samples", self.num_samples)

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        generator = self.generator if self.generator is not None else _seeded_generator()
        if self.replacement:
            for _ in range(self.num_samples // 32):
                yield from randint(0, n, (32,), generator=generator, device=generator.device).tolist()
            rest = self.num_samples % 32
            if rest:
                yield from randint(0, n, (rest,), generator=generator, device=generator.device).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from randperm(n, generator=generator, device=generator.device).tolist()
            # drawn even when nothing of it is taken, as PyTorch does: a generator of the caller's
            # then moves on as torch's, and the next pass gives torch's order
            yield from randperm(n, generator=generator, device=generator.device).tolist()[: self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given ``indices`` in a random order (a fresh permutation each pass), without replacement.

    Args:
        indices: the indices to visit.
        generator: the :class:`ember.Generator` to draw from. Default: the default generator.
    """

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        device = self.generator.device if self.generator is not None else "cpu"
        for i in randperm(len(self.indices), generator=self.generator, device=device).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """Indices from 0 to ``len(weights) - 1`` drawn with probabilities proportional to ``weights``.

    Args:
        weights: a 1-d sequence of non-negative weights (need not sum to one).
        num_samples: how many indices per pass.
        replacement: draw with replacement. Default: ``True``.
        generator: the :class:`ember.Generator` to draw from. Default: the default generator.

    Example::

        >>> sampler = WeightedRandomSampler([0.1, 0.9, 0.4, 0.7, 3.0, 0.6], 5, replacement=True)
        >>> len(list(sampler))  # index 4 is drawn most often
        5
    """

    def __init__(
        self,
        weights: Sequence[float] | Tensor,
        num_samples: int,
        replacement: bool = True,
        generator: Generator | None = None,
    ) -> None:
        _check_positive_int("num_samples", num_samples)
        _check_bool("replacement", replacement)
        weights = as_tensor(weights, dtype=float64, device="cpu")
        if weights.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(weights.shape)}")
        self.weights = weights
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        yield from multinomial(self.weights, self.num_samples, self.replacement, generator=self.generator).tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    Args:
        sampler: the sampler (or any iterable of indices) to group.
        batch_size: the size of each batch.
        drop_last: drop the last batch if it is smaller than ``batch_size``.

    Example::

        >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False))
        [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    """

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        _check_positive_int("batch_size", batch_size)
        _check_bool("drop_last", drop_last)
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size  # type: ignore[arg-type]  # a sized sampler, or it fails
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size  # type: ignore[arg-type]
