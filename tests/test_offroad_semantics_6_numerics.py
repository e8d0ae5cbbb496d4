"""Off the main road, differential against PyTorch: ``round(decimals=)`` with negative and extreme
``decimals`` (PyTorch divides by ``10**-decimals`` before rounding, and an infinite power gives NaN),
and ``lerp`` with a 0-d weight of another dtype (promoted as PyTorch's 0-d operands are) or a complex
number as the weight of real ends."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _values():
    rng = np.random.default_rng(0)
    v = rng.standard_normal(4000) * 10.0 ** rng.integers(-3, 6, 4000)
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, 2411.0037, 20690.848, -2546.7358, 2500.0, -1500.0, 0.5, 2.5]
    return np.concatenate([v, np.round(v) + 0.5, np.arange(-1000, 1000, 5.0), special])


def _require(device, dtype):
    """Skip where ``device``'s backend lacks ``dtype`` (float64, bfloat16 on OpenCL)."""
    backend = ember.backends.get_backend(device)
    try:
        backend.native_dtype(getattr(ember, dtype))
    except TypeError:
        pytest.skip(f"{device} has no {dtype}")
    if dtype == "float64" and not backend.supports_float64:
        pytest.skip(f"{device} has no float64")


def _same_bits(got, expected):
    got, expected = got.astype(np.float64), expected.astype(np.float64)
    both_nan = np.isnan(got) & np.isnan(expected)
    assert np.array_equal(got[~both_nan], expected[~both_nan])
    assert np.array_equal(np.signbit(got[~both_nan]), np.signbit(expected[~both_nan]))
    assert np.array_equal(np.isnan(got), np.isnan(expected))


@pytest.mark.parametrize("decimals", [-1, -2, -3, -4, -6, 1, 3, 5, -39, 39, -40, 40, -308, 309, -309, 400, -400])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_round_decimals(device, dtype, decimals):
    # ember multiplied by 10.0**decimals for a negative one: round(2411.0037, decimals=-3) gave 1999.9999 in
    # float32 (PyTorch 2000), and decimals=400 raised OverflowError (PyTorch NaN)
    _require(device, dtype)
    v = _values()
    got = ember.tensor(v, device=device).to(getattr(ember, dtype)).round(decimals=decimals).float().cpu().numpy()
    expected = torch.tensor(v).to(getattr(torch, dtype)).round(decimals=decimals).float().numpy()
    _same_bits(got, expected)


# name -> f(lib, device): lerp with a 0-d weight of another dtype than the ends
LERP_0D_WEIGHTS = {
    "float32 ends, float64 weight": lambda L, d: L.lerp(
        L.tensor([0.0, 1.0], device=d), L.tensor([1.0, 2.0], device=d), L.tensor(0.3, dtype=L.float64)
    ),
    "float32 ends, int64 weight": lambda L, d: L.lerp(
        L.tensor([0.0, 1.0], device=d), L.tensor([1.0, 2.0], device=d), L.tensor(1)
    ),
    "float32 ends, uint8 weight": lambda L, d: L.lerp(
        L.tensor([0.0, 1.0], device=d), L.tensor([1.0, 2.0], device=d), L.tensor(2, dtype=L.uint8)
    ),
    "float32 ends, bool weight": lambda L, d: L.lerp(
        L.tensor([0.0, 1.0], device=d), L.tensor([1.0, 2.0], device=d), L.tensor(True)
    ),
    "float32 ends, float16 weight": lambda L, d: L.lerp(
        L.tensor([0.0, 1.0], device=d), L.tensor([1.0, 2.0], device=d), L.tensor(0.3, dtype=L.float16)
    ),
    "float16 ends, float32 weight": lambda L, d: L.lerp(
        L.tensor([0.0, 1.0], dtype=L.float16, device=d), L.tensor([1.0, 2.0], dtype=L.float16, device=d), L.tensor(0.3)
    ),
    "int64 ends, float32 weight": lambda L, d: L.lerp(
        L.tensor([0, 1], device=d), L.tensor([1, 2], device=d), L.tensor(0.5)
    ),
    "lerp_ float32, float64 weight": lambda L, d: L.tensor([0.0, 1.0], device=d).lerp_(
        L.tensor([1.0, 2.0], device=d), L.tensor(0.3, dtype=L.float64)
    ),
    "complex scalar weight without imaginary part": lambda L, d: L.lerp(
        L.tensor([0.0, 1.0], device=d), L.tensor([1.0, 2.0], device=d), 0.5 + 0j
    ),
}


