"""Matrix helpers: diag, diagonal, diag_embed, trace, tril, triu, einsum, tensordot, kron, cross.

All are composites of differentiable ops (indexing, masking, permutes, products and
sums), so gradients and double backward come from those ops.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from .. import dtypes
from ..amp.policy import cast_inputs
from ..amp.state import state as _amp
from ..amp.state import suspended as _amp_suspended
from ..tensor import Tensor
from ..type_names import type_name
from .arithmetic import where
from .comparison import _TORCH_NAMES
from .creation import arange, zeros
from .dtype_support import not_implemented, refuse_limited
from .movement import broadcast_tensors, cat, stack
from .operands import broadcast_error, check_same_device, named_node, numpy_names, wrap_dim
from .out_argument import write_out
from .strided import as_strided

__all__ = ["diag", "diagonal", "diag_embed", "trace", "tril", "triu", "einsum", "tensordot", "kron", "cross"]


def _check_tensor(op, value, name="input"):
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position 1) must be Tensor, not {type_name(value)}")


def _index(n, start, like):
    return arange(start, start + n, dtype=dtypes.int64, device=like._device)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of ``input`` in the plane of ``dim1`` and ``dim2``, as a new last dimension.

    Args:
        input (Tensor): at least 2-D.
        offset (int, optional): which diagonal: 0 the main one, > 0 above it, < 0 below. Default: 0
        dim1 (int, optional): first dimension of the plane. Default: 0
        dim2 (int, optional): second dimension of the plane. Default: 1

    Example::

        >>> ember.diagonal(ember.arange(9.0).reshape(3, 3), 1)
        tensor([1., 5.])
    """
    _check_tensor("diagonal", input)
    a, b = wrap_dim(dim1, input.ndim), wrap_dim(dim2, input.ndim)
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n1, n2 = input.shape[a], input.shape[b]
    r0, c0 = max(0, -offset), max(0, offset)
    length = max(0, min(n1 - r0, n2 - c0))
    strides, storage_offset = input._backend.layout(input._data)
    empty = not length or 0 in input.shape  # (a slice of no elements would not step as PyTorch's view)
    if empty or (n1 > 1 and n2 > 1 and strides[a] != n2 * strides[b]):  # or the plane does not flatten so
        if not empty and strides[b] == n1 * strides[a]:  # it flattens with the dims swapped: the offset negated
            return diagonal(input, -offset, b, a)
        keep = [d for d in range(input.ndim) if d not in (a, b)]
        start = storage_offset + (r0 * strides[a] + c0 * strides[b] if length else 0)  # (PyTorch's, even empty)
        try:  # a view, as in PyTorch, where the backend has strided views
            return as_strided(
                input,
                [input.shape[d] for d in keep] + [length],
                [strides[d] for d in keep] + [strides[a] + strides[b]],
                start,
            )
        except NotImplementedError:
            pass
    moved = input.movedim((a, b), (-2, -1))
    # every (n2 + 1)-th element of the flattened plane from (r0, c0): a strided slice, so a view of
    # ``input`` (an in-place write reaches it, as in PyTorch) wherever the plane flattens without a copy
    flat = moved.reshape(*moved.shape[:-2], n1 * n2)
    start = r0 * n2 + c0 if length else 0
    return flat[..., start : start + (length - 1) * (n2 + 1) + 1 if length else 0 : n2 + 1]


def _embed_last(input, offset):
    """(..., n) -> (..., m, m) with the values on diagonal ``offset`` (m = n + |offset|)."""
    n, k = input.shape[-1], abs(offset)
    eye = _index(n, 0, input).unsqueeze(-1) == _index(n, 0, input)
    out = where(eye, input.unsqueeze(-1), zeros((), dtype=input.dtype, device=input._device))  # keeps bool bool
    if not k:
        return out
    lead = tuple(input.shape[:-1])
    side = zeros(*lead, n, k, dtype=input.dtype, device=input._device)
    band = zeros(*lead, k, n + k, dtype=input.dtype, device=input._device)
    if offset > 0:
        return _cat2(_cat2(side, out, -1), band, -2)
    return _cat2(band, _cat2(out, side, -1), -2)


