"""``autograd.graph.GradientEdge``/``get_gradient_edge`` as outputs and inputs of ``grad`` and ``backward``,
and the arguments ``Node`` hooks receive, against PyTorch."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def same(e, t):
    """Gradients (a tensor, None, or a nesting of them) equal across the libraries."""
    if isinstance(e, (tuple, list)):
        assert len(e) == len(t)
        for a, b in zip(e, t):
            same(a, b)
    elif e is None:
        assert t is None
    else:
        np.testing.assert_allclose(e.detach().cpu().tolist(), t.detach().tolist(), rtol=1e-6, atol=1e-7)


def run_both(program, device):
    """``program(lib, device)`` on ember and on PyTorch (always on the CPU)."""
    return program(ember, device), program(torch, "cpu")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_grad_with_respect_to_gradient_edges(device, dtype):
    # ember had no GradientEdge nor get_gradient_edge (AttributeError)
    def program(lib, dev):
        graph = lib.autograd.graph
        x = lib.tensor([1.0, 2.0, -0.5], dtype=getattr(lib, dtype), device=dev, requires_grad=True)
        y = x * 2
        z = y.sin() * x
        loss = z.sum()
        edges = graph.get_gradient_edge(y), graph.get_gradient_edge(x)
        return (
            lib.autograd.grad(loss, edges[0], retain_graph=True),
            lib.autograd.grad(loss, [edges[0], x], retain_graph=True),
            lib.autograd.grad(loss, edges[1], retain_graph=True),
            lib.autograd.grad(graph.get_gradient_edge(loss), x),
        )

    e, t = run_both(program, device)
    same(e, t)


def test_a_gradient_edge_outlives_an_in_place_change_of_its_tensor(device):
    def program(lib, dev):
        a = lib.tensor([1.0, 2.0, 3.0], device=dev, requires_grad=True)
        b = a.clone()
        edge = lib.autograd.graph.get_gradient_edge(b)
        c = b * 3
        b.mul_(2)  # b's history moves on; the edge still names the clone's output
        return lib.autograd.grad((b * c).sum(), [edge, a])

    e, t = run_both(program, device)
    same(e, t)


def test_gradient_edges_of_the_outputs_of_one_node(device):
    def program(lib, dev):
        graph = lib.autograd.graph
        q = lib.tensor([[1.0, 5.0], [3.0, 2.0]], device=dev, requires_grad=True)
        rows = q.unbind(0)
        edge = graph.get_gradient_edge(rows[1])
        return (
            [graph.get_gradient_edge(r).output_nr for r in rows],
            lib.autograd.grad((rows[1] * rows[0]).sum(), edge, retain_graph=True),
            lib.autograd.grad(edge, q, grad_outputs=lib.tensor([1.0, 4.0], device=dev)),
        )

    (e_nrs, *e), (t_nrs, *t) = run_both(program, device)
    assert e_nrs == t_nrs
    same(e, t)


def test_backward_into_gradient_edges(device):
    # only a leaf's edge (its AccumulateGrad) has a .grad to accumulate into
    def program(lib, dev):
        graph = lib.autograd.graph
        x = lib.tensor([1.0, 2.0], device=dev, requires_grad=True)
        w = lib.tensor([0.5, -1.0], device=dev, requires_grad=True)
        y = x * w
        z = y.exp()
        z.sum().backward(inputs=[graph.get_gradient_edge(x), graph.get_gradient_edge(y)], retain_graph=True)
        first = x.grad.clone(), w.grad
        lib.autograd.backward(graph.get_gradient_edge(z), lib.ones(2, device=dev), inputs=graph.get_gradient_edge(w))
        return first, x.grad, w.grad

    e, t = run_both(program, device)
    same(e, t)


def test_gradient_edge_errors():
    # each raised as PyTorch does
    for lib in (ember, torch):
        graph = lib.autograd.graph
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        unused = lib.ones(2, requires_grad=True)
        y = x.sin()
        with pytest.raises(RuntimeError, match="^It is not possible to get the gradient edge for a Tensor that"):
            graph.get_gradient_edge(lib.ones(2))
        with pytest.raises(RuntimeError, match="^grad can be implicitly created only for scalar outputs$"):
            lib.autograd.grad(graph.get_gradient_edge(y), x)
        with pytest.raises(
            RuntimeError, match=r"^Mismatch in shape: grad_output\[0\] has a shape of \w+.Size\(\[3\]\)"
        ):
            lib.autograd.grad(graph.get_gradient_edge(y), x, grad_outputs=lib.ones(3))
        with pytest.raises(RuntimeError, match="^materialize_grads cannot be used when the given input is a Gradi"):
            lib.autograd.grad(y.sum(), graph.get_gradient_edge(unused), materialize_grads=True, retain_graph=True)
        with pytest.raises(RuntimeError, match="^The differentiated Tensor at index 0 appears to not have been used"):
            lib.autograd.grad(y.sum(), graph.get_gradient_edge(unused), retain_graph=True)


def test_empty_inputs_are_refused():
    # ember returned () from grad and backpropagated into nothing from backward
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match=r"^`inputs` argument to `grad\(\)` cannot be empty.$"):
            lib.autograd.grad((x * x).sum(), [])
        with pytest.raises(RuntimeError, match=r"^`inputs` argument to `backward\(\)` cannot be empty.$"):
            (x * x).sum().backward(inputs=[])
        with pytest.raises(RuntimeError, match=r"^`inputs` argument to `backward\(\)` cannot be empty.$"):
            lib.autograd.backward((x * x).sum(), inputs=())


def test_node_hooks_receive_tuples(device):
    # ember passed lists to Node.register_prehook's and register_hook's hooks; PyTorch passes tuples
    def program(lib, dev):
        seen = []
        x = lib.tensor([1.0, 2.0], device=dev, requires_grad=True)
        y = x * x
        y.grad_fn.register_prehook(lambda gout: seen.append(("pre", type(gout).__name__)))
        y.grad_fn.register_hook(lambda gin, gout: seen.append(("post", type(gin).__name__, type(gout).__name__)))
        y.sum().backward()
        return seen

    e, t = run_both(program, device)
    assert e == t == [("pre", "tuple"), ("post", "tuple", "tuple")]
