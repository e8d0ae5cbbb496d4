"""The math ops PyTorch has and ember gained with the surface work, against PyTorch: values in
float64 and float32, gradients, errors."""

from __future__ import annotations

import numpy as np
import pytest
from reference import assert_close, check, randn

import ember

torch = pytest.importorskip("torch")


def _both(name, *args, **kwargs):
    return (lambda *t: getattr(ember, name)(*t, *args, **kwargs)), (
        lambda *t: getattr(torch, name)(*t, *args, **kwargs)
    )


@pytest.mark.parametrize(
    "name,low,high",
    [("lgamma", -4.7, 9.0), ("digamma", -3.7, 9.0), ("erfinv", -0.99, 0.99), ("i0", -45.0, 45.0)],
)
def test_special_functions(device, dtype, name, low, high):
    x = np.concatenate([randn(40, low=low, high=high), [0.5, 1.5, 2.0, 0.1]])
    rtol = 1e-4 if dtype is ember.float32 else 1e-9
    check(*_both(name), [x], device=device, dtype=dtype, rtol=rtol, atol=1e-5 if dtype is ember.float32 else 1e-9)


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_polygamma(device, dtype, n):
    rtol = 1e-4 if dtype is ember.float32 else 1e-8
    e, t = (lambda x: ember.polygamma(n, x)), (lambda x: torch.polygamma(n, x))
    check(e, t, [randn(20, low=0.2, high=12.0)], device=device, dtype=dtype, rtol=rtol, atol=1e-6)
    with pytest.raises(RuntimeError, match="polygamma.*negative n"):
        ember.polygamma(-1, ember.ones(2, device=device))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_polygamma_negative_arguments(device, n):
    # below -10 the shifted Euler-Maclaurin sum started at a negative point: polygamma(1, -30.5) gave -0.032
    # (trigamma is positive), polygamma(2, -10.5) gave -1.1e6; the poles give PyTorch's inf / large values
    x = [-0.5, -2.3, -10.5, -30.5, -100.25, -700.5, -1.0, -10.0, -30.0, 0.0, float("-inf"), 0.3, 25.0, -1e-8, -1 - 1e-9]
    e = ember.polygamma(n, ember.tensor(x, dtype=ember.float64, device=device))
    assert_close(e, torch.polygamma(n, torch.tensor(x, dtype=torch.float64)), rtol=1e-9, atol=0)
    x = ember.tensor(x[:6], dtype=ember.float64, device=device, requires_grad=True)
    t = torch.tensor(x.tolist(), dtype=torch.float64, requires_grad=True)
    ember.digamma(x).sum().backward()
    torch.digamma(t).sum().backward()
    assert_close(x.grad, t.grad, rtol=1e-9, atol=0)


def test_special_edges(device):
    x = [float("inf"), 0.0, -2.0, 1.0, -0.5]
    for name in ("lgamma", "digamma"):
        assert_close(
            getattr(ember, name)(ember.tensor(x, dtype=ember.float64, device=device)),
            getattr(torch, name)(torch.tensor(x, dtype=torch.float64)),
        )
    y = [1.0, -1.0, 1.5, 0.0]
    assert_close(
        ember.erfinv(ember.tensor(y, dtype=ember.float64, device=device)),
        torch.erfinv(torch.tensor(y, dtype=torch.float64)),
    )
    assert ember.lgamma(ember.tensor([3], device=device)).dtype is ember.float32


def test_special_double_backward(device):
    x = ember.tensor([0.7, 2.5], dtype=ember.float64, device=device, requires_grad=True)
    (g,) = ember.autograd.grad(ember.lgamma(x).sum(), x, create_graph=True)
    (gg,) = ember.autograd.grad(g.sum(), x)
    t = torch.tensor([0.7, 2.5], dtype=torch.float64)
    assert_close(gg, torch.polygamma(1, t))


