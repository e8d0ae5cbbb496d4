"""Converters of the tensor operations that forward code calls directly (``x.view``, ``ember.cat``, ``F.relu``).

Each converter takes the graph builder, the call's arguments and its (already computed)
result, appends the ONNX nodes, and binds the result to the value name they produce.
"""

from __future__ import annotations

import numbers

import numpy as np

import ember

from ..tensor import Tensor
from .errors import UnsupportedOperatorError

__all__ = ["OP_CONVERTERS", "PATCHED_METHODS", "PATCHED_FUNCTIONS", "PATCHED_FUNCTIONAL", "PATCHED_PROPERTIES"]


def _arg(args, kwargs, index, name, default=None):
    if len(args) > index:
        return args[index]
    return kwargs.get(name, default)


def _axis(dim, ndim):
    return dim + ndim if dim < 0 else dim


def _cast_to(b, name, tensor, dtype):
    if tensor.dtype is dtype:
        return name
    return b.node("Cast", [name], to=b.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype.name)))


def _operand(b, value, out):
    """An operand of an element-wise op as a value of the result's dtype (scalars become constants)."""
    if isinstance(value, Tensor):
        return _cast_to(b, b.value(value), value, out.dtype)
    if isinstance(value, numbers.Number):
        return b.constant(np.asarray(value, dtype=out.dtype.name))
    raise UnsupportedOperatorError(f"onnx export: unsupported operand of type {type(value).__name__}")


def _unary(op):
    def convert(b, args, kwargs, out):
        b.bind(out, b.node(op, [b.value(args[0])]))

    return convert


def _binary(op, reverse=False):
    def convert(b, args, kwargs, out):
        first, second = (args[1], args[0]) if reverse else (args[0], _arg(args, kwargs, 1, "other"))
        alpha, rounding = kwargs.get("alpha", 1), kwargs.get("rounding_mode")
        a, c = _operand(b, first, out), _operand(b, second, out)
        if out.dtype is ember.bool:  # bool + bool is or, bool * bool is and (ONNX's Add/Mul take no bools)
            if op not in ("Add", "Mul") or alpha != 1:
                raise UnsupportedOperatorError(f"onnx export: {op} of bool tensors is not supported")
            b.bind(out, b.node("Or" if op == "Add" else "And", [a, c]))
            return
        if alpha != 1:  # add/sub(x, y, alpha=a): x + a * y
            c = b.node("Mul", [c, b.constant(np.asarray(alpha, dtype=out.dtype.name))])
        if rounding is None or out.dtype.is_floating_point:
            y = b.node(op, [a, c])
            if rounding == "floor":
                y = b.node("Floor", [y])
            elif rounding == "trunc":  # toward zero: sign(q) * floor(|q|)
                y = b.node("Mul", [b.node("Sign", [y]), b.node("Floor", [b.node("Abs", [y])])])
        else:  # integer division: exact in float64 for the magnitudes int64 holds exactly there
            double = b.onnx.TensorProto.DOUBLE
            q = b.node(op, [b.node("Cast", [a], to=double), b.node("Cast", [c], to=double)])
            q = (
                b.node("Floor", [q])
                if rounding == "floor"
                else b.node("Mul", [b.node("Sign", [q]), b.node("Floor", [b.node("Abs", [q])])])
            )
            y = b.node("Cast", [q], to=b.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(out.dtype.name)))
        b.bind(out, y)

    return convert


def _matmul(b, args, kwargs, out):
    b.bind(out, b.node("MatMul", [b.value(args[0]), b.value(args[1])]))


def _rmatmul(b, args, kwargs, out):
    b.bind(out, b.node("MatMul", [b.value(args[1]), b.value(args[0])]))


def reshape_target(shape, input_shape):
    """Reshape's target with a leading size equal to the input's kept as 0 (copy), for a dynamic batch axis."""
    target = [int(s) for s in shape]
    if target and input_shape and target[0] == input_shape[0]:
        target[0] = 0
    return target


def _reshape(b, args, kwargs, out):
    shape = args[1:] if len(args) > 1 else (kwargs.get("shape") or kwargs.get("size"),)
    if len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
        shape = tuple(shape[0])
    if not all(isinstance(s, numbers.Integral) for s in shape):
        raise UnsupportedOperatorError("onnx export: view/reshape to a dtype or a non-integer shape is not supported")
    x = args[0]
    b.bind(out, b.node("Reshape", [b.value(x), b.ints(reshape_target(shape, tuple(x.shape)))]))


