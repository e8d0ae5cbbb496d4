"""Finite-difference checks of ``ember.linalg``'s gradients (first and second order) in float64
on small matrices. The decompositions whose outputs are not unique are checked through functions
of them that are (``U Vh``, ``V diag(w) V^T``, squares).

Not on OpenCL, deliberately: one finite-difference evaluation is hundreds of small launches (the
column loops of LU and the Jacobi sweeps), a minute for this file on PoCL. The kernels are the
portable ones that the restricted backend runs here, and OpenCL's gradients of every op are
compared with PyTorch's in ``test_linalg_ops.py``."""

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck


def _matrix(shape, device, shift=0.0, seed=0):
    data = np.random.default_rng(seed).standard_normal(shape)
    if shift:
        data = data + shift * np.eye(shape[-1])
    return ember.tensor(data, dtype=ember.float64, device=device, requires_grad=True)


def _spd(A):
    return A @ A.mT + A.shape[-1] * ember.eye(A.shape[-1], dtype=A.dtype, device=A.device)


def _svd(A):
    U, S, Vh = ember.linalg.svd(A, full_matrices=False)
    return S, U @ Vh, U * U


def _eigh(A):
    w, V = ember.linalg.eigh(A + A.mT)
    return w, (V * w.unsqueeze(-2)) @ V.mT, V * V


def _lu_solve(A, B):
    return ember.linalg.lu_solve(*ember.linalg.lu_factor(A), B, adjoint=True)


# name: (function, input shapes and diagonal shifts, also second order)
CASES = {
    "det": (ember.linalg.det, [((2, 3, 3), 0.0)], True),
    "slogdet": (lambda A: ember.linalg.slogdet(A).logabsdet, [((3, 3), 3.0)], True),
    "inv": (ember.linalg.inv, [((3, 3), 3.0)], True),
    "solve": (ember.linalg.solve, [((2, 3, 3), 3.0), ((2, 3, 2), 0.0)], True),
    "solve_triangular": (
        lambda A, B: ember.linalg.solve_triangular(A, B, upper=True, left=False),
        [((3, 3), 3.0), ((2, 3), 0.0)],
        True,
    ),
    "lu_factor": (lambda A: ember.linalg.lu_factor(A).LU, [((4, 3), 0.0)], False),
    "lu_solve": (_lu_solve, [((3, 3), 3.0), ((3, 2), 0.0)], False),
    "cholesky": (lambda A: ember.linalg.cholesky(_spd(A)), [((3, 3), 0.0)], True),
    "cholesky_solve": (
        lambda B, A: ember.cholesky_solve(B, ember.linalg.cholesky(_spd(A))),
        [((3, 2), 0.0), ((3, 3), 0.0)],
        False,
    ),
    "qr_tall": (lambda A: tuple(ember.linalg.qr(A)), [((4, 3), 0.0)], True),
    "qr_wide": (lambda A: tuple(ember.linalg.qr(A)), [((2, 4), 0.0)], False),
    "svd": (_svd, [((4, 3), 0.0)], False),
    "eigh": (_eigh, [((3, 3), 0.0)], False),
    "pinv": (ember.linalg.pinv, [((4, 3), 0.0)], False),
    "lstsq": (lambda A, B: ember.linalg.lstsq(A, B).solution, [((4, 2), 0.0), ((4, 2), 0.0)], False),
    "matrix_exp": (ember.linalg.matrix_exp, [((3, 3), 0.0)], True),
    "matrix_power": (lambda A: ember.linalg.matrix_power(A, -3), [((3, 3), 3.0)], False),
    # svdvals' second derivative treated U and V as constants (a silently wrong Hessian)
    "svdvals": (ember.linalg.svdvals, [((2, 4, 3), 0.0)], True),
    "matrix_norm_nuc": (lambda A: ember.linalg.matrix_norm(A, "nuc"), [((3, 3), 0.0)], True),
    "cond": (ember.linalg.cond, [((3, 3), 3.0)], True),
    "solve_ex": (lambda A, B: ember.linalg.solve_ex(A, B).result, [((3, 3), 3.0), ((3,), 0.0)], True),
    "lu_factor_wide": (lambda A: ember.linalg.lu_factor(A).LU, [((3, 4), 0.0)], False),
    "pinv_hermitian": (lambda A: ember.linalg.pinv(A + A.mT, hermitian=True), [((3, 3), 0.0)], False),
    "eigvalsh": (lambda A: ember.linalg.eigvalsh(A + A.mT, UPLO="U"), [((3, 3), 0.0)], True),
    "householder_product": (
        lambda A, tau: ember.linalg.householder_product(A, tau),
        [((4, 3), 0.0), ((2,), 0.0)],
        True,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_gradients_match_finite_differences(name, device):
    if device.startswith("opencl"):
        pytest.skip("finite differences on OpenCL: see the module docstring")
    if not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    fn, specs, second = CASES[name]
    inputs = tuple(_matrix(shape, device, shift, seed) for seed, (shape, shift) in enumerate(specs))
    assert gradcheck(fn, inputs, atol=1e-6)
    if second:
        assert gradgradcheck(fn, inputs, atol=1e-5)
