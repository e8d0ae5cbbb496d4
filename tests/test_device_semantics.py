"""Device objects and the devices tensors report, against PyTorch: construction, printing,
equality, hashing, pickling, the errors for bad devices, and where ``"cuda"``-style devices
without index send a tensor."""

from __future__ import annotations

import pickle

import pytest

import ember

torch = pytest.importorskip("torch")

# (args of the device constructor): each spelling PyTorch accepts
DEVICE_ARGS = [
    ("cpu",),
    ("cpu:0",),
    ("cpu:1",),
    ("cpu", 0),
    ("cuda",),
    ("cuda:0",),
    ("cuda:1",),
    ("cuda", 0),
    ("cuda", None),
    ("cuda:12",),
    ("meta",),
    ("meta:0",),
    ("opencl",),
    ("opencl:0",),
    ("mps:1",),
    ("xla", 3),
]


def both(args):
    return ember.device(*args), torch.device(*args)


@pytest.mark.parametrize("args", DEVICE_ARGS, ids=str)
def test_device_fields_and_printing_match_torch(args):
    e, t = both(args)
    assert (e.type, e.index) == (t.type, t.index)
    assert repr(e) == repr(t) and str(e) == str(t) and f"{e}" == f"{t}"


def test_device_equality_and_hashing_match_torch():
    pairs = [both(a) for a in DEVICE_ARGS]
    for e1, t1 in pairs:
        for e2, t2 in pairs:
            assert (e1 == e2) is (t1 == t2), (e1, e2)
            if t1 == t2:
                assert hash(e1) == hash(e2)
    for e, t in pairs:  # a device is never equal to its string, as in PyTorch
        assert (e == str(e)) is (t == str(t)) is False
        assert (e != str(e)) is (t != str(t)) is True


@pytest.mark.parametrize("args", DEVICE_ARGS, ids=str)
def test_device_pickles_and_copies_from_a_device(args):
    e, t = both(args)
    assert pickle.loads(pickle.dumps(e)) == e
    assert e.__reduce__()[1] == t.__reduce__()[1]
    assert ember.device(e) == e and ember.device(type=str(e)) == e


@pytest.mark.parametrize(
    "args",
    [
        ("cuda:-1",),
        ("cuda", -1),
        ("cuda:0:1",),
        ("cuda:01",),
        ("cuda:",),
        ("cuda: 1",),
        (" cuda",),
        ("cpu:+1",),
        ("cuda:1", 1),
        ("foo",),
        ("foo:0",),
        ("CUDA",),
        ("",),
        ("cuda", 1.0),
        ("cuda", True),
        (None,),
        (1.0,),
        (["cpu"],),
        (-1,),
        (0, 1),
    ],
    ids=str,
)
def test_bad_devices_raise_torchs_errors(args):
    with pytest.raises(Exception) as expected:
        torch.device(*[torch.device(a) if isinstance(a, ember.device) else a for a in args])
    with pytest.raises(type(expected.value)) as got:
        ember.device(*args)
    if isinstance(expected.value, RuntimeError) and "Expected one of" not in str(expected.value):
        assert str(got.value) == str(expected.value)


def test_unknown_device_type_lists_the_known_ones():
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda, .* device type at start of device string: foo"):
        ember.device("foo")


def test_device_of_a_device_with_an_index_is_a_type_error():
    with pytest.raises(TypeError, match="must be str"):
        ember.device(ember.device("cuda"), 1)


def test_device_is_immutable():
    with pytest.raises(AttributeError, match="not writable"):
        ember.device("cpu").index = 1  # type: ignore[misc]


def test_an_int_device_needs_an_accelerator():
    if ember.accelerator.is_available():
        kind = ember.accelerator.current_accelerator().type
        assert ember.device(0) == ember.device(kind, 0)
        return
    for make in (lambda T: T.device(0), lambda T: T.zeros(1, device=0), lambda T: T.zeros(1).to(0)):
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available."):
            make(torch)
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available."):
            make(ember)


@pytest.mark.parametrize("spec", ["cpu", "cpu:0", ember.device("cpu"), None])
def test_cpu_tensors_report_the_cpu_without_index(spec):
    for lib in (ember, torch):
        named = str(spec) if lib is torch and isinstance(spec, ember.device) else spec
        x = lib.zeros(2, device=named)
        y = lib.tensor([1.0], device=named)
        assert repr(x.device) == repr(y.device) == "device(type='cpu')"
        assert x.get_device() == -1 and x.is_cpu and not x.is_cuda and not x.is_meta


def test_meta_tensors_report_meta_without_index():
    for lib in (ember, torch):
        x = lib.zeros(2, device="meta:0")
        assert repr(x.device) == "device(type='meta')" and x.get_device() == -1 and x.is_meta
        assert x.to("meta") is x and x.to("meta:0") is not x


