"""The seventh CPU per-op round against PyTorch: the NumPy backend's ``erf`` (which ``F.gelu``, ``erf``,
``erfc`` and ``erfinv``'s Newton steps call) runs a compiled loop of the C library's ``erf`` instead of
:func:`math.erf` once per element through ``np.frompyfunc``. Its bits are the old ones (Python's
``math.erf``) with and without the compiled loops; values, dtypes, strides, gradients, nodes and errors of
the ops over it are PyTorch's."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from tests.against_torch import same_error

torch = pytest.importorskip("torch")

SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 5e-324, 0.5, -3.9, 6.0, 30.0]


def _values(shape, dtype, seed):
    """Normal values at several scales, with NaN, infinities, zeros of both signs and tiny ones mixed in."""
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.standard_normal(shape) * rng.choice([1e-3, 0.3, 1.0, 3.0], size=shape))
    flat = x.reshape(-1)
    if flat.size:
        picks = rng.integers(0, flat.size, size=max(1, flat.size // 5))
        flat[picks] = rng.choice(SPECIAL, size=picks.size)
    return x.astype(dtype)


def _math_erf(array):
    """The NumPy backend's former ``erf``: Python's :func:`math.erf` element by element."""
    return np.asarray(np.frompyfunc(math.erf, 1, 1)(array), dtype=array.dtype)


def _skip_float64(device, dtype):
    if dtype == "float64" and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")


@pytest.mark.parametrize("compiled", [True, False], ids=["loops", "no_loops"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("shape", [(), (0,), (1,), (8, 64), (3, 5, 7), (4096,)])
def test_numpy_erf_keeps_math_erf_bits(compiled, dtype, shape, monkeypatch):
    if not compiled:
        from ember.backends.numpy.loops import runtime

        monkeypatch.setattr(runtime, "enabled", False)
    backend = ember.backends.get_backend("cpu")
    x = _values(shape, dtype, len(shape))
    views = (x, x.T, x[..., ::2], x[::-1], np.moveaxis(x, 0, -1)) if x.ndim else (x,)
    for array in views:  # C-ordered, transposed, strided, reversed and permuted inputs
        got, want = backend.erf(array), _math_erf(array)
        assert isinstance(got, np.ndarray) and got.dtype == want.dtype and got.shape == want.shape
        assert got.strides == want.strides or not got.size  # (the steps of an empty array mean nothing)
        np.testing.assert_array_equal(got.view(f"u{got.itemsize}"), want.view(f"u{want.itemsize}"))


@pytest.mark.parametrize("dtype", ["int64", "bool", "complex64"])
def test_numpy_erf_of_other_kinds_unchanged(dtype):
    backend = ember.backends.get_backend("cpu")
    x = np.array([0, 1, 2, -3]).astype(dtype)
    if dtype == "complex64":  # math.erf takes no complex number
        with pytest.raises(TypeError):
            backend.erf(x)
        return
    np.testing.assert_array_equal(backend.erf(x), _math_erf(x))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "sliced"])
def test_erf_matches_torch(device, dtype, layout):
    _skip_float64(device, dtype)
    x = _values((6, 10), dtype, 3)
    ex, tx = ember.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    pick = {"contiguous": lambda t: t, "transposed": lambda t: t.t(), "sliced": lambda t: t[:, ::3]}[layout]
    got, want = ember.erf(pick(ex)), torch.erf(pick(tx))
    assert str(got.dtype) == str(want.dtype).replace("torch", "ember")
    assert got.shape == want.shape and got.stride() == want.stride()
    rtol = 1e-6 if dtype == "float32" else 1e-14
    np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().numpy(), rtol=rtol, atol=rtol)
    assert type(got.grad_fn).__name__ == type(want.grad_fn).__name__ == "ErfBackward0"
    g = np.random.default_rng(4).standard_normal(tuple(want.shape)).astype(dtype)
    got.backward(ember.tensor(g, device=device))
    want.backward(torch.tensor(g))
    np.testing.assert_allclose(ex.grad.cpu().numpy(), tx.grad.numpy(), rtol=rtol * 10, atol=rtol)


def test_erf_of_integers_matches_torch(device):
    x = np.array([[-3, -1, 0], [1, 2, 40]])
    got, want = ember.erf(ember.tensor(x, device=device)), torch.erf(torch.tensor(x))
    assert str(got.dtype) == str(want.dtype).replace("torch", "ember")
    np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-6)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(8, 64), (64, 64), (3,), ()])
def test_gelu_matches_torch(device, approximate, dtype, shape):
    _skip_float64(device, dtype)
    x = _values(shape, dtype, 7)
    x[np.isinf(x) | np.isnan(x)] = 0.25  # gradients of non-finite inputs are NaN in both; values checked below
    ex, tx = ember.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    got = ember.nn.functional.gelu(ex, approximate=approximate)
    want = torch.nn.functional.gelu(tx, approximate=approximate)
    assert str(got.dtype) == str(want.dtype).replace("torch", "ember")
    assert got.shape == want.shape and got.stride() == want.stride()
    rtol = 1e-6 if dtype == "float32" else 1e-14
    np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().numpy(), rtol=rtol, atol=rtol)
    assert type(got.grad_fn).__name__ == type(want.grad_fn).__name__ == "GeluBackward0"
    g = np.random.default_rng(8).standard_normal(shape).astype(dtype)
    got.backward(ember.tensor(g, device=device))
    want.backward(torch.tensor(g))
    if not ember.backends.get_backend(device).on_host:  # a device's tanh (PoCL's float32) is less exact
        rtol = 1e-3
    np.testing.assert_allclose(ex.grad.cpu().numpy(), tx.grad.numpy(), rtol=rtol * 10, atol=rtol * 10)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_of_special_values_matches_torch(device, approximate):
    if approximate == "tanh" and not ember.backends.get_backend(device).on_host:
        pytest.skip("a device's float32 tanh need not reach -1 exactly (PoCL's: gelu(-40) is -1.2e-06)")
    # (not +-inf: PyTorch's float32 kernel gives NaN for both where its float64 one gives inf and NaN)
    x = np.array([np.nan, 0.0, -0.0, 1e-30, -1e-30, -40.0, 40.0, 1e30, -1e30], dtype=np.float32)
    got = ember.nn.functional.gelu(ember.tensor(x, device=device), approximate=approximate).cpu().numpy()
    want = torch.nn.functional.gelu(torch.tensor(x), approximate=approximate).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-30)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def test_gelu_and_erf_errors_match_torch():
    x = np.ones((2, 3), dtype=np.float32)
    same_error(lambda T: T.nn.functional.gelu(T.tensor(x), approximate="erf"))
    same_error(lambda T: T.nn.functional.gelu(x))
    same_error(lambda T: T.erf(T.tensor(x), out=T.empty(2, 3, dtype=T.int64)))
    same_error(lambda T: T.erf("a"))


# batch_norm in evaluation: one NativeBatchNormBackward0 node over (input, weight, bias), computed on the
# native arrays in the order of the ops it was composed of before (so the same bits), laid out as PyTorch's

BN_LAYOUTS = {
    "contiguous": lambda T, shape: T.randn(*shape),
    "channels_last": lambda T, shape: T.randn(*shape).contiguous(memory_format=T.channels_last),
    "transposed": lambda T, shape: T.randn(*shape[:-2], shape[-1], shape[-2]).transpose(-1, -2),
    "sliced": lambda T, shape: T.randn(*shape[:-1], 2 * shape[-1])[..., ::2],
}


def _bn_operands(dtype, shape, layout, seed):
    """Ember's and PyTorch's (input, running_mean, running_var, weight, bias) of the same values."""
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = rng.standard_normal(shape).astype(dtype)
    stats = [rng.standard_normal(c), rng.random(c) + 0.1, rng.standard_normal(c), rng.standard_normal(c)]
    out = []
    for T in (ember, torch):
        t = BN_LAYOUTS[layout](T, shape) if len(shape) == 4 or layout in ("contiguous", "transposed") else None
        t = T.tensor(x) if t is None else t
        t = t.to(getattr(T, dtype))
        with T.no_grad():
            t.copy_(T.tensor(x))
        out.append((t, *(T.tensor(s.astype(dtype)) for s in stats)))
    return out


def _old_eval_batch_norm(x, mean, var, weight, bias, eps):
    """The composition ember's evaluation batch norm was made of (its bits are the reference)."""
    view = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - mean.reshape(view)) * (var + eps).rsqrt().reshape(view)
    if weight is not None:
        y = y * weight.reshape(view)
    return y if bias is None else y + bias.reshape(view)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(2, 3), (4, 3, 5), (2, 3, 4, 5), (1, 3, 1, 5), (2, 1, 3, 3), (2, 3, 2, 2, 2)])
