"""A view made before its base (or another view of the base) is modified in place takes up the
base's new history: its gradient flows through the write (PyTorch's view + in-place rules).

Each case runs the same program on ember and on PyTorch; the gradients of ``x`` must agree, first
and second order.
"""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

X = np.arange(1.0, 10.0).reshape(3, 3)


# (w, x, c): c = x.clone(), written in place after a view of it is taken; returns the loss.
# w(*shape) gives constant weights beside x
CASES = {
    "base_mul": lambda w, x, c: [v := c[0], c.mul_(x), (v * w(3)).sum()][-1],
    "sibling_write": lambda w, x, c: [v := c[0], c[0].mul_(x[1]), (v * v).sum()][-1],
    "overlapping_sibling_write": lambda w, x, c: [v := c[:, 0], c[0].mul_(x[2]), (v * w(3)).sum()][-1],
    "setitem_on_base": lambda w, x, c: [v := c[0], c.__setitem__((0, 1), 5.0), (v * v).sum()][-1],
    "view_of_view": lambda w, x, c: [v := c[0:2][0], c.add_(1), c.mul_(x), (v * w(3)).sum()][-1],
    "transpose": lambda w, x, c: [v := c.t(), c.mul_(x), (v * w(3, 3)).sum()][-1],
    "view": lambda w, x, c: [v := c.view(9), c.pow_(2), (v * w(9)).sum()][-1],
    "unsqueeze": lambda w, x, c: [v := c.unsqueeze(0), c.exp_(), (v * w(1, 3, 3)).sum()][-1],
    "expand": lambda w, x, c: [v := c[0:1].expand(4, 3), c.mul_(x), (v * w(4, 3)).sum()][-1],
    "diagonal": lambda w, x, c: [v := c.diagonal(), c.sin_(), (v * w(3)).sum()][-1],
    "narrow": lambda w, x, c: [v := c.narrow(1, 1, 2), c.mul_(x), (v * w(3, 2)).sum()][-1],
    "as_strided": lambda w, x, c: [v := c.as_strided((2, 2), (3, 1), 1), c.mul_(x), (v * w(2, 2)).sum()][-1],
    "several_writes": lambda w, x, c: [
        v := c[1],
        c.mul_(2),
        c.add_(x),
        c[2].mul_(x[0]),
        c.pow_(2),
        (v * w(3)).sum(),
    ][-1],
    "saved_by_an_op": lambda w, x, c: [v := c[0], c.mul_(x), (v * v).sum()][-1],
    "used_before_and_after": lambda w, x, c: [v := c[0], y := v * 2, c.mul_(x), y.sum() + (v * v).sum()][-1],
    "write_into_the_stale_view": lambda w, x, c: [v := c[0], c.mul_(x), v.mul_(x[1]), c.sum() + (v * v).sum()][-1],
    "copy_into_base": lambda w, x, c: [v := c[2], c.copy_(x * x), (v * w(3)).sum()][-1],
    "base_gains_grad": lambda w, x, c: [d := x.detach().clone(), v := d[0], d.mul_(x * x), (v * w(3)).sum()][-1],
}


def _gradients(T, device, case, dtype):
    kwargs = {} if T is torch else {"device": device}
    x = T.tensor(X, dtype=dtype, requires_grad=True, **kwargs)

    def w(*shape):
        return T.arange(1.0, 1.0 + np.prod(shape), dtype=dtype, **kwargs).reshape(shape)

    (g,) = T.autograd.grad(CASES[case](w, x, x.clone()), x, create_graph=True)
    (gg,) = T.autograd.grad((g * g).sum(), x) if g.requires_grad else (None,)
    x.grad = None
    CASES[case](w, x, x.clone()).backward()
    return [None if t is None else t.detach().cpu().numpy() for t in (x.grad, g, gg)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_gradient_through_a_write_into_the_base(device, case, dtype):
    ours = _gradients(ember, device, case, getattr(ember, dtype))
    theirs = _gradients(torch, None, case, getattr(torch, dtype))
    for got, want in zip(ours, theirs):
        if want is None:
            assert got is None
        else:
            np.testing.assert_allclose(got, want, rtol=1e-5)


def test_history_reads_see_the_write(device):
    x = ember.tensor([1.0, 2.0], device=device, requires_grad=True)
    c = x.clone()
    v = c[0]
    assert v.grad_fn is not None
    c.mul_(2)
    v.grad_fn.register_hook(lambda grad_inputs, grad_outputs: None)  # the refreshed node, not the old one
    assert not v.is_leaf and v.requires_grad
    v.backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [2.0, 0.0])


