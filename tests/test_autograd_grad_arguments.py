"""The arguments of ``autograd.grad``, ``autograd.backward`` and ``Tensor.backward`` handled as PyTorch
handles them."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _both(device):
    return ((ember, device), (torch, "cpu"))


def test_the_gradient_to_start_from_is_cast_to_the_outputs_dtype(device):
    # ember let a float64 gradient given for a float32 output flow on: x.grad and autograd.grad's result
    # were float64 (PyTorch's engine casts it: float32)
    found = []
    for lib, dev in _both(device):
        x = lib.tensor([1.0, 2.0], device=dev, requires_grad=True)
        g64 = lib.tensor([1.0, 0.5], dtype=lib.float64, device=dev)
        (g,) = lib.autograd.grad(x * 2, x, grad_outputs=g64)
        (x * 3).backward(g64)
        lib.autograd.backward([x * 4], [g64])
        found.append((str(g.dtype).split(".")[-1], g.tolist(), str(x.grad.dtype).split(".")[-1], x.grad.tolist()))
    assert found[0] == found[1]
    assert found[0][2] == "float32"


def _refusals(lib, dev, with_complex):
    """The error of each call of ``grad`` with arguments of the wrong kind."""
    x = lib.tensor([1.0, 2.0], device=dev, requires_grad=True)
    calls = [
        lambda: lib.autograd.grad(x * 2, x, grad_outputs=[3]),
        lambda: lib.autograd.grad((x * 2).sum(), 3),
        lambda: lib.autograd.grad([(x * 2).sum(), lib.ones((), device=dev)], x),
        lambda: lib.autograd.grad((x * x).sum(), [x], materialize_grads=True, allow_unused=False),
    ]
    if with_complex:  # a device may have no complex dtype
        calls.append(lambda: lib.autograd.grad(x * 2, x, grad_outputs=[lib.ones(2, dtype=lib.complex64)]))
    found = []
    for call in calls:
        with pytest.raises((TypeError, RuntimeError, ValueError)) as refused:
            call()
        found.append((type(refused.value), str(refused.value).replace("torch.", "ember.")))
    return found


def test_gradients_of_the_wrong_kind_are_refused(device):
    # ember raised AttributeError for a non-tensor gradient or input, named element 0 for any root that needs
    # no grad, accepted allow_unused=False with materialize_grads, and a complex gradient for a real output
    with_complex = device == "cpu"
    assert _refusals(ember, device, with_complex) == _refusals(torch, "cpu", with_complex)


def test_dict_inputs_and_materialized_gradients(device):
    # ember refused a dict as backward's inputs (AttributeError), took any Mapping as grad's, and
    # materialized zeros that did not require grad under create_graph
    found = []
    for lib, dev in _both(device):
        x = lib.tensor([1.0, 2.0], device=dev, requires_grad=True)
        w = lib.ones(2, device=dev, requires_grad=True)
        (x * x).sum().backward(inputs={"x": x})
        lib.autograd.backward((x * w).sum(), inputs={"w": w})
        unused = lib.autograd.grad((x * x).sum(), [x, w], materialize_grads=True, create_graph=True)[1]
        with pytest.raises(TypeError, match="must be a dict, not OrderedDict"):
            lib.autograd.grad((x * x).sum(), __import__("collections").OrderedDict(x=x))
        found.append((x.grad.tolist(), w.grad.tolist(), unused.tolist(), unused.requires_grad))
    assert found[0] == found[1]


def test_grad_variables_is_the_deprecated_grad_tensors(device):
    found = []
    for lib, dev in _both(device):
        x = lib.tensor([1.0, 2.0], device=dev, requires_grad=True)
        with pytest.warns(FutureWarning, match="`grad_variables` is deprecated"):
            lib.autograd.backward(x * 2, grad_variables=lib.tensor([1.0, 3.0], device=dev))
        with pytest.raises(RuntimeError, match="both passed to `backward\\(\\)`"), pytest.warns(FutureWarning):
            lib.autograd.backward(x * 2, lib.ones(2, device=dev), grad_variables=lib.ones(2, device=dev))
        found.append(np.asarray(x.grad.tolist()))
    np.testing.assert_array_equal(found[0], found[1])
