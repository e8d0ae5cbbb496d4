"""``ember.cuda.graphs``: where PyTorch programs import the CUDA-graph API from
(``from torch.cuda.graphs import make_graphed_callables``); the same objects as :mod:`ember.cuda`'s.

Example::

    >>> from ember.cuda.graphs import CUDAGraph
    >>> CUDAGraph is ember.cuda.CUDAGraph
    True
"""

from . import CUDAGraph, graph, graph_pool_handle, make_graphed_callables

__all__ = ["CUDAGraph", "graph", "graph_pool_handle", "make_graphed_callables"]
