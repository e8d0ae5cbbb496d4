"""LoRA fine-tuning as Microsoft's ``loralib`` and Hugging Face's ``peft`` write it, run on ember and on
torch from the same weights.

A pretrained model frozen with ``requires_grad_(False)``; ``LoRALinear`` layers (``lora_A`` with
``kaiming_uniform_(a=sqrt(5))``, ``lora_B`` zeros, ``lora_dropout``, ``scaling = alpha / r``) put in
place of the attention projections through ``get_submodule``/``setattr``; AdamW over
``filter(lambda p: p.requires_grad, ...)``; ``train()``/``eval()`` overridden to unmerge/merge the
update into ``weight.data``; a state dict filtered by ``"lora_"`` in the name, loaded with
``strict=False`` into a fresh model (its ``missing_keys``/``unexpected_keys``).
"""

from __future__ import annotations

import copy
import math

import numpy as np
from public_programs import assert_same_models, assert_same_run, copy_weights, torch

import ember

DIM, VOCAB = 16, 13


def build(lib):
    nn, F = lib.nn, lib.nn.functional

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.q_proj, self.k_proj = nn.Linear(DIM, DIM), nn.Linear(DIM, DIM)
            self.v_proj, self.o_proj = nn.Linear(DIM, DIM), nn.Linear(DIM, DIM)

        def forward(self, x):
            q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(x)
            scores = q @ k.transpose(-2, -1) / math.sqrt(DIM)
            mask = lib.triu(lib.ones(x.shape[1], x.shape[1], dtype=lib.bool), diagonal=1)
            return self.o_proj(scores.masked_fill(mask, float("-inf")).softmax(-1) @ v)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, DIM)
            self.layers = nn.ModuleList(
                [nn.ModuleDict({"ln": nn.LayerNorm(DIM), "attn": Attention()}) for _ in range(2)]
            )
            self.head = nn.Linear(DIM, VOCAB)

        def forward(self, tokens):
            h = self.embed(tokens)
            for layer in self.layers:
                h = h + layer["attn"](layer["ln"](h))
            return self.head(h)

    class LoRALinear(nn.Linear):
        def __init__(self, base, r=4, lora_alpha=8, lora_dropout=0.1):
            super().__init__(base.in_features, base.out_features, bias=base.bias is not None)
            self.weight, self.bias = base.weight, base.bias
            self.r, self.scaling, self.merged = r, lora_alpha / r, False
            self.lora_A = nn.Parameter(self.weight.new_zeros((r, self.in_features)))
            self.lora_B = nn.Parameter(self.weight.new_zeros((self.out_features, r)))
            self.lora_dropout = nn.Dropout(p=lora_dropout)
            nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
            nn.init.zeros_(self.lora_B)

        def delta_weight(self):
            return (self.lora_B @ self.lora_A) * self.scaling

        def train(self, mode=True):
            super().train(mode)
            if mode and self.merged:
                self.weight.data -= self.delta_weight()
                self.merged = False
            elif not mode and not self.merged:
                self.weight.data += self.delta_weight()
                self.merged = True
            return self

        def forward(self, x):
            result = F.linear(x, self.weight, bias=self.bias)
            if not self.merged:
                result += (
                    self.lora_dropout(x) @ self.lora_A.transpose(0, 1) @ self.lora_B.transpose(0, 1)
                ) * self.scaling
            return result

    def inject_lora(model, targets=("q_proj", "v_proj")):
        model.requires_grad_(False)
        names = [name for name, module in model.named_modules() if name.rpartition(".")[2] in targets]
        for name in names:
            parent_name, _, child = name.rpartition(".")
            parent = model.get_submodule(parent_name)
            setattr(parent, child, LoRALinear(getattr(parent, child)))
        return model

    return Model, inject_lora


def lora_state_dict(model):
    return {k: v for k, v in model.state_dict().items() if "lora_" in k}


TOKENS = np.random.default_rng(0).integers(0, VOCAB, (3, 8))


def fine_tune(lib, pretrained, lora_init):
    Model, inject_lora = build(lib)
    model = Model()
    copy_weights(pretrained, model)
    inject_lora(model)
    copy_weights(lora_init, model)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    optimizer = lib.optim.AdamW(filter(lambda p: p.requires_grad, model.parameters()), lr=1e-2)
    tokens = lib.tensor(TOKENS)
    lib.manual_seed(0)
    record = []
    for _ in range(3):
        logits = model(tokens[:, :-1])
        loss = lib.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), tokens[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record.append(loss)
    record += [p.grad for p in model.parameters()]
    model.eval()
    with lib.no_grad():
        merged = model(tokens)
        weight = model.layers[0]["attn"].q_proj.weight.clone()
    model.train()
    with lib.no_grad():
        model.layers[0]["attn"].q_proj.lora_dropout.p = 0.0
        model.layers[1]["attn"].q_proj.lora_dropout.p = 0.0
    record += [merged, weight, model.layers[0]["attn"].q_proj.weight]

    fresh = Model()
    copy_weights(pretrained, fresh)
    inject_lora(fresh)
    result = fresh.load_state_dict(lora_state_dict(model), strict=False)
    fresh.eval()
    with lib.no_grad():
        record.append(fresh(tokens))
    return model, record, trainable, (list(result.missing_keys), list(result.unexpected_keys))


def test_lora_fine_tuning_matches_torch():
    torch.manual_seed(0)
    Model, inject_lora = build(torch)
    pretrained = Model()
    lora_init = inject_lora(copy.deepcopy(pretrained))
    theirs, their_record, their_trainable, their_keys = fine_tune(torch, pretrained, lora_init)
    ours, our_record, our_trainable, our_keys = fine_tune(ember, pretrained, lora_init)
    assert our_trainable == their_trainable and len(our_trainable) == 8
    assert our_keys == their_keys
    assert list(lora_state_dict(ours)) == list(lora_state_dict(theirs))
    assert_same_run(our_record, their_record)
    assert_same_models(ours, theirs)
    np.testing.assert_allclose(our_record[-1].numpy(), our_record[-4].numpy(), rtol=1e-5, atol=1e-6)
