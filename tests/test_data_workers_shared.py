"""DataLoader workers hand their batches to the main process through shared memory, as PyTorch's do.

Workers are host processes whatever the device, so these tests run on the CPU only (no ``device``
fixture): they check what reaches the main process (shared, identical to ``num_workers=0``) and
that no segment outlives the batches that use it.
"""

from __future__ import annotations

import gc
import os

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import ember
from ember.utils import data as eud

pytestmark = pytest.mark.skipif(
    not os.path.isdir(f"/proc/{os.getpid()}/fd"), reason="counts this process's open descriptors in /proc"
)


class _Images:
    """Sample ``i``: a float32 image filled with ``i``, its int label and a dict with a NumPy array."""

    def __init__(self, n=10):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full((3, 4, 5), i, np.float32), i, {"pos": np.array([i, -i], np.int64)}


def _tensors(batch):
    x, y, extra = batch
    return [x, y, extra["pos"]]


def _open_descriptors():
    """This process's open descriptors of ember's shared segments (other descriptors come and go with
    whatever else runs in the process, such as the test runner's own pipes)."""
    found = 0
    for fd in os.listdir(f"/proc/{os.getpid()}/fd"):
        try:
            found += "ember-shm-" in os.readlink(f"/proc/{os.getpid()}/fd/{fd}")
        except OSError:  # closed between listing and reading
            pass
    return found


def _shm_files():
    """ember's files in /dev/shm (others' come and go on a shared machine)."""
    return sorted(f for f in os.listdir("/dev/shm") if f.startswith("ember")) if os.path.isdir("/dev/shm") else []


@pytest.mark.parametrize("num_workers", [1, 2])
def test_worker_batches_are_shared_like_torch(num_workers):
    ours = [_tensors(b) for b in eud.DataLoader(_Images(), batch_size=4, num_workers=num_workers)]
    theirs = [_tensors(b) for b in tud.DataLoader(_Images(), batch_size=4, num_workers=num_workers)]
    assert [[t.is_shared() for t in b] for b in ours] == [[t.is_shared() for t in b] for b in theirs]
    assert all(t.is_shared() for b in ours for t in b)
    for our, their in zip(ours, theirs, strict=True):
        for o, t in zip(our, their, strict=True):
            assert str(o.dtype).split(".")[1] == str(t.dtype).split(".")[1]
            np.testing.assert_array_equal(o.numpy(), t.numpy())


def test_main_process_batches_are_not_shared_like_torch():
    ours = next(iter(eud.DataLoader(_Images(), batch_size=4)))[0]
    theirs = next(iter(tud.DataLoader(_Images(), batch_size=4)))[0]
    assert ours.is_shared() is theirs.is_shared() is False


@pytest.mark.parametrize("shuffle", [False, True])
def test_worker_batches_equal_the_main_process_batches(shuffle):
    def batches(num_workers):
        loader = eud.DataLoader(
            _Images(13), batch_size=3, shuffle=shuffle, num_workers=num_workers,
            generator=ember.Generator().manual_seed(5),
        )  # fmt: skip
        return [[t.numpy().copy() for t in _tensors(b)] for b in loader]

    serial, parallel = batches(0), batches(3)
    assert len(serial) == len(parallel) == 5
    for a, b in zip(serial, parallel, strict=True):
        for x, y in zip(a, b, strict=True):
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(x, y)


def test_tensor_dataset_batches_are_shared():
    ds = eud.TensorDataset(ember.arange(24.0).reshape(6, 4), ember.arange(6))
    batches = list(eud.DataLoader(ds, batch_size=4, num_workers=2))
    assert all(t.is_shared() for b in batches for t in b)
    np.testing.assert_array_equal(batches[1][0].numpy(), np.arange(16.0, 24.0, dtype=np.float32).reshape(2, 4))


def test_a_shared_batch_can_be_written_and_kept():
    batch = next(iter(eud.DataLoader(_Images(), batch_size=2, num_workers=1)))[0]
    batch.add_(1.0)
    np.testing.assert_array_equal(batch[:, 0, 0, 0].numpy(), [1.0, 2.0])


def test_no_segment_outlives_an_exhausted_or_deleted_loader():
    list(eud.DataLoader(_Images(4), batch_size=2, num_workers=1))  # warm the imports and caches
    gc.collect()
    files, descriptors = _shm_files(), _open_descriptors()
    batches = list(eud.DataLoader(_Images(), batch_size=2, num_workers=2))
    assert _open_descriptors() > descriptors  # the batches hold their segments
    del batches
    gc.collect()
    assert _shm_files() == files and _open_descriptors() <= descriptors
    iterator = iter(eud.DataLoader(_Images(), batch_size=2, num_workers=2))
    next(iterator)
    del iterator  # batches prefetched but never read go with the workers
    gc.collect()
    assert _shm_files() == files and _open_descriptors() <= descriptors


def test_persistent_workers_share_batches_and_release_abandoned_epochs():
    loader = eud.DataLoader(_Images(), batch_size=2, num_workers=2, persistent_workers=True)
    first = [b[0].numpy().copy() for b in loader]
    descriptors = _open_descriptors()
    for _ in range(3):
        next(iter(loader))  # abandoned early: its prefetched batches are dropped at the next epoch
    again = list(loader)
    assert all(b[0].is_shared() for b in again)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b[0].numpy())
    del again, b
    gc.collect()
    assert _open_descriptors() <= descriptors
    loader._iterator._shutdown_workers()  # PyTorch's names


class _Fails(_Images):
    def __getitem__(self, i):
        if i == 3:
            raise ValueError(f"bad index {i}")
        return super().__getitem__(i)


def test_a_worker_error_is_still_reraised_after_shared_batches():
    iterator = iter(eud.DataLoader(_Fails(), batch_size=2, num_workers=2))
    assert next(iterator)[0].is_shared()
    with pytest.raises(ValueError, match="Caught ValueError in DataLoader worker process 1") as ours:
        next(iterator)
    assert "bad index 3" in str(ours.value)
    torch_iterator = iter(tud.DataLoader(_Fails(), batch_size=2, num_workers=2))
    with pytest.raises(ValueError, match="Caught ValueError in DataLoader worker process 1"):
        list(torch_iterator)
    torch_iterator._shutdown_workers()  # collected in a cycle, torch's would wait 5 s per worker


def test_spawned_workers_share_batches():
    batches = list(eud.DataLoader(_Images(4), batch_size=2, num_workers=1, multiprocessing_context="spawn"))
    assert all(b[0].is_shared() for b in batches)
    np.testing.assert_array_equal(batches[1][1].numpy(), [2, 3])


def test_torch_worker_batches_are_shared():
    """The behaviour matched above, stated for PyTorch itself."""
    assert next(iter(tud.DataLoader(_Images(), batch_size=2, num_workers=1)))[0].is_shared()
    assert isinstance(next(iter(tud.DataLoader(_Images(), batch_size=2)))[0], torch.Tensor)
