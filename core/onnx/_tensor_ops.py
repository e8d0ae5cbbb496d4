"""Converters of more tensor operations: comparisons, selection, reductions, shape and dtype changes.

Same contract as :mod:`ember.onnx._ops`: each converter takes the graph builder, the call's
arguments and its (already computed) result, appends the ONNX nodes and binds the result.
"""

from __future__ import annotations

import numbers

import numpy as np

import ember

from ..tensor import Tensor
from ._ops import _arg, _axis, _cast_to, _operand
from .errors import UnsupportedOperatorError

__all__ = ["CONVERTERS", "METHODS", "FUNCTIONS", "onnx_dtype", "reduce_node", "constant_of"]


def onnx_dtype(b, dtype):
    """The ONNX element type of an ember dtype."""
    if dtype is ember.bfloat16:
        return b.onnx.TensorProto.BFLOAT16
    return b.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype.name))


def constant_of(b, value, dtype):
    """A scalar initializer of ``dtype`` (an ember dtype)."""
    if dtype is ember.bfloat16:
        return b.node("Cast", [b.constant(np.asarray(value, dtype=np.float32))], to=onnx_dtype(b, dtype))
    return b.constant(np.asarray(value, dtype=dtype.name))


def reduce_node(b, op, name, axes, keepdims):
    """A reduction over ``axes``: an input from opset 18 (``ReduceSum``: 13), an attribute before."""
    if op == "ReduceSum" or b.opset >= 18:
        return b.node(op, [name, b.ints(list(axes))], keepdims=int(keepdims))
    return b.node(op, [name], axes=list(axes), keepdims=int(keepdims))


def _dims(dim, ndim):
    if dim is None:
        return list(range(ndim))
    dims = [dim] if isinstance(dim, numbers.Integral) else list(dim)
    return [_axis(int(d), max(ndim, 1)) for d in dims] if dims else list(range(ndim))


def _common(b, first, second):
    """Both operands of a comparison as values of their promoted dtype."""
    dtype = ember.result_type(first, second)
    return [_operand_as(b, v, dtype) for v in (first, second)]


def _operand_as(b, value, dtype):
    if isinstance(value, Tensor):
        return _cast_to(b, b.value(value), value, dtype)
    if isinstance(value, numbers.Number):
        return constant_of(b, value, dtype)
    raise UnsupportedOperatorError(f"onnx export: unsupported operand of type {type(value).__name__}")


def _unary(op):
    def convert(b, args, kwargs, out):
        b.bind(out, b.node(op, [_cast_to(b, b.value(args[0]), args[0], out.dtype)]))

    return convert


def _composite(build):
    """A unary op written as ONNX nodes: ``build(b, name, const)``, ``const(v)`` a scalar of the result's dtype."""

    def convert(b, args, kwargs, out):
        name = _cast_to(b, b.value(args[0]), args[0], out.dtype)
        b.bind(out, build(b, name, lambda v: constant_of(b, v, out.dtype)))

    return convert


def _compare(op, negate=False, reverse=False):
    def convert(b, args, kwargs, out):
        first, second = _arg(args, kwargs, 0, "input"), _arg(args, kwargs, 1, "other")
        if reverse:
            first, second = second, first
        y = b.node(op, _common(b, first, second))
        b.bind(out, b.node("Not", [y]) if negate else y)

    return convert


def _logical(op, bitwise, reverse=False):
    def convert(b, args, kwargs, out):
        operands = list(args[:2]) if len(args) > 1 else [args[0], _arg(args, kwargs, 1, "other")]
        if reverse:
            operands.reverse()
        if out.dtype is ember.bool:
            names = [_operand_as(b, v, ember.bool) for v in operands]
            b.bind(out, b.node(op, names))
        elif b.opset >= 18:
            b.bind(out, b.node(bitwise, [_operand_as(b, v, out.dtype) for v in operands]))
        else:
            raise UnsupportedOperatorError(f"onnx export: bitwise {op} on integers needs opset_version >= 18")

    return convert


def _invert(b, args, kwargs, out):
    x = args[0]
    if out.dtype is ember.bool:
        b.bind(out, b.node("Not", [b.value(x)]))
    elif b.opset >= 18:
        b.bind(out, b.node("BitwiseNot", [b.value(x)]))
    else:
        raise UnsupportedOperatorError("onnx export: bitwise not on integers needs opset_version >= 18")


def _from_bool(b, name, dtype):
    return name if dtype is ember.bool else b.node("Cast", [name], to=onnx_dtype(b, dtype))


