"""ember.set_num_threads / get_num_threads: the intra-op thread count (ember's pool and BLAS)."""

from __future__ import annotations

import pytest

import ember


@pytest.fixture
def restore_threads():
    previous = ember.get_num_threads()
    yield
    ember.set_num_threads(previous)


def test_set_get_round_trip(restore_threads):
    ember.set_num_threads(1)
    assert ember.get_num_threads() == 1
    ember.set_num_threads(3)
    assert ember.get_num_threads() == 3


@pytest.mark.parametrize("bad", [0, -2, True, 1.5, "2"])
def test_rejects_non_positive_or_non_int(bad, restore_threads):
    with pytest.raises(RuntimeError, match="set_num_threads"):
        ember.set_num_threads(bad)


def test_sets_blas_threads(restore_threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import numpy as np

    np.ones((2, 2)) @ np.ones((2, 2))  # BLAS loaded
    ember.set_num_threads(1)
    blas = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    assert blas and all(p["num_threads"] == 1 for p in blas)


@pytest.mark.parametrize(
    "environment",
    [{}, {"OMP_NUM_THREADS": "1"}, {"OMP_NUM_THREADS": "64"}, {"MKL_NUM_THREADS": "1"}, {"OMP_NUM_THREADS": "x"}],
    ids=["unset", "omp1", "omp64", "mkl1", "malformed"],
)
def test_start_up_count_follows_the_environment_as_torch(environment):
    """A new process starts with torch's intra-op count for the same OMP_/MKL_NUM_THREADS."""
    import os
    import subprocess
    import sys

    pytest.importorskip("torch")
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env.update(environment)
    code = "import ember, torch; print(ember.get_num_threads(), torch.get_num_threads())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    ours, theirs = out.stdout.split()
    assert ours == theirs
