"""Differences found by running PyTorch's whole OpInfo database (all samples, more dtypes) against
ember: each case is the smallest call that showed it, run on ember and torch and compared (values,
shapes, dtypes, gradients and errors) on every test device.
"""

from __future__ import annotations

import numpy as np
import pytest
from opinfo_support import assert_same_as_torch, ember_copy, has_dtype

import ember

torch = pytest.importorskip("torch")


def _tol(dtype):
    return (1e-7, 1e-9) if dtype is ember.float64 else (2e-5, 1e-6)


@pytest.mark.parametrize("fn", ["cov", "corrcoef"])
@pytest.mark.parametrize("shape", [(1, 3), (3,), (2, 4)])
def test_cov_of_one_variable_is_0d(device, dtype, fn, shape):
    # ember gave (1, 1) for a (1, n) input; PyTorch squeezes the result always (0-d)
    x = torch.randn(shape, dtype=getattr(torch, dtype.name))
    expected = getattr(torch, fn)(x)
    assert_same_as_torch(getattr(ember, fn)(ember_copy(x, device)), expected, *_tol(dtype))


def test_gradient_spacing_and_dim_none(device, dtype):
    # ember raised TypeError for spacing=None (PyTorch reads it as 1) with dim=None
    x = torch.randn(5, 4, dtype=getattr(torch, dtype.name))
    for kwargs in ({"spacing": None, "dim": None}, {"spacing": None, "dim": 1}, {"spacing": None}):
        expected = torch.gradient(x, **kwargs)
        actual = ember.gradient(ember_copy(x, device), **kwargs)
        assert len(actual) == len(expected)
        for a, t in zip(actual, expected):
            assert_same_as_torch(a, t, *_tol(dtype))


def test_diff_n0_ignores_prepend_and_append(device, dtype):
    # ember returned the concatenation (8, 5); PyTorch returns the input unchanged
    x = torch.randn(5, 5, dtype=getattr(torch, dtype.name))
    p, a = torch.randn(1, 5, dtype=x.dtype), torch.randn(2, 5, dtype=x.dtype)
    expected = torch.diff(x, 0, 0, p, a)
    actual = ember.diff(ember_copy(x, device), 0, 0, ember_copy(p, device), ember_copy(a, device))
    assert_same_as_torch(actual, expected)
    with pytest.raises(RuntimeError, match="diff expects prepend or append to be the same dimension as input"):
        ember.diff(ember_copy(x, device), 0, 0, ember_copy(torch.randn(5, dtype=x.dtype), device))
    with pytest.raises(RuntimeError, match="diff expects prepend or append to be the same dimension as input"):
        torch.diff(x, 0, 0, torch.randn(5, dtype=x.dtype))


def test_take_along_dim_reads_indices_modulo_the_size(device, dtype):
    # ember raised "index -1 is out of bounds"; PyTorch (2.13) wraps the indices modulo the size
    x = torch.randn(3, 5, dtype=getattr(torch, dtype.name), requires_grad=True)
    idx = torch.tensor([[-1, 0, 4], [-5, -6, 7], [10, -11, 2]])
    expected = torch.take_along_dim(x, idx, 1)
    xe = ember_copy(x, device, requires_grad=True)
    actual = ember.take_along_dim(xe, ember_copy(idx, device), 1)
    assert_same_as_torch(actual, expected)
    g = torch.randn(expected.shape, dtype=x.dtype)
    (gt,) = torch.autograd.grad(expected, x, g)
    (ge,) = ember.autograd.grad(actual, xe, ember_copy(g, device))
    assert_same_as_torch(ge, gt, *_tol(dtype))
    expected = torch.take_along_dim(x, torch.tensor([[-1], [2]]), 0)  # broadcast in the other dims
    assert_same_as_torch(ember.take_along_dim(xe, ember_copy(torch.tensor([[-1], [2]]), device), 0), expected)


def test_native_group_norm_empty_batch(device, dtype):
    # ember raised "cannot reshape tensor of 0 elements into shape [0, 1, -1]"
    tdt = getattr(torch, dtype.name)
    x, w, b = torch.randn(0, 2, dtype=tdt), torch.randn(2, dtype=tdt), torch.randn(2, dtype=tdt)
    expected = torch.native_group_norm(x, w, b, 0, 2, 1, 1, 1e-5)
    actual = ember.native_group_norm(
        ember_copy(x, device), ember_copy(w, device), ember_copy(b, device), 0, 2, 1, 1, 1e-5
    )
    for a, t in zip(actual, expected):
        assert_same_as_torch(a, t)


