"""Collectives called on a rank outside their group, in a world of one (no launcher): each does
nothing, returns None as PyTorch's do and warns once with PyTorch's
message, the warning pointing at the line that called the collective, as every collective runs
through the one ``_collective`` wrapper of ``distributed_c10d``."""

from __future__ import annotations

import warnings

import pytest
from test_distributed_collectives2 import world_of_one  # noqa: F401 - the fixture: a world of one rank

import ember
import ember.distributed as dist
from ember.distributed import Work


def _calls():
    g = dist.GroupMember.NON_GROUP_MEMBER
    t = ember.ones(2)
    return {
        "all_reduce": lambda: dist.all_reduce(t, group=g),
        "reduce": lambda: dist.reduce(t, 0, group=g),
        "broadcast": lambda: dist.broadcast(t, 0, group=g),
        "all_gather": lambda: dist.all_gather([ember.ones(2)], t, group=g),
        "all_gather_into_tensor": lambda: dist.all_gather_into_tensor(ember.ones(2), t, group=g),
        "reduce_scatter": lambda: dist.reduce_scatter(t, [ember.ones(2)], group=g),
        "reduce_scatter_tensor": lambda: dist.reduce_scatter_tensor(t, ember.ones(2), group=g),
        "gather": lambda: dist.gather(t, [ember.ones(2)], 0, group=g),
        "scatter": lambda: dist.scatter(t, [ember.ones(2)], 0, group=g),
        "all_to_all": lambda: dist.all_to_all([ember.ones(2)], [ember.ones(2)], group=g),
        "all_to_all_single": lambda: dist.all_to_all_single(ember.ones(2), t, group=g),
        "barrier": lambda: dist.barrier(group=g),
        "monitored_barrier": lambda: dist.monitored_barrier(group=g),
        "all_gather_object": lambda: dist.all_gather_object([None], 1, group=g),
        "broadcast_object_list": lambda: dist.broadcast_object_list([1], 0, group=g),
        "gather_object": lambda: dist.gather_object(1, [None], 0, group=g),
        "scatter_object_list": lambda: dist.scatter_object_list([None], [1], 0, group=g),
    }


@pytest.mark.parametrize("name", list(_calls()))
@pytest.mark.usefixtures("world_of_one")
def test_non_member_call_does_nothing_and_warns_at_the_caller(name):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = _calls()[name]()
    assert out is None
    assert len(caught) == 1, [str(w.message) for w in caught]
    w = caught[0]
    assert w.category is UserWarning
    assert str(w.message) == f"Running {name} on global rank 0 which does not belong to the given group."
    assert w.filename == __file__, (w.filename, w.lineno)


@pytest.mark.usefixtures("world_of_one")
def test_non_member_async_op_gives_no_work():
    g = dist.GroupMember.NON_GROUP_MEMBER
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert dist.all_reduce(ember.ones(2), group=g, async_op=True) is None
        assert dist.gather(ember.ones(2), None, 0, group=g, async_op=True) is None
        assert dist.barrier(group=g, async_op=True) is None
    assert [w.filename for w in caught] == [__file__] * 3


@pytest.mark.usefixtures("world_of_one")
def test_non_member_values_are_untouched():
    g = dist.GroupMember.NON_GROUP_MEMBER
    t = ember.tensor([1.0, 2.0])
    out = [ember.zeros(2)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dist.all_gather(out, t, group=g)
        dist.broadcast(t, 0, group=g)
        objects = [None]
        dist.all_gather_object(objects, 5, group=g)
    assert out[0].tolist() == [0.0, 0.0] and t.tolist() == [1.0, 2.0] and objects == [None]


@pytest.mark.usefixtures("world_of_one")
def test_member_async_work_gives_the_outputs():
    t = ember.tensor([1.0, 2.0])
    work = dist.all_reduce(t, async_op=True)
    assert isinstance(work, Work)
    assert work.get_future().wait()[0] is t
    out = [ember.zeros(2)]
    work = dist.all_gather(out, t, async_op=True)
    assert work.get_future().wait() == [out] and out[0].tolist() == [1.0, 2.0]
    work = dist.barrier(async_op=True)
    assert isinstance(work, Work) and work.get_future().wait() == []
    assert dist.all_reduce(t) is None and dist.barrier() is None
