"""Operand rules of the binary ops against PyTorch: which ops take a Python number for an operand
(``torch.maximum(x, 1)`` is a TypeError, ``torch.bitwise_and(2, x)`` is not), which dtype pairs their
kernels refuse (``cross`` of int8 and int64, ``zeta`` in float16, complex ``fmax``), and ``ldexp``'s
type rules."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

#: ops whose operands must be tensors: name -> extra positional arguments
TENSORS_ONLY = {
    "atan2": (), "arctan2": (), "dist": (), "fmax": (), "fmin": (), "gcd": (), "lcm": (), "hypot": (),
    "igamma": (), "igammac": (), "inner": (), "outer": (), "ldexp": (), "lerp": (0.5,), "logaddexp": (),
    "logaddexp2": (), "logical_and": (), "logical_or": (), "logical_xor": (), "maximum": (), "minimum": (),
    "nextafter": (), "heaviside": (), "cross": (),
}  # fmt: skip
INTEGER_OPS = {"gcd", "lcm"}


def _operand(lib, name, device):
    dtype = lib.int64 if name in INTEGER_OPS else lib.float32
    return lib.arange(1, 4, dtype=dtype, device=device if lib is ember else "cpu")


@pytest.mark.parametrize("name", sorted(TENSORS_ONLY))
def test_a_number_operand_is_a_type_error(name, device):
    extra = TENSORS_ONLY[name]
    for lib in (torch, ember):
        x = _operand(lib, name, device)
        for args in ((x, 2), (2, x)):
            with pytest.raises(TypeError):
                getattr(lib, name)(*args, *extra)
        with pytest.raises(TypeError):
            getattr(x, name)(2, *extra)


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor"])
def test_bitwise_ops_take_a_number_first(name, device):
    expected = getattr(torch, name)(6, torch.tensor([3, 5, 12]))
    got = getattr(ember, name)(6, ember.tensor([3, 5, 12], device=device))
    assert got.tolist() == expected.tolist() and got.dtype is ember.int64
    mask = ember.tensor([True, False], device=device)
    assert getattr(ember, name)(True, mask).tolist() == getattr(torch, name)(True, torch.tensor([True, False])).tolist()


#: (op, first dtype, second dtype) -> error PyTorch's CPU kernel raises
REFUSED = [
    ("cross", "int8", "int64"),
    ("cross", "float32", "float64"),
    ("cross", "bool", "int64"),
    ("cross", "int64", "bool"),
    ("zeta", "float16", "float16"),
    ("zeta", "bfloat16", "bfloat16"),
    ("zeta", "complex64", "float32"),
    ("fmax", "complex64", "complex64"),
    ("fmin", "float32", "complex64"),
    ("heaviside", "complex64", "complex64"),
    ("heaviside", "float32", "float64"),
    ("lerp", "bool", "complex64"),
    ("lerp", "int64", "float32"),
    ("lerp", "int64", "int64"),
    ("ldexp", "float32", "bool"),
]


def _skip_unsupported(device, *names):
    if not device.startswith("cpu") and any(n.startswith("complex") for n in names):
        pytest.skip("complex tensors are the cpu backend's only")
    if device.startswith("opencl") and any(n.startswith("bfloat") for n in names):
        pytest.skip("no bfloat16 tensors on OpenCL")


@pytest.mark.parametrize("op,first,second", REFUSED)
def test_refused_dtype_pairs(op, first, second, device):
    _skip_unsupported(device, first, second)

    def call(lib, dev):
        a = lib.ones(2, 3, dtype=getattr(lib, first), device=dev)
        b = lib.ones(2, 3, dtype=getattr(lib, second), device=dev)
        if op == "cross":
            return lib.cross(a, b, dim=1)
        if op == "zeta":
            return lib.special.zeta(a, b)
        if op == "lerp":
            return lib.lerp(a, b, 0.5)
        return getattr(lib, op)(a, b)

    with pytest.raises((RuntimeError, NotImplementedError)) as expected:
        call(torch, "cpu")
    with pytest.raises(expected.type, match=str(expected.value).split(" (Triggered")[0][:40].replace("(", r"\(")):
        call(ember, device)


def test_copysign_refuses_complex(device):
    for lib, dev in ((torch, "cpu"), (ember, device)):
        with pytest.raises(NotImplementedError, match="copysign"):
            lib.copysign(lib.ones(2, device=dev), 1j)


@pytest.mark.parametrize(
    "mantissa,exponent",
    [
        ("float16", "int64"),  # C's ldexp in float16: 0.5 * 2 ** 16 is 32768, not 0.5 * inf
        ("bfloat16", "int32"),
        ("float32", "uint8"),
        ("float64", "int64"),  # beyond float64's 2 ** 1023
        ("int32", "int64"),  # the default floating type
        ("float16", "bfloat16"),  # 2 ** other in bfloat16, then the product
        ("float32", "float16"),
        ("float64", "float32"),
        ("int64", "float16"),
    ],
)
def test_ldexp_types_and_values(mantissa, exponent, device):
    _skip_unsupported(device, mantissa, exponent)
    values = [[0.5, -2.0, 3.0], [1.5, 0.25, -1.25]]
    powers = (
        [[16, -3, 2], [1024, 0, -1]] if exponent.startswith(("int", "uint")) else [[0.5, -1.0, 1 / 3], [2.5, 0.0, 1.25]]
    )
    if exponent == "uint8":
        powers = [[16, 3, 2], [200, 0, 1]]
    if mantissa != "float64" and exponent.startswith("int"):
        powers[1][0] = 100
    expected = torch.ldexp(
        torch.tensor(values).to(getattr(torch, mantissa)), torch.tensor(powers).to(getattr(torch, exponent))
    )
    got = ember.ldexp(
        ember.tensor(values, device=device).to(getattr(ember, mantissa)),
        ember.tensor(powers, device=device).to(getattr(ember, exponent)),
    )
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.double().cpu().numpy(), expected.double().numpy())