@pytest.mark.parametrize("layout", list(BN_LAYOUTS))
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
def test_batch_norm_eval_matches_torch(device, dtype, shape, layout, affine):
    _skip_float64(device, dtype)
    (ex, em, ev, ew, eb), (tx, tm, tv, tw, tb) = _bn_operands(dtype, shape, layout, len(shape))
    ex, tx = ex.to(device), tx
    em, ev, ew, eb = (t.to(device) for t in (em, ev, ew, eb))
    keep_w, keep_b = affine in ("both", "weight"), affine in ("both", "bias")
    ew, tw = (ew, tw) if keep_w else (None, None)
    eb, tb = (eb, tb) if keep_b else (None, None)
    for t in (ex, ew, eb, tx, tw, tb):
        if t is not None:
            t.requires_grad_(True)
    got = ember.nn.functional.batch_norm(ex, em, ev, ew, eb, False, 0.1, 1e-3)
    want = torch.nn.functional.batch_norm(tx, tm, tv, tw, tb, False, 0.1, 1e-3)
    assert str(got.dtype) == str(want.dtype).replace("torch", "ember")
    assert got.shape == want.shape and got.stride() == want.stride()
    with ember.no_grad():
        old = _old_eval_batch_norm(ex, em, ev, ew, eb, 1e-3)
    np.testing.assert_array_equal(got.detach().cpu().numpy(), old.cpu().numpy())
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().numpy(), rtol=rtol, atol=rtol)
    assert type(got.grad_fn).__name__ == type(want.grad_fn).__name__ == "NativeBatchNormBackward0"
    # (PyTorch lists an absent weight or bias as (None, 0); ember leaves it out, as in all its nodes)
    nodes = [[type(n).__name__ for n, _ in y.grad_fn.next_functions if n is not None] for y in (got, want)]
    assert nodes[0] == nodes[1]
    g = np.random.default_rng(9).standard_normal(shape).astype(dtype)
    got.backward(ember.tensor(g, device=device))
    want.backward(torch.tensor(g))
    for e, t in ((ex, tx), (ew, tw), (eb, tb)):
        if t is not None:
            assert e.grad.shape == t.grad.shape and e.grad.stride() == t.grad.stride()
            np.testing.assert_allclose(e.grad.cpu().numpy(), t.grad.numpy(), rtol=rtol * 10, atol=rtol * 10)
    # the running statistics are read, not updated
    np.testing.assert_array_equal(em.cpu().numpy(), tm.numpy())
    np.testing.assert_array_equal(ev.cpu().numpy(), tv.numpy())


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_batch_norm_eval_of_16_bits_matches_torch(device, dtype):
    try:
        ember.backends.get_backend(device).native_dtype(getattr(ember, dtype))
    except TypeError:
        pytest.skip(f"{device} has no {dtype}")
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 4))
    stats = [
        np.array([0.1, -0.2, 0.3]),
        np.array([0.5, 1.5, 2.0]),
        np.array([1.0, 2.0, -1.0]),
        np.array([0.0, 1.0, 2.0]),
    ]
    outs = []
    for T in (ember, torch):
        kw = {"device": device} if T is ember else {}
        t = T.tensor(x, **kw).to(getattr(T, dtype)).requires_grad_(True)
        params = [T.tensor(s, dtype=T.float32, **kw) for s in stats]
        y = T.nn.functional.batch_norm(t, *params, False)
        y.float().sum().backward()
        outs.append((y, t.grad))
    (ey, eg), (ty, tg) = outs
    assert str(ey.dtype) == str(ty.dtype).replace("torch", "ember") and ey.stride() == ty.stride()
    np.testing.assert_allclose(ey.float().detach().cpu().numpy(), ty.float().detach().numpy(), rtol=1e-2, atol=1e-2)
    np.testing.assert_allclose(eg.float().cpu().numpy(), tg.float().numpy(), rtol=1e-2, atol=1e-2)