def test_to_cpu_returns_self_and_to_cpu_0_copies():
    for lib in (ember, torch):
        x = lib.zeros(2)
        assert x.to("cpu") is x and x.to(lib.device("cpu")) is x and x.cpu() is x
        y = x.to("cpu:0")  # PyTorch compares the device as named: cpu:0 is not cpu, so it copies
        assert y is not x and repr(y.device) == "device(type='cpu')"
        y[0] = 1.0
        assert x[0].item() == 0.0


def test_module_to_cpu_0_keeps_cpu_parameters():
    for lib in (ember, torch):
        m = lib.nn.Linear(2, 2).to("cpu:0")
        assert repr(m.weight.device) == "device(type='cpu')"


@pytest.mark.parametrize("default", ["cpu", "cpu:0", "meta"])
def test_default_device_as_torch_reports_it(default):
    got = {}
    for lib in (ember, torch):
        lib.set_default_device(default)
        try:
            got[lib] = (repr(lib.get_default_device()), repr(lib.zeros(1).device))
        finally:
            lib.set_default_device(None)
        assert repr(lib.get_default_device()) == "device(type='cpu')"
    assert got[ember] == got[torch]


def test_device_context_manager_sets_the_default_device():
    with ember.device("meta"):
        assert ember.get_default_device() == ember.device("meta") and ember.zeros(1).is_meta
        with ember.device("cpu:0"):
            assert ember.get_default_device() == ember.device("cpu", 0)
            assert ember.zeros(1).device == ember.device("cpu")
        assert ember.zeros(1).is_meta
    assert ember.get_default_device() == ember.device("cpu")


def test_generator_and_storage_devices_match_torch():
    for lib in (ember, torch):
        assert repr(lib.Generator("cpu:0").device) == "device(type='cpu')"
        assert repr(lib.zeros(1).untyped_storage().device) == "device(type='cpu')"
        assert tuple(int(v) for v in lib.zeros(1).__dlpack_device__()) == (1, 0)


def test_accelerator_tensors_report_their_index(device):
    dev = ember.device(device)
    if dev.type == "cpu" or dev.type == "restricted":
        pytest.skip("a host device: its tensors report no index")
    x = ember.zeros(2, device=dev.type)  # no index: the current device of the type
    assert x.device == ember.device(dev.type, 0) and x.get_device() == 0
    assert str(x.device) == f"{dev.type}:0" and not x.is_cpu
    assert x.to(dev.type) is x and x.to(f"{dev.type}:0") is x
    assert ember.tensor([1.0], device=dev.type).device == x.device
    assert ember.Generator(dev.type).device == x.device
    assert ember.zeros(1).to(dev.type).device == x.device
    with ember.device(dev.type):  # a default without index reports the tensors' device, as torch's
        assert ember.get_default_device() == x.device and ember.zeros(1).device == x.device


def test_accelerator_without_one_matches_torch():
    if ember.accelerator.is_available():
        pytest.skip("an accelerator is present here")
    assert ember.accelerator.current_accelerator() is torch.accelerator.current_accelerator() is None
    assert ember.accelerator.device_count() == torch.accelerator.device_count() == 0
    assert ember.accelerator.is_available() is torch.accelerator.is_available() is False
    assert ember.accelerator.device_index(None).__enter__() is torch.accelerator.device_index(None).__enter__() is None
    for name in (
        "current_device_index",
        "synchronize",
        "current_stream",
        "reset_accumulated_memory_stats",
        "get_device_capability",
    ):
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available."):
            getattr(torch.accelerator, name)()
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available."):
            getattr(ember.accelerator, name)()


def _outcome(call):
    """``("ok", repr of the result)`` or ``(error type name, message)``, with the library's name
    taken out of the text."""
    try:
        result = call()
    except Exception as exc:  # noqa: BLE001 - the error is the outcome compared
        return type(exc).__name__, str(exc).replace("torch", "ember")
    return "ok", repr(result).replace("torch", "ember")


@pytest.mark.parametrize("spec", ["cpu", "cpu:0", "cuda", "cuda:1", None, 0, "meta", "opencl", "foo", "cuda:x"])
def test_get_device_module_matches_torch(spec):
    assert ember.get_device_module(ember.device("cuda", 1)) is ember.cuda

    def module_name(lib):
        return lambda: lib.get_device_module(spec).__name__

    if spec is None and ember.accelerator.is_available():
        pytest.skip("an accelerator is present here")
    expected, got = _outcome(module_name(torch)), _outcome(module_name(ember))
    if "Expected one of" in expected[1]:  # ember lists its plugins' device types as well
        expected, got = (expected[0], expected[1][-40:]), (got[0], got[1][-40:])
    assert got == expected