_CDIST_CASES = [
    ((4, 3), (5, 3), 2.0, "use_mm_for_euclid_dist_if_necessary"),
    ((30, 3), (5, 3), 2.0, "use_mm_for_euclid_dist_if_necessary"),
    ((4, 3), (5, 3), 2.0, "use_mm_for_euclid_dist"),
    ((30, 3), (26, 3), 2.0, "donot_use_mm_for_euclid_dist"),
    ((2, 1, 4, 3), (3, 5, 3), 1.0, "use_mm_for_euclid_dist_if_necessary"),
    ((4, 3), (5, 3), float("inf"), "use_mm_for_euclid_dist_if_necessary"),
    ((4, 3), (5, 3), 0.0, "use_mm_for_euclid_dist_if_necessary"),
    ((4, 3), (5, 3), 3.5, "use_mm_for_euclid_dist_if_necessary"),
]


@pytest.mark.parametrize("case", range(len(_CDIST_CASES)))
def test_cdist(device, dtype, case):
    s1, s2, p, mode = _CDIST_CASES[case]
    check(*_both("cdist", p=p, compute_mode=mode), [randn(*s1), randn(*s2)], device=device, dtype=dtype)


@pytest.mark.parametrize("mode", ["use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist"])
def test_cdist_of_a_set_with_itself_has_torchs_gradient(device, dtype, mode):
    """An RBF kernel from cdist(x, x) over more than 25 points goes through the matrix product, whose
    zero distances made the square root's gradient NaN; PyTorch's is 0 there."""
    data = np.random.default_rng(0).standard_normal((30, 3))
    grads = []
    for lib, dev in ((ember, device), (torch, "cpu")):
        x = lib.tensor(data, dtype=getattr(lib, dtype.name), device=dev, requires_grad=True)
        distances = lib.cdist(x, x, compute_mode=mode)
        lib.exp(-0.5 * distances.pow(2)).sum().backward()
        grads.append(x.grad)
    assert not np.isnan(grads[0].cpu().numpy()).any()
    assert_close(grads[0], grads[1].numpy(), rtol=1e-4 if dtype is ember.float32 else 1e-10, atol=1e-4)


def test_cdist_by_matrix_product_differentiates_twice(device):
    a = ember.tensor(randn(4, 3), dtype=ember.float64, device=device, requires_grad=True)
    b = ember.tensor(randn(5, 3), dtype=ember.float64, device=device, requires_grad=True)

    def f(x, y):
        return ember.cdist(x, y, compute_mode="use_mm_for_euclid_dist")

    assert ember.autograd.gradcheck(f, (a, b)) and ember.autograd.gradgradcheck(f, (a, b))


def test_cdist_and_pdist_errors(device):
    a = ember.ones(2, 3, device=device)
    for module, x in ((ember, a), (torch, torch.ones(2, 3))):
        with pytest.raises(RuntimeError, match="X1 and X2 must have the same number of columns. X1: 3 X2: 4"):
            module.cdist(x, module.ones(2, 4) if module is torch else ember.ones(2, 4, device=device))
        with pytest.raises(RuntimeError, match="non-negative p"):
            module.cdist(x, x, p=-1)
        with pytest.raises(RuntimeError, match="floating-point dtypes, X1 got: Long"):
            module.cdist(x.long(), x.long())
    for dt in ("float16", "bfloat16"):
        with pytest.raises(NotImplementedError, match="pdist"):
            torch.pdist(torch.ones(3, 2, dtype=getattr(torch, dt)))
        if ember.device(device).type in ("cpu", "restricted"):
            with pytest.raises(
                NotImplementedError,
                match=f"\"pdist\" not implemented for '{'Half' if dt == 'float16' else 'BFloat16'}'",
            ):
                ember.pdist(ember.ones(3, 2, dtype=getattr(ember, dt), device=device))


def test_renorm(device, dtype):
    check(*_both("renorm", 2, 1, 1.0), [randn(3, 4, 2)], device=device, dtype=dtype)
    check(lambda x: x.renorm(1.5, 0, 0.8), lambda x: x.renorm(1.5, 0, 0.8), [randn(3, 4)], device=device, dtype=dtype)
    e, t = ember.tensor(randn(3, 4), device=device), None
    t = torch.tensor(e.cpu().numpy())
    assert e.renorm_(2, 0, 1.0) is e
    assert_close(e, t.renorm_(2, 0, 1.0))
    with pytest.raises(RuntimeError, match="renorm"):
        ember.renorm(ember.ones(3, device=device), 2, 0, 1.0)


