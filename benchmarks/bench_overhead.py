"""Per-op overhead of ember next to PyTorch, in one process.

Measures (microseconds per iteration, the median of several repeats in the thread's CPU time):

* ``a + b`` on 4-element float32 tensors, without and with ``requires_grad``;
* a small MLP step built from tensor ops: ``(relu(x @ w1 + b1) @ w2).mean()`` forward
  and backward, batch 32, 16 -> 32 -> 1;
* single small ops: ``F.cross_entropy`` and ``F.nll_loss`` on (16, 10) logits with int64 targets,
  ``F.softmax`` and ``F.log_softmax`` over the last dim of (64, 64), each alone and forward +
  backward (``.sum().backward()`` for the two softmaxes); ``x.median(1)``, ``x.max(1)``,
  ``x.argmax(1)``, ``x.sort(1)``, ``F.relu(x)`` and ``x.relu()`` on (64, 64) float32.

Run: ``python benchmarks/bench_overhead.py [--iters N] [--only NAME ...]`` (``--only softmax relu``: the
cases whose name holds one of the words).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import ember

try:
    import torch
except ImportError:  # pragma: no cover - the benchmark still reports ember alone
    torch = None

__all__ = ["main"]


def _time(fn, iters, repeat=7):
    """Median microseconds per call of ``fn`` over ``repeat`` runs of ``iters`` calls, in this thread's CPU
    time (``time.thread_time``: the time other processes take from a shared machine's cores is not counted;
    the garbage collector runs, as in a program)."""
    fn()
    runs = []
    for _ in range(repeat):
        start = time.thread_time()
        for _ in range(iters):
            fn()
        runs.append((time.thread_time() - start) / iters * 1e6)
    return statistics.median(runs)


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


def _logits(T, requires_grad=False):
    rng = np.random.default_rng(1)
    x = T.tensor(rng.standard_normal((16, 10)), dtype=T.float32, requires_grad=requires_grad)
    return x, T.tensor(rng.integers(0, 10, 16))


def _square(T, requires_grad=False):
    return T.tensor(np.random.default_rng(2).standard_normal((64, 64)), dtype=T.float32, requires_grad=requires_grad)


def _loss_case(name, backward):
    def make(T):
        F = T.nn.functional
        x, target = _logits(T, requires_grad=backward)
        if name == "nll_loss":  # log-probabilities, a leaf of their own
            x = F.log_softmax(x, 1).detach().requires_grad_(backward)
        loss = getattr(F, name)
        if not backward:
            return lambda: loss(x, target)

        def step():
            loss(x, target).backward()
            x.grad = None

        return step

    return make


def _softmax_case(name, backward):
    def make(T):
        x = _square(T, requires_grad=backward)
        fn = getattr(T.nn.functional, name)
        if not backward:
            return lambda: fn(x, -1)

        def step():
            fn(x, -1).sum().backward()
            x.grad = None

        return step

    return make


def _method_case(name, *args):
    def make(T):
        x = _square(T)
        return lambda: getattr(x, name)(*args)

    return make


def _relu_case(T):
    x = _square(T)
    relu = T.nn.functional.relu
    return lambda: relu(x)


CASES = [
    ("add, 4 elements", lambda T: _add_case(T, False)),
    ("add, 4 elements, requires_grad", lambda T: _add_case(T, True)),
    ("MLP 32x16->32->1 fwd+bwd", _mlp_case),
    ("cross_entropy (16,10)", _loss_case("cross_entropy", False)),
    ("cross_entropy (16,10) fwd+bwd", _loss_case("cross_entropy", True)),
    ("nll_loss (16,10)", _loss_case("nll_loss", False)),
    ("nll_loss (16,10) fwd+bwd", _loss_case("nll_loss", True)),
    ("softmax (64,64) dim -1", _softmax_case("softmax", False)),
    ("softmax (64,64) fwd+bwd", _softmax_case("softmax", True)),
    ("log_softmax (64,64) dim -1", _softmax_case("log_softmax", False)),
    ("log_softmax (64,64) fwd+bwd", _softmax_case("log_softmax", True)),
    ("median(1) (64,64)", _method_case("median", 1)),
    ("max(1) (64,64)", _method_case("max", 1)),
    ("argmax(1) (64,64)", _method_case("argmax", 1)),
    ("sort(1) (64,64)", _method_case("sort", 1)),
    ("F.relu (64,64)", _relu_case),
    ("x.relu() (64,64)", _method_case("relu")),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=1000, help="calls per timing run (default 1000)")
    parser.add_argument("--only", nargs="*", default=(), help="run the cases whose name holds one of these")
    args = parser.parse_args(argv)
    if torch is not None:
        torch.set_num_threads(1)
    print(f"{'case':36s} {'ember us':>10s} {'torch us':>10s} {'ratio':>7s}")
    for name, make in CASES:
        if args.only and not any(part in name for part in args.only):
            continue
        iters = args.iters if "MLP" not in name and "bwd" not in name else max(args.iters // 10, 10)
        ember_us = _time(make(ember), iters)
        torch_us = _time(make(torch), iters) if torch is not None else float("nan")
        print(f"{name:36s} {ember_us:10.2f} {torch_us:10.2f} {ember_us / torch_us:7.1f}x")


if __name__ == "__main__":
    main()
