"""Memory statistics and device queries of ``ember.cuda`` and ``ember.accelerator`` against
PyTorch: without CUDA the statistics read zero as PyTorch's do before CUDA starts; on an
accelerator (OpenCL here, CUDA on the GPU check) the current values and peaks follow the tensors."""

import warnings

import pytest

import ember

torch = pytest.importorskip("torch")

STATISTICS = ("memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved")


def _no_cuda():
    if ember.cuda.is_available() or torch.cuda.is_available():  # pragma: no cover - a GPU machine
        pytest.skip("these compare CUDA-less answers")


def test_statistics_without_cuda_read_zero_as_torch():
    _no_cuda()
    for name in STATISTICS:
        assert getattr(ember.cuda, name)() == getattr(torch.cuda, name)() == 0, name
    assert ember.cuda.memory_stats() == dict(torch.cuda.memory_stats()) == {}
    assert ember.cuda.empty_cache() is torch.cuda.empty_cache() is None
    ember.cuda.reset_peak_memory_stats()  # nothing to reset: no error (torch's CPU build lacks the binding)
    assert ember.cuda.is_initialized() is torch.cuda.is_initialized() is False
    assert "No CUDA device" in ember.cuda.memory_summary()


def test_reset_max_memory_allocated_warns_as_torch():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ember.cuda.reset_max_memory_allocated()
    assert [w.category for w in caught] == [FutureWarning]
    assert "reset_peak_memory_stats" in str(caught[0].message)


@pytest.mark.parametrize(
    "name", ["get_device_properties", "get_device_capability", "mem_get_info", "default_stream", "init"]
)
def test_device_queries_without_cuda_raise(name):
    _no_cuda()
    with pytest.raises((RuntimeError, AssertionError)):
        getattr(torch.cuda, name)()
    with pytest.raises(RuntimeError, match="cuda"):
        getattr(ember.cuda, name)()


def _opencl_accelerator(monkeypatch):
    from ember.plugin import backend_registry

    try:
        backend_registry().backend_for("opencl")
    except RuntimeError as exc:
        pytest.skip(f"no opencl backend: {exc}")
    monkeypatch.setenv("EMBER_ACCELERATOR", "opencl")
    return ember.accelerator


def test_accelerator_statistics_follow_the_tensors(monkeypatch):
    acc = _opencl_accelerator(monkeypatch)
    acc.empty_cache()
    acc.reset_peak_memory_stats()
    base = acc.memory_allocated()
    x = ember.ones(4096, device="opencl:0")
    stats = acc.memory_stats()
    assert stats["allocated_bytes.all.current"] == acc.memory_allocated() >= base + 4096 * 4
    assert stats["allocated_bytes.all.peak"] >= stats["allocated_bytes.all.current"]
    assert stats["reserved_bytes.all.current"] >= stats["allocated_bytes.all.current"]
    peak = acc.max_memory_allocated()
    del x
    # the backend's own peak: the freed tensor still counts until a reset
    assert acc.memory_allocated() == base and acc.max_memory_allocated() == peak
    acc.reset_peak_memory_stats()
    assert acc.max_memory_allocated() == base
    reserved = acc.memory_reserved()
    acc.empty_cache()
    assert acc.memory_reserved() <= reserved and acc.max_memory_reserved() >= reserved


def test_accelerator_statistics_take_a_device(monkeypatch):
    acc = _opencl_accelerator(monkeypatch)
    assert acc.memory_stats("opencl:0") == acc.memory_stats(0) == acc.memory_stats("opencl")
    with pytest.raises(ValueError, match="doesn't match"):
        acc.memory_stats("cpu")
    with pytest.raises(RuntimeError, match="free memory"):
        acc.get_memory_info()


def test_accelerator_statistics_without_one_raise_as_torch(monkeypatch):
    monkeypatch.setenv("EMBER_ACCELERATOR", "no_such_device")
    if torch.accelerator.is_available():  # pragma: no cover - a torch build with a GPU
        pytest.skip("the reference torch has an accelerator")
    for name in ("memory_stats", "max_memory_allocated", "max_memory_reserved", "reset_peak_memory_stats"):
        with pytest.raises(RuntimeError) as expected:
            getattr(torch.accelerator, name)()
        with pytest.raises(RuntimeError) as got:
            getattr(ember.accelerator, name)()
        assert str(got.value) == str(expected.value)


def test_cuda_device_queries_on_a_gpu():
    if not ember.cuda.is_available():
        pytest.skip("no CUDA device (this test runs on the GPU check)")
    props = ember.cuda.get_device_properties(0)
    free, total = ember.cuda.mem_get_info()
    assert props.total_memory == total >= free > 0
    assert ember.cuda.get_device_capability() == (props.major, props.minor) and props.major >= 3
    assert props.multi_processor_count > 0 and props.name == ember.cuda.get_device_name(0)
    assert "_CudaDeviceProperties(name=" in repr(props)
    assert ember.cuda.default_stream().cuda_stream == 0
    assert ember.cuda.is_initialized()
    ember.cuda.reset_peak_memory_stats()
    x = ember.ones(1 << 20, device="cuda")
    ember.cuda.synchronize()
    assert ember.cuda.max_memory_allocated() >= ember.cuda.memory_allocated() >= x.numel() * 4
    del x
    assert ember.cuda.max_memory_allocated() >= (1 << 20) * 4
