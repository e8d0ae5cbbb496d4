"""PyTorch's type promotion, table-driven: result dtypes of ember match torch's."""

import itertools

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int32", "int64", "float16", "float32", "float64"]
SCALARS = [True, 2, 2.5]


def _make(T, name, zero_dim, device="cpu"):
    value = 1 if zero_dim else [1, 0]
    return T.tensor(value, dtype=getattr(T, name), device=device)


def _name(dt):
    return str(dt).split(".")[-1]


@pytest.mark.parametrize("a,b", list(itertools.product(DTYPES, DTYPES)))
@pytest.mark.parametrize("shape", ["dim-dim", "dim-zero", "zero-dim", "zero-zero"])
def test_tensor_tensor(a, b, shape, device):
    za, zb = shape.split("-")
    e = _make(ember, a, za == "zero", device) + _make(ember, b, zb == "zero", device)
    t = _make(torch, a, za == "zero") + _make(torch, b, zb == "zero")
    assert _name(e.dtype) == _name(t.dtype)
    assert ember.result_type(_make(ember, a, za == "zero"), _make(ember, b, zb == "zero")) is e.dtype


@pytest.mark.parametrize("a", DTYPES)
@pytest.mark.parametrize("scalar", SCALARS, ids=repr)
@pytest.mark.parametrize("zero_dim", [False, True])
def test_tensor_scalar(a, scalar, zero_dim, device):
    e = _make(ember, a, zero_dim, device)
    t = _make(torch, a, zero_dim)
    ops = [lambda x: x + scalar, lambda x: scalar * x]
    if a != "bool" and scalar is not True:
        ops.append(lambda x: x - scalar)
    for op in ops:
        assert _name(op(e).dtype) == _name(op(t).dtype)
    assert ember.result_type(e, scalar) is op(e).dtype


@pytest.mark.parametrize("a", DTYPES)
@pytest.mark.parametrize("b", DTYPES)
def test_division_and_comparison(a, b):
    e1, e2 = _make(ember, a, False), _make(ember, b, False)
    t1, t2 = _make(torch, a, False), _make(torch, b, False)
    assert _name((e1 / (e2 + 1 if b != "bool" else e2)).dtype) == _name((t1 / (t2 + 1 if b != "bool" else t2)).dtype)
    assert (e1 < e2).dtype is ember.bool
    assert _name(ember.where(e1 > 0, e1, e2).dtype) == _name(torch.where(t1 > 0, t1, t2).dtype)


@pytest.mark.parametrize("a,b", list(itertools.product(DTYPES, DTYPES)))
def test_promote_types(a, b):
    assert _name(ember.promote_types(getattr(ember, a), getattr(ember, b))) == _name(
        torch.promote_types(getattr(torch, a), getattr(torch, b))
    )


def test_default_dtype_changes_scalar_promotion():
    ember.set_default_dtype(ember.float64)
    try:
        assert (ember.tensor([1, 2]) * 1.5).dtype is ember.float64
        assert ember.tensor([1.0]).dtype is ember.float64
    finally:
        ember.set_default_dtype(ember.float32)
    assert (ember.tensor([1, 2]) * 1.5).dtype is ember.float32


def test_inplace_cannot_downcast():
    x = ember.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        x.add_(1.5)
    y = ember.tensor([1.0, 2.0])
    y.add_(ember.tensor([1, 1]))
    assert y.dtype is ember.float32


def test_float_power_in_place_needs_float64(device):
    # the result is float64: torch refuses to round it into another floating type in place
    for name in ("float16", "float32", "int64"):
        with pytest.raises(RuntimeError, match="float_power_ has dtype"):
            ember.ones(2, dtype=getattr(ember, name), device=device).float_power_(2)
    if ember.backends.get_backend(device).supports_float64:
        x = ember.tensor([2.0, 3.0], dtype=ember.float64, device=device)
        assert x.float_power_(2).tolist() == [4.0, 9.0]


@pytest.mark.parametrize("exponent", [True, False])
def test_bool_tensor_to_a_bool_power(exponent, device):
    want = torch.tensor([True, False]) ** exponent
    got = ember.tensor([True, False], device=device) ** exponent
    assert got.dtype is ember.bool and got.tolist() == want.tolist()


