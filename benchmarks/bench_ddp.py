"""DistributedDataParallel step time: 2 ranks against 1 rank on the same total batch.

Trains the MLP 784-1024-10 (ReLU, cross entropy, SGD) with a total batch of 256: one
process with the whole batch, then ``mpiexec -n 2`` processes with 128 each (gradients
averaged by DDP over the ``mpi`` communicator). Each process uses one BLAS thread. Prints
ms per step (median over the timed steps, slowest rank) for both and the speed-up, and
PyTorch's single-process step for reference.

    python benchmarks/bench_ddp.py [--batch 256] [--iterations 20] [--ranks 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from blas_threads import set_blas_threads

set_blas_threads(1, keep_set=True)


def _parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256, help="total batch over all ranks")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def worker(args):
    import numpy as np

    import ember
    import ember.distributed as dist
    from ember import nn
    from ember.nn.parallel import DistributedDataParallel

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    ember.manual_seed(0)
    model = DistributedDataParallel(nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 10)))
    opt = ember.optim.SGD(model.parameters(), lr=0.01)
    local = args.batch // world
    x = ember.randn(args.batch, 784)[rank * local : (rank + 1) * local]
    y = ember.randint(0, 10, (args.batch,))[rank * local : (rank + 1) * local]
    times = []
    for i in range(args.warmup + args.iterations):
        dist.barrier()
        start = time.perf_counter()
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        if i >= args.warmup:
            times.append(time.perf_counter() - start)
    step = ember.tensor([float(np.median(times))], dtype=ember.float64)
    dist.all_reduce(step, op=dist.ReduceOp.MAX)
    if rank == 0:
        print(f"STEP_MS {step.item() * 1e3:.3f}", flush=True)
    dist.destroy_process_group()


def torch_step(args):
    import numpy as np
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 1024), torch.nn.ReLU(), torch.nn.Linear(1024, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(args.batch, 784), torch.randint(0, 10, (args.batch,))
    times = []
    for i in range(args.warmup + args.iterations):
        start = time.perf_counter()
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        if i >= args.warmup:
            times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3


def launch(args, ranks):
    mpiexec = Path(sys.executable).with_name("mpiexec")
    command = [sys.executable, __file__, "--worker", "--batch", str(args.batch)]
    command += ["--iterations", str(args.iterations), "--warmup", str(args.warmup)]
    if ranks > 1:
        command = [str(mpiexec if mpiexec.exists() else "mpiexec"), "-n", str(ranks), *command]
    env = {**os.environ, "HYDRA_IFACE": os.environ.get("HYDRA_IFACE", "lo")}
    out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    for line in out.stdout.splitlines():
        if line.startswith("STEP_MS"):
            return float(line.split()[1])
    raise RuntimeError(f"{ranks}-rank run failed:\n{out.stdout}\n{out.stderr}")


def main():
    args = _parse()
    if args.worker:
        worker(args)
        return
    one = launch(args, 1)
    many = launch(args, args.ranks)
    print(f"MLP 784-1024-10, total batch {args.batch}, float32, 1 BLAS thread per process, {os.cpu_count()} CPUs")
    print(f"ember DDP 1 rank  (batch {args.batch}):   {one:8.2f} ms/step")
    print(
        f"ember DDP {args.ranks} ranks (batch {args.batch // args.ranks} each): {many:8.2f} ms/step  "
        f"speed-up {one / many:.2f}x"
    )
    print(f"torch 1 process   (batch {args.batch}):   {torch_step(args):8.2f} ms/step")


if __name__ == "__main__":
    main()
