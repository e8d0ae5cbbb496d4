"""(a) Every primitive of :data:`ember.backend.PRIMITIVES` against NumPy, and the
:class:`ember.backend.Backend` methods a backend implements.

Both tiers: each primitive through the backend's namespace (the backend's own function, or
the portable composition where a derived one has none), and each :data:`ember.backend.DERIVED`
one also through its portable composition over the backend's own primitives, so that the
composition is proven on every backend, whether it overrides it or not."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from ember.backend import BACKEND_METHODS, DERIVED, PRIMITIVES, REQUIRED, build_namespace
from ember.primitives import overridden, with_compositions

from .primitives import CASES

_REFERENCE = build_namespace(np, "numpy-reference")
_TOLERANCE = {"float32": (2e-5, 2e-6), "float64": (1e-12, 1e-12), "float16": (2e-3, 2e-3)}


def _index(device):
    return ember.device(device).index or 0


def _flatten(value):
    if isinstance(value, (tuple, list)):
        return [v for item in value for v in _flatten(item)]
    return [value]


def _to_device(backend, index, value):
    if isinstance(value, np.ndarray):
        return backend.from_host(np.array(value, copy=True), index)
    if isinstance(value, str):
        return backend.native_dtype(getattr(ember, value))
    return value


def _to_reference(value):
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    if isinstance(value, str):
        return np.dtype(value)
    return value


def _compare(backend, got, expected, what):
    got, expected = _flatten(got), _flatten(expected)
    assert len(got) == len(expected), f"{what}: {len(got)} results, NumPy gives {len(expected)}"
    for i, (g, e) in enumerate(zip(got, expected)):
        e = np.asarray(e)
        h = backend.to_host(g)
        assert isinstance(h, (np.ndarray, np.generic)), f"{what}[{i}]: to_host returned {type(h).__name__}"
        h = np.asarray(h)
        assert tuple(h.shape) == e.shape, f"{what}[{i}]: shape {tuple(h.shape)}, NumPy gives {e.shape}"
        got_dtype = backend.ember_dtype(g.dtype).name
        assert got_dtype == e.dtype.name, f"{what}[{i}]: dtype {got_dtype}, NumPy gives {e.dtype.name}"
        if e.dtype.kind == "f":
            rtol, atol = _TOLERANCE.get(e.dtype.name, (0, 0))
            np.testing.assert_allclose(h, e, rtol=rtol, atol=atol, err_msg=f"{what}[{i}]")
        else:
            np.testing.assert_array_equal(h, e, err_msg=f"{what}[{i}]")


def test_namespace_has_every_primitive(ember_backend):
    missing = [name for name in PRIMITIVES if not callable(getattr(ember_backend.xp, name, None))]
    assert not missing, f"{ember_backend.name}: the array namespace lacks {missing}"


def _check(case, ember_device, ember_backend, xp):
    if case.float64 and not ember_backend.supports_float64:
        pytest.skip(f"{ember_device} has no float64")
    index = _index(ember_device)
    with ember_backend.device_context(index):
        got = case.fn(xp, *(_to_device(ember_backend, index, a) for a in case.args))
    expected = case.fn(_REFERENCE, *(_to_reference(a) for a in case.args))
    _compare(ember_backend, got, expected, case.name)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_primitive(case, ember_device, ember_backend):
    """Each primitive as the core calls it: the backend's own, or the portable composition."""
    _check(case, ember_device, ember_backend, ember_backend.xp)


_DERIVED_CASES = [c for c in CASES if c.primitive in DERIVED]


@pytest.mark.parametrize("case", _DERIVED_CASES, ids=[c.name for c in _DERIVED_CASES])
def test_derived_composition(case, ember_device, ember_backend):
    """Each derived primitive through its portable composition over the backend's primitives."""
    _check(case, ember_device, ember_backend, with_compositions(ember_backend.xp))


def test_every_primitive_has_a_case():
    covered = {c.primitive for c in CASES}
    assert not [p for p in PRIMITIVES if p not in covered]


def test_tiers_partition_the_primitives():
    assert len(set(PRIMITIVES)) == len(PRIMITIVES) == len(REQUIRED) + len(DERIVED)


def test_primitive_overrides(ember_backend, record_property):
    """Reports the derived primitives the backend implements itself (printed with ``-rP``)."""
    own = overridden(ember_backend.xp)
    record_property("overridden_primitives", own)
    print(
        f"{ember_backend.name} overrides {len(own)} of {len(DERIVED)} derived primitive(s): {', '.join(own) or 'none'}"
    )