@pytest.mark.parametrize("r", [3, 4])
def test_combinations_without_any_is_differentiable(device, dtype, r):
    # ember's empty (0, r) result had no grad_fn: backward through it raised
    x = torch.randn(2, dtype=getattr(torch, dtype.name), requires_grad=True)
    expected = torch.combinations(x, r=r)
    xe = ember_copy(x, device, requires_grad=True)
    actual = ember.combinations(xe, r=r)
    assert_same_as_torch(actual, expected)
    assert actual.requires_grad == expected.requires_grad
    (ge,) = ember.autograd.grad(actual.sum(), xe)
    assert_same_as_torch(ge, torch.autograd.grad(expected.sum(), x)[0])


def test_householder_product_without_reflectors_is_differentiable(device, dtype):
    # with an empty tau ember's result had no grad_fn (PyTorch's depends on A, a zero gradient)
    A = torch.randn(4, 3, dtype=getattr(torch, dtype.name), requires_grad=True)
    tau = torch.zeros(0, dtype=A.dtype)
    expected = torch.linalg.householder_product(A, tau)
    Ae = ember_copy(A, device, requires_grad=True)
    actual = ember.linalg.householder_product(Ae, ember_copy(tau, device))
    assert_same_as_torch(actual, expected)
    assert actual.requires_grad
    (ge,) = ember.autograd.grad(actual.sum(), Ae)
    assert_same_as_torch(ge, torch.zeros_like(A))


@pytest.mark.parametrize("driver", [None, "gelsy", "gelsd", "gels"])
def test_lstsq_empty_residuals_require_grad(device, dtype, driver):
    # ember's empty residuals did not require grad (PyTorch's do): backward through them raised
    A = torch.randn(3, 3, dtype=getattr(torch, dtype.name), requires_grad=True)
    B = torch.randn(3, 2, dtype=A.dtype)
    expected = torch.linalg.lstsq(A, B, driver=driver)
    Ae = ember_copy(A, device, requires_grad=True)
    actual = ember.linalg.lstsq(Ae, ember_copy(B, device), driver=driver)
    assert_same_as_torch(actual.residuals, expected.residuals)
    assert actual.residuals.requires_grad == expected.residuals.requires_grad
    (ge,) = ember.autograd.grad(actual.residuals.sum(), Ae, allow_unused=True)
    assert ge is None or not bool((ge != 0).any())


@pytest.mark.parametrize("cdtype", ["complex128", "complex64"])
@pytest.mark.parametrize("fn", ["linspace", "logspace"])
def test_linspace_complex_dtype_real_ends(device, cdtype, fn):
    # ember truncated real ends to integers for a complex dtype: linspace(4.3, -3, 5) began at 4
    if not has_dtype(device, cdtype):
        pytest.skip(f"{device} has no {cdtype}")
    for start, end, steps in [(4.3, -3, 50), (0.1, 7.7, 13), (-2.5, 3.25, 7)]:
        expected = getattr(torch, fn)(start, end, steps, dtype=getattr(torch, cdtype))
        actual = getattr(ember, fn)(start, end, steps, dtype=getattr(ember, cdtype), device=device)
        rtol = 1e-12 if cdtype == "complex128" else 2e-6
        assert_same_as_torch(actual, expected, rtol=rtol, atol=0)


@pytest.mark.parametrize("fn", ["trapezoid", "trapz", "cumulative_trapezoid"])
@pytest.mark.parametrize("int_dtype", ["uint8", "int32", "int64"])
def test_trapezoid_integers_wrap_as_pytorch(device, fn, int_dtype):
    # ember averaged in floating point: trapezoid(uint8 y, uint8 x) gave 2645.0 where PyTorch's
    # uint8 sums and products wrap (213.0)
    g = torch.Generator().manual_seed(0)
    tdt = getattr(torch, int_dtype)
    y = torch.randint(0, 120, (4, 6), generator=g).to(tdt)
    x = torch.randint(0, 250, (4, 6), generator=g).to(tdt)
    for args, kwargs in [((x,), {}), ((x[0],), {}), ((), {}), ((), {"dx": 3}), ((), {"dim": 0})]:
        expected = getattr(torch, fn)(y, *args, **kwargs)
        actual = getattr(ember, fn)(ember_copy(y, device), *(ember_copy(a, device) for a in args), **kwargs)
        assert_same_as_torch(actual, expected, rtol=1e-6, atol=0)


