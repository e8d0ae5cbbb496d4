"""Hugging Face-style GPT-2 and BERT blocks (``modeling_gpt2.py``, ``modeling_bert.py``), run on
ember and on torch from the same weights.

GPT-2: ``Conv1D`` as ``addmm``, ``gelu_new`` (the tanh form), the causal mask as a bool
``persistent=False`` buffer sliced and applied with ``where`` against ``finfo(dtype).min``, a padding
mask extended to 4-D as ``(1 - mask) * finfo(dtype).min``, tied input/output embeddings,
``model.apply(self._init_weights)`` then the scaled ``c_proj`` init, shifted-label cross-entropy, and
``past_key_values`` decoding. BERT: word/position/token-type embeddings with ``padding_idx``,
``position_ids`` and ``token_type_ids`` as ``arange(...).expand`` buffers, LayerNorm ``eps=1e-12``,
the extended attention mask, exact ``gelu``, a tanh pooler. Both in float32 and float64
(``model.to(dtype)``), three AdamW steps.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from public_programs import assert_same_models, assert_same_run, copy_weights, torch

import ember


def build(lib):
    nn = lib.nn

    def gelu_new(x):
        return 0.5 * x * (1.0 + lib.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * lib.pow(x, 3.0))))

    class Conv1D(nn.Module):
        def __init__(self, nf, nx):
            super().__init__()
            self.nf = nf
            self.weight = nn.Parameter(lib.empty(nx, nf))
            self.bias = nn.Parameter(lib.zeros(nf))
            nn.init.normal_(self.weight, std=0.02)

        def forward(self, x):
            size_out = x.size()[:-1] + (self.nf,)
            x = lib.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
            return x.view(size_out)

    class GPT2Attention(nn.Module):
        def __init__(self, n_embd, n_head, n_pos):
            super().__init__()
            self.register_buffer(
                "bias", lib.tril(lib.ones((n_pos, n_pos), dtype=lib.bool)).view(1, 1, n_pos, n_pos), persistent=False
            )
            self.register_buffer("masked_bias", lib.tensor(-1e4), persistent=False)
            self.c_attn = Conv1D(3 * n_embd, n_embd)
            self.c_proj = Conv1D(n_embd, n_embd)
            self.attn_dropout = nn.Dropout(0.0)
            self.resid_dropout = nn.Dropout(0.0)
            self.n_head, self.hd = n_head, n_embd // n_head

        def _split(self, t):
            return t.view(t.size()[:-1] + (self.n_head, self.hd)).permute(0, 2, 1, 3)

        def forward(self, x, attention_mask=None, layer_past=None):
            q, k, v = self.c_attn(x).split(self.n_head * self.hd, dim=2)
            q, k, v = self._split(q), self._split(k), self._split(v)
            if layer_past is not None:
                k = lib.cat((layer_past[0], k), dim=-2)
                v = lib.cat((layer_past[1], v), dim=-2)
            present = (k, v)
            w = lib.matmul(q, k.transpose(-1, -2))
            w = w / lib.full([], v.size(-1) ** 0.5, dtype=w.dtype, device=w.device)
            ql, kl = q.size(-2), k.size(-2)
            causal = self.bias[:, :, kl - ql : kl, :kl]
            mask_value = lib.finfo(w.dtype).min
            mask_value = lib.full([], mask_value, dtype=w.dtype, device=w.device)
            w = lib.where(causal, w.to(w.dtype), mask_value)
            if attention_mask is not None:
                w = w + attention_mask
            w = nn.functional.softmax(w, dim=-1).type(v.dtype)
            a = lib.matmul(self.attn_dropout(w), v)
            a = a.permute(0, 2, 1, 3).contiguous()
            a = a.view(a.size()[:-2] + (self.n_head * self.hd,))
            return self.resid_dropout(self.c_proj(a)), present

    class MLP(nn.Module):
        def __init__(self, inner, n_embd):
            super().__init__()
            self.c_fc = Conv1D(inner, n_embd)
            self.c_proj = Conv1D(n_embd, inner)

        def forward(self, x):
            return self.c_proj(gelu_new(self.c_fc(x)))

    class Block(nn.Module):
        def __init__(self, n_embd, n_head, n_pos):
            super().__init__()
            self.ln_1 = nn.LayerNorm(n_embd, eps=1e-5)
            self.attn = GPT2Attention(n_embd, n_head, n_pos)
            self.ln_2 = nn.LayerNorm(n_embd, eps=1e-5)
            self.mlp = MLP(4 * n_embd, n_embd)

        def forward(self, x, attention_mask=None, layer_past=None):
            a, present = self.attn(self.ln_1(x), attention_mask, layer_past)
            x = x + a
            return x + self.mlp(self.ln_2(x)), present

    class GPT2(nn.Module):
        def __init__(self, vocab=41, n_pos=16, n_embd=32, n_head=4, n_layer=2):
            super().__init__()
            self.wte = nn.Embedding(vocab, n_embd)
            self.wpe = nn.Embedding(n_pos, n_embd)
            self.h = nn.ModuleList([Block(n_embd, n_head, n_pos) for _ in range(n_layer)])
            self.ln_f = nn.LayerNorm(n_embd)
            self.lm_head = nn.Linear(n_embd, vocab, bias=False)
            self.lm_head.weight = self.wte.weight
            self.apply(self._init_weights)
            for name, p in self.named_parameters():
                if name == "c_proj.weight" or name.endswith("c_proj.weight"):
                    p.data.normal_(mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

        def _init_weights(self, module):
            if isinstance(module, (nn.Linear, Conv1D)):
                module.weight.data.normal_(mean=0.0, std=0.02)
                if module.bias is not None:
                    module.bias.data.zero_()
            elif isinstance(module, nn.Embedding):
                module.weight.data.normal_(mean=0.0, std=0.02)
            elif isinstance(module, nn.LayerNorm):
                module.bias.data.zero_()
                module.weight.data.fill_(1.0)

        def forward(self, input_ids, attention_mask=None, labels=None, past=None):
            b, s = input_ids.shape
            past_len = 0 if past is None else past[0][0].size(-2)
            position_ids = lib.arange(past_len, s + past_len, dtype=lib.long, device=input_ids.device).unsqueeze(0)
            if attention_mask is not None:
                attention_mask = attention_mask.view(b, -1)[:, None, None, :]
                attention_mask = attention_mask.to(dtype=self.wte.weight.dtype)
                attention_mask = (1.0 - attention_mask) * lib.finfo(self.wte.weight.dtype).min
            h = self.wte(input_ids) + self.wpe(position_ids)
            presents = []
            for i, blk in enumerate(self.h):
                h, p = blk(h, attention_mask, None if past is None else past[i])
                presents.append(p)
            logits = self.lm_head(self.ln_f(h))
            loss = None
            if labels is not None:
                shift_logits = logits[..., :-1, :].contiguous()
                shift_labels = labels[..., 1:].contiguous()
                loss = nn.CrossEntropyLoss()(shift_logits.view(-1, shift_logits.size(-1)), shift_labels.view(-1))
            return loss, logits, presents

    class BertEmbeddings(nn.Module):
        def __init__(self, vocab, hidden, max_pos, type_vocab):
            super().__init__()
            self.word_embeddings = nn.Embedding(vocab, hidden, padding_idx=0)
            self.position_embeddings = nn.Embedding(max_pos, hidden)
            self.token_type_embeddings = nn.Embedding(type_vocab, hidden)
            self.LayerNorm = nn.LayerNorm(hidden, eps=1e-12)
            self.dropout = nn.Dropout(0.0)
            self.register_buffer("position_ids", lib.arange(max_pos).expand((1, -1)), persistent=False)
            self.register_buffer(
                "token_type_ids", lib.zeros(self.position_ids.size(), dtype=lib.long), persistent=False
            )

        def forward(self, input_ids, token_type_ids=None):
            s = input_ids.size(1)
            position_ids = self.position_ids[:, :s]
            if token_type_ids is None:
                token_type_ids = self.token_type_ids[:, :s].expand(input_ids.shape[0], s)
            e = (
                self.word_embeddings(input_ids)
                + self.token_type_embeddings(token_type_ids)
                + self.position_embeddings(position_ids)
            )
            return self.dropout(self.LayerNorm(e))

    class BertSelfAttention(nn.Module):
        def __init__(self, hidden, nh):
            super().__init__()
            self.nh, self.hd = nh, hidden // nh
            self.query = nn.Linear(hidden, hidden)
            self.key = nn.Linear(hidden, hidden)
            self.value = nn.Linear(hidden, hidden)

        def t(self, x):
            return x.view(x.size()[:-1] + (self.nh, self.hd)).permute(0, 2, 1, 3)

        def forward(self, h, mask):
            q, k, v = self.t(self.query(h)), self.t(self.key(h)), self.t(self.value(h))
            scores = lib.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.hd) + mask
            probs = nn.functional.softmax(scores, dim=-1)
            ctx = lib.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
            return ctx.view(ctx.size()[:-2] + (self.nh * self.hd,))

    class BertLayer(nn.Module):
        def __init__(self, hidden, nh, inter):
            super().__init__()
            self.attention = BertSelfAttention(hidden, nh)
            self.attn_out = nn.Linear(hidden, hidden)
            self.ln1 = nn.LayerNorm(hidden, eps=1e-12)
            self.intermediate = nn.Linear(hidden, inter)
            self.output = nn.Linear(inter, hidden)
            self.ln2 = nn.LayerNorm(hidden, eps=1e-12)

        def forward(self, h, mask):
            a = self.ln1(self.attn_out(self.attention(h, mask)) + h)
            return self.ln2(self.output(nn.functional.gelu(self.intermediate(a))) + a)

    class Bert(nn.Module):
        def __init__(self, vocab=50, hidden=32, nh=4, inter=64, layers=2):
            super().__init__()
            self.embeddings = BertEmbeddings(vocab, hidden, 24, 2)
            self.layer = nn.ModuleList([BertLayer(hidden, nh, inter) for _ in range(layers)])
            self.pooler = nn.Linear(hidden, hidden)
            self.classifier = nn.Linear(hidden, 3)
            self.apply(self._init_weights)

        def _init_weights(self, module):
            if isinstance(module, nn.Linear):
                module.weight.data.normal_(mean=0.0, std=0.02)
                if module.bias is not None:
                    module.bias.data.zero_()
            elif isinstance(module, nn.Embedding):
                module.weight.data.normal_(mean=0.0, std=0.02)
                if module.padding_idx is not None:
                    module.weight.data[module.padding_idx].zero_()

        def get_extended_attention_mask(self, attention_mask, dtype):
            ext = attention_mask[:, None, None, :]
            ext = ext.to(dtype=dtype)
            return (1.0 - ext) * lib.finfo(dtype).min

        def forward(self, input_ids, attention_mask, token_type_ids=None, labels=None):
            h = self.embeddings(input_ids, token_type_ids)
            mask = self.get_extended_attention_mask(attention_mask, h.dtype)
            for l in self.layer:
                h = l(h, mask)
            pooled = lib.tanh(self.pooler(h[:, 0]))
            logits = self.classifier(pooled)
            return nn.functional.cross_entropy(logits, labels), logits, h

    return GPT2, Bert


def run(lib, reference, which, dtype):
    gpt2, bert = build(lib)
    model = gpt2() if which == "gpt2" else bert()
    copy_weights(reference, model)
    model.to(dtype)
    optimizer = lib.optim.AdamW(model.parameters(), lr=1e-3)
    ids = lib.tensor(np.random.default_rng(0).integers(1, 41, (3, 10)))
    attention_mask = lib.ones(3, 10, dtype=lib.long)
    attention_mask[1, 7:] = 0
    attention_mask[2, 4:] = 0
    record = []
    for _ in range(3):
        if which == "gpt2":
            loss, logits, _ = model(ids, attention_mask, labels=ids)
        else:
            loss, logits, _ = model(ids, attention_mask, labels=lib.tensor([0, 2, 1]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss, logits]
    record += [p.grad for p in model.parameters()]
    if which == "gpt2":
        model.eval()
        with lib.no_grad():
            _, _, past = model(ids[:, :6])
            _, step, _ = model(ids[:, 6:7], past=past)
            _, full, _ = model(ids[:, :7])
        record += [step[:, -1], full[:, -1]]
    return model, record


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("which", ["gpt2", "bert"])
def test_hf_model_training_matches_torch(which, dtype):
    torch.manual_seed(0)
    gpt2, bert = build(torch)
    reference = gpt2() if which == "gpt2" else bert()
    theirs, their_record = run(torch, reference, which, getattr(torch, dtype))
    ours, our_record = run(ember, reference, which, getattr(ember, dtype))
    assert_same_run(our_record, their_record)
    assert_same_models(ours, theirs)
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))  # tied embeddings counted once
    if which == "gpt2":
        assert ours.lm_head.weight is ours.wte.weight
        np.testing.assert_allclose(our_record[-2].numpy(), our_record[-1].numpy(), rtol=1e-4, atol=1e-5)
