"""Autograd semantics against PyTorch: engine, hooks, retain/create graph, custom Functions, errors."""

import warnings

import numpy as np
import pytest

import ember
from ember.autograd import Function

torch = pytest.importorskip("torch")


def both(values, device="cpu", dtype="float64"):
    e = ember.tensor(values, dtype=getattr(ember, dtype), device=device, requires_grad=True)
    t = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=True)
    return e, t


def close(e, t):
    np.testing.assert_allclose(e.detach().cpu().numpy(), t.detach().numpy(), rtol=1e-6, atol=1e-9)


def test_accumulation_into_leaves(device):
    e, t = both([1.0, -2.0, 3.0], device)
    for x in (e, t):
        (x * x).sum().backward()
        (x * 3).sum().backward()
    close(e.grad, t.grad)
    e.grad = None
    (e.exp()).sum().backward()
    close(e.grad, t.detach().exp())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_repeated_accumulation_leaves_the_callers_gradients_alone(device, dtype):
    """From the second sum on the engine adds into its own array: the sums stay PyTorch's, the
    gradient tensors the caller passed keep their values, and ``.grad`` stays one tensor."""
    values = [[1.0, -2.0, 3.0], [0.5, 4.0, -1.5]]
    e, t = both(values, device, dtype)
    b_e, b_t = both(values, device, dtype)
    seed_e = ember.ones(2, 3, dtype=getattr(ember, dtype), device=device)
    seed_t = torch.ones(2, 3, dtype=getattr(torch, dtype))
    grad_tensor = None
    for step in range(4):
        for x, b, seed in ((e, b_e, seed_e), (t, b_t, seed_t)):
            (x + b).backward(seed * (step + 1))  # the same gradient object reaches both leaves
        close(e.grad, t.grad)
        close(b_e.grad, b_t.grad)
        grad_tensor = e.grad if grad_tensor is None else grad_tensor
        assert e.grad is grad_tensor
    close(seed_e, seed_t)
    e.grad = None
    (e * 2).sum().backward()
    close(e.grad, 2 * torch.ones(2, 3, dtype=getattr(torch, dtype)))


#: backward passes whose gradients reach a leaf as a broadcast, a shared or a transposed array
_FIRST_GRADIENTS = {
    "sum": lambda T, x, y: x.sum().backward(),
    "mean over rows": lambda T, x, y: x.mean(0).sum().backward(),
    "shared by a sum": lambda T, x, y: (x + y).backward(T.ones(3, 4, dtype=x.dtype, device=x.device) * 2),
    "transposed": lambda T, x, y: (x.t() * 3).sum().backward(),
    "through a view": lambda T, x, y: (x.view(12) * y.reshape(12)).sum().backward(),
}


