"""An ONNX model's graph as the ``GraphDef`` TensorBoard's graph tab draws: the graph's inputs and
outputs as ``Variable`` nodes with their element type and shape, then one node per operator,
named by its first output, its attributes written out as one string."""

from __future__ import annotations

from typing import IO, Any

from tensorboard.compat.proto.attr_value_pb2 import AttrValue
from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.compat.proto.node_def_pb2 import NodeDef
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.versions_pb2 import VersionDef

__all__ = ["load_onnx_graph"]


def _endpoint(value_info: Any) -> NodeDef:
    tensor_type = value_info.type.tensor_type
    shape = TensorShapeProto(dim=[TensorShapeProto.Dim(size=d.dim_value) for d in tensor_type.shape.dim])
    return NodeDef(
        name=value_info.name,
        op="Variable",
        attr={"dtype": AttrValue(type=tensor_type.elem_type), "shape": AttrValue(shape=shape)},
    )


def _operator(node: Any) -> NodeDef:
    attributes = ", ".join(" = ".join(str(value) for _, value in a.ListFields()) for a in node.attribute)
    return NodeDef(
        name=node.output[0], op=node.op_type, input=node.input, attr={"parameters": AttrValue(s=attributes.encode())}
    )


def load_onnx_graph(fname: str | IO[bytes]) -> GraphDef:
    """The ``GraphDef`` of the ONNX model in file ``fname`` (a path or a binary file; needs the ``onnx`` package).

    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "model.onnx")
    ...     _ = ember.onnx.export(nn.Sequential(nn.Linear(4, 2), nn.ReLU()), ember.randn(1, 4), path)
    ...     [node.op for node in load_onnx_graph(path).node]
    ['Variable', 'Variable', 'Gemm', 'Relu']
    """
    import onnx

    graph = onnx.load(fname).graph
    nodes = [_endpoint(v) for v in [*graph.input, *graph.output]] + [_operator(n) for n in graph.node]
    return GraphDef(node=nodes, versions=VersionDef(producer=22))
