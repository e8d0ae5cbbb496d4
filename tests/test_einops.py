"""einops on ember tensors (``ember.einops_backend``), against the same einops calls on PyTorch's: values,
dtypes, views, gradients and errors of ``rearrange``/``reduce``/``repeat``/``pack``/``unpack``/``einsum``,
the layers, and einops found whether it is imported before or after ember."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")
einops = pytest.importorskip("einops")
from einops.layers import torch as torch_layers  # noqa: E402

from ember import einops_backend  # noqa: E402

CALLS = [
    ("rearrange", "b c h w -> b h w c", {}),
    ("rearrange", "b c h w -> b (c h w)", {}),
    ("rearrange", "b c (h p) w -> b h (p c) w", {"p": 2}),
    ("rearrange", "b c h w -> (b c) h w", {}),
    ("rearrange", "b c h w -> w h c b", {}),
    ("rearrange", "b ... w -> b w ...", {}),
    ("rearrange", "b c h w -> b c h w 1", {}),
    ("reduce", "b c h w -> b c", {"reduction": "mean"}),
    ("reduce", "b c h w -> b", {"reduction": "sum"}),
    ("reduce", "b c h w -> b h", {"reduction": "max"}),
    ("reduce", "b c h w -> c w", {"reduction": "min"}),
    ("reduce", "b c h w -> b w", {"reduction": "prod"}),
    ("reduce", "b c (h 2) (w 2) -> b c h w", {"reduction": "max"}),
    ("reduce", "b c h w -> b c () ()", {"reduction": "mean"}),
    ("repeat", "b c h w -> b c h w r", {"r": 3}),
    ("repeat", "b c h w -> b (c r) h w", {"r": 2}),
    ("repeat", "b c h w -> (r b) c h w", {"r": 2}),
]


def _pair(device, dtype, shape=(2, 3, 4, 6), seed=0):
    values = np.random.RandomState(seed).randn(*shape)
    t = torch.tensor(values, dtype=getattr(torch, str(dtype).split(".")[-1]), requires_grad=True)
    e = ember.tensor(values, dtype=dtype, device=device, requires_grad=True)
    return t, e


def _close(actual, expected, dtype):
    tolerance = 1e-12 if dtype is ember.float64 else 1e-5
    assert str(actual.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    assert tuple(actual.shape) == tuple(expected.shape)
    np.testing.assert_allclose(actual.detach().cpu().numpy(), expected.detach().numpy(), rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("operation, pattern, kwargs", CALLS)
def test_operation_as_on_torch(device, dtype, operation, pattern, kwargs):
    t, e = _pair(device, dtype)
    expected = getattr(einops, operation)(t, pattern, **kwargs)
    actual = getattr(einops, operation)(e, pattern, **kwargs)
    assert type(actual) is ember.Tensor and actual.device == e.device
    _close(actual, expected, dtype)
    weights = np.random.RandomState(1).randn(*expected.shape)
    (expected * torch.tensor(weights, dtype=expected.dtype)).sum().backward()
    (actual * ember.tensor(weights, dtype=actual.dtype, device=device)).sum().backward()
    _close(e.grad, t.grad, dtype)


@pytest.mark.parametrize("reduction", ["any", "all", "max", "sum"])
def test_reduce_integer_and_bool_as_on_torch(device, reduction):
    values = np.random.RandomState(0).randint(0, 3, size=(2, 3, 4))
    dtype = "bool" if reduction in ("any", "all") else "int64"
    t = torch.tensor(values).to(getattr(torch, dtype))
    e = ember.tensor(values, device=device).to(getattr(ember, dtype))
    expected = einops.reduce(t, "a b c -> b", reduction)
    actual = einops.reduce(e, "a b c -> b", reduction)
    assert str(actual.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_array_equal(actual.cpu().numpy(), expected.numpy())


def test_mean_of_integers_refused_as_on_torch(device):
    for T in (torch, ember):
        with pytest.raises(NotImplementedError, match="reduce_mean is not available for non-floating"):
            einops.reduce(T.ones(2, 3, dtype=T.int64), "a b -> a", "mean")


def test_rearrange_gives_a_view_as_on_torch(device):
    e = ember.zeros(2, 3, 4, device=device)
    moved = einops.rearrange(e, "a b c -> c a b")
    moved[0, 0, 0] = 5.0  # permute, as PyTorch's backend: the same storage
    assert e[0, 0, 0].item() == 5.0
    repeated = einops.repeat(e, "a b c -> a b c r", r=2)
    assert repeated.stride()[-1] == 0  # expand: a broadcast view, no copy


def test_pack_unpack_and_einsum_as_on_torch(device, dtype):
    (t, e), (t2, e2) = _pair(device, dtype, (2, 3, 4)), _pair(device, dtype, (2, 4), seed=1)
    packed, shapes = einops.pack([e, e2], "b *")
    expected, expected_shapes = einops.pack([t, t2], "b *")
    _close(packed, expected, dtype)
    assert [tuple(s) for s in shapes] == [tuple(s) for s in expected_shapes]
    for actual, original in zip(einops.unpack(packed, shapes, "b *"), (t, t2)):
        _close(actual, original, dtype)
    _close(einops.einsum(e, e2, "b c n, b n -> b c"), einops.einsum(t, t2, "b c n, b n -> b c"), dtype)
    assert einops.parse_shape(e, "b _ n") == {"b": 2, "n": 4}
    np.testing.assert_array_equal(einops.asnumpy(e), t.detach().numpy())


def test_errors_as_on_torch(device):
    for T in (torch, ember):
        x = T.zeros(2, 3)
        with pytest.raises(einops.EinopsError, match="Shape mismatch"):
            einops.rearrange(x, "a (b c) -> a b c", b=2)
        with pytest.raises(einops.EinopsError, match="Wrong shape"):
            einops.rearrange(x, "a b c -> a b c")


def test_layers_as_einops_torch_layers(dtype):
    ember.manual_seed(0)
    torch_dtype = getattr(torch, str(dtype).split(".")[-1])
    torch_model = torch.nn.Sequential(
        torch_layers.Rearrange("b c (h p) -> b h (p c)", p=2),
        torch_layers.EinMix("b h c -> b h k", weight_shape="c k", bias_shape="k", c=6, k=5),
        torch_layers.Reduce("b h k -> b k", "max"),
    ).to(torch_dtype)
    model = ember.nn.Sequential(
        einops_backend.Rearrange("b c (h p) -> b h (p c)", p=2),
        einops_backend.EinMix("b h c -> b h k", weight_shape="c k", bias_shape="k", c=6, k=5),
        einops_backend.Reduce("b h k -> b k", "max"),
    ).to(dtype)
    assert [name for name, _ in model.named_parameters()] == [name for name, _ in torch_model.named_parameters()]
    assert repr(model) == repr(torch_model)
    model.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in torch_model.state_dict().items()})
    values = np.random.RandomState(0).randn(4, 3, 8)
    expected = torch_model(torch.tensor(values, dtype=torch_dtype))
    actual = model(ember.tensor(values, dtype=dtype))
    _close(actual, expected, dtype)
    expected.sum().backward()
    actual.sum().backward()
    for p, q in zip(model.parameters(), torch_model.parameters()):
        _close(p.grad, q.grad, dtype)
    fresh = einops_backend.EinMix("b c -> b k", weight_shape="c k", c=6, k=5)
    bound = (3 / 6) ** 0.5  # einops' uniform bound for a weight with fan-in c = 6
    assert fresh.bias is None and 0.5 * bound < fresh.weight.detach().abs().max().item() <= bound


def test_backend_reports_its_layers():
    backend = einops._backends.get_backend(ember.zeros(1))
    assert isinstance(backend, einops_backend.EmberBackend) and backend.layers() is einops_backend
    from_numpy = backend.from_numpy(np.zeros(2))
    assert from_numpy.requires_grad and not backend.from_numpy(np.zeros(2, dtype=np.int64)).requires_grad


@pytest.mark.parametrize("first", ["einops", "ember"])
def test_found_whichever_is_imported_first(first):
    second = {"einops": "ember", "ember": "einops"}[first]
    program = (
        f"import {first}, {second}\n"
        "from einops import rearrange\n"
        "x = ember.arange(6.0).reshape(2, 3)\n"
        "print(type(rearrange(x, 'a b -> b a')).__name__, rearrange(x, 'a b -> b a').tolist())\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert result.stdout.split(" ", 1) == ["Tensor", "[[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]\n"]