def _cat2(a, b, dim):
    return cat([a, b], dim)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """A tensor whose diagonals (in the plane of ``dim1``, ``dim2``) are the last dimension of ``input``.

    Args:
        input (Tensor): at least 1-D.
        offset (int, optional): which diagonal to fill. Default: 0
        dim1 (int, optional): first dimension of the plane, in the output. Default: -2
        dim2 (int, optional): second dimension of the plane, in the output. Default: -1

    Example::

        >>> ember.diag_embed(ember.tensor([1.0, 2.0])).shape
        ember.Size([2, 2])
    """
    _check_tensor("diag_embed", input)
    ndim = input.ndim + 1
    a, b = wrap_dim(dim1, ndim), wrap_dim(dim2, ndim)
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return _embed_last(input, offset).movedim((-2, -1), (a, b))


def diag(input: Tensor, diagonal: int = 0, *, out: Tensor | None = None) -> Tensor:
    """A 1-D input becomes a 2-D matrix with it on diagonal ``diagonal``; a 2-D input gives that diagonal.

    Args:
        input (Tensor): 1-D or 2-D.
        diagonal (int, optional): 0 the main diagonal, > 0 above, < 0 below. Default: 0
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.diag(ember.tensor([1.0, 2.0]))
        tensor([[1., 0.],
                [0., 2.]])
    """
    if out is not None:
        return write_out("diag", diag(input, diagonal), out, exact_dtype=True)
    _check_tensor("diag", input)
    if input.ndim == 1:
        return _embed_last(input, diagonal)
    if input.ndim == 2:  # a copy, as PyTorch's diag (diagonal is the view)
        return globals()["diagonal"](input, diagonal).clone()
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a 2-D matrix (integers sum in int64).

    .. math::
        out = sum_i input_{ii}

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> ember.trace(ember.tensor([[1.0, 2.0], [3.0, 4.0]]))
        tensor(5.)
        >>> ember.trace(ember.arange(6).reshape(2, 3))
        tensor(4)
    """
    refuse_limited("trace", input)
    _check_tensor("trace", input)
    if input.dtype is dtypes.bool:
        not_implemented("trace", input.dtype)
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    if _amp.active:
        (input,) = cast_inputs("trace", input)
    return named_node(diagonal(input).sum(), "TraceBackward0")


def _triangle(op, input, diagonal, lower):
    _check_tensor(op, input)
    if input.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions")
    rows, cols = input.shape[-2], input.shape[-1]
    offset = _index(cols, 0, input) - _index(rows, 0, input).unsqueeze(-1)
    keep = offset <= diagonal if lower else offset >= diagonal
    return input.masked_fill(keep.logical_not(), 0)


def tril(input: Tensor, diagonal: int = 0, *, out: Tensor | None = None) -> Tensor:
    """The lower triangle of the last two dimensions (elements with ``col - row <= diagonal``); others are 0.

    Args:
        input (Tensor): at least 2-D.
        diagonal (int, optional): which diagonal bounds the triangle. Default: 0
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> x = ember.ones(3, 3)
        >>> ember.tril(x)
        tensor([[1., 0., 0.],
                [1., 1., 0.],
                [1., 1., 1.]])
        >>> ember.tril(x, diagonal=-1)
        tensor([[0., 0., 0.],
                [1., 0., 0.],
                [1., 1., 0.]])
    """
    refuse_limited("tril", input)
    if out is not None:
        return write_out("tril", tril(input, diagonal), out, exact_dtype=True)
    return named_node(_triangle("tril", input, diagonal, True), "TrilBackward0")


def triu(input: Tensor, diagonal: int = 0, *, out: Tensor | None = None) -> Tensor:
    """The upper triangle of the last two dimensions (elements with ``col - row >= diagonal``); others are 0.

    Args:
        input (Tensor): at least 2-D.
        diagonal (int, optional): which diagonal bounds the triangle. Default: 0
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> x = ember.ones(3, 3)
        >>> ember.triu(x)
        tensor([[1., 1., 1.],
                [0., 1., 1.],
                [0., 0., 1.]])
        >>> ember.triu(x, diagonal=1)
        tensor([[0., 1., 1.],
                [0., 0., 1.],
                [0., 0., 0.]])
    """
    refuse_limited("triu", input)
    if out is not None:
        return write_out("triu", triu(input, diagonal), out, exact_dtype=True)
    return named_node(_triangle("triu", input, diagonal, False), "TriuBackward0")


# -- einsum ----------------------------------------------------------------------------------
# PyTorch's checks, in its order and words: the operands' subscripts (left of "->", the equation's byte
# index naming a bad one), their counts against the operands' dimensions, the output's subscripts, and then,
# operand by operand and dimension by dimension, the sizes (a repeated subscript takes the diagonal there).
_ELLIPSIS = "..."


def _operand_labels(lhs: bytes, num_ops: int) -> list[list[str]]:
    """Each operand's subscripts as written in ``lhs`` (the equation left of "->"): letters and ``"..."``."""
    labels: list[list[str]] = [[] for _ in range(num_ops)]
    current, ellipsis_found, i = 0, False, 0
    while i < len(lhs):
        ch = chr(lhs[i])
        if ch == ".":
            if ellipsis_found:
                raise RuntimeError(f"einsum(): found '.' for operand {current} for which an ellipsis was already found")
            if not (i + 2 < len(lhs) and lhs[i + 1 : i + 3] == b".."):
                raise RuntimeError(f"einsum(): found '.' for operand {current} that is not part of any ellipsis")
            labels[current].append(_ELLIPSIS)
            ellipsis_found, i = True, i + 2
        elif ch == ",":
            current += 1
            if current >= num_ops:
                raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
            ellipsis_found = False
        elif ch.isascii() and ch.isalpha():
            labels[current].append(ch)
        elif ch != " ":
            raise RuntimeError(
                f"einsum(): invalid subscript given at index {i} in the equation string, subscripts must be in [a-zA-Z]"
            )
        i += 1
    if current != num_ops - 1:
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    return labels


