"""The backward formulas that run on native arrays where no graph of the backward is recorded
(``Function._native_backward``: mul, add, sub, mse_loss, stack, the views) against PyTorch: the gradients bit for
bit, their strides, the hooks, create_graph (the tensor formulas, recorded), anomaly mode and the errors;
and that the native formulas do run (no tensor operation of the backward's formula goes through a node)."""

import numpy as np
import pytest
from against_torch import normal_tensor, to_numpy

import ember
import ember.nn.functional as F
from ember.nn.functional import loss
from ember.nn.functional.linear import _ViewRows, _WeightT
from ember.ops import arithmetic, movement

torch = pytest.importorskip("torch")


@pytest.fixture(params=["float32", "float64"])
def real(request, device):
    if request.param == "float64" and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    return request.param


def assert_same(got, want):
    assert got.dtype is getattr(ember, str(want.dtype).rpartition(".")[2])
    assert tuple(got.shape) == tuple(want.shape)
    assert got.stride() == want.stride()
    np.testing.assert_array_equal(to_numpy(got), to_numpy(want))


def grads(lib, device, dtype, build, shapes):
    leaves = [normal_tensor(lib, device, dtype, shape, seed) for seed, shape in enumerate(shapes)]
    build(lib, *leaves).backward()
    return [leaf.grad for leaf in leaves]


CASES = {
    "mul": (lambda T, x, y: (x * y).sum(), [(6, 5), (6, 5)]),
    "mul_scalar": (lambda T, x: (x * 0.1).sum(), [(6, 5)]),
    "mul_transposed": (lambda T, x, y: (x.t() * y).sum(), [(5, 6), (6, 5)]),
    "mul_column": (lambda T, x, y: (x * y * y).sum(), [(6, 1), (6, 1)]),
    "mul_broadcast": (lambda T, x, y: (x * y).sum(), [(6, 5), (5,)]),
    "add_sub": (lambda T, x, y: ((x + y) * (x - y)).sum(), [(6, 5), (6, 5)]),
    "sub_expanded": (lambda T, x, y: (x - y).sum(), [(6, 5), (6, 5)]),
    "mse_mean": (lambda T, x, y: T.nn.functional.mse_loss(x * 1.5, y.detach()), [(8, 4), (8, 4)]),
    "mse_sum": (lambda T, x, y: T.nn.functional.mse_loss(x.tanh(), y.detach(), reduction="sum"), [(7, 3), (7, 3)]),
    "mse_target_grad": (lambda T, x, y: T.nn.functional.mse_loss(x, y), [(8, 4), (8, 4)]),
    "mse_transposed": (lambda T, x, y: T.nn.functional.mse_loss(x.t(), y.detach()), [(4, 8), (8, 4)]),
    "stack": (lambda T, *xs: (T.stack(xs) * T.stack(xs).detach()).sum(), [(8,)] * 5),
    "stack_dim1": (lambda T, *xs: (T.stack(xs, 1) ** 2).sum(), [(3, 4)] * 4),
    "stack_sum": (lambda T, *xs: T.stack(xs).sum(), [(8,)] * 35),
    "reshape": (lambda T, x, y: (x.reshape(5, 6) * y).sum(), [(6, 5), (5, 6)]),
    "reshape_copy": (lambda T, x, y: (x.t().reshape(30) * y).sum(), [(6, 5), (30,)]),
    "view_unsqueeze_squeeze": (lambda T, x, y: (x.view(3, 10).unsqueeze(0).squeeze(0) * y).sum(), [(6, 5), (3, 10)]),
    "transpose": (lambda T, x, y: (x.transpose(0, 1) * y).sum(), [(6, 5), (5, 6)]),
    "permute": (lambda T, x, y: (x.permute(2, 0, 1) * y).sum(), [(2, 3, 4), (4, 2, 3)]),
    "t_matmul": (lambda T, x, w: (x @ w.t()).tanh().sum(), [(6, 5), (4, 5)]),
    "linear_batch": (lambda T, x, w, b: (T.nn.functional.linear(x, w, b) ** 2).sum(), [(2, 3, 5), (4, 5), (4,)]),
}


