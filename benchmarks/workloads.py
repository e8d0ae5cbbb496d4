"""The reference training workloads, written once against the torch.nn API so that the same
code builds the model in PyTorch (``lib=torch``) and in ember (``lib=ember``).

Each ``make_*`` returns ``(model, loss_fn, optimizer, batch)`` where ``batch`` is a pair of
NumPy arrays (inputs, targets); :func:`run_side_by_side` copies PyTorch's initial weights
into ember, times both training steps in one process and prints ms per step and the ratio.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time

import numpy as np

__all__ = ["mlp", "cnn", "lstm_lm", "small_ops", "run_side_by_side", "time_step", "profile"]


def mlp(lib, batch=256, hidden=1024):
    """784-hidden-hidden-10 with ReLU, cross entropy, SGD with momentum."""
    nn = lib.nn
    model = nn.Sequential(
        nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 10)
    )
    rng = np.random.default_rng(0)
    data = (rng.standard_normal((batch, 784)).astype(np.float32), rng.integers(0, 10, batch))
    return model, nn.CrossEntropyLoss(), lambda p: lib.optim.SGD(p, lr=0.01, momentum=0.9), data


def cnn(lib, batch=128, size=32):
    """Three conv3x3-BatchNorm-ReLU-MaxPool blocks on 3 x size x size inputs, then a linear classifier."""
    nn = lib.nn

    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2)]

    features = 128 * (size // 8) ** 2
    model = nn.Sequential(*block(3, 32), *block(32, 64), *block(64, 128), nn.Flatten(), nn.Linear(features, 10))
    rng = np.random.default_rng(0)
    data = (rng.standard_normal((batch, 3, size, size)).astype(np.float32), rng.integers(0, 10, batch))
    return model, nn.CrossEntropyLoss(), lambda p: lib.optim.SGD(p, lr=0.01, momentum=0.9), data


def lstm_lm(lib, vocab=10000, embed=512, hidden=512, layers=2, steps=35, batch=32):
    """Word-level language model: Embedding, LSTM, Linear to the vocabulary, cross entropy, SGD."""
    nn = lib.nn

    class LanguageModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab, embed)
            self.lstm = nn.LSTM(embed, hidden, layers)
            self.decoder = nn.Linear(hidden, vocab)

        def forward(self, tokens):
            output, _ = self.lstm(self.embedding(tokens))
            return self.decoder(output).reshape(-1, vocab)

    rng = np.random.default_rng(0)
    data = (rng.integers(0, vocab, (steps, batch)), rng.integers(0, vocab, steps * batch))
    return LanguageModel(), nn.CrossEntropyLoss(), lambda p: lib.optim.SGD(p, lr=1.0), data


def small_ops(lib, depth=20, width=64, batch=8):
    """``depth`` x (Linear ``width`` + Tanh) on a tiny batch: the per-op path, not the arithmetic."""
    nn = lib.nn
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.Tanh()]
    model = nn.Sequential(*layers, nn.Linear(width, 10))
    rng = np.random.default_rng(0)
    data = (rng.standard_normal((batch, width)).astype(np.float32), rng.integers(0, 10, batch))
    return model, nn.CrossEntropyLoss(), lambda p: lib.optim.SGD(p, lr=0.01, momentum=0.9), data


def time_step(step, synchronize, warmup=3, iterations=10):
    """Median wall time of ``step()`` in milliseconds, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        step()
    synchronize()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        step()
        synchronize()
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times))


def _trainer(model, loss_fn, optimizer, inputs, targets):
    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        return loss

    return step


def profile(step, iterations, top):
    """Print where ``iterations`` calls of ``step()`` spend their time: cProfile, ``top`` rows by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(iterations):
        step()
    profiler.disable()
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(top)


def run_side_by_side(name, make, torch_device="cpu", ember_device="cpu", warmup=3, iterations=10, **kwargs):
    """Build ``make`` in both libraries with equal weights, time a training step, print the ratio."""
    import torch

    import ember

    t_model, t_loss, t_opt, (x, y) = make(torch, **kwargs)
    e_model, e_loss, e_opt, _ = make(ember, **kwargs)
    e_model.load_state_dict({k: ember.tensor(v.detach().cpu().numpy()) for k, v in t_model.state_dict().items()})
    t_model.to(torch_device)
    e_model.to(ember_device)
    t_step, e_step = (
        _trainer(model, loss, opt(model.parameters()), convert(x, device=device), convert(y, device=device))
        for model, loss, opt, convert, device in (
            (t_model, t_loss, t_opt, torch.as_tensor, torch_device),
            (e_model, e_loss, e_opt, ember.tensor, ember_device),
        )
    )
    t_sync = torch.cuda.synchronize if torch_device.startswith("cuda") else (lambda: None)
    e_sync = ember.cuda.synchronize if ember_device.startswith("cuda") else (lambda: None)
    t_ms = time_step(t_step, t_sync, warmup, iterations)
    e_ms = time_step(e_step, e_sync, warmup, iterations)
    print(
        f"{name:10s} torch[{torch_device}] {t_ms:9.2f} ms/step   ember[{ember_device}] {e_ms:9.2f} ms/step   ratio {e_ms / t_ms:5.2f}x"
    )
    return t_ms, e_ms
