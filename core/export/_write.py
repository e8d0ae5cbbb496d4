"""Writing an :class:`ExportedProgram` as a ``torch.export`` ``.pt2`` archive (the layout ``_serialize`` reads)."""

from __future__ import annotations

import json
import math
import operator
import os
import zipfile
from typing import IO, Any

import numpy as np

from ..fx.node import Node
from ..nn.parameter import Parameter
from ..tensor import Tensor
from . import _pytree
from ._aten import OpOverload
from ._serialize import scalar_type_code
from .exported_program import ExportedProgram
from .graph_signature import InputKind, OutputKind

__all__ = ["write_archive"]

_SCHEMA_VERSION = {"major": 8, "minor": 20}


def _device(t: Tensor) -> dict[str, Any]:
    return {"type": t.device.type, "index": t.device.index}


def _tensor_meta(t: Tensor) -> dict[str, Any]:
    return {
        "dtype": scalar_type_code(t.dtype),
        "sizes": [{"as_int": int(s)} for s in t.shape],
        "requires_grad": bool(t.requires_grad),
        "device": _device(t),
        "strides": [{"as_int": int(s)} for s in t.stride()],
        "storage_offset": {"as_int": 0},
        "layout": 7,
    }


def _contiguous_meta(t: Tensor) -> dict[str, Any]:
    meta = _tensor_meta(t)
    strides, acc = [], 1
    for size in reversed(list(t.shape)):
        strides.append({"as_int": acc})
        acc *= max(int(size), 1)
    meta["strides"] = list(reversed(strides))
    return meta


def _name(node: Any) -> str:
    """The value's name in the archive: the one it was read under (an fx name may differ: input -> input_1)."""
    return str(node.meta.get("serialized_name", node.name))


def _symbol(name: str, hint: int) -> dict[str, Any]:
    """A symbolic size in the archive's form (a SymPy expression string and the example's value)."""
    return {"as_expr": {"expr_str": f"Symbol({name!r}, positive=True, integer=True)", "hint": {"as_int": hint}}}


def _float(v: float) -> Any:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


