"""ember.distributed and DistributedDataParallel.

The collectives and DDP run on 2 ranks on this machine: the scripts in tests/distributed/
are launched under ``mpiexec -n 2`` (skipped, with the reason, when mpi4py or mpiexec is
missing) and every check they print is one test here.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ember
import ember.distributed as dist
from ember.distributed import Communicator, CommunicatorRegistry, ReduceOp

SCRIPTS = Path(__file__).parent / "distributed"
TIMEOUT = 240


def _mpiexec():
    local = Path(sys.executable).with_name("mpiexec")
    return str(local) if local.exists() else shutil.which("mpiexec")


def _skip_reason():
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py is not installed (pip install ember[distributed])"
    if _mpiexec() is None:
        return "mpiexec is not on PATH (pip install ember[distributed] provides MPICH's)"
    return None


def _env():
    env = dict(os.environ)
    env.setdefault("HYDRA_IFACE", "lo")  # keep MPICH's launcher on loopback (sandboxes, no network)
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return env


def launch(script, ranks=2, extra_env=None):
    """Run ``script`` under ``mpiexec -n ranks`` (with ``extra_env`` added to the environment); returns
    {(rank, check): "ok" | reason} and the output."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    try:
        proc = subprocess.run(
            [_mpiexec(), "-n", str(ranks), sys.executable, str(SCRIPTS / script)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env={**_env(), **(extra_env or {})},
            cwd=SCRIPTS,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{script} did not finish in {TIMEOUT}s under mpiexec -n {ranks}: {exc.stdout}")
    results = {}
    for rank, status, name, rest in re.findall(r"\[(\d+)\] (ok|FAIL) ([\w.]+)(: [^\[]*)?", proc.stdout):
        results[(int(rank), name)] = "ok" if status == "ok" else rest
    return results, proc.stdout + proc.stderr


def _collective_names():
    names = ["group_info", "views", "async_op", "objects", "errors", "reinit"]
    for dtype in ("float32", "float64", "int64"):
        names += [f"all_reduce_{op.name}_{dtype}" for op in ReduceOp if not (op is ReduceOp.AVG and dtype == "int64")]
        names += [f"broadcast_{dtype}", f"all_gather_{dtype}"]
    names += [f"reduce_{op.name}" for op in ReduceOp] + [f"all_reduce_{op.name}_restricted" for op in ReduceOp]
    return names + ["broadcast_restricted", "all_gather_restricted"]


DDP_CHECKS = [
    "train_float64",
    "train_float64_small_buckets",
    "train_float32",
    "train_restricted",
    "train_device_ids",
    "buckets",
    "no_sync",
    "buffers",
    "state_dict",
    "model_mismatch",
    "init_sync_false",
    "parameter_added",
    "sparse",
    "unused_without_detection",
    "find_unused_parameters",
    "sampler_default_group",
    "loader_training",
    "process_group_of_the_world",
    "process_group_of_one_rank",
]


@pytest.fixture(scope="module")
def collectives_run():
    return launch("collectives.py")


@pytest.fixture(scope="module")
def ddp_run():
    return launch("ddp.py")


def _assert_ok(run, name):
    results, output = run
    for rank in (0, 1):
        status = results.get((rank, name))
        assert status == "ok", f"rank {rank}, check {name}: {status or 'not reported'}\n{output[-3000:]}"


@pytest.mark.parametrize("name", _collective_names())
def test_collectives_two_ranks(collectives_run, name):
    _assert_ok(collectives_run, name)


@pytest.mark.parametrize("name", DDP_CHECKS)
def test_ddp_two_ranks(ddp_run, name):
    _assert_ok(ddp_run, name)


def test_world_of_one_without_launcher():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    code = (
        "import ember, ember.distributed as d; d.init_process_group('mpi'); t = ember.ones(2); d.all_reduce(t); "
        "print(d.get_world_size(), d.get_rank(), t.tolist()); d.destroy_process_group()"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT, env=_env(), cwd=SCRIPTS
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == "1 0 [1.0, 1.0]"


def test_example_two_ranks():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    example = Path(__file__).parents[1] / "examples" / "ddp_train.py"
    proc = subprocess.run(
        [_mpiexec(), "-n", "2", sys.executable, str(example), "--epochs", "2"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=_env(),
        cwd=SCRIPTS,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "rank 0" in proc.stdout and "rank 1" in proc.stdout


def test_nccl_world_of_one():
    if not ember.cuda.is_available():
        pytest.skip("no CUDA device: the nccl communicator needs one")
    if importlib.util.find_spec("cupy") is None:
        pytest.skip("cupy is not installed")
    proc = subprocess.run(
        [sys.executable, str(SCRIPTS / "nccl_check.py")], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert "PASS" in proc.stdout and proc.returncode == 0, proc.stdout + proc.stderr


# -- in this process: no communication -------------------------------------------------------
def test_not_initialized():
    assert dist.is_available() and not dist.is_initialized()
    for fn in (dist.get_rank, dist.get_world_size, dist.barrier, lambda: dist.all_reduce(ember.ones(1))):
        with pytest.raises(ValueError, match="Default process group has not been initialized"):
            fn()
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        ember.nn.parallel.DistributedDataParallel(ember.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        ember.utils.data.DistributedSampler(list(range(4)))


def test_registry_lists_first_party_communicators():
    from ember.plugin import communicator_registry

    assert {"mpi", "nccl"} <= set(communicator_registry().names())


def test_init_errors():
    with pytest.raises(ValueError, match="Invalid backend: 'nosuch'"):
        dist.init_process_group("nosuch")
    with pytest.raises(TypeError, match="timeout must be a datetime.timedelta"):
        dist.init_process_group("mpi", timeout="5s")
    with pytest.raises(TypeError, match="world_size must be an int"):
        dist.init_process_group("mpi", world_size=2.0)
    with pytest.raises(ValueError, match="rank 3 is not in"):
        dist.init_process_group("mpi", world_size=2, rank=3)
    assert not dist.is_initialized()


class _Loopback(Communicator):
    """A world of one, in memory: exercises the registry and the public API's checks."""

    def all_reduce(self, tensor, op):
        from ember.distributed import Work

        def finish():
            self.finished = True

        return Work(finish)

    def broadcast(self, tensor, src):
        from ember.distributed import Work

        return Work()

    def barrier(self):
        pass


def test_registry_plugins_and_async_work():
    registry = CommunicatorRegistry()
    registry.register_communicator("loop", _Loopback)
    registry.register_communicator("lazy", lambda: _Loopback)
    registry.register_communicator("broken", "no_such_module_xyz:Comm")
    registry.register_communicator("wrong", lambda: int)
    assert registry.load("loop") is _Loopback and registry.load("lazy") is _Loopback
    with pytest.raises(RuntimeError, match="'broken' communicator is unavailable .*ModuleNotFoundError"):
        registry.load("broken")
    with pytest.raises(TypeError, match="not a Communicator subclass"):
        registry.load("wrong")
    with pytest.raises(ValueError, match="registered twice"):
        registry.register_communicator("loop", _Loopback)


def test_public_api_over_a_plugin(monkeypatch):
    from ember import plugin

    registry = CommunicatorRegistry()
    registry.register_communicator("loop", _Loopback)
    monkeypatch.setattr(plugin, "communicator_registry", lambda: registry)
    dist.init_process_group("loop")
    try:
        assert (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (0, 1, "loop")
        assert dist._comm().timeout == 1800.0  # PyTorch's default, 30 minutes
        work = dist.all_reduce(ember.ones(2), async_op=True)
        assert not work.is_completed() and work.wait() and work.is_completed()
        with pytest.raises(ValueError, match="src=1 is not a rank"):
            dist.broadcast(ember.ones(2), src=1)
        with pytest.raises(ValueError, match="twice"):
            dist.init_process_group("loop")
    finally:
        dist.destroy_process_group()
    assert not dist.is_initialized()


def test_watchdog_aborts_a_late_collective_only(capsys):
    import threading
    import time

    from ember.distributed import Watchdog

    class Fake(Communicator):
        timeout = 0.2

        def __init__(self):
            super().__init__()
            self.aborted = threading.Event()

        def abort(self, code=1):
            self.aborted.set()

    comm = Fake()
    dog = Watchdog(comm, poll=0.01)
    dog.watch("all_reduce", lambda: True)
    time.sleep(0.4)
    assert not comm.aborted.is_set()  # done collectives never trigger it
    dog.watch("broadcast", lambda: False)
    assert comm.aborted.wait(5.0)
    assert "rank 0: broadcast (collective #2) did not complete within 0.2 s" in capsys.readouterr().err
