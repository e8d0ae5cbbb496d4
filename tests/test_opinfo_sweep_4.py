"""Differences found by a run of PyTorch's whole OpInfo database against ember (the fourth batch): the order of
argument checks, the wording of errors, gradients at non-finite inputs and the strides of results. Each case is
the smallest call that showed it, run on ember and torch and compared on every test device.
"""

from __future__ import annotations

import re

import pytest
from opinfo_support import assert_same_as_torch, ember_copy, need_dtypes

import ember

torch = pytest.importorskip("torch")


def _error(lib, fn):
    with pytest.raises(Exception) as info:
        fn(lib)
    return info.value


def _same_error(fn, op=None):
    """``fn(ember)`` raises what ``fn(torch)`` raises: the same type and message (ember's message may start with
    ``"{op}: "``, where ember names the op that PyTorch's message leaves out)."""
    expected, actual = _error(torch, fn), _error(ember, fn)
    assert type(actual) is type(expected), (actual, expected)
    message = str(actual)
    if op is not None:
        message = re.sub(f"^{re.escape(op)}: ", "", message)
    assert message == str(expected), (message, str(expected))


# -- 1. the order of the checks ---------------------------------------------------------------
_POOL_CASES = [
    # an empty channel or spatial dim is checked after the padding (PyTorch computes the output size first)
    ((0, 1, 49), {"kernel_size": 2, "stride": 50, "padding": -1}),
    ((0, 1, 49), {"kernel_size": (3, 2), "stride": 50, "padding": 4}),
    ((1, 0, 5, 5), {"kernel_size": 2, "padding": -1}),
    ((1, 0, 5, 5), {"kernel_size": 2, "stride": 0}),
    ((1, 0, 5, 5), {"kernel_size": 0, "padding": -1}),
    # the padding before the signs of stride and dilation
    ((1, 1, 5, 5), {"kernel_size": 2, "stride": -1, "padding": -1}),
    ((1, 1, 5, 5), {"kernel_size": 2, "dilation": 0, "padding": -1}),
    ((1, 1, 5, 5), {"kernel_size": 0, "padding": -1}),
]


@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d", "max_pool3d", "avg_pool3d"])
@pytest.mark.parametrize(("shape", "kwargs"), _POOL_CASES)
def test_pooling_checks_padding_before_the_input(device, op, shape, kwargs):
    # ember checked the input's dims and empty dims first; PyTorch checks a zero stride and the padding first
    if op.endswith("3d"):
        shape = shape + (5,) if len(shape) != 3 else (0, 1, 49, 50)
        kwargs = {k: v + (2,) if isinstance(v, tuple) else v for k, v in kwargs.items()}

    def call(lib):
        x = lib.zeros(shape, device=device if lib is ember else "cpu")
        return getattr(lib.nn.functional, op)(x, **kwargs)

    _same_error(call, op)


_CONV_CASES = [
    # (input shape, weight shape, weight dtype, keyword arguments)
    ((1, 1, 4), (2, 2, 2), None, {"stride": -1}),  # the stride before the channels
    ((1, 1, 4), (2, 2, 2), None, {"padding": -1}),
    ((1, 1, 4), (2, 2, 2), None, {"dilation": -1}),
    ((1, 1, 4), (2, 2, 2), None, {"padding": "same", "stride": 2}),
    ((1, 2, 4), (2, 2, 2), "float32", {"stride": -1}),  # the stride before the dtypes
    ((1, 2, 4), (2, 2, 2), "float32", {"groups": 0}),  # groups first of all
    ((1, 2, 4), (2, 2, 2), None, {"stride": -1, "padding": -1}),  # the padding before the stride
    ((1, 2, 4), (2, 2, 2), None, {"dilation": -1, "padding": "same"}),
]


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize(("x_shape", "w_shape", "w_dtype", "kwargs"), _CONV_CASES)
def test_convolution_checks_groups_stride_and_padding_first(device, nd, x_shape, w_shape, w_dtype, kwargs):
    # ember checked the operands' dtypes and channels before the stride, padding and dilation
    op = f"conv{nd}d"
    x_shape, w_shape = x_shape + (4,) * (nd - 1), w_shape + (2,) * (nd - 1)

    def call(lib):
        place = {"device": device} if lib is ember else {}
        x = lib.zeros(x_shape, dtype=lib.float64, **place)
        w = lib.zeros(w_shape, dtype=getattr(lib, w_dtype or "float64"), **place)
        return getattr(lib.nn.functional, op)(x, w, **kwargs)

    _same_error(call, op)


