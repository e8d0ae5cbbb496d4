"""``ember.linalg.ldl_factor``, ``ldl_factor_ex`` and ``ldl_solve`` against PyTorch: LAPACK's compact
form and Bunch-Kaufman pivots (1x1 and 2x2 blocks, negative pivots), ``info``, symmetric and
Hermitian complex matrices, batches and broadcasting, and the errors."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _symmetric(n, kind="real", small_diagonal=False, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n))
    if kind != "real":
        a = a + 1j * rng.standard_normal((n, n))
    if small_diagonal:  # 2x2 pivots
        a[np.diag_indices(n)] *= 0.05
    return a + (a.conj().T if kind == "hermitian" else a.T)


_DTYPES = {
    "real": ("float32", "float64"),
    "symmetric": ("complex64", "complex128"),
    "hermitian": ("complex64", "complex128"),
}
MATRICES = {
    "one_by_one_pivots": lambda kind: _symmetric(6, kind),
    "two_by_two_pivots": lambda kind: _symmetric(7, kind, small_diagonal=True),
    "interchange": lambda kind: np.array([[1.0, 2.0, 0.5], [2.0, 0.0, 3.0], [0.5, 3.0, -1.0]]),
    "swap_block": lambda kind: np.array([[0.0, 1.0], [1.0, 0.0]]),
    "large_blocked": lambda kind: _symmetric(70, kind, small_diagonal=True),
}


def _both(fn, *arrays, dtype):
    return [fn(M, *(M.tensor(a, dtype=getattr(M, dtype)) for a in arrays)) for M in (ember, torch)]


def _assert_same(ours, theirs, dtype):
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    tol = 1e-4 if dtype in ("float32", "complex64") else 1e-9
    np.testing.assert_allclose(np.asarray(ours.tolist()), theirs.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("kind", list(_DTYPES))
@pytest.mark.parametrize("name", list(MATRICES))
def test_factor_and_solve_match_pytorch(name, kind):
    # ember had no ldl_factor, ldl_factor_ex or ldl_solve (AttributeError)
    a = MATRICES[name](kind)
    hermitian = kind == "hermitian"
    b = np.random.default_rng(2).standard_normal((a.shape[-1], 3))
    for dtype in _DTYPES[kind]:
        ours, theirs = _both(lambda M, A: M.linalg.ldl_factor_ex(A, hermitian=hermitian), a, dtype=dtype)
        assert ours.pivots.tolist() == theirs.pivots.tolist()
        assert str(ours.pivots.dtype) == "ember.int32" and ours.info.tolist() == theirs.info.tolist() == 0
        _assert_same(ours.LD, theirs.LD, dtype)
        solve = lambda M, A, B: M.linalg.ldl_solve(*M.linalg.ldl_factor(A, hermitian=hermitian), B, hermitian=hermitian)  # noqa: E731
        ours, theirs = _both(solve, a, b, dtype=dtype)
        _assert_same(ours, theirs, dtype)


def test_the_pivots_of_2x2_blocks_are_negative():
    LD, pivots = ember.linalg.ldl_factor(ember.tensor([[0.0, 1.0], [1.0, 0.0]]))
    assert pivots.tolist() == [-2, -2] and LD.tolist() == [[0.0, 0.0], [1.0, 0.0]]


@pytest.mark.parametrize(
    "data",
    [
        [[[1.0, 2.0], [2.0, 1.0]], [[0.0, 0.0], [0.0, 0.0]]],  # info 1 in the second matrix
        [[0.0, 0.0], [0.0, 1.0]],
        [[float("nan"), 1.0], [1.0, -1.0]],  # LAPACK's comparisons: a NaN is never the larger
        [[1.0, float("nan")], [float("nan"), -1.0]],
        np.zeros((2, 0, 0)),
    ],
)
def test_ex_returns_torchs_info(data):
    ours, theirs = _both(lambda M, A: M.linalg.ldl_factor_ex(A), np.asarray(data), dtype="float64")
    assert ours.pivots.tolist() == theirs.pivots.tolist() and ours.info.tolist() == theirs.info.tolist()
    assert tuple(ours.LD.shape) == tuple(theirs.LD.shape)
    np.testing.assert_array_equal(np.asarray(ours.LD.tolist()), theirs.LD.numpy().tolist())


def test_singular_raises_a_runtime_error():
    for call in (
        lambda M: M.linalg.ldl_factor(M.zeros(2, 2)),
        lambda M: M.linalg.ldl_factor_ex(M.zeros(2, 2, 2), check_errors=True),
    ):
        for M in (ember, torch):
            with pytest.raises(RuntimeError):
                call(M)


def test_solve_broadcasts_batch_dimensions():
    a = np.stack([_symmetric(3, seed=s) for s in range(3)])
    b = np.random.default_rng(1).standard_normal((4, 1, 3, 2))
    ours = ember.linalg.ldl_solve(*ember.linalg.ldl_factor(ember.tensor(a)), ember.tensor(b))
    # PyTorch 2.13 crashes (a segmentation fault) where B has more batch dimensions than LD: its
    # factors are expanded by hand here
    LD, pivots = torch.linalg.ldl_factor(torch.tensor(a))
    theirs = torch.linalg.ldl_solve(LD.expand(4, 3, 3, 3), pivots.expand(4, 3, 3), torch.tensor(b).expand(4, 3, 3, 2))
    assert tuple(ours.shape) == tuple(theirs.shape) == (4, 3, 3, 2)
    _assert_same(ours, theirs, "float64")


def test_no_derivative_as_pytorch():
    for M in (ember, torch):
        A = M.tensor(_symmetric(3), requires_grad=True)
        LD, pivots = M.linalg.ldl_factor(A)
        assert LD.requires_grad and not pivots.requires_grad
        with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_factor_ex is not implemented"):
            LD.sum().backward()


def _call(M, case):
    LD, pivots = M.linalg.ldl_factor(M.tensor([[1.0, 2.0], [2.0, -1.0]]))
    return case(M, LD, pivots)


BAD = {
    "not_square": lambda M, LD, p: M.linalg.ldl_factor(M.ones(2, 3)),
    "vector": lambda M, LD, p: M.linalg.ldl_factor(M.ones(3)),
    "integer": lambda M, LD, p: M.linalg.ldl_factor(M.ones(2, 2, dtype=M.int64)),
    "half": lambda M, LD, p: M.linalg.ldl_factor(M.ones(2, 2, dtype=M.float16)),
    "solve_vector": lambda M, LD, p: M.linalg.ldl_solve(LD, p, M.ones(2)),
    "solve_rows": lambda M, LD, p: M.linalg.ldl_solve(LD, p, M.ones(3, 1)),
    "solve_dtype": lambda M, LD, p: M.linalg.ldl_solve(LD, p, M.ones(2, 1, dtype=M.float64)),
    "float_pivots": lambda M, LD, p: M.linalg.ldl_solve(LD, p.float(), M.ones(2, 1)),
    "pivots_shape": lambda M, LD, p: M.linalg.ldl_solve(LD, p[:1], M.ones(2, 1)),
    "out_dtype": lambda M, LD, p: M.linalg.ldl_solve(LD, p, M.ones(2, 1), out=M.empty(0, dtype=M.float64)),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_arguments_raise_torchs_error(case):
    errors = []
    for M in (ember, torch):
        with pytest.raises(Exception) as error:
            _call(M, BAD[case])
        errors.append(error)
    assert errors[0].type is errors[1].type, (errors[0].value, errors[1].value)
    if "torch.linalg" in str(errors[1].value):
        assert str(errors[0].value) == str(errors[1].value)


def test_the_portable_kernels_refuse():
    from ember.kernels.linalg import LinalgKernels

    kernels = ember.tensor(0.0)._backend.kernels
    with pytest.raises(NotImplementedError, match="no LDL factorization"):
        LinalgKernels.linalg_ldl_factor(kernels, np.eye(2))
