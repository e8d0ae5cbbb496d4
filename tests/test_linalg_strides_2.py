"""The strides of the linear algebra results that PyTorch takes from LAPACK (column-major matrices) where ember
laid them out row-major, the second batch after ``test_opinfo_sweep_5.py``: a batch of vector right-hand sides
of ``linalg.solve``, ``triangular_solve``'s ``cloned_coefficient``, ``linalg.lu``'s ``P`` (row-major in
PyTorch), QR (``linalg.qr``, ``geqrf``, ``householder_product``/``orgqr``, ``ormqr``), ``linalg.lstsq``'s
solution (a view of a buffer of ``max(m, n)`` rows), the eigenvectors of ``linalg.eigh`` and ``linalg.eig``,
``linalg.ldl_factor`` and ``linalg.ldl_solve``. Each case runs on ember and torch with the same inputs; the
values, the strides of every result and those of the gradients are compared.
"""

from __future__ import annotations

import warnings

import pytest
from opinfo_support import assert_same_as_torch, ember_copy, need_dtypes

import ember

torch = pytest.importorskip("torch")

_DTYPES = ["float32", "float64"]

_A = [[2.0, -1.0, 0.5], [0.3, 3.0, -0.2], [1.0, 0.4, -2.5]]
_A2 = [[[2.0, -1.0, 0.5], [0.3, 3.0, -0.2], [1.0, 0.4, -2.5]], [[1.5, 0.2, -0.7], [-0.4, 2.2, 0.9], [0.6, -1.1, 3.1]]]
_B = [[1.0, 2.0], [3.0, -4.0], [5.0, 6.0]]
_V = [[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]]


def _operands(module, dtype, device=None):
    """A (3, 3), A2 (2, 3, 3), B (3, 2), V (2, 3) and S (2, 3, 3) symmetric positive definite."""
    values = {"A": _A, "A2": _A2, "B": _B, "V": _V}
    if module is torch:
        out = {k: torch.tensor(v, dtype=getattr(torch, dtype)) for k, v in values.items()}
    else:
        out = {k: ember_copy(torch.tensor(v, dtype=getattr(torch, dtype)), device) for k, v in values.items()}
    out["S"] = out["A2"] @ out["A2"].mT + 3 * module.eye(3, dtype=out["A"].dtype, device=out["A"].device)
    return out


def _tuple(result):
    return tuple(result) if isinstance(result, tuple) else (result,)


def _strides(result):
    return [tuple(t.stride()) for t in _tuple(result)]


