"""The gradients a user's autograd.Function returns are checked and cast as PyTorch's engine does."""

from __future__ import annotations

import pytest
from reference import torch

import ember


def _function(lib, backward):
    class Scale(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return backward(lib, grad)

    return Scale


def _run(lib, backward, device):
    x = lib.ones(3, requires_grad=True, device=device)
    y = _function(lib, backward).apply(x)
    name = y.grad_fn.name()
    y.sum().backward()
    return x.grad, name


CASES = {
    "float64 gradient for a float32 input": lambda lib, g: (g * 2).double(),
    "broadcast gradient summed to the input's shape": lambda lib, g: (g * 2).expand(4, 3),
    "size-1 dims summed": lambda lib, g: (g * 2).reshape(1, 3).expand(5, 3).reshape(5, 1, 3),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradient_cast_and_reduced_as_torch(device, case):
    got, got_name = _run(ember, CASES[case], device)
    expected, expected_name = _run(torch, CASES[case], "cpu")
    assert got_name == expected_name == "ScaleBackward"
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    assert got.cpu().numpy().tolist() == expected.numpy().tolist()


@pytest.mark.parametrize("shape", [(2,), (), (3, 2)])
def test_gradient_of_an_incompatible_shape_raises_as_torch(device, shape):
    def backward(lib, g):
        return lib.ones(shape, device=g.device)

    with pytest.raises(RuntimeError) as expected:
        _run(torch, backward, "cpu")
    with pytest.raises(RuntimeError) as got:
        _run(ember, backward, device)
    assert str(got.value) == str(expected.value)


def test_builtin_nodes_keep_their_names():
    x = ember.ones(2, requires_grad=True)
    assert (x * 2).grad_fn.name() == (torch.ones(2, requires_grad=True) * 2).grad_fn.name() == "MulBackward0"


def _two_argument_function(lib, backward):
    class Affine(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, grad):
            return backward(lib, grad)

    return Affine


GRADIENT_COUNT_AND_TYPE_CASES = {
    # ember dropped the surplus gradients, returned the int as a gradient, and ignored the gradient given for k
    "a surplus gradient": lambda lib, g: (g, None, g),
    "an int as a gradient": lambda lib, g: (3, None),
    "a gradient for an argument that is not a tensor": lambda lib, g: (g, g),
    "surplus Nones, dropped": lambda lib, g: (g * 2, None, None, None),
}


@pytest.mark.parametrize("case", sorted(GRADIENT_COUNT_AND_TYPE_CASES))
def test_number_and_type_of_gradients_checked_as_torch(device, case):
    def run(lib, dev):
        x = lib.ones(2, requires_grad=True, device=dev)
        function = _two_argument_function(lib, GRADIENT_COUNT_AND_TYPE_CASES[case])
        try:
            return lib.autograd.grad(function.apply(x, 2.0).sum(), x)[0].tolist()
        except RuntimeError as error:
            return str(error)

    assert run(ember, device) == run(torch, "cpu")
