"""The MLP and CNN training steps of ``workloads.py`` on every OpenCL GPU (``opencl:N``), beside
the same steps on ``cpu`` and, where present, ``cuda:0``; ms per step (median) and the ratio
of each device to CuPy (``cuda:0``) when it is there.

The device is synchronised before every clock read, so asynchronous launches are counted
where they run. The first step of each device is reported separately (it includes kernel
builds or their load from the on-disk cache). OpenCL CPU devices (PoCL) are skipped unless
``--cpu-opencl`` (a PoCL MLP step takes seconds). ``--budget`` bounds the whole run: a
workload that would start after it is skipped and says so.

``--per-op`` times instead the per-call cost of small ops (``a + 1.0``, ``a * b``, ``relu(a)``,
``a.sum()``, ``a.exp()``, ``a < b`` on 1,000 float32 values) on the first OpenCL device (PoCL's
CPU device included) beside ``cpu``, alternating the two in one process (``--rounds`` rounds;
medians; the OpenCL queue is drained at the end of each timed loop), with the Python-level
calls of one call (functions and builtins, counted by ``sys.setprofile``).

    python benchmarks/bench_opencl.py [--iterations 5] [--warmup 2] [--budget 80] [--cpu-opencl]
    python benchmarks/bench_opencl.py --per-op [--rounds 15] [--calls 2000]
"""

from __future__ import annotations

import argparse
import os
import statistics
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


#: the small ops of ``--per-op``: name -> (a, b) -> the call
PER_OP = {
    "a + 1.0": lambda a, b: a + 1.0,
    "a * b": lambda a, b: a * b,
    "relu(a)": lambda a, b: ember.nn.functional.relu(a),
    "a.sum()": lambda a, b: a.sum(),
    "a.exp()": lambda a, b: a.exp(),
    "a < b": lambda a, b: a < b,
}


def _python_calls(fn):
    """The Python-level calls (functions and builtins) of one ``fn()``."""
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        count += event in ("call", "c_call")

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count - 1  # less the setprofile call's own exit


def per_op(rounds, calls):
    """Microseconds per call of each :data:`PER_OP` op on ``cpu`` and the first OpenCL device,
    alternating in one process; prints the medians, their ratio and the Python calls of each."""
    backend = ember.backends.get_backend("opencl")
    device = "opencl:0"
    print(f"{device}: {backend.device_name(0)}; {rounds} rounds of {calls} calls, medians")
    host = np.random.default_rng(0).standard_normal((2, 1000)).astype(np.float32)
    syncs = {"cpu": lambda: None, device: lambda: backend.synchronize(0)}
    print(f"{'op':10s} {'cpu us':>8s} {device + ' us':>13s} {'ratio':>6s} {'calls cpu/ocl':>14s}")
    for name, op in PER_OP.items():
        bound = {}
        for d in syncs:
            a, b = ember.tensor(host[0], device=d), ember.tensor(host[1], device=d)
            bound[d] = lambda op=op, a=a, b=b: op(a, b)
            bound[d]()
        times = {d: [] for d in syncs}
        for _ in range(rounds):
            for d, sync in syncs.items():
                fn = bound[d]
                sync()
                t0 = time.perf_counter()
                for _ in range(calls):
                    fn()
                sync()
                times[d].append((time.perf_counter() - t0) / calls * 1e6)
        cpu, ocl = (statistics.median(times[d]) for d in syncs)
        counts = "/".join(str(_python_calls(bound[d])) for d in syncs)
        print(f"{name:10s} {cpu:8.2f} {ocl:13.2f} {ocl / cpu:5.2f}x {counts:>14s}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--budget", type=float, default=80.0, help="seconds for the whole run")
    parser.add_argument("--cpu-opencl", action="store_true", help="also time OpenCL CPU devices (PoCL)")
    parser.add_argument("--per-op", action="store_true", help="per-call time of small ops, opencl:0 beside cpu")
    parser.add_argument("--rounds", type=int, default=15, help="--per-op: alternating rounds")
    parser.add_argument("--calls", type=int, default=2000, help="--per-op: calls per timed loop")
    args = parser.parse_args()
    if args.per_op:
        per_op(args.rounds, args.calls)
        return
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
