"""Activations and dropout off the main road, against PyTorch."""

import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("shape", [(8, 6), (8, 6, 3), (8, 4, 2, 2, 2, 2), (8, 3, 2, 2)])
def test_dropout3d_of_an_input_short_of_five_dims_drops_along_its_first_dim(device, shape):
    # PyTorch adds a batch dimension to any input that is not 5-D, so its first dimension holds the
    # channels; a 2-D, 3-D or 6-D input was dropped element by element (or by its first two dimensions)
    results = []
    for T, kw in ((torch, {}), (ember, {"device": device})):
        T.manual_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = T.nn.functional.dropout3d(T.ones(shape, **kw), 0.5)
        rows = out.reshape(shape[0], -1)
        results.append(bool((rows == rows[:, :1]).all()))
    assert results == [True, True]


@pytest.mark.parametrize("weight_dtype", ["float32", "float64"])
def test_prelu_of_mixed_dtypes_is_refused_before_the_dtype_dispatch(weight_dtype):
    # an int64 input with a floating weight raised NotImplementedError, PyTorch's promotion error being first
    def call(T):
        return T.nn.functional.prelu(T.ones(2, 3, dtype=T.int64), T.ones(1, dtype=getattr(T, weight_dtype)))

    with pytest.raises(RuntimeError) as expected:
        call(torch)
    with pytest.raises(RuntimeError) as got:
        call(ember)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("dim", [1, -1])
def test_glu_of_16_bit_inputs_rounds_as_pytorch(dtype, dim):
    # a * sigmoid(b) was computed in the 16-bit dtype, rounding twice: a quarter of the outputs were a unit
    # off PyTorch's, which computes in float32 and rounds once (its backward rounds sigmoid(b) first)
    gen = np.random.default_rng(0)
    x, g = gen.uniform(-3, 3, (2, 6, 20, 6)), gen.uniform(-1, 1, (2, 6, 20, 6))
    g = g[:, :3] if dim == 1 else g[..., :3]
    results = []
    for T in (torch, ember):
        leaf = T.tensor(x).to(getattr(T, dtype)).requires_grad_()
        out = T.nn.functional.glu(leaf, dim)
        out.backward(T.tensor(g).to(getattr(T, dtype)))
        results.append([v.detach().float().numpy() for v in (out, leaf.grad)])
    for got, expected in zip(results[1], results[0]):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("lambd", [0.3, 0.5, 1.1])
def test_softshrink_of_16_bit_inputs_rounds_once(dtype, lambd):
    # x - lambd was computed in the 16-bit dtype (lambd rounded to it first): a tenth to a quarter of the
    # outputs were a unit off PyTorch's, which subtracts in float32 and rounds once
    x = np.random.default_rng(0).uniform(-3, 3, (16, 10))
    results = []
    for T in (torch, ember):
        leaf = T.tensor(x).to(getattr(T, dtype)).requires_grad_()
        out = T.nn.functional.softshrink(leaf, lambd)
        out.backward(T.ones_like(out))
        results.append([out.detach().float().numpy(), leaf.grad.float().numpy()])
    for got, expected in zip(results[1], results[0]):
        np.testing.assert_array_equal(got, expected)