def _logical_not(b, args, kwargs, out):
    b.bind(out, _from_bool(b, b.node("Not", [_operand_as(b, args[0], ember.bool)]), out.dtype))


def _logical_fn(op):
    def convert(b, args, kwargs, out):
        names = [_operand_as(b, v, ember.bool) for v in (args[0], _arg(args, kwargs, 1, "other"))]
        b.bind(out, _from_bool(b, b.node(op, names), out.dtype))

    return convert


def _binary(op, reverse=False):
    def convert(b, args, kwargs, out):
        first, second = args[0], _arg(args, kwargs, 1, "other", _arg(args, kwargs, 1, "exponent"))
        if reverse:
            first, second = second, first
        b.bind(out, b.node(op, [_operand(b, first, out), _operand(b, second, out)]))

    return convert


def _pow(reverse=False):
    def convert(b, args, kwargs, out):
        first, second = args[0], _arg(args, kwargs, 1, "exponent")
        if reverse:
            first, second = second, first
        if isinstance(second, numbers.Number) and second == 2 and out.dtype.is_floating_point:
            base = _operand(b, first, out)
            b.bind(out, b.node("Mul", [base, base]))  # PyTorch's x ** 2 is x * x
            return
        b.bind(out, b.node("Pow", [_operand(b, first, out), _operand(b, second, out)]))

    return convert


def _floor_divide(reverse=False):
    def convert(b, args, kwargs, out):
        first, second = args[0], _arg(args, kwargs, 1, "other")
        if reverse:
            first, second = second, first
        names = [_operand(b, first, out), _operand(b, second, out)]
        if out.dtype.is_floating_point:
            b.bind(out, b.node("Floor", [b.node("Div", names)]))
            return
        double = b.onnx.TensorProto.DOUBLE
        quotient = b.node("Floor", [b.node("Div", [b.node("Cast", [n], to=double) for n in names])])
        b.bind(out, b.node("Cast", [quotient], to=onnx_dtype(b, out.dtype)))

    return convert


def _remainder(reverse=False):
    """PyTorch's remainder: the sign of the divisor (C's fmod, moved by the divisor where the signs differ)."""

    def convert(b, args, kwargs, out):
        first, second = args[0], _arg(args, kwargs, 1, "other")
        if reverse:
            first, second = second, first
        a, d = _operand(b, first, out), _operand(b, second, out)
        if not out.dtype.is_floating_point:
            b.bind(out, b.node("Mod", [a, d], fmod=0))
            return
        r = b.node("Mod", [a, d], fmod=1)
        zero = constant_of(b, 0, out.dtype)
        differ = b.node("Xor", [b.node("Less", [r, zero]), b.node("Less", [d, zero])])
        move = b.node("And", [b.node("Not", [b.node("Equal", [r, zero])]), differ])
        b.bind(out, b.node("Where", [move, b.node("Add", [r, d]), r]))

    return convert


def _where(b, args, kwargs, out):
    condition = _arg(args, kwargs, 0, "condition")
    first, second = _arg(args, kwargs, 1, "input"), _arg(args, kwargs, 2, "other")
    if first is None:
        raise UnsupportedOperatorError("onnx export: ember.where(condition) (the indices form) is not supported")
    cond = _operand_as(b, condition, ember.bool)
    b.bind(out, b.node("Where", [cond, _operand(b, first, out), _operand(b, second, out)]))


def _masked_fill(b, args, kwargs, out):
    x, mask, value = args[0], _arg(args, kwargs, 1, "mask"), _arg(args, kwargs, 2, "value")
    source = b.value(x) if b.is_traced(x) else _uniform_constant(b, x, mask, out)
    b.bind(out, b.node("Where", [_operand_as(b, mask, ember.bool), _operand(b, value, out), source]))


def _uniform_constant(b, x, mask, out):
    """A constant filled with one value (``query.new_zeros(mask.shape)``) as a scalar where the traced
    mask alone has the result's shape, so that the mask's dynamic axes stay dynamic."""
    if (
        x.numel() and tuple(mask.shape) == tuple(out.shape) and b.is_traced(mask) and x.grad_fn is None
        and not b.is_parameter(x) and not b.is_tainted(x)
    ):  # fmt: skip
        array = x.detach().cpu().numpy()
        if (array == array.flat[0]).all():
            return constant_of(b, array.flat[0].item(), out.dtype)
    return b.value(x)


