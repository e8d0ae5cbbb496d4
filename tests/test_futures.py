""":mod:`ember.futures` against ``torch.futures``, and :class:`~ember.distributed.GradBucket`, in this process
(DDP's communication hooks and the futures of collectives run on two ranks in
``tests/test_distributed_against_torch.py``)."""

from __future__ import annotations

import threading

import pytest

import ember

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("T", [torch, ember], ids=["torch", "ember"])
def test_future_then_chain_and_callbacks(T):
    fut = T.futures.Future()
    seen = []
    fut.add_done_callback(lambda f: seen.append(f.value()))
    chained = fut.then(lambda f: f.value() + 1).then(lambda f: f.value() * 10)
    assert not fut.done() and not chained.done()
    fut.set_result(1)
    assert fut.done() and chained.wait() == 20 and seen == [1]
    late = []
    fut.add_done_callback(lambda f: late.append(f.wait()))  # already done: runs at once
    assert late == [1]
    with pytest.raises(RuntimeError):
        fut.set_result(2)


@pytest.mark.parametrize("T", [torch, ember], ids=["torch", "ember"])
def test_future_errors_propagate(T):
    fut = T.futures.Future()
    failing = fut.then(lambda f: 1 / 0)
    fut.set_result(0)
    with pytest.raises(RuntimeError, match="error when running the callback: ZeroDivisionError: division by zero"):
        failing.wait()
    errored = T.futures.Future()
    errored.set_exception(ValueError("lost"))
    with pytest.raises(ValueError, match="lost"):
        errored.wait()
    with pytest.raises(RuntimeError, match="error when running the callback: ValueError: lost"):
        errored.then(lambda f: f.value()).wait()


@pytest.mark.parametrize("T", [torch, ember], ids=["torch", "ember"])
def test_collect_all_and_wait_all(T):
    a, b = T.futures.Future(), T.futures.Future()
    both = T.futures.collect_all([a, b])
    assert not both.done()
    a.set_result(T.ones(2))
    assert not both.done()
    b.set_result(3)
    assert [f.value() for f in both.wait()][1] == 3
    assert T.futures.wait_all([a, b])[1] == 3
    assert T.futures.collect_all([]).wait() == []


def test_future_completed_from_another_thread():
    fut = ember.futures.Future()
    threading.Timer(0.05, lambda: fut.set_result("late")).start()
    assert fut.wait() == "late"


def test_value_of_pending_future_refused():
    with pytest.raises(RuntimeError, match="has not completed"):
        ember.futures.Future().value()


def test_grad_bucket_views():
    params = [ember.nn.Parameter(ember.zeros(2, 3)), ember.nn.Parameter(ember.zeros(4))]
    buffer = ember.arange(10.0)
    bucket = ember.distributed.GradBucket(1, buffer, [0, 6], params, False)
    first, second = bucket.gradients()
    assert first.shape == (2, 3) and second.tolist() == [6.0, 7.0, 8.0, 9.0]
    first[0, 0] = 100.0  # a view of the buffer
    assert buffer[0].item() == 100.0
    assert bucket.index() == 1 and not bucket.is_last() and bucket.parameters()[1] is params[1]
    bucket.set_buffer(buffer.half())
    assert bucket.buffer().dtype is ember.float16
