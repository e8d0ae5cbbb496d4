"""The fixed cost of the selection ops (``topk``, ``sort``, ``argsort``, ``msort``, ``kthvalue``, ``mode``,
``median``) on small CPU tensors, ember next to PyTorch in one process, plus a few larger calls.

On host backends ember chooses among equal elements as PyTorch's CPU kernels do (the tie handling of
``core/ops/_ties.py``); these figures show what that costs per call, with and without ties.

Microseconds per call, best of several repeats, one thread.

``--shapes`` times every op on float32 (64,), (1000,), (32, 128) along dim -1 and (128, 32) along dim 0,
random values (few ties) and integers in [0, 8) (many ties).

Run: ``python benchmarks/bench_selection.py [--iters N] [--large] [--shapes]``.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from bench_overhead import _time  # best microseconds per call

import ember

try:
    import torch
except ImportError:  # pragma: no cover - the benchmark still reports ember alone
    torch = None

__all__ = ["main"]


def _inputs(T):
    rng = np.random.default_rng(0)
    return {
        "8 float32": T.tensor(rng.standard_normal(8).astype(np.float32)),
        "8 float32, ties": T.tensor(np.array([1, 3, 2, 3, 1, 0, 2, 3], dtype=np.float32)),
        "(4, 16) float32": T.tensor(rng.standard_normal((4, 16)).astype(np.float32)),
        "(4, 16) int64, ties": T.tensor(rng.integers(0, 5, (4, 16))),
    }


SMALL = [
    ("topk(3)", lambda x: x.topk(3)),
    ("sort()", lambda x: x.sort()),
    ("argsort()", lambda x: x.argsort()),
    ("kthvalue(2)", lambda x: x.kthvalue(2)),
    ("mode()", lambda x: x.mode()),
    ("median(-1)", lambda x: x.median(-1)),
]


SHAPES = [((64,), -1), ((1000,), -1), ((32, 128), -1), ((128, 32), 0)]

BY_DIM = [
    ("mode", lambda x, d: x.mode(d)),
    ("topk(5)", lambda x, d: x.topk(5, d)),
    ("sort", lambda x, d: x.sort(d)),
    ("sort(stable)", lambda x, d: x.sort(dim=d, stable=True)),
    ("argsort", lambda x, d: x.argsort(d)),
    ("msort", lambda x, d: x.msort() if d == 0 or x.ndim == 1 else x.T.msort()),
    ("kthvalue(3)", lambda x, d: x.kthvalue(3, d)),
    ("median(dim)", lambda x, d: x.median(d)),
]


def _shaped(T, shape, ties):
    rng = np.random.default_rng(0)
    if ties:
        return T.tensor(rng.integers(0, 8, shape).astype(np.float32))
    return T.tensor(rng.standard_normal(shape).astype(np.float32))


def _large(T):
    rng = np.random.default_rng(0)
    logits = T.tensor(rng.standard_normal((4, 50257)).astype(np.float32))
    probs = T.tensor(rng.random(128000).astype(np.float32)).to(T.bfloat16)
    return [
        ("topk(200) of (4, 50257) float32", lambda: logits.topk(200)),
        ("topk(50) of 128k bfloat16 (ties)", lambda: probs.topk(50)),
        ("sort(descending) of 128k bfloat16 (ties)", lambda: probs.sort(descending=True)),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=2000)
    parser.add_argument("--large", action="store_true", help="also time the larger calls")
    parser.add_argument("--shapes", action="store_true", help="time each op at the four shapes instead")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if torch is not None:
        torch.set_num_threads(1)
    libs = [("ember", ember)] + ([("torch", torch)] if torch is not None else [])
    inputs = {name: _inputs(T) for name, T in libs}
    print(f"{'call':44s}" + "".join(f"{name:>10s}" for name, _ in libs) + "   (us per call)")
    if args.shapes:
        for ties in (False, True):
            for shape, dim in SHAPES:
                xs = [_shaped(T, shape, ties) for _, T in libs]
                for call_name, call in BY_DIM:
                    row = [_time(lambda x=x, c=call, d=dim: c(x, d), args.iters, repeat=7) for x in xs]
                    name = f"{call_name} {shape} dim={dim}{' ties' if ties else ''}"
                    print(f"{name:44s}" + "".join(f"{t:10.1f}" for t in row), flush=True)
        return
    for input_name in inputs["ember"]:
        for call_name, call in SMALL:
            row = [_time(lambda x=inputs[name][input_name], c=call: c(x), args.iters, repeat=7) for name, _ in libs]
            print(f"{call_name + ' of ' + input_name:44s}" + "".join(f"{t:10.1f}" for t in row))
    if args.large:
        large = {name: _large(T) for name, T in libs}
        for i, (call_name, _) in enumerate(large["ember"]):
            row = [_time(large[name][i][1], 5, repeat=3) for name, _ in libs]
            print(f"{call_name:44s}" + "".join(f"{t:10.1f}" for t in row))


if __name__ == "__main__":
    main()