# -- 2. the wording of errors -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "needs"),
    [
        (lambda L, d: L.amax(L.zeros(20, 20, device=d), 0, out=L.zeros(20, dtype=L.int32, device=d)), ()),
        (lambda L, d: L.amin(L.zeros(4, dtype=L.float64, device=d), 0, out=L.zeros((), device=d)), ()),
        (lambda L, d: L.complex(L.zeros(3, device=d), L.zeros(3, device=d), out=L.zeros(3, device=d)), ("complex64",)),
        (lambda L, d: L.polar(L.zeros(3, device=d), L.zeros(3, device=d), out=L.zeros(3, device=d)), ("complex64",)),
        (
            lambda L, d: L.complex(
                L.zeros(3, dtype=L.float64, device=d),
                L.zeros(3, dtype=L.float64, device=d),
                out=L.zeros(3, dtype=L.complex64, device=d),
            ),
            ("complex64", "complex128"),
        ),
        (lambda L, d: L.abs(L.zeros(3, device=d), out=L.zeros(3, dtype=L.int32, device=d)), ()),
        (lambda L, d: L.multinomial(L.ones(1, 2, device=d), 2, out=L.zeros(1, 2, device=d)), ()),
        (lambda L, d: L.multinomial(L.ones(1, 2, device=d), 2, out=L.zeros(1, 2, dtype=L.int32, device=d)), ()),
    ],
    ids=["amax", "amin", "complex", "polar", "complex128", "abs", "multinomial", "multinomial_int32"],
)
def test_out_of_another_dtype_in_torch_words(device, call, needs):
    # ember said "amax(): Expected out tensor to have dtype float, but got int instead" for each
    need_dtypes(device, *needs)
    _same_error(lambda lib: call(lib, device if lib is ember else "cpu"))


@pytest.mark.parametrize("op", ["linspace", "logspace"])
@pytest.mark.parametrize("ends", [(0, 3), "tensors"])
def test_float_steps_fit_no_overload(op, ends):
    # ember said "linspace(): argument 'steps' must be int, not float"; PyTorch lists its overloads
    def call(lib):
        start, end = (lib.tensor(0.0), lib.tensor(3.0)) if ends == "tensors" else ends
        return getattr(lib, op)(start, end, 1.0)

    _same_error(call)


@pytest.mark.parametrize(
    ("nd", "shape", "size"),
    [
        (1, (1, 1, 1), (-1,)),
        (1, (2, 3), -2),
        (2, (1, 1, 1, 1), (-1, 0)),
        (2, (1, 1, 1), (-1, 0)),
        (3, (1, 1, 1, 1, 1), (-1, 0, 2)),
        (3, (2, 3, 3, 3), (1, -2, 3)),
    ],
)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_adaptive_pooling_to_a_negative_size(device, nd, shape, size, kind):
    # ember said "adaptive_max_pool2d: elements of output_size must be ... received (-1, 0)"; PyTorch's max
    # kernels fail to allocate the result, its avg kernels print the size in braces (1-d as 2-d)
    def call(lib):
        x = lib.zeros(shape, device=device if lib is ember else "cpu")
        return getattr(lib.nn.functional, f"adaptive_{kind}_pool{nd}d")(x, size)

    _same_error(call)


@pytest.mark.parametrize("dim", [3, 4])
def test_narrow_copy_past_the_last_dim(device, dim):
    # ember said "narrow_copy(): Expected dim < 3 (the input's dimensions), but got dim=3"
    _same_error(lambda lib: lib.narrow_copy(lib.zeros(10, 5, 20, device=device if lib is ember else "cpu"), dim, 0, 0))


@pytest.mark.parametrize(("nd", "w_shape"), [(3, (1, 1, 4, 3)), (2, (1, 2, 2))])
def test_same_padding_with_a_weight_of_other_dims(device, nd, w_shape):
    # ember said "conv3d: expected weight to be 5-dimensional"; PyTorch's 'same' path checks the input against
    # the weight's dims
    def call(lib):
        place = {"device": device} if lib is ember else {}
        x = lib.zeros((1, 1, 3, 4, 5)[: nd + 2], dtype=lib.float64, **place)
        return getattr(lib.nn.functional, f"conv{nd}d")(
            x, lib.zeros(w_shape, dtype=lib.float64, **place), padding="same"
        )

    _same_error(call)


def test_errors_keep_values(device):
    # the reordered checks leave valid calls as they were
    x = torch.arange(2 * 3 * 6 * 6, dtype=torch.float64).reshape(2, 3, 6, 6)
    w = torch.ones(4, 3, 3, 3, dtype=torch.float64)
    xe, we = ember_copy(x, device), ember_copy(w, device)
    assert_same_as_torch(
        ember.nn.functional.conv2d(xe, we, padding="same"), torch.nn.functional.conv2d(x, w, padding="same")
    )
    assert_same_as_torch(ember.nn.functional.max_pool2d(xe, 3, 2, 1), torch.nn.functional.max_pool2d(x, 3, 2, 1))
    assert_same_as_torch(ember.nn.functional.avg_pool2d(xe[0], 2), torch.nn.functional.avg_pool2d(x[0], 2))


