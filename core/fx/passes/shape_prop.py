"""``ember.fx.passes.shape_prop``: record each node's tensor shape, dtype and layout by running the graph."""

from __future__ import annotations

from typing import Any, NamedTuple

import ember

from ..interpreter import Interpreter
from ..node import Node, map_aggregate

__all__ = ["TensorMetadata", "ShapeProp"]


class TensorMetadata(NamedTuple):
    """What :class:`ShapeProp` records about a tensor value (PyTorch's fields)."""

    shape: ember.Size
    dtype: ember.dtype
    requires_grad: bool
    stride: tuple[int, ...]
    memory_format: ember.memory_format | None
    is_quantized: bool
    qparams: dict[str, Any]


def _extract_tensor_metadata(result: ember.Tensor) -> TensorMetadata:
    memory_format = None
    for fmt in (ember.contiguous_format, ember.channels_last, ember.channels_last_3d):
        if result.is_contiguous(memory_format=fmt):
            memory_format = fmt
            break
    is_quantized = bool(getattr(result, "is_quantized", False))
    qparams: dict[str, Any] = {}
    if is_quantized:
        qscheme = result.qscheme()
        qparams["qscheme"] = qscheme
        if qscheme in (ember.per_tensor_affine, ember.per_tensor_symmetric):
            qparams["scale"] = result.q_scale()
            qparams["zero_point"] = result.q_zero_point()
        else:
            qparams["scale"] = result.q_per_channel_scales().tolist()
            qparams["zero_point"] = result.q_per_channel_zero_points().tolist()
            qparams["axis"] = result.q_per_channel_axis()
    return TensorMetadata(
        result.shape, result.dtype, result.requires_grad, result.stride(), memory_format, is_quantized, qparams
    )


class ShapeProp(Interpreter):
    """Runs a :class:`~ember.fx.GraphModule` on example inputs and stores, for each node whose value is
    (or holds) a tensor, ``node.meta['tensor_meta']``: a :class:`TensorMetadata` (shape, dtype,
    requires_grad, stride, memory_format, is_quantized, qparams), and ``node.meta['type']``.

    Args:
        module (GraphModule): the module to run.

    Example::

        >>> import ember, ember.fx
        >>> from ember.fx.passes.shape_prop import ShapeProp
        >>> gm = ember.fx.symbolic_trace(ember.nn.Sequential(ember.nn.Linear(4, 3), ember.nn.ReLU()))
        >>> _ = ShapeProp(gm).propagate(ember.randn(2, 4))
        >>> [(n.name, tuple(n.meta["tensor_meta"].shape)) for n in gm.graph.nodes]
        [('input_1', (2, 4)), ('_0', (2, 3)), ('_1', (2, 3)), ('output', (2, 3))]
    """

    def __init__(self, gm: Any, fake_mode: Any = None) -> None:
        super().__init__(gm)
        self.fake_mode = fake_mode  # accepted for PyTorch's API; ember runs the module on the real inputs

    def run_node(self, n: Node) -> Any:
        result = super().run_node(n)
        found_tensor = False

        def extract(obj: Any) -> Any:
            nonlocal found_tensor
            if isinstance(obj, ember.Tensor):
                found_tensor = True
                return _extract_tensor_metadata(obj)
            return obj

        meta = map_aggregate(result, extract)
        if found_tensor:
            n.meta["tensor_meta"] = meta
        n.meta["type"] = type(result)
        return result

    def propagate(self, *args: Any) -> Any:
        """Runs the module on ``args``, filling each node's ``meta``; returns the module's output."""
        return super().run(*args)
