"""``ember.lobpcg`` against ``torch.lobpcg`` with the same seed: the same iterates step for step
(the tracker sees the same convergence counts), eigenpairs and gradients."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _spd(m, seed=0):
    """A symmetric positive definite matrix with eigenvalues 1, 2, ..., m."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((m, m)))
    return (q * np.linspace(1, m, m)) @ q.T


def _both(a, **kwargs):
    ember.manual_seed(0)
    torch.manual_seed(0)
    return ember.lobpcg(ember.tensor(a), **kwargs), torch.lobpcg(torch.tensor(a), **kwargs)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("method", ["ortho", "basic"])
@pytest.mark.parametrize("largest", [True, False])
def test_eigenpairs_match_torch(dtype, method, largest):
    (E, X), (tE, tX) = _both(_spd(20).astype(dtype), k=3, method=method, largest=largest)
    assert E.dtype == getattr(ember, dtype) and tuple(X.shape) == (20, 3)
    tol = 1e-4 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(E.numpy(), tE.numpy(), rtol=tol)
    np.testing.assert_allclose(np.abs(X.numpy()), np.abs(tX.numpy()), atol=tol * 10)


def test_the_iteration_follows_torchs_step_for_step():
    steps = {"ember": [], "torch": []}

    def tracker(name):
        return lambda worker: steps[name].append((worker.ivars["istep"], worker.ivars["converged_count"]))

    a = _spd(30, seed=1)
    ember.manual_seed(0)
    torch.manual_seed(0)
    ember.lobpcg(ember.tensor(a), k=2, tracker=tracker("ember"))
    torch.lobpcg(torch.tensor(a), k=2, tracker=tracker("torch"))
    assert steps["ember"] == steps["torch"] and len(steps["ember"]) > 5


def test_batches_and_a_given_initial_block():
    a = np.stack([_spd(12, seed=3), _spd(12, seed=4)])
    (E, _), (tE, _) = _both(a, k=2)
    np.testing.assert_allclose(E.numpy(), tE.numpy(), rtol=1e-10)
    x = np.random.default_rng(5).standard_normal((15, 2))
    ours = ember.lobpcg(ember.tensor(_spd(15)), X=ember.tensor(x), largest=False)
    theirs = torch.lobpcg(torch.tensor(_spd(15)), X=torch.tensor(x), largest=False)
    np.testing.assert_allclose(ours[0].numpy(), theirs[0].numpy(), rtol=1e-10)


def test_generalized_problem():
    a, b = _spd(18, seed=6), _spd(18, seed=7) + 18 * np.eye(18)
    ember.manual_seed(0)
    torch.manual_seed(0)
    ours = ember.lobpcg(ember.tensor(a), k=2, B=ember.tensor(b))
    theirs = torch.lobpcg(torch.tensor(a), k=2, B=torch.tensor(b))
    np.testing.assert_allclose(ours[0].numpy(), theirs[0].numpy(), rtol=1e-10)


@pytest.mark.parametrize("k", [1, 2, 5])
def test_gradient_matches_torch(k):
    a = _spd(15, seed=2)
    weights = np.arange(15.0)[:, None]
    ember.manual_seed(0)
    torch.manual_seed(0)
    ours, theirs = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    E, X = ember.lobpcg(ours, k=k)
    tE, tX = torch.lobpcg(theirs, k=k)
    (E.sum() + (X**2 * ember.tensor(weights)).sum()).backward()
    (tE.sum() + (tX**2 * torch.tensor(weights)).sum()).backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), atol=1e-8)


def test_too_many_eigenpairs_is_refused_as_torch_does():
    with pytest.raises(ValueError) as theirs:
        torch.lobpcg(torch.eye(5, dtype=torch.float64), k=2)
    with pytest.raises(ValueError) as ours:
        ember.lobpcg(ember.eye(5, dtype=ember.float64), k=2)
    assert str(ours.value) == str(theirs.value)


def test_sparse_input():
    dense = _spd(18, seed=8) * (np.abs(_spd(18, seed=8)) > 0.3) + 18 * np.eye(18)
    indices = np.stack(np.nonzero(dense))
    values = dense[tuple(indices)]
    ember.manual_seed(0)
    torch.manual_seed(0)
    ours = ember.lobpcg(ember.sparse_coo_tensor(indices.tolist(), values.tolist(), (18, 18), dtype=ember.float64), k=2)
    theirs = torch.lobpcg(torch.sparse_coo_tensor(indices, values, (18, 18)), k=2)
    np.testing.assert_allclose(ours[0].numpy(), theirs[0].numpy(), rtol=1e-10)
