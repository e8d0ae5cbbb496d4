"""Linear layers, functional forms: ``F.linear`` and ``F.bilinear``."""

from __future__ import annotations

import math
from typing import Any

from ... import dtypes
from ...amp.policy import autocast_call
from ...amp.state import state as _amp
from ...autograd.function import Function, differentiable_backward
from ...ops.dtype_support import GEMM_REFUSED, TORCH_NAMES, not_implemented, refuse_limited
from ...ops.movement import row_major
from ...ops.operands import named_node, require_tensors
from ...ops.reduced_precision import opmath
from ...tensor import Tensor, _new

__all__ = ["linear", "bilinear"]


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    r"""Applies :math:`y = x A^T + b`.

    Args:
        input (Tensor): :math:`(*, \text{in\_features})`.
        weight (Tensor): :math:`(\text{out\_features}, \text{in\_features})` or :math:`(\text{in\_features})`.
        bias (Tensor, optional): :math:`(\text{out\_features})` or :math:`()`. Default: ``None``

    Shape:
        - Output: :math:`(*, \text{out\_features})` (``*`` as in the input).

    Example::

        >>> F.linear(ember.randn(128, 20), ember.randn(30, 20)).size()
        ember.Size([128, 30])
    """
    refuse_limited("addmm_impl_cpu_", input, among=GEMM_REFUSED)
    if _amp.active:
        return autocast_call("linear", linear, input, weight, bias)
    if _common_case(input, weight, bias):
        return named_node(_Linear.apply(bias, input, weight), _node_name(input, bias))
    if hasattr(input, "_nnz") and isinstance(weight, Tensor) and weight.ndim == 2:  # a sparse matrix input
        product = input @ weight.t()  # the sparse product, its gradient as PyTorch's addmm gives it
        return product if bias is None else product + bias
    require_tensors("linear", ("input", "weight"), input, weight)
    if weight.ndim not in (1, 2):
        raise RuntimeError(f"linear: weight must be 1-D or 2-D, got {weight.ndim}-D")
    if input.ndim == 0 or input.shape[-1] != weight.shape[-1]:
        rows = input.numel() // input.shape[-1] if input.ndim and input.shape[-1] else 1
        cols = input.shape[-1] if input.ndim else 1
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{cols} and "
            f"{weight.shape[-1]}x{weight.shape[0] if weight.ndim == 2 else 1})"
        )
    if input.dtype is not weight.dtype:
        raise RuntimeError(
            f"mat1 and mat2 must have the same dtype, but got {TORCH_NAMES[input.dtype]} and "
            f"{TORCH_NAMES[weight.dtype]}"
        )
    if input.dtype is dtypes.bool:  # PyTorch has no bool GEMM
        not_implemented("addmm_impl_cpu_", input.dtype)
    if input.device != weight.device:
        raise RuntimeError(
            f"Expected all tensors to be on the same device, but found at least two devices, "
            f"{input.device} and {weight.device}!"
        )
    if bias is not None:
        require_tensors("linear", ("bias",), bias, first=3)
        if bias.dtype is not input.dtype:  # PyTorch's addmm takes no promotion of the bias either
            raise RuntimeError(
                f"self and mat2 must have the same dtype, but got {TORCH_NAMES[bias.dtype]} and "
                f"{TORCH_NAMES[input.dtype]}"
            )
    # checked once, here: the autograd node, its kernels and the backend take the operands as they are
    matrix = weight if weight.ndim == 2 else weight.unsqueeze(0)
    fused_bias = bias is None or (
        bias.dtype is input.dtype and bias.shape == matrix.shape[:1] and bias.device == input.device
    )
    out = _Linear.apply(bias if fused_bias else None, input, matrix)
    if weight.ndim == 1:
        out = out.squeeze(-1)
    result = out if fused_bias else out + bias
    if weight.ndim == 2 and (fused_bias or input.ndim == 2):
        return named_node(result, _node_name(input, bias))
    if weight.ndim == 1 and bias is None and input.ndim <= 2:  # PyTorch's mv, or dot of two vectors
        return named_node(result, "MvBackward0" if input.ndim == 2 else "DotBackward0")
    return result


def _node_name(input, bias):
    """The node PyTorch's linear ends in: addmm or mm of a matrix, the view back to the batch dims of any other
    input (``nn.Linear(3, 4)(x).grad_fn`` is AddmmBackward0)."""
    if input.ndim == 2:
        return "MmBackward0" if bias is None else "AddmmBackward0"
    if bias is None:
        return "SqueezeBackward4" if input.ndim == 1 else "UnsafeViewBackward0"
    # its flattened addmm takes a contiguous input and bias; else a matmul and an add
    return "ViewBackward0" if input.is_contiguous() and bias.is_contiguous() else "AddBackward0"