#: the cases whose gradients differ from PyTorch's in the last bit, as they did before the native formulas
#: (the sum of a broadcast gradient, tanh's backward in float64, the GEMMs): compared to the tensor formulas' bits
ROUNDED = {"mul_broadcast", "mse_sum", "t_matmul", "linear_batch"}

NATIVE = (
    arithmetic._Mul,
    arithmetic._Add,
    arithmetic._Sub,
    loss._MSELoss,
    movement._Stack,
    movement._View,
    movement._Permute,
    _WeightT,
    _ViewRows,
)


@pytest.fixture
def tensor_formulas(monkeypatch):
    """A switch to the tensor formulas (``backward``) of the ops that have native ones."""

    def switch():
        for function in NATIVE:
            monkeypatch.setattr(function, "_native_backward", None)

    return switch


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradients_as_torch(device, real, case, tensor_formulas):
    build, shapes = CASES[case]
    got = grads(ember, device, real, build, shapes)
    want = grads(torch, device, real, build, shapes)
    for g, w in zip(got, want):
        if w is None:  # (a detached operand)
            assert g is None
        elif case in ROUNDED:
            assert g.stride() == w.stride()
            np.testing.assert_allclose(to_numpy(g), to_numpy(w), rtol=1e-12 if real == "float64" else 1e-5)
        else:
            assert_same(g, w)
    tensor_formulas()
    for g, w in zip(got, grads(ember, device, real, build, shapes)):  # the bits of the tensor formulas
        assert (g is None and w is None) or (
            g.stride() == w.stride() and to_numpy(g).tobytes() == to_numpy(w).tobytes()
        )


def mlp_grads(lib, device, dtype):
    lib.manual_seed(0)
    layers = [lib.nn.Linear(16, 16), lib.nn.ReLU(), lib.nn.Linear(16, 16)]
    model = lib.nn.Sequential(*layers).to(getattr(lib, dtype))
    if lib is ember:
        model.to(device)
    return model


def test_mlp_with_mse_loss_as_torch(device, real):
    t_model, e_model = mlp_grads(torch, device, real), mlp_grads(ember, device, real)
    e_model.load_state_dict(
        {
            k: ember.tensor(to_numpy(v), dtype=getattr(ember, real), device=device)
            for k, v in t_model.state_dict().items()
        }
    )
    x, y = (normal_tensor(torch, device, real, (8, 16), seed, False) for seed in (1, 2))
    ex, ey = (normal_tensor(ember, device, real, (8, 16), seed, False) for seed in (1, 2))
    torch.nn.functional.mse_loss(t_model(x), y).backward()
    F.mse_loss(e_model(ex), ey).backward()
    for want, got in zip(t_model.parameters(), e_model.parameters()):
        assert got.grad.stride() == want.grad.stride()  # (float32 GEMMs may round otherwise than PyTorch's)
        np.testing.assert_allclose(to_numpy(got.grad), to_numpy(want.grad), rtol=1e-12 if real == "float64" else 2e-5)


def test_add_gradients_do_not_share_memory(device):
    x, y = (ember.ones(4, device=device, requires_grad=True) for _ in range(2))
    (x + y).sum().backward()
    x.grad.add_(1)
    assert y.grad.tolist() == [1.0] * 4


