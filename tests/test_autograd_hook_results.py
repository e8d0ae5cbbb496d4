"""What gradient hooks return is checked as PyTorch checks it: a tensor of the gradient's dtype and shape,
one per gradient for a node's hooks."""

import pytest

import ember

torch = pytest.importorskip("torch")


def _leaf_hook(lib, dev, returned):
    x = lib.tensor([1.0, 2.0], device=dev, requires_grad=True)
    x.register_hook(lambda grad: returned(lib, grad))
    return x, x


def _tensor_hook(lib, dev, returned):
    x = lib.tensor([1.0, 2.0], device=dev, requires_grad=True)
    y = x * 2
    y.register_hook(lambda grad: returned(lib, grad))
    return x, y


def _node_prehook(lib, dev, returned):
    x = lib.tensor([1.0, 2.0], device=dev, requires_grad=True)
    y = x * 2
    y.grad_fn.register_prehook(lambda grads: (returned(lib, grads[0]),))
    return x, y


RETURNS = {
    "another shape": lambda lib, grad: lib.ones(3, device=grad.device),
    "another dtype": lambda lib, grad: grad.double(),
    "not a tensor": lambda lib, grad: 3,
}


@pytest.mark.parametrize("returned", sorted(RETURNS))
@pytest.mark.parametrize("where", ["leaf", "tensor", "node pre-hook"])
@pytest.mark.parametrize("api", ["backward", "grad"])
def test_a_hook_that_changes_the_gradient_is_refused(device, returned, where, api):
    # ember let autograd.grad return a gradient of shape [3] for a leaf of shape [2], and failed elsewhere
    # with errors of its own (a reshape's, AccumulateGrad's, AttributeError on an int)
    make = {"leaf": _leaf_hook, "tensor": _tensor_hook, "node pre-hook": _node_prehook}[where]
    errors = []
    for lib, dev in ((ember, device), (torch, "cpu")):
        x, hooked = make(lib, dev, RETURNS[returned])
        loss = (hooked * 3).sum()
        with pytest.raises((RuntimeError, TypeError)) as refused:
            loss.backward() if api == "backward" else lib.autograd.grad(loss, x)
        errors.append((type(refused.value), str(refused.value).replace("torch.", "ember.")))
    assert errors[0] == errors[1]


def test_node_hooks_return_one_value_per_gradient(device):
    errors = []
    for lib, dev in ((ember, device), (torch, "cpu")):
        x = lib.tensor([1.0, 2.0], device=dev, requires_grad=True)
        y = x.exp()
        y.grad_fn.register_prehook(lambda grads: (grads[0], grads[0]))
        with pytest.raises(RuntimeError) as refused:
            y.sum().backward()
        z = x.exp()
        z.grad_fn.register_hook(lambda grad_inputs, grad_outputs: grad_inputs + grad_inputs)
        with pytest.raises(RuntimeError) as refused_post:
            z.sum().backward()
        errors.append((str(refused.value), str(refused_post.value)))
    assert errors[0] == errors[1]
