"""The DataLoader off the main road, against torch.utils.data: when ``iter(loader)`` draws (a
sampler drawing at once, the base seed), the iterator object (its ``len()``, reuse with
persistent workers), PyTorch's warnings (an IterableDataset longer than its ``len()``, more
workers than CPUs, ``pin_memory_device``) and its argument checks (``multiprocessing_context``,
``timeout`` without workers, ``persistent_workers`` locked).

The loader's workers are host processes whatever the device of the tensors: these tests run
on the CPU.
"""

from __future__ import annotations

import multiprocessing
import os
import warnings

import pytest
import torch
import torch.utils.data as tud

import ember
from ember.utils import data as eud

LIBS = [(torch, tud), (ember, eud)]
fork_only = pytest.mark.skipif(not hasattr(os, "fork"), reason="uses the fork start method")


def _messages(record):
    return [str(w.message) for w in record]


# -- what iter(loader) draws, and in which order -------------------------------------------
def _eager_parts(lib, data):
    class Eager(data.Sampler):
        """A sampler that draws its order when iter() is called, not in a generator."""

        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(lib.randperm(self.n).tolist())

        def __len__(self):
            return self.n

    class EagerBatches(Eager):
        def __iter__(self):
            order = lib.randperm(self.n).tolist()
            return iter([order[i : i + 3] for i in range(0, self.n, 3)])

    class Noisy(data.Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, i):
            return i, round(lib.rand(()).item(), 6)

    return Eager, EagerBatches, Noisy


def _epochs(lib, data, num_workers, how):
    Eager, EagerBatches, Noisy = _eager_parts(lib, data)
    lib.manual_seed(0)
    kwargs = {"num_workers": num_workers, "persistent_workers": num_workers > 0}
    if how == "sampler":
        loader = data.DataLoader(Noisy(), batch_size=None, sampler=Eager(8), **kwargs)
    elif how == "batched sampler":
        loader = data.DataLoader(Noisy(), batch_size=3, sampler=Eager(8), **kwargs)
    else:
        loader = data.DataLoader(Noisy(), batch_sampler=EagerBatches(8), **kwargs)
    out = []
    for _ in range(2):
        out.append(
            [ember.utils._pytree.tree_map(lambda t: t.tolist() if hasattr(t, "tolist") else t, b) for b in loader]
        )
    return out, lib.randint(0, 1000, (3,)).tolist()  # where the default generator was left


@fork_only
@pytest.mark.parametrize("how", ["sampler", "batched sampler", "batch_sampler"])
@pytest.mark.parametrize("num_workers", [0, 2])
def test_a_sampler_drawing_at_iter_gives_torchs_order(num_workers, how):
    """PyTorch makes the index sampler's iterator before drawing the base seed (and, with workers,
    once more after starting them): a sampler that draws when iter() is called sees those states."""
    assert _epochs(ember, eud, num_workers, how) == _epochs(torch, tud, num_workers, how)


def test_an_iterable_dataset_is_started_by_iter_like_torch():
    def started(data):
        calls = []

        class Stream(data.IterableDataset):
            def __iter__(self):
                calls.append("iter")
                return iter(range(3))

        iterator = iter(data.DataLoader(Stream(), batch_size=2))
        before = list(calls)
        return before, [b.tolist() for b in iterator]

    assert started(eud) == started(tud)


# -- the iterator object --------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs", [{}, {"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": None}, {"shuffle": True}]
)
def test_the_iterator_has_torchs_length(kwargs):
    def lengths(data, lib):
        iterator = iter(data.DataLoader(data.TensorDataset(lib.arange(10)), **kwargs))
        n = len(iterator)
        next(iterator)
        return n, len(iterator), iter(iterator) is iterator, sum(1 for _ in iterator) + 1

    assert lengths(eud, ember) == lengths(tud, torch)


@fork_only
def test_persistent_workers_reuse_one_iterator_like_torch():
    def reuse(data, lib):
        loader = data.DataLoader(
            data.TensorDataset(lib.arange(6)), batch_size=2, num_workers=1, persistent_workers=True
        )
        first = iter(loader)
        assert len(first) == 3
        epochs = [[b[0].tolist() for b in first], [b[0].tolist() for b in loader]]
        same = iter(loader) is first
        first._shutdown_workers()
        return epochs, same

    assert reuse(eud, ember) == reuse(tud, torch)


