"""The rest of ``torch.cuda``'s surface on ``ember.cuda``: without CUDA each function answers as
PyTorch's CPU build does (the same value, or an error of the same type); on a GPU (the GPU
check) the queries read the device."""

import warnings

import pytest

import ember

torch = pytest.importorskip("torch")


def _no_cuda():
    if ember.cuda.is_available() or torch.cuda.is_available():  # pragma: no cover - a GPU machine
        pytest.skip("these compare CUDA-less answers")


def _gpu():
    if not ember.cuda.is_available():
        pytest.skip("no CUDA device (this test runs on the GPU check)")


@pytest.mark.parametrize(
    "name, args",
    [
        ("current_device", ()),
        ("initial_seed", ()),
        ("ipc_collect", ()),
        ("get_per_process_memory_fraction", ()),
        ("set_per_process_memory_fraction", (0.5,)),
        ("get_sync_debug_mode", ()),
        ("set_sync_debug_mode", ("warn",)),
        ("can_device_access_peer", (0, 1)),
        ("synchronize", ()),
        ("get_device_name", ()),
        ("current_stream", ()),
    ],
)
def test_device_functions_without_cuda_raise_assertion_error_as_torch(name, args):
    _no_cuda()
    with pytest.raises(AssertionError):
        getattr(torch.cuda, name)(*args)
    with pytest.raises(AssertionError, match="cuda") as got:
        getattr(ember.cuda, name)(*args)
    assert isinstance(got.value, RuntimeError)  # what code written for a CUDA build catches


def test_capturing_and_nvtx_without_cuda_raise_runtime_error_as_torch():
    _no_cuda()
    for call in (
        lambda cuda: cuda.is_current_stream_capturing(),
        lambda cuda: cuda.nvtx.range_push("step"),
        lambda cuda: cuda.nvtx.range_pop(),
        lambda cuda: cuda.nvtx.mark("step"),
    ):
        with pytest.raises(RuntimeError):
            call(torch.cuda)
        with pytest.raises(RuntimeError):
            call(ember.cuda)


def test_queries_without_cuda_answer_as_torch():
    _no_cuda()
    assert ember.cuda.get_arch_list() == torch.cuda.get_arch_list() == []
    assert ember.cuda.get_gencode_flags() == torch.cuda.get_gencode_flags() == ""
    assert ember.cuda.is_tf32_supported() is torch.cuda.is_tf32_supported() is False
    assert ember.cuda.memory_stats_as_nested_dict() == torch.cuda.memory_stats_as_nested_dict() == {}


