"""Matrix products: matmul (``@``), mm, bmm, mv, dot, addmm, outer."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .. import dtypes
from ..amp.policy import autocast_call
from ..amp.state import state as _amp
from ..amp.state import suspended as _amp_suspended
from ..autograd.function import Function, saved_reader
from ..tensor import Tensor
from ..type_names import type_name
from .dtype_support import C_NAMES, GEMM_REFUSED, TORCH_NAMES, not_implemented, refuse_limited
from .movement import broadcast_shapes, row_major
from .operands import (
    array_operands,
    broadcast_error,
    check_same_device,
    converted_factor,
    raise_broadcast_error,
    renamed,
    require_tensors,
    sum_to,
    sum_to_array,
)
from .out_argument import write_out

if TYPE_CHECKING:
    from ..types import Number

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "addmm", "addmv", "baddbmm", "outer", "ger"]


class _Matmul(Function):
    """Batched product of operands with at least two dimensions (batch dims broadcast)."""

    _saved_attributes = {"_saved_self": saved_reader(0), "_saved_mat2": saved_reader(1)}

    @staticmethod
    def forward(ctx, a, b):
        # each operand is kept only for the other's gradient, as PyTorch keeps them (an operand
        # written in place after the product then fails backward only where it is needed)
        needs_a, needs_b = ctx.needs_input_grad
        ctx.save_for_backward(a if needs_b else None, b if needs_a else None)
        ctx.shapes = (a._data.shape, b._data.shape)
        # PyTorch folds a matrix @ a batch into b.mT @ a.mT where the matrix needs a gradient (should_fold):
        # b's gradient is then a row-major (..., n, k) transposed
        ctx.b_folded = needs_b and needs_a and a.ndim == 2 and b.ndim > 2
        if needs_b and b.ndim == 2:
            ctx.b_transposed = column_major(b)
        # PyTorch's mm makes the gradient of a column-major (transposed) first matrix column-major too
        # (PyTorch folds a matrix @ a batch into b.mT @ a.mT, whose a.mT gradient is column-major but where
        # a.mT is: a's gradient is row-major only for a row-major a)
        ctx.a_transposed = (
            needs_a and a.ndim == 2 and (column_major(a) if b.ndim == 2 else not a._backend.is_row_major(a._data))
        )
        xp, x, w = a._backend.xp, a._data, b._data
        if x.ndim > 2 and w.ndim == 2:  # one matrix product, not a loop over the leading dims
            rows = _rows(x.shape)
            return a._make(xp.reshape(xp.matmul(xp.reshape(x, (rows, x.shape[-1])), w), (*x.shape[:-1], w.shape[1])))
        return a._make(xp.matmul(x, w))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        a_shape, b_shape = ctx.shapes
        if grad.dtype.is_complex:  # conjugate Wirtinger gradients: grad @ b^H and a^H @ grad
            a, b = (None if a is None else a.conj()), (None if b is None else b.conj())
        if not ctx.needs_input_grad[0]:
            ga = None
        elif ctx.a_transposed and len(b_shape) == 2:
            ga = (b @ grad.mT).mT
        elif ctx.a_transposed:
            ga = sum_to(grad @ b.mT, a_shape).mT.contiguous().mT
        else:
            ga = sum_to(grad @ b.mT, a_shape)
        gb = None
        if ctx.needs_input_grad[1]:
            if len(b_shape) == 2:  # (rows, k).T @ (rows, n) instead of a batch of products summed
                x, g = a, grad
                if a.ndim != 2:
                    rows = _rows(a.shape)
                    x, g = a.reshape(rows, a.shape[-1]), grad.reshape(rows, grad.shape[-1])
                # in b's layout: the gradient of a transposed matrix (Linear's weight.t()) is
                # made transposed, so that the weight's own gradient comes out row-major
                gb = (g.mT @ x).mT if ctx.b_transposed else x.mT @ g
            elif ctx.b_folded:
                gb = (grad.mT @ a).mT
            else:
                gb = sum_to(a.mT @ grad, b_shape)
        return ga, gb

    @staticmethod
    def _native_backward(ctx, grad):
        # the same products on native arrays
        a, b = ctx.saved_tensors
        if grad.dtype.is_complex:
            a, b = (None if a is None else a.conj()), (None if b is None else b.conj())
        return _native_matmul_backward(ctx, grad, a, b)


class _Mm(_Matmul):
    """The product of two matrices (``mm``, and ``matmul`` of two 2-D operands)."""


class _Bmm(_Matmul):
    """``bmm``: a batch of matrix products."""


def _native_matmul_backward(ctx, grad, a, b):
    """``_Matmul``'s gradients of ``a`` and ``b`` (its saved operands, conjugated for a complex ``grad``) on
    native arrays: the same products as its ``backward``."""
    xp, g = grad._backend.xp, grad._data
    a_shape, b_shape = ctx.shapes
    ga = gb = None
    if ctx.needs_input_grad[0]:
        if ctx.a_transposed and len(b_shape) == 2:
            ga = xp.permute_dims(xp.matmul(b._data, xp.permute_dims(g, (1, 0))), (1, 0))
        elif ctx.a_transposed:
            ga = sum_to_array(xp, xp.matmul(g, _swap_last(xp, b._data)), a_shape)
            ga = _swap_last(xp, row_major(grad._backend, _swap_last(xp, ga)))
        else:
            ga = sum_to_array(xp, xp.matmul(g, _swap_last(xp, b._data)), a_shape)
    if ctx.needs_input_grad[1]:
        x = a._data
        if len(b_shape) == 2:
            if x.ndim != 2:
                rows = _rows(x.shape)
                x, g = xp.reshape(x, (rows, x.shape[-1])), xp.reshape(g, (rows, g.shape[-1]))
            if ctx.b_transposed:
                product = xp.permute_dims(xp.matmul(xp.permute_dims(g, (1, 0)), x), (1, 0))
            else:
                product = xp.matmul(xp.permute_dims(x, (1, 0)), g)
            gb = product
        elif ctx.b_folded:
            gb = _swap_last(xp, xp.matmul(_swap_last(xp, g), x))
        else:
            gb = sum_to_array(xp, xp.matmul(_swap_last(xp, x), g), b_shape)
    return ga, gb


def _swap_last(xp, array):
    """``array`` with its last two axes swapped (a view)."""
    n = array.ndim
    return xp.permute_dims(array, (*range(n - 2), n - 1, n - 2))


def column_major(matrix: Tensor) -> bool:
    """Whether ``matrix`` steps as a transposed row-major matrix, strides ``(1, rows)``: PyTorch's test in
    ``mm``'s backward, which then makes the matrix's gradient column-major too."""
    backend, data = matrix._backend, matrix._data
    if backend.is_contiguous(data) and 1 not in data.shape:
        return False
    strides = backend.strides(data)
    return strides[0] == 1 and strides[1] == data.shape[0]


def _rows(shape):
    rows = 1
    for s in shape[:-1]:
        rows *= s
    return rows


#: the name of the second operand of each matrix product in PyTorch's argument parser
_SECOND_OPERAND = {"matmul": "other", "mm": "mat2", "bmm": "mat2", "mv": "vec", "dot": "tensor"}


def _check_operands(op, a, b):
    """PyTorch's errors for the operands of the matrix product ``op``: a non-tensor ("mm(): argument 'mat2'
    (position 2) must be Tensor, not str"), tensors on two devices, of two dtypes, or 0-d."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        name, position, given = ("input", 1, a) if not isinstance(a, Tensor) else (_SECOND_OPERAND[op], 2, b)
        raise TypeError(f"{op}(): argument '{name}' (position {position}) must be Tensor, not {type_name(given)}")
    if a._device is not b._device:
        check_same_device(op, a, b)
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(
            f"{op}: expected m1 and m2 to have the same dtype, but got: {C_NAMES.get(a.dtype, a.dtype.name)} != {C_NAMES.get(b.dtype, b.dtype.name)}"
        )
    if not a._data.shape or not b._data.shape:
        raise RuntimeError(f"{op}: both arguments need to be at least 1D, but they are {a.ndim}D and {b.ndim}D")


