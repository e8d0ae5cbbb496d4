"""Indexing by PyTorch's rules where they differ from NumPy's, checked against PyTorch.

PyTorch applies integer indices (ints, 0-d integer tensors) as ``select``s before any advanced
index, so an int does not count among the advanced indices when the result's dimensions are
placed; a bool (``True``/``False``, 0-d bool tensor) is an unsqueeze followed by an index of
``[0]``/``[]`` along the new dimension. NumPy counts both as advanced indices.
"""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


class _Key:
    def __getitem__(self, key):
        return key


K = _Key()

#: (shape, key written against a module ``t``) where PyTorch's rule and NumPy's give different results
KEYS = [
    ((2, 3, 4), lambda t: K[0, :, [1, 2]]),
    ((2, 3, 4), lambda t: K[0, :, t.tensor([1, 2])]),
    ((2, 3, 4), lambda t: K[t.tensor(1), :, [1, 2]]),
    ((2, 3, 4), lambda t: K[-1, 1:, [1, 0]]),
    ((2, 3, 4), lambda t: K[0, None, [1, 0]]),
    ((2, 3, 4), lambda t: K[0, ..., [1, 0]]),
    ((2, 3, 4), lambda t: K[0, ..., t.tensor([[0], [1]])]),
    ((2, 3, 4), lambda t: K[0, :, True]),
    ((2, 3, 4), lambda t: K[0, 1:, False]),
    ((2, 3, 4), lambda t: K[0, :, t.tensor(True)]),
    ((2, 3, 4), lambda t: K[1, ..., True]),
    ((2, 3, 4), lambda t: K[None, 0, :, [1, 2]]),
    ((2, 3, 4, 5), lambda t: K[0, :, [1, 0], :]),
    ((2, 3, 4, 5), lambda t: K[:, 1, :, [0, 4]]),
    ((2, 3, 4, 5), lambda t: K[[0, 1], 0, :, [2, 3]]),
    ((2, 3, 4, 5), lambda t: K[0, [0, 2], 1, [1, 3]]),
    ((2, 3, 4, 5), lambda t: K[0, :, t.ones(4, 5, dtype=t.bool)]),
    ((2, 3, 4, 5), lambda t: K[1, ..., t.tensor([True, False, True, True, False])]),
    ((2, 3), lambda t: K[0, None, t.tensor([[0], [1]])]),
    ((2,), lambda t: K[0, None, False]),
    # Python bools and bool masks do not count among the dimensions ``...`` leaves out
    ((2, 3, 4), lambda t: K[..., t.tensor(True), t.ones(3, 4, dtype=t.bool)]),
    ((2, 3, 4), lambda t: K[..., True, t.ones(3, 4, dtype=t.bool)]),
    ((2,), lambda t: K[True, ..., [True, False]]),
    ((2,), lambda t: K[..., [True, False], False]),
]


def _arange(t, shape, device=None):
    x = t.arange(int(np.prod(shape)), dtype=t.float32).reshape(shape)
    return x if device is None else x.to(device)


@pytest.mark.parametrize("shape, key", KEYS)
def test_getitem_follows_torch(device, shape, key):
    expected = _arange(torch, shape)[key(torch)]
    got = _arange(ember, shape, device)[key(ember)]
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(got.cpu().numpy(), expected.numpy())


@pytest.mark.parametrize("shape, key", KEYS)
def test_setitem_follows_torch(device, shape, key):
    x_t = _arange(torch, shape)
    target = x_t[key(torch)].shape
    value = torch.arange(100.0, 100.0 + int(np.prod(target))).reshape(target)
    x_t[key(torch)] = value
    x_e = _arange(ember, shape, device)
    x_e[key(ember)] = ember.tensor(value.numpy()).to(device)
    np.testing.assert_array_equal(x_e.cpu().numpy(), x_t.numpy())


@pytest.mark.parametrize("shape, key", KEYS[:8])
def test_getitem_gradient_follows_torch(shape, key):
    x_t = _arange(torch, shape).requires_grad_()
    y_t = x_t[key(torch)]
    y_t.backward(torch.arange(float(y_t.numel())).reshape(y_t.shape))
    x_e = _arange(ember, shape).requires_grad_()
    y_e = x_e[key(ember)]
    y_e.backward(ember.arange(float(y_e.numel())).reshape(y_e.shape))
    np.testing.assert_array_equal(x_e.grad.numpy(), x_t.grad.numpy())


def test_setitem_with_gradient_follows_torch():
    x_t = _arange(torch, (2, 3, 4)).requires_grad_()
    v_t = torch.arange(6.0).reshape(3, 2).requires_grad_()
    y_t = x_t * 1
    y_t[0, :, [1, 2]] = v_t * 2
    y_t.backward(torch.arange(24.0).reshape(2, 3, 4))
    x_e = _arange(ember, (2, 3, 4)).requires_grad_()
    v_e = ember.arange(6.0).reshape(3, 2).requires_grad_()
    y_e = x_e * 1
    y_e[0, :, [1, 2]] = v_e * 2
    y_e.backward(ember.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_array_equal(y_e.detach().numpy(), y_t.detach().numpy())
    np.testing.assert_array_equal(x_e.grad.numpy(), x_t.grad.numpy())
    np.testing.assert_array_equal(v_e.grad.numpy(), v_t.grad.numpy())


def test_cpu_index_tensor_indexes_a_tensor_on_any_device(device):
    # PyTorch moves a CPU index tensor to the indexed tensor's device (x_cuda[torch.arange(2)])
    x = ember.arange(6.0).reshape(2, 3).to(device)
    index = ember.tensor([2, 0])
    np.testing.assert_array_equal(x[:, index].cpu().numpy(), [[2.0, 0.0], [5.0, 3.0]])
    x[1, index] = ember.tensor(9.0)
    np.testing.assert_array_equal(x.cpu().numpy(), [[0.0, 1.0, 2.0], [9.0, 4.0, 9.0]])


@pytest.mark.parametrize(
    "key",
    [
        lambda t: K[[]],  # an empty list indexes as int64, selecting nothing
        lambda t: K[[1.7, 0.2]],  # a list of numbers is read as int64
        lambda t: K[:, []],
        lambda t: K[[True, 0]],  # not all bools: integers
    ],
)
def test_list_index_reads_as_torch(device, key):
    expected = _arange(torch, (2, 3))[key(torch)]
    got = _arange(ember, (2, 3), device)[key(ember)]
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(got.cpu().numpy(), expected.numpy())


@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_index_tensor_of_a_small_integer_dtype_is_refused(dtype):
    x = ember.arange(6.0)
    index = ember.tensor([1, 0], dtype=getattr(ember, dtype))
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool tensors"):
        x[index]
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool tensors"):
        x[index] = 7.0


@pytest.mark.parametrize("value", [[1.0, 2.0, 3.0], (1, 2, 3), np.ones(3)])
def test_setitem_refuses_a_sequence_value(value):
    # PyTorch writes tensors and numbers only: "can't assign a list to a torch.FloatTensor"
    x = ember.zeros(2, 3)
    with pytest.raises(TypeError, match=f"can't assign a .*{type(value).__name__} to a ember.FloatTensor"):
        x[0] = value
    assert x.tolist() == [[0.0] * 3] * 2
