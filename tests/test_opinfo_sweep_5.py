"""Differences found by a run of PyTorch's whole OpInfo database against ember (the fifth batch): the strides
of LAPACK-backed results and of the FFTs' input gradients, a warning of zeta and the incomplete gamma functions
where ``a`` and ``x`` are large and close. Each case is the smallest call that showed it, run on ember and torch
and compared on every test device.
"""

from __future__ import annotations

import warnings

import pytest
from opinfo_support import assert_same_as_torch, ember_copy, need_dtypes

import ember

torch = pytest.importorskip("torch")

_DTYPES = ["float32", "float64"]


def _strides(result):
    """The strides of each tensor of ``result`` (a tensor or a tuple of them)."""
    items = result if isinstance(result, tuple) else (result,)
    return [tuple(t.stride()) for t in items]


# -- 1. LAPACK's column-major results ---------------------------------------------------------------
_SPD = [[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]]
_B = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]

_LAPACK_CASES = {
    "linalg.solve": lambda M, A, B: M.linalg.solve(A, B),
    "linalg.solve_batched": lambda M, A, B: M.linalg.solve(A.expand(2, 3, 3), B),
    "linalg.solve_left_false": lambda M, A, B: M.linalg.solve(A, B.mT, left=False),
    "linalg.solve_ex": lambda M, A, B: M.linalg.solve_ex(A, B),
    "linalg.lu_factor": lambda M, A, B: M.linalg.lu_factor(A),
    "linalg.lu_factor_ex_batched": lambda M, A, B: M.linalg.lu_factor_ex(A.expand(2, 3, 3)),
    "linalg.lu_factor_wide": lambda M, A, B: M.linalg.lu_factor(B.mT),
    "linalg.lu_solve": lambda M, A, B: M.linalg.lu_solve(*M.linalg.lu_factor(A), B),
    "linalg.lu_solve_adjoint": lambda M, A, B: M.linalg.lu_solve(*M.linalg.lu_factor(A), B, adjoint=True),
    "linalg.lu_solve_left_false": lambda M, A, B: M.linalg.lu_solve(*M.linalg.lu_factor(A), B.mT, left=False),
    "linalg.solve_triangular": lambda M, A, B: M.linalg.solve_triangular(A.triu(), B, upper=True),
    "cholesky_solve": lambda M, A, B: M.cholesky_solve(B, M.linalg.cholesky(A)),
    "linalg.cholesky": lambda M, A, B: M.linalg.cholesky(A),
    "linalg.cholesky_upper": lambda M, A, B: M.linalg.cholesky(A, upper=True),
    "linalg.cholesky_ex_batched": lambda M, A, B: M.linalg.cholesky_ex(A.expand(2, 3, 3)),
}


@pytest.mark.parametrize("dtype", _DTYPES)
@pytest.mark.parametrize("case", sorted(_LAPACK_CASES))
def test_lapack_results_are_column_major(device, dtype, case):
    # ember's solvers and factorizations returned row-major matrices; PyTorch's are column-major, as LAPACK
    # leaves them (each matrix of a batch; linalg.solve(A, B, left=False) the transpose of one)
    need_dtypes(device, dtype)
    fn = _LAPACK_CASES[case]
    A, B = torch.tensor(_SPD, dtype=getattr(torch, dtype)), torch.tensor(_B, dtype=getattr(torch, dtype))
    expected = fn(torch, A, B)
    actual = fn(ember, ember_copy(A, device), ember_copy(B, device))
    for a, e in zip(
        actual if isinstance(actual, tuple) else (actual,), expected if isinstance(expected, tuple) else (expected,)
    ):
        assert_same_as_torch(a, e, rtol=1e-5, atol=1e-6)
    assert _strides(actual) == _strides(expected)


