"""The MLP and CNN training steps of ``workloads.py`` on every OpenCL GPU (``opencl:N``), beside
the same steps on ``cpu`` and, where present, ``cuda:0``; ms per step (median) and the ratio
of each device to CuPy (``cuda:0``) when it is there.

The device is synchronised before every clock read, so asynchronous launches are counted
where they run. The first step of each device is reported separately (it includes kernel
builds or their load from the on-disk cache). OpenCL CPU devices (PoCL) are skipped unless
``--cpu-opencl`` (a PoCL MLP step takes seconds). ``--budget`` bounds the whole run: a
workload that would start after it is skipped and says so.

    python benchmarks/bench_opencl.py [--iterations 5] [--warmup 2] [--budget 80] [--cpu-opencl]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from workloads import _trainer, cnn, mlp, time_step  # noqa: E402

import ember  # noqa: E402


def _devices(cpu_opencl):
    """(name, synchronize) for cpu, each usable OpenCL device, and cuda:0 when present."""
    found = [("cpu", lambda: None)]
    try:
        backend = ember.backends.get_backend("opencl")
    except Exception as exc:  # noqa: BLE001 - report and go on without OpenCL
        print(f"opencl: unavailable ({exc})")
    else:
        import pyopencl as cl

        for d in backend.devices:
            if cpu_opencl or d.cl_device.type & cl.device_type.GPU:
                found.append((f"opencl:{d.index}", lambda i=d.index: backend.synchronize(i)))
            else:
                print(f"opencl:{d.index} ({d.name}) skipped: a CPU device (--cpu-opencl times it too)")
    try:
        cuda = ember.backends.get_backend("cuda")
        if cuda.device_count():
            found.append(("cuda:0", lambda: cuda.synchronize(0)))
    except Exception as exc:  # noqa: BLE001 - report and go on without CUDA
        print(f"cuda: unavailable ({exc})")
    return found


def _step(make, device):
    model, loss_fn, optimizer, (x, y) = make(ember)
    model.to(device)
    inputs, targets = ember.tensor(x, device=device), ember.tensor(y, device=device)
    return _trainer(model, loss_fn, optimizer(model.parameters()), inputs, targets)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--budget", type=float, default=80.0, help="seconds for the whole run")
    parser.add_argument("--cpu-opencl", action="store_true", help="also time OpenCL CPU devices (PoCL)")
    args = parser.parse_args()
    start = time.perf_counter()
    devices = _devices(args.cpu_opencl)
    for d, _ in devices:
        if d.startswith("opencl"):
            print(f"{d}: {ember.backends.get_backend('opencl').device_name(int(d.split(':')[1]))}")
    results = {}
    for name, make in (("mlp", mlp), ("cnn", cnn)):
        for device, sync in devices:
            if time.perf_counter() - start > args.budget:
                print(f"{name:4s} {device:9s} skipped: over the {args.budget:.0f} s budget")
                continue
            ember.manual_seed(0)
            step = _step(make, device)
            sync()
            t0 = time.perf_counter()
            step()
            sync()
            first = (time.perf_counter() - t0) * 1000
            ms = time_step(step, sync, args.warmup, args.iterations)
            results[(name, device)] = ms
            print(f"{name:4s} {device:9s} first step {first:9.1f} ms   warm {ms:9.2f} ms/step", flush=True)
    for (name, device), ms in sorted(results.items()):
        ref = results.get((name, "cuda:0"))
        if ref and device != "cuda:0":
            print(f"{name:4s} {device:9s} / cuda:0 = {ms / ref:5.2f}x")
    print(f"total {time.perf_counter() - start:.1f} s; numpy {np.__version__}")


if __name__ == "__main__":
    main()