def flatten_value(b, x, start_dim, end_dim, out):
    """The ONNX value of ``x.flatten(start_dim, end_dim)``, batch axis kept dynamic."""
    ndim = x.ndim
    start, end = _axis(start_dim, max(ndim, 1)), _axis(end_dim, max(ndim, 1))
    if ndim >= 2 and start == 1 and end == ndim - 1:
        return b.node("Flatten", [b.value(x)], axis=1)
    target = [0] * start + [-1] + [int(s) for s in out.shape[start + 1 :]]
    return b.node("Reshape", [b.value(x), b.ints(target)])


def _flatten(b, args, kwargs, out):
    x = args[0]
    b.bind(out, flatten_value(b, x, _arg(args, kwargs, 1, "start_dim", 0), _arg(args, kwargs, 2, "end_dim", -1), out))


def _cat(b, args, kwargs, out):
    tensors = args[0] if args else kwargs["tensors"]
    dim = _arg(args, kwargs, 1, "dim", 0)
    names = [_cast_to(b, b.value(t), t, out.dtype) for t in tensors if t.numel() or t.ndim > 1]
    b.bind(out, b.node("Concat", names, axis=_axis(dim, out.ndim)))


def _softmax(op):
    def convert(b, args, kwargs, out):
        dim = _arg(args, kwargs, 1, "dim")
        x = args[0]
        if dim is None:  # PyTorch's implicit dim (deprecated): 0 for 0-, 1- and 3-d inputs, else 1
            dim = 0 if x.ndim in (0, 1, 3) else 1
        name = _cast_to(b, b.value(x), x, out.dtype)  # dtype=: computed in that dtype, as PyTorch
        b.bind(out, b.node(op, [name], axis=_axis(dim, max(out.ndim, 1))))

    return convert


def _transpose(b, args, kwargs, out):
    x = args[0]
    perm = list(range(x.ndim))
    d0, d1 = _axis(_arg(args, kwargs, 1, "dim0"), x.ndim), _axis(_arg(args, kwargs, 2, "dim1"), x.ndim)
    perm[d0], perm[d1] = perm[d1], perm[d0]
    b.bind(out, b.node("Transpose", [b.value(x)], perm=perm))


def _permute(b, args, kwargs, out):
    dims = args[1:] if len(args) > 1 else (kwargs["dims"],)
    if len(dims) == 1 and not isinstance(dims[0], numbers.Integral):
        dims = tuple(dims[0])
    b.bind(out, b.node("Transpose", [b.value(args[0])], perm=[_axis(d, out.ndim) for d in dims]))


def _permute_reversed(b, args, kwargs, out):
    x = args[0]
    b.bind(out, b.node("Transpose", [b.value(x)], perm=list(range(x.ndim))[::-1]) if x.ndim >= 2 else b.value(x))


def _matrix_transpose(b, args, kwargs, out):
    x = args[0]
    perm = list(range(x.ndim))
    perm[-2:] = perm[-1], perm[-2]
    b.bind(out, b.node("Transpose", [b.value(x)], perm=perm))


def _t(b, args, kwargs, out):
    x = args[0]
    b.bind(out, b.node("Transpose", [b.value(x)], perm=[1, 0]) if x.ndim == 2 else b.value(x))


def _squeeze(b, args, kwargs, out):
    x, dim = args[0], _arg(args, kwargs, 1, "dim")
    if dim is None:
        b.bind(out, b.node("Squeeze", [b.value(x)]))
        return
    dims = [dim] if isinstance(dim, numbers.Integral) else list(dim)
    axes = [_axis(d, max(x.ndim, 1)) for d in dims if x.shape[_axis(d, max(x.ndim, 1))] == 1]
    b.bind(out, b.node("Squeeze", [b.value(x), b.ints(axes)]) if axes else b.value(x))


def _unsqueeze(b, args, kwargs, out):
    b.bind(out, b.node("Unsqueeze", [b.value(args[0]), b.ints([_axis(_arg(args, kwargs, 1, "dim"), out.ndim)])]))


def _reduce(op):
    def convert(b, args, kwargs, out):
        x = args[0]
        dim = _arg(args, kwargs, 1, "dim")
        keepdim = bool(_arg(args, kwargs, 2, "keepdim", False))
        # the result's dtype (a dtype= argument, or int64 for a bool/integer sum) is the one it computes in
        name = _cast_to(b, b.value(x), x, out.dtype)
        if x.ndim == 0:
            b.bind(out, name)
            return
        axes = (
            list(range(x.ndim)) if dim is None else [_axis(d, x.ndim) for d in ([dim] if isinstance(dim, int) else dim)]
        )
        if not axes:
            axes = list(range(x.ndim))
        if op == "ReduceMean" and b.opset < 18:
            b.bind(out, b.node(op, [name], axes=axes, keepdims=int(keepdim)))
        else:
            b.bind(out, b.node(op, [name, b.ints(axes)], keepdims=int(keepdim)))

    return convert


