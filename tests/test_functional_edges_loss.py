"""Losses off the main road, against PyTorch."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _F(T):
    return T.nn.functional


# a weight or pos_weight that would widen the loss: PyTorch weighs in place and refuses
WIDENING = [
    ("bce_weight", lambda T: _F(T).binary_cross_entropy(T.full((3, 5), 0.5), T.zeros(3, 5), weight=T.ones(2, 3, 5))),
    ("bce_weight_column", lambda T: _F(T).binary_cross_entropy(T.full((3, 5), 0.5), T.zeros(3, 5), weight=T.ones(3, 5, 1))),
    ("bce_logits_weight", lambda T: _F(T).binary_cross_entropy_with_logits(T.zeros(3, 5), T.zeros(3, 5), weight=T.ones(2, 3, 1))),
    ("bce_logits_pos_weight", lambda T: _F(T).binary_cross_entropy_with_logits(T.zeros(3, 5), T.zeros(3, 5), pos_weight=T.ones(4, 1, 1))),
    ("bce_logits_pos_weight_none", lambda T: _F(T).binary_cross_entropy_with_logits(
        T.zeros(3, 5), T.zeros(3, 5), pos_weight=T.ones(2, 1, 5), reduction="none")),
]  # fmt: skip


@pytest.mark.parametrize("call", [c for _, c in WIDENING], ids=[i for i, _ in WIDENING])
def test_a_weight_that_widens_the_loss_is_refused(call):
    with pytest.raises(RuntimeError) as expected:
        call(torch)
    with pytest.raises(RuntimeError) as got:
        call(ember)
    assert str(got.value) == str(expected.value) or "broadcast" in str(got.value)


@pytest.mark.parametrize("shape1, shape2", [((4, 5), (1, 5)), ((4, 5), (4, 1)), ((1, 5), (4, 5)), ((5,), (1,))])
@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_cosine_embedding_loss_broadcasts_its_inputs(shape1, shape2, reduction):
    # PyTorch checks the inputs' ranks only: a batch against one reference vector raised "expected input1
    # and input2 to have the same shape"
    target = [1, -1, 1, -1] if len(shape1) == 2 else 1
    results = []
    for T in (torch, ember):
        gen = np.random.default_rng(0)
        a = T.tensor(gen.uniform(-1, 1, shape1), requires_grad=True)
        b = T.tensor(gen.uniform(-1, 1, shape2), requires_grad=True)
        loss = T.nn.functional.cosine_embedding_loss(a, b, T.tensor(target), margin=0.2, reduction=reduction)
        loss.sum().backward()
        results.append([np.asarray(v.tolist()) for v in (loss, a.grad, b.grad)])
    for got, expected in zip(results[1], results[0]):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