class _GraphWriter:
    def __init__(self) -> None:
        self.tensor_values: dict[str, Any] = {}
        self.sym_int_values: dict[str, Any] = {}
        # a getitem node folded into its producer: the producer's output names
        self.folded: set[Node] = set()

    def is_tensor(self, n: Node) -> bool:
        return isinstance(n.meta.get("val"), Tensor)

    def argument(self, a: Any) -> dict[str, Any]:
        import ember

        if isinstance(a, Node):
            val = a.meta.get("val")
            if isinstance(val, Tensor):
                return {"as_tensor": {"name": _name(a)}}
            if isinstance(val, bool):
                return {"as_sym_bool": {"as_name": _name(a)}}
            if isinstance(val, int):
                return {"as_sym_int": {"as_name": _name(a)}}
            if isinstance(val, float):
                return {"as_sym_float": {"as_name": _name(a)}}
            raise NotImplementedError(f"ember.export.save: the value {a.name} ({type(val).__name__}) cannot be written")
        if a is None:
            return {"as_none": True}
        if isinstance(a, bool):
            return {"as_bool": a}
        if isinstance(a, int):
            return {"as_int": a}
        if isinstance(a, float):
            return {"as_float": _float(a)}
        if isinstance(a, str):
            return {"as_string": a}
        if isinstance(a, complex):
            return {"as_complex": {"real": a.real, "imag": a.imag}}
        if isinstance(a, ember.dtype):
            return {"as_scalar_type": scalar_type_code(a)}
        if isinstance(a, ember.device):
            return {"as_device": {"type": a.type, "index": a.index}}
        if a is ember.strided:
            return {"as_layout": 7}
        formats = {ember.contiguous_format: 1, ember.channels_last: 2, ember.preserve_format: 4}
        if any(a is f for f in formats):
            return {"as_memory_format": next(v for f, v in formats.items() if a is f)}
        if isinstance(a, (list, tuple)):
            items = list(a)
            if all(isinstance(x, Node) and self.is_tensor(x) for x in items) and items:
                return {"as_tensors": [{"name": _name(x)} for x in items]}
            if any(isinstance(x, Node) and self.is_tensor(x) for x in items):
                return {
                    "as_optional_tensors": [
                        {"as_tensor": {"name": _name(x)}} if x is not None else {"as_none": True} for x in items
                    ]
                }
            if any(isinstance(x, Node) for x in items):
                return {"as_sym_ints": [{"as_name": _name(x)} if isinstance(x, Node) else {"as_int": x} for x in items]}
            if all(isinstance(x, bool) for x in items) and items:
                return {"as_bools": items}
            if all(isinstance(x, int) and not isinstance(x, bool) for x in items):
                return {"as_ints": items}
            if all(isinstance(x, (int, float)) for x in items):
                return {"as_floats": [_float(float(x)) for x in items]}
            if all(isinstance(x, str) for x in items):
                return {"as_strings": items}
        raise NotImplementedError(f"ember.export.save: the argument {a!r} cannot be written")

    def outputs(self, node: Node) -> list[dict[str, Any]]:
        val = node.meta.get("val")
        if isinstance(val, Tensor):
            return [{"as_tensor": {"name": _name(node)}}]
        if isinstance(val, (bool, int, float)):
            kind = "as_sym_bool" if isinstance(val, bool) else "as_sym_int" if isinstance(val, int) else "as_sym_float"
            return [{kind: {"as_name": _name(node)}}]
        if isinstance(val, (list, tuple)):
            names = [f"{_name(node)}_unused_{i}" for i in range(len(val))]
            for user in node.users:
                if user.op == "call_function" and user.target is operator.getitem:
                    names[user.args[1]] = _name(user)
                    self.folded.add(user)
            if isinstance(val, list):
                return [{"as_tensors": [{"name": n} for n in names]}]
            return [{"as_tensor": {"name": n}} for n in names]
        if val is None:
            return [{"as_none": True}]
        raise NotImplementedError(
            f"ember.export.save: the output of {node.name} ({type(val).__name__}) cannot be written"
        )

    def record(self, node: Node) -> None:
        val = node.meta.get("val")
        if isinstance(val, Tensor):
            self.tensor_values[_name(node)] = _tensor_meta(val)
        elif isinstance(val, int) and not isinstance(val, bool):
            self.sym_int_values[_name(node)] = {"as_int": val}
        elif isinstance(val, (list, tuple)):
            for user in node.users:
                if user.target is operator.getitem and isinstance(user.meta.get("val"), Tensor):
                    self.tensor_values[_name(user)] = _tensor_meta(user.meta["val"])
            for i, v in enumerate(val):
                if isinstance(v, Tensor):
                    self.tensor_values.setdefault(f"{_name(node)}_unused_{i}", _tensor_meta(v))

    def node(self, node: Node) -> dict[str, Any]:
        target = node.target
        if not isinstance(target, OpOverload):
            raise NotImplementedError(f"ember.export.save: the node {node.name} calls {target!r}, not an ATen operator")
        names = node.meta.get("arg_names")
        if names is None:
            raise NotImplementedError(f"ember.export.save: the argument names of {target.name} are not known")
        values = list(node.args) + list(node.kwargs.values())
        inputs = [
            {"name": name, "arg": self.argument(value), "kind": kind} for (name, kind), value in zip(names, values)
        ]
        return {
            "target": target.name,
            "inputs": inputs,
            "outputs": self.outputs(node),
            "metadata": {},
            "is_hop_single_tensor_return": None,
            "name": _name(node),
        }


def _input_spec(spec: Any) -> dict[str, Any]:
    if spec.kind is InputKind.USER_INPUT:
        return {"user_input": {"arg": {"as_tensor": {"name": spec.arg}}}}
    if spec.kind is InputKind.PARAMETER:
        return {"parameter": {"arg": {"name": spec.arg}, "parameter_name": spec.target}}
    if spec.kind is InputKind.BUFFER:
        return {
            "buffer": {
                "arg": {"name": spec.arg},
                "buffer_name": spec.target,
                "persistent": spec.persistent is not False,
            }
        }
    if spec.kind is InputKind.CONSTANT_TENSOR:
        return {"tensor_constant": {"arg": {"name": spec.arg}, "tensor_constant_name": spec.target}}
    raise NotImplementedError(f"ember.export.save: inputs of kind {spec.kind.name} cannot be written")