@pytest.mark.parametrize("left", [True, False])
def test_solve_gradients_through_column_major_results(device, left):
    # the column-major solution feeds the backward: the gradients stay PyTorch's
    need_dtypes(device, "float64")
    A, B = torch.tensor(_SPD, dtype=torch.float64, requires_grad=True), torch.tensor(_B, dtype=torch.float64)
    B = (B if left else B.mT.contiguous()).requires_grad_(True)
    eA, eB = ember_copy(A, device, True), ember_copy(B, device, True)
    torch.linalg.solve(A, B, left=left).pow(2).sum().backward()
    ember.linalg.solve(eA, eB, left=left).pow(2).sum().backward()
    assert_same_as_torch(eA.grad, A.grad)
    assert_same_as_torch(eB.grad, B.grad)


# -- 2. zeta: quiet at huge operands, Cephes' value at a huge order ------------------------------------
_ZETA_CASES = [
    (-501.0, -501.0),  # the smallest call of the OpInfo sample that warned (a pole: inf)
    (2.0, -1e30),
    (3.0, -1e300),
    (-1e30, -1e30),
    (1.5, 1e30),
    (1e30, 0.5),  # Cephes stops at the first term, q^-x: inf
    (1e30, 1.0),  # 1
    (1e30, 2.0),  # underflows: 0
]


@pytest.mark.parametrize("dtype", _DTYPES)
@pytest.mark.parametrize(("x", "q"), _ZETA_CASES)
def test_zeta_is_quiet_and_cephes_at_huge_operands(device, dtype, x, q):
    # ember's Euler-Maclaurin sum leaked NumPy's overflow and invalid-value warnings, and gave NaN for a
    # huge order where PyTorch's (Cephes') sum stops at its first term
    need_dtypes(device, dtype)
    if dtype == "float32" and max(abs(x), abs(q)) > 3e38:
        pytest.skip("beyond float32")
    tx, tq = torch.tensor([x], dtype=getattr(torch, dtype)), torch.tensor([q], dtype=getattr(torch, dtype))
    expected = torch.special.zeta(tx, tq)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        actual = ember.special.zeta(ember_copy(tx, device), ember_copy(tq, device))
    assert_same_as_torch(actual, expected, rtol=1e-6, atol=0)


# -- 3. the incomplete gamma functions for a large a and x near it ------------------------------------
@pytest.mark.parametrize("dtype", _DTYPES)
@pytest.mark.parametrize("op", ["igamma", "igammac"])
@pytest.mark.parametrize("a", [200.0, 1e4, 1e5, 1e8])
def test_incomplete_gamma_at_large_a_near_x(device, dtype, op, a):
    # the series and continued fraction of 300 terms had not converged for a >= ~1e4 with x near a: ember
    # gave NaN where PyTorch gives the value (0.5 at x = a); Temme's expansion takes that regime now
    need_dtypes(device, dtype)
    ratios = [0.5, 0.9, 0.99, 0.999, 1.0, 1.001, 1.01, 1.1, 2.0] if dtype == "float64" else [0.5, 0.9, 1.0, 1.1, 2.0]
    ta = torch.full((len(ratios),), a, dtype=getattr(torch, dtype))
    tx = ta * torch.tensor(ratios, dtype=ta.dtype)
    expected = getattr(torch, op)(ta, tx)
    actual = getattr(ember, op)(ember_copy(ta, device), ember_copy(tx, device))
    rtol, atol = (1e-9, 1e-13) if dtype == "float64" else (1e-4, 1e-6)
    assert_same_as_torch(actual, expected, rtol=rtol, atol=atol)


