"""``autograd.grad`` with sparse COO inputs, against the real torch.

The gradient with respect to a sparse input has the layout torch gives it: sparse (coalesced) for
``torch.sparse.mm``/``spmm``/``to_dense``, dense at every coordinate for ``mm``/``matmul``/``@``,
dense when both meet; and ``.grad`` is left alone.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

INDICES = [[0, 1, 1, 3, 0], [2, 0, 2, 1, 2]]  # (0, 2) appears twice: duplicates sum
VALUES = [3.0, -4.0, 5.0, 1.5, 2.0]
SIZE = (4, 3)
WEIGHTS = np.arange(8.0).reshape(4, 2)

LOSSES = {
    "sparse.mm": lambda lib, s, d: lib.sparse.mm(s, d),
    "spmm": lambda lib, s, d: lib.spmm(s, d),
    "matmul_operator": lambda lib, s, d: s @ d,
    "mm": lambda lib, s, d: lib.mm(s, d),
    "to_dense": lambda lib, s, d: s.to_dense()[:, :2] * d[0],
    "both": lambda lib, s, d: s @ d + lib.sparse.mm(s, d) * 2,
}


def _inputs(lib, dtype, **kw):
    s = lib.sparse_coo_tensor(INDICES, VALUES, SIZE, dtype=dtype, requires_grad=True, **kw)
    d = lib.tensor(np.random.default_rng(3).standard_normal((3, 2)), dtype=dtype, requires_grad=True, **kw)
    return s, d


def _dense(g):
    return np.asarray((g.to_dense() if g.is_sparse else g).cpu().detach().numpy())


@pytest.mark.parametrize("loss", list(LOSSES))
def test_grad_with_sparse_input_matches_torch(loss, device, dtype):
    s, d = _inputs(ember, dtype, device=device)
    ts, td = _inputs(torch, getattr(torch, dtype.name))
    out = LOSSES[loss](ember, s, d)
    tout = LOSSES[loss](torch, ts, td)
    gs, gd = ember.autograd.grad(out, [s, d], ember.tensor(WEIGHTS, dtype=dtype, device=device))
    tgs, tgd = torch.autograd.grad(tout, [ts, td], torch.tensor(WEIGHTS, dtype=tout.dtype))
    tol = 1e-12 if dtype is ember.float64 else 1e-5
    assert gs.is_sparse == tgs.is_sparse
    if gs.is_sparse:
        assert gs.is_coalesced()
        assert gs._indices().tolist() == tgs.coalesce()._indices().tolist()
    np.testing.assert_allclose(_dense(gs), _dense(tgs), rtol=tol, atol=tol)
    np.testing.assert_allclose(_dense(gd), _dense(tgd), rtol=tol, atol=tol)
    assert s.grad is None and d.grad is None


def test_grad_with_sparse_input_equals_what_backward_accumulates(device):
    s, d = _inputs(ember, ember.float64, device=device)
    (g,) = ember.autograd.grad(LOSSES["both"](ember, s, d).sum(), s, retain_graph=True)
    LOSSES["both"](ember, s, d).sum().backward()
    np.testing.assert_allclose(_dense(g), _dense(s.grad), rtol=1e-12)


def test_unused_sparse_input_as_torch(device):
    s, d = _inputs(ember, ember.float64, device=device)
    ts, td = _inputs(torch, torch.float64)
    assert ember.autograd.grad(d.sum(), [s, d], allow_unused=True)[0] is None
    assert torch.autograd.grad(td.sum(), [ts, td], allow_unused=True)[0] is None
    with pytest.raises(RuntimeError, match="index 0 appears to not have been used") as got:
        ember.autograd.grad(d.sum(), [s, d])
    with pytest.raises(RuntimeError) as expected:
        torch.autograd.grad(td.sum(), [ts, td])
    assert str(got.value) == str(expected.value)
    gs, _ = ember.autograd.grad(d.sum(), [s, d], materialize_grads=True)
    tgs, _ = torch.autograd.grad(td.sum(), [ts, td], materialize_grads=True)
    assert gs.is_sparse and tgs.is_sparse
    assert (gs._nnz(), tuple(gs.shape)) == (tgs._nnz(), tuple(tgs.shape))


def test_sparse_input_that_does_not_require_grad_raises_as_torch(device):
    s = ember.sparse_coo_tensor(INDICES, VALUES, SIZE, device=device)
    d = ember.ones(3, 2, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.autograd.grad(ember.sparse.mm(s, d).sum(), [s])


def test_create_graph_through_sparse_input(device):
    s, d = _inputs(ember, ember.float64, device=device)
    ts, td = _inputs(torch, torch.float64)
    (gs,) = ember.autograd.grad(ember.sparse.mm(s, d).sum(), s, create_graph=True)
    (tgs,) = torch.autograd.grad(torch.sparse.mm(ts, td).sum(), ts, create_graph=True)
    assert gs.requires_grad and tgs.requires_grad
    (gd,) = ember.autograd.grad(gs.to_dense().pow(2).sum(), d)
    (tgd,) = torch.autograd.grad(tgs.to_dense().pow(2).sum(), td)
    np.testing.assert_allclose(_dense(gd), _dense(tgd), rtol=1e-12)
