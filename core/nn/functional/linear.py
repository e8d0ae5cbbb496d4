"""Linear layers, functional forms: ``F.linear`` and ``F.bilinear``."""

from __future__ import annotations

import math
from typing import Any

from ... import dtypes
from ...amp.policy import autocast_call
from ...amp.state import state as _amp
from ...autograd.apply_layers import watching_ops
from ...autograd.engine import current_graph_task
from ...autograd.function import NOT_A_TENSOR, Function, FunctionCtx, _sequence, recorded_node
from ...autograd.grad_mode import grad_state
from ...ops.dtype_support import GEMM_REFUSED, TORCH_NAMES, not_implemented, refuse_limited
from ...ops.movement import _T, _unsafe_view, _View, row_major
from ...ops.operands import named_node, require_tensors
from ...ops.reduced_precision import opmath
from ...tensor import Tensor, _new
from ...unstrided import is_strided

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
        return _linear_of_matrix(input, weight, bias)
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
    if weight.ndim == 2 and fused_bias:
        return _linear_of_matrix(input, weight, bias)
    out = _Linear.apply(bias if fused_bias else None, input, matrix)
    if weight.ndim == 1:
        out = out.squeeze(-1)
    result = out if fused_bias else out + bias
    if weight.ndim == 2 and input.ndim == 2:
        return named_node(result, "AddmmBackward0")
    if weight.ndim == 1 and bias is None and input.ndim <= 2:  # PyTorch's mv, or dot of two vectors
        return named_node(result, "MvBackward0" if input.ndim == 2 else "DotBackward0")
    return result


def _linear_of_matrix(input, weight, bias):
    """``linear`` of checked operands, a weight matrix: PyTorch's graph of ATen's ``linear`` at the cost of one
    kernel and one node. PyTorch runs ``weight.t()`` (TBackward0), then ``addmm(bias, rows, weight.t())`` of
    the input's rows (AddmmBackward0; ``view``s to rows and back, ViewBackward0, for other than a matrix), or
    without a bias a ``matmul`` (``mm``, MmBackward0, under UnsafeViewBackward0 or SqueezeBackward4).
    :class:`_FoldedLinear` computes the values, its node named as the last of those, and those nodes are made
    of it when the graph is looked at (:class:`_FoldedNode`). A tool that watches every op (the profiler,
    anomaly mode) sees them run one by one (:func:`_ops`), and so do the saved-tensor hooks of a recorded graph
    (whose pack hook sees what PyTorch's ops save: the input's rows and ``weight.t()``, views), and a
    non-contiguous batch whose graph is recorded, or such a vector (its product and bias are two ops,
    ``matmul`` and ``add_``: AddBackward0)."""
    ndim = len(input._data.shape)
    if watching_ops() or (
        grad_state.enabled and (grad_state.saved_tensors_hooks or (ndim != 2 and not _rows_of(input, bias)))
    ):
        return _ops(input, weight, bias)
    out = _FoldedLinear.apply(bias, input, weight)
    if out._grad_fn is None or (ndim == 2 and bias is not None):
        return out
    return named_node(out, _LAST_NODE[bias is None, min(ndim, 3)])


#: the node PyTorch's ``linear`` ends in: (no bias, input dimensions, 3 for more) -> its name
_LAST_NODE = {
    (False, 1): "ViewBackward0",
    (False, 2): "AddmmBackward0",
    (False, 3): "ViewBackward0",
    (True, 1): "SqueezeBackward4",
    (True, 2): "MmBackward0",
    (True, 3): "UnsafeViewBackward0",
}


def _rows_of(input, bias):
    """Whether PyTorch's ``linear`` of a batch ``input`` runs on a view of its rows: a contiguous input, and a
    contiguous bias or none."""
    contiguous = input._backend.is_contiguous
    return contiguous(input._data) and (bias is None or contiguous(bias._data))


