"""``ember.export.export``: an ember module's forward as a graph of ATen operators.

The module is traced with :mod:`ember.fx` (the layers of ``ember.nn`` kept whole), run once on the
example inputs to learn every value's shape, and each recorded call is lowered to the ATen
operators ``torch.export`` records for it (``nn.Linear`` -> ``aten.linear.default``, ``x.view(...)``
-> ``aten.view.default``, ``x.shape[0]`` -> ``aten.sym_size.int``). The parameters, buffers and
tensor constants become inputs of the graph (*lifted*), as in PyTorch. A call without a lowering
raises :class:`NotImplementedError` naming it.
"""

from __future__ import annotations

import builtins
import operator
from typing import Any

from ..autograd.grad_mode import no_grad
from ..compiler import _exporting_scope
from ..fx._symbolic_trace import symbolic_trace
from ..fx.graph import Graph
from ..fx.graph_module import GraphModule
from ..fx.interpreter import Interpreter
from ..fx.node import Node
from ..nn.modules.module import Module
from ..tensor import Tensor
from . import _pytree
from ._aten import get_op
from .dynamic_shapes import Dim
from .exported_program import ExportedProgram
from .graph_signature import ExportGraphSignature, InputKind, InputSpec, OutputKind, OutputSpec

__all__ = ["export", "SCHEMAS"]

# The ATen schema's argument names of each operator the exporter writes (``*``: keyword-only follow),
# which the archive needs to name every argument.
SCHEMAS: dict[str, str] = {
    "linear.default": "input, weight, bias",
    "conv1d.default": "input, weight, bias, stride, padding, dilation, groups",
    "conv2d.default": "input, weight, bias, stride, padding, dilation, groups",
    "conv3d.default": "input, weight, bias, stride, padding, dilation, groups",
    "batch_norm.default": "input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled",
    "layer_norm.default": "input, normalized_shape, weight, bias, eps, cudnn_enable",
    "embedding.default": "weight, indices, padding_idx, scale_grad_by_freq, sparse",
    "dropout.default": "input, p, train",
    "max_pool2d.default": "self, kernel_size, stride, padding, dilation, ceil_mode",
    "avg_pool2d.default": "self, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override",
    "adaptive_avg_pool2d.default": "self, output_size",
    "softmax.int": "self, dim, dtype",
    "log_softmax.int": "self, dim, dtype",
    "gelu.default": "self, *, approximate",
    "hardtanh.default": "self, min_val, max_val",
    "leaky_relu.default": "self, negative_slope",
    "flatten.using_ints": "self, start_dim, end_dim",
    "view.default": "self, size",
    "reshape.default": "self, shape",
    "permute.default": "self, dims",
    "transpose.int": "self, dim0, dim1",
    "unsqueeze.default": "self, dim",
    "squeeze.dim": "self, dim",
    "squeeze.default": "self",
    "contiguous.default": "self, *, memory_format",
    "clone.default": "self, *, memory_format",
    "t.default": "self",
    "expand.default": "self, size, *, implicit",
    "sum.dim_IntList": "self, dim, keepdim, *, dtype",
    "sum.default": "self, *, dtype",
    "mean.dim": "self, dim, keepdim, *, dtype",
    "mean.default": "self, *, dtype",
    "cat.default": "tensors, dim",
    "stack.default": "tensors, dim",
    "split.Tensor": "self, split_size, dim",
    "chunk.default": "self, chunks, dim",
    "select.int": "self, dim, index",
    "slice.Tensor": "self, dim, start, end, step",
    "sym_size.int": "self, dim",
    "zeros.default": "size, *, dtype, layout, device, pin_memory",
    "lstm.input": "input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first",
    "gru.input": "input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first",
    "matmul.default": "self, other",
    "scaled_dot_product_attention.default": "query, key, value, attn_mask, dropout_p, is_causal, *, scale, enable_gqa",
    "add_.Tensor": "self, other, *, alpha",
    "rsub.Scalar": "self, other, alpha",
    "where.self": "condition, self, other",
    "clamp.default": "self, min, max",
    "clamp.Tensor": "self, min, max",
    "masked_fill.Scalar": "self, mask, value",
    "div.Tensor_mode": "self, other, *, rounding_mode",
}

# The binary ops, lowered alike from the ember function, the tensor method of the same name and the
# Python operator (``clamp``, which methods also hand to ``function``, is lowered there on its own).
# Each: the overload torch.export records for (tensor, tensor), (tensor, number) and (number, tensor).
# None: no overload of its own. ``maximum`` of a number is a TypeError in both libraries; a number
# first is turned around (``0.5 + x`` is ``add.Tensor(x, 0.5)``, ``0.5 < x`` is ``gt.Scalar(x, 0.5)``).
_BINARY: dict[str, tuple[str, str | None, str | None]] = {
    "add": ("Tensor", "Tensor", None),
    "sub": ("Tensor", "Tensor", None),
    "mul": ("Tensor", "Tensor", None),
    "div": ("Tensor", "Tensor", None),
    "floor_divide": ("default", "default", "default"),
    "remainder": ("Tensor", "Scalar", "Scalar_Tensor"),
    "pow": ("Tensor_Tensor", "Tensor_Scalar", "Scalar"),
    "maximum": ("default", None, None),
    "minimum": ("default", None, None),
    **{name: ("Tensor", "Scalar", None) for name in ("eq", "ne", "lt", "le", "gt", "ge")},
}
# a number first, turned around: the op that takes the operands the other way
_TURNED = {"add": "add", "mul": "mul", "eq": "eq", "ne": "ne", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}
for _name, _overloads in _BINARY.items():
    for _overload in filter(None, _overloads):
        SCHEMAS[f"{_name}.{_overload}"] = "self, other, *, alpha" if _name in ("add", "sub") else "self, other"