def test_integer_math(device):
    a, b = np.random.default_rng(0).integers(-40, 40, (2, 4, 5))
    for name in ("gcd", "lcm"):
        check(*_both(name), [a, b], device=device, grad=False)
        with pytest.raises(NotImplementedError, match=name):
            getattr(ember, name)(ember.ones(2, device=device), ember.ones(2, device=device))
    e = ember.tensor(a, device=device)
    assert ember.gcd_(e, ember.tensor(b, device=device)) is e
    x = np.concatenate([randn(10) * 100, [0.0, 1.0, 0.5, 4.0, -8.0, np.inf, -np.inf, np.nan, 2.0**-1070]])
    check(lambda t: ember.frexp(t), lambda t: torch.frexp(t), [x], device=device, grad=False)
    check(
        *_both("ldexp"), [randn(4), np.array([3, 1, 0, 2])], device=device
    )  # torch's gradient is 0 for a negative one
    check(*_both("ldexp"), [randn(4), np.array([3, -1, 0, 2])], device=device, grad=False)
    with pytest.raises(RuntimeError, match="frexp"):
        ember.frexp(ember.tensor([1], device=device))


def test_nextafter_and_frexp_extremes(device, dtype):
    x = np.array([1.0, 1.0, 0.0, 0.0, -1.0, 2.0, 0.5, np.inf, -np.inf, np.nan, 3.0, 123.456, -7.25e-5, 1e30])
    y = np.array([2.0, 0.0, 1.0, -1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 3.0, -1.0, 1.0, np.inf])
    if dtype is ember.float64:
        x, y = np.append(x, [5e-324, 1e308, 1.7e308]), np.append(y, [0.0, np.inf, 0.0])
    e, t = ember.tensor(x, dtype=dtype, device=device), torch.tensor(x, dtype=getattr(torch, dtype.name))
    other_e, other_t = ember.tensor(y, dtype=dtype, device=device), torch.tensor(y, dtype=getattr(torch, dtype.name))
    np.testing.assert_array_equal(ember.nextafter(e, other_e).cpu().numpy(), torch.nextafter(t, other_t).numpy())
    for actual, expected in zip(ember.frexp(e), torch.frexp(t)):
        np.testing.assert_array_equal(actual.cpu().numpy(), expected.numpy())
    np.testing.assert_array_equal(e.clone().nextafter_(other_e).cpu().numpy(), t.clone().nextafter_(other_t).numpy())
    with pytest.raises(NotImplementedError, match="nextafter"):
        ember.nextafter(ember.tensor([1], device=device), ember.tensor([2], device=device))


def test_value_tests(device):
    x = np.array([1.0, -np.inf, np.inf, np.nan, 2.0])
    for name in ("isneginf", "isposinf", "isreal"):
        check(*_both(name), [x], device=device, grad=False)
    a, b = np.array([[1, 2], [3, 4]]), np.array([2.0, 3.0, 9.0])
    check(*_both("isin"), [a, b], device=device, grad=False)
    check(*_both("isin", invert=True), [a, b], device=device, grad=False)
    assert ember.isin(3, ember.tensor([3], device=device)).item() is True
    assert not ember.isin(ember.tensor([1], device=device), ember.tensor([], dtype=ember.int64, device=device)).any()


def test_quantiles(device, dtype):
    x = randn(4, 7)
    x_nan = x.copy()
    x_nan[1, 2] = np.nan
    x_nan[3, :] = np.nan
    check(*_both("quantile", 0.3, dim=1), [x], device=device, dtype=dtype)
    check(*_both("quantile", 0.75), [x], device=device, dtype=dtype)
    for interpolation in ("linear", "lower", "higher", "midpoint", "nearest"):
        check(
            *_both("nanquantile", 0.37, 0, True, interpolation=interpolation),
            [x_nan],
            device=device,
            dtype=dtype,
            grad=False,
        )
        check(*_both("quantile", 0.37, 1, interpolation=interpolation), [x_nan], device=device, dtype=dtype, grad=False)
    q = np.array([0.1, 0.5, 0.9])
    check(
        lambda a, q: ember.quantile(a, q, dim=0, keepdim=True),
        lambda a, q: torch.quantile(a, q, dim=0, keepdim=True),
        [x, q],
        device=device,
        dtype=dtype,
        grad=False,
    )
    for message, call in (
        ("input tensor must be either float or double", lambda m: m.quantile(m.tensor([1, 2]), 0.5)),
        (r"q must be in the range \[0, 1\] but got 1.5", lambda m: m.quantile(m.tensor([1.0, 2.0]), 1.5)),
        ("interpolation must be one of", lambda m: m.quantile(m.tensor([1.0]), 0.5, interpolation="foo")),
    ):
        for module in (ember, torch):
            with pytest.raises(RuntimeError, match=message):
                call(module)


