"""Pinned host memory: ``Tensor.pin_memory``/``is_pinned``, ``DataLoader(pin_memory=True)``, non-blocking copies.

Without a GPU, the behaviour is checked against PyTorch's on a machine without an accelerator,
and the core's side (what gets pinned, what a pinned batch looks like, which backend call a
non-blocking copy makes) with a stand-in accelerator backend whose "pinned" blocks are marked
host buffers, the way the CuPy backend recognises its ``alloc_pinned_memory`` blocks. The CuPy
side itself runs in the CUDA tests at the end (skipped without a GPU).
"""

from __future__ import annotations

import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import ember
import ember.pinned_memory
import ember.utils.data._pin_memory
from ember.backend import Backend, get_backend
from ember.shared_memory import buffer_owner
from ember.utils import data as eud

Pair = collections.namedtuple("Pair", "x y")


class _Block(bytearray):
    """A host buffer the stand-in backend allocated ("pinned")."""


class _PinningBackend:
    """The pinned-memory part of an accelerator backend, in host memory."""

    name = "stand-in"

    def __init__(self, pins=True):
        self.pins = pins

    def pin_host(self, host_array):
        if not self.pins:
            return Backend.pin_host(self, host_array)
        pinned = np.frombuffer(_Block(max(host_array.nbytes, 1)), host_array.dtype, count=host_array.size)
        pinned = pinned.reshape(host_array.shape)
        pinned[...] = host_array
        return pinned

    def is_pinned_host(self, host_array):
        return isinstance(buffer_owner(host_array), _Block)


@pytest.fixture
def accelerator(monkeypatch):
    """Installs a stand-in pinning backend as the accelerator's; returns it."""
    backend = _PinningBackend()
    for module in (ember.pinned_memory, ember.utils.data._pin_memory):
        monkeypatch.setattr(module, "pinning_backend", lambda device=None: backend)
    return backend


@pytest.fixture
def no_accelerator(monkeypatch):
    if torch.accelerator.is_available():
        pytest.skip("PyTorch sees an accelerator here: nothing to compare with")
    monkeypatch.setenv("EMBER_ACCELERATOR", "no_such_device")


# -- without an accelerator, as PyTorch --------------------------------------------------
def test_without_an_accelerator_nothing_is_pinned_like_torch(no_accelerator):
    assert ember.ones(3).is_pinned() is torch.ones(3).is_pinned() is False
    with pytest.raises(RuntimeError) as theirs:
        torch.ones(3).pin_memory()
    with pytest.raises(RuntimeError) as ours:
        ember.ones(3).pin_memory()
    assert str(ours.value) == str(theirs.value)


def test_without_an_accelerator_the_loader_gives_unpinned_batches_like_torch(no_accelerator):
    with pytest.warns(UserWarning, match="pin_memory"):
        ours = next(iter(eud.DataLoader([[1.0, 2.0]], batch_size=1, pin_memory=True)))
    with pytest.warns(UserWarning, match="pin_memory"):
        theirs = next(iter(tud.DataLoader([[1.0, 2.0]], batch_size=1, pin_memory=True)))
    assert [t.is_pinned() for t in ours] == [t.is_pinned() for t in theirs] == [False, False]


# -- the contract's defaults --------------------------------------------------------------
def test_a_backend_without_pinned_memory_declares_so():
    cpu = get_backend("cpu")
    array = np.arange(6.0).reshape(2, 3)
    assert cpu.pin_host(array) is None and cpu.is_pinned_host(array) is False
    np.testing.assert_array_equal(np.asarray(cpu.to_host(cpu.from_host_async(array, 0))), array)


def test_non_blocking_copies_give_the_same_values(device):
    x = ember.arange(6.0).reshape(2, 3).requires_grad_()
    y = x.to(device, non_blocking=True)
    assert y.device.type == ember.device(device).type
    np.testing.assert_array_equal(y.cpu().detach().numpy(), x.detach().numpy())
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3), np.float32))