def _clamp(low_name="min", high_name="max", fixed=None):
    def convert(b, args, kwargs, out):
        if fixed is not None:
            low, high = fixed
        else:
            low, high = _arg(args, kwargs, 1, low_name), _arg(args, kwargs, 2, high_name)
        name = _cast_to(b, b.value(args[0]), args[0], out.dtype)
        if low is not None:
            name = b.node("Max", [name, _operand(b, low, out)])
        if high is not None:
            name = b.node("Min", [name, _operand(b, high, out)])
        b.bind(out, name)

    return convert


def _clamp_one(side):
    def convert(b, args, kwargs, out):
        bound = _arg(args, kwargs, 1, side)
        name = _cast_to(b, b.value(args[0]), args[0], out.dtype)
        b.bind(out, b.node("Max" if side == "min" else "Min", [name, _operand(b, bound, out)]))

    return convert


def _sizes(args, kwargs, key):
    sizes = args[1:] if len(args) > 1 else (kwargs.get(key),)
    if len(sizes) == 1 and not isinstance(sizes[0], numbers.Integral):
        sizes = tuple(sizes[0])
    return [int(s) for s in sizes]


def _expand(b, args, kwargs, out):
    x = args[0]
    sizes = _sizes(args, kwargs, "size")
    # Expand broadcasts both ways: a 1 keeps the input's size (PyTorch's -1), dynamic axes included
    lead = len(sizes) - x.ndim
    shape = [1 if s == -1 or (i >= lead and s == x.shape[i - lead]) else s for i, s in enumerate(sizes)]
    b.bind(out, b.node("Expand", [b.value(x), b.ints(shape)]))


def _expand_as(b, args, kwargs, out):
    b.bind(out, b.node("Expand", [b.value(args[0]), b.node("Shape", [b.value(args[1])])]))


def _repeat(b, args, kwargs, out):
    x = args[0]
    repeats = _sizes(args, kwargs, "repeats")
    name = b.value(x)
    if len(repeats) > x.ndim:
        name = b.node("Unsqueeze", [name, b.ints(list(range(len(repeats) - x.ndim)))])
    b.bind(out, b.node("Tile", [name, b.ints(repeats)]))


def _stack(b, args, kwargs, out):
    tensors = args[0] if args else kwargs["tensors"]
    axis = _axis(_arg(args, kwargs, 1, "dim", 0), out.ndim)
    names = [b.node("Unsqueeze", [_cast_to(b, b.value(t), t, out.dtype), b.ints([axis])]) for t in tensors]
    b.bind(out, b.node("Concat", names, axis=axis))


def _reduction(op):
    def convert(b, args, kwargs, out):
        x = args[0]
        dim, keepdim = _arg(args, kwargs, 1, "dim"), bool(_arg(args, kwargs, 2, "keepdim", False))
        if kwargs.get("dtype") is not None:
            raise UnsupportedOperatorError(f"onnx export: {op} with dtype is not supported")
        if x.ndim == 0:
            b.bind(out, b.value(x))
            return
        b.bind(out, reduce_node(b, op, b.value(x), _dims(dim, x.ndim), keepdim))

    return convert


def _max_min(reduce, arg, binary):
    def convert(b, args, kwargs, out):
        x, dim = args[0], _arg(args, kwargs, 1, "dim")
        if isinstance(dim, Tensor):  # max(input, other)
            b.bind(out, b.node(binary, [_operand(b, x, out), _operand(b, dim, out)]))
            return
        if dim is None:
            b.bind(out, reduce_node(b, reduce, b.value(x), list(range(x.ndim)), False) if x.ndim else b.value(x))
            return
        keepdim = bool(_arg(args, kwargs, 2, "keepdim", False))
        name = b.value(x)
        if x.ndim == 0:
            b.bind(out[0], name)
            b.bind(out[1], b.constant(np.asarray(0, dtype=np.int64)))
            return
        axis = _axis(dim, x.ndim)
        b.bind(out[0], reduce_node(b, reduce, name, [axis], keepdim))
        b.bind(out[1], b.node(arg, [name], axis=axis, keepdims=int(keepdim)))

    return convert


def _arg_reduce(op):
    def convert(b, args, kwargs, out):
        x, dim = args[0], _arg(args, kwargs, 1, "dim")
        keepdim = bool(_arg(args, kwargs, 2, "keepdim", False))
        name = b.value(x)
        if dim is None or x.ndim == 0:
            flat = b.node("Reshape", [name, b.ints([-1])])
            y = b.node(op, [flat], axis=0, keepdims=0)
            b.bind(out, b.node("Reshape", [y, b.ints(list(out.shape))]) if keepdim and x.ndim else y)
            return
        b.bind(out, b.node(op, [name], axis=_axis(dim, x.ndim), keepdims=int(keepdim)))

    return convert


