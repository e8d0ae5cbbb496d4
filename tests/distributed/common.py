"""Helpers for the scripts in this folder, which run under ``mpiexec -n 2``.

Each check prints ``ok <name>`` or ``FAIL <name>: <reason>`` prefixed by the rank;
``tests/test_distributed.py`` launches the scripts and reads those lines.
"""

from __future__ import annotations

import datetime
import os
import sys
import traceback

import numpy as np

import ember.distributed as dist


def run_checks(checks):
    """Run ``checks`` (name -> function) in order on this rank; returns the number that failed."""
    failed = 0
    rank = dist.get_rank() if dist.is_initialized() else 0
    for name, fn in checks.items():
        try:
            fn()
            print(f"[{rank}] ok {name}", flush=True)
        except Exception:  # noqa: BLE001 - reported, not raised: the other checks still run
            failed += 1
            reason = traceback.format_exc().strip().replace("\n", " | ")
            print(f"[{rank}] FAIL {name}: {reason}", flush=True)
    return failed


def expect_raises(exc_type, fragment, fn):
    """``fn()`` must raise ``exc_type`` with ``fragment`` in its message."""
    try:
        fn()
    except exc_type as exc:
        assert fragment in str(exc), f"message {str(exc)!r} lacks {fragment!r}"
        return
    raise AssertionError(f"expected {exc_type.__name__} ({fragment!r}), nothing raised")


def assert_close(actual, expected, tol=0.0):
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    if tol == 0.0:
        assert np.array_equal(actual, expected), f"{actual} != {expected}"
    else:
        np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol)


def run_against_torch(make_checks):
    """Join an ember ``mpi`` group and a torch ``gloo`` group (at ``EMBER_TEST_TORCH_PORT``) on this
    rank, run the checks ``make_checks(world_size)`` gives, leave both groups and exit (1 if one failed)."""
    import torch.distributed as tdist

    rank, size = int(os.environ["PMI_RANK"]), int(os.environ["PMI_SIZE"])
    tdist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{os.environ['EMBER_TEST_TORCH_PORT']}",
        rank=rank,
        world_size=size,
        timeout=datetime.timedelta(seconds=60),
    )
    dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=60))
    failed = run_checks(make_checks(size))
    dist.destroy_process_group()
    tdist.destroy_process_group()
    sys.exit(1 if failed else 0)
