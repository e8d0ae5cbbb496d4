"""``ember.multiprocessing`` against ``torch.multiprocessing``: what Hogwild programs (PyTorch's
``mnist_hogwild`` example) rely on -- tensors in shared memory whose in-place updates in child
processes the parent sees, tensors over queues, ``Module.share_memory``.

CPU only, deliberately: shared memory is a property of CPU storage (PyTorch's too); the test that
other devices are refused takes the ``device`` fixture.
"""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest

import ember
import ember.multiprocessing as emp

torch = pytest.importorskip("torch")
import torch.multiprocessing as tmp  # noqa: E402

LIBS = {"ember": (ember, emp), "torch": (torch, tmp)}


def _add_at_index(i, t):
    t[i] += i + 1


def _raise_in_second(i):
    if i == 1:
        raise ValueError(f"bad rank {i}")


def _exit_with_three(i):
    sys.exit(3)


def _add_in_child(t, value):
    t.add_(value)


def _send_back(queue, received, lib_name):
    lib = importlib.import_module(lib_name)
    queue.put(lib.arange(6, dtype=lib.float64).reshape(2, 3) * 2)
    received.wait(120)  # as PyTorch documents: the sender lives until the receiver has the tensor


def _sgd_steps(rank, lib_name, model, inputs, targets):
    lib = importlib.import_module(lib_name)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    for x, y in zip(inputs[rank::2], targets[rank::2]):
        optimizer.zero_grad()
        lib.nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "bool", "bfloat16"])
def test_share_memory_keeps_values_and_reports_shared(dtype):
    values = np.arange(12).reshape(3, 4) % 3
    results = {}
    for name, (lib, _) in LIBS.items():
        t = lib.tensor(values).to(getattr(lib, dtype))
        flags = [t.is_shared()]
        assert t.share_memory_() is t
        flags += [t.is_shared(), t.share_memory_().is_shared()]
        results[name] = (flags, t.to(lib.float64).numpy(), str(t.dtype).split(".")[1], tuple(t.shape))
    assert results["ember"][0] == results["torch"][0] == [False, True, True]
    np.testing.assert_array_equal(results["ember"][1], results["torch"][1])
    assert results["ember"][2:] == results["torch"][2:]


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_child_in_place_update_is_seen_by_parent(method):
    results = {}
    for name, (lib, mp) in LIBS.items():
        t = lib.linspace(0, 1, 5, dtype=lib.float64).share_memory_()
        p = mp.get_context(method).Process(target=_add_in_child, args=(t, 2.5))
        p.start()
        p.join()
        assert p.exitcode == 0
        results[name] = t.numpy().copy()
    np.testing.assert_array_equal(results["ember"], results["torch"])
    np.testing.assert_array_equal(results["ember"], np.linspace(0, 1, 5) + 2.5)


def test_strided_view_of_a_shared_tensor_writes_through_to_its_base():
    results = {}
    for name, (lib, mp) in LIBS.items():
        base = lib.arange(12, dtype=lib.float32).reshape(3, 4).share_memory_()
        view = base[1:, ::2]
        p = mp.get_context("spawn").Process(target=_add_in_child, args=(view, 100.0))
        p.start()
        p.join()
        results[name] = base.numpy().copy()
    np.testing.assert_array_equal(results["ember"], results["torch"])
    assert results["ember"][1, 0] == 104.0 and results["ember"][0, 0] == 0.0


def test_tensor_sent_to_child_is_moved_to_shared_memory():
    # as in PyTorch, pickling a tensor for another process puts it in shared memory first
    results = {}
    for name, (lib, mp) in LIBS.items():
        t = lib.zeros(3, dtype=lib.float32)
        p = mp.get_context("spawn").Process(target=_add_in_child, args=(t, 1.0))
        p.start()
        p.join()
        results[name] = (t.is_shared(), t.numpy().copy())
    assert results["ember"][0] is results["torch"][0] is True
    np.testing.assert_array_equal(results["ember"][1], results["torch"][1])