def _topk(b, args, kwargs, out):
    x, k = args[0], int(_arg(args, kwargs, 1, "k"))
    dim = _arg(args, kwargs, 2, "dim", -1)
    largest, ordered = _arg(args, kwargs, 3, "largest", True), _arg(args, kwargs, 4, "sorted", True)
    if x.ndim == 0:
        raise UnsupportedOperatorError("onnx export: topk of a 0-d tensor is not supported")
    values, indices = b.node(
        "TopK", [b.value(x), b.ints([k])], outputs=2, axis=_axis(dim, x.ndim), largest=int(largest), sorted=int(ordered)
    )
    b.bind(out[0], values)
    b.bind(out[1], indices)


def _sort(b, args, kwargs, out):
    x = args[0]
    dim = _arg(args, kwargs, 1, "dim", -1)
    descending = bool(_arg(args, kwargs, 2, "descending", False))
    if isinstance(dim, bool):  # sort(stable=..., dim=...) keyword forms pass no positional dim
        dim = kwargs.get("dim", -1)
    if x.ndim == 0:
        raise UnsupportedOperatorError("onnx export: sort of a 0-d tensor is not supported")
    axis = _axis(dim, x.ndim)
    values, indices = b.node(
        "TopK", [b.value(x), b.ints([x.shape[axis]])], outputs=2, axis=axis, largest=int(descending), sorted=1
    )
    b.bind(out[0], values)
    b.bind(out[1], indices)


def _cumsum(b, args, kwargs, out):
    x, dim = args[0], _arg(args, kwargs, 1, "dim")
    name = _cast_to(b, b.value(x), x, out.dtype)
    if x.ndim == 0:
        b.bind(out, name)
        return
    axis = b.constant(np.asarray(_axis(dim, x.ndim), dtype=np.int64))
    b.bind(out, b.node("CumSum", [name, axis]))


def _einsum(b, args, kwargs, out):
    equation, operands = args[0], list(args[1:])
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = list(operands[0])
    if not isinstance(equation, str):
        raise UnsupportedOperatorError("onnx export: einsum with the sublist format is not supported")
    names = [_cast_to(b, b.value(t), t, out.dtype) for t in operands]
    b.bind(out, b.node("Einsum", names, equation=equation.replace(" ", "")))


def _cast_method(dtype):
    def convert(b, args, kwargs, out):
        b.bind(out, _cast(b, args[0], out.dtype))

    return convert


def _cast(b, x, dtype):
    if x.dtype is dtype:
        return b.value(x)
    return b.node("Cast", [b.value(x)], to=onnx_dtype(b, dtype))


def _type_as(b, args, kwargs, out):
    if isinstance(out, Tensor):  # x.type() (no dtype) returns the type's name
        b.bind(out, _cast(b, args[0], out.dtype))


def _device_copy(b, args, kwargs, out):  # cpu(), cuda(): the same values
    if out is not args[0]:
        b.bind(out, b.value(args[0]))


def _like(fill):
    def convert(b, args, kwargs, out):
        x = args[0]
        value = fill if fill is not None else _arg(args, kwargs, 1, "fill_value")
        if isinstance(value, Tensor):
            raise UnsupportedOperatorError("onnx export: full_like with a tensor fill value is not supported")
        template = b.onnx.helper.make_tensor("value", onnx_dtype(b, out.dtype), [1], [value])
        if out.dtype is ember.bfloat16:
            raise UnsupportedOperatorError("onnx export: *_like in bfloat16 is not supported")
        b.bind(out, b.node("ConstantOfShape", [b.node("Shape", [b.value(x)])], value=template))

    return convert


def _flip(b, args, kwargs, out):
    x = args[0]
    dims = _sizes(args, kwargs, "dims")
    axes = [_axis(d, x.ndim) for d in dims]
    if not axes:
        b.bind(out, b.value(x))
        return
    low = np.iinfo(np.int64).min
    starts, ends = b.ints([-1] * len(axes)), b.ints([low] * len(axes))
    b.bind(out, b.node("Slice", [b.value(x), starts, ends, b.ints(axes), b.ints([-1] * len(axes))]))


def _gather(b, args, kwargs, out):
    x, dim, index = args[0], _arg(args, kwargs, 1, "dim"), _arg(args, kwargs, 2, "index")
    if x.ndim == 0:
        raise UnsupportedOperatorError("onnx export: gather on a 0-d tensor is not supported")
    b.bind(out, b.node("GatherElements", [b.value(x), b.value(index)], axis=_axis(dim, x.ndim)))