def test_nanmedian_and_mode(device, dtype):
    x = randn(4, 7)
    x[1, 2] = np.nan
    check(lambda a: ember.nanmedian(a), lambda a: torch.nanmedian(a), [x], device=device, dtype=dtype)
    check(
        lambda a: tuple(ember.nanmedian(a, 1, True)),
        lambda a: tuple(torch.nanmedian(a, 1, True)),
        [x],
        device=device,
        dtype=dtype,
    )
    ints = np.random.default_rng(1).integers(0, 3, (3, 8)).astype(np.float64)
    check(lambda a: tuple(a.mode(1)), lambda a: tuple(a.mode(1)), [ints], device=device, dtype=dtype)
    check(
        lambda a: tuple(ember.mode(a, 0, True)),
        lambda a: tuple(torch.mode(a, 0, True)),
        [ints],
        device=device,
        dtype=dtype,
    )


def test_cov_corrcoef_histc(device, dtype):
    rng = np.random.default_rng(2)
    x, fw, aw = randn(3, 6), rng.integers(1, 4, 6), rng.random(6)
    check(*_both("cov"), [x], device=device, dtype=dtype)
    check(
        lambda a, f, w: ember.cov(a, correction=0, fweights=f, aweights=w.detach()),
        lambda a, f, w: torch.cov(a, correction=0, fweights=f, aweights=w.detach()),
        [x, fw, aw],
        device=device,
        dtype=dtype,
    )
    check(
        lambda a, f, w: ember.cov(a, fweights=f, aweights=w.detach()),
        lambda a, f, w: torch.cov(a, fweights=f, aweights=w.detach()),
        [x, fw, aw],
        device=device,
        dtype=dtype,
    )
    check(*_both("cov"), [randn(5)], device=device, dtype=dtype)
    check(*_both("corrcoef"), [x], device=device, dtype=dtype)
    h = randn(50)
    check(*_both("histc", 7), [h], device=device, dtype=dtype, grad=False)
    check(*_both("histc", 5, -1, 1), [h], device=device, dtype=dtype, grad=False)
    with pytest.raises(NotImplementedError, match="histogram"):
        ember.histc(ember.tensor([1, 2], device=device))


def test_constructions(device, dtype):
    check(*_both("diagflat", 1), [randn(2, 2)], device=device, dtype=dtype)
    check(
        lambda a, b, c: ember.block_diag(a, b, c),
        lambda a, b, c: torch.block_diag(a, b, c),
        [randn(2, 3), randn(3), np.array(5)],
        device=device,
        dtype=dtype,
    )
    check(*_both("combinations", 2, True), [randn(4)], device=device, dtype=dtype)
    check(*_both("combinations", 3), [randn(4)], device=device, dtype=dtype)
    check(*_both("vander", 4), [randn(3)], device=device, dtype=dtype, grad=False)  # torch's backward fails here
    check(
        lambda a: ember.vander(a, 4).sum(),
        lambda a: (a.unsqueeze(1) ** torch.arange(3, -1, -1)).sum(),
        [randn(3)],
        device=device,
        dtype=dtype,
    )
    check(*_both("vander", None, True), [np.array([1, 2, 3])], device=device, grad=False)
    y, x = randn(3, 5), np.sort(randn(5))
    for name in ("trapezoid", "cumulative_trapezoid"):
        check(*_both(name), [y, x], device=device, dtype=dtype)
        check(*_both(name, dx=0.3, dim=0), [y], device=device, dtype=dtype)
        check(
            lambda a, n=name: getattr(ember, n)(a, a, dim=0),
            lambda a, n=name: getattr(torch, n)(a, a, dim=0),
            [y],
            device=device,
            dtype=dtype,
        )
    check(*_both("trapz", dx=0.5), [y], device=device, dtype=dtype)
    idx = np.array([4, 5, 7, 0])
    check(
        lambda i: ember.unravel_index(i, (2, 3)),
        lambda i: torch.unravel_index(i, (2, 3)),
        [idx],
        device=device,
        grad=False,
    )
    with pytest.raises(RuntimeError, match="Expect a 1D vector"):
        ember.combinations(ember.ones(1, 1, device=device))


