"""Normalisation functions off the main road, against PyTorch."""

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