def _index_select(b, args, kwargs, out):
    x, dim, index = args[0], _arg(args, kwargs, 1, "dim"), _arg(args, kwargs, 2, "index")
    if x.ndim == 0 or index.ndim != 1:
        raise UnsupportedOperatorError("onnx export: index_select needs a tensor with dimensions and a 1-d index")
    b.bind(out, b.node("Gather", [b.value(x), b.value(index)], axis=_axis(dim, x.ndim)))


def _trilu(upper):
    def convert(b, args, kwargs, out):
        k = b.constant(np.asarray(int(_arg(args, kwargs, 1, "diagonal", 0)), dtype=np.int64))
        b.bind(out, b.node("Trilu", [b.value(args[0]), k], upper=int(upper)))

    return convert


def _addmm(b, args, kwargs, out):
    bias, first, second = args[0], _arg(args, kwargs, 1, "mat1"), _arg(args, kwargs, 2, "mat2")
    beta, alpha = float(kwargs.get("beta", 1)), float(kwargs.get("alpha", 1))
    inputs = [b.value(first), b.value(second), b.value(bias)]
    b.bind(out, b.node("Gemm", inputs, alpha=alpha, beta=beta))


def _split_outputs(b, x, axis, out):
    """``x`` split along ``axis`` into the pieces of ``out`` (their sizes read from the traced results)."""
    sizes = [t.shape[axis] for t in out]
    names = b.node("Split", [b.value(x), b.ints(sizes)], outputs=len(sizes), axis=axis)
    return [names] if len(sizes) == 1 else names


def _split(b, args, kwargs, out):
    x = args[0]
    dim = _arg(args, kwargs, 2, "dim", kwargs.get("axis", 0))
    for tensor, name in zip(out, _split_outputs(b, x, _axis(dim, x.ndim), out)):
        b.bind(tensor, name)


def _unbind(b, args, kwargs, out):
    x = args[0]
    axis = _axis(_arg(args, kwargs, 1, "dim", kwargs.get("axis", 0)), x.ndim)
    pieces = [t.unsqueeze(axis) for t in out]  # shapes only: the exporter is not recording here
    for tensor, name in zip(out, _split_outputs(b, x, axis, pieces)):
        b.bind(tensor, b.node("Squeeze", [name, b.ints([axis])]))


def _variance(std):
    def convert(b, args, kwargs, out):
        x = args[0]
        dim, unbiased = _arg(args, kwargs, 1, "dim", kwargs.get("axis")), _arg(args, kwargs, 2, "unbiased")
        keepdim = bool(_arg(args, kwargs, 3, "keepdim", kwargs.get("keepdims") or False))
        if isinstance(dim, bool):  # var(unbiased) in the old positional form
            dim, unbiased = None, dim
        correction = kwargs.get("correction")
        if correction is None:
            correction = 0 if unbiased is False else 1
        axes = _dims(dim, x.ndim)
        count = int(np.prod([x.shape[a] for a in axes])) if x.ndim else 1
        name = b.value(x)
        centered = b.node("Sub", [name, reduce_node(b, "ReduceMean", name, axes, True)]) if x.ndim else name
        squares = b.node("Mul", [centered, centered])
        total = reduce_node(b, "ReduceSum", squares, axes, keepdim) if x.ndim else squares
        y = b.node("Div", [total, constant_of(b, max(count - correction, 0), out.dtype)])
        b.bind(out, b.node("Sqrt", [y]) if std else y)

    return convert


def _norm(order_name):
    def convert(b, args, kwargs, out):
        x = args[0]
        p = _arg(args, kwargs, 1, order_name, "fro" if order_name == "p" else 2)
        dim = _arg(args, kwargs, 2, "dim", kwargs.get("axis"))
        keepdim = bool(_arg(args, kwargs, 3, "keepdim", kwargs.get("keepdims") or False))
        if kwargs.get("dtype") is not None or _arg(args, kwargs, 4, "dtype") is not None:
            raise UnsupportedOperatorError("onnx export: norm with dtype is not supported")
        axes = _dims(dim, x.ndim)
        name = b.value(x)
        if x.ndim == 0:
            b.bind(out, b.node("Abs", [name]))
        elif p in ("fro", 2, 2.0):
            b.bind(out, reduce_node(b, "ReduceL2", name, axes, keepdim))
        elif p in (1, 1.0):
            b.bind(out, reduce_node(b, "ReduceL1", name, axes, keepdim))
        elif p == float("inf"):
            b.bind(out, reduce_node(b, "ReduceMax", b.node("Abs", [name]), axes, keepdim))
        else:
            raise UnsupportedOperatorError(f"onnx export: norm of order {p!r} is not supported (only 1, 2, inf)")

    return convert


