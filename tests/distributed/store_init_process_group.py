"""``init_process_group(store=..., rank=..., world_size=...)`` and the stores between the ranks of a
job, compared with torch.distributed (gloo, CPU).

Run under ``mpiexec -n 2`` with ``EMBER_TEST_TORCH_PORT`` and ``EMBER_TEST_STORE_PORT`` set to free
ports and ``EMBER_TEST_STORE_DIR`` to a shared folder (see ``tests/test_distributed_store_ranks.py``):
each library's rank 0 serves a TCPStore, every rank joins it and initialises the default group
through it, then the ranks use the store (and a FileStore) to exchange values, and the two
libraries' results are compared. Each check prints ``ok``/``FAIL`` like the other scripts here.
"""

from __future__ import annotations

import datetime
import os
import sys

from common import run_checks
from point_to_point_and_groups import Raised, attempt, same

import ember
import ember.distributed as edist

try:
    import torch
    import torch.distributed as tdist
except ImportError:  # the test file skips without torch
    torch = tdist = None

TIMEOUT = datetime.timedelta(seconds=60)
RANK, SIZE = int(os.environ.get("PMI_RANK", "0")), int(os.environ.get("PMI_SIZE", "1"))


def tcp_store(lib, port):
    return lib.TCPStore("127.0.0.1", port, SIZE, RANK == 0, timeout=TIMEOUT)


def exchange(lib, store):
    """What the ranks see of one store: each sets its key, reads the others', adds, compare-sets."""
    store.set(f"rank{RANK}", f"hello from {RANK}")
    seen = [store.get(f"rank{r}") for r in range(SIZE)]
    total = store.add("total", RANK + 1)
    store.wait(["total"])
    winner = store.compare_set("leader", "", str(RANK))
    store.set(f"done{RANK}", "1")
    store.wait([f"done{r}" for r in range(SIZE)])
    final = store.get("total")
    leader = store.get("leader")
    # one rank wins the compare_set (which one is a race): every rank sees that one
    return seen, total if SIZE == 1 else None, final, leader in [str(r).encode() for r in range(SIZE)], winner == leader


def checks(stores):
    ours, theirs = stores

    def init_through_store():
        assert edist.get_rank() == tdist.get_rank() == RANK
        assert edist.get_world_size() == tdist.get_world_size() == SIZE
        assert edist.distributed_c10d._get_default_store() is ours

    def all_reduce_after_store_init():
        a = ember.arange(4, dtype=ember.float32) * (RANK + 1)
        b = torch.arange(4, dtype=torch.float32) * (RANK + 1)
        edist.all_reduce(a)
        tdist.all_reduce(b)
        same(a, b)

    def tcp_store_between_ranks():
        mine = exchange(edist, edist.PrefixStore("x", ours))
        reference = exchange(tdist, tdist.PrefixStore("x", theirs))
        assert mine == reference, (mine, reference)

    def file_store_between_ranks():
        folder = os.environ["EMBER_TEST_STORE_DIR"]
        mine = exchange(edist, edist.FileStore(os.path.join(folder, "ember"), SIZE))
        reference = exchange(tdist, tdist.FileStore(os.path.join(folder, "torch"), SIZE))
        assert mine == reference, (mine, reference)

    def get_times_out_on_every_rank():
        for store in (ours, theirs):
            store.set_timeout(datetime.timedelta(milliseconds=50))
        mine = attempt(lambda: ours.get(f"never{RANK}"))
        reference = attempt(lambda: theirs.get(f"never{RANK}"))
        assert isinstance(mine, Raised) and isinstance(reference, Raised)
        assert mine.type == reference.type == "DistStoreError", (mine, reference)
        for store in (ours, theirs):
            store.set_timeout(TIMEOUT)

    def reinit_through_the_same_store():
        edist.barrier()
        edist.destroy_process_group()
        edist.init_process_group("gloo", store=ours, rank=RANK, world_size=SIZE, timeout=TIMEOUT)
        t = ember.ones(1)
        edist.all_reduce(t)
        assert t.item() == SIZE

    def wrong_rank_is_refused():
        edist.barrier()
        edist.destroy_process_group()
        other = (RANK + 1) % SIZE
        raised = attempt(
            lambda: edist.init_process_group("gloo", store=ours, rank=other, world_size=SIZE, timeout=TIMEOUT)
        )
        assert isinstance(raised, Raised) and raised.type == "ValueError", raised
        assert "contradicts the MPI launcher" in raised.text, raised
        edist.init_process_group("gloo", store=ours, rank=RANK, world_size=SIZE, timeout=TIMEOUT)

    return {
        "init_through_store": init_through_store,
        "all_reduce_after_store_init": all_reduce_after_store_init,
        "tcp_store_between_ranks": tcp_store_between_ranks,
        "file_store_between_ranks": file_store_between_ranks,
        "get_times_out_on_every_rank": get_times_out_on_every_rank,
        "reinit_through_the_same_store": reinit_through_the_same_store,
        "wrong_rank_is_refused": wrong_rank_is_refused,
    }


def main():
    theirs = tcp_store(tdist, int(os.environ["EMBER_TEST_TORCH_PORT"]))
    tdist.init_process_group("gloo", store=theirs, rank=RANK, world_size=SIZE, timeout=TIMEOUT)
    ours = tcp_store(edist, int(os.environ["EMBER_TEST_STORE_PORT"]))
    edist.init_process_group("gloo", store=ours, rank=RANK, world_size=SIZE, timeout=TIMEOUT)
    failed = run_checks(checks((ours, theirs)))
    edist.barrier()  # rank 0 serves the store: it leaves last
    edist.destroy_process_group()
    tdist.destroy_process_group()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
