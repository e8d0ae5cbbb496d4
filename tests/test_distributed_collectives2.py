"""ember.distributed's point-to-point calls, rooted and all-to-all collectives, object
collectives and process subgroups, against torch.distributed.

``tests/distributed/point_to_point_and_groups.py`` runs under ``mpiexec`` on 2 and on 3
ranks; every rank joins an ember ``mpi`` group and a torch ``gloo`` group (CPU) and compares
each check's results (values, dtypes, return values, exception types). Every check it
prints is one test here. The rest runs in this process: the names, and the base
:class:`~ember.distributed.Communicator`'s derived collectives over a world of one.
"""

from __future__ import annotations

import importlib.util
import socket
import sys

import pytest
from test_distributed import SCRIPTS, launch

import ember
import ember.distributed as dist
from ember.distributed import Communicator, CommunicatorRegistry, Work

torch = pytest.importorskip("torch")
tdist = pytest.importorskip("torch.distributed")

SCRIPT = "point_to_point_and_groups.py"


def _check_names(*args, script=SCRIPT):
    """The names of the checks of ``script`` (its ``checks(*args)``), one test each."""
    sys.path.insert(0, str(SCRIPTS))
    try:
        spec = importlib.util.spec_from_file_location(script.removesuffix(".py"), SCRIPTS / script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SCRIPTS))
    return list(module.checks(*args))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(ranks, script=SCRIPT):
    """Run ``script`` under ``mpiexec -n ranks`` with a torch port: ``({(rank, check): "ok" or why}, output)``."""
    return launch(script, ranks, extra_env={"EMBER_TEST_TORCH_PORT": str(_free_port())})


_WORDS = {2: "two", 3: "three", 4: "four"}


def rank_tests(script, sizes=(2, 3), names_of=None):
    """The fixtures and tests that run ``script`` under ``mpiexec`` on each of ``sizes`` ranks.

    For each size n (say 2): a module fixture ``two_ranks`` that launches the script once, and
    ``test_two_ranks_against_torch``, one test per check the script prints. ``names_of(n)`` gives the
    check names of an n-rank run (default: the script's ``checks()``, the same for every size). Add
    the result to the test module's names so that pytest collects them:
    ``globals().update(rank_tests("fsdp_against_torch.py"))``.
    """
    if names_of is None:
        names = _check_names(script=script)

        def names_of(ranks):
            return names

    found = {}
    for ranks in sizes:
        word = _WORDS[ranks]
        found[f"{word}_ranks"] = pytest.fixture(scope="module", name=f"{word}_ranks")(
            lambda ranks=ranks: _launch(ranks, script)
        )
        found[f"test_{word}_ranks_against_torch"] = _rank_test(word, ranks, names_of(ranks))
    return found


def _rank_test(word, ranks, names):
    @pytest.mark.parametrize("name", names)
    def test(request, name):
        _assert_ok(request.getfixturevalue(f"{word}_ranks"), name, ranks)

    test.__name__ = f"test_{word}_ranks_against_torch"
    return test


def _assert_ok(run, name, ranks):
    results, output = run
    for rank in range(ranks):
        status = results.get((rank, name))
        assert status == "ok", f"rank {rank} of {ranks}, check {name}: {status or 'not reported'}\n{output[-3000:]}"


globals().update(rank_tests(SCRIPT, names_of=_check_names))


# -- in this process ---------------------------------------------------------------------------
def test_names_match_torch():
    for name in ("MPI", "NCCL", "GLOO", "UCC", "UNDEFINED"):
        assert getattr(dist.Backend, name) == getattr(tdist.Backend, name)
    for given in ("GLOO", "nccl", "Mpi", "mine"):
        assert dist.Backend(given) == tdist.Backend(given)
    with pytest.raises(ValueError, match="string-ish"):
        dist.Backend(3)
    with pytest.raises(ValueError):
        tdist.Backend(3)
    assert dist.GroupMember.NON_GROUP_MEMBER == tdist.GroupMember.NON_GROUP_MEMBER == -100
    assert dist.GroupMember.WORLD is None and dist.group.WORLD is None  # before init_process_group
    assert dist.is_gloo_available() is False
    assert dist.is_mpi_available() == (importlib.util.find_spec("mpi4py") is not None)
    if importlib.util.find_spec("cupy") is None:
        assert dist.is_nccl_available() is False
    assert dist.is_torchelastic_launched() == tdist.is_torchelastic_launched()
    for name in (
        "send recv isend irecv P2POp batch_isend_irecv gather scatter reduce_scatter reduce_scatter_tensor "
        "all_gather_into_tensor all_to_all all_to_all_single gather_object scatter_object_list send_object_list "
        "recv_object_list monitored_barrier new_group get_process_group_ranks get_global_rank get_group_rank "
        "ProcessGroup GroupMember group Backend"
    ).split():
        assert hasattr(tdist, name) and name in dist.__all__, name


