"""Test configuration: every device-parametrized test runs on each device in EMBER_TEST_DEVICES.

``EMBER_TEST_DEVICES`` is a comma-separated list (default ``cpu``); each tox env sets its
backend's devices (``cpu,restricted`` for numpy, ``opencl:0``, ``cuda:0``). A device whose
backend is unavailable is skipped with the reason, never failed.

:data:`DEVICE_SKIPS` lists the known gaps of a device type: test-id patterns (``fnmatch``
against the node id) whose runs on that device type are skipped with the stated reason.
Every entry says why; the list is kept short (fix the backend instead where possible).
"""

from __future__ import annotations

import fnmatch
import os
import sys

import pytest

import ember
import ember.backends.cudnn

# The references are PyTorch on the CPU (strict float32): convolutions on CUDA must not use
# TF32 either (PyTorch's default for cuDNN is to allow it).
ember.backends.cudnn.allow_tf32 = False

#: device type -> {node-id pattern: reason}: tests skipped on that device type.
DEVICE_SKIPS = {}


def pytest_addoption(parser):
    parser.addoption(
        "--device-tests-only",
        action="store_true",
        help="run only the tests parametrized over EMBER_TEST_DEVICES (and the test files named after "
        "those devices' backends, tests/test_<type>_*.py): the others do not depend on the devices, "
        "and the suite that runs them once (numpy) need not be repeated for each backend",
    )


