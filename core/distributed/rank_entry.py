"""What each rank runs under ``mpiexec`` for :mod:`ember.distributed.run`: it sets torchrun's
environment from the MPI launcher's, then runs the training script as ``__main__``.

The variables are torchrun's: ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and ``LOCAL_WORLD_SIZE``
(the rank among, and the number of, the ranks on this machine), ``GROUP_RANK``,
``GROUP_WORLD_SIZE``, ``ROLE_RANK``, ``ROLE_WORLD_SIZE``, ``ROLE_NAME``, ``MASTER_ADDR``,
``MASTER_PORT``, ``TORCHELASTIC_RUN_ID``, ``TORCHELASTIC_RESTART_COUNT`` and
``TORCHELASTIC_MAX_RESTARTS``. MPICH's (``PMI_RANK``, ``MPI_LOCALRANKID``, ...) and Open MPI's
(``OMPI_COMM_WORLD_RANK``, ...) launchers are read. Started by ``mpiexec`` directly, it serves
several machines too: ``mpiexec -f hostfile -n 8 python -m ember.distributed.rank_entry train.py``.

Example::

    >>> env = {"PMI_RANK": "3", "PMI_SIZE": "4", "MPI_LOCALRANKID": "1", "MPI_LOCALNRANKS": "2"}
    >>> torchrun = ember.distributed.rank_entry.torchrun_environment(env)
    >>> torchrun["RANK"], torchrun["LOCAL_RANK"], torchrun["WORLD_SIZE"], torchrun["GROUP_RANK"]
    ('3', '1', '4', '1')
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
from collections.abc import Mapping

__all__ = ["main", "torchrun_environment"]

# (rank, size, local rank, local size) as each MPI launcher names them
_LAUNCHERS = (
    ("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),  # MPICH (Hydra)
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"),
    ("PMIX_RANK", "PMIX_SIZE", "PMIX_LOCAL_RANK", "PMIX_LOCAL_SIZE"),
)


def torchrun_environment(env: Mapping[str, str]) -> dict[str, str]:
    """torchrun's variables for this rank, from the MPI launcher's in ``env`` (a machine whose
    launcher gives no local numbering counts as one machine).

    Args:
        env (mapping): the process environment (``os.environ``).

    Raises:
        RuntimeError: no MPI launcher's rank is in ``env`` (not started by ``mpiexec``).
    """
    for rank_name, size_name, local_rank_name, local_size_name in _LAUNCHERS:
        if rank_name in env and size_name in env:
            rank, size = int(env[rank_name]), int(env[size_name])
            local_rank = int(env.get(local_rank_name, rank))
            local_size = int(env.get(local_size_name, size))
            break
    else:
        raise RuntimeError(
            "ember.distributed.rank_entry: no MPI rank in the environment; start it with mpiexec "
            "(python -m ember.distributed.run does)"
        )
    group_rank = rank // local_size
    return {
        "RANK": str(rank),
        "WORLD_SIZE": str(size),
        "LOCAL_RANK": str(local_rank),
        "LOCAL_WORLD_SIZE": str(local_size),
        "GROUP_RANK": str(group_rank),
        "GROUP_WORLD_SIZE": str(-(-size // local_size)),
        "ROLE_RANK": str(rank),
        "ROLE_WORLD_SIZE": str(size),
        "ROLE_NAME": env.get("ROLE_NAME", "default"),
        "MASTER_ADDR": env.get("MASTER_ADDR", "127.0.0.1"),
        "MASTER_PORT": env.get("MASTER_PORT", "29500"),
        "TORCHELASTIC_RUN_ID": env.get("TORCHELASTIC_RUN_ID", "none"),
        "TORCHELASTIC_RESTART_COUNT": "0",
        "TORCHELASTIC_MAX_RESTARTS": "0",
    }


def main(argv: list[str] | None = None) -> None:
    """Set torchrun's environment, then run the script (or module, or program) with its arguments."""
    parser = argparse.ArgumentParser(prog="python -m ember.distributed.rank_entry")
    parser.add_argument("--module", action="store_true")
    parser.add_argument("--no-python", action="store_true")
    parser.add_argument("--local-rank-argument", action="store_true")  # torch.distributed.launch's --local-rank=N
    parser.add_argument("training_script")
    parser.add_argument("training_script_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    os.environ.update(torchrun_environment(os.environ))
    script_args = list(args.training_script_args)
    if args.local_rank_argument:
        script_args.insert(0, f"--local-rank={os.environ['LOCAL_RANK']}")
    if args.no_python:
        os.execvp(args.training_script, [args.training_script, *script_args])
    sys.argv = [args.training_script, *script_args]
    if args.module:
        runpy.run_module(args.training_script, run_name="__main__", alter_sys=True)
    else:
        sys.path.insert(0, os.path.dirname(os.path.abspath(args.training_script)))
        runpy.run_path(args.training_script, run_name="__main__")


if __name__ == "__main__":
    main()