def test_p2pop_and_batch_errors():
    t = ember.zeros(2)
    with pytest.raises(ValueError, match="Invalid ``op``"):
        dist.P2POp(dist.all_reduce, t, 1)
    with pytest.raises(ValueError, match="Invalid ``op``"):
        tdist.P2POp(tdist.all_reduce, torch.zeros(2), 1)
    with pytest.raises(ValueError, match="Invalid ``p2p_op_list``"):
        dist.batch_isend_irecv([1])
    with pytest.raises(ValueError, match="Invalid ``p2p_op_list``"):
        tdist.batch_isend_irecv([1])


def test_not_initialized():
    for fn in (
        lambda: dist.send(ember.ones(1), 0),
        lambda: dist.gather(ember.ones(1)),
        lambda: dist.new_group([0]),
        lambda: dist.get_process_group_ranks(None),
    ):
        with pytest.raises(ValueError, match="Default process group has not been initialized"):
            fn()


def test_work_poll_finishes_once():
    calls = []
    ready = []
    work = Work(lambda: calls.append(1) or 7, lambda: bool(ready))
    assert not work.is_completed() and calls == []
    ready.append(True)
    assert work.is_completed() and calls == [1] and work._result == 7
    assert work.wait() and calls == [1]


class _One(Communicator):
    """A world of one with only the original primitives: the base class derives the rest."""

    def all_reduce(self, tensor, op):
        return Work()

    def broadcast(self, tensor, src):
        return Work()

    def all_gather(self, tensor_list, tensor):
        tensor_list[0].copy_(tensor)
        return Work()

    def barrier(self):
        pass


@pytest.fixture
def world_of_one(monkeypatch):
    from ember import plugin

    registry = CommunicatorRegistry()
    registry.register_communicator("one", _One)
    monkeypatch.setattr(plugin, "communicator_registry", lambda: registry)
    dist.init_process_group("one")
    yield
    dist.destroy_process_group()


def test_base_communicator_derives_rooted_collectives(world_of_one):
    x = ember.arange(6, dtype=ember.float64).reshape(2, 3)
    out = [ember.zeros(2, 3, dtype=ember.float64)]
    dist.gather(x, out)
    assert out[0].tolist() == x.tolist()
    got = ember.zeros(2, 3, dtype=ember.float64)
    dist.scatter(got, [x])
    assert got.tolist() == x.tolist()
    red = ember.zeros(2, 3, dtype=ember.float64)
    dist.reduce_scatter(red, [x])
    assert red.tolist() == x.tolist()
    flat = ember.zeros(6, dtype=ember.float64)
    dist.all_gather_into_tensor(flat, x)
    assert flat.tolist() == x.reshape(-1).tolist()
    assert dist.GroupMember.WORLD is dist.group.WORLD and isinstance(dist.group.WORLD, dist.ProcessGroup)
    assert dist.get_process_group_ranks(dist.group.WORLD) == [0]
    with pytest.raises(NotImplementedError, match="no point-to-point send"):
        dist._state["comm"].send(x, 0, 0)
    with pytest.raises(NotImplementedError, match="cannot make subgroups"):
        dist.new_group([0])
    with pytest.raises(ValueError, match="must not contain duplicate"):
        dist.new_group([0, 0])
    with pytest.raises(ValueError, match="rank 1 is not a rank of the job"):
        dist.new_group([1])
    with pytest.raises(ValueError, match="Invalid destination rank"):
        dist.send(x, 0)
    with pytest.raises(ValueError, match="Must specify|must specify"):
        dist.send(x)
