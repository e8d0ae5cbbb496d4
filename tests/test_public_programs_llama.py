"""A Llama-style decoder as Meta's ``llama/model.py`` and Hugging Face's ``modeling_llama.py`` write
it, run on ember and on torch from the same weights.

RMSNorm computed in float32 and cast back with ``type_as``; rotary embeddings both ways: Meta's
complex form (``polar``, ``view_as_complex``, ``view_as_real``) and HF's ``rotate_half`` with
cos/sin from ``inv_freq @ position_ids`` (a ``persistent=False`` buffer); grouped-query attention
with ``repeat_kv`` (``expand`` + ``reshape``); SwiGLU; a KV cache grown with ``cat`` and sliced;
``F.scaled_dot_product_attention(is_causal=True)``; AdamW with ``clip_grad_norm_``; top-p sampling
with ``sort``/``cumsum``/boolean masking/``multinomial``/``gather`` (Meta) and
``sort``/``scatter``/``masked_fill`` (HF).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from public_programs import assert_same_models, assert_same_run, copy_weights, torch

import ember

VOCAB, DIM, HEADS, KV_HEADS = 37, 32, 4, 2


def build(lib, rope: str):
    nn, F = lib.nn, lib.nn.functional

    class RMSNorm(nn.Module):
        def __init__(self, dim, eps=1e-6):
            super().__init__()
            self.eps = eps
            self.weight = nn.Parameter(lib.ones(dim))

        def forward(self, x):
            normed = x.float() * lib.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + self.eps)
            return normed.type_as(x) * self.weight

    def precompute_freqs_cis(dim, end, theta=10000.0):
        freqs = 1.0 / (theta ** (lib.arange(0, dim, 2)[: (dim // 2)].float() / dim))
        t = lib.arange(end, device=freqs.device, dtype=lib.float32)
        freqs = lib.outer(t, freqs)
        return lib.polar(lib.ones_like(freqs), freqs)

    def apply_rotary_emb(xq, xk, freqs_cis):
        xq_ = lib.view_as_complex(xq.float().reshape(*xq.shape[:-1], -1, 2))
        xk_ = lib.view_as_complex(xk.float().reshape(*xk.shape[:-1], -1, 2))
        shape = [d if i == 1 or i == xq_.ndim - 1 else 1 for i, d in enumerate(xq_.shape)]
        freqs_cis = freqs_cis.view(*shape)
        xq_out = lib.view_as_real(xq_ * freqs_cis).flatten(3)
        xk_out = lib.view_as_real(xk_ * freqs_cis).flatten(3)
        return xq_out.type_as(xq), xk_out.type_as(xk)

    def rotate_half(x):
        x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2 :]
        return lib.cat((-x2, x1), dim=-1)

    class RotaryEmbedding(nn.Module):
        def __init__(self, dim, base=10000):
            super().__init__()
            inv_freq = 1.0 / (base ** (lib.arange(0, dim, 2, dtype=lib.int64).float() / dim))
            self.register_buffer("inv_freq", inv_freq, persistent=False)

        @lib.no_grad()
        def forward(self, x, position_ids):
            inv = self.inv_freq[None, :, None].float().expand(position_ids.shape[0], -1, 1)
            freqs = (inv @ position_ids[:, None, :].float()).transpose(1, 2)
            emb = lib.cat((freqs, freqs), dim=-1)
            return emb.cos().to(dtype=x.dtype), emb.sin().to(dtype=x.dtype)

    def repeat_kv(hidden, n_rep):
        b, h, s, d = hidden.shape
        if n_rep == 1:
            return hidden
        return hidden[:, :, None, :, :].expand(b, h, n_rep, s, d).reshape(b, h * n_rep, s, d)

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.head_dim = DIM // HEADS
            self.wq = nn.Linear(DIM, HEADS * self.head_dim, bias=False)
            self.wk = nn.Linear(DIM, KV_HEADS * self.head_dim, bias=False)
            self.wv = nn.Linear(DIM, KV_HEADS * self.head_dim, bias=False)
            self.wo = nn.Linear(HEADS * self.head_dim, DIM, bias=False)
            self.cache_k = self.cache_v = None

        def forward(self, x, start_pos, freqs_cis, cos_sin, use_cache):
            b, s, _ = x.shape
            xq = self.wq(x).view(b, s, HEADS, self.head_dim)
            xk = self.wk(x).view(b, s, KV_HEADS, self.head_dim)
            xv = self.wv(x).view(b, s, KV_HEADS, self.head_dim)
            if rope == "rotate_half":
                cos, sin = (t.unsqueeze(1) for t in cos_sin)
                q, k = xq.transpose(1, 2), xk.transpose(1, 2)
                q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
            else:
                xq, xk = apply_rotary_emb(xq, xk, freqs_cis)
                q, k = xq.transpose(1, 2), xk.transpose(1, 2)
            v = xv.transpose(1, 2)
            if use_cache:
                if start_pos == 0:
                    self.cache_k, self.cache_v = k, v
                else:
                    self.cache_k = lib.cat([self.cache_k, k], dim=2)
                    self.cache_v = lib.cat([self.cache_v, v], dim=2)
                k, v = self.cache_k[:, :, : start_pos + s], self.cache_v[:, :, : start_pos + s]
            k, v = repeat_kv(k, HEADS // KV_HEADS), repeat_kv(v, HEADS // KV_HEADS)
            if s > 1:
                out = F.scaled_dot_product_attention(q, k, v, is_causal=start_pos == 0)
            else:
                scores = lib.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_dim)
                out = lib.matmul(F.softmax(scores.float(), dim=-1).type_as(q), v)
            return self.wo(out.transpose(1, 2).contiguous().view(b, s, -1))

    class FeedForward(nn.Module):
        def __init__(self, hidden, multiple_of=16):
            super().__init__()
            hidden = int(2 * hidden / 3)
            hidden = multiple_of * ((hidden + multiple_of - 1) // multiple_of)
            self.w1 = nn.Linear(DIM, hidden, bias=False)
            self.w2 = nn.Linear(hidden, DIM, bias=False)
            self.w3 = nn.Linear(DIM, hidden, bias=False)

        def forward(self, x):
            return self.w2(F.silu(self.w1(x)) * self.w3(x))

    class TransformerBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention = Attention()
            self.feed_forward = FeedForward(4 * DIM)
            self.attention_norm, self.ffn_norm = RMSNorm(DIM), RMSNorm(DIM)

        def forward(self, x, *args):
            h = x + self.attention(self.attention_norm(x), *args)
            return h + self.feed_forward(self.ffn_norm(h))

    class Transformer(nn.Module):
        def __init__(self, n_layers=2, max_seq_len=16):
            super().__init__()
            self.tok_embeddings = nn.Embedding(VOCAB, DIM)
            self.layers = nn.ModuleList([TransformerBlock() for _ in range(n_layers)])
            self.norm = RMSNorm(DIM)
            self.output = nn.Linear(DIM, VOCAB, bias=False)
            self.freqs_cis = precompute_freqs_cis(DIM // HEADS, max_seq_len * 2)
            self.rotary_emb = RotaryEmbedding(DIM // HEADS)

        def forward(self, tokens, start_pos=0, use_cache=False):
            b, s = tokens.shape
            h = self.tok_embeddings(tokens)
            self.freqs_cis = self.freqs_cis.to(h.device)
            freqs_cis = self.freqs_cis[start_pos : start_pos + s]
            position_ids = lib.arange(start_pos, start_pos + s, device=h.device).unsqueeze(0).expand(b, -1)
            cos_sin = self.rotary_emb(h, position_ids)
            for layer in self.layers:
                h = layer(h, start_pos, freqs_cis, cos_sin, use_cache)
            return self.output(self.norm(h)).float()

    return Transformer


TOKENS = np.random.default_rng(0).integers(0, VOCAB, (3, 12))


def train(lib, reference, rope):
    model = build(lib, rope)()
    copy_weights(reference, model)
    optimizer = lib.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1, betas=(0.9, 0.95))
    tokens = lib.tensor(TOKENS)
    record = []
    for _ in range(3):
        logits = model(tokens[:, :-1])
        loss = lib.nn.functional.cross_entropy(logits.view(-1, logits.size(-1)), tokens[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        record.append(lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0))
        optimizer.step()
        record.append(loss)
    return model, record + [p.grad for p in model.parameters()]


def decode(lib, model):
    """The full forward, then the same tokens through the KV cache: a prompt and one token at a time."""
    model.eval()
    tokens = lib.tensor(TOKENS)
    with lib.inference_mode():
        full = model(tokens)
        steps = [model(tokens[:, :5], 0, True)[:, -1]]
        steps += [model(tokens[:, i : i + 1], i, True)[:, -1] for i in range(5, tokens.shape[1])]
    return full, lib.stack(steps, 1)


@pytest.mark.parametrize("rope", ["complex", "rotate_half"])
def test_llama_training_and_cached_decoding_match_torch(rope):
    torch.manual_seed(0)
    reference = build(torch, rope)()
    theirs, their_record = train(torch, reference, rope)
    ours, our_record = train(ember, reference, rope)
    assert_same_run(our_record, their_record)
    assert_same_models(ours, theirs)
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()] == ["rotary_emb.inv_freq"]
    (full, cached), (their_full, their_cached) = decode(ember, ours), decode(torch, theirs)
    assert_same_run([full, cached], [their_full, their_cached])
    np.testing.assert_allclose(cached.numpy(), full.numpy()[:, 4:], rtol=1e-4, atol=1e-5)


def sample_top_p(lib, probs, p):
    """Meta's llama/generation.py: keep the smallest prefix of the sorted probabilities above ``p``."""
    probs_sort, probs_idx = lib.sort(probs, dim=-1, descending=True)
    probs_sum = lib.cumsum(probs_sort, dim=-1)
    mask = probs_sum - probs_sort > p
    probs_sort[mask] = 0.0
    probs_sort.div_(probs_sort.sum(dim=-1, keepdim=True))
    next_token = lib.multinomial(probs_sort, num_samples=1)
    return lib.gather(probs_idx, -1, next_token), probs_sort