def _ellipsis_dims(operands: Sequence[Tensor], labels: list) -> int:
    """The most dimensions an ellipsis covers; checks each operand's subscripts against its dimensions."""
    widest = 0
    for i, (t, labs) in enumerate(zip(operands, labels)):
        letters = len(labs) - (_ELLIPSIS in labs)
        if _ELLIPSIS in labs:
            widest = max(widest, t.ndim - letters)
            if letters > t.ndim:
                raise RuntimeError(
                    f"einsum(): the number of subscripts in the equation ({letters}) is more than the number of "
                    f"dimensions ({t.ndim}) for operand {i}"
                )
        elif letters != t.ndim:
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({letters}) does not match the number "
                f"of dimensions ({t.ndim}) for operand {i} and no ellipsis was given"
            )
    return widest


def _output_labels(rhs: bytes | None, at: int, labels: list, ellipsis: list) -> list:
    """The output's labels: those of ``rhs`` (right of "->", which starts at byte ``at``), or, with no "->", the
    ellipsis's and then the subscripts that appear once, in PyTorch's order (upper case first)."""
    counts: dict[str, int] = {}
    for labs in labels:
        for lab in labs:
            counts[lab] = counts.get(lab, 0) + 1
    if rhs is None:
        return ellipsis + sorted(lab for lab, c in counts.items() if c == 1 and lab != _ELLIPSIS)
    output: list = []
    ellipsis_found, i = False, 0
    while i < len(rhs):
        ch = chr(rhs[i])
        if ch == ".":
            if ellipsis_found:
                raise RuntimeError("einsum(): found '.' for output but an ellipsis (...) was already found")
            if not (i + 2 < len(rhs) and rhs[i + 1 : i + 3] == b".."):
                raise RuntimeError("einsum(): found '.' for output that is not part of any ellipsis (...)")
            output += ellipsis
            ellipsis_found, i = True, i + 2
        elif ch.isascii() and ch.isalpha():
            if ch in output:
                raise RuntimeError(f"einsum(): output subscript {ch} appears more than once in the output")
            if ch not in counts:
                raise RuntimeError(
                    f"einsum(): output subscript {ch} does not appear in the equation for any input operand"
                )
            output.append(ch)
        elif ch != " ":
            raise RuntimeError(
                f"einsum(): invalid subscript given at index {at + i} in the equation string, subscripts must be "
                "in [a-zA-Z]"
            )
        i += 1
    return output


