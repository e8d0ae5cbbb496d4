"""Per-op overhead of ember next to PyTorch, in one process.

Measures (microseconds per iteration, the median of several repeats in the thread's CPU time):

* ``a + b`` on 4-element float32 tensors, without and with ``requires_grad``;
* a small MLP step built from tensor ops: ``(relu(x @ w1 + b1) @ w2).mean()`` forward
  and backward, batch 32, 16 -> 32 -> 1;
* single small ops: ``F.cross_entropy`` and ``F.nll_loss`` on (16, 10) logits with int64 targets,
  ``F.softmax`` and ``F.log_softmax`` over the last dim of (64, 64), each alone and forward +
  backward (``.sum().backward()`` for the two softmaxes); ``x.median(1)``, ``x.max(1)``,
  ``x.argmax(1)``, ``x.sort(1)``, ``F.relu(x)`` and ``x.relu()`` on (64, 64) float32;
* the forward alone of ~55 ops every model calls (``op NAME``: arithmetic with a tensor and a number,
  matmul/linear, activations, softmaxes, norms, views, indexing, reductions, factories, losses, conv2d,
  pooling), on (8, 64) / (64, 64) float32 inputs, without and with ``requires_grad`` (``op NAME rg``).

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


def _inputs(T, requires_grad):
    """The operands of the per-op table: (8, 64) and (64, 64) float32 tensors (``x``, ``y``, ``w``), int64
    indices and targets, a bool mask, a (1, 3, 8, 8) image with a (4, 3, 3, 3) filter, batch-norm statistics."""
    rng = np.random.default_rng(3)

    def f32(*shape, grad=requires_grad):
        return T.tensor(rng.standard_normal(shape), dtype=T.float32, requires_grad=grad)

    return {
        "x": f32(8, 64),
        "y": f32(8, 64),
        "pos": T.tensor(rng.random((8, 64)) + 0.5, dtype=T.float32, requires_grad=requires_grad),
        "w": f32(64, 64),
        "b": f32(64),
        "idx": T.tensor(rng.integers(0, 8, 4)),
        "tok": T.tensor(rng.integers(0, 64, (8, 16))),
        "target": T.tensor(rng.integers(0, 64, 8)),
        "mask": T.tensor(rng.random((8, 64)) < 0.5),
        "img": f32(1, 3, 8, 8),
        "filt": f32(4, 3, 3, 3),
        "bnw": f32(3),
        "rm": T.zeros(3),
        "rv": T.ones(3),
    }


# name -> fn(T, F, v) giving the call to time; each runs without and with requires_grad on its inputs
OPS = {
    "add t": lambda T, F, v: lambda: v["x"] + v["y"],
    "add n": lambda T, F, v: lambda: v["x"] + 1.5,
    "sub t": lambda T, F, v: lambda: v["x"] - v["y"],
    "sub n": lambda T, F, v: lambda: v["x"] - 1.5,
    "mul t": lambda T, F, v: lambda: v["x"] * v["y"],
    "mul n": lambda T, F, v: lambda: v["x"] * 1.5,
    "div t": lambda T, F, v: lambda: v["x"] / v["pos"],
    "div n": lambda T, F, v: lambda: v["x"] / 1.5,
    "matmul": lambda T, F, v: lambda: v["x"] @ v["w"],
    "F.linear": lambda T, F, v: lambda: F.linear(v["x"], v["w"], v["b"]),
    "relu": lambda T, F, v: lambda: F.relu(v["x"]),
    "gelu": lambda T, F, v: lambda: F.gelu(v["x"]),
    "silu": lambda T, F, v: lambda: F.silu(v["x"]),
    "tanh": lambda T, F, v: lambda: v["x"].tanh(),
    "sigmoid": lambda T, F, v: lambda: v["x"].sigmoid(),
    "softmax": lambda T, F, v: lambda: F.softmax(v["x"], -1),
    "log_softmax": lambda T, F, v: lambda: F.log_softmax(v["x"], -1),
    "layer_norm": lambda T, F, v: lambda: F.layer_norm(v["x"], (64,), v["b"], v["b"]),
    "dropout": lambda T, F, v: lambda: F.dropout(v["x"], 0.1, True),
    "view": lambda T, F, v: lambda: v["x"].view(16, 32),
    "reshape": lambda T, F, v: lambda: v["x"].reshape(-1),
    "transpose": lambda T, F, v: lambda: v["x"].transpose(0, 1),
    "permute": lambda T, F, v: lambda: v["x"].permute(1, 0),
    "contiguous": lambda T, F, v: lambda: v["w"].t().contiguous(),
    "unsqueeze": lambda T, F, v: lambda: v["x"].unsqueeze(1),
    "squeeze": lambda T, F, v: lambda: v["b"].view(1, 64).squeeze(0),
    "expand": lambda T, F, v: lambda: v["b"].expand(8, 64),
    "getitem [:, 0]": lambda T, F, v: lambda: v["x"][:, 0],
    "getitem [..., :32]": lambda T, F, v: lambda: v["x"][..., :32],
    "getitem [idx]": lambda T, F, v: lambda: v["x"][v["idx"]],
    "cat": lambda T, F, v: lambda: T.cat([v["x"], v["y"]]),
    "stack": lambda T, F, v: lambda: T.stack([v["x"], v["y"]]),
    "sum(dim)": lambda T, F, v: lambda: v["x"].sum(1),
    "mean(dim)": lambda T, F, v: lambda: v["x"].mean(-1),
    "max(dim)": lambda T, F, v: lambda: v["x"].max(1),
    "argmax": lambda T, F, v: lambda: v["x"].argmax(-1),
    "masked_fill": lambda T, F, v: lambda: v["x"].masked_fill(v["mask"], 0.0),
    "where": lambda T, F, v: lambda: T.where(v["mask"], v["x"], v["y"]),
    "clamp": lambda T, F, v: lambda: v["x"].clamp(-1.0, 1.0),
    "pow": lambda T, F, v: lambda: v["x"].pow(2),
    "sqrt": lambda T, F, v: lambda: v["pos"].sqrt(),
    "rsqrt": lambda T, F, v: lambda: v["pos"].rsqrt(),
    "exp": lambda T, F, v: lambda: v["x"].exp(),
    "log": lambda T, F, v: lambda: v["pos"].log(),
    "to(float64)": lambda T, F, v: lambda: v["x"].to(T.float64),
    "zeros_like": lambda T, F, v: lambda: T.zeros_like(v["x"]),
    "ones_like": lambda T, F, v: lambda: T.ones_like(v["x"]),
    "empty": lambda T, F, v: lambda: T.empty(8, 64),
    "arange": lambda T, F, v: lambda: T.arange(64),
    "embedding": lambda T, F, v: lambda: F.embedding(v["tok"], v["w"]),
    "cross_entropy": lambda T, F, v: lambda: F.cross_entropy(v["x"], v["target"]),
    "mse_loss": lambda T, F, v: lambda: F.mse_loss(v["x"], v["y"]),
    "conv2d (1,3,8,8)": lambda T, F, v: lambda: F.conv2d(v["img"], v["filt"], padding=1),
    "max_pool2d": lambda T, F, v: lambda: F.max_pool2d(v["img"], 2),
    "batch_norm eval": lambda T, F, v: lambda: F.batch_norm(v["img"], v["rm"], v["rv"], v["bnw"], v["bnw"], False),
    "batch_norm train": lambda T, F, v: lambda: F.batch_norm(v["img"], v["rm"], v["rv"], v["bnw"], v["bnw"], True),
}


def _table_case(name, requires_grad):
    def make(T):
        return OPS[name](T, T.nn.functional, _inputs(T, requires_grad))

    return make


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
] + [(f"op {name}{suffix}", _table_case(name, grad)) for grad, suffix in ((False, ""), (True, " rg")) for name in OPS]


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
