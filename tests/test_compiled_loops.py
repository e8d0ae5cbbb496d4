"""The NumPy backend's compiled loops (``ember.backends.numpy.loops``, Numba) against PyTorch: ReLU and
its gradient, batch norm forward and backward, 2-d max pooling and its gradient, bit for bit where
PyTorch's kernel computes the same way (the selects, the pooling scan and its gradient's sums), on 1
and 2 threads, with the special values that tell the semantics apart (NaN, -0., inf, ties, windows
that overhang the plane)."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember

pytest.importorskip("numba")

from ember.backends.numpy import loops  # noqa: E402

DTYPES = [np.float32, np.float64]


@pytest.fixture(autouse=True)
def _small_arrays_too(monkeypatch):
    """The element-wise loops serve the small arrays of these tests as well."""
    monkeypatch.setattr(loops.runtime, "MIN_ELEMENTWISE", 0)


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def threads(request):
    previous = ember.get_num_threads()
    ember.set_num_threads(request.param)
    yield request.param
    ember.set_num_threads(previous)


def _kernels():
    return ember.backends.get_backend("cpu").kernels


def _specials(shape, dtype, seed=0):
    """Random values with NaN, +-0., +-inf and repeated values mixed in."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, shape).astype(dtype) / 2
    flat = x.reshape(-1)
    picks = rng.choice(flat.size, size=min(flat.size, 12), replace=False)
    flat[picks] = np.array([np.nan, -0.0, 0.0, np.inf, -np.inf, np.nan] * 2, dtype=dtype)[: picks.size]
    return x


def test_loops_load():
    assert loops.get() is not None


def test_loops_serve_several_threads_only_beside_onednn(numpy_threads):
    """On several threads the loops serve only where oneDNN's products and convolutions share their OpenMP
    team; without it, OpenBLAS's threads and ember's pool would fight the team's spinning threads."""
    from ember.backends.numpy.onednn import load

    numpy_threads(2)
    with ember.backends.mkldnn.flags(enabled=False):
        assert loops.get() is None
        numpy_threads(1)
        assert loops.get() is not None
    numpy_threads(2)
    assert (loops.get() is not None) == (load() is not None)


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_and_gradient_match_torch(dtype, threads):
    """Values (signed zeros included) and gradients, a non-finite upstream gradient where the output is 0."""
    x = _specials((6, 5, 7), dtype)
    grad = _specials((6, 5, 7), dtype, seed=1)
    y = _kernels().relu(x)
    want = torch.relu(torch.tensor(x)).numpy()
    np.testing.assert_array_equal(y, want)
    np.testing.assert_array_equal(np.signbit(y), np.signbit(want))
    got = _kernels().relu_backward(grad, y)
    expected = torch.ops.aten.threshold_backward(torch.tensor(grad), torch.tensor(want), 0).numpy()
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == dtype


