"""The base of ember's one-object-per-value constants, as PyTorch's ``torch.layout``,
``torch.memory_format`` and ``torch.qscheme``: each value is one object, shown and pickled by its
name (``ember.strided``), so values compare with ``is`` and ``==`` and unpickle to the same object."""

from __future__ import annotations

__all__ = ["NamedConstant"]


class NamedConstant:
    """A constant that ``ember.<name>`` names: ``repr`` is ``ember.<name>`` and pickling stores the
    name, so that unpickling gives back the module's one object."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"ember.{self.name}"

    def __reduce__(self) -> str:
        return self.name
