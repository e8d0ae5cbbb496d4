"""Dtype support as PyTorch's ``test_dtypes`` checks it over the OpInfo database: for each op and
dtype, PyTorch (CPU) either computes or refuses, and ember must do the same. Where PyTorch refuses,
ember raises the same exception type naming the kernel (or the op) and the dtype; where PyTorch
computes, ember computes with the same result dtype and values. Each case here is the smallest call
of an op where ember disagreed, run on every test device that holds the dtype.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from opinfo_support import ember_copy, need_dtypes

import ember

torch = pytest.importorskip("torch")


def _same_refusal(torch_call, ember_call, match=None):
    """Both raise, the same exception type, and ember's message is PyTorch's (``torch.``/``ember.``
    prefixes aside), or matches ``match`` where ember words it its own way."""
    with pytest.raises(Exception) as expected:
        torch_call()
    with pytest.raises(type(expected.value)) as actual:
        ember_call()
    assert type(actual.value) is type(expected.value), (actual.value, expected.value)
    if match is not None:
        assert re.search(match, str(actual.value)), (actual.value, match)
    else:
        plain = [re.sub(r"\b(torch|ember)\.", "", str(e.value)).strip() for e in (actual, expected)]
        assert plain[0] == plain[1], plain


def _same_values(actual, expected, rtol=1e-7, atol=1e-9):
    assert tuple(actual.shape) == tuple(expected.shape), (actual.shape, expected.shape)
    assert str(actual.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1], (actual.dtype, expected.dtype)
    a = actual.detach().cpu()
    a = a.float().numpy() if a.dtype in (ember.float16, ember.bfloat16) else a.numpy()
    e = expected.detach()
    e = e.float().numpy() if e.dtype in (torch.float16, torch.bfloat16) else e.numpy()
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)


# -- ops ember computed where PyTorch refuses (silent answers) ------------------------------------------
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("return_indices", [False, True])
@pytest.mark.parametrize("name", ["complex64", "complex128"])
def test_max_pool_refuses_complex(device, nd, return_indices, name):
    # ember returned the maxima of the complex values' ordering; PyTorch has no complex max_pool kernel
    need_dtypes(device, name)
    x = torch.randn(1, 2, *([4] * nd), dtype=getattr(torch, name))
    pool = f"max_pool{nd}d"
    _same_refusal(
        lambda: getattr(torch.nn.functional, pool)(x, 2, return_indices=return_indices),
        lambda: getattr(ember.nn.functional, pool)(ember_copy(x, device), 2, return_indices=return_indices),
    )


def test_unravel_index_refuses_complex(device):
    # ember cast complex indices to int64 and unravelled them; PyTorch asks for an integer dtype
    need_dtypes(device, "complex64")
    x = torch.tensor([4.0 + 0j, 5.0 + 0j], dtype=torch.complex64)
    _same_refusal(lambda: torch.unravel_index(x, (2, 3)), lambda: ember.unravel_index(ember_copy(x, device), (2, 3)))


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("name", ["bool", "complex64"])
@pytest.mark.parametrize("shape", [(3,), ()])
def test_index_reduce_of_a_vector_refuses_bool_and_complex(device, reduce, name, shape):
    # ember reduced into a 0-d or 1-D bool/complex tensor; PyTorch's kernel for them is compiled for real numbers
    need_dtypes(device, name)
    dt = getattr(torch, name)
    x = torch.ones(shape, dtype=dt)
    index = torch.tensor([0, 2] if shape else [0])
    source = torch.ones((2,) if shape else (), dtype=dt)
    _same_refusal(
        lambda: torch.index_reduce(x, 0, index, source, reduce),
        lambda: ember.index_reduce(
            ember_copy(x, device), 0, ember_copy(index, device), ember_copy(source, device), reduce
        ),
    )


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("name", ["bool", "complex64"])
def test_index_reduce_excluding_self_refuses_bool_and_complex(device, reduce, name):
    # ember reduced; PyTorch's kernel that first fills the named slices is compiled for real numbers only
    need_dtypes(device, name)
    dt = getattr(torch, name)
    x, source = torch.ones(3, 2, dtype=dt), torch.ones(2, 2, dtype=dt)
    index = torch.tensor([0, 2])
    _same_refusal(
        lambda: torch.index_reduce(x, 0, index, source, reduce, include_self=False),
        lambda: ember.index_reduce(
            ember_copy(x, device), 0, ember_copy(index, device), ember_copy(source, device), reduce, include_self=False
        ),
    )


@pytest.mark.parametrize("reduce", ["amax", "amin"])
def test_index_reduce_amax_of_complex_names_the_kernel(device, reduce):
    # ember named "max_values_cpu"; PyTorch's "maximum_cpu" (the same NotImplementedError)
    need_dtypes(device, "complex64")
    x, source = torch.ones(3, 2, dtype=torch.complex64), torch.ones(2, 2, dtype=torch.complex64)
    index = torch.tensor([0, 2])
    _same_refusal(
        lambda: torch.index_reduce(x, 0, index, source, reduce),
        lambda: ember.index_reduce(
            ember_copy(x, device), 0, ember_copy(index, device), ember_copy(source, device), reduce
        ),
    )


@pytest.mark.parametrize("reduce", ["amax", "amin"])
def test_scatter_reduce_amax_of_complex_names_the_kernel(device, reduce):
    need_dtypes(device, "complex64")
    x, src = torch.ones(3, 2, dtype=torch.complex64), torch.ones(1, 2, dtype=torch.complex64)
    index = torch.tensor([[0, 2]])
    _same_refusal(
        lambda: torch.scatter_reduce(x, 0, index, src, reduce),
        lambda: ember.scatter_reduce(
            ember_copy(x, device), 0, ember_copy(index, device), ember_copy(src, device), reduce
        ),
    )


@pytest.mark.parametrize("call", ["randint_like", "randint", "random_from_to", "random_to", "random_", "random_from"])
def test_random_integers_refuse_complex(device, call):
    # ember drew integers into complex tensors; PyTorch's bounds check knows no complex type
    need_dtypes(device, "complex64")

    def run(lib, dev):
        x = lib.ones(3, dtype=lib.complex64, **dev)
        return {
            "randint_like": lambda: lib.randint_like(x, 0, 2),
            "randint": lambda: lib.randint(0, 2, (3,), dtype=lib.complex64, **dev),
            "random_from_to": lambda: x.random_(0, 5),
            "random_to": lambda: x.random_(5),
            "random_": lambda: x.random_(),
            "random_from": lambda: x.random_(1, None),
        }[call]()

    _same_refusal(lambda: run(torch, {}), lambda: run(ember, {"device": device}))


@pytest.mark.parametrize("fn", ["histogram", "histogramdd"])
@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_histogram_refuses_half(device, fn, name):
    # ember counted float16/bfloat16 points; PyTorch's histogramdd kernel is float and double only
    need_dtypes(device, name)
    x = torch.rand(6, 2).to(getattr(torch, name))
    _same_refusal(lambda: getattr(torch, fn)(x, 3), lambda: getattr(ember, fn)(ember_copy(x, device), 3))


def test_histogramdd_of_a_vector_is_refused(device):
    # ember read a 1-D input as one 3-D point (a 3 x 3 x 3 histogram); PyTorch wants points in rows
    x = torch.rand(3)
    _same_refusal(lambda: torch.histogramdd(x, 3), lambda: ember.histogramdd(ember_copy(x, device), 3))


@pytest.mark.parametrize("name", ["complex64", "int64", "bool", "int8"])
def test_scaled_dot_product_attention_refuses_non_floating(device, name):
    # ember said "Expected query, key, and value to have the same dtype" of three tensors of one dtype
    need_dtypes(device, name)
    q = torch.ones(1, 2, 3, 4, dtype=getattr(torch, name))
    _same_refusal(
        lambda: torch.nn.functional.scaled_dot_product_attention(q, q, q),
        lambda: ember.nn.functional.scaled_dot_product_attention(
            ember_copy(q, device), ember_copy(q, device), ember_copy(q, device)
        ),
    )


def test_multi_head_attention_refuses_complex(device):
    # ember computed attention of complex scores; PyTorch has no complex softmax
    need_dtypes(device, "complex64")
    torch.manual_seed(0)
    x = torch.randn(3, 2, 2, dtype=torch.complex64)
    w, b = torch.randn(6, 2, dtype=torch.complex64), torch.randn(6, dtype=torch.complex64)
    ow, ob = torch.randn(2, 2, dtype=torch.complex64), torch.randn(2, dtype=torch.complex64)

    def run(lib, conv):
        return lib.nn.functional.multi_head_attention_forward(
            conv(x), conv(x), conv(x), 2, 1, conv(w), conv(b), None, None, False, 0.0, conv(ow), conv(ob),
            training=False,
        )  # fmt: skip

    _same_refusal(lambda: run(torch, lambda t: t), lambda: run(ember, lambda t: ember_copy(t, device)))


# -- ops ember refused where PyTorch computes ---------------------------------------------------------
@pytest.mark.parametrize("name", ["complex64", "complex128"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_mean_of_complex(device, name, include_self):
    # ember raised '"div_floor_cpu" not implemented for ComplexFloat': a complex mean divides truly
    need_dtypes(device, name)
    dt = getattr(torch, name)
    torch.manual_seed(0)
    x, src = torch.randn(3, 2, dtype=dt), torch.randn(4, 2, dtype=dt)
    index = torch.tensor([[0, 1], [0, 2], [2, 2], [0, 0]])
    expected = torch.scatter_reduce(x, 0, index, src, "mean", include_self=include_self)
    actual = ember.scatter_reduce(
        ember_copy(x, device), 0, ember_copy(index, device), ember_copy(src, device), "mean", include_self=include_self
    )
    _same_values(actual, expected, 1e-6, 1e-6)
    if include_self:  # (without: PyTorch's index_reduce has no complex kernel, see below)
        ix = torch.tensor([0, 2, 2, 0])
        expected = torch.index_reduce(x, 0, ix, src, "mean")
        actual = ember.index_reduce(ember_copy(x, device), 0, ember_copy(ix, device), ember_copy(src, device), "mean")
        _same_values(actual, expected, 1e-6, 1e-6)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_soft_margin_loss_of_complex(device, reduction):
    # ember raised "result type Float can't be cast to the desired output type ComplexFloat"
    need_dtypes(device, "complex128")
    x = torch.tensor([1 + 1j, 2 - 1j, -0.5 + 0.25j], dtype=torch.complex128)
    y = torch.tensor([1 + 0j, -1 + 0j, 1 + 0j], dtype=torch.complex128)
    expected = torch.nn.functional.soft_margin_loss(x, y, reduction=reduction)
    actual = ember.nn.functional.soft_margin_loss(ember_copy(x, device), ember_copy(y, device), reduction=reduction)
    _same_values(actual, expected)


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_matrix_exp_of_half(device, name):
    # ember raised "Low precision dtypes not supported"; PyTorch's CPU computes the 16-bit types (its own
    # 16-bit values are often inf/NaN, so ember's are compared with the float32 exponential rounded)
    need_dtypes(device, name)
    torch.manual_seed(0)
    a = torch.randn(2, 3, 3) * 0.3
    dt = getattr(torch, name)
    assert torch.linalg.matrix_exp(a.to(dt)).dtype == dt  # PyTorch computes (no error)
    expected = torch.linalg.matrix_exp(a.to(dt).float()).to(dt)
    for fn in (ember.linalg.matrix_exp, ember.matrix_exp):
        _same_values(fn(ember_copy(a.to(dt), device)), expected, 2e-2, 2e-2)


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, math.inf])
@pytest.mark.parametrize("name", ["complex64", "int64", "float32"])
def test_cond_of_empty_matrices(device, p, name):
    # ember gave complex64 zeros for an empty complex64 batch (PyTorch: float32) and refused empty int64
    need_dtypes(device, name)
    x = torch.zeros(2, 0, 0, dtype=getattr(torch, name))
    _same_values(ember.linalg.cond(ember_copy(x, device), p), torch.linalg.cond(x, p))


# -- the exception type PyTorch raises ---------------------------------------------------------------
_INTEGER_LINALG = {
    "linalg.lu_factor_ex": lambda lib, a: lib.linalg.lu_factor_ex(a),
    "linalg.lu_factor": lambda lib, a: lib.linalg.lu_factor(a),
    "linalg.lu": lambda lib, a: lib.linalg.lu(a),
    "cholesky": lambda lib, a: lib.cholesky(a),
    "cholesky_solve": lambda lib, a: lib.cholesky_solve(a, a),
    "cholesky_inverse": lambda lib, a: lib.cholesky_inverse(a),
    "linalg.householder_product": lambda lib, a: lib.linalg.householder_product(a, a[..., 0, :]),
}


@pytest.mark.parametrize("name", ["int64", "bool", "uint8"])
@pytest.mark.parametrize("op", list(_INTEGER_LINALG))
def test_linalg_kernels_refuse_integers_with_not_implemented(device, op, name):
    # ember raised RuntimeError "Expected a floating point or complex tensor"; these PyTorch ops reach their
    # kernel's dispatch, which raises NotImplementedError ('"lu_cpu" not implemented for 'Long'')
    x = torch.eye(3).to(getattr(torch, name))
    fn = _INTEGER_LINALG[op]
    _same_refusal(lambda: fn(torch, x), lambda: fn(ember, ember_copy(x, device)))


def test_polar_refuses_half_with_not_implemented(device):
    # ember raised TypeError (it has no complex32); PyTorch has no float16 polar kernel
    x = torch.ones(2, dtype=torch.float16)
    _same_refusal(lambda: torch.polar(x, x), lambda: ember.polar(ember_copy(x, device), ember_copy(x, device)))


#: PyTorch's words for the refused product (its C++ type names)
_LOWRANK_MESSAGES = {
    "bfloat16": "same dtype, but got: c10::BFloat16 != float",
    "int64": "same dtype, but got: long int != float",
}


@pytest.mark.parametrize("fn", ["svd_lowrank", "pca_lowrank"])
@pytest.mark.parametrize("name", ["bfloat16", "int64"])
def test_lowrank_draws_float32_for_other_types(device, fn, name):
    # ember drew the random matrix in bfloat16 and failed in QR ('"geqrf_cpu" not implemented'); PyTorch
    # draws float32 for anything but float16/32/64 and complex, and the product is refused
    need_dtypes(device, name)
    x = torch.ones(5, 4, dtype=getattr(torch, name))
    _same_refusal(
        lambda: getattr(torch, fn)(x, q=2),
        lambda: getattr(ember, fn)(ember_copy(x, device), q=2),
        # (pca_lowrank of integers: the column means refused first, in PyTorch's words)
        match=None if (fn, name) == ("pca_lowrank", "int64") else _LOWRANK_MESSAGES[name],
    )


#: (sampler, args, dtype) where PyTorch refuses: the integer and bool types, complex for the continuous ones that
#: refuse it; geometric_ only bool and complex (it counts into integers)
_SAMPLER_REFUSALS = [
    (sampler, args, name)
    for sampler, args in [
        ("normal_", ()), ("uniform_", ()), ("uniform_", (1.0, 0.0)), ("exponential_", ()), ("cauchy_", ()),
        ("log_normal_", ()), ("geometric_", (0.5,)),
    ]
    for name in ["int64", "uint8", "bool", "complex64"]
    if (name != "complex64" or sampler in ("exponential_", "cauchy_", "geometric_"))
    and (sampler != "geometric_" or name in ("bool", "complex64"))
]  # fmt: skip


@pytest.mark.parametrize("sampler, args, name", _SAMPLER_REFUSALS)
def test_samplers_refuse_as_pytorch(device, sampler, args, name):
    # geometric_ filled bool and complex tensors (PyTorch: '"geometric_cpu" not implemented for Bool'); the others
    # named ember's method ('"normal_" not implemented') where PyTorch names its kernel ("normal_kernel_cpu",
    # "check_uniform_bounds" before the bounds' check, "log_normal_cpu"), or raised NotImplementedError where
    # PyTorch's exponential_ and cauchy_ raise RuntimeError ("a continuous probability distribution")
    need_dtypes(device, name)
    _same_refusal(
        lambda: getattr(torch.ones(3, dtype=getattr(torch, name)), sampler)(*args),
        lambda: getattr(ember.ones(3, dtype=getattr(ember, name), device=device), sampler)(*args),
    )


@pytest.mark.parametrize("call", ["clamp_min", "clamp_max", "method_min", "method_max_"])
def test_clamp_with_a_tensor_bound_of_complex_names_the_kernel(device, call):
    # ember: "clamp is not supported for complex types"; PyTorch's clamp_min/clamp_max of a tensor bound run
    # maximum/minimum: '"maximum_cpu" not implemented for ComplexFloat'
    need_dtypes(device, "complex64")

    def run(lib, dev):
        x, bound = lib.ones(3, dtype=lib.complex64, **dev), lib.zeros(3, dtype=lib.complex64, **dev)
        return {
            "clamp_min": lambda: lib.clamp_min(x, bound),
            "clamp_max": lambda: lib.clamp_max(x, bound),
            "method_min": lambda: x.clamp_min(bound),
            "method_max_": lambda: x.clamp_max_(bound),
        }[call]()

    _same_refusal(lambda: run(torch, {}), lambda: run(ember, {"device": device}))


@pytest.mark.parametrize("call", ["aminmax", "aminmax_dim", "mode"])
def test_aminmax_and_mode_of_complex_name_their_kernels(device, call):
    # ember named amin's and amax's kernels ("min_values_cpu", "max_values_cpu"); PyTorch "aminmax_cpu", "mode_cpu"
    need_dtypes(device, "complex64")
    fns = {
        "aminmax": lambda L, x: L.aminmax(x),
        "aminmax_dim": lambda L, x: L.aminmax(x, dim=0),
        "mode": lambda L, x: L.mode(x),
    }
    x = torch.ones(3, 2, dtype=torch.complex64)
    _same_refusal(lambda: fns[call](torch, x), lambda: fns[call](ember, ember_copy(x, device)))


# -- from PyTorch's later samples (the second to fourth) ---------------------------------------------
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("name", ["int32", "int16", "int8", "uint8"])
def test_dilated_integer_convolution_is_refused(device, nd, name):
    # ember convolved; PyTorch's dilated CPU kernel (slow_conv_dilated) takes int64 but no other integer type
    x = torch.ones(1, 2, *([6] * nd), dtype=getattr(torch, name))
    w = torch.ones(2, 2, *([2] * nd), dtype=x.dtype)
    conv = f"conv{nd}d"
    _same_refusal(
        lambda: getattr(torch.nn.functional, conv)(x, w, dilation=2),
        lambda: getattr(ember.nn.functional, conv)(ember_copy(x, device), ember_copy(w, device), dilation=2),
    )
    # undilated, and int64 dilated, PyTorch computes: so does ember
    _same_values(
        getattr(ember.nn.functional, conv)(ember_copy(x, device), ember_copy(w, device)),
        getattr(torch.nn.functional, conv)(x, w),
    )
    x64, w64 = x.long(), w.long()
    expected = getattr(torch.nn.functional, conv)(x64, w64, dilation=2)
    _same_values(
        getattr(ember.nn.functional, conv)(ember_copy(x64, device), ember_copy(w64, device), dilation=2), expected
    )


@pytest.mark.parametrize("call", ["hardtanh", "hardtanh_", "hardtanh_neg_max", "inplace_swapped_limits", "module"])
def test_hardtanh_of_uint8_refuses_negative_limits(device, call):
    # ember clamped uint8 to [-1, 1] (wrapped); PyTorch: "cannot do hardtanh on an unsigned type with negative limits"
    def run(lib, dev):
        x = lib.arange(5, dtype=lib.uint8, **dev)
        return {
            "hardtanh": lambda: lib.nn.functional.hardtanh(x),
            "hardtanh_": lambda: lib.nn.functional.hardtanh_(x),
            "hardtanh_neg_max": lambda: lib.nn.functional.hardtanh(x, -2.0, -1.0),
            "inplace_swapped_limits": lambda: lib.nn.functional.hardtanh_(x, 0.0, -1.0),  # this check comes first
            "module": lambda: lib.nn.Hardtanh()(x),
        }[call]()

    _same_refusal(lambda: run(torch, {}), lambda: run(ember, {"device": device}))


@pytest.mark.parametrize("fn", ["trapezoid", "cumulative_trapezoid"])
@pytest.mark.parametrize("which", ["y", "y_with_x", "x", "y_with_dx"])
def test_trapezoid_refuses_bool(device, fn, which):
    # cumulative_trapezoid of a bool y (dx spacing) summed it; trapezoid named only `y` where x was given
    y, x = torch.ones(6), torch.arange(6.0)
    args = {
        "y": ((y.bool(),), {}),
        "y_with_x": ((y.bool(), x), {}),
        "x": ((y, x.bool()), {}),
        "y_with_dx": ((y.bool(),), {"dx": 2.0}),
    }[which]
    _same_refusal(
        lambda: getattr(torch, fn)(*args[0], **args[1]),
        lambda: getattr(ember, fn)(*(ember_copy(t, device) for t in args[0]), **args[1]),
    )


@pytest.mark.parametrize("fn", ["cummax", "cummin"])
@pytest.mark.parametrize("shape, dim", [((), 0), ((0,), 0), ((3, 0), 0), ((3, 0), 1)])
def test_cummax_of_complex_without_elements_to_compare(device, fn, shape, dim):
    # ember refused every complex input ('"cummax_cpu" not implemented'); PyTorch calls no kernel for a 0-d or
    # empty one and returns it with zero indices
    need_dtypes(device, "complex64")
    x = torch.full(shape, 1 + 2j, dtype=torch.complex64)
    expected = getattr(torch, fn)(x, dim)
    actual = getattr(ember, fn)(ember_copy(x, device), dim)
    _same_values(actual.values, expected.values)
    _same_values(actual.indices, expected.indices)


def test_hardtanh_of_uint8_reads_the_limits_truncated(device):
    # PyTorch reads the limits in the input's type: -0.99 and -0.5 truncate to 0, which it accepts
    for low, high in [(-0.99, 1.0), (-0.5, 0.5)]:
        x = torch.arange(5, dtype=torch.uint8)
        expected = torch.nn.functional.hardtanh(x, low, high)
        _same_values(ember.nn.functional.hardtanh(ember_copy(x, device), low, high), expected)


@pytest.mark.parametrize("call", ["fractional_max_pool2d", "fractional_max_pool3d", "mvlgamma_1", "mvlgamma_3"])
def test_complex_refusals_name_pytorchs_kernel(device, call):
    # ember named the kernel of a step PyTorch takes for complex: the samples' draw ("check_uniform_bounds",
    # PyTorch: its pooling kernel "fractional_max_pool2d_out_frame"), lgamma's (PyTorch: "arange_cpu")
    need_dtypes(device, "complex64")

    def run(lib, dev):
        if call.startswith("fractional"):
            nd = int(call[-2])
            x = lib.ones(1, 2, *([6] * nd), dtype=lib.complex64, **dev)
            return getattr(lib.nn.functional, call)(x, 2, output_size=3)
        return lib.mvlgamma(lib.full((3,), 2.0 + 0j, dtype=lib.complex64, **dev), int(call[-1]))

    _same_refusal(lambda: run(torch, {}), lambda: run(ember, {"device": device}))


@pytest.mark.parametrize("fn", ["amax", "amin", "argmax", "argmin", "softmax", "log_softmax", "iinfo"])
def test_masked_extrema_of_complex_raise_type_error(device, fn):
    # ember raised NotImplementedError ("identity of amax on ember.complex64 input") and ember.iinfo(complex64) a
    # ValueError ("Invalid integer data type 'c'"); PyTorch's identity asks iinfo, whose TypeError it raises
    need_dtypes(device, "complex64")

    def run(lib, dev):
        if fn == "iinfo":
            return lib.iinfo(lib.complex64)
        x = lib.ones(3, dtype=lib.complex64, **dev)
        return getattr(lib.masked, fn)(x, 0, mask=lib.tensor([True, False, True], **dev))

    _same_refusal(lambda: run(torch, {}), lambda: run(ember, {"device": device}))
