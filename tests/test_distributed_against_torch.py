"""ember.distributed's later additions against torch.distributed (gloo, CPU), each in a script under
``tests/distributed/`` that runs under ``mpiexec -n 2`` and compares the two libraries check by check:
DDP's communication hooks and the futures of asynchronous collectives (``comm_hooks.py``), and
:class:`~ember.distributed.optim.ZeroRedundancyOptimizer` (``zero_redundancy.py``). Every check a
script prints is one test here."""

from __future__ import annotations

import pytest
from test_distributed_collectives2 import _assert_ok, _check_names, _launch

pytest.importorskip("torch")

SCRIPTS = ["comm_hooks.py", "zero_redundancy.py"]
CASES = [(script, name) for script in SCRIPTS for name in _check_names(script=script)]


@pytest.fixture(scope="module")
def runs():
    """Each script's run, started by the first of its tests."""
    return {}


@pytest.mark.parametrize("script, name", CASES, ids=[f"{s.removesuffix('.py')}-{n}" for s, n in CASES])
def test_two_ranks_against_torch(runs, script, name):
    if script not in runs:
        runs[script] = _launch(2, script)
    _assert_ok(runs[script], name, 2)