def test_unique_consecutive_and_fill_diagonal(device):
    a = np.array([[1, 1, 2], [1, 1, 2], [3, 3, 3], [1, 1, 2]])
    for dim in (None, 0, 1):
        check(
            lambda t, d=dim: ember.unique_consecutive(t, True, True, dim=d),
            lambda t, d=dim: torch.unique_consecutive(t, True, True, dim=d),
            [a],
            device=device,
            grad=False,
        )
    for shape, wrap in (((5, 3), True), ((5, 3), False), ((3, 5), True), ((7, 2), True), ((3, 3, 3), False)):
        e = ember.zeros(*shape, device=device)
        assert e.fill_diagonal_(2.0, wrap) is e
        assert_close(e, torch.zeros(*shape).fill_diagonal_(2.0, wrap))


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce(device, dtype, reduce, include_self):
    idx = np.random.default_rng(3).integers(0, 5, (3, 4))
    idx[0, :2] = 1  # ties for amax/amin
    f = lambda x, i, s: x.scatter_reduce(1, i, s, reduce, include_self=include_self)  # noqa: E731
    check(f, f, [randn(4, 5), idx, randn(3, 4)], device=device, dtype=dtype)

    def g(x, i, s):
        return (ember if isinstance(x, ember.Tensor) else torch).scatter_reduce(x, 0, i, s, reduce)

    check(g, g, [randn(5, 6), idx % 5, randn(3, 4)], device=device, dtype=dtype, grad=False)


@pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")
def test_scatter_reduce_inplace_index_reduce_and_errors(device):
    idx = np.array([0, 2, 0])
    for reduce in ("prod", "mean", "amax", "amin"):
        f = lambda x, s, i, r=reduce: x.index_reduce(1, i, s, r)  # noqa: E731
        check(f, f, [randn(4, 5), randn(4, 3), idx], device=device)
    e = ember.ones(3, device=device)
    assert (
        e.scatter_reduce_(0, ember.tensor([0, 0], device=device), ember.tensor([5.0, 7.0], device=device), "amax") is e
    )
    assert e.cpu().tolist() == [7.0, 1.0, 1.0]
    x = ember.ones(3, device=device)
    with pytest.raises(RuntimeError, match="reduce argument must be either sum, prod, mean, amax or amin, got foo"):
        x.scatter_reduce(0, ember.tensor([0], device=device), x, "foo")
    with pytest.raises(RuntimeError, match=r"scatter\(\): Expected dtype int32/int64 for index"):
        x.scatter_reduce(0, ember.tensor([0], dtype=ember.int16, device=device), x, "sum")
    with pytest.raises(RuntimeError, match="out of bounds"):
        x.scatter_reduce(0, ember.tensor([3], device=device), x, "sum")