def test_batch_norm_eval_double_backward_matches_torch(device):
    grads = []
    for T in (ember, torch):
        kw = {"device": device} if T is ember else {}
        rng = np.random.default_rng(5)
        x = T.tensor(rng.standard_normal((3, 2, 4)), dtype=T.float32, requires_grad=True, **kw)
        w = T.tensor(rng.standard_normal(2), dtype=T.float32, requires_grad=True, **kw)
        b = T.tensor(rng.standard_normal(2), dtype=T.float32, requires_grad=True, **kw)
        m, v = T.tensor([0.5, -0.5], **kw), T.tensor([2.0, 0.5], **kw)
        y = T.nn.functional.batch_norm(x, m, v, w, b, False)
        gx, gw = T.autograd.grad((y * y).sum(), (x, w), create_graph=True)
        grads.append([t.detach() for t in T.autograd.grad((gx * gx).sum() + gw.sum(), (x, w, b), allow_unused=True)])
    for e, t in zip(*grads):
        assert (e is None) == (t is None)
        if t is not None:
            np.testing.assert_allclose(e.cpu().numpy(), t.numpy(), rtol=1e-5, atol=1e-5)


def test_batch_norm_eval_refuses_backward_through_a_modified_input(device):
    for T in (ember, torch):
        kw = {"device": device} if T is ember else {}
        x = T.ones(2, 3, 4, requires_grad=True, **kw).clone()
        w = T.ones(3, requires_grad=True, **kw)
        y = T.nn.functional.batch_norm(x, T.zeros(3, **kw), T.ones(3, **kw), w, None, False)
        with T.no_grad():
            x.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_batch_norm_eval_errors_match_torch():
    x = np.ones((2, 3, 4), dtype=np.float32)
    same_error(lambda T: T.nn.functional.batch_norm(T.tensor(x), T.zeros(3), None, training=False))
    same_error(lambda T: T.nn.functional.batch_norm(T.tensor(x), None, T.ones(3), training=False))
    same_error(lambda T: T.nn.functional.batch_norm(T.tensor(x), None, None, training=False))
    same_error(lambda T: T.nn.functional.batch_norm(T.tensor(x), T.zeros(3, requires_grad=True), T.ones(3)))


