"""What becomes ``.grad`` against PyTorch: the gradients hooks return, ``retain_grad``'s copies, and
``backward(inputs=...)``, which accumulates as ``AccumulateGrad`` does (no ``.grad`` may take memory that
a caller, a hook or another ``.grad`` still refers to)."""

import warnings

import pytest

import ember

torch = pytest.importorskip("torch")


def run_both(program):
    """``program(lib)`` on ember (warnings as set by the caller), then on PyTorch (warnings ignored)."""

    def flat(value):
        if isinstance(value, (tuple, list)):
            return [flat(v) for v in value]
        if hasattr(value, "tolist"):
            return (value.tolist(), tuple(value.stride()), str(value.dtype).split(".")[1])
        return value

    e = flat(program(ember))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return e, flat(program(torch))


def hooked_leaf(lib):
    x = lib.ones(3, requires_grad=True)
    kept = lib.ones(3)
    x.register_hook(lambda g: kept)
    (x * 1).sum().backward()
    (x * 1).sum().backward()
    return kept, x.grad


def hooked_non_leaf(lib):
    x = lib.ones(3, requires_grad=True)
    y = x + 0
    kept = lib.ones(3)
    y.register_hook(lambda g: kept)
    y.sum().backward()
    (x * 2).sum().backward()
    return kept, x.grad


def node_prehook(lib):
    x = lib.ones(3, requires_grad=True)
    y = x + 0
    kept = lib.ones(3)
    y.grad_fn.register_prehook(lambda grads: (kept,))
    y.sum().backward()
    (x * 2).sum().backward()
    return kept, x.grad


def node_posthook(lib):
    x = lib.ones(3, requires_grad=True)
    y = x + 0
    kept = lib.ones(3)
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (kept, None))
    y.sum().backward()
    (x * 2).sum().backward()
    return kept, x.grad


@pytest.mark.parametrize("program", [hooked_leaf, hooked_non_leaf, node_prehook, node_posthook])
def test_a_gradient_a_hook_returns_is_not_taken_as_grad(program):
    # ember's .grad took the hook's tensor as its own memory, so the next backward added into the tensor
    # the hook keeps ([1, 1, 1] became [2, 2, 2] or [3, 3, 3]); PyTorch copies it
    e, t = run_both(program)
    assert e == t


def retained_broadcast(lib):
    x = lib.ones(3, requires_grad=True)
    y = x * 1
    z = y + 0
    y.retain_grad()
    z.retain_grad()
    z.sum().backward()
    y.grad.mul_(5)
    return y.grad, z.grad


def retained_then_leaf(lib):
    x = lib.ones(2, 3, requires_grad=True)
    y = x + 0
    y.retain_grad()
    y.sum().backward()
    x.grad.mul_(5)
    return y.grad, x.grad


def retained_under_create_graph(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.retain_grad()
    (y * y).sum().backward(create_graph=True)
    return y.grad.requires_grad, type(y.grad.grad_fn).__name__, y.grad


@pytest.mark.parametrize("program", [retained_broadcast, retained_then_leaf, retained_under_create_graph])
def test_retained_gradient_is_a_contiguous_copy(program):
    # ember's retained .grad was the gradient itself: the stride-0 broadcast of sum's gradient, shared by y
    # and z (y.grad.mul_(5) changed z.grad too) and by x.grad; under create_graph it was detached
    e, t = run_both(program)
    assert e == t


def inputs_into_existing_grad(lib):
    x = lib.ones(2, 3, requires_grad=True)
    existing = lib.zeros(3, 2).t()
    x.grad = existing
    (x * 2).sum().backward(inputs=[x])
    return x.grad is existing, x.grad


def inputs_post_accumulate_hook(lib):
    x = lib.ones(3, requires_grad=True)
    seen = []
    x.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.clone()))
    (x * 2).sum().backward(inputs=[x])
    return seen


def inputs_two_leaves_one_gradient(lib):
    x = lib.ones(3, requires_grad=True)
    y = lib.ones(3, requires_grad=True)
    (x + y).sum().backward(inputs=[x, y])
    x.grad.mul_(3)
    return x.grad, y.grad


def inputs_non_leaf(lib):
    x = lib.ones(3, requires_grad=True)
    y = x * 2
    (y * y).sum().backward(inputs=[y], retain_graph=True)
    (y * y).sum().backward(inputs=[y])
    return x.grad, y.grad


@pytest.mark.parametrize(
    "program", [inputs_into_existing_grad, inputs_post_accumulate_hook, inputs_two_leaves_one_gradient, inputs_non_leaf]
)
def test_backward_with_inputs_accumulates_as_accumulate_grad(program):
    # ember set x.grad = x.grad + g (a new tensor, not the user's .grad) and ran no post-accumulate-grad
    # hook; for a non-leaf input it read .grad, which warned
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # for ember: PyTorch warns of the transposed .grad's layout
        e = run_both(program)
    assert e[0] == e[1]


def inputs_named_twice(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    (y * y).sum().backward(inputs=[x, x, lib.autograd.graph.get_gradient_edge(x), y, y], retain_graph=True)
    return x.grad, y.grad


def test_backward_with_an_input_named_twice_accumulates_once():
    # ember added the gradient once per mention: backward(inputs=[x, x]) gave x.grad twice PyTorch's
    e, t = run_both(inputs_named_twice)
    assert e == t


def batched_grad_outcome(lib, grad_outputs, outputs):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    try:
        return flat_grads(lib.autograd.grad(outputs(x), x, grad_outputs(lib), is_grads_batched=True))
    except (RuntimeError, ValueError) as error:
        return type(error).__name__, str(error).split(":")[0]


def flat_grads(grads):
    return [g.tolist() for g in grads]


@pytest.mark.parametrize(
    "grad_outputs, outputs",
    [
        (lambda lib: [lib.ones(3, 2), lib.ones(4, 2)], lambda x: [x * x, x * 2]),
        (lambda lib: None, lambda x: (x * x).sum()),
        (lambda lib: None, lambda x: x * x),
        (lambda lib: [lib.ones(3, 2), lib.ones(3, 2)], lambda x: [x * x, x * 2]),
    ],
)
def test_batched_gradients_of_unequal_batches_refuse(grad_outputs, outputs):
    # ember ran as many backward passes as the first batch has vectors and ignored the rest of a longer one
    # (PyTorch's vmap refuses: ValueError); grad_outputs=None gave 'got 1 tensors and 0 gradients'
    assert batched_grad_outcome(ember, grad_outputs, outputs) == batched_grad_outcome(torch, grad_outputs, outputs)
