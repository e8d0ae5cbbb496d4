"""Ops that PyTorch documents as returning a new tensor do so even when nothing changes (a roll by
the whole length, one repeat, no padding, adaptive pooling to the input's size): writing into the
result leaves the input alone, as in PyTorch. Advanced indexing lays its result out row-major, so
``.view`` works on it as it does in PyTorch."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

#: name -> fn(T, x) on a (2, 3) float tensor, a result PyTorch never shares with x
NEW_TENSORS = {
    "roll_by_size_one_dim": lambda T, x: T.roll(x[:, :1], 1, 1),
    "roll_by_full_length": lambda T, x: T.roll(x, 3, 1),
    "roll_by_zero": lambda T, x: T.roll(x, 0, 0),
    "roll_flattened_by_zero": lambda T, x: T.roll(x, 0),
    "repeat_interleave_once": lambda T, x: x.repeat_interleave(1, 1),
    "repeat_interleave_once_flat": lambda T, x: x.repeat_interleave(1),
    "reflect_pad_nothing": lambda T, x: T.nn.functional.pad(x[None], (0, 0), mode="reflect"),
    "replicate_pad_nothing": lambda T, x: T.nn.functional.pad(x[None], (0, 0), mode="replicate"),
    "adaptive_avg_pool1d_same_size": lambda T, x: T.nn.functional.adaptive_avg_pool1d(x[None], 3),
    "adaptive_avg_pool2d_same_size": lambda T, x: T.nn.functional.adaptive_avg_pool2d(x[None], (2, 3)),
}


def _writes_through(T, fn, device=None):
    x = T.arange(6, dtype=T.float32).reshape(2, 3)
    if device is not None:
        x = x.to(device)
    result = fn(T, x)
    result.view(-1)[0] = 99
    return bool(x.flatten()[0] == 99)


@pytest.mark.parametrize("name", list(NEW_TENSORS))
def test_the_result_is_a_new_tensor(name, device):
    expected = _writes_through(torch, NEW_TENSORS[name])
    assert expected is False
    assert _writes_through(ember, NEW_TENSORS[name], device) is expected


def test_makemore_mlp_roll_then_write_keeps_the_input():
    # karpathy/makemore's MLP: idx = torch.roll(idx, 1, 1); idx[:, 0] = BLANK, on one-token contexts
    for T in (torch, ember):
        idx = T.zeros(3, 1, dtype=T.long)
        rolled = T.roll(idx, 1, 1)
        rolled[:, 0] = 7
        assert idx.tolist() == [[0], [0], [0]]


#: name -> fn(T, x) on a (2, 3, 4) tensor: advanced indexing and what is built on it
GATHERS = {
    "index_middle_dim": lambda T, x: x[:, T.tensor([0, 2], device=x.device)],
    "index_last_dim": lambda T, x: x[..., T.tensor([1, 3], device=x.device)],
    "index_two_dims": lambda T, x: x[:, T.tensor([0, 1], device=x.device), T.tensor([2, 3], device=x.device)],
    "index_with_nested_list": lambda T, x: x[:, [[0], [1]]],
    "index_select_dim1": lambda T, x: x.index_select(1, T.tensor([2, 0], device=x.device)),
    "index_select_dim2": lambda T, x: T.index_select(x, 2, T.tensor([3, 3, 0], device=x.device)),
    "repeat_interleave_tensor": lambda T, x: x.repeat_interleave(T.tensor([1, 2, 0], device=x.device), 1),
    "clone_contiguous_format": lambda T, x: x.transpose(0, 2).clone(memory_format=T.contiguous_format),
}


@pytest.mark.parametrize("name", list(GATHERS))
def test_gathered_results_are_row_major_and_view_as_in_pytorch(name, device, dtype):
    values = np.random.default_rng(0).standard_normal((2, 3, 4))
    expected = GATHERS[name](torch, torch.tensor(values, dtype=getattr(torch, dtype.name)))
    actual = GATHERS[name](ember, ember.tensor(values, dtype=dtype, device=device))
    assert actual.is_contiguous() == expected.is_contiguous()
    if device == "cpu":
        assert tuple(actual.stride()) == tuple(expected.stride())
    np.testing.assert_array_equal(actual.view(-1).cpu().numpy(), expected.view(-1).numpy())
