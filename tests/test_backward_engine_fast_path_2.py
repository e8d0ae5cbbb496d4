"""The backward engine's host-cost paths against PyTorch, on the graph they were tuned for (a chain of
Linear + Tanh layers, ``benchmarks/bench_backward.py``'s ``small_ops``) and on the gradients a leaf copies:
the gradients, the order and arguments of every kind of hook (tensor, node pre/post, retain_grad,
post-accumulate, a module's full backward hooks), anomaly mode, create_graph, ``autograd.grad`` on part of
the graph, the errors of a second backward and of a saved tensor modified in place, the layout and memory of
each leaf's first ``.grad`` (a copy of a broadcast or strided gradient, disjoint views taken as they are), and
``Tensor.storage_offset`` of views of views."""

import warnings

import numpy as np
import pytest
from against_torch import tensor_of, to_numpy

import ember

torch = pytest.importorskip("torch")


def values(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).tolist()


@pytest.fixture(params=["float32", "float64"])
def real(request, device):
    if request.param == "float64" and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    return request.param


def tolerance(dtype):
    return 1e-5 if dtype == "float32" else 1e-12


def chain_parameters(lib, device, dtype, depth=6, width=8):
    params = []
    for i in range(depth):
        params.append(
            (
                tensor_of(lib, device, dtype, values((width, width), 10 + i)),
                tensor_of(lib, device, dtype, values(width, 30 + i)),
            )
        )
    return params


def chain(lib, params, x):
    f = lib.nn.functional
    for w, b in params:
        x = f.linear(x, w, b).tanh()
    return x


def chain_gradients(lib, device, dtype):
    params = chain_parameters(lib, device, dtype)
    x = tensor_of(lib, device, dtype, values((4, 8), 1), requires_grad=False)
    target = lib.tensor([0, 3, 5, 7]) if lib is torch else ember.tensor([0, 3, 5, 7], device=device)
    lib.nn.functional.cross_entropy(chain(lib, params, x), target).backward()
    return [p.grad for pair in params for p in pair]


def test_chain_gradients(device, real):
    tol = tolerance(real)
    for got, want in zip(chain_gradients(ember, device, real), chain_gradients(torch, device, real)):
        assert got.dtype is getattr(ember, real)
        assert tuple(got.stride()) == tuple(want.stride())
        np.testing.assert_allclose(to_numpy(got), to_numpy(want), rtol=tol, atol=tol)


def chain_hooks(lib, device):
    calls = []
    params = chain_parameters(lib, device, "float64", depth=3, width=4)
    x = tensor_of(lib, device, "float64", values((2, 4), 1))
    x.register_hook(lambda g: calls.append(("x hook", float(g.sum()))))
    w0, b0 = params[0]
    w0.register_hook(lambda g: calls.append(("w0 hook", float(g.sum()))))
    w0.register_post_accumulate_grad_hook(lambda t: calls.append(("w0 accumulated", float(t.grad.sum()))))
    b0.register_post_accumulate_grad_hook(lambda t: calls.append(("b0 accumulated", float(t.grad.sum()))))
    f = lib.nn.functional
    h = f.linear(x, w0, b0)
    h.retain_grad()
    h.register_hook(lambda g: calls.append(("h hook", float(g.sum()))))
    t = h.tanh()
    t.grad_fn.register_prehook(lambda grads: calls.append(("tanh prehook", float(grads[0].sum()))))
    t.grad_fn.register_hook(lambda grad_inputs, grad_outputs: calls.append(("tanh hook", float(grad_inputs[0].sum()))))
    out = chain(lib, params[1:], t)
    out.sum().backward()
    return calls, to_numpy(h.grad), to_numpy(x.grad)


def test_chain_hook_order_and_arguments(device):
    got, want = chain_hooks(ember, device), chain_hooks(torch, device)
    assert [name for name, _ in got[0]] == [name for name, _ in want[0]]
    np.testing.assert_allclose([v for _, v in got[0]], [v for _, v in want[0]], rtol=1e-12)
    for g, w in zip(got[1:], want[1:]):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-15)


def module_hooks(lib, device):
    calls = []
    lib.manual_seed(0)
    layers = [lib.nn.Linear(4, 4, dtype=lib.float64), lib.nn.Tanh(), lib.nn.Linear(4, 2, dtype=lib.float64)]
    model = lib.nn.Sequential(*layers).to(device if lib is ember else "cpu")
    with lib.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(lib.tensor(values(tuple(p.shape), 50 + i), dtype=lib.float64))
    for name, layer in zip(("linear0", "tanh", "linear1"), layers):
        layer.register_full_backward_pre_hook(
            lambda m, grad_output, name=name: calls.append((name, "pre", round(float(grad_output[0].sum()), 9)))
        )
        layer.register_full_backward_hook(
            lambda m, grad_input, grad_output, name=name: calls.append(
                (name, "post", None if grad_input[0] is None else round(float(grad_input[0].sum()), 9))
            )
        )
    x = tensor_of(lib, device, "float64", values((3, 4), 2))
    model(x).pow(2).sum().backward()
    return calls, to_numpy(x.grad).tolist(), [to_numpy(p.grad).tolist() for p in model.parameters()]


