"""ember.nn.grad (PyTorch's torch.nn.grad, also F.grad): a convolution's input and weight gradients as
functions of the output's gradient, against PyTorch."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

CASES = [
    # nd, input shape, weight shape, stride, padding, dilation, groups
    (1, (2, 4, 9), (6, 2, 3), 2, 1, 1, 2),
    (1, (1, 3, 8), (2, 3, 2), 1, 0, 2, 1),
    (2, (2, 3, 7, 6), (4, 3, 3, 2), (2, 1), (1, 0), 1, 1),
    (2, (1, 4, 8, 8), (4, 1, 3, 3), 2, 1, (2, 1), 4),
    (3, (1, 2, 5, 4, 6), (3, 2, 2, 2, 3), 1, (1, 0, 1), 1, 1),
]


@pytest.mark.parametrize("nd, shape, weight_shape, stride, padding, dilation, groups", CASES)
def test_conv_input_and_weight_gradients(device, dtype, nd, shape, weight_shape, stride, padding, dilation, groups):
    name = str(dtype).split(".")[-1]
    gen = np.random.default_rng(0)
    x, w = gen.standard_normal(shape).astype(name), gen.standard_normal(weight_shape).astype(name)
    args = (stride, padding, dilation, groups)
    out_shape = getattr(torch.nn.functional, f"conv{nd}d")(torch.tensor(x), torch.tensor(w), None, *args).shape
    g = gen.standard_normal(tuple(out_shape)).astype(name)
    expected_input = getattr(torch.nn.grad, f"conv{nd}d_input")(shape, torch.tensor(w), torch.tensor(g), *args)
    expected_weight = getattr(torch.nn.grad, f"conv{nd}d_weight")(torch.tensor(x), weight_shape, torch.tensor(g), *args)
    grad = ember.nn.functional.grad  # the same module as ember.nn.grad, as in PyTorch
    got_input = getattr(grad, f"conv{nd}d_input")(
        shape, ember.tensor(w, device=device), ember.tensor(g, device=device), *args
    )
    got_weight = getattr(grad, f"conv{nd}d_weight")(
        ember.tensor(x, device=device), weight_shape, ember.tensor(g, device=device), *args
    )
    tol = 1e-10 if dtype == ember.float64 else 1e-4
    np.testing.assert_allclose(got_input.cpu().numpy(), expected_input.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(got_weight.cpu().numpy(), expected_weight.numpy(), rtol=tol, atol=tol)


def test_the_gradients_are_differentiable():
    x = ember.randn(1, 2, 6, dtype=ember.float64, requires_grad=True)
    w = ember.randn(3, 2, 3, dtype=ember.float64, requires_grad=True)
    g = ember.randn(1, 3, 4, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda w, g: ember.nn.grad.conv1d_input(x.shape, w, g), (w, g))
    assert ember.autograd.gradcheck(lambda x, g: ember.nn.grad.conv1d_weight(x, w.shape, g), (x, g))
