"""DataLoader worker processes (``num_workers > 0``) against torch.utils.data.

The loader's workers are host processes whatever the device of the tensors, so these
tests run on the CPU only (no ``device`` fixture): they exercise order, seeding, errors,
timeouts, sharding, persistence and shutdown, not arithmetic.
"""

from __future__ import annotations

import gc
import os
import random
import signal
import time

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import ember
from ember.utils import data as eud

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the tests use the fork start method")


class _Squares:
    """A map-style dataset whose items depend only on the index (picklable, library-neutral)."""

    def __init__(self, n=23):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.array([i, i * i], dtype=np.int64)


def _lists(loader):
    return [np.asarray(b).tolist() for b in loader]


@pytest.mark.parametrize("num_workers", [1, 2, 3])
@pytest.mark.parametrize("batch_size,drop_last", [(4, False), (4, True), (None, False), (1, False)])
def test_map_dataset_order_matches_torch(num_workers, batch_size, drop_last):
    ours = eud.DataLoader(_Squares(), batch_size=batch_size, drop_last=drop_last, num_workers=num_workers)
    theirs = tud.DataLoader(_Squares(), batch_size=batch_size, drop_last=drop_last, num_workers=num_workers)
    assert _lists(ours) == _lists(theirs)


def test_shuffled_order_is_the_main_process_order():
    def order(num_workers):
        loader = eud.DataLoader(
            _Squares(), batch_size=5, shuffle=True, num_workers=num_workers, generator=ember.Generator().manual_seed(3)
        )
        return _lists(loader)

    assert order(0) == order(2)