def _common_case(input, weight, bias):
    """Whether ``linear`` can go straight to its node: tensors of one dtype on one device, a 2-D weight
    that fits the input and a bias of ``(out_features,)`` or none (anything else takes the checks below)."""
    if not (isinstance(input, Tensor) and isinstance(weight, Tensor)):
        return False
    x, w = input._data, weight._data
    shape = w.shape
    dev = input._device
    return (
        len(shape) == 2
        and x.ndim != 0
        and x.shape[-1] == shape[1]
        and x.dtype == w.dtype
        and input._backend._ember[x.dtype] is not dtypes.bool  # refused below
        and input._backend is weight._backend
        and (weight._device is dev or weight._device == dev)
        and (
            bias is None
            or (
                isinstance(bias, Tensor)
                and bias._data.shape == shape[:1]
                and bias._data.dtype == x.dtype
                and bias._backend is input._backend
                and (bias._device is dev or bias._device == dev)
            )
        )
    )


def _linear(like, kernels, rows, w, b):
    """The backend's ``linear`` of native ``rows``; a 16-bit one with a bias rounded once where the backend
    asks for it (``Kernels.NARROW_PRODUCTS_IN_FLOAT32``), when PyTorch's ``linear`` fuses the bias into
    ``addmm``: a 2-D input, or a contiguous one (flattened to rows), by the backend's own 16-bit product
    where it has one (``linear_rounded_once``), else computed in float32. A non-contiguous input PyTorch
    multiplies, rounds, then adds the bias in a second rounding (``matmul`` and ``add_``), and so does this."""
    if b is not None and rows.dtype.itemsize == 2 and kernels.NARROW_PRODUCTS_IN_FLOAT32:
        if like.ndim == 2 or like.is_contiguous():
            out = kernels.linear_rounded_once(rows, w, b)
            return out if out is not None else opmath(like, kernels.linear, rows, w, b)
        return opmath(like, like._backend.xp.add, kernels.linear(rows, w, None), b)
    return kernels.linear(rows, w, b)


class _Linear(Function):
    """``x @ w^T + b`` as one autograd node (the backend's ``linear``/``linear_backward``), ``x`` (*, in).

    Its operands come in PyTorch's ``addmm`` order, ``(bias, x, weight)``: so do the node's inputs
    (``next_functions``), and the engine then accumulates the bias's gradient before the weight's, as PyTorch's.
    """

    @staticmethod
    def forward(ctx, bias, x, weight):
        # each operand is read for the other's gradient only: saved (checked against in-place writes, and
        # through the saved-tensor hooks) where that gradient is wanted, as PyTorch's mm saves them; the
        # array of an operand not saved is kept for its shape alone
        needs_x, needs_w = ctx.needs_input_grad[1:]
        ctx.save_for_backward(x if needs_w else None, weight if needs_x else None)
        ctx.arrays = (None if needs_w else x._data, None if needs_x else weight._data)
        backend, data, w = x._backend, x._data, weight._data
        b = None if bias is None else bias._data
        kernels = backend.kernels
        if data.ndim != 2:
            xp = backend.xp
            lead = data.shape[:-1]
            rows = xp.reshape(data, (math.prod(lead), data.shape[-1]))
            return _new(xp.reshape(_linear(x, kernels, rows, w, b), lead + (w.shape[0],)), backend, x._device)
        return _new(_linear(x, kernels, data, w, b), backend, x._device)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        if grad.dtype.is_complex:  # conjugate Wirtinger gradients: grad @ conj(w), grad^T @ conj(x)
            x, weight = _conj(x), _conj(weight)
        needs_b, needs_x, needs_w = ctx.needs_input_grad
        data, w = ctx.arrays  # an operand not saved: its values are not read
        data, w = data if x is None else x._data, w if weight is None else weight._data
        input_shape = data.shape
        count = math.prod(data.shape[:-1])
        if differentiable_backward():  # create_graph: differentiable tensor operations
            grad_rows = grad.reshape(count, w.shape[0])
            # PyTorch's mm makes the gradient of a column-major input (or of weight.t()) column-major too
            if needs_x and data.ndim == 2 and _column_major(grad._backend, data):
                grad_x = weight.mT.matmul(grad.mT).mT
            else:
                grad_x = grad.matmul(weight) if needs_x else None
            grad_w = None
            if needs_w:
                rows = x.reshape(count, data.shape[-1])
                grad_w = grad_rows.t().matmul(rows) if grad._backend.is_row_major(w) else rows.t().matmul(grad_rows).t()
            return grad_rows.sum(0) if needs_b else None, grad_x, grad_w
        backend, dev, g = grad._backend, grad._device, grad._data
        rows = data.ndim == 2
        if not rows:
            xp = backend.xp
            g = xp.reshape(g, (count, w.shape[0]))
            data = xp.reshape(data, (count, data.shape[-1]))
        grad_x, grad_w, grad_b = backend.kernels.linear_backward(g, data, w, needs_x, needs_w, needs_b)
        if grad_x is not None and not rows:
            grad_x = xp.reshape(grad_x, input_shape)
        elif grad_x is not None and _column_major(backend, data):
            # PyTorch's mm makes the gradient of a column-major (transposed) input column-major too
            grad_x = _transposed_copy(backend, grad_x)
        if grad_w is not None and not backend.is_row_major(w):  # the gradient of weight.t() likewise
            grad_w = _transposed_copy(backend, grad_w)
        return (
            None if grad_b is None else _new(grad_b, backend, dev),
            None if grad_x is None else _new(grad_x, backend, dev),
            None if grad_w is None else _new(grad_w, backend, dev),
        )


