"""Complex tensors: element-wise math, reductions, matmul, the parts as views, complex/polar/angle
and the errors of ops without complex kernels, against PyTorch."""

from __future__ import annotations

import re

import numpy as np
import pytest
from complex_support import assert_same, complex_data, holds_complex, pair, torch

import ember

UNARY = [
    "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "sin", "cos", "tan", "asin", "acos",
    "atan", "sinh", "cosh", "tanh", "sigmoid", "reciprocal", "neg", "abs", "sgn", "angle", "square",
    "conj", "conj_physical", "isnan", "isinf", "isfinite", "isreal", "asinh", "acosh", "atanh", "exp2",
]  # fmt: skip


@pytest.fixture
def complex_device(device):
    if not holds_complex(device):
        pytest.skip(f"{device} has no complex dtypes (tests/test_complex_dtypes.py checks its error)")
    return device


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("name", UNARY)
def test_unary(complex_device, dtype, name):
    values = np.append(complex_data(7), [0j, 2.0 + 0j, -1.5 + 0j])
    e, t = pair(values, dtype, complex_device)
    assert_same(getattr(ember, name)(e), getattr(torch, name)(t))


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "eq", "ne"])
def test_binary(complex_device, dtype, op):
    (a, ta), (b, tb) = (
        pair(complex_data(2, 3), dtype, complex_device),
        pair(complex_data(3, seed=1), dtype, complex_device),
    )
    assert_same(getattr(ember, op)(a, b), getattr(torch, op)(ta, tb))
    for scalar in (2, -1.5, 0.5 - 2j):
        assert_same(getattr(ember, op)(a, scalar), getattr(torch, op)(ta, scalar))


@pytest.mark.parametrize("real", ["float32", "float64", "int64"])
def test_mixed_real_and_complex_operands(complex_device, real):
    z, tz = pair(complex_data(3), "complex64", complex_device)
    x = ember.arange(1, 4, device=complex_device).to(getattr(ember, real))
    tx = torch.arange(1, 4).to(getattr(torch, real))
    assert_same(z * x, tz * tx)
    assert_same(x / z, tx / tz)
    assert_same(x - 1j, tx - 1j)
    assert_same(x**z, tx**tz)
    assert_same(2**z, 2**tz)
    assert_same((1 + 1j) ** x, (1 + 1j) ** tx)


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_reductions_and_matmul(complex_device, dtype):
    e, t = pair(complex_data(3, 4), dtype, complex_device)
    m, tm = pair(complex_data(4, 2, seed=3), dtype, complex_device)
    assert_same(e.sum(), t.sum())
    assert_same(e.sum(0), t.sum(0))
    assert_same(e.mean(1, keepdim=True), t.mean(1, keepdim=True))
    assert_same(e.prod(1), t.prod(1), rtol=1e-4)
    assert_same(e @ m, t @ tm)
    assert_same(ember.matmul(e[0], m), torch.matmul(t[0], tm))
    assert_same(e.mT, t.mT)
    assert_same(e.mH, t.mH)
    assert_same(e.H, t.H)
    assert_same(e.adjoint(), t.adjoint())
    assert ember.allclose(e, e.clone()) and ember.isclose(e, e + 1e-9).all()
    assert_same(ember.vdot(e[0], m[:, 0]), torch.vdot(t[0], tm[:, 0]))
    assert_same(ember.dot(e[0], m[:, 0]), torch.dot(t[0], tm[:, 0]))
    assert_same(e.logsumexp(1), t.logsumexp(1))
    assert_same(ember.linalg.vecdot(e[:2], m.mT), torch.linalg.vecdot(t[:2], tm.mT))
    assert_same(e.cumsum(1), t.cumsum(1))


def test_real_and_imag_are_views_that_write_through(complex_device):
    z, tz = pair([1 + 2j, -3j, 4 + 0j], "complex64", complex_device)
    for e, t in ((z, tz), (z[::2], tz[::2])):
        assert e.real.stride() == t.real.stride() and e.imag.storage_offset() == t.imag.storage_offset()
        assert_same(e.real, t.real)
        assert_same(ember.imag(e), torch.imag(t))
    z.real[1] = 5.0
    tz.real[1] = 5.0
    z.imag.mul_(2)
    tz.imag.mul_(2)
    assert_same(z, tz)
    x = ember.tensor([1.0])
    assert x.real is x and ember.real(x) is x


