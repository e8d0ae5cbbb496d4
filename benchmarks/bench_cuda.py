"""ember on CUDA against PyTorch on CUDA: MLP, CNN and LSTM language-model training steps.

Both sides run with TF32 enabled for matrix products and convolutions (PyTorch's
``allow_tf32`` flags, CuPy's ``CUPY_TF32=1``, cuDNN's default), so the comparison is at the
same precision. Usage: ``python benchmarks/bench_cuda.py [--device cuda:0]``.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("CUPY_TF32", "1")

import torch  # noqa: E402
from workloads import cnn, lstm_lm, mlp, run_side_by_side  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--iterations", type=int, default=20)
    args = parser.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    import ember

    ember.backends.get_backend(args.device).kernels.allow_tf32 = True
    for name, make in (("mlp", mlp), ("cnn", cnn), ("lstm-lm", lstm_lm)):
        try:
            run_side_by_side(name, make, args.device, args.device, iterations=args.iterations)
        except Exception as exc:  # noqa: BLE001 - report and go on to the next workload
            print(f"{name:10s} failed: {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    main()