def _column_major(backend: Any, data: Any) -> bool:
    """Whether the native matrix ``data`` steps as a transposed row-major one (:func:`ember.ops.linalg.column_major`)."""
    if backend.is_contiguous(data) and 1 not in data.shape:
        return False
    strides = backend.strides(data)
    return strides[0] == 1 and strides[1] == data.shape[0]


def _transposed_copy(backend: Any, data: Any) -> Any:
    """The native matrix ``data``'s values laid out column-major."""
    xp = backend.xp
    return xp.permute_dims(row_major(backend, xp.permute_dims(data, (1, 0))), (1, 0))


def _conj(operand: Tensor | None) -> Tensor | None:
    return None if operand is None else operand.conj()


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    r"""Applies :math:`y = x_1^T A x_2 + b`.

    Args:
        input1 (Tensor): :math:`(*, \text{in1\_features})`.
        input2 (Tensor): :math:`(*, \text{in2\_features})`, same leading dimensions.
        weight (Tensor): :math:`(\text{out\_features}, \text{in1\_features}, \text{in2\_features})`.
        bias (Tensor, optional): :math:`(\text{out\_features})`. Default: ``None``

    Shape:
        - Output: :math:`(*, \text{out\_features})`.

    See :class:`~ember.nn.Bilinear` for details.

    Examples::

        >>> x1 = ember.tensor([[1.0, 2.0]])
        >>> x2 = ember.tensor([[3.0, 0.0, 1.0]])
        >>> weight = ember.ones(1, 2, 3)  # out_features = 1
        >>> F.bilinear(x1, x2, weight, ember.tensor([0.5]))
        tensor([[12.5000]])
        >>> F.bilinear(ember.randn(8, 5, 2), ember.randn(8, 5, 3), ember.randn(4, 2, 3)).shape
        ember.Size([8, 5, 4])
    """
    if _amp.active:  # promote on cuda; on cpu as it is (its products are not matmul's policy)
        return autocast_call("bilinear", bilinear, input1, input2, weight, bias)
    require_tensors("bilinear", ("input1", "input2", "weight"), input1, input2, weight)
    if input1.dtype is dtypes.bool:  # PyTorch's bilinear contracts with bmm, which has no bool kernel
        not_implemented("bmm", input1.dtype)
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be three-dimensional, got {weight.ndim}-D")
    out_features, in1, in2 = weight.shape
    if input1.ndim == 0 or input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(
            f"bilinear(): input batch dimensions do not match: got {list(input1.shape[:-1])} and "
            f"{list(input2.shape[:-1])}"
        )
    for arg, value, size in (("input1", input1, in1), ("input2", input2, in2)):
        if value.shape[-1] != size:
            raise RuntimeError(
                f"bilinear(): {arg} size does not match weight size: got {value.shape[-1]} but expected {size}"
            )
    lead = tuple(input1.shape[:-1])
    x1 = input1.reshape((-1, in1))
    x2 = input2.reshape((-1, in2))
    # (N, in1) @ (in1, out*in2) -> (N, out, in2), contracted with x2 over in2
    folded = weight.permute(1, 0, 2).reshape((in1, out_features * in2))
    tmp = x1.matmul(folded).reshape((-1, out_features, in2))
    out = tmp.matmul(x2.unsqueeze(-1)).squeeze(-1)
    if bias is not None:
        require_tensors("bilinear", ("bias",), bias, first=4)
        out = out + bias
    return out.reshape(lead + (out_features,))
