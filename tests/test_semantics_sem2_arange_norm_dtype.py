"""``arange`` into a narrow integer type from a negative start (counted wide and wrapped, as PyTorch) and into
an integer type from fractional bounds, and the norms refusing an output dtype the input cannot be converted to
without narrowing."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

RANGES = {
    "uint8_negative_start": ((-3, 5), "uint8"),
    "uint8_negative_start_step": ((-3, 2, 2), "uint8"),
    "uint8_descending": ((5, -3, -2), "uint8"),
    "uint8_far_below": ((-300, -290), "uint8"),
    "uint8_float_bounds": ((-3.0, 2.0), "uint8"),
    "uint8_past_top": ((250, 260), "uint8"),
    "int8_negative": ((-3, 5), "int8"),
    "int16_negative": ((-5, 3, 3), "int16"),
    "int32_negative": ((-5, 3), "int32"),
    "int64_fractional_step": ((0, 5, 1.5), "int64"),
    "int32_fractional_step": ((0, 5, 1.5), "int32"),
    "int64_fractional_descending": ((10, 0.5, -2.5), "int64"),
    "int32_fractional_descending": ((10, 0.5, -2.5), "int32"),
    "int64_fractional_end": ((0, 0.9), "int64"),
    "int64_beyond_2_53_float_step": ((2**53, 2**53 + 10, 3.0), "int64"),
}


FRACTIONAL = [(0, 2.5, 1), (0, 3, 1.5), (-1.5, 2, 1), (0.9, 3.2, 1.1), (0, 5, 2.9), (2.5, -1.5, -1), (0, 2, 0.5)]


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
@pytest.mark.parametrize("args", FRACTIONAL)
def test_arange_integer_dtype_with_fractional_bounds_like_torch(device, dtype, args):
    """int64 truncates start, end and step first (a step of 0.5 is 0: ValueError); the narrower types count
    with the fractional bounds and step from the truncated start by the truncated step."""
    try:
        want = torch.arange(*args, dtype=getattr(torch, dtype))
    except ValueError:
        with pytest.raises(ValueError, match="step must be nonzero"):
            ember.arange(*args, dtype=getattr(ember, dtype), device=device)
        return
    got = ember.arange(*args, dtype=getattr(ember, dtype), device=device)
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


@pytest.mark.parametrize("case", sorted(RANGES))
def test_arange_narrow_integer_like_torch(device, case):
    args, name = RANGES[case]
    want = torch.arange(*args, dtype=getattr(torch, name))
    got = ember.arange(*args, dtype=getattr(ember, name), device=device)
    assert got.dtype is getattr(ember, name)
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


BAD_RANGES = {
    "step_truncated_to_zero": ((0, 2.5, 0.5), "int64"),
    "inconsistent_before_truncation": ((0.5, 0.2, 1), "int64"),
    "infinite_end": ((0, float("inf")), "float32"),
    "nan_end": ((0, float("nan")), "float32"),
}


@pytest.mark.parametrize("case", sorted(BAD_RANGES))
def test_arange_errors_like_torch(device, case):
    args, name = BAD_RANGES[case]
    with pytest.raises(Exception) as want:
        torch.arange(*args, dtype=getattr(torch, name))
    with pytest.raises(want.type, match=str(want.value).split(":")[0]):
        ember.arange(*args, dtype=getattr(ember, name), device=device)


NORMS = {
    "matrix_fro_half": (lambda L, x, d: L.matrix_norm(x, dtype=d), "float32", "float16"),
    "matrix_2_bfloat16": (lambda L, x, d: L.matrix_norm(x, ord=2, dtype=d), "float32", "bfloat16"),
    "matrix_nuc_half": (lambda L, x, d: L.matrix_norm(x, "nuc", dtype=d), "float32", "float16"),
    "matrix_double_to_float": (lambda L, x, d: L.matrix_norm(x, dtype=d), "float64", "float32"),
    "vector_half": (lambda L, x, d: L.vector_norm(x, dtype=d), "float32", "float16"),
    "norm_half": (lambda L, x, d: L.norm(x, dtype=d), "float32", "float16"),
}


@pytest.mark.parametrize("case", sorted(NORMS))
def test_norm_refuses_narrowing_dtype(device, case):
    fn, source, target = NORMS[case]
    if source == "float64" and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    with pytest.raises(RuntimeError) as want:
        fn(torch.linalg, torch.ones(2, 2, dtype=getattr(torch, source)), getattr(torch, target))
    with pytest.raises(RuntimeError) as got:
        fn(ember.linalg, ember.ones(2, 2, dtype=getattr(ember, source), device=device), getattr(ember, target))
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize("ord", ["fro", 1, "nuc"])
def test_matrix_norm_widening_dtype_allowed(device, ord):
    if not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    a = [[1.0, -2.0], [3.0, 0.5]]
    want = torch.linalg.matrix_norm(torch.tensor(a), ord, dtype=torch.float64)
    got = ember.linalg.matrix_norm(ember.tensor(a, device=device), ord, dtype=ember.float64)
    assert got.dtype is ember.float64
    np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", ["int64", "int32", "float32"])
@pytest.mark.parametrize("args", [(1, 4), (0, 10, 3), (5, 1, -2), (1.5, 4), (-2.5, 3.7, 1.2), (3, 3)])
def test_range_includes_end_like_torch(device, dtype, args):
    """The deprecated ``range`` includes ``end``; into an integer type from the truncated bounds, as PyTorch."""
    with pytest.warns(UserWarning):
        want = torch.range(*args, dtype=getattr(torch, dtype))
    got = ember.range(*args, dtype=getattr(ember, dtype), device=device)
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())
