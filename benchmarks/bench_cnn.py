"""Train a small CNN with ember (NumPy backend) and PyTorch (CPU) side by side; ms per step and ratio.

Blocks conv3x3-BatchNorm2d-ReLU-MaxPool2d, 3 -> 32 -> 64 -> 128 channels on 3x32x32 images, then
Linear to 10 classes, cross entropy, SGD with momentum. Both frameworks use the same thread
count (``--threads``, applied to PyTorch and to ember, whose ``set_num_threads`` sizes its own
pool and NumPy's BLAS through threadpoolctl when it is installed; the ``*_NUM_THREADS``
variables are also set before NumPy loads). Ends with a
cProfile of ember's step, top entries by cumulative and by own time.

    python benchmarks/bench_cnn.py [--batch 64] [--steps 10] [--threads 1]
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


def main():
    args = ARGS
    torch.set_num_threads(args.threads)
    ember.set_num_threads(args.threads)  # ember's pool and, through threadpoolctl, NumPy's BLAS
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