class _FoldedNode(FunctionCtx):
    """The node of :class:`_FoldedLinear`: PyTorch's nodes of ``linear`` folded into one, which the engine runs
    as one. It unfolds (:func:`_unfold`) the first time its graph is looked at (``next_functions``) or a hook is
    registered on it, so that the graph and the hooks are PyTorch's; but not while a backward pass runs (whose
    engine counts the folded node's edges): it stays folded then."""

    __slots__ = ()

    @property
    def next_functions(self):
        node = _unfold(self)
        return node.next_functions if node is not self else FunctionCtx.next_functions.fget(self)

    def register_hook(self, hook):
        node = _unfold(self)
        return node.register_hook(hook) if node is not self else FunctionCtx.register_hook(self, hook)

    def _insert_prehook(self, hook, rank):
        node = _unfold(self)
        return node._insert_prehook(hook, rank) if node is not self else FunctionCtx._insert_prehook(self, hook, rank)


def _unfold(node):
    """Make of the folded ``node`` PyTorch's nodes of ``linear`` (see :func:`_ops`), ``node`` the last of them:
    ``addmm``'s (``mm``'s) node of ``weight.t()``'s node, and the ``view`` nodes of a batch around it. No op
    runs: the nodes' backwards compute what the folded one did, the weight's gradient as ``weight.t()``'s (a
    transposed view), the input's as its rows'. Returns ``node``, no longer folded; still folded (its class
    unchanged) while a backward pass runs."""
    if current_graph_task() is not None:
        return node
    edge_b, edge_x, edge_w = node._edges
    needs_b, needs_x, needs_w = node.needs_input_grad
    meta = node._output_meta[0]
    backend, device, shape, dtype = meta
    in_features, out_features = node.arrays[3], shape[-1]
    if needs_w:  # weight.t()
        t = recorded_node(
            _WeightT, (edge_w, NOT_A_TENSOR), (True, False), (backend, device, (in_features, out_features), dtype)
        )
        edge_w = (t, 0)
    batch = len(shape) != 2
    rows = (math.prod(shape[:-1]), out_features)
    if batch and needs_x:  # the input's rows: x.view(-1, in), or x.unsqueeze(0) of a vector into mm
        lift = _UnsqueezeRows if edge_b is NOT_A_TENSOR and len(shape) == 1 else _ViewRows
        x_meta = (backend, device, (rows[0], in_features), dtype)
        x_node = recorded_node(lift, (edge_x, NOT_A_TENSOR, NOT_A_TENSOR), (True, False, False), x_meta)
        x_node.shape = (*shape[:-1], in_features)
        edge_x = (x_node, 0)
    if edge_b is NOT_A_TENSOR:  # no bias
        product, edges, needs = _LinearMm, (edge_x, edge_w), (needs_x, needs_w)
    else:
        product = _LinearAddmm
        edges = (edge_b, edge_x, edge_w, NOT_A_TENSOR, NOT_A_TENSOR)
        needs = (needs_b, needs_x, needs_w, False, False)
    if not batch:
        node.__class__ = product._backward_cls
        node._edges, node.needs_input_grad = edges, needs
        return node
    mm = recorded_node(product, edges, needs, (backend, device, rows, dtype))
    mm._saved, mm.arrays = node._saved, node.arrays
    # the product back in the batch's shape: view (a bias), _unsafe_view (a batch) or squeeze_ (a vector)
    top = _ViewRows if edge_b is not NOT_A_TENSOR else _UnsafeViewRows if len(shape) > 1 else _SqueezeRows
    node.__class__ = top._backward_cls
    node._edges, node.needs_input_grad = ((mm, 0), NOT_A_TENSOR, NOT_A_TENSOR), (True, False, False)
    node._sequence_nr = next(_sequence)  # after its inputs', as the ops ran
    node.shape = rows
    del node._saved, node.arrays
    return node


