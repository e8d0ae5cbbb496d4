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


def test_accelerator_without_one_matches_torch():
    if ember.accelerator.is_available():
        pytest.skip("an accelerator is present here")
    assert ember.accelerator.current_accelerator() is torch.accelerator.current_accelerator() is None
    assert ember.accelerator.device_count() == torch.accelerator.device_count() == 0
    assert ember.accelerator.is_available() is torch.accelerator.is_available() is False
    for name in ("current_device_index", "synchronize"):
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available."):
            getattr(torch.accelerator, name)()
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available."):
            getattr(ember.accelerator, name)()