# max/min/median along a dimension with a graph: one node over the input (a gather and a squeeze were two)


@pytest.mark.parametrize("op", ["max", "min", "median"])
@pytest.mark.parametrize("shape, dim", [((8, 64), 1), ((8, 64), 0), ((2, 3, 5), -1), ((7,), 0), ((4, 1), 1)])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_selection_along_a_dim_graph_matches_torch(device, op, shape, dim, keepdim, layout):
    x = np.random.default_rng(len(shape)).integers(-3, 4, size=shape).astype(np.float32)  # ties
    results = []
    for T in (ember, torch):
        kw = {"device": device} if T is ember else {}
        leaf = T.tensor(x.T.copy() if layout == "transposed" else x, requires_grad=True, **kw)
        t = leaf.permute(*reversed(range(x.ndim))) if layout == "transposed" else leaf
        values, indices = getattr(t, op)(dim, keepdim)
        names = [type(values.grad_fn).__name__] + [type(n).__name__ for n, _ in values.grad_fn.next_functions]
        g = T.tensor(np.arange(values.numel(), dtype=np.float32).reshape(tuple(values.shape)), **kw)
        (grad,) = T.autograd.grad(values, leaf, g)
        results.append((values, indices, names, grad))
    (ev, ei, en, eg), (tv, ti, tn, tg) = results
    assert en == tn
    assert ev.shape == tv.shape and ev.stride() == tv.stride() and ei.stride() == ti.stride()
    np.testing.assert_array_equal(ev.detach().cpu().numpy(), tv.detach().numpy())
    np.testing.assert_array_equal(ei.cpu().numpy(), ti.numpy())
    assert eg.stride() == tg.stride()
    np.testing.assert_array_equal(eg.detach().cpu().numpy(), tg.detach().numpy())


