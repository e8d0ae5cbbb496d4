"""``sparse + dense`` against PyTorch: refused with PyTorch's RuntimeError (``add(sparse, dense)``),
while ``dense + sparse`` gives the dense sum, and a sparse ``.grad`` meeting a dense gradient
accumulates in the order PyTorch allows."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

DENSE = [[0.0, 1.5], [-2.0, 0.0]]
OTHER = [[1.0, 2.0], [3.0, 4.0]]


def _message(fn):
    with pytest.raises(RuntimeError) as info:
        fn()
    return str(info.value)


@pytest.mark.parametrize("form", ["operator", "method", "function"])
def test_sparse_plus_dense_raises_like_torch(device, form):
    calls = {
        "operator": lambda T, s, d: s + d,
        "method": lambda T, s, d: s.add(d),
        "function": lambda T, s, d: T.add(s, d),
    }[form]
    want = _message(lambda: calls(torch, torch.tensor(DENSE).to_sparse(), torch.tensor(OTHER)))
    s = ember.tensor(DENSE, device=device).to_sparse()
    got = _message(lambda: calls(ember, s, ember.tensor(OTHER, device=device)))
    assert got == want


def test_dense_plus_sparse_is_dense_like_torch(device):
    want = torch.tensor(OTHER) + torch.tensor(DENSE).to_sparse()
    got = ember.tensor(OTHER, device=device) + ember.tensor(DENSE, device=device).to_sparse()
    assert got.layout == ember.strided and want.layout == torch.strided
    np.testing.assert_allclose(got.cpu().numpy(), want.numpy())


def test_sparse_grad_then_dense_grad_accumulates(device):
    """A sparse embedding gradient followed by a dense one: the leaf's ``.grad`` is their dense sum."""
    results = []
    for T, dev in ((torch, "cpu"), (ember, device)):
        weight = T.tensor(OTHER, device=dev, requires_grad=True)
        index = T.tensor([1, 1], device=dev)
        T.nn.functional.embedding(index, weight, sparse=True).sum().backward()
        (weight * 2).sum().backward()
        assert weight.grad.layout == T.strided
        results.append(weight.grad.cpu().numpy())
    np.testing.assert_allclose(results[1], results[0])