def test_view_as_real_and_view_as_complex(complex_device):
    z, tz = pair(complex_data(3, 4), "complex128", complex_device)
    for e, t in ((z, tz), (z[:, ::2], tz[:, ::2]), (z.t(), tz.t()), (z[1], tz[1])):
        r, tr = ember.view_as_real(e), torch.view_as_real(t)
        assert_same(r, tr)
        assert r.stride() == tr.stride() and r.storage_offset() == tr.storage_offset()
        back = ember.view_as_complex(r)
        assert_same(back, torch.view_as_complex(tr))
    r = ember.view_as_real(z)
    r[0, 0, 1] = 7.0
    assert z[0, 0].item().imag == 7.0
    x = ember.arange(8.0, device=complex_device).reshape(2, 2, 2)
    c = ember.view_as_complex(x)
    c[0, 0] = 9 + 9j
    assert x[0, 0].tolist() == [9.0, 9.0]


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.zeros(3, 2, dtype=m.int32),
        lambda m: m.zeros(3, 3),
        lambda m: m.zeros(2, 3).t(),
        lambda m: m.zeros(18).as_strided((2, 2), (3, 1)),
        lambda m: m.zeros(10).as_strided((2, 2), (2, 1), 1),
        lambda m: m.zeros(2)[0],
    ],
)
def test_view_as_complex_errors(make):
    with pytest.raises(RuntimeError) as expected:
        torch.view_as_complex(make(torch))
    with pytest.raises(RuntimeError, match=re.escape(str(expected.value).strip())):
        ember.view_as_complex(make(ember))


def test_view_as_real_refuses_real_tensors():
    with pytest.raises(RuntimeError, match="view_as_real is only supported for complex tensors"):
        ember.view_as_real(ember.zeros(2))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_complex_and_polar(complex_device, dtype):
    (a, ta), (b, tb) = (
        pair(np.random.default_rng(0).standard_normal((2, 3)), dtype, complex_device),
        pair([0.5, -1.0, np.pi], dtype, complex_device),
    )
    assert_same(ember.complex(a, b), torch.complex(ta, tb))
    assert_same(ember.polar(a.abs(), b), torch.polar(ta.abs(), tb))
    inf = pair([np.inf, 0.0], dtype, complex_device)
    assert_same(ember.complex(inf[0], inf[0].flip(0)), torch.complex(inf[1], inf[1].flip(0)))


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.complex(m.zeros(2), m.zeros(2, dtype=m.float64)),
        lambda m: m.complex(m.zeros(2, dtype=m.int64), m.zeros(2, dtype=m.int64)),
        lambda m: m.polar(m.ones(2), m.ones(2, dtype=m.float64)),
    ],
)
def test_complex_and_polar_errors(make):
    with pytest.raises(RuntimeError) as expected:
        make(torch)
    with pytest.raises(RuntimeError, match=re.escape(str(expected.value))):
        make(ember)


def test_more_complex_values(complex_device):
    z, tz = pair(np.append(complex_data(4), [0j]), "complex64", complex_device)
    assert_same(ember.sinc(z), torch.sinc(tz))
    assert_same(ember.float_power(z, 2), torch.float_power(tz, 2))
    assert_same(ember.float_power(z.real, 0.5j), torch.float_power(tz.real, 0.5j))
    assert_same(ember.addcdiv(z, z, z + 1, value=2), torch.addcdiv(tz, tz, tz + 1, value=2))
    assert_same(z.real.cfloat(), tz.real.cfloat())
    assert_same(z.real.cdouble(), tz.real.cdouble())
    special = [complex("nan+1j"), complex("inf-infj"), complex("1+nanj")]
    e, t = pair(special, "complex64", complex_device)
    assert_same(ember.nan_to_num(e), torch.nan_to_num(t))
    assert_same(ember.nan_to_num(e, nan=2.0, posinf=1.0), torch.nan_to_num(t, nan=2.0, posinf=1.0))


def test_complex_data_with_a_real_dtype_is_refused():
    with pytest.raises(TypeError, match="must be real number, not complex"):
        torch.tensor([1j, 2], dtype=torch.float32)
    with pytest.raises(TypeError, match="must be real number, not complex"):
        ember.tensor([1j, 2], dtype=ember.float32)


def test_python_number_conversions():
    z = ember.tensor(1 - 2j)
    assert complex(z) == 1 - 2j and complex(ember.tensor(1.5)) == 1.5 + 0j
    assert int(ember.tensor([2 + 0j])) == int(torch.tensor([2 + 0j])) == 2
    assert float(ember.tensor(2.5 + 0j)) == 2.5
    for convert, c_type in ((float, "double"), (int, "int64_t")):
        with pytest.raises(RuntimeError, match=f"value cannot be converted to type {c_type} without overflow"):
            convert(torch.tensor(1j))
        with pytest.raises(RuntimeError, match=f"value cannot be converted to type {c_type} without overflow"):
            convert(z)


