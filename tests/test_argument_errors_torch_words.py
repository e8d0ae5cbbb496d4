"""Errors whose words PyTorch chooses per entry point, compared with PyTorch's (type and message): the
factories' refusal of ``requires_grad=True`` for an integer dtype (and the setter's and ``requires_grad_``'s
own words), ``zeros``' negative size, einsum's size checks (a repeated subscript of mismatched sizes was
computed before), a bool ``ignore_index``, the normalization functions' non-tensor arguments."""

from __future__ import annotations

import pytest
from against_torch import same_error

torch = pytest.importorskip("torch")

FACTORIES = {
    "tensor": lambda L: L.tensor([1, 2], requires_grad=True),
    "asarray": lambda L: L.asarray([1, 2], requires_grad=True),
    "asarray of a tensor": lambda L: L.asarray(L.tensor([1, 2]), requires_grad=True),
    "frombuffer": lambda L: L.frombuffer(bytearray(8), dtype=L.int32, requires_grad=True),
    "logspace": lambda L: L.logspace(0, 1, 3, dtype=L.int64, requires_grad=True),
    "zeros": lambda L: L.zeros(2, dtype=L.int64, requires_grad=True),
    "full": lambda L: L.full((2,), 1, requires_grad=True),
    "randint": lambda L: L.randint(3, (2,), requires_grad=True),
    "zeros_like": lambda L: L.zeros_like(L.tensor([1]), requires_grad=True),
    "new_zeros": lambda L: L.tensor([1]).new_zeros(2, requires_grad=True),
    "new_tensor": lambda L: L.tensor([1.0]).new_tensor([1], dtype=L.int64, requires_grad=True),
    "arange": lambda L: L.arange(3, requires_grad=True),
    "eye": lambda L: L.eye(2, dtype=L.int64, requires_grad=True),
    "empty bool": lambda L: L.empty(2, dtype=L.bool, requires_grad=True),
    "Parameter": lambda L: L.nn.Parameter(L.tensor([1])),
    "requires_grad_": lambda L: L.tensor([1]).requires_grad_(True),
    "requires_grad setter": lambda L: setattr(L.tensor([1]), "requires_grad", True),
}


@pytest.mark.parametrize("make", FACTORIES.values(), ids=FACTORIES.keys())
def test_integer_tensors_refuse_requires_grad_in_torchs_words(make):
    same_error(make)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64"])
def test_floating_and_complex_factories_still_require_grad(dtype):
    import ember

    for make in (lambda: ember.zeros(2, dtype=getattr(ember, dtype), requires_grad=True),
                 lambda: ember.tensor([1, 2], dtype=getattr(ember, dtype), requires_grad=True),
                 lambda: ember.nn.Parameter(ember.ones(2, dtype=getattr(ember, dtype)))):  # fmt: skip
        assert make().requires_grad


NEGATIVE_SIZES = {
    "zeros": lambda L: L.zeros(-1),
    "zeros of a tuple": lambda L: L.zeros((2, -1)),
    "zeros size=": lambda L: L.zeros(size=(-1, 2)),
    "ones": lambda L: L.ones(2, -1),
    "empty": lambda L: L.empty(-1),
    "new_zeros": lambda L: L.zeros(1).new_zeros(-1),
}


@pytest.mark.parametrize("make", NEGATIVE_SIZES.values(), ids=NEGATIVE_SIZES.keys())
def test_negative_sizes(make):
    same_error(make)


EINSUM = {
    "two operands": ("ij,jk->ik", [(2, 3), (4, 5)]),
    "third operand": ("ij,jk,kl->il", [(2, 3), (3, 4), (5, 6)]),
    "ellipsis": ("...i,...i->...", [(2, 3), (4, 3)]),
    "ellipsis of fewer dims": ("...i,...i->...", [(5, 2, 3), (4, 3)]),
    "repeated subscript": ("ii->i", [(2, 3)]),
    "repeated subscript later": ("jii->j", [(2, 3, 4)]),
    "repeated in the second operand": ("i,jj->ij", [(2,), (3, 4)]),
}


@pytest.mark.parametrize("equation, shapes", EINSUM.values(), ids=EINSUM.keys())
def test_einsum_sizes_that_do_not_fit(equation, shapes):
    same_error(lambda L: L.einsum(equation, *(L.ones(s) for s in shapes)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_einsum_sizes_that_broadcast_are_computed(dtype):
    import numpy as np

    import ember

    rng = np.random.default_rng(0)
    for equation, shapes in (("bi,bi->b", [(1, 3), (4, 3)]), ("i,i->", [(3,), (1,)]), ("iji->j", [(3, 2, 3)])):
        arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
        got = ember.einsum(equation, *(ember.tensor(a) for a in arrays))
        expected = torch.einsum(equation, *(torch.tensor(a) for a in arrays))
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)
        assert got.dtype is getattr(ember, dtype)


LOSSES = {
    "cross_entropy bool": lambda L: L.nn.functional.cross_entropy(L.ones(3, 4), L.tensor([0, 1, 2]), ignore_index=True),
    "cross_entropy float": lambda L: L.nn.functional.cross_entropy(L.ones(3, 4), L.tensor([0, 1, 2]), ignore_index=1.5),
    "nll_loss bool": lambda L: L.nn.functional.nll_loss(L.ones(3, 4), L.tensor([0, 1, 2]), ignore_index=False),
    "nll_loss str": lambda L: L.nn.functional.nll_loss(L.ones(3, 4), L.tensor([0, 1, 2]), ignore_index="a"),
}


@pytest.mark.parametrize("call", LOSSES.values(), ids=LOSSES.keys())
def test_ignore_index_must_be_an_int(call):
    same_error(call)


NORMALIZATION = {
    "layer_norm input": lambda L: L.nn.functional.layer_norm([1.0], (1,)),
    "layer_norm weight": lambda L: L.nn.functional.layer_norm(L.ones(2, 3), (3,), [1.0, 1.0, 1.0]),
    "layer_norm bias": lambda L: L.nn.functional.layer_norm(L.ones(2, 3), (3,), None, [1.0, 1.0, 1.0]),
    "rms_norm input": lambda L: L.nn.functional.rms_norm([1.0], (1,)),
    "rms_norm weight": lambda L: L.nn.functional.rms_norm(L.ones(2, 3), (3,), [1.0, 1.0, 1.0]),
    "batch_norm input": lambda L: L.nn.functional.batch_norm([1.0], None, None),
}


@pytest.mark.parametrize("call", NORMALIZATION.values(), ids=NORMALIZATION.keys())
def test_normalization_arguments_that_are_not_tensors(call):
    same_error(call)