SCHEMAS["pow.Scalar"] = SCHEMAS["pow.Tensor_Scalar"] = SCHEMAS["pow.Tensor_Tensor"] = "self, exponent"
_UNARY = (
    "relu", "sigmoid", "tanh", "exp", "log", "sqrt", "rsqrt", "abs", "neg", "sin", "cos", "erf", "silu",
    "floor", "ceil", "reciprocal", "logical_not", "hardswish", "hardsigmoid", "mish",
)  # fmt: skip
for _name in _UNARY:
    SCHEMAS[f"{_name}.default"] = "self"

_BINARY_OPERATORS = {
    operator.add: "add",
    operator.sub: "sub",
    operator.mul: "mul",
    operator.truediv: "div",
    operator.floordiv: "floor_divide",
    operator.mod: "remainder",
    operator.pow: "pow",
    operator.eq: "eq",
    operator.ne: "ne",
    operator.lt: "lt",
    operator.le: "le",
    operator.gt: "gt",
    operator.ge: "ge",
}


def _schema(op: str) -> tuple[list[str], list[str]]:
    text = SCHEMAS[op]
    positional, _, keyword = text.partition("*")
    split = lambda s: [a.strip() for a in s.split(",") if a.strip()]  # noqa: E731
    return split(positional), split(keyword)


