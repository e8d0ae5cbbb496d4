"""The start-up settings (matmul precision, deterministic algorithms, interop threads, warn-always,
anomaly and autocast state at the top level, flush-denormal) and the tensor-from-data functions
(asarray, frombuffer, scalar_tensor, empty_strided, fill, detach, typename), against PyTorch."""

from __future__ import annotations

import array
import warnings

import numpy as np
import pytest
from reference import assert_close

import ember

torch = pytest.importorskip("torch")


@pytest.fixture
def restore_state():
    matmul = ember.backends.cuda.matmul
    saved = (matmul.allow_tf32, ember.get_float32_matmul_precision(), ember.get_deterministic_debug_mode())
    saved_t = (torch.get_float32_matmul_precision(), torch.get_deterministic_debug_mode())
    yield
    matmul.allow_tf32 = saved[0]
    ember.set_float32_matmul_precision(saved[1])
    ember.set_deterministic_debug_mode(saved[2])
    torch.set_float32_matmul_precision(saved_t[0])
    torch.set_deterministic_debug_mode(saved_t[1])


@pytest.mark.parametrize("precision", ["highest", "high", "medium"])
def test_matmul_precision_links_allow_tf32(restore_state, precision):
    ember.set_float32_matmul_precision(precision)
    torch.set_float32_matmul_precision(precision)
    assert ember.get_float32_matmul_precision() == torch.get_float32_matmul_precision() == precision
    assert ember.backends.cuda.matmul.allow_tf32 is torch.backends.cuda.matmul.allow_tf32 is (precision != "highest")


def test_allow_tf32_sets_matmul_precision(restore_state):
    matmul = ember.backends.cuda.matmul
    matmul.allow_tf32 = True
    assert ember.get_float32_matmul_precision() == "high"
    matmul.allow_tf32 = False
    assert ember.get_float32_matmul_precision() == "highest"


def test_matmul_precision_errors(restore_state):
    ember.set_float32_matmul_precision("highest")  # an unknown value leaves the setting as it was
    with pytest.warns(UserWarning, match="low is not one of 'highest', 'high', or 'medium'"):
        ember.set_float32_matmul_precision("low")
    assert ember.get_float32_matmul_precision() == "highest"
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="expects a str"):
            lib.set_float32_matmul_precision(3)


def test_deterministic_modes_match_torch(restore_state):
    for mode in ("warn", 2, "default", 1, "error", 0):
        ember.set_deterministic_debug_mode(mode)
        torch.set_deterministic_debug_mode(mode)
        for name in (
            "get_deterministic_debug_mode",
            "are_deterministic_algorithms_enabled",
            "is_deterministic_algorithms_warn_only_enabled",
        ):
            assert getattr(ember, name)() == getattr(torch, name)(), (mode, name)
    for mode, warn_only in ((True, True), (True, False), (False, False)):
        ember.use_deterministic_algorithms(mode, warn_only=warn_only)
        torch.use_deterministic_algorithms(mode, warn_only=warn_only)
        assert ember.get_deterministic_debug_mode() == torch.get_deterministic_debug_mode()
    for bad, kind in (("bogus", RuntimeError), (3, RuntimeError), (1.5, TypeError)):
        for lib in (ember, torch):
            with pytest.raises(kind, match="debug_mode"):
                lib.set_deterministic_debug_mode(bad)
    for lib in (ember, torch):
        with pytest.raises(TypeError, match="argument 'mode' \\(position 1\\) must be bool"):
            lib.use_deterministic_algorithms("x")


def test_interop_threads_and_warn_always():
    before = ember.get_num_interop_threads()
    assert before >= 1
    ember.set_num_interop_threads(3)
    assert ember.get_num_interop_threads() == 3
    ember.set_num_interop_threads(before)
    for bad, message in ((0, "positive integer"), (-1, "positive integer"), ("a", "expects an int"), (2.0, "int")):
        for lib in (ember, torch):
            with pytest.raises(RuntimeError, match=message):
                lib.set_num_interop_threads(bad)
    assert ember.is_warn_always_enabled() is torch.is_warn_always_enabled() is False
    ember.set_warn_always(True)
    assert ember.is_warn_always_enabled() is True
    ember.set_warn_always(False)
    assert ember.is_warn_always_enabled() is False


