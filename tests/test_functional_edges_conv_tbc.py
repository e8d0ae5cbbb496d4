"""F.conv_tbc (also ember.conv_tbc), fairseq's time-major convolution, and F.native_channel_shuffle,
against PyTorch."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(
    "shape, kernel, pad", [((5, 2, 3), 2, 0), ((5, 2, 3), 3, 1), ((7, 1, 4), 3, -1), ((1, 2, 3), 3, 1)]
)
def test_conv_tbc(device, dtype, shape, kernel, pad):
    name = str(dtype).split(".")[-1]
    gen = np.random.default_rng(0)
    arrays = [gen.standard_normal(s).astype(name) for s in (shape, (kernel, shape[2], 4), (4,))]
    leaves = [ember.tensor(a, device=device, requires_grad=True) for a in arrays]
    tleaves = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = ember.conv_tbc(*leaves, pad), torch.conv_tbc(*tleaves, pad)
    assert out.shape == expected.shape and out.is_contiguous()
    tol = 1e-10 if dtype == ember.float64 else 1e-5
    np.testing.assert_allclose(out.detach().cpu().numpy(), expected.detach().numpy(), rtol=tol, atol=tol)
    weights = gen.standard_normal(tuple(expected.shape)).astype(name)
    (out * ember.tensor(weights, device=device)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for leaf, tleaf in zip(leaves, tleaves):
        np.testing.assert_allclose(leaf.grad.cpu().numpy(), tleaf.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize(
    "shapes",
    [((5, 3), (2, 3, 4), (4,)), ((5, 2, 3), (2, 3), (4,)), ((5, 2, 3), (2, 3, 4), (1, 4)), ((5, 2, 2), (2, 3, 4), (4,)),
     ((5, 2, 3), (2, 3, 4), (3,))],
)  # fmt: skip
def test_conv_tbc_refuses_what_pytorch_refuses(shapes):
    with pytest.raises(RuntimeError) as expected:
        torch.conv_tbc(*(torch.ones(s) for s in shapes))
    with pytest.raises(RuntimeError) as got:
        ember.nn.functional.conv_tbc(*(ember.ones(s) for s in shapes))
    assert str(got.value) == str(expected.value)


def test_native_channel_shuffle():
    x = np.arange(2 * 6 * 3, dtype="float32").reshape(2, 6, 3)
    expected = torch.nn.functional.native_channel_shuffle(torch.tensor(x), 3)
    np.testing.assert_array_equal(
        ember.nn.functional.native_channel_shuffle(ember.tensor(x), 3).numpy(), expected.numpy()
    )
