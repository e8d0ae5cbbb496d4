"""Faults on 2 ranks (``mpiexec -n 2``, group timeout 5 s): each ends the whole job with a
non-zero status and a message naming the rank and the collective, in bounded time; uneven
inputs inside ``DistributedDataParallel.join()`` train to the single-process result."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from test_distributed import SCRIPTS, _env, _mpiexec, _skip_reason

#: scenario -> (what the output must say, the most seconds the job may take)
FAULTS = {
    "exception": (r"ValueError: a bug on rank 1\n.*rank 1 of 2 failed", 20),
    "timeout": (r"rank 0: all_reduce .*timed out after 5 s", 25),
    "killed": (r"Killed \(signal 9\)", 25),
    "killed_late": (r"Killed \(signal 9\)", 25),
    "exited": (r"rank 0: all_reduce .*timed out after 5 s", 25),
    "shapes": (r"rank 0: all_reduce float32 \[2, 3\] op=SUM; rank 1: all_reduce float32 \[3\] op=SUM", 20),
    "dtypes": (r"rank 0: all_reduce float32 \[3\] op=SUM; rank 1: all_reduce float64 \[3\] op=SUM", 20),
    "broadcast_shapes": (r"rank 0: broadcast float32 \[4\] root=0; rank 1: broadcast float32 \[5\] root=0", 20),
    "skipped": (r"rank 0: broadcast float32 \[3\] root=0; rank 1: all_reduce float32 \[3\] op=SUM", 20),
    "uneven": (r"rank 0: all_reduce .*timed out after 5 s.*join", 25),
    "unused": (r"Parameters which did not receive grad for rank 1: a.weight, a.bias", 20),
    "joined_throw": (r"Detected at least one rank that exhausted inputs", 20),
}


def run_scenario(scenario, backend="gloo"):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    start = time.monotonic()
    proc = subprocess.run(
        [_mpiexec(), "-n", "2", sys.executable, str(SCRIPTS / "faults.py"), scenario, backend],
        capture_output=True,
        text=True,
        timeout=90,
        env=_env(),
        cwd=SCRIPTS,
    )
    return proc, time.monotonic() - start


@pytest.mark.parametrize("scenario", sorted(FAULTS))
def test_fault_ends_the_job_in_bounded_time(scenario):
    import re

    pattern, limit = FAULTS[scenario]
    proc, seconds = run_scenario(scenario)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-3000:]
    assert seconds < limit, f"{scenario} took {seconds:.1f} s\n{output[-3000:]}"
    assert re.search(pattern, output, re.S), output[-3000:]


@pytest.mark.parametrize(
    "scenario, backend", [("joined", "gloo"), ("joined", "mpi"), ("joined_by_active_ranks", "gloo")]
)
def test_uneven_inputs_inside_join(scenario, backend):
    proc, _ = run_scenario(scenario, backend)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert "[0] ok joined" in proc.stdout and "[1] ok joined" in proc.stdout, proc.stdout
