"""Reading (and writing) ``torch.export`` archives: the ``.pt2`` zip of :func:`torch.export.save`.

The archive holds, under one top folder: ``models/<name>.json`` (the graph, its signature and the
nesting of inputs and outputs, in the schema of ``torch/_export/serde/schema.py``),
``data/weights/`` (each tensor storage's raw bytes, described by
``<name>_weights_config.json``: dtype, sizes, strides, storage offset, whether a parameter),
``data/constants/`` likewise, and ``archive_format`` (``pt2``) and ``byteorder``.
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
from typing import IO, Any

import numpy as np

from .. import dtypes as _dtypes
from ..fx.graph import Graph
from ..fx.graph_module import GraphModule
from ..fx.node import Node
from ..nn.modules.module import Module
from ..nn.parameter import Parameter
from ..tensor import Tensor, from_numpy
from . import _pytree
from ._aten import get_op
from .dynamic_shapes import guards_from_meta
from .exported_program import ExportedProgram
from .graph_signature import ExportGraphSignature, InputKind, InputSpec, OutputKind, OutputSpec

__all__ = ["read_archive", "SCALAR_TYPES"]


def _scalar_types() -> dict[int, Any]:
    import ember

    table = {
        1: ember.uint8,
        2: ember.int8,
        3: ember.int16,
        4: ember.int32,
        5: ember.int64,
        6: ember.float16,
        7: ember.float32,
        8: ember.float64,
        10: ember.complex64,
        11: ember.complex128,
        12: ember.bool,
        13: ember.bfloat16,
    }
    for code, name in ((28, "uint16"), (34, "uint32"), (35, "uint64"), (29, "float8_e4m3fn"), (30, "float8_e5m2")):
        if hasattr(ember, name):
            table[code] = getattr(ember, name)
    return table


SCALAR_TYPES: dict[int, Any] = {}


def scalar_type(code: int) -> Any:
    """The ember dtype of the archive's ``ScalarType`` code."""
    if not SCALAR_TYPES:
        SCALAR_TYPES.update(_scalar_types())
    try:
        return SCALAR_TYPES[code]
    except KeyError:
        raise NotImplementedError(f"ember.export: the archive's scalar type {code} has no ember dtype") from None


def scalar_type_code(dtype: Any) -> int:
    """The archive's ``ScalarType`` code of an ember dtype."""
    if not SCALAR_TYPES:
        SCALAR_TYPES.update(_scalar_types())
    for code, d in SCALAR_TYPES.items():
        if d is dtype:
            return code
    raise NotImplementedError(f"ember.export: dtype {dtype} has no archive scalar type")


def _sym_int(value: dict[str, Any]) -> int:
    """A size of a ``TensorMeta``: a plain int, or a symbolic one read through its hint."""
    if "as_int" in value:
        return int(value["as_int"])
    hint = value.get("as_expr", {}).get("hint") or {}
    if "as_int" in hint:
        return int(hint["as_int"])
    raise NotImplementedError(f"ember.export: a stored tensor has a symbolic size without a hint: {value}")


class _Archive:
    def __init__(self, f: str | os.PathLike[str] | IO[bytes]) -> None:
        self.zip = zipfile.ZipFile(f)
        names = self.zip.namelist()
        fmt = [n for n in names if n.endswith("/archive_format") or n == "archive_format"]
        models = [n for n in names if "/models/" in n and n.endswith(".json")]
        if not models:
            raise RuntimeError(
                "ember.export.load: the file is not a torch.export archive (no models/<name>.json in it); "
                "files of the older single-file format are not supported"
            )
        self.prefix = models[0].split("models/")[0]
        if fmt:
            value = self.zip.read(fmt[0]).decode().strip()
            if value != "pt2":
                raise RuntimeError(f"ember.export.load: the archive's format is {value!r}, expected 'pt2'")
        byteorder = self.prefix + "byteorder"
        self.byteorder = self.zip.read(byteorder).decode().strip() if byteorder in names else "little"
        self.names = set(names)
        self.models = [
            n[len(self.prefix) + len("models/") : -len(".json")] for n in models if n.startswith(self.prefix)
        ]

    def read(self, path: str) -> bytes:
        return self.zip.read(self.prefix + path)

    def has(self, path: str) -> bool:
        return self.prefix + path in self.names

    def tensors(self, config_path: str, directory: str) -> dict[str, Tensor]:
        if not self.has(config_path):
            return {}
        config = json.loads(self.read(config_path))["config"]
        raw: dict[str, bytes] = {}
        out: dict[str, Tensor] = {}
        for fqn, meta in config.items():
            if meta.get("use_pickle"):
                raise NotImplementedError(
                    f"ember.export.load: {fqn} is stored pickled (a tensor subclass); only plain tensors are supported"
                )
            path = meta["path_name"]
            if not path.startswith(("weight_", "tensor_")) and directory.endswith("constants/"):
                raise NotImplementedError(f"ember.export.load: the constant {fqn} ({path}) is not a tensor")
            tm = meta["tensor_meta"]
            dtype = scalar_type(tm["dtype"])
            host = _dtypes.host_dtype(dtype)
            sizes = [_sym_int(s) for s in tm["sizes"]]
            strides = [_sym_int(s) for s in tm["strides"]]
            offset = _sym_int(tm["storage_offset"])
            if path not in raw:
                raw[path] = self.read(directory + path)
            flat = np.frombuffer(
                raw[path], dtype=np.dtype(host).newbyteorder("<" if self.byteorder == "little" else ">")
            )
            if int(np.prod(sizes)) == 0:
                array = np.zeros(sizes, dtype=host)
            else:
                itemsize = flat.itemsize
                array = np.lib.stride_tricks.as_strided(
                    flat[offset:], shape=sizes, strides=[s * itemsize for s in strides]
                ).astype(host, copy=True)
            t = from_numpy(np.ascontiguousarray(array))
            if meta.get("is_param"):
                t = Parameter(t, bool(tm.get("requires_grad", True)))
            out[fqn] = t
        return out


