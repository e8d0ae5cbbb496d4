"""The sixth CPU per-op round against PyTorch: ``cummax``/``cummin`` find their indices through the
``cumulative_extremum_positions`` kernel, which NumPy computes with its accumulating ufuncs instead of one
slice at a time. Values, indices (the last of equal ones, the last NaN so far), dtypes, strides, gradients and
errors are PyTorch's; the NumPy kernel gives the portable kernel's positions over every dtype it takes."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.kernels.selection import SelectionKernels
from ember.ops._std_select import follows_cpu_kernels

torch = pytest.importorskip("torch")

DTYPES = ["float32", "float64", "float16", "int64", "int32", "uint8", "bool"]
SHAPES = [((7,), 0), ((4, 9), 1), ((4, 9), 0), ((2, 3, 5), 1), ((2, 3, 5), -1), ((1, 1), 1), ((3, 1, 2), 1)]


def _values(shape, dtype, seed):
    """Values with many ties, and for floating types NaN, infinities and zeros of both signs."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, size=shape).astype(np.float64)
    if dtype in ("float32", "float64", "float16"):
        flat = x.reshape(-1)
        picks = rng.integers(0, flat.size, size=max(1, flat.size // 6))
        flat[picks] = rng.choice([np.nan, np.inf, -np.inf, -0.0, 0.0], size=picks.size)
    elif dtype == "uint8":
        x = x + 3
    elif dtype == "bool":
        x = x > 0
    return x.astype(dtype)


@pytest.mark.parametrize("op", ["cummax", "cummin"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_cumulative_extremum_matches_torch(device, op, dtype):
    for seed, (shape, dim) in enumerate(SHAPES):
        x = _values(shape, dtype, seed)
        got = getattr(ember, op)(ember.tensor(x, device=device), dim)
        want = getattr(torch, op)(torch.tensor(x), dim)
        for g, w in zip(got, want):
            assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]
            assert tuple(g.shape) == tuple(w.shape) and g.stride() == w.stride()
            np.testing.assert_array_equal(g.cpu().numpy(), w.numpy(), err_msg=f"{op} {shape} dim {dim}")


@pytest.mark.parametrize("op", ["cummax", "cummin"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cumulative_extremum_gradients_match_torch(device, op, dtype):
    if dtype == "float64" and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    x = _values((3, 8), dtype, 5)
    g = np.random.default_rng(1).standard_normal((3, 8)).astype(dtype)
    ex = ember.tensor(x, device=device, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    ev, tv = getattr(ember, op)(ex, 1).values, getattr(torch, op)(tx, 1).values
    assert type(ev.grad_fn).__name__ == type(tv.grad_fn).__name__
    ev.backward(ember.tensor(g, device=device))
    tv.backward(torch.tensor(g))
    np.testing.assert_array_equal(ex.grad.cpu().numpy(), tx.grad.numpy())


@pytest.mark.parametrize("op", ["cummax", "cummin"])
def test_cumulative_extremum_edges_match_torch(device, op):
    for x in (np.float32(2.0), np.zeros((3, 0), np.float32), np.full((2, 5), np.nan, np.float32)):
        for dim in (0, -1) if np.ndim(x) else (0,):
            got = getattr(ember, op)(ember.tensor(x, device=device), dim)
            want = getattr(torch, op)(torch.tensor(x), dim)
            for g, w in zip(got, want):
                assert tuple(g.shape) == tuple(w.shape) and str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]
                np.testing.assert_array_equal(g.cpu().numpy(), w.numpy())


@pytest.mark.parametrize("op", ["cummax", "cummin"])
def test_cumulative_extremum_errors_match_torch(device, op):
    with pytest.raises(IndexError) as want:
        getattr(torch, op)(torch.zeros(2, 3), 2)
    with pytest.raises(IndexError) as got:
        getattr(ember, op)(ember.zeros(2, 3, device=device), 2)
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize("dtype", DTYPES + ["int16", "uint16"])
@pytest.mark.parametrize("largest", [True, False])
def test_numpy_kernel_gives_the_portable_positions(dtype, largest):
    kernels = ember.backends.get_backend("cpu").kernels
    for seed, (shape, dim) in enumerate(SHAPES + [((5, 40, 3), 1), ((64,), 0)]):
        x = _values(shape, dtype, seed)
        axis = dim % len(shape)
        for view in (x, np.flip(x, axis)):
            got = kernels.cumulative_extremum_positions(view, axis, largest)
            want = SelectionKernels.cumulative_extremum_positions(kernels, view, axis, largest)
            assert got.dtype == np.int64 and got.shape == view.shape and got.flags.c_contiguous
            np.testing.assert_array_equal(got, want, err_msg=f"{shape} axis {axis}")


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_arguments_match_torch(device, mode):
    """``pad``'s ints checked by type first: other integers (NumPy's, bool, a 0-d tensor) still pad as ints, and
    a float is refused with PyTorch's TypeError."""
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    for pad in ((1, 2, 0, 1), (np.int64(1), True, 2, 0), (1, 1, 1, 1)):
        got = ember.nn.functional.pad(ember.tensor(x, device=device), pad, mode=mode)
        want = torch.nn.functional.pad(torch.tensor(x), tuple(int(p) for p in pad), mode=mode)
        assert tuple(got.shape) == tuple(want.shape) and got.stride() == want.stride()
        np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())
    with pytest.raises(TypeError) as want:
        torch.nn.functional.pad(torch.tensor(x), (1, 1.5), mode=mode)
    with pytest.raises(TypeError) as got:
        ember.nn.functional.pad(ember.tensor(x, device=device), (1, 1.5), mode=mode)
    assert type(got.value) is type(want.value)
    assert "pad()" in str(got.value) and "ints" in str(got.value)


@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d"])
def test_pool_sizes_match_torch(device, op):
    """The pooling sizes read as ints first: an int, a tuple, a list and NumPy's ints give PyTorch's values,
    indices and gradients; a bool, a float and a tuple of the wrong length its errors."""
    x = np.random.default_rng(3).standard_normal((2, 3, 8, 8)).astype(np.float32)
    for kernel, stride in ((2, None), ((2, 3), (1, 2)), ([3], 2), (np.int64(2), (np.int32(2), 1))):
        ex = ember.tensor(x, device=device, requires_grad=True)
        tx = torch.tensor(x, requires_grad=True)
        got = getattr(ember.nn.functional, op)(ex, kernel, stride)
        want = getattr(torch.nn.functional, op)(tx, kernel, stride)
        assert type(got.grad_fn).__name__ == type(want.grad_fn).__name__
        np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().numpy(), rtol=1e-6)
        got.sum().backward()
        want.sum().backward()
        np.testing.assert_allclose(ex.grad.cpu().numpy(), tx.grad.numpy(), rtol=1e-6)
    if op == "max_pool2d":
        got = ember.nn.functional.max_pool2d(ember.tensor(x, device=device), 3, 2, 1, return_indices=True)
        want = torch.nn.functional.max_pool2d(torch.tensor(x), 3, 2, 1, return_indices=True)
        np.testing.assert_array_equal(got[1].cpu().numpy(), want[1].numpy())
    for kernel in (True, 2.0, (2, 2, 2)):
        with pytest.raises(Exception) as want:
            getattr(torch.nn.functional, op)(torch.tensor(x), kernel)
        with pytest.raises(Exception) as got:
            getattr(ember.nn.functional, op)(ember.tensor(x, device=device), kernel)
        assert type(got.value) is type(want.value) and op in str(got.value)


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "float16"])
def test_topk_of_small_inputs_matches_torch(device, dtype, largest):
    """Up to 1024 elements NumPy's ``stable_order_head`` sorts the whole rows: ``topk``'s values, indices (ties
    and NaN included), dtypes, strides and gradients stay PyTorch's."""
    for seed, (shape, k, dim) in enumerate(
        [((4, 64), 3, -1), ((64,), 1, 0), ((3, 300), 10, 1), ((5, 40, 2), 2, 1), ((1024,), 7, 0), ((2, 8), 8, 1)]
    ):
        x = _values(shape, dtype, seed)
        got = ember.topk(ember.tensor(x, device=device), k, dim, largest)
        want = torch.topk(torch.tensor(x), k, dim, largest)
        for g, w in zip(got, want):
            assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1] and g.stride() == w.stride()
        np.testing.assert_array_equal(got.values.cpu().numpy(), want.values.numpy(), err_msg=f"{shape} k {k}")
        if follows_cpu_kernels(got.values):  # PyTorch's CPU order among ties (an accelerator's is its own)
            np.testing.assert_array_equal(got.indices.cpu().numpy(), want.indices.numpy(), err_msg=f"{shape} k {k}")
        else:
            taken = np.take_along_axis(x, got.indices.cpu().numpy(), dim)
            np.testing.assert_array_equal(taken, want.values.numpy(), err_msg=f"{shape} k {k}")
    if dtype in ("float32", "float64"):  # distinct values: one gradient on every device
        x = np.random.default_rng(9).permutation(256).reshape(4, 64).astype(dtype)
        ex = ember.tensor(x, device=device, requires_grad=True)
        tx = torch.tensor(x, requires_grad=True)
        ev, tv = ember.topk(ex, 3, largest=largest).values, torch.topk(tx, 3, largest=largest).values
        assert type(ev.grad_fn).__name__ == type(tv.grad_fn).__name__
        ev.sum().backward()
        tv.sum().backward()
        np.testing.assert_array_equal(ex.grad.cpu().numpy(), tx.grad.numpy())
