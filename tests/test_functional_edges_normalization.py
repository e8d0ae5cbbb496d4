"""Normalisation functions off the main road, against PyTorch."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("shape, groups", [((1, 6, 1, 1), 6), ((1, 6), 6), ((1, 4, 1), 4)])
def test_group_norm_of_one_value_per_group_is_refused(shape, groups):
    # PyTorch's functional form checks the batch as batch_norm does (a group of one value has no variance);
    # ember returned zeros
    with pytest.raises(ValueError) as expected:
        torch.nn.functional.group_norm(torch.ones(shape), groups)
    with pytest.raises(ValueError) as got:
        ember.nn.functional.group_norm(ember.ones(shape), groups)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("affine", [None, "same", "float32"])
@pytest.mark.parametrize("stats, use_input_stats", [(None, True), ("same", True), ("float32", True), ("same", False)])
def test_instance_norm_of_16_bit_inputs(dtype, affine, stats, use_input_stats):
    # a 16-bit weight raised "mixed dtype (CPU)" (InstanceNorm2d(3, affine=True).half() could not run), and
    # the outputs were computed in float32 and rounded, a third of them a unit off PyTorch's, which is its
    # batch norm over (1, N * C, ...) with the statistics rounded to 16 bits
    gen = np.random.default_rng(0)
    x, g = gen.uniform(-3, 3, (2, 6, 9, 8)), gen.uniform(-1, 1, (2, 6, 9, 8))
    results = []
    for T in (torch, ember):
        low = getattr(T, dtype)
        kind = lambda name, T=T, low=low: low if name == "same" else getattr(T, name)  # noqa: E731
        leaf = T.tensor(x).to(low).requires_grad_()
        w = b = rm = rv = None
        if affine:
            w = T.linspace(0.5, 1.5, 6).to(kind(affine)).requires_grad_()
            b = T.linspace(-1, 1, 6).to(kind(affine)).requires_grad_()
        if stats:
            rm, rv = T.linspace(-0.2, 0.2, 6).to(kind(stats)), T.linspace(0.5, 2, 6).to(kind(stats))
        out = T.nn.functional.instance_norm(leaf, rm, rv, w, b, use_input_stats=use_input_stats, momentum=0.3)
        out.backward(T.tensor(g).to(low))
        results.append([None if v is None else v.detach().float().numpy() for v in (out, leaf.grad, rm, rv)])
    for got, expected in zip(results[1], results[0]):
        if expected is not None:  # (evaluation, and float32 weights, round as batch norm's: a unit apart at most)
            exact = use_input_stats and affine != "float32"
            np.testing.assert_allclose(got, expected, rtol=0 if exact else 1e-2, atol=0 if exact else 1e-6)