@pytest.mark.parametrize("fn", ["trapezoid", "cumulative_trapezoid"])
def test_trapezoid_floats(device, dtype, fn):
    x = torch.randn(3, 7, dtype=getattr(torch, dtype.name))
    t = torch.rand(7, dtype=x.dtype).cumsum(0)
    for args, kwargs in [((t,), {}), ((), {}), ((), {"dx": 0.25}), ((), {"dim": 0})]:
        expected = getattr(torch, fn)(x, *args, **kwargs)
        actual = getattr(ember, fn)(ember_copy(x, device), *(ember_copy(a, device) for a in args), **kwargs)
        assert_same_as_torch(actual, expected, *_tol(dtype))


@pytest.mark.parametrize(
    "x_dtype,a_dtype", [("float32", "float64"), ("float64", "float32"), ("int64", "float64"), ("float32", "float32")]
)
def test_cov_promotes_with_aweights(device, x_dtype, a_dtype):
    # ember returned the input's type; PyTorch promotes with aweights' (float32 x, float64 aweights: float64),
    # and sums the weights in their own type
    if "float64" in (x_dtype, a_dtype) and not ember.backends.get_backend(device).supports_float64:
        pytest.skip("no float64")
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(3, 6, generator=g) * 5).to(getattr(torch, x_dtype))
    aw = torch.rand(6, generator=g, dtype=getattr(torch, a_dtype))
    fw = torch.tensor([1, 2, 3, 1, 2, 1])
    for kwargs in ({"aweights": aw}, {"aweights": aw, "fweights": fw, "correction": 2}):
        expected = torch.cov(x, **kwargs)
        actual = ember.cov(
            ember_copy(x, device),
            **{k: ember_copy(v, device) if isinstance(v, torch.Tensor) else v for k, v in kwargs.items()},
        )
        assert_same_as_torch(actual, expected, rtol=1e-5 if "float32" in (x_dtype, a_dtype) else 1e-12, atol=1e-6)


