"""``F.linear``'s autograd graph and profiler events, differential against PyTorch.

PyTorch's ``linear`` is ``weight.t()`` (TBackward0) into ``addmm`` of a matrix input (AddmmBackward0) or of a
contiguous input's rows when there is a bias (ViewBackward0 around it), else a ``matmul``: ``mm`` of the rows
(MmBackward0, under UnsafeViewBackward0 or SqueezeBackward4 for other than a matrix), the bias added after.
ember's graph has the same nodes and edges (``next_functions``), and a profile records the same ops
(``aten::t``, ``aten::addmm`` with its operands ``[[out], [rows, in], [in, out], [], []]``, ``aten::matmul``
around ``aten::mm`` ...) with the same shapes.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

SHAPES = [(4,), (8, 4), (2, 8, 4), (2, 3, 8, 4), "strided"]


def _input(lib, shape, requires_grad):
    if shape == "strided":  # a batch-first view of a time-major tensor: not contiguous
        x = lib.ones(8, 2, 4).transpose(0, 1)
    else:
        x = lib.ones(*shape)
    if requires_grad:  # an input made by an op: its node is in the graph
        x = x.requires_grad_(True) * 2
    return x


def _graph(fn):
    """A node's name and, recursively, those of its ``next_functions`` with their input numbers."""
    if fn is None:
        return None
    return (fn.name(), tuple((_graph(f), i) for f, i in fn.next_functions))


def _linear(lib, shape, bias, requires_grad):
    lib.manual_seed(0)
    layer = lib.nn.Linear(4, 2, bias=bias)
    return layer, _input(lib, shape, requires_grad)


@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
def test_graph_is_torchs(shape, bias, requires_grad):
    if shape == "strided" and requires_grad:
        pytest.skip("a reshape that copies is one node in ember, PyTorch's UnsafeView over a Clone (not linear's)")
    t_layer, t_x = _linear(torch, shape, bias, requires_grad)
    e_layer, e_x = _linear(ember, shape, bias, requires_grad)
    assert _graph(e_layer(e_x).grad_fn) == _graph(t_layer(t_x).grad_fn)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
