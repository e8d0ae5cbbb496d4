"""PyTorch's top-level names added late to ember, each against torch: ``hash_tensor``, ``cond`` and
``while_loop`` (eager), the ``sym_*`` helpers, ``grid_sampler``/``grid_sampler_2d``/``grid_sampler_3d``,
``max_pool1d_with_indices``, ``resize_as_``, and the linear-algebra functions PyTorch removed in 1.9
(``matrix_rank``, ``solve``, ``lstsq``, ``eig``, ``symeig``), which raise as PyTorch's do."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

HASHED = ["float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool"]


def _on(device, t):
    """The ember copy of torch tensor ``t`` on ``device``."""
    data = t.float().numpy() if t.dtype == torch.bfloat16 else t.numpy()
    return ember.tensor(data, device=device).to(getattr(ember, str(t.dtype).split(".")[-1]))


def _errors_alike(call):
    """Call ``call(torch)`` and ``call(ember)``; both must raise the same exception type (returned), or ember
    the builtin type PyTorch's compiler-specific one derives from (its UncapturedHigherOrderOpError is a
    RuntimeError)."""
    raised = []
    for T in (torch, ember):
        with pytest.raises(Exception) as info:  # noqa: PT011 - the type is compared below
            call(T)
        raised.append(type(info.value))
    assert raised[0] is raised[1] or (raised[1] is RuntimeError and issubclass(raised[0], RuntimeError)), raised
    return raised[1]


@pytest.mark.parametrize("name", HASHED)
@pytest.mark.parametrize("kwargs", [{}, {"dim": 1}, {"dim": (0, -1), "keepdim": True}, {"dim": 0, "keepdim": True}])
def test_hash_tensor_as_torch(device, name, kwargs):
    if device.startswith("opencl"):
        pytest.skip("the OpenCL backend has no uint64 arrays")
    values = torch.tensor(np.random.RandomState(0).randn(3, 4, 5) * 100)
    # a NaN's payload after a cast to bfloat16 is PyTorch's own (0xFFFF); the hash of the bits is what is compared
    values[0, 0, :2] = torch.tensor([-0.0, 7.0 if name == "bfloat16" else float("nan")])
    t = values.to(getattr(torch, name))
    expected = torch.hash_tensor(t, **kwargs)
    actual = ember.hash_tensor(_on(device, t), **kwargs)
    assert actual.dtype is ember.uint64 and tuple(actual.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(actual.cpu().numpy(), expected.numpy())
    assert not actual.requires_grad


@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.hash_tensor(T.empty(0)),
        lambda T: T.hash_tensor(T.empty(2, 0), 1),
        lambda T: T.hash_tensor(T.ones(2), mode=1),
        lambda T: T.hash_tensor(T.ones(2, dtype=T.complex64)),
        lambda T: T.hash_tensor(T.ones(2, 3), (0, 0)),
        lambda T: T.hash_tensor(T.ones(2), 3),
    ],
)
def test_hash_tensor_errors_as_torch(call):
    _errors_alike(call)


def test_hash_tensor_method_and_empty_rows():
    x = torch.arange(6.0).reshape(2, 3)
    assert ember.tensor(x.numpy()).hash_tensor().item() == x.hash_tensor().item()
    assert tuple(ember.hash_tensor(ember.empty(2, 0), 0).shape) == (0,)


def test_cond_runs_the_branch_and_its_gradient():
    outputs = []
    for T in (torch, ember):
        x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        r = T.cond(x.sum() > 1, lambda a: (a * a).sum(), lambda a: a.sum(), (x,))
        r.backward()
        low = T.cond(T.tensor(False), lambda a: (a + 1, a * 2), lambda a: (a - 1, a / 2), [x.detach()])
        const = T.cond(0, lambda a: a + 1, lambda a: a - 1, (x.detach(),))
        outputs.append([r.item(), x.grad.tolist(), [v.tolist() for v in low], const.tolist()])
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.cond(T.ones(2) > 0, lambda a: a + 1, lambda a: a - 1, (T.ones(2),)),
        lambda T: T.cond("yes", lambda a: a, lambda a: a, (T.ones(2),)),
        lambda T: T.cond(T.tensor(True), lambda a: a + 1, lambda a: a - 1, (T.ones(2), 2)),
        lambda T: T.cond(T.tensor(True), 1, lambda a: a, (T.ones(2),)),
    ],
)
def test_cond_refuses_what_torch_refuses(call):
    assert issubclass(_errors_alike(call), RuntimeError)


def test_cond_refuses_a_branch_returning_its_operand():
    x = ember.ones(4)
    with pytest.raises(RuntimeError, match="aliasing"):
        ember.cond(x.sum() > 1, lambda a: a.view(2, 2), lambda a: a.view(2, 2) + 1, (x,))
    assert ember.cond(x.sum() > 1, lambda a: a.clone(), lambda a: a + 1, (x,)).tolist() == [1.0] * 4


def test_while_loop_as_torch():
    results = []
    for T in (torch, ember):
        a = T.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x * 2), (T.tensor(0), T.ones(2)))
        b = T.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x * 2), (0, T.ones(2)))
        c = T.while_loop(lambda i: i < 3, lambda i: i + 1, (T.tensor(0),))
        d = T.while_loop(lambda i, x: i < 0, lambda i, x: (i + 1, x * 2), (T.tensor(0), T.ones(2)))
        results.append([a[0].item(), a[1].tolist(), b[0], b[1].tolist(), c.item(), d[0].item(), d[1].tolist()])
    assert results[0] == results[1]


@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.while_loop(lambda i: i - 3, lambda i: (i + 1,), (T.tensor(0),)),
        lambda T: T.while_loop(lambda i: i < 3, lambda i: (i + 1,), (T.zeros(2),)),
        lambda T: T.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1,), (T.tensor(0), T.ones(2))),
        lambda T: T.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, T.cat([x, x])), (T.tensor(0), T.ones(2))),
        lambda T: T.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x), (T.tensor(0), T.ones(2))),
        lambda T: T.while_loop(lambda i: i < 3, lambda i: (i + 1,), (1.5,)),
    ],
)
def test_while_loop_refuses_what_torch_refuses(call):
    _errors_alike(call)


def test_sym_helpers_as_torch():
    for name, args in [
        ("sym_int", (-3.7,)),
        ("sym_float", (3,)),
        ("sym_max", (2, 5)),
        ("sym_max", (2, 5.0)),
        ("sym_min", (2.0, 5)),
        ("sym_not", (True,)),
        ("sym_ite", (False, 1, 2)),
        ("sym_sqrt", (4,)),
        ("sym_sum", ([1, 2, 3],)),
        ("sym_sum", (1, 2.5)),
    ]:
        expected, actual = getattr(torch, name)(*args), getattr(ember, name)(*args)
        assert type(actual) is type(expected) and actual == expected, name
    for call in (lambda T: T.sym_max("a", 1), lambda T: T.sym_ite(1, 2, 3), lambda T: T.sym_ite(True, 1, 2.0)):
        assert _errors_alike(call) is AssertionError


@pytest.mark.parametrize("interpolation", [0, 1, 2])
@pytest.mark.parametrize("padding", [0, 1, 2])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sampler_codes_as_torch(device, dtype, interpolation, padding, align_corners):
    g, tdtype = torch.Generator().manual_seed(0), getattr(torch, str(dtype).split(".")[-1])
    x = torch.randn(2, 3, 4, 5, generator=g, dtype=tdtype)
    grid = torch.rand(2, 3, 2, 2, generator=g, dtype=tdtype) * 2.4 - 1.2
    expected = torch.grid_sampler(x, grid, interpolation, padding, align_corners)
    actual = ember.grid_sampler(_on(device, x), _on(device, grid), interpolation, padding, align_corners)
    np.testing.assert_allclose(actual.cpu().numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
    actual_2d = ember.grid_sampler_2d(_on(device, x), _on(device, grid), interpolation, padding, align_corners)
    np.testing.assert_allclose(actual_2d.cpu().numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)


def test_grid_sampler_3d_as_torch(device):
    g = torch.Generator().manual_seed(1)
    x, grid = torch.randn(1, 2, 3, 4, 5, generator=g), torch.rand(1, 2, 2, 3, 3, generator=g) * 2 - 1
    for interpolation in (0, 1):
        expected = torch.grid_sampler_3d(x, grid, interpolation, 1, False)
        actual = ember.grid_sampler_3d(_on(device, x), _on(device, grid), interpolation, 1, False)
        np.testing.assert_allclose(actual.cpu().numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.grid_sampler_2d(T.ones(2, 4, 4), T.zeros(3, 3, 2), 0, 0, False),
        lambda T: T.grid_sampler_3d(T.ones(1, 2, 4, 4), T.zeros(1, 3, 3, 2), 0, 0, False),
        lambda T: T.grid_sampler(T.ones(1, 2, 4, 4), T.zeros(1, 3, 3, 2), 0.0, 0, False),
        lambda T: T.grid_sampler(T.ones(1, 1, 2, 4, 4), T.zeros(1, 2, 3, 3, 3), 2, 0, False),
    ],
)
def test_grid_sampler_errors_as_torch(call):
    _errors_alike(call)


def test_grid_sampler_refuses_unknown_codes():
    with pytest.raises(RuntimeError, match="interpolation_mode 3"):
        ember.grid_sampler(ember.ones(1, 1, 2, 2), ember.zeros(1, 1, 1, 2), 3, 0, False)
    with pytest.raises(RuntimeError, match="padding_mode -1"):
        ember.grid_sampler(ember.ones(1, 1, 2, 2), ember.zeros(1, 1, 1, 2), 0, -1, False)


def test_max_pool1d_with_indices_and_resize_as_as_torch(device):
    x = torch.tensor([[3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]])
    for args in [(2,), (3, 2, 1), (2, [], 0, 2, True)]:
        values, indices = torch.max_pool1d_with_indices(x, *args)
        e_values, e_indices = ember.max_pool1d_with_indices(_on(device, x), *args)
        assert e_values.tolist() == values.tolist() and e_indices.tolist() == indices.tolist()
    _errors_alike(lambda T: T.max_pool1d_with_indices(T.ones(1, 4), 2, return_indices=True))
    t, e = torch.zeros(2), ember.zeros(2, device=device)
    assert torch.resize_as_(t, torch.ones(2, 3)) is t
    assert ember.resize_as_(e, ember.ones(2, 3, device=device)) is e and tuple(e.shape) == tuple(t.shape)


@pytest.mark.parametrize("name", ["matrix_rank", "solve", "lstsq", "eig", "symeig"])
def test_removed_linalg_raise_as_torch(name):
    def call(T):
        args = (T.eye(2), T.eye(2)) if name in ("solve", "lstsq") else (T.eye(2),)
        return getattr(T, name)(*args)

    assert _errors_alike(call) is RuntimeError
    with pytest.raises(RuntimeError, match="deprecated since version 1.9 and is now removed"):
        call(ember)
    if hasattr(torch.Tensor, name):
        with pytest.raises(RuntimeError, match="now removed"):
            getattr(ember.eye(2), name)(*((ember.eye(2),) if name in ("solve", "lstsq") else ()))


def test_true_divide_refuses_rounding_mode_as_torch(device):
    """true_divide was div itself and took ``rounding_mode``, which PyTorch's refuses (a silent floor)."""
    assert _errors_alike(lambda T: T.true_divide(T.ones(2), 2, rounding_mode="floor")) is TypeError
    x = ember.tensor([1.0, 3.0], device=device)
    assert ember.true_divide(x, 2).tolist() == x.true_divide(2).tolist() == [0.5, 1.5]


@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.nn.Linear(2, 2).to("cpu", "cpu"),
        lambda T: T.ones(2).to("cpu", "cpu"),
        lambda T: T.ones(2).to(T.float64, "cpu"),
        lambda T: T.ones(2).to("cpu", device="cpu"),
        lambda T: T.ones(2).to(T.ones(1), "cpu"),
    ],
)
def test_to_refuses_a_second_device_as_torch(call):
    """``to('cpu', 'cpu')`` and a device after a dtype or a tensor target: ember took the last one."""
    assert _errors_alike(call) is TypeError
