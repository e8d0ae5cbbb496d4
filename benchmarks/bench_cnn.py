"""Train a small CNN with ember (NumPy backend) and PyTorch (CPU) side by side; ms per step and ratio.

Blocks conv3x3-BatchNorm2d-ReLU-MaxPool2d, 3 -> 32 -> 64 -> 128 channels on 3x32x32 images, then
Linear to 10 classes, cross entropy, SGD with momentum. Both frameworks use the same thread
count (``--threads``, applied to PyTorch and to ember, whose ``set_num_threads`` sizes its own
pool and NumPy's BLAS through threadpoolctl when it is installed; the ``*_NUM_THREADS``
variables are also set before NumPy loads). Ends with a
cProfile of ember's step, top entries by cumulative and by own time.

With ``--layers``, a table of each op of the step at its own shapes (each block's conv forward,
its input and weight gradients, batch norm, ReLU and max pooling, forward and backward), the
two frameworks alternating in rounds, medians; ``--cpu-time`` times them by the CPU time of the
calling thread instead of the wall clock (with ``--threads 1`` on a shared machine: another
process's time slices are not counted).

    python benchmarks/bench_cnn.py [--batch 64] [--steps 10] [--threads 1] [--layers [--cpu-time]]
"""

from __future__ import annotations

import argparse
import time

from blas_threads import set_blas_threads


def _parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--profile-top", type=int, default=20)
    parser.add_argument("--layers", action="store_true", help="only the per-op table at the step's shapes")
    parser.add_argument("--rounds", type=int, default=9, help="alternating rounds of the per-op table")
    parser.add_argument("--cpu-time", action="store_true", help="time the per-op table by thread CPU time")
    return parser.parse_args()


ARGS = _parse() if __name__ == "__main__" else None
if ARGS is not None:
    set_blas_threads(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from workloads import _trainer, profile  # noqa: E402

import ember  # noqa: E402

CHANNELS = (3, 32, 64, 128)


def _model(lib):
    layers = []
    for cin, cout in zip(CHANNELS[:-1], CHANNELS[1:]):
        layers += [
            lib.nn.Conv2d(cin, cout, 3, padding=1, bias=False),
            lib.nn.BatchNorm2d(cout),
            lib.nn.ReLU(),
            lib.nn.MaxPool2d(2),
        ]
    layers += [lib.nn.Flatten(), lib.nn.Linear(CHANNELS[-1] * 4 * 4, 10)]
    return lib.nn.Sequential(*layers)


def _step_fn(lib, model, images, labels):
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return _trainer(model, lib.nn.CrossEntropyLoss(), opt, images, labels)


def _time(step, steps, warmup):
    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps * 1000


def _layer_ops(lib, batch, rng):
    """``name -> (forward, forward_and_backward)`` of each op of the step at its own input shape."""
    F = lib.nn.functional
    ops = {}

    def leaf(*shape):
        return lib.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)

    def add(name, fn, *args):
        def backward():
            out = fn(*args)
            out.backward(lib.ones_like(out))

        ops[name] = (lambda: fn(*args), backward)

    size = 32
    for cin, cout in zip(CHANNELS[:-1], CHANNELS[1:]):
        x, w, act = leaf(batch, cin, size, size), leaf(cout, cin, 3, 3), leaf(batch, cout, size, size)
        gamma, beta = leaf(cout), leaf(cout)
        tag = f"{cin}->{cout} @{size}"
        add(f"conv {tag}", lambda a, b: F.conv2d(a, b, padding=1), x, w)
        if cin != CHANNELS[0]:  # the first conv's input needs no gradient
            add(f"conv {tag} (input grad only)", lambda a, b: F.conv2d(a, b.detach(), padding=1), x, w)
        add(f"conv {tag} (weight grad only)", lambda a, b: F.conv2d(a.detach(), b, padding=1), x, w)
        shape = f"{cout}x{size}x{size}"
        add(f"batch_norm {shape}", lambda a, g, b: F.batch_norm(a, None, None, g, b, training=True), act, gamma, beta)
        add(f"relu {shape}", F.relu, act)
        add(f"max_pool2d {shape}", lambda a: F.max_pool2d(a, 2), act)
        size //= 2
    return ops


def _clock(cpu_time):
    return time.thread_time if cpu_time else time.perf_counter


def _layer_table(args):
    """Each op of the step at its shapes, ember against PyTorch, forward and backward, median ms."""
    clock = _clock(args.cpu_time)
    t_ops, e_ops = (
        _layer_ops(torch, args.batch, np.random.default_rng(0)),
        _layer_ops(ember, args.batch, np.random.default_rng(0)),
    )
    kind = "thread CPU time" if args.cpu_time else "wall clock"
    print(
        f"per op, batch {args.batch}, threads {args.threads}, median ms of {args.rounds} alternating rounds ({kind});"
    )
    print("backward = (forward+backward) - forward")
    print(
        f"{'op':38s} {'torch fwd':>9s} {'ember fwd':>9s} {'ratio':>6s} {'torch bwd':>9s} {'ember bwd':>9s} {'ratio':>6s}"
    )
    totals = np.zeros(4)
    for name in t_ops:
        fns = [*t_ops[name], *e_ops[name]]
        for fn in fns:
            fn()
        times = [[] for _ in fns]
        for _ in range(args.rounds):
            for fn, acc in zip(fns, times):
                start = clock()
                fn()
                acc.append(clock() - start)
        tf, tfb, ef, efb = (float(np.median(t)) * 1000 for t in times)
        tb, eb = max(tfb - tf, 1e-6), max(efb - ef, 1e-6)
        if "grad only" not in name:
            totals += (tf, ef, tb, eb)
        print(f"{name:38s} {tf:9.3f} {ef:9.3f} {ef / tf:5.2f}x {tb:9.3f} {eb:9.3f} {eb / tb:5.2f}x", flush=True)
    tf, ef, tb, eb = totals
    print(f"{'all but the grad-only rows':38s} {tf:9.3f} {ef:9.3f} {ef / tf:5.2f}x {tb:9.3f} {eb:9.3f} {eb / tb:5.2f}x")


def main():
    args = ARGS
    torch.set_num_threads(args.threads)
    ember.set_num_threads(args.threads)  # ember's pool and, through threadpoolctl, NumPy's BLAS
    if args.layers:
        _layer_table(args)
        return
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, args.batch)

    torch.manual_seed(0)
    t_model = _model(torch)
    e_model = _model(ember)
    e_model.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t_model.state_dict().items()})
    t_step = _step_fn(torch, t_model, torch.from_numpy(x), torch.from_numpy(y))
    e_step = _step_fn(ember, e_model, ember.tensor(x), ember.tensor(y))

    t_loss, e_loss = float(t_step()), float(e_step())
    print(f"first-step loss: torch {t_loss:.6f}  ember {e_loss:.6f}")
    t_ms = _time(t_step, args.steps, args.warmup)
    e_ms = _time(e_step, args.steps, args.warmup)
    print(f"batch {args.batch}, 3x32x32, threads {args.threads}, numpy {np.__version__}, torch {torch.__version__}")
    print(f"torch (CPU):   {t_ms:8.2f} ms/step")
    print(f"ember (numpy): {e_ms:8.2f} ms/step")
    print(f"ratio ember/torch: {e_ms / t_ms:.2f}x")

    profile(e_step, max(args.steps // 2, 1), args.profile_top)


if __name__ == "__main__":
    main()
