"""``ember.linalg`` on complex matrices against PyTorch: values and dtypes (complex64 and complex128;
the singular values, eigenvalues of Hermitian matrices and norms real), and the gradients of
real losses (PyTorch's conjugate Wirtinger convention), including PyTorch's refusal of losses that
depend on the free phases of singular vectors and eigenvectors.

Where a result is not unique (the phases of singular vectors and eigenvectors) the case compares
what is: ``U Vh``, ``|U|``, ``V diag(w) V^H``."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _complex(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def _general(*shape, seed=0):
    return _complex(*shape, seed=seed) + 3 * np.eye(shape[-1])


def _hermitian_positive(*shape, seed=0):
    x = _complex(*shape, seed=seed)
    return x @ np.swapaxes(x, -1, -2).conj() + np.eye(shape[-1])


def _weights(M, *shape):
    return M.tensor(_complex(*shape, seed=5), dtype=M.complex128)


def _svd_invariants(M, A):
    U, S, Vh = M.linalg.svd(A, full_matrices=False)
    return S, U @ Vh, U.abs(), Vh.abs()


def _eigh_invariants(M, A, uplo="L"):
    w, V = M.linalg.eigh(A, UPLO=uplo)
    return w, (V * w.to(V.dtype).unsqueeze(-2)) @ V.mH, V.abs()


# name: (function of the module (ember or torch) and the inputs, the inputs); all linalg refused
# complex input before ("Expected a floating point or complex tensor as input. Got ComplexFloat")
CASES = {
    "det": (lambda M, A: M.linalg.det(A), [_general(2, 3, 3)]),
    "slogdet": (lambda M, A: tuple(M.linalg.slogdet(A)), [_general(3, 3)]),
    "logdet": (lambda M, A: M.logdet(A), [_general(2, 3, 3)]),
    "inv": (lambda M, A: M.linalg.inv(A), [_general(2, 3, 3)]),
    "inv_ex": (lambda M, A: tuple(M.linalg.inv_ex(A)), [_general(3, 3)]),
    "solve": (lambda M, A, B: M.linalg.solve(A, B), [_general(2, 3, 3), _complex(3, 2)]),
    "solve_vector": (lambda M, A, B: M.linalg.solve(A, B), [_general(3, 3), _complex(3)]),
    "solve_right": (lambda M, A, B: M.linalg.solve(A, B, left=False), [_general(3, 3), _complex(2, 3)]),
    "solve_ex": (lambda M, A, B: tuple(M.linalg.solve_ex(A, B)), [_general(3, 3), _complex(3, 1)]),
    "solve_triangular": (
        lambda M, A, B: M.linalg.solve_triangular(A.triu(), B, upper=True),
        [_general(3, 3), _complex(3, 2)],
    ),
    "solve_triangular_unit_right": (
        lambda M, A, B: M.linalg.solve_triangular(A.tril(), B, upper=False, unitriangular=True, left=False),
        [_general(3, 3), _complex(2, 3)],
    ),
    "lu_factor": (lambda M, A: tuple(M.linalg.lu_factor(A)), [_general(2, 3, 3)]),
    # LAPACK's pivot is the largest |Re| + |Im| (here row 1: 0.5 + 2.6 > |1 + 2j|'s 2.24 by modulus)
    "lu_factor_pivot_measure": (lambda M, A: tuple(M.linalg.lu_factor(A)), [np.array([[2 + 2j, 3], [0.5 + 2.6j, 1j]])]),
    "lu_factor_wide": (lambda M, A: tuple(M.linalg.lu_factor(A)), [_complex(3, 4)]),
    "lu": (lambda M, A: tuple(M.linalg.lu(A)), [_complex(4, 3)]),
    "lu_solve": (
        lambda M, A, B: M.linalg.lu_solve(*M.linalg.lu_factor(A), B),
        [_general(3, 3), _complex(3, 2)],
    ),
    "lu_solve_adjoint": (
        lambda M, A, B: M.linalg.lu_solve(*M.linalg.lu_factor(A), B, adjoint=True),
        [_general(3, 3), _complex(3, 2)],
    ),
    # X A = B was solved as A^T X^T = B^T with A^H's factors: [[0.3014+0.137j, ...]] for torch's [[0.6027-0.274j, ...]]
    "lu_solve_right": (
        lambda M, A, B: M.linalg.lu_solve(*M.linalg.lu_factor(A), B, left=False),
        [_general(3, 3), _complex(2, 3)],
    ),
    "lu_solve_right_adjoint": (
        lambda M, A, B: M.linalg.lu_solve(*M.linalg.lu_factor(A), B, left=False, adjoint=True),
        [_general(3, 3), _complex(2, 3)],
    ),
    "matrix_exp": (lambda M, A: M.linalg.matrix_exp(0.3 * A), [_general(2, 3, 3)]),
    "matrix_power": (lambda M, A: M.linalg.matrix_power(A, -2), [_general(3, 3)]),
    "cholesky": (lambda M, A: M.linalg.cholesky(A), [_hermitian_positive(2, 3, 3)]),
    # the upper factor is L^H, not L^T
    "cholesky_upper": (lambda M, A: M.linalg.cholesky(A, upper=True), [_hermitian_positive(3, 3)]),
    "cholesky_ex": (lambda M, A: tuple(M.linalg.cholesky_ex(A)), [_hermitian_positive(3, 3)]),
    "cholesky_solve": (
        lambda M, A, B: M.cholesky_solve(B, M.linalg.cholesky(A)),
        [_hermitian_positive(3, 3), _complex(3, 2)],
    ),
    "cholesky_solve_upper": (
        lambda M, A, B: M.cholesky_solve(B, M.linalg.cholesky(A, upper=True), upper=True),
        [_hermitian_positive(3, 3), _complex(3, 2)],
    ),
    "cholesky_inverse": (lambda M, A: M.cholesky_inverse(M.linalg.cholesky(A)), [_hermitian_positive(3, 3)]),
    "qr": (lambda M, A: tuple(M.linalg.qr(A)), [_complex(2, 4, 3)]),
    "qr_wide": (lambda M, A: tuple(M.linalg.qr(A)), [_complex(3, 4)]),
    "qr_complete": (lambda M, A: tuple(M.linalg.qr(A, mode="complete")), [_complex(3, 4)]),
    "svd": (_svd_invariants, [_complex(2, 4, 3)]),
    "svdvals": (lambda M, A: M.linalg.svdvals(A), [_complex(3, 4)]),
    "svd_classic": (lambda M, A: (lambda U, S, V: (S, U @ V.mH))(*M.svd(A)), [_complex(4, 3)]),
    "eigh": (_eigh_invariants, [_hermitian_positive(2, 3, 3)]),
    "eigh_upper": (lambda M, A: _eigh_invariants(M, A, "U"), [_hermitian_positive(3, 3)]),
    "eigvalsh": (lambda M, A: M.linalg.eigvalsh(A), [_hermitian_positive(3, 3)]),
    "pinv": (lambda M, A: M.linalg.pinv(A), [_complex(4, 3)]),
    "pinv_hermitian": (lambda M, A: M.linalg.pinv(A, hermitian=True), [_hermitian_positive(3, 3) - 4 * np.eye(3)]),
    "matrix_rank": (lambda M, A: M.linalg.matrix_rank(A.detach()), [_complex(4, 3)]),
    "lstsq": (lambda M, A, B: M.linalg.lstsq(A, B).solution, [_complex(4, 3), _complex(4, 2)]),
    # the residuals and singular values are real (they were complex: [-1.9991-1.8728j] for [3.3744])
    "lstsq_gelsd": (
        lambda M, A, B: tuple(M.linalg.lstsq(A.detach(), B.detach(), driver="gelsd")),
        [_complex(4, 3), _complex(4, 2)],
    ),
    "matrix_norm_fro": (lambda M, A: M.linalg.matrix_norm(A), [_complex(2, 3, 3)]),
    "matrix_norm_nuc": (lambda M, A: M.linalg.matrix_norm(A, "nuc"), [_complex(3, 4)]),
    "matrix_norm_2": (lambda M, A: M.linalg.matrix_norm(A, 2), [_complex(3, 4)]),
    "matrix_norm_1": (lambda M, A: M.linalg.matrix_norm(A, 1), [_complex(3, 4)]),
    "norm_nuc": (lambda M, A: M.norm(A, p="nuc"), [_complex(3, 4)]),
    "cond": (lambda M, A: M.linalg.cond(A), [_general(3, 3)]),
    "householder_product": (
        lambda M, A: M.linalg.householder_product(A, 0.3 * A[0, :2]),
        [_complex(4, 3)],
    ),
}


def _assert_close(ours, theirs, what):
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], what
    a, e = np.asarray(ours.detach().tolist()), theirs.detach().resolve_conj().numpy()
    if theirs.dtype.is_complex or theirs.dtype.is_floating_point:
        single = theirs.dtype in (torch.complex64, torch.float32)
        rtol, atol = (1e-4, 1e-5) if single else (1e-9, 1e-10)
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol * max(1.0, np.abs(e).max(initial=0)), err_msg=what)
    else:
        np.testing.assert_array_equal(a, e, err_msg=what)


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("name", list(CASES))
def test_values_match_pytorch(name, dtype):
    fn, inputs = CASES[name]
    ours = fn(ember, *(ember.tensor(x, dtype=getattr(ember, dtype)) for x in inputs))
    theirs = fn(torch, *(torch.tensor(x, dtype=getattr(torch, dtype)) for x in inputs))
    ours, theirs = (ours, theirs) if isinstance(ours, tuple) else ((ours,), (theirs,))
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        _assert_close(a, b, f"{name}: output {i}")


def _real_loss(M, out):
    """A real loss of complex and real outputs: ``Re(sum(W o out))`` with fixed complex weights."""
    outs = out if isinstance(out, tuple) else (out,)
    total = 0
    for x in outs:
        if x.requires_grad and x.numel():
            w = _weights(M, *x.shape)
            total = total + ((x * w).real if x.dtype.is_complex else x * w.real).sum()
    return total


@pytest.mark.parametrize("name", [name for name in CASES if name not in ("matrix_rank", "lstsq_gelsd", "inv_ex")])
def test_gradients_match_pytorch(name):
    fn, inputs = CASES[name]
    grads = []
    for M in (ember, torch):
        tensors = [M.tensor(x, dtype=M.complex128, requires_grad=True) for x in inputs]
        _real_loss(M, fn(M, *tensors)).backward()
        grads.append([t.grad for t in tensors])
    for i, (a, b) in enumerate(zip(*grads)):
        _assert_close(a, b, f"{name}: gradient of input {i}")


@pytest.mark.parametrize(
    "loss",
    [
        lambda M, A: M.linalg.svd(A, full_matrices=False)[0].real.sum(),
        lambda M, A: M.linalg.eigh(A @ A.mH)[1].real.sum(),
    ],
    ids=["svd", "eigh"],
)
def test_a_loss_that_depends_on_the_phases_is_refused(loss):
    # ember returned a gradient of a loss that the free phases of the vectors leave undefined
    messages = []
    for M in (ember, torch):
        A = M.tensor(_complex(3, 3), dtype=M.complex128, requires_grad=True)
        with pytest.raises(RuntimeError) as error:
            loss(M, A).backward()
        messages.append(str(error.value).split(":")[0])
    assert messages[0] == messages[1]


def test_portable_kernels_refuse_complex_instead_of_a_wrong_result():
    from ember.kernels.linalg import LinalgKernels

    kernels = ember.tensor(0.0)._backend.kernels
    a = np.array([[2 + 1j, 1], [0, 3]])
    for kernel in ("linalg_qr", "linalg_svd", "linalg_eigh"):
        with pytest.raises(NotImplementedError, match="real matrices only"):
            getattr(LinalgKernels, kernel)(kernels, a)
    # the portable Cholesky reads conj(L) and the real part of the diagonal, as LAPACK's zpotrf
    h = _hermitian_positive(3, 3)
    lower, info = LinalgKernels.linalg_cholesky(kernels, h)
    np.testing.assert_allclose(lower, np.linalg.cholesky(h), rtol=1e-12)
    assert int(info) == 0
    # LU, determinants (the parity of a complex factorization: remainder() of a complex count raised
    # TypeError) and the adjoint solve, as CuPy runs them
    g, b = _general(2, 3, 3), _complex(2, 3, 2)
    np.testing.assert_allclose(LinalgKernels.linalg_det(kernels, g), np.linalg.det(g), rtol=1e-12)
    sign, logabsdet = LinalgKernels.linalg_slogdet(kernels, g)
    np.testing.assert_allclose(sign, np.linalg.slogdet(g)[0], rtol=1e-12)
    assert logabsdet.dtype == np.float64
    lu, pivots, _ = LinalgKernels.linalg_lu_factor(kernels, g)
    adjoint = LinalgKernels.linalg_lu_solve(kernels, lu, pivots, b, adjoint=True)
    np.testing.assert_allclose(adjoint, np.linalg.solve(np.swapaxes(g, -1, -2).conj(), b), rtol=1e-12)