def _checked_operand(operand, labs, index, widest, sizes):
    """Operand ``index`` with one dimension per distinct label (a repeated subscript's diagonal where it first
    appears), and those labels; its sizes must broadcast with ``sizes``, the sizes other than 1 seen so far
    (label -> size, an ellipsis dimension's label ``("...", j)``), which it updates."""
    distinct: list = []
    dim, covered = 0, operand.ndim - (len(labs) - 1)  # the dimensions an ellipsis covers, if any
    for lab in labs:
        if lab == _ELLIPSIS:
            for j in range(widest - covered, widest):
                size = operand.shape[dim]
                if size != 1:
                    if sizes.get(("...", j), 1) not in (1, size):  # (PyTorch's message lacks the space before "has")
                        raise RuntimeError(
                            f"einsum(): dimension {dim} covered by ellipsis in operand {index}has size {size} which "
                            f"does not broadcast with previously seen ellipsis with size {sizes[('...', j)]} for the "
                            "respective dimension"
                        )
                    sizes["...", j] = size
                distinct.append(("...", j))
                dim += 1
        elif lab not in distinct:
            size = operand.shape[dim]
            if size != 1:
                if sizes.get(lab, 1) not in (1, size):
                    raise RuntimeError(
                        f"einsum(): subscript {lab} has size {size} for operand {index} which does not broadcast "
                        f"with previously seen size {sizes[lab]}"
                    )
                sizes[lab] = size
            distinct.append(lab)
            dim += 1
        else:
            before = distinct.index(lab)
            if operand.shape[dim] != operand.shape[before]:
                raise RuntimeError(
                    f"einsum(): subscript {lab} is repeated for operand {index} but the sizes don't match, "
                    f"{operand.shape[dim]} != {operand.shape[before]}"
                )
            operand = diagonal(operand, 0, before, dim).movedim(-1, before)
    return operand, distinct


def _sublist_label(n: Any) -> str:
    if n is Ellipsis:
        return "..."
    if 0 <= n < 26:
        return chr(ord("A") + n)
    if 26 <= n < 52:
        return chr(ord("a") + n - 26)
    raise ValueError("einsum(): subscript in subscript list is not within the valid range [0, 52)")


