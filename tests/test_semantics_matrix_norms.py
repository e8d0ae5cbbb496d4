"""``ember.linalg`` norms and singular values against PyTorch: values, shapes and gradients of the
nuclear, spectral and induced norms over any two dims, and the errors PyTorch raises."""

import math

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (4, 3), (5, 5), (2, 3, 2), (1, 4), (3, 1), (2, 2, 3)]
ORDS = ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf]


def _pair(shape, dtype, device, seed=0):
    data = np.random.default_rng(seed).standard_normal(shape)
    e = ember.tensor(data, dtype=dtype, device=device, requires_grad=True)
    t = torch.tensor(data, dtype=getattr(torch, dtype.name), requires_grad=True)
    return e, t


def _close(actual, expected, dtype):
    tol = 1e-9 if dtype == ember.float64 else 2e-5
    assert tuple(actual.shape) == tuple(expected.shape)
    np.testing.assert_allclose(actual.detach().cpu().numpy(), expected.detach().numpy(), rtol=tol * 100, atol=tol)


@pytest.mark.parametrize("ord", ORDS, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_matrix_norm_and_its_gradient_match_pytorch(shape, ord, device, dtype):
    e, t = _pair(shape, dtype, device)
    dim, keepdim = ((0, -1), True) if len(shape) == 3 else ((-2, -1), False)
    out_e = ember.linalg.matrix_norm(e, ord, dim, keepdim)
    out_t = torch.linalg.matrix_norm(t, ord, dim, keepdim)
    _close(out_e, out_t, dtype)
    up = np.random.default_rng(1).standard_normal(tuple(out_t.shape))
    out_e.backward(ember.tensor(up, dtype=dtype, device=device))
    out_t.backward(torch.tensor(up, dtype=t.dtype))
    _close(e.grad, t.grad, dtype)


@pytest.mark.parametrize("call", ["norm_p_nuc", "norm_p_nuc_dims", "linalg_norm_nuc", "svdvals"])
def test_nuclear_norm_spellings_match_pytorch(call, device, dtype):
    e, t = _pair((2, 3, 4), dtype, device, seed=2)
    fn = {
        "norm_p_nuc": lambda T, x: T.norm(x[0], p="nuc", keepdim=True),
        "norm_p_nuc_dims": lambda T, x: T.norm(x, p="nuc", dim=(2, 0)),
        "linalg_norm_nuc": lambda T, x: T.linalg.norm(x, "nuc", dim=(1, 2)),
        "svdvals": lambda T, x: T.linalg.svdvals(x.transpose(1, 2)),
    }[call]
    out_e, out_t = fn(ember, e), fn(torch, t)
    _close(out_e, out_t, dtype)
    out_e.sum().backward()
    out_t.sum().backward()
    _close(e.grad, t.grad, dtype)


def test_singular_values_of_a_rank_deficient_matrix(device):
    data = np.random.default_rng(3).standard_normal((5, 4))
    data[:, 2] = data[:, 0] - data[:, 1]
    s = ember.linalg.svdvals(ember.tensor(data, device=device)).cpu().numpy()
    np.testing.assert_allclose(s, torch.linalg.svdvals(torch.tensor(data)).numpy(), atol=1e-12)


def test_nuclear_norm_is_twice_differentiable(device):
    # as PyTorch's (svdvals differentiates through the SVD); ember's second derivative raised
    results = []
    for lib, dev in ((ember, device), (torch, "cpu")):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64, device=dev, requires_grad=True)
        (g,) = lib.autograd.grad(lib.linalg.matrix_norm(x, "nuc"), x, create_graph=True)
        g.sum().backward()
        results.append(x.grad.cpu().numpy() if lib is ember else x.grad.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-9, atol=1e-12)


ERRORS = [
    lambda T, x: T.norm(x, p="nuc"),
    lambda T, x: T.linalg.norm(x, "nuc"),
    lambda T, x: T.linalg.norm(x, 2),
    lambda T, x: T.linalg.norm(x[0, 0], "nuc"),
    lambda T, x: T.linalg.norm(x, "fro", dim=1),
    lambda T, x: T.linalg.matrix_norm(x, 3),
    lambda T, x: T.linalg.matrix_norm(x, "nuc", dim=(1, 1)),
    lambda T, x: T.linalg.matrix_norm(x, "nuc", dim=(1, 5)),
    lambda T, x: T.linalg.matrix_norm(x.long(), "nuc"),
    lambda T, x: T.linalg.vector_norm(x.long()),
    lambda T, x: T.linalg.vector_norm(x[:0], math.inf),
    lambda T, x: T.linalg.matrix_norm(x[:, :0], -2),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_errors_match_pytorch(index, device):
    fn = ERRORS[index]
    with pytest.raises(Exception) as expected:
        fn(torch, torch.ones(2, 3, 4))
    with pytest.raises(type(expected.value), match="linalg|Dimension out of range|amin") as actual:
        fn(ember, ember.ones(2, 3, 4, device=device))
    assert str(expected.value).split(".")[0] in str(actual.value) or type(expected.value) is IndexError


@pytest.mark.parametrize("ord", ["nuc", 2, 1, math.inf, "fro"], ids=str)
def test_norms_of_empty_matrices_are_zero(ord, device):
    for shape in [(3, 0), (0, 3), (2, 0, 4)]:
        out = ember.linalg.matrix_norm(ember.zeros(*shape, device=device), ord)
        expected = torch.linalg.matrix_norm(torch.zeros(*shape), ord)
        assert tuple(out.shape) == tuple(expected.shape)
        assert out.cpu().numpy().tolist() == expected.numpy().tolist()