_CASES = {
    "linalg.solve_vectors": lambda M, T: M.linalg.solve(T["A2"], T["V"]),
    "linalg.solve_broadcast_vector": lambda M, T: M.linalg.solve(T["A2"], T["V"][0]),
    "linalg.solve_ex_vectors": lambda M, T: M.linalg.solve_ex(T["A2"].unsqueeze(1), T["V"].unsqueeze(1)),
    "triangular_solve": lambda M, T: M.triangular_solve(T["B"], T["A"].triu()),
    "triangular_solve_batched_transpose": lambda M, T: M.triangular_solve(
        T["B"].expand(2, 3, 2), T["A2"].tril(), upper=False, transpose=True
    ),
    "linalg.lu": lambda M, T: M.linalg.lu(T["A"]),
    "linalg.lu_wide_batched": lambda M, T: M.linalg.lu(T["A2"][..., :2, :]),
    "linalg.lu_tall": lambda M, T: M.linalg.lu(T["B"]),
    "lu_unpack": lambda M, T: M.lu_unpack(*M.linalg.lu_factor(T["A2"])),
    "linalg.qr": lambda M, T: M.linalg.qr(T["A"]),
    "linalg.qr_tall": lambda M, T: M.linalg.qr(T["B"]),
    "linalg.qr_wide_batched": lambda M, T: M.linalg.qr(T["A2"][..., :2, :]),
    "linalg.qr_complete": lambda M, T: M.linalg.qr(T["B"], mode="complete"),
    "linalg.qr_r": lambda M, T: M.linalg.qr(T["B"], mode="r"),
    "qr": lambda M, T: M.qr(T["B"]),
    "geqrf": lambda M, T: M.geqrf(T["B"]),
    "geqrf_wide_batched": lambda M, T: M.geqrf(T["A2"][..., :2, :]),
    "linalg.householder_product": lambda M, T: M.linalg.householder_product(T["B"], T["B"][0]),
    "linalg.householder_product_batched": lambda M, T: M.linalg.householder_product(T["A2"], T["V"]),
    "linalg.householder_product_no_reflection": lambda M, T: M.linalg.householder_product(T["B"], T["B"][0, :0]),
    "orgqr": lambda M, T: M.orgqr(T["B"], T["B"][0]),
    "ormqr": lambda M, T: M.ormqr(T["B"], T["B"][0], T["A"]),
    "ormqr_right_transpose_batched": lambda M, T: M.ormqr(T["A2"], T["V"], T["A2"], left=False, transpose=True),
    "linalg.lstsq": lambda M, T: M.linalg.lstsq(T["A"], T["B"]),
    "linalg.lstsq_tall": lambda M, T: M.linalg.lstsq(T["B"], T["A"][:, :1]),
    "linalg.lstsq_tall_batched": lambda M, T: M.linalg.lstsq(T["A2"][..., :2], T["A2"]),
    "linalg.lstsq_wide": lambda M, T: M.linalg.lstsq(T["B"].mT, T["A"][:2]),
    "linalg.lstsq_batched": lambda M, T: M.linalg.lstsq(T["A2"], T["B"].expand(2, 3, 2)),
    "linalg.lstsq_vectors": lambda M, T: M.linalg.lstsq(T["A2"][..., :2], T["V"]),
    "linalg.eigh": lambda M, T: M.linalg.eigh(T["S"]),
    "linalg.eigh_upper": lambda M, T: M.linalg.eigh(T["S"][0], UPLO="U"),
    "linalg.eigvalsh": lambda M, T: M.linalg.eigvalsh(T["S"]),
    "linalg.ldl_factor": lambda M, T: M.linalg.ldl_factor(T["S"]),
    "linalg.ldl_factor_ex": lambda M, T: M.linalg.ldl_factor_ex(T["S"][0]),
    "linalg.ldl_solve": lambda M, T: M.linalg.ldl_solve(*M.linalg.ldl_factor(T["S"][0]), T["B"]),
    "linalg.ldl_solve_batched": lambda M, T: M.linalg.ldl_solve(*M.linalg.ldl_factor(T["S"]), T["B"].expand(2, 3, 2)),
}


def _has_ldl(device):
    """Whether ``device``'s backend factors LDL (the portable kernels have no algorithm for it)."""
    try:
        ember.linalg.ldl_factor(ember.eye(2, device=device))
    except NotImplementedError:
        return False
    return True


# eigenvectors: one sign (eigh) or phase (eig) per column that LAPACK's builds may choose differently
_UP_TO_SIGN = {"linalg.eigh": 1, "linalg.eigh_upper": 1}


@pytest.mark.parametrize("dtype", _DTYPES)
@pytest.mark.parametrize("case", sorted(_CASES))
def test_lapack_layout_of_results(device, dtype, case):
    # ember's results were row-major (P column-major) where PyTorch's are LAPACK's column-major matrices
    need_dtypes(device, dtype)
    if "ldl" in case and not _has_ldl(device):
        pytest.skip(f"{device} has no LDL factorization (the portable kernels refuse it: test_linalg_ldl.py)")
    fn = _CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # triangular_solve, qr: deprecated in both
        expected = _tuple(fn(torch, _operands(torch, dtype)))
        actual = _tuple(fn(ember, _operands(ember, dtype, device)))
    tol = {"rtol": 1e-4, "atol": 1e-5} if dtype == "float32" else {"rtol": 1e-7, "atol": 1e-9}
    for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
        if _UP_TO_SIGN.get(case) == i:
            a, e = a.abs(), e.abs()
        assert_same_as_torch(a, e, **tol)
    assert _strides(actual) == _strides(expected)


