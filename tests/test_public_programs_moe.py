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


N_GROUPS, TOPK_GROUPS, ROUTE_SCALE = 2, 1, 2.5


def build_deepseek(lib):
    """DeepSeek-V3's ``Gate`` (sigmoid scores, a bias for the selection only, group-limited routing) and
    ``MoE`` (bincount of the choices, ``where`` per expert, ``y[idx] +=``, a shared expert), with
    DeepSeek-V2's sort-based inference path ``moe_infer``."""
    nn, F = lib.nn, lib.nn.functional
    Expert = build(lib, "index_add")().moe.experts[0].__class__

    class Gate(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(lib.empty(EXPERTS, DIM))
            self.bias = nn.Parameter(lib.empty(EXPERTS))
            nn.init.normal_(self.weight, std=0.3)
            nn.init.normal_(self.bias, std=0.1)

        def forward(self, x):
            scores = F.linear(x, self.weight).sigmoid()
            original_scores = scores
            scores = (scores + self.bias).view(x.size(0), N_GROUPS, -1)
            group_scores = scores.topk(2, dim=-1)[0].sum(dim=-1)
            indices = group_scores.topk(TOPK_GROUPS, dim=-1)[1]
            mask = scores.new_ones(x.size(0), N_GROUPS, dtype=bool).scatter_(1, indices, False)
            scores = scores.masked_fill_(mask.unsqueeze(-1), float("-inf")).flatten(1)
            indices = lib.topk(scores, TOP_K, dim=-1)[1]
            weights = original_scores.gather(1, indices)
            weights /= weights.sum(dim=-1, keepdim=True)
            weights *= ROUTE_SCALE
            return weights.type_as(x), indices

    class MoE(nn.Module):
        def __init__(self):
            super().__init__()
            self.gate = Gate()
            self.experts = nn.ModuleList([Expert() for _ in range(EXPERTS)])
            self.shared_experts = Expert()

        def forward(self, x):
            shape = x.size()
            x = x.view(-1, DIM)
            weights, indices = self.gate(x)
            y = lib.zeros_like(x)
            counts = lib.bincount(indices.flatten(), minlength=EXPERTS).tolist()
            for i in range(EXPERTS):
                if counts[i] == 0:
                    continue
                idx, top = lib.where(indices == i)
                y[idx] += self.experts[i](x[idx]) * weights[idx, top, None]
            return (y + self.shared_experts(x)).view(shape)

        @lib.no_grad()
        def moe_infer(self, x):
            x = x.view(-1, DIM)
            topk_weight, topk_ids = self.gate(x)
            cnts = topk_ids.new_zeros((topk_ids.shape[0], len(self.experts)))
            cnts.scatter_(1, topk_ids, 1)
            tokens_per_expert = cnts.sum(dim=0)
            idxs = topk_ids.view(-1).argsort()
            sorted_tokens = x[idxs // topk_ids.shape[1]]
            outputs, start_idx = [], 0
            for i, num_tokens in enumerate(tokens_per_expert.cpu().numpy()):
                end_idx = start_idx + num_tokens
                if num_tokens == 0:
                    continue
                outputs.append(self.experts[i](sorted_tokens[start_idx:end_idx]))
                start_idx = end_idx
            outs = lib.cat(outputs, dim=0) if len(outputs) else sorted_tokens.new_empty(0)
            new_x = lib.empty_like(outs)
            new_x[idxs] = outs
            routed = new_x.view(*topk_ids.shape, -1).type(topk_weight.dtype).mul_(topk_weight.unsqueeze(dim=-1))
            return routed.sum(dim=1).type(new_x.dtype) + self.shared_experts(x)

    return MoE


HIDDEN_STATES = np.random.default_rng(1).standard_normal((3, 5, DIM)).astype(np.float32)


def train_deepseek(lib, reference):
    model = build_deepseek(lib)()
    copy_weights(reference, model)
    optimizer = lib.optim.AdamW(model.parameters(), lr=1e-2)
    x = lib.tensor(HIDDEN_STATES)
    record = []
    for _ in range(3):
        loss = model(x).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss, model.gate(x.view(-1, DIM))[1]]
    return model, record + [p.grad for p in model.parameters()]


def test_deepseek_group_limited_routing_trains_as_torch():
    torch.manual_seed(0)
    reference = build_deepseek(torch)()
    theirs, their_record = train_deepseek(torch, reference)
    ours, our_record = train_deepseek(ember, reference)
    assert_same_run(our_record, their_record)
    assert_same_models(ours, theirs)


def test_deepseek_sorted_inference_matches_torch_and_the_training_path():
    torch.manual_seed(0)
    reference = build_deepseek(torch)()
    ours = build_deepseek(ember)()
    copy_weights(reference, ours)
    x = HIDDEN_STATES
    expected = reference.moe_infer(torch.tensor(x))
    assert_same_run([ours.moe_infer(ember.tensor(x))], [expected])
    np.testing.assert_allclose(
        expected.numpy(), reference(torch.tensor(x)).detach().numpy().reshape(-1, DIM), rtol=1e-5, atol=1e-6
    )
