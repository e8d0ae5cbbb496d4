"""Tensor operations, one module per concept; :mod:`ember.tensor_methods` makes them ``Tensor`` methods."""

import sys


def __getattr__(name: str) -> object:
    """``ember.ops.<namespace>``: the operators registered through :mod:`ember.library`, as ``torch.ops``
    (reached only for names that are not submodules: ``from .ops import x`` asks here first)."""
    library = sys.modules.get("ember.library")  # no operator exists before ember.library is imported
    namespace = library.op_namespace(name) if library is not None else None
    if namespace is None:
        raise AttributeError(f"module 'ember.ops' has no attribute {name!r}")
    return namespace