def test_tensor_through_queue():
    results = {}
    for name, (_, mp) in LIBS.items():
        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        done = ctx.Event()
        p = ctx.Process(target=_send_back, args=(queue, done, name))
        p.start()
        received = queue.get(timeout=120)
        done.set()
        p.join()
        results[name] = (received.is_shared(), received.numpy().copy(), received.dtype.is_floating_point)
    assert results["ember"][0] == results["torch"][0]
    np.testing.assert_array_equal(results["ember"][1], results["torch"][1])


def test_hogwild_module_share_memory_trains_the_parents_model():
    # two processes in turn (so the result is deterministic) update one shared model, as mnist_hogwild does
    rng = np.random.default_rng(0)
    w, b = rng.standard_normal((2, 3)), rng.standard_normal(2)
    xs, ys = rng.standard_normal((8, 4, 3)), rng.standard_normal((8, 4, 2))
    results = {}
    for name, (lib, mp) in LIBS.items():
        model = lib.nn.Linear(3, 2).double()
        with lib.no_grad():
            model.weight.copy_(lib.tensor(w))
            model.bias.copy_(lib.tensor(b))
        assert model.share_memory() is model
        assert all(p.is_shared() for p in model.parameters())
        inputs, targets = [lib.tensor(x) for x in xs], [lib.tensor(y) for y in ys]
        for rank in range(2):
            p = mp.get_context("spawn").Process(target=_sgd_steps, args=(rank, name, model, inputs, targets))
            p.start()
            p.join()
            assert p.exitcode == 0
        results[name] = [p.detach().numpy().copy() for p in model.parameters()]
    assert not np.allclose(results["ember"][0], w)
    for got, want in zip(results["ember"], results["torch"]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_non_leaf_requiring_grad_is_refused():
    from multiprocessing.reduction import ForkingPickler

    for lib, _ in LIBS.values():
        t = lib.ones(2, requires_grad=True) * 2
        with pytest.raises(RuntimeError, match="Cowardly refusing to serialize non-leaf tensor"):
            ForkingPickler.dumps(t)
        ForkingPickler.dumps(t.detach())  # the data alone crosses


def test_multiprocessing_namespace_is_pythons():
    import multiprocessing

    for name in multiprocessing.__all__:
        assert hasattr(emp, name), name
    assert set(multiprocessing.__all__) <= set(emp.__all__)


def test_share_memory_refuses_non_cpu_tensors(device):
    t = ember.ones(2, device=device)
    if t.device.type == "cpu":
        assert t.share_memory_().is_shared()
        return
    with pytest.raises(RuntimeError, match=r"share_memory_: only CPU tensors .* on " + str(t.device)):
        t.share_memory_()
    assert not t.is_shared()


@pytest.mark.parametrize("join", [True, False])
def test_spawn_shares_tensors_with_the_processes(join):
    results = {}
    for name, (lib, mp) in LIBS.items():
        t = lib.zeros(3, dtype=lib.int64)
        context = mp.spawn(_add_at_index, args=(t,), nprocs=3, join=join)
        if not join:
            assert len(context.pids()) == 3
            while not context.join():
                pass
        else:
            assert context is None
        results[name] = t.numpy().copy()
    np.testing.assert_array_equal(results["ember"], results["torch"])
    np.testing.assert_array_equal(results["ember"], [1, 2, 3])


def test_spawn_reraises_a_process_error_with_its_traceback():
    for _, mp in LIBS.values():
        with pytest.raises(mp.ProcessRaisedException, match=r"(?s)Process 1 terminated.*ValueError: bad rank 1") as e:
            mp.spawn(_raise_in_second, nprocs=2)
        assert e.value.error_index == 1


def test_spawn_reports_an_exit_code():
    for _, mp in LIBS.values():
        with pytest.raises(mp.ProcessExitedException, match="process 0 terminated with exit code 3") as e:
            mp.spawn(_exit_with_three, nprocs=1)
        assert (e.value.error_index, e.value.exit_code) == (0, 3)
