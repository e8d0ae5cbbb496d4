"""A speech model as ``deepspeech.pytorch`` and the ``torchaudio`` CTC recipes write it, run on ember
and on torch from the same weights.

A Conv1d/BatchNorm1d/Hardtanh(0, 20) front end, then a two-layer bidirectional GRU or LSTM run on
``pack_padded_sequence(enforce_sorted=False)`` and unpacked with ``pad_packed_sequence(total_length=)``,
LayerNorm and a linear head with ``log_softmax``; ``nn.CTCLoss(zero_infinity=True)`` with targets
padded ``(batch, max_len)`` or concatenated 1-D, each reduction; SGD with Nesterov momentum and
``clip_grad_norm_``; greedy decoding with ``argmax`` and ``unique_consecutive``.
"""

from __future__ import annotations

import numpy as np
import pytest
from public_programs import assert_same_models, assert_same_run, copy_weights, torch

import ember

CLASSES = 6


def build(lib, rnn):
    nn = lib.nn
    rnn_utils = lib.nn.utils.rnn

    class SpeechModel(nn.Module):
        def __init__(self, features=8, hidden=12):
            super().__init__()
            self.conv = nn.Sequential(
                nn.Conv1d(features, 16, 3, padding=1), nn.BatchNorm1d(16), nn.Hardtanh(0, 20, inplace=True)
            )
            recurrent = nn.GRU if rnn == "gru" else nn.LSTM
            self.rnn = recurrent(16, hidden, num_layers=2, bidirectional=True)
            self.fc = nn.Sequential(nn.LayerNorm(2 * hidden), nn.Linear(2 * hidden, CLASSES))

        def forward(self, x, lengths):
            x = self.conv(x).permute(2, 0, 1)  # (time, batch, channels)
            packed = rnn_utils.pack_padded_sequence(x, lengths.cpu(), enforce_sorted=False)
            out, hidden = self.rnn(packed)
            out, out_lengths = rnn_utils.pad_packed_sequence(out, total_length=x.size(0))
            return self.fc(out).log_softmax(-1), out_lengths, hidden, packed

    return SpeechModel


_rng = np.random.default_rng(0)
FEATURES = _rng.standard_normal((4, 8, 15))
LENGTHS = np.array([10, 15, 7, 12])
TARGETS = _rng.integers(1, CLASSES, (4, 5))
TARGET_LENGTHS = np.array([3, 5, 2, 4])


def train(lib, reference, rnn, reduction, targets, dtype):
    model = build(lib, rnn)().to(dtype)
    copy_weights(reference, model)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    ctc = lib.nn.CTCLoss(blank=0, reduction=reduction, zero_infinity=True)
    x, lengths = lib.tensor(FEATURES, dtype=dtype), lib.tensor(LENGTHS)
    if targets == "padded":
        target = lib.tensor(TARGETS)
    else:
        target = lib.cat([lib.tensor(t[:n]) for t, n in zip(TARGETS, TARGET_LENGTHS)])
    record = []
    for _ in range(3):
        log_probs, out_lengths, hidden, packed = model(x, lengths)
        loss = ctc(log_probs, target, out_lengths, lib.tensor(TARGET_LENGTHS))
        record.append(loss)
        optimizer.zero_grad()
        (loss.sum() if reduction == "none" else loss).backward()
        record.append(lib.nn.utils.clip_grad_norm_(model.parameters(), 400))
        optimizer.step()
        record += [log_probs, out_lengths, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices]
        record += list(hidden) if isinstance(hidden, tuple) else [hidden]
    record += [p.grad for p in model.parameters()]
    model.eval()
    with lib.no_grad():
        best = model(x, lengths)[0].argmax(-1)
    return model, record + [best, lib.unique_consecutive(best[:, 1])]


@pytest.mark.parametrize(
    "rnn, reduction, targets, dtype",
    [
        ("gru", "mean", "padded", "float32"),
        ("lstm", "mean", "concatenated", "float32"),
        ("gru", "sum", "concatenated", "float64"),
        ("lstm", "none", "padded", "float64"),
    ],
)
def test_ctc_speech_model_training_matches_torch(rnn, reduction, targets, dtype):
    torch.manual_seed(0)
    reference = build(torch, rnn)().to(getattr(torch, dtype))
    theirs, their_record = train(torch, reference, rnn, reduction, targets, getattr(torch, dtype))
    ours, our_record = train(ember, reference, rnn, reduction, targets, getattr(ember, dtype))
    assert_same_run(our_record, their_record)
    assert_same_models(ours, theirs)
