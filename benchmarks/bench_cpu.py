"""CPU speed of ember's NumPy backend against PyTorch, side by side in one process.

Two tables, each at every thread count of ``--threads`` (applied to both frameworks: PyTorch
through ``torch.set_num_threads``, ember through ``ember.set_num_threads``, which sets its
own pool and NumPy's BLAS through threadpoolctl):

* training steps (zero_grad, forward, loss, backward, SGD momentum) of the reference
  workloads: MLP 784-1024-1024-10 b256, CNN 3x conv-BN-ReLU-pool b64 3x32x32, LSTM LM 2x256
  vocab 5000 35x16, and the per-op path, 20 x (Linear 64 + Tanh) b8;
* single ops, forward and backward (backward = median of forward+backward minus median of
  forward): add, matmul, relu, conv2d, max_pool2d, batch_norm, cross_entropy.

Steps of the two frameworks alternate in rounds, medians in ms, ratio ember / PyTorch (below
1 means ember is faster); each timed block of training steps starts after a rest (:data:`SETTLE_S`)
and one untimed step, so that neither framework's idle worker threads take the cores from the
other's block (the single ops alternate without rests: a rest between blocks of a few
sub-millisecond calls leaves PyTorch's OpenMP threads waking in the timed calls).
Run on a quiet machine for absolute figures; the ratios hold up better than the times on a
shared one.

With ``--phases``, a third table splits each step into zero_grad, forward, loss, backward and
the optimizer step (the two frameworks' steps alternating, medians of at least 25).

    python benchmarks/bench_cpu.py [--threads 1 2] [--rounds 7] [--only cnn mlp ...] [--no-ops] [--phases] [--no-onednn]
        [--no-numba]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

import ember
import ember.backends.mkldnn
from ember.backends.numpy import loops

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from workloads import _trainer, cnn, lstm_lm, mlp, small_ops  # noqa: E402

__all__ = ["main"]

WORKLOADS = {
    "mlp": (mlp, {"batch": 256}),
    "cnn": (cnn, {"batch": 64}),
    "lstm": (lstm_lm, {"vocab": 5000, "embed": 256, "hidden": 256, "layers": 2, "steps": 35, "batch": 16}),
    "small-ops": (small_ops, {}),
}


def _set_threads(threads):
    torch.set_num_threads(threads)
    ember.set_num_threads(threads)


#: seconds of rest before each timed block: after its last call, each framework's worker threads stay
#: awake (OpenBLAS's spin for about 0.1 s, PyTorch's OpenMP threads for a few ms) and would take the
#: cores from the next framework's block (measured: PyTorch's 2-thread CNN step 61 ms right after
#: ember's, 37-39 ms rested)
SETTLE_S = 0.25


def _alternate(fns, rounds, per_round, settle=0.0):
    """Median ms per call of each of ``fns``, timed in alternating rounds of ``per_round`` calls."""
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(rounds):
        for fn, acc in zip(fns, times):
            if settle:
                time.sleep(settle)  # the other framework's idle threads stop spinning
                fn()  # untimed: this framework's own threads awake, as in a training loop
            start = time.perf_counter()
            for _ in range(per_round):
                fn()
            acc.append((time.perf_counter() - start) / per_round * 1000)
    return [float(np.median(t)) for t in times]


def _steps(make, kwargs):
    """The torch and ember training steps of one workload, with equal initial weights."""
    t_model, t_loss, t_opt, (x, y) = make(torch, **kwargs)
    e_model, e_loss, e_opt, _ = make(ember, **kwargs)
    e_model.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t_model.state_dict().items()})
    t_step = _trainer(t_model, t_loss, t_opt(t_model.parameters()), torch.as_tensor(x), torch.as_tensor(y))
    e_step = _trainer(e_model, e_loss, e_opt(e_model.parameters()), ember.tensor(x), ember.tensor(y))
    return t_step, e_step


_PHASES = ("zero_grad", "forward", "loss", "backward", "step")


def _phased(make, kwargs, lib_model, lib):
    """A training step of ``lib`` that returns the seconds each of :data:`_PHASES` took."""
    model, loss_fn, opt, (x, y) = make(lib, **kwargs)
    if lib_model is not None:  # ember: PyTorch's initial weights
        model.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in lib_model.state_dict().items()})
    optimizer = opt(model.parameters())
    convert = ember.tensor if lib is ember else torch.as_tensor
    inputs, targets = convert(x), convert(y)

    def step():
        t0 = time.perf_counter()
        optimizer.zero_grad()
        t1 = time.perf_counter()
        out = model(inputs)
        t2 = time.perf_counter()
        loss = loss_fn(out, targets)
        t3 = time.perf_counter()
        loss.backward()
        t4 = time.perf_counter()
        optimizer.step()
        t5 = time.perf_counter()
        return (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)

    return model, step


def _report_phases(names, threads, rounds):
    """Where a step's time goes, phase by phase, the two frameworks' steps alternating."""
    print(f"\ntraining step by phase, median ms over {rounds} alternating steps")
    print(f"{'workload':10s} {'threads':>7s} {'phase':>10s} {'torch':>9s} {'ember':>9s} {'ember/torch':>12s}")
    for name in names:
        make, kwargs = WORKLOADS[name]
        t_model, t_step = _phased(make, kwargs, None, torch)
        _, e_step = _phased(make, kwargs, t_model, ember)
        for n in threads:
            _set_threads(n)
            for _ in range(2):
                t_step(), e_step()
            times = np.array([(t_step(), e_step()) for _ in range(rounds)]) * 1000  # rounds x 2 x phases
            t_ms, e_ms = np.median(times[:, 0], axis=0), np.median(times[:, 1], axis=0)
            for phase, t, e in zip((*_PHASES, "total"), (*t_ms, t_ms.sum()), (*e_ms, e_ms.sum())):
                print(f"{name:10s} {n:7d} {phase:>10s} {t:9.3f} {e:9.3f} {e / t:11.2f}x", flush=True)


def _op_cases(lib):
    """``name -> (forward, forward_and_backward)`` of single ops on fixed inputs."""
    F = lib.nn.functional
    rng = np.random.default_rng(0)

    def leaf(*shape):
        return lib.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)

    def case(fn, *args):
        def forward():
            return fn(*args)

        def backward():
            out = fn(*args)
            out.backward(lib.ones_like(out))

        return forward, backward

    act, a2 = leaf(64, 64, 16, 16), leaf(64, 64, 16, 16)
    m1, m2 = leaf(256, 1024), leaf(1024, 1024)
    x, w = leaf(64, 32, 16, 16), leaf(64, 32, 3, 3)
    gamma, beta = leaf(64), leaf(64)
    logits = leaf(256, 1000)
    target = lib.tensor(rng.integers(0, 1000, 256))
    return {
        "add (64x64x16x16)": case(lambda a, b: a + b, act, a2),
        "matmul 256x1024 @ 1024x1024": case(lambda a, b: a @ b, m1, m2),
        "relu (64x64x16x16)": case(F.relu, act),
        "conv2d 32->64 3x3 b64 16x16": case(lambda a, b: F.conv2d(a, b, padding=1), x, w),
        "max_pool2d 2x2 (64x64x16x16)": case(lambda a: F.max_pool2d(a, 2), act),
        "batch_norm train (64x64x16x16)": case(
            lambda a, g, b: F.batch_norm(a, None, None, g, b, training=True), act, gamma, beta
        ),
        "cross_entropy 256x1000": case(F.cross_entropy, logits, target),
    }


def _report_workloads(names, threads, rounds):
    print(f"\ntraining step, median ms ({rounds} alternating rounds)")
    print(f"{'workload':10s} {'threads':>7s} {'torch':>9s} {'ember':>9s} {'ember/torch':>12s}")
    for name in names:
        make, kwargs = WORKLOADS[name]
        t_step, e_step = _steps(make, kwargs)
        for n in threads:
            _set_threads(n)
            per_round = 10 if name == "small-ops" else 2
            t_ms, e_ms = _alternate([t_step, e_step], rounds, per_round, SETTLE_S)
            print(f"{name:10s} {n:7d} {t_ms:9.2f} {e_ms:9.2f} {e_ms / t_ms:11.2f}x", flush=True)


def _report_ops(threads, rounds):
    t_cases, e_cases = _op_cases(torch), _op_cases(ember)
    print(f"\nsingle ops, median ms ({rounds} alternating rounds); backward = (forward+backward) - forward")
    print(
        f"{'op':32s} {'thr':>3s} {'torch fwd':>9s} {'ember fwd':>9s} {'ratio':>6s} {'torch bwd':>9s} {'ember bwd':>9s} {'ratio':>6s}"
    )
    for name in t_cases:
        (t_f, t_fb), (e_f, e_fb) = t_cases[name], e_cases[name]
        for n in threads:
            _set_threads(n)
            tf, ef, tfb, efb = _alternate([t_f, e_f, t_fb, e_fb], rounds, 3)
            tb, eb = max(tfb - tf, 1e-6), max(efb - ef, 1e-6)
            print(
                f"{name:32s} {n:3d} {tf:9.3f} {ef:9.3f} {ef / tf:5.2f}x {tb:9.3f} {eb:9.3f} {eb / tb:5.2f}x", flush=True
            )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--only", nargs="+", choices=sorted(WORKLOADS), default=list(WORKLOADS))
    parser.add_argument("--no-ops", action="store_true", help="skip the single-op table")
    parser.add_argument("--no-workloads", action="store_true", help="skip the training-step table")
    parser.add_argument("--phases", action="store_true", help="also time each phase of the steps")
    parser.add_argument("--no-onednn", action="store_true", help="no oneDNN kernels (mkldnn.enabled off)")
    parser.add_argument("--no-numba", action="store_true", help="no compiled loops (ember.backends.numpy.loops)")
    args = parser.parse_args(argv)
    ember.backends.mkldnn.enabled = not args.no_onednn
    loops.runtime.enabled = not args.no_numba
    onednn = "on" if ember.backends.mkldnn.enabled and ember.backends.mkldnn.is_available() else "off"
    compiled = "on" if loops.get() is not None else "off"
    print(
        f"numpy {np.__version__}, torch {torch.__version__}, cores available {len(os.sched_getaffinity(0))}, "
        f"ember's oneDNN kernels {onednn}, compiled loops (Numba) {compiled}"
    )
    if not args.no_workloads:
        _report_workloads(args.only, args.threads, args.rounds)
    if args.phases:
        _report_phases(args.only, args.threads, max(args.rounds, 25))
    if not args.no_ops:
        _report_ops(args.threads, args.rounds)


if __name__ == "__main__":
    main()