def _shape_of(b, args, kwargs, out):  # view_as / reshape_as
    b.bind(out, b.node("Reshape", [b.value(args[0]), b.node("Shape", [b.value(args[1])])]))


def _movedim(b, args, kwargs, out):
    x = args[0]
    source, destination = _arg(args, kwargs, 1, "source"), _arg(args, kwargs, 2, "destination")
    source = [source] if isinstance(source, numbers.Integral) else list(source)
    destination = [destination] if isinstance(destination, numbers.Integral) else list(destination)
    source, destination = [_axis(d, x.ndim) for d in source], [_axis(d, x.ndim) for d in destination]
    rest = iter([d for d in range(x.ndim) if d not in source])
    placed = dict(zip(destination, source))
    perm = [placed[i] if i in placed else next(rest) for i in range(x.ndim)]
    b.bind(out, b.node("Transpose", [b.value(x)], perm=perm))


def _swap(b, args, kwargs, out):
    x = args[0]
    perm = list(range(x.ndim))
    d0, d1 = _axis(args[1], x.ndim), _axis(args[2], x.ndim)
    perm[d0], perm[d1] = perm[d1], perm[d0]
    b.bind(out, b.node("Transpose", [b.value(x)], perm=perm))


def _isinf(b, args, kwargs, out):
    x = args[0]
    if not x.dtype.is_floating_point:
        b.bind(out, b.node("ConstantOfShape", [b.node("Shape", [b.value(x)])],
                           value=b.onnx.helper.make_tensor("value", b.onnx.TensorProto.BOOL, [1], [False])))  # fmt: skip
        return
    b.bind(out, b.node("IsInf", [b.value(x)]))


def _isnan(b, args, kwargs, out):
    x = args[0]
    if not x.dtype.is_floating_point:
        _isinf(b, args, kwargs, out)
        return
    b.bind(out, b.node("IsNaN", [b.value(x)]))


def _all_any(reduce):
    def convert(b, args, kwargs, out):
        x, dim = args[0], _arg(args, kwargs, 1, "dim")
        keepdim = bool(_arg(args, kwargs, 2, "keepdim", False))
        as_int = b.node("Cast", [_operand_as(b, x, ember.bool)], to=b.onnx.TensorProto.INT64)
        if x.ndim == 0:
            b.bind(out, _operand_as(b, x, ember.bool))
            return
        y = reduce_node(b, reduce, as_int, _dims(dim, x.ndim), keepdim)
        b.bind(out, b.node("Cast", [y], to=onnx_dtype(b, out.dtype)))

    return convert


def _lerp(b, args, kwargs, out):
    start, end, weight = args[0], _arg(args, kwargs, 1, "end"), _arg(args, kwargs, 2, "weight")
    a, c = _operand(b, start, out), _operand(b, end, out)
    b.bind(out, b.node("Add", [a, b.node("Mul", [_operand(b, weight, out), b.node("Sub", [c, a])])]))


def _baddbmm(b, args, kwargs, out):
    bias, first, second = args[0], _arg(args, kwargs, 1, "batch1"), _arg(args, kwargs, 2, "batch2")
    beta, alpha = kwargs.get("beta", 1), kwargs.get("alpha", 1)
    product = b.node("MatMul", [b.value(first), b.value(second)])
    if alpha != 1:
        product = b.node("Mul", [product, constant_of(b, alpha, out.dtype)])
    if beta == 0:
        b.bind(out, product)
        return
    term = b.value(bias) if beta == 1 else b.node("Mul", [b.value(bias), constant_of(b, beta, out.dtype)])
    b.bind(out, b.node("Add", [term, product]))


def _roll(b, args, kwargs, out):
    x = args[0]
    shifts, dims = _arg(args, kwargs, 1, "shifts"), _arg(args, kwargs, 2, "dims")
    shifts = [shifts] if isinstance(shifts, numbers.Integral) else list(shifts)
    name = b.value(x)
    if dims is None:  # the flattened tensor, rolled, in its shape again
        name, dims, shape = b.node("Reshape", [name, b.ints([-1])]), [0], [x.numel()]
    else:
        dims = [dims] if isinstance(dims, numbers.Integral) else list(dims)
        shape = list(x.shape)
    for shift, dim in zip(shifts, dims):
        axis = _axis(dim, len(shape))
        size = shape[axis]
        cut = (-shift) % size if size else 0
        if cut:
            head = b.node("Slice", [name, b.ints([cut]), b.ints([size]), b.ints([axis])])
            tail = b.node("Slice", [name, b.ints([0]), b.ints([cut]), b.ints([axis])])
            name = b.node("Concat", [head, tail], axis=axis)
    if _arg(args, kwargs, 2, "dims") is None:
        name = b.node("Reshape", [name, b.ints(list(x.shape))])
    b.bind(out, name)


