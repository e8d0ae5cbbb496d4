"""``ember.linalg``'s errors against PyTorch's: singular and indefinite matrices raise
``LinAlgError`` (a ``RuntimeError``) with PyTorch's message, the ``_ex`` forms return the same
``info`` instead, and bad shapes and dtypes raise PyTorch's ``RuntimeError``."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

SINGULAR = [[1.0, 2.0], [2.0, 4.0]]
BATCH = [[[1.0, 0.0], [0.0, 1.0]], SINGULAR]
ZEROS = [[0.0, 0.0, 0.0]] * 3


def _both(data, dtype="float64", device="cpu"):
    return ember.tensor(data, dtype=getattr(ember, dtype), device=device), torch.tensor(
        data, dtype=getattr(torch, dtype)
    )


def _message(fn, M, *args):
    with pytest.raises(RuntimeError) as info:
        fn(M, *args)
    return info.value


RAISING = {
    "inv": lambda M, A: M.linalg.inv(A),
    "inverse": lambda M, A: M.inverse(A),
    "solve": lambda M, A: M.linalg.solve(A, A[..., 0]),
    "cholesky": lambda M, A: M.linalg.cholesky(A),
    "inv_ex_check": lambda M, A: M.linalg.inv_ex(A, check_errors=True),
    "cholesky_ex_check": lambda M, A: M.linalg.cholesky_ex(A, check_errors=True),
}


@pytest.mark.parametrize("data", [SINGULAR, BATCH, ZEROS], ids=["single", "batch", "zeros"])
@pytest.mark.parametrize("op", list(RAISING))
def test_failed_factorizations_raise_linalg_error_with_torchs_message(op, data, device):
    e, t = _both(data, device=device)
    expected = _message(RAISING[op], torch, t)
    actual = _message(RAISING[op], ember, e)
    assert isinstance(actual, ember.linalg.LinAlgError)
    assert str(actual) == str(expected)


EX = {
    "inv_ex": lambda M, A: M.linalg.inv_ex(A).info,
    "solve_ex": lambda M, A: M.linalg.solve_ex(A, A).info,
    "cholesky_ex": lambda M, A: M.linalg.cholesky_ex(A).info,
    "lu_factor_ex": lambda M, A: M.linalg.lu_factor_ex(A).info,
    "slogdet": lambda M, A: M.linalg.slogdet(A).logabsdet,
    "det": lambda M, A: M.linalg.det(A),
    "matrix_rank": lambda M, A: M.linalg.matrix_rank(A),
}


@pytest.mark.parametrize("data", [SINGULAR, BATCH, ZEROS], ids=["single", "batch", "zeros"])
@pytest.mark.parametrize("op", list(EX))
def test_the_ex_forms_return_torchs_info(op, data, device):
    e, t = _both(data, device=device)
    actual, expected = EX[op](ember, e), EX[op](torch, t)
    assert str(actual.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_array_equal(actual.cpu().numpy(), expected.numpy())


BAD = {
    "inv_non_square": (lambda M, A: M.linalg.inv(A), [[1.0, 2.0, 3.0]] * 2, "float64"),
    "det_non_square": (lambda M, A: M.linalg.det(A), [[1.0, 2.0, 3.0]] * 2, "float64"),
    "cholesky_non_square": (lambda M, A: M.linalg.cholesky(A), [[1.0, 2.0, 3.0]] * 2, "float64"),
    "eigh_non_square": (lambda M, A: M.linalg.eigh(A), [[1.0, 2.0, 3.0]] * 2, "float64"),
    "matrix_power_non_square": (lambda M, A: M.linalg.matrix_power(A, 2), [[1.0, 2.0, 3.0]] * 2, "float64"),
    "matrix_exp_non_square": (lambda M, A: M.linalg.matrix_exp(A), [[1.0, 2.0, 3.0]] * 2, "float64"),
    "inv_long": (lambda M, A: M.linalg.inv(A), [[1, 2], [3, 4]], "int64"),
    "det_long": (lambda M, A: M.linalg.det(A), [[1, 2], [3, 4]], "int64"),
    "qr_long": (lambda M, A: M.linalg.qr(A), [[1, 2], [3, 4]], "int64"),
    "householder_wide": (
        lambda M, A: M.linalg.householder_product(A, A[0, :1]),
        [[1.0, 2.0, 3.0]] * 2,
        "float64",
    ),
    "householder_tau": (lambda M, A: M.linalg.householder_product(A.mT, A), [[1.0, 2.0, 3.0]] * 2, "float64"),
    "householder_dtype": (
        lambda M, A: M.linalg.householder_product(A.mT, A[0, :2].float()),
        [[1.0, 2.0, 3.0]] * 2,
        "float64",
    ),
    "inv_half": (lambda M, A: M.linalg.inv(A), [[1.0, 2.0], [3.0, 4.0]], "float16"),
    "inv_1d": (lambda M, A: M.linalg.inv(A), [1.0, 2.0], "float64"),
    "qr_1d": (lambda M, A: M.linalg.qr(A), [1.0, 2.0], "float64"),
    "svd_1d": (lambda M, A: M.linalg.svd(A), [1.0, 2.0], "float64"),
    "solve_shapes": (lambda M, A: M.linalg.solve(A, A.new_ones(3)), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    "solve_right_vector": (lambda M, A: M.linalg.solve(A, A[0], left=False), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    "solve_batch_shapes": (
        lambda M, A: M.linalg.solve(A, A.new_ones(2, 3, 2)),
        [[1.0, 2.0], [3.0, 4.0]],
        "float64",
    ),
    "solve_dtypes": (lambda M, A: M.linalg.solve(A, A.float()), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    "solve_triangular_shapes": (
        lambda M, A: M.linalg.solve_triangular(A, A.new_ones(3, 2), upper=True),
        [[1.0, 2.0], [3.0, 4.0]],
        "float64",
    ),
    "lu_solve_vector": (
        lambda M, A: M.linalg.lu_solve(*M.linalg.lu_factor(A), A.new_ones(2)),
        [[1.0, 2.0], [3.0, 4.0]],
        "float64",
    ),
    "lu_factor_singular": (lambda M, A: M.linalg.lu_factor(A), SINGULAR, "float64"),
    "triangular_solve_non_square": (
        lambda M, A: M.triangular_solve(A.new_ones(2, 3), A),
        [[1.0, 2.0, 3.0]] * 2,
        "float64",
    ),
    "qr_mode": (lambda M, A: M.linalg.qr(A, mode="full"), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    "eigh_uplo": (lambda M, A: M.linalg.eigh(A, UPLO="X"), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    "vecdot_dtypes": (lambda M, A: M.linalg.vecdot(A, A.float()), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    "multi_dot_one": (lambda M, A: M.linalg.multi_dot([A]), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    "multi_dot_shapes": (lambda M, A: M.linalg.multi_dot([A, A.new_ones(3, 1)]), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    "lstsq_driver": (lambda M, A: M.linalg.lstsq(A, A, driver="x"), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    "cond_non_square": (lambda M, A: M.linalg.cond(A, float("inf")), [[1.0, 2.0, 3.0]] * 2, "float64"),
    "cond_order": (lambda M, A: M.linalg.cond(A, 3), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    "cond_vector": (lambda M, A: M.linalg.cond(A[0]), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    "cond_integer": (lambda M, A: M.linalg.cond(A.long()), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    "vander_N": (lambda M, A: M.linalg.vander(A[0], N=1), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    "vander_half": (lambda M, A: M.linalg.vander(A[0].half()), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    "tensorinv_ind": (lambda M, A: M.linalg.tensorinv(A, ind=0), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    "tensorinv_shape": (lambda M, A: M.linalg.tensorinv(A.reshape(1, 4), ind=1), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    "tensorinv_singular": (lambda M, A: M.linalg.tensorinv(A * 0, ind=1), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    "tensorsolve_shape": (lambda M, A: M.linalg.tensorsolve(A, A[:, :1]), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    # ember's messages and types differed from PyTorch's in these (its message first):
    # "linalg.lu_factor_ex: U[2,2] is zero." (a LinAlgError)
    "lu_factor_ex_check": (lambda M, A: M.linalg.lu_factor_ex(A, check_errors=True), SINGULAR, "float64"),
    "lu_factor_ex_check_batch": (lambda M, A: M.linalg.lu_factor_ex(A, check_errors=True), BATCH, "float64"),
    "solve_ex_check": (lambda M, A: M.linalg.solve_ex(A, A[0], check_errors=True), SINGULAR, "float64"),
    "lu_no_pivot": (lambda M, A: M.linalg.lu_factor_ex(A, pivot=False), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    # "linalg.eigh: Expected a floating point or complex tensor as input. Got Long" (PyTorch: NotImplementedError)
    "eigh_long": (lambda M, A: M.linalg.eigh(A), [[1, 2], [3, 4]], "int64"),
    "eigvalsh_long": (lambda M, A: M.linalg.eigvalsh(A), [[1, 2], [3, 4]], "int64"),
    "pinv_long": (lambda M, A: M.linalg.pinv(A), [[1, 2], [3, 4]], "int64"),
    "pinv_1d": (lambda M, A: M.linalg.pinv(A), [1.0, 2.0], "float64"),
    "pinv_half": (lambda M, A: M.linalg.pinv(A), [[1.0, 2.0], [3.0, 4.0]], "float16"),
    "matrix_rank_1d": (lambda M, A: M.linalg.matrix_rank(A), [1.0, 2.0], "float64"),
    "lstsq_1d": (lambda M, A: M.linalg.lstsq(A, A), [1.0, 2.0], "float64"),
    "lstsq_dtypes": (lambda M, A: M.linalg.lstsq(A, A.float()), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    # "torch.linalg.lstsq: input.size(-2) should match other.size(-2). Got 2 and 3"
    "lstsq_rows": (lambda M, A: M.linalg.lstsq(A, A.new_ones(3, 1)), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    "lstsq_vector_rows": (lambda M, A: M.linalg.lstsq(A, A.new_ones(3)), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    # ember broadcast B's extra batch dimension
    "lstsq_more_dims": (lambda M, A: M.linalg.lstsq(A, A.new_ones(5, 2, 1)), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    "solve_triangular_vector": (
        lambda M, A: M.linalg.solve_triangular(A, A[0], upper=True),
        [[1.0, 2.0], [3.0, 4.0]],
        "float64",
    ),
    "cholesky_solve_vector": (lambda M, A: M.cholesky_solve(A[0], A), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    "cholesky_solve_dtypes": (lambda M, A: M.cholesky_solve(A.float(), A), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    "lu_solve_dtypes": (
        lambda M, A: M.linalg.lu_solve(*M.linalg.lu_factor(A), A.float()),
        [[1.0, 2.0], [3.0, 4.0]],
        "float64",
    ),
    # driver= was accepted and ignored on the CPU (svdvals: TypeError)
    "svd_driver": (lambda M, A: M.linalg.svd(A, driver="gesvd"), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    "svdvals_driver": (lambda M, A: M.linalg.svdvals(A, driver="gesvd"), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    # NumPy's "SVD did not converge" (a ValueError)
    "svd_nan": (lambda M, A: M.linalg.svd(A), [[1.0, float("nan")], [0.0, 1.0]], "float64"),
    "svd_nan_batch": (
        lambda M, A: M.linalg.svdvals(A),
        [[[1.0, 0.0], [0.0, 1.0]], [[1.0, float("nan")], [0.0, 1.0]]],
        "float64",
    ),
    "pinv_nan": (lambda M, A: M.linalg.pinv(A), [[1.0, float("nan")], [0.0, 1.0]], "float64"),
    # NaN passed NumPy's Cholesky: ember returned [[1, 0], [nan, nan]]
    "cholesky_nan": (lambda M, A: M.linalg.cholesky(A), [[1.0, float("nan")], [float("nan"), 1.0]], "float64"),
    "eigh_uplo_case": (lambda M, A: M.linalg.eigh(A, UPLO="x"), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    "vector_norm_long_dtype": (lambda M, A: M.linalg.vector_norm(A, dtype=M.int64), [[1.0, 2.0]], "float64"),
    "matrix_norm_long_dtype": (lambda M, A: M.linalg.matrix_norm(A, dtype=M.int64), [[1.0, 2.0]], "float64"),
    "cross_dims": (lambda M, A: M.linalg.cross(A, A[0]), [[1.0, 2.0, 3.0]] * 2, "float64"),
    "cross_length": (lambda M, A: M.linalg.cross(A, A), [[1.0, 2.0]] * 3, "float64"),
    "cross_no_3": (lambda M, A: M.cross(A, A), [[1.0, 2.0]] * 2, "float64"),
    # the _ex forms' argument errors name the plain op ("linalg.solve_ex: A must be ...")
    "solve_ex_non_square": (lambda M, A: M.linalg.solve_ex(A, A[0]), [[1.0, 2.0, 3.0]] * 2, "float64"),
    "solve_ex_long": (lambda M, A: M.linalg.solve_ex(A, A[0]), [[1, 2], [3, 4]], "int64"),
    "cholesky_ex_non_square": (lambda M, A: M.linalg.cholesky_ex(A), [[1.0, 2.0, 3.0]] * 2, "float64"),
    # "linalg.lu_factor_ex: The input tensor A must have at least 2 dimensions."
    "lu_factor_1d": (lambda M, A: M.linalg.lu_factor(A), [1.0, 2.0], "float64"),
    "lu_factor_ex_1d": (lambda M, A: M.linalg.lu_factor_ex(A), [1.0, 2.0], "float64"),
    "lu_1d": (lambda M, A: M.linalg.lu(A), [1.0, 2.0], "float64"),
    # vecdot of integers and booleans returned a result
    "vecdot_bool": (lambda M, A: M.linalg.vecdot(A > 1, A > 1), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    "vecdot_long": (lambda M, A: M.linalg.vecdot(A.long(), A), [[1.0, 2.0], [3.0, 4.0]], "float64"),
    # lu_unpack took int64 pivots, ignored short ones and raised IndexError for one out of range
    "lu_unpack_long_pivots": (
        lambda M, A: M.lu_unpack(M.linalg.lu_factor(A).LU, M.linalg.lu_factor(A).pivots.long()),
        [[1.0, 2.0], [3.0, 4.0]],
        "float64",
    ),
    "lu_unpack_pivot_range": (
        lambda M, A: M.lu_unpack(A, M.tensor([3, 2], dtype=M.int32)),
        [[1.0, 2.0], [3.0, 4.0]],
        "float64",
    ),
    "lu_unpack_short_pivots": (
        lambda M, A: M.lu_unpack(A, M.tensor([1], dtype=M.int32)),
        [[1.0, 2.0], [3.0, 4.0]],
        "float64",
    ),
    "lu_unpack_vector": (lambda M, A: M.lu_unpack(A[0], M.tensor([1], dtype=M.int32)), [[1.0, 2.0]], "float64"),
    # a singular factor gave inf and nan
    "cholesky_inverse_singular": (lambda M, A: M.cholesky_inverse(A), [[1.0, 0.0], [2.0, 0.0]], "float64"),
    "cholesky_inverse_singular_batch": (
        lambda M, A: M.cholesky_inverse(A, upper=True),
        [[[1.0, 0.0], [2.0, 1.0]], [[0.0, 0.0], [2.0, 1.0]]],
        "float64",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_arguments_raise_torchs_error(case):
    fn, data, dtype = BAD[case]
    e, t = _both(data, dtype)
    expected, actual = _message(fn, torch, t), _message(fn, ember, e)
    assert type(actual).__name__.replace("LinAlgError", "_LinAlgError") == type(expected).__name__
    assert str(actual) == str(expected)


@pytest.mark.parametrize("data", [[[1.0, 2.0], [2.0, 4.0]], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]])
def test_the_gradient_of_a_singular_determinant_is_torchs(data, device):
    e, t = _both(data, device=device)
    e.requires_grad_()
    t.requires_grad_()
    ember.linalg.det(e).backward()
    torch.linalg.det(t).backward()
    np.testing.assert_array_equal(e.grad.cpu().numpy(), t.grad.numpy())


def test_linalg_error_is_a_runtime_error():
    assert issubclass(ember.linalg.LinAlgError, RuntimeError)


@pytest.mark.parametrize(
    "fn",
    [
        lambda M, A: M.linalg.qr(A, mode="r").R.sum().backward(),
        lambda M, A: M.linalg.qr(A.mT @ A.new_ones(2, 3).mT.mT.mT[:, :2].mT, mode="complete").Q.sum().backward(),
    ],
    ids=["mode_r", "complete_tall"],
)
def test_qr_gradients_torch_refuses_are_refused(fn):
    data = np.random.default_rng(0).standard_normal((3, 2))
    e = ember.tensor(data, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    expected, actual = _message(fn, torch, t), _message(fn, ember, e)
    assert str(actual) == str(expected)


NAN_INFO = {
    # NaN passed NumPy's Cholesky (info 0); LAPACK's potrf stops at it
    "cholesky_ex": lambda M, A: M.linalg.cholesky_ex(A).info,
    # LAPACK's pivot search never takes a NaN below the diagonal: pivots [1, 2], not [2, 2]
    "lu_factor_ex": lambda M, A: M.linalg.lu_factor_ex(A).pivots,
}


@pytest.mark.parametrize("op", list(NAN_INFO))
def test_nan_gives_lapacks_info_and_pivots(op, device):
    data = [[[1.0, 0.0], [float("nan"), 1.0]], [[float("nan"), 0.0], [0.0, 1.0]]]
    e, t = _both(data, device=device)
    assert NAN_INFO[op](ember, e).tolist() == NAN_INFO[op](torch, t).tolist()


LEGACY = {
    # positional / keyword tolerances of PyTorch's earlier signatures were a TypeError
    "matrix_rank_tol": lambda M, A: M.linalg.matrix_rank(A, tol=1.0),
    "matrix_rank_tol_positional": lambda M, A: M.linalg.matrix_rank(A, 1.0, True),
    "pinv_rcond": lambda M, A: M.linalg.pinv(A, rcond=0.5),
    "pinv_rcond_positional": lambda M, A: M.linalg.pinv(A, 0.5, True),
    # a tensor tolerance with batch dimensions of its own: masked_fill failed to broadcast
    "pinv_atol_batch": lambda M, A: M.linalg.pinv(A, atol=M.tensor([1.0, 10.0], dtype=A.dtype)),
    "pinv_rtol_batch_hermitian": lambda M, A: M.linalg.pinv(
        A, rtol=M.tensor([0.01, 1.0], dtype=A.dtype), hermitian=True
    ),
    "matrix_rank_atol_batch": lambda M, A: M.linalg.matrix_rank(A, atol=M.tensor([1.0, 10.0], dtype=A.dtype)),
    "eigvalsh_lower_case_uplo": lambda M, A: M.linalg.eigvalsh(A, UPLO="u"),
}


@pytest.mark.parametrize("case", list(LEGACY))
def test_tolerance_arguments_match_torch(case):
    e, t = _both([[10.0, 1.0], [1.0, 2.0]])
    np.testing.assert_allclose(np.asarray(LEGACY[case](ember, e).tolist()), LEGACY[case](torch, t).numpy(), rtol=1e-12)


def test_tolerance_and_legacy_tolerance_together_are_refused():
    for M in (ember, torch):
        with pytest.raises(TypeError):
            M.linalg.pinv(M.eye(2), rcond=0.1, rtol=0.2)
        with pytest.raises(TypeError):
            M.linalg.matrix_rank(M.eye(2), tol=0.1, atol=0.1)


@pytest.mark.parametrize("n", [True, 2.0])
def test_matrix_power_takes_an_integer_exponent(n):
    # True was taken as 1; 2.0 failed inside with "unsupported operand type(s) for &"
    messages = []
    for M in (ember, torch):
        with pytest.raises(TypeError) as error:
            M.linalg.matrix_power(M.eye(2), n)
        messages.append(str(error.value))
    assert messages[0] == messages[1]
    assert ember.linalg.matrix_power(ember.eye(2) * 2, ember.tensor(3)).tolist() == [[8.0, 0.0], [0.0, 8.0]]


@pytest.mark.parametrize(
    "data",
    [
        [[1.0, 2.0], [2.0, 1.0]],  # ember's L was [[1, 0], [2, 1]], torch's [[1, 0], [2, -3]]
        [[4.0, 2.0, 1.0, 1.0], [2.0, 5.0, 3.0, 1.0], [1.0, 3.0, -5.0, 2.0], [1.0, 1.0, 2.0, 6.0]],
        [[[4.0, 2.0], [2.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]],
        [[float("nan"), 0.0], [0.0, 1.0]],
    ],
)
def test_a_failed_cholesky_leaves_lapacks_factor(data, device):
    # LAPACK's potf2 stops at the failing column: its reduced diagonal element, the input after it
    e, t = _both(data, device=device)
    ours, theirs = ember.linalg.cholesky_ex(e), torch.linalg.cholesky_ex(t)
    np.testing.assert_array_equal(ours.L.cpu().numpy(), theirs.L.numpy())
    assert ours.info.tolist() == theirs.info.tolist()


MIXED = {
    # linalg.solve_triangular raised "Expected A and B to have the same dtype"; PyTorch casts B to A's type
    "float32_A": lambda M, A: M.linalg.solve_triangular(A.float(), M.ones(2, 1, dtype=M.float64), upper=True),
    "float64_A": lambda M, A: M.linalg.solve_triangular(A, M.ones(2, 1), upper=True),
    "complex_A": lambda M, A: M.linalg.solve_triangular(A.to(M.complex64), M.ones(1, 2), upper=True, left=False),
    "integer_B": lambda M, A: M.linalg.solve_triangular(A, M.ones(2, 1, dtype=M.int64), upper=False),
}


@pytest.mark.parametrize("case", list(MIXED))
def test_solve_triangular_casts_b_to_a_type(case):
    e, t = _both([[2.0, 1.0], [0.0, 4.0]])
    ours, theirs = MIXED[case](ember, e), MIXED[case](torch, t)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(np.asarray(ours.tolist()), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    "call",
    [
        lambda M: M.linalg.solve_triangular(M.eye(2, dtype=M.int64), M.ones(2, 1), upper=True),
        # the classic form keeps its check (ember computed it)
        lambda M: M.triangular_solve(M.ones(2, 1, dtype=M.float64), M.eye(2)),
    ],
    ids=["integer_A", "classic_mixed"],
)
def test_solve_triangular_refusals_match_torch(call):
    errors = []
    for M in (ember, torch):
        with pytest.raises(RuntimeError) as error:
            call(M)
        errors.append(error)
    assert errors[0].type is errors[1].type and str(errors[0].value) == str(errors[1].value)


UPPER = {
    # upper=True read the lower triangle and returned L^H: a matrix whose triangles differ gave
    # another factor than PyTorch's (LAPACK's uplo='U' reads the upper one)
    "real": [[4.0, 1.0], [7.0, 3.0]],
    "real_indefinite_upper": [[4.0, 7.0], [1.0, 3.0]],
    "complex": [[4.0 + 1j, 1.0 - 2j], [7.0, 3.0 + 0.5j]],
}


@pytest.mark.parametrize("case", list(UPPER))
def test_cholesky_upper_reads_the_upper_triangle(case, device):
    data = np.asarray(UPPER[case])
    if np.iscomplexobj(data) and device != "cpu":
        pytest.skip("complex matrices on the NumPy backend")
    ours = ember.linalg.cholesky_ex(ember.tensor(data, device=device), upper=True)
    theirs = torch.linalg.cholesky_ex(torch.tensor(data), upper=True)
    np.testing.assert_allclose(np.asarray(ours.L.tolist()), theirs.L.resolve_conj().numpy(), rtol=1e-6)
    assert ours.info.tolist() == theirs.info.tolist()


def test_cholesky_upper_gradient_of_a_matrix_with_unequal_triangles():
    data = np.array([[5.0, 1.5, 0.5], [1.0, 4.0, 0.2], [0.3, 0.1, 3.0]]) + 1j * np.array(
        [[0.2, 0.1, -0.3], [0.4, 0.0, 0.2], [0.1, -0.2, 0.1]]
    )
    grads = []
    for M in (ember, torch):
        A = M.tensor(data, requires_grad=True)
        (M.linalg.cholesky(A, upper=True) * M.tensor(np.arange(9.0).reshape(3, 3) * (1 - 1j))).real.sum().backward()
        grads.append(np.asarray(A.grad.tolist()) if M is ember else A.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)


def test_a_failed_complex_cholesky_stores_the_real_diagonal_element():
    data = -np.array([[4 + 1j, 7 - 1j], [1 + 1j, 3 + 2j]])
    ours, theirs = ember.linalg.cholesky_ex(ember.tensor(data)), torch.linalg.cholesky_ex(torch.tensor(data))
    np.testing.assert_array_equal(np.asarray(ours.L.tolist()), theirs.L.numpy())
