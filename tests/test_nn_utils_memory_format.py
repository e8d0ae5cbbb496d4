"""``nn.utils.convert_conv{2,3}d_weight_memory_format`` against PyTorch: which weights change
layout, to which strides, and that the values and parameter identities stay."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _net(m):
    return m.nn.Sequential(
        m.nn.Conv2d(2, 3, 3), m.nn.Sequential(m.nn.ConvTranspose2d(3, 2, 2)), m.nn.Conv3d(2, 2, 2), m.nn.Linear(2, 2)
    )


@pytest.mark.parametrize(
    "convert, fmt",
    [
        ("convert_conv2d_weight_memory_format", "channels_last"),
        ("convert_conv3d_weight_memory_format", "channels_last_3d"),
    ],
)
def test_weights_take_the_memory_format_as_in_torch(convert, fmt):
    theirs, ours = _net(torch), _net(ember)
    before = [p.detach().numpy().copy() for p in ours.parameters()]
    params = list(ours.parameters())
    assert getattr(torch.nn.utils, convert)(theirs, getattr(torch, fmt)) is theirs
    assert getattr(ember.nn.utils, convert)(ours, getattr(ember, fmt)) is ours
    assert [p.stride() for p in ours.parameters()] == [p.stride() for p in theirs.parameters()]
    assert all(a is b for a, b in zip(params, ours.parameters()))
    for old, p in zip(before, ours.parameters()):
        np.testing.assert_array_equal(old, p.detach().numpy())