def test_renamed_memory_functions_warn_as_torch():
    _no_cuda()
    for name in ("memory_cached", "max_memory_cached"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert getattr(ember.cuda, name)() == 0
        with warnings.catch_warnings(record=True) as expected:
            warnings.simplefilter("always")
            assert getattr(torch.cuda, name)() == 0
        assert [w.category for w in caught] == [w.category for w in expected] == [FutureWarning]
        assert "renamed to ember.cuda.memory_reserved" in str(caught[0].message) or "max_memory_reserved" in str(
            caught[0].message
        )
    with pytest.warns(FutureWarning, match="reset_peak_memory_stats"):
        ember.cuda.reset_max_memory_cached()


def test_device_contexts_of_nothing_do_nothing():
    # torch's are no-ops too on a CUDA build; its CPU build fails in its own lazy initialization
    _no_cuda()
    with ember.cuda.device_of(ember.zeros(2)), ember.cuda.device(None), ember.cuda.device(-1):
        pass
    with ember.cuda.StreamContext(None) as s:
        assert s is None
    assert isinstance(ember.cuda.stream(None), ember.cuda.StreamContext)


def test_device_errors_are_torchs_classes():
    assert ember.cuda.OutOfMemoryError is ember.OutOfMemoryError
    for ours, theirs in (
        (ember.OutOfMemoryError, torch.OutOfMemoryError),
        (ember.AcceleratorError, torch.AcceleratorError),
    ):
        assert ours.__name__ == theirs.__name__
        assert [c.__name__ for c in ours.__mro__[1:]] == [c.__name__ for c in theirs.__mro__[1:]]
    with pytest.raises(RuntimeError, match="out of memory"):
        raise ember.cuda.OutOfMemoryError("CUDA out of memory")


def test_set_per_process_memory_fraction_checks_its_argument_on_a_gpu():
    _gpu()
    with pytest.raises(TypeError, match="must be `float`"):
        ember.cuda.set_per_process_memory_fraction(1)
    with pytest.raises(ValueError, match="Allowed range"):
        ember.cuda.set_per_process_memory_fraction(1.5)
    assert ember.cuda.get_per_process_memory_fraction() == 1.0
    ember.cuda.set_per_process_memory_fraction(0.75)
    try:
        assert ember.cuda.get_per_process_memory_fraction() == 0.75
        x = ember.ones(1 << 20, device="cuda")
        assert x.sum().item() == 1 << 20
    finally:
        ember.cuda.set_per_process_memory_fraction(1.0)


def test_cuda_queries_on_a_gpu():
    _gpu()
    major, minor = ember.cuda.get_device_capability()
    assert f"sm_{major}{minor}" in ember.cuda.get_arch_list()
    assert f"code=sm_{major}{minor}" in ember.cuda.get_gencode_flags()
    assert ember.cuda.is_tf32_supported() == (major >= 8)
    ember.cuda.manual_seed(1234)
    assert ember.cuda.initial_seed() == 1234
    assert ember.cuda.is_current_stream_capturing() is False
    assert ember.cuda.can_device_access_peer(0, 0) in (True, False)
    with pytest.raises(AssertionError, match="Invalid peer device id"):
        ember.cuda.can_device_access_peer(0, ember.cuda.device_count())
    ember.cuda.ipc_collect()
    nested = ember.cuda.memory_stats_as_nested_dict()
    assert nested["allocated_bytes"]["all"]["current"] == ember.cuda.memory_allocated()
    x = ember.ones(4, device="cuda")
    with ember.cuda.device_of(x):
        assert ember.cuda.current_device() == 0
    assert ember.cuda.nvtx.range_push("outer") == 0
    with ember.cuda.nvtx.range("inner {}", 1):
        ember.cuda.nvtx.mark("here")
    assert ember.cuda.nvtx.range_pop() == 0


def test_sync_debug_mode_reports_copies_to_the_host_on_a_gpu():
    _gpu()
    x = ember.ones(8, device="cuda")
    with pytest.raises(RuntimeError, match="invalid value of debug_mode"):
        ember.cuda.set_sync_debug_mode("loud")
    ember.cuda.set_sync_debug_mode("warn")
    try:
        assert ember.cuda.get_sync_debug_mode() == 1
        with pytest.warns(UserWarning, match="synchronizing CUDA operation"):
            x.sum().item()
        ember.cuda.set_sync_debug_mode("error")
        with pytest.raises(RuntimeError, match="synchronizing CUDA operation"):
            x.tolist()
        y = x * 2  # work that stays on the GPU is not reported
        ember.cuda.synchronize()  # nor a wait asked for by name
    finally:
        ember.cuda.set_sync_debug_mode(0)
    assert y.sum().item() == 16


def test_an_allocation_past_the_memory_cap_raises_torchs_out_of_memory_error():
    _gpu()
    ember.cuda.set_per_process_memory_fraction(0.001)
    try:
        with pytest.raises(ember.OutOfMemoryError, match="CUDA out of memory. Tried to allocate 4.00 GiB"):
            ember.empty(1 << 30, device="cuda")
        x = ember.ones(16, device="cuda")  # the device is still usable
        assert x.sum().item() == 16
    finally:
        ember.cuda.set_per_process_memory_fraction(1.0)