def test_selection_along_a_dim_double_backward_matches_torch(device):
    x = np.random.default_rng(3).standard_normal((4, 6)).astype(np.float64 if device == "cpu" else np.float32)
    outs = []
    for T in (ember, torch):
        kw = {"device": device} if T is ember else {}
        leaf = T.tensor(x, requires_grad=True, **kw)
        values = (leaf * leaf).max(1).values
        (grad,) = T.autograd.grad(values.sum(), leaf, create_graph=True)
        (second,) = T.autograd.grad((grad * leaf).sum(), leaf)
        outs.append((grad.detach(), second))
    for e, t in zip(*outs):
        np.testing.assert_allclose(e.cpu().numpy(), t.numpy(), rtol=1e-6)


# numbers read without the numbers ABCs first (is_scalar, scalar_dtype), equal and 0-d shapes broadcast at
# once (broadcast_error), sigmoid's denominator formed once: the same dtypes, values and errors as PyTorch's

BOUNDS = [0, 1, -1.5, 2.5, True, False, 3]  # (NumPy scalars: see the report of this round)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "uint8"])
@pytest.mark.parametrize("bound", BOUNDS, ids=lambda b: f"{type(b).__name__}({b})")
def test_number_arguments_promote_as_torch(dtype, bound):
    x = np.array([[0, 1, 2], [3, 250, 7]]).astype(dtype)
    cases = [
        lambda T, t: t.clamp(min=bound),
        lambda T, t: t.clamp(max=bound),
        lambda T, t: T.clamp(t, bound, 200),
        lambda T, t: t + bound,
        lambda T, t: t * bound,
        lambda T, t: T.where(t > 1, t, bound),
        lambda T, t: t.masked_fill(t > 1, bound),
        lambda T, t: t.pow(bound) if not isinstance(bound, (bool, np.bool_)) else t,
        lambda T, t: t == bound,
    ]
    for case in cases:
        try:
            want = case(torch, torch.tensor(x))
        except Exception as error:  # noqa: BLE001 - its type and message are the reference
            same_error(lambda T: case(T, T.tensor(x)))  # noqa: B023
            assert error is not None
            continue
        got = case(ember, ember.tensor(x))
        assert str(got.dtype) == str(want.dtype).replace("torch", "ember")
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_number_argument_errors_match_torch():
    x = np.ones((2, 3), dtype=np.float32)
    same_error(lambda T: T.tensor(x).clamp(min=1j))
    same_error(lambda T: T.tensor(x).clamp(min=1e39))