class _Lowering:
    """Rewrites the fx trace of an ember module into a graph of ATen operators."""

    def __init__(self, root: Module, values: dict[Node, Any]) -> None:
        self.root = root
        self.values = values
        self.graph = Graph()
        self.env: dict[Node, Any] = {}
        self.lifted: dict[str, Node] = {}
        self.input_specs: list[InputSpec] = []

    # -- building ----------------------------------------------------------------------------------
    def emit(self, op: str, *args: Any, **kwargs: Any) -> Node:
        if op not in SCHEMAS:
            raise NotImplementedError(f"ember.export: no schema for aten.{op}")
        positional, keyword = _schema(op)
        if len(args) > len(positional) or any(k not in keyword and k not in positional for k in kwargs):
            raise AssertionError(f"ember.export: bad arguments for aten.{op}")
        node = self.graph.create_node(
            "call_function", get_op(f"torch.ops.aten.{op}"), tuple(args), kwargs, name=op.split(".")[0]
        )
        node.meta["arg_names"] = [(n, 1) for n in positional[: len(args)]] + [(k, 2) for k in kwargs]
        return node

    def state(self, target: str) -> Node:
        """The placeholder of a parameter, buffer or tensor constant, lifted on first use."""
        if target in self.lifted:
            return self.lifted[target]
        owner, _, name = target.rpartition(".")
        module = self.root.get_submodule(owner) if owner else self.root
        if name in module._parameters:
            kind, prefix = InputKind.PARAMETER, "p_"
        elif name in module._buffers:
            kind, prefix = InputKind.BUFFER, "b_"
        else:
            kind, prefix = InputKind.CONSTANT_TENSOR, "c_"
        placeholder = self.graph.placeholder(prefix + target.replace(".", "_"))
        persistent = (
            name not in getattr(module, "_non_persistent_buffers_set", set()) if kind is InputKind.BUFFER else None
        )
        self.input_specs.append(InputSpec(kind, placeholder.name, target, persistent))
        self.lifted[target] = placeholder
        return placeholder

    def arg(self, a: Any) -> Any:
        if isinstance(a, Node):
            return self.env[a]
        if isinstance(a, (list, tuple)):
            return type(a)(self.arg(x) for x in a)
        if isinstance(a, dict):
            return {k: self.arg(v) for k, v in a.items()}
        return a

    def is_tensor(self, a: Any) -> bool:
        return isinstance(a, Node) and isinstance(a.meta.get("ember_val"), Tensor)

    # -- lowering each kind of node ----------------------------------------------------------------
    def lower(self, node: Node) -> Any:
        args = tuple(self.arg(a) for a in node.args)
        kwargs = {k: self.arg(v) for k, v in node.kwargs.items()}
        if node.op == "get_attr":
            return self.state(node.target)
        if node.op == "call_module":
            return self.module(node, self.root.get_submodule(node.target), args, kwargs)
        if node.op == "call_method":
            return self.method(node, node.target, args, kwargs)
        if node.op == "call_function":
            return self.function(node, node.target, args, kwargs)
        raise NotImplementedError(f"ember.export: fx node {node.op} is not supported")

    def module(self, node: Node, m: Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        import ember.nn as nn

        x = args[0] if args else kwargs.get("input")
        path = node.target

        def p(name: str) -> Any:
            return self.state(f"{path}.{name}") if getattr(m, name, None) is not None else None

        if isinstance(m, nn.Linear):
            return self.emit("linear.default", x, p("weight"), p("bias"))
        if (
            isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d))
            and m.padding_mode == "zeros"
            and not isinstance(m.padding, str)
        ):
            n = m.weight.dim() - 2
            return self.emit(
                f"conv{n}d.default",
                x,
                p("weight"),
                p("bias"),
                list(m.stride),
                list(m.padding),
                list(m.dilation),
                m.groups,
            )
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.momentum is not None:
            training = m.training or not m.track_running_stats
            if m.training and m.track_running_stats:
                self.emit("add_.Tensor", p("num_batches_tracked"), 1)
            rm = p("running_mean") if m.track_running_stats else None
            rv = p("running_var") if m.track_running_stats else None
            return self.emit(
                "batch_norm.default",
                x,
                p("weight"),
                p("bias"),
                rm,
                rv,
                training,
                float(m.momentum),
                float(m.eps),
                False,
            )
        if isinstance(m, nn.LayerNorm):
            return self.emit("layer_norm.default", x, list(m.normalized_shape), p("weight"), p("bias"), float(m.eps))
        if isinstance(m, nn.Embedding) and m.max_norm is None:
            idx = -1 if m.padding_idx is None else m.padding_idx
            return self.emit("embedding.default", p("weight"), x, idx)
        if isinstance(m, nn.Dropout):
            return self.emit("dropout.default", x, float(m.p), m.training)
        if isinstance(m, nn.Identity):
            return x
        if isinstance(m, (nn.LSTM, nn.GRU)) and not getattr(m, "proj_size", 0):
            return self.recurrent(m, path, x, args[1] if len(args) > 1 else kwargs.get("hx"))
        if isinstance(m, nn.Flatten):
            return self.emit("flatten.using_ints", x, m.start_dim, m.end_dim)
        if isinstance(m, nn.GELU):
            return (
                self.emit("gelu.default", x, approximate=m.approximate)
                if m.approximate != "none"
                else self.emit("gelu.default", x)
            )
        if isinstance(m, nn.Softmax):
            return self.emit("softmax.int", x, m.dim)
        if isinstance(m, nn.LogSoftmax):
            return self.emit("log_softmax.int", x, m.dim)
        if isinstance(m, nn.LeakyReLU):
            return self.emit("leaky_relu.default", x, float(m.negative_slope))
        if isinstance(m, nn.Hardtanh):  # ReLU6 too
            return self.emit("hardtanh.default", x, float(m.min_val), float(m.max_val))
        if isinstance(m, nn.MaxPool2d) and not m.return_indices:
            pair = lambda v: list(v) if isinstance(v, (tuple, list)) else [v, v]  # noqa: E731
            return self.emit(
                "max_pool2d.default",
                x,
                pair(m.kernel_size),
                pair(m.stride),
                pair(m.padding),
                pair(m.dilation),
                m.ceil_mode,
            )
        if isinstance(m, nn.AvgPool2d):
            pair = lambda v: list(v) if isinstance(v, (tuple, list)) else [v, v]  # noqa: E731
            return self.emit(
                "avg_pool2d.default", x, pair(m.kernel_size), pair(m.stride), pair(m.padding), m.ceil_mode,
                m.count_include_pad, m.divisor_override,
            )  # fmt: skip
        if isinstance(m, nn.AdaptiveAvgPool2d):
            out_size: Any = m.output_size
            sizes = list(out_size) if isinstance(out_size, (tuple, list)) else [out_size, out_size]
            if None not in sizes:
                return self.emit("adaptive_avg_pool2d.default", x, sizes)
        for cls, name in ((nn.ReLU, "relu"), (nn.Tanh, "tanh"), (nn.Sigmoid, "sigmoid"), (nn.SiLU, "silu")):
            if type(m) is cls:
                return self.emit(f"{name}.default", x)
        for other, name in ((nn.Hardswish, "hardswish"), (nn.Hardsigmoid, "hardsigmoid"), (nn.Mish, "mish")):
            if type(m) is other:
                return self.emit(f"{name}.default", x)
        raise NotImplementedError(f"ember.export: the layer {type(m).__name__} ({path}) has no ATen lowering")

    def recurrent(self, m: Any, path: Any, x: Any, hx: Any) -> Any:
        """``nn.LSTM``/``nn.GRU`` on a padded batch: ``aten.lstm.input``/``aten.gru.input`` as torch.export records them."""
        import ember.nn as nn

        value = self.values_of(x)
        if not isinstance(value, Tensor):
            raise NotImplementedError(f"ember.export: {type(m).__name__} on a packed sequence has no ATen lowering")
        lstm = isinstance(m, nn.LSTM)
        batched = value.dim() == 3
        if not batched:
            raise NotImplementedError(f"ember.export: {type(m).__name__} on an unbatched input has no ATen lowering")
        directions = 2 if m.bidirectional else 1
        if hx is None:
            batch = self.emit("sym_size.int", x, 0 if m.batch_first else 1)
            size = [m.num_layers * directions, batch, m.hidden_size]
            h0 = self.emit("zeros.default", size, dtype=value.dtype, device=value.device, pin_memory=False)
            h0.meta["ember_val"] = value.new_zeros(
                (m.num_layers * directions, value.shape[0 if m.batch_first else 1], m.hidden_size)
            )
            hx = (
                [h0, self.emit("zeros.default", size, dtype=value.dtype, device=value.device, pin_memory=False)]
                if lstm
                else h0
            )
            if lstm:
                hx[1].meta["ember_val"] = h0.meta["ember_val"]
        params = [self.state(f"{path}.{name}") for name in m._flat_weights_names]
        op = "lstm.input" if lstm else "gru.input"
        hx_arg = list(hx) if lstm else hx  # aten.gru.input takes one Tensor hx
        node = self.emit(
            op, x, hx_arg, params, m.bias, m.num_layers, float(m.dropout), m.training, m.bidirectional, m.batch_first
        )
        outs = tuple(self.graph.call_function(operator.getitem, (node, i), {}) for i in range(3 if lstm else 2))
        return (outs[0], (outs[1], outs[2])) if lstm else (outs[0], outs[1])

    def shape_of(self, x: Node) -> list[Any]:
        rank = self.values_of(x).dim()
        return [self.emit("sym_size.int", x, i) for i in range(rank)]

    def values_of(self, x: Node) -> Any:
        return x.meta["ember_val"]

    def sizes(self, size: Any) -> list[Any]:
        if len(size) == 1 and isinstance(size[0], (list, tuple)):
            size = size[0]
        return list(size)

    def method(self, node: Node, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        x, rest = args[0], args[1:]
        if name in ("view", "reshape"):
            op = "view.default" if name == "view" else "reshape.default"
            return self.emit(op, x, self.sizes(rest or (kwargs.get("shape") or kwargs.get("size"),)))
        if name == "size":
            dim = rest[0] if rest else kwargs.get("dim")
            return self.shape_of(x) if dim is None else self.emit("sym_size.int", x, dim)
        if name == "dim":
            return self.values_of(x).dim()
        if name == "permute":
            return self.emit("permute.default", x, self.sizes(rest))
        if name == "expand":
            return self.emit("expand.default", x, self.sizes(rest))
        if name in (
            "contiguous",
            "clone",
            "flatten",
            "transpose",
            "unsqueeze",
            "t",
            "chunk",
            "split",
            "softmax",
            "log_softmax",
            "matmul",
        ):
            return self.function(node, name, args, kwargs)
        if name == "squeeze":
            return self.function(node, "squeeze", args, kwargs)
        if name in _BINARY or name in ("sum", "mean", "masked_fill", "clamp"):
            return self.function(node, name, args, kwargs)
        if name in _UNARY and not rest and not kwargs:
            return self.emit(f"{name}.default", x)
        raise NotImplementedError(f"ember.export: the tensor method {name!r} has no ATen lowering")

    def binary(self, name: str, a: Any, b: Any, alpha: Any = None) -> Any:
        a_t, b_t = isinstance(a, Node) and self.is_tensor(a), isinstance(b, Node) and self.is_tensor(b)
        if not a_t and not b_t:  # sizes: Python arithmetic, recorded as ``_operator`` nodes
            fn = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
                  "floor_divide": operator.floordiv, "remainder": operator.mod}.get(name)  # fmt: skip
            if fn is None or not (isinstance(a, Node) or isinstance(b, Node)):
                raise NotImplementedError(f"ember.export: {name} of sizes has no lowering")
            node = self.graph.call_function(get_op(f"_operator.{fn.__name__}"), (a, b), {})
            node.meta["arg_names"] = [("a", 1), ("b", 1)]
            return node
        both, number_second, number_first = _BINARY[name]
        if not a_t:  # a number first
            if number_first is not None:
                return self.emit(f"{name}.{number_first}", a, b)
            if name in _TURNED and alpha in (None, 1):
                return self.binary(_TURNED[name], b, a)
            if name == "sub":
                return self.emit("rsub.Scalar", b, a, *(() if alpha in (None, 1) else (alpha,)))
            if name == "div":  # as torch records ``0.5 / x``
                return self.emit("mul.Tensor", self.emit("reciprocal.default", b), a)
            raise NotImplementedError(f"ember.export: {name} of a number and a tensor has no lowering")
        overload = both if b_t else number_second
        if overload is None:
            raise NotImplementedError(f"ember.export: {name} of a tensor and a number has no lowering")
        if alpha is not None and alpha != 1:
            return self.emit(f"{name}.{overload}", a, b, alpha=alpha)
        return self.emit(f"{name}.{overload}", a, b)

    def getitem(self, node: Node, obj: Any, index: Any) -> Any:
        if isinstance(obj, (list, tuple)):
            return obj[index]
        source = node.args[0]
        if isinstance(source, Node) and isinstance(source.meta.get("ember_val"), (tuple, list)):
            out = self.graph.call_function(operator.getitem, (obj, index), {})
            return out
        if not self.is_tensor(obj):
            raise NotImplementedError(f"ember.export: indexing {type(obj).__name__} has no lowering")
        index = index if isinstance(index, tuple) else (index,)
        out, dim = obj, 0
        for item in index:
            if item is None:
                out = self.emit("unsqueeze.default", out, dim)
                dim += 1
            elif item is Ellipsis:
                rank = self.values_of(obj).dim()
                dim += rank - (len(index) - 1 - sum(1 for i in index if i is None))
            elif isinstance(item, int):
                out = self.emit("select.int", out, dim, item)
            elif isinstance(item, slice):
                if item != slice(None):
                    out = self.emit(
                        "slice.Tensor", out, dim, item.start, item.stop, 1 if item.step is None else item.step
                    )
                dim += 1
            else:
                raise NotImplementedError("ember.export: indexing with tensors has no lowering")
        return out

    def function(self, node: Node, target: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        import ember
        import ember.nn.functional as F

        name = target if isinstance(target, str) else getattr(target, "__name__", "")
        if target in _BINARY_OPERATORS:
            return self.binary(_BINARY_OPERATORS[target], *args)
        if target is operator.matmul or name == "matmul":
            return self.emit("matmul.default", *args)
        if target is operator.neg:
            return self.emit("neg.default", args[0])
        if target is operator.getitem:
            return self.getitem(node, *args)
        if target is builtins.getattr:
            obj, attr = args
            if attr == "shape":
                return self.shape_of(obj)
            if attr == "ndim":
                return self.values_of(obj).dim()
            if attr == "T":
                return self.emit("t.default", obj)
            raise NotImplementedError(f"ember.export: the attribute {attr!r} has no lowering")
        own = isinstance(target, str) or target is getattr(ember, name, None) or target is getattr(F, name, None)
        if not own:
            raise NotImplementedError(
                f"ember.export: the function {getattr(target, '__module__', '')}.{name} has no ATen lowering"
            )
        x = args[0] if args else kwargs.pop("input", None)
        rest = list(args[1:])

        def opt(i: int, key: str, default: Any) -> Any:
            return rest[i] if len(rest) > i else kwargs.get(key, default)

        if name in _BINARY:
            other = rest[0] if rest else kwargs.get("other", kwargs.get("exponent"))
            if "rounding_mode" in kwargs:  # even None: as torch records it
                if not self.is_tensor(x):
                    raise NotImplementedError(f"ember.export: {name} of a number with rounding_mode has no lowering")
                return self.emit("div.Tensor_mode", x, other, rounding_mode=kwargs["rounding_mode"])
            return self.binary(name, x, other, kwargs.get("alpha"))
        if name in _UNARY and not rest:
            if name == "relu" and kwargs.get("inplace"):
                kwargs.pop("inplace")
            return self.emit(f"{name}.default", x)
        if name == "linear":
            return self.emit("linear.default", x, opt(0, "weight", None), opt(1, "bias", None))
        if name == "gelu":
            approximate = opt(0, "approximate", "none")
            return (
                self.emit("gelu.default", x, approximate=approximate)
                if approximate != "none"
                else self.emit("gelu.default", x)
            )
        if name in ("softmax", "log_softmax"):
            dim = opt(0, "dim", None)
            if dim is None:
                raise NotImplementedError(f"ember.export: {name} without dim has no lowering")
            return self.emit(f"{name}.int", x, dim)
        if name == "flatten":
            return self.emit("flatten.using_ints", x, opt(0, "start_dim", 0), opt(1, "end_dim", -1))
        if name == "transpose":
            return self.emit("transpose.int", x, opt(0, "dim0", None), opt(1, "dim1", None))
        if name == "t":
            return self.emit("t.default", x)
        if name == "unsqueeze":
            return self.emit("unsqueeze.default", x, opt(0, "dim", None))
        if name == "squeeze":
            dim = opt(0, "dim", None)
            return self.emit("squeeze.default", x) if dim is None else self.emit("squeeze.dim", x, dim)
        if name in ("contiguous", "clone"):
            return self.emit(f"{name}.default", x)
        if name in ("sum", "mean"):
            dim = opt(0, "dim", None)
            keepdim = opt(1, "keepdim", False)
            if dim is None:
                return self.emit(f"{name}.default", x)
            dims = list(dim) if isinstance(dim, (list, tuple)) else [dim]
            return self.emit(f"{name}.dim" if name == "mean" else "sum.dim_IntList", x, dims, keepdim)
        if name in ("cat", "concat", "concatenate", "stack"):
            op = "stack.default" if name == "stack" else "cat.default"
            return self.emit(op, list(x), opt(0, "dim", 0))
        if name in ("split", "chunk"):
            size = opt(0, "split_size_or_sections" if name == "split" else "chunks", None)
            if name == "split" and isinstance(size, (list, tuple)):
                raise NotImplementedError("ember.export: split with a list of sizes has no lowering")
            whole = self.emit("split.Tensor" if name == "split" else "chunk.default", x, size, opt(1, "dim", 0))
            count = len(node.meta["ember_val"])
            return tuple(self.graph.call_function(operator.getitem, (whole, i), {}) for i in range(count))
        if name == "scaled_dot_product_attention":
            q, k, v = x, rest[0], rest[1]
            mask = opt(2, "attn_mask", None)
            dropout_p = opt(3, "dropout_p", 0.0)
            causal = opt(4, "is_causal", False)
            scale = kwargs.get("scale")
            extra = {"scale": scale} if scale is not None else {}
            return self.emit("scaled_dot_product_attention.default", q, k, v, mask, dropout_p, causal, **extra)
        if name == "dropout":
            return self.emit("dropout.default", x, float(opt(0, "p", 0.5)), bool(opt(1, "training", True)))
        if name == "where":
            return self.emit("where.self", x, rest[0], rest[1])
        if name in ("conv1d", "conv2d", "conv3d"):
            n = int(name[4])
            padding = opt(3, "padding", 0)
            if not isinstance(padding, str):

                def many(v: Any) -> list[Any]:
                    return list(v) if isinstance(v, (tuple, list)) else [v] * n

                return self.emit(
                    f"{name}.default", x, opt(0, "weight", None), opt(1, "bias", None), many(opt(2, "stride", 1)),
                    many(padding), many(opt(4, "dilation", 1)), opt(5, "groups", 1),
                )  # fmt: skip
        wants_indices = name == "max_pool2d" and bool(opt(5, "return_indices", False))
        if name in ("max_pool2d", "avg_pool2d") and not wants_indices:

            def pair(v: Any) -> list[Any]:
                return list(v) if isinstance(v, (tuple, list)) else [v, v]

            kernel = pair(opt(0, "kernel_size", None))
            stride = opt(1, "stride", None)
            stride = kernel if stride is None or stride == [] else pair(stride)
            if name == "max_pool2d":
                return self.emit(
                    "max_pool2d.default", x, kernel, stride, pair(opt(2, "padding", 0)), pair(opt(3, "dilation", 1)),
                    bool(opt(4, "ceil_mode", False)),
                )  # fmt: skip
            return self.emit(
                "avg_pool2d.default", x, kernel, stride, pair(opt(2, "padding", 0)), bool(opt(3, "ceil_mode", False)),
                bool(opt(4, "count_include_pad", True)), opt(5, "divisor_override", None),
            )  # fmt: skip
        if name == "leaky_relu":
            return self.emit("leaky_relu.default", x, float(opt(0, "negative_slope", 0.01)))
        if name in ("hardtanh", "relu6"):
            low, high = (
                (0.0, 6.0) if name == "relu6" else (float(opt(0, "min_val", -1.0)), float(opt(1, "max_val", 1.0)))
            )
            return self.emit("hardtanh.default", x, low, high)
        if name == "adaptive_avg_pool2d":
            size = opt(0, "output_size", None)
            size = list(size) if isinstance(size, (tuple, list)) else [size, size]
            if None not in size:
                return self.emit("adaptive_avg_pool2d.default", x, size)
        if name == "layer_norm":
            shape = opt(0, "normalized_shape", None)
            shape = list(shape) if isinstance(shape, (tuple, list)) else [shape]
            return self.emit(
                "layer_norm.default", x, shape, opt(1, "weight", None), opt(2, "bias", None), float(opt(3, "eps", 1e-5))
            )
        if name == "embedding" and opt(2, "max_norm", None) is None:
            padding_idx = opt(1, "padding_idx", None)
            return self.emit("embedding.default", opt(0, "weight", None), x, -1 if padding_idx is None else padding_idx)
        if name == "clamp":
            bounds = [opt(0, "min", None), opt(1, "max", None)]  # both tensors or both numbers (else a TypeError)
            overload = "clamp.Tensor" if any(self.is_tensor(v) for v in bounds) else "clamp.default"
            return self.emit(overload, x, *bounds[: 2 if bounds[1] is not None else 1])  # as torch: no max=None
        if name == "masked_fill":
            return self.emit("masked_fill.Scalar", x, rest[0], rest[1])
        raise NotImplementedError(f"ember.export: the function ember.{name} has no ATen lowering")


class _Recorder(Interpreter):
    """Runs a graph and keeps each node's value in ``node.meta[key]``."""

    def __init__(self, module: Module, key: str, graph: Graph | None = None) -> None:
        super().__init__(module, garbage_collect_values=False, graph=graph)
        self.key = key

    def run_node(self, n: Node) -> Any:
        value = super().run_node(n)
        n.meta[self.key] = value
        return value


def _with_state_restored(module: Module, fn: Any) -> Any:
    """Runs ``fn`` and puts the module's buffers back as they were (export does not train the model)."""
    saved = {name: b.clone() for name, b in module.named_buffers()}
    try:
        with no_grad():
            return fn()
    finally:
        with no_grad():
            for name, b in module.named_buffers():
                if name in saved:
                    b.copy_(saved[name])


def export(
    mod: Module,
    args: tuple[Any, ...],
    kwargs: dict[str, Any] | None = None,
    *,
    dynamic_shapes: Any = None,
    strict: bool = False,
    preserve_module_call_signature: tuple[str, ...] = (),
) -> ExportedProgram:
    r"""Captures ``mod``'s forward pass on ``args`` as an :class:`ExportedProgram` of ATen operators.

    As ``torch.export.export``: the program's graph takes the parameters, buffers and tensor
    constants (lifted) and then the user's inputs; :meth:`ExportedProgram.module` runs it. Sizes
    read in ``forward`` (``x.shape[0]``, ``x.size(1)``) are recorded as ``aten.sym_size.int`` nodes;
    the module checks its inputs' sizes as PyTorch's does (``AssertionError: Guard failed: ...``):
    fixed to the example's, except the dimensions ``dynamic_shapes`` marks with a :class:`Dim`
    (within its ``min``/``max``; dimensions sharing a :class:`Dim` must be equal). Batch norm in
    training mode updates its running statistics in place, as in PyTorch's training-IR graphs.

    Args:
        mod (Module): the module to export.
        args (tuple): example positional inputs.
        kwargs (dict, optional): example keyword inputs. Default: ``None``
        dynamic_shapes (dict, tuple or list, optional): per input (by ``forward``'s argument name, or in
            order), ``{dim: Dim}`` or a per-dimension list of :class:`Dim`/``None``. Default: ``None``
        strict (bool): accepted for PyTorch's signature. Default: ``False``

    Raises:
        NotImplementedError: a layer, function or method of ``forward`` has no ATen lowering (the
            message names it); ``ember.fx``'s ``TraceError`` for data-dependent control flow.

    Example::

        >>> import ember.export
        >>> model = ember.nn.Sequential(ember.nn.Linear(4, 3), ember.nn.ReLU())
        >>> ep = ember.export.export(model, (ember.randn(2, 4),))
        >>> [str(n.target) for n in ep.graph.nodes if n.op == "call_function"]
        ['torch.ops.aten.linear.default', 'torch.ops.aten.relu.default']
        >>> x = ember.randn(2, 4)
        >>> ember.equal(ep.module()(x), model(x))
        True
    """
    if not isinstance(mod, Module):
        raise TypeError(f"ember.export.export: expected an ember.nn.Module, got {type(mod).__name__}")
    if not isinstance(args, tuple):
        raise TypeError(f"ember.export.export: expected args to be a tuple, got {type(args).__name__}")
    kwargs = dict(kwargs or {})
    kwargs_given = dict(kwargs)
    with _exporting_scope():  # the module's forward sees compiler.is_exporting() True, as in PyTorch
        traced = symbolic_trace(mod)
    placeholders = [n for n in traced.graph.nodes if n.op == "placeholder"]
    names = [n.target for n in placeholders]
    flat_inputs: list[Any] = list(args)
    for name in names[len(args) :]:
        if name in kwargs:
            flat_inputs.append(kwargs.pop(name))
        else:
            break
    if kwargs:
        raise TypeError(f"ember.export.export: unexpected keyword inputs {sorted(kwargs)}")
    if len(flat_inputs) != len(placeholders):
        placeholders = placeholders[: len(flat_inputs)]
    with _exporting_scope():
        _with_state_restored(mod, lambda: _Recorder(traced, "ember_val").run(*flat_inputs))
    lowering = _Lowering(mod, {})
    user_specs: list[InputSpec] = []
    user_nodes: list[Node] = []
    for ph, value in zip(placeholders, flat_inputs):
        if not isinstance(value, Tensor):
            raise NotImplementedError(f"ember.export: the input {ph.target!r} is not a tensor ({type(value).__name__})")
    # every parameter, then every buffer, lifted in the module's order (as torch.export: unused ones too)
    for name, _ in mod.named_parameters():
        lowering.state(name)
    for name, _ in mod.named_buffers():
        lowering.state(name)
    result: Any = None
    for node in traced.graph.nodes:
        if node.op == "placeholder":
            if node in placeholders:
                new = lowering.graph.placeholder(node.name)
                new.meta["ember_val"] = node.meta.get("ember_val")
                if new.name != node.target:  # the signature and the archive name it as forward does (input)
                    new.meta["serialized_name"] = str(node.target)
                user_nodes.append(new)
                user_specs.append(InputSpec(InputKind.USER_INPUT, str(node.target), None))
                lowering.env[node] = new
            else:
                lowering.env[node] = node.args[0] if node.args else None
            continue
        if node.op == "output":
            result = lowering.arg(node.args[0])
            expected = _pytree.flatten(_values(node.args[0]), None)
            break
        lowered = lowering.lower(node)
        if isinstance(lowered, Node) and "ember_val" not in lowered.meta:
            lowered.meta["ember_val"] = node.meta.get("ember_val")
        lowering.env[node] = lowered
    out_spec = _pytree.spec_of(result)
    leaves = _pytree.flatten(result, out_spec)
    graph = lowering.graph
    # the lifted placeholders first, then the user's inputs, as torch.export orders them
    first_user = user_nodes[0] if user_nodes else None
    if first_user is not None:
        for spec in lowering.input_specs:
            lifted = lowering.lifted[spec.target]  # type: ignore[index]
            first_user.prepend(lifted)
    graph.output(tuple(leaves))
    for node in reversed(list(graph.nodes)):  # the sizes read but not used (``x.shape`` taken whole)
        if node.op == "call_function" and not node.users and getattr(node.target, "name", "").endswith("sym_size.int"):
            graph.erase_node(node)
    output_specs = [
        OutputSpec(OutputKind.USER_OUTPUT, leaf.name if isinstance(leaf, Node) else None, None) for leaf in leaves
    ]
    signature = ExportGraphSignature(lowering.input_specs + user_specs, output_specs)
    state_dict: dict[str, Tensor] = {}
    constants: dict[str, Any] = {}
    for spec in lowering.input_specs:
        value = _get(mod, spec.target)  # type: ignore[arg-type]
        if spec.kind is InputKind.CONSTANT_TENSOR:
            constants[spec.target] = value  # type: ignore[index]
        else:
            state_dict[spec.target] = value  # type: ignore[index]
    graph_module = GraphModule(Module(), graph)
    lifted_values = [state_dict.get(s.target, constants.get(s.target)) for s in lowering.input_specs]  # type: ignore[arg-type]
    outputs = _with_state_restored(mod, lambda: _Recorder(graph_module, "val").run(*lifted_values, *flat_inputs))
    _check_lowering(graph, expected, list(outputs))
    arg_names = [str(p.target) for p in placeholders]
    # as torch.export: the positional inputs, then the keyword ones (in forward's order, that of the graph)
    keyword_inputs = {name: kwargs_given[name] for name in arg_names if name in kwargs_given}
    in_spec = _pytree.spec_of((tuple(args), keyword_inputs))
    guards, ranges = _guards(arg_names, flat_inputs, dynamic_shapes)
    return ExportedProgram(
        graph_module,
        signature,
        state_dict,
        constants,
        in_spec=in_spec,
        out_spec=out_spec,
        forward_arg_names=arg_names,
        range_constraints=ranges,
        input_guards=guards,
        example_inputs=(tuple(args), keyword_inputs),
    )


def _guards(names: list[str], inputs: list[Any], dynamic_shapes: Any) -> tuple[list[Any], dict[str, Any]]:
    """Each input's sizes: fixed to the example's, or a symbol where ``dynamic_shapes`` names a :class:`Dim`."""
    if dynamic_shapes is None:
        per_input: list[Any] = [None] * len(inputs)
    elif isinstance(dynamic_shapes, dict):
        unknown = [k for k in dynamic_shapes if k not in names]
        if unknown:
            raise ValueError(
                f"ember.export.export: dynamic_shapes names {unknown}, which are not inputs of forward {names}"
            )
        per_input = [dynamic_shapes.get(n) for n in names]
    elif isinstance(dynamic_shapes, (tuple, list)):
        if len(dynamic_shapes) != len(inputs):
            raise ValueError(
                f"ember.export.export: dynamic_shapes has {len(dynamic_shapes)} entries for {len(inputs)} inputs"
            )
        per_input = list(dynamic_shapes)
    else:
        raise TypeError(
            f"ember.export.export: dynamic_shapes must be a dict, tuple or list, got {type(dynamic_shapes).__name__}"
        )
    guards: list[Any] = []
    ranges: dict[str, Any] = {}
    for name, value, spec in zip(names, inputs, per_input):
        shape = list(value.shape)
        dims: list[Any] = list(shape)
        entries = spec.items() if isinstance(spec, dict) else enumerate(spec) if isinstance(spec, (tuple, list)) else ()
        for i, dim in entries:
            if dim is None or dim is Dim.STATIC:
                continue
            if not isinstance(i, int) or not -len(shape) <= i < len(shape):
                raise ValueError(
                    f"ember.export.export: dynamic_shapes names dimension {i} of {name}, which has {len(shape)}"
                )
            symbol = f"{name}_dim{i % len(shape)}" if dim in (Dim.AUTO, Dim.DYNAMIC) else getattr(dim, "__name__", None)
            if symbol is None:
                raise TypeError(f"ember.export.export: dynamic_shapes entries must be Dim objects, got {dim!r}")
            low, high = getattr(dim, "min", None), getattr(dim, "max", None)
            size = shape[i]
            if (high is not None and size > high) or (low is not None and size < low):
                raise ValueError(
                    f"ember.export.export: the example's {name}.size()[{i}] = {size} is outside the range [{low}, {high}] of {symbol}"
                )
            dims[i] = (symbol, low, high)
            ranges[symbol] = (low, high)
        guards.append((name, dims))
    return guards, ranges


def _values(arg: Any) -> Any:
    """The values the traced module computed for an output structure of fx nodes."""
    if isinstance(arg, Node):
        return arg.meta.get("ember_val")
    if isinstance(arg, (tuple, list)):
        return type(arg)(_values(a) for a in arg)
    if isinstance(arg, dict):
        return {k: _values(v) for k, v in arg.items()}
    return arg


def _check_lowering(graph: Graph, expected: list[Any], got: list[Any]) -> None:
    """The ATen graph gives the module's outputs on the example inputs (a lowering mistake is an error, never a
    silently different program); skipped where the graph draws random numbers (dropout in training)."""
    import ember

    for node in graph.nodes:
        name = getattr(node.target, "name", "")
        if name.endswith(("dropout.default", "native_dropout.default")) and (len(node.args) < 3 or node.args[2]):
            return
    for a, b in zip(expected, got):
        if not isinstance(a, Tensor) or not isinstance(b, Tensor):
            continue
        same = a.shape == b.shape and a.dtype == b.dtype
        if same and a.numel():
            if a.is_floating_point() or a.is_complex():
                same = bool(ember.allclose(b.detach(), a.detach(), rtol=1e-4, atol=1e-5, equal_nan=True))
            else:
                same = bool(ember.equal(a, b))
        if not same:
            raise RuntimeError(
                "ember.export.export: the exported graph does not reproduce the module's output on the example "
                f"inputs (shape {list(b.shape)} {b.dtype}, expected {list(a.shape)} {a.dtype}); please report this"
            )


def _get(root: Module, target: str) -> Any:
    value: Any = root
    for part in target.split("."):
        value = getattr(value, part)
    return value