def _float(value: Any) -> float:
    """A float of the JSON: the non-finite ones are written as the strings ``"Infinity"``, ``"-Infinity"``, ``"NaN"``."""
    return float(value)


def _constant_value(v: dict[str, Any]) -> Any:
    ((kind, value),) = v.items()
    return None if kind == "as_none" else value


def _input_spec(spec: dict[str, Any]) -> InputSpec:
    ((kind, body),) = spec.items()
    if kind == "user_input":
        arg = body["arg"]
        ((akind, avalue),) = arg.items()
        if akind == "as_tensor":
            return InputSpec(InputKind.USER_INPUT, avalue["name"], None)
        if akind in ("as_sym_int", "as_sym_float", "as_sym_bool"):
            return InputSpec(InputKind.USER_INPUT, avalue["as_name"], None)
        name = avalue.get("name") if isinstance(avalue, dict) else None
        return InputSpec(InputKind.USER_INPUT, name or f"_const_{akind}", None, value=_argument_literal(arg))
    if kind == "parameter":
        return InputSpec(InputKind.PARAMETER, body["arg"]["name"], body["parameter_name"])
    if kind == "buffer":
        return InputSpec(InputKind.BUFFER, body["arg"]["name"], body["buffer_name"], bool(body.get("persistent", True)))
    if kind == "tensor_constant":
        return InputSpec(InputKind.CONSTANT_TENSOR, body["arg"]["name"], body["tensor_constant_name"])
    if kind == "constant_input":
        return InputSpec(InputKind.USER_INPUT, body["name"], None, value=_constant_value(body["value"]))
    if kind == "token":
        return InputSpec(InputKind.TOKEN, body["arg"]["name"], None)
    raise NotImplementedError(f"ember.export.load: graph inputs of kind {kind!r} are not supported")


def _output_spec(spec: dict[str, Any]) -> OutputSpec:
    ((kind, body),) = spec.items()
    if kind in ("user_output", "loss_output"):
        arg = body["arg"]
        name = None
        if isinstance(arg, dict) and len(arg) == 1:
            ((akind, avalue),) = arg.items()
            if isinstance(avalue, dict):
                name = avalue.get("name") or avalue.get("as_name")
        elif "name" in arg:
            name = arg["name"]
        out_kind = OutputKind.USER_OUTPUT if kind == "user_output" else OutputKind.LOSS_OUTPUT
        return OutputSpec(out_kind, name, None)
    kinds = {
        "buffer_mutation": (OutputKind.BUFFER_MUTATION, "buffer_name"),
        "parameter_mutation": (OutputKind.PARAMETER_MUTATION, "parameter_name"),
        "user_input_mutation": (OutputKind.USER_INPUT_MUTATION, "user_input_name"),
        "gradient_to_parameter": (OutputKind.GRADIENT_TO_PARAMETER, "parameter_name"),
        "gradient_to_user_input": (OutputKind.GRADIENT_TO_USER_INPUT, "user_input_name"),
        "token": (OutputKind.TOKEN, None),
    }
    if kind not in kinds:
        raise NotImplementedError(f"ember.export.load: graph outputs of kind {kind!r} are not supported")
    out_kind, target_key = kinds[kind]
    return OutputSpec(out_kind, body["arg"]["name"], body.get(target_key) if target_key else None)