def _has_bfloat16(device):
    return has_dtype(device, "bfloat16")


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_pool_bfloat16_pads_with_minus_infinity(device, nd):
    # ember padded bfloat16 planes with 0 (ml_dtypes' bfloat16 is not NumPy kind "f"): a window over
    # the padding of negative values gave 0.0, PyTorch -0.574
    if not _has_bfloat16(device):
        pytest.skip(f"{device} has no bfloat16")
    g = torch.Generator().manual_seed(0)
    x = -torch.rand((2, 3, 5, 6, 7)[: nd + 2], generator=g)
    fn = f"max_pool{nd}d"
    for kwargs in ({"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, {"kernel_size": 2, "padding": 1}):
        tv, ti = getattr(torch.nn.functional, fn)(x.bfloat16(), return_indices=True, **kwargs)
        ev, ei = getattr(ember.nn.functional, fn)(ember_copy(x.bfloat16(), device), return_indices=True, **kwargs)
        assert_same_as_torch(ev.float(), tv.float(), rtol=0, atol=0)
        assert_same_as_torch(ei, ti)


def test_adaptive_max_pool_bfloat16_nan_index(device):
    # with a NaN in a bin, PyTorch's index is the NaN's (ember's bfloat16 skipped the NaN rule)
    if not _has_bfloat16(device):
        pytest.skip(f"{device} has no bfloat16")
    x = torch.randn(1, 2, 5, 7, generator=torch.Generator().manual_seed(0))
    x[0, 0, 0, 0] = x[0, 0, 1, 2] = float("nan")  # two in one bin: the last wins, as in PyTorch
    tv, ti = torch.nn.functional.adaptive_max_pool2d(x.bfloat16(), (2, 3), return_indices=True)
    ev, ei = ember.nn.functional.adaptive_max_pool2d(ember_copy(x.bfloat16(), device), (2, 3), return_indices=True)
    np.testing.assert_array_equal(ev.float().cpu().numpy(), tv.float().numpy())
    assert_same_as_torch(ei, ti)


def _skip_without_complex(device, cdtype="complex64"):
    if not has_dtype(device, cdtype):
        pytest.skip(f"{device} has no {cdtype}")


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_transpose_complex(device, nd):
    # ember raised NotImplementedError "slow_conv_transpose2d_out_cpu" for complex; PyTorch computes it
    _skip_without_complex(device)
    g = torch.Generator().manual_seed(0)
    x = torch.randn((1, 3, 4, 5, 3)[: nd + 2], dtype=torch.complex64, generator=g, requires_grad=True)
    w = torch.randn((3, 2, 3, 2, 2)[: nd + 2], dtype=torch.complex64, generator=g, requires_grad=True)
    b = torch.randn(2, dtype=torch.complex64, generator=g)
    fn = f"conv_transpose{nd}d"
    expected = getattr(torch.nn.functional, fn)(x, w, b, stride=2, padding=1)
    xe, we = ember_copy(x, device, True), ember_copy(w, device, True)
    actual = getattr(ember.nn.functional, fn)(xe, we, ember_copy(b, device), stride=2, padding=1)
    assert_same_as_torch(actual, expected, rtol=1e-5, atol=1e-5)
    up = torch.randn(expected.shape, dtype=expected.dtype, generator=g)
    for ge, gt in zip(
        ember.autograd.grad(actual, [xe, we], ember_copy(up, device)), torch.autograd.grad(expected, [x, w], up)
    ):
        assert_same_as_torch(ge, gt, rtol=1e-5, atol=1e-5)


def test_unfold_complex(device):
    # ember raised NotImplementedError "im2col_out_cpu" for complex; PyTorch computes it
    _skip_without_complex(device)
    x = torch.randn(2, 3, 5, 4, dtype=torch.complex64, generator=torch.Generator().manual_seed(0))
    expected = torch.nn.functional.unfold(x, (2, 3), padding=1, stride=(1, 2))
    assert_same_as_torch(
        ember.nn.functional.unfold(ember_copy(x, device), (2, 3), padding=1, stride=(1, 2)), expected, rtol=0, atol=0
    )


@pytest.mark.parametrize(
    "name,call",
    [
        ("silu", lambda F, x: F.silu(x)),
        ("rms_norm", lambda F, x: F.rms_norm(x, (4,))),
        ("renorm", lambda F, x: (torch if F is torch.nn.functional else ember).renorm(x, 2, 0, 0.5)),
    ],
)
def test_complex_inputs_pytorch_accepts(device, name, call):
    # ember refused complex inputs PyTorch computes (NotImplementedError "silu_cpu" / "rms_norm" not
    # implemented for 'ComplexFloat', renorm's "expected a floating point input")
    _skip_without_complex(device)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, dtype=torch.complex64, generator=g, requires_grad=True)
    if name == "silu":  # PyTorch's complex silu has no gradient: its error, then the values
        message = "silu does not support automatic differentiation for outputs with complex dtype"
        with pytest.raises(RuntimeError, match=message):
            torch.nn.functional.silu(x)
        with pytest.raises(RuntimeError, match=message):
            ember.nn.functional.silu(ember_copy(x, device, True))
        assert_same_as_torch(
            ember.nn.functional.silu(ember_copy(x, device)), torch.nn.functional.silu(x.detach()), rtol=1e-5, atol=1e-6
        )
        return
    expected = call(torch.nn.functional, x)
    xe = ember_copy(x, device, True)
    actual = call(ember.nn.functional, xe)
    assert_same_as_torch(actual, expected, rtol=1e-5, atol=1e-6)
    up = torch.randn(expected.shape, dtype=expected.dtype, generator=g)
    (gt,) = torch.autograd.grad(expected, x, up)
    (ge,) = ember.autograd.grad(actual, xe, ember_copy(up, device))
    assert_same_as_torch(ge, gt, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("int_dtype", ["int32", "uint8", "bool"])
@pytest.mark.parametrize(
    "equation,shape", [("iji->j", (1, 3, 1)), ("ij->j", (1, 4)), ("ij->i", (3, 1)), ("ij->ji", (1, 4))]
)
def test_einsum_lone_operand_sums_size_one_dims(device, int_dtype, equation, shape):
    # a lone operand's summed dimension of size 1 was squeezed: ember kept int32 where PyTorch sums (int64)
    x = torch.randint(0, 5, shape, generator=torch.Generator().manual_seed(0)).to(getattr(torch, int_dtype))
    assert_same_as_torch(ember.einsum(equation, ember_copy(x, device)), torch.einsum(equation, x))