POOL_CASES = [
    # input shape, kernel, stride, padding, dilation, ceil_mode
    ((2, 3, 8, 8), 2, 2, 0, 1, False),  # MaxPool2d(2): the unrolled 2x2 loop
    ((2, 3, 9, 7), 2, 2, 0, 1, False),  # the last row and column are in no window
    ((2, 3, 9, 7), 3, 2, 1, 1, False),
    ((1, 2, 9, 8), (3, 2), (2, 1), (1, 1), (1, 2), False),
    ((2, 2, 5, 5), 2, 2, 0, 1, True),  # the last window overhangs the plane
    ((2, 2, 10, 9), 3, 3, 1, 2, True),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,kernel,stride,padding,dilation,ceil_mode", POOL_CASES)
def test_max_pool2d_and_gradient_match_torch(shape, kernel, stride, padding, dilation, ceil_mode, dtype, threads):
    """Values and indices (ties keep the first, the last NaN wins, all -inf windows) and the gradient's
    sums where windows overlap, bit for bit."""
    x = _specials(shape, dtype)
    grad_seed = np.random.default_rng(2)
    args = dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    ex = ember.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    e_values, e_indices = ember.nn.functional.max_pool2d(ex, return_indices=True, **args)
    t_values, t_indices = TF.max_pool2d(tx, return_indices=True, **args)
    np.testing.assert_array_equal(e_values.detach().numpy(), t_values.detach().numpy())
    np.testing.assert_array_equal(e_indices.numpy(), t_indices.numpy())
    grad = grad_seed.standard_normal(t_values.shape).astype(dtype)
    e_values.backward(ember.tensor(grad))
    t_values.backward(torch.tensor(grad))
    np.testing.assert_array_equal(ex.grad.numpy(), tx.grad.numpy())


_STANDARDIZING = {
    "layer_norm": (lambda lib, x, w, b: lib.nn.functional.layer_norm(x, x.shape[-2:], w, b), (5, 6)),
    "group_norm": (lambda lib, x, w, b: lib.nn.functional.group_norm(x, 2, w, b), (4,)),
    "instance_norm": (lambda lib, x, w, b: lib.nn.functional.instance_norm(x, weight=w, bias=b), (4,)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(_STANDARDIZING))
def test_standardizing_norms_match_torch(name, dtype, threads, monkeypatch):
    """Layer, group and instance norm standardise over trailing axes through the loops (each row a
    channel): output and the gradients of input, weight and bias, with a large offset."""
    launched = []
    launch = loops.launch
    monkeypatch.setattr(loops, "launch", lambda loop, *args: launched.append(loop) or launch(loop, *args))
    fn, param_shape = _STANDARDIZING[name]
    rng = np.random.default_rng(4)
    x = (1000 + 3 * rng.standard_normal((3, 4, 5, 6))).astype(dtype)
    weight, bias = (rng.standard_normal(param_shape).astype(dtype) for _ in range(2))
    grad = rng.standard_normal(x.shape).astype(dtype)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    results = []
    for lib in (ember, torch):
        leaves = [lib.tensor(a, requires_grad=True) for a in (x, weight, bias)]
        out = fn(lib, *leaves)
        out.backward(lib.tensor(grad))
        results.append([out.detach().numpy()] + [leaf.grad.numpy() for leaf in leaves])
    for mine, ref, scale in zip(*results, (1, 1, x.size, x.size)):
        np.testing.assert_allclose(mine, ref, rtol=tol["rtol"], atol=tol["atol"] * scale)
    assert {loop.__name__ for loop in launched} >= {"channel_moments", "standardize", "normalize_backward"}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(16, 3), (4, 3, 7), (4, 3, 5, 6), (2, 3, 4, 5, 3)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_matches_torch(shape, affine, dtype, threads):
    """Output, running statistics and the gradients of input, weight and bias, with a large offset."""
    rng = np.random.default_rng(3)
    x = (1000 + 3 * rng.standard_normal(shape)).astype(dtype)
    grad = rng.standard_normal(shape).astype(dtype)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    name = {2: "BatchNorm1d", 3: "BatchNorm1d", 4: "BatchNorm2d", 5: "BatchNorm3d"}[len(shape)]
    e_module, t_module = getattr(ember.nn, name)(3, affine=affine), getattr(torch.nn, name)(3, affine=affine)
    if affine:
        weight, bias = rng.standard_normal(3), rng.standard_normal(3)
        for module, lib in ((e_module, ember), (t_module, torch)):
            with lib.no_grad():
                module.weight.copy_(lib.tensor(weight))
                module.bias.copy_(lib.tensor(bias))
    e_module.to(dtype=ember.float32 if dtype == np.float32 else ember.float64)
    t_module.to(dtype=torch.float32 if dtype == np.float32 else torch.float64)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ey, ty = e_module(ex), t_module(tx)
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), **tol)
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(e_module, name).numpy(), getattr(t_module, name).numpy(), **tol)
    ey.backward(ember.tensor(grad))
    ty.backward(torch.tensor(grad))
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), **tol)
    if affine:
        for name in ("weight", "bias"):
            e_grad, t_grad = getattr(e_module, name).grad.numpy(), getattr(t_module, name).grad.numpy()
            np.testing.assert_allclose(e_grad, t_grad, rtol=tol["rtol"], atol=tol["atol"] * x.size)