@pytest.mark.parametrize("case", sorted(_FIRST_GRADIENTS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_first_gradient_is_laid_out_as_the_leaf_and_aliases_nothing(device, case, dtype):
    """A leaf's first ``.grad`` has the leaf's strides and memory of its own, as PyTorch's
    AccumulateGrad makes it: writing one element changes that element only, and another leaf's
    gradient stays as it was."""
    values = np.arange(12.0).reshape(3, 4) / 7
    results = []
    for T, dev in ((ember, device), (torch, "cpu")):
        x = T.tensor(values, dtype=getattr(T, dtype), device=dev, requires_grad=True)
        y = T.tensor(values + 1, dtype=getattr(T, dtype), device=dev, requires_grad=True)
        _FIRST_GRADIENTS[case](T, x, y)
        strides = (x.grad.stride(), None if y.grad is None else y.grad.stride())
        x.grad[0, 0] = 100.0
        results.append((strides, x.grad, y.grad))
    (e_strides, e_x, e_y), (t_strides, t_x, t_y) = results
    assert e_strides == t_strides
    close(e_x, t_x)
    if t_y is not None:
        close(e_y, t_y)


@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_first_gradient_keeps_the_callers_gradient(device, layout):
    """The gradient passed to ``backward`` is never the leaf's ``.grad``: changing one leaves the
    other alone (PyTorch copies a gradient the caller holds)."""
    for T, dev in ((ember, device), (torch, "cpu")):
        x = T.ones(4, 3, device=dev)
        leaf = x.t().requires_grad_() if layout == "transposed" else x.requires_grad_()
        seed = T.arange(12.0).reshape(leaf.shape).to(dev)
        leaf.backward(seed)
        leaf.grad.add_(1)
        assert seed.cpu().tolist() == np.arange(12.0).reshape(tuple(leaf.shape)).tolist()
        assert leaf.grad.stride() == leaf.stride()


def test_first_gradient_under_create_graph_is_differentiable():
    e, t = both([[0.5, -1.0], [2.0, 3.0]])
    for x in (e, t):
        (x * x).sum().backward(create_graph=True)
        x.grad.sum().backward()
    close(e.grad, t.grad)


def test_accumulation_writes_into_the_grad_memory(device):
    """Later gradients are added into ``.grad`` in place, as PyTorch's ``grad += new_grad``: a ``.grad``
    that views a flat buffer fills the buffer, and a view of ``.grad`` sees every sum."""
    results = []
    for T, dev in ((ember, device), (torch, "cpu")):
        x = T.tensor([1.0, -2.0, 3.0], device=dev, requires_grad=True)
        flat = T.zeros(5, device=dev)
        x.grad = flat[1:4]
        (x * x).sum().backward()
        first = flat.cpu().tolist()
        view = x.grad[:2]
        (x * 3).sum().backward()
        results.append((first, flat.cpu().tolist(), view.cpu().tolist()))
    assert results[0] == results[1]


def test_accumulation_refuses_a_grad_with_aliased_elements():
    for T in (ember, torch):
        x = T.ones(3, requires_grad=True)
        x.grad = T.zeros(1).expand(3)
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            (x * 2).sum().backward()


def _returning(T, kept):
    """A custom Function of ``T`` whose backward returns the tensor ``kept``."""

    class Constant(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return kept

    return Constant


def test_accumulation_leaves_a_tensor_a_custom_backward_returns_alone():
    """A custom Function's backward may return a tensor it keeps: the leaf copies it, and later sums
    leave the kept tensor as it was (PyTorch copies a gradient something else holds)."""
    for T in (ember, torch):
        kept = T.tensor([1.0, 2.0])
        x = T.zeros(2, requires_grad=True)
        for _ in range(3):
            _returning(T, kept).apply(x).sum().backward()
        assert kept.tolist() == [1.0, 2.0]
        assert x.grad.tolist() == [3.0, 6.0]


def test_shared_subgraph_and_topological_order(device):
    e, t = both([0.5, -1.0], device)
    outs = []
    for x in (e, t):
        y = x * 2
        z = y.sin() + y.cos() * y
        w = (z * y).sum() + z.sum()
        w.backward()
        outs.append(x.grad)
    close(*outs)


def test_retain_graph_error_and_success(device):
    x = ember.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), 2 * (np.exp([1.0, 2.0]) * np.array([2.0, 3.0])))
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_create_graph_double_backward(device):
    e, t = both([0.3, -0.7, 1.2], device)
    grads = []
    for T, x in ((ember, e), (torch, t)):
        y = (x.tanh() * x.pow(3)).sum()
        (g,) = T.autograd.grad(y, x, create_graph=True)
        (g * g).sum().backward()
        grads.append((g, x.grad))
    close(grads[0][0], grads[1][0])
    close(grads[0][1], grads[1][1])


def test_third_derivative():
    x = ember.tensor(0.5, dtype=ember.float64, requires_grad=True)
    (g1,) = ember.autograd.grad(x.sin(), x, create_graph=True)
    (g2,) = ember.autograd.grad(g1, x, create_graph=True)
    (g3,) = ember.autograd.grad(g2, x)
    assert abs(g3.item() + np.cos(0.5)) < 1e-12


def test_backward_create_graph_grad_has_history():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.grad_fn is not None
    g = x.grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 12.0])


def test_autograd_grad_options():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = ember.tensor([3.0], requires_grad=True)
    out = (x * 2).sum()
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        ember.autograd.grad(out, [x, y], retain_graph=True)
    gx, gy = ember.autograd.grad(out, [x, y], allow_unused=True, retain_graph=True)
    assert gy is None and gx.tolist() == [2.0, 2.0]
    gx, gy = ember.autograd.grad(out, [x, y], materialize_grads=True)
    assert gy.tolist() == [0.0]
    assert x.grad is None
    v = x * 3
    (gv,) = ember.autograd.grad(v, x, grad_outputs=ember.tensor([1.0, -1.0]))
    assert gv.tolist() == [3.0, -3.0]
    with pytest.raises(RuntimeError, match="implicitly created only for scalar"):
        ember.autograd.grad(x * 3, x)


