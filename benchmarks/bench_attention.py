"""Fused against portable scaled dot-product attention on each present backend, with PyTorch's
``scaled_dot_product_attention`` on the CPU alongside.

For each device (``cpu``, every OpenCL device, ``cuda:0`` when present) and each size
``B, H, L = S, E`` (``--sizes``), the backend's kernels are called directly, so that the
figures are the kernels' and not autograd's: the portable pair (``attention_forward`` +
``attention_backward``, which keep the ``(L, S)`` probabilities) and the fused hook
(``fused_attention_forward`` + ``fused_attention_backward``, where
``fused_attention_supports`` says True). Forward alone and forward + backward, with and
without the causal flag (the portable path gets the causal mask as an additive bias, as
``F.scaled_dot_product_attention`` builds it). The two are alternated in one process,
``--rounds`` times; the device is synchronised before every clock read; medians in ms and the
ratio fused / portable (below 1: the fused kernels are faster). The dtype is float32, and
float16 on CUDA (cuDNN's fused SDPA takes 16-bit types only).

    python benchmarks/bench_attention.py [--sizes 8x8x128x64,8x8x512x64] [--rounds 5]
        [--devices cpu,opencl:0] [--no-causal]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import ember

try:
    import torch
except ImportError:  # the torch column is left out without it
    torch = None


def _devices(wanted):
    """(name, backend) of each present device (or of those in ``wanted``)."""
    names = ["cpu"]
    for kind in ("opencl", "cuda"):
        try:
            backend = ember.backends.get_backend(kind)
            names += [f"{kind}:{i}" for i in range(backend.device_count())]
        except Exception as exc:  # noqa: BLE001 - report and go on without it
            print(f"{kind}: unavailable ({exc})")
    if wanted:
        names = [n for n in names if n in wanted]
    return [(n, ember.backends.get_backend(n)) for n in names]


def _clock(sync, fn, rounds_out):
    sync()
    start = time.perf_counter()
    fn()
    sync()
    rounds_out.append((time.perf_counter() - start) * 1e3)


def _cases(device, backend, dtype, B, H, L, E, causal):
    """(name, forward, forward + backward) callables for the portable and the fused kernels."""
    kernels = backend.kernels
    q, k, v, g = (ember.randn(B, H, L, E, device=device, dtype=dtype)._data for _ in range(4))
    scale = 1.0 / math.sqrt(E)
    bias = None
    if causal:
        future = ember.ones((L, L), dtype=ember.bool, device=device).triu(1)
        bias = ember.zeros((L, L), dtype=dtype, device=device).masked_fill(future, float("-inf"))
        bias = bias.expand((B, H, L, L))._data

    def portable_fwd():
        return kernels.attention_forward(q, k, v, bias, scale, None)

    def portable_both():
        out, probs = portable_fwd()
        return kernels.attention_backward(g, None, q, k, v, probs, scale, None)

    cases = [("portable", portable_fwd, portable_both)]
    if kernels.fused_attention_supports(q, k, v, None, causal, scale, 0.0):

        def fused_fwd():
            return kernels.fused_attention_forward(q, k, v, None, causal, scale)

        def fused_both():
            out, stats = fused_fwd()
            return kernels.fused_attention_backward(g, q, k, v, None, causal, scale, out, stats, False)

        cases.append(("fused", fused_fwd, fused_both))
    return cases


def _torch_cases(B, H, L, E, causal):
    q, k, v, g = (torch.randn(B, H, L, E) for _ in range(4))
    qg, kg, vg = (t.clone().requires_grad_() for t in (q, k, v))

    def fwd():
        with torch.no_grad():
            return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)

    def both():
        out = torch.nn.functional.scaled_dot_product_attention(qg, kg, vg, is_causal=causal)
        return torch.autograd.grad(out, (qg, kg, vg), g)

    return [("torch", fwd, both)]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="8x8x128x64,8x8x512x64", help="B x H x L(=S) x E, comma-separated")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--devices", default="", help="comma-separated; default: every present device")
    parser.add_argument("--no-causal", action="store_true", help="time without the causal flag only")
    args = parser.parse_args()
    sizes = [tuple(int(x) for x in s.split("x")) for s in args.sizes.split(",")]
    devices = _devices([d for d in args.devices.split(",") if d])
    print(f"threads: torch {torch.get_num_threads() if torch else '-'}; medians of {args.rounds} rounds, ms")
    print(f"{'device':<10} {'dtype':<8} {'size':<14} {'causal':<6} {'path':<9} {'forward':>9} {'fwd+bwd':>9}"
          f" {'fwd ratio':>10} {'both ratio':>10}")  # fmt: skip
    for device, backend in devices:
        dtypes = [ember.float32] + ([ember.float16] if device.startswith("cuda") else [])
        index = int(device.split(":")[1]) if ":" in device else None
        sync = lambda b=backend, i=index: b.synchronize(i)  # noqa: E731
        for dtype in dtypes:
            for B, H, L, E in sizes:
                for causal in (False,) if args.no_causal else (False, True):
                    cases = _cases(device, backend, dtype, B, H, L, E, causal)
                    if device == "cpu" and torch is not None and dtype is ember.float32:
                        cases += _torch_cases(B, H, L, E, causal)
                    times = {name: ([], []) for name, _, _ in cases}
                    for _, fwd, both in cases:  # warm-up: kernel builds, caches
                        fwd(), both()
                    for _ in range(args.rounds):
                        for name, fwd, both in cases:
                            _clock(sync, fwd, times[name][0])
                            _clock(sync, both, times[name][1])
                    base = [statistics.median(t) for t in times["portable"]]
                    for name, (tf, tb) in times.items():
                        f, b = statistics.median(tf), statistics.median(tb)
                        print(f"{device:<10} {str(dtype).split('.')[-1]:<8} {f'{B}x{H}x{L}x{E}':<14} "
                              f"{str(causal):<6} {name:<9} {f:9.2f} {b:9.2f} {f / base[0]:10.2f} {b / base[1]:10.2f}")  # fmt: skip
                    if "fused" not in times:
                        print(f"{device:<10} {'':<8} {'':<14} {'':<6} fused: not served here (portable only)")


if __name__ == "__main__":
    main()
