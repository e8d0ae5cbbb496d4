"""Integer and bool semantics against PyTorch: int64 values beyond 2**53 kept exactly, the result
types of mixed operands (type promotion), and integer reductions and contractions in their own
type when asked (NumPy widens int32/uint8 sums)."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

BIG = [2**62 + 1, -(2**61) - 3, 2**53 + 1, 7, -(2**63), 2**63 - 1]

#: name -> fn(T, x) on an int64 tensor holding BIG
BIG_OPS = {
    "identity": lambda T, x: x,
    "add_one": lambda T, x: x[:4] + 1,
    "sub": lambda T, x: x[:4] - x[1:5],
    "mul_small": lambda T, x: x[:4] * 2,
    "neg": lambda T, x: -x[:4],
    "abs": lambda T, x: T.abs(x[:4]),
    "floor_divide": lambda T, x: T.floor_divide(x, 3),
    "remainder": lambda T, x: T.remainder(x, 1000),
    "fmod": lambda T, x: T.fmod(x, 1000),
    "div_trunc": lambda T, x: T.div(x, 7, rounding_mode="trunc"),
    "div_floor": lambda T, x: T.div(x, -7, rounding_mode="floor"),
    "sum": lambda T, x: x[:4].sum(),
    "cumsum": lambda T, x: x[:4].cumsum(0),
    "max": lambda T, x: x.max(),
    "min": lambda T, x: x.min(),
    "amax_dim": lambda T, x: x.reshape(2, 3).amax(1),
    "argmax": lambda T, x: x.argmax(),
    "sort": lambda T, x: T.sort(x).values,
    "topk": lambda T, x: T.topk(x, 2).values,
    "eq": lambda T, x: x == (2**53 + 1),
    "eq_neighbour": lambda T, x: x == (2**53),
    "lt": lambda T, x: x < (2**62),
    "where": lambda T, x: T.where(x > 0, x, x - 1),
    "clamp": lambda T, x: T.clamp(x, min=-(2**60), max=2**60 + 5),
    "maximum": lambda T, x: T.maximum(x, T.full_like(x, 2**53 + 2)),
    "bitwise_and": lambda T, x: x & (2**62 + 3),
    "bitwise_xor": lambda T, x: x ^ 1,
    "unique": lambda T, x: T.unique(T.cat([x, x[:2]])),
    "gather": lambda T, x: x.gather(0, T.tensor([5, 0, 2], device=x.device)),
    "index_select": lambda T, x: x.index_select(0, T.tensor([4, 1], device=x.device)),
    "flip": lambda T, x: x.flip(0),
    "cat": lambda T, x: T.cat([x, x]),
    "stack_big": lambda T, x: T.stack([x, x]).sum(0) // 2,
    "clone_contiguous": lambda T, x: x.reshape(2, 3).t().contiguous(),
    "masked_fill": lambda T, x: x.masked_fill(x < 0, 2**62 + 7),
    "full": lambda T, x: T.full((2,), 2**62 + 9, device=x.device),
    "arange": lambda T, x: T.arange(2**53, 2**53 + 4, device=x.device),
    "tensor_scalar": lambda T, x: T.tensor(2**62 + 11, device=x.device),
    "cummax": lambda T, x: T.cummax(x, 0).values,
    "square_small": lambda T, x: x[3:4] * x[3:4],
    "prod_small": lambda T, x: T.tensor([2**31 + 1, 2**31 - 1], device=x.device).prod(),
    "sign": lambda T, x: T.sign(x),
    "repeat_interleave": lambda T, x: x[:2].repeat_interleave(2),
    "scatter_add": lambda T, x: T.zeros(3, dtype=T.int64, device=x.device).scatter_add(
        0, T.tensor([0, 0, 2], device=x.device), x[:3]
    ),
    "index_add": lambda T, x: T.zeros(3, dtype=T.int64, device=x.device).index_add(
        0, T.tensor([0, 0, 2], device=x.device), x[:3]
    ),
}


def _ember_tensor(values, device):
    return ember.tensor(values, dtype=ember.int64, device=device)


@pytest.mark.parametrize("name", list(BIG_OPS))
def test_int64_beyond_2_53_is_exact(name, device):
    fn = BIG_OPS[name]
    expected = fn(torch, torch.tensor(BIG, dtype=torch.int64))
    actual = fn(ember, _ember_tensor(BIG, device))
    assert str(actual.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    assert tuple(actual.shape) == tuple(expected.shape)
    assert actual.tolist() == expected.tolist()


def test_int64_item_and_tolist_are_exact(device):
    x = _ember_tensor(BIG, device)
    assert x.tolist() == BIG
    assert [x[i].item() for i in range(len(BIG))] == BIG
    assert int(x[0]) == BIG[0]


#: (left, right): each a (kind, dtype or value) -- kind "t" a 1-D tensor, "s" a 0-d tensor, "p" a Python scalar
PROMOTIONS = [
    (("t", "int32"), ("t", "int64")),
    (("t", "uint8"), ("t", "int8")),
    (("t", "uint8"), ("t", "int16")),
    (("t", "bool"), ("t", "uint8")),
    (("t", "bool"), ("t", "float16")),
    (("t", "int64"), ("t", "float16")),
    (("t", "int32"), ("t", "float32")),
    (("t", "float16"), ("t", "float32")),
    (("t", "float32"), ("t", "float64")),
    (("t", "uint8"), ("p", 3)),
    (("t", "uint8"), ("p", 2.5)),
    (("t", "int32"), ("p", True)),
    (("t", "bool"), ("p", 2)),
    (("t", "bool"), ("p", 2.5)),
    (("t", "int64"), ("p", 2.5)),
    (("t", "float16"), ("p", 2.5)),
    (("t", "int32"), ("s", "int64")),
    (("t", "int32"), ("s", "float64")),
    (("t", "float32"), ("s", "float64")),
    (("t", "uint8"), ("s", "int64")),
    (("t", "bool"), ("s", "int32")),
    (("t", "float16"), ("s", "float64")),
    (("s", "int32"), ("s", "float16")),
    (("s", "uint8"), ("s", "int8")),
]

BINARY = {
    "add": lambda T, a, b: T.add(a, b),
    "mul": lambda T, a, b: T.mul(a, b),
    "sub_or_xor": lambda T, a, b: T.sub(a, b) if "bool" not in (str(_dtype(a)), str(_dtype(b))) else a * b,
    "div": lambda T, a, b: T.div(a, b),
    "maximum": lambda T, a, b: T.maximum(a, b),
    "where": lambda T, a, b: T.where(T.tensor([True, False, True], device=a.device), a, b),
    "eq": lambda T, a, b: a == b,
}


def _dtype(x):
    return getattr(x, "dtype", type(x).__name__)


def _operand(T, spec, device):
    kind, what = spec
    if kind == "p":
        return what
    values = [1, 0, 3] if kind == "t" else 2
    if what == "bool":
        values = [True, False, True] if kind == "t" else True
    if T is torch:
        return torch.tensor(values, dtype=getattr(torch, what))
    return ember.tensor(values, dtype=getattr(ember, what), device=device)


@pytest.mark.parametrize("op", list(BINARY))
@pytest.mark.parametrize("pair", PROMOTIONS, ids=lambda p: f"{p[0][1]}-{p[1][0]}{p[1][1]}")
def test_type_promotion_matches_pytorch(pair, op, device):
    left, right = pair
    fn = BINARY[op]
    try:
        expected = fn(torch, _operand(torch, left, device), _operand(torch, right, device))
    except (RuntimeError, TypeError) as error:
        with pytest.raises(type(error)):
            fn(ember, _operand(ember, left, device), _operand(ember, right, device))
        return
    for a, b in ((left, right), (right, left)) if op in ("add", "mul", "eq") else ((left, right),):
        expected = fn(torch, _operand(torch, a, device), _operand(torch, b, device))
        actual = fn(ember, _operand(ember, a, device), _operand(ember, b, device))
        assert str(actual.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1], (a, b)
        np.testing.assert_allclose(
            actual.cpu().numpy().astype(np.float64), expected.numpy().astype(np.float64), rtol=1e-3
        )


SMALL_INTEGER_REDUCTIONS = {
    "sum_dtype": lambda T, x: T.sum(x, 1, dtype=x.dtype),
    "sum": lambda T, x: T.sum(x, 1),
    "prod_dtype": lambda T, x: T.prod(x, 1, dtype=x.dtype),
    "cumsum_dtype": lambda T, x: T.cumsum(x, 0, dtype=x.dtype),
    "cumsum": lambda T, x: T.cumsum(x, 0),
    "cumprod_dtype": lambda T, x: T.cumprod(x, 0, dtype=x.dtype),
    "einsum_product": lambda T, x: T.einsum("ij,kj->ik", x, x),
    "einsum_reduction": lambda T, x: T.einsum("ij->i", x),
    "tensordot_size_1": lambda T, x: T.tensordot(x[:1], x, dims=([0, 1], [0, 1])),
    "matmul": lambda T, x: x @ x.t(),
    "diag_bool": lambda T, x: T.diag(x[0] > 1),
    "diag_embed_bool": lambda T, x: T.diag_embed(x > 1),
    "addmv_scaled": lambda T, x: T.addmv(x[:, 0], x, x[0], beta=2, alpha=3),
    "addmm_fractional": lambda T, x: T.addmm(x[:, :2], x, x.t(), beta=0.5, alpha=1.5),
    "addmm_beta_truncated": lambda T, x: T.addmm(x[:, :2], x, x.t(), beta=1.5, alpha=2.5),
    "addr_bool": lambda T, x: T.addr(x > 1, x[:, 0] > 1, x[0] > 1, beta=3, alpha=2),
    "pow_negative": lambda T, x: T.pow(x - 2, T.tensor([-1, -2, 1], dtype=x.dtype, device=x.device)),
}


@pytest.mark.parametrize("dtype_name", ["int32", "uint8", "int16"])
@pytest.mark.parametrize("name", list(SMALL_INTEGER_REDUCTIONS))
def test_small_integer_reductions_keep_their_type(name, dtype_name, device):
    fn = SMALL_INTEGER_REDUCTIONS[name]
    values = [[1, 2, 3], [4, 200, 6]]
    try:
        expected = fn(torch, torch.tensor(values, dtype=getattr(torch, dtype_name)))
    except (RuntimeError, NotImplementedError) as error:
        with pytest.raises(type(error)):
            fn(ember, ember.tensor(values, dtype=getattr(ember, dtype_name), device=device))
        return
    actual = fn(ember, ember.tensor(values, dtype=getattr(ember, dtype_name), device=device))
    assert str(actual.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    assert actual.tolist() == expected.tolist()


#: name -> fn(T, x): a Python number and an integer tensor, the number as PyTorch holds it
SCALAR_OPERAND_OPS = {
    "true_divide_negative": lambda T, x: x / -3,
    "rtrue_divide_negative": lambda T, x: -3 / x,
    "div_negative": lambda T, x: T.div(x, -2),
    "floor_divide_negative": lambda T, x: x // -3,
    "rpow_negative_exponent": lambda T, x: 2 ** (x - 2),
    "rpow_one_negative_exponent": lambda T, x: (-1) ** (x - 3),
    "rpow_bool_base": lambda T, x: True**x,
    "rpow_float_base": lambda T, x: 2.0 ** (x - 2),
    "bitwise_and_float": lambda T, x: x & 2.5,
    "bitwise_or_float": lambda T, x: 1.5 | x,
    "bitwise_xor_float": lambda T, x: T.bitwise_xor(x, 2.5),
    "clamp_negative_min": lambda T, x: x.clamp(min=-1),
    "clamp_beyond_max": lambda T, x: x.clamp(0, 300),
    "pow_exponent_beyond_narrow_types": lambda T, x: x**300,
    "pow_exponent_beyond_int32": lambda T, x: x ** (2**40),
    "pow_exponent_in_place": lambda T, x: x.pow_(2**40),
}


@pytest.mark.parametrize("dtype_name", ["uint8", "int8", "int32", "int64"])
@pytest.mark.parametrize("name", list(SCALAR_OPERAND_OPS))
def test_python_number_with_integer_tensor(name, dtype_name, device):
    fn = SCALAR_OPERAND_OPS[name]
    values = [1, 2, 3, 4]
    try:
        expected = fn(torch, torch.tensor(values, dtype=getattr(torch, dtype_name)))
    except (RuntimeError, NotImplementedError, TypeError) as error:
        with pytest.raises(type(error)):
            fn(ember, ember.tensor(values, dtype=getattr(ember, dtype_name), device=device))
        return
    actual = fn(ember, ember.tensor(values, dtype=getattr(ember, dtype_name), device=device))
    assert str(actual.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_allclose(actual.cpu().numpy(), expected.numpy(), rtol=1e-6)


#: name -> fn(T, x, s): ops that compute integer operands in floating point, with ``x`` an int8
#: tensor and ``s`` a 0-d uint8 tensor holding 200 (which int8 cannot hold)
FLOATING_OPS = {
    "true_divide": lambda T, x, s: x / s,
    "rtrue_divide": lambda T, x, s: s / x,
    "div": lambda T, x, s: T.div(x, s),
    "atan2": lambda T, x, s: T.atan2(s, x),
    "xlogy": lambda T, x, s: T.xlogy(x, s),
    "xlogy_number": lambda T, x, s: T.xlogy(x.to(T.uint8), -2),
    "xlog1py": lambda T, x, s: T.special.xlog1py(s, x),
    "copysign": lambda T, x, s: T.copysign(s, x),
    "zeta": lambda T, x, s: T.special.zeta(s, (x // 8).abs()),
}


@pytest.mark.parametrize("name", list(FLOATING_OPS))
def test_floating_ops_take_integer_operands_with_their_values(name, device):
    # the operands become floating point as they are, not first through their integer result
    # type (int8 / uint8(200) divides by 200, not by -56)
    fn = FLOATING_OPS[name]
    values = [-128, -7, 5, 127]
    expected = fn(torch, torch.tensor(values, dtype=torch.int8), torch.tensor(200, dtype=torch.uint8))
    x = ember.tensor(values, dtype=ember.int8, device=device)
    actual = fn(ember, x, ember.tensor(200, dtype=ember.uint8, device=device))
    assert str(actual.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_allclose(actual.cpu().numpy(), expected.numpy(), rtol=1e-6)


#: name -> fn(T, x, f) on an int32 tensor x and a float32 tensor f: the scalar factors (alpha, beta,
#: value) of the ops that scale an operand, checked against the result's type as PyTorch checks them
SCALAR_FACTORS = {
    "add_float_alpha_int": lambda T, x, f: T.add(x, x, alpha=2.5),
    "add_int_alpha_int": lambda T, x, f: T.add(x, x, alpha=3),
    "add_float_alpha_mixed": lambda T, x, f: T.add(x, f, alpha=2.5),
    "add_bool_alpha_float": lambda T, x, f: T.add(f, f, alpha=True),
    "add_bool_alpha_int": lambda T, x, f: T.add(x, x, alpha=True),
    "add_complex_alpha_int": lambda T, x, f: T.add(x, x, alpha=1j),
    "add_complex_alpha_float": lambda T, x, f: T.add(f, f, alpha=1j),
    "add_bool_result": lambda T, x, f: T.add(x > 1, x > 2, alpha=2),
    "add_bool_result_zero": lambda T, x, f: T.add(x > 1, x > 2, alpha=0),
    "add_bool_result_float_alpha": lambda T, x, f: T.add(x > 1, x > 2, alpha=1.5),
    "add_scalar_float_alpha": lambda T, x, f: T.add(x, 2, alpha=1.5),
    "inplace_add_float_alpha": lambda T, x, f: x.clone().add_(x, alpha=0.5),
    "sub_bool_alpha": lambda T, x, f: T.sub(x, x, alpha=True),
    "sub_float_alpha_int": lambda T, x, f: T.sub(x, x, alpha=1.5),
    "addcmul_float_value_int": lambda T, x, f: T.addcmul(x, x, x, value=-1.7),
    "addcmul_bool_value_int": lambda T, x, f: T.addcmul(x, x, x, value=True),
    "addcmul_float_value_mixed": lambda T, x, f: T.addcmul(x, f, x, value=0.5),
    "addr_float_beta_int": lambda T, x, f: T.addr(x[:, None] * x, x, x, beta=0.5),
    "addr_float_alpha_bool": lambda T, x, f: T.addr(x[:, None] > x, x > 1, x > 2, alpha=0.5),
    "addr_bool_alpha_float": lambda T, x, f: T.addr(f[:, None] * f, f, f, alpha=True),
    "addr_int_alpha_int": lambda T, x, f: T.addr(x[:, None] * x, x, x, alpha=2, beta=-1),
    "addbmm_float_factors_int": lambda T, x, f: T.addbmm(
        x[:, None] * x, x[None, :, None], x[None, None], alpha=2.7, beta=-1.5
    ),
    "addbmm_float_alpha_int": lambda T, x, f: T.addbmm(x[:, None] * x, x[None, :, None], x[None, None], alpha=0.5),
}


@pytest.mark.parametrize("name", sorted(SCALAR_FACTORS))
def test_scalar_factors_against_the_result_type(name, device):
    """An integral result truncates a factor PyTorch lets through (addcmul's value, addbmm's alpha) and keeps
    its type; a factor PyTorch refuses (a float alpha on integers, a bool one on floats) is its RuntimeError."""
    values = [1, -2, 3]
    call = SCALAR_FACTORS[name]
    try:
        expected = call(torch, torch.tensor(values, dtype=torch.int32), torch.tensor(values, dtype=torch.float32))
    except RuntimeError as error:
        with pytest.raises(RuntimeError, match=str(error).split(" must")[0].split(" only")[0]):
            call(
                ember,
                ember.tensor(values, dtype=ember.int32, device=device),
                ember.tensor(values, dtype=ember.float32, device=device),
            )
        return
    got = call(
        ember,
        ember.tensor(values, dtype=ember.int32, device=device),
        ember.tensor(values, dtype=ember.float32, device=device),
    )
    assert str(got.dtype) == str(expected.dtype).replace("torch", "ember")
    assert got.tolist() == expected.tolist()


def test_isin_refuses_bool(device):
    for lib, dev in ((torch, "cpu"), (ember, device)):
        x = lib.tensor([1, 2], device=dev)
        for elements, tests in ((x > 1, x), (x, x > 1), (x > 1, x > 0)):
            with pytest.raises(RuntimeError, match="Unsupported input type encountered for isin"):
                lib.isin(elements, tests)