# -- 3. gradients and values at non-finite inputs ---------------------------------------------
_INF, _NAN = float("inf"), float("nan")


def _values_and_gradients(device, dtype, fn, *operands):
    """``fn`` of ``operands`` on ember and torch: the same values and the same gradients of their sum."""
    tdt = getattr(torch, dtype.name)
    ts = [torch.tensor(v, dtype=tdt, requires_grad=True) for v in operands]
    es = [ember_copy(t, device, requires_grad=True) for t in ts]
    expected, actual = fn(torch, *ts), fn(ember, *es)
    tol = (1e-7, 1e-9) if dtype is ember.float64 else (2e-5, 1e-6)
    assert_same_as_torch(actual, expected, *tol)
    for ge, gt in zip(ember.autograd.grad(actual.sum(), es), torch.autograd.grad(expected.sum(), ts)):
        assert_same_as_torch(ge, gt, *tol)


def test_copysign_gradient_at_infinite_and_nan_input(device, dtype):
    # ember's gradient was sign(input) (1 at inf, 0 at NaN); PyTorch's is result / input, 0 where input is 0
    a = [_INF, -_INF, _NAN, 1.0, 0.0, -0.0, 2.0]
    b = [1.0, -1.0, 1.0, -3.0, -1.0, 1.0, -0.0]
    _values_and_gradients(device, dtype, lambda L, x, y: L.copysign(x, y), a, b)


def test_nextafter_gradients_where_the_operands_are_equal(device, dtype):
    # ember gave other the gradient where input == other (its value is the result there); PyTorch gives other
    # zeros everywhere, input 0 there and 1 elsewhere
    a, b = [1.0, 2.0, 0.0, _INF, _NAN], [1.0, 3.0, 0.0, _INF, 1.0]
    _values_and_gradients(device, dtype, lambda L, x, y: L.nextafter(x, y), a, b)


def test_polar_gradient_of_a_negative_or_zero_abs(device, dtype):
    # ember's abs gradient was the radial one, cos + sin, at every abs; PyTorch's is Re(conj(g) sgn(z)): negated
    # at a negative abs, 0 at 0
    need_dtypes(device, "complex64" if dtype is ember.float32 else "complex128")

    def fn(L, r, theta):
        z = L.polar(r, theta)
        return z.real + 2 * z.imag

    _values_and_gradients(device, dtype, fn, [-1.0, 2.0, 0.0, -0.0, -3.0], [0.5, 0.5, 1.0, 1.0, -2.0])


def test_hypot_gradient_at_zero(device, dtype):
    # ember's gradient at hypot(0, 0) was 0; PyTorch's grad * input / result is 0 / 0, NaN
    _values_and_gradients(
        device, dtype, lambda L, x, y: L.hypot(x, y), [0.0, -0.0, 0.0, _INF, 3.0], [0.0, 0.0, -0.0, 1.0, -4.0]
    )


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_polygamma_at_infinity(device, dtype, n):
    # ember's polygamma(n >= 2, inf) was 0 (and so polygamma(n >= 1)'s gradient there); PyTorch's zeta multiplies
    # 0 by inf: NaN
    x = [_INF, -_INF, 1e20, 1e30, 1.0, 0.5, 3.0]
    _values_and_gradients(device, dtype, lambda L, t: L.polygamma(n, t), x)


def test_zeta_where_its_terms_underflow(device, dtype):
    # ember gave the true, tiny value (0 or 1e-300); PyTorch's Cephes zeta gives 0 where q^-x underflows, NaN
    # where its Euler-Maclaurin factors overflow too (x = 1e20)
    tdt = getattr(torch, dtype.name)
    x = torch.tensor([1e20, 1e20, 1e20, 2.0, 1e20, 1e13, 3e13, 50.0, 5.0], dtype=tdt)
    q = torch.tensor([2.0, 1.0, 0.5, 1e300, 1.5, 2.0, 2.0, 2.0, 1e30], dtype=tdt)
    assert_same_as_torch(
        ember.special.zeta(ember_copy(x, device), ember_copy(q, device)), torch.special.zeta(x, q), 1e-7, 0
    )


# -- 4. the strides of results ----------------------------------------------------------------
_FFT_1D = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
_FFT_ND = ["fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn"]
_FFT_2D = ["fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2"]
_FFT_CASES = (
    [(op, d) for op in _FFT_1D for d in (0, 1, 2)]
    + [(op, d) for op in _FFT_ND for d in ((0,), (1,), (0, 1), (1, 2), (2, 0), (0, 1, 2))]
    + [(op, d) for op in _FFT_2D for d in ((0, 1), (1, 2), (2, 0))]
)


