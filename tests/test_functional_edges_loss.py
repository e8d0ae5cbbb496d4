"""Losses off the main road, against PyTorch."""

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
