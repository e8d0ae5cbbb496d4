"""Per-op overhead of ember next to PyTorch, in one process.

Measures (microseconds per iteration, best of several repeats):

* ``a + b`` on 4-element float32 tensors, without and with ``requires_grad``;
* a small MLP step built from tensor ops: ``(relu(x @ w1 + b1) @ w2).mean()`` forward
  and backward, batch 32, 16 -> 32 -> 1.

Run: ``python benchmarks/bench_overhead.py [--iters N]``.
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np

import ember

try:
    import torch
except ImportError:  # pragma: no cover - the benchmark still reports ember alone
    torch = None

__all__ = ["main"]


def _time(fn, iters, repeat=5):
    """Best microseconds per call of ``fn`` over ``repeat`` runs of ``iters`` calls."""
    fn()
    return min(timeit.repeat(fn, number=iters, repeat=repeat)) / iters * 1e6


def _add_case(T, requires_grad):
    a = T.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=requires_grad)
    b = T.tensor([0.5, 0.5, 0.5, 0.5], requires_grad=requires_grad)
    return lambda: a + b


def _mlp_case(T):
    rng = np.random.default_rng(0)
    x = T.tensor(rng.standard_normal((32, 16)), dtype=T.float32)
    w1 = T.tensor(rng.standard_normal((16, 32)) * 0.1, dtype=T.float32, requires_grad=True)
    b1 = T.tensor(np.zeros(32), dtype=T.float32, requires_grad=True)
    w2 = T.tensor(rng.standard_normal((32, 1)) * 0.1, dtype=T.float32, requires_grad=True)

    def step():
        loss = (T.nn.functional.relu(x @ w1 + b1) @ w2).mean()
        loss.backward()
        w1.grad = b1.grad = w2.grad = None

    return step


CASES = [
    ("add, 4 elements", lambda T: _add_case(T, False)),
    ("add, 4 elements, requires_grad", lambda T: _add_case(T, True)),
    ("MLP 32x16->32->1 fwd+bwd", _mlp_case),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=1000, help="calls per timing run (default 1000)")
    args = parser.parse_args(argv)
    if torch is not None:
        torch.set_num_threads(1)
    print(f"{'case':36s} {'ember us':>10s} {'torch us':>10s} {'ratio':>7s}")
    for name, make in CASES:
        iters = args.iters if "MLP" not in name else max(args.iters // 10, 10)
        ember_us = _time(make(ember), iters)
        torch_us = _time(make(torch), iters) if torch is not None else float("nan")
        print(f"{name:36s} {ember_us:10.2f} {torch_us:10.2f} {ember_us / torch_us:7.1f}x")


if __name__ == "__main__":
    main()
