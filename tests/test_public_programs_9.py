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
"""

from __future__ import annotations

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
            for k in range(self.block_size):
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