@pytest.mark.parametrize(
    "shapes",
    [
        ((2, 3), (2, 3), (2, 3)),
        ((), (2, 3), ()),
        ((2, 1), (1, 3), ()),
        ((2, 3), (3, 2), (2, 3)),
        ((4, 3), (3,), (2, 3)),
    ],
)
def test_where_and_masked_fill_shapes_match_torch(device, shapes):
    c, a, b = shapes
    rng = np.random.default_rng(1)
    cond, xa, xb = (
        rng.random(c) < 0.5,
        rng.standard_normal(a).astype(np.float32),
        rng.standard_normal(b).astype(np.float32),
    )

    def on(T, value):
        return T.tensor(value, device=device) if T is ember else T.tensor(value)

    for fn in (
        lambda T: T.where(on(T, cond), on(T, xa), on(T, xb)),
        lambda T: on(T, xa).masked_fill(on(T, cond), 2.0),
        lambda T: on(T, xa) == on(T, xb),
        lambda T: on(T, xa) * on(T, xb),
    ):
        try:
            want = fn(torch)
        except Exception:  # noqa: BLE001 - compared by type and message
            same_error(lambda T: fn(T))  # noqa: B023
            continue
        got = fn(ember)
        assert got.shape == want.shape and got.stride() == want.stride()
        np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_and_silu_match_torch(device, dtype):
    _skip_float64(device, dtype)
    x = _values((8, 64), dtype, 11)
    x[np.isnan(x)] = 0.5
    ex, tx = ember.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    with ember.no_grad():  # the former formula's bits
        e = (-ex.abs()).exp()
        old = ember.where(ex >= 0, 1 / (1 + e), e / (1 + e))
    rtol = 1e-6 if dtype == "float32" else 1e-15
    for name in ("sigmoid", "silu"):
        got = getattr(ember.nn.functional, name)(ex)
        want = getattr(torch.nn.functional, name)(tx)
        if name == "sigmoid":
            np.testing.assert_array_equal(got.detach().cpu().numpy(), old.cpu().numpy())
        assert type(got.grad_fn).__name__ == type(want.grad_fn).__name__ and got.stride() == want.stride()
        np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().numpy(), rtol=rtol, atol=1e-30)
        (eg,), (tg,) = ember.autograd.grad(got.sum(), ex), torch.autograd.grad(want.sum(), tx)
        np.testing.assert_allclose(eg.cpu().numpy(), tg.numpy(), rtol=rtol * 10, atol=1e-30)


# conv2d reads the 16-bit flags (CONV_ROUNDED_ONCE, mkldnn.enabled) only for a 16-bit input


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("transposed", [False, True])
def test_conv2d_dtypes_match_torch(device, dtype, transposed):
    try:
        ember.backends.get_backend(device).native_dtype(getattr(ember, dtype))
    except TypeError:
        pytest.skip(f"{device} has no {dtype}")
    if transposed and dtype == "float16" and not ember.backends.get_backend(device).on_host:
        pytest.skip(f"{device} has no float16 transposed convolution")
    rng = np.random.default_rng(6)
    x, w, b = rng.standard_normal((1, 3, 8, 8)), rng.standard_normal((3, 4, 3, 3)), rng.standard_normal(4)
    outs = []
    for T in (ember, torch):
        kw = {"device": device} if T is ember else {}
        t = [T.tensor(a, **kw).to(getattr(T, dtype)) for a in (x, w, b)]
        if transposed:
            outs.append(T.nn.functional.conv_transpose2d(t[0], t[1], t[2], stride=2, padding=1))
        else:
            outs.append(T.nn.functional.conv2d(t[0], t[1].transpose(0, 1).contiguous(), t[2], padding=1))
    got, want = outs
    assert str(got.dtype) == str(want.dtype).replace("torch", "ember") and got.stride() == want.stride()
    tol = {"float32": 1e-5, "float64": 1e-12, "float16": 1e-2, "bfloat16": 5e-2}[dtype]
    np.testing.assert_allclose(got.float().cpu().numpy(), want.float().numpy(), rtol=tol, atol=tol)