@pytest.mark.parametrize("exponent", [70000, 1e6, 2**40])
def test_half_pow_refuses_an_exponent_it_cannot_hold(exponent, device):
    with pytest.raises(RuntimeError, match="c10::Half without overflow"):
        torch.ones(2, dtype=torch.float16) ** exponent
    with pytest.raises(RuntimeError, match="c10::Half without overflow"):
        ember.ones(2, dtype=ember.float16, device=device) ** exponent


def test_infinite_fill_values_and_bounds(device):
    # an infinity is in every floating type's range (only finite numbers beyond it raise)
    for dtype in (ember.float16, ember.float32):
        assert ember.full((2,), -float("inf"), dtype=dtype, device=device).tolist() == [-float("inf")] * 2
        assert ember.zeros(2, dtype=dtype, device=device).clamp(max=float("inf")).tolist() == [0.0, 0.0]


CLAMP_BOUNDS = [
    ("float32", [1.0, 5.0], "float64", [2.0]),
    ("float32", [1.0, 5.0], "float64", 2.0),
    ("int32", [1, 5], "int64", 2),
    ("int32", [1, 5], "int64", [2]),
    ("int32", [1, 5], "float32", 2.5),
    ("int32", [1, 5], "float16", [2.5]),
    ("float64", [1.0, 5.0], "float32", 2.0),
]


@pytest.mark.parametrize("a,a_value,b,b_value", CLAMP_BOUNDS, ids=str)
@pytest.mark.parametrize("side", ["min", "max"])
def test_clamp_tensor_bound_promotes(a, a_value, b, b_value, side, device):
    """The result type of clamp comes from the input and both bounds (a 0-d bound does not widen the category)."""
    e = ember.clamp(
        ember.tensor(a_value, dtype=getattr(ember, a), device=device),
        **{side: ember.tensor(b_value, dtype=getattr(ember, b), device=device)},
    )
    t = torch.clamp(
        torch.tensor(a_value, dtype=getattr(torch, a)), **{side: torch.tensor(b_value, dtype=getattr(torch, b))}
    )
    assert _name(e.dtype) == _name(t.dtype)
    assert e.tolist() == t.tolist()


@pytest.mark.parametrize("a", DTYPES)
@pytest.mark.parametrize("empty", ["float32", "int32", "bool"])
def test_cat_promotes_with_skipped_legacy_empty_tensors(a, empty, device):
    """A 1-D empty tensor is skipped in cat's shape checks but takes part in its type promotion."""
    e = ember.cat([_make(ember, a, False, device), ember.tensor([], dtype=getattr(ember, empty), device=device)])
    t = torch.cat([_make(torch, a, False), torch.tensor([], dtype=getattr(torch, empty))])
    assert _name(e.dtype) == _name(t.dtype)
    assert e.tolist() == t.tolist()
    e = ember.cat(
        [ember.tensor([], dtype=getattr(ember, empty), device=device), _make(ember, a, False, device)[None]], 1
    )
    t = torch.cat([torch.tensor([], dtype=getattr(torch, empty)), _make(torch, a, False)[None]], 1)
    assert _name(e.dtype) == _name(t.dtype) and tuple(e.shape) == tuple(t.shape)


@pytest.mark.parametrize("op", ["add", "sub", "add_"])
@pytest.mark.parametrize("wide,narrow", [("float32", "bfloat16"), ("float32", "float16"), ("float64", "float32")])
def test_alpha_scales_the_narrower_operand_in_the_result_dtype(op, wide, narrow, device):
    """``float32 + alpha * bfloat16`` scales in float32 as torch does (ember rounded the product to
    bfloat16 first: ~1e-3 relative errors in a float32 parameter updated by a bfloat16 step, as Muon's)."""
    if device.startswith("opencl") and "bfloat16" in (wide, narrow):
        pytest.skip("no bfloat16 tensors on OpenCL")
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(200), rng.standard_normal(200)

    def run(T, dev):
        x = T.tensor(a, dtype=getattr(T, wide), device=dev)
        y = T.tensor(b, dtype=getattr(T, narrow), device=dev)
        out = x.add_(y, alpha=-0.00123) if op == "add_" else getattr(T, op)(x, y, alpha=-0.00123)
        return out.cpu().double().numpy()

    # the two sides may round input + alpha * other once (an FMA) or twice: one unit apart at most
    np.testing.assert_allclose(run(ember, device), run(torch, "cpu"), rtol=2 * np.finfo(wide).eps, atol=0)