@pytest.mark.parametrize(("op", "dim"), _FFT_CASES)
@pytest.mark.parametrize("perm", [(0, 1, 2), (0, 2, 1), (2, 0, 1)])
def test_fft_result_strides(device, dtype, op, dim, perm):
    # ember's transforms were row-major whatever the transformed dims; PyTorch's lay the other dims outermost
    # (by stride), then the transformed ones (ihfftn: the last dim's pass, then the others'; hfftn the reverse)
    need_dtypes(device, "complex64" if dtype is ember.float32 else "complex128")
    tdt = getattr(torch, dtype.name)
    real_input = op.startswith(("rfft", "ihfft"))
    x = torch.randn(4, 5, 6, dtype=tdt if real_input else tdt.to_complex())
    xe = ember_copy(x, device).permute(perm)
    x = x.permute(perm)
    assert xe.stride() == x.stride()
    expected = getattr(torch.fft, op)(x, dim=dim)
    actual = getattr(ember.fft, op)(xe, dim=dim)
    assert actual.stride() == expected.stride()
    tol = (1e-7, 1e-9) if tdt == torch.float64 else (1e-4, 1e-4)
    assert_same_as_torch(actual.resolve_conj(), expected.resolve_conj(), *tol)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (2, 5, 3), (0, 3), (3, 0), (2, 0, 3), (0, 2, 3), (2, 3, 0)])
@pytest.mark.parametrize("some", [True, False])
def test_svd_vectors_are_laid_out_as_lapack_leaves_them(device, dtype, shape, some):
    # ember's U and Vh were row-major, svd's V = Vh.mH then column-major; PyTorch's U and Vh are column-major
    # (LAPACK's), its V a transposed view that is row-major
    x = torch.randn(shape, dtype=getattr(torch, dtype.name))
    xe = ember_copy(x, device)
    for actual, expected in zip(ember.svd(xe, some=some), torch.svd(x, some=some)):
        assert (actual.stride(), actual.is_contiguous()) == (expected.stride(), expected.is_contiguous())
    for actual, expected in zip(ember.linalg.svd(xe, not some), torch.linalg.svd(x, not some)):
        assert (actual.stride(), actual.is_contiguous()) == (expected.stride(), expected.is_contiguous())


@pytest.mark.parametrize(("shape", "ind"), [((4, 6, 8, 3), 2), ((6, 2, 3), 1), ((2, 3, 6), 2)])
def test_tensorinv_and_inv_are_column_major(device, dtype, shape, ind):
    # ember's inverse was row-major; PyTorch's (LAPACK's getri) is column-major, and tensorinv a view of it
    x = torch.randn(shape, dtype=getattr(torch, dtype.name))
    expected, actual = torch.linalg.tensorinv(x, ind=ind), ember.linalg.tensorinv(ember_copy(x, device), ind=ind)
    assert actual.stride() == expected.stride()
    assert_same_as_torch(actual, expected, *((1e-7, 1e-9) if dtype is ember.float64 else (1e-3, 1e-4)))
    a = torch.randn(2, 4, 4, dtype=x.dtype) + 4 * torch.eye(4, dtype=x.dtype)
    for t_inv, e_inv in [(torch.linalg.inv(a), ember.linalg.inv(ember_copy(a, device)))]:
        assert e_inv.stride() == t_inv.stride()


@pytest.mark.parametrize(("indices", "shape"), [([[1, 2, 3], [4, 5, 6]], (4, 5)), (7, (4, 5)), ([3, 9], (2, 2, 3))])
def test_unravel_index_returns_views_of_one_tensor(device, indices, shape):
    # ember's coordinates were separate row-major tensors; PyTorch's are unbind(-1) views of one stacked tensor
    expected = torch.unravel_index(torch.tensor(indices), shape)
    actual = ember.unravel_index(ember.tensor(indices, device=device), shape)
    for a, e in zip(actual, expected):
        assert a.stride() == e.stride()
        assert a.tolist() == e.tolist()


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (2, 0, 4), (2, 0, 3, 5, 0, 1)])
@pytest.mark.parametrize("transposed", [False, True])
def test_conj_of_an_empty_tensor_keeps_its_strides(device, shape, transposed):
    # ember's eager conjugate of an empty, transposed complex tensor was row-major; PyTorch's is a view
    need_dtypes(device, "complex128")
    x = torch.zeros(shape, dtype=torch.complex128)
    xe = ember_copy(x, device)
    if transposed:
        x, xe = x.transpose(0, -1), xe.transpose(0, -1)
    assert xe.stride() == x.stride()
    for fn in (lambda t: t.conj(), lambda t: t.conj_physical(), lambda t: t.real, lambda t: t.positive()):
        assert fn(xe).stride() == fn(x).stride()