def test_linear_algebra_products_and_inplace(device, dtype):
    check(
        lambda m, a, b: ember.addbmm(m, a, b, beta=0.5, alpha=2),
        lambda m, a, b: torch.addbmm(m, a, b, beta=0.5, alpha=2),
        [randn(2, 4), randn(3, 2, 5), randn(3, 5, 4)],
        device=device,
        dtype=dtype,
    )
    for name, shapes in (
        ("addbmm_", [(2, 4), (3, 2, 5), (3, 5, 4)]),
        ("addmm_", [(2, 4), (2, 5), (5, 4)]),
        ("addmv_", [(2,), (2, 5), (5,)]),
        ("addr_", [(2, 3), (2,), (3,)]),
        ("baddbmm_", [(3, 2, 4), (3, 2, 5), (3, 5, 4)]),
    ):
        arrays = [randn(*s) for s in shapes]
        f = lambda m, a, b, n=name: getattr(m * 1, n)(a, b, beta=0.5, alpha=2)  # noqa: E731
        check(f, f, arrays, device=device, dtype=dtype)
    for name, args in (
        (
            "masked_scatter_",
            lambda m: (
                m.tensor([True, False, True], device=_dev(m, device)),
                m.tensor([1.0, 2.0], device=_dev(m, device)),
            ),
        ),
        (
            "index_copy_",
            lambda m: (0, m.tensor([2, 0], device=_dev(m, device)), m.tensor([1.0, 2.0], device=_dev(m, device))),
        ),
    ):
        e, t = ember.zeros(3, device=device), torch.zeros(3)
        assert getattr(e, name)(*args(ember)) is e
        getattr(t, name)(*args(torch))
        assert_close(e, t)
    assert ember.addmv_(
        ember.zeros(2, device=device), ember.ones(2, 3, device=device), ember.ones(3, device=device)
    ).cpu().tolist() == [3.0, 3.0]


def _dev(module, device):
    return device if module is ember else "cpu"


def test_random_methods(device):
    ember.manual_seed(0)
    a = ember.full((1000,), 0.3, device=device).bernoulli()
    assert a.shape == (1000,) and abs(float(a.float().mean()) - 0.3) < 0.06
    b = ember.tensor([0.0, 1.0, 0.0], device=device).multinomial(2, replacement=True)
    assert b.cpu().tolist() == [1, 1]


def test_mvlgamma_dist_bitwise_inplace(device, dtype):
    for p in (1, 3):
        check(*_both("mvlgamma", p=p), [randn(6, low=1.6, high=6.0)], device=device, dtype=dtype)
    e = ember.tensor([2.5, 3.0], dtype=dtype, device=device)
    assert e.mvlgamma_(2) is e
    assert_close(e, torch.tensor([2.5, 3.0], dtype=getattr(torch, dtype.name)).mvlgamma_(2), dtype)
    with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
        ember.mvlgamma(e, 0)
    for p in (2, 1, 0, float("inf"), 3.5):
        check(*_both("dist", p=p), [randn(3, 4), randn(4)], device=device, dtype=dtype, grad=p != 0)
    a, b = np.array([12, 10, -3]), np.array([10, 6, 5])
    for name in ("bitwise_and_", "bitwise_or_", "bitwise_xor_"):
        e = ember.tensor(a, device=device)
        assert getattr(e, name)(ember.tensor(b, device=device)) is e
        np.testing.assert_array_equal(e.cpu().numpy(), getattr(torch.tensor(a), name)(torch.tensor(b)).numpy())
    check(*_both("channel_shuffle", 2), [randn(2, 4, 3)], device=device, dtype=dtype)


def test_acosh_below_minus_one_is_nan(device, dtype):
    # (x - 1)(x + 1) is positive there too; torch gives NaN, not log1p(x - 1 + |...|)
    values = [-32768.0, -3.0, -1.5, -1.0, 0.5, 1.0, 2.0, float("-inf")]
    want = torch.acosh(torch.tensor(values, dtype=getattr(torch, str(dtype).split(".")[-1])))
    got = ember.acosh(ember.tensor(values, dtype=dtype, device=device))
    np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-6)


LDEXP_TYPES = ["bool", "uint8", "int32", "int64", "float16", "float32", "float64"]


@pytest.mark.parametrize("exponent_type", LDEXP_TYPES)
@pytest.mark.parametrize("mantissa_type", LDEXP_TYPES)
def test_ldexp_type_promotion(mantissa_type, exponent_type, device):
    # the promoted type of both operands (the default float for integers), as torch
    def run(T):
        mantissa = T.tensor([1, 0, 3], dtype=getattr(T, mantissa_type))
        exponent = T.tensor([True, False, True]) if exponent_type == "bool" else T.tensor([-3, 2, 12])
        exponent = exponent.to(getattr(T, exponent_type))
        if T is ember:
            mantissa, exponent = mantissa.to(device), exponent.to(device)
        return T.ldexp(mantissa, exponent)

    try:
        want = run(torch)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            run(ember)
        return
    got = run(ember)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())
