"""OpenCL backend specifics: every primitive against NumPy (0-d, empty, broadcasting,
non-contiguous views), host round trips, device errors, Philox and GEMM."""

from __future__ import annotations

import gc
import io

import numpy as np
import pytest
from opencl_support import opencl_backend

import ember

BACKEND = opencl_backend()

import pyopencl as cl  # noqa: E402

from ember.backends.opencl import namespace as ns  # noqa: E402

xp = BACKEND.xp
RNG = np.random.default_rng(0)
FLOATS = ["float32"] + (["float64"] if BACKEND.supports_float64 else [])


def dev(a):
    return BACKEND.from_host(np.asarray(a), 0)


def host(a):
    return BACKEND.to_host(a)


def views(shape, dtype="float32"):
    """(numpy array, device array) pairs: contiguous, transposed, sliced with a step, flipped."""
    base = RNG.standard_normal(tuple(s * 2 for s in shape)).astype(dtype)
    d = dev(base)
    sl = tuple(slice(None, None, 2) for _ in shape)
    out = [(base[sl], d[sl])]
    if len(shape) >= 2:
        out.append((base[sl].swapaxes(0, 1), xp.permute_dims(d[sl], (1, 0) + tuple(range(2, len(shape))))))
    out.append((np.flip(base[sl], 0), xp.flip(d[sl], axis=0)))
    c = RNG.standard_normal(shape).astype(dtype)
    out.append((c, dev(c)))
    return out


def close(got, want, dtype="float32"):
    tol = 1e-5 if str(dtype) == "float32" else 1e-12
    got = host(got) if not isinstance(got, np.ndarray) else got
    assert got.shape == np.shape(want), (got.shape, np.shape(want))
    assert got.dtype == np.asarray(want).dtype, (got.dtype, np.asarray(want).dtype)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True)


def test_device_listing():
    assert BACKEND.device_count() >= 1
    name = BACKEND.device_name(0)
    assert ": " in name
    out = io.StringIO()
    from ember.__main__ import info

    info(out)
    assert f"opencl:0: {name}" in out.getvalue()


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(
    "name", ["exp", "expm1", "log1p", "sqrt", "sin", "cos", "tan", "atan", "sinh", "cosh", "tanh", "floor",
             "ceil", "round", "trunc", "negative", "abs", "sign", "isnan", "isinf", "isfinite", "logical_not"],
)  # fmt: skip
def test_unary(name, dtype):
    for a, d in views((3, 4), dtype):
        a = np.abs(a) if name in ("sqrt", "log1p") else a
        d = xp.abs(d) if name in ("sqrt", "log1p") else d
        close(getattr(xp, name)(d), getattr(np, name)(a), dtype)
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 2.5, -2.5], dtype=dtype)
    if name not in ("sqrt", "log1p"):
        with np.errstate(all="ignore"):
            close(getattr(xp, name)(dev(special)), getattr(np, name)(special), dtype)


def test_erf():
    import math

    a = np.linspace(-3, 3, 13)
    close(BACKEND.erf(dev(a.astype(FLOATS[-1]))), np.array([math.erf(v) for v in a], dtype=FLOATS[-1]), FLOATS[-1])


@pytest.mark.parametrize(
    "name", ["add", "subtract", "multiply", "divide", "floor_divide", "remainder", "pow", "maximum", "minimum",
             "atan2", "equal", "not_equal", "less", "less_equal", "greater", "greater_equal"],
)  # fmt: skip
@pytest.mark.parametrize("shapes", [((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (3,)), ((0, 3), (3,)), ((), ())])
def test_binary_broadcasting(name, shapes):
    a = RNG.standard_normal(shapes[0]).astype("float32")
    b = RNG.standard_normal(shapes[1]).astype("float32") + 2.0
    a = np.abs(a) if name == "pow" else a
    close(getattr(xp, name)(dev(a), dev(b)), getattr(np, name)(a, b))


@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "floor_divide", "remainder", "maximum", "less"])
def test_binary_integers_and_scalars(name):
    a = np.array([[-7, -3, 0, 5], [9, -1, 4, 2]], dtype=np.int64)
    b = np.array([2, -3, 5, 4], dtype=np.int64)
    close(getattr(xp, name)(dev(a), dev(b)), getattr(np, name)(a, b))
    close(getattr(xp, name)(dev(a.astype(np.int32)), 3), getattr(np, name)(a.astype(np.int32), 3))
    expected = getattr(np, name)(a.astype(np.int32), 2.5).dtype  # float64, float32 on devices without it
    expected = np.dtype("float32") if expected == np.float64 and not BACKEND.supports_float64 else expected
    assert getattr(xp, name)(dev(a.astype(np.int32)), 2.5).dtype == expected