def test_anomaly_state_is_autograds():
    assert ember.is_anomaly_enabled() is False and ember.is_anomaly_check_nan_enabled() is True
    ember.set_anomaly_enabled(True, False)
    try:
        assert ember.autograd.anomaly_mode.is_anomaly_enabled() is True
        assert ember.is_anomaly_check_nan_enabled() is False
    finally:
        ember.set_anomaly_enabled(False)
    assert ember.is_anomaly_enabled() is False and ember.is_anomaly_check_nan_enabled() is True
    with pytest.warns(UserWarning, match="Anomaly Detection"), ember.autograd.detect_anomaly():
        assert ember.is_anomaly_enabled() is True
    x = ember.tensor([0.0], requires_grad=True)
    ember.set_anomaly_enabled(True)
    try:
        with pytest.raises(RuntimeError, match="returned nan values"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (x.sqrt() * 0).sum().backward()
    finally:
        ember.set_anomaly_enabled(False)


def test_autocast_state_at_top_level():
    for device_type in ("cpu", "cuda"):
        assert ember.get_autocast_dtype(device_type) == getattr(
            ember, torch.get_autocast_dtype(device_type).__str__()[6:]
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert ember.get_autocast_cpu_dtype() is ember.bfloat16 and ember.get_autocast_gpu_dtype() is ember.float16
        assert ember.is_autocast_cpu_enabled() is False
    with pytest.warns(DeprecationWarning, match="get_autocast_dtype\\('cpu'\\)"):
        ember.get_autocast_cpu_dtype()
    lin = ember.nn.Linear(4, 3)
    ember.set_autocast_enabled("cpu", True)
    try:
        assert ember.is_autocast_enabled("cpu") and not ember.is_autocast_enabled("cuda")
        assert lin(ember.randn(2, 4)).dtype is ember.bfloat16
        ember.set_autocast_dtype("cpu", ember.float16)
        # the bfloat16 cast of lin.weight stays cached until cleared (PyTorch's cache then refuses the
        # float16 input: "mat1 and mat2 must have the same dtype")
        with pytest.raises(RuntimeError, match="same dtype"):
            lin(ember.randn(2, 4))
        ember.clear_autocast_cache()
        assert lin(ember.randn(2, 4)).dtype is ember.float16
    finally:
        ember.set_autocast_enabled("cpu", False)
        ember.set_autocast_dtype("cpu", ember.bfloat16)
    assert not ember.is_autocast_enabled("cpu")
    assert lin(ember.randn(2, 4)).dtype is ember.float32
    with pytest.raises(TypeError, match="argument 'enabled' \\(position 2\\) must be bool"):
        ember.set_autocast_enabled("cpu", "yes")
    assert ember.is_autocast_cache_enabled() is torch.is_autocast_cache_enabled() is True
    ember.set_autocast_cache_enabled(False)
    assert ember.is_autocast_cache_enabled() is False
    ember.set_autocast_cache_enabled(True)
    ember.clear_autocast_cache()


def test_flush_denormal_unsupported():
    assert ember.set_flush_denormal(True) is False
    assert ember.set_flush_denormal(False) is False
    tiny = np.float32(1e-40)
    assert ember.tensor([tiny]).item() == pytest.approx(float(tiny))


def test_typename_and_is_storage():
    for e, t in (
        (ember.zeros(2), torch.zeros(2)),
        (ember.zeros(2, dtype=ember.int64), torch.zeros(2, dtype=torch.int64)),
    ):
        assert ember.typename(e) == torch.typename(t).replace("torch", "ember")
    assert ember.typename(3) == torch.typename(3) == "int"
    assert ember.typename(ember.nn.Linear(1, 1)) == "ember.nn.modules.linear.Linear"
    assert ember.typename(ember.nn.Linear) == "ember.nn.modules.linear.Linear"
    assert ember.is_storage(ember.zeros(1)) is torch.is_storage(torch.zeros(1)) is False


def test_asarray_shares_numpy_memory():
    a = np.arange(4.0)
    t = ember.asarray(a)
    a[0] = 9.0
    assert t.dtype is ember.float64 and t[0].item() == 9.0
    c = ember.asarray(a, copy=True)
    a[0] = 7.0
    assert c[0].item() == 9.0
    with pytest.raises(ValueError, match="can't alias"):
        ember.asarray(a, dtype=ember.float32, copy=False)
    with pytest.raises(ValueError, match="can't alias arbitrary sequence"):
        ember.asarray([1.0, 2.0], copy=False)
    assert ember.asarray(a, dtype=ember.float32).dtype is ember.float32


@pytest.mark.parametrize("obj", [[1, 2], [1.0, 2.5], 3.0, True, [[True, False]], np.float64(2.0)])
def test_asarray_dtypes_match_torch(device, obj):
    e, t = ember.asarray(obj, device=device), torch.asarray(obj)
    assert e.dtype.name == str(t.dtype)[6:] and e.device.type == device.split(":")[0]
    assert_close(e, t)


def test_asarray_of_tensors(device):
    x = ember.ones(3, device=device, requires_grad=True)
    assert ember.asarray(x) is x
    y = ember.asarray(x, dtype=ember.float64)
    assert y.dtype is ember.float64 and y.device == x.device
    with pytest.raises(ValueError, match="can't alias"):
        ember.asarray(x, dtype=ember.float64, copy=False)
    c = ember.asarray(x, copy=True)
    assert c is not x and c.requires_grad and c.grad_fn is not None
    assert ember.asarray(x * 1, requires_grad=False).requires_grad is False
    assert ember.asarray(np.ones(2), requires_grad=True, device=device).requires_grad


def test_frombuffer_matches_torch():
    b = bytearray(b"\x00\x00\x80?\x00\x00\x00@")
    e, t = ember.frombuffer(b, dtype=ember.float32), torch.frombuffer(bytearray(b), dtype=torch.float32)
    assert_close(e, t)
    b[0:4] = b"\x00\x00@@"
    assert e[0].item() == 3.0
    assert_close(ember.frombuffer(b, dtype=ember.float32, count=1, offset=4), torch.tensor([2.0]))
    assert_close(
        ember.frombuffer(array.array("i", [1, 2, 3]), dtype=ember.int32), torch.tensor([1, 2, 3], dtype=torch.int32)
    )
    for kwargs, message in (
        ({"count": 3}, "must not be greater than actual buffer length"),
        ({"offset": 9}, "must be non-negative"),
        ({"offset": -1}, "must be non-negative"),
        ({"count": 0}, "must not be 0"),
        ({"offset": 3}, "multiple of element size"),
    ):
        for lib in (ember, torch):
            with pytest.raises(ValueError, match=message):
                lib.frombuffer(bytearray(b), dtype=lib.float32, **kwargs)
    with pytest.warns(UserWarning, match="not writable"):
        assert ember.frombuffer(b"\x01\x02", dtype=ember.uint8).tolist() == [1, 2]


def test_scalar_tensor(device):
    for value, kwargs in ((3, {}), (True, {}), (2.5, {}), (3, {"dtype": "int64"}), (2.5, {"dtype": "float64"})):
        e = ember.scalar_tensor(value, device=device, **{k: getattr(ember, v) for k, v in kwargs.items()})
        t = torch.scalar_tensor(value, **{k: getattr(torch, v) for k, v in kwargs.items()})
        assert e.shape == () and e.dtype.name == str(t.dtype)[6:]
        assert_close(e, t)
    assert ember.scalar_tensor(1.0, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="scalar_tensor"):
        ember.scalar_tensor("a")


@pytest.mark.parametrize(
    "size,stride", [((2, 3), (1, 2)), ((2, 3), (3, 1)), ((2, 3), (0, 1)), ((0, 4), (4, 1)), ((), ())]
)
def test_empty_strided(device, size, stride):
    e, t = ember.empty_strided(size, stride, device=device), torch.empty_strided(size, stride)
    assert e.shape == t.shape and e.stride() == t.stride() and e.dtype is ember.float32
    e64 = ember.zeros(1, dtype=ember.float64, device=device).new_empty_strided(size, stride)
    assert e64.dtype is ember.float64 and e64.stride() == t.stride() and e64.device == e.device


def test_empty_strided_errors(device):
    for lib in (ember, torch):
        with pytest.raises(
            RuntimeError, match="dimensionality of sizes \\(2\\) must match dimensionality of strides \\(1\\)"
        ):
            lib.empty_strided((2, 3), (1,))
        with pytest.raises(RuntimeError, match="negative dimension -3"):
            lib.empty_strided((2, -3), (1, 2))
        with pytest.raises(RuntimeError, match="Storage size calculation overflowed with sizes=\\[2, 3\\] and strides"):
            lib.empty_strided((2, 3), (-1, 1))
    assert ember.empty_strided((2,), (1,), requires_grad=True, device=device).requires_grad


def test_fill_detach_get_device(device, dtype):
    x = ember.tensor([1.0, 2.0], dtype=dtype, device=device, requires_grad=True)
    v = ember.tensor(3.0, dtype=dtype, device=device, requires_grad=True)
    tx, tv = (
        torch.tensor([1.0, 2.0], dtype=getattr(torch, dtype.name), requires_grad=True),
        torch.tensor(3.0, dtype=getattr(torch, dtype.name), requires_grad=True),
    )
    e, t = ember.fill(x, v), torch.fill(tx, tv)
    assert_close(e, t)
    (e * ember.tensor([1.0, 2.0], dtype=dtype, device=device)).sum().backward()
    (t * torch.tensor([1.0, 2.0], dtype=t.dtype)).sum().backward()
    assert_close(x.grad, tx.grad)
    assert_close(v.grad, tv.grad)
    assert_close(
        ember.fill(ember.ones(2, dtype=ember.int64, device=device), 2.7),
        torch.fill(torch.ones(2, dtype=torch.int64), 2.7),
    )
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="0-dimension value tensor"):
            lib.fill(lib.ones(2), lib.ones(2))
    assert ember.detach(x).requires_grad is False
    assert ember.get_device(x) == x.get_device()
