"""A sparse Mixture-of-Experts layer as Hugging Face's Mixtral (``MixtralSparseMoeBlock``) and the
sort-based dispatch of MegaBlocks-style implementations write it, run on ember and on torch from the
same weights.

Router ``softmax(dtype=float)`` + ``topk`` + renormalisation; Mixtral's dispatch through
``one_hot(...).permute``, ``where`` and ``index_add_``; a sort-based dispatch through ``argsort``
(stable), ``bincount(minlength=)``, ``split`` by the counts' ``tolist()`` and ``scatter_add_``;
the Switch/Mixtral load-balancing loss and the router z-loss (``logsumexp``); Adam over a few steps.
"""

from __future__ import annotations

import numpy as np
import pytest
from public_programs import assert_same_models, assert_same_run, copy_weights, torch

import ember

DIM, HIDDEN, EXPERTS, TOP_K = 12, 24, 4, 2


def build(lib, dispatch: str):
    nn, F = lib.nn, lib.nn.functional

    class Expert(nn.Module):
        def __init__(self):
            super().__init__()
            self.w1 = nn.Linear(DIM, HIDDEN, bias=False)
            self.w2 = nn.Linear(HIDDEN, DIM, bias=False)
            self.w3 = nn.Linear(DIM, HIDDEN, bias=False)

        def forward(self, x):
            return self.w2(F.silu(self.w1(x)) * self.w3(x))

    class SparseMoeBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.gate = nn.Linear(DIM, EXPERTS, bias=False)
            self.experts = nn.ModuleList([Expert() for _ in range(EXPERTS)])

        def forward(self, hidden_states):
            batch, seq, dim = hidden_states.shape
            hidden_states = hidden_states.view(-1, dim)
            router_logits = self.gate(hidden_states)
            routing_weights = F.softmax(router_logits, dim=1, dtype=lib.float)
            routing_weights, selected_experts = lib.topk(routing_weights, TOP_K, dim=-1)
            routing_weights /= routing_weights.sum(dim=-1, keepdim=True)
            routing_weights = routing_weights.to(hidden_states.dtype)
            final = lib.zeros((batch * seq, dim), dtype=hidden_states.dtype, device=hidden_states.device)
            if dispatch == "index_add":
                expert_mask = F.one_hot(selected_experts, num_classes=EXPERTS).permute(2, 1, 0)
                for expert_idx in range(EXPERTS):
                    idx, top_x = lib.where(expert_mask[expert_idx])
                    current_state = hidden_states[None, top_x].reshape(-1, dim)
                    current = self.experts[expert_idx](current_state) * routing_weights[top_x, idx, None]
                    final.index_add_(0, top_x, current.to(hidden_states.dtype))
            else:
                flat_experts = selected_experts.flatten()
                order = lib.argsort(flat_experts, stable=True)
                counts = lib.bincount(flat_experts, minlength=EXPERTS)
                token_ids = order // TOP_K
                weights = routing_weights.view(-1)[order].unsqueeze(-1)
                chunks = hidden_states[token_ids].split(counts.tolist(), dim=0)
                outputs = lib.cat([expert(chunk) for expert, chunk in zip(self.experts, chunks)]) * weights
                final = final.scatter_add(0, token_ids.unsqueeze(-1).expand(-1, dim), outputs)
            return final.reshape(batch, seq, dim), router_logits

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(20, DIM)
            self.norm = nn.LayerNorm(DIM)
            self.moe = SparseMoeBlock()
            self.head = nn.Linear(DIM, 20)

        def forward(self, tokens):
            h = self.embed(tokens)
            moe_out, router_logits = self.moe(self.norm(h))
            return self.head(h + moe_out), router_logits

    return Model


def load_balancing_loss(lib, gate_logits, num_experts, top_k):
    """transformers' ``load_balancing_loss_func`` without an attention mask."""
    routing_weights = lib.nn.functional.softmax(gate_logits, dim=-1)
    _, selected_experts = lib.topk(routing_weights, top_k, dim=-1)
    expert_mask = lib.nn.functional.one_hot(selected_experts, num_experts)
    tokens_per_expert = lib.mean(expert_mask.float(), dim=0)
    router_prob_per_expert = lib.mean(routing_weights, dim=0)
    return lib.sum(tokens_per_expert * router_prob_per_expert.unsqueeze(0)) * num_experts


def router_z_loss(lib, router_logits):
    """ST-MoE's z-loss: the squared log-partition function of the router."""
    return lib.mean(lib.logsumexp(router_logits, dim=-1) ** 2)


TOKENS = np.random.default_rng(0).integers(0, 20, (3, 7))


def train(lib, reference, dispatch):
    model = build(lib, dispatch)()
    copy_weights(reference, model)
    optimizer = lib.optim.Adam(model.parameters(), lr=3e-3)
    tokens = lib.tensor(TOKENS)
    record = []
    for _ in range(3):
        logits, router_logits = model(tokens[:, :-1])
        ce = lib.nn.functional.cross_entropy(logits.flatten(0, 1), tokens[:, 1:].flatten())
        aux = load_balancing_loss(lib, router_logits, EXPERTS, TOP_K)
        z = router_z_loss(lib, router_logits)
        loss = ce + 0.01 * aux + 1e-3 * z
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss, aux, z, router_logits.topk(TOP_K, dim=-1).indices]
    return model, record + [p.grad for p in model.parameters()]


@pytest.mark.parametrize("dispatch", ["index_add", "sort"])
def test_mixture_of_experts_trains_as_torch(dispatch):
    torch.manual_seed(0)
    reference = build(torch, dispatch)()
    theirs, their_record = train(torch, reference, dispatch)
    ours, our_record = train(ember, reference, dispatch)
    assert_same_run(our_record, their_record)
    assert_same_models(ours, theirs)
