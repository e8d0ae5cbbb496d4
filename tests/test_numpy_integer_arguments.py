"""NumPy integers where PyTorch takes ints (dims, sizes, shifts, chunks, pads, kernel sizes): PyTorch's
argument parser accepts them as ints, as programs that compute sizes with NumPy rely on."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

I = np.int64  # noqa: E741

CALLS = {
    "sum_dim": lambda lib, x: x.sum(dim=I(1)),
    "sum_dims": lambda lib, x: x.sum(dim=(I(0), I(1))),
    "cat_dim": lambda lib, x: lib.cat([x, x], dim=I(1)),
    "flatten": lambda lib, x: x.flatten(np.int32(0)),
    "transpose": lambda lib, x: x.transpose(I(0), I(1)),
    "unsqueeze": lambda lib, x: x.unsqueeze(I(-1)),
    "softmax": lambda lib, x: x.softmax(I(1)),
    "argmax": lambda lib, x: x.argmax(dim=I(1)),
    "max_dim": lambda lib, x: x.max(dim=I(0)).values,
    "cumsum": lambda lib, x: x.cumsum(I(1)),
    "narrow": lambda lib, x: x.narrow(I(1), I(1), I(2)),
    "index_select": lambda lib, x: x.index_select(I(0), lib.tensor([1], device=x.device)),
    "gather": lambda lib, x: x.gather(I(1), lib.zeros(2, 1, dtype=lib.int64, device=x.device)),
    "chunk": lambda lib, x: x.chunk(I(2), dim=I(1))[1],
    "roll": lambda lib, x: x.roll(I(1), I(1)),
    "repeat": lambda lib, x: x[0].repeat(I(2)),
    "new_zeros": lambda lib, x: x.new_zeros(I(3)),
    "zeros": lambda lib, x: lib.zeros(I(3)),
    "view": lambda lib, x: x.view((I(3), I(2))),
    "repeat_interleave": lambda lib, x: x.repeat_interleave(I(2), dim=0),
    "pad": lambda lib, x: lib.nn.functional.pad(x, (I(1), 0)),
    "avg_pool1d": lambda lib, x: lib.nn.functional.avg_pool1d(x[None], I(2)),
    "conv2d_module": lambda lib, x: lib.nn.Conv2d(I(2), I(1), I(1), bias=False).weight.shape,
}


@pytest.mark.parametrize("name", list(CALLS))
def test_numpy_integers_are_taken_as_ints(name, device):
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    expected = CALLS[name](torch, torch.tensor(data))
    actual = CALLS[name](ember, ember.tensor(data, device=device))
    if isinstance(expected, torch.Size):
        assert tuple(actual) == tuple(expected)
        return
    assert str(actual.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    assert tuple(actual.shape) == tuple(expected.shape)
    np.testing.assert_allclose(actual.cpu().numpy(), expected.numpy(), rtol=1e-6)


def test_numpy_floats_and_bools_stay_refused():
    for lib in (ember, torch):
        with pytest.raises(TypeError):
            lib.ones(2, 3).sum(dim=np.float64(1))
        with pytest.raises(TypeError):
            lib.zeros(np.float64(2))
