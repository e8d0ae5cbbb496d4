"""The Transformer language model of ember.contrib.models against a PyTorch twin, plain and under autocast."""

from __future__ import annotations

import math

import numpy as np
import pytest
from reference import assert_close, torch

import ember
from ember.contrib.models import TransformerLanguageModel


def _twin(vocab, d_model, nhead, layers, ff, norm_first):
    nn = torch.nn

    class Twin(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Embedding(vocab, d_model)
            self.register_buffer("pe", torch.zeros(512, 1, d_model))
            self.transformer = nn.TransformerEncoder(
                nn.TransformerEncoderLayer(d_model, nhead, ff, 0.0, norm_first=norm_first),
                layers,
                enable_nested_tensor=False,
            )
            self.decoder = nn.Linear(d_model, vocab)

        def forward(self, tokens):
            mask = nn.Transformer.generate_square_subsequent_mask(tokens.shape[0])
            x = self.encoder(tokens) * math.sqrt(d_model) + self.pe[: tokens.shape[0]]
            return self.decoder(self.transformer(x, mask=mask, is_causal=True))

    return Twin()


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("autocast", [False, True])
def test_transformer_lm_matches_torch(norm_first, autocast):
    e_model = TransformerLanguageModel(
        50, d_model=16, nhead=2, num_layers=2, dim_feedforward=32, dropout=0.0, norm_first=norm_first
    )
    t_model = _twin(50, 16, 2, 2, 32, norm_first)
    t_model.pe.copy_(torch.from_numpy(e_model.pe.numpy()))
    e_model.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t_model.state_dict().items()})
    tokens = np.random.default_rng(0).integers(0, 50, (9, 3))
    targets = np.random.default_rng(1).integers(0, 50, 27)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        t_logits = t_model(torch.tensor(tokens))
        t_loss = torch.nn.functional.cross_entropy(t_logits.reshape(-1, 50), torch.tensor(targets))
    with ember.autocast("cpu", dtype=ember.bfloat16, enabled=autocast):
        e_logits = e_model(ember.tensor(tokens))
        e_loss = ember.nn.functional.cross_entropy(e_logits.reshape(-1, 50), ember.tensor(targets))
    assert e_logits.dtype.name == str(t_logits.dtype).replace("torch.", "")
    tol = {"rtol": 5e-2, "atol": 5e-2} if autocast else {}
    assert_close(e_logits.float(), t_logits.float(), **tol)
    t_loss.backward()
    e_loss.backward()
    assert_close(e_loss, t_loss, **tol)
    e_params = dict(e_model.named_parameters())
    for name, p in t_model.named_parameters():
        assert_close(
            e_params[name].grad.float(),
            p.grad.float(),
            what=f"{name} grad",
            **({"rtol": 0.1, "atol": 2e-2} if autocast else {}),
        )


def test_transformer_lm_is_causal():
    model = TransformerLanguageModel(20, d_model=8, nhead=2, num_layers=1, dim_feedforward=16, dropout=0.0).eval()
    tokens = ember.randint(0, 20, (6, 2))
    changed = tokens.clone()
    changed[4:] = (changed[4:] + 1) % 20
    assert_close(model(changed)[:4], model(tokens)[:4].detach().numpy())
