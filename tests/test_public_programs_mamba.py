"""A Mamba block as ``mamba-minimal`` and the reference path of ``mamba_ssm`` (``selective_scan_ref``,
``MambaBlock.step``) write it, run on ember and on torch from the same weights.

``in_proj`` + ``split``; a causal depthwise ``Conv1d`` (``padding=d_conv - 1``, then sliced to the
sequence length); ``softplus`` of ``dt_proj``; ``A = -exp(A_log)``; the discretisation by ``einsum``;
the selective scan both as a sequential loop over time (``stack`` of the states read out by
``einsum``) and in parallel from a segment sum (``cumsum``, ``tril`` masks, ``masked_fill(-inf)``,
``exp``); AdamW training; and decoding one token at a time from a conv state rolled with ``roll``
and an SSM state, checked against the full forward.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from public_programs import assert_same_models, assert_same_run, copy_weights, torch

import ember

D_MODEL, D_STATE, D_CONV, EXPAND, VOCAB = 8, 4, 4, 2, 11
D_INNER = EXPAND * D_MODEL
DT_RANK = math.ceil(D_MODEL / 16)


def build(lib, scan: str):
    nn, F = lib.nn, lib.nn.functional

    def segsum(x):
        """Sums of ``x`` over every segment ``(s, t]``: ``out[..., t, s]``, ``-inf`` above the diagonal."""
        length = x.size(-1)
        x = x[..., None].expand(*x.shape, length)
        x = x.masked_fill(~lib.tril(lib.ones(length, length, dtype=lib.bool, device=x.device), diagonal=-1), 0)
        x_segsum = lib.cumsum(x, dim=-2)
        return x_segsum.masked_fill(~lib.tril(lib.ones(length, length, dtype=lib.bool, device=x.device)), -lib.inf)

    def selective_scan(u, delta, A, B, C, D):
        b, l, d_in = u.shape
        deltaA = lib.einsum("bld,dn->bldn", delta, A)
        deltaB_u = lib.einsum("bld,bln,bld->bldn", delta, B, u)
        if scan == "sequential":
            x = lib.zeros((b, d_in, A.shape[1]), device=u.device)
            ys = []
            for i in range(l):
                x = lib.exp(deltaA[:, i]) * x + deltaB_u[:, i]
                ys.append(lib.einsum("bdn,bn->bd", x, C[:, i, :]))
            y = lib.stack(ys, dim=1)
        else:
            decay = lib.exp(segsum(deltaA.permute(0, 2, 3, 1)))  # (b, d, n, t, s)
            y = lib.einsum("bdnts,bsdn,btn->btd", decay, deltaB_u, C)
        return y + u * D

    class MambaBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.in_proj = nn.Linear(D_MODEL, D_INNER * 2, bias=False)
            self.conv1d = nn.Conv1d(D_INNER, D_INNER, D_CONV, groups=D_INNER, padding=D_CONV - 1)
            self.x_proj = nn.Linear(D_INNER, DT_RANK + D_STATE * 2, bias=False)
            self.dt_proj = nn.Linear(DT_RANK, D_INNER, bias=True)
            A = lib.arange(1, D_STATE + 1, dtype=lib.float32).repeat(D_INNER, 1)
            self.A_log = nn.Parameter(lib.log(A))
            self.D = nn.Parameter(lib.ones(D_INNER))
            self.out_proj = nn.Linear(D_INNER, D_MODEL, bias=False)
            dt = lib.exp(lib.rand(D_INNER) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3)).clamp(min=1e-4)
            with lib.no_grad():
                self.dt_proj.bias.copy_(dt + lib.log(-lib.expm1(-dt)))

        def ssm_inputs(self, x):
            delta, B, C = self.x_proj(x).split(split_size=[DT_RANK, D_STATE, D_STATE], dim=-1)
            return F.softplus(self.dt_proj(delta)), B, C

        def forward(self, x):
            _, l, _ = x.shape
            x, res = self.in_proj(x).split(split_size=[D_INNER, D_INNER], dim=-1)
            x = self.conv1d(x.transpose(1, 2))[:, :, :l].transpose(1, 2)
            x = F.silu(x)
            delta, B, C = self.ssm_inputs(x)
            y = selective_scan(x, delta, -lib.exp(self.A_log.float()), B, C, self.D.float())
            return self.out_proj(y * F.silu(res))

        def step(self, x, conv_state, ssm_state):
            x, res = self.in_proj(x).chunk(2, dim=-1)
            conv_state.copy_(lib.roll(conv_state, shifts=-1, dims=-1))
            conv_state[:, :, -1] = x
            x = lib.sum(conv_state * self.conv1d.weight.squeeze(1), dim=-1) + self.conv1d.bias
            x = F.silu(x)
            delta, B, C = self.ssm_inputs(x)
            A = -lib.exp(self.A_log.float())
            dA = lib.exp(lib.einsum("bd,dn->bdn", delta, A))
            dB = lib.einsum("bd,bn->bdn", delta, B)
            ssm_state.copy_(ssm_state * dA + x.unsqueeze(-1) * dB)
            y = lib.einsum("bdn,bn->bd", ssm_state, C) + self.D * x
            return self.out_proj(y * F.silu(res))

    class RMSNorm(nn.Module):
        def __init__(self, d, eps=1e-5):
            super().__init__()
            self.eps = eps
            self.weight = nn.Parameter(lib.ones(d))

        def forward(self, x):
            return x * lib.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight

    class Mamba(nn.Module):
        def __init__(self, n_layers=2):
            super().__init__()
            self.embedding = nn.Embedding(VOCAB, D_MODEL)
            self.layers = nn.ModuleList([MambaBlock() for _ in range(n_layers)])
            self.norms = nn.ModuleList([RMSNorm(D_MODEL) for _ in range(n_layers)])
            self.norm_f = RMSNorm(D_MODEL)
            self.lm_head = nn.Linear(D_MODEL, VOCAB, bias=False)
            self.lm_head.weight = self.embedding.weight

        def forward(self, tokens):
            x = self.embedding(tokens)
            for norm, layer in zip(self.norms, self.layers):
                x = layer(norm(x)) + x
            return self.lm_head(self.norm_f(x))

        @lib.no_grad()
        def decode(self, tokens):
            b = tokens.shape[0]
            states = [(lib.zeros(b, D_INNER, D_CONV), lib.zeros(b, D_INNER, D_STATE)) for _ in range(len(self.layers))]
            logits = []
            for t in range(tokens.shape[1]):
                x = self.embedding(tokens[:, t])
                for norm, layer, (conv_state, ssm_state) in zip(self.norms, self.layers, states):
                    x = layer.step(norm(x), conv_state, ssm_state) + x
                logits.append(self.lm_head(self.norm_f(x)))
            return lib.stack(logits, dim=1)

    return Mamba


TOKENS = np.random.default_rng(0).integers(0, VOCAB, (2, 9))


def train(lib, reference, scan):
    model = build(lib, scan)()
    copy_weights(reference, model)
    optimizer = lib.optim.AdamW(model.parameters(), lr=5e-3)
    tokens = lib.tensor(TOKENS)
    record = []
    for _ in range(3):
        logits = model(tokens[:, :-1])
        loss = lib.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), tokens[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record.append(loss)
    record += [p.grad for p in model.parameters()]
    with lib.no_grad():
        record += [model(tokens), model.decode(tokens)]
    return model, record


@pytest.mark.parametrize("scan", ["sequential", "parallel"])
def test_mamba_trains_and_decodes_as_torch(scan):
    torch.manual_seed(0)
    reference = build(torch, scan)()
    theirs, their_record = train(torch, reference, scan)
    ours, our_record = train(ember, reference, scan)
    assert_same_run(our_record, their_record)
    assert_same_models(ours, theirs)
    full, stepped = our_record[-2:]
    np.testing.assert_allclose(stepped.numpy(), full.numpy(), rtol=1e-4, atol=1e-5)


def ssd_minimal_discrete(lib, X, A, B, C, block_len, initial_states=None):
    """Mamba-2's ``ssd_minimal_discrete``: the state-space dual computed chunk by chunk.

    X (batch, length, heads, head_dim); A (batch, length, heads); B, C (batch, length, heads, d_state).
    """
    F = lib.nn.functional

    def chunked(x):
        return x.reshape(x.shape[0], x.shape[1] // block_len, block_len, *x.shape[2:])

    def segsum(x):
        length = x.size(-1)
        x = x[..., None].expand(*x.shape, length)
        x = x.masked_fill(~lib.tril(lib.ones(length, length, dtype=bool, device=x.device), diagonal=-1), 0)
        x_segsum = lib.cumsum(x, dim=-2)
        return x_segsum.masked_fill(~lib.tril(lib.ones(length, length, dtype=bool, device=x.device)), -lib.inf)

    X, A, B, C = (chunked(x) for x in (X, A, B, C))
    A = A.permute(0, 3, 1, 2)
    A_cumsum = lib.cumsum(A, dim=-1)
    L = lib.exp(segsum(A))
    Y_diag = lib.einsum("bclhn,bcshn,bhcls,bcshp->bclhp", C, B, L, X)
    decay_states = lib.exp(A_cumsum[:, :, :, -1:] - A_cumsum)
    states = lib.einsum("bclhn,bhcl,bclhp->bchpn", B, decay_states, X)
    if initial_states is None:
        initial_states = lib.zeros_like(states[:, :1])
    states = lib.cat([initial_states, states], dim=1)
    decay_chunk = lib.exp(segsum(F.pad(A_cumsum[:, :, :, -1], (1, 0))))
    new_states = lib.einsum("bhzc,bchpn->bzhpn", decay_chunk, states)
    states, final_state = new_states[:, :-1], new_states[:, -1]
    Y_off = lib.einsum("bclhn,bchpn,bhcl->bclhp", C, states, lib.exp(A_cumsum))
    Y = Y_diag + Y_off
    return Y.reshape(Y.shape[0], -1, *Y.shape[3:]), final_state


def ssd_run(lib):
    rng = np.random.default_rng(1)
    batch, length, heads, head_dim, d_state = 2, 8, 3, 4, 5
    x = lib.tensor(rng.standard_normal((batch, length, heads, head_dim)).astype(np.float32), requires_grad=True)
    dt = lib.nn.functional.softplus(lib.tensor(rng.standard_normal((batch, length, heads)).astype(np.float32)))
    A = -lib.exp(lib.tensor(rng.standard_normal(heads).astype(np.float32), requires_grad=True))
    B, C = (lib.tensor(rng.standard_normal((batch, length, heads, d_state)).astype(np.float32)) for _ in "BC")
    Y, final_state = ssd_minimal_discrete(lib, x * dt.unsqueeze(-1), A * dt, B, C, block_len=4)
    (Y.square().mean() + final_state.sum()).backward()
    state, ys = lib.zeros(batch, heads, head_dim, d_state), []  # the same recurrence, one step at a time
    for t in range(length):
        decay = lib.exp(A * dt[:, t])[..., None, None]
        state = decay * state + lib.einsum("bhp,bhn->bhpn", x[:, t] * dt[:, t, :, None], B[:, t])
        ys.append(lib.einsum("bhpn,bhn->bhp", state, C[:, t]))
    return [Y, final_state, x.grad, lib.stack(ys, dim=1), state]


def test_mamba2_state_space_duality_matches_torch_and_the_recurrence():
    ours, theirs = ssd_run(ember), ssd_run(torch)
    assert_same_run(ours, theirs)
    np.testing.assert_allclose(ours[3].detach().numpy(), ours[0].detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours[4].detach().numpy(), ours[1].detach().numpy(), rtol=1e-4, atol=1e-5)
