"""PyTorch's namespaces and conveniences programs reach for first, against the real torch.

``size=`` on the factories, the device/layout properties of a tensor, ``ember.accelerator``
and NumPy arrays as operands of the operators.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

SIZE_CALLS = [
    "zeros(size=(2, 3))",
    "ones(size=[4])",
    "empty(size=())",
    "rand(size=(2, 3))",
    "randn(size=(3,))",
    "full(size=(2,), fill_value=3.0)",
    "randint(10, size=(3,))",
    "randint(high=10, size=(3, 2))",
    "randint(low=2, high=10, size=(3,))",
    "randint(3, 10, (2,))",
    "randint(10, (2,))",
    "zeros((2, 3))",
    "zeros([2, 3])",
]


@pytest.mark.parametrize("call", SIZE_CALLS)
def test_size_keyword_matches_torch(call, device):
    expected = eval(f"torch.{call}")
    got = eval(f"ember.{call[:-1]}, device={device!r})" if not call.endswith("()") else f"ember.{call}")
    assert tuple(got.shape) == tuple(expected.shape)
    assert got.dtype.name == str(expected.dtype).split(".")[1]
    assert got.device == ember.device(device)


@pytest.mark.parametrize("method", ["new_zeros", "new_ones", "new_empty"])
def test_new_methods_take_size_keyword(method, device):
    x = ember.ones(2, device=device)
    got = getattr(x, method)(size=(2, 3))
    assert tuple(got.shape) == tuple(getattr(torch.ones(2), method)(size=(2, 3)).shape)
    assert got.device == x.device


@pytest.mark.parametrize(
    "call",
    ["zeros(size=2)", "zeros(size=None)", "zeros(2, size=(2,))", "randn(2, size=(3,))", "rand(size=3)"],
)
def test_size_keyword_errors_as_torch(call):
    with pytest.raises(TypeError) as expected:
        eval(f"torch.{call}")
    with pytest.raises(TypeError, match="size") as got:
        eval(f"ember.{call}")
    assert type(got.value) is type(expected.value)


def test_like_factories_take_input_keyword(device):
    x = ember.ones(2, 3, device=device)
    assert tuple(ember.zeros_like(input=x).shape) == (2, 3)
    assert tuple(ember.randint_like(x, 5).shape) == (2, 3)


def test_device_and_layout_properties(device):
    x = ember.ones(2, device=device)
    t = torch.ones(2)
    for name in ("is_xpu", "is_mps", "is_meta", "is_sparse"):
        assert getattr(x, name) is getattr(t, name) is False
    assert x.is_cpu is (ember.device(device).type == "cpu")
    assert x.layout is ember.strided
    assert repr(ember.strided) == "ember.strided"
    sparse = ember.sparse_coo_tensor([[0, 1]], [1.0, 2.0], (3,))
    assert sparse.layout is ember.sparse_coo and sparse.layout != ember.strided


def test_layout_pickles_to_the_same_object():
    import pickle

    assert pickle.loads(pickle.dumps(ember.sparse_coo)) is ember.sparse_coo


_FORMATS = ("contiguous_format", "channels_last", "channels_last_3d", "preserve_format")


def test_memory_formats_are_torchs_names():
    import pickle

    for name in _FORMATS:
        fmt = getattr(ember, name)
        assert isinstance(fmt, ember.memory_format)
        assert repr(fmt) == repr(getattr(torch, name)).replace("torch.", "ember.")
        assert pickle.loads(pickle.dumps(fmt)) is fmt


def test_channels_last_in_a_conv_program_matches_torch(device):
    # model.to(memory_format=...) and input.to(memory_format=...), as an image-classification script does
    conv_e, conv_t = ember.nn.Conv2d(3, 4, 3).to(device), torch.nn.Conv2d(3, 4, 3)
    conv_e.load_state_dict({k: ember.tensor(v.numpy(), device=device) for k, v in conv_t.state_dict().items()})
    conv_e = conv_e.to(memory_format=ember.channels_last)
    conv_t = conv_t.to(memory_format=torch.channels_last)
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 5)).astype(np.float32)
    got = conv_e(ember.tensor(x, device=device).to(device, memory_format=ember.channels_last, non_blocking=True))
    want = conv_t(torch.tensor(x).to("cpu", memory_format=torch.channels_last, non_blocking=True))
    np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "call",
    [
        lambda T, x: x.to(memory_format=T.channels_last),
        lambda T, x: x.contiguous(memory_format=T.channels_last),
        lambda T, x: x.clone(memory_format=T.channels_last_3d),
        lambda T, x: x.to(memory_format="channels_last"),
    ],
)
def test_memory_format_refusals_match_torch(device, call):
    with pytest.raises((RuntimeError, TypeError)) as want:
        call(torch, torch.ones(2, 3))
    with pytest.raises(want.type) as got:
        call(ember, ember.ones(2, 3, device=device))
    if want.type is RuntimeError:
        assert str(got.value) == str(want.value)


def test_is_contiguous_in_a_memory_format_matches_torch(device):
    x = np.arange(120.0).reshape(2, 3, 4, 5)
    cases = [
        lambda T, t: t,
        lambda T, t: t[:, :1],
        lambda T, t: t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2),
        lambda T, t: t.reshape(1, 2, 3, 4, 5),
        lambda T, t: t.reshape(1, 2, 3, 4, 5).permute(0, 2, 3, 4, 1).contiguous().permute(0, 4, 1, 2, 3),
        lambda T, t: t[0],
    ]
    for make in cases:
        e, t = make(ember, ember.tensor(x, device=device)), make(torch, torch.tensor(x))
        for name in _FORMATS[:3]:
            assert e.is_contiguous(memory_format=getattr(ember, name)) == t.is_contiguous(
                memory_format=getattr(torch, name)
            )


# -- ember.accelerator ----------------------------------------------------------------------
def test_accelerator_without_one_answers_as_torch_cpu(monkeypatch):
    monkeypatch.setenv("EMBER_ACCELERATOR", "no_such_device")
    acc = ember.accelerator
    if torch.accelerator.is_available():  # pragma: no cover - a torch build with a GPU
        pytest.skip("the reference torch has an accelerator")
    assert acc.is_available() is torch.accelerator.is_available() is False
    assert acc.current_accelerator() is torch.accelerator.current_accelerator() is None
    assert acc.current_accelerator(check_available=True) is None
    assert acc.device_count() == torch.accelerator.device_count() == 0
    for name, args in (("current_device_index", ()), ("synchronize", ()), ("set_device_index", (0,))):
        with pytest.raises(RuntimeError) as expected:
            getattr(torch.accelerator, name)(*args)
        with pytest.raises(RuntimeError) as got:
            getattr(acc, name)(*args)
        assert str(got.value) == str(expected.value)
    with acc.device_index(None):  # None switches nothing, as in torch
        pass


def test_accelerator_selected_by_environment(monkeypatch):
    from ember.plugin import backend_registry

    try:
        backend = backend_registry().backend_for("opencl")
    except RuntimeError as exc:
        pytest.skip(f"no opencl backend: {exc}")
    monkeypatch.setenv("EMBER_ACCELERATOR", "opencl")
    acc = ember.accelerator
    assert acc.is_available() is (backend.device_count() > 0)
    assert acc.current_accelerator() == ember.device("opencl")
    assert acc.device_count() == backend.device_count()
    assert acc.current_device_index() == 0
    acc.set_device_index("opencl:0")
    with acc.device_index(0):
        assert acc.current_device_index() == 0
    acc.synchronize()
    with pytest.raises(ValueError, match="doesn't match"):
        acc.set_device_index("cpu")
    with pytest.raises(RuntimeError, match="out of range"):
        acc.set_device_index(backend.device_count())


def test_accelerator_is_cuda_where_a_gpu_is(monkeypatch):
    monkeypatch.delenv("EMBER_ACCELERATOR", raising=False)
    if not ember.cuda.is_available():
        pytest.skip("no CUDA device (this test runs on the GPU check)")
    acc = ember.accelerator
    assert acc.is_available() and acc.current_accelerator() == ember.device("cuda")
    assert acc.device_count() == ember.cuda.device_count() >= 1
    acc.set_device_index(0)
    assert acc.current_device_index() == ember.cuda.current_device() == 0
    x = ember.ones(1000, device=acc.current_accelerator())
    acc.synchronize()
    assert acc.memory_allocated() >= x.numel() * 4
    with acc.device_index(0):
        assert (x * 2).sum().item() == 2000


# -- NumPy arrays as operands ---------------------------------------------------------------
OPERAND_CASES = [
    ("t + a", "float32", "float64"),
    ("t - a", "float32", "float64"),
    ("t * a", "float32", "int64"),
    ("t / a", "float32", "float64"),
    ("t + a", "float32", "float16"),
    ("t + a", "int64", "float64"),
    ("t + a", "uint8", "int8"),
    ("t + a", "int32", "int8"),
    ("a / t", "float32", "float32"),
    ("a + t", "float32", "float32"),
    ("a * t", "float64", "float32"),
    ("t @ a", "float32", "float64"),
    ("a == t", "float32", "float64"),
    ("t > a", "float32", "float32"),
]


@pytest.mark.parametrize("expr,tdtype,adtype", OPERAND_CASES)
def test_numpy_array_operands(expr, tdtype, adtype, device):
    if not ember.backends.get_backend(device).supports_float64 and "float64" in (tdtype, adtype):
        pytest.skip(f"{device} has no float64")
    if "float16" in (tdtype, adtype) and device.startswith("opencl"):
        pytest.skip("the opencl backend has no float16")
    values = np.arange(1, 4)
    a = values.astype(adtype)
    got = eval(expr, {}, {"a": a, "t": ember.tensor(values, dtype=getattr(ember, tdtype), device=device)})
    try:
        expected = eval(expr, {}, {"a": a, "t": torch.tensor(values, dtype=getattr(torch, tdtype))})
    except TypeError:  # torch's operators reject a few of these orders; its result dtype is NumPy's
        expected = torch.from_numpy(np.asarray(eval(expr, {}, {"a": a, "t": values.astype(tdtype)})))
    assert isinstance(got, ember.Tensor) and got.device == ember.device(device)
    assert got.dtype.name == str(expected.dtype).split(".")[1]
    np.testing.assert_array_equal(got.cpu().numpy(), expected.numpy())


def test_numpy_zero_dim_array_is_not_a_weak_scalar(device):
    if not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    got = ember.ones(3, device=device) + np.array(2.0)
    assert (torch.ones(3) + np.array(2.0)).dtype is torch.float64
    assert got.dtype is ember.float64


def test_numpy_scalars_are_weak_like_python_numbers(device):
    x = ember.ones(3, dtype=ember.int32, device=device)
    assert (np.int64(3) * x).dtype is ember.int32
    assert (np.int64(3) * torch.ones(3, dtype=torch.int32)).dtype is torch.int32
    assert (ember.ones(3, device=device) + np.float64(2)).dtype is ember.float32


def test_numpy_operand_keeps_autograd(device):
    x = ember.ones(3, device=device, requires_grad=True)
    (x * np.full(3, 2.0, dtype=np.float32)).sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [2.0, 2.0, 2.0])