def _output_spec(spec: Any, writer: _GraphWriter, value: Any) -> dict[str, Any]:
    if spec.kind in (OutputKind.USER_OUTPUT, OutputKind.LOSS_OUTPUT):
        key = "user_output" if spec.kind is OutputKind.USER_OUTPUT else "loss_output"
        if key == "loss_output":
            return {key: {"arg": {"name": spec.arg}}}
        return {key: {"arg": writer.argument(value)}}
    if spec.kind is OutputKind.BUFFER_MUTATION:
        return {"buffer_mutation": {"arg": {"name": spec.arg}, "buffer_name": spec.target}}
    if spec.kind is OutputKind.PARAMETER_MUTATION:
        return {"parameter_mutation": {"arg": {"name": spec.arg}, "parameter_name": spec.target}}
    if spec.kind is OutputKind.USER_INPUT_MUTATION:
        return {"user_input_mutation": {"arg": {"name": spec.arg}, "user_input_name": spec.target}}
    raise NotImplementedError(f"ember.export.save: outputs of kind {spec.kind.name} cannot be written")


def _record_values(ep: ExportedProgram) -> None:
    """Runs the graph once on inputs made from the archive's recorded sizes and dtypes (zeros; copies of the
    state, which the run may update), for each value's metadata: a program read by :func:`load` has none."""
    import ember

    from ._trace import _Recorder

    inputs: list[Any] = []
    examples: list[Any] | None = None
    if ep.example_inputs is not None:  # the archive's own examples where it kept them
        try:
            examples = _pytree.flatten(ep.example_inputs, ep._in_spec)
        except (TypeError, ValueError, NotImplementedError):
            examples = None
    user_index = 0
    user = iter([s for s in ep.graph_signature.input_specs])
    for node, spec in zip([n for n in ep.graph.nodes if n.op == "placeholder"], user):
        if spec.kind is InputKind.USER_INPUT:
            if examples is not None and user_index < len(examples):
                inputs.append(examples[user_index])
                user_index += 1
                continue
            if "example_meta" not in node.meta:
                raise NotImplementedError(f"ember.export.save: the input {node.name} has no recorded size")
            dtype, sizes = node.meta["example_meta"]
            inputs.append(ember.zeros(sizes, dtype=dtype))
        else:
            value = ep.state_dict.get(spec.target, ep.constants.get(spec.target))  # type: ignore[arg-type]
            inputs.append(value.detach().clone() if isinstance(value, Tensor) else value)
    with ember.no_grad():
        _Recorder(ep.graph_module, "val").run(*inputs)


def _model_json(ep: ExportedProgram) -> dict[str, Any]:
    graph = ep.graph
    if any(n.op == "placeholder" and "val" not in n.meta for n in graph.nodes):
        _record_values(ep)
    writer = _GraphWriter()
    inputs, nodes, outputs = [], [], []
    # the user inputs' dynamic dimensions: written as symbols, so that a loader lets them vary
    user_names = [s.arg for s in ep.graph_signature.input_specs if s.kind is InputKind.USER_INPUT]
    dynamic: dict[str, dict[int, str]] = {}
    ranges: dict[str, Any] = {}
    for name, guard in zip(user_names, ep._input_guards):
        if guard is None:
            continue
        for i, dim in enumerate(guard[1]):
            if isinstance(dim, tuple):
                symbol, low, high = dim
                dynamic.setdefault(str(name), {})[i] = symbol
                ranges[symbol] = {"min_val": 0 if low is None else low, "max_val": high}
    for node in graph.nodes:
        if node.op == "placeholder":
            val = node.meta.get("val")
            if not isinstance(val, Tensor):
                raise NotImplementedError(
                    f"ember.export.save: the input {node.name} has no recorded tensor value (run the program once)"
                )
            writer.record(node)
            for i, symbol in dynamic.get(_name(node), {}).items():
                writer.tensor_values[_name(node)]["sizes"][i] = _symbol(symbol, int(val.shape[i]))
            inputs.append({"as_tensor": {"name": _name(node)}})
        elif node.op == "call_function":
            if node in writer.folded:
                continue
            writer.record(node)
            target = getattr(node.target, "name", "")
            if target == "torch.ops.aten.sym_size.int" and isinstance(node.args[0], Node):
                symbol = dynamic.get(_name(node.args[0]), {}).get(
                    int(node.args[1]) % max(node.args[0].meta["val"].dim(), 1)
                )
                if symbol is not None:
                    writer.sym_int_values[_name(node)] = _symbol(symbol, int(node.meta["val"]))
            nodes.append(writer.node(node))
        elif node.op == "output":
            outputs = list(node.args[0]) if isinstance(node.args[0], (tuple, list)) else [node.args[0]]
        else:
            raise NotImplementedError(f"ember.export.save: fx nodes of kind {node.op} cannot be written")
    out_args = [writer.argument(o) for o in outputs]
    signature = ep.graph_signature
    return {
        "graph_module": {
            "graph": {
                "inputs": inputs,
                "outputs": out_args,
                "nodes": nodes,
                "tensor_values": writer.tensor_values,
                "sym_int_values": writer.sym_int_values,
                "sym_bool_values": {},
                "is_single_tensor_return": False,
                "custom_obj_values": {},
                "sym_float_values": {},
            },
            "signature": {
                "input_specs": [_input_spec(s) for s in signature.input_specs],
                "output_specs": [_output_spec(s, writer, v) for s, v in zip(signature.output_specs, outputs)],
            },
            "module_call_graph": [
                {
                    "fqn": "",
                    "signature": {
                        "inputs": [],
                        "outputs": [],
                        "in_spec": _pytree.encode(ep._in_spec),
                        "out_spec": _pytree.encode(ep._out_spec),
                        "forward_arg_names": list(ep._forward_arg_names),
                    },
                }
            ],
            "metadata": {},
            "treespec_namedtuple_fields": {},
        },
        "opset_version": {"aten": 10},
        "range_constraints": ranges,
        "schema_version": _SCHEMA_VERSION,
        "verifiers": ["TRAINING"],
        "torch_version": "2.13.0",
        "guards_code": [],
    }


