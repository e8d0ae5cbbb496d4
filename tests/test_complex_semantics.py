"""Complex numbers off the main road, against PyTorch: the special values (zero, infinite and NaN
parts) of pow, logaddexp, logcumsumexp and the element-wise functions, part by part (a NaN real
part is not a NaN imaginary part), and their gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest
from complex_support import holds_complex, torch

import ember

INF, NAN = math.inf, math.nan


@pytest.fixture
def complex_device(device):
    if not holds_complex(device):
        pytest.skip(f"{device} has no complex dtypes (tests/test_complex_dtypes.py checks its error)")
    return device


def both(values, dtype, device="cpu", requires_grad=False):
    """``values`` as an ember tensor on ``device`` and a torch tensor of ``dtype``."""
    e = ember.tensor(values, dtype=getattr(ember, dtype), device=device, requires_grad=requires_grad)
    t = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=requires_grad)
    return e, t


def assert_parts(actual, expected, rtol=None):
    """Same dtype and shape, and the real and imaginary parts each the same (NaN, infinities and all)."""
    assert str(actual.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1], (actual.dtype, expected.dtype)
    assert tuple(actual.shape) == tuple(expected.shape)
    a, t = actual.detach().cpu().numpy(), expected.detach().resolve_conj().numpy()
    if rtol is None:
        rtol = 1e-5 if t.dtype in (np.complex64, np.float32) else 1e-12
    for part in (np.real, np.imag):
        np.testing.assert_allclose(part(a), part(t), rtol=rtol, atol=rtol, equal_nan=True)


SPECIAL = [0j, 1 + 2j, complex(INF, 0), complex(INF, INF), complex(NAN, 0), complex(0, INF), 3 + 0j, -2 + 0j, -0.5 + 1j]
FINITE_EXPONENTS = [0j, 2 + 0j, 2 + 3j, -2 + 0j, -2 + 3j, 3j, 0.5 + 0j, -1j, 1 + 0j, complex(NAN, 0)]


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_pow_of_tensors_is_cpow(complex_device, dtype):
    # exp(b * log(a)): 0 ** 0 is NaN, 0 ** b is 0 for Re b > 0 and inf+nanj for Re b < 0, inf ** 3 is inf+nanj
    a_values = [a for a in SPECIAL for _ in FINITE_EXPONENTS]
    b_values = [b for _ in SPECIAL for b in FINITE_EXPONENTS]
    (a, ta), (b, tb) = both(a_values, dtype, complex_device), both(b_values, dtype, complex_device)
    assert_parts(ember.pow(a, b), torch.pow(ta, tb))
    assert_parts(ember.float_power(a, b), torch.float_power(ta, tb))
    x, tx = both([1 + 2j, 3 - 1j, 0j], dtype, complex_device)
    n = ember.tensor([2, -1, 3], device=complex_device)
    assert_parts(x**n, tx ** torch.tensor([2, -1, 3]))


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("exponent", [0, 0j, 1, 1 + 0j, 2, 3, -2, -1, -1 + 0j, 0.5, -0.5, 2.5, 4, 2j, -2 + 1j])
def test_pow_of_a_tensor_and_a_number(complex_device, dtype, exponent):
    # PyTorch's shortcuts (1 for x ** 0 even at NaN, sqrt for 0.5, products for 2, 3, -2), cpow otherwise
    x, tx = both(SPECIAL, dtype, complex_device)
    assert_parts(ember.pow(x, exponent), torch.pow(tx, exponent))


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("base", [0, 0j, 1, 1 + 0j, 2, -2.5, 1j])
def test_pow_of_a_number_and_a_tensor(complex_device, dtype, base):
    x, tx = both(FINITE_EXPONENTS, dtype, complex_device)
    assert_parts(ember.pow(base, x), torch.pow(base, tx))


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("base", [0, 0.0, 0j, 2.0])
def test_gradient_of_a_number_to_a_tensor_power(dtype, base):
    # d(0 ** x)/dx is 0 where x is real and >= 0, else z * log(0) (PyTorch's pow_backward_exponent)
    x, tx = both([0.0, 2.0, -1.0, 0.5], dtype, requires_grad=True)
    if isinstance(base, complex) and not x.dtype.is_complex:
        pytest.skip("a complex base makes a complex result")
    grad = [1 + 1j, 2 - 1j, 1j, 1] if x.dtype.is_complex else [1.0, 2.0, 3.0, 4.0]
    ember.pow(base, x).backward(ember.tensor(grad, dtype=x.dtype))
    torch.pow(base, tx).backward(torch.tensor(grad, dtype=tx.dtype))
    assert_parts(x.grad, tx.grad)


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_gradients_of_complex_pow_at_a_zero_base(dtype):
    a_values = [0j, 0j, 0j, 1 + 1j, 0j]
    b_values = [2 + 0j, -1 + 0j, 1j, 2 - 1j, 0j]
    (a, ta), (b, tb) = both(a_values, dtype, requires_grad=True), both(b_values, dtype, requires_grad=True)
    ember.pow(a, b).backward(ember.ones(5, dtype=a.dtype))
    torch.pow(ta, tb).backward(torch.ones(5, dtype=ta.dtype))
    assert_parts(a.grad, ta.grad)
    assert_parts(b.grad, tb.grad)


def _squares_without_conjugate(lib):
    """``x * x`` whose backward forgets the conjugate (``g * 2x``): a wrong complex gradient."""

    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 2 * x

    return Square.apply


@pytest.mark.parametrize(
    "name", ["square", "abs", "angle", "real", "to_complex", "wrong_conjugate"]
)  # complex -> complex, complex -> real, real -> complex, and one wrong gradient
def test_gradcheck_sees_both_parts(name):
    values = [[1 + 2j, 3 - 1j], [0.5j, 2 + 0j]]
    functions = {
        "square": lambda lib: lambda x: x * x,
        "abs": lambda lib: lambda x: x.abs(),
        "angle": lambda lib: lambda x: x.angle(),
        "real": lambda lib: lambda x: x.real * 2,
        "to_complex": lambda lib: lambda x: x.real * (1 + 2j),
        "wrong_conjugate": _squares_without_conjugate,
    }
    verdicts = []
    for lib in (ember, torch):
        x = lib.tensor(values, dtype=lib.complex128, requires_grad=True)
        verdicts.append(lib.autograd.gradcheck(functions[name](lib), (x,), raise_exception=False))
    assert verdicts[0] == verdicts[1]
    assert verdicts[0] == (name != "wrong_conjugate")


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_log1p_keeps_the_digits_of_small_values(complex_device, dtype):
    # NumPy's log(1 + z) lost the real part of 1e-8+1e-8j in complex64 (0 instead of 1e-8)
    values = [1e-8 + 1e-8j, 1e-20 + 1e-20j, 1e-5 - 3e-6j, 0.3 + 0.1j, complex(-2, -0.0), -1 + 0j, complex(-0.0, 0)]
    values += [complex(INF, NAN), complex(NAN, INF), complex(-INF, 1), 3 + 4j]
    x, tx = both(values, dtype, complex_device)
    assert_parts(ember.log1p(x), torch.log1p(tx), rtol=1e-6 if dtype == "complex64" else 1e-14)


INFINITE_PAIRS = [
    (1 + 2j, 0.5 - 1j),
    (-3 + 0.5j, 2 + 0j),
    (complex(INF, 0), complex(INF, 0)),
    (complex(-INF, 0), complex(-INF, 0)),
    (complex(INF, 1), complex(-INF, 1)),
    (complex(NAN, 0), 1 + 0j),
    (complex(-INF, 2), complex(-INF, -3)),
    (0j, complex(-INF, 0)),
    (complex(INF, INF), complex(INF, INF)),
    (100 + 1j, 100 - 1j),
]


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_logaddexp(complex_device, dtype):
    (a, ta), (b, tb) = (both([p[k] for p in INFINITE_PAIRS], dtype, complex_device) for k in (0, 1))
    assert_parts(ember.logaddexp(a, b), torch.logaddexp(ta, tb))
    assert_parts(ember.logaddexp(a, ember.ones(1, device=complex_device)), torch.logaddexp(ta, torch.ones(1)))
    with pytest.raises(NotImplementedError):
        ember.logaddexp2(a, b)


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_logcumsumexp(complex_device, dtype):
    rng = np.random.default_rng(0)
    values = rng.standard_normal((3, 5)) + 1j * rng.standard_normal((3, 5))
    x, tx = both(values.tolist(), dtype, complex_device)
    for dim in (0, 1, -1):
        assert_parts(ember.logcumsumexp(x, dim), torch.logcumsumexp(tx, dim))
    # -inf first (the scan starts from -inf+0j), NaN parts, +inf, and a large pair
    special = [complex(-INF, 2), 1 + 1j, complex(NAN, 0), 2j, complex(INF, 1), 100 + 1j, 100 - 1j]
    for start in range(3):
        s, ts = both(special[start:], dtype, complex_device)
        assert_parts(ember.logcumsumexp(s, 0), torch.logcumsumexp(ts, 0))
    for one in (1 + 2j, complex(-INF, 2)):
        s, ts = both(one, dtype, complex_device)
        assert_parts(ember.logcumsumexp(s, 0), torch.logcumsumexp(ts, 0))


def _scan_times(x, y):
    return x.logcumsumexp(0) * y


def _log1p_times(x, y):
    return x.log1p() * y


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("op", ["logaddexp", "logcumsumexp", "log1p"])
def test_log_exp_gradients(dtype, op):
    rng = np.random.default_rng(1)
    a_values = (rng.standard_normal(6) + 1j * rng.standard_normal(6)).tolist()
    b_values = (rng.standard_normal(6) + 1j * rng.standard_normal(6)).tolist()
    results = []
    for lib in (ember, torch):
        a = lib.tensor(a_values, dtype=getattr(lib, dtype), requires_grad=True)
        b = lib.tensor(b_values, dtype=getattr(lib, dtype), requires_grad=True)
        out = {"logaddexp": lib.logaddexp, "logcumsumexp": _scan_times, "log1p": _log1p_times}[op](a, b)
        out.backward(lib.tensor(b_values[::-1], dtype=out.dtype))
        results.append((a.grad, b.grad))
    assert_parts(results[0][0], results[1][0], rtol=1e-4 if dtype == "complex64" else 1e-10)
    if op == "logaddexp":
        assert_parts(results[0][1], results[1][1], rtol=1e-4 if dtype == "complex64" else 1e-10)
    x = ember.tensor(a_values, dtype=ember.complex128, requires_grad=True)
    y = ember.tensor(b_values, dtype=ember.complex128, requires_grad=True)
    function = {"logaddexp": ember.logaddexp, "logcumsumexp": _scan_times, "log1p": _log1p_times}[op]
    assert ember.autograd.gradcheck(function, (x, y))
    assert ember.autograd.gradgradcheck(function, (x, y))


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.linspace(0, 1 + 1j, 3),
        lambda lib: lib.linspace(lib.tensor(0j, dtype=lib.complex128), 1, 4),
        lambda lib: lib.linspace(0, 1 + 1j, 1),
        lambda lib: lib.linspace(0j, 1, 3, dtype=lib.complex128),
        lambda lib: lib.logspace(0, 1 + 1j, 3),
        lambda lib: lib.logspace(0, 1 + 1j, 3, dtype=lib.complex128),
    ],
)
def test_linspace_with_complex_ends_is_complex(make):
    # a complex end made a float32 range that dropped the imaginary parts
    assert_parts(make(ember), make(torch))


def test_linspace_with_complex_ends_refuses_a_real_dtype():
    with pytest.raises(RuntimeError, match="inferred dtype c10::complex<float> can't be safely cast"):
        ember.linspace(0, 1 + 1j, 3, dtype=ember.float64)


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_cov_and_corrcoef_of_complex_variables(complex_device, dtype):
    # they were computed on the real parts alone
    values = [[1j, 2 + 0j, 3 - 1j, 0.5 + 0j], [3 + 0j, 4j, 1 + 0j, -2 + 1j]]
    x, tx = both(values, dtype, complex_device)
    rtol = 1e-5 if dtype == "complex64" else 1e-12
    assert_parts(ember.cov(x), torch.cov(tx), rtol=rtol)
    assert_parts(ember.corrcoef(x), torch.corrcoef(tx), rtol=rtol)
    assert_parts(ember.cov(x[0]), torch.cov(tx[0]), rtol=rtol)
    fweights, aweights = [1, 2, 1, 3], [0.5, 1.0, 2.0, 1.0]
    assert_parts(
        ember.cov(
            x,
            fweights=ember.tensor(fweights, device=complex_device),
            aweights=ember.tensor(aweights, device=complex_device),
        ),
        torch.cov(tx, fweights=torch.tensor(fweights), aweights=torch.tensor(aweights)),
        rtol=1e-5,
    )


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_sgn_divides_each_part(complex_device, dtype):
    # PyTorch's vectorized kernel (64 elements: no scalar tail) divides each part by |z|: sgn(inf+0j) is
    # nan+0j; NumPy's complex division gave nan+nanj there and inf+nanj for a subnormal 1e-320+0j
    tiny = 1e-320 if dtype == "complex128" else 1e-40
    specials = [
        complex(INF, 0),
        complex(-INF, 0),
        complex(0, INF),
        complex(INF, 1),
        complex(tiny, 0),
        complex(0, -tiny),
    ]
    specials += [complex(-0.0, 0), 0j, 1 + 2j, complex(NAN, 0), complex(1e30, 1e30), -3 + 0.5j, complex(INF, INF)]
    values = (specials * 5)[:64]
    x, tx = both(values, dtype, complex_device)
    assert_parts(ember.sgn(x), torch.sgn(tx))


@pytest.mark.parametrize(
    "op",
    [
        lambda lib, m, v: lib.addmm(m, m, m, beta=1j, alpha=2),
        lambda lib, m, v: lib.addmm(m, m, m, alpha=1 - 1j),
        lambda lib, m, v: m.clone().addmm_(m, m, beta=1j),
        lambda lib, m, v: lib.addmv(v, m, v, beta=1j, alpha=1 - 1j),
        lambda lib, m, v: lib.addr(m, v, v, beta=2j, alpha=1j),
        lambda lib, m, v: lib.baddbmm(m[None], m[None], m[None], beta=1j, alpha=1j),
        lambda lib, m, v: lib.addbmm(m, m[None], m[None], beta=1j, alpha=1j),
    ],
)
def test_scaled_products_take_complex_factors(op):
    # int(beta) refused a complex beta or alpha with a TypeError
    results = [op(lib, lib.tensor([[1j, 2], [3, 4j]]), lib.tensor([1j, 2])) for lib in (ember, torch)]
    assert_parts(*results)


@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_scaled_products_refuse_a_complex_factor_for_real_tensors(dtype):
    m = ember.ones(2, 2, dtype=getattr(ember, dtype))
    with pytest.raises(RuntimeError, match="cannot be converted to type .* without overflow"):
        ember.addmm(m, m, m, beta=1j)
    assert (
        ember.addmm(m, m, m, beta=2 + 0j).tolist()
        == torch.addmm(*[torch.ones(2, 2, dtype=getattr(torch, dtype))] * 3, beta=2 + 0j).tolist()
    )


def test_finfo_of_a_complex_type_is_its_parts():
    for name in ("complex64", "complex128"):
        e, t = ember.finfo(getattr(ember, name)), torch.finfo(getattr(torch, name))
        assert (e.bits, e.eps, e.max, e.tiny, e.resolution, e.dtype) == (
            t.bits,
            t.eps,
            t.max,
            t.tiny,
            t.resolution,
            t.dtype,
        )


@pytest.mark.parametrize(
    "op",
    [
        lambda lib: lib.addcmul(lib.ones(2), lib.ones(2), lib.ones(2), value=2 + 0j),
        lambda lib: lib.addcdiv(lib.ones(2), lib.ones(2), lib.ones(2), value=2 + 0j),
        lambda lib: lib.addcmul(lib.ones(2), lib.ones(2), lib.ones(2, dtype=lib.complex64), value=1j),
    ],
)
def test_pointwise_products_convert_a_complex_value(op):
    # value=2+0j made a complex64 result of float32 tensors (torch: float32)
    assert_parts(op(ember), op(torch))


@pytest.mark.parametrize(
    "op",
    [
        lambda lib: lib.addcmul(lib.ones(2), lib.ones(2), lib.ones(2), value=1j),
        lambda lib: lib.addcdiv(lib.ones(2), lib.ones(2), lib.ones(2), value=1j),
        lambda lib: lib.addcmul(*[lib.ones(2, dtype=lib.int64)] * 3, value=1j),
    ],
)
def test_pointwise_products_refuse_a_complex_value_for_real_tensors(op):
    with pytest.raises(RuntimeError, match="cannot be converted to type .* without overflow"):
        op(torch)
    with pytest.raises(RuntimeError, match="cannot be converted to type .* without overflow"):
        op(ember)


@pytest.mark.parametrize("name", ["complex64", "complex128"])
def test_arange_and_range_have_no_complex_kernel(name):
    with pytest.raises(NotImplementedError, match='"arange_cpu" not implemented for'):
        ember.arange(3, dtype=getattr(ember, name))
    with pytest.warns(UserWarning), pytest.raises(NotImplementedError, match='"range_cpu" not implemented for'):
        ember.range(0, 2, dtype=getattr(ember, name))


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_numerical_gradient_of_complex_values(dtype):
    # ember.gradient cast complex input to the default float type, dropping the imaginary parts
    values = [1 + 2j, -1 - 1j, 3 + 0j, 2j]
    x, tx = both(values, dtype)
    for kwargs in ({}, {"spacing": 2.0, "edge_order": 2}):
        assert_parts(ember.gradient(x, **kwargs)[0], torch.gradient(tx, **kwargs)[0])


@pytest.mark.parametrize("value", [lambda lib: lib.tensor(5.0), lambda lib: 5, lambda lib: lib.tensor([1.0, 2.0])])
@pytest.mark.parametrize("part", ["real", "imag"])
def test_assigning_a_part(part, value):
    # ``t.real = v`` raised AttributeError (a property without a setter)
    results = []
    for lib in (ember, torch):
        t = lib.tensor([1 + 2j, 3j])
        setattr(t, part, value(lib))
        results.append(t)
    assert_parts(*results)
    r = ember.ones(2)
    r.real = ember.zeros(2)
    assert r.tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with non-complex dtypes"):
        r.imag = ember.zeros(2)


@pytest.mark.parametrize("part", ["real", "imag"])
def test_gradient_through_a_write_into_a_part(part):
    # backward replayed the .imag view on a boolean mask and raised "imag is not implemented ..."
    grads = []
    for lib in (ember, torch):
        x = lib.tensor([1 + 2j, 3 - 1j], requires_grad=True)
        y = x * (2 + 1j)
        getattr(y, part).copy_(lib.tensor([5.0, 6.0]))
        z = (y * lib.tensor([1 - 1j, 2 + 3j])).sum()
        (z.real + z.imag).backward()
        grads.append(x.grad)
    assert_parts(*grads)


def test_isin_and_unique_consecutive_refuse_complex_tensors():
    # isin raised NotImplementedError ("ge_cpu"), unique_consecutive returned values: torch refuses both
    with pytest.raises(RuntimeError, match=r"Unsupported input type encountered for isin\(\): ComplexFloat"):
        ember.isin(ember.tensor([1.0]), ember.tensor([1j]))
    with pytest.raises(NotImplementedError, match="\"unique\" not implemented for 'ComplexFloat'"):
        ember.unique_consecutive(ember.tensor([1j, 1j]))


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("p", [2.0, 1.0])
def test_normalize_complex_rows(dtype, p):
    # F.normalize refused complex input ("expected a floating point input")
    values = [[1 + 2j, 3 - 1j, 0.5j], [2 + 0j, -1 + 1j, 4j]]
    results = []
    for lib in (ember, torch):
        x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True)
        y = lib.nn.functional.normalize(x, p=p, dim=1)
        y.abs().sum().backward()
        results.append((y, x.grad))
    assert_parts(results[0][0], results[1][0], rtol=1e-5)
    assert_parts(results[0][1], results[1][1], rtol=1e-4)


@pytest.mark.parametrize("dtype", ["complex64", "complex128", "int64"])
def test_cosine_similarity_refuses_non_floating_tensors(dtype):
    # complex inputs gave a complex value where torch raises
    x = ember.ones(2, 3, dtype=getattr(ember, dtype))
    with pytest.raises(RuntimeError, match="expected common dtype to be floating point"):
        ember.nn.functional.cosine_similarity(x, x)


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_pow_with_infinite_parts_uses_c_products(complex_device, dtype):
    # b * log(a) as C multiplies: 0 ** (inf+infj) is 0 (the plain product gave NaN), (1+2j) ** (inf+nanj)
    # is inf+nanj, inf ** (inf+infj) inf+nanj
    values = [0j, 1 + 2j, complex(INF, 0), complex(INF, INF), complex(NAN, INF), complex(0, INF), complex(INF, NAN)]
    values += [1e-30 + 1e-30j, complex(1e30, 1e30), complex(NAN, 0), 3 + 0j, -2 + 0j]
    (a, ta), (b, tb) = (
        both([p for p in values for _ in values], dtype, complex_device),
        both([q for _ in values for q in values], dtype, complex_device),
    )
    assert_parts(ember.pow(a, b), torch.pow(ta, tb))