def _sublist_equation(args: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
    """The equation and operands of the sublist form ``(op0, sublist0, op1, sublist1, ..., [out])``:
    integers 0-25 are the labels ``A``-``Z``, 26-51 ``a``-``z``, ``...`` (Ellipsis) broadcast dims."""
    equation = ",".join("".join(_sublist_label(n) for n in labels) for labels in args[1::2])
    if len(args) % 2 == 1:
        return equation + "->" + "".join(_sublist_label(n) for n in args[-1]), tuple(args[:-1:2])
    return equation, tuple(args[::2])


def einsum(equation: str | Tensor, *operands: Any) -> Tensor:
    """Sum of products of ``operands`` over the indices of ``equation`` (Einstein notation).

    ``"ij,jk->ik"`` is a matrix product, ``"ii"`` a trace, ``"bij->bji"`` a transpose. With no
    ``->`` the output has the labels that appear once, in alphabetical order. ``...`` stands for
    broadcast dimensions. The sublist form ``einsum(op0, [0, 1], op1, [1, 2], [0, 2])`` gives each
    operand's labels as integers in ``[0, 52)`` (and ``...`` as ``Ellipsis``), the output's last.

    Args:
        equation (str): the subscripts.
        operands (Tensor): the tensors (or one list of them).

    Example::

        >>> ember.einsum("i,i->", ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0]))
        tensor(11.)
        >>> ember.einsum(ember.ones(2, 3), [0, 1], ember.ones(3, 4), [1, 2], [0, 2]).shape
        ember.Size([2, 4])
    """
    if isinstance(equation, Tensor) and operands:
        equation, operands = _sublist_equation((equation, *operands))
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands or isinstance(equation, Tensor):
        raise ValueError(
            "einsum(): must specify the equation string and at least one operand, "
            "or at least one operand and its subscripts list"
        )
    if not isinstance(equation, (str, bytes)):  # PyTorch's argument parser: the equation, then each operand
        raise TypeError(f"einsum(): argument 'equation' (position 1) must be str, not {type_name(equation)}")
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 1, but got {type_name(t)}")
    if operands:
        check_same_device("einsum", *operands)
    if _amp.active:  # cuda's table lists einsum; cpu's does not (its contractions cast below)
        operands = cast_inputs("einsum", *operands)
    raw = equation if isinstance(equation, bytes) else equation.encode()
    arrow = raw.find(b"->")
    lhs, rhs = (raw, None) if arrow < 0 else (raw[:arrow], raw[arrow + 2 :])
    parsed = _operand_labels(lhs, len(operands))
    widest = _ellipsis_dims(operands, parsed)
    output = _output_labels(rhs, len(lhs) + 2, parsed, [("...", j) for j in range(widest)])
    ops, labs = [], []
    sizes: dict = {}  # label -> the size other than 1 the operands so far give it
    for i, (t, labels) in enumerate(zip(operands, parsed)):
        t, labels = _checked_operand(t, labels, i, widest, sizes)
        ops.append(t)
        labs.append(labels)
    contracted = []
    for labels in labs:
        for lab in labels:
            if lab not in output and lab not in contracted:
                contracted.append(lab)
    if (
        ops
        and all(t.dtype is dtypes.bool for t in ops)
        and any(sum(lab in labels for labels in labs) > 1 for lab in contracted)
    ):  # PyTorch contracts a label shared by two operands with bmm, which has no bool kernel
        not_implemented("bmm", dtypes.bool)
    if len(ops) > 1:  # PyTorch first sums each label that one operand alone has (bool and integers widen to int64)
        for k, (t, labels) in enumerate(zip(ops, labs)):
            own = [
                i
                for i, lab in enumerate(labels)
                if lab in contracted
                and t.shape[i] != 1
                and not any(lab in other for j, other in enumerate(labs) if j != k)
            ]
            if own:
                ops[k], labs[k] = t.sum(own), [lab for i, lab in enumerate(labels) if i not in own]
    order = output + contracted
    aligned = []
    for t, labels in zip(ops, labs):
        perm = sorted(range(len(labels)), key=lambda i: order.index(labels[i]))
        t = t.permute(perm) if perm != list(range(len(labels))) else t
        shape, present = [], [labels[i] for i in perm]
        it = iter(t.shape)
        for lab in order:
            shape.append(next(it) if lab in present else 1)
        aligned.append(t.reshape(shape))
    # every aligned operand (and every partial product) has one dimension per label of ``order``, of the size
    # ``_check_label_sizes`` agreed for that label or 1: the products below always broadcast
    result = aligned[0]
    for k in range(1, len(aligned)):
        later = {lab for labels in labs[k + 1 :] for lab in labels}
        done = [order.index(lab) for lab in contracted if lab not in later]
        done = [i for i in done if result.shape[i] != 1 or aligned[k].shape[i] != 1]
        if done and _amp.active:  # PyTorch contracts such a pair through bmm, which autocast casts
            result, aligned[k] = cast_inputs("bmm", result, aligned[k])
        before = {lab for labels in labs[:k] for lab in labels}
        if result.dtype is not aligned[k].dtype and any(
            lab in before
            and lab in labs[k]
            and lab not in later
            and result.shape[order.index(lab)] != 1
            and aligned[k].shape[order.index(lab)] != 1
            for lab in contracted
        ):  # PyTorch contracts a label the two share with bmm, which takes one dtype (a product promotes)
            if result.dtype is dtypes.bool:
                not_implemented("bmm", dtypes.bool)
            raise RuntimeError(
                f"expected scalar type {_TORCH_NAMES[result.dtype.name]} but found {_TORCH_NAMES[aligned[k].dtype.name]}"
            )
        if done and result.dtype in dtypes.narrow_float and aligned[k].dtype is result.dtype:
            # PyTorch's bmm: exact products summed in float32, rounded to the 16-bit type once
            narrow = result.dtype
            result = (result.float() * aligned[k].float()).sum(done, keepdim=True).to(narrow)
            continue
        result = result * aligned[k]
        if done:
            # a product's contraction keeps the operands' type (int32 stays int32), as in PyTorch
            result = result.sum(done, keepdim=True, dtype=result.dtype)
    # a lone operand's summed dimensions of size 1 too: PyTorch sums them (integers widen to int64)
    rest = [i for i in range(len(output), len(order)) if result.shape[i] != 1 or len(aligned) == 1]
    if rest:  # a lone operand's reduction is a sum (integers widen to int64); a product's keeps its type
        result = result.sum(rest, keepdim=True, dtype=result.dtype if len(aligned) > 1 else None)
    return result.reshape(tuple(result.shape[: len(output)]))


def tensordot(
    a: Tensor, b: Tensor, dims: int | Sequence[int] | Sequence[Sequence[int]] | Tensor = 2, *, out: Tensor | None = None
) -> Tensor:
    """Contract the last ``dims`` dimensions of ``a`` with the first ``dims`` of ``b`` (or given pairs).

    Args:
        a (Tensor), b (Tensor): the operands.
        dims (int or tuple of two lists of ints): how many dimensions to contract, or
            which dimensions of ``a`` and ``b``. Default: 2
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.

    Example::

        >>> ember.tensordot(ember.ones(3, 4), ember.ones(4, 5), dims=1).shape
        ember.Size([3, 5])
    """
    if out is not None:
        return write_out("tensordot", tensordot(a, b, dims), out, exact_dtype=True)
    _check_tensor("tensordot", a, "a")
    _check_tensor("tensordot", b, "b")
    check_same_device("tensordot", a, b)
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        if not isinstance(dims, (tuple, list, Tensor)):  # PyTorch's error for a float, a string, None
            raise RuntimeError(
                "tensordot expects dims to be int or tuple[list[int], list[int]] or list[list[int]] containing two "
                f"lists, but got dims={dims}"
            )
        da, db = dims  # type: ignore[assignment]
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
        if len(da) != len(db):
            raise RuntimeError(f"both dimension lists should have same length, but got {len(da)} and {len(db)}")
        da = [wrap_dim(d, a.ndim) for d in da]
        db = [wrap_dim(d, b.ndim) for d in db]
    for i, j in zip(da, db):
        # a size-1 dimension contracts with the other's sum over that dimension (PyTorch's rule)
        if a.shape[i] == 1 and b.shape[j] != 1:
            b = b.sum(j, keepdim=True, dtype=b.dtype)  # in the operand's type (an int32 sum is int64)
        elif b.shape[j] == 1 and a.shape[i] != 1:
            a = a.sum(i, keepdim=True, dtype=a.dtype)
        elif a.shape[i] != b.shape[j]:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {a.shape[i]} in dim {i} "
                f"and second has size {b.shape[j]} in dim {j}"
            )
    fa = [i for i in range(a.ndim) if i not in da]
    fb = [j for j in range(b.ndim) if j not in db]
    k = 1
    for i in da:
        k *= a.shape[i]
    left = a.permute(fa + da).reshape(-1, k)
    right = b.permute(db + fb).reshape(k, -1)
    return (left @ right).reshape([a.shape[i] for i in fa] + [b.shape[j] for j in fb])


