"""``python -m ember.distributed.launch``: PyTorch's deprecated launcher, kept for the programs
that still start that way. It is :mod:`ember.distributed.run` with one difference, as in PyTorch:
each rank's script gets ``--local-rank=N`` as its first argument, unless ``--use-env`` (or
``--use_env``) is given (then it reads ``LOCAL_RANK`` from the environment).

Example (a shell command)::

    python -m ember.distributed.launch --nproc_per_node=2 train.py
"""

from __future__ import annotations

import subprocess
import sys

from .run import command, parse_args

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Start the ranks and wait for them; the job's exit status."""
    args = parse_args(argv, prog="python -m ember.distributed.launch", launch=True)
    launch, env = command(args, local_rank_argument=not args.use_env)
    return subprocess.call(launch, env=env)


if __name__ == "__main__":
    sys.exit(main())