class _Shards(eud.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = eud.get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


class _TorchShards(tud.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = tud.get_worker_info()
        return iter(range(info.id, self.n, info.num_workers))


@pytest.mark.parametrize("num_workers", [1, 2, 3])
@pytest.mark.parametrize("batch_size,drop_last", [(3, False), (3, True), (None, False)])
def test_iterable_dataset_sharding_matches_torch(num_workers, batch_size, drop_last):
    kwargs = dict(batch_size=batch_size, drop_last=drop_last, num_workers=num_workers)
    ours = _lists(eud.DataLoader(_Shards(10), **kwargs))
    theirs = _lists(tud.DataLoader(_TorchShards(10), **kwargs))
    assert ours == theirs


def test_unsharded_iterable_dataset_is_repeated_by_every_worker_as_torch():
    ours = sorted(x for b in _lists(eud.DataLoader(_Stream(5), batch_size=2, num_workers=2)) for x in b)
    theirs = sorted(x for b in _lists(tud.DataLoader(_TorchStream(5), batch_size=2, num_workers=2)) for x in b)
    assert ours == theirs == sorted(list(range(5)) * 2)


class _Stream(eud.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


class _TorchStream(tud.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


def test_in_order_false_yields_every_batch():
    batches = _lists(eud.DataLoader(_Squares(), batch_size=4, num_workers=3, in_order=False))
    assert sorted(map(tuple, (tuple(map(tuple, b)) for b in batches))) == sorted(
        tuple(map(tuple, b)) for b in _lists(eud.DataLoader(_Squares(), batch_size=4))
    )


# -- seeding and worker information ---------------------------------------------------------
class _Draws:
    def __len__(self):
        return 6

    def __getitem__(self, i):
        info = eud.get_worker_info()
        return (info.id, info.num_workers, info.seed, random.random(), float(np.random.rand()), ember.rand(()).item())


def test_workers_are_seeded_from_the_base_seed():
    def run(seed):
        loader = eud.DataLoader(_Draws(), batch_size=None, num_workers=2, generator=ember.Generator().manual_seed(seed))
        return list(loader)

    first = run(7)
    assert first == run(7)  # deterministic given the loader's generator
    assert first != run(8)
    base = first[0][2]
    for worker_id, num_workers, seed, py, _, em in first[:2]:  # each worker's first draw
        assert num_workers == 2 and seed == base + worker_id
        assert py == random.Random(seed).random()
        ember.manual_seed(seed)
        assert em == ember.rand(()).item()
    assert first[0][4] != first[1][4]  # NumPy's global generator differs per worker


class _ThreadCounts(eud.Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        x = ember.randn(64, 512)  # a product large enough for oneDNN's threads where it is installed
        return ember.get_num_threads(), float((x @ x.T).trace().item())


def test_workers_compute_on_one_thread_as_torch():
    """As PyTorch's workers (torch.set_num_threads(1) in each): one intra-op thread, which also keeps
    a forked worker out of the parent's OpenMP thread team."""
    previous = ember.get_num_threads()
    ember.set_num_threads(2)
    try:
        ember.randn(64, 512) @ ember.randn(512, 64)  # the parent's threads started before the fork
        counts = list(eud.DataLoader(_ThreadCounts(), batch_size=None, num_workers=2))
    finally:
        ember.set_num_threads(previous)
    assert [count for count, _ in counts] == [1, 1]
    assert all(trace > 0 for _, trace in counts)


def test_torch_seeds_workers_the_same_way():
    class Draw(tud.Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            info = tud.get_worker_info()
            return info.id, info.seed, random.random()

    draws = list(tud.DataLoader(Draw(), batch_size=None, num_workers=2))
    assert draws[1][1] == draws[0][1] + 1
    assert all(py == random.Random(seed).random() for _, seed, py in draws)


def test_worker_init_fn_sees_worker_info(tmp_path):
    def init(worker_id):
        info = eud.get_worker_info()
        (tmp_path / f"w{worker_id}").write_text(f"{info.id} {info.num_workers} {type(info.dataset).__name__}")

    list(eud.DataLoader(_Squares(4), num_workers=2, worker_init_fn=init))
    assert sorted(p.read_text() for p in tmp_path.iterdir()) == ["0 2 _Squares", "1 2 _Squares"]
    assert eud.get_worker_info() is None


def test_worker_info_is_read_only():
    info = eud.WorkerInfo(id=0, num_workers=1, seed=3, dataset=None)
    with pytest.raises(RuntimeError, match="Cannot assign attributes to WorkerInfo objects"):
        info.id = 1
    assert repr(info) == "WorkerInfo(id=0, num_workers=1, seed=3, dataset=None)"


# -- errors, timeouts, dead workers ---------------------------------------------------------
class _Failing:
    def __init__(self, exc_type):
        self.exc_type = exc_type

    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            raise self.exc_type("bad index 2")
        return i


@pytest.mark.parametrize("exc_type", [ValueError, KeyError, IndexError])
def test_worker_errors_reraise_like_torch(exc_type):
    torch_iterator = iter(tud.DataLoader(_Failing(exc_type), num_workers=2))
    with pytest.raises(exc_type) as theirs:
        list(torch_iterator)
    torch_iterator._shutdown_workers()  # collected in a cycle, torch's would wait 5 s per worker
    with pytest.raises(exc_type) as ours:
        list(eud.DataLoader(_Failing(exc_type), num_workers=2))
    first = str(ours.value).splitlines()[0]
    assert first == str(theirs.value).splitlines()[0] == f"Caught {exc_type.__name__} in DataLoader worker process 0."
    assert "Original Traceback (most recent call last):" in str(ours.value)
    assert "__getitem__" in str(ours.value) and "bad index 2" in str(ours.value)


def test_worker_error_in_init_fn_is_reraised():
    def init(worker_id):
        raise OSError(f"cannot open shard {worker_id}")

    with pytest.raises(OSError, match="cannot open shard 0"):
        list(eud.DataLoader(_Squares(4), num_workers=1, worker_init_fn=init))


def test_unpicklable_batch_is_a_clear_error():
    with pytest.raises(Exception, match="Caught .* in DataLoader worker process 0"):
        list(eud.DataLoader(_Squares(2), num_workers=1, collate_fn=lambda batch: lambda: batch))


class _Slow(_Squares):
    def __getitem__(self, i):
        time.sleep(3)
        return i


def test_timeout_message_matches_torch():
    torch_iterator = iter(tud.DataLoader(_Slow(2), num_workers=1, timeout=0.3))
    with pytest.raises(RuntimeError) as theirs:
        next(torch_iterator)
    torch_iterator._shutdown_workers()  # collected in a cycle, torch's would wait 5 s per worker
    with pytest.raises(RuntimeError) as ours:
        next(iter(eud.DataLoader(_Slow(2), num_workers=1, timeout=0.3)))
    assert str(ours.value) == str(theirs.value) == "DataLoader timed out after 0.3 seconds"


class _Logged(_Squares):
    """Appends each index it fetches to a file, taking ``delay`` seconds per item."""

    def __init__(self, n, log, delay):
        super().__init__(n)
        self.log, self.delay = log, delay

    def __getitem__(self, i):
        time.sleep(self.delay)
        with open(self.log, "a") as f:
            f.write(f"{i}\n")
        return i


def test_shutdown_skips_the_tasks_still_queued_like_torch(tmp_path):
    """After a timeout, closing the loader fetches no more of the prefetched indices: the worker
    finishes the item in hand and stops (it would otherwise fetch every queued one first)."""
    counts = {}
    for name, lib in (("torch", tud), ("ember", eud)):
        log = tmp_path / f"{name}.log"
        # the worker must have taken the first item before the timeout: 0.5 s, on a loaded machine too
        iterator = iter(lib.DataLoader(_Logged(8, log, 1.0), num_workers=1, prefetch_factor=4, timeout=0.5))
        with pytest.raises(RuntimeError, match="DataLoader timed out after 0.5 seconds"):
            next(iterator)
        if name == "torch":
            iterator._shutdown_workers()  # collected in a cycle, torch's would wait 5 s per worker
        del iterator  # shuts ember's worker down (and waits for it)
        gc.collect()
        counts[name] = log.read_text().split()
    assert counts["ember"] == counts["torch"] == ["0"]


def _workers_after_an_error():
    iterator = iter(eud.DataLoader(_Failing(KeyError), num_workers=2))
    workers = list(iterator._workers)
    with pytest.raises(KeyError):
        list(iterator)
    return workers


def test_workers_of_a_loader_collected_in_a_cycle_stop_by_themselves():
    """After a worker error the iterator is left in a reference cycle; when the garbage collector
    ends it, its queues may be finalized before its stop messages go out: the workers still stop
    by themselves (exit code 0) instead of being terminated after a 5 s wait each."""
    workers = _workers_after_an_error()
    gc.collect()
    assert [w.exitcode for w in workers] == [0, 0]


class _Dies(_Squares):
    def __getitem__(self, i):
        os.kill(os.getpid(), signal.SIGKILL)


def test_a_dead_worker_is_reported():
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly"):
        list(eud.DataLoader(_Dies(2), num_workers=1))


# -- persistence, prefetching, shutdown -----------------------------------------------------
class _Pids(_Squares):
    def __getitem__(self, i):
        return os.getpid()


def test_persistent_workers_survive_epochs():
    loader = eud.DataLoader(_Pids(6), batch_size=None, num_workers=2, persistent_workers=True)
    first = set(loader)
    partial = iter(loader)
    next(partial)  # an epoch abandoned early must not leak into the next one
    assert set(loader) == first and len(list(loader)) == 6
    assert iter(loader) is iter(loader)  # one iterator, restarted, as PyTorch's
    workers = loader._iterator._workers  # PyTorch's names
    loader._iterator._shutdown_workers()
    assert not any(w.is_alive() for w in workers)


def test_workers_are_new_per_epoch_without_persistence():
    loader = eud.DataLoader(_Pids(4), batch_size=None, num_workers=2)
    assert set(loader).isdisjoint(set(loader))


def test_workers_exit_when_the_epoch_ends_or_the_iterator_is_dropped():
    iterator = iter(eud.DataLoader(_Squares(8), batch_size=2, num_workers=2))
    workers = list(iterator._workers)
    assert len(list(iterator)) == 4
    assert not any(w.is_alive() for w in workers)
    iterator = iter(eud.DataLoader(_Squares(8), batch_size=2, num_workers=2))
    next(iterator)
    workers = list(iterator._workers)
    del iterator
    assert not any(w.is_alive() for w in workers)


@pytest.mark.parametrize("prefetch_factor", [1, 2, 4])
def test_prefetch_factor(prefetch_factor):
    loader = eud.DataLoader(_Squares(), batch_size=3, num_workers=2, prefetch_factor=prefetch_factor)
    assert loader.prefetch_factor == prefetch_factor
    assert _lists(loader) == _lists(eud.DataLoader(_Squares(), batch_size=3))


def test_prefetch_factor_defaults_like_torch():
    assert eud.DataLoader([1], num_workers=2).prefetch_factor == tud.DataLoader([1], num_workers=2).prefetch_factor
    assert eud.DataLoader([1]).prefetch_factor is tud.DataLoader([1]).prefetch_factor is None
    for lib in (tud, eud):
        with pytest.raises(ValueError, match="prefetch_factor option should be non-negative"):
            lib.DataLoader([1], num_workers=1, prefetch_factor=-1)
        loader = lib.DataLoader([1], num_workers=1, prefetch_factor=0)  # accepted, refused by iter() as in PyTorch
        with pytest.raises(AssertionError, match="prefetch_factor must be greater than 0"):
            iter(loader)


def test_spawn_start_method_works_with_picklable_parts():
    loader = eud.DataLoader(_Squares(6), batch_size=2, num_workers=2, multiprocessing_context="spawn")
    assert _lists(loader) == _lists(eud.DataLoader(_Squares(6), batch_size=2))


def test_tensors_travel_from_workers():
    ds = eud.TensorDataset(ember.arange(12.0).reshape(6, 2), ember.arange(6))
    for (x, y), (tx, ty) in zip(
        eud.DataLoader(ds, batch_size=4, num_workers=2),
        tud.DataLoader(tud.TensorDataset(torch.arange(12.0).reshape(6, 2), torch.arange(6)), batch_size=4),
    ):
        assert isinstance(x, ember.Tensor) and x.dtype is ember.float32 and y.dtype is ember.int64
        np.testing.assert_array_equal(x.numpy(), tx.numpy())
        np.testing.assert_array_equal(y.numpy(), ty.numpy())


def test_pin_memory_without_accelerator_warns_like_torch(monkeypatch):
    if torch.accelerator.is_available():  # PyTorch warns only on a machine without one
        pytest.skip("PyTorch sees an accelerator here, so it gives no warning to compare with")
    monkeypatch.setenv("EMBER_ACCELERATOR", "no_such_device")
    with pytest.warns(UserWarning) as theirs:
        list(tud.DataLoader([1.0], pin_memory=True))
    with pytest.warns(UserWarning) as ours:
        batches = [b.tolist() for b in eud.DataLoader([1.0], pin_memory=True)]
    assert str(ours[0].message) == str(theirs[0].message)
    assert batches == [[1.0]]


def test_pin_memory_with_cuda_loads_without_warning(recwarn):
    if not ember.cuda.is_available():
        pytest.skip("no CUDA device (this test runs on the GPU check)")
    batches = [b.tolist() for b in eud.DataLoader([1.0, 2.0], batch_size=2, pin_memory=True, num_workers=1)]
    assert batches == [[1.0, 2.0]]
    assert not [w for w in recwarn if "pin_memory" in str(w.message)]
