"""Second derivatives through piecewise-linear ops (relu family, shrinkage, max-type pooling) against PyTorch:
the first gradient, taken with ``create_graph``, stays in the graph of the input with a zero second
derivative, so a gradient penalty or an input Hessian of a ReLU network gives zeros rather than an error."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

OPS = {
    "relu": lambda lib, x: lib.relu(x),
    "relu_twice": lambda lib, x: lib.nn.functional.relu(x).relu(),
    "leaky_relu": lambda lib, x: lib.nn.functional.leaky_relu(x, 0.1),
    "hardtanh": lambda lib, x: lib.nn.functional.hardtanh(x, -0.5, 0.5),
    "relu6": lambda lib, x: lib.nn.functional.relu6(x * 4),
    "threshold": lambda lib, x: lib.nn.functional.threshold(x, 0.1, 2.0),
    "rrelu_eval": lambda lib, x: lib.nn.functional.rrelu(x, training=False),
    "hardshrink": lambda lib, x: lib.nn.functional.hardshrink(x),
    "softshrink": lambda lib, x: lib.nn.functional.softshrink(x),
    "max_pool1d": lambda lib, x: lib.nn.functional.max_pool1d(x[None], 2),
    "max_pool2d": lambda lib, x: lib.nn.functional.max_pool2d(x[None, None], (1, 2), return_indices=True)[0],
    "max_pool3d": lambda lib, x: lib.nn.functional.max_pool3d(x[None, None, None], (1, 1, 2)),
    "adaptive_max_pool1d": lambda lib, x: lib.nn.functional.adaptive_max_pool1d(x[None], 2),
    "adaptive_max_pool2d": lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x[None, None], (1, 2)),
    "max_unpool1d": lambda lib, x: lib.nn.functional.max_unpool1d(
        *lib.nn.functional.max_pool1d(x[None], 2, return_indices=True), 2
    ),
    "cumsum_of_relu": lambda lib, x: lib.cumsum(lib.relu(x), 1),
}


def second_derivative(lib, name, dtype):
    x = lib.tensor([[-1.5, 0.3, 2.0], [0.7, -0.2, 1.1]], dtype=getattr(lib, dtype), requires_grad=True)
    y = OPS[name](lib, x)
    (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
    assert g.requires_grad
    (g2,) = lib.autograd.grad((g * g).sum() + g.sum(), x)
    return g, g2


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(OPS))
def test_second_derivative_is_zeros(name, dtype):
    # ember's first gradient did not require grad, so the second grad raised ("element 0 of tensors does not
    # require grad"); PyTorch's stays in the graph of x and gives zeros
    e, t = second_derivative(ember, name, dtype), second_derivative(torch, name, dtype)
    for a, b in zip(e, t):
        assert str(a.dtype).split(".")[1] == str(b.dtype).split(".")[1]
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_input_hessian_of_a_relu_network():
    # hessian raised "appears to not have been used in the graph": x reached the gradient through masks only
    def hessian(lib):
        weight = lib.tensor([[0.5, -1.0], [1.5, 0.3], [-0.7, 0.2]], dtype=lib.float64)
        scale = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)

        def net(x):
            hidden = lib.nn.functional.leaky_relu(x @ weight.T, 0.2)
            return (lib.nn.functional.max_pool1d(hidden.relu()[None], 1)[0] * scale).sum()

        return lib.autograd.functional.hessian(net, lib.tensor([0.3, -0.4], dtype=lib.float64))

    np.testing.assert_array_equal(hessian(ember).numpy(), hessian(torch).numpy())


def test_gradgradcheck_through_piecewise_linear_ops():
    x = ember.tensor([[-1.5, 2.0, 0.5, 3.0]], dtype=ember.float64, requires_grad=True)
    F = ember.nn.functional
    for fn in (F.relu, lambda x: F.leaky_relu(x, 0.3), F.hardtanh, lambda x: F.max_pool1d(x[None], 2)):
        assert ember.autograd.gradgradcheck(fn, (x,))


def test_third_derivative_through_leaky_relu():
    def derivatives(lib):
        x = lib.tensor([-1.0, 2.0, 0.5], dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad((lib.nn.functional.leaky_relu(x, 0.1) ** 3).sum(), x, create_graph=True)
        (g2,) = lib.autograd.grad(g.sum(), x, create_graph=True)
        (g3,) = lib.autograd.grad(g2.sum(), x)
        return [d.detach().numpy() for d in (g, g2, g3)]

    for a, b in zip(derivatives(ember), derivatives(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize(
    "name, node",
    [
        ("leaky_relu", "LeakyReluBackward0"),
        ("hardtanh", "HardtanhBackward0"),
        ("relu6", "HardtanhBackward0"),
        ("hardshrink", "HardshrinkBackward0"),
        ("softshrink", "SoftshrinkBackward0"),
        ("rrelu_eval", "RreluWithNoiseBackward0"),
    ],
)
def test_piecewise_linear_node_names(name, node):
    # these were composites whose node was WhereBackward0 (programs walking grad_fn look for PyTorch's names)
    for lib in (ember, torch):
        x = lib.tensor([-1.0, 0.2, 2.0], requires_grad=True)
        assert type(OPS[name](lib, x).grad_fn).__name__ == node


def test_forward_mode_through_piecewise_linear_ops():
    def tangents(lib):
        F = lib.nn.functional
        fwAD = lib.autograd.forward_ad
        with fwAD.dual_level():
            dual = fwAD.make_dual(lib.tensor([-1.0, 2.0, 0.5]), lib.tensor([1.0, 2.0, 3.0]))
            ops = (F.relu, F.leaky_relu, F.hardtanh, F.hardshrink, lambda d: F.threshold(d, 0.6, 0.0))
            return [fwAD.unpack_dual(op(dual)).tangent.tolist() for op in ops]

    assert tangents(ember) == tangents(torch)