def _ops(input, weight, bias):
    """PyTorch's ops of ``linear``, each its node and its profiler event: ``weight.t()``, then ``addmm(bias,
    input, weight.t())`` of a matrix input, or of a contiguous input's rows when there is a contiguous bias (a
    ``view`` to rows and one back); else a ``matmul`` (:func:`_matmul`), the bias added in place after it."""
    if bias is not None and (input.ndim == 2 or (input.is_contiguous() and bias.is_contiguous())):
        if input.ndim == 2:
            return _LinearAddmm.apply(bias, input, weight.t(), 1, 1)
        rows = input.view(-1, input.shape[-1])
        return _LinearAddmm.apply(bias, rows, weight.t(), 1, 1).view(*input.shape[:-1], weight.shape[0])
    out = _matmul(input, weight.t())
    return out if bias is None else out.add_(bias)


def _matmul(input, weight_t):
    """``input.matmul(weight_t)`` as PyTorch's ``matmul`` runs it for ``linear``: ``mm`` of a matrix (MmBackward0);
    of a vector made a row (``unsqueeze``, then ``squeeze_``: SqueezeBackward4); of any other input's rows
    (``reshape``, a view or a copy, then ``_unsafe_view`` back: UnsafeViewBackward0). The profiler records a
    call as ``aten::matmul`` (:mod:`ember.profiler.entry_points`)."""
    if input.ndim == 2:
        return _LinearMm.apply(input, weight_t)
    if input.ndim == 1:
        return _LinearMm.apply(input.unsqueeze(0), weight_t).squeeze_(0)
    rows = input.reshape(-1, input.shape[-1])
    return _unsafe_view(_LinearMm.apply(rows, weight_t), (*input.shape[:-1], weight_t.shape[1]))