@pytest.mark.parametrize("dtype", DTYPES)
def test_loops_agree_with_numpy_kernels(dtype, monkeypatch):
    """The loops and the NumPy kernels they replace give the same results (the selects bit for bit)."""
    from ember.backends.numpy.loops import runtime

    kernels = _kernels()
    x = _specials((3, 4, 6, 6), dtype)
    grad = np.random.default_rng(4).standard_normal((3, 4, 6, 6)).astype(dtype)
    compiled = (kernels.relu(x), kernels.relu_backward(grad, kernels.relu(x)))
    batch_norm = kernels.batch_norm_forward(x + 1, (0, 2, 3), 1e-5, None, None)
    monkeypatch.setattr(runtime, "enabled", False)
    for got, want in zip(compiled, (kernels.relu(x), kernels.relu_backward(grad, kernels.relu(x)))):
        np.testing.assert_array_equal(got, want)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for got, want in zip(batch_norm, kernels.batch_norm_forward(x + 1, (0, 2, 3), 1e-5, None, None)):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_other_dtypes_and_layouts_go_to_numpy():
    """float16, integers and strided views are not the loops' case; the NumPy kernels serve them."""
    assert not loops.takes(np.ones(4, np.float16))
    assert not loops.takes(np.ones(4, np.int64))
    assert not loops.takes(np.ones((4, 4), np.float32)[:, ::2])
    assert not loops.takes(np.ones(4, np.float32), np.ones(4, np.float64))
    assert not loops.takes(np.ones(0, np.float32))
    assert loops.takes(np.ones((2, 3), np.float32), np.ones((2, 3), np.float32))
    x = np.arange(-3, 3, dtype=np.float16)
    np.testing.assert_array_equal(_kernels().relu(x), np.maximum(np.float16(0), x))


def test_more_threads_than_numba_has():
    """A thread count above Numba's NUMBA_NUM_THREADS runs on as many as Numba has."""
    previous = ember.get_num_threads()
    ember.set_num_threads(64)
    try:
        x = np.arange(-5, 5, dtype=np.float32)
        np.testing.assert_array_equal(_kernels().relu(x), np.maximum(np.float32(0), x))
    finally:
        ember.set_num_threads(previous)


def _loops_in_child(queue):
    from ember.backends.numpy import loops as child_loops

    x = np.arange(-2, 2, dtype=np.float32)
    queue.put((child_loops.get() is None, ember.backends.get_backend("cpu").kernels.relu(x).tolist()))


def test_forked_child_uses_numpy_kernels():
    """GNU OpenMP does not survive a fork: a child forked after the loops ran uses the NumPy kernels."""
    _kernels().relu(np.ones(8, np.float32))  # the loops have run in this process
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_loops_in_child, args=(queue,))
    child.start()
    without_loops, values = queue.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    assert without_loops
    assert values == [0.0, 0.0, 0.0, 1.0]


@pytest.mark.parametrize("case", ["plain", "weight", "ignore_index", "label_smoothing", "large_logits", "nan_row"])
def test_cross_entropy_on_the_team_matches_torch(case, threads):
    """Float32 logits large enough for oneDNN's exponentials and the row-sum loop (the language model's
    loss): the loss and the logits' gradient against PyTorch, the paths that fall back to the shifted
    NumPy sums included (logits far from 0, a NaN row)."""
    import ember.backends.mkldnn

    if not ember.backends.mkldnn.is_available():
        pytest.skip("oneDNN is not installed")
    rng = np.random.default_rng(6)
    x = (3 * rng.standard_normal((70, 1000))).astype(np.float32)
    target = rng.integers(0, 1000, 70)
    kwargs = {}
    if case == "weight":
        kwargs["weight"] = rng.random(1000).astype(np.float32)
    elif case == "ignore_index":
        target[::7] = -100
    elif case == "label_smoothing":
        kwargs["label_smoothing"] = 0.1
    elif case == "large_logits":
        x[3] += 500.0
        x[5] -= 300.0
    elif case == "nan_row":
        x[4, 9] = np.nan
    from ember.backends.numpy.kernels.loss import _team_log_sum_exp

    on_the_team = _team_log_sum_exp(x) is not None
    assert on_the_team == (case not in ("large_logits", "nan_row"))
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    e_kwargs = {k: ember.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    t_kwargs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    e_loss = ember.nn.functional.cross_entropy(ex, ember.tensor(target), **e_kwargs)
    t_loss = TF.cross_entropy(tx, torch.tensor(target), **t_kwargs)
    np.testing.assert_allclose(e_loss.item(), t_loss.item(), rtol=1e-5, equal_nan=True)
    e_loss.backward()
    t_loss.backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-8, equal_nan=True)


