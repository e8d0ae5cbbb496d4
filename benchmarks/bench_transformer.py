"""Transformer language model training step: ember (NumPy backend) against PyTorch on the CPU.

``ember.contrib.models.TransformerLanguageModel`` (2 causal encoder layers, d_model 128, 4 heads,
feed-forward 512, vocabulary 2000) and a PyTorch twin with the same module names (so the ember
model loads the twin's state_dict), sequences of 64 tokens in batches of 16, cross entropy, Adam.
Both run in this process with the same thread count (``--threads``, set before NumPy loads).
``--autocast`` runs both steps under bfloat16 autocast (CPU) with a GradScaler. The medians of
``--repeats`` interleaved measurements (each the mean of ``--iterations`` steps) are printed.

Usage: ``python benchmarks/bench_transformer.py [--threads 1] [--iterations 5] [--repeats 3] [--autocast]
[--device cuda --dtype float16]``.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

from blas_threads import set_blas_threads


def _parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--autocast", action="store_true")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda (torch) / cuda:0 (ember) when a GPU is present")
    parser.add_argument("--dtype", default="bfloat16", help="the autocast dtype: bfloat16 or float16")
    return parser.parse_args()


SIZES = {"vocab": 2000, "d_model": 128, "nhead": 4, "layers": 2, "ff": 512, "seq": 64, "batch": 16}


def _torch_twin(torch, vocab, d_model, nhead, layers, ff):
    """PyTorch's word_language_model TransformerModel, named as the ember model names its parts."""
    nn = torch.nn

    class Twin(nn.Module):
        def __init__(self):
            super().__init__()
            self.d_model = d_model
            self.encoder = nn.Embedding(vocab, d_model)
            self.register_buffer("pe", torch.zeros(512, 1, d_model))
            self.drop = nn.Dropout(0.0)
            layer = nn.TransformerEncoderLayer(d_model, nhead, ff, 0.0)
            self.transformer = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
            self.decoder = nn.Linear(d_model, vocab)

        def forward(self, tokens):
            mask = nn.Transformer.generate_square_subsequent_mask(tokens.shape[0])
            x = self.drop(self.encoder(tokens) * math.sqrt(self.d_model) + self.pe[: tokens.shape[0]])
            return self.decoder(self.transformer(x, mask=mask, is_causal=True))

    return Twin()


def _step(lib, model, optimizer, scaler, tokens, targets, autocast, device_type, dtype):
    def step():
        optimizer.zero_grad()
        with lib.autocast(device_type, dtype=getattr(lib, dtype), enabled=autocast):
            logits = model(tokens)
            loss = lib.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        return loss

    return step


def _mean_ms(step, iterations):
    step().item()
    start = time.perf_counter()
    for _ in range(iterations):
        loss = step()
    loss.item()  # waits for the device
    return (time.perf_counter() - start) * 1000 / iterations


def main():
    args = _parse()
    set_blas_threads(args.threads)
    import numpy as np
    import torch

    import ember
    from ember.contrib.models import TransformerLanguageModel

    torch.set_num_threads(args.threads)
    s = SIZES
    t_model = _torch_twin(torch, s["vocab"], s["d_model"], s["nhead"], s["layers"], s["ff"])
    e_model = TransformerLanguageModel(s["vocab"], s["d_model"], s["nhead"], s["layers"], s["ff"], dropout=0.0)
    t_model.pe.copy_(torch.from_numpy(e_model.pe.numpy()))
    e_model.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t_model.state_dict().items()})
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, s["vocab"], (s["seq"], s["batch"]))
    targets = rng.integers(0, s["vocab"], s["seq"] * s["batch"])
    device_type = args.device.split(":")[0]
    t_device = device_type if device_type == "cpu" else f"{device_type}:0"
    t_model.to(t_device)
    e_model.to(args.device if ":" in args.device or device_type == "cpu" else f"{device_type}:0")
    e_device = e_model.decoder.weight.device
    steps = {
        "torch": _step(
            torch, t_model, torch.optim.Adam(t_model.parameters(), lr=1e-3),
            torch.amp.GradScaler(device_type, enabled=args.autocast), torch.tensor(tokens, device=t_device),
            torch.tensor(targets, device=t_device), args.autocast, device_type, args.dtype,
        ),
        "ember": _step(
            ember, e_model, ember.optim.Adam(e_model.parameters(), lr=1e-3),
            ember.amp.GradScaler(device_type, enabled=args.autocast), ember.tensor(tokens, device=e_device),
            ember.tensor(targets, device=e_device), args.autocast, device_type, args.dtype,
        ),
    }  # fmt: skip
    first = {name: step().item() for name, step in steps.items()}
    times = {name: [] for name in steps}
    for _ in range(args.repeats):
        for name, step in steps.items():
            times[name].append(_mean_ms(step, args.iterations))
    t_ms, e_ms = statistics.median(times["torch"]), statistics.median(times["ember"])
    print(
        f"device={args.device} threads={args.threads} autocast={args.autocast}:{args.dtype} "
        + " ".join(f"{k}={v}" for k, v in s.items())
    )
    print(f"first-step loss: torch {first['torch']:.5f}  ember {first['ember']:.5f}")
    print(f"transformer-lm torch {t_ms:8.2f} ms/step   ember {e_ms:8.2f} ms/step   ratio {e_ms / t_ms:5.2f}x")


if __name__ == "__main__":
    main()