def test_a_view_of_a_base_that_gains_grad_requires_grad(device):
    c = ember.tensor([1.0, 2.0], device=device)
    v = c[0]
    w = ember.tensor(3.0, device=device, requires_grad=True)
    assert not v.requires_grad
    c.mul_(w)
    assert v.requires_grad
    v.backward()
    assert w.grad.item() == 1.0


def test_detached_view_keeps_no_history(device):
    x = ember.tensor([1.0, 2.0], device=device, requires_grad=True)
    c = x.clone()
    d = c[0].detach()
    c.mul_(2)
    assert d.grad_fn is None and not d.requires_grad and d._base is None


def test_views_made_under_no_grad(device):
    x = ember.tensor([1.0, 2.0], device=device, requires_grad=True)
    c = x.clone()
    with ember.no_grad():
        v = c[0]
    c.mul_(2)
    for read in (lambda: v.grad_fn, lambda: v.is_leaf, lambda: v * 2):
        with pytest.raises(RuntimeError, match="A view was created in no_grad mode and its base or another view"):
            read()
    with ember.no_grad():
        u = c[1]
    with pytest.raises(RuntimeError, match="A view was created in no_grad mode and is being modified inplace"):
        u.mul_(x[0])


def _view_made_under_no_grad(T, device, leaf, view):
    kwargs = {} if T is torch else {"device": device}
    x = T.tensor(X, requires_grad=True, **kwargs)
    base = x if leaf else x.clone()
    with T.no_grad():
        v = view(base)
    return x, v


_NO_GRAD_VIEWS = {"index": lambda b: b[0], "slice_of_slice": lambda b: b[1:][0], "t": lambda b: b.t()}


@pytest.mark.parametrize("leaf", [True, False])
@pytest.mark.parametrize("view", sorted(_NO_GRAD_VIEWS))
def test_a_view_made_under_no_grad_requires_grad_without_history(device, leaf, view):
    found = []
    for T in (torch, ember):
        x, v = _view_made_under_no_grad(T, device, leaf, _NO_GRAD_VIEWS[view])
        y = (v * v).sum()
        state = (v.requires_grad, v.is_leaf, v.grad_fn, y.requires_grad)
        y.backward()  # recorded, but no gradient reaches the view nor its base
        found.append((*state, v.grad, x.grad))
    assert found[1] == found[0] == (True, True, None, True, None, None)


@pytest.mark.parametrize("leaf", [True, False])
def test_a_view_made_under_no_grad_requires_grad_while_its_base_does(device, leaf):
    found = []
    for T in (torch, ember):
        x, v = _view_made_under_no_grad(T, device, leaf, _NO_GRAD_VIEWS["index"])
        v.requires_grad_(False)
        found.append((v.requires_grad, (v * 2).requires_grad))
    assert found[1] == found[0] == (True, True)


@pytest.mark.parametrize("leaf", [True, False])
@pytest.mark.parametrize("write", ["add_", "copy_", "setitem", "uniform_"])
def test_an_in_place_write_into_a_view_made_under_no_grad_raises_at_the_write(device, leaf, write):
    writes = {
        "add_": lambda v: v.add_(1),
        "copy_": lambda v: v.copy_(v.detach() * 2),
        "setitem": lambda v: v.__setitem__(0, 1.0),
        "uniform_": lambda v: v.uniform_(),
    }
    for T in (torch, ember):
        _, v = _view_made_under_no_grad(T, device, leaf, _NO_GRAD_VIEWS["index"])
        with pytest.raises(RuntimeError, match="created in no_grad mode and is being modified inplace"):
            writes[write](v)
        with T.no_grad():
            writes[write](v)  # untracked: allowed


@pytest.mark.parametrize("leaf", [True, False])
def test_a_view_of_a_view_made_under_no_grad_refuses_writes(device, leaf):
    messages = []
    for T in (torch, ember):
        _, v = _view_made_under_no_grad(T, device, leaf, _NO_GRAD_VIEWS["t"])
        w = v[0]
        with pytest.raises(RuntimeError) as written:
            w.mul_(2)
        messages.append(str(written.value))
    assert messages[1] == messages[0]
    assert messages[0].startswith("Output 0 of Select is a view of a view which was created in no_grad mode")


_WRITES_NEAR_A_VIEW_MADE_WITHOUT_RECORDING = {
    "into_the_view": lambda c, v: v.add_(1),
    "into_the_base": lambda c, v: [c.mul_(2), v.grad_fn],
    "into_a_view_of_the_view": lambda c, v: v[0].add_(1),
}


