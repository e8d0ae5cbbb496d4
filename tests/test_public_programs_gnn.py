"""Message-passing graph networks as ``torch_geometric`` (GCNConv, SAGEConv, GATConv, global pooling)
and ``pyGCN`` write them with plain tensor ops, run on ember and on torch from the same weights.

Self-loops by ``arange(...).repeat``, degrees by ``bincount`` (and ``torch.sparse.sum`` of a COO
adjacency), symmetric normalisation with ``pow(-0.5)`` and ``inf`` masked to 0, gathering with
``index_select`` and advanced indexing, aggregation with ``index_add_``, ``scatter_add`` and
``scatter_reduce`` (``mean``/``amax``/``amin``, with and without ``include_self``), a segment softmax
over incoming edges (``scatter_reduce('amax')``, ``exp``, ``index_add_``), graph pooling by sum/count
and by ``amax``, one node without incoming edges; Adam with weight decay.
"""

from __future__ import annotations

import numpy as np
import pytest
from public_programs import assert_same_models, assert_same_run, copy_weights, torch

import ember

NODES, GRAPHS = 12, 3


def build(lib, aggregation):
    nn, F = lib.nn, lib.nn.functional

    def segment_softmax(src, index, num_nodes):
        expanded = index.view(-1, 1).expand_as(src)
        start = lib.full((num_nodes, src.size(1)), float("-inf"), dtype=src.dtype)
        largest = start.scatter_reduce(0, expanded, src, reduce="amax", include_self=True)
        out = (src - largest.index_select(0, index)).exp()
        total = lib.zeros((num_nodes, src.size(1)), dtype=src.dtype).index_add_(0, index, out)
        return out / (total.index_select(0, index) + 1e-16)

    class GCNConv(nn.Module):
        def __init__(self, in_channels, out_channels):
            super().__init__()
            self.lin = nn.Linear(in_channels, out_channels, bias=False)
            self.bias = nn.Parameter(lib.zeros(out_channels))

        def forward(self, x, edge_index):
            n = x.size(0)
            loops = lib.arange(n).unsqueeze(0).repeat(2, 1)
            row, col = lib.cat([edge_index, loops], dim=1)
            if aggregation == "sparse_degree":
                adjacency = lib.sparse_coo_tensor(lib.stack([col, row]), lib.ones(row.numel()), (n, n))
                degree = lib.sparse.sum(adjacency, dim=1).to_dense()
            else:
                degree = lib.bincount(col, minlength=n).to(x.dtype)
            inv_sqrt = degree.pow(-0.5)
            inv_sqrt[inv_sqrt == float("inf")] = 0
            norm = inv_sqrt[row] * inv_sqrt[col]
            h = self.lin(x)
            messages = norm.view(-1, 1) * h.index_select(0, row)
            return lib.zeros_like(h).index_add_(0, col, messages) + self.bias

    class SAGEConv(nn.Module):
        def __init__(self, in_channels, out_channels):
            super().__init__()
            self.lin_l = nn.Linear(in_channels, out_channels)
            self.lin_r = nn.Linear(in_channels, out_channels, bias=False)

        def forward(self, x, edge_index):
            src, dst = edge_index
            messages = x[src]
            index = dst.unsqueeze(-1).expand_as(messages)
            out = lib.zeros(x.size(0), x.size(1), dtype=x.dtype)
            if aggregation == "mean":
                out = out.scatter_reduce(0, index, messages, reduce="mean", include_self=False)
            elif aggregation == "max":
                out = out.scatter_reduce(0, index, messages, reduce="amax", include_self=False)
            elif aggregation == "min_with_self":
                out = x.clone().scatter_reduce(0, index, messages, reduce="amin", include_self=True)
            elif aggregation == "mean_with_self":
                out = x.clone().scatter_reduce(0, index, messages, reduce="mean", include_self=True)
            else:
                out = out.scatter_add(0, index, messages)
            return self.lin_l(out) + self.lin_r(x)

    class GATConv(nn.Module):
        def __init__(self, in_channels, out_channels, heads):
            super().__init__()
            self.heads, self.out_channels = heads, out_channels
            self.lin = nn.Linear(in_channels, heads * out_channels, bias=False)
            self.att_src = nn.Parameter(lib.empty(1, heads, out_channels))
            self.att_dst = nn.Parameter(lib.empty(1, heads, out_channels))
            nn.init.xavier_uniform_(self.att_src)
            nn.init.xavier_uniform_(self.att_dst)

        def forward(self, x, edge_index):
            n = x.size(0)
            h = self.lin(x).view(-1, self.heads, self.out_channels)
            alpha_src, alpha_dst = (h * self.att_src).sum(-1), (h * self.att_dst).sum(-1)
            src, dst = edge_index
            alpha = segment_softmax(F.leaky_relu(alpha_src[src] + alpha_dst[dst], 0.2), dst, n)
            out = lib.zeros(n, self.heads, self.out_channels, dtype=x.dtype)
            out.index_add_(0, dst, h[src] * alpha.unsqueeze(-1))
            return out.mean(dim=1), alpha

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2, self.conv3 = GCNConv(5, 8), SAGEConv(8, 8), GATConv(8, 4, 2)
            self.out = nn.Linear(4, 3)

        def forward(self, x, edge_index, batch):
            x = F.relu(self.conv1(x, edge_index))
            x = F.elu(self.conv2(x, edge_index))
            x, alpha = self.conv3(x, edge_index)
            count = lib.bincount(batch, minlength=GRAPHS).clamp(min=1).unsqueeze(-1)
            mean_pool = lib.zeros(GRAPHS, x.size(1)).index_add_(0, batch, x) / count
            index = batch.view(-1, 1).expand_as(x)
            max_pool = lib.zeros(GRAPHS, x.size(1)).scatter_reduce(0, index, x, "amax", include_self=False)
            return self.out(mean_pool + max_pool), alpha

    return Net


_rng = np.random.default_rng(0)
FEATURES = _rng.standard_normal((NODES, 5)).astype(np.float32)
EDGES = _rng.integers(0, NODES - 1, (2, 30))  # the last node has no incoming edge
BATCH = np.sort(_rng.integers(0, GRAPHS, NODES))
LABELS = np.array([0, 2, 1])


def train(lib, reference, aggregation):
    model = build(lib, aggregation)()
    copy_weights(reference, model)
    optimizer = lib.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    x, edges, batch = lib.tensor(FEATURES), lib.tensor(EDGES), lib.tensor(BATCH)
    record = []
    for _ in range(3):
        logits, alpha = model(x, edges, batch)
        loss = lib.nn.functional.nll_loss(lib.log_softmax(logits, -1), lib.tensor(LABELS))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record += [loss, logits, alpha]
    return model, record + [p.grad for p in model.parameters()]


@pytest.mark.parametrize("aggregation", ["mean", "max", "sum", "min_with_self", "mean_with_self", "sparse_degree"])
def test_message_passing_network_training_matches_torch(aggregation):
    torch.manual_seed(0)
    reference = build(torch, aggregation)()
    theirs, their_record = train(torch, reference, aggregation)
    ours, our_record = train(ember, reference, aggregation)
    assert_same_run(our_record, their_record)
    assert_same_models(ours, theirs)