def _payload(tensors: dict[str, Tensor], prefix: str) -> tuple[dict[str, Any], dict[str, bytes]]:
    config: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    for i, (fqn, t) in enumerate(tensors.items()):
        path = f"{prefix}{i}"
        host = np.ascontiguousarray(t.detach().cpu().numpy()) if t.numel() else np.zeros(0, dtype=np.uint8)
        files[path] = host.astype(host.dtype.newbyteorder("<"), copy=False).tobytes()
        config[fqn] = {
            "path_name": path,
            "is_param": isinstance(t, Parameter),
            "use_pickle": False,
            "tensor_meta": _contiguous_meta(t),
        }
    return {"config": config}, files


def _example_inputs(ep: ExportedProgram) -> bytes:
    """``(args, kwargs)`` in PyTorch's ``.pt`` format, or nothing (which torch reads as none)."""
    if ep.example_inputs is None:
        return b""
    import io

    from ..serialization import save as _save

    args, kwargs = ep.example_inputs
    buffer = io.BytesIO()
    _save((tuple(a.detach() if isinstance(a, Tensor) else a for a in args), dict(kwargs)), buffer)
    return buffer.getvalue()


def write_archive(ep: ExportedProgram, f: str | os.PathLike[str] | IO[bytes], name: str = "model") -> None:
    """Writes ``ep`` as a ``.pt2`` archive in ``torch.export.save``'s layout."""
    top = os.path.splitext(os.path.basename(os.fspath(f)))[0] if isinstance(f, (str, os.PathLike)) else "archive"
    model = _model_json(ep)
    weights_config, weight_files = _payload(ep.state_dict, "weight_")
    constants = {k: v for k, v in ep.constants.items() if isinstance(v, Tensor)}
    constants_config, constant_files = _payload(constants, "tensor_")
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(f"{top}/archive_format", "pt2")
        z.writestr(f"{top}/archive_version", "0")
        z.writestr(f"{top}/byteorder", "little")
        z.writestr(f"{top}/.data/version", "6\n")
        z.writestr(f"{top}/models/{name}.json", json.dumps(model))
        z.writestr(f"{top}/data/sample_inputs/{name}.pt", _example_inputs(ep))
        z.writestr(f"{top}/data/weights/{name}_weights_config.json", json.dumps(weights_config))
        for path, data in weight_files.items():
            z.writestr(f"{top}/data/weights/{path}", data)
        z.writestr(f"{top}/data/constants/{name}_constants_config.json", json.dumps(constants_config))
        for path, data in constant_files.items():
            z.writestr(f"{top}/data/constants/{path}", data)