def _common_case(input, weight, bias):
    """Whether ``linear`` can go straight to its node: tensors of one dtype on one device, a 2-D weight
    that fits the input and a bias of ``(out_features,)`` or none (anything else takes the checks below)."""
    if not ((type(input) is Tensor or is_strided(input)) and isinstance(weight, Tensor)):
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
    :class:`_LinearAddmm` and :class:`_LinearMm` are PyTorch's ops of a matrix, whose weight operand is
    ``weight.t()`` (the node :func:`_unfold` makes of this one, or one that :func:`_ops` runs).
    """

    @staticmethod
    def forward(ctx, bias, x, weight):
        needs = ctx.needs_input_grad
        return _Linear.run(ctx, bias, x, weight, weight._data, needs[1], needs[2])

    @staticmethod
    def backward(ctx, grad):
        return _Linear.gradients(ctx, grad, *ctx.needs_input_grad[:3], transposed=False)

    @staticmethod
    def _native_backward(ctx, grad):
        return _Linear.native_gradients(ctx, grad, *ctx.needs_input_grad[:3], transposed=False)

    @staticmethod
    def run(ctx, bias, x, weight, w, needs_x, needs_w, weight_first=False):
        """The forward, given the weight's native matrix ``w`` (out, in), the tensor ``weight`` it was read from
        (the weight, or its ``t()``), and which of ``x``'s and ``weight``'s gradients are wanted; ``weight``
        saved before ``x`` where ``weight_first`` (PyTorch's ``mm`` saves ``mat2`` first, ``addmm`` ``mat1``)."""
        # each operand is read for the other's gradient only: saved (checked against in-place writes, and
        # through the saved-tensor hooks, in PyTorch's order) where that gradient is wanted, as PyTorch's mm
        # saves them; the array of an operand not saved is kept for its shape alone
        saved = (x if needs_w else None, weight if needs_x else None)
        ctx.save_for_backward(*(saved[::-1] if weight_first else saved))
        backend, data = x._backend, x._data
        ctx.arrays = (
            None if needs_w else data,
            None if needs_x else w,
            weight._data is not w,
            data.shape[-1],
            weight_first,
        )
        b = None if bias is None else bias._data
        kernels = backend.kernels
        if data.ndim != 2:
            xp = backend.xp
            lead = data.shape[:-1]
            rows = xp.reshape(data, (math.prod(lead), data.shape[-1]))
            return _new(xp.reshape(_linear(x, kernels, rows, w, b), lead + (w.shape[0],)), backend, x._device)
        return _new(_linear(x, kernels, data, w, b), backend, x._device)

    @staticmethod
    def operands(ctx, grad):
        """What the gradients read: ``(x, weight, data, w)``, the saved input and weight (conjugated for a
        complex ``grad``; None where not saved; the weight as saved: ``weight.t()`` for :class:`_LinearAddmm` and
        :class:`_LinearMm`) and their native arrays, ``w`` as (out, in)."""
        data, w, saved_t, _, weight_first = ctx.arrays  # an operand not saved: its values are not read
        x, weight = ctx.saved_tensors[::-1] if weight_first else ctx.saved_tensors
        if grad.dtype.is_complex:  # conjugate Wirtinger gradients: grad @ conj(w), grad^T @ conj(x)
            x, weight = _conj(x), _conj(weight)
        if x is not None:
            data = x._data
        if weight is not None:
            w = grad._backend.xp.permute_dims(weight._data, (1, 0)) if saved_t else weight._data
        return x, weight, data, w

    @staticmethod
    def gradients(ctx, grad, needs_b, needs_x, needs_w, transposed):
        """The gradients of ``(bias, x, weight)``, those wanted, from differentiable tensor operations; the
        weight's as ``weight.t()``'s where ``transposed``. ``x``'s takes ``grad``'s batch shape (rows, from a
        ``view`` node of PyTorch's graph)."""
        x, weight, data, w = _Linear.operands(ctx, grad)
        if weight is not None and ctx.arrays[2]:  # the saved weight.t(): the weight, (out, in)
            weight = weight.t()
        backend = grad._backend
        count = math.prod(data.shape[:-1])
        grad_rows = grad.reshape(count, w.shape[0])
        # PyTorch's mm makes the gradient of a column-major input (or of weight.t()) column-major too
        if needs_x and data.ndim == 2 and _column_major(backend, data):
            grad_x = weight.mT.matmul(grad.mT).mT
        else:
            grad_x = grad.matmul(weight) if needs_x else None
        grad_w = None
        if needs_w:
            rows = x.reshape(count, data.shape[-1])
            grad_w = grad_rows.t().matmul(rows) if backend.is_row_major(w) else rows.t().matmul(grad_rows).t()
            grad_w = grad_w.t() if transposed else grad_w
        return grad_rows.sum(0) if needs_b else None, grad_x, grad_w

    @staticmethod
    def native_gradients(ctx, grad, needs_b, needs_x, needs_w, transposed):
        """:meth:`gradients` on native arrays, with the backend's ``linear_backward``: the same bits and layouts."""
        _, _, data, w = _Linear.operands(ctx, grad)
        backend, g = grad._backend, grad._data
        xp = backend.xp
        input_shape = (*g.shape[:-1], data.shape[-1])
        rows = data.ndim == 2
        if not rows:
            count = math.prod(data.shape[:-1])
            g = xp.reshape(g, (count, w.shape[0]))
            data = xp.reshape(data, (count, data.shape[-1]))
        grad_x, grad_w, grad_b = backend.kernels.linear_backward(g, data, w, needs_x, needs_w, needs_b)
        if grad_x is not None and not rows:
            grad_x = xp.reshape(grad_x, input_shape)
        elif grad_x is not None and _column_major(backend, data):
            # PyTorch's mm makes the gradient of a column-major (transposed) input column-major too
            grad_x = _transposed_copy(backend, grad_x)
        if grad_w is not None:
            if not backend.is_row_major(w):  # the gradient of weight.t() likewise
                grad_w = _transposed_copy(backend, grad_w)
            if transposed:
                grad_w = xp.permute_dims(grad_w, (1, 0))
        return grad_b, grad_x, grad_w


class _FoldedLinear(_Linear):
    """:class:`_Linear` of a weight matrix: its node stands for PyTorch's nodes of ``linear`` (:class:`_FoldedNode`)."""

    _node_base = _FoldedNode
    _backward_name = "AddmmBackward0"  # of a matrix with a bias; named otherwise (_LAST_NODE) until unfolded


class _LinearAddmm(_Linear):
    """``addmm(bias, x, weight_t, beta=1, alpha=1)`` of a matrix ``x`` and a weight's ``t()``, as PyTorch's
    ``linear`` calls it (its scalars are there for the profiler's record of the op's operands)."""

    _backward_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, bias, x, weight_t, beta, alpha):
        w = weight_t._backend.xp.permute_dims(weight_t._data, (1, 0))
        return _Linear.run(ctx, bias, x, weight_t, w, *ctx.needs_input_grad[1:3])

    @staticmethod
    def backward(ctx, grad):
        return (*_Linear.gradients(ctx, grad, *ctx.needs_input_grad[:3], transposed=True), None, None)

    @staticmethod
    def _native_backward(ctx, grad):
        return (*_Linear.native_gradients(ctx, grad, *ctx.needs_input_grad[:3], transposed=True), None, None)