def test_backward_inputs_restricts_accumulation():
    a = ember.tensor([1.0], requires_grad=True)
    b = ember.tensor([2.0], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.tolist() == [2.0] and b.grad is None


@pytest.mark.filterwarnings("ignore:The .grad attribute")
def test_non_leaf_grad_and_retain_grad():
    for T in (ember, torch):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        z = x * 3
        z.retain_grad()
        assert z.retains_grad and not y.retains_grad and not x.retains_grad
        (y * z).sum().backward()
        assert y.grad is None
        assert z.grad.tolist() == [2.0, 4.0]
        assert not y.is_leaf and x.is_leaf


def test_tensor_hooks(device):
    e, t = both([1.0, 2.0], device)
    seen = {}
    for name, x in (("e", e), ("t", t)):
        y = x * x
        y.register_hook(lambda g, name=name: seen.setdefault(name + "y", g.clone()) * 0 + g * 10)
        handle = x.register_hook(lambda g: g + 1)
        y.sum().backward(retain_graph=True)
        handle.remove()
        y.sum().backward()
    close(seen["ey"], seen["ty"])
    close(e.grad, t.grad)


def test_hook_order_tensor_retain_grad_node(device):
    # ember ran the hooks in registration order: a node pre-hook registered before a tensor hook ran
    # first, and retain_grad kept the gradient before the tensor hooks registered after it
    results = []
    for x in both([1.0, 2.0], device):
        order = []
        y = x * 2
        y.grad_fn.register_prehook(
            lambda gout, order=order: (order.append(("pre", gout[0].tolist())), (gout[0] * 10,))[1]
        )
        y.register_hook(lambda g, order=order: (order.append(("tensor", g.tolist())), g * 3)[1])
        y.retain_grad()
        y.register_hook(lambda g, order=order: (order.append(("tensor2", g.tolist())), g + 1)[1])
        y.grad_fn.register_hook(lambda gin, gout, order=order: order.append(("post", gin[0].tolist())))
        y.sum().backward()
        results.append((order, y.grad.tolist(), x.grad.tolist()))
    assert results[0] == results[1]


def test_post_accumulate_grad_hook():
    x = ember.tensor([1.0], requires_grad=True)
    calls = []
    x.register_post_accumulate_grad_hook(lambda p: calls.append(p.grad.item()))
    (x * 4).sum().backward()
    assert calls == [4.0]


def test_post_accumulate_grad_hook_must_return_none_and_unused_index():
    # ember accepted a returned value silently, and named no index for an unused input
    for lib in (ember, torch):
        x = lib.tensor([1.0], requires_grad=True)
        x.register_post_accumulate_grad_hook(lambda p: p.grad * 10)
        with pytest.raises(RuntimeError, match="^Tensor post accumulate grad hooks should return None.$"):
            (x * 4).sum().backward()
        unused = lib.tensor([1.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="^The differentiated Tensor at index 1 appears to not have been used"):
            lib.autograd.grad((x * 2).sum(), [x, unused])


def test_grad_is_grads_batched(device):
    # ember's grad had no is_grads_batched (TypeError)
    results = []
    for lib, x in zip((ember, torch), both([[1.0, 2.0], [3.0, 4.0]], device)):
        unused = lib.tensor(1.0, requires_grad=True)
        y = x * x.sin()
        vectors = lib.stack([lib.ones(2, 2), lib.eye(2), lib.arange(4.0).reshape(2, 2)]).to(x.dtype)
        vectors = vectors.to(device) if lib is ember else vectors
        g, none = lib.autograd.grad(
            y, [x, unused], vectors, is_grads_batched=True, allow_unused=True, retain_graph=True
        )
        (gy,) = lib.autograd.grad(y.sum(), x, x.new_ones(3), is_grads_batched=True, create_graph=True)
        results.append((g.tolist(), none, gy.tolist(), gy.requires_grad))
        with pytest.raises(RuntimeError, match="we interpret the first dimension of each grad_output as the batch"):
            lib.autograd.grad(y, x, vectors[:, 0], is_grads_batched=True)
    (e_g, e_none, e_gy, e_req), (t_g, t_none, t_gy, t_req) = results
    # a device's sin may differ from the CPU's in the last bit
    np.testing.assert_allclose(e_g, t_g, rtol=1e-14)
    np.testing.assert_allclose(e_gy, t_gy, rtol=1e-14)
    assert (e_none, e_req) == (t_none, t_req)


def test_saved_tensors_hooks(device):
    # ember had no autograd.graph (AttributeError): the pack/unpack hooks on saved tensors, save_on_cpu
    # and disable_saved_tensors_hooks, with double backward through what the hooks gave back
    results = []
    for lib, x in zip((ember, torch), both([1.0, 2.0], device)):
        packed = []
        graph = lib.autograd.graph

        def pack(t, packed=packed):
            packed.append(tuple(t.shape))
            return t.detach().clone()

        with graph.saved_tensors_hooks(pack, lambda t: t * 2):
            y = x * x
        with graph.saved_tensors_hooks(pack, lambda t: t):
            z = (x.sin() * x).exp()
        (gx,) = lib.autograd.grad(y.sum(), x)
        (g,) = lib.autograd.grad(z.sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        with graph.save_on_cpu():
            w = (x.exp() * x).sum()
        (gw,) = lib.autograd.grad(w, x)
        with graph.saved_tensors_hooks(lambda t: 1, lambda p: p):
            bad = x.exp()
        with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor but got result of type int"):
            bad.sum().backward()
        with graph.disable_saved_tensors_hooks("no hooks here"):
            with pytest.raises(RuntimeError, match="^no hooks here$"):
                with graph.saved_tensors_hooks(pack, lambda t: t):
                    pass
        results.append([len(packed), gx.tolist(), g.tolist(), gg.tolist(), gw.tolist()])
    np.testing.assert_allclose(np.array(results[0][1:]), np.array(results[1][1:]), rtol=1e-12)
    assert results[0][0] == results[1][0]


def test_linear_holds_its_saved_operands_only_through_the_hooks():
    # F.linear kept the raw arrays of both operands beside what it saved, so a pack hook that moves a
    # saved tensor elsewhere (save_on_cpu, FSDP freeing gathered weights) freed nothing: PyTorch's
    # graph holds a saved tensor only as the pack hook returned it
    import gc
    import weakref

    leaf = ember.randn(4, 3, 5, requires_grad=True)
    weight = ember.randn(2, 5, requires_grad=True)
    with ember.autograd.graph.saved_tensors_hooks(lambda t: t.detach().numpy().copy(), ember.from_numpy):
        x, w = leaf * 1.0, weight * 1.0  # not leaves: nothing else holds their storage
        y = ember.nn.functional.linear(x, w)
    storages = weakref.ref(x._data), weakref.ref(w._data)
    del x, w
    gc.collect()
    assert [ref() is None for ref in storages] == [True, True]
    y.sum().backward()
    assert leaf.grad.shape == leaf.shape and weight.grad.shape == weight.shape


def test_once_differentiable_refuses_a_second_derivative():
    # ember's once_differentiable did nothing: the backward was recorded as it ran (a differentiable
    # backward gave a second derivative, one using constants a silently wrong one); PyTorch runs it
    # unrecorded and makes differentiating through its result an error
    for lib in (ember, torch):

        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x**3

            @staticmethod
            @lib.autograd.function.once_differentiable
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                assert not (x * 1).requires_grad  # run unrecorded
                return grad * 3 * x**2

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (g,) = lib.autograd.grad((Cube.apply(x) * x).sum(), x, create_graph=True)
        assert g.requires_grad and g.tolist() == [4.0, 32.0]
        with pytest.raises(
            RuntimeError, match="differentiate twice a function that was marked with @once_differentiable"
        ):
            g.sum().backward()
        (g,) = lib.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)  # the incoming gradient is a constant
        assert not g.requires_grad


def _grad_argument_messages(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    found = []
    for outputs, grads in (([y, y], [lib.ones(2)]), ([y * 3, y], [lib.ones(3), lib.ones(2)])):
        with pytest.raises(RuntimeError) as info:
            lib.autograd.grad(outputs, [x], grads)
        found.append(str(info.value))
    with pytest.raises(RuntimeError) as info:
        y.backward(lib.ones(3))
    found.append(str(info.value))
    return [m.replace("torch.", "ember.") for m in found]


def test_gradient_count_and_shape_messages():
    # ember said "grad requires one gradient per output: ..." and printed shapes as lists, always at index 0
    assert _grad_argument_messages(ember) == _grad_argument_messages(torch)


def _multi_grad_hook_calls(lib):
    seen = []
    x, y = lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([3.0], requires_grad=True)
    z = x * 3
    handle = lib.autograd.graph.register_multi_grad_hook(
        (x, y, z), lambda grads: seen.append([None if g is None else g.tolist() for g in grads])
    )
    (z.sum() + y.sum()).backward(retain_graph=True)
    (x * 2).sum().backward()  # y and z are not in this graph: None for them
    lib.autograd.grad((z * y).sum(), [z])  # only z's gradient is computed
    handle.remove()
    (x * 2).sum().backward()
    lib.autograd.graph.register_multi_grad_hook((x, y), lambda g: seen.append(("any", g.tolist())), mode="any")
    (x.sum() + y.sum() * 5).backward()
    with pytest.raises(ValueError, match="Expects mode to be one of"):
        lib.autograd.graph.register_multi_grad_hook((x,), print, mode="x")
    return seen


def test_register_multi_grad_hook():
    # ember.autograd.graph had no register_multi_grad_hook
    assert _multi_grad_hook_calls(ember) == _multi_grad_hook_calls(torch)


def test_grad_runs_the_hooks_of_input_leaves():
    # autograd.grad ignored the hooks on a leaf input: ember returned [2, 2], PyTorch [20, 20]
    results = []
    for lib in (ember, torch):
        seen = []
        x, unused = lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([1.0], requires_grad=True)
        x.register_hook(lambda g, seen=seen: (seen.append(g.tolist()), g * 10)[1])
        unused.register_hook(lambda g, seen=seen: seen.append("not an input"))
        (g,) = lib.autograd.grad((x * 2).sum() + unused.sum(), x)
        results.append((g.tolist(), seen, x.grad))
    assert results[0] == results[1]


def _grad_runs_only_the_needed_nodes(lib):
    fired = []
    x = lib.tensor([2.0, 3.0], dtype=lib.float64, requires_grad=True)
    q = lib.tensor([1.5, 0.5], dtype=lib.float64, requires_grad=True)
    side = x.exp()  # on no path to q
    side.register_hook(lambda g: fired.append("side"))
    out = lib.special.zeta(x, q) + side
    # zeta has no derivative in x: asking for q's alone must not compute (and refuse) it
    (gq,) = lib.autograd.grad(out.sum(), q, retain_graph=True)
    with pytest.raises(NotImplementedError, match="the derivative for 'zeta' is not implemented"):
        lib.autograd.grad(out.sum(), x)
    a = lib.tensor([0.7, 2.0], dtype=lib.float64, requires_grad=True)
    rate = lib.tensor([1.5, 0.5], dtype=lib.float64, requires_grad=True)
    (grate,) = lib.autograd.grad(lib.distributions.Gamma(a, rate).cdf(x).sum(), rate)
    return gq.tolist(), grate.tolist(), fired


def test_grad_runs_only_the_nodes_on_a_path_to_the_inputs():
    # ember's autograd.grad ran every node of the graph: hooks off the path fired and a derivative
    # that is not needed (zeta's in x, igamma's in a) raised NotImplementedError
    e, t = _grad_runs_only_the_needed_nodes(ember), _grad_runs_only_the_needed_nodes(torch)
    np.testing.assert_allclose(e[0], t[0], rtol=1e-12)
    np.testing.assert_allclose(e[1], t[1], rtol=1e-12)
    assert e[2] == t[2] == []


def test_hook_on_tensor_without_grad():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        ember.ones(2).register_hook(lambda g: g)


def test_grad_modes():
    x = ember.ones(2, requires_grad=True)
    with ember.no_grad():
        y = x * 2
        assert not ember.is_grad_enabled()
        with ember.enable_grad():
            assert (x * 2).requires_grad
    assert not y.requires_grad and y.grad_fn is None
    with ember.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert ember.is_grad_enabled()

    @ember.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    ember.set_grad_enabled(False)
    try:
        assert not (x + 1).requires_grad
    finally:
        ember.set_grad_enabled(True)
    with ember.inference_mode():
        assert not (x + 1).requires_grad


def test_detach_and_requires_grad_():
    x = ember.ones(2, requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    d[0] = 5
    assert x[0].item() == 5  # shares storage
    y = ember.ones(2).requires_grad_()
    assert y.requires_grad
    z = x * 2
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
        z.requires_grad_(False)
    z.detach_()
    assert not z.requires_grad and z.grad_fn is None


def test_variable_spelling():
    from ember.autograd import Variable

    v = Variable(ember.ones(2), requires_grad=True)
    (v * 3).sum().backward()
    assert v.grad.tolist() == [3.0, 3.0]
    assert not Variable(ember.ones(1)).requires_grad


def test_saved_tensor_modified_inplace_error():
    for T in (ember, torch):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        z = y.exp()
        y.add_(1)  # exp saved its output, not y: still fine
        w = y.sin()
        y.mul_(2)
        z.sum().backward(retain_graph=True)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            w.sum().backward()


@pytest.mark.parametrize("shapes", [((2, 3), (3, 2)), ((4, 2, 3), (3, 2)), ((4, 2, 3), (4, 3, 2))])
def test_matmul_keeps_each_operand_for_the_other_gradient_only(shapes):
    """A product keeps an operand only when the other needs a gradient, as PyTorch: writing in place to
    the operand that is not kept leaves backward working; writing to the kept one fails it."""
    a_shape, b_shape = shapes
    results = []
    for T in (ember, torch):
        w = T.tensor(np.linspace(-1, 1, int(np.prod(a_shape))).reshape(a_shape), requires_grad=True)
        weight = w * 1
        x = T.tensor(np.linspace(0, 2, int(np.prod(b_shape))).reshape(b_shape))
        y = weight @ x  # x is kept (weight's gradient needs it), weight is not
        weight.add_(1)
        y.sum().backward()
        results.append(w.grad.numpy())
        z = weight @ x
        x.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()
    np.testing.assert_allclose(results[0], results[1])


def test_output_modified_inplace_error():
    for T in (ember, torch):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        y.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_leaf_inplace_error():
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        x.add_(1)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        x[0] = 2.0
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x[0].mul_(2)
    with ember.no_grad():
        x.add_(1)  # allowed without recording
    assert x.tolist() == [2.0, 2.0]


def test_version_counter_bumps():
    x = ember.zeros(3)
    v0 = x._version
    x.add_(1)
    x[0] = 3
    x.zero_()
    x.copy_(ember.ones(3))
    assert x._version == v0 + 4


# -- custom Functions ------------------------------------------------------------------------
class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x * x * grad


def test_custom_function_and_gradcheck():
    x = ember.tensor([0.5, -1.5], dtype=ember.float64, requires_grad=True)
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward0" or "Cube" in y.grad_fn.name()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.75, 6.75])
    assert ember.autograd.gradcheck(Cube.apply, (x,))
    assert ember.autograd.gradgradcheck(Cube.apply, (x,))
    # inputs (and outputs) as a list, as PyTorch reads them: ember passed the list as one argument
    assert ember.autograd.gradcheck(lambda a, b: [a * b, a.sin()], [x, (x * 2).detach().requires_grad_()])
    assert ember.autograd.gradgradcheck(ember.special.erfcx, [x])


def test_gradcheck_detects_wrong_backward():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 3

    x = ember.tensor([1.0], dtype=ember.float64, requires_grad=True)
    with pytest.raises(Exception, match="Jacobian|jacobian|mismatch"):
        ember.autograd.gradcheck(Wrong.apply, (x,))
    assert not ember.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False)


def test_needs_input_grad_and_non_tensor_args():
    seen = []

    class Scale(Function):
        @staticmethod
        def forward(ctx, a, b, factor):
            seen.append(ctx.needs_input_grad)
            ctx.factor = factor
            return a * b * factor

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.factor, (grad * ctx.factor if ctx.needs_input_grad[1] else None), None

    a = ember.ones(2, requires_grad=True)
    b = ember.ones(2)
    Scale.apply(a, b, 3.0).sum().backward()
    assert seen == [(True, False, False)]
    assert a.grad.tolist() == [3.0, 3.0] and b.grad is None


def test_mark_dirty():
    class AddOneInplace(Function):
        @staticmethod
        def forward(ctx, x):
            x._data[...] = x._data + 1
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = ember.ones(2, requires_grad=True)
    y = x * 2
    v = y._version
    out = AddOneInplace.apply(y)
    assert out is y and y._version == v + 1 and y.tolist() == [3.0, 3.0]
    assert y.grad_fn is not None and "AddOneInplace" in y.grad_fn.name()
    (y * y).sum().backward()
    assert x.grad.tolist() == [12.0, 12.0]


def test_function_setup_context(device):
    # the new style (forward without ctx, then setup_context) raised TypeError in ember
    results = []
    for lib, (x, y) in zip((ember, torch), zip(both([1.0, 2.0], device), both([3.0, 4.0], device))):

        class ScaledMul(lib.autograd.Function):
            @staticmethod
            def forward(x, y, scale=3.0):
                return x * y * scale, (x + y).detach()

            @staticmethod
            def setup_context(ctx, inputs, output):
                x, y, ctx.scale = inputs  # the default bound
                ctx.save_for_backward(x, y)
                ctx.mark_non_differentiable(output[1])

            @staticmethod
            def backward(ctx, grad, _):
                x, y = ctx.saved_tensors
                return grad * y * ctx.scale, grad * x * ctx.scale, None

        out, total = ScaledMul.apply(x, y)
        out.sum().backward()
        (g,) = lib.autograd.grad(ScaledMul.apply(x, y, scale=0.5)[0].sum(), y, create_graph=True)
        results.append((x.grad.tolist(), y.grad.tolist(), total.requires_grad, g.tolist(), g.requires_grad))
    assert results[0] == results[1]


def test_function_non_tensor_output_gets_none(device):
    # backward received a zero tensor built from no metadata (TypeError) for an output that is a number
    results = []
    for lib, x in zip((ember, torch), both([1.0, 2.0], device)):

        class WithCount(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, 3, x * 3

            @staticmethod
            def backward(ctx, g1, g2, g3):
                results.append((g2, g3.tolist()))
                return g1 * 2 + g3

        a, n, _ = WithCount.apply(x)
        a.sum().backward()
        results.append((n, x.grad.tolist()))
    assert results[:2] == results[2:]


def test_mark_dirty_view_rewrites_base(device):
    # the base's history ignored the in-place write into its view: ember gave a.grad [1, 10, 100],
    # PyTorch [1, 20, 200] (the write recorded on the base, as CopySlices)
    results = []
    for lib, a in zip((ember, torch), both([1.0, 2.0, 3.0], device)):

        class DoubleInplace(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.mark_dirty(x)
                ctx.save_for_backward(x)
                return x.mul_(2)

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * 2

        v = a * 1
        out = DoubleInplace.apply(v[1:])
        weights = lib.tensor([1.0, 10.0, 100.0], dtype=lib.float64, device=device if lib is ember else "cpu")
        (v * weights).sum().backward(retain_graph=True)
        grads = [a.grad.tolist()]
        a.grad = None
        (out * 5).sum().backward()
        results.append((grads + [a.grad.tolist()], v.tolist()))
        with pytest.raises(RuntimeError, match="view of a leaf Variable"):
            DoubleInplace.apply(lib.ones(2, requires_grad=True)[:1])
    assert results[0] == results[1]


def test_mark_non_differentiable():
    class SortWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            values, idx = x.sort()
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(idx)
            return values, idx

        @staticmethod
        def backward(ctx, grad_values, grad_idx):
            (idx,) = ctx.saved_tensors
            assert grad_idx is None or not grad_idx.any()
            out = ember.zeros_like(grad_values)
            out[idx] = grad_values
            return out

    x = ember.tensor([3.0, 1.0, 2.0], requires_grad=True)
    values, idx = SortWithIndex.apply(x)
    assert values.requires_grad and not idx.requires_grad
    (values * ember.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [3.0, 1.0, 2.0]


def test_set_materialize_grads():
    got = []

    class Two(Function):
        @staticmethod
        def forward(ctx, x, materialize):
            ctx.set_materialize_grads(materialize)
            return x * 1, x * 2

        @staticmethod
        def backward(ctx, g1, g2):
            got.append(g2)
            return g1 if g2 is None else g1 + 2 * g2, None

    for materialize in (True, False):
        x = ember.ones(2, requires_grad=True)
        a, _ = Two.apply(x, materialize)
        a.sum().backward()
        assert x.grad.tolist() == [1.0, 1.0]
    assert got[0] is not None and got[0].tolist() == [0.0, 0.0]
    assert got[1] is None


def test_function_returning_wrong_number_of_grads():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return (grad,)

    a = ember.ones(1, requires_grad=True)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(a, ember.ones(1, requires_grad=True)).sum().backward()


def test_backward_of_non_scalar_and_shape_mismatch():
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="implicitly created only for scalar"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(ember.ones(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.ones(2).sum().backward()


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="Only Tensors of floating point and complex dtype can require gradients"):
        ember.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
        ember.tensor([1, 2]).requires_grad_()
    x = ember.tensor([1.5, 2.5], requires_grad=True)
    assert not x.long().requires_grad and not x.argmax().requires_grad and not (x > 1).requires_grad


@pytest.mark.parametrize("name", ["exp", "expm1", "tan", "tanh", "sigmoid", "reciprocal"])
def test_unary_backward_native_and_create_graph(name, device):
    # without create_graph these derivatives run on native arrays; with it, through the graph
    values = [0.3, -1.2, 0.7, 1.1]
    e, t = both(values, device)
    (ge,) = ember.autograd.grad(getattr(e, name)().sum(), e, create_graph=True)
    (gt,) = torch.autograd.grad(getattr(t, name)().sum(), t, create_graph=True)
    close(ge, gt)
    ge.sum().backward()
    gt.sum().backward()
    close(e.grad, t.grad)
    e, t = both(values, device)
    getattr(e, name)().square().sum().backward()
    getattr(t, name)().square().sum().backward()
    close(e.grad, t.grad)


@pytest.mark.parametrize("scalar", [1, 2.5])
def test_scalar_minus_tensor(scalar, device):
    e, t = both([0.3, -1.2], device, "float32")
    ye, yt = scalar - e, scalar - t
    assert ye.dtype is ember.float32
    close(ye, yt)
    (ye * ye).sum().backward()
    (yt * yt).sum().backward()
    close(e.grad, t.grad)


def test_backward_may_return_a_tuple_subclass_as_torch(device):
    """A custom Function's backward returning a named tuple gives one gradient per input, as in
    torch (the engine takes any tuple, not only exactly ``tuple``)."""
    import collections

    grads = collections.namedtuple("Grads", "a b")
    results = []
    for lib in (ember, torch):

        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                return a * b

            @staticmethod
            def backward(ctx, g):
                return grads(g * 2, g * 3)

        kwargs = {"device": device} if lib is ember else {}
        a = lib.ones(2, requires_grad=True, **kwargs)
        b = lib.ones(2, requires_grad=True, **kwargs)
        Scale.apply(a, b).sum().backward()
        results.append((a.grad.cpu().numpy(), b.grad.cpu().numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def _graph_names(T):
    """Names along ``next_functions`` from the output of a small graph, and how many edges each node lists."""
    x = T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = (x * x.detach()).exp().relu().sigmoid().sum()
    seen, node = [], y.grad_fn
    while node is not None:
        leaf = not node.next_functions  # PyTorch's sink is named "torch::autograd::AccumulateGrad"
        seen.append((None if leaf else node.name(), type(node).__name__, len(node.next_functions)))
        node = node.next_functions[0][0] if node.next_functions else None
    return seen


def test_next_functions_list_the_tensor_arguments_as_torch():
    assert _graph_names(ember) == _graph_names(torch)
    for T in (ember, torch):
        x = T.ones(2, requires_grad=True)
        edges = (x * T.ones(2)).grad_fn.next_functions
        assert len(edges) == 2 and edges[1] == (None, 0)
        assert repr(x.exp().grad_fn).startswith("<ExpBackward0 object at 0x")


def test_reading_grad_of_a_non_leaf_warns_as_torch():
    for T in (ember, torch):
        x = T.ones(2, requires_grad=True)
        y, kept = x * 2, x * 3
        kept.retain_grad()
        (y + kept).sum().backward()
        with pytest.warns(UserWarning, match="is not a leaf Tensor is being accessed"):
            assert y.grad is None
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert kept.grad.tolist() == [1.0, 1.0]
            assert x.grad.tolist() == [5.0, 5.0]


def test_grad_takes_pytorchs_only_inputs_and_a_dict_of_inputs():
    for lib in (torch, ember):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        # WGAN-GP's gradient penalty passes only_inputs=True; positionally it comes before allow_unused
        (g,) = lib.autograd.grad((x * 2).sum(), x, None, True, True, only_inputs=True)
        assert g.tolist() == [2.0, 2.0]
        _, unused = lib.autograd.grad((x * 2).sum(), [x, w], None, False, False, True, True)
        assert unused is None
        with pytest.warns(FutureWarning, match="only_inputs argument is deprecated"):
            lib.autograd.grad((x * 2).sum(), x, only_inputs=False)
        named = lib.autograd.grad((x * w).sum(), {"x": x, "w": w})
        assert isinstance(named, dict) and list(named) == ["x", "w"]
        assert named["x"].tolist() == [3.0, 4.0] and named["w"].tolist() == [1.0, 2.0]


def test_several_outputs_of_one_node_as_the_roots_of_a_backward_pass(device):
    # each root's gradient reaches the node; its inputs' nodes wait for that node once, not once per root
    def run(T, kwargs):
        class Two(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, ga, gb):
                return ga * 2 + gb * 3

        x = T.ones(2, requires_grad=True, **kwargs)
        ones = T.ones(2, **kwargs)
        (g,) = T.autograd.grad(Two.apply(x), x, (ones, ones))
        T.autograd.backward(Two.apply(x), (ones, ones))
        parts = T.ones(4, 3, dtype=T.float64, requires_grad=True, **kwargs).split(2)
        (split,) = T.autograd.grad(parts, parts[0]._base, [T.ones_like(p) for p in parts])
        return [t.detach().cpu().numpy() for t in (g, x.grad, split)]

    for got, expected in zip(run(ember, {"device": device}), run(torch, {})):
        np.testing.assert_array_equal(got, expected)


_WRITES_AFTER_A_SAVE = {
    "saved_input": lambda T, x: [c := x * 1, y := c * c, c.add_(1), y],
    "saved_output": lambda T, x: [y := x.sigmoid(), y.mul_(2), y],
    "saved_output_of_exp": lambda T, x: [y := x.exp(), y.add_(1), y],
    "saved_leaf": lambda T, x: (
        [a := x.detach().requires_grad_(), y := a * a, T.no_grad().__enter__(), a.add_(1)]
        + [T.set_grad_enabled(True), y]
    ),
    "saved_float64": lambda T, x: [c := x.double() * 1, y := c * c, c.mul_(2), y],
    "saved_filled": lambda T, x: (
        [c := x * 1, c.fill_(2.0), y := c * c, T.no_grad().__enter__(), c.add_(1)] + [T.set_grad_enabled(True), y]
    ),
}


@pytest.mark.parametrize("anomaly", [False, True])
@pytest.mark.parametrize("case", sorted(_WRITES_AFTER_A_SAVE))
def test_backward_through_a_tensor_written_after_it_was_saved_raises_as_torch(device, case, anomaly):
    messages = []
    for T in (torch, ember):
        x = T.tensor([1.0, 2.0, 3.0], requires_grad=True, **({} if T is torch else {"device": device}))
        with warnings.catch_warnings(), T.autograd.set_detect_anomaly(anomaly):
            warnings.simplefilter("ignore")
            y = _WRITES_AFTER_A_SAVE[case](T, x)[-1]
            with pytest.raises(RuntimeError) as refused:
                y.sum().backward()
        messages.append(str(refused.value).replace("torch.", "ember."))
    assert messages[1] == messages[0]


def test_a_power_keeps_only_what_its_gradients_read(device):
    # x ** 2 keeps x, not its result (PyTorch's PowBackward0): writing into the result is allowed
    found = []
    for T in (torch, ember):
        x = T.tensor([1.0, 2.0, 3.0], requires_grad=True, **({} if T is torch else {"device": device}))
        packed: list = []
        with T.autograd.graph.saved_tensors_hooks(lambda t, packed=packed: packed.append(t.shape) or t, lambda t: t):
            y, z = x**2, x**x
        y.add_(1)
        (y + z).sum().backward()
        found.append((len(packed), x.grad.cpu().numpy()))
    assert found[1][0] == found[0][0] == 4
    np.testing.assert_allclose(found[1][1], found[0][1], rtol=1e-6)


def test_a_leafs_node_runs_its_post_hooks_after_accumulating(device):
    found = []
    for T in (torch, ember):
        x = T.ones(2, requires_grad=True, **({} if T is torch else {"device": device}))
        seen: list = []
        sink = (x * 2).grad_fn.next_functions[0][0]
        sink.register_hook(lambda gi, go, x=x, seen=seen: seen.append((gi, [g.tolist() for g in go], x.grad.tolist())))
        (x * 2).sum().backward()
        T.autograd.grad((x * 3).sum(), x)  # autograd.grad runs no leaf's node
        found.append(seen)
    assert found[1] == found[0] == [((), [[2.0, 2.0]], [2.0, 2.0])]


def test_increment_version_invalidates_what_was_saved(device):
    messages = []
    for T in (torch, ember):
        x = T.ones(2, requires_grad=True, **({} if T is torch else {"device": device}))
        c = x * 1
        y = c * c
        T.autograd.graph.increment_version([c])
        with pytest.raises(RuntimeError) as refused:
            y.sum().backward()
        messages.append(str(refused.value).replace("torch.", "ember."))
        with T.inference_mode():
            free = T.ones(1)
        T.autograd.graph.increment_version(free)  # no version to count
    assert messages[1] == messages[0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_allow_mutation_on_saved_tensors_as_torch(device, dtype):
    found = []
    for T in (torch, ember):
        graph = T.autograd.graph
        x = T.tensor(
            [1.0, 2.0, 3.0], dtype=getattr(T, dtype), requires_grad=True, **({} if T is torch else {"device": device})
        )
        with graph.allow_mutation_on_saved_tensors():
            c = x * 1
            y = (c * c).sum() + c.exp().sum()
            c.add_(1)
            c.sin_()
            s = x.sigmoid()
            z = (s * s).sum()
            s.mul_(2)  # a saved output written too
            (y + z).backward()
            with pytest.raises(RuntimeError, match="cannot be nested"):
                with graph.allow_mutation_on_saved_tensors():
                    pass
        with graph.allow_mutation_on_saved_tensors():
            late = (x * x).sum()
        with pytest.raises(AssertionError, match="Trying to backward outside"):
            late.backward()
        found.append(x.grad.cpu().numpy())
    np.testing.assert_allclose(found[1], found[0], rtol=1e-6)


@pytest.mark.parametrize("write", ["fill_", "zero_", "fill_a_view", "zero_a_view"])
def test_gradients_through_fill_and_zero(device, write):
    writes = {
        "fill_": lambda c: c.fill_(2.0),
        "zero_": lambda c: c.zero_(),
        "fill_a_view": lambda c: c[1:].fill_(2.0),
        "zero_a_view": lambda c: c[:, 0].zero_(),
    }
    found = []
    for T in (torch, ember):
        x = T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, **({} if T is torch else {"device": device}))
        c = x * 2
        y = c.sum()
        writes[write](c)
        (y + (c * x).sum()).backward()  # through y, c's old values; through c * x, the written ones
        found.append((x.grad.cpu().numpy(), c.detach().cpu().numpy()))
    for got, expected in zip(found[1], found[0]):
        np.testing.assert_array_equal(got, expected)


def test_disable_saved_tensors_hooks_refuses_to_enter_over_hooks_in_force():
    # ember entered it silently; PyTorch raises its error message and leaves nothing disabled
    for T in (torch, ember):
        graph = T.autograd.graph
        with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            with pytest.raises(RuntimeError, match="^not with hooks$"):
                with graph.disable_saved_tensors_hooks("not with hooks"):
                    pass
        with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            pass
