"""The CuPy backend's fused kernels (``backends/cupy/cu/*.cu``) against the portable kernels, without a GPU.

The .cu files are compiled with g++ against ``tests/cuda_emulation/cuda_emu.h`` (threads and
a barrier stand in for a block), and the CuPy backend's kernel table runs on NumPy arrays
with its launches sent to that library: the C++ and the Python glue (shapes, argument
order, fallbacks) are checked together. Skips without g++ (C++20).
"""

import ctypes
import re
import shutil
import subprocess
import types
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

import ember

pytest.importorskip("cupy")
K = pytest.importorskip("ember.backends.cupy.kernels")

HERE = Path(__file__).parent / "cuda_emulation"
SIGNATURE = re.compile(r'(template <typename T>\s*)?(?:extern "C" )?__global__ void (\w+)\(([^)]*)\)')
C_TYPES = {"f": "float", "d": "double"}
SUFFIX = {"float32": "f", "float64": "d"}


def _exports(source):
    """One ``k_<kernel>[_f|_d](grid x, grid y, block x, args...)`` launcher per kernel instantiation."""
    for template, name, params in SIGNATURE.findall(source):
        params = " ".join(params.split())
        names = ", ".join(p.split()[-1].lstrip("*") for p in params.split(","))
        for suffix, c_type in C_TYPES.items() if template else [("", None)]:
            typed = re.sub(r"\bT\b", c_type, params) if c_type else params
            kernel = f"{name}<{c_type}>" if c_type else name
            symbol = f"k_{name}_{suffix}" if c_type else f"k_{name}"
            yield (
                f'extern "C" void {symbol}(unsigned grid_x_, unsigned grid_y_, unsigned block_x_, {typed}) '
                f"{{ launch(grid_x_, grid_y_, block_x_, [=] {{ {kernel}({names}); }}); }}"
            )


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    if shutil.which("g++") is None:
        pytest.skip("g++ is not installed")
    cu = resources.files("ember.backends.cupy").joinpath("cu")
    sources = [
        cu.joinpath(p.name).read_text() for p in sorted(cu.iterdir(), key=lambda p: p.name) if p.name.endswith(".cu")
    ]
    code = [f'#include "{HERE / "cuda_emu.h"}"', cu.joinpath("common.cuh").read_text(), *sources]
    code += [line for source in sources for line in _exports(source)]
    folder = tmp_path_factory.mktemp("cuda_emulation")
    (folder / "kernels.cpp").write_text("\n".join(code))
    built = subprocess.run(
        ["g++", "-std=c++20", "-O1", "-shared", "-fPIC", "-pthread", "-o", "kernels.so", "kernels.cpp"],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    if built.returncode:
        pytest.skip(f"g++ cannot build the emulation: {built.stderr[-500:]}")
    return ctypes.CDLL(str(folder / "kernels.so"))


def _argument(value):
    if isinstance(value, np.ndarray):
        return ctypes.c_void_p(value.ctypes.data)
    kind = {
        np.int64: ctypes.c_longlong,
        np.int32: ctypes.c_int,
        np.float64: ctypes.c_double,
        np.float32: ctypes.c_float,
    }
    return kind[type(value)](value.item())


@pytest.fixture()
def kernels(library, monkeypatch):
    """The CuPy kernel table over NumPy arrays, its launches run by the emulation."""

    def function(file, name, dtype=None):
        launcher = getattr(library, f"k_{name}_{SUFFIX[dtype.name]}" if dtype else f"k_{name}")

        def launch(grid, block, args):
            # 1-d grids are grid-stride loops: 4 blocks suffice; 2-d grids (channel partials) stay whole
            gx, gy = (min(grid[0], 4), 1) if len(grid) == 1 else grid
            launcher(ctypes.c_uint(gx), ctypes.c_uint(gy), ctypes.c_uint(block[0]), *map(_argument, args))

        return launch

    fake_cupy = types.SimpleNamespace(
        ascontiguousarray=lambda a, dtype=None: np.ascontiguousarray(a, dtype=dtype),
        empty=np.empty,
        empty_like=np.empty_like,
        float64=np.float64,
        int64=np.int64,
    )
    monkeypatch.setattr(K, "cupy", fake_cupy)
    monkeypatch.setattr(K, "function", function)
    return K.CupyKernels(ember.backends.get_backend("cpu"))


def _same(ours, reference, tol):
    if isinstance(reference, tuple):
        assert len(ours) == len(reference)
        for a, b in zip(ours, reference):
            _same(a, b, tol)
        return
    assert ours.shape == reference.shape and ours.dtype == reference.dtype
    np.testing.assert_allclose(ours, reference, rtol=tol, atol=tol)


TOL = {"float32": 1e-4, "float64": 1e-10}


@pytest.fixture(params=["float32", "float64"])
def dt(request):
    return np.dtype(request.param)


def test_softmax_family(kernels, dt):
    rng, ref = np.random.default_rng(0), ember.backends.get_backend("cpu").kernels
    for shape in ((6, 11), (3, 600), (2, 3, 5), (4, 1)):
        x = (rng.standard_normal(shape) * 4).astype(dt)
        for name in ("softmax", "log_softmax"):
            for axis in (-1, x.ndim - 1, 0):  # axis 0: the portable fallback
                y = getattr(ref, name)(x, axis)
                _same(getattr(kernels, name)(x, axis), y, TOL[dt.name])
                g = rng.standard_normal(shape).astype(dt)
                _same(
                    getattr(kernels, name + "_backward")(g, y, axis),
                    getattr(ref, name + "_backward")(g, y, axis),
                    TOL[dt.name],
                )


def test_nll_loss(kernels, dt):
    rng, ref = np.random.default_rng(1), ember.backends.get_backend("cpu").kernels
    x = rng.standard_normal((7, 9)).astype(dt)
    target = rng.integers(0, 9, 7)
    target[2] = -100
    for weight in (None, rng.random(9).astype(dt)):
        _same(kernels.nll_loss(x, target, weight, -100), ref.nll_loss(x, target, weight, -100), TOL[dt.name])
        for coeff in (np.asarray(0.3, dt), rng.standard_normal(7).astype(dt)):  # 'mean'/'sum' and 'none'
            ours = kernels.nll_loss_backward(coeff, target, weight, -100, 9)
            _same(ours, ref.nll_loss_backward(coeff, target, weight, -100, 9), TOL[dt.name])


@pytest.mark.parametrize(
    "shape, axes",
    [((4, 3, 5, 6), (0, 2, 3)), ((8, 5), (0,)), ((3, 2, 70), (0, 2)), ((6, 1, 9), (0, 2)), ((4, 3, 5, 6), (1, 2, 3))],
)
def test_batch_norm_statistics_and_backward(kernels, dt, shape, axes):
    rng, ref = np.random.default_rng(2), ember.backends.get_backend("cpu").kernels
    x = (rng.standard_normal(shape) * 3 + 2).astype(dt)
    expected = ref.normalize_forward(x, axes, 1e-5)
    _same(kernels.normalize_forward(x, axes, 1e-5), expected, TOL[dt.name])
    g = rng.standard_normal(shape).astype(dt)
    xhat, invstd = expected[0], expected[3]
    _same(
        kernels.normalize_backward(g, xhat, invstd, axes), ref.normalize_backward(g, xhat, invstd, axes), TOL[dt.name]
    )


@pytest.mark.parametrize(
    "shape, kernel, stride, padding, dilation",
    [
        ((2, 3, 8, 9), (2, 2), (2, 2), (0, 0), (1, 1)),
        ((2, 3, 7, 7), (3, 3), (2, 1), (1, 1), (1, 1)),
        ((2, 3, 10), (3,), (2,), (1,), (2,)),
    ],
)
def test_max_pool(kernels, dt, shape, kernel, stride, padding, dilation):
    rng, ref = np.random.default_rng(3), ember.backends.get_backend("cpu").kernels
    x = rng.standard_normal(shape).astype(dt)
    x[0, 0, 1] = np.nan  # NaN wins, as in PyTorch
    out = tuple(
        (n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, s, p, d in zip(shape[2:], kernel, stride, padding, dilation)
    )
    values, indices = kernels.max_pool(x, kernel, stride, padding, dilation, out)
    ref_values, ref_indices = ref.max_pool(x, kernel, stride, padding, dilation, out)
    np.testing.assert_array_equal(values, ref_values)
    np.testing.assert_array_equal(indices, ref_indices)


def test_lstm_cell(kernels, dt):
    rng, ref = np.random.default_rng(4), ember.backends.get_backend("cpu").kernels
    rows, hidden = 3, 5
    gx, h, c = (rng.standard_normal(s).astype(dt) for s in ((rows, 4 * hidden), (rows, hidden), (rows, hidden)))
    w_hh_t, bias = rng.standard_normal((hidden, 4 * hidden)).astype(dt), rng.standard_normal(4 * hidden).astype(dt)
    _same(kernels.lstm_cell(gx, h, c, w_hh_t, None), ref.lstm_cell(gx, h, c, w_hh_t, None), TOL[dt.name])
    expected = ref.lstm_cell(gx, h, c, w_hh_t, bias)
    _same(kernels.lstm_cell(gx, h, c, w_hh_t, bias), expected, TOL[dt.name])
    grad_h, grad_c = rng.standard_normal((rows, hidden)).astype(dt), rng.standard_normal((rows, hidden)).astype(dt)
    w_hh = np.ascontiguousarray(w_hh_t.T)
    _same(
        kernels.lstm_cell_backward(grad_h, grad_c, expected[2], w_hh),
        ref.lstm_cell_backward(grad_h, grad_c, expected[2], w_hh),
        TOL[dt.name],
    )


def test_activations(kernels, dt):
    rng, ref = np.random.default_rng(5), ember.backends.get_backend("cpu").kernels
    for shape in ((3, 7), (1000,)):
        x = (rng.standard_normal(shape) * 3).astype(dt)
        g = rng.standard_normal(shape).astype(dt)
        for threshold, value in ((0.0, 0.0), (0.5, -2.0)):
            y, keep = kernels.threshold(x, threshold, value)
            _same((y, keep), ref.threshold(x, threshold, value), 0)
            _same(kernels.threshold_backward(g, keep), ref.threshold_backward(g, keep), 0)
        y = np.tanh(x)
        _same(kernels.tanh_backward(g, y), ref.tanh_backward(g, y), TOL[dt.name])
        y = (1 / (1 + np.exp(-x))).astype(dt)
        _same(kernels.sigmoid_backward(g, y), ref.sigmoid_backward(g, y), TOL[dt.name])
        for approximate in ("none", "tanh"):
            _same(kernels.gelu(x, approximate), ref.gelu(x, approximate), TOL[dt.name])
            _same(kernels.gelu_backward(g, x, approximate), ref.gelu_backward(g, x, approximate), TOL[dt.name])
    # a strided input takes the portable path
    x = rng.standard_normal((4, 6)).astype(dt).T
    _same(kernels.gelu(x, "none"), ref.gelu(x, "none"), TOL[dt.name])


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("biases", ["both", "none", "ih", "packed"])  # packed: the portable time loop
def test_lstm_layer(kernels, dt, reverse, biases):
    rng, ref = np.random.default_rng(6), ember.backends.get_backend("cpu").kernels
    steps, batch, size, hidden = 4, 3, 5, 6
    sizes = [3, 3, 2, 1] if biases == "packed" else [batch] * steps
    x = rng.standard_normal((sum(sizes), size)).astype(dt)
    h0, c0 = (rng.standard_normal((batch, hidden)).astype(dt) for _ in range(2))
    w_ih = rng.standard_normal((4 * hidden, size)).astype(dt)
    w_hh = rng.standard_normal((4 * hidden, hidden)).astype(dt)
    b_ih = None if biases == "none" else rng.standard_normal(4 * hidden).astype(dt)
    b_hh = rng.standard_normal(4 * hidden).astype(dt) if biases == "both" else None
    args = ("LSTM", x, h0, c0, w_ih, w_hh, b_ih, b_hh, sizes, reverse)
    ours, expected = kernels.rnn_layer(*args), ref.rnn_layer(*args)
    _same(ours[:3], expected[:3], TOL[dt.name])
    grads = (rng.standard_normal((sum(sizes), hidden)).astype(dt),) + tuple(
        rng.standard_normal((batch, hidden)).astype(dt) for _ in range(2)
    )
    back = (x, w_ih, w_hh, sizes, reverse)
    ours = kernels.rnn_layer_backward("LSTM", *grads, *back, ours[3])
    expected = ref.rnn_layer_backward("LSTM", *grads, *back, expected[3])
    assert ours[-1] is None and expected[-1] is None
    _same(ours[:-1], expected[:-1], 10 * TOL[dt.name])


def test_running_update(kernels, dt):
    rng, ref = np.random.default_rng(7), ember.backends.get_backend("cpu").kernels
    running, stat = rng.standard_normal(9).astype(dt), rng.standard_normal(9).astype(dt)
    ours, expected = running.copy(), running.copy()
    kernels.running_update(ours, stat, 0.1, 1.25)
    ref.running_update(expected, stat, 0.1, 1.25)
    _same(ours, expected, TOL[dt.name])
    assert not np.allclose(ours, running)


@pytest.mark.parametrize(
    "shape, kernel, stride, padding, out, include_pad, override",
    [
        ((2, 3, 8, 9), (2, 2), (2, 2), (0, 0), (4, 4), True, None),
        ((2, 3, 7, 7), (3, 3), (2, 1), (1, 1), (4, 7), True, None),
        ((2, 3, 7, 7), (3, 3), (2, 1), (1, 1), (4, 7), False, None),
        ((1, 2, 6, 5), (3, 2), (2, 2), (1, 1), (4, 3), False, None),  # ceil_mode: a window over the edge
        ((1, 2, 6, 5), (3, 2), (2, 2), (1, 1), (4, 3), True, 5),
    ],
)
def test_avg_pool(kernels, dt, shape, kernel, stride, padding, out, include_pad, override):
    rng, ref = np.random.default_rng(8), ember.backends.get_backend("cpu").kernels
    x = rng.standard_normal(shape).astype(dt)
    args = (kernel, stride, padding)
    expected = ref.avg_pool(x, *args, out, include_pad, override)
    _same(kernels.avg_pool(x, *args, out, include_pad, override), expected, TOL[dt.name])
    g = rng.standard_normal(expected.shape).astype(dt)
    _same(
        kernels.avg_pool_backward(g, shape, *args, include_pad, override),
        ref.avg_pool_backward(g, shape, *args, include_pad, override),
        TOL[dt.name],
    )


class _Keys:
    """A stand-in for the CuPy generator: hands out the given Philox keys in turn."""

    def __init__(self, *keys):
        self.keys = list(keys)

    def key(self):
        return self.keys.pop(0)


def test_dropout(kernels, dt):
    x = np.random.default_rng(9).standard_normal(20000).astype(dt)
    y, mask = kernels.dropout(x, 0.3, _Keys(7))
    kept = mask != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(mask[kept], 1 / 0.7, rtol=1e-6)
    np.testing.assert_array_equal(y, x * mask)
    again, _ = kernels.dropout(x, 0.3, _Keys(7))
    other, _ = kernels.dropout(x, 0.3, _Keys(8))
    np.testing.assert_array_equal(again, y)  # the key decides the mask
    assert (other != y).any()


def test_dropout_philox_known_answer(kernels, dt):
    # Random123's known answer for Philox4x32-10, counter 0 and key 0: first word 0x6627e8d5;
    # element 0 is kept exactly when that word is below keep_below = (1 - p) * 2^32
    word = 0x6627E8D5
    x = np.ones(1, dt)
    for keep_below, kept in ((word, False), (word + 1, True)):
        p = 1 - keep_below / 2**32
        _, mask = kernels.dropout(x, p, _Keys(0))
        assert (mask[0] != 0) == kept