def test_cpu_device_module_matches_torch():
    for lib in (ember, torch):
        mod = lib.get_device_module("cpu")
        assert (mod.current_device(), mod.device_count(), mod.is_available(), mod.is_initialized()) == (
            "cpu",
            1,
            True,
            True,
        )
        assert mod.synchronize() is None and mod.set_device("cpu") is None
        s = mod.Stream()
        assert mod.current_stream() is mod.current_stream() and mod.current_stream() is not s
        with mod.stream(s):
            assert mod.current_stream() is s
        with mod.stream(None):
            assert mod.current_stream() is not s
        e = mod.Event()
        assert e.record() is None and e.query() is True and e.wait() is None and s.record_event() is None


STREAM_CALLS = {
    "repr": lambda T: T.Stream(),
    "repr_meta": lambda T: T.Stream("meta"),
    "device": lambda T: T.Stream("cpu:0").device,
    "fields": lambda T: (
        T.Stream().device_type,
        T.Stream().device_index,
        T.Stream().stream_id,
        T.Stream("meta").device_type,
    ),
    "query": lambda T: T.Stream().query(),
    "synchronize": lambda T: T.Stream().synchronize(),
    "record_event": lambda T: T.Stream().record_event(),
    "wait_stream": lambda T: T.Stream("meta").wait_stream(T.Stream()),
    "wait_event": lambda T: T.Stream().wait_event(T.Event()),
    "equal": lambda T: (T.Stream() == T.Stream("cpu"), T.Stream() == T.Stream("meta"), T.Stream() == 1),
    "hash": lambda T: hash(T.Stream()) == hash(T.Stream("cpu")),
    "context": lambda T: (lambda s: s.__enter__() is s)(T.Stream()),
    "native_handle": lambda T: T.Stream().native_handle,
    "is_capturing": lambda T: T.Stream().is_capturing(),
    "int_device": lambda T: T.Stream(0),
    "bad_device": lambda T: T.Stream("cuda:x"),
    "event_repr": lambda T: T.Event(enable_timing=True),
    "event_device": lambda T: T.Event("meta").device,
    "event_record": lambda T: T.Event().record(),
    "event_record_meta": lambda T: T.Event("meta").record(),
    "event_query": lambda T: (T.Event().query(), T.Event().synchronize(), T.Event().wait()),
    "event_elapsed_untimed": lambda T: T.Event().elapsed_time(T.Event()),
    "event_elapsed_unrecorded": lambda T: T.Event(enable_timing=True).elapsed_time(T.Event(enable_timing=True)),
}


@pytest.mark.parametrize("name", list(STREAM_CALLS))
def test_generic_stream_and_event_on_the_cpu_match_torch(name):
    if ember.accelerator.is_available() or torch.accelerator.is_available():
        pytest.skip("the default device of a stream is the accelerator's here")
    expected, got = _outcome(lambda: STREAM_CALLS[name](torch)), _outcome(lambda: STREAM_CALLS[name](ember))
    if "Expected one of" in expected[1]:
        expected, got = (expected[0], expected[1][-40:]), (got[0], got[1][-40:])
    assert got == expected


def test_default_device_is_per_thread():
    import threading

    for lib in (ember, torch):
        seen = []

        def report(lib=lib, seen=seen):
            seen.append((repr(lib.get_default_device()), repr(lib.zeros(1).device)))

        lib.set_default_device("meta")
        try:
            worker = threading.Thread(target=report)
            worker.start()
            worker.join()
            assert lib.zeros(1).is_meta
        finally:
            lib.set_default_device(None)
        with lib.device("meta"):
            worker = threading.Thread(target=report)
            worker.start()
            worker.join()
        assert seen == [("device(type='cpu')", "device(type='cpu')")] * 2


def test_asarray_refuses_to_alias_onto_another_device_as_torch():
    for lib in (ember, torch):
        x = lib.zeros(2)
        assert lib.asarray(x, device="cpu", copy=False) is x
        with pytest.raises(ValueError, match=r"^can't alias tensor from device 'cpu' to 'cpu:0'\.$"):
            lib.asarray(x, device="cpu:0", copy=False)


def test_devices_in_checkpoints_round_trip_with_torch():
    import io

    specs = [("cuda",), ("cpu",), ("cuda", 1), ("cpu:0",)]
    buffer = io.BytesIO()
    ember.save([ember.device(*s) for s in specs], buffer)
    buffer.seek(0)
    assert torch.load(buffer, weights_only=True) == [torch.device(*s) for s in specs]
    buffer = io.BytesIO()
    torch.save([torch.device(*s) for s in specs], buffer)
    buffer.seek(0)
    assert ember.load(buffer) == [ember.device(*s) for s in specs]
