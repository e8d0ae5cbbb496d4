"""The ops newly wired to the autocast policy consult the table of their tensors' device type:
with cuda's table standing in for cpu's (no GPU is needed to check the casts), each gives the
dtype its cuda category says (PyTorch's CUDA autocast op reference): layer/group/rms_norm, pow,
logsumexp, norm, cosine_similarity, pdist, softplus and interpolate in float32; mv, addmv and
einsum in float16; bilinear and dot promoting; binary_cross_entropy refused. The values are
PyTorch's for the same casts done by hand (PyTorch here is a CPU build)."""

from __future__ import annotations

import numpy as np
import pytest
from reference import torch

import ember
import ember.nn.functional as F
from ember.amp import policy as P

pytest.importorskip("ml_dtypes")
TF = torch.nn.functional

# name -> (fn(module, functional, *inputs), input shapes, the dtype cuda's table gives float16 inputs)
CASES = {
    "layer_norm": (lambda m, f, x: f.layer_norm(x, (5,)), [(4, 5)], "float32"),
    "group_norm": (lambda m, f, x: f.group_norm(x, 2), [(2, 4, 3)], "float32"),
    "rms_norm": (lambda m, f, x: f.rms_norm(x, (5,)), [(4, 5)], "float32"),
    "pow": (lambda m, f, x: m.pow(x, 2), [(4, 5)], "float32"),
    "logsumexp": (lambda m, f, x: m.logsumexp(x, 1), [(4, 5)], "float32"),
    "norm": (lambda m, f, x: m.norm(x), [(4, 5)], "float32"),
    "cosine_similarity": (lambda m, f, a, b: f.cosine_similarity(a, b), [(4, 5), (4, 5)], "float32"),
    "pdist": (lambda m, f, x: f.pdist(x), [(4, 5)], "float32"),
    "softplus": (lambda m, f, x: f.softplus(x), [(4, 5)], "float32"),
    "interpolate": (lambda m, f, x: f.interpolate(x, scale_factor=2, mode="bilinear"), [(1, 2, 3, 3)], "float32"),
    "mse_loss": (lambda m, f, a, b: f.mse_loss(a, b), [(4, 5), (4, 5)], "float32"),
    "mv": (lambda m, f, a, b: m.mv(a, b), [(4, 6), (6,)], "float16"),
    "addmv": (lambda m, f, c, a, b: m.addmv(c, a, b), [(4,), (4, 6), (6,)], "float16"),
    "einsum": (lambda m, f, a, b: m.einsum("i,i->i", a, b), [(6,), (6,)], "float16"),
    "bilinear": (lambda m, f, a, b, w: f.bilinear(a, b.float(), w), [(3, 4), (3, 2), (5, 4, 2)], "float32"),
    "dot": (lambda m, f, a, b: m.dot(a, b.float()), [(6,), (6,)], "float32"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_ops_follow_cudas_table(monkeypatch, name):
    fn, shapes, want = CASES[name]
    rng = np.random.default_rng(sorted(CASES).index(name))
    arrays = [rng.standard_normal(s).astype(np.float16) for s in shapes]
    monkeypatch.setitem(P._CATEGORY, "cpu", P._CATEGORY["cuda"])
    with ember.autocast("cpu", dtype=ember.float16):
        got = fn(ember, F, *(ember.tensor(a) for a in arrays))
    assert got.dtype is getattr(ember, want)
    expected = fn(torch, TF, *(torch.tensor(a).to(getattr(torch, want)) for a in arrays))
    np.testing.assert_allclose(got.double().numpy(), expected.double().numpy(), rtol=4e-3, atol=4e-3)


def test_binary_cross_entropy_is_refused_on_cudas_table(monkeypatch):
    monkeypatch.setitem(P._CATEGORY, "cpu", P._CATEGORY["cuda"])
    x = ember.rand(3).half()
    with ember.autocast("cpu", dtype=ember.float16), pytest.raises(RuntimeError, match="unsafe to autocast"):
        F.binary_cross_entropy(x, x)
