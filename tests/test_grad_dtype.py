"""``Tensor.grad_dtype`` (the dtype ``.grad`` must have) against torch: its default, backward casting the
gradients it accumulates to it, ``None`` taking any dtype, the ``grad`` setter's check, leaf-only access."""

from __future__ import annotations

import warnings

import pytest

import ember

torch = pytest.importorskip("torch")


def _name(dtype):
    return str(dtype).rpartition(".")[2]


def _run(T, device):
    """The same program on torch (``device`` "cpu") or ember: what it records."""
    record = []
    x = T.tensor([1.0, 2.0], requires_grad=True, device=device)
    record.append(_name(x.grad_dtype))
    x.grad_dtype = T.float64
    (x * 3).sum().backward()
    record.append((x.grad.tolist(), _name(x.grad.dtype)))
    (x * 3).sum().backward()  # accumulates into the float64 .grad
    record.append((x.grad.tolist(), _name(x.grad.dtype)))
    x.grad, x.grad_dtype = None, None
    (x * 3).sum().backward()
    record.append(_name(x.grad.dtype))
    x.grad = T.ones(2, dtype=T.float16, device=device)  # None takes any dtype
    record.append(_name(x.grad.dtype))
    w = T.tensor([1.0, 2.0], dtype=T.float16, requires_grad=True, device=device)
    w.grad_dtype = T.float32
    (w.float() * 2).sum().backward()
    record.append((_name(w.grad.dtype), w.grad.tolist()))
    return record


def test_grad_dtype_as_torch(device):
    if device.startswith("opencl") and not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    assert _run(ember, device) == _run(torch, "cpu")


def test_grad_dtype_errors_as_torch():
    for T in (torch, ember):
        y = T.tensor([1.0], requires_grad=True) * 2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError, match="grad_dtype can only be accessed on leaf tensors"):
                y.grad_dtype  # noqa: B018 - the access raises
            with pytest.raises(RuntimeError, match="grad_dtype can only be set on leaf tensors"):
                y.grad_dtype = T.float16
        z = T.tensor([1.0])
        z.grad_dtype = T.float16
        assert _name(z.grad_dtype) == "float16"
        with pytest.raises(RuntimeError, match="to a tensor with grad_dtype"):
            z.grad = T.ones(1, dtype=T.float64)
        with pytest.raises(RuntimeError, match="to a tensor with grad_dtype"):
            T.tensor([1.0], requires_grad=True).grad = T.ones(1, dtype=T.float64)
