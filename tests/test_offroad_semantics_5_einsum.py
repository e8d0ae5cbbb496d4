"""Off the main road, differential against PyTorch: ``einsum`` first sums each label that one operand alone
has, so a bool or integer operand's own labels widen to int64 (``einsum('i,j->', bool, bool)`` is the int64
count 4, not the bool True); a label of size 1 is squeezed, not summed."""

from __future__ import annotations

import pytest

import ember

torch = pytest.importorskip("torch")

CASES = [
    ("i,j->", ("bool2", "bool2")),
    ("i,j->i", ("bool2", "bool2")),
    ("i,j->j", ("bool2", "bool2")),
    ("i,j->", ("bool2", "bool1")),
    ("i,j,k->k", ("bool2", "bool2", "bool2")),
    ("ij,k->", ("bool12", "bool2")),
    ("i,j->", ("int2", "int2")),
    ("i,j->i", ("int2", "int2")),
    ("i,j->", ("bool2", "int2")),
]


def _operand(lib, name, device=None):
    kwargs = {"device": device} if device else {}
    values = {
        "bool2": ([True, True], lib.bool),
        "bool1": ([True], lib.bool),
        "bool12": ([[True, False]], lib.bool),
        "int2": ([3, 4], lib.int32),
        "half2": ([1.0, 2.5], lib.float16),
    }[name]
    return lib.tensor(values[0], dtype=values[1], **kwargs)


@pytest.mark.parametrize(("equation", "names"), CASES)
def test_einsum_sums_an_operands_own_labels_first(device, equation, names):
    expected = torch.einsum(equation, *(_operand(torch, n) for n in names))
    got = ember.einsum(equation, *(_operand(ember, n, device) for n in names))
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    assert got.shape == expected.shape and got.tolist() == expected.tolist()
