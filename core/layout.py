"""Memory layouts: ``ember.strided`` (dense tensors) and ``ember.sparse_coo`` (sparse COO tensors)."""

from __future__ import annotations

__all__ = ["layout", "strided", "sparse_coo"]


class layout:  # noqa: N801 - mirrors torch.layout
    """How a tensor's elements are stored, as :attr:`ember.Tensor.layout` reports it.

    There is one object per layout, so layouts compare with ``is`` and ``==``.

    Example::

        >>> ember.ones(2).layout
        ember.strided
        >>> ember.ones(2).layout == ember.strided
        True
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"ember.{self.name}"

    def __reduce__(self) -> str:
        return self.name


strided = layout("strided")
sparse_coo = layout("sparse_coo")
