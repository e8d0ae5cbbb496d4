"""Train a small classifier on several processes with DistributedDataParallel.

Each rank loads its own share of the data (DistributedSampler), computes gradients on it,
and DistributedDataParallel averages the gradients over the ranks during backward, so
every rank takes the same optimizer step. Run it with an MPI launcher::

    mpiexec -n 2 python examples/ddp_train.py
    mpiexec -n 2 python examples/ddp_train.py --device restricted --epochs 3

(`pip install ember[distributed]` installs mpi4py and MPICH's `mpiexec`.) Without a
launcher it runs as a job of one process.
"""

import argparse

import ember
import ember.distributed as dist
from ember import nn
from ember.nn.parallel import DistributedDataParallel
from ember.utils.data import DataLoader, DistributedSampler, TensorDataset


def synthetic_dataset(n=512, features=16, classes=4):
    """The same data on every rank (seeded): points labelled by a random linear map."""
    generator = ember.Generator().manual_seed(0)
    x = ember.randn(n, features, generator=generator)
    y = (x @ ember.randn(features, classes, generator=generator)).argmax(dim=1)
    return TensorDataset(x, y)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32, help="per rank")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--backend", default="mpi", help="communicator: mpi, or nccl for cuda devices")
    args = parser.parse_args()

    dist.init_process_group(args.backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    if args.device == "cuda":  # one GPU per rank on each machine
        args.device = f"cuda:{rank % ember.cuda.device_count()}"

    dataset = synthetic_dataset()
    sampler = DistributedSampler(dataset, shuffle=True, seed=0)
    loader = DataLoader(dataset, batch_size=args.batch_size, sampler=sampler)

    ember.manual_seed(rank)  # different on each rank: DDP broadcasts rank 0's parameters
    model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 4)).to(args.device)
    model = DistributedDataParallel(model)
    optimizer = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        total, batches = 0.0, 0
        for x, y in loader:
            x, y = x.to(args.device), y.to(args.device)
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()  # gradients are averaged over the ranks here
            optimizer.step()
            total += loss.item()
            batches += 1
        print(f"rank {rank}/{world}  epoch {epoch}  loss {total / batches:.4f}", flush=True)

    checksum = sum(float(p.detach().sum().item()) for p in model.parameters())
    print(f"rank {rank}  parameter checksum {checksum:.6f} (equal on every rank)", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