def _is_sparse(x):
    """Whether ``x`` (not a dense tensor) is a sparse tensor, COO or compressed."""
    layout = getattr(x, "layout", None)
    return layout is not None and getattr(layout, "name", "strided").startswith("sparse")


def _inner_size_error(sa: tuple[int, ...], sb: tuple[int, ...]) -> RuntimeError:
    """PyTorch's error for ``matmul`` operands of shapes ``sa`` and ``sb`` whose inner sizes differ: that of
    the op its matmul runs, ``dot`` of two vectors, ``mv`` or ``mm`` of the first operand folded into a matrix
    (a vector as one row), else ``bmm`` of the broadcast batches (batches that do not broadcast: that error)."""
    na, nb = len(sa), len(sb)
    if na == 1 == nb:
        return RuntimeError(
            f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to have the same number of "
            f"elements, but got {sa[0]} and {sb[0]} elements respectively"
        )
    rows = math.prod(sa[:-1])
    if nb == 1:
        return RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{sa[-1]}), vec ({sb[0]})")
    if nb == 2:
        return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{sa[-1]} and {sb[0]}x{sb[1]})")
    error = broadcast_error(sa[:-2], sb[:-2])
    if error is not None:
        return error
    batches = math.prod(broadcast_shapes(sa[:-2], sb[:-2]))
    return RuntimeError(
        f"Expected size for first two dimensions of batch2 tensor to be: [{batches}, {sa[-1]}] but got: "
        f"[{batches}, {sb[-2]}]."
    )