@pytest.mark.parametrize("mode", ["no_grad", "inference_mode"])
@pytest.mark.parametrize("write", sorted(_WRITES_NEAR_A_VIEW_MADE_WITHOUT_RECORDING))
def test_writes_near_a_view_made_without_recording_raise_as_torch(device, mode, write):
    messages = []
    for T in (torch, ember):
        x = T.tensor(X, requires_grad=True, **({} if T is torch else {"device": device}))
        c = x * 1
        with getattr(T, mode)():
            v = c[1:]
        assert v.requires_grad
        with pytest.raises(RuntimeError) as refused:
            _WRITES_NEAR_A_VIEW_MADE_WITHOUT_RECORDING[write](c, v)
        messages.append(str(refused.value))
    assert messages[1] == messages[0]


def test_views_made_and_written_under_no_grad(device):
    x = ember.tensor([1.0, 2.0], device=device, requires_grad=True)
    with ember.no_grad():
        v = x[0]
        x.mul_(2)
    with pytest.raises(RuntimeError, match="A view was created in no_grad mode"):
        _ = v.grad_fn


_MULTI_OUTPUT_VIEWS = {
    "split": lambda c: c.split(2),
    "split_sizes": lambda c: c.split([1, 2], 1),
    "chunk": lambda c: c.chunk(3),
    "unbind": lambda c: c.unbind(1),
}
_WRITES_NEAR_A_PIECE = {
    "into_the_piece": lambda T, c, pieces, x: [pieces[0].mul_(2)],
    "into_a_view_of_the_piece": lambda T, c, pieces, x: [pieces[1][0].add_(1)],
    "into_the_base": lambda T, c, pieces, x: [c.add_(1), pieces[1].grad_fn],
    "under_no_grad": lambda T, c, pieces, x: (
        [T.no_grad().__enter__(), pieces[0].add_(1), T.set_grad_enabled(True)] + [pieces[1] * 2]
    ),
    "of_a_base_without_grad": lambda T, c, pieces, x: [pieces[0].copy_(x.sum())],
}


@pytest.mark.parametrize("write", sorted(_WRITES_NEAR_A_PIECE))
@pytest.mark.parametrize("op", sorted(_MULTI_OUTPUT_VIEWS))
def test_views_that_are_outputs_of_one_node_refuse_in_place_writes(device, op, write):
    messages = []
    for T in (torch, ember):
        kwargs = {} if T is torch else {"device": device}
        x = T.tensor(X, requires_grad=True, **kwargs)
        c = x.detach().clone() if write == "of_a_base_without_grad" else x * 1
        pieces = _MULTI_OUTPUT_VIEWS[op](c)
        with pytest.raises(RuntimeError) as refused:
            _WRITES_NEAR_A_PIECE[write](T, c, pieces, x)
        messages.append(str(refused.value))
    assert messages[1] == messages[0]
    assert "This view is the output of a function that returns multiple views" in messages[0]


@pytest.mark.parametrize("op", sorted(_MULTI_OUTPUT_VIEWS))
def test_views_that_are_outputs_of_one_node_are_writable_untracked(device, op):
    found = []
    for T in (torch, ember):
        kwargs = {} if T is torch else {"device": device}
        c = T.tensor(X, **kwargs)
        pieces = _MULTI_OUTPUT_VIEWS[op](c)
        pieces[0].mul_(10)
        found.append((c.cpu().numpy(), [p._base is c for p in pieces], [p.requires_grad for p in pieces]))
    np.testing.assert_array_equal(found[1][0], found[0][0])
    assert found[1][1:] == found[0][1:]


