"""Word-level LSTM language model training step: ember (NumPy backend) against PyTorch on the CPU.

Embedding 5000x128, 2-layer LSTM with 256 hidden units, Linear to the 5000-word vocabulary,
sequences of 35 steps in batches of 16, cross entropy, SGD. Both libraries run in this process
with the same number of threads (``--threads``, applied to PyTorch and, through the
environment, to NumPy's BLAS before NumPy loads). ``--profile`` then prints where ember's
time goes.

Usage: ``python benchmarks/bench_lstm.py [--threads 1] [--iterations 10] [--profile]``.
"""

from __future__ import annotations

import argparse

from blas_threads import set_blas_threads


def _parse():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--profile", action="store_true")
    return parser.parse_args()


def main():
    args = _parse()
    set_blas_threads(args.threads)

    import torch
    from workloads import _trainer, lstm_lm, profile, run_side_by_side

    import ember

    torch.set_num_threads(args.threads)
    ember.set_num_threads(args.threads)
    sizes = {"vocab": 5000, "embed": 128, "hidden": 256, "layers": 2, "steps": 35, "batch": 16}
    print(f"threads={args.threads}  " + "  ".join(f"{k}={v}" for k, v in sizes.items()))
    run_side_by_side("lstm-lm", lstm_lm, iterations=args.iterations, **sizes)
    if args.profile:
        model, loss_fn, optimizer, (x, y) = lstm_lm(ember, **sizes)
        step = _trainer(model, loss_fn, optimizer(model.parameters()), ember.tensor(x), ember.tensor(y))
        step()
        profile(step, args.iterations, 20)


if __name__ == "__main__":
    main()
