"""The backward engine's loop against PyTorch on the small graphs its per-node cost matters for: the
gradients (bit for bit where the formulas round as PyTorch's), the order the hooks run in, and the
errors of a second backward, of a saved tensor modified in place, of a non-scalar without a gradient and
of anomaly mode; create_graph, ``inputs=`` and ``autograd.grad`` on the same graphs."""

import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def to_numpy(t):
    return np.asarray(t.detach().cpu().tolist() if hasattr(t, "cpu") else t.tolist())


def make(lib, device, dtype, values, requires_grad=True):
    if lib is torch:
        return torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=requires_grad)
    return ember.tensor(values, dtype=getattr(ember, dtype), device=device, requires_grad=requires_grad)


def values(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).tolist()


@pytest.fixture(params=["float32", "float64"])
def real(request, device):
    if request.param == "float64" and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    return request.param


def chain(lib, device, dtype):
    x = make(lib, device, dtype, values((4, 4)))
    y = x
    for _ in range(20):
        y = y * 1.0001
    y.sum().backward()
    return x.grad


def test_chain_gradient_bits(device, real):
    got, want = chain(ember, device, real), chain(torch, device, real)
    assert got.dtype is getattr(ember, real)
    np.testing.assert_array_equal(to_numpy(got), to_numpy(want))


def sum_grad(lib, device, dtype):
    z = make(lib, device, dtype, values((64, 64), 1))
    z.sum().backward()
    z.sum().backward()  # the second accumulates into the first .grad
    return z.grad


def test_sum_gradient_accumulates(device, real):
    got, want = sum_grad(ember, device, real), sum_grad(torch, device, real)
    assert tuple(got.stride()) == tuple(want.stride())
    np.testing.assert_array_equal(to_numpy(got), to_numpy(want))


def mlp(lib, device, dtype):
    w1, b1 = make(lib, device, dtype, values((64, 32), 2)), make(lib, device, dtype, values(64, 3))
    w2, b2 = make(lib, device, dtype, values((10, 64), 4)), make(lib, device, dtype, values(10, 5))
    inp = make(lib, device, dtype, values((16, 32), 6), requires_grad=False)
    f = lib.nn.functional
    f.linear(f.relu(f.linear(inp, w1, b1)), w2, b2).sum().backward()
    return [w1.grad, b1.grad, w2.grad, b2.grad]


def test_mlp_gradients(device, real):
    tol = 1e-5 if real == "float32" else 1e-12
    for got, want in zip(mlp(ember, device, real), mlp(torch, device, real)):
        assert tuple(got.shape) == tuple(want.shape)
        np.testing.assert_allclose(to_numpy(got), to_numpy(want), rtol=tol, atol=tol)


def hook_order(lib, device):
    calls = []
    x = make(lib, device, "float32", [1.0, 2.0])
    x.register_hook(lambda g: calls.append("leaf tensor hook"))
    x.register_post_accumulate_grad_hook(lambda t: calls.append("post accumulate"))
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: calls.append("tensor hook"))
    y.grad_fn.register_prehook(lambda grads: calls.append("node prehook"))
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: calls.append("node hook"))
    z = y * y
    z.grad_fn.register_hook(lambda grad_inputs, grad_outputs: calls.append("upper node hook"))
    z.sum().backward()
    return calls, to_numpy(y.grad).tolist(), to_numpy(x.grad).tolist()


def test_hook_order(device):
    assert hook_order(ember, device) == hook_order(torch, device)


def replacing_hooks(lib, device):
    x = make(lib, device, "float32", [1.0, 2.0, 3.0])
    y = x * 3
    y.register_hook(lambda g: g * 2)
    y.grad_fn.register_prehook(lambda grads: (grads[0] + 1,))
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0] * 10, None))
    (y * y).sum().backward()
    return to_numpy(x.grad).tolist()


def test_replacing_hooks(device):
    assert replacing_hooks(ember, device) == replacing_hooks(torch, device)


def errors(lib, device):
    found = []
    x = make(lib, device, "float32", [1.0, 1.0, 1.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(Exception) as info:
        y.backward()
    found.append(info)
    b = x * 1
    c = b * b
    b.add_(1)
    with pytest.raises(Exception) as info:
        c.sum().backward()
    found.append(info)
    with pytest.raises(Exception) as info:
        (x * 2).backward()
    found.append(info)
    with pytest.raises(Exception) as info:
        lib.autograd.grad((x * 2).sum(), x)[0].sum().backward()
    found.append(info)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with lib.autograd.detect_anomaly(check_nan=True):
            z = make(lib, device, "float32", [0.0])
            with pytest.raises(Exception) as info:
                (z.sqrt() * 0).sum().backward()
    found.append(info)
    return [(info.type, str(info.value).replace("torch", "ember")) for info in found]


def test_errors(device):
    got, want = errors(ember, device), errors(torch, device)
    assert [t for t, _ in got] == [t for t, _ in want]
    for (_, message), (_, expected) in zip(got, want):
        assert message.splitlines()[0] == expected.splitlines()[0]


def retained_and_higher(lib, device, dtype):
    x = make(lib, device, dtype, [0.5, -1.5, 2.0])
    y = (x * x * x).sum()
    (g,) = lib.autograd.grad(y, x, create_graph=True)
    (gg,) = lib.autograd.grad(g.sum(), x, retain_graph=True)
    y.backward(retain_graph=True)
    y.backward(inputs=[x])
    return [to_numpy(g), to_numpy(gg), to_numpy(x.grad)]


def test_create_graph_retain_graph_inputs(device, real):
    for got, want in zip(retained_and_higher(ember, device, real), retained_and_higher(torch, device, real)):
        np.testing.assert_array_equal(got, want)


def grad_of_some_inputs(lib, device):
    a = make(lib, device, "float32", [1.0, 2.0])
    b = make(lib, device, "float32", [3.0, 4.0])
    unused = make(lib, device, "float32", [5.0])
    out = (a * b + a).sum()
    grads = lib.autograd.grad(out, [b, unused], allow_unused=True)
    return [None if g is None else to_numpy(g).tolist() for g in grads], a.grad, b.grad


def test_autograd_grad_captures_only(device):
    assert grad_of_some_inputs(ember, device) == grad_of_some_inputs(torch, device)