@pytest.mark.parametrize("case", list(LERP_0D_WEIGHTS))
def test_lerp_0d_weight_of_another_dtype(device, case):
    # ember raised "expected dtype float for `weight` but got dtype double"
    got = LERP_0D_WEIGHTS[case](ember, device)
    expected = LERP_0D_WEIGHTS[case](torch, "cpu")
    assert str(got.dtype).split(".")[1] == str(expected.dtype).split(".")[1]
    np.testing.assert_array_equal(got.float().cpu().numpy(), expected.float().numpy())


def test_lerp_0d_weight_gradient(device):
    grads = []
    for L, d in ((ember, device), (torch, "cpu")):
        x = L.tensor([0.0, 1.0], requires_grad=True, device=d)
        w = L.tensor(0.3, dtype=L.float64, requires_grad=True)
        y = L.lerp(x, L.tensor([1.0, 2.0], device=d), w)
        y.sum().backward()
        grads.append((str(y.dtype).split(".")[1], str(w.grad.dtype).split(".")[1], float(w.grad), x.grad.tolist()))
    assert grads[0] == grads[1]


@pytest.mark.parametrize(
    "fn",
    [
        lambda L: L.lerp(L.tensor([0.0, 1.0]), L.tensor([1.0, 2.0]), L.tensor([0.5], dtype=L.float64)),  # not 0-d
        lambda L: L.tensor([0.0, 1.0]).lerp_(L.tensor([1.0, 2.0]), L.tensor(0.3j)),  # complex into a real tensor
        lambda L: L.lerp(L.tensor([0.0, 1.0]), L.tensor([1.0, 2.0]), 0.5j),  # ember: TypeError from float()
        lambda L: L.lerp(L.tensor([0, 1]), L.tensor([1, 2]), 0.5j),
        lambda L: L.lerp(L.tensor([0.0, 1.0]), L.tensor(1.0, dtype=L.float64), 0.5),  # a 0-d end is no weight
    ],
)
def test_lerp_errors(fn):
    with pytest.raises(Exception) as expected:
        fn(torch)
    with pytest.raises(type(expected.value), match=f"^{__import__('re').escape(str(expected.value))}$"):
        fn(ember)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize(
    "value", [65504.0, 65510.0, 65519.9, 65520.0, 70000.0, 3.3895e38, 3.4028235e38, 3.4028236e38, 1e39, 1e308]
)
def test_nan_to_num_casts_replacements_unchecked(device, dtype, value):
    # ember raised "value cannot be converted to type c10::Half without overflow"; PyTorch casts (to inf)
    _require(device, dtype)
    data = [float("nan"), float("inf"), -float("inf"), 1.0]
    got = ember.tensor(data, dtype=getattr(ember, dtype), device=device).nan_to_num(value, value, -value)
    expected = torch.tensor(data, dtype=getattr(torch, dtype)).nan_to_num(value, value, -value)
    assert got.double().tolist() == expected.double().tolist()


# name -> f(lib, device): histc of NaN or infinite data or bounds, and of no bins: PyTorch's errors
HISTC_ERRORS = {
    "inf data": lambda L, d: L.histc(L.tensor([1.0, float("inf")], device=d), bins=3),
    "-inf data": lambda L, d: L.histc(L.tensor([-float("inf"), 1.0], device=d), bins=3),
    "large and inf data": lambda L, d: L.histc(L.tensor([123456789.0, float("inf")], device=d), bins=3),
    "small and inf data": lambda L, d: L.histc(L.tensor([1e-7, float("inf")], device=d), bins=3),
    "inf max": lambda L, d: L.histc(L.tensor([1.0, 2.0], device=d), bins=3, min=0, max=float("inf")),
    "nan min": lambda L, d: L.histc(L.tensor([1.0], device=d), bins=3, min=float("nan"), max=1),
    "fraction and inf": lambda L, d: L.histc(L.tensor([1.0], device=d), bins=3, min=0.1, max=float("inf")),
    "no bins": lambda L, d: L.histc(L.tensor([1.0, 2.0], device=d), bins=0),
}


