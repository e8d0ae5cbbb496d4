"""The gradient of a sparse COO leaf through products, against PyTorch: ``sparse @ dense`` (and
``mm``/``matmul`` with a sparse first operand) give a dense gradient at every coordinate,
``sparse.mm`` a sparse one at the stored coordinates, and both together their dense sum."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

DENSE = [[0.0, 1.5, 0.0], [-2.0, 0.0, 0.5]]
OTHER = [[1.0, 2.0], [3.0, -4.0], [0.5, 1.0]]
PRODUCTS = {
    "matmul_operator": lambda T, s, d: (s @ d).sum(),
    "mm": lambda T, s, d: T.mm(s, d).sum(),
    "matmul_vector": lambda T, s, d: (T.matmul(s, d[:, 0]) * T.arange(2.0, 4.0, device=d.device)).sum(),
    "sparse_mm": lambda T, s, d: (T.sparse.mm(s, d) * T.arange(1.0, 3.0, device=d.device)).sum(),
    "both": lambda T, s, d: (s @ d).sum() + T.sparse.mm(s, d)[0].sum(),
    "dense_at_sparse": lambda T, s, d: ((d @ s) * T.arange(1.0, 4.0, device=d.device)).sum(),
}


def _as_dense(grad):
    return grad.to_dense() if grad.is_sparse else grad


@pytest.mark.parametrize("case", sorted(PRODUCTS))
def test_sparse_leaf_grad_like_torch(device, dtype, case):
    results = []
    for T, dev, dt in ((torch, "cpu", torch.float64), (ember, device, dtype)):
        s = T.tensor(DENSE, dtype=dt, device=dev).to_sparse().requires_grad_()
        d = T.tensor(OTHER, dtype=dt, device=dev, requires_grad=True)
        PRODUCTS[case](T, s, d).backward()
        results.append((s.grad.is_sparse, _as_dense(s.grad), d.grad))
    (t_sparse, t_grad, t_other), (e_sparse, e_grad, e_other) = results
    assert e_sparse == t_sparse
    np.testing.assert_allclose(e_grad.cpu().numpy(), t_grad.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(e_other.cpu().numpy(), t_other.numpy(), rtol=1e-6)


def test_product_value_unchanged_and_no_grad_path(device):
    s = ember.tensor(DENSE, device=device).to_sparse().requires_grad_()
    d = ember.tensor(OTHER, device=device)
    want = torch.tensor(DENSE).to_sparse() @ torch.tensor(OTHER)
    np.testing.assert_allclose((s @ d).detach().cpu().numpy(), want.numpy(), rtol=1e-6)
    with ember.no_grad():
        assert not (s @ d).requires_grad
    assert s.grad is None