def test_angle_of_real_numbers():
    for values in ([-1, 0, 2], [-1.0, float("nan"), 2.0, -0.0]):
        assert_same(ember.angle(ember.tensor(values)), torch.angle(torch.tensor(values)))


@pytest.mark.parametrize(
    "call",
    [
        lambda m, z: z < z,
        lambda m, z: z >= 1,
        lambda m, z: z.max(),
        lambda m, z: z.max(0),
        lambda m, z: z.min(),
        lambda m, z: z.amax(),
        lambda m, z: z.amin(),
        lambda m, z: z.argmax(),
        lambda m, z: z.argmin(),
        lambda m, z: m.maximum(z, z),
        lambda m, z: m.minimum(z, z),
        lambda m, z: z.clamp(0, 1),
        lambda m, z: z.clamp(min=0),
        lambda m, z: m.relu(z),
        lambda m, z: z.sort(),
        lambda m, z: z.argsort(),
        lambda m, z: z.topk(1),
        lambda m, z: z.sign(),
        lambda m, z: z.floor(),
        lambda m, z: z.ceil(),
        lambda m, z: z.trunc(),
        lambda m, z: z.round(),
        lambda m, z: z.erf(),
        lambda m, z: z.frac(),
        lambda m, z: m.unique(z),
        lambda m, z: m.xlogy(z, z),
        lambda m, z: m.copysign(z, z),
        lambda m, z: m.deg2rad(z),
        lambda m, z: m.rad2deg(z),
        lambda m, z: z.clone().abs_(),
        lambda m, z: z.nansum(),
        lambda m, z: z % 2,
        lambda m, z: m.fmod(z, 2),
        lambda m, z: z // 2,
        lambda m, z: m.div(z, 2, rounding_mode="trunc"),
        lambda m, z: m.atan2(z, z),
        lambda m, z: z & z,
        lambda m, z: m.addcdiv(z, m.ones(2, dtype=m.int64), m.ones(2, dtype=m.int64)),
        lambda m, z: z.median(),
        lambda m, z: z.kthvalue(1),
        lambda m, z: z.cummax(0),
        lambda m, z: z.cummin(0),
        lambda m, z: m.isposinf(z),
        lambda m, z: m.isneginf(z),
        lambda m, z: m.special.i0(z),
        lambda m, z: m.special.erfc(z),
        lambda m, z: m.special.erfinv(z),
        lambda m, z: m.lgamma(z),
        lambda m, z: m.digamma(z),
        lambda m, z: m.logit(z),
        lambda m, z: m.gcd(z, z),
        lambda m, z: m.ones(2).masked_fill(m.tensor([True, False]), 1j),
        lambda m, z: m.ones(2).fill_(1j),
        lambda m, z: m.full((2,), 1j, dtype=m.float64),
        lambda m, z: m.full((2,), 1j, dtype=m.int64),
    ],
)
def test_ops_without_complex_kernels_raise_as_torch(call):
    with pytest.raises((RuntimeError, NotImplementedError)) as expected:
        call(torch, torch.tensor([1 + 2j, 3j]))
    with pytest.raises(expected.type, match=re.escape(str(expected.value).strip())):
        call(ember, ember.tensor([1 + 2j, 3j]))


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("p, dim, maxnorm", [(2, 1, 0.5), (1, 0, 2.0), (3, -1, 1.0)])
def test_renorm_of_complex_tensors(complex_device, dtype, p, dim, maxnorm):
    """PyTorch scales complex slices by their (real) norms; ember refused complex inputs."""
    e, t = pair(complex_data(3, 4, 2), dtype, complex_device, requires_grad=True)
    actual, expected = e.renorm(p, dim, maxnorm), t.renorm(p, dim, maxnorm)
    assert_same(actual, expected)
    up = complex_data(3, 4, 2, seed=1)
    actual.backward(ember.tensor(up, dtype=e.dtype, device=complex_device))
    expected.backward(torch.tensor(up, dtype=t.dtype))
    assert_same(e.grad, t.grad)
    with pytest.raises(
        RuntimeError, match="linalg.vector_norm: Expected a floating point or complex tensor as input. Got Long"
    ):
        ember.ones(2, 2, dtype=ember.long, device=complex_device).renorm(p, dim, maxnorm)