def test_module_full_backward_hooks(device):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got, want = module_hooks(ember, device), module_hooks(torch, device)
    assert got[0] == want[0]
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    for g, w in zip(got[2], want[2]):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def replaced_leaf_gradient(lib, device):
    w = tensor_of(lib, device, "float32", values((3, 3), 4))
    kept = []
    w.register_hook(lambda g: kept.append(g * 2) or kept[-1])
    x = tensor_of(lib, device, "float32", values((2, 3), 5), requires_grad=False)
    lib.nn.functional.linear(x, w).tanh().sum().backward()
    # the gradient a hook returned and keeps is not taken as the leaf's .grad: the .grad is a copy of it,
    # which a write into the kept one leaves as it was
    before = to_numpy(w.grad)
    kept[0].add_(1)
    return before, to_numpy(w.grad)


def test_replaced_leaf_gradient_is_copied(device):
    got, want = replaced_leaf_gradient(ember, device), replaced_leaf_gradient(torch, device)
    np.testing.assert_array_equal(got[0], got[1])
    np.testing.assert_array_equal(want[0], want[1])
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-6)


def create_graph_chain(lib, device, dtype):
    params = chain_parameters(lib, device, dtype, depth=3, width=4)
    x = tensor_of(lib, device, dtype, values((2, 4), 6))
    out = chain(lib, params, x).sum()
    (gx,) = lib.autograd.grad(out, x, create_graph=True)
    (ggw,) = lib.autograd.grad(gx.pow(2).sum(), params[1][0])
    out2 = chain(lib, params, x).sum()
    out2.backward(create_graph=True)
    return [to_numpy(gx), to_numpy(ggw), to_numpy(params[0][0].grad), params[0][0].grad.requires_grad]


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_create_graph_through_the_chain(device, real):
    got, want = create_graph_chain(ember, device, real), create_graph_chain(torch, device, real)
    tol = tolerance(real)
    for g, w in zip(got[:3], want[:3]):
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)
    assert got[3] == want[3]


def grad_of_part(lib, device):
    params = chain_parameters(lib, device, "float64", depth=4, width=4)
    x = tensor_of(lib, device, "float64", values((2, 4), 7))
    out = chain(lib, params, x).sum()
    grads = lib.autograd.grad(out, [params[2][0], params[3][1]], retain_graph=True)
    leaf_grads = [p.grad for pair in params for p in pair]
    out.backward(inputs=[params[1][1]])
    return [to_numpy(g).tolist() for g in grads], leaf_grads, to_numpy(params[1][1].grad).tolist(), params[1][0].grad


def test_autograd_grad_on_part_of_the_chain(device):
    got, want = grad_of_part(ember, device), grad_of_part(torch, device)
    for g, w in zip(got[0], want[0]):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    assert got[1] == want[1]  # no .grad touched
    np.testing.assert_allclose(got[2], want[2], rtol=1e-12)
    assert got[3] is None and want[3] is None


def chain_errors(lib, device):
    found = []
    params = chain_parameters(lib, device, "float32", depth=2, width=4)
    x = tensor_of(lib, device, "float32", values((2, 4), 8), requires_grad=False)
    out = chain(lib, params, x).sum()
    out.backward()
    with pytest.raises(Exception) as info:
        out.backward()  # the saved tensors are freed
    found.append(info)
    h = lib.nn.functional.linear(x, *params[0])
    t = h.tanh()
    loss = t.sum() * 1
    t.mul_(2)  # tanh's saved output, written in place
    with pytest.raises(Exception) as info:
        loss.backward()
    found.append(info)
    t2 = lib.nn.functional.linear(x, *params[0]).tanh()
    y = t2 * t2
    t2.add_(1)  # mul's saved input
    with pytest.raises(Exception) as info:
        y.sum().backward()
    found.append(info)
    with pytest.raises(Exception) as info:
        _ = out.grad_fn.next_functions[0][0]._saved_result
    found.append(info)
    return [(info.type, str(info.value).replace("torch", "ember")) for info in found]


def test_chain_errors(device):
    got, want = chain_errors(ember, device), chain_errors(torch, device)
    assert [t for t, _ in got] == [t for t, _ in want]
    for (_, message), (_, expected) in zip(got, want):
        assert message.splitlines()[0] == expected.splitlines()[0]


def anomaly_chain(lib, device):
    params = chain_parameters(lib, device, "float32", depth=2, width=4)
    x = tensor_of(lib, device, "float32", values((2, 4), 9))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with lib.autograd.detect_anomaly(check_nan=True):
            out = chain(lib, params, x).sqrt() * 0  # sqrt's gradient at tanh's negative values: nan
            with pytest.raises(Exception) as info:
                out.sum().backward()
    return info.type, str(info.value).replace("torch", "ember").splitlines()[0]


def test_anomaly_names_the_node(device):
    assert anomaly_chain(ember, device) == anomaly_chain(torch, device)