def matmul(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Matrix product with NumPy/PyTorch semantics for 1-D operands and broadcast batches.

    Example::

        >>> (ember.ones(2, 3) @ ember.ones(3)).tolist()
        [3.0, 3.0]
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overload only
            result = matmul(input, other)
        return write_out("matmul", result, out, exact_dtype=True)
    if type(input) is not Tensor and _is_sparse(input):
        return input @ other
    if type(other) is not Tensor and _is_sparse(other) and isinstance(input, Tensor):
        return other.__rmatmul__(input)  # dense @ sparse
    if _amp.active:
        return autocast_call("matmul", matmul, input, other)
    return _matmul(input, other)


def _matmul(a: Tensor, b: Tensor, node: type[_Matmul] | None = None) -> Tensor:
    """:func:`matmul` after autocast; ``node``: the op's node class where it is not ``matmul``'s (``bmm``)."""
    _check_operands("matmul", a, b)
    sa, sb = a._data.shape, b._data.shape
    na, nb = len(sa), len(sb)
    if sa[-1] != sb[-2 if nb > 1 else 0]:
        raise _inner_size_error(tuple(sa), tuple(sb))
    kernel = "dot" if na == 1 == nb else "addmv_impl_cpu" if nb == 1 else "addmm_impl_cpu_" if nb == 2 else "bmm"
    if a.dtype is dtypes.bool:  # PyTorch has no bool GEMM: the kernel its matmul would call refuses
        not_implemented(kernel, a.dtype)
    if a.dtype in dtypes.limited_dtypes:  # of uint16/32/64 and float8, PyTorch multiplies float8 matrices only
        refuse_limited(kernel, a, among=GEMM_REFUSED if kernel == "addmm_impl_cpu_" else dtypes.limited_dtypes)
    if na == 1 and nb == 1:
        return _Matmul.apply(a.unsqueeze(0), b.unsqueeze(1)).reshape(())
    if na == 1:
        return _Matmul.apply(a.unsqueeze(0), b).squeeze(-2)
    if nb == 1:
        return _Matmul.apply(a, b.unsqueeze(1)).squeeze(-1)
    if node is None:
        node = _Mm if na == 2 == nb else _Matmul
    try:
        return node.apply(a, b)
    except Exception as exc:  # the backend's error for batch dimensions that do not broadcast
        raise_broadcast_error(exc, sa[:-2], sb[:-2])


def mm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Product of two matrices ``(n, m) @ (m, p)`` (``input`` may be sparse COO: :func:`ember.sparse.mm`).

    .. math::
        out = input @ mat2

    Args:
        input (Tensor): the first matrix, ``(n, m)``.
        mat2 (Tensor): the second matrix, ``(m, p)``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.mm(ember.tensor([[1.0, 2.0], [3.0, 4.0]]), ember.tensor([[1.0], [1.0]]))
        tensor([[3.],
                [7.]])
    """
    refuse_limited("addmm_impl_cpu_", input, among=GEMM_REFUSED)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overload only
            result = mm(input, mat2)
        return write_out("mm", result, out, exact_dtype=True)
    if (type(input) is not Tensor and _is_sparse(input)) or (type(mat2) is not Tensor and _is_sparse(mat2)):
        return input @ mat2  # a sparse operand computes the product (dense @ sparse: its __rmatmul__)
    if _amp.active:
        return autocast_call("mm", mm, input, mat2)
    _check_operands("mm", input, mat2)
    if input.ndim != 2:
        raise RuntimeError(f"self must be a matrix, got {input.ndim}-D tensor")
    if mat2.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {mat2.ndim}-D tensor")
    return matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Batched product ``(b, n, m) @ (b, m, p)`` without broadcasting.

    .. math::
        out_b = input_b @ mat2_b

    Args:
        input (Tensor): the first batch of matrices, ``(b, n, m)``.
        mat2 (Tensor): the second batch, ``(b, m, p)``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.bmm(ember.ones(4, 2, 3), ember.ones(4, 3, 5)).shape
        ember.Size([4, 2, 5])
        >>> ember.bmm(ember.tensor([[[1.0, 2.0]]]), ember.tensor([[[3.0], [4.0]]]))
        tensor([[[11.]]])
    """
    refuse_limited("bmm", input)
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overload only
            result = bmm(input, mat2)
        return write_out("bmm", result, out, exact_dtype=True)
    if _amp.active:
        return autocast_call("bmm", bmm, input, mat2)
    _check_operands("bmm", input, mat2)
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor (got {input.ndim}D and {mat2.ndim}D)")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{input.shape[0]}, {input.shape[2]}] "
            f"but got: [{mat2.shape[0]}, {mat2.shape[1]}]."
        )
    return _matmul(input, mat2, _Bmm)


