"""Off the main road, differential against PyTorch: the node of dropout (PyTorch's CPU dropout multiplies by the
scaled mask: ``MulBackward0``; ember named its fused node ``DropoutBackward0``) and of in-place dropout (the
multiplication's node becomes the input's grad_fn; ember recorded a copy, ``CopyBackwards``), with the gradients
each gives."""

from __future__ import annotations

import pytest

import ember

torch = pytest.importorskip("torch")

# name -> f(lib, x): a dropout of the non-leaf x
DROPOUTS = {
    "dropout": lambda L, x: L.nn.functional.dropout(x, 0.5, training=True),
    "dropout inplace": lambda L, x: L.nn.functional.dropout(x, 0.5, training=True, inplace=True),
    "dropout p=1 inplace": lambda L, x: L.nn.functional.dropout(x, 1.0, training=True, inplace=True),
    "dropout2d inplace": lambda L, x: L.nn.functional.dropout2d(x, 0.5, training=True, inplace=True),
    "Dropout(inplace=True)": lambda L, x: L.nn.Dropout(0.3, inplace=True)(x),
}


def _names(node, depth=2):
    if node is None or depth == 0:
        return None
    return node.name(), [_names(n, depth - 1) for n, _ in node.next_functions if n is not None]


@pytest.mark.parametrize("case", list(DROPOUTS))
def test_dropout_nodes(device, case):
    results = []
    for L, d in ((torch, "cpu"), (ember, device)):
        leaf = L.randn(2, 3, 4, 4, dtype=L.float64, device=d, requires_grad=True)
        x = leaf * 2
        y = DROPOUTS[case](L, x)
        if "inplace" in case:
            assert y is x and x._version == 1
        results.append(_names(y.grad_fn))
        (y * y).sum().backward()
        # the gradient of y**2 through the dropout: 2 y times the scaled mask, times the 2 of x = 2 * leaf
        scale = 0 if "p=1" in case else 1 / (1 - (0.3 if "0.3" in case or "Dropout(" in case else 0.5))
        expected = 2 * y.detach() * (y.detach() != 0).to(y.dtype) * scale * 2
        assert L.allclose(leaf.grad, expected)
    assert results[1] == results[0]
