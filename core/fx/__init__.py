"""``ember.fx``: capture and transform programs (PyTorch's ``torch.fx``).

:func:`symbolic_trace` runs a module's ``forward`` on :class:`Proxy` values and records every
operation as a :class:`Node` of a :class:`Graph`; the graph can be inspected and edited, and a
:class:`GraphModule` turns it back into a module whose ``forward`` is generated Python code.
:class:`Interpreter` runs a graph node by node, :class:`Transformer` rewrites one.

Example::

    >>> import ember, ember.fx
    >>> class M(ember.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.linear = ember.nn.Linear(4, 4)
    ...     def forward(self, x):
    ...         return ember.relu(self.linear(x))
    >>> gm = ember.fx.symbolic_trace(M())
    >>> for node in gm.graph.nodes:          # replace relu by gelu
    ...     if node.op == "call_function" and node.target is ember.relu:
    ...         with gm.graph.inserting_after(node):
    ...             new = gm.graph.call_function(ember.nn.functional.gelu, node.args)
    ...         _ = node.replace_all_uses_with(new)
    ...         gm.graph.erase_node(node)
    >>> _ = gm.recompile()
    >>> print(gm.code.strip())
    def forward(self, x):
        linear = self.linear(x);  x = None
        gelu = ember.nn.functional.gelu(linear);  linear = None
        return gelu
"""

from . import passes
from ._symbolic_trace import PH, Tracer, is_fx_tracing, symbolic_trace, wrap
from .graph import CodeGen, Graph, PythonCode
from .graph_module import GraphModule
from .interpreter import Interpreter, Transformer
from .node import Node, has_side_effect, map_arg
from .proxy import Proxy
from .subgraph_rewriter import replace_pattern

__all__ = [
    "symbolic_trace",
    "Tracer",
    "wrap",
    "Graph",
    "GraphModule",
    "Interpreter",
    "Transformer",
    "Node",
    "Proxy",
    "CodeGen",
    "PythonCode",
    "has_side_effect",
    "map_arg",
    "replace_pattern",
    "PH",
    "is_fx_tracing",
    "passes",
]
