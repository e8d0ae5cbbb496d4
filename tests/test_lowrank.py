"""``ember.svd_lowrank`` and ``ember.pca_lowrank`` against PyTorch with the same seed: the random
projection is drawn in PyTorch's order, so the singular values agree to rounding and the singular
vectors up to the sign of each pair (LAPACK builds pick signs differently)."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _low_rank(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((*shape[:-1], 3)) @ rng.standard_normal((3, shape[-1]))
    return (a + 0.01 * rng.standard_normal(shape)).astype(dtype)


def _signed(U, V):
    """``U`` and ``V`` with each pair of columns flipped so that ``U``'s largest entry is positive."""
    largest = np.take_along_axis(U, np.abs(U).argmax(axis=-2)[..., None, :], axis=-2)
    return U * np.sign(largest), V * np.sign(largest)


def _assert_same_decomposition(ours, theirs, dtype):
    tol = 1e-4 if dtype == "float32" else 1e-10
    assert [tuple(t.shape) for t in ours] == [tuple(t.shape) for t in theirs]
    np.testing.assert_allclose(ours[1].numpy(), theirs[1].numpy(), rtol=tol, atol=tol)
    for mine, torchs in zip(_signed(ours[0].numpy(), ours[2].numpy()), _signed(theirs[0].numpy(), theirs[2].numpy())):
        np.testing.assert_allclose(mine, torchs, rtol=tol, atol=tol * 10)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(30, 8), (8, 30), (2, 20, 12)])
def test_svd_lowrank_matches_torch_with_the_same_seed(shape, dtype):
    a = _low_rank(shape, dtype)
    ember.manual_seed(1)
    torch.manual_seed(1)
    ours, theirs = ember.svd_lowrank(ember.tensor(a), q=3), torch.svd_lowrank(torch.tensor(a), q=3)
    _assert_same_decomposition(ours, theirs, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("center", [True, False])
def test_pca_lowrank_matches_torch_with_the_same_seed(center, dtype):
    a = _low_rank((40, 6), dtype, seed=2) + 5
    ember.manual_seed(2)
    torch.manual_seed(2)
    ours = ember.pca_lowrank(ember.tensor(a), q=3, center=center)
    theirs = torch.pca_lowrank(torch.tensor(a), q=3, center=center)
    _assert_same_decomposition(ours, theirs, dtype)


def test_svd_lowrank_of_a_minus_its_mean_and_its_gradient():
    rng = np.random.default_rng(3)
    a, mean = rng.standard_normal((10, 6)), rng.standard_normal((1, 6))
    ember.manual_seed(1)
    torch.manual_seed(1)
    ours = ember.svd_lowrank(ember.tensor(a), q=6, M=ember.tensor(mean))
    theirs = torch.svd_lowrank(torch.tensor(a), q=6, M=torch.tensor(mean))
    _assert_same_decomposition(ours, theirs, "float64")
    mine, torchs = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ember.manual_seed(1)
    torch.manual_seed(1)
    ember.svd_lowrank(mine, q=3)[1].sum().backward()
    torch.svd_lowrank(torchs, q=3)[1].sum().backward()
    np.testing.assert_allclose(mine.grad.numpy(), torchs.grad.numpy(), atol=1e-10)


@pytest.mark.parametrize("kwargs", [{"q": 5}, {"q": -1}, {"niter": -1}])
def test_pca_lowrank_errors_match_torch(kwargs):
    with pytest.raises(ValueError) as theirs:
        torch.pca_lowrank(torch.ones(3, 4), **kwargs)
    with pytest.raises(ValueError) as ours:
        ember.pca_lowrank(ember.ones(3, 4), **kwargs)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", ["svd_lowrank", "pca_lowrank"])
@pytest.mark.parametrize("transposed", [False, True])
def test_sparse_input_matches_torch(op, dtype, transposed):
    rng = np.random.default_rng(4)
    dense = rng.standard_normal((30, 12)) * (rng.random((30, 12)) < 0.3)
    indices = np.stack(np.nonzero(dense))
    values = dense[tuple(indices)]
    ours = ember.sparse_coo_tensor(indices.tolist(), values.tolist(), (30, 12), dtype=getattr(ember, dtype))
    theirs = torch.sparse_coo_tensor(indices, values, (30, 12), dtype=getattr(torch, dtype))
    if transposed:
        ours, theirs = ours.t(), theirs.t()
    ember.manual_seed(0)
    torch.manual_seed(0)
    _assert_same_decomposition(getattr(ember, op)(ours, q=4), getattr(torch, op)(theirs, q=4), dtype)