@pytest.fixture
def counted(monkeypatch):
    """Counts of the forwards of mul, sub and neg, and of the view methods, that run."""
    counts = {"mul": 0, "sub": 0, "neg": 0, "select": 0, "reshape": 0, "permute": 0, "t": 0, "transpose": 0}

    def counting(name, original):
        def wrapper(*args, **kwargs):
            counts[name] += 1
            return original(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(arithmetic._Mul, "forward", classmethod(counting("mul", arithmetic._Mul.forward.__func__)))
    monkeypatch.setattr(arithmetic._Sub, "forward", classmethod(counting("sub", arithmetic._Sub.forward.__func__)))
    monkeypatch.setattr(arithmetic._Neg, "forward", staticmethod(counting("neg", arithmetic._Neg.forward)))
    for method in ("select", "reshape", "permute", "t", "transpose"):
        monkeypatch.setattr(ember.Tensor, method, counting(method, getattr(ember.Tensor, method)))
    return counts


def test_native_formulas_run_without_tensor_operations(device, counted):
    x, y = (ember.randn(4, 3, device=device, requires_grad=True) for _ in range(2))
    xs = [ember.randn(3, device=device, requires_grad=True) for _ in range(4)]
    w = ember.randn(3, 3, device=device, requires_grad=True)
    losses = [(x * y).sum(), (x - y).sum(), F.mse_loss(x, y.detach()), ember.stack(xs).sum()]
    losses += [(x.reshape(3, 4).transpose(0, 1) @ w.t()).sum(), (x.permute(1, 0) * 2.0).sum()]
    losses.append(F.linear(x.view(2, 2, 3), w).sum())
    for count in counted:
        counted[count] = 0
    for result in losses:
        result.backward()
    assert not any(counted.values()), counted
    assert x.grad is not None and y.grad is not None and w.grad is not None and all(t.grad is not None for t in xs)


def test_create_graph_records_the_tensor_formulas(device, real, counted):
    def second(lib):
        x, y = normal_tensor(lib, device, real, (4, 3)), normal_tensor(lib, device, real, (4, 3), 1)
        (gx,) = lib.autograd.grad(lib.nn.functional.mse_loss(x * y, y.detach()), [x], create_graph=True)
        gx.sum().backward()
        return gx, x.grad, y.grad

    got, want = second(ember), second(torch)
    assert counted["mul"] > 0  # the backward of the first grad ran as tensor operations, recorded
    assert got[0].grad_fn is not None
    for g, w in zip(got, want):
        np.testing.assert_allclose(to_numpy(g), to_numpy(w), rtol=1e-6 if real == "float64" else 1e-5)


def hook_log(lib, device):
    log = []
    x, y = normal_tensor(lib, device, "float32", (3,)), normal_tensor(lib, device, "float32", (3,), 1)
    z = x * y
    z.register_hook(lambda g: log.append(("z", g.tolist())) or g * 2)
    w = z - y
    w.register_hook(lambda g: log.append(("w", g.tolist())))
    w.grad_fn.register_hook(lambda gi, go: log.append(("sub post", [t is None for t in gi])))
    z.grad_fn.register_prehook(lambda go: log.append(("mul pre", go[0].tolist())))
    s = lib.stack([w, z])
    s.grad_fn.register_hook(lambda gi, go: log.append(("stack post", len(gi))))
    x.register_post_accumulate_grad_hook(lambda t: log.append(("x acc", t.grad.tolist())))
    s.sum().backward()
    return log, x.grad.tolist(), y.grad.tolist()


def test_hooks_as_torch(device):
    assert hook_log(ember, device) == hook_log(torch, device)


def errors(lib, device, case):
    x, y = normal_tensor(lib, device, "float32", (3,)), normal_tensor(lib, device, "float32", (3,), 1)
    try:
        if case == "second_backward":
            loss = (x * y).sum()
            loss.backward()
            loss.backward()
        elif case == "modified_saved":
            z = x * 1.0
            loss = lib.nn.functional.mse_loss(z, y.detach())
            with lib.no_grad():
                z.add_(1)
            loss.backward()
        elif case == "modified_mul_operand":
            z = y * 1.0
            loss = (x * z).sum()
            z.mul_(2)
            loss.backward()
        elif case == "anomaly_nan":
            with lib.autograd.detect_anomaly(check_nan=True):
                (x * float("nan")).sum().backward()
    except Exception as exc:  # noqa: BLE001 - the error itself is compared
        return type(exc), str(exc)
    return None


@pytest.mark.parametrize("case", ["second_backward", "modified_saved", "modified_mul_operand", "anomaly_nan"])
@pytest.mark.filterwarnings("ignore")
def test_errors_as_torch(device, case):
    got, want = errors(ember, device, case), errors(torch, device, case)
    assert want is not None
    assert got[0] is want[0]
    if case == "modified_saved":  # PyTorch names its node's C++ class and output
        assert "modified by an inplace operation" in got[1]
    else:
        assert got[1].replace("ember.", "torch.") == want[1]