@pytest.mark.parametrize("dtype", _DTYPES)
@pytest.mark.parametrize("batched", [False, True])
def test_eig_eigenvectors_are_column_major(device, dtype, batched):
    # linalg.eig's complex eigenvectors: column-major, as PyTorch's
    complex_name = "complex64" if dtype == "float32" else "complex128"
    need_dtypes(device, dtype, complex_name)
    A = torch.tensor(_A2 if batched else _A, dtype=getattr(torch, dtype))
    w, V = torch.linalg.eig(A)
    ew, eV = ember.linalg.eig(ember_copy(A, device))
    tol = {"rtol": 1e-4, "atol": 1e-5} if dtype == "float32" else {"rtol": 1e-7, "atol": 1e-9}
    assert_same_as_torch(ew, w, **tol)
    assert_same_as_torch(eV.abs(), V.abs(), **tol)
    assert [tuple(ew.stride()), tuple(eV.stride())] == [tuple(w.stride()), tuple(V.stride())]
    assert tuple(ember.linalg.eigvals(ember_copy(A, device)).stride()) == tuple(torch.linalg.eigvals(A).stride())


_GRAD_CASES = {
    "linalg.solve_vectors": (lambda M, T: M.linalg.solve(T["A2"], T["V"]), ("A2", "V")),
    "triangular_solve": (lambda M, T: M.triangular_solve(T["B"], T["A"].triu()).solution, ("A", "B")),
    "triangular_solve_cloned_coefficient": (lambda M, T: M.triangular_solve(T["B"], T["A"])[1], ("A",)),
    "linalg.lu": (lambda M, T: M.linalg.lu(T["A"]).L, ("A",)),
    "linalg.qr": (lambda M, T: M.linalg.qr(T["A"]).Q, ("A",)),
    "linalg.qr_tall_R": (lambda M, T: M.linalg.qr(T["B"]).R, ("B",)),
    "linalg.qr_wide_batched": (lambda M, T: M.linalg.qr(T["A2"][..., :2, :]).Q, ("A2",)),
    "linalg.lstsq": (lambda M, T: M.linalg.lstsq(T["A"], T["B"]).solution, ("A", "B")),
    "linalg.lstsq_tall": (lambda M, T: M.linalg.lstsq(T["B"], T["A"][:, :1]).solution, ("A", "B")),
    "linalg.lstsq_vectors": (lambda M, T: M.linalg.lstsq(T["A2"][..., :2], T["V"]).solution, ("A2", "V")),
    "linalg.eigh": (lambda M, T: M.linalg.eigh(T["S"]).eigenvectors.abs(), ("A2",)),
    "linalg.eigvalsh": (lambda M, T: M.linalg.eigvalsh(T["S"]), ("A2",)),
    "linalg.householder_product": (lambda M, T: M.linalg.householder_product(T["B"], T["V"][0, :2]), ("B", "V")),
    "ormqr": (lambda M, T: M.ormqr(T["B"], T["V"][0, :2], T["A"]), ("A",)),
}


@pytest.mark.parametrize("dtype", _DTYPES)
@pytest.mark.parametrize("case", sorted(_GRAD_CASES))
def test_gradients_through_column_major_results(device, dtype, case):
    # the gradients of the relaid results: PyTorch's values and strides
    need_dtypes(device, dtype)
    fn, names = _GRAD_CASES[case]
    grads = []
    for module, dev in ((torch, None), (ember, device)):
        T = _operands(module, dtype, dev)
        for name in names:
            T[name] = T[name].detach().requires_grad_(True)
        T["S"] = T["A2"] @ T["A2"].mT + 3 * module.eye(3, dtype=T["A"].dtype, device=T["A"].device)  # of the leaf
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fn(module, T)
        weights = torch.arange(result.numel(), dtype=getattr(torch, dtype)).reshape(result.shape) / 7
        result.backward(weights if module is torch else ember_copy(weights, device))
        grads.append((tuple(result.stride()), [(T[n].grad, tuple(T[n].grad.stride())) for n in names]))
    (expected_stride, expected), (actual_stride, actual) = grads
    assert actual_stride == expected_stride
    tol = {"rtol": 1e-3, "atol": 1e-4} if dtype == "float32" else {"rtol": 1e-6, "atol": 1e-8}
    for (a, a_stride), (e, e_stride) in zip(actual, expected, strict=True):
        assert_same_as_torch(a, e, **tol)
        assert a_stride == e_stride
