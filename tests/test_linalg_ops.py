"""``ember.linalg`` and the classic decompositions against PyTorch: values and gradients of every
op on every device, float64 and float32.

Where a result is not unique (the signs of singular vectors and eigenvectors) the case compares
what is: the singular values, ``U Vh``, ``U * U``, ``V diag(w) V^T``, as PyTorch's own tests do.
QR's signs follow LAPACK's reflectors on every backend, so ``Q`` and ``R`` are compared as they are.
"""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _general(*shape, seed=0):
    """A well-conditioned (batch of) square matrices."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) + shape[-1] * np.eye(shape[-1])


def _spd(*shape, seed=0):
    x = np.random.default_rng(seed).standard_normal(shape)
    return x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])


def _symmetric(*shape, seed=0):
    x = np.random.default_rng(seed).standard_normal(shape)
    return x + np.swapaxes(x, -1, -2)


def _randn(*shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


def _triangular(*shape, upper, seed=0):
    a = _general(*shape, seed=seed)
    return np.triu(a) if upper else np.tril(a)


def _rank_deficient(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((2, 5, 2)) @ rng.standard_normal((2, 2, 4))


def _gauge_svd(M, A, full=False):
    U, S, Vh = M.linalg.svd(A, full_matrices=full)
    k = S.shape[-1]
    return S, U[..., :, :k] @ Vh[..., :k, :], U * U, Vh * Vh


def _svd_invariants(M, A):
    """What any SVD of ``A``, rank-deficient too, has: orthonormal ``U`` and ``Vh``, ``A`` back."""
    U, S, Vh = M.linalg.svd(A, full_matrices=False)
    return S, (U * S.unsqueeze(-2)) @ Vh, U.mT @ U, Vh @ Vh.mT


def _eigh_invariants(M, A):
    """What any eigen decomposition of ``A``, with repeated eigenvalues too, has."""
    w, V = M.linalg.eigh(A)
    return w, (V * w.unsqueeze(-2)) @ V.mT, V.mT @ V


def _gauge_eigh(M, A, uplo="L"):
    w, V = M.linalg.eigh(A, UPLO=uplo)
    return w, V * V, (V * w.unsqueeze(-2)) @ V.mT


def _classic_svd(M, A, some):
    U, S, V = M.svd(A, some=some)
    k = S.shape[-1]
    return S, U[..., :, :k] @ V[..., :, :k].mT, U * U


def _lstsq(M, A, B, driver):
    out = M.linalg.lstsq(A, B, driver=driver)
    return out.solution, out.residuals, out.rank, out.singular_values


# name: (function of the module (ember or torch) and the inputs, the inputs)
CASES = {
    # ember.linalg had no cond, vander, tensorinv, tensorsolve or matmul (AttributeError)
    "cond": (lambda M, A: M.linalg.cond(A), [_randn(2, 4, 3)]),
    "cond_minus_2": (lambda M, A: M.linalg.cond(A, -2), [_general(3, 3)]),
    "cond_fro": (lambda M, A: M.linalg.cond(A.detach(), "fro"), [_general(2, 3, 3)]),
    "cond_inf": (lambda M, A: M.linalg.cond(A.detach(), float("-inf")), [_general(3, 3)]),
    "cond_singular_1": (lambda M, A: M.linalg.cond(A.detach(), 1), [np.zeros((2, 3, 3))]),
    "cond_nuc": (lambda M, A: M.linalg.cond(A, "nuc"), [_general(3, 3)]),
    "cond_empty": (lambda M, A: M.linalg.cond(A, 1), [np.zeros((2, 0, 0))]),
    "vander": (lambda M, x: M.linalg.vander(x), [_randn(2, 3)]),
    "vander_N": (lambda M, x: M.linalg.vander(x, N=5), [_randn(3)]),
    "tensorinv": (lambda M, A: M.linalg.tensorinv(A, ind=2), [_general(6, 6).reshape(2, 3, 6)]),
    "tensorinv_ind1": (lambda M, A: M.linalg.tensorinv(A, ind=1), [_general(6, 6).reshape(6, 3, 2)]),
    "tensorsolve": (lambda M, A, B: M.linalg.tensorsolve(A, B), [_general(6, 6).reshape(2, 3, 6), _randn(2, 3)]),
    "tensorsolve_dims": (
        lambda M, A, B: M.linalg.tensorsolve(A, B, dims=(0,)),
        [_general(6, 6).reshape(6, 2, 3), _randn(2, 3)],
    ),
    "linalg_matmul": (lambda M, A, B: M.linalg.matmul(A, B), [_randn(2, 3, 4), _randn(4, 2)]),
    "det": (lambda M, A: M.linalg.det(A), [_general(3, 3)]),
    "det_batch": (lambda M, A: M.det(A), [_general(2, 4, 4)]),
    "det_method_1x1": (lambda M, A: A.det(), [_general(2, 1, 1)]),
    "slogdet": (lambda M, A: tuple(M.linalg.slogdet(A)), [_general(2, 3, 3) - 6 * np.eye(3)]),
    "slogdet_classic": (lambda M, A: tuple(M.slogdet(A)), [_general(3, 3)]),
    "logdet": (lambda M, A: M.logdet(A), [_spd(2, 3, 3)]),
    "logdet_negative": (lambda M, A: A.logdet(), [-_spd(3, 3)]),
    "inv": (lambda M, A: M.linalg.inv(A), [_general(2, 3, 3)]),
    "inverse": (lambda M, A: A.inverse(), [_general(4, 4)]),
    "inv_ex": (lambda M, A: tuple(M.linalg.inv_ex(A)), [_general(3, 3)]),
    "solve_matrix": (lambda M, A, B: M.linalg.solve(A, B), [_general(2, 3, 3), _randn(2, 3, 2)]),
    "solve_vector": (lambda M, A, B: M.linalg.solve(A, B), [_general(3, 3), _randn(3)]),
    "solve_batch_vector": (lambda M, A, B: M.linalg.solve(A, B), [_general(2, 3, 3), _randn(2, 3)]),
    "solve_broadcast": (lambda M, A, B: M.linalg.solve(A, B), [_general(2, 1, 3, 3), _randn(4, 3, 2)]),
    "solve_right": (lambda M, A, B: M.linalg.solve(A, B, left=False), [_general(3, 3), _randn(2, 3)]),
    "solve_ex": (lambda M, A, B: tuple(M.linalg.solve_ex(A, B)), [_general(3, 3), _randn(3, 1)]),
    "solve_triangular_upper": (
        lambda M, A, B: M.linalg.solve_triangular(A, B, upper=True),
        [_general(2, 4, 4), _randn(2, 4, 3)],
    ),
    "solve_triangular_lower_right": (
        lambda M, A, B: M.linalg.solve_triangular(A, B, upper=False, left=False),
        [_general(4, 4), _randn(2, 4)],
    ),
    "solve_triangular_unit": (
        lambda M, A, B: M.linalg.solve_triangular(A, B, upper=False, unitriangular=True),
        [_general(3, 3), _randn(3, 2)],
    ),
    "triangular_solve": (lambda M, B, A: tuple(M.triangular_solve(B, A)), [_randn(3, 2), _general(3, 3)]),
    "triangular_solve_transpose": (
        lambda M, B, A: tuple(B.triangular_solve(A, upper=False, transpose=True)),
        [_randn(2, 3, 2), _triangular(2, 3, 3, upper=False)],
    ),
    "lu_factor": (lambda M, A: tuple(M.linalg.lu_factor(A)), [_randn(2, 4, 4)]),
    "lu_factor_ex_wide": (lambda M, A: tuple(M.linalg.lu_factor_ex(A))[::2], [_randn(3, 5)]),
    "lu": (lambda M, A: tuple(M.linalg.lu(A)), [_randn(4, 4)]),
    "lu_tall": (lambda M, A: tuple(M.linalg.lu(A)), [_randn(2, 5, 3)]),
    "lu_wide": (lambda M, A: tuple(M.linalg.lu(A)), [_randn(3, 5)]),
    "lu_solve": (
        lambda M, A, B: M.linalg.lu_solve(*M.linalg.lu_factor(A), B),
        [_general(2, 3, 3), _randn(2, 3, 2)],
    ),
    "lu_solve_adjoint_right": (
        lambda M, A, B: M.linalg.lu_solve(*M.linalg.lu_factor(A), B, left=False, adjoint=True),
        [_general(3, 3), _randn(2, 3)],
    ),
    "lu_solve_classic": (lambda M, A, B: B.lu_solve(*M.linalg.lu_factor(A)), [_general(3, 3), _randn(3, 1)]),
    "cholesky": (lambda M, A: M.linalg.cholesky(A), [_spd(2, 4, 4)]),
    "cholesky_upper": (lambda M, A: M.linalg.cholesky(A, upper=True), [_spd(3, 3)]),
    "cholesky_ex": (lambda M, A: tuple(M.linalg.cholesky_ex(A)), [_spd(3, 3)]),
    "cholesky_classic": (lambda M, A: A.cholesky(), [_spd(3, 3)]),
    "cholesky_solve": (lambda M, B, A: M.cholesky_solve(B, M.linalg.cholesky(A)), [_randn(2, 3, 2), _spd(2, 3, 3)]),
    "cholesky_solve_upper": (
        lambda M, B, L: B.cholesky_solve(L, upper=True),
        [_randn(3, 2), _triangular(3, 3, upper=True)],
    ),
    "cholesky_inverse": (lambda M, L: M.cholesky_inverse(L), [_triangular(3, 3, upper=False)]),
    "qr_tall": (lambda M, A: tuple(M.linalg.qr(A)), [_randn(2, 5, 3)]),
    "qr_square": (lambda M, A: tuple(M.linalg.qr(A)), [_randn(4, 4)]),
    "qr_wide": (lambda M, A: tuple(M.linalg.qr(A)), [_randn(2, 3, 5)]),
    "qr_complete_wide": (lambda M, A: tuple(M.linalg.qr(A, mode="complete")), [_randn(3, 4)]),
    "qr_r": (lambda M, A: M.linalg.qr(A.detach(), mode="r").R, [_randn(4, 3)]),
    "qr_classic": (lambda M, A: tuple(A.qr()), [_randn(4, 3)]),
    "svd_tall": (lambda M, A: _gauge_svd(M, A), [_randn(2, 5, 3)]),
    "svd_wide": (lambda M, A: _gauge_svd(M, A), [_randn(3, 4)]),
    "svd_full_square": (lambda M, A: _gauge_svd(M, A, full=True), [_randn(2, 3, 3)]),
    "svd_full_tall": (lambda M, A: _gauge_svd(M, A, full=True)[:2], [_randn(2, 4, 3)]),
    "svd_no_uv": (lambda M, A: tuple(M.svd(A, compute_uv=False)), [_randn(3, 2)]),
    "svd_rank_deficient": (lambda M, A: _svd_invariants(M, A.detach()), [_rank_deficient()]),
    "svd_rank_deficient_wide": (lambda M, A: _svd_invariants(M, A.detach().mT), [_rank_deficient()]),
    "svd_classic": (lambda M, A: _classic_svd(M, A, True), [_randn(4, 3)]),
    "svd_classic_full": (lambda M, A: _classic_svd(M, A, False)[:2], [_randn(3, 4)]),
    "svdvals": (lambda M, A: M.linalg.svdvals(A), [_randn(2, 3, 4)]),
    "eigh": (lambda M, A: _gauge_eigh(M, A), [_symmetric(2, 4, 4)]),
    "eigh_upper": (lambda M, A: _gauge_eigh(M, A, "U"), [_randn(3, 3)]),
    "eigh_repeated": (lambda M, A: _eigh_invariants(M, A.detach()), [np.diag([2.0, 2.0, -1.0, 2.0])]),
    "eigvalsh": (lambda M, A: M.linalg.eigvalsh(A), [_symmetric(3, 3)]),
    "matrix_power_3": (lambda M, A: M.linalg.matrix_power(A, 3), [_randn(2, 3, 3)]),
    "matrix_power_0": (lambda M, A: A.matrix_power(0), [_randn(3, 3)]),
    "matrix_power_neg": (lambda M, A: M.matrix_power(A, -2), [_general(3, 3)]),
    "pinv_tall": (lambda M, A: M.linalg.pinv(A), [_randn(2, 5, 3)]),
    "pinv_wide": (lambda M, A: M.pinverse(A), [_randn(3, 4)]),
    "pinv_hermitian": (lambda M, A: M.linalg.pinv(A, hermitian=True), [_spd(3, 3)]),
    "pinv_rank_deficient": (lambda M, A: M.linalg.pinv(A.detach()), [_rank_deficient()]),
    "matrix_rank": (lambda M, A: M.linalg.matrix_rank(A.detach()), [_rank_deficient()]),
    "matrix_rank_tol": (lambda M, A: M.linalg.matrix_rank(A.detach(), atol=2.0, rtol=0.1), [_randn(3, 4, 4)]),
    "matrix_rank_hermitian": (
        lambda M, A: M.linalg.matrix_rank(A.detach(), hermitian=True),
        [_symmetric(3, 3) @ np.diag([1.0, 1.0, 0.0]) @ _symmetric(3, 3)],
    ),
    "lstsq_gelsy": (lambda M, A, B: _lstsq(M, A, B, None), [_randn(2, 5, 3), _randn(2, 5, 2)]),
    "lstsq_gelsd": (lambda M, A, B: _lstsq(M, A, B, "gelsd"), [_randn(5, 3), _randn(5, 2)]),
    "lstsq_wide": (lambda M, A, B: _lstsq(M, A, B, "gelss")[0], [_randn(3, 4), _randn(3, 1)]),
    # gels has no rank detection: rcond=0.5 truncated ember's solution and dropped the residuals
    "lstsq_gels_rcond": (
        lambda M, A, B: tuple(M.linalg.lstsq(A, B, rcond=0.5, driver="gels")[:2]),
        [_randn(4, 2, seed=3), _randn(4, 2)],
    ),
    "matrix_exp": (lambda M, A: M.linalg.matrix_exp(A), [_randn(2, 3, 3)]),
    "matrix_exp_large": (lambda M, A: A.matrix_exp(), [3 * _randn(4, 4)]),
    "householder_product": (lambda M, A, tau: M.linalg.householder_product(A, tau), [_randn(2, 5, 3), _randn(2, 2)]),
    "householder_product_qr": (
        lambda M, A, tau: M.linalg.householder_product(A, tau) @ A.new_ones(3, 1),
        [_randn(4, 3), np.array([1.2, 0.5, 0.0])],
    ),
    "multi_dot": (
        lambda M, a, B, C, d: M.linalg.multi_dot([a, B, C, d]),
        [_randn(3), _randn(3, 5), _randn(5, 2), _randn(2)],
    ),
    "multi_dot_matrices": (
        lambda M, A, B, C: M.linalg.multi_dot([A, B, C]),
        [_randn(2, 6), _randn(6, 3), _randn(3, 4)],
    ),
    "vecdot": (lambda M, x, y: M.linalg.vecdot(x, y, dim=0), [_randn(3, 2), _randn(3, 1)]),
    "cross": (lambda M, x, y: M.linalg.cross(x, y), [_randn(2, 3), _randn(1, 3)]),
    "diagonal": (lambda M, A: M.linalg.diagonal(A, offset=1), [_randn(2, 3, 4)]),
}


def _tolerances(dtype):
    return (1e-8, 1e-8) if dtype == ember.float64 else (2e-3, 2e-3)


def _assert_close(actual, expected, dtype, what):
    rtol, atol = _tolerances(dtype)
    assert tuple(actual.shape) == tuple(expected.shape), what
    e = expected.detach().numpy()
    a = actual.detach().cpu().numpy()
    if not np.issubdtype(e.dtype, np.floating):
        assert a.dtype == e.dtype, what
        np.testing.assert_array_equal(a, e, err_msg=what)
        return
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol * max(1.0, np.abs(e).max(initial=0)), err_msg=what)


@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_match_pytorch(name, device, dtype):
    fn, inputs = CASES[name]
    e_in = [ember.tensor(x, dtype=dtype, device=device, requires_grad=True) for x in inputs]
    t_in = [torch.tensor(x, dtype=getattr(torch, dtype.name), requires_grad=True) for x in inputs]
    out_e, out_t = fn(ember, *e_in), fn(torch, *t_in)
    out_e = out_e if isinstance(out_e, tuple) else (out_e,)
    out_t = out_t if isinstance(out_t, tuple) else (out_t,)
    assert len(out_e) == len(out_t)
    for i, (a, b) in enumerate(zip(out_e, out_t)):
        _assert_close(a, b, dtype, f"{name}: output {i}")
    pairs = [(a, b) for a, b in zip(out_e, out_t) if b.requires_grad and b.numel()]
    if not pairs:
        return
    rng = np.random.default_rng(7)
    weights = [rng.standard_normal(tuple(b.shape)) for _, b in pairs]
    sum(((a * ember.tensor(w, dtype=dtype, device=device)).sum() for (a, _), w in zip(pairs, weights))).backward()
    sum(((b * torch.tensor(w, dtype=b.dtype)).sum() for (_, b), w in zip(pairs, weights))).backward()
    for i, (a, b) in enumerate(zip(e_in, t_in)):
        if b.grad is None:
            assert a.grad is None or not a.grad.abs().sum().item(), f"{name}: input {i} has a gradient torch has not"
        else:
            _assert_close(a.grad, b.grad, dtype, f"{name}: gradient of input {i}")


def _slogdet_sign_gradients(lib, device):
    A = lib.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=lib.float64, requires_grad=True)
    if lib is ember:
        A = A.detach().to(device).requires_grad_()
    sign, logabsdet = lib.linalg.slogdet(A)
    flags = (sign.requires_grad, logabsdet.requires_grad, lib.slogdet(A).sign.requires_grad)
    sign.sum().backward(retain_graph=True)
    alone = A.grad
    (sign * logabsdet).sum().backward()
    return flags, alone, A.grad.tolist()


def test_slogdet_sign_requires_grad_without_a_gradient(device):
    # ember's sign was non-differentiable (requires_grad False; backward from it raised), PyTorch's
    # requires grad and contributes none
    assert _slogdet_sign_gradients(ember, device) == _slogdet_sign_gradients(torch, device)


def _pair(M, A):
    return M.empty(0, dtype=A.dtype), M.empty(0, dtype=A.dtype)


OUT = {
    # out= was refused (TypeError: unexpected keyword argument 'out')
    "slogdet": lambda M, A: M.slogdet(A, out=_pair(M, A)),
    "geqrf": lambda M, A: M.geqrf(A, out=_pair(M, A)),
    "orgqr": lambda M, A: (M.orgqr(*M.geqrf(A), out=M.empty(0, dtype=A.dtype)),),
    "ormqr": lambda M, A: (M.ormqr(*M.geqrf(A), A, transpose=True, out=M.empty(0, dtype=A.dtype)),),
}


@pytest.mark.parametrize("name", list(OUT))
def test_out_variants_match_torch(name):
    data = _general(3, 3)
    ours, theirs = OUT[name](ember, ember.tensor(data)), OUT[name](torch, torch.tensor(data))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(a.tolist()), b.numpy(), rtol=1e-10, atol=1e-12)


def test_pinv_of_an_empty_hermitian_matrix():
    # amax over the eigenvalues of a 0x0 matrix raised IndexError; PyTorch returns the 0x0 result
    assert tuple(ember.linalg.pinv(ember.zeros(2, 0, 0), hermitian=True).shape) == (2, 0, 0)


EMPTY_BATCH = {
    # the batch dimensions 0 and 1 broadcast to 1, not 0: expand() failed
    "solve_vector": lambda M: M.linalg.solve(M.eye(3).expand(0, 3, 3), M.zeros(3)),
    "solve": lambda M: M.linalg.solve(M.eye(3).expand(0, 3, 3), M.zeros(1, 3, 2)),
    "solve_triangular": lambda M: M.linalg.solve_triangular(M.eye(3).expand(1, 3, 3), M.zeros(0, 3, 2), upper=True),
    "lu_solve": lambda M: M.linalg.lu_solve(*M.linalg.lu_factor(M.eye(3).expand(1, 3, 3)), M.zeros(0, 3, 2)),
    "cholesky_solve": lambda M: M.cholesky_solve(M.zeros(0, 3, 2), M.eye(3).expand(1, 3, 3)),
    "solve_broadcast": lambda M: M.linalg.solve(M.eye(3).expand(2, 1, 3, 3), M.zeros(0, 3, 2)),
}


@pytest.mark.parametrize("name", list(EMPTY_BATCH))
def test_empty_batch_dimensions_broadcast(name):
    assert tuple(EMPTY_BATCH[name](ember).shape) == tuple(EMPTY_BATCH[name](torch).shape)


REPEATED = {
    # a loss of the values alone at repeated eigen/singular values: ember's gradient was NaN (the
    # unused vectors' zero gradients were divided by w_j - w_i = 0), PyTorch's the identity
    "eigh_values": lambda M, A: M.linalg.eigh(A).eigenvalues.sum(),
    "eigvalsh": lambda M, A: M.linalg.eigvalsh(A).sum(),
    "svd_values": lambda M, A: M.linalg.svd(A).S.sum(),
    "svd_values_zero": lambda M, A: M.linalg.svd(A * 0, full_matrices=False).S.sum(),
    "svd_vectors_V_only": lambda M, A: (M.linalg.svd(A).Vh ** 2).sum(),
    "eigvals": lambda M, A: M.linalg.eigvals(A).real.sum(),
}


@pytest.mark.parametrize("name", list(REPEATED))
def test_value_only_gradients_at_repeated_values_match_torch(name, device):
    if name == "eigvals" and device != "cpu":
        pytest.skip("eig is computed on the host by LAPACK, NumPy's backend only")
    grads = []
    for M, where in ((ember, device), (torch, "cpu")):
        A = M.eye(3, dtype=M.float32, device=where).requires_grad_()
        REPEATED[name](M, A).backward()
        grads.append(A.grad.cpu().numpy() if M is torch else np.asarray(A.grad.tolist()))
    np.testing.assert_allclose(grads[0], grads[1], atol=1e-6)