# -- 4. the layout of the FFTs' input gradients ---------------------------------------------------------
_FFT_CASES = [
    ("fft", {"dim": 1}, False),
    ("fft", {"dim": 1}, True),
    ("fft", {"n": 10, "dim": 1}, False),  # a padded input: ConstantPadNdBackward0's crop keeps its dims' order
    ("fft", {"n": 10, "dim": 1}, True),
    ("fft", {"n": 4, "dim": 0}, False),  # a cut input
    ("ifft", {"n": 10, "dim": 1, "norm": "ortho"}, False),
    ("rfft", {"dim": 1}, False),
    ("rfft", {"n": 10, "dim": 0}, False),
    ("irfft", {"dim": 1}, True),
    ("irfft", {"n": 10, "dim": 0}, True),
    ("hfft", {"dim": 1}, True),
    ("ihfft", {"dim": 1}, False),
    ("fft2", {"dim": (0, 1)}, False),
    ("fft2", {"dim": (0, 1)}, True),
    ("rfft2", {"dim": (0, 1)}, False),
    ("irfft2", {"dim": (0, 1)}, True),
    ("fftn", {"dim": (0, 2)}, False),
    ("ifftn", {"s": (3, 9), "dim": (0, 2)}, False),  # n-dimensional: cast first, then cut and padded
    ("rfftn", {"dim": (1, 0)}, False),
    ("hfftn", {"dim": (0, 1)}, True),  # PyTorch's two passes: complex to complex, then to real
    ("hfft2", {}, True),
    ("ihfftn", {"dim": (0, 1)}, False),  # real to complex, then complex to complex
    ("ihfft2", {"dim": (0, 2)}, False),
]


@pytest.mark.parametrize("dtype", _DTYPES)
@pytest.mark.parametrize(("op", "kwargs", "complex_input"), _FFT_CASES)
def test_fft_input_gradient_layout(device, dtype, op, kwargs, complex_input):
    # ember's gradients were row-major (a real input's: the real part of a row-major complex one); PyTorch's
    # come out of its backward transforms in their layouts, through the nodes that fit the input
    need_dtypes(device, dtype, "complex64" if dtype == "float32" else "complex128")
    values = torch.linspace(-1, 1, 210, dtype=getattr(torch, dtype)).reshape(5, 6, 7)
    if complex_input:
        values = torch.complex(values, values.flip(0))
    t = values.clone().requires_grad_(True)
    e = ember_copy(values, device, requires_grad=True)
    yt, ye = getattr(torch.fft, op)(t, **kwargs), getattr(ember.fft, op)(e, **kwargs)
    (gt,) = torch.autograd.grad(yt, [t], torch.ones_like(yt))
    (ge,) = ember.autograd.grad([ye], [e], [ember.ones_like(ye)])
    assert_same_as_torch(ge, gt.resolve_conj(), rtol=1e-4 if dtype == "float32" else 1e-9, atol=1e-4)
    assert tuple(ge.stride()) == tuple(gt.stride())


def test_constant_pad_crop_keeps_the_layout(device):
    # a crop-only constant_pad_nd is PyTorch's clone of the cropped view, in its dims' order (ember: row-major)
    t = torch.arange(350.0).reshape(5, 7, 10).permute(0, 2, 1)
    e = ember_copy(t.permute(0, 2, 1), device).permute(0, 2, 1)  # (a copy to a device may lay it out row-major)
    for pad in ([0, 0, 0, -4], [-1, 0], [0, 0, 0, 4]):
        assert tuple(ember.constant_pad_nd(e, pad).stride()) == tuple(torch.constant_pad_nd(t, pad).stride())
        assert_same_as_torch(ember.constant_pad_nd(e, pad), torch.constant_pad_nd(t, pad))


@pytest.mark.parametrize("dtype", _DTYPES)
@pytest.mark.parametrize("op", ["igamma", "igammac"])
def test_incomplete_gamma_edges_in_pytorchs_order(device, dtype, op):
    # PyTorch's kernel checks the edges in order, the first that holds deciding even where the other operand
    # is NaN (igamma(inf, nan) = 0, igamma(nan, inf) = 1, igamma(nan, 0) = 0); ember gave NaN there
    need_dtypes(device, dtype)
    values = [float("nan"), float("inf"), -float("inf"), 0.0, -0.0, -1.0, 2.5]
    ta = torch.tensor([a for a in values for _ in values], dtype=getattr(torch, dtype))
    tx = torch.tensor([x for _ in values for x in values], dtype=getattr(torch, dtype))
    expected = getattr(torch, op)(ta, tx)
    actual = getattr(ember, op)(ember_copy(ta, device), ember_copy(tx, device))
    assert_same_as_torch(actual, expected, rtol=1e-6, atol=1e-7)