@pytest.mark.parametrize("case", list(HISTC_ERRORS))
def test_histc_errors(device, case):
    # ember counted inf data in the last bin (and NaN data nowhere); PyTorch refuses a range that is not finite
    fn = HISTC_ERRORS[case]
    with pytest.raises(RuntimeError) as expected:
        fn(torch, "cpu")
    with pytest.raises(RuntimeError, match=f"^{__import__('re').escape(str(expected.value))}$"):
        fn(ember, device)


def test_histc_of_nan_data_raises(device):
    with pytest.raises(RuntimeError, match=r"^torch\.histc: range of \[-?nan, -?nan\] is not finite$"):
        ember.histc(ember.tensor([1.0, float("nan")], device=device), bins=3)
    with pytest.raises(RuntimeError, match=r"range of \[-?nan, -?nan\] is not finite"):
        torch.histc(torch.tensor([1.0, float("nan")]), bins=3)
    # NaN among data with given bounds is no error: it lands in no bin
    got = ember.histc(ember.tensor([1.0, float("nan")], device=device), bins=3, min=0, max=3)
    assert got.tolist() == torch.histc(torch.tensor([1.0, float("nan")]), bins=3, min=0, max=3).tolist()


@pytest.mark.parametrize("weights", [None, "float32", "float64", "int64"])
@pytest.mark.parametrize("minlength", [0, 3])
def test_bincount_of_nothing_counts_in_int64(device, weights, minlength):
    # ember gave a float weights' dtype (float32 for float32 weights); PyTorch gives int64 zeros
    results = []
    for L, d in ((ember, device), (torch, "cpu")):
        w = None if weights is None else L.tensor([], dtype=getattr(L, weights), device=d)
        r = L.bincount(L.tensor([], dtype=L.int64, device=d), weights=w, minlength=minlength)
        results.append((str(r.dtype).split(".")[1], r.tolist()))
    assert results[0] == results[1]


@pytest.mark.parametrize("minlength", [2.0, True, None])
def test_bincount_minlength_must_be_int(minlength):
    # ember took 2.0 (and True) as a minlength
    with pytest.raises(TypeError) as expected:
        torch.bincount(torch.tensor([0, 1]), minlength=minlength)
    with pytest.raises(TypeError, match=f"^{__import__('re').escape(str(expected.value))}$"):
        ember.bincount(ember.tensor([0, 1]), minlength=minlength)
    assert ember.bincount(ember.tensor([0, 1]), minlength=ember.tensor(3)).tolist() == [1, 1, 0]


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "int32", "int64"])
def test_lcm_of_narrow_integers_wraps_after_the_abs(device, dtype):
    # ember wrapped a / g * b to int8 before taking |.|: lcm(int8 100, int8 99) gave 84, PyTorch -84
    # (C++ computes an 8- or 16-bit lcm in int): 9296 of 20000 random int8 pairs differed
    info = np.iinfo(dtype)
    rng = np.random.default_rng(0)
    a = rng.integers(info.min + 1, info.max, 2000, endpoint=True).astype(dtype)
    b = rng.integers(info.min + 1, info.max, 2000, endpoint=True).astype(dtype)
    a[:20], b[20:40] = 0, 0
    a[40:45], b[40:45] = 100, 99
    got = ember.lcm(ember.tensor(a, device=device), ember.tensor(b, device=device)).cpu().numpy()
    np.testing.assert_array_equal(got, torch.lcm(torch.tensor(a), torch.tensor(b)).numpy())
