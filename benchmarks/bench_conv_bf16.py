"""A bfloat16 convolution layer's forward + backward with ember (NumPy backend) and PyTorch (CPU) in one
process: process CPU time per step, medians over alternating rounds, and ember's ratio to PyTorch.
Each step is the layer's forward, its backward from a fixed output gradient (input, weight and bias
gradients), the gradients then dropped.

The layer is a ResNet stage's 3x3 convolution (``--shape 8,64,56,56``, 64 -> 64 channels, padding 1,
with a bias), on bfloat16 tensors, or with ``--autocast`` a float32 layer under
``autocast('cpu', dtype=bfloat16)``; ``--channels-last`` lays the input out channels-last. Both
frameworks run on ``--threads`` threads. On the cpu backend the bfloat16 convolutions go through
oneDNN's bfloat16 primitives where the ``onednn`` extra is installed (PyTorch's own path), else they
are computed in float32 and rounded once; ``--no-onednn`` times the latter.

    python benchmarks/bench_conv_bf16.py [--shape 8,64,56,56] [--out 64] [--threads 1] [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

from blas_threads import set_blas_threads


def _parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="8,64,56,56", help="the input's shape, N,C,H,W")
    parser.add_argument("--out", type=int, default=64, help="output channels")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=3, help="steps per round")
    parser.add_argument("--autocast", action="store_true", help="a float32 layer under bfloat16 autocast")
    parser.add_argument("--channels-last", action="store_true", help="the input laid out channels-last")
    parser.add_argument("--no-onednn", action="store_true", help="ember without oneDNN (ember.backends.mkldnn)")
    return parser.parse_args()


ARGS = _parse() if __name__ == "__main__" else None
if ARGS is not None:
    set_blas_threads(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import ember  # noqa: E402


def _step(lib, shape, out, autocast, channels_last, rng):
    """A closure running one forward + backward of the layer in ``lib``."""
    dtype = lib.float32 if autocast else lib.bfloat16
    conv = lib.nn.Conv2d(shape[1], out, 3, padding=1).to(dtype)
    x = lib.tensor(rng.standard_normal(shape).astype(np.float32)).to(dtype)
    if channels_last:
        x = x.contiguous(memory_format=lib.channels_last)
    x.requires_grad_()
    up = lib.tensor(rng.standard_normal((shape[0], out, *shape[2:])).astype(np.float32)).bfloat16()
    if channels_last:
        up = up.contiguous(memory_format=lib.channels_last)

    def step():
        with lib.autocast("cpu", dtype=lib.bfloat16, enabled=autocast):
            y = conv(x)
        y.backward(up)
        x.grad = conv.weight.grad = conv.bias.grad = None  # the layer's work alone, no accumulation

    return step


def _cpu_ms(step, steps):
    start = time.process_time()
    for _ in range(steps):
        step()
    return (time.process_time() - start) / steps * 1000


def main(args):
    torch.set_num_threads(args.threads)
    ember.set_num_threads(args.threads)
    ember.backends.mkldnn.enabled = not args.no_onednn
    shape = tuple(int(s) for s in args.shape.split(","))
    rng = np.random.default_rng(0)
    steps = {
        lib.__name__: _step(lib, shape, args.out, args.autocast, args.channels_last, rng) for lib in (ember, torch)
    }
    times = {name: [] for name in steps}
    for step in steps.values():
        step()  # warm-up: plans, caches
    for _ in range(args.rounds):
        for name, step in steps.items():
            times[name].append(_cpu_ms(step, args.steps))
    ember_ms, torch_ms = (statistics.median(times[name]) for name in ("ember", "torch"))
    mode = "autocast" if args.autocast else "bfloat16"
    layout = ", channels-last" if args.channels_last else ""
    print(f"conv2d {shape} 3x3 -> {args.out}, {mode}{layout}, {args.threads} thread(s), forward + backward")
    print(f"  ember {ember_ms:8.2f} ms   torch {torch_ms:8.2f} ms   ratio {ember_ms / torch_ms:.2f}x")


if __name__ == "__main__":
    main(ARGS)
