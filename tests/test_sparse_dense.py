"""Sparse COO tensors meeting dense ones, against torch: to_sparse/to_dense, products, dense + sparse, autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sparse_support import dense_pair

import ember

INDICES = [[0, 1, 1, 3, 0], [2, 0, 2, 1, 2]]  # (0, 2) appears twice: duplicates sum
VALUES = [3.0, -4.0, 5.0, 1.5, 2.0]
SIZE = (4, 3)


def _pair(device, dtype, requires_grad=False):
    ours = ember.sparse_coo_tensor(INDICES, VALUES, SIZE, dtype=dtype, device=device, requires_grad=requires_grad)
    theirs = torch.sparse_coo_tensor(
        INDICES, VALUES, SIZE, dtype=getattr(torch, dtype.name), requires_grad=requires_grad
    )
    return ours, theirs


def _close(ours, theirs, dtype):
    tol = 1e-12 if dtype is ember.float64 else 1e-5
    np.testing.assert_allclose(np.asarray(ours.cpu().detach().numpy()), theirs.detach().numpy(), rtol=tol, atol=tol)


def test_to_sparse_matches_torch(device, dtype):
    x, tx = dense_pair(device, dtype, 3, 4, seed=7)
    x = x * (x > 0.3)
    tx = tx * (tx > 0.3)
    ours, theirs = x.to_sparse(), tx.to_sparse()
    assert ours.layout is ember.sparse_coo and ours.is_coalesced() is theirs.is_coalesced() is True
    assert ours.indices().tolist() == theirs.indices().tolist()
    _close(ours.values(), theirs.values(), dtype)
    _close(ours.to_dense(), theirs.to_dense(), dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)


def test_to_sparse_with_dense_dims_matches_torch(device, dtype):
    x = ember.tensor([[0.0, 0.0, 3.0], [0.0, 0.0, 0.0], [4.0, 0.0, 5.0]], dtype=dtype, device=device)
    tx = torch.tensor(x.cpu().numpy())
    ours, theirs = x.to_sparse(1), tx.to_sparse(1)
    assert ours.indices().tolist() == theirs.indices().tolist()
    _close(ours.values(), theirs.values(), dtype)
    assert ours.sparse_dim() == theirs.sparse_dim() == 1 and ours.dense_dim() == theirs.dense_dim() == 1


def test_to_sparse_of_zeros_and_identity_conversions(device):
    empty = ember.zeros(2, 2, device=device).to_sparse()
    assert empty._nnz() == torch.zeros(2, 2).to_sparse()._nnz() == 0
    s, _ = _pair(device, ember.float32)
    assert s.to_sparse() is s
    d = ember.ones(2, device=device)
    assert d.to_dense() is d


def test_to_sparse_gradient_reaches_stored_entries(device, dtype):
    x, tx = dense_pair(device, dtype, 3, 3, seed=6, requires_grad=True)
    mask = np.eye(3) > 0
    masked = x * ember.tensor(mask, device=device).to(dtype)
    tmasked = tx * torch.tensor(mask).to(tx.dtype)
    (masked.to_sparse().to_dense() * 2).sum().backward()
    (tmasked.to_sparse().to_dense() * 2).sum().backward()
    _close(x.grad, tx.grad, dtype)


@pytest.mark.parametrize("fn", ["sparse.mm", "spmm", "matmul_operator", "mm", "matmul"])
def test_sparse_dense_product_and_gradients_match_torch(fn, device, dtype):
    s, ts = _pair(device, dtype, requires_grad=True)
    d, td = dense_pair(device, dtype, 3, 2, seed=5, requires_grad=True)
    if fn == "sparse.mm":
        ours, theirs = ember.sparse.mm(s, d), torch.sparse.mm(ts, td)
    elif fn == "spmm":
        ours, theirs = ember.spmm(s, d), torch.spmm(ts, td)
    elif fn == "matmul_operator":
        ours, theirs = s @ d, ts @ td
    else:
        ours, theirs = getattr(ember, fn)(s, d), getattr(torch, fn)(ts, td)
    _close(ours, theirs, dtype)
    weights = np.arange(8.0).reshape(4, 2)
    (ours * ember.tensor(weights, dtype=dtype, device=device)).sum().backward()
    (theirs * torch.tensor(weights, dtype=theirs.dtype)).sum().backward()
    _close(d.grad, td.grad, dtype)
    # torch.mm/matmul/@ give the dense gradient at every coordinate, as ember does
    if not ts.grad.is_sparse:
        assert s.grad.layout is ember.strided
        _close(s.grad, ts.grad, dtype)
        return
    # torch.sparse.mm/spmm: sparse and coalesced, torch's gradient at every stored coordinate (a
    # duplicated one counted once) and 0 elsewhere
    assert s.grad.layout is ember.sparse_coo and s.grad.is_coalesced()
    stored = np.zeros(SIZE, dtype=bool)
    stored[tuple(INDICES)] = True
    _close(s.grad.to_dense(), torch.tensor(np.where(stored, ts.grad.to_dense().numpy(), 0.0)), dtype)
    assert s.grad._indices().tolist() == ts.grad.coalesce()._indices().tolist()


def test_sparse_matrix_vector_and_dense_sparse_products(device, dtype):
    s, ts = _pair(device, dtype)
    v, tv = dense_pair(device, dtype, 3, seed=3)
    _close(s @ v, ts @ tv, dtype)
    m, tm = dense_pair(device, dtype, 2, 4, seed=6)
    _close(m @ s, tm @ ts, dtype)
    _close(ember.sparse.mm(s, s.t()).to_dense(), torch.sparse.mm(ts, ts.t()).to_dense(), dtype)


def test_product_shape_error_matches_torch(device):
    s, ts = _pair(device, ember.float32)
    with pytest.raises(RuntimeError) as theirs:
        torch.sparse.mm(ts, torch.ones(4, 2))
    with pytest.raises(RuntimeError) as ours:
        ember.sparse.mm(s, ember.ones(4, 2, device=device))
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("op", ["add", "sub", "add_alpha"])
def test_dense_plus_sparse_matches_torch(op, device, dtype):
    s, ts = _pair(device, dtype, requires_grad=True)
    d, td = dense_pair(device, dtype, *SIZE, seed=sum(SIZE), requires_grad=True)
    if op == "add":
        ours, theirs = d + s, td + ts
    elif op == "sub":
        ours, theirs = d - s, td - ts
    else:
        ours, theirs = ember.add(d, s, alpha=2), torch.add(td, ts, alpha=2)
    assert ours.layout is ember.strided and theirs.layout is torch.strided
    _close(ours, theirs, dtype)
    ours.sum().backward()
    theirs.sum().backward()
    _close(d.grad, td.grad, dtype)


def test_dense_plus_sparse_size_mismatch_is_an_error(device):
    s = ember.sparse_coo_tensor([[0], [0]], [1.0], (2, 4), device=device)
    with pytest.raises(RuntimeError):
        torch.ones(2, 3) + torch.sparse_coo_tensor([[0], [0]], [1.0], (2, 4))
    with pytest.raises(RuntimeError):
        ember.ones(2, 3, device=device) + s


def test_sparse_requires_grad_and_grad_properties(device):
    # coordinates stored once: the gradient per stored value is torch's gradient of the tensor
    indices, values = [[0, 1, 3], [2, 0, 1]], [3.0, -4.0, 1.5]
    s = ember.sparse_coo_tensor(indices, values, SIZE, device=device, requires_grad=True)
    ts = torch.sparse_coo_tensor(indices, values, SIZE, requires_grad=True)
    assert s.requires_grad is ts.requires_grad is True and s.is_leaf and s.grad is None
    (s.to_dense() * 3).sum().backward()
    (ts.to_dense() * 3).sum().backward()
    assert s.grad.layout is ember.sparse_coo
    assert s.grad._indices().tolist() == ts.grad._indices().tolist()
    _close(s.grad._values(), ts.grad._values(), ember.float32)


@pytest.mark.parametrize("route", ["to_dense", "sparse.mm", "coalesce"])
def test_gradient_of_duplicated_coordinates_matches_torch(route, device, dtype):
    """A coordinate stored twice is one element of the tensor: its gradient is counted once."""
    s, ts = _pair(device, dtype, requires_grad=True)
    weights = np.arange(12.0).reshape(SIZE)
    w, tw = ember.tensor(weights, dtype=dtype, device=device), torch.tensor(weights, dtype=ts.dtype)
    if route == "to_dense":
        (s.to_dense() * w).sum().backward()
        (ts.to_dense() * tw).sum().backward()
    elif route == "coalesce":
        (s.coalesce().to_dense() * w).sum().backward()
        (ts.coalesce().to_dense() * tw).sum().backward()
    else:
        (ember.sparse.mm(s, w.t()) * w[:, :3].t().repeat(4, 1)[:4]).sum().backward()
        (torch.sparse.mm(ts, tw.t()) * tw[:, :3].t().repeat(4, 1)[:4]).sum().backward()
    assert s.grad.is_coalesced()
    _close(s.grad.to_dense(), ts.grad.to_dense(), dtype)


def test_coalesced_state_through_to_and_add_matches_torch(device):
    # a graph program's adjacency: dense -> to_sparse() -> .to(device), then sums of such matrices
    dense = [[0.0, 1.0, 2.0], [0.0, 0.0, 3.0], [1.0, 0.0, 0.0]]
    ours, theirs = ember.tensor(dense, device=device).to_sparse(), torch.tensor(dense).to_sparse()
    uncoalesced = ember.sparse_coo_tensor([[0, 0], [1, 1]], [1.0, 2.0], (3, 3), device=device)
    uncoalesced_t = torch.sparse_coo_tensor([[0, 0], [1, 1]], [1.0, 2.0], (3, 3))
    cases = [
        (ours.to(device), theirs.to("cpu")),
        (ours.to(ember.float64), theirs.to(torch.float64)),
        (ours + ours, theirs + theirs),
        (ours.add(ours, alpha=-1), theirs.add(theirs, alpha=-1)),
        (ours + uncoalesced, theirs + uncoalesced_t),
    ]
    for got, want in cases:
        assert got.is_coalesced() == want.is_coalesced()
        if want.is_coalesced():  # torch's uncoalesced sums keep duplicates its own way
            assert got._nnz() == want._nnz()
            np.testing.assert_array_equal(got.indices().cpu().numpy(), want.indices().numpy())
            np.testing.assert_allclose(got.values().cpu().numpy(), want.values().numpy())
        np.testing.assert_allclose(got.to_dense().cpu().numpy(), want.to_dense().numpy())


@pytest.mark.parametrize("dim", [None, 0, 1, -1, (0, 1), (1, 0)])
def test_sparse_sum_matches_torch(dim, device, dtype):
    # torch_geometric-style degrees: torch.sparse.sum(adj, dim=1).to_dense()
    s, ts = _pair(device, dtype, requires_grad=True)
    kwargs = {} if dim is None else {"dim": dim}
    ours, theirs = ember.sparse.sum(s, **kwargs), torch.sparse.sum(ts, **kwargs)
    assert ours.is_sparse is theirs.is_sparse
    if theirs.is_sparse:
        assert ours.is_coalesced() and theirs.is_coalesced()
        assert ours.indices().tolist() == theirs.indices().tolist()
        ours, theirs = ours.to_dense(), theirs.to_dense()
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.") and tuple(ours.shape) == tuple(theirs.shape)
    _close(ours, theirs, dtype)
    weights = np.arange(1.0, 1.0 + max(theirs.numel(), 1)).reshape(tuple(theirs.shape))
    (ours * ember.tensor(weights, dtype=dtype, device=device)).sum().backward()
    (theirs * torch.tensor(weights, dtype=theirs.dtype)).sum().backward()
    _close(s.grad.to_dense(), ts.grad.to_dense(), dtype)


def test_sparse_sum_of_dense_dims_dtype_and_method_match_torch(device):
    indices, values = [[0, 2, 0]], np.arange(6).reshape(3, 2)
    s = ember.sparse_coo_tensor(indices, values, (3, 2), device=device)
    ts = torch.sparse_coo_tensor(indices, values, (3, 2))
    for dim in (0, 1, None):
        kwargs = {} if dim is None else {"dim": dim}
        ours, theirs = s.sum(**kwargs), ts.sum(**kwargs)
        if theirs.is_sparse:
            ours, theirs = ours.to_dense(), theirs.to_dense()
        assert ours.dtype is ember.int64 and theirs.dtype is torch.int64
        assert ours.tolist() == theirs.tolist()
    ours, theirs = ember.sparse.sum(s, dtype=ember.float64), torch.sparse.sum(ts, dtype=torch.float64)
    assert ours.dtype is ember.float64 and ours.item() == theirs.item()
    with pytest.raises(RuntimeError, match="dim 1 appears multiple times"):
        ember.sparse.sum(s, dim=(1, -1))
    with pytest.raises(IndexError, match="Dimension out of range"):
        ember.sparse.sum(s, dim=2)