def _nan_to_num(b, args, kwargs, out):
    x = args[0]
    if not x.dtype.is_floating_point:
        b.bind(out, b.value(x))
        return
    info = ember.finfo(x.dtype)
    nan, posinf, neginf = (_arg(args, kwargs, i, key) for i, key in ((1, "nan"), (2, "posinf"), (3, "neginf")))
    nan = 0.0 if nan is None else nan
    posinf, neginf = info.max if posinf is None else posinf, info.min if neginf is None else neginf
    name = b.value(x)
    c = lambda v: constant_of(b, v, out.dtype)  # noqa: E731
    y = b.node("Where", [b.node("IsNaN", [name]), c(nan), name])
    y = b.node("Where", [b.node("IsInf", [name], detect_negative=0), c(posinf), y])
    b.bind(out, b.node("Where", [b.node("IsInf", [name], detect_positive=0), c(neginf), y]))


def _exp2(b, name, const):
    return b.node("Pow", [const(2), name])


def _rsqrt(b, name, const):
    return b.node("Reciprocal", [b.node("Sqrt", [name])])


def _log1p(b, name, const):
    return b.node("Log", [b.node("Add", [name, const(1)])])


def _expm1(b, name, const):
    return b.node("Sub", [b.node("Exp", [name]), const(1)])


def _square(b, name, const):
    return b.node("Mul", [name, name])


def _log_base(base):
    def build(b, name, const):
        return b.node("Div", [b.node("Log", [name]), const(np.log(base))])

    return build


_UNARY = {
    "sin": "Sin", "cos": "Cos", "tan": "Tan", "asin": "Asin", "acos": "Acos", "atan": "Atan", "sinh": "Sinh",
    "cosh": "Cosh", "asinh": "Asinh", "acosh": "Acosh", "atanh": "Atanh", "floor": "Floor", "ceil": "Ceil",
    "round": "Round", "sign": "Sign", "reciprocal": "Reciprocal", "erf": "Erf",
}  # fmt: skip
_COMPOSITE = {"rsqrt": _rsqrt, "log1p": _log1p, "expm1": _expm1, "square": _square}
_COMPOSITE.update({"log2": _log_base(2), "log10": _log_base(10), "exp2": _exp2})
_COMPARE = {"gt": ("Greater", False), "lt": ("Less", False), "ge": ("GreaterOrEqual", False)}
_COMPARE.update({"le": ("LessOrEqual", False), "eq": ("Equal", False), "ne": ("Equal", True)})
_COMPARE.update({"greater": _COMPARE["gt"], "less": _COMPARE["lt"], "greater_equal": _COMPARE["ge"]})
_COMPARE.update({"less_equal": _COMPARE["le"], "not_equal": _COMPARE["ne"]})
_DUNDER_COMPARE = {"__gt__": "gt", "__lt__": "lt", "__ge__": "ge", "__le__": "le", "__eq__": "eq", "__ne__": "ne"}