# -- warnings ---------------------------------------------------------------------------------
def _stream_with_wrong_length(data):
    class Stream(data.IterableDataset):
        def __iter__(self):
            return iter(range(5))

        def __len__(self):
            return 3

        def __repr__(self):
            return "Stream"

    return Stream()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"batch_size": None},
        {"batch_size": 2},
        pytest.param({"batch_size": None, "num_workers": 2}, marks=fork_only),
        pytest.param({"batch_size": 2, "num_workers": 2}, marks=fork_only),
    ],
)
@pytest.mark.parametrize("ask_len", [True, False])
def test_an_iterable_dataset_longer_than_its_len_warns_like_torch(kwargs, ask_len):
    def run(data, lib):
        loader = data.DataLoader(_stream_with_wrong_length(data), **kwargs)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            n = len(loader) if ask_len else None
            batches = [b.tolist() if hasattr(b, "tolist") else b for b in loader]
        return n, batches, _messages(record)

    ours, theirs = run(eud, ember), run(tud, torch)
    assert ours == theirs
    # torch compares the batches yielded with the dataset's len(): 3 batches of 2 from 5 items do not warn
    assert bool(ours[2]) is (ask_len and kwargs != {"batch_size": 2})


def test_more_workers_than_cpus_warns_like_torch(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no sched_getaffinity")
    found = []
    for _, data in LIBS:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            data.DataLoader([1, 2], num_workers=2)
            data.DataLoader([1, 2], num_workers=1)  # within the CPUs: no warning
            data.DataLoader([1, 2])
        found.append(_messages(record))
    assert found[1] == found[0]
    assert len(found[1]) == 1 and "This DataLoader will create 2 worker processes in total" in found[1][0]


@pytest.fixture
def no_accelerator(monkeypatch):
    if torch.accelerator.is_available():
        pytest.skip("PyTorch sees an accelerator here: nothing to compare with")
    monkeypatch.setenv("EMBER_ACCELERATOR", "no_such_device")


def test_pin_memory_device_is_deprecated_like_torch(no_accelerator):
    found = []
    for _, data in LIBS:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            batches = list(data.DataLoader([[1.0]], pin_memory=True, pin_memory_device="cpu"))
        found.append((_messages(record), [[t.is_pinned() for t in b] for b in batches]))
    assert found[1] == found[0]
    assert "pin_memory_device is deprecated" in found[1][0][0]


# -- argument checks ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs",
    [
        {"num_workers": 1, "multiprocessing_context": "bogus"},
        {"num_workers": 0, "multiprocessing_context": "spawn"},
        {"num_workers": 1, "multiprocessing_context": 42},
        {"num_workers": 0, "multiprocessing_context": multiprocessing.get_context("spawn")},
    ],
)
def test_multiprocessing_context_is_checked_like_torch(kwargs):
    errors = []
    for _, data in LIBS:
        with pytest.raises((ValueError, TypeError)) as info:
            data.DataLoader([1], **kwargs)
        errors.append((type(info.value), str(info.value)))
    assert errors[1] == errors[0]


@pytest.mark.parametrize("spec", ["spawn", "fork", "forkserver", None])
def test_multiprocessing_context_attribute_holds_the_context_like_torch(spec):
    if spec is not None and spec not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {spec} start method here")
    kinds = [
        type(data.DataLoader([1], num_workers=1, multiprocessing_context=spec).multiprocessing_context)
        for _, data in LIBS
    ]
    assert kinds[1] is kinds[0]


def test_multiprocessing_context_set_later_is_checked_like_torch():
    errors = []
    for _, data in LIBS:
        loader = data.DataLoader([1])
        with pytest.raises(ValueError) as info:
            loader.multiprocessing_context = "spawn"
        errors.append(str(info.value))
        loader = data.DataLoader([1], num_workers=1)
        loader.multiprocessing_context = "spawn"
        assert loader.multiprocessing_context is multiprocessing.get_context("spawn")
    assert errors[1] == errors[0]


def test_persistent_workers_cannot_be_set_after_init_like_torch():
    errors = []
    for _, data in LIBS:
        loader = data.DataLoader([1], num_workers=1, persistent_workers=True)
        with pytest.raises(ValueError) as info:
            loader.persistent_workers = False
        errors.append(str(info.value))
        loader.num_workers = 2  # not locked
    assert errors[1] == errors[0]


def test_a_timeout_without_workers_fails_when_iterated_like_torch():
    errors = []
    for _, data in LIBS:
        loader = data.DataLoader([1, 2], timeout=5)  # accepted
        with pytest.raises(AssertionError) as info:
            iter(loader)
        errors.append(str(info.value))
    assert errors[1] == errors[0]


def test_unpicklable_worker_arguments_with_spawn_warn_and_raise_like_torch():
    found = []
    for _, data in LIBS:
        loader = data.DataLoader([1, 2], num_workers=1, multiprocessing_context="spawn", worker_init_fn=lambda i: None)
        with warnings.catch_warnings(record=True) as record, pytest.raises(AttributeError) as info:
            warnings.simplefilter("always")
            iter(loader)
        found.append((_messages(record), str(info.value)))
    assert found[1] == found[0]
    assert "Got pickle error when attempting to start a worker Process" in found[1][0][0]
