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
    if dtype == "float64" and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
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