# -- the core's side, with a stand-in accelerator ----------------------------------------
def test_pin_memory_copies_into_pinned_memory(accelerator):
    x = ember.arange(6.0).reshape(2, 3)
    pinned = x.pin_memory()
    assert pinned.is_pinned() and not x.is_pinned()
    assert pinned.pin_memory() is pinned
    assert pinned.dtype is x.dtype and pinned.device == x.device
    np.testing.assert_array_equal(pinned.numpy(), x.numpy())
    x[0, 0] = 10.0  # a copy, not a view
    assert pinned[0, 0].item() == 0.0


def test_pin_memory_passes_gradients(accelerator):
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (x.pin_memory() * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_a_backend_without_pinned_memory_cannot_pin(accelerator):
    accelerator.pins = False
    with pytest.raises(RuntimeError, match="stand-in backend has no pinned host memory"):
        ember.ones(2).pin_memory()
    batch = next(iter(eud.DataLoader([[1.0, 2.0]], batch_size=1, pin_memory=True)))
    assert not any(t.is_pinned() for t in batch)


class _Samples:
    def __len__(self):
        return 6

    def __getitem__(self, i):
        return {"image": np.full((2, 2), i, np.float32), "pair": Pair(i, (float(i), "s"))}


@pytest.mark.parametrize("num_workers", [0, 2])
def test_loader_pins_every_tensor_of_a_batch_as_torch_structures_it(accelerator, recwarn, num_workers):
    ours = list(eud.DataLoader(_Samples(), batch_size=4, pin_memory=True, num_workers=num_workers))
    theirs = list(tud.DataLoader(_Samples(), batch_size=4, num_workers=num_workers))
    assert not [w for w in recwarn if "pin_memory" in str(w.message)]
    for our, their in zip(ours, theirs, strict=True):
        assert type(our) is type(their) and type(our["pair"]) is type(their["pair"]) is Pair
        assert type(our["pair"].y) is type(their["pair"].y)
        tensors = [our["image"], our["pair"].x, our["pair"].y[0]]
        assert all(t.is_pinned() for t in tensors)
        for o, t in zip(tensors, [their["image"], their["pair"].x, their["pair"].y[0]], strict=True):
            np.testing.assert_array_equal(o.numpy(), t.numpy())
        assert our["pair"].y[1] == their["pair"].y[1]


# -- the CuPy backend (GPU only) ----------------------------------------------------------
cuda = pytest.mark.skipif(not ember.cuda.is_available(), reason="no CUDA device (runs on the GPU check)")


@cuda
def test_cuda_pin_memory_and_non_blocking_copy():
    x = ember.randn(64, 3, 32, 32)
    pinned = x.pin_memory()
    assert pinned.is_pinned() and not x.is_pinned()
    assert torch.randn(2).pin_memory().is_pinned()  # PyTorch pins on the same machine
    stream = ember.cuda.Stream()
    with ember.cuda.stream(stream):
        on_gpu = pinned.to("cuda", non_blocking=True)
        twice = pinned.cuda(non_blocking=True) * 2
    stream.synchronize()
    np.testing.assert_array_equal(on_gpu.cpu().numpy(), x.numpy())
    np.testing.assert_array_equal(twice.cpu().numpy(), 2 * x.numpy())


@cuda
def test_cuda_loader_pins_worker_batches():
    ds = eud.TensorDataset(ember.arange(40.0).reshape(10, 4), ember.arange(10))
    for num_workers in (0, 2):
        batches = list(eud.DataLoader(ds, batch_size=4, pin_memory=True, num_workers=num_workers))
        assert all(t.is_pinned() for b in batches for t in b)
        moved = [t.to("cuda", non_blocking=True) for t in batches[1]]
        ember.cuda.synchronize()
        np.testing.assert_array_equal(moved[0].cpu().numpy(), np.arange(16.0, 32.0, dtype=np.float32).reshape(4, 4))
        np.testing.assert_array_equal(moved[1].cpu().numpy(), [4, 5, 6, 7])
