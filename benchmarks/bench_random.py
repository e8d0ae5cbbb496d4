"""Speed of ember's ``cpu`` random numbers against PyTorch's, side by side in one process.

Both frameworks draw the same samples (ember's ``cpu`` stream is PyTorch's, bit for bit), so this
times only how fast each produces them: rand, randn, randint, randperm, normal_, bernoulli_,
dropout, multinomial and the rejection samplers (poisson, _standard_gamma, binomial), each case
on ember then on PyTorch, best of ``--repeat`` in ms, ratio ember / PyTorch (below 1 means ember
is faster). Times are the process's CPU time, which a
busy machine disturbs less than the wall clock; single-threaded by default, as ember's samplers
are (``--threads`` sets PyTorch's count).

    python benchmarks/bench_random.py [--repeat 7] [--threads 1] [--only randn randperm ...]
"""

from __future__ import annotations

import argparse
import time

import torch

import ember

__all__ = ["main"]

N = 1_000_000
N_SERIAL = 100_000  # the rejection samplers' size


def _cases(T):
    """name -> a call drawing from ``T``'s default generator (``T`` is ``torch`` or ``ember``)."""
    filled = T.empty(N)
    ones = T.ones(N)
    weights = T.rand(1000)
    rates, concentrations = 20 * T.rand(N_SERIAL), 3 * T.rand(N_SERIAL)
    counts, probs = T.full((N_SERIAL,), 50.0), T.rand(N_SERIAL)
    return {
        "randn(1e6)": lambda: T.randn(N),
        "randn(1e6) float64": lambda: T.randn(N, dtype=T.float64),
        "rand(1e6)": lambda: T.rand(N),
        "rand(1e6) float64": lambda: T.rand(N, dtype=T.float64),
        "randint(1e6)": lambda: T.randint(0, 1000, (N,)),
        "randperm(1e5)": lambda: T.randperm(100_000),
        "normal_(1e6)": lambda: filled.normal_(2.0, 0.5),
        "bernoulli_(1e6)": lambda: filled.bernoulli_(0.3),
        "dropout(1e6, p=0.5)": lambda: T.nn.functional.dropout(ones, 0.5),
        "multinomial(1000, 1e4, repl.)": lambda: T.multinomial(weights, 10_000, replacement=True),
        "multinomial(1000, 100)": lambda: T.multinomial(weights, 100),
        "poisson(1e5, rates 0-20)": lambda: T.poisson(rates),
        "_standard_gamma(1e5, 0-3)": lambda: T._standard_gamma(concentrations),
        "binomial(1e5, 50, p 0-1)": lambda: T.binomial(counts, probs),
    }


def _best_ms(call, repeat):
    times = []
    for _ in range(repeat):
        start = time.process_time()
        call()
        times.append(time.process_time() - start)
    return 1e3 * min(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", nargs="*", help="substrings of the case names to run")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    ember.manual_seed(0)
    torch_cases, ember_cases = _cases(torch), _cases(ember)
    print(f"{'case':32} {'ember ms':>10} {'torch ms':>10} {'ratio':>7}")
    for name in ember_cases:
        if args.only and not any(part in name for part in args.only):
            continue
        ember_cases[name](), torch_cases[name]()  # warm-up
        ember_ms, torch_ms = _best_ms(ember_cases[name], args.repeat), _best_ms(torch_cases[name], args.repeat)
        print(f"{name:32} {ember_ms:10.2f} {torch_ms:10.2f} {ember_ms / torch_ms:7.2f}")


if __name__ == "__main__":
    main()