def test_workqueue_layer_takes_one_launch_at_a_time():
    """Where the user picks Numba's work queue (or no OpenMP or TBB is found), the loops still serve, and
    launches from several Python threads queue instead of tripping its single-launch check."""
    import os
    import subprocess
    import sys

    program = """
import threading, numpy as np, ember
from ember.backends.numpy.loops import runtime
kernels = ember.backends.get_backend("cpu").kernels
runtime.MIN_ELEMENTWISE = 0
x = np.arange(-4000, 4000, dtype=np.float32)
results = []
def work():
    for _ in range(50):
        results.append(bool((kernels.relu(x) == np.maximum(np.float32(0), x)).all()))
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
import numba
print(numba.threading_layer(), runtime.get() is not None, all(results), len(results))
"""
    env = dict(os.environ, NUMBA_THREADING_LAYER="workqueue")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["workqueue", "True", "True", "200"]


def test_loading_leaves_openmp_and_torch_thread_counts_alone():
    """Numba's omp layer sets OpenMP's thread count to NUMBA_NUM_THREADS when it starts; PyTorch, imported
    first, shares that runtime (its libgomp.so.1): loading the loops must not change PyTorch's threads."""
    import os
    import subprocess
    import sys

    program = """
import torch, ctypes, numpy as np, ember
from ember.backends.numpy import loops
before = torch.get_num_threads()
assert loops.get() is not None
ember.backends.get_backend("cpu").kernels.relu(np.ones(1 << 15, np.float32))
print(before, torch.get_num_threads(), ctypes.CDLL("libgomp.so.1").omp_get_max_threads())
"""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "1", "1"]


@pytest.mark.parametrize("mean,std", [(0.0, 1.0), (2.0, 0.5)])
def test_box_muller_loop_rounds_as_the_numpy_arithmetic(mean, std, threads):
    """The float32 Box-Muller loop against :mod:`sampling_math` over a spread of the 2**24 uniforms the
    sampler meets (both ends included), each as the logarithm's input and as the angle's."""
    from ember.backends.numpy import sampling_math

    steps = np.arange(0, 1 << 24, 97, dtype=np.int64)
    steps[-1] = (1 << 24) - 1
    u = steps[: len(steps) // 8 * 8].astype(np.float32) * np.float32(2.0**-24)
    shuffled = np.random.default_rng(0).permutation(u)
    blocks = np.concatenate([np.stack([u, shuffled]), np.stack([shuffled, u])], axis=1).reshape(2, -1, 8)
    blocks = blocks.transpose(1, 0, 2).reshape(-1, 16)
    mean32, std32 = np.float32(mean), np.float32(std)
    got = blocks.copy()
    loops.launch(loops.get().box_muller_float32, got, mean32, std32)
    radius = np.sqrt(np.float32(-2) * sampling_math.log32(1 - blocks[:, :8]))
    sin, cos = sampling_math.sincos32(np.float32(2 * np.pi) * blocks[:, 8:])
    want = np.concatenate(
        [sampling_math.fma32(radius * cos, std32, mean32), sampling_math.fma32(radius * sin, std32, mean32)], axis=1
    )
    np.testing.assert_array_equal(got.view(np.int32), want.view(np.int32))


def test_samples_from_the_loops_and_without_them_are_torchs(monkeypatch):
    """The float32 Box-Muller, the C library's functions (without Numba: Python's math) and the shuffle."""

    def draw(T):
        return [
            T.randn(40_000),
            T.randn(3000, dtype=T.float64),
            T.empty(3000, dtype=T.float64).exponential_(0.5),
            T.empty(3000, dtype=T.float64).log_normal_(),
            T.empty(3000, dtype=T.float64).cauchy_(),
            T.empty(3000, dtype=T.float64).geometric_(0.05),
            T.randperm(50_000),
        ]

    torch.manual_seed(5)
    want = draw(torch)
    for enabled in (True, False):
        monkeypatch.setattr(loops.runtime, "enabled", enabled)
        ember.manual_seed(5)
        for have, expected in zip(draw(ember), want, strict=True):
            np.testing.assert_array_equal(have.numpy(), expected.numpy())


def test_serial_loops_serve_at_any_thread_count(numpy_threads, monkeypatch):
    """The loops that run on the calling thread (the C library's functions, the shuffle) have no team to
    share: they serve on several threads without oneDNN too, unless the loops are switched off."""
    numpy_threads(2)
    with ember.backends.mkldnn.flags(enabled=False):
        assert loops.get() is None
        assert loops.serial() is not None
        monkeypatch.setattr(loops.runtime, "enabled", False)
        assert loops.serial() is None