def kron(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Kronecker product: blocks ``input[i] * other`` tiled in ``input``'s layout.

    Example::

        >>> ember.kron(ember.eye(2), ember.ones(2, 2)).shape
        ember.Size([4, 4])
    """
    if out is not None:
        return write_out("kron", kron(input, other), out, inputs=(input, other))
    _check_tensor("kron", input)
    _check_tensor("kron", other, "other")
    check_same_device("kron", input, other)
    n = max(input.ndim, other.ndim)
    sa = (1,) * (n - input.ndim) + tuple(input.shape)
    sb = (1,) * (n - other.ndim) + tuple(other.shape)
    a = input.reshape([s for d in sa for s in (d, 1)])
    b = other.reshape([s for d in sb for s in (1, d)])
    return (a * b).reshape([x * y for x, y in zip(sa, sb)])


def cross(
    input: Tensor, other: Tensor, dim: int | None = None, *, out: Tensor | None = None, axis: int | None = None
) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (inputs broadcast).

    Args:
        input (Tensor), other (Tensor): the operands.
        dim (int, optional): the dimension of size 3. Default: the first dimension of size 3
            (deprecated in PyTorch, which warns).
        out (Tensor, optional): the output tensor, resized to the result's shape and returned. Default: ``None``.
        axis (int, optional): NumPy's name for ``dim``, which PyTorch accepts too.

    Example::

        >>> ember.cross(ember.tensor([1.0, 0.0, 0.0]), ember.tensor([0.0, 1.0, 0.0]), dim=0)
        tensor([0., 0., 1.])
    """
    if axis is not None:
        dim, _ = numpy_names("cross", dim, None, axis, False, None)
    if out is not None:
        return write_out("cross", cross(input, other, dim), out, exact_dtype=True, apart=(input, other))
    _check_tensor("cross", input)
    _check_tensor("cross", other, "other")
    check_same_device("cross", input, other)
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    err = broadcast_error(input.shape, other.shape)
    if err is not None:
        raise err
    if input.dtype is dtypes.bool:
        not_implemented("cross", input.dtype)
    if other.dtype is not input.dtype:  # PyTorch's kernel takes one dtype, no promotion
        raise RuntimeError(
            f"expected scalar type {_TORCH_NAMES[input.dtype.name]} but found {_TORCH_NAMES[other.dtype.name]}"
        )
    a, b = broadcast_tensors(input, other)
    if dim is None:
        warnings.warn(
            "Using torch.cross without specifying the dim arg is deprecated.\n"
            "Please either pass the dim explicitly or simply use torch.linalg.cross.\n"
            "The default value of dim will change to agree with that of linalg.cross in a future release.",
            UserWarning,
            stacklevel=2,
        )
        sizes = [i for i, s in enumerate(a.shape) if s == 3]
        if not sizes:
            raise RuntimeError("no dimension of size 3 in input")
        axis = dim = sizes[0]
    else:
        axis = wrap_dim(dim, a.ndim)
    if input.shape[axis] != 3 or other.shape[axis] != 3:  # before broadcasting; the dim as given (-1, not 1)
        raise RuntimeError(
            f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[axis]} and {other.shape[axis]}"
        )
    x = [a.select(axis, i) for i in range(3)]
    y = [b.select(axis, i) for i in range(3)]
    with _amp_suspended():  # an inner step, not the user's stack: PyTorch's cross stacks nothing under autocast
        products = [x[1] * y[2] - x[2] * y[1], x[2] * y[0] - x[0] * y[2], x[0] * y[1] - x[1] * y[0]]
        return named_node(stack(products, axis), "LinalgCrossBackward0")  # PyTorch's one node
