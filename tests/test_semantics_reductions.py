"""Reductions against PyTorch off the main road: an empty list of dims (PyTorch reduces over every
dim), the mean of float16/bfloat16 values (summed and divided in float32, rounded once) and the
mean as one autograd node."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

#: reductions that take ``dim=()`` as "every dim" in PyTorch
EMPTY_DIMS = {
    "sum": lambda T, x: T.sum(x, dim=()),
    "mean": lambda T, x: T.mean(x, dim=[]),
    "nansum": lambda T, x: T.nansum(x, dim=()),
    "nanmean": lambda T, x: T.nanmean(x, dim=()),
    "var": lambda T, x: T.var(x, dim=()),
    "std": lambda T, x: T.std(x, dim=(), keepdim=True),
    "var_mean": lambda T, x: T.var_mean(x, dim=())[1],
    "std_mean": lambda T, x: T.std_mean(x, dim=())[0],
    "norm": lambda T, x: T.norm(x, dim=()),
    "count_nonzero": lambda T, x: T.count_nonzero(x, dim=()),
}


@pytest.mark.parametrize("case", sorted(EMPTY_DIMS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_an_empty_list_of_dims_reduces_every_dim_as_torch(device, case, dtype):
    values = np.arange(1.0, 7.0).reshape(2, 3) / 3
    results = []
    for T, dev in ((ember, device), (torch, "cpu")):
        x = T.tensor(values, dtype=getattr(T, dtype), device=dev, requires_grad=case != "count_nonzero")
        out = EMPTY_DIMS[case](T, x)
        grad = None
        if out.requires_grad:
            out.sum().backward()
            grad = x.grad.cpu().numpy()
        results.append((tuple(out.shape), out.detach().cpu().numpy(), grad))
    (e_shape, e_out, e_grad), (t_shape, t_out, t_grad) = results
    assert e_shape == t_shape
    np.testing.assert_allclose(e_out, t_out, rtol=1e-6)
    # PyTorch's var/std backward takes the empty list as no dims (one element per group: 2 / 0 =
    # inf times the centred input); ember's gradient is the full variance's
    if t_grad is not None and case not in ("var", "std", "var_mean", "std_mean"):
        np.testing.assert_allclose(e_grad, t_grad, rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("dim", [None, 1, (0, 1)])
def test_mean_of_16_bit_floats_rounds_once_as_torch(dtype, dim):
    """PyTorch's CPU mean sums a float16/bfloat16 input in float32, divides there and rounds once:
    the same bits, where a sum rounded to the 16-bit type and divided there was one unit off in
    about a quarter of the rows."""
    values = np.random.default_rng(0).standard_normal((40, 37)).astype(np.float32)
    e = ember.tensor(values).to(getattr(ember, dtype)).mean(dim=dim)
    t = torch.tensor(values).to(getattr(torch, dtype)).mean(dim=dim)
    np.testing.assert_array_equal(e.float().numpy(), t.float().numpy())


@pytest.mark.parametrize("keepdim", [False, True])
def test_mean_is_one_node_with_torch_gradients(device, keepdim):
    values = np.arange(24.0).reshape(2, 3, 4) / 5
    results = []
    for T, dev in ((ember, device), (torch, "cpu")):
        x = T.tensor(values, device=dev, requires_grad=True)
        y = x.mean(dim=(0, 2), keepdim=keepdim)
        assert y.grad_fn.next_functions[0][0] is not None and len(y.grad_fn.next_functions) == 1
        (g,) = T.autograd.grad((y * y).sum(), x, create_graph=True)
        (gg,) = T.autograd.grad(g.sum(), x)
        (y * T.arange(3.0, dtype=T.float64).to(dev).reshape(y.shape)).sum().backward()
        results.append([t.detach().cpu().numpy() for t in (y, g, gg, x.grad)] + [x.grad.stride()])
    for e, t in zip(*results):
        np.testing.assert_allclose(e, t, rtol=1e-12)


def test_mean_of_no_elements_is_nan_as_torch(device):
    for dim in (None, 0):
        e = ember.empty(0, 3, device=device).mean(dim)
        t = torch.empty(0, 3).mean(dim)
        assert tuple(e.shape) == tuple(t.shape)
        assert np.isnan(e.cpu().numpy()).all()
