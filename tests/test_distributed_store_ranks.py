"""``init_process_group(store=...)`` and stores shared by the ranks of a job, against torch.distributed.

``tests/distributed/store_init_process_group.py`` runs under ``mpiexec -n 2``: each library's
rank 0 serves a TCPStore that every rank joins and initialises its default group through, then the
ranks exchange values through it and through a FileStore. Every check it prints is one test here.
"""

from __future__ import annotations

import pytest
from test_distributed import launch
from test_distributed_collectives2 import _assert_ok, _free_port

pytest.importorskip("torch")

SCRIPT = "store_init_process_group.py"
CHECKS = [
    "init_through_store",
    "all_reduce_after_store_init",
    "tcp_store_between_ranks",
    "file_store_between_ranks",
    "get_times_out_on_every_rank",
    "reinit_through_the_same_store",
    "wrong_rank_is_refused",
]


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stores")
    torch_port = _free_port()
    store_port = _free_port()
    while store_port == torch_port:
        store_port = _free_port()
    env = {
        "EMBER_TEST_TORCH_PORT": str(torch_port),
        "EMBER_TEST_STORE_PORT": str(store_port),
        "EMBER_TEST_STORE_DIR": str(folder),
    }
    return launch(SCRIPT, 2, extra_env=env)


@pytest.mark.parametrize("name", CHECKS)
def test_two_ranks_against_torch(two_ranks, name):
    _assert_ok(two_ranks, name, 2)