# -- Backend methods -----------------------------------------------------------------------
def test_backend_methods_are_implemented(ember_backend):
    missing = [m for m in BACKEND_METHODS if not callable(getattr(ember_backend, m, None))]
    assert not missing
    assert ember_backend.device_count() >= 1
    assert isinstance(ember_backend.device_name(0), str)
    ember_backend.synchronize(0)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"])
@pytest.mark.parametrize("shape", [(2, 3), (), (0, 2)], ids=["2d", "0d", "empty"])
def test_host_round_trip(dtype, shape, ember_device, ember_backend):
    if dtype == "float64" and not ember_backend.supports_float64:
        pytest.skip(f"{ember_device} has no float64")
    try:
        native = ember_backend.native_dtype(getattr(ember, dtype))
    except TypeError:
        if dtype in ("float32", "int64", "bool"):
            raise
        pytest.skip(f"{ember_device} has no {dtype}")
    host = (np.arange(math.prod(shape)).reshape(shape) % 3).astype(dtype)
    array = ember_backend.from_host(host, _index(ember_device))
    assert array.dtype == native
    back = ember_backend.to_host(array)
    assert back.dtype == host.dtype and back.shape == host.shape
    np.testing.assert_array_equal(back, host)


@pytest.mark.parametrize(
    "shape, axis, index_shape",
    [((5,), 0, (7,)), ((3, 4), 0, (5, 4)), ((3, 4), 1, (3, 6)), ((2, 3, 2), 1, (2, 5, 2)), ((3,), 0, (0,))],
)
def test_scatter_add(shape, axis, index_shape, ember_device, ember_backend):
    rng = np.random.default_rng(3)
    dt = "float64" if ember_backend.supports_float64 else "float32"
    target = rng.standard_normal(shape).astype(dt)
    index = rng.integers(0, shape[axis], size=index_shape)  # repeated indices must accumulate
    values = rng.standard_normal(index_shape).astype(dt)
    expected = target.copy()
    grid = list(np.indices(index_shape, sparse=True))
    grid[axis] = index
    np.add.at(expected, tuple(grid), values)
    i = _index(ember_device)
    device_target = ember_backend.from_host(target, i)
    ember_backend.scatter_add(
        device_target, axis, ember_backend.from_host(index, i), ember_backend.from_host(values, i)
    )
    np.testing.assert_allclose(ember_backend.to_host(device_target), expected, rtol=1e-5, atol=1e-6)


def test_erf(ember_device, ember_backend):
    for dt in ("float32", "float64") if ember_backend.supports_float64 else ("float32",):
        x = np.array([[-3.0, -0.5, 0.0], [0.25, 1.0, 4.0]], dtype=dt)
        got = ember_backend.erf(ember_backend.from_host(x, _index(ember_device)))
        _compare(ember_backend, got, np.vectorize(math.erf)(x).astype(dt), f"erf {dt}")


def test_generator(ember_device, ember_backend):
    i = _index(ember_device)
    f32, i64 = ember_backend.native_dtype(ember.float32), ember_backend.native_dtype(ember.int64)
    gen = ember_backend.create_generator(i, 1234)
    u = ember_backend.to_host(gen.uniform((400,), f32))
    assert u.shape == (400,) and u.dtype == np.float32 and u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.1
    n = ember_backend.to_host(gen.normal((2, 400), f32))
    assert n.shape == (2, 400) and n.dtype == np.float32
    assert abs(n.mean()) < 0.15 and abs(n.std() - 1) < 0.15
    k = ember_backend.to_host(gen.integers(-2, 3, (300,), i64))
    assert k.dtype == np.int64 and set(np.unique(k)) == {-2, -1, 0, 1, 2}
    state = gen.get_state()
    first = ember_backend.to_host(gen.uniform((5,), f32))
    gen.set_state(state)
    np.testing.assert_array_equal(ember_backend.to_host(gen.uniform((5,), f32)), first)
    gen.manual_seed(7)
    again = ember_backend.to_host(gen.normal((5,), f32))
    gen.manual_seed(7)
    np.testing.assert_array_equal(ember_backend.to_host(gen.normal((5,), f32)), again)
    assert ember_backend.to_host(gen.uniform((0, 3), f32)).shape == (0, 3)


# -- (c) kernel overrides --------------------------------------------------------------------
def test_kernel_overrides(ember_backend, record_property):
    """Reports the kernels the backend overrides (printed with ``-rP``; in the JSON report)."""
    from ember.kernels import Kernels

    assert isinstance(ember_backend.kernels, Kernels), "backend.kernels must be an ember.kernels.Kernels instance"
    overridden = type(ember_backend.kernels).overridden()
    record_property("overridden", overridden)
    print(f"{ember_backend.name} overrides {len(overridden)} kernel(s): {', '.join(overridden) or 'none'}")