def _operand_pairs(value):
    """(numpy, device) operand pairs of one layout each, filled from ``value``: contiguous,
    offset views of one buffer, strided, broadcast, 0-d, Python scalars of each type."""
    a = (RNG.standard_normal(12) * 4).astype(np.float32) + value
    b = (RNG.standard_normal((3, 1)) * 4).astype(np.float32) + value
    i = np.arange(-6, 6, dtype=np.int32) + int(value)
    da, db, di = dev(a), dev(b), dev(i)
    pairs = [
        ((a, a[::-1].copy()), (da, dev(a[::-1].copy()))),
        ((a[1:5], a[2:6]), (da[1:5], da[2:6])),  # same shape and strides, other offsets
        ((a[::3], a[1::3]), (da[::3], da[1::3])),
        ((a[:4], b), (da[:4], db)),  # broadcast to (3, 4)
        ((np.float32(value), a), (dev(np.float32(value)), da)),  # 0-d first operand
        ((a, value + 0.5), (da, value + 0.5)),
        ((a, int(value) + 2), (da, int(value) + 2)),
        ((a, bool(int(value) % 2)), (da, bool(int(value) % 2))),
        ((i, int(value) - 3), (di, int(value) - 3)),
        ((i, i[::-1].copy()), (di, dev(i[::-1].copy()))),
    ]
    if BACKEND.supports_float64:
        pairs.append(((i, value + 0.25), (di, value + 0.25)))  # weak float scalar: float64
    return pairs


@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "maximum", "less", "equal"])
def test_repeated_binary_calls_match_numpy(name):
    """The second and later calls of a layout repeat the first one's launch with new buffers
    and scalars: each call matches NumPy (array API promotion: Python scalars are weak)."""
    fn = getattr(xp, name)
    for value in (1.0, 2.0, 3.0):
        for (a, b), (da, db) in _operand_pairs(value):
            want = getattr(np, name)(a, b)
            close(fn(da, db), want, want.dtype)


@pytest.mark.parametrize("name", ["negative", "abs", "exp", "floor", "bitwise_invert", "logical_not", "isnan"])
def test_repeated_unary_calls_match_numpy(name):
    """As for binary functions: a layout's later calls repeat its first launch (float, integer
    and bool arrays; offset views of one buffer; strided)."""
    fn = (lambda d: ~d) if name == "bitwise_invert" else getattr(xp, name)
    for value in (1, 2, 3):
        f = (RNG.standard_normal(12) * 3).astype(np.float32) + value
        f[value] = np.nan
        i = np.arange(-6, 6, dtype=np.int32) * value
        b = i % 3 == 0
        for a in (f, i, b):
            if (
                name == "bitwise_invert"
                and a.dtype.kind == "f"
                or name in ("negative", "exp", "floor")
                and a.dtype == bool
            ):
                continue
            d = dev(a)
            for sl in (np.s_[:], np.s_[1:5], np.s_[2:6], np.s_[::3]):
                want = getattr(np, "invert" if name == "bitwise_invert" else name)(a[sl])
                if name == "exp" and a.dtype.kind == "i":  # promoted to the default float type
                    want = want.astype("float64" if BACKEND.supports_float64 else "float32")
                close(fn(d[sl]), want, want.dtype)


def test_repeated_binary_calls_keep_scalar_range_checks():
    d = dev(np.arange(4, dtype=np.int32))
    close(d + 3, np.arange(4, dtype=np.int32) + 3)  # the launch is cached
    with pytest.raises(OverflowError):
        d + 2**40  # noqa: B018 - as NumPy, the int32 scalar is out of range
    close(d + 5, np.arange(4, dtype=np.int32) + 5)


