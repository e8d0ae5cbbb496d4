"""Host cost of ``backward()`` alone, ember next to PyTorch, in one process.

The forward of each case runs untimed; only ``loss.backward()`` is timed (microseconds, the median over
several repeats of the summed ``time.thread_time`` of the backward calls). Cases:

* ``sum``: ``x.sum()`` of a (64, 64) float32 tensor;
* ``mul_sum``: ``(x * y).sum()``, both (64, 64) and requiring gradients;
* ``mlp``: Linear 64->64, relu, Linear 64->64, ``mse_loss``, batch 8;
* ``small_ops``: 20 x (Linear 64 + Tanh) and a Linear 64->10, cross entropy, batch 8
  (``workloads.small_ops``);
* ``stack``: ``stack`` of 35 (8,) tensors, then ``sum``.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_backward.py [--iters N] [--only NAME ...]
[--profile NAME]`` (``--profile mlp``: cProfile of ember's backward of that case, by own time).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time

import numpy as np
import workloads

import ember

try:
    import torch
except ImportError:  # pragma: no cover - the benchmark still reports ember alone
    torch = None

__all__ = ["main"]


def _sum(T):
    x = T.tensor(np.random.default_rng(0).standard_normal((64, 64)), dtype=T.float32, requires_grad=True)
    return lambda: x.sum(), [x]


def _mul_sum(T):
    rng = np.random.default_rng(0)
    x, y = (T.tensor(rng.standard_normal((64, 64)), dtype=T.float32, requires_grad=True) for _ in range(2))
    return lambda: (x * y).sum(), [x, y]


def _mlp(T):
    T.manual_seed(0)
    model = T.nn.Sequential(T.nn.Linear(64, 64), T.nn.ReLU(), T.nn.Linear(64, 64))
    rng = np.random.default_rng(0)
    x = T.tensor(rng.standard_normal((8, 64)), dtype=T.float32)
    y = T.tensor(rng.standard_normal((8, 64)), dtype=T.float32)
    return lambda: T.nn.functional.mse_loss(model(x), y), list(model.parameters())


def _small_ops(T):
    model, loss_fn, _, (x, y) = workloads.small_ops(T)
    x, y = T.tensor(x), T.tensor(y)
    return lambda: loss_fn(model(x), y), list(model.parameters())


def _stack(T):
    rng = np.random.default_rng(0)
    xs = [T.tensor(rng.standard_normal(8), dtype=T.float32, requires_grad=True) for _ in range(35)]
    return lambda: T.stack(xs).sum(), xs


CASES = {"sum": _sum, "mul_sum": _mul_sum, "mlp": _mlp, "small_ops": _small_ops, "stack": _stack}


def _time_backward(case, iters, repeat=7):
    """Median microseconds of one ``backward()`` of ``case`` (its forward untimed)."""
    forward, leaves = case
    runs = []
    for _ in range(repeat + 1):  # the first run warms up
        total = 0.0
        for _ in range(iters):
            loss = forward()
            start = time.thread_time()
            loss.backward()
            total += time.thread_time() - start
            for leaf in leaves:
                leaf.grad = None
        runs.append(total / iters * 1e6)
    return statistics.median(runs[1:])


def _profile(case, iters, top=25):
    forward, leaves = case
    profiler = cProfile.Profile()
    for _ in range(iters):
        loss = forward()
        profiler.enable()
        loss.backward()
        profiler.disable()
        for leaf in leaves:
            leaf.grad = None
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(top)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=200)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--profile", default=None)
    args = parser.parse_args(argv)
    if args.profile:
        _profile(CASES[args.profile](ember), args.iters)
        return
    print(f"{'case':10s} {'ember us':>10s} {'torch us':>10s} {'ratio':>7s}")
    for name, make in CASES.items():
        if args.only and not any(word in name for word in args.only):
            continue
        e_us = _time_backward(make(ember), args.iters)
        t_us = _time_backward(make(torch), args.iters) if torch is not None else float("nan")
        print(f"{name:10s} {e_us:10.1f} {t_us:10.1f} {e_us / t_us:7.2f}")


if __name__ == "__main__":
    main()
