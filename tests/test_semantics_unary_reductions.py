"""Unary element-wise ops and reductions against PyTorch: values, dtypes and error types over
dtypes, 0-d and empty inputs, special values and keyword variants."""

import math

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _pair(values, dtype, device):
    """``values`` as an ember tensor of ``dtype`` on ``device`` and as a torch tensor; skipped where
    the device's backend does not hold ``dtype``."""
    try:
        x = ember.tensor(values, device=device).to(getattr(ember, dtype))
    except TypeError as refusal:
        pytest.skip(str(refusal))
    return x, torch.tensor(values).to(getattr(torch, dtype))


def _same(result, expected):
    assert str(result.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    assert tuple(result.shape) == tuple(expected.shape)
    if expected.dtype in (torch.float16, torch.bfloat16):
        result, expected = result.float(), expected.float()
    np.testing.assert_allclose(result.cpu().numpy(), expected.numpy(), rtol=1e-6, atol=1e-6, equal_nan=True)


@pytest.mark.parametrize("op", ["log2", "log10"])
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_complex_log_base_of_0d_tensor(device, op, dtype):
    # the parts were divided in a copy of a 0-d result: log2(0.25 + 0j) was log(0.25 + 0j)
    for values in (0.25 + 0j, [0.25 + 0j, 0j, -8 + 1j]):
        x, t = _pair(values, dtype, device)
        _same(getattr(ember, op)(x), getattr(torch, op)(t))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_frexp_mantissa_keeps_input_dtype(device, dtype):
    values = [8.0, -3.0, 0.0, 60000.0, 1e-3, float("inf")]
    x, t = _pair(values, dtype, device)
    mantissa, exponent = ember.frexp(x)
    expected = torch.frexp(t)
    _same(mantissa, expected.mantissa)
    _same(exponent, expected.exponent)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64", "int64"])
def test_angle_of_real_numbers(device, dtype):
    # angle(inf) was nan (0 * inf), angle(bfloat16) was float32
    values = [float("inf"), -float("inf"), -0.0, 0.0, -2.0, 3.0, float("nan")]
    if dtype == "int64":
        values = [-2, 0, 5]
    x, t = _pair(values, dtype, device)
    _same(ember.angle(x), torch.angle(t))
    assert not ember.angle(x).signbit().any()


@pytest.mark.parametrize("name", ["norm", "vector_norm"])
@pytest.mark.parametrize(
    ("dtype", "out_dtype"),
    [
        ("int64", "float64"),
        ("complex64", "float64"),
        ("float32", "complex128"),
        ("float64", "float32"),
        ("complex128", "complex64"),
    ],
)
def test_vector_norm_refuses_dtype(device, name, dtype, out_dtype):
    # norm(complex, dtype=float64) dropped the imaginary parts; norm(int, dtype=float64) computed
    def norm(lib, x, **kwargs):
        return lib.norm(x, **kwargs) if name == "norm" else lib.linalg.vector_norm(x, **kwargs)

    x, t = _pair([1, 2], dtype, device)
    with pytest.raises(RuntimeError):
        norm(torch, t, dtype=getattr(torch, out_dtype))
    with pytest.raises(RuntimeError, match="linalg.vector_norm"):
        norm(ember, x, dtype=getattr(ember, out_dtype))


@pytest.mark.parametrize("name", ["norm", "vector_norm"])
@pytest.mark.parametrize("dtype", ["float32", "float16", "complex64"])
def test_vector_norm_with_wider_dtype(device, name, dtype):
    wider = {"float32": "float64", "float16": "float32", "complex64": "complex128"}[dtype]
    values = [[3.0, -4.0], [0.5, 12.0]]
    x, t = _pair(values, dtype, device)
    for p in (2, 1, math.inf):
        if name == "norm":
            result, expected = (
                ember.norm(x, p, dtype=getattr(ember, wider)),
                torch.norm(t, p, dtype=getattr(torch, wider)),
            )
        else:
            result = ember.linalg.vector_norm(x, p, dtype=getattr(ember, wider))
            expected = torch.linalg.vector_norm(t, p, dtype=getattr(torch, wider))
        _same(result, expected)


@pytest.mark.parametrize("name", ["norm", "vector_norm"])
@pytest.mark.parametrize("p", [math.inf, -math.inf, -1, -0.5])
def test_norm_without_identity_over_an_empty_dimension(device, name, p):
    # norm(empty, inf) raised IndexError from amax and norm(empty, -1) computed; torch refuses both
    def norm(lib, x, **kwargs):
        return lib.norm(x, p, **kwargs) if name == "norm" else lib.linalg.vector_norm(x, p, **kwargs)

    x, t = ember.zeros(0, 3, device=device), torch.zeros(0, 3)
    for kwargs in ({}, {"dim": 0}, {"dim": (0, 1)}):
        with pytest.raises(RuntimeError):
            norm(torch, t, **kwargs)
        with pytest.raises(RuntimeError, match="norm on"):
            norm(ember, x, **kwargs)
    _same(norm(ember, x, dim=1), norm(torch, t, dim=1))


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64", "float32", "float64"])
def test_median_of_no_elements_keeps_dtype(device, dtype):
    # median(empty int8) was an int64 tensor (a sum), torch keeps the input's type
    x, t = _pair(np.zeros((0, 3)).tolist(), dtype, device)
    for op in ("median", "nanmedian"):
        result, expected = getattr(ember, op)(x), getattr(torch, op)(t)
        assert str(result.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
        assert result.shape == ()


@pytest.mark.parametrize("dtype", [None, "float64", "complex64"])
def test_nanmean_of_complex_numbers_is_refused_as_torch(device, dtype):
    # nanmean(complex) raised "expected floating point or complex dtype but got ComplexFloat"
    for values_dtype in ("float32", "complex64"):
        x, t = _pair([1.0, 2.0], values_dtype, device)
        kwargs = {} if dtype is None else {"dtype": getattr(torch, dtype)}
        try:
            torch.nanmean(t, **kwargs)
        except Exception as refusal:
            error = type(refusal)
        else:
            continue
        with pytest.raises(error, match="nansum"):
            ember.nanmean(x, **({} if dtype is None else {"dtype": getattr(ember, dtype)}))


_SPECIAL_KERNEL_DTYPES = {
    # name: the dtypes torch's CPU kernel refuses (integers and bool are promoted to float32 first)
    "erfcx": ("float16", "bfloat16", "complex64"),
    "ndtri": ("float16", "bfloat16", "complex64"),
    "log_ndtr": ("float16", "bfloat16", "complex64"),
    "i0e": ("complex64",),
    "i1": ("complex64",),
    "i1e": ("complex64",),
    "entr": ("complex64",),
    "ndtr": ("complex64",),
    "bessel_j0": ("float16", "bfloat16", "complex64"),
    "bessel_y1": ("float16", "bfloat16", "complex64"),
    "modified_bessel_i0": ("float16", "bfloat16", "complex128"),
    "modified_bessel_k1": ("float16", "bfloat16", "complex64"),
    "scaled_modified_bessel_k0": ("float16", "bfloat16", "complex64"),
    "spherical_bessel_j0": ("float16", "bfloat16", "complex64"),
    "airy_ai": ("float16", "bfloat16", "complex64"),
}


@pytest.mark.parametrize("name", sorted(_SPECIAL_KERNEL_DTYPES))
def test_special_functions_refuse_the_dtypes_torch_refuses(device, name):
    # bessel_j0(complex64) dropped the imaginary parts, erfcx(float16) computed: torch raises
    for dtype in _SPECIAL_KERNEL_DTYPES[name]:
        x, t = _pair([0.5, 1.5], dtype, device)
        with pytest.raises(NotImplementedError) as expected:
            getattr(torch.special, name)(t)
        with pytest.raises(NotImplementedError, match=str(expected.value).split("'")[0]):
            getattr(ember.special, name)(x)
    for dtype in ("int32", "bool", "float32", "float64"):
        x, t = _pair([0.0, 1.0], dtype, device)
        _same(getattr(ember.special, name)(x), getattr(torch.special, name)(t))


@pytest.mark.parametrize("n", [1, 2])
def test_polygamma_of_complex_numbers_is_refused(device, n):
    x, t = _pair([0.5, 1.5], "complex64", device)
    with pytest.raises(NotImplementedError) as expected:
        torch.polygamma(n, t)
    with pytest.raises(NotImplementedError, match=str(expected.value)):
        ember.polygamma(n, x)


def test_bitwise_not_of_complex_and_mvlgamma_of_bool(device):
    x, t = _pair([1.0, 2.0], "complex64", device)
    with pytest.raises(NotImplementedError):
        torch.bitwise_not(t)
    with pytest.raises(NotImplementedError, match="bitwise_not_cpu"):
        ember.bitwise_not(x)
    x, t = _pair([True, False], "bool", device)
    with pytest.raises(RuntimeError):
        torch.mvlgamma(t, 1)
    with pytest.raises(RuntimeError, match="boolean"):
        ember.mvlgamma(x, 1)


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_exp2_of_complex_special_values(device, dtype):
    # exp2(inf + 0j) was inf + nan j and exp2(nan + 0j) nan + nan j (a complex power), torch inf + 0j
    values = [complex(math.nan, 0), complex(math.inf, 0), complex(-math.inf, 0), complex(-0.0, 0), 1 + 2j, -0.5 - 3j]
    x, t = _pair(values, dtype, device)
    for op in (ember.exp2, ember.special.exp2):
        result = op(x)
        expected = torch.exp2(t)
        np.testing.assert_allclose(result.real.cpu().numpy(), expected.real.numpy(), rtol=1e-6, equal_nan=True)
        np.testing.assert_allclose(
            result.imag.cpu().numpy(), expected.imag.numpy(), rtol=1e-6, atol=1e-7, equal_nan=True
        )
    _same(ember.exp2(x[1]), torch.exp2(t[1]))


@pytest.mark.parametrize("op", ["logsumexp", "cumprod", "cumsum", "mean", "std"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_reductions_of_narrow_floats_return_out(device, op, dtype):
    # logsumexp(float16, out=float32) returned a new float16 tensor instead of out
    x, t = _pair([1.0, 2.0, 3.0], dtype, device)
    for out_dtype in ("float32", dtype):
        try:  # torch's std refuses a float32 out for a float16 input
            expected = getattr(torch, op)(t, 0, out=torch.empty(0, dtype=getattr(torch, out_dtype)))
        except RuntimeError:
            continue
        out = ember.empty(0, dtype=getattr(ember, out_dtype), device=device)
        assert getattr(ember, op)(x, 0, out=out) is out
        assert out.dtype is getattr(ember, out_dtype)
        # torch computes a float32 out in float32, ember rounds to the input's type first
        np.testing.assert_allclose(out.float().cpu().numpy(), expected.float().numpy(), rtol=1e-2)


def test_abs_of_complex_numbers_into_out(device):
    # abs(complex64, out=float64/complex64) was refused: torch casts the real magnitudes into any floating out
    x, t = _pair([3 + 4j, -1j], "complex64", device)
    for out_dtype in ("float16", "float64", "complex64"):
        out = ember.empty(0, dtype=getattr(ember, out_dtype), device=device)
        assert ember.abs(x, out=out) is out
        _same(out, torch.abs(t, out=torch.empty(0, dtype=getattr(torch, out_dtype))))
    for out_dtype in ("int64", "bool"):
        with pytest.raises(RuntimeError):
            torch.abs(t, out=torch.empty(0, dtype=getattr(torch, out_dtype)))
        with pytest.raises(RuntimeError):
            ember.abs(x, out=ember.empty(0, dtype=getattr(ember, out_dtype), device=device))
    x, t = _pair([3.0, -4.0], "float32", device)
    with pytest.raises(RuntimeError):
        torch.abs(t, out=torch.empty(0, dtype=torch.float64))
    with pytest.raises(RuntimeError):
        ember.abs(x, out=ember.empty(0, dtype=ember.float64, device=device))


@pytest.mark.parametrize(
    "call",
    [
        lambda L, x: L.aminmax(x, dim=(0,)),
        lambda L, x: L.aminmax(x, dim=[0, 1]),
        lambda L, x: L.aminmax(x, dim=True),
        lambda L, x: L.mode(x, (0,)),
        lambda L, x: L.mode(x[0, 0], 1),
        lambda L, x: L.mode(x[0, 0], -2),
    ],
)
def test_single_dim_reductions_refuse_other_dims(device, call):
    # aminmax(x, dim=(0,)) and mode of a 0-d tensor along dim 2 computed; torch raises
    x, t = _pair([[1.0, 2.0, 2.0], [3.0, 3.0, 1.0]], "float32", device)
    with pytest.raises((TypeError, IndexError)) as expected:
        call(torch, t)
    with pytest.raises(expected.type):
        call(ember, x)


@pytest.mark.parametrize("op", ["amax", "amin", "sum", "mean", "nansum"])
@pytest.mark.parametrize("dim", [(), []])
def test_empty_dim_list_reduces_every_dimension(device, op, dim):
    # amax(x, dim=[]) returned x unchanged, torch the largest element
    x, t = _pair([[1.0, 2.0], [3.0, 4.0]], "float32", device)
    for keepdim in (False, True):
        _same(getattr(ember, op)(x, dim, keepdim=keepdim), getattr(torch, op)(t, dim, keepdim=keepdim))


@pytest.mark.parametrize("op", ["median", "nanmedian"])
def test_median_of_complex_numbers_is_not_implemented(device, op):
    # nanmedian(complex) raised RuntimeError from sort (torch NotImplementedError, as median)
    x, t = _pair([[1 + 1j, 2j], [3.0, 4.0]], "complex64", device)
    for args in ((), (0,)):
        with pytest.raises(NotImplementedError) as expected:
            getattr(torch, op)(t, *args)
        with pytest.raises(NotImplementedError, match=str(expected.value)):
            getattr(ember, op)(x, *args)


@pytest.mark.parametrize("name", ["prod", "max", "min", "median", "nanmedian"])
def test_keepdim_without_dim_is_torchs_type_error(name):
    # the overloads of these without dim take no keepdim: the result would drop the kept dims
    for module in (torch, ember):
        x = module.ones(2, 3)
        with pytest.raises(TypeError, match=name):
            getattr(x, name)(keepdim=True)
        with pytest.raises(TypeError, match=name):
            getattr(module, name)(x, keepdim=True)
