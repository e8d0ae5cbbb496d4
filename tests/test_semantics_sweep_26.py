"""Sweep 26, against PyTorch: the strides of ``expand`` and its kin (a size-1 dimension, new or kept, steps
as in a dense layout, not 0), a tensor ``ignore_index`` of the class-index losses, ``_sample_dirichlet``
(the sampler of ``Dirichlet``), a Tensor surface without the methods ``torch.Tensor`` lacks, and the
AttributeError of PyTorch's Python functionals that read an attribute of their input first."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _dtype(lib, name):
    return getattr(lib, name)


# -- 1. expand's strides ----------------------------------------------------------------------------------

# (input shape, how it is laid out, target shape)
EXPANSIONS = [
    ((3,), "dense", (1, 3)),
    ((3,), "dense", (2, 3)),
    ((1,), "dense", (1, 1, 1)),
    ((1,), "dense", (3, 1, 1)),
    ((2, 1), "dense", (1, 2, 3)),
    ((2, 1), "dense", (1, 2, 1)),
    ((2, 1, 3), "dense", (1, 2, 4, 3)),
    ((2, 3), "dense", (1, 1, 2, 3)),
    ((1, 3), "dense", (4, 1, 3)),
    ((1, 1), "dense", (1, 1, 1)),
    ((), "dense", (1,)),
    ((), "dense", (2, 1)),
    ((), "dense", (1, 1, 2)),
    ((0,), "dense", (1, 0)),
    ((0,), "dense", (1, 1, 0)),
    ((3, 0), "dense", (1, 3, 0)),
    ((0, 1), "dense", (2, 0, 4)),
    ((0, 3), "dense", (1, 0, 3)),
    ((4, 6), "step", (1, 4, 3)),
    ((4, 6), "t", (1, 1, 6, 4)),
    ((4, 1), "t", (1, 5, 4)),
    ((3, 1), "t", (2, 1, 3)),
]


def _laid_out(lib, shape, how, device=None):
    kwargs = {} if device is None else {"device": device}
    x = lib.arange(float(np.prod(shape, dtype=int)), **kwargs).reshape(shape)
    if how == "t":
        return x.t()
    if how == "step":
        return x[:, ::2]
    return x


@pytest.mark.parametrize("shape, how, target", EXPANSIONS, ids=[f"{s}-{h}-{t}" for s, h, t in EXPANSIONS])
def test_expand_strides_are_torchs(device, shape, how, target):
    expected_input = _laid_out(torch, shape, how)
    got_input = _laid_out(ember, shape, how, device)
    assert got_input.stride() == expected_input.stride()
    forms = {
        "expand": lambda x, L: x.expand(target),
        "expand ints": lambda x, L: x.expand(*target),
        "expand_as": lambda x, L: x.expand_as(L.zeros(target)),
        "broadcast_to": lambda x, L: L.broadcast_to(x, target),
        "Tensor.broadcast_to": lambda x, L: x.broadcast_to(target),
        "broadcast_tensors": lambda x, L: L.broadcast_tensors(x, L.zeros(target))[0],
    }
    for name, form in forms.items():
        expected = form(expected_input, torch)
        got = form(got_input, ember)
        assert tuple(got.shape) == tuple(expected.shape), name
        assert got.stride() == expected.stride(), name
        assert got.is_contiguous() == expected.is_contiguous(), name
        np.testing.assert_array_equal(got.cpu().numpy(), expected.numpy())


def test_expand_of_a_leading_size_one_dimension_is_a_view_that_reads_its_base(device):
    x = ember.arange(3.0, device=device)
    y = x.expand(1, 3)
    assert y.stride() == (3, 1) and y.is_contiguous() and y._base is x
    x.add_(1)
    assert y.tolist() == [[1.0, 2.0, 3.0]]
    z = ember.arange(3.0, device=device, requires_grad=True)
    z.expand(1, 1, 3).sum().backward()
    assert z.grad.tolist() == [1.0, 1.0, 1.0]
