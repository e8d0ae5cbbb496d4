"""The cost of the cross-rank argument check of the MPI communicator.

Run ``mpiexec -n 2 python benchmarks/bench_distributed_check.py`` twice, the second time with
``EMBER_DISTRIBUTED_DEBUG=OFF``; rank 0 prints the median time per all_reduce for a few sizes.
"""

from __future__ import annotations

import os
import statistics
import time

import ember
import ember.distributed as dist


def main():
    dist.init_process_group("gloo")
    check = os.environ.get("EMBER_DISTRIBUTED_DEBUG", "").upper() != "OFF"
    for numel in (1, 1024, 256 * 1024, 6 * 1024 * 1024):
        t = ember.ones(numel)
        repeats = 200 if numel <= 1024 else 20
        for _ in range(5):
            dist.all_reduce(t)
        samples = []
        for _ in range(repeats):
            dist.barrier()
            start = time.perf_counter()
            dist.all_reduce(t)
            samples.append(time.perf_counter() - start)
        if dist.get_rank() == 0:
            print(
                f"check={'on' if check else 'off'} numel={numel:>8} median {statistics.median(samples) * 1e6:9.1f} us"
            )
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