def test_gradients_and_their_layout_are_torchs(shape, bias, dtype):
    rng = np.random.default_rng(1)
    t_layer = torch.nn.Linear(4, 3, bias=bias).to(getattr(torch, dtype))
    e_layer = ember.nn.Linear(4, 3, bias=bias, dtype=getattr(ember, dtype))
    e_layer.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t_layer.state_dict().items()})
    values = rng.standard_normal((8, 2, 4) if shape == "strided" else shape)
    t_x = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=True)
    e_x = ember.tensor(values, dtype=getattr(ember, dtype), requires_grad=True)
    t_in, e_in = (t_x.transpose(0, 1), e_x.transpose(0, 1)) if shape == "strided" else (t_x, e_x)
    t_y, e_y = t_layer(t_in), e_layer(e_in)
    grad = rng.standard_normal(tuple(t_y.shape))
    t_y.backward(torch.tensor(grad, dtype=t_y.dtype))
    e_y.backward(ember.tensor(grad, dtype=e_y.dtype))
    rtol = 1e-6 if dtype == "float32" else 1e-14
    np.testing.assert_allclose(e_y.detach().numpy(), t_y.detach().numpy(), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(e_x.grad.numpy(), t_x.grad.numpy(), rtol=rtol, atol=rtol)
    for name, t_param in t_layer.named_parameters():
        e_grad = getattr(e_layer, name).grad
        np.testing.assert_allclose(e_grad.numpy(), t_param.grad.numpy(), rtol=rtol, atol=rtol)
        assert e_grad.stride() == t_param.grad.stride(), name


def _events(lib, shape, bias):
    layer, x = _linear(lib, shape, bias, False)
    with lib.profiler.profile(record_shapes=True) as prof:
        layer(x)
    linear = next(e for e in prof.events() if e.name == "aten::linear")

    def rows(event):
        # the shapes of add_'s operands differ: PyTorch lists its alpha, ember's Tensor.add_ has none
        return [(c.name, c.input_shapes if c.name != "aten::add_" else None) for c in event.cpu_children]

    matmul = [rows(c) for c in linear.cpu_children if c.name == "aten::matmul"]
    return linear.input_shapes, rows(linear), matmul


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
def test_profiled_ops_and_shapes_are_torchs(shape, bias):
    assert _events(ember, shape, bias) == _events(torch, shape, bias)


def test_addmm_operands_recorded_as_torch():
    def addmm_shapes(lib):
        with lib.profiler.profile(record_shapes=True) as prof:
            lib.nn.Linear(4, 2)(lib.ones(8, 4))
        return next(e.input_shapes for e in prof.events() if e.name == "aten::addmm")

    assert addmm_shapes(ember) == addmm_shapes(torch) == [[2], [8, 4], [4, 2], [], []]


def test_backward_records_the_transpose_node():
    def nodes(lib):
        layer = lib.nn.Linear(4, 2)
        x = lib.ones(8, 4)
        with lib.profiler.profile() as prof:
            layer(x).sum().backward()
        return sorted({e.name for e in prof.events() if e.name.startswith("autograd::engine::evaluate_function: ")})

    assert nodes(ember) == nodes(torch)


def _unfolded(y):
    """``y`` after its graph has been looked at: ember records linear as one node and makes PyTorch's nodes of it
    then (an ember detail; PyTorch's are there from the start)."""
    _graph(y.grad_fn)
    return y


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(4,), (8, 4), (2, 8, 4), (2, 3, 8, 4)])
def test_backward_through_the_graph_looked_at_is_torchs(shape, bias, dtype):
    rng = np.random.default_rng(2)
    t_layer = torch.nn.Linear(4, 3, bias=bias).to(getattr(torch, dtype))
    e_layer = ember.nn.Linear(4, 3, bias=bias, dtype=getattr(ember, dtype))
    e_layer.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t_layer.state_dict().items()})
    values = rng.standard_normal(shape)
    t_x = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=True)
    e_x = ember.tensor(values, dtype=getattr(ember, dtype), requires_grad=True)
    t_y, e_y = t_layer(t_x), _unfolded(e_layer(e_x))
    seen = {"torch": [], "ember": []}  # the gradients the post-hook of the last node sees
    t_y.grad_fn.register_hook(lambda grads, _: seen["torch"].append([tuple(g.shape) for g in grads if g is not None]))
    e_y.grad_fn.register_hook(lambda grads, _: seen["ember"].append([tuple(g.shape) for g in grads if g is not None]))
    grad = rng.standard_normal(tuple(t_y.shape))
    t_y.backward(torch.tensor(grad, dtype=t_y.dtype), create_graph=True)
    e_y.backward(ember.tensor(grad, dtype=e_y.dtype), create_graph=True)
    assert seen["ember"] == seen["torch"]
    rtol = 1e-6 if dtype == "float32" else 1e-14
    np.testing.assert_allclose(e_x.grad.detach().numpy(), t_x.grad.detach().numpy(), rtol=rtol, atol=rtol)
    for name, t_param in t_layer.named_parameters():
        e_grad = getattr(e_layer, name).grad
        np.testing.assert_allclose(e_grad.detach().numpy(), t_param.grad.detach().numpy(), rtol=rtol, atol=rtol)
        assert e_grad.stride() == t_param.grad.stride(), name
    # the second derivative, through the gradient's own graph
    t_second = torch.autograd.grad((t_x.grad * t_x.grad).sum(), t_layer.weight)[0]
    e_second = ember.autograd.grad((e_x.grad * e_x.grad).sum(), e_layer.weight)[0]
    np.testing.assert_allclose(e_second.numpy(), t_second.numpy(), rtol=rtol * 10, atol=rtol * 10)


@pytest.mark.parametrize("shape", [(8, 4), (2, 8, 4)])
def test_output_hook_and_retain_grad_as_torch(shape):
    def run(lib):
        lib.manual_seed(0)
        layer = lib.nn.Linear(4, 2)
        y = layer(lib.ones(*shape))
        y.retain_grad()
        seen = []
        y.register_hook(lambda g: seen.append(tuple(g.shape)))
        (y * 3).sum().backward()
        return seen, y.grad.numpy().tolist(), layer.weight.grad.numpy().tolist(), _graph(y.grad_fn)

    assert run(ember) == run(torch)


def test_graph_looked_at_during_backward_leaves_gradients_as_torchs():
    def run(lib):
        lib.manual_seed(0)
        layer = lib.nn.Linear(4, 2)
        x = lib.ones(2, 3, 4, requires_grad=True)
        y = layer(x)
        z = y * 2
        z.grad_fn.register_prehook(lambda grads: y.grad_fn.next_functions and None)
        z.sum().backward()
        return x.grad.numpy().tolist(), layer.weight.grad.numpy().tolist(), _graph(y.grad_fn)

    assert run(ember) == run(torch)