def _argument_literal(arg: dict[str, Any]) -> Any:
    return _GraphReader(Graph()).argument(arg)


class _GraphReader:
    """Builds an ember fx graph from the serialized one: one ``call_function`` node per operator."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.env: dict[str, Node] = {}

    def ref(self, name: str) -> Node:
        try:
            return self.env[name]
        except KeyError:
            raise RuntimeError(f"ember.export.load: the graph uses the value {name!r} before defining it") from None

    def sym(self, value: dict[str, Any]) -> Any:
        if "as_name" in value:
            return self.ref(value["as_name"])
        ((kind, v),) = value.items()
        return _float(v) if kind == "as_float" else v

    def optional_tensor(self, value: dict[str, Any]) -> Any:
        if "as_tensor" in value:
            return self.ref(value["as_tensor"]["name"])
        return None

    def argument(self, arg: dict[str, Any]) -> Any:
        import ember

        ((kind, value),) = arg.items()
        if kind == "as_none":
            return None
        if kind == "as_tensor":
            return self.ref(value["name"])
        if kind == "as_tensors":
            return [self.ref(v["name"]) for v in value]
        if kind == "as_float":
            return _float(value)
        if kind in ("as_int", "as_bool", "as_string"):
            return value
        if kind == "as_floats":
            return [_float(v) for v in value]
        if kind == "as_float_lists":
            return [[_float(v) for v in row] for row in value]
        if kind in ("as_ints", "as_bools", "as_strings", "as_int_lists"):
            return [list(v) if isinstance(v, list) else v for v in value]
        if kind in ("as_sym_int", "as_sym_float", "as_sym_bool"):
            return self.sym(value)
        if kind in ("as_sym_ints", "as_sym_floats", "as_sym_bools"):
            return [self.sym(v) for v in value]
        if kind == "as_scalar_type":
            return scalar_type(value)
        if kind == "as_memory_format":
            formats = {1: ember.contiguous_format, 2: ember.channels_last, 4: ember.preserve_format}
            if hasattr(ember, "channels_last_3d"):
                formats[3] = ember.channels_last_3d
            return formats.get(value)
        if kind == "as_layout":
            return ember.strided
        if kind == "as_device":
            return ember.device(value["type"], value.get("index")) if value["type"] != "meta" else ember.device("cpu")
        if kind == "as_optional_tensors":
            return [self.optional_tensor(v) for v in value]
        if kind == "as_optional_tensor":
            return self.optional_tensor(value)
        if kind == "as_complex":
            return complex(value["real"], value["imag"])
        if kind == "as_string_to_argument":
            return {k: self.argument(v) for k, v in value.items()}
        raise NotImplementedError(f"ember.export.load: arguments of kind {kind!r} are not supported")

    def node(self, node: dict[str, Any]) -> None:
        target = node["target"]
        op = get_op(target)
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for named in node["inputs"]:
            value = self.argument(named["arg"])
            if named.get("kind") == 2:
                kwargs[named["name"]] = value
            elif kwargs:  # a positional after a keyword: keep the names
                kwargs[named["name"]] = value
            else:
                args.append(value)
        outputs = node["outputs"]
        # the schema's argument names, for writing the node again (ember.export.save)
        arg_names = [(named["name"], named.get("kind") or 1) for named in node["inputs"]]
        single = self._single_name(outputs)
        if single is not None:
            fx_node = self.graph.create_node("call_function", op, tuple(args), kwargs, name=single)
            fx_node.meta["arg_names"] = arg_names
            self.env[single] = fx_node
            return
        fx_node = self.graph.create_node("call_function", op, tuple(args), kwargs, name=node.get("name") or op.__name__)
        fx_node.meta["arg_names"] = arg_names
        import operator

        if len(outputs) == 1 and "as_tensors" in outputs[0]:
            items = outputs[0]["as_tensors"]
            for i, item in enumerate(items):
                self.env[item["name"]] = self.graph.create_node(
                    "call_function", operator.getitem, (fx_node, i), {}, name=item["name"]
                )
            return
        for i, out in enumerate(outputs):
            ((kind, value),) = out.items()
            if kind == "as_none":
                continue
            if kind == "as_tensor":
                self.env[value["name"]] = self.graph.create_node(
                    "call_function", operator.getitem, (fx_node, i), {}, name=value["name"]
                )
            elif kind in ("as_sym_int", "as_sym_float", "as_sym_bool"):
                self.env[value["as_name"]] = self.graph.create_node(
                    "call_function", operator.getitem, (fx_node, i), {}, name=value["as_name"]
                )
            elif kind == "as_tensors":
                group = self.graph.create_node(
                    "call_function", operator.getitem, (fx_node, i), {}, name=f"{fx_node.name}_{i}"
                )
                for j, item in enumerate(value):
                    self.env[item["name"]] = self.graph.create_node(
                        "call_function", operator.getitem, (group, j), {}, name=item["name"]
                    )
            else:
                raise NotImplementedError(
                    f"ember.export.load: node outputs of kind {kind!r} ({target}) are not supported"
                )

    @staticmethod
    def _single_name(outputs: list[dict[str, Any]]) -> str | None:
        if len(outputs) != 1:
            return None
        ((kind, value),) = outputs[0].items()
        if kind == "as_tensor":
            return value["name"]
        if kind in ("as_sym_int", "as_sym_float", "as_sym_bool"):
            return value["as_name"]
        return None


def _read_graph(serialized: dict[str, Any], signature: ExportGraphSignature) -> Graph:
    graph = Graph()
    reader = _GraphReader(graph)
    inputs = serialized["inputs"]
    for spec, arg in zip(signature.input_specs, inputs):
        ((kind, value),) = arg.items()
        name = value.get("name") or value.get("as_name") if isinstance(value, dict) else None
        node = graph.placeholder(name or spec.arg)
        if name:
            reader.env[name] = node
        meta = serialized.get("tensor_values", {}).get(name)
        if meta is not None:  # an example of the input's dtype and sizes (the hints of symbolic ones)
            node.meta["example_meta"] = (scalar_type(meta["dtype"]), [_sym_int(s) for s in meta["sizes"]])
    for node in serialized["nodes"]:
        reader.node(node)
    outputs = [reader.argument(a) for a in serialized["outputs"]]
    graph.output(tuple(outputs))
    # the name each value has in the archive, where the graph module's differs (input -> input_1): the
    # signature keeps the archive's names, as PyTorch's, and save writes them again
    for original, fx_node in reader.env.items():
        if fx_node.name != original:
            fx_node.meta["serialized_name"] = original
    return graph


def read_archive(f: str | os.PathLike[str] | IO[bytes], name: str | None = None) -> ExportedProgram:
    """The :class:`ExportedProgram` of model ``name`` (the only one if None) in a ``torch.export`` archive."""
    archive = _Archive(f)
    if name is None:
        if "model" in archive.models:
            name = "model"
        elif len(archive.models) == 1:
            name = archive.models[0]
        else:
            raise RuntimeError(f"ember.export.load: the archive holds several programs {archive.models}; name one")
    model = json.loads(archive.read(f"models/{name}.json"))
    gm_json = model["graph_module"]
    sig = gm_json["signature"]
    signature = ExportGraphSignature(
        [_input_spec(s) for s in sig["input_specs"]], [_output_spec(s) for s in sig["output_specs"]]
    )
    ranges = {k: (v.get("min_val"), v.get("max_val")) for k, v in (model.get("range_constraints") or {}).items()}
    tensor_values = gm_json["graph"].get("tensor_values", {})
    guards = [
        guards_from_meta(spec.arg, tensor_values[spec.arg]["sizes"], ranges) if spec.arg in tensor_values else None
        for spec in signature.input_specs
        if spec.kind is InputKind.USER_INPUT
    ]
    graph = _read_graph(gm_json["graph"], signature)
    graph_module = GraphModule(Module(), graph)
    state_dict = archive.tensors(f"data/weights/{name}_weights_config.json", "data/weights/")
    constants: dict[str, Any] = dict(archive.tensors(f"data/constants/{name}_constants_config.json", "data/constants/"))
    # a non-persistent buffer is stored among the constants
    for spec in signature.input_specs:
        if spec.kind is InputKind.BUFFER and spec.target not in state_dict and spec.target in constants:
            state_dict[spec.target] = constants.pop(spec.target)
    example_inputs = None
    if archive.has(f"data/sample_inputs/{name}.pt"):
        data = archive.read(f"data/sample_inputs/{name}.pt")
        if data:
            import io

            from ..serialization import load as _load

            example_inputs = _load(io.BytesIO(data))  # PyTorch's .pt format, weights_only rules
    call_graph = gm_json.get("module_call_graph") or []
    root = next((entry for entry in call_graph if entry.get("fqn") == ""), None)
    root_sig = (root or {}).get("signature") or {}
    return ExportedProgram(
        graph_module,
        signature,
        state_dict,
        constants,
        in_spec=_pytree.decode(root_sig.get("in_spec")),
        out_spec=_pytree.decode(root_sig.get("out_spec")),
        forward_arg_names=root_sig.get("forward_arg_names"),
        range_constraints=ranges,
        input_guards=guards,
        example_inputs=example_inputs,
    )


del sys