@pytest.mark.parametrize("op", ["unsafe_split", "unsafe_chunk", "unsafe_split_with_sizes"])
def test_the_unsafe_splits_allow_in_place_writes(device, op):
    found = []
    for T in (torch, ember):
        x = T.tensor(X, requires_grad=True, **({} if T is torch else {"device": device}))
        pieces = getattr(T, op)(x * 1, [1, 2] if op.endswith("sizes") else 2)
        pieces[1].mul_(x[0, 0])
        found.append(pieces[1].detach().cpu().numpy())
    np.testing.assert_array_equal(found[1], found[0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", sorted(_MULTI_OUTPUT_VIEWS))
def test_gradients_through_views_that_are_outputs_of_one_node(device, op, dtype):
    found = []
    for T in (torch, ember):
        kwargs = {} if T is torch else {"device": device}
        x = T.tensor(X, dtype=getattr(T, dtype), requires_grad=True, **kwargs)
        pieces = _MULTI_OUTPUT_VIEWS[op](x * x)
        loss = (pieces[0] * pieces[-1].sum()).sum()  # some pieces get no gradient
        (g,) = T.autograd.grad(loss, x, create_graph=True)
        (gg,) = T.autograd.grad((g * g).sum(), x)
        found.append([t.detach().cpu().numpy() for t in (g, gg)])
    for got, expected in zip(*found[::-1]):
        np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_detach_in_place_of_a_view_raises(device):
    x = ember.tensor([1.0, 2.0], device=device, requires_grad=True)
    c = x.clone()
    with pytest.raises(RuntimeError, match="Can't detach views in-place"):
        c[0].detach_()
    with pytest.raises(RuntimeError, match="Can't detach views in-place"):
        ember.ones(2, device=device)[0].detach_()


def _outputs_views(T, count):
    class Views(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x[0:1] if count == 1 else (x[0:1], x[1:2])

        @staticmethod
        def backward(ctx, *grads):
            return T.cat(grads) * 10 if count == 2 else T.cat([grads[0] * 10, T.zeros_like(grads[0])])

    return Views


@pytest.mark.parametrize("count", [1, 2])
def test_views_a_custom_function_returned_refuse_a_rebase(device, count):
    for T, kwargs in ((torch, {}), (ember, {"device": device})):
        x = T.tensor([1.0, 2.0], requires_grad=True, **kwargs)
        c = x.clone()
        out = _outputs_views(T, count).apply(c)
        v = out if count == 1 else out[0]
        of_view = v[0]
        c.mul_(2)
        why = (
            "created inside a custom Function" if count == 1 else "the output of a function that returns multiple views"
        )
        for view in (v, of_view):
            with pytest.raises(RuntimeError, match=f"is a view and its base or another view of its base.*{why}"):
                _ = view.grad_fn
        assert "grad_fn=<Invalid>" in repr(v)
        with pytest.raises(RuntimeError, match=f"is a view and is being modified inplace.*{why}"):
            _outputs_views(T, count).apply(x.clone())[0].mul_(x[0])


def test_custom_function_may_write_into_a_view_it_marks_dirty(device):
    grads = []
    for T, kwargs in ((torch, {}), (ember, {"device": device})):

        class Double(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.mark_dirty(x)
                return x.mul_(2)

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        x = T.tensor([1.0, 2.0], requires_grad=True, **kwargs)
        c = x.clone()
        u = c[1]
        Double.apply(c[0])
        ((c * T.tensor([1.0, 3.0], **kwargs)).sum() + u * 5).backward()
        grads.append(x.grad.cpu().numpy())
    np.testing.assert_array_equal(grads[1], grads[0])


RETAINED = {
    # retain_grad on a view, then a write into its base: the view's gradient is kept at its new node
    "view_then_base_written": lambda T, x: [c := x.clone(), v := c[0], v.retain_grad(), c.mul_(2), v, v * 3][-2:],
    # retain_grad, then a write into the tensor itself: kept at its new node, not the old one
    "tensor_then_written": lambda T, x: [y := x * 3, y.retain_grad(), y.mul_(2), y, y.sum()][-2:],
    # ... and for a view written into, whose new node the loss does not reach
    "view_then_written": lambda T, x: [c := x * 3, v := c[0], v.retain_grad(), v.mul_(2), v, c.sum()][-2:],
}


@pytest.mark.parametrize("case", sorted(RETAINED))
def test_retained_gradient_follows_the_new_node(device, case):
    grads = []
    for T, kwargs in ((torch, {}), (ember, {"device": device})):
        x = T.tensor([1.0, 2.0], requires_grad=True, **kwargs)
        kept, loss = RETAINED[case](T, x)
        loss.backward()
        grads.append(None if kept.grad is None else kept.grad.cpu().numpy())
    if grads[0] is None:
        assert grads[1] is None
    else:
        np.testing.assert_array_equal(grads[1], grads[0])


@pytest.mark.parametrize("key", ["int", "slice", "none", "everything", "ellipsis", "list", "mask"])
def test_writing_an_index_of_a_leaf_that_requires_grad_raises_as_torch(device, key):
    keys = {
        "int": lambda T: 0,
        "slice": lambda T: slice(0, 2),
        "none": lambda T: (None,),
        "everything": lambda T: slice(None),
        "ellipsis": lambda T: Ellipsis,
        "list": lambda T: [0, 1],
        "mask": lambda T: T.tensor([True, False, True]),
    }
    messages = []
    for T in (torch, ember):
        x = T.ones(3, requires_grad=True, **({} if T is torch else {"device": device}))
        index = keys[key](T)
        with pytest.raises(RuntimeError) as refused:
            x[index.to(x.device) if key == "mask" else index] = 1.0
        messages.append(str(refused.value))
        assert x[1:]._is_view() and not x._is_view() and not x.detach()._is_view()
    assert messages[1] == messages[0]