def pytest_collection_modifyitems(config, items):
    if config.getoption("--device-tests-only"):
        types = {d.split(":")[0] for d in _devices()}
        keep, drop = [], []
        for item in items:
            on_device = "device" in getattr(getattr(item, "callspec", None), "params", {})
            own_file = any(item.path.name.startswith(f"test_{t}_") for t in types)
            (keep if on_device or own_file else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
    for item in items:
        device = getattr(getattr(item, "callspec", None), "params", {}).get("device")
        if not isinstance(device, str):
            continue
        for pattern, reason in DEVICE_SKIPS.get(device.split(":")[0], {}).items():
            if fnmatch.fnmatchcase(item.nodeid, pattern):
                item.add_marker(pytest.mark.skip(reason=f"known gap on {device}: {reason}"))
                break


def _devices():
    return [d.strip() for d in os.environ.get("EMBER_TEST_DEVICES", "cpu").split(",") if d.strip()]


def _available(name):
    try:
        ember.backends.get_backend(name)
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "skip this device"
        return str(exc)


@pytest.fixture(params=_devices())
def device(request):
    """A device string from EMBER_TEST_DEVICES whose backend loads."""
    reason = _available(request.param)
    if reason:
        pytest.skip(f"device {request.param} unavailable: {reason}")
    return request.param


@pytest.fixture(params=["float64", "float32"])
def dtype(request, device):
    """float64 and float32 (float64 skipped on devices without double precision)."""
    if request.param == "float64" and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    return getattr(ember, request.param)


@pytest.fixture
def amp_device(device):
    """``(device, its autocast device type)`` for the autocast tests that compare with PyTorch's CPU
    autocast: skipped on devices that do not follow the cpu policy table."""
    backend = ember.backends.get_backend(device)
    if "cpu" not in (backend.device_type, backend.autocast_device_type):
        pytest.skip(f"{device} does not follow the cpu policy table (PyTorch has no autocast of its kind to compare)")
    return device, backend.device_type


@pytest.fixture
def numpy_threads(monkeypatch):
    """``numpy_threads(n)`` runs the rest of the test on ``n`` intra-op threads, the NumPy kernels
    splitting their work however small it is; the thread count is restored afterwards."""
    from ember.backends.numpy import parallel

    monkeypatch.setattr(parallel, "MIN_PARALLEL_ELEMENTS", 0)
    monkeypatch.setattr(parallel, "TEAM_SPIN_S", 0.0)  # no pause of the splits after an OpenMP team's call
    monkeypatch.setitem(parallel._team, "spinning_until", 0.0)
    previous = ember.get_num_threads()
    yield ember.set_num_threads
    ember.set_num_threads(previous)


@pytest.fixture
def torch_threads():
    """``torch_threads(n)`` runs the rest of the test with PyTorch on ``n`` intra-op threads; its thread
    count is restored afterwards (a later test's PyTorch reference would otherwise sum in another order)."""
    torch = pytest.importorskip("torch")
    previous = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(previous)


@pytest.fixture
def no_onednn(monkeypatch):
    """The NumPy backend's own kernels, not oneDNN's, for the rest of the test
    (``ember.backends.mkldnn.enabled`` off, restored afterwards)."""
    import ember.backends.mkldnn

    monkeypatch.setattr(ember.backends.mkldnn, "enabled", False)


@pytest.fixture
def no_loops(monkeypatch):
    """The NumPy backend's NumPy kernels, not its compiled loops (``ember.backends.numpy.loops``, where
    Numba is installed), for the rest of the test."""
    from ember.backends.numpy.loops import runtime

    monkeypatch.setattr(runtime, "enabled", False)


@pytest.fixture
def numpy_and_portable_kernels(numpy_threads, no_loops, monkeypatch):
    """``numpy_and_portable_kernels(module, threads, block_bytes)`` gives ``(backend, portable)``: the
    cpu backend on ``threads`` threads with ``module.BLOCK_BYTES`` set to ``block_bytes`` (unless it is
    None), and the portable kernel table over the same backend, for comparing NumPy overrides (their
    NumPy code, not the compiled loops) with it."""
    from ember.kernels import Kernels

    def setup(module, threads, block_bytes):
        numpy_threads(threads)
        if block_bytes is not None:
            monkeypatch.setattr(module, "BLOCK_BYTES", block_bytes)
        backend = ember.backends.get_backend("cpu")
        return backend, Kernels(backend)

    return setup


@pytest.fixture(autouse=True)
def _seed():
    ember.manual_seed(0)
    reference = sys.modules.get("reference")
    if reference is not None:  # each test's inputs must not depend on the tests before it
        reference.reseed()
    yield


def _global_state(lib):
    """The process-wide settings a test may change and must put back, of ember or torch."""
    distribution = getattr(sys.modules.get(f"{lib.__name__}.distributions"), "Distribution", None)
    return (
        lib.get_default_dtype(),
        lib.is_grad_enabled(),
        lib.is_inference_mode_enabled(),
        lib.are_deterministic_algorithms_enabled(),
        lib.is_autocast_enabled("cpu"),
        str(lib.get_default_device()),
        getattr(distribution, "_validate_args", __debug__),  # its default, until the module is imported
        getattr(sys.modules.get(f"{lib.__name__}.backends.mkldnn"), "enabled", True),
    )


@pytest.fixture(autouse=True)
def _global_state_stays_with_its_test():
    """A setting left changed (a default dtype, grad mode, a torch function mode: torch's
    ``set_default_device("cpu")`` pushes one, which turns ``has_torch_function`` on) changes every
    later test of the worker: fail the test that leaves it, not the one that trips on it."""
    torch = sys.modules.get("torch")
    before = {lib: _global_state(lib) for lib in (ember, torch) if lib is not None}
    yield
    torch = sys.modules.get("torch")
    if torch is not None and not torch.distributions.Distribution._validate_args:
        # torch._dynamo's first use (torch.export, torch.compile) turns validation off for the whole
        # process: later comparisons of the distributions' errors would see torch accept bad arguments
        torch.distributions.Distribution.set_default_validate_args(True)
    if torch is not None and torch._C._len_torch_function_stack():
        while torch._C._len_torch_function_stack():
            torch._C._pop_torch_function_stack()
        pytest.fail("the test left a torch function mode pushed (reset the default device with None)")
    for lib, state in before.items():
        if _global_state(lib) != state:
            pytest.fail(f"the test left {lib.__name__}'s global settings changed: {state} -> {_global_state(lib)}")


@pytest.fixture(autouse=True)
def _cuda_errors_stay_with_their_test(request):
    """On CUDA, index checks report at the next sync: sync after each cuda test so that a failure
    surfaces in the test that caused it, not in a later one."""
    yield
    device = getattr(getattr(request.node, "callspec", None), "params", {}).get("device")
    if isinstance(device, str) and device.startswith("cuda") and not _available(device):
        ember.cuda.synchronize()
