"""ember.distributed.optim.ZeroRedundancyOptimizer against PyTorch's: ``tests/distributed/zero_redundancy.py``
runs under ``mpiexec -n 2``, every check it prints is one test here."""

from __future__ import annotations

import pytest
from test_distributed_collectives2 import _assert_ok, _check_names, _launch

pytest.importorskip("torch")

SCRIPT = "zero_redundancy.py"


@pytest.fixture(scope="module")
def two_ranks():
    return _launch(2, SCRIPT)


@pytest.mark.parametrize("name", _check_names(script=SCRIPT))
def test_two_ranks_against_torch(two_ranks, name):
    _assert_ok(two_ranks, name, 2)