def _alias(b, args, kwargs, out):
    b.bind(out, b.value(args[0]))


def _cast(b, args, kwargs, out):
    b.bind(out, _cast_to(b, b.value(args[0]), args[0], out.dtype))


def _leaky_relu(b, args, kwargs, out):
    b.bind(out, b.node("LeakyRelu", [b.value(args[0])], alpha=float(_arg(args, kwargs, 1, "negative_slope", 0.01))))


def gelu_value(b, x, approximate, out):
    """GELU: the ONNX ``Gelu`` op from opset 20, else its formula in elementary ops."""
    name = b.value(x)
    if b.opset >= 20:
        return b.node("Gelu", [name], approximate=approximate)

    def const(v):
        return b.constant(np.asarray(v, dtype=out.dtype.name))

    if approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = b.node("Mul", [b.node("Mul", [name, name]), name])
        inner = b.node("Add", [name, b.node("Mul", [cube, const(0.044715)])])
        core = b.node("Tanh", [b.node("Mul", [inner, const(np.sqrt(2 / np.pi))])])
    else:  # 0.5 x (1 + erf(x / sqrt(2)))
        core = b.node("Erf", [b.node("Div", [name, const(np.sqrt(2.0))])])
    return b.node("Mul", [b.node("Mul", [name, const(0.5)]), b.node("Add", [core, const(1.0)])])


def _gelu(b, args, kwargs, out):
    b.bind(out, gelu_value(b, args[0], _arg(args, kwargs, 1, "approximate", "none"), out))


def _dropout(b, args, kwargs, out):
    if _arg(args, kwargs, 2, "training", True):
        raise UnsupportedOperatorError("onnx export: dropout with training=True; export the model in eval mode")
    _alias(b, args, kwargs, out)


def _elu(b, args, kwargs, out):
    b.bind(out, b.node("Elu", [b.value(args[0])], alpha=float(_arg(args, kwargs, 1, "alpha", 1.0))))


def _silu(b, args, kwargs, out):
    x = b.value(args[0])
    b.bind(out, b.node("Mul", [x, b.node("Sigmoid", [x])]))


def _index_tensor(items):
    """A list index as the tensor PyTorch makes of it."""
    return ember.tensor(items, dtype=ember.bool if items and all(isinstance(i, bool) for i in items) else None)


def _boolean_mask(b, x, index, out):
    """``x[mask]`` (the mask covering the leading dimensions): Compress of the flattened dimensions."""
    mask = index[0]
    if len(index) != 1 or mask.ndim == 0 or tuple(mask.shape) != tuple(x.shape[: mask.ndim]):
        raise UnsupportedOperatorError(
            "onnx export: a boolean mask index is supported alone and covering the leading dimensions "
            f"(mask of shape {list(mask.shape)} for a tensor of shape {list(x.shape)})"
        )
    flat = b.node("Reshape", [b.value(x), b.ints([-1] + [int(s) for s in x.shape[mask.ndim :]])])
    name = b.node("Compress", [flat, b.node("Reshape", [b.value(mask), b.ints([-1])])], axis=0)
    b.data_dependent[name] = {0}
    return name