def mv(input: Tensor, vec: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Matrix-vector product ``(n, m) @ (m,)``.

    .. math::
        out = input @ vec

    Args:
        input (Tensor): the matrix, ``(n, m)``.
        vec (Tensor): the vector, ``(m,)``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.mv(ember.tensor([[1.0, 2.0], [3.0, 4.0]]), ember.tensor([1.0, 0.5]))
        tensor([2., 5.])
    """
    if type(input) is not Tensor and _is_sparse(input):
        return input.mv(vec)
    refuse_limited("addmv_impl_cpu", input)
    if out is not None:
        return write_out("mv", mv(input, vec), out, exact_dtype=True)
    if _amp.active:
        return autocast_call("mv", mv, input, vec)
    _check_operands("mv", input, vec)
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, {vec.ndim}")
    return matmul(input, vec)


def dot(input: Tensor, tensor: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Inner product of two 1-D tensors.

    .. math::
        out = sum_i input_i * tensor_i

    Args:
        input (Tensor): the first 1-D tensor.
        tensor (Tensor): the second 1-D tensor, of the same length.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.dot(ember.tensor([2.0, 3.0]), ember.tensor([2.0, 1.0]))
        tensor(7.)
    """
    refuse_limited("dot", input)
    if out is not None:
        return write_out("dot", dot(input, tensor), out, exact_dtype=True)
    if _amp.active:  # one product, not matmul's policy (cpu leaves dot alone, cuda promotes)
        return autocast_call("dot", dot, input, tensor)
    if isinstance(input, Tensor) and isinstance(tensor, Tensor):  # PyTorch's dot checks the dims, then the dtypes
        if input.ndim != 1 or tensor.ndim != 1:
            raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {tensor.ndim}D tensors")
        if input.dtype is not tensor.dtype:
            raise RuntimeError(
                "dot : expected both vectors to have same dtype, but found "
                f"{TORCH_NAMES[input.dtype]} and {TORCH_NAMES[tensor.dtype]}"
            )
    _check_operands("dot", input, tensor)
    if input.ndim != 1 or tensor.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {tensor.ndim}D tensors")
    if input.shape[0] != tensor.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src [{tensor.shape[0]}] "
            "to have the same number of elements, but got "
            f"{input.shape[0]} and {tensor.shape[0]} elements respectively"
        )
    return matmul(input, tensor)


