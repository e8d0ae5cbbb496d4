"""``Tensor.view(dtype)`` against PyTorch: the bits, shape, strides and storage offset of the result, its
errors, memory shared both ways, and its place outside autograd, on every test device."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]

#: layouts of a (3, 16)-element source, each a function of the module (ember or torch) and the tensor
_LAYOUTS = {
    "contiguous": lambda T, x: x,
    "rows": lambda T, x: x[1:],
    "columns": lambda T, x: x[:, 4:12],
    "odd_offset": lambda T, x: x[:, 1:9],
    "transposed": lambda T, x: x.t(),
    "expanded": lambda T, x: x[0].expand(2, 16),
    "column_of_one": lambda T, x: x[:, 3:4],
    "empty_rows": lambda T, x: x[:, :0],
    "zero_d": lambda T, x: x[1, 2],
}


def _source(dtype):
    """Random bytes read as ``dtype`` (bits 0/1 for bool), on the host."""
    raw = np.random.default_rng(7).integers(0, 256, size=3 * 16 * 8, dtype=np.uint8)
    if dtype == "bool":
        raw &= 1
    return raw[: 3 * 16 * np.dtype(dtype).itemsize].view(dtype).reshape(3, 16)


def _bytes(values):
    """The bytes of ``values``; for bool, whether each is nonzero (a bool read from other bytes holds any
    byte, which PyTorch's copies, and so its host arrays, turn into 1)."""
    raw = np.ascontiguousarray(values).view(np.uint8)
    return (raw != 0).tolist() if values.dtype == np.bool_ else raw.tolist()


def _outcome(T, device, source, layout, dtype):
    x = T.tensor(source, device=device) if T is ember else torch.from_numpy(source.copy())
    try:
        y = _LAYOUTS[layout](T, x).view(getattr(T, dtype))
    except RuntimeError as e:
        return "RuntimeError", str(e)
    host = y.cpu().numpy() if T is ember else y.contiguous().numpy()
    return tuple(y.shape), y.stride(), y.storage_offset(), str(y.dtype).split(".")[1], _bytes(host)


@pytest.mark.parametrize("layout", list(_LAYOUTS))
@pytest.mark.parametrize("source", _DTYPES)
def test_view_dtype_reads_the_same_bits_as_torch(device, source, layout):
    values = _source(source)
    for dtype in _DTYPES:
        expected = _outcome(torch, "cpu", values, layout, dtype)
        assert _outcome(ember, device, values, layout, dtype) == expected, (source, layout, dtype)


@pytest.mark.parametrize("dtype", ["int32", "int16", "float64", "float32"])
def test_view_dtype_shares_memory_and_version_counter(device, dtype):
    def run(T, dev):
        x = T.arange(8.0, device=dev)
        y = x.view(getattr(T, dtype))
        y[0] = 1  # a write through the view reaches x
        x[-1] = 0.5  # and one into x reaches the view
        return x.tolist(), y.cpu().numpy().tolist(), x._version, y._version

    assert run(ember, device) == run(torch, "cpu")


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "float16"])
def test_view_dtype_is_outside_autograd_as_torch(device, dtype):
    def run(T, dev):
        leaf = T.arange(4.0, device=dev, requires_grad=True)
        outcomes = []
        for x in (leaf, leaf * 2):
            y = x.view(getattr(T, dtype))
            outcomes.append((y.requires_grad, y.grad_fn is None, y._base is None, y.is_leaf))
        return outcomes

    assert run(ember, device) == run(torch, "cpu")


def test_view_dtype_keyword_and_bad_arguments(device):
    x = ember.arange(4.0, device=device)
    assert x.view(dtype=ember.int32).dtype is ember.int32
    with pytest.raises(TypeError):
        x.view(ember.int32, 2)
    with pytest.raises(TypeError):
        x.view(dtype="int32")


def test_bytes_viewed_as_bool_are_true_when_nonzero(device):
    # memory seen as bool may hold bytes other than 0 and 1: every op reads them as True, as PyTorch's
    def run(T, dev):
        b = T.tensor([1, 2, 0, 255], dtype=T.uint8, device=dev).view(T.bool)
        return b.int().tolist(), b.float().tolist(), b.sum().item(), (b == True).tolist(), (~b).tolist()  # noqa: E712

    assert run(ember, device) == run(torch, "cpu")
