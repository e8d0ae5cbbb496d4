"""The names of Python types as PyTorch's messages print them.

PyTorch's argument parser and its C++ checks name an argument's type by the type's ``tp_name``, which for
a static type of another module carries the module ("numpy.ndarray", "numpy.float64"), where Python code
that prints ``type(x).__name__`` gives "ndarray". This module imports nothing from :mod:`ember`, so that
any module may use it.
"""

from __future__ import annotations

__all__ = ["type_name"]

_HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class made by a class statement (its name is its own)


def type_name(value: object) -> str:
    """The name of ``value``'s type as Python and PyTorch's argument parser print it (the type's
    ``tp_name``): a static type of another module with its module's name ("numpy.ndarray",
    "numpy.float64"), a built-in or a class made by a class statement by its name alone ("list")."""
    kind = type(value)
    static = not kind.__flags__ & _HEAP_TYPE and kind.__module__ != "builtins"
    return f"{kind.__module__}.{kind.__name__}" if static else kind.__name__