def _getitem(b, args, kwargs, out):
    x, index = args
    if not isinstance(index, tuple):
        index = (index,)
    index = tuple(_index_tensor(i) if isinstance(i, list) else i for i in index)
    advanced = [i for i in index if isinstance(i, Tensor)]
    if any(isinstance(i, bool) for i in index) or len(advanced) > 1:
        raise UnsupportedOperatorError(
            "onnx export: indexing with a Python bool or with more than one tensor/list index is not supported"
        )
    if advanced and advanced[0].dtype.name == "bool":
        b.bind(out, _boolean_mask(b, x, index, out))
        return
    name, axis, shape = b.value(x), 0, list(x.shape)
    explicit = sum(1 for i in index if i is not None and i is not Ellipsis)
    for item in index:
        if item is Ellipsis:  # the items after it index the last ``explicit`` dims
            axis = len(shape) - explicit
            continue
        if item is None:
            name = b.node("Unsqueeze", [name, b.ints([axis])])
            shape.insert(axis, 1)
            axis += 1
            continue
        explicit -= 1
        if isinstance(item, slice):
            start, stop, step = item.indices(shape[axis])
            if step < 1:
                raise UnsupportedOperatorError("onnx export: slices with a negative step are not supported")
            if (start, stop, step) != (0, shape[axis], 1):
                name = b.node("Slice", [name, b.ints([start]), b.ints([stop]), b.ints([axis]), b.ints([step])])
                shape[axis] = len(range(start, stop, step))
            axis += 1
        elif isinstance(item, Tensor):  # one integer tensor index: its dims take the indexed axis' place
            name = b.node("Gather", [name, _cast_to(b, b.value(item), item, ember.int64)], axis=axis)
            shape[axis : axis + 1] = list(item.shape)
            axis += item.ndim
        elif isinstance(item, numbers.Integral):
            position = int(item) + shape[axis] if item < 0 else int(item)
            name = b.node("Gather", [name, b.constant(np.asarray(position, dtype=np.int64))], axis=axis)
            del shape[axis]
        else:
            raise UnsupportedOperatorError(f"onnx export: index of type {type(item).__name__} is not supported")
    b.bind(out, name)


_UNARY = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "exp": "Exp", "log": "Log", "sqrt": "Sqrt"}
_UNARY.update({"abs": "Abs", "neg": "Neg", "__neg__": "Neg"})
_BINARY = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "true_divide": "Div"}
_BINARY.update({"__add__": "Add", "__sub__": "Sub", "__mul__": "Mul", "__truediv__": "Div"})

OP_CONVERTERS = {name: _unary(op) for name, op in _UNARY.items()}
OP_CONVERTERS.update({name: _binary(op) for name, op in _BINARY.items()})
OP_CONVERTERS.update(
    {
        "__radd__": _binary("Add", reverse=True),
        "__rsub__": _binary("Sub", reverse=True),
        "__rmul__": _binary("Mul", reverse=True),
        "__rtruediv__": _binary("Div", reverse=True),
        "matmul": _matmul,
        "__matmul__": _matmul,
        "__rmatmul__": _rmatmul,
        "mm": _matmul,
        "bmm": _matmul,
        "reshape": _reshape,
        "view": _reshape,
        "flatten": _flatten,
        "cat": _cat,
        "concat": _cat,
        "softmax": _softmax("Softmax"),
        "log_softmax": _softmax("LogSoftmax"),
        "transpose": _transpose,
        "permute": _permute,
        "t": _t,
        "squeeze": _squeeze,
        "unsqueeze": _unsqueeze,
        "mean": _reduce("ReduceMean"),
        "sum": _reduce("ReduceSum"),
        "contiguous": _alias,
        "clone": _alias,
        "detach": _alias,
        "to": _cast,
        "float": _cast,
        "double": _cast,
        "long": _cast,
        "int": _cast,
        "__getitem__": _getitem,
        "leaky_relu": _leaky_relu,
        "gelu": _gelu,
        "dropout": _dropout,
        "elu": _elu,
        "silu": _silu,
        "Tensor.T": _permute_reversed,
        "Tensor.mT": _matrix_transpose,
    }
)

#: Tensor methods recorded while tracing
PATCHED_METHODS = [
    *_UNARY, *_BINARY, "__radd__", "__rsub__", "__rmul__", "__rtruediv__", "matmul", "__matmul__", "__rmatmul__",
    "mm", "bmm", "reshape", "view", "flatten", "softmax", "log_softmax", "transpose", "permute", "t", "squeeze",
    "unsqueeze", "mean", "sum", "contiguous", "clone", "detach", "to", "float", "double", "long", "int",
    "__getitem__",
]  # fmt: skip
#: functions of the ``ember`` namespace recorded while tracing
PATCHED_FUNCTIONS = [
    "relu", "sigmoid", "tanh", "exp", "log", "sqrt", "abs", "neg", "add", "sub", "mul", "div", "true_divide",
    "matmul", "mm", "bmm", "reshape", "flatten", "cat", "concat", "softmax", "log_softmax", "transpose", "permute",
    "t", "squeeze", "unsqueeze", "mean", "sum", "clone",
]  # fmt: skip
#: functions of ``ember.nn.functional`` recorded while tracing
PATCHED_FUNCTIONAL = [
    "relu", "sigmoid", "tanh", "softmax", "log_softmax", "leaky_relu", "gelu", "dropout", "elu", "silu",
]  # fmt: skip
#: Tensor properties recorded while tracing (their converters are ``OP_CONVERTERS["Tensor.<name>"]``)
PATCHED_PROPERTIES = ["T", "mT"]