def vdot(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Inner product of two 1-D tensors, conjugating the first (the same as :func:`dot` for real tensors).

    .. math::
        out = sum_i conj(input_i) * other_i

    Args:
        input (Tensor): the first 1-D tensor, conjugated.
        other (Tensor): the second 1-D tensor, of the same length.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.vdot(ember.tensor([1j, 2.0]), ember.tensor([1j, 1.0]))
        tensor(3.+0.j)
    """
    refuse_limited("dot", input)
    if out is not None:
        return write_out("vdot", vdot(input, other), out, exact_dtype=True)
    if isinstance(input, Tensor) and input.dtype.is_complex:
        input = input.conj()
    return dot(input, other)


def inner(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Sum of products over the last dimension of both tensors.

    Args:
        input (Tensor): the first tensor.
        other (Tensor): the second tensor; its last dimension matches ``input``'s.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.inner(ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0]))
        tensor(11.)
        >>> ember.inner(ember.tensor([[1.0, 2.0], [0.0, 1.0]]), ember.tensor([3.0, 4.0]))
        tensor([11.,  4.])
    """
    refuse_limited("dot", input)
    require_tensors("inner", ("input", "other"), input, other)
    if out is not None:
        return write_out("inner", inner(input, other), out, exact_dtype=True)
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if _amp.active and input.ndim == 1 and other.ndim == 1:  # PyTorch's 1-D inner is a dot, not an mm
        return autocast_call("dot", inner, input, other)
    return matmul(input, other.mT if other.ndim > 1 else other)


def scale_by(t, factor):
    """``factor * t`` as PyTorch's addmm family scales: an integer ``t`` by ``int(factor)``, a bool
    ``t`` kept where ``factor`` is non-zero (the type of ``t`` is kept either way)."""
    factor = converted_factor(factor, t.dtype)
    if factor == 1:
        return t
    if not (t.dtype.is_floating_point or t.dtype.is_complex):
        if t.dtype is dtypes.bool:
            return t if factor else t.new_zeros(t.shape)
        factor = int(factor)
    return t * factor


def check_added_dtype(op, input, a, b):
    """PyTorch refuses an added ``input`` of another dtype than the product's factors (it promotes nothing)."""
    if not (isinstance(input, Tensor) and isinstance(a, Tensor) and isinstance(b, Tensor)):
        return
    if input.dtype is a.dtype and a.dtype is b.dtype:
        return
    names = (TORCH_NAMES[input.dtype], TORCH_NAMES[a.dtype], TORCH_NAMES[b.dtype])
    if op == "addmv":
        raise RuntimeError(
            f"addmv input tensors must have the same dtype, but got {', '.join(names[:2])}, and {names[2]}"
        )
    if op == "baddbmm":
        if a.ndim == 3 and b.ndim == 3:  # shapes are checked first
            raise RuntimeError(
                f"Input dtypes must be the same, got: input {C_NAMES[input.dtype]}, batch1: {C_NAMES[a.dtype]}, "
                f"batch2: {C_NAMES[b.dtype]}"
            )
        return
    if a.dtype is not b.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {names[1]} and {names[2]}")
    raise RuntimeError(f"self and mat2 must have the same dtype, but got {names[0]} and {names[2]}")


def _add_scaled_product(op, product, input, a, b, beta, alpha):
    """``beta * input + alpha * product(a, b)``: the body of addmm, addmv and baddbmm (autocast first)."""
    if _amp.active:
        return autocast_call(op, _add_scaled_product, op, product, input, a, b, beta, alpha)
    check_added_dtype(op, input, a, b)
    narrow = a.dtype
    if narrow in dtypes.narrow_float and input.dtype is narrow and b.dtype is narrow:
        # PyTorch adds into the product's float32 accumulator and rounds once
        return _add_scaled_product(op, product, input.float(), a.float(), b.float(), beta, alpha).to(narrow)
    out = scale_by(product(a, b), alpha)
    if not (out.dtype.is_floating_point or out.dtype.is_complex) and out.dtype is not dtypes.bool:
        beta = int(converted_factor(beta, out.dtype))
    return out + scale_by(input, beta) if beta != 0 else out


def addmm(
    input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Number = 1, alpha: Number = 1, out: Tensor | None = None
) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)``.

    .. math::
        out = beta * input + alpha * (mat1 @ mat2)

    Args:
        input (Tensor): the matrix to add, broadcast to ``(n, p)``.
        mat1 (Tensor): the first matrix, ``(n, m)``.
        mat2 (Tensor): the second matrix, ``(m, p)``.
        beta (Number): the multiplier of ``input``. Default: ``1``.
        alpha (Number): the multiplier of the product. Default: ``1``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.addmm(ember.ones(2, 2), ember.tensor([[1.0, 2.0], [3.0, 4.0]]), ember.eye(2), beta=0.5, alpha=2)
        tensor([[2.5000, 4.5000],
                [6.5000, 8.5000]])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overload only
            result = addmm(input, mat1, mat2, beta=beta, alpha=alpha)
        return write_out("addmm", result, out, exact_dtype=True, inputs=(input,))
    return _add_scaled_product("addmm", mm, input, mat1, mat2, beta, alpha)