class _LinearMm(_Linear):
    """``mm(x, weight_t)`` of a matrix ``x`` and a weight's ``t()``, as PyTorch's ``linear`` without a bias
    calls it."""

    _backward_name = "MmBackward0"

    @staticmethod
    def forward(ctx, x, weight_t):
        w = weight_t._backend.xp.permute_dims(weight_t._data, (1, 0))
        return _Linear.run(ctx, None, x, weight_t, w, *ctx.needs_input_grad[:2], weight_first=True)

    @staticmethod
    def backward(ctx, grad):
        return _Linear.gradients(ctx, grad, False, *ctx.needs_input_grad[:2], transposed=True)[1:]

    @staticmethod
    def _native_backward(ctx, grad):
        return _Linear.native_gradients(ctx, grad, False, *ctx.needs_input_grad[:2], transposed=True)[1:]


class _WeightT(_T):
    """The node of ``weight.t()`` that :func:`_unfold` records: its backward transposes the gradient
    (a view of the array, no op where no graph of the backward is recorded)."""

    _backward_name = "TBackward0"

    @staticmethod
    def backward(ctx, grad):
        return grad.t(), None

    @staticmethod
    def _native_backward(ctx, grad):
        return grad._backend.xp.permute_dims(grad._data, (1, 0)), None


class _ViewRows(_View):
    """The node of a ``view`` between a batch and its rows that :func:`_unfold` records: its backward
    reshapes the gradient to ``ctx.shape`` (the array's reshape where no graph of the backward is recorded)."""

    _backward_name = "ViewBackward0"

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape), None, None

    @staticmethod
    def _native_backward(ctx, grad):
        return grad._backend.xp.reshape(grad._data, ctx.shape), None, None


class _UnsafeViewRows(_ViewRows):
    """``_unsafe_view`` of ``mm``'s rows back to the batch (matmul's), as :class:`_ViewRows`."""

    _backward_name = "UnsafeViewBackward0"


class _SqueezeRows(_ViewRows):
    """``squeeze_(0)`` of ``mm``'s one row back to a vector (matmul's), as :class:`_ViewRows`."""

    _backward_name = "SqueezeBackward4"


class _UnsqueezeRows(_ViewRows):
    """``unsqueeze(0)`` of a vector into ``mm``'s one row (matmul's), as :class:`_ViewRows`."""

    _backward_name = "UnsqueezeBackward0"


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
    out = tmp.matmul(x2.unsqueeze(-1)).squeeze(-1).reshape(lead + (out_features,))
    if bias is not None:  # added last, as PyTorch's (its node: AddBackward0)
        require_tensors("bilinear", ("bias",), bias, first=4)
        out = out + bias
    return out
