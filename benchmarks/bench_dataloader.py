"""DataLoader throughput on a transform-bound dataset: ember with 0/N workers beside PyTorch.

Each sample is a 3x``size``x``size`` float32 image (``--size``, 64 by default) put through a deliberately costly per-sample
transform (``--rounds`` of 2-D FFT filtering in NumPy) and, optionally, a simulated read
latency (``--io-ms`` of sleep), the work that worker processes overlap. Reports the median
seconds per epoch over ``--repeats`` epochs (the four loaders measured in turn within each
repeat, so that load from other processes hits them alike) and the speed-up of workers over
the main process, for ember and for ``torch.utils.data`` on the same dataset. BLAS/FFT run
single-threaded so that the workers, not threads, give the speed-up; with CPU-bound
transforms the speed-up is bounded by the free cores. Large images with no transform
(``--size 224 --rounds 0 --batch 64``) measure instead what it costs a worker to hand its
batches to the main process.

    python benchmarks/bench_dataloader.py [--samples 256] [--size 64] [--workers 2] [--repeats 5] [--io-ms 0]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from blas_threads import set_blas_threads

set_blas_threads(1, keep_set=True)

import numpy as np  # noqa: E402


class TransformBound:
    """Map-style dataset: sample ``i`` is a seeded random image, filtered ``rounds`` times."""

    def __init__(self, samples, rounds, io_ms, size):
        self.samples, self.rounds, self.io_ms, self.size = samples, rounds, io_ms, size

    def __len__(self):
        return self.samples

    def __getitem__(self, i):
        if self.io_ms:
            time.sleep(self.io_ms / 1000)
        size = self.size
        image = np.random.default_rng(i).random((3, size, size), dtype=np.float32)
        for _ in range(self.rounds):
            spectrum = np.fft.rfft2(image)
            spectrum[:, size // 4 : 3 * size // 4] = 0
            image = np.fft.irfft2(spectrum, s=image.shape[1:]).astype(np.float32)
        return image, i % 10


def _epoch_seconds(loader):
    start = time.perf_counter()
    for _batch in loader:
        pass
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--size", type=int, default=64, help="image height and width")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--io-ms", type=float, default=0.0)
    args = parser.parse_args()

    import torch.utils.data as tud

    import ember.utils.data as eud

    dataset = TransformBound(args.samples, args.rounds, args.io_ms, args.size)
    batches = -(-args.samples // args.batch)
    loaders = {
        (name, workers): module.DataLoader(
            dataset, batch_size=args.batch, num_workers=workers, persistent_workers=workers > 0
        )
        for name, module in (("ember", eud), ("torch", tud))
        for workers in (0, args.workers)
    }
    for loader in loaders.values():  # start the persistent workers outside the timing
        _epoch_seconds(loader)
    times = {key: [] for key in loaders}
    for _ in range(args.repeats):
        for key, loader in loaders.items():
            times[key].append(_epoch_seconds(loader))
    print(
        f"{args.samples} samples of 3x{args.size}x{args.size}, {args.rounds} FFT rounds and {args.io_ms} ms of read latency each, "
        f"batch {args.batch}, {os.cpu_count()} cpus, median of {args.repeats} epochs"
    )
    for name in ("ember", "torch"):
        serial = statistics.median(times[name, 0])
        parallel = statistics.median(times[name, args.workers])
        print(
            f"{name}: num_workers=0 {serial:.3f} s/epoch ({batches / serial:.1f} batches/s), "
            f"num_workers={args.workers} {parallel:.3f} s/epoch ({batches / parallel:.1f} batches/s), "
            f"speed-up {serial / parallel:.2f}x"
        )


if __name__ == "__main__":
    main()
