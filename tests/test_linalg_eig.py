"""``ember.linalg.eig`` and ``eigvals`` against PyTorch: complex results of real and complex
matrices, gradients, and errors.

Eigenvectors are unique up to a complex phase and PyTorch's LAPACK (MKL) may pick another sign
than NumPy's, so they are compared after turning each column's largest component real positive."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _matrix(*shape, dtype="float64", seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if dtype.startswith("complex"):
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def _in_order_of(reference, L, V):
    """``L`` and the columns of ``V`` permuted to the order of the eigenvalues ``reference``
    (LAPACK implementations may order the eigenvalues of a complex matrix differently)."""
    order = np.abs(reference[..., :, None] - L[..., None, :]).argmin(axis=-1)
    return np.take_along_axis(L, order, axis=-1), np.take_along_axis(V, order[..., None, :], axis=-1)


def _fixed_phase(V):
    """Each column divided by the phase of its largest component."""
    largest = np.take_along_axis(V, np.abs(V).argmax(axis=-2)[..., None, :], axis=-2)
    return V * (np.abs(largest) / largest)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
def test_eig_matches_torch(dtype):
    a = _matrix(3, 5, 5, dtype=dtype)
    ours, theirs = ember.linalg.eig(ember.tensor(a)), torch.linalg.eig(torch.tensor(a))
    assert str(ours.eigenvalues.dtype) == str(theirs.eigenvalues.dtype).replace("torch", "ember")
    assert str(ours.eigenvectors.dtype) == str(theirs.eigenvectors.dtype).replace("torch", "ember")
    tol = 1e-4 if dtype in ("float32", "complex64") else 1e-10
    expected = theirs.eigenvalues.numpy()
    L, V = _in_order_of(expected, ours.eigenvalues.numpy(), ours.eigenvectors.numpy())
    np.testing.assert_allclose(L, expected, rtol=tol, atol=tol)
    np.testing.assert_allclose(_fixed_phase(V), _fixed_phase(theirs.eigenvectors.numpy()), rtol=tol, atol=tol)
    eigvals = ember.linalg.eigvals(ember.tensor(a)).numpy()
    np.testing.assert_allclose(_in_order_of(expected, eigvals, eigvals[..., None, :])[0], expected, rtol=tol, atol=tol)


def test_eig_of_a_real_spectrum_is_complex():
    ours = ember.linalg.eig(ember.tensor([[2.0, 1.0], [0.0, 3.0]]))
    theirs = torch.linalg.eig(torch.tensor([[2.0, 1.0], [0.0, 3.0]]))
    assert ours.eigenvalues.dtype == ember.complex64
    np.testing.assert_allclose(ours.eigenvectors.numpy(), theirs.eigenvectors.numpy(), atol=1e-6)


def _loss(module, A, weights):
    L, V = module.linalg.eig(A)
    # phase-invariant in V: |V|^2, and a complex weighting of the eigenvalues
    return (L * module.tensor(weights)).real.sum() + (V.abs() ** 2 * module.arange(16.0).reshape(4, 4)).sum()


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_eig_gradient_matches_torch(dtype):
    a = _matrix(4, 4, dtype=dtype, seed=1)
    weights = _matrix(4, dtype="complex128", seed=2)
    ours, theirs = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    _loss(ember, ours, weights).backward()
    _loss(torch, theirs, weights).backward()
    assert str(ours.grad.dtype) == str(theirs.grad.dtype).replace("torch", "ember")
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_eigvals_gradient_matches_torch():
    a = _matrix(2, 4, 4, seed=3)
    ours, theirs = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ember.linalg.eigvals(ours).abs().sum().backward()
    torch.linalg.eigvals(theirs).abs().sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_a_loss_that_depends_on_the_phase_is_refused_as_torch_does():
    a = _matrix(3, 3, seed=4)
    with pytest.raises(RuntimeError) as theirs:
        torch.linalg.eig(torch.tensor(a, requires_grad=True))[1].sum().abs().backward()
    with pytest.raises(RuntimeError) as ours:
        ember.linalg.eig(ember.tensor(a, requires_grad=True))[1].sum().abs().backward()
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("op", ["eig", "eigvals"])
@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.ones(2, 3),
        lambda m: m.ones(3),
        lambda m: m.ones(2, 2, dtype=m.int64),
        lambda m: m.ones(2, 2, dtype=m.float16),
        lambda m: m.tensor([[1.0, float("inf")], [0.0, 1.0]]),
    ],
)
@pytest.mark.filterwarnings("ignore:ComplexHalf support is experimental")
def test_errors_match_torch(op, make):
    try:
        getattr(torch.linalg, op)(make(torch))
    except Exception as error:
        expected = error
    else:
        getattr(ember.linalg, op)(make(ember))  # PyTorch's eigvals takes what eig refuses
        return
    with pytest.raises(type(expected)) as ours:
        getattr(ember.linalg, op)(make(ember))
    assert str(ours.value) == str(expected)


def test_empty_and_out():
    L, V = ember.linalg.eig(ember.zeros(2, 0, 0))
    assert (L.shape, V.shape, L.dtype) == ((2, 0), (2, 0, 0), ember.complex64)
    out = (ember.empty(0, dtype=ember.complex64), ember.empty(0, dtype=ember.complex64))
    result = ember.linalg.eig(ember.eye(2), out=out)
    assert result[0] is out[0] and result[1] is out[1]
    np.testing.assert_array_equal(out[0].numpy(), np.ones(2))
