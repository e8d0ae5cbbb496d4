"""``python -m ember.distributed.run``: PyTorch's ``torchrun`` command line over an MPI launcher.

A program written for ``torchrun --nproc-per-node=4 train.py`` runs unchanged as
``python -m ember.distributed.run --nproc-per-node=4 train.py``: it starts
``mpiexec -n 4`` (MPICH's, which the ``distributed`` extra installs next to Python), and each rank
finds torchrun's environment (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ...;
see :mod:`ember.distributed.rank_entry`) before its script starts, so
``init_process_group("nccl" or "gloo")`` and ``int(os.environ["LOCAL_RANK"])`` work as there.
``--nnodes`` other than 1 is refused: across machines, run ``mpiexec -f hostfile -n N python -m
ember.distributed.rank_entry train.py`` (MPI's own rendezvous replaces torchrun's). Restarts
(``--max-restarts``) are not offered: a failing rank ends the job, as ``--max-restarts=0`` does.

Example (a shell command)::

    python -m ember.distributed.run --standalone --nproc-per-node=2 train.py --epochs 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

__all__ = ["main", "mpiexec_path", "parse_args"]


def mpiexec_path() -> str | None:
    """The ``mpiexec`` to launch with: the one next to this Python (the ``mpich`` wheel's), else the
    first on ``PATH``; None when there is none."""
    local = Path(sys.executable).with_name("mpiexec")
    return str(local) if local.exists() else shutil.which("mpiexec")


def _processes(value: str) -> int:
    """``--nproc-per-node``: a count, or ``cpu``/``auto`` (the CPU count) as torchrun takes."""
    if value in ("cpu", "auto"):
        return os.cpu_count() or 1
    if value == "gpu":
        raise argparse.ArgumentTypeError("--nproc-per-node=gpu: give the count of GPUs to use")
    count = int(value)
    if count < 1:
        raise argparse.ArgumentTypeError(f"--nproc-per-node must be positive, got {value}")
    return count


def parse_args(
    argv: list[str] | None = None, *, prog: str = "python -m ember.distributed.run", launch: bool = False
) -> argparse.Namespace:
    """torchrun's arguments (both spellings, ``--nproc-per-node`` and ``--nproc_per_node``); with
    ``launch``, also ``torch.distributed.launch``'s ``--use-env``.

    Example::

        >>> args = ember.distributed.run.parse_args(["--nproc_per_node", "2", "train.py", "--lr", "0.1"])
        >>> args.nproc_per_node, args.training_script, args.training_script_args
        (2, 'train.py', ['--lr', '0.1'])
    """
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("--nnodes", default="1", help="only 1 (across machines, mpiexec with a hostfile)")
    parser.add_argument("--nproc-per-node", "--nproc_per_node", type=_processes, default=1, help="ranks to start")
    parser.add_argument("--node-rank", "--node_rank", type=int, default=0, help="only 0")
    parser.add_argument("--standalone", action="store_true", help="accepted: one machine is what runs")
    parser.add_argument("--master-addr", "--master_addr", default="127.0.0.1", help="set as MASTER_ADDR")
    parser.add_argument("--master-port", "--master_port", type=int, default=None, help="set as MASTER_PORT (29500)")
    parser.add_argument("--rdzv-backend", "--rdzv_backend", default="static", help="accepted")
    parser.add_argument("--rdzv-endpoint", "--rdzv_endpoint", default="", help="accepted")
    parser.add_argument("--rdzv-id", "--rdzv_id", default="none", help="set as TORCHELASTIC_RUN_ID")
    parser.add_argument("--rdzv-conf", "--rdzv_conf", default="", help="accepted")
    parser.add_argument("--max-restarts", "--max_restarts", type=int, default=0, help="only 0")
    parser.add_argument("--monitor-interval", "--monitor_interval", type=float, default=0.1, help="accepted")
    parser.add_argument("--start-method", "--start_method", default="spawn", help="accepted")
    parser.add_argument("--role", default="default", help="set as ROLE_NAME")
    parser.add_argument("-m", "--module", action="store_true", help="run the script as a module (python -m)")
    parser.add_argument("--no-python", "--no_python", action="store_true", help="run the script as a program")
    parser.add_argument("--log-dir", "--log_dir", default=None, help="accepted")
    if launch:
        parser.add_argument("--use-env", "--use_env", action="store_true", help="no --local-rank argument")
    parser.add_argument("training_script", help="the program each rank runs")
    parser.add_argument("training_script_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.nnodes not in ("1", "1:1"):
        parser.error(
            f"--nnodes={args.nnodes}: this launcher starts ranks on one machine; across machines run "
            "`mpiexec -f hostfile -n N python -m ember.distributed.rank_entry SCRIPT ...` on the first one"
        )
    if args.node_rank != 0:
        parser.error(f"--node-rank={args.node_rank}: one machine only (node rank 0)")
    if args.max_restarts != 0:
        parser.error(f"--max-restarts={args.max_restarts}: ember does not restart failed ranks (only 0)")
    if args.module and args.no_python:
        parser.error("Don't use both the '--no-python' flag and the '--module' flag at the same time.")
    return args


def command(args: argparse.Namespace, *, local_rank_argument: bool = False) -> tuple[list[str], dict[str, str]]:
    """The ``mpiexec`` command line and environment that start ``args``' ranks."""
    mpiexec = mpiexec_path()
    if mpiexec is None:
        raise RuntimeError(
            "ember.distributed.run needs mpiexec: pip install 'ember[distributed]' (MPICH's lands next to python)"
        )
    entry = [sys.executable, "-m", "ember.distributed.rank_entry"]
    if args.module:
        entry.append("--module")
    elif args.no_python:
        entry.append("--no-python")
    if local_rank_argument:
        entry.append("--local-rank-argument")
    env = dict(os.environ)
    env.update(
        MASTER_ADDR=args.master_addr,
        MASTER_PORT=str(29500 if args.master_port is None else args.master_port),
        TORCHELASTIC_RUN_ID=args.rdzv_id if args.rdzv_id != "none" else uuid.uuid4().hex,
        ROLE_NAME=args.role,
    )
    if args.nproc_per_node > 1 and "OMP_NUM_THREADS" not in env:  # torchrun's default: one thread per rank
        env["OMP_NUM_THREADS"] = "1"
    launch = [mpiexec, "-n", str(args.nproc_per_node), *entry, args.training_script, *args.training_script_args]
    return launch, env


def main(argv: list[str] | None = None) -> int:
    """Start the ranks and wait for them; the job's exit status (non-zero when a rank failed)."""
    args = parse_args(argv)
    launch, env = command(args)
    return subprocess.call(launch, env=env)


if __name__ == "__main__":
    sys.exit(main())