def test_operators_with_python_scalars():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    d = dev(a)
    close(2 - d * 3 + 1.5, 2 - a * 3 + 1.5)
    close(d / 2, a / 2)
    close(2**d, 2**a)
    close(-d, -a)
    close(d @ xp.permute_dims(d, (1, 0)), a @ a.T)
    close(d > 2, a > 2)
    m = dev(np.array([True, False]))
    close(~m, np.array([False, True]))
    d += 1
    close(d, a + 1)
    close(dev(np.array([5, 6])) // 4, np.array([1, 1]))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2), -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions(dtype, axis, keepdims):
    for a, d in views((3, 4, 5), dtype):
        for name in ("sum", "prod", "max", "min", "mean"):
            close(
                getattr(xp, name)(d, axis=axis, keepdims=keepdims),
                getattr(np, name)(a, axis=axis, keepdims=keepdims),
                dtype,
            )
        for name in ("any", "all"):
            m = a > 0
            close(
                getattr(xp, name)(d > 0, axis=axis, keepdims=keepdims),
                getattr(np, name)(m, axis=axis, keepdims=keepdims),
            )
        if not isinstance(axis, tuple):
            for name in ("argmax", "argmin"):
                close(
                    getattr(xp, name)(d, axis=axis, keepdims=keepdims),
                    getattr(np, name)(a, axis=axis, keepdims=keepdims),
                )


def test_repeated_reductions_match_numpy():
    """A reduction's launch is cached per input layout: later calls on new data of that layout
    (offset views of one buffer, a chunked long row, an empty result) match NumPy."""
    for _ in range(3):
        a = RNG.standard_normal((6, 700)).astype(np.float32)
        d = dev(a)
        for sl in (np.s_[1:4], np.s_[2:5], np.s_[::2]):
            close(xp.sum(d[sl], axis=1), a[sl].sum(axis=1))
            close(xp.max(d[sl]), np.max(a[sl]))
        close(xp.sum(d), np.sum(a, dtype=np.float64).astype(np.float32))  # 4,200 values: chunked
        close(xp.sum(d[:0], axis=1), np.zeros(0, np.float32))


def test_reduction_edge_cases():
    close(xp.sum(dev(np.zeros((0, 3), np.float32)), axis=0), np.zeros(3, np.float32))
    close(xp.sum(dev(np.zeros((0, 5000), np.float32)), axis=1), np.zeros(0, np.float32))  # long rows, none
    close(xp.prod(dev(np.zeros((0,), np.float32))), np.float32(1.0).reshape(()))
    close(xp.sum(dev(np.array([1, 2, 3], np.int32))), np.int64(6).reshape(()))
    close(xp.max(dev(np.array([1.0, np.nan, 3.0], np.float32))), np.array(np.nan, np.float32))
    close(xp.argmax(dev(np.array([1.0, np.nan, 3.0], np.float32))), np.array(1))
    close(xp.sum(dev(np.float32(2.5))), np.float32(2.5).reshape(()))
    with pytest.raises(ValueError):
        xp.max(dev(np.zeros((0,), np.float32)))


@pytest.mark.parametrize("include_initial", [False, True])
def test_cumulative_sum(include_initial):
    for a, d in views((3, 4)):
        for axis in (0, 1):
            want = np.cumsum(a, axis=axis)
            if include_initial:
                pad = [(0, 0), (0, 0)]
                pad[axis] = (1, 0)
                want = np.pad(want, pad)
            close(xp.cumulative_sum(d, axis=axis, include_initial=include_initial), want)
    close(xp.cumulative_sum(dev(np.array([True, False, True]))), np.array([1, 1, 2]))


@pytest.mark.parametrize("descending", [False, True])
def test_sort_argsort_stable_with_nan(descending):
    a = np.array([[3.0, 1.0, np.nan, 1.0, 2.0, 3.0, -1.0], [0.0, 0.0, 5.0, np.nan, -2.0, 0.0, 7.0]], np.float32)
    want = np.argsort(-a if descending else a, axis=1, kind="stable")
    if descending:  # NaN first, like torch
        want = np.array([np.concatenate([np.flatnonzero(np.isnan(r)), w[~np.isnan(r[w])]]) for r, w in zip(a, want)])
    close(xp.argsort(dev(a), axis=1, descending=descending), want)
    close(xp.sort(dev(a), axis=1, descending=descending), np.take_along_axis(a, want, axis=1))
    for b, d in views((5, 6)):
        close(xp.argsort(d, axis=0), np.argsort(b, axis=0, kind="stable"))
        close(xp.sort(d, axis=-1), np.sort(b, axis=-1))
    ints = RNG.integers(0, 4, 37)
    close(xp.argsort(dev(ints)), np.argsort(ints, kind="stable"))


def test_manipulation_and_views():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    d = dev(a)
    close(xp.reshape(d, (4, -1)), a.reshape(4, -1))
    close(xp.reshape(xp.permute_dims(d, (2, 0, 1)), (-1,)), a.transpose(2, 0, 1).reshape(-1))
    close(xp.broadcast_to(dev(a[:1]), (5, 3, 4)), np.broadcast_to(a[:1], (5, 3, 4)))
    close(xp.expand_dims(d, 1), a[:, None])
    close(xp.squeeze(xp.expand_dims(d, 1), 1), a)
    close(xp.flip(d, axis=(0, 2)), np.flip(a, (0, 2)))
    close(xp.flip(d), np.flip(a))
    close(xp.concat([d, d[:, :1]], axis=1), np.concatenate([a, a[:, :1]], axis=1))
    close(xp.concat([d, d], axis=None), np.concatenate([a.ravel(), a.ravel()]))
    close(xp.stack([d, d], axis=-1), np.stack([a, a], axis=-1))
    close(xp.take(d, dev(np.array([2, 0, -1])), axis=2), np.take(a, [2, 0, -1], axis=2))
    close(xp.take(d, dev(np.array([5, 0]))), np.take(a, [5, 0]))
    idx = RNG.integers(0, 4, (2, 3, 6))
    close(xp.take_along_axis(d, dev(idx), axis=2), np.take_along_axis(a, idx, axis=2))
    close(xp.astype(d, np.int32), a.astype(np.int32))
    close(xp.astype(d - 5, np.bool_), (a - 5).astype(bool))
    for got, want in zip(xp.nonzero(d > 20), np.nonzero(a > 20)):
        close(got, want)
    assert all(v.shape == (0,) for v in xp.nonzero(dev(np.zeros((2, 2), dtype=np.float32))))
    # a view shares storage: writing through it changes the base
    v = xp.permute_dims(d, (1, 0, 2))[1]
    v[...] = -1.0
    a.transpose(1, 0, 2)[1] = -1.0
    close(d, a)


def test_creation():
    close(xp.zeros((2, 3), dtype=np.float32), np.zeros((2, 3), np.float32))
    close(xp.ones((), dtype=np.int64), np.ones((), np.int64))
    close(xp.full((2,), 7, dtype=np.int32), np.full((2,), 7, np.int32))
    close(xp.arange(5), np.arange(5))
    close(xp.arange(1.0, 2.0, 0.25, dtype=np.float32), np.arange(1.0, 2.0, 0.25, dtype=np.float32))
    close(xp.eye(3, 4, k=-1, dtype=np.float32), np.eye(3, 4, k=-1, dtype=np.float32))
    close(xp.asarray([[1, 2]], dtype=np.float32), np.array([[1, 2]], np.float32))
    assert xp.empty((0, 4), dtype=np.float32).shape == (0, 4)


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int16", "int32", "int64", "float16", *FLOATS])
def test_full_of_every_dtype_matches_numpy(dtype):
    """A scalar fill is the driver's buffer fill of the value's bytes in the array's type."""
    values = [0, 1, True] + ([-3] if np.dtype(dtype).kind in "if" else []) + ([2.5, -0.0] if dtype[0] == "f" else [])
    for value in values:
        for shape in ((3, 2), (), (5,), (0, 4)):
            want = np.full(shape, value, dtype=dtype)
            got = host(xp.full(shape, value, dtype=dtype))
            assert got.dtype == want.dtype and got.tobytes() == want.tobytes(), (dtype, value, shape)
    assert host(xp.asarray(0, dtype=dtype)).shape == ()


def test_indexing():
    a = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    d = dev(a)
    i = np.array([2, 0, -1])
    for key in [
        (1,), (slice(None), 2), (Ellipsis, 1), (slice(1, None, 2), None, slice(None, None, 3)),
        (dev(i),), (slice(None), dev(i)), (1, slice(None), dev(i)), (dev(i), slice(None), dev(i)),
        (dev(np.array([[0], [2]])), dev(np.array([1, 3]))), (d > 30,), (slice(None), dev(a[0] > 7)), (None, dev(i)),
    ]:  # fmt: skip
        npkey = tuple(host(k) if isinstance(k, ns.CLArray) else k for k in key)
        close(d[key], a[npkey])
    with pytest.raises(IndexError):
        d[dev(np.array([3]))]
    b, e = a.copy(), dev(a)
    e[dev(i), 1] = 0.5
    b[i, 1] = 0.5
    e[e > 50] = -1.0
    b[b > 50] = -1.0
    e[0, :, 1:3] = dev(np.array([7.0, 8.0], np.float32))
    b[0, :, 1:3] = [7.0, 8.0]
    e[1, dev(np.array([0, 1]))] = dev(np.ones((2, 5), np.float32))
    b[1, [0, 1]] = 1.0
    close(e, b)


@pytest.mark.parametrize("dtype", FLOATS)
def test_scatter_add_accumulates_duplicates(dtype):
    target = np.zeros((4, 3), dtype)
    index = np.array([[0, 1, 0], [3, 1, 0], [0, 1, 0], [0, 0, 2]])
    values = RNG.standard_normal(index.shape).astype(dtype)
    d = dev(target)
    BACKEND.scatter_add(d, 0, dev(index), dev(values))
    np.add.at(target, (index, np.arange(3)[None, :]), values)
    close(d, target, dtype)
    flat = dev(np.zeros(5, dtype))
    big = RNG.integers(0, 5, 1000)
    vals = np.ones(1000, dtype)
    BACKEND.scatter_add(flat, 0, dev(big), dev(vals))
    close(flat, np.bincount(big, minlength=5).astype(dtype), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_matmul_batched_broadcast_and_views(dtype):
    a = RNG.standard_normal((2, 1, 17, 33)).astype(dtype)
    b = RNG.standard_normal((3, 33, 19)).astype(dtype)
    close(xp.matmul(dev(a), dev(b)), a @ b, dtype)
    m = RNG.standard_normal((40, 20)).astype(dtype)
    close(xp.matmul(xp.permute_dims(dev(m), (1, 0)), dev(m)), m.T @ m, dtype)
    v = RNG.standard_normal(20).astype(dtype)
    close(xp.matmul(dev(m), dev(v)), m @ v, dtype)
    close(xp.matmul(dev(v), xp.permute_dims(dev(m), (1, 0))), v @ m.T, dtype)
    close(xp.matmul(dev(np.zeros((2, 0), dtype)), dev(np.zeros((0, 3), dtype))), np.zeros((2, 3), dtype), dtype)
    ints = RNG.integers(-5, 5, (3, 4))
    close(xp.matmul(dev(ints), dev(ints.T.copy())), ints @ ints.T)


def test_gemm_whichever_kernel_is_chosen():
    # the own kernel or CLBlast (where installed and faster); tests/test_opencl_gemm.py checks each
    a = RNG.standard_normal((64, 48)).astype(np.float32)
    close(xp.matmul(dev(a), dev(a.T.copy())), a @ a.T)


def test_philox_independent_of_work_group_size():
    draws = []
    for local in (1, 7, 64):
        gen = BACKEND.create_generator(0, 1234)
        draws.append([host(gen._draw((1000,), np.float32, kind, local=local)) for kind in (0, 1)])
    for other in draws[1:]:
        for x, y in zip(draws[0], other):
            np.testing.assert_array_equal(x, y)
    u, n = draws[0]
    assert 0.0 <= u.min() and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.05
    assert abs(n.mean()) < 0.1 and abs(n.std() - 1) < 0.1
    gen = BACKEND.create_generator(0, 5)
    state = gen.get_state()
    first = host(gen.integers(-3, 4, (100,), np.int64))
    assert first.min() >= -3 and first.max() < 4
    gen.set_state(state)
    np.testing.assert_array_equal(host(gen.integers(-3, 4, (100,), np.int64)), first)


def test_round_trip_and_mixed_device_errors():
    a = RNG.standard_normal((3, 4)).astype(np.float32)
    for dtype in ["float32", "int64", "int32", "uint8", "bool"] + FLOATS[1:]:
        t = ember.tensor(a.astype(dtype))
        back = t.to("opencl:0").to("cpu")
        assert back.dtype == t.dtype
        np.testing.assert_array_equal(back.numpy(), t.numpy())
    x = ember.tensor(a).to("opencl:0")
    assert str(x.device) == "opencl:0"
    with pytest.raises(RuntimeError) as info:
        x + ember.tensor(a)
    assert "cpu" in str(info.value) and "opencl:0" in str(info.value)


def test_float64_policy():
    if BACKEND.supports_float64:
        close(dev(np.ones(2)) * 2, np.full(2, 2.0))
    else:
        with pytest.raises(TypeError):
            dev(np.ones(2))


def test_memory_stats():
    gc.collect()  # storage of earlier tests freed now, not while this test counts
    before = BACKEND.memory_allocated(0)
    keep = dev(np.zeros(1024, np.float32))
    assert BACKEND.memory_allocated(0) >= before + 4096
    del keep
    assert BACKEND.memory_allocated(0) <= before + 4096 - 4096 + 4096  # freed storage is uncounted
    BACKEND.synchronize(0)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_kernels(axis):
    for a, d in views((3, 4, 5)):
        e = np.exp(a - a.max(axis=axis, keepdims=True))
        close(BACKEND.kernels.softmax(d, axis), e / e.sum(axis=axis, keepdims=True))
        close(BACKEND.kernels.log_softmax(d, axis), np.log(e / e.sum(axis=axis, keepdims=True)))


@pytest.mark.parametrize("shape,axis", [((20000,), None), ((3, 9000), 1), ((9000, 3), 0)])
def test_chunked_long_reductions(shape, axis):
    a = RNG.random(shape).astype(FLOATS[-1])
    d = dev(a)
    for name in ("sum", "mean", "max", "min"):
        close(
            getattr(xp, name)(d, axis=axis), getattr(np, name)(a, axis=axis), FLOATS[-1] if name != "sum" else "float32"
        )
    close(xp.all(d > 0.0001, axis=axis), np.all(a > 0.0001, axis=axis))
    close(xp.argmin(d, axis=axis), np.argmin(a, axis=axis))


def test_float16_tensors_are_made_and_moved():
    for make, value in (
        (lambda: ember.zeros(2, dtype=ember.float16, device="opencl:0"), 0),
        (lambda: ember.tensor(np.zeros(2, np.float16)).to("opencl:0"), 0),
        (lambda: ember.ones(2, device="opencl:0").half(), 1),
    ):
        x = make()
        assert x.dtype is ember.float16 and x.device == ember.device("opencl:0")
        np.testing.assert_array_equal(x.cpu().numpy(), np.full(2, value, np.float16))


def test_one_program_per_family_and_fixed_work_group():
    device = ns.current()
    a = dev(RNG.standard_normal(300).astype(np.float32))
    xp.exp(a)
    programs = len(device._programs)
    for name in ("sin", "tanh", "sqrt", "negative", "floor"):
        getattr(xp, name)(a)
    assert len(device._programs) == programs  # the unary family of float32 was built with exp
    # sizes that are not multiples of the work-group size: padded work-items must not write
    for n in (1, 129, 300):
        x = RNG.standard_normal((3, n)).astype(np.float32)
        close(xp.sort(dev(x), axis=-1), np.sort(x, axis=-1))
        close(xp.argsort(dev(x), axis=-1), np.argsort(x, axis=-1, kind="stable"))


def test_host_data_is_copied_without_waiting_for_the_queue(monkeypatch):
    """from_host copies into a new buffer as the driver creates it: no copy is enqueued (PyOpenCL's
    host-to-device copies block until the queue has drained, a host sync per tensor)."""
    host_data = RNG.standard_normal((3, 5)).astype(np.float32)
    want = host_data.copy()

    def no_copy(*args, **kwargs):
        raise AssertionError("from_host enqueued a copy")

    monkeypatch.setattr(cl, "enqueue_copy", no_copy)
    d = dev(host_data)
    host_data[:] = 0  # the device array holds its own copy
    monkeypatch.undo()
    close(d, want)


def test_freed_buffers_are_reused_within_the_cache_limit(monkeypatch):
    device = BACKEND.devices[0]
    gc.collect()
    BACKEND.empty_cache(0)
    first = dev(np.arange(777, dtype=np.float32))
    buffer = first.buffer
    del first
    assert BACKEND.memory_reserved(0) == BACKEND.memory_allocated(0) + 777 * 4
    again = xp.full((777,), 1.0, dtype=np.float32)  # same size: the cached buffer, rewritten
    assert again.buffer is buffer and np.array_equal(host(again), np.ones(777, np.float32))
    del again
    BACKEND.empty_cache(0)
    assert BACKEND.memory_reserved(0) == BACKEND.memory_allocated(0)
    monkeypatch.setattr(device, "cache_limit", 100)
    dropped = dev(np.zeros(777, dtype=np.float32))
    del dropped
    assert device.cached == 0  # over the limit: released at once