def addmv(
    input: Tensor, mat: Tensor, vec: Tensor, *, beta: Number = 1, alpha: Number = 1, out: Tensor | None = None
) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``.

    .. math::
        out = beta * input + alpha * (mat @ vec)

    Args:
        input (Tensor): the vector to add, broadcast to ``(n,)``.
        mat (Tensor): the matrix, ``(n, m)``.
        vec (Tensor): the vector, ``(m,)``.
        beta (Number): the multiplier of ``input``. Default: ``1``.
        alpha (Number): the multiplier of the product. Default: ``1``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.addmv(ember.tensor([1.0, 1.0]), ember.tensor([[1.0, 2.0], [3.0, 4.0]]), ember.tensor([1.0, 0.5]))
        tensor([3., 6.])
    """
    if out is not None:
        return write_out(
            "addmv", addmv(input, mat, vec, beta=beta, alpha=alpha), out, exact_dtype=True, inputs=(input,)
        )
    return _add_scaled_product("addmv", mv, input, mat, vec, beta, alpha)


def baddbmm(
    input: Tensor,
    batch1: Tensor,
    batch2: Tensor,
    *,
    beta: Number = 1,
    alpha: Number = 1,
    out: Tensor | None = None,
) -> Tensor:
    """``beta * input + alpha * (batch1 @ batch2)``.

    .. math::
        out_b = beta * input_b + alpha * (batch1_b @ batch2_b)

    Args:
        input (Tensor): the tensor to add, broadcast to ``(b, n, p)``.
        batch1 (Tensor): the first batch of matrices, ``(b, n, m)``.
        batch2 (Tensor): the second batch, ``(b, m, p)``.
        beta (Number): the multiplier of ``input``. Default: ``1``.
        alpha (Number): the multiplier of the product. Default: ``1``.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.baddbmm(ember.zeros(2, 1, 1), ember.ones(2, 1, 3), ember.ones(2, 3, 1), alpha=2).shape
        ember.Size([2, 1, 1])
        >>> ember.baddbmm(ember.ones(1), ember.ones(1, 1, 2), ember.ones(1, 2, 1))
        tensor([[[3.]]])
    """
    if out is not None:
        with _amp_suspended():  # PyTorch autocasts the plain overload only
            result = baddbmm(input, batch1, batch2, beta=beta, alpha=alpha)
        return write_out("baddbmm", result, out, exact_dtype=True, inputs=(input,))
    if isinstance(batch1, Tensor) and batch1.dtype is dtypes.bool:
        not_implemented("baddbmm", batch1.dtype)
    return _add_scaled_product("baddbmm", bmm, input, batch1, batch2, beta, alpha)


def outer(input: Tensor, vec2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The outer product of two 1-D tensors (``ger`` is the older name of ``outer``).

    .. math::
        out_{ij} = input_i * vec2_j

    Args:
        input (Tensor): the first 1-D tensor.
        vec2 (Tensor): the second 1-D tensor.
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.outer(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 10.0, 100.0]))
        tensor([[  1.,  10., 100.],
                [  2.,  20., 200.]])
    """
    require_tensors("outer", ("input", "vec2"), input, vec2)
    if out is not None:
        return write_out(  # PyTorch's mul of input as a column by vec2
            "outer", outer(input, vec2), out, inputs=(input.reshape(-1, 1) if input.ndim == 1 else input, vec2)
        )
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: expected 1D tensors, got {input.ndim}D and {vec2.ndim}D")
    return input.unsqueeze(1) * vec2.unsqueeze(0)


ger = renamed(outer, "ger")


def _matmul_operator(self, other):
    if type(other) is not Tensor:  # a dense tensor is neither sparse nor a NumPy array
        if _is_sparse(other):
            return NotImplemented  # the sparse operand's __rmatmul__ computes dense @ sparse
        operands = array_operands(self, other)
        if operands is not None:
            return matmul(operands[0], operands[1])
    return matmul(self, other)


def _rmatmul_operator(self, other):
    """``other @ self``."""
    operands = array_operands(self, other)
    return matmul(other, self) if operands is None else matmul(operands[1], operands[0])
