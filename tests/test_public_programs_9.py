"""Public programs, round 9: condensed versions of programs people write and run today, each run on ember
and on torch from the same seeds (or weights copied with ``state_dict``), comparing outputs, losses,
gradients and the trained weights.

- Karpathy's "Neural Networks: Zero to Hero" makemore notebooks: the bigram count table filled by
  ``N[ix1, ix2] += 1`` on an int32 tensor, normalised with ``sum(1, keepdims=True)`` and sampled by
  ``multinomial(replacement=True, generator=g)``; the one-hot bigram network trained by hand
  (``W.data += -lr * W.grad``); "backprop ninja" (lecture 4): the MLP with a hand-written batch norm,
  every intermediate ``retain_grad()``-ed and its gradient derived by hand (``one_hot`` of
  ``max(1).indices``, the loop ``dC[ix] += demb[k, j]``, the fused cross-entropy and batch-norm
  backward), then trained with those gradients; and the WaveNet of lecture 5 from hand-written
  ``Linear``/``BatchNorm1d``/``FlattenConsecutive`` layers (``var`` over ``(0, 1)``, running statistics under
  ``no_grad``).
- makemore.py (karpathy/makemore): the Bigram, MLP (``roll`` of the context), RNN/GRU cells unrolled over
  time from a learned start state ``expand``-ed over the batch, the causal bag-of-words (``masked_fill`` of
  a ``tril`` buffer), trained with ``AdamW(betas=(0.9, 0.99), eps=1e-8)`` and ``ignore_index=-1``, sampled
  with top-k.
- build-nanogpt (karpathy/build-nanogpt ``train_gpt2.py``): ``GPT.from_pretrained`` from a state dict in
  Hugging Face's layout (the ``Conv1D`` weights copied ``.t()`` under ``no_grad``, the ``attn.bias``/``masked_bias``
  buffers skipped), ``NANOGPT_SCALE_INIT``, ``set_float32_matmul_precision``, ``DataLoaderLite`` views,
  gradient accumulation with ``loss.detach()`` sums, the cosine schedule, ``clip_grad_norm_``'s norm in an
  f-string, the HellaSwag row scoring (``cross_entropy(reduction="none")`` masked, ``argmin``) and top-k
  sampling with ``gather`` from a seeded ``Generator`` (under autocast from bfloat16 probabilities, many
  equal: ``topk`` takes PyTorch's choice among them); in float32 and under bfloat16 autocast.
- PointNet (fxia22/pointnet.pytorch): the input and feature STNs (identity from NumPy through ``Variable``,
  ``bmm``), the feature-transform regularizer (``norm(dim=(1, 2))``), classification and segmentation heads;
  DGCNN's ``knn``/``get_graph_feature`` (``topk`` of pairwise distances, flat advanced indexing) with its
  label-smoothed loss by ``scatter``; PointNet++'s farthest point sampling and ball query (boolean-mask
  assignment, ``sort``, ``index_points`` by ``repeat``-ed batch indices).
- Grad-CAM (pytorch-grad-cam's ``ActivationsAndGradients``: forward hooks registering tensor hooks) and the
  hand-written form with ``register_full_backward_hook``; guided backprop by backward hooks that return a
  clamped ``grad_input``; a gradient-reversal ``register_full_backward_pre_hook`` used as a context manager;
  interpretability hooks on a transformer: feature extraction, a ``with_kwargs`` pre-hook that supplies
  ``src_key_padding_mask``, steering and activation patching, ``always_call``, the global module forward hook.
- Muon: Keller Jordan's ``SingleDeviceMuonWithAuxAdam`` (an ``Optimizer`` with empty defaults, bfloat16
  Newton-Schulz with ``mT``, ``lerp_`` momentum, Adam for the rest) and ``optim.Muon`` with each
  ``adjust_lr_fn`` beside AdamW and SGD.
- Meta's Llama 3 inference (``llama/model.py``, ``generation.py``) in bfloat16: RMSNorm in float32 ``type_as``,
  rotary embeddings by ``polar``/``view_as_complex``/``view_as_real``, a KV cache of ``zeros`` buffers
  written by slices (``.to(xq)``), ``repeat_kv``, the ``triu``/``hstack`` mask, ``inference_mode``, greedy and
  ``sample_top_p`` (``sort`` of bfloat16 probabilities, many equal: PyTorch's order among them), the prompt
  mask by ``where``, ``isin`` stop tokens, per-token log-probabilities by ``cross_entropy(reduction="none",
  ignore_index=pad_id)``.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
from public_programs import assert_same_run, copy_weights, torch, trained_on_both

import ember

WORDS = [
    "emma", "olivia", "ava", "isabella", "sophia", "charlotte", "mia", "amelia", "harper", "evelyn",
    "abigail", "emily", "elizabeth", "mila", "ella", "avery", "sofia", "camila", "aria", "scarlett",
    "liam", "noah", "oliver", "elijah", "james", "william", "benjamin", "lucas", "henry", "theodore",
]  # fmt: skip
CHARS = sorted(set("".join(WORDS)))
STOI = {s: i + 1 for i, s in enumerate(CHARS)}
STOI["."] = 0
ITOS = {i: s for s, i in STOI.items()}
VOCAB = len(ITOS)


def both(program, *args, rtol=2e-4, atol=2e-5):
    """``program(lib, *args)`` on ember and on torch give the same record."""
    theirs = program(torch, *args)
    ours = program(ember, *args)
    assert_same_run(ours, theirs, rtol, atol)
    return ours, theirs


# -- makemore, lecture 2: bigrams ------------------------------------------------------------------------


def bigrams(lib):
    F = lib.nn.functional
    N = lib.zeros((VOCAB, VOCAB), dtype=lib.int32)
    for w in WORDS:
        chs = ["."] + list(w) + ["."]
        for ch1, ch2 in zip(chs, chs[1:]):
            N[STOI[ch1], STOI[ch2]] += 1
    record = [N, N[0].dtype]
    P = (N + 1).float()
    P /= P.sum(1, keepdims=True)
    record.append(P)
    g = lib.Generator().manual_seed(2147483647)
    for _ in range(5):
        out = []
        ix = 0
        while True:
            p = P[ix]
            ix = lib.multinomial(p, num_samples=1, replacement=True, generator=g).item()
            out.append(ITOS[ix])
            if ix == 0:
                break
        record.append("".join(out))
    log_likelihood = 0.0
    n = 0
    for w in WORDS:
        chs = ["."] + list(w) + ["."]
        for ch1, ch2 in zip(chs, chs[1:]):
            log_likelihood += lib.log(P[STOI[ch1], STOI[ch2]])
            n += 1
    record += [log_likelihood, -log_likelihood / n]

    xs, ys = [], []
    for w in WORDS:
        chs = ["."] + list(w) + ["."]
        for ch1, ch2 in zip(chs, chs[1:]):
            xs.append(STOI[ch1])
            ys.append(STOI[ch2])
    xs, ys = lib.tensor(xs), lib.tensor(ys)
    num = xs.nelement()
    g = lib.Generator().manual_seed(2147483647)
    W = lib.randn((VOCAB, VOCAB), generator=g, requires_grad=True)
    for _ in range(8):
        xenc = F.one_hot(xs, num_classes=VOCAB).float()
        logits = xenc @ W
        counts = logits.exp()
        probs = counts / counts.sum(1, keepdims=True)
        loss = -probs[lib.arange(num), ys].log().mean() + 0.01 * (W**2).mean()
        record.append(loss)
        W.grad = None
        loss.backward()
        record.append(W.grad)
        W.data += -50 * W.grad
    record.append(W)
    return record


def test_makemore_bigram_counts_sampling_and_one_hot_network_as_torch():
    ours, theirs = both(bigrams)
    assert ours[3:8] == theirs[3:8]


# -- makemore, lecture 4: backprop ninja -----------------------------------------------------------------


def build_dataset(lib, words, block_size):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = STOI[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return lib.tensor(X), lib.tensor(Y)


def backprop_ninja(lib):
    F = lib.nn.functional
    block_size, n_embd, n_hidden, batch_size = 3, 4, 24, 16
    Xtr, Ytr = build_dataset(lib, WORDS, block_size)
    lib.manual_seed(0)
    g = lib.Generator().manual_seed(2147483647)
    C = lib.randn((VOCAB, n_embd), generator=g)
    W1 = lib.randn((n_embd * block_size, n_hidden), generator=g) * (5 / 3) / ((n_embd * block_size) ** 0.5)
    b1 = lib.randn(n_hidden, generator=g) * 0.1
    W2 = lib.randn((n_hidden, VOCAB), generator=g) * 0.1
    b2 = lib.randn(VOCAB, generator=g) * 0.1
    bngain = lib.randn((1, n_hidden)) * 0.1 + 1.0
    bnbias = lib.randn((1, n_hidden)) * 0.1
    parameters = [C, W1, b1, W2, b2, bngain, bnbias]
    record = [sum(p.nelement() for p in parameters)]
    for p in parameters:
        p.requires_grad = True

    n = batch_size
    ix = lib.randint(0, Xtr.shape[0], (batch_size,), generator=g)
    Xb, Yb = Xtr[ix], Ytr[ix]

    emb = C[Xb]
    embcat = emb.view(emb.shape[0], -1)
    hprebn = embcat @ W1 + b1
    bnmeani = 1 / n * hprebn.sum(0, keepdim=True)
    bndiff = hprebn - bnmeani
    bndiff2 = bndiff**2
    bnvar = 1 / (n - 1) * (bndiff2).sum(0, keepdim=True)
    bnvar_inv = (bnvar + 1e-5) ** -0.5
    bnraw = bndiff * bnvar_inv
    hpreact = bngain * bnraw + bnbias
    h = lib.tanh(hpreact)
    logits = h @ W2 + b2
    logit_maxes = logits.max(1, keepdim=True).values
    norm_logits = logits - logit_maxes
    counts = norm_logits.exp()
    counts_sum = counts.sum(1, keepdims=True)
    counts_sum_inv = counts_sum**-1
    probs = counts * counts_sum_inv
    logprobs = probs.log()
    loss = -logprobs[range(n), Yb].mean()

    for p in parameters:
        p.grad = None
    intermediates = [logprobs, probs, counts, counts_sum, counts_sum_inv, norm_logits, logit_maxes, logits, h]
    intermediates += [hpreact, bnraw, bnvar_inv, bnvar, bndiff2, bndiff, hprebn, bnmeani, embcat, emb]
    for t in intermediates:
        t.retain_grad()
    loss.backward()
    record.append(loss)

    # exercise 1: every step by hand
    dlogprobs = lib.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -1.0 / n
    dprobs = (1.0 / probs) * dlogprobs
    dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
    dcounts = counts_sum_inv * dprobs
    dcounts_sum = (-(counts_sum**-2)) * dcounts_sum_inv
    dcounts += lib.ones_like(counts) * dcounts_sum
    dnorm_logits = counts * dcounts
    dlogits = dnorm_logits.clone()
    dlogit_maxes = (-dnorm_logits).sum(1, keepdim=True)
    dlogits += F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = (1.0 - h**2) * dh
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = bngain * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbndiff = bnvar_inv * dbnraw
    dbnvar_inv = (bndiff * dbnraw).sum(0, keepdim=True)
    dbnvar = (-0.5 * (bnvar + 1e-5) ** -1.5) * dbnvar_inv
    dbndiff2 = (1.0 / (n - 1)) * lib.ones_like(bndiff2) * dbnvar
    dbndiff += (2 * bndiff) * dbndiff2
    dhprebn = dbndiff.clone()
    dbnmeani = (-dbndiff).sum(0)
    dhprebn += 1.0 / n * (lib.ones_like(hprebn) * dbnmeani)
    dembcat = dhprebn @ W1.T
    dW1 = embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(emb.shape)
    dC = lib.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            ix = Xb[k, j]
            dC[ix] += demb[k, j]

    def cmp(dt, t):
        record.extend([dt, t.grad, lib.allclose(dt, t.grad, rtol=1e-4, atol=1e-6)])

    for dt, t in [(dlogprobs, logprobs), (dprobs, probs), (dcounts_sum_inv, counts_sum_inv), (dcounts, counts)]:
        cmp(dt, t)
    for dt, t in [(dnorm_logits, norm_logits), (dlogit_maxes, logit_maxes), (dlogits, logits), (dh, h)]:
        cmp(dt, t)
    for dt, t in [(dW2, W2), (db2, b2), (dhpreact, hpreact), (dbngain, bngain), (dbnbias, bnbias)]:
        cmp(dt, t)
    for dt, t in [(dbnraw, bnraw), (dbnvar_inv, bnvar_inv), (dbnvar, bnvar), (dbndiff2, bndiff2)]:
        cmp(dt, t)
    for dt, t in [(dbndiff, bndiff), (dbnmeani, bnmeani), (dhprebn, hprebn), (dembcat, embcat)]:
        cmp(dt, t)
    for dt, t in [(dW1, W1), (db1, b1), (demb, emb), (dC, C)]:
        cmp(dt, t)

    # exercise 2: cross-entropy in one go
    loss_fast = F.cross_entropy(logits, Yb)
    record.append((loss_fast - loss).abs() < 1e-6)
    dlogits = F.softmax(logits, 1)
    dlogits[range(n), Yb] -= 1
    dlogits /= n
    cmp(dlogits, logits)

    # exercise 3: batch norm in one go
    hpreact_fast = (
        bngain * (hprebn - hprebn.mean(0, keepdim=True)) / lib.sqrt(hprebn.var(0, keepdim=True, unbiased=True) + 1e-5)
        + bnbias
    )
    record.append(hpreact_fast)
    dhprebn = (
        bngain * bnvar_inv / n * (n * dhpreact - dhpreact.sum(0) - n / (n - 1) * bnraw * (dhpreact * bnraw).sum(0))
    )
    cmp(dhprebn, hprebn)

    # exercise 4: train with the hand-written backward pass
    with lib.no_grad():
        for i in range(6):
            ix = lib.randint(0, Xtr.shape[0], (batch_size,), generator=g)
            Xb, Yb = Xtr[ix], Ytr[ix]
            emb = C[Xb]
            embcat = emb.view(emb.shape[0], -1)
            hprebn = embcat @ W1 + b1
            bnmean = hprebn.mean(0, keepdim=True)
            bnvar = hprebn.var(0, keepdim=True, unbiased=True)
            bnvar_inv = (bnvar + 1e-5) ** -0.5
            bnraw = (hprebn - bnmean) * bnvar_inv
            hpreact = bngain * bnraw + bnbias
            h = lib.tanh(hpreact)
            logits = h @ W2 + b2
            loss = F.cross_entropy(logits, Yb)
            dlogits = F.softmax(logits, 1)
            dlogits[range(n), Yb] -= 1
            dlogits /= n
            dh = dlogits @ W2.T
            dW2 = h.T @ dlogits
            db2 = dlogits.sum(0)
            dhpreact = (1.0 - h**2) * dh
            dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
            dbnbias = dhpreact.sum(0, keepdim=True)
            dhprebn = (
                bngain
                * bnvar_inv
                / n
                * (n * dhpreact - dhpreact.sum(0) - n / (n - 1) * bnraw * (dhpreact * bnraw).sum(0))
            )
            dembcat = dhprebn @ W1.T
            dW1 = embcat.T @ dhprebn
            db1 = dhprebn.sum(0)
            demb = dembcat.view(emb.shape)
            dC = lib.zeros_like(C)
            for k in range(Xb.shape[0]):
                for j in range(Xb.shape[1]):
                    dC[Xb[k, j]] += demb[k, j]
            grads = [dC, dW1, db1, dW2, db2, dbngain, dbnbias]
            lr = 0.1 if i < 4 else 0.01
            for p, grad in zip(parameters, grads):
                p.data += -lr * grad
            record.append(loss.item())

        # calibrate the batch norm at the end of training, then sample
        emb = C[Xtr]
        embcat = emb.view(emb.shape[0], -1)
        hpreact = embcat @ W1 + b1
        bnmean = hpreact.mean(0, keepdim=True)
        bnvar = hpreact.var(0, keepdim=True, unbiased=True)
        record += [bnmean, bnvar]
        g = lib.Generator().manual_seed(2147483647 + 10)
        for _ in range(4):
            out = []
            context = [0] * block_size
            while True:
                emb = C[lib.tensor([context])]
                embcat = emb.view(emb.shape[0], -1)
                hpreact = embcat @ W1 + b1
                hpreact = bngain * (hpreact - bnmean) * (bnvar + 1e-5) ** -0.5 + bnbias
                h = lib.tanh(hpreact)
                logits = h @ W2 + b2
                probs = F.softmax(logits, dim=1)
                ix = lib.multinomial(probs, num_samples=1, generator=g).item()
                context = context[1:] + [ix]
                out.append(ix)
                if ix == 0 or len(out) > 12:
                    break
            record.append("".join(ITOS[i] for i in out))
    record += parameters
    return record


def test_makemore_backprop_ninja_as_torch():
    ours, _ = both(backprop_ninja)
    assert all(x for x in ours if isinstance(x, bool))


# -- makemore, lecture 5: a WaveNet from hand-written layers ---------------------------------------------


def wavenet(lib):
    F = lib.nn.functional

    class Linear:
        def __init__(self, fan_in, fan_out, bias=True):
            self.weight = lib.randn((fan_in, fan_out)) / fan_in**0.5
            self.bias = lib.zeros(fan_out) if bias else None

        def __call__(self, x):
            self.out = x @ self.weight
            if self.bias is not None:
                self.out += self.bias
            return self.out

        def parameters(self):
            return [self.weight] + ([] if self.bias is None else [self.bias])

    class BatchNorm1d:
        def __init__(self, dim, eps=1e-5, momentum=0.1):
            self.eps = eps
            self.momentum = momentum
            self.training = True
            self.gamma = lib.ones(dim)
            self.beta = lib.zeros(dim)
            self.running_mean = lib.zeros(dim)
            self.running_var = lib.ones(dim)

        def __call__(self, x):
            if self.training:
                if x.ndim == 2:
                    dim = 0
                elif x.ndim == 3:
                    dim = (0, 1)
                xmean = x.mean(dim, keepdim=True)
                xvar = x.var(dim, keepdim=True)
            else:
                xmean = self.running_mean
                xvar = self.running_var
            xhat = (x - xmean) / lib.sqrt(xvar + self.eps)
            self.out = self.gamma * xhat + self.beta
            if self.training:
                with lib.no_grad():
                    self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * xmean
                    self.running_var = (1 - self.momentum) * self.running_var + self.momentum * xvar
            return self.out

        def parameters(self):
            return [self.gamma, self.beta]

    class Tanh:
        def __call__(self, x):
            self.out = lib.tanh(x)
            return self.out

        def parameters(self):
            return []

    class Embedding:
        def __init__(self, num_embeddings, embedding_dim):
            self.weight = lib.randn((num_embeddings, embedding_dim))

        def __call__(self, IX):
            self.out = self.weight[IX]
            return self.out

        def parameters(self):
            return [self.weight]

    class FlattenConsecutive:
        def __init__(self, n):
            self.n = n

        def __call__(self, x):
            B, T, C = x.shape
            x = x.view(B, T // self.n, C * self.n)
            if x.shape[1] == 1:
                x = x.squeeze(1)
            self.out = x
            return self.out

        def parameters(self):
            return []

    class Sequential:
        def __init__(self, layers):
            self.layers = layers

        def __call__(self, x):
            for layer in self.layers:
                x = layer(x)
            self.out = x
            return self.out

        def parameters(self):
            return [p for layer in self.layers for p in layer.parameters()]

    block_size, n_embd, n_hidden, batch_size = 8, 6, 16, 12
    Xtr, Ytr = build_dataset(lib, WORDS, block_size)
    lib.manual_seed(42)
    model = Sequential([
        Embedding(VOCAB, n_embd),
        FlattenConsecutive(2), Linear(n_embd * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
        FlattenConsecutive(2), Linear(n_hidden * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
        FlattenConsecutive(2), Linear(n_hidden * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
        Linear(n_hidden, VOCAB),
    ])  # fmt: skip
    with lib.no_grad():
        model.layers[-1].weight *= 0.1
    parameters = model.parameters()
    record = [sum(p.nelement() for p in parameters)]
    for p in parameters:
        p.requires_grad = True
    lossi = []
    for i in range(8):
        ix = lib.randint(0, Xtr.shape[0], (batch_size,))
        Xb, Yb = Xtr[ix], Ytr[ix]
        logits = model(Xb)
        loss = F.cross_entropy(logits, Yb)
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < 6 else 0.01
        for p in parameters:
            p.data += -lr * p.grad
        lossi.append(loss.log10().item())
    record.append(lib.tensor(lossi).view(-1, 4).mean(1))
    record += [list(layer.out.shape) for layer in model.layers]
    for layer in model.layers:
        layer.training = False
        if isinstance(layer, BatchNorm1d):
            record += [layer.running_mean, layer.running_var]

    @lib.no_grad()
    def split_loss():
        logits = model(Xtr)
        return F.cross_entropy(logits, Ytr).item()

    record.append(split_loss())
    record += parameters
    return record


def test_makemore_wavenet_from_hand_written_layers_as_torch():
    both(wavenet)


# -- makemore.py -----------------------------------------------------------------------------------------


def build_makemore(lib, model_type, block_size=16, vocab_size=VOCAB, n_embd=8, n_embd2=12):
    nn, F = lib.nn, lib.nn.functional

    class CausalBoW(nn.Module):
        def __init__(self):
            super().__init__()
            self.block_size = block_size
            self.register_buffer("bias", lib.tril(lib.ones(block_size, block_size)).view(1, block_size, block_size))

        def forward(self, x):
            B, T, C = x.size()
            att = lib.zeros((B, T, T), device=x.device)
            att = att.masked_fill(self.bias[:, :T, :T] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            y = att @ x
            return y

    class BoWBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.cbow = CausalBoW()
            self.mlp = nn.ModuleDict(dict(c_fc=nn.Linear(n_embd, n_embd2), c_proj=nn.Linear(n_embd2, n_embd)))
            m = self.mlp
            self.mlpf = lambda x: m.c_proj(F.tanh(m.c_fc(x)))

        def forward(self, x):
            x = x + self.cbow(x)
            x = x + self.mlpf(x)
            return x

    class Base(nn.Module):
        def get_block_size(self):
            return self.block_size

        def loss(self, logits, targets):
            if targets is None:
                return None
            return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)

    class BoW(Base):
        def __init__(self):
            super().__init__()
            self.block_size = block_size
            self.vocab_size = vocab_size
            self.wte = nn.Embedding(vocab_size, n_embd)
            self.wpe = nn.Embedding(block_size, n_embd)
            self.context_block = BoWBlock()
            self.lm_head = nn.Linear(n_embd, self.vocab_size)

        def forward(self, idx, targets=None):
            device = idx.device
            b, t = idx.size()
            assert t <= self.block_size, f"Cannot forward sequence of length {t}, block size is only {self.block_size}"
            pos = lib.arange(0, t, dtype=lib.long, device=device).unsqueeze(0)
            x = self.wte(idx) + self.wpe(pos)
            x = self.context_block(x)
            logits = self.lm_head(x)
            return logits, self.loss(logits, targets)

    class RNNCell(nn.Module):
        def __init__(self):
            super().__init__()
            self.xh_to_h = nn.Linear(n_embd + n_embd2, n_embd2)

        def forward(self, xt, hprev):
            xh = lib.cat([xt, hprev], dim=1)
            ht = F.tanh(self.xh_to_h(xh))
            return ht

    class GRUCell(nn.Module):
        def __init__(self):
            super().__init__()
            self.xh_to_z = nn.Linear(n_embd + n_embd2, n_embd2)
            self.xh_to_r = nn.Linear(n_embd + n_embd2, n_embd2)
            self.xh_to_hbar = nn.Linear(n_embd + n_embd2, n_embd2)

        def forward(self, xt, hprev):
            xh = lib.cat([xt, hprev], dim=1)
            r = F.sigmoid(self.xh_to_r(xh))
            hprev_reset = r * hprev
            xhr = lib.cat([xt, hprev_reset], dim=1)
            hbar = F.tanh(self.xh_to_hbar(xhr))
            z = F.sigmoid(self.xh_to_z(xh))
            ht = (1 - z) * hprev + z * hbar
            return ht

    class RNN(Base):
        def __init__(self, cell_type):
            super().__init__()
            self.block_size = block_size
            self.vocab_size = vocab_size
            self.start = nn.Parameter(lib.zeros(1, n_embd2))
            self.wte = nn.Embedding(vocab_size, n_embd)
            if cell_type == "rnn":
                self.cell = RNNCell()
            elif cell_type == "gru":
                self.cell = GRUCell()
            self.lm_head = nn.Linear(n_embd2, self.vocab_size)

        def forward(self, idx, targets=None):
            b, t = idx.size()
            emb = self.wte(idx)
            hprev = self.start.expand((b, -1))
            hiddens = []
            for i in range(t):
                xt = emb[:, i, :]
                ht = self.cell(xt, hprev)
                hprev = ht
                hiddens.append(ht)
            hidden = lib.stack(hiddens, 1)
            logits = self.lm_head(hidden)
            return logits, self.loss(logits, targets)

    class MLP(Base):
        def __init__(self):
            super().__init__()
            self.block_size = 4
            self.vocab_size = vocab_size
            self.wte = nn.Embedding(vocab_size + 1, n_embd)
            self.mlp = nn.Sequential(
                nn.Linear(self.block_size * n_embd, n_embd2), nn.Tanh(), nn.Linear(n_embd2, self.vocab_size)
            )

        def forward(self, idx, targets=None):
            embs = []
            for _k in range(self.block_size):
                tok_emb = self.wte(idx)
                idx = lib.roll(idx, 1, 1)
                idx[:, 0] = self.vocab_size
                embs.append(tok_emb)
            x = lib.cat(embs, -1)
            logits = self.mlp(x)
            return logits, self.loss(logits, targets)

    class Bigram(Base):
        def __init__(self):
            super().__init__()
            n = vocab_size
            self.block_size = 1
            self.logits = nn.Parameter(lib.zeros((n, n)))

        def forward(self, idx, targets=None):
            logits = self.logits[idx]
            return logits, self.loss(logits, targets)

    return {
        "bigram": Bigram,
        "mlp": MLP,
        "rnn": lambda: RNN("rnn"),
        "gru": lambda: RNN("gru"),
        "bow": BoW,
    }[model_type]


def train_makemore(lib, reference, model_type):
    data = lib.utils.data
    DataLoader = data.DataLoader

    class CharDataset(data.Dataset):
        def __init__(self, words, chars, max_word_length):
            self.words = words
            self.chars = chars
            self.max_word_length = max_word_length
            self.stoi = {ch: i + 1 for i, ch in enumerate(chars)}
            self.itos = {i: s for s, i in self.stoi.items()}

        def __len__(self):
            return len(self.words)

        def get_output_length(self):
            return self.max_word_length + 1

        def encode(self, word):
            return lib.tensor([self.stoi[w] for w in word], dtype=lib.long)

        def decode(self, ix):
            return "".join(self.itos[i] for i in ix)

        def __getitem__(self, idx):
            word = self.words[idx]
            ix = self.encode(word)
            x = lib.zeros(self.max_word_length + 1, dtype=lib.long)
            y = lib.zeros(self.max_word_length + 1, dtype=lib.long)
            x[1 : 1 + len(ix)] = ix
            y[: len(ix)] = ix
            y[len(ix) + 1 :] = -1
            return x, y

    class InfiniteDataLoader:
        def __init__(self, dataset, **kwargs):
            train_sampler = data.RandomSampler(dataset, replacement=True, num_samples=int(1e10))
            self.train_loader = DataLoader(dataset, sampler=train_sampler, **kwargs)
            self.data_iter = iter(self.train_loader)

        def next(self):
            try:
                batch = next(self.data_iter)
            except StopIteration:
                self.data_iter = iter(self.train_loader)
                batch = next(self.data_iter)
            return batch

    F = lib.nn.functional

    @lib.no_grad()
    def generate(model, idx, max_new_tokens, temperature=1.0, do_sample=False, top_k=None):
        block_size = model.get_block_size()
        for _ in range(max_new_tokens):
            idx_cond = idx if idx.size(1) <= block_size else idx[:, -block_size:]
            logits, _ = model(idx_cond)
            logits = logits[:, -1, :] / temperature
            if top_k is not None:
                v, _ = lib.topk(logits, top_k)
                logits[logits < v[:, [-1]]] = -float("Inf")
            probs = F.softmax(logits, dim=-1)
            if do_sample:
                idx_next = lib.multinomial(probs, num_samples=1)
            else:
                _, idx_next = lib.topk(probs, k=1, dim=-1)
            idx = lib.cat((idx, idx_next), dim=1)
        return idx

    @lib.inference_mode()
    def evaluate(model, dataset, batch_size=8, max_batches=None):
        model.eval()
        loader = DataLoader(dataset, shuffle=True, batch_size=batch_size, num_workers=0)
        losses = []
        for i, batch in enumerate(loader):
            X, Y = [t.to("cpu") for t in batch]
            logits, loss = model(X, Y)
            losses.append(loss.item())
            if max_batches is not None and i >= max_batches:
                break
        mean_loss = lib.tensor(losses).mean().item()
        model.train()
        return mean_loss

    lib.manual_seed(3407)
    max_word_length = max(len(w) for w in WORDS)
    train_dataset = CharDataset(WORDS[:24], CHARS, max_word_length)
    test_dataset = CharDataset(WORDS[24:], CHARS, max_word_length)
    model = build_makemore(lib, model_type, block_size=train_dataset.get_output_length())()
    copy_weights(reference, model)
    record = [sum(p.numel() for p in model.parameters()), train_dataset[3][1]]
    optimizer = lib.optim.AdamW(model.parameters(), lr=5e-2, weight_decay=0.01, betas=(0.9, 0.99), eps=1e-8)
    batch_loader = InfiniteDataLoader(train_dataset, batch_size=6, pin_memory=True, num_workers=0)
    for step in range(6):
        X, Y = [t.to("cpu") for t in batch_loader.next()]
        logits, loss = model(X, Y)
        model.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        record += [X, loss]
        if step % 3 == 2:
            record += [evaluate(model, train_dataset, max_batches=2), evaluate(model, test_dataset)]
    X_init = lib.zeros(4, 1, dtype=lib.long)
    steps = train_dataset.get_output_length() - 1
    X_samp = generate(model, X_init, steps, top_k=5, do_sample=True).to("cpu")
    record.append(X_samp)
    for i in range(X_samp.size(0)):
        row = X_samp[i, 1:].tolist()
        crop_index = row.index(0) if 0 in row else len(row)
        record.append(train_dataset.decode(row[:crop_index]))
    record.append(generate(model, X_init, 5, do_sample=False))
    return model, record


@pytest.mark.filterwarnings("ignore:'pin_memory' argument is set as true")
@pytest.mark.parametrize("model_type", ["bigram", "mlp", "rnn", "gru", "bow"])
def test_makemore_models_train_and_sample_as_torch(model_type):
    trained_on_both(
        lambda lib: build_makemore(lib, model_type, block_size=max(len(w) for w in WORDS) + 1),
        lambda lib, ref: train_makemore(lib, ref, model_type),
    )


# -- build-nanogpt (karpathy/build-nanogpt train_gpt2.py) ------------------------------------------------


def build_gpt2(lib, block_size=16, vocab_size=64, n_layer=2, n_head=2, n_embd=16):
    nn, F = lib.nn, lib.nn.functional

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            assert n_embd % n_head == 0
            self.c_attn = nn.Linear(n_embd, 3 * n_embd)
            self.c_proj = nn.Linear(n_embd, n_embd)
            self.c_proj.NANOGPT_SCALE_INIT = 1
            self.n_head = n_head
            self.n_embd = n_embd

        def forward(self, x):
            B, T, C = x.size()
            qkv = self.c_attn(x)
            q, k, v = qkv.split(self.n_embd, dim=2)
            k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            y = y.transpose(1, 2).contiguous().view(B, T, C)
            return self.c_proj(y)

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc = nn.Linear(n_embd, 4 * n_embd)
            self.gelu = nn.GELU(approximate="tanh")
            self.c_proj = nn.Linear(4 * n_embd, n_embd)
            self.c_proj.NANOGPT_SCALE_INIT = 1

        def forward(self, x):
            return self.c_proj(self.gelu(self.c_fc(x)))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(n_embd)
            self.attn = CausalSelfAttention()
            self.ln_2 = nn.LayerNorm(n_embd)
            self.mlp = MLP()

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            x = x + self.mlp(self.ln_2(x))
            return x

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = nn.ModuleDict(
                dict(
                    wte=nn.Embedding(vocab_size, n_embd),
                    wpe=nn.Embedding(block_size, n_embd),
                    h=nn.ModuleList([Block() for _ in range(n_layer)]),
                    ln_f=nn.LayerNorm(n_embd),
                )
            )
            self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
            self.transformer.wte.weight = self.lm_head.weight
            self.apply(self._init_weights)

        def _init_weights(self, module):
            if isinstance(module, nn.Linear):
                std = 0.02
                if hasattr(module, "NANOGPT_SCALE_INIT"):
                    std *= (2 * n_layer) ** -0.5
                lib.nn.init.normal_(module.weight, mean=0.0, std=std)
                if module.bias is not None:
                    lib.nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                lib.nn.init.normal_(module.weight, mean=0.0, std=0.02)

        def forward(self, idx, targets=None):
            B, T = idx.size()
            assert T <= block_size, f"Cannot forward sequence of length {T}, block size is only {block_size}"
            pos = lib.arange(0, T, dtype=lib.long, device=idx.device)
            pos_emb = self.transformer.wpe(pos)
            tok_emb = self.transformer.wte(idx)
            x = tok_emb + pos_emb
            for block in self.transformer.h:
                x = block(x)
            x = self.transformer.ln_f(x)
            logits = self.lm_head(x)
            loss = None
            if targets is not None:
                loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
            return logits, loss

        @classmethod
        def from_pretrained(cls, sd_hf):
            model = GPT()
            sd = model.state_dict()
            sd_keys = sd.keys()
            sd_keys = [k for k in sd_keys if not k.endswith(".attn.bias")]
            sd_keys_hf = sd_hf.keys()
            sd_keys_hf = [k for k in sd_keys_hf if not k.endswith(".attn.masked_bias")]
            sd_keys_hf = [k for k in sd_keys_hf if not k.endswith(".attn.bias")]
            transposed = ["attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"]
            assert len(sd_keys_hf) == len(sd_keys), f"mismatched keys: {len(sd_keys_hf)} != {len(sd_keys)}"
            for k in sd_keys_hf:
                if any(k.endswith(w) for w in transposed):
                    assert sd_hf[k].shape[::-1] == sd[k].shape
                    with lib.no_grad():
                        sd[k].copy_(sd_hf[k].t())
                else:
                    assert sd_hf[k].shape == sd[k].shape
                    with lib.no_grad():
                        sd[k].copy_(sd_hf[k])
            return model

        def configure_optimizers(self, weight_decay, learning_rate, device_type):
            param_dict = {pn: p for pn, p in self.named_parameters()}
            param_dict = {pn: p for pn, p in param_dict.items() if p.requires_grad}
            decay_params = [p for n, p in param_dict.items() if p.dim() >= 2]
            nodecay_params = [p for n, p in param_dict.items() if p.dim() < 2]
            optim_groups = [
                {"params": decay_params, "weight_decay": weight_decay},
                {"params": nodecay_params, "weight_decay": 0.0},
            ]
            num_decay_params = sum(p.numel() for p in decay_params)
            num_nodecay_params = sum(p.numel() for p in nodecay_params)
            fused_available = "fused" in inspect.signature(lib.optim.AdamW).parameters
            use_fused = fused_available and device_type == "cuda"
            optimizer = lib.optim.AdamW(optim_groups, lr=learning_rate, betas=(0.9, 0.95), eps=1e-8, fused=use_fused)
            return optimizer, (num_decay_params, num_nodecay_params, use_fused)

    return GPT


def hf_state_dict(lib, n_layer=2, n_embd=16, vocab_size=64, block_size=16):
    """A GPT-2 state dict in Hugging Face's layout: ``Conv1D`` weights stored (in, out), the causal ``bias``
    and ``masked_bias`` buffers, the tied ``wte``/``lm_head``."""
    rng = np.random.default_rng(2)

    def t(*shape):
        return lib.tensor((rng.standard_normal(shape) * 0.05).astype(np.float32))

    sd = {"transformer.wte.weight": t(vocab_size, n_embd), "transformer.wpe.weight": t(block_size, n_embd)}
    for i in range(n_layer):
        p = f"transformer.h.{i}."
        sd |= {p + "ln_1.weight": 1 + t(n_embd), p + "ln_1.bias": t(n_embd)}
        sd[p + "attn.bias"] = lib.tril(lib.ones(block_size, block_size)).view(1, 1, block_size, block_size)
        sd[p + "attn.masked_bias"] = lib.tensor(-1e4)
        sd |= {p + "attn.c_attn.weight": t(n_embd, 3 * n_embd), p + "attn.c_attn.bias": t(3 * n_embd)}
        sd |= {p + "attn.c_proj.weight": t(n_embd, n_embd), p + "attn.c_proj.bias": t(n_embd)}
        sd |= {p + "ln_2.weight": 1 + t(n_embd), p + "ln_2.bias": t(n_embd)}
        sd |= {p + "mlp.c_fc.weight": t(n_embd, 4 * n_embd), p + "mlp.c_fc.bias": t(4 * n_embd)}
        sd |= {p + "mlp.c_proj.weight": t(4 * n_embd, n_embd), p + "mlp.c_proj.bias": t(n_embd)}
    sd |= {"transformer.ln_f.weight": 1 + t(n_embd), "transformer.ln_f.bias": t(n_embd)}
    sd["lm_head.weight"] = sd["transformer.wte.weight"]
    return sd


GPT2_TOKENS = np.random.default_rng(3).integers(0, 60, 400).astype(np.uint16)


def get_most_likely_row(lib, tokens, mask, logits):
    F = lib.nn.functional
    shift_logits = (logits[..., :-1, :]).contiguous()
    shift_tokens = (tokens[..., 1:]).contiguous()
    flat_shift_logits = shift_logits.view(-1, shift_logits.size(-1))
    flat_shift_tokens = shift_tokens.view(-1)
    shift_losses = F.cross_entropy(flat_shift_logits, flat_shift_tokens, reduction="none")
    shift_losses = shift_losses.view(tokens.size(0), -1)
    shift_mask = (mask[..., 1:]).contiguous()
    masked_shift_losses = shift_losses * shift_mask
    sum_loss = masked_shift_losses.sum(dim=1)
    avg_loss = sum_loss / shift_mask.sum(dim=1)
    pred_norm = avg_loss.argmin().item()
    return pred_norm, avg_loss


def train_gpt2(lib, autocast):
    F = lib.nn.functional
    GPT = build_gpt2(lib)

    class DataLoaderLite:
        def __init__(self, B, T, process_rank=0, num_processes=1):
            self.B, self.T = B, T
            self.process_rank, self.num_processes = process_rank, num_processes
            npt = GPT2_TOKENS.astype(np.int32)
            self.tokens = lib.tensor(npt, dtype=lib.long)
            self.reset()

        def reset(self):
            self.current_position = self.B * self.T * self.process_rank

        def next_batch(self):
            B, T = self.B, self.T
            buf = self.tokens[self.current_position : self.current_position + B * T + 1]
            x = (buf[:-1]).view(B, T)
            y = (buf[1:]).view(B, T)
            self.current_position += B * T * self.num_processes
            if self.current_position + (B * T * self.num_processes + 1) > len(self.tokens):
                self.current_position = B * T * self.process_rank
            return x, y

    lib.manual_seed(1337)
    lib.set_float32_matmul_precision("high")
    model = GPT.from_pretrained(hf_state_dict(lib))
    record = [model.transformer.wte.weight is model.lm_head.weight, model.transformer.h[0].attn.c_attn.weight]
    total_batch_size, B, T = 64, 2, 16
    grad_accum_steps = total_batch_size // (B * T)
    train_loader = DataLoaderLite(B=B, T=T)
    val_loader = DataLoaderLite(B=B, T=T, process_rank=3)
    max_lr, warmup_steps, max_steps = 6e-3, 2, 5
    min_lr = max_lr * 0.1

    def get_lr(it):
        if it < warmup_steps:
            return max_lr * (it + 1) / warmup_steps
        if it > max_steps:
            return min_lr
        decay_ratio = (it - warmup_steps) / (max_steps - warmup_steps)
        assert 0 <= decay_ratio <= 1
        coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
        return min_lr + coeff * (max_lr - min_lr)

    optimizer, counts = model.configure_optimizers(weight_decay=0.1, learning_rate=6e-4, device_type="cpu")
    record += list(counts)
    amp = dict(device_type="cpu", dtype=lib.bfloat16, enabled=autocast)
    for step in range(max_steps + 1):
        last_step = step == max_steps
        if step % 3 == 0 or last_step:
            model.eval()
            val_loader.reset()
            with lib.no_grad():
                val_loss_accum = 0.0
                val_loss_steps = 3
                for _ in range(val_loss_steps):
                    x, y = val_loader.next_batch()
                    with lib.autocast(**amp):
                        logits, loss = model(x, y)
                    loss = loss / val_loss_steps
                    val_loss_accum += loss.detach()
            record.append(val_loss_accum)
            # a hellaswag-style example: four endings, their tokens and masks
            tok_rows = [[5, 7, 9] + list(range(10 + i, 13 + 2 * i)) for i in range(4)]
            mask_rows = [[0, 0, 0] + [1] * (len(row) - 3) for row in tok_rows]
            max_len = max(len(row) for row in tok_rows)
            tokens = lib.zeros((4, max_len), dtype=lib.long)
            mask = lib.zeros((4, max_len), dtype=lib.long)
            for i, (tok_row, mask_row) in enumerate(zip(tok_rows, mask_rows)):
                tokens[i, : len(tok_row)] = lib.tensor(tok_row)
                mask[i, : len(mask_row)] = lib.tensor(mask_row)
            with lib.no_grad():
                with lib.autocast(**amp):
                    logits, loss = model(tokens)
                pred_norm, avg_loss = get_most_likely_row(lib, tokens, mask, logits)
            record += [pred_norm, avg_loss]
        if step > 0 and (step % 4 == 0 or last_step):
            model.eval()
            num_return_sequences, max_length = 3, 10
            tokens = lib.tensor([15, 3, 8, 22], dtype=lib.long)
            tokens = tokens.unsqueeze(0).repeat(num_return_sequences, 1)
            xgen = tokens.to("cpu")
            sample_rng = lib.Generator(device="cpu")
            sample_rng.manual_seed(42)
            while xgen.size(1) < max_length:
                with lib.no_grad():
                    with lib.autocast(**amp):
                        logits, loss = model(xgen)
                    logits = logits[:, -1, :]
                    probs = F.softmax(logits, dim=-1)
                    topk_probs, topk_indices = lib.topk(probs, 8, dim=-1)
                    ix = lib.multinomial(topk_probs, 1, generator=sample_rng)
                    xcol = lib.gather(topk_indices, -1, ix)
                    xgen = lib.cat((xgen, xcol), dim=1)
            record.append(xgen)
        model.train()
        optimizer.zero_grad()
        loss_accum = 0.0
        for _micro_step in range(grad_accum_steps):
            x, y = train_loader.next_batch()
            x, y = x.to("cpu"), y.to("cpu")
            with lib.autocast(**amp):
                logits, loss = model(x, y)
            record.append(logits.dtype)
            loss = loss / grad_accum_steps
            loss_accum += loss.detach()
            loss.backward()
        for block in model.transformer.h:  # the key bias's gradient is zero up to rounding (see round 7)
            block.attn.c_attn.bias.grad[16:32] = 0
        norm = lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        lr = get_lr(step)
        for param_group in optimizer.param_groups:
            param_group["lr"] = lr
        optimizer.step()
        line = f"step {step:5d} | loss: {loss_accum.item():.6f} | lr {lr:.4e} | norm: {norm:.4f}"
        record += [loss_accum, norm, line.split("|")[2]]
    record += list(model.state_dict().values())
    return record


@pytest.mark.parametrize("autocast", [False, True])
def test_build_nanogpt_from_pretrained_with_accumulation_and_hellaswag_eval_as_torch(autocast):
    tol = dict(rtol=3e-2, atol=3e-3) if autocast else {}
    before = [lib.get_float32_matmul_precision() for lib in (torch, ember)]
    try:
        both(train_gpt2, autocast, **tol)
    finally:  # the program sets the process-wide precision
        for lib, precision in zip((torch, ember), before):
            lib.set_float32_matmul_precision(precision)


# -- PointNet (fxia22/pointnet.pytorch), DGCNN (WangYueFt/dgcnn), PointNet++ (yanx27) ---------------------


def build_pointnet(lib, k=4, feature_transform=True, width=16):
    nn, F = lib.nn, lib.nn.functional
    Variable = lib.autograd.Variable

    class STNkd(nn.Module):
        def __init__(self, k=3):
            super().__init__()
            self.conv1 = lib.nn.Conv1d(k, width, 1)
            self.conv2 = lib.nn.Conv1d(width, 2 * width, 1)
            self.fc1 = nn.Linear(2 * width, width)
            self.fc2 = nn.Linear(width, k * k)
            self.relu = nn.ReLU()
            self.bn1 = nn.BatchNorm1d(width)
            self.bn2 = nn.BatchNorm1d(2 * width)
            self.bn3 = nn.BatchNorm1d(width)
            self.k = k

        def forward(self, x):
            batchsize = x.size()[0]
            x = F.relu(self.bn1(self.conv1(x)))
            x = F.relu(self.bn2(self.conv2(x)))
            x = lib.max(x, 2, keepdim=True)[0]
            x = x.view(-1, 2 * width)
            x = F.relu(self.bn3(self.fc1(x)))
            x = self.fc2(x)
            iden = (
                Variable(lib.from_numpy(np.eye(self.k).flatten().astype(np.float32)))
                .view(1, self.k * self.k)
                .repeat(batchsize, 1)
            )
            if x.is_cuda:
                iden = iden.cuda()
            x = x + iden
            x = x.view(-1, self.k, self.k)
            return x

    class PointNetfeat(nn.Module):
        def __init__(self, global_feat=True, feature_transform=False):
            super().__init__()
            self.stn = STNkd(k=3)
            self.conv1 = lib.nn.Conv1d(3, width, 1)
            self.conv2 = lib.nn.Conv1d(width, width, 1)
            self.conv3 = lib.nn.Conv1d(width, 2 * width, 1)
            self.bn1 = nn.BatchNorm1d(width)
            self.bn2 = nn.BatchNorm1d(width)
            self.bn3 = nn.BatchNorm1d(2 * width)
            self.global_feat = global_feat
            self.feature_transform = feature_transform
            if self.feature_transform:
                self.fstn = STNkd(k=width)

        def forward(self, x):
            n_pts = x.size()[2]
            trans = self.stn(x)
            x = x.transpose(2, 1)
            x = lib.bmm(x, trans)
            x = x.transpose(2, 1)
            x = F.relu(self.bn1(self.conv1(x)))
            if self.feature_transform:
                trans_feat = self.fstn(x)
                x = x.transpose(2, 1)
                x = lib.bmm(x, trans_feat)
                x = x.transpose(2, 1)
            else:
                trans_feat = None
            pointfeat = x
            x = F.relu(self.bn2(self.conv2(x)))
            x = self.bn3(self.conv3(x))
            x = lib.max(x, 2, keepdim=True)[0]
            x = x.view(-1, 2 * width)
            if self.global_feat:
                return x, trans, trans_feat
            x = x.view(-1, 2 * width, 1).repeat(1, 1, n_pts)
            return lib.cat([x, pointfeat], 1), trans, trans_feat

    class PointNetCls(nn.Module):
        def __init__(self, k=2, feature_transform=False):
            super().__init__()
            self.feature_transform = feature_transform
            self.feat = PointNetfeat(global_feat=True, feature_transform=feature_transform)
            self.fc1 = nn.Linear(2 * width, width)
            self.fc2 = nn.Linear(width, k)
            self.dropout = nn.Dropout(p=0.3)
            self.bn1 = nn.BatchNorm1d(width)
            self.relu = nn.ReLU()

        def forward(self, x):
            x, trans, trans_feat = self.feat(x)
            x = F.relu(self.bn1(self.dropout(self.fc1(x))))
            x = self.fc2(x)
            return F.log_softmax(x, dim=1), trans, trans_feat

    class PointNetDenseCls(nn.Module):
        def __init__(self, k=2, feature_transform=False):
            super().__init__()
            self.k = k
            self.feature_transform = feature_transform
            self.feat = PointNetfeat(global_feat=False, feature_transform=feature_transform)
            self.conv1 = lib.nn.Conv1d(3 * width, width, 1)
            self.conv2 = lib.nn.Conv1d(width, self.k, 1)
            self.bn1 = nn.BatchNorm1d(width)

        def forward(self, x):
            batchsize = x.size()[0]
            n_pts = x.size()[2]
            x, trans, trans_feat = self.feat(x)
            x = F.relu(self.bn1(self.conv1(x)))
            x = self.conv2(x)
            x = x.transpose(2, 1).contiguous()
            x = F.log_softmax(x.view(-1, self.k), dim=-1)
            x = x.view(batchsize, n_pts, self.k)
            return x, trans, trans_feat

    class Both(nn.Module):
        def __init__(self):
            super().__init__()
            self.cls = PointNetCls(k=k, feature_transform=feature_transform)
            self.seg = PointNetDenseCls(k=3, feature_transform=feature_transform)

    return Both


def feature_transform_regularizer(lib, trans):
    d = trans.size()[1]
    I = lib.eye(d)[None, :, :]  # noqa: E741 - the program's name
    if trans.is_cuda:
        I = I.cuda()
    return lib.mean(lib.norm((lib.bmm(trans, trans.transpose(2, 1)) - I), dim=(1, 2)))


POINTS = np.random.default_rng(4).standard_normal((6, 3, 20)).astype(np.float32)
POINT_LABELS = np.array([0, 1, 2, 3, 1, 0])
POINT_PARTS = np.random.default_rng(5).integers(0, 3, (6, 20))


def train_pointnet(lib, reference):
    F = lib.nn.functional
    model = build_pointnet(lib)()
    copy_weights(reference, model)
    # float64: with batch norm over three clouds and the learned transforms, float32 rounding alone moves the
    # gradients by 1e-3 (torch's own float32 gradients are that far from its float64 ones), and the biases that
    # batch norm cancels have gradients that are zero up to rounding, which Adam would turn into full steps
    model.double()
    classifier, segmenter = model.cls, model.seg
    lib.manual_seed(0)
    optimizer = lib.optim.Adam(model.parameters(), lr=0.001, betas=(0.9, 0.999))
    scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    record = []
    for _epoch in range(2):
        for i in range(2):
            points = lib.from_numpy(POINTS[3 * i : 3 * i + 3].copy()).double()
            target = lib.from_numpy(POINT_LABELS[3 * i : 3 * i + 3])
            parts = lib.from_numpy(POINT_PARTS[3 * i : 3 * i + 3])
            optimizer.zero_grad()
            classifier = classifier.train()
            pred, trans, trans_feat = classifier(points)
            loss = F.nll_loss(pred, target)
            loss += feature_transform_regularizer(lib, trans_feat) * 0.001
            seg_pred, _, seg_trans_feat = segmenter(points)
            seg_pred = seg_pred.view(-1, 3)
            seg_loss = F.nll_loss(seg_pred, parts.view(-1, 1)[:, 0])
            seg_loss += feature_transform_regularizer(lib, seg_trans_feat) * 0.001
            (loss + seg_loss).backward()
            optimizer.step()
            pred_choice = pred.data.max(1)[1]
            correct = pred_choice.eq(target.data).cpu().sum()
            record += [loss, seg_loss, trans, correct.item() / float(3), seg_pred.data.max(1)[1]]
        scheduler.step()
    model.eval()
    with lib.no_grad():
        pred, _, _ = classifier(lib.from_numpy(POINTS).double())
        record.append(pred)
    return model, record


def test_pointnet_classification_and_segmentation_train_as_torch():
    trained_on_both(lambda lib: build_pointnet(lib), train_pointnet)


def build_dgcnn(lib, k=4, emb_dims=16, output_channels=4):
    nn, F = lib.nn, lib.nn.functional

    def knn(x, k):
        inner = -2 * lib.matmul(x.transpose(2, 1), x)
        xx = lib.sum(x**2, dim=1, keepdim=True)
        pairwise_distance = -xx - inner - xx.transpose(2, 1)
        idx = pairwise_distance.topk(k=k, dim=-1)[1]
        return idx

    def get_graph_feature(x, k=20, idx=None):
        batch_size = x.size(0)
        num_points = x.size(2)
        x = x.view(batch_size, -1, num_points)
        if idx is None:
            idx = knn(x, k=k)
        idx_base = lib.arange(0, batch_size).view(-1, 1, 1) * num_points
        idx = idx + idx_base
        idx = idx.view(-1)
        _, num_dims, _ = x.size()
        x = x.transpose(2, 1).contiguous()
        feature = x.view(batch_size * num_points, -1)[idx, :]
        feature = feature.view(batch_size, num_points, k, num_dims)
        x = x.view(batch_size, num_points, 1, num_dims).repeat(1, 1, k, 1)
        feature = lib.cat((feature - x, x), dim=3).permute(0, 3, 1, 2).contiguous()
        return feature

    class DGCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.k = k
            self.bn1 = nn.BatchNorm2d(8)
            self.bn2 = nn.BatchNorm2d(8)
            self.bn5 = nn.BatchNorm1d(emb_dims)
            self.conv1 = nn.Sequential(
                nn.Conv2d(6, 8, kernel_size=1, bias=False), self.bn1, nn.LeakyReLU(negative_slope=0.2)
            )
            self.conv2 = nn.Sequential(
                nn.Conv2d(16, 8, kernel_size=1, bias=False), self.bn2, nn.LeakyReLU(negative_slope=0.2)
            )
            self.conv5 = nn.Sequential(
                nn.Conv1d(16, emb_dims, kernel_size=1, bias=False), self.bn5, nn.LeakyReLU(negative_slope=0.2)
            )
            self.linear1 = nn.Linear(emb_dims * 2, 12, bias=False)
            self.bn6 = nn.BatchNorm1d(12)
            self.dp1 = nn.Dropout(p=0.5)
            self.linear3 = nn.Linear(12, output_channels)

        def forward(self, x):
            batch_size = x.size(0)
            x = get_graph_feature(x, k=self.k)
            x = self.conv1(x)
            x1 = x.max(dim=-1, keepdim=False)[0]
            x = get_graph_feature(x1, k=self.k)
            x = self.conv2(x)
            x2 = x.max(dim=-1, keepdim=False)[0]
            x = lib.cat((x1, x2), dim=1)
            x = self.conv5(x)
            x1 = F.adaptive_max_pool1d(x, 1).view(batch_size, -1)
            x2 = F.adaptive_avg_pool1d(x, 1).view(batch_size, -1)
            x = lib.cat((x1, x2), 1)
            x = F.leaky_relu(self.bn6(self.linear1(x)), negative_slope=0.2)
            x = self.dp1(x)
            return self.linear3(x)

    return DGCNN


def cal_loss(lib, pred, gold, smoothing=True):
    F = lib.nn.functional
    gold = gold.contiguous().view(-1)
    if smoothing:
        eps = 0.2
        n_class = pred.size(1)
        one_hot = lib.zeros_like(pred).scatter(1, gold.view(-1, 1), 1)
        one_hot = one_hot * (1 - eps) + (1 - one_hot) * eps / (n_class - 1)
        log_prb = F.log_softmax(pred, dim=1)
        loss = -(one_hot * log_prb).sum(dim=1).mean()
    else:
        loss = F.cross_entropy(pred, gold, reduction="mean")
    return loss


def train_dgcnn(lib, reference):
    model = build_dgcnn(lib)()
    copy_weights(reference, model)
    lib.manual_seed(1)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    scheduler = lib.optim.lr_scheduler.CosineAnnealingLR(opt, 4, eta_min=0.001)
    record = []
    data = lib.from_numpy(POINTS.transpose(0, 2, 1).copy())
    label = lib.from_numpy(POINT_LABELS)
    for epoch in range(4):
        model.train()
        opt.zero_grad()
        logits = model(data.permute(0, 2, 1))
        loss = cal_loss(lib, logits, label, smoothing=epoch % 2 == 0)
        loss.backward()
        opt.step()
        scheduler.step()
        preds = logits.max(dim=1)[1]
        record += [loss, preds, scheduler.get_last_lr()[0]]
    model.eval()
    with lib.no_grad():
        record.append(model(data.permute(0, 2, 1)))
    return model, record


def test_dgcnn_with_knn_graph_features_trains_as_torch():
    trained_on_both(lambda lib: build_dgcnn(lib), train_dgcnn)


def pointnet2_sampling_and_grouping(lib):
    def square_distance(src, dst):
        B, N, _ = src.shape
        _, M, _ = dst.shape
        dist = -2 * lib.matmul(src, dst.permute(0, 2, 1))
        dist += lib.sum(src**2, -1).view(B, N, 1)
        dist += lib.sum(dst**2, -1).view(B, 1, M)
        return dist

    def index_points(points, idx):
        device = points.device
        B = points.shape[0]
        view_shape = list(idx.shape)
        view_shape[1:] = [1] * (len(view_shape) - 1)
        repeat_shape = list(idx.shape)
        repeat_shape[0] = 1
        batch_indices = lib.arange(B, dtype=lib.long).to(device).view(view_shape).repeat(repeat_shape)
        new_points = points[batch_indices, idx, :]
        return new_points

    def farthest_point_sample(xyz, npoint):
        device = xyz.device
        B, N, C = xyz.shape
        centroids = lib.zeros(B, npoint, dtype=lib.long).to(device)
        distance = lib.ones(B, N).to(device) * 1e10
        farthest = lib.randint(0, N, (B,), dtype=lib.long).to(device)
        batch_indices = lib.arange(B, dtype=lib.long).to(device)
        for i in range(npoint):
            centroids[:, i] = farthest
            centroid = xyz[batch_indices, farthest, :].view(B, 1, 3)
            dist = lib.sum((xyz - centroid) ** 2, -1)
            mask = dist < distance
            distance[mask] = dist[mask]
            farthest = lib.max(distance, -1)[1]
        return centroids

    def query_ball_point(radius, nsample, xyz, new_xyz):
        device = xyz.device
        B, N, C = xyz.shape
        _, S, _ = new_xyz.shape
        group_idx = lib.arange(N, dtype=lib.long).to(device).view(1, 1, N).repeat([B, S, 1])
        sqrdists = square_distance(new_xyz, xyz)
        group_idx[sqrdists > radius**2] = N
        group_idx = group_idx.sort(dim=-1)[0][:, :, :nsample]
        group_first = group_idx[:, :, 0].view(B, S, 1).repeat([1, 1, nsample])
        mask = group_idx == N
        group_idx[mask] = group_first[mask]
        return group_idx

    def sample_and_group(npoint, radius, nsample, xyz, points):
        B, N, C = xyz.shape
        S = npoint
        fps_idx = farthest_point_sample(xyz, npoint)
        new_xyz = index_points(xyz, fps_idx)
        idx = query_ball_point(radius, nsample, xyz, new_xyz)
        grouped_xyz = index_points(xyz, idx)
        grouped_xyz_norm = grouped_xyz - new_xyz.view(B, S, 1, C)
        if points is not None:
            grouped_points = index_points(points, idx)
            new_points = lib.cat([grouped_xyz_norm, grouped_points], dim=-1)
        else:
            new_points = grouped_xyz_norm
        return new_xyz, new_points, fps_idx, idx

    lib.manual_seed(0)
    xyz = lib.from_numpy(POINTS.transpose(0, 2, 1).copy())
    feats = xyz * 2 + 1
    feats.requires_grad_()
    new_xyz, new_points, fps_idx, idx = sample_and_group(5, 1.2, 6, xyz, feats)
    new_points.sum(dim=(2, 3)).pow(2).sum().backward()
    return [new_xyz, new_points, fps_idx, idx, feats.grad]


def test_pointnet2_farthest_point_sampling_and_ball_query_as_torch():
    both(pointnet2_sampling_and_grouping)


# -- Grad-CAM, guided backprop and interpretability hooks ------------------------------------------------


def build_resnet(lib, classes=5):
    nn = lib.nn

    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = downsample

        def forward(self, x):
            identity = x
            out = self.conv1(x)
            out = self.bn1(out)
            out = self.relu(out)
            out = self.conv2(out)
            out = self.bn2(out)
            if self.downsample is not None:
                identity = self.downsample(x)
            out += identity
            out = self.relu(out)
            return out

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(8)
            self.relu = nn.ReLU(inplace=True)
            self.layer1 = nn.Sequential(BasicBlock(8, 8))
            down = nn.Sequential(nn.Conv2d(8, 12, 1, 2, bias=False), nn.BatchNorm2d(12))
            self.layer2 = nn.Sequential(BasicBlock(8, 12, 2, down), BasicBlock(12, 12))
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(12, classes)

        def forward(self, x):
            x = self.relu(self.bn1(self.conv1(x)))
            x = self.layer2(self.layer1(x))
            x = lib.flatten(self.avgpool(x), 1)
            return self.fc(x)

    return ResNet


IMAGES_CAM = np.random.default_rng(6).standard_normal((2, 3, 8, 8)).astype(np.float32)


def grad_cam_and_guided_backprop(lib, reference):
    nn, F = lib.nn, lib.nn.functional
    model = build_resnet(lib)()
    copy_weights(reference, model)
    model.eval()
    record = []

    # pytorch-grad-cam's ActivationsAndGradients: forward hooks keep the activation and register a
    # tensor hook on the output for its gradient
    class ActivationsAndGradients:
        def __init__(self, model, target_layers):
            self.model = model
            self.gradients = []
            self.activations = []
            self.handles = []
            for target_layer in target_layers:
                self.handles.append(target_layer.register_forward_hook(self.save_activation))
                self.handles.append(target_layer.register_forward_hook(self.save_gradient))

        def save_activation(self, module, input, output):
            self.activations.append(output.cpu().detach())

        def save_gradient(self, module, input, output):
            if not hasattr(output, "requires_grad") or not output.requires_grad:
                return

            def _store_grad(grad):
                self.gradients = [grad.cpu().detach()] + self.gradients

            output.register_hook(_store_grad)

        def __call__(self, x):
            self.gradients = []
            self.activations = []
            return self.model(x)

        def release(self):
            for handle in self.handles:
                handle.remove()

    target_layers = [model.layer2[-1]]
    ag = ActivationsAndGradients(model, target_layers)
    input_tensor = lib.from_numpy(IMAGES_CAM.copy()).requires_grad_(True)
    outputs = ag(input_tensor)
    target_categories = np.argmax(outputs.cpu().data.numpy(), axis=-1)
    targets = [lambda output, c=c: output[..., c] for c in target_categories]
    model.zero_grad()
    loss = sum([target(output) for target, output in zip(targets, outputs)])
    loss.backward(retain_graph=True)
    activations, grads = ag.activations[0], ag.gradients[0]
    weights = lib.mean(grads, dim=(2, 3))
    cam = (weights[:, :, None, None] * activations).sum(1)
    cam = F.relu(cam)
    cam = F.interpolate(cam[:, None], size=(8, 8), mode="bilinear", align_corners=False)[:, 0]
    cam = cam - cam.amin(dim=(1, 2), keepdim=True)
    cam = cam / (1e-7 + cam.amax(dim=(1, 2), keepdim=True))
    record += [outputs, list(target_categories), cam, input_tensor.grad]
    ag.release()
    record.append(len(model.layer2[-1]._forward_hooks))

    # the hand-written Grad-CAM of the blog posts: full backward hook and forward hook on one block
    saved = {}

    def backward_hook(module, grad_input, grad_output):
        saved["gradients"] = grad_output

    def forward_hook(module, args, output):
        saved["activations"] = output

    bh = model.layer2[0].register_full_backward_hook(backward_hook, prepend=False)
    fh = model.layer2[0].register_forward_hook(forward_hook, prepend=False)
    model(input_tensor)[0, 1].backward()
    pooled_gradients = lib.mean(saved["gradients"][0], dim=[0, 2, 3])
    activations = saved["activations"].detach()
    for i in range(activations.size()[1]):
        activations[:, i, :, :] *= pooled_gradients[i]
    heatmap = lib.mean(activations, dim=1).squeeze()
    heatmap = F.relu(heatmap)
    heatmap /= lib.max(heatmap)
    record += [heatmap, len(saved["gradients"]), saved["activations"].grad_fn is not None]
    bh.remove()
    fh.remove()

    # guided backpropagation: full backward hooks on every ReLU clamp the gradient (the inplace ReLUs
    # are switched off first, as the implementations do)
    handles = []

    def relu_backward_hook(module, grad_in, grad_out):
        return (lib.clamp(grad_in[0], min=0.0),)

    for _name, module in model.named_modules():
        if isinstance(module, nn.ReLU):
            module.inplace = False
            handles.append(module.register_full_backward_hook(relu_backward_hook))
    x = lib.from_numpy(IMAGES_CAM.copy()).requires_grad_(True)
    out = model(x)
    one_hot = lib.zeros_like(out)
    one_hot[:, 2] = 1
    out.backward(gradient=one_hot)
    record += [x.grad, len(handles)]
    for h in handles:
        h.remove()
    model.zero_grad(set_to_none=True)

    # a gradient-reversal layer as a full backward pre-hook (domain-adversarial training)
    def reverse(module, grad_output):
        return tuple(-0.5 * g for g in grad_output)

    with model.layer1.register_full_backward_pre_hook(reverse):
        model(x).sum().backward()
    record.append(model.conv1.weight.grad)
    record.append(len(model.layer1._backward_pre_hooks))
    return model, record


def test_grad_cam_guided_backprop_and_gradient_reversal_hooks_as_torch():
    trained_on_both(lambda lib: build_resnet(lib), grad_cam_and_guided_backprop)


def interpretability_hooks(lib, reference):
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(
        nn.Embedding(11, 8),
        nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
        nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
        nn.Linear(8, 11),
    )
    copy_weights(reference, model)
    tokens = lib.tensor([[1, 4, 2, 7, 3], [5, 5, 9, 0, 0]])
    padding = tokens == 0
    record = []

    # the feature-extraction recipe: get_activation(name) closures filling a dict
    activation = {}

    def get_activation(name):
        def hook(model, input, output):
            activation[name] = output.detach()

        return hook

    handles = [model[i].register_forward_hook(get_activation(f"layer{i}")) for i in (1, 2)]
    clean = model(tokens)
    record += [clean, activation["layer1"], activation["layer2"]]
    for h in handles:
        h.remove()

    # a forward pre-hook with kwargs that supplies the padding mask to every encoder layer (returning
    # the new args and kwargs), and a forward hook with kwargs that sees them
    seen = []

    def add_mask(module, args, kwargs):
        kwargs = dict(kwargs)
        kwargs["src_key_padding_mask"] = padding
        return args, kwargs

    def see(module, args, kwargs, output):
        seen.append((sorted(kwargs), tuple(output.shape)))

    pre = [model[i].register_forward_pre_hook(add_mask, with_kwargs=True) for i in (1, 2)]
    post = [model[i].register_forward_hook(see, with_kwargs=True) for i in (1, 2)]
    masked = model(tokens)
    record += [masked, str(seen)]
    for h in pre + post:
        h.remove()

    # activation steering: a forward pre-hook adds a vector to the residual stream of layer 2
    steer = lib.linspace(-1.0, 1.0, 8)

    def add_steering(module, args):
        (hidden,) = args
        return (hidden + 0.5 * steer,)

    with model[2].register_forward_pre_hook(add_steering):
        record.append(model(tokens))
    record.append(model(tokens))

    # activation patching: cache the clean run's layer-1 output at one position, patch it into a
    # corrupted run by returning a new output from a forward hook
    corrupted = tokens.clone()
    corrupted[0, 1] = 6

    def patch(module, args, output):
        output = output.clone()
        output[:, 1] = activation["layer1"][:, 1]
        return output

    with model[1].register_forward_hook(patch):
        patched = model(corrupted)
    logit_diff = patched[0, -1, 3] - model(corrupted)[0, -1, 3]
    record += [patched, logit_diff]

    # hooks that always run, even when the forward raises, and a global forward hook on every module
    calls = []
    h = model[3].register_forward_hook(lambda m, a, o: calls.append("always"), always_call=True)
    try:
        model[3](lib.zeros(2, 7))
    except RuntimeError:
        calls.append("raised")
    h.remove()
    names = []
    g = nn.modules.module.register_module_forward_hook(lambda m, a, o: names.append(type(m).__name__))
    model(tokens)
    g.remove()
    model(tokens)
    record += [str(calls), str(names)]

    # the steered model fine-tuned for two steps: the hooks take part in the gradients
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    handle = model[2].register_forward_pre_hook(add_steering)
    for _ in range(2):
        opt.zero_grad()
        logits = model(tokens)
        loss = nn.functional.cross_entropy(logits.view(-1, 11), tokens.roll(-1, 1).view(-1))
        loss.backward()
        opt.step()
        record.append(loss)
    handle.remove()
    return model, record


def test_interpretability_hooks_with_kwargs_steering_and_patching_as_torch():
    def build(lib):
        return lambda: lib.nn.Sequential(
            lib.nn.Embedding(11, 8),
            lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
            lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
            lib.nn.Linear(8, 11),
        )

    trained_on_both(build, interpretability_hooks)


# -- Muon (KellerJordan/Muon, modded-nanogpt) and torch.optim.Muon ----------------------------------------


def muon_optimizers(lib):
    def zeropower_via_newtonschulz5(G, steps: int):
        assert G.ndim >= 2
        a, b, c = (3.4445, -4.7750, 2.0315)
        X = G.bfloat16()
        if G.size(-2) > G.size(-1):
            X = X.mT
        X = X / (X.norm(dim=(-2, -1), keepdim=True) + 1e-7)
        for _ in range(steps):
            A = X @ X.mT
            B = b * A + c * A @ A
            X = a * X + B @ X
        if G.size(-2) > G.size(-1):
            X = X.mT
        return X

    def muon_update(grad, momentum, beta=0.95, ns_steps=5, nesterov=True):
        momentum.lerp_(grad, 1 - beta)
        update = grad.lerp_(momentum, beta) if nesterov else momentum
        if update.ndim == 4:
            update = update.view(len(update), -1)
        update = zeropower_via_newtonschulz5(update, steps=ns_steps)
        update *= max(1, grad.size(-2) / grad.size(-1)) ** 0.5
        return update

    def adam_update(grad, buf1, buf2, step, betas, eps):
        buf1.lerp_(grad, 1 - betas[0])
        buf2.lerp_(grad.square(), 1 - betas[1])
        buf1c = buf1 / (1 - betas[0] ** step)
        buf2c = buf2 / (1 - betas[1] ** step)
        return buf1c / (buf2c.sqrt() + eps)

    class SingleDeviceMuonWithAuxAdam(lib.optim.Optimizer):
        def __init__(self, param_groups):
            for group in param_groups:
                assert "use_muon" in group
                if group["use_muon"]:
                    group["lr"] = group.get("lr", 0.02)
                    group["momentum"] = group.get("momentum", 0.95)
                    group["weight_decay"] = group.get("weight_decay", 0)
                    assert set(group.keys()) == set(["params", "lr", "momentum", "weight_decay", "use_muon"])
                else:
                    group["lr"] = group.get("lr", 3e-4)
                    group["betas"] = group.get("betas", (0.9, 0.95))
                    group["eps"] = group.get("eps", 1e-10)
                    group["weight_decay"] = group.get("weight_decay", 0)
                    assert set(group.keys()) == set(["params", "lr", "betas", "eps", "weight_decay", "use_muon"])
            super().__init__(param_groups, dict())

        @lib.no_grad()
        def step(self, closure=None):
            loss = None
            if closure is not None:
                with lib.enable_grad():
                    loss = closure()
            for group in self.param_groups:
                if group["use_muon"]:
                    for p in group["params"]:
                        if p.grad is None:
                            p.grad = lib.zeros_like(p)
                        state = self.state[p]
                        if len(state) == 0:
                            state["momentum_buffer"] = lib.zeros_like(p)
                        update = muon_update(p.grad, state["momentum_buffer"], beta=group["momentum"])
                        p.mul_(1 - group["lr"] * group["weight_decay"])
                        p.add_(update.reshape(p.shape), alpha=-group["lr"])
                else:
                    for p in group["params"]:
                        if p.grad is None:
                            p.grad = lib.zeros_like(p)
                        state = self.state[p]
                        if len(state) == 0:
                            state["exp_avg"] = lib.zeros_like(p)
                            state["exp_avg_sq"] = lib.zeros_like(p)
                            state["step"] = 0
                        state["step"] += 1
                        update = adam_update(
                            p.grad, state["exp_avg"], state["exp_avg_sq"], state["step"], group["betas"], group["eps"]
                        )
                        p.mul_(1 - group["lr"] * group["weight_decay"])
                        p.add_(update, alpha=-group["lr"])
            return loss

    return SingleDeviceMuonWithAuxAdam, zeropower_via_newtonschulz5


def build_muon_net(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Conv2d(3, 8, 3, padding=1)
            self.body = nn.Sequential(
                nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.GELU(),
                nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16), nn.GELU(),
                nn.Flatten(), nn.Linear(16 * 4 * 4, 24), nn.GELU(),
            )  # fmt: skip
            self.head = nn.Linear(24, 5)

        def forward(self, x):
            return self.head(self.body(self.embed(x)))

    return Net


MUON_IMAGES = np.random.default_rng(8).standard_normal((8, 3, 8, 8)).astype(np.float32)
MUON_LABELS = np.random.default_rng(9).integers(0, 5, 8)


def train_with_muon(lib, reference, which):
    F = lib.nn.functional
    model = build_muon_net(lib)().double()
    copy_weights(reference, model)
    MuonWithAuxAdam, newton_schulz = muon_optimizers(lib)
    hidden_weights = [p for p in model.body.parameters() if p.ndim >= 2]
    hidden_gains_biases = [p for p in model.body.parameters() if p.ndim < 2]
    nonhidden_params = [*model.head.parameters(), *model.embed.parameters()]
    if which == "keller":
        param_groups = [
            dict(params=hidden_weights, use_muon=True, lr=0.02, weight_decay=0.01),
            dict(
                params=hidden_gains_biases + nonhidden_params,
                use_muon=False,
                lr=3e-3,
                betas=(0.9, 0.95),
                weight_decay=0.01,
            ),
        ]
        optimizers = [MuonWithAuxAdam(param_groups)]
    else:
        named = [(n, p) for n, p in model.body.named_parameters() if p.ndim == 2]
        optimizers = [
            lib.optim.Muon(named, lr=0.02, weight_decay=0.01, adjust_lr_fn=which),
            lib.optim.AdamW(hidden_gains_biases + nonhidden_params, lr=3e-3, betas=(0.9, 0.95)),
        ]
        hidden_conv = [p for p in model.body.parameters() if p.ndim == 4]
        optimizers.append(lib.optim.SGD(hidden_conv, lr=0.01, momentum=0.9, nesterov=True))
    x, y = lib.from_numpy(MUON_IMAGES).double(), lib.from_numpy(MUON_LABELS)
    G = lib.from_numpy(MUON_IMAGES[0, 0, :, :6].copy())
    record = [newton_schulz(G, 5), newton_schulz(G.T, 5).dtype]
    for _ in range(3):
        loss = F.cross_entropy(model(x), y)
        for opt in optimizers:
            opt.zero_grad(set_to_none=True)
        loss.backward()
        for opt in optimizers:
            opt.step()
        record.append(loss)
    state = optimizers[0].state_dict()
    record.append(str(sorted(state["param_groups"][0])))
    return model, record


@pytest.mark.parametrize("which", ["keller", None, "original", "match_rms_adamw"])
def test_muon_newton_schulz_optimizers_train_as_torch(which):
    # float64 weights, so that the gradients agree to 1e-16 and round to the same bfloat16s. The Newton-Schulz
    # products are torch's bit for bit except where float32 accumulation in another order lands on the other
    # side of a bfloat16 rounding (one element of a 24x24 Gram matrix in the third step with match_rms_adamw's
    # lr): the iteration spreads that over the update, a few 1e-3 in the weights after three steps
    loose = which == "match_rms_adamw"
    trained_on_both(
        lambda lib: build_muon_net(lib),
        lambda lib, ref: train_with_muon(lib, ref, which),
        model_rtol=1e-2 if loose else 1e-5,
        model_atol=2e-3 if loose else 1e-6,
    )


# -- Meta's Llama 3 inference (llama/model.py, llama/generation.py) in bfloat16 -----------------------------


def build_llama3(lib, dim=16, n_layers=2, n_heads=4, n_kv_heads=2, vocab_size=256, max_batch_size=3, max_seq_len=16):
    nn, F = lib.nn, lib.nn.functional

    class RMSNorm(nn.Module):
        def __init__(self, dim, eps=1e-6):
            super().__init__()
            self.eps = eps
            self.weight = nn.Parameter(lib.ones(dim))

        def _norm(self, x):
            return x * lib.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)

        def forward(self, x):
            output = self._norm(x.float()).type_as(x)
            return output * self.weight

    def precompute_freqs_cis(dim, end, theta=500000.0):
        freqs = 1.0 / (theta ** (lib.arange(0, dim, 2)[: (dim // 2)].float() / dim))
        t = lib.arange(end, device=freqs.device, dtype=lib.float32)
        freqs = lib.outer(t, freqs)
        return lib.polar(lib.ones_like(freqs), freqs)

    def reshape_for_broadcast(freqs_cis, x):
        ndim = x.ndim
        assert freqs_cis.shape == (x.shape[1], x.shape[-1])
        shape = [d if i == 1 or i == ndim - 1 else 1 for i, d in enumerate(x.shape)]
        return freqs_cis.view(*shape)

    def apply_rotary_emb(xq, xk, freqs_cis):
        xq_ = lib.view_as_complex(xq.float().reshape(*xq.shape[:-1], -1, 2))
        xk_ = lib.view_as_complex(xk.float().reshape(*xk.shape[:-1], -1, 2))
        freqs_cis = reshape_for_broadcast(freqs_cis, xq_)
        xq_out = lib.view_as_real(xq_ * freqs_cis).flatten(3)
        xk_out = lib.view_as_real(xk_ * freqs_cis).flatten(3)
        return xq_out.type_as(xq), xk_out.type_as(xk)

    def repeat_kv(x, n_rep):
        bs, slen, n_kv_heads, head_dim = x.shape
        if n_rep == 1:
            return x
        return (
            x[:, :, :, None, :]
            .expand(bs, slen, n_kv_heads, n_rep, head_dim)
            .reshape(bs, slen, n_kv_heads * n_rep, head_dim)
        )

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.n_kv_heads = n_kv_heads
            self.n_local_heads = n_heads
            self.n_local_kv_heads = self.n_kv_heads
            self.n_rep = self.n_local_heads // self.n_local_kv_heads
            self.head_dim = dim // n_heads
            self.wq = nn.Linear(dim, n_heads * self.head_dim, bias=False)
            self.wk = nn.Linear(dim, self.n_kv_heads * self.head_dim, bias=False)
            self.wv = nn.Linear(dim, self.n_kv_heads * self.head_dim, bias=False)
            self.wo = nn.Linear(n_heads * self.head_dim, dim, bias=False)
            self.cache_k = lib.zeros((max_batch_size, max_seq_len, self.n_local_kv_heads, self.head_dim))
            self.cache_v = lib.zeros((max_batch_size, max_seq_len, self.n_local_kv_heads, self.head_dim))

        def forward(self, x, start_pos, freqs_cis, mask):
            bsz, seqlen, _ = x.shape
            xq, xk, xv = self.wq(x), self.wk(x), self.wv(x)
            xq = xq.view(bsz, seqlen, self.n_local_heads, self.head_dim)
            xk = xk.view(bsz, seqlen, self.n_local_kv_heads, self.head_dim)
            xv = xv.view(bsz, seqlen, self.n_local_kv_heads, self.head_dim)
            xq, xk = apply_rotary_emb(xq, xk, freqs_cis=freqs_cis)
            self.cache_k = self.cache_k.to(xq)
            self.cache_v = self.cache_v.to(xq)
            self.cache_k[:bsz, start_pos : start_pos + seqlen] = xk
            self.cache_v[:bsz, start_pos : start_pos + seqlen] = xv
            keys = self.cache_k[:bsz, : start_pos + seqlen]
            values = self.cache_v[:bsz, : start_pos + seqlen]
            keys = repeat_kv(keys, self.n_rep)
            values = repeat_kv(values, self.n_rep)
            xq = xq.transpose(1, 2)
            keys = keys.transpose(1, 2)
            values = values.transpose(1, 2)
            scores = lib.matmul(xq, keys.transpose(2, 3)) / math.sqrt(self.head_dim)
            if mask is not None:
                scores = scores + mask
            scores = F.softmax(scores.float(), dim=-1).type_as(xq)
            output = lib.matmul(scores, values)
            output = output.transpose(1, 2).contiguous().view(bsz, seqlen, -1)
            return self.wo(output)

    class FeedForward(nn.Module):
        def __init__(self, hidden_dim=40, multiple_of=8):
            super().__init__()
            hidden_dim = int(2 * hidden_dim / 3)
            hidden_dim = multiple_of * ((hidden_dim + multiple_of - 1) // multiple_of)
            self.w1 = nn.Linear(dim, hidden_dim, bias=False)
            self.w2 = nn.Linear(hidden_dim, dim, bias=False)
            self.w3 = nn.Linear(dim, hidden_dim, bias=False)

        def forward(self, x):
            return self.w2(F.silu(self.w1(x)) * self.w3(x))

    class TransformerBlock(nn.Module):
        def __init__(self, layer_id):
            super().__init__()
            self.attention = Attention()
            self.feed_forward = FeedForward()
            self.layer_id = layer_id
            self.attention_norm = RMSNorm(dim)
            self.ffn_norm = RMSNorm(dim)

        def forward(self, x, start_pos, freqs_cis, mask):
            h = x + self.attention(self.attention_norm(x), start_pos, freqs_cis, mask)
            return h + self.feed_forward(self.ffn_norm(h))

    class Transformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.vocab_size = vocab_size
            self.n_layers = n_layers
            self.tok_embeddings = nn.Embedding(vocab_size, dim)
            self.layers = nn.ModuleList([TransformerBlock(i) for i in range(n_layers)])
            self.norm = RMSNorm(dim)
            self.output = nn.Linear(dim, vocab_size, bias=False)
            self.freqs_cis = precompute_freqs_cis(dim // n_heads, max_seq_len * 2)

        @lib.inference_mode()
        def forward(self, tokens, start_pos):
            _bsz, seqlen = tokens.shape
            h = self.tok_embeddings(tokens)
            self.freqs_cis = self.freqs_cis.to(h.device)
            freqs_cis = self.freqs_cis[start_pos : start_pos + seqlen]
            mask = None
            if seqlen > 1:
                mask = lib.full((seqlen, seqlen), float("-inf"), device=tokens.device)
                mask = lib.triu(mask, diagonal=1)
                mask = lib.hstack([lib.zeros((seqlen, start_pos), device=tokens.device), mask]).type_as(h)
            for layer in self.layers:
                h = layer(h, start_pos, freqs_cis, mask)
            h = self.norm(h)
            return self.output(h).float()

    return Transformer


def sample_top_p(lib, probs, p, generator):
    probs_sort, probs_idx = lib.sort(probs, dim=-1, descending=True)
    probs_sum = lib.cumsum(probs_sort, dim=-1)
    mask = probs_sum - probs_sort > p
    probs_sort[mask] = 0.0
    probs_sort.div_(probs_sort.sum(dim=-1, keepdim=True))
    next_token = lib.multinomial(probs_sort, num_samples=1, generator=generator)
    return lib.gather(probs_idx, -1, next_token)


def llama3_generate(lib, reference, temperature, logprobs=True):
    F = lib.nn.functional
    model = build_llama3(lib)()
    copy_weights(reference, model)
    model = model.to(lib.bfloat16)
    prompt_tokens = [[1, 5, 9, 2], [1, 7], [1, 3, 3, 8, 4]]
    max_gen_len, pad_id, stop_tokens = 8, 0, lib.tensor([255, 254])
    bsz = len(prompt_tokens)
    min_prompt_len = min(len(t) for t in prompt_tokens)
    max_prompt_len = max(len(t) for t in prompt_tokens)
    total_len = min(16, max_gen_len + max_prompt_len)
    tokens = lib.full((bsz, total_len), pad_id, dtype=lib.long)
    for k, t in enumerate(prompt_tokens):
        tokens[k, : len(t)] = lib.tensor(t, dtype=lib.long)
    token_logprobs = lib.zeros_like(tokens, dtype=lib.float)
    prev_pos = 0
    eos_reached = lib.tensor([False] * bsz)
    input_text_mask = tokens != pad_id
    generator = lib.Generator().manual_seed(7)
    record = []
    for cur_pos in range(min_prompt_len, total_len):
        logits = model.forward(tokens[:, prev_pos:cur_pos], prev_pos)
        record.append(logits[:, -1])
        if temperature > 0:
            probs = lib.softmax(logits[:, -1] / temperature, dim=-1).to(lib.bfloat16)
            next_token = sample_top_p(lib, probs, 0.9, generator)
        else:
            next_token = lib.argmax(logits[:, -1], dim=-1)
        next_token = next_token.reshape(-1)
        next_token = lib.where(input_text_mask[:, cur_pos], tokens[:, cur_pos], next_token)
        tokens[:, cur_pos] = next_token
        if logprobs:
            token_logprobs[:, prev_pos + 1 : cur_pos + 1] = -F.cross_entropy(
                input=logits.transpose(1, 2),
                target=tokens[:, prev_pos + 1 : cur_pos + 1],
                reduction="none",
                ignore_index=pad_id,
            )
        eos_reached |= (~input_text_mask[:, cur_pos]) & (lib.isin(next_token, stop_tokens))
        prev_pos = cur_pos
        if all(eos_reached):
            break
    record += [tokens, token_logprobs, eos_reached, model.layers[0].attention.cache_k]
    return model, record


@pytest.mark.parametrize("temperature", [0.0, 0.8])
def test_llama3_bfloat16_inference_with_a_kv_cache_and_top_p_sampling_as_torch(temperature):
    trained_on_both(
        lambda lib: build_llama3(lib),
        lambda lib, ref: llama3_generate(lib, ref, temperature),
        rtol=2e-2,
        atol=2e-2,
    )