def first_grads(lib, device, dtype):
    """Each leaf's first .grad: the (strides, values) of a copied broadcast gradient (sum), of copied
    broadcast rows (stack's selects of sum's expand), of a transposed leaf, and whether the gradients of ``a + b``
    share memory."""
    out = []
    z = tensor_of(lib, device, dtype, values((5, 3), 11))
    z.sum().backward()
    out.append((tuple(z.grad.stride()), to_numpy(z.grad).tolist()))
    rows = [tensor_of(lib, device, dtype, values(4, 20 + i)) for i in range(5)]
    lib.stack(rows).sum().backward()
    out.extend((tuple(r.grad.stride()), r.grad.is_contiguous(), to_numpy(r.grad).tolist()) for r in rows)
    scaled = [tensor_of(lib, device, dtype, values(4, 40 + i)) for i in range(3)]
    (lib.stack(scaled) * tensor_of(lib, device, dtype, values((3, 4), 44), requires_grad=False)).sum().backward()
    out.extend((tuple(s.grad.stride()), to_numpy(s.grad).tolist()) for s in scaled)
    t = tensor_of(lib, device, dtype, values((3, 5), 12)).detach().t().requires_grad_()
    (t * 2).sum().backward()
    out.append((tuple(t.grad.stride()), to_numpy(t.grad).tolist()))
    a, b = tensor_of(lib, device, dtype, values(3, 13)), tensor_of(lib, device, dtype, values(3, 14))
    (a + b).sum().backward()
    a.grad.add_(1)  # the two leaves' gradients share no memory
    out.append(to_numpy(b.grad).tolist())
    return out


def test_first_gradient_layouts(device, real):
    assert first_grads(ember, device, real) == first_grads(torch, device, real)


def stacked_grads_alias(lib, device):
    """stack's backward hands its inputs disjoint views of one gradient: each leaf takes its view as it is,
    so their .grad lie in one block of memory, one row apart."""
    rows = [tensor_of(lib, device, "float32", values(4, 60 + i)) for i in range(3)]
    (lib.stack(rows) * tensor_of(lib, device, "float32", values((3, 4), 64), requires_grad=False)).sum().backward()
    return [rows[i + 1].grad.data_ptr() - rows[i].grad.data_ptr() for i in range(2)]


def test_stacked_gradients_are_views_of_one_block():
    assert stacked_grads_alias(ember, "cpu") == stacked_grads_alias(torch, "cpu")


def copies(lib, device, dtype):
    """Copies of strided 1-d and 2-d tensors (the row-major copy a leaf's first .grad may take)."""
    base = tensor_of(lib, device, dtype, values(12, 15), requires_grad=False)
    square = tensor_of(lib, device, dtype, values((4, 6), 16), requires_grad=False)
    views = [base[::2], base.flip(0), base[3:].expand(2, 9)[1], square.t(), square[:, ::2], square[1:, 2:].t()]
    out = []
    for v in views:
        for copy in (v.contiguous(), v.clone(), v.clone(memory_format=lib.contiguous_format)):
            out.append((tuple(copy.stride()), copy.is_contiguous(), to_numpy(copy).tolist()))
        cast = v.to(lib.float64 if dtype == "float32" else lib.float32, memory_format=lib.contiguous_format)
        out.append((tuple(cast.stride()), str(cast.dtype).split(".")[-1], to_numpy(cast).tolist()))
    return out


def test_strided_copies(device, real):
    assert copies(ember, device, real) == copies(torch, device, real)


def offsets(lib, device):
    x = tensor_of(lib, device, "float32", values((6, 8), 17), requires_grad=False)
    views = [
        x,
        x[2:],
        x[2:, 3:],
        x[2:, 3:][1:],
        x[2:, 3:][1:].t()[2:],
        x.view(-1)[5:].view(43)[7:],
        x[3].unsqueeze(0)[:, 4:],
        x.flatten()[13],
        x.as_strided((2, 2), (3, 1), 17)[1:],
        x.as_strided((3, 3), (8, 1), 9).t()[1:, 1:],
        x.unfold(1, 3, 2)[1:, 1:],
        x.narrow(1, 2, 4).narrow(0, 1, 3),
        x.diagonal(offset=2)[1:],
        x.select(1, 5)[2:],
        x[1:].expand(2, 5, 8)[1],
        x[2:][:, 1:].contiguous(),
        x[6:],
        x[3:][3:],
        x[2:].detach()[1:],
        x.view(lib.int32)[1:, 2:],
        x.reshape(4, 12)[1:, 6:].reshape(-1)[1:] if lib is torch else x.reshape(4, 12)[1:, 6:].reshape(-1)[1:],
    ]
    return [v.storage_offset() for v in views]


def test_storage_offset_of_views_of_views(device):
    assert offsets(ember, device) == offsets(torch, device)


def test_storage_offset_of_a_scalar_result(device):
    x = ember.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    t = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.sum().storage_offset() == t.sum().storage_offset()
    assert x[1, 1].storage_offset() == t[1, 1].storage_offset()
    assert x[1][1].storage_offset() == t[1][1].storage_offset()
    assert x.storage_offset.__name__ == "storage_offset"
