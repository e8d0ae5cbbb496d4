"""ember on CUDA against PyTorch on CUDA: training-step time of the reference workloads.

For each workload (MLP, CNN, LSTM language model, a stack of small ops) at its default and
large size, in strict float32 and in TF32 (set alike on both sides through PyTorch's flags
``backends.cuda.matmul.allow_tf32`` and ``backends.cudnn.allow_tf32``), prints the median
milliseconds per step of PyTorch eager, ember eager and ember with the step captured as a
CUDA graph and replayed, and ember's ratios to PyTorch eager. The device is synchronized
before every clock read. Both sides start from the same weights; the ``check`` column is the
relative difference of the first step's loss (a smoke test, not a precision test).

Usage: ``python benchmarks/bench_cuda.py [--device cuda:0] [--only mlp,cnn] [--sizes default]``
"""

from __future__ import annotations

import argparse
import time
import traceback

import numpy as np
import torch
from workloads import cnn, lstm_lm, mlp, small_ops, time_step

import ember
import ember.backends.cuda
import ember.backends.cudnn

# name -> (builder, default-size kwargs, large-size kwargs or None)
WORKLOADS = {
    "mlp": (mlp, {"batch": 256}, {"batch": 4096, "hidden": 4096}),
    "cnn": (cnn, {"batch": 128}, {"batch": 256, "size": 64}),
    "lstm-lm": (lstm_lm, {}, {"batch": 256, "hidden": 1024, "embed": 1024}),
    "small-ops": (small_ops, {}, None),
}


def set_precision(tf32):
    """The same precision on both sides."""
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    ember.backends.cuda.matmul.allow_tf32 = tf32
    ember.backends.cudnn.allow_tf32 = tf32


def _step(model, loss_fn, optimizer, x, y):
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss


def captured_step(model, loss_fn, optimizer, x, y, warmup=3):
    """Warm up on a side stream, capture one training step, return its replay."""
    side = ember.cuda.Stream()
    side.wait_stream(ember.cuda.current_stream())
    with ember.cuda.stream(side):
        for _ in range(warmup):
            _step(model, loss_fn, optimizer, x, y)
    ember.cuda.current_stream().wait_stream(side)
    graph = ember.cuda.CUDAGraph()
    optimizer.zero_grad(set_to_none=True)
    with ember.cuda.graph(graph):
        loss_fn(model(x), y).backward()
        optimizer.step()
    return graph.replay


def build(make, device, kwargs):
    """Both libraries' models with equal weights, their first losses, and the step callables."""
    t_model, t_loss, t_opt, (x, y) = make(torch, **kwargs)
    e_model, e_loss, e_opt, _ = make(ember, **kwargs)
    e_model.load_state_dict({k: ember.tensor(v.detach().cpu().numpy()) for k, v in t_model.state_dict().items()})
    t_model.to(device)
    e_model.to(device)
    tx, ty = torch.as_tensor(x, device=device), torch.as_tensor(y, device=device)
    ex, ey = ember.tensor(x, device=device), ember.tensor(y, device=device)
    t_first = t_loss(t_model(tx), ty).item()
    e_first = e_loss(e_model(ex), ey).item()
    check = abs(e_first - t_first) / max(abs(t_first), 1e-12)
    t_optimizer, e_optimizer = t_opt(t_model.parameters()), e_opt(e_model.parameters())
    return (
        check,
        lambda: _step(t_model, t_loss, t_optimizer, tx, ty),
        lambda: _step(e_model, e_loss, e_optimizer, ex, ey),
        lambda: captured_step(e_model, e_loss, e_optimizer, ex, ey),
    )


def measure(name, size, make, kwargs, device, iterations):
    on_gpu = device.startswith("cuda")
    t_sync = torch.cuda.synchronize if on_gpu else (lambda: None)
    e_sync = ember.cuda.synchronize if on_gpu else (lambda: None)
    check, t_step, e_step, capture = build(make, device, kwargs)
    for tf32 in (False, True):
        set_precision(tf32)
        t_ms = time_step(t_step, t_sync, warmup=3, iterations=iterations)
        e_ms = time_step(e_step, e_sync, warmup=3, iterations=iterations)
        try:
            g_ms = time_step(capture(), e_sync, warmup=2, iterations=iterations)
            graph = f"{g_ms:9.2f} {g_ms / t_ms:6.2f}x"
        except Exception as exc:  # noqa: BLE001 - report and keep the eager figures
            graph = f"capture failed: {type(exc).__name__}: {str(exc)[:160]}"
        precision = "tf32" if tf32 else "fp32"
        print(
            f"{name:10s} {size:8s} {precision:5s} {t_ms:9.2f} {e_ms:9.2f} {e_ms / t_ms:6.2f}x {graph}   check {check:.1e}",
            flush=True,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--only", default=",".join(WORKLOADS), help="comma-separated workload names")
    parser.add_argument("--sizes", default="default,large", help="default, large or both")
    args = parser.parse_args()
    sizes = args.sizes.split(",")
    name = torch.cuda.get_device_name(args.device) if args.device.startswith("cuda") else args.device
    print(f"{name}; PyTorch {torch.__version__}; ember {ember.__version__}")
    print("ms per training step (median); ratios are ember / PyTorch eager (lower is better)")
    print(
        f"{'workload':10s} {'size':8s} {'prec':5s} {'torch':>9s} {'ember':>9s} {'ratio':>7s} {'captured':>9s} {'ratio':>7s}"
    )
    started = time.perf_counter()
    for name in args.only.split(","):
        make, default, large = WORKLOADS[name]
        for size, kwargs in (("default", default), ("large", large)):
            if kwargs is None or size not in sizes:
                continue
            try:
                measure(name, size, make, kwargs, args.device, args.iterations)
            except Exception:  # noqa: BLE001 - report and go on to the next workload
                print(f"{name:10s} {size:8s} failed:\n" + "".join(traceback.format_exc().splitlines(True)[-6:]))
            if args.device.startswith("cuda"):
                ember.cuda.empty_cache()
                torch.cuda.empty_cache()
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
