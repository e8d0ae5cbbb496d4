"""Where an ember eager training step spends its host time, and how many kernels it launches.

For each workload of :mod:`bench_cuda` (at its default size), builds the model on the device,
runs a few warm-up steps, then prints

- the host milliseconds per step (the clock read before the device is synchronized) and the
  milliseconds with the synchronization: when they are equal the step is host-bound;
- with ``--kernels``, the device kernels launched per step and the most frequent ones by
  name, recorded by ``torch.profiler`` (CUPTI sees CuPy's, cuBLAS's and cuDNN's kernels);
- a cProfile of ``--steps`` steps, sorted by own time, ``--top`` rows.

Usage: ``python benchmarks/profile_cuda.py [--device cuda:0] [--only mlp,small-ops] [--kernels]``
(runs on ``cpu`` too, without ``--kernels``, to check the flow).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import io
import pstats
import time

from bench_cuda import WORKLOADS

import ember


def build(name, device):
    """A training step of workload ``name`` (default size) on ``device``, as a callable."""
    make, kwargs, _ = WORKLOADS[name]
    model, loss_fn, make_optimizer, (x, y) = make(ember, **kwargs)
    model.to(device)
    optimizer = make_optimizer(model.parameters())
    inputs, targets = ember.tensor(x, device=device), ember.tensor(y, device=device)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(inputs), targets).backward()
        optimizer.step()

    return step


def kernels_per_step(step, synchronize, steps):
    """``(kernels per step, [(name, count per step), ...])`` from torch.profiler's CUDA activity."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(steps):
            step()
        synchronize()
    counts = collections.Counter(
        event.name for event in prof.events() if event.device_type == torch.autograd.DeviceType.CUDA
    )
    return sum(counts.values()) / steps, [(name, n / steps) for name, n in counts.most_common(15)]


def profile_workload(name, device, steps, top, kernels):
    synchronize = ember.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    step = build(name, device)
    for _ in range(5):
        step()
    synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    host = (time.perf_counter() - start) / steps * 1e3
    synchronize()
    full = (time.perf_counter() - start) / steps * 1e3
    print(f"== {name}: host {host:.2f} ms/step, with sync {full:.2f} ms/step", flush=True)
    if kernels:
        try:
            count, names = kernels_per_step(step, synchronize, steps)
        except Exception as exc:  # noqa: BLE001 - no profiler here: report and keep the cProfile
            print(f"   kernels per step unavailable: {type(exc).__name__}: {exc}")
        else:
            print(f"   {count:.0f} kernels per step; most launched (per step):")
            for kernel, n in names:
                print(f"   {n:6.1f}  {kernel[:110]}")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        step()
    profiler.disable()
    synchronize()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(top)
    print(text.getvalue(), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--only", default="mlp,small-ops", help=f"comma-separated, of {', '.join(WORKLOADS)}")
    parser.add_argument("--steps", type=int, default=20, help="steps per measurement")
    parser.add_argument("--top", type=int, default=30, help="cProfile rows per workload")
    parser.add_argument("--kernels", action="store_true", help="count kernels per step with torch.profiler")
    args = parser.parse_args()
    for name in args.only.split(","):
        profile_workload(name, args.device, args.steps, args.top, args.kernels)


if __name__ == "__main__":
    main()
