"""Top-level and method forms of activations that live in ``ember.nn.functional``.

``ember.softmax(x, dim)``, ``x.relu()``, ... delegate to the functional forms, imported
when first called (``ember.nn`` imports the ops, so the ops cannot import it first).
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from .operands import numpy_names, require_tensors
from .out_argument import write_out

if TYPE_CHECKING:
    from ..tensor import Tensor
    from ..types import _dtype

__all__ = ["softmax", "log_softmax", "relu", "relu_", "hardshrink", "prelu_method"]


_loaded: list[ModuleType] = []  # ember.nn.functional, once imported: no import statement per call


def _functional() -> ModuleType:
    if not _loaded:
        from ..nn import functional

        _loaded.append(functional)
    return _loaded[0]


def softmax(
    input: Tensor,
    dim: int | None = None,
    dtype: _dtype | None = None,
    *,
    out: Tensor | None = None,
    axis: int | None = None,
) -> Tensor:
    """Softmax along ``dim``; see :func:`ember.nn.functional.softmax`.

    Args:
        input (Tensor): the input.
        dim (int): the dimension softmax is computed along.
        dtype (ember.dtype, optional): cast the input to this type first. Default: None
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.

    Example::

        >>> ember.softmax(ember.tensor([[0.0, 0.0], [1.0, 3.0]]), dim=1)
        tensor([[0.5000, 0.5000],
                [0.1192, 0.8808]])
    """
    if axis is not None or dim is None:
        dim, _ = numpy_names("softmax", dim, None, axis, False, None, required=True)
    if out is not None:
        return write_out("softmax", softmax(input, dim, dtype), out, exact_dtype=True)
    require_tensors("softmax", ("input",), input)  # PyTorch's argument parser (F.softmax reads input.softmax)
    return _functional().softmax(input, dim, dtype=dtype)


def log_softmax(
    input: Tensor,
    dim: int | None = None,
    dtype: _dtype | None = None,
    *,
    out: Tensor | None = None,
    axis: int | None = None,
) -> Tensor:
    """Log of softmax along ``dim``; see :func:`ember.nn.functional.log_softmax`.

    Args:
        input (Tensor): the input.
        dim (int): the dimension log-softmax is computed along.
        dtype (ember.dtype, optional): cast the input to this type first. Default: None
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.

    Example::

        >>> ember.log_softmax(ember.tensor([[0.0, 0.0], [1.0, 3.0]]), dim=1)
        tensor([[-0.6931, -0.6931],
                [-2.1269, -0.1269]])
    """
    if axis is not None or dim is None:
        dim, _ = numpy_names("log_softmax", dim, None, axis, False, None, required=True)
    if out is not None:
        return write_out("log_softmax", log_softmax(input, dim, dtype), out, exact_dtype=True)
    require_tensors("log_softmax", ("input",), input)  # PyTorch's argument parser (F.log_softmax reads it first)
    return _functional().log_softmax(input, dim, dtype=dtype)


def relu(input: Tensor) -> Tensor:
    r""":math:`\max(0, x)` element-wise; see :func:`ember.nn.functional.relu`.

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> ember.relu(ember.tensor([-1.0, 0.0, 2.0]))
        tensor([0., 0., 2.])
    """
    return _functional().relu(input)


def relu_(input: Tensor) -> Tensor:
    """In-place :func:`relu`; returns ``input``.

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> x = ember.tensor([-1.0, 0.0, 2.0])
        >>> ember.relu_(x)
        tensor([0., 0., 2.])
        >>> x
        tensor([0., 0., 2.])
    """
    return _functional().relu_(input)


def hardshrink(input: Tensor, lambd: float = 0.5, *, out: Tensor | None = None) -> Tensor:
    """Hard shrinkage; see :func:`ember.nn.functional.hardshrink`.

    Args:
        input (Tensor): the input tensor.
        lambd (float): the threshold. Default: 0.5
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.hardshrink(ember.tensor([-1.0, -0.25, 0.25, 2.0]))
        tensor([-1.,  0.,  0.,  2.])
    """
    if out is not None:
        return write_out("hardshrink", hardshrink(input, lambd), out, exact_dtype=True)
    return _functional().hardshrink(input, lambd)


def prelu_method(input: Tensor, weight: Tensor) -> Tensor:
    """``Tensor.prelu``: :func:`ember.nn.functional.prelu` of this tensor, :math:`\\max(0, x) + w \\min(0, x)`.

    Args:
        weight (Tensor): one slope, or one per channel (dimension 1).

    Example::

        >>> ember.tensor([-2.0, 3.0]).prelu(ember.tensor([0.25]))
        tensor([-0.5000,  3.0000])
    """
    return _functional().prelu(input, weight)