def top_p_warper(lib, logits, top_p, min_tokens_to_keep=1):
    """Hugging Face's TopPLogitsWarper."""
    sorted_logits, sorted_indices = lib.sort(logits, descending=False)
    cumulative_probs = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    sorted_indices_to_remove = cumulative_probs <= (1 - top_p)
    sorted_indices_to_remove[..., -min_tokens_to_keep:] = 0
    indices_to_remove = sorted_indices_to_remove.scatter(1, sorted_indices, sorted_indices_to_remove)
    return logits.masked_fill(indices_to_remove, -float("inf"))


def test_top_p_sampling_matches_torch():
    logits = np.random.default_rng(1).standard_normal((4, VOCAB)).astype(np.float32) * 3
    logits[3] = -10.0
    logits[3, 7] = 10.0  # one token holds (almost) all the mass: the sample is certain
    runs = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        x = lib.tensor(logits)
        token, kept = sample_top_p(lib, lib.softmax(x / 0.8, dim=-1), 0.9)
        warped = top_p_warper(lib, x, 0.9)
        probs = lib.nn.functional.softmax(warped, dim=-1)
        sampled = lib.multinomial(probs, num_samples=1).squeeze(1)
        runs.append([kept, warped, probs, token.dtype, token[3], sampled.dtype, sampled[3]])
    assert_same_run(*runs)