CONVERTERS = {name: _unary(op) for name, op in _UNARY.items()}
CONVERTERS.update({name: _composite(build) for name, build in _COMPOSITE.items()})
CONVERTERS.update({name: _compare(*spec) for name, spec in _COMPARE.items()})
CONVERTERS.update({name: _compare(*_COMPARE[short]) for name, short in _DUNDER_COMPARE.items()})
CONVERTERS.update(
    {
        "__and__": _logical("And", "BitwiseAnd"), "__or__": _logical("Or", "BitwiseOr"),
        "__xor__": _logical("Xor", "BitwiseXor"), "__rand__": _logical("And", "BitwiseAnd", reverse=True),
        "__ror__": _logical("Or", "BitwiseOr", reverse=True), "__rxor__": _logical("Xor", "BitwiseXor", reverse=True),
        "__invert__": _invert, "bitwise_not": _invert, "logical_not": _logical_not,
        "bitwise_and": _logical("And", "BitwiseAnd"), "bitwise_or": _logical("Or", "BitwiseOr"),
        "bitwise_xor": _logical("Xor", "BitwiseXor"),
        "logical_and": _logical_fn("And"), "logical_or": _logical_fn("Or"), "logical_xor": _logical_fn("Xor"),
        "maximum": _binary("Max"), "minimum": _binary("Min"),
        "pow": _pow(), "__pow__": _pow(), "__rpow__": _pow(reverse=True),
        "floor_divide": _floor_divide(), "__floordiv__": _floor_divide(), "__rfloordiv__": _floor_divide(True),
        "remainder": _remainder(), "__mod__": _remainder(), "__rmod__": _remainder(reverse=True),
        "where": _where, "masked_fill": _masked_fill,
        "clamp": _clamp(), "clip": _clamp(), "clamp_min": _clamp_one("min"), "clamp_max": _clamp_one("max"),
        "expand": _expand, "expand_as": _expand_as, "repeat": _repeat, "stack": _stack,
        "amax": _reduction("ReduceMax"), "amin": _reduction("ReduceMin"), "prod": _reduction("ReduceProd"),
        "max": _max_min("ReduceMax", "ArgMax", "Max"), "min": _max_min("ReduceMin", "ArgMin", "Min"),
        "argmax": _arg_reduce("ArgMax"), "argmin": _arg_reduce("ArgMin"),
        "topk": _topk, "sort": _sort, "cumsum": _cumsum, "einsum": _einsum,
        "half": _cast_method("float16"), "bfloat16": _cast_method("bfloat16"), "bool": _cast_method("bool"),
        "short": _cast_method("int16"), "char": _cast_method("int8"), "byte": _cast_method("uint8"),
        "type_as": _type_as, "type": _type_as, "cpu": _device_copy, "cuda": _device_copy,
        "zeros_like": _like(0), "ones_like": _like(1), "full_like": _like(None),
        "flip": _flip, "gather": _gather, "index_select": _index_select,
        "tril": _trilu(False), "triu": _trilu(True), "addmm": _addmm,
        "split": _split, "chunk": _split, "unbind": _unbind, "var": _variance(False), "std": _variance(True),
        "norm": _norm("p"),
        "view_as": _shape_of, "reshape_as": _shape_of, "movedim": _movedim, "moveaxis": _movedim,
        "swapaxes": _swap, "swapdims": _swap, "isinf": _isinf, "isnan": _isnan, "all": _all_any("ReduceMin"),
        "any": _all_any("ReduceMax"), "lerp": _lerp, "baddbmm": _baddbmm, "roll": _roll, "nan_to_num": _nan_to_num,
    }
)  # fmt: skip

#: Tensor methods among these converters
METHODS = [
    *_UNARY, *_COMPOSITE, *_COMPARE, *_DUNDER_COMPARE, "__and__", "__or__", "__xor__", "__rand__", "__ror__",
    "__rxor__", "__invert__", "bitwise_not", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor",
    "logical_and", "logical_or", "logical_xor", "maximum", "minimum", "pow", "__pow__",
    "__rpow__", "floor_divide", "__floordiv__", "__rfloordiv__", "remainder", "__mod__", "__rmod__", "where", "masked_fill", "clamp", "clip",
    "clamp_min", "clamp_max", "expand", "expand_as", "repeat", "amax", "amin", "prod", "max", "min", "argmax",
    "argmin", "topk", "sort", "cumsum", "half", "bfloat16", "bool", "short", "char", "byte", "type_as", "type", "cpu", "cuda", "flip",
    "gather", "index_select", "tril", "triu", "addmm", "split", "chunk", "unbind", "var", "std", "norm",
    "view_as", "reshape_as", "movedim", "moveaxis", "swapaxes", "swapdims", "isinf", "isnan", "all", "any", "lerp",
    "baddbmm", "roll", "nan_to_num",
]  # fmt: skip
#: functions of the ``ember`` namespace among these converters
FUNCTIONS = [
    *_UNARY, *_COMPOSITE, *_COMPARE, "bitwise_not", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor",
    "logical_and", "logical_or", "logical_xor", "maximum", "minimum", "pow", "floor_divide", "remainder",
    "where", "masked_fill", "clamp", "clip", "clamp_min", "clamp_max", "stack", "amax", "amin", "prod", "max",
    "min", "argmax", "argmin", "topk", "sort", "cumsum", "einsum", "zeros_like", "ones_like", "full_like", "flip",
    "gather", "index_select", "tril", "triu", "addmm", "split", "chunk", "unbind", "var", "std", "norm",
    "movedim", "moveaxis", "swapaxes", "swapdims", "isinf", "isnan", "all", "any", "lerp", "baddbmm", "roll",
    "nan_to_num",
]  # fmt: skip
