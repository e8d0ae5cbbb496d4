"""``python -m ember.distributed.run`` and ``.launch`` (PyTorch's torchrun and its deprecated launcher)
over mpiexec, the environment each rank finds (torchrun's variables), and ``@record``, against
PyTorch's where PyTorch can run here (argument parsing, the error file)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from test_distributed import _skip_reason

from ember.distributed import rank_entry, run
from ember.distributed.elastic.multiprocessing.errors import record

torch = pytest.importorskip("torch")
import torch.distributed.run as torch_run  # noqa: E402
from torch.distributed.elastic.multiprocessing.errors import record as torch_record  # noqa: E402

ARGUMENTS = [
    ["--nproc-per-node", "2", "train.py", "--lr", "0.1"],
    ["--nproc_per_node=3", "--standalone", "train.py"],
    ["--nnodes", "1", "--master-port", "29600", "--master_addr", "localhost", "train.py", "-x"],
    ["-m", "--nproc-per-node", "2", "package.train", "--epochs", "1"],
    ["--no-python", "--rdzv-id", "job7", "--rdzv_backend", "c10d", "./train.sh"],
]


@pytest.mark.parametrize("argv", ARGUMENTS, ids=lambda a: " ".join(a))
def test_arguments_parsed_as_torchrun(argv):
    ours, theirs = run.parse_args(argv), torch_run.parse_args(argv)
    for name in ("training_script", "training_script_args", "module", "no_python", "standalone", "rdzv_id"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert str(ours.nproc_per_node) == str(theirs.nproc_per_node)
    assert (ours.master_addr, str(ours.master_port)) == (theirs.master_addr, str(theirs.master_port))


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--nnodes", "2", "train.py"], "--nnodes=2: this launcher starts ranks on one machine"),
        (["--max-restarts", "3", "train.py"], "does not restart failed ranks"),
        (["-m", "--no-python", "train.py"], "Don't use both the '--no-python' flag and the '--module' flag"),
        (["--nproc-per-node", "0", "train.py"], "must be positive"),
    ],
)
def test_arguments_refused(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        run.parse_args(argv)
    assert info.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"PMI_RANK": "1", "PMI_SIZE": "2"}, ("1", "1", "2", "2", "0")),  # MPICH on one machine
        ({"PMI_RANK": "5", "PMI_SIZE": "8", "MPI_LOCALRANKID": "1", "MPI_LOCALNRANKS": "4"}, ("5", "1", "8", "4", "1")),
        (
            {"OMPI_COMM_WORLD_RANK": "2", "OMPI_COMM_WORLD_SIZE": "4", "OMPI_COMM_WORLD_LOCAL_RANK": "0"}
            | {"OMPI_COMM_WORLD_LOCAL_SIZE": "2"},
            ("2", "0", "4", "2", "1"),
        ),
    ],
)
def test_torchrun_environment_from_mpi(env, expected):
    found = rank_entry.torchrun_environment(env)
    assert tuple(found[k] for k in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK")) == expected
    assert found["TORCHELASTIC_MAX_RESTARTS"] == "0" and found["MASTER_PORT"] == "29500"


def test_torchrun_environment_needs_a_launcher():
    with pytest.raises(RuntimeError, match="no MPI rank in the environment"):
        rank_entry.torchrun_environment({})


SCRIPT = textwrap.dedent(
    """
    import argparse, os, sys
    import ember, ember.distributed as dist
    parser = argparse.ArgumentParser()
    parser.add_argument("--local-rank", "--local_rank", type=int, default=-1)
    parser.add_argument("--fail", action="store_true")
    args = parser.parse_args()
    dist.init_process_group("gloo", init_method="env://")
    total = ember.tensor([float(os.environ["RANK"])])
    dist.all_reduce(total)
    fields = (os.environ["RANK"], os.environ["LOCAL_RANK"], os.environ["WORLD_SIZE"], args.local_rank,
              int(total.item()), dist.is_torchelastic_launched(), __name__)
    report = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rank" + os.environ["RANK"] + ".txt")
    with open(report, "w") as f:
        f.write(" ".join(map(str, fields)))
    if args.fail and dist.get_rank() == 1:
        raise SystemExit(3)
    dist.destroy_process_group()
    """
)


def _start(tmp_path, module, *args):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    command = [sys.executable, "-m", module, "--nproc-per-node", "2", str(script), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def _ranks(tmp_path):
    """What each rank reported, in rank order. The ranks write files: their lines on the one stdout
    that mpiexec forwards can interleave."""
    return sorted(report.read_text().split() for report in tmp_path.glob("rank*.txt"))


def test_run_starts_ranks_with_torchrun_environment(tmp_path):
    result = _start(tmp_path, "ember.distributed.run")
    assert result.returncode == 0, result.stderr
    assert _ranks(tmp_path) == [
        ["0", "0", "2", "-1", "1", "True", "__main__"],
        ["1", "1", "2", "-1", "1", "True", "__main__"],
    ]


def test_launch_passes_local_rank_argument(tmp_path):
    result = _start(tmp_path, "ember.distributed.launch")
    assert result.returncode == 0, result.stderr
    assert [r[3] for r in _ranks(tmp_path)] == ["0", "1"]


def test_failing_rank_fails_the_job(tmp_path):
    result = _start(tmp_path, "ember.distributed.run", "--fail")
    assert result.returncode != 0


def test_record_writes_torch_error_file(tmp_path, monkeypatch):
    files = {}
    for name, decorator in (("ember", record), ("torch", torch_record)):
        files[name] = tmp_path / f"{name}.json"
        monkeypatch.setenv("TORCHELASTIC_ERROR_FILE", str(files[name]))

        @decorator
        def main():
            raise ValueError("diverged at step 3")

        with pytest.raises(ValueError, match="diverged"):
            main()
    ours, theirs = (json.loads(files[n].read_text())["message"] for n in ("ember", "torch"))
    assert ours["message"] == theirs["message"] == "ValueError: diverged at step 3"
    assert ours["extraInfo"].keys() == theirs["extraInfo"].keys()
    assert "diverged at step 3" in ours["extraInfo"]["py_callstack"]


def test_record_returns_and_exits_as_torch():
    for decorator in (record, torch_record):
        assert decorator(lambda: 5)() == 5
        assert decorator(lambda: sys.exit(0))() is None
        with pytest.raises(SystemExit):
            decorator(lambda: sys.exit(2))()
