"""Train the MLP 784-1024-1024-10 (ReLU, cross entropy, SGD with momentum) with ember (NumPy
backend) and PyTorch (CPU) side by side in one process; ms per step and the ratio.

Both frameworks use the same thread count (``--threads``): PyTorch through
``torch.set_num_threads``, NumPy's BLAS through threadpoolctl when it is installed, else
through the ``*_NUM_THREADS`` variables set before NumPy loads. Ends with a cProfile of
ember's training step (top entries by own time).

    python benchmarks/bench_mlp.py [--batch 256] [--iterations 20] [--threads 1]
"""

from __future__ import annotations

import argparse

from blas_threads import set_blas_threads


def _parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--profile-top", type=int, default=15)
    return parser.parse_args()


ARGS = _parse() if __name__ == "__main__" else None
if ARGS is not None:
    set_blas_threads(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from workloads import _trainer, mlp, profile, run_side_by_side  # noqa: E402

import ember  # noqa: E402


def _limit_threads(threads):
    torch.set_num_threads(threads)
    ember.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print(f"threadpoolctl not installed: NumPy's BLAS threads set through *_NUM_THREADS={threads}")
        return
    threadpool_limits(threads)


def main():
    args = ARGS
    _limit_threads(args.threads)
    print(f"batch {args.batch}, threads {args.threads}, numpy {np.__version__}, torch {torch.__version__}")
    run_side_by_side("mlp", mlp, warmup=args.warmup, iterations=args.iterations, batch=args.batch)

    model, loss_fn, make_opt, (x, y) = mlp(ember, batch=args.batch)
    step = _trainer(model, loss_fn, make_opt(model.parameters()), ember.tensor(x), ember.tensor(y))
    step()
    profile(step, max(args.iterations // 2, 1), args.profile_top)


if __name__ == "__main__":
    main()
