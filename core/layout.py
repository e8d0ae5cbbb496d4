"""Memory layouts: ``ember.strided`` (dense tensors) and ``ember.sparse_coo`` (sparse COO tensors);
and the memory formats of dense tensors (``ember.contiguous_format``, ``ember.channels_last``,
``ember.channels_last_3d``, ``ember.preserve_format``)."""

from __future__ import annotations

__all__ = [
    "layout",
    "strided",
    "sparse_coo",
    "memory_format",
    "contiguous_format",
    "channels_last",
    "channels_last_3d",
    "preserve_format",
    "check_memory_format",
]


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


class memory_format:  # noqa: N801 - mirrors torch.memory_format
    """The order in which a dense tensor's elements are asked to lie in memory.

    PyTorch programs pass these as ``memory_format=`` to ``Tensor.to``, ``Module.to``,
    ``contiguous``, ``clone`` and the ``*_like`` factories. ember's backends hold their arrays
    in row-major order, so a requested format is checked (a channels-last format needs a tensor
    of rank 4, or 5 for the 3-D one, as in PyTorch) and the result keeps ember's order: the values
    are the same, only the strides PyTorch would report differ.

    Example::

        >>> ember.channels_last
        ember.channels_last
        >>> ember.ones(1, 3, 2, 2).to(memory_format=ember.channels_last).shape
        ember.Size([1, 3, 2, 2])
    """

    __slots__ = ("name", "rank")

    def __init__(self, name: str, rank: int | None = None) -> None:
        self.name = name
        self.rank = rank  # the rank a tensor needs for this format (None: any)

    def __repr__(self) -> str:
        return f"ember.{self.name}"

    def __reduce__(self) -> str:
        return self.name


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last", 4)
channels_last_3d = memory_format("channels_last_3d", 5)
preserve_format = memory_format("preserve_format")


def check_memory_format(fmt: object, ndim: int | None, op: str) -> None:
    """Refuse what PyTorch refuses as the ``memory_format`` of ``op`` on a tensor of rank ``ndim``:
    anything but a :class:`memory_format` (TypeError), a channels-last format on a tensor of another
    rank (RuntimeError). ``ndim`` None checks the type only (``Module.to``)."""
    if fmt is None:
        return
    if not isinstance(fmt, memory_format):
        raise TypeError(f"{op}(): argument 'memory_format' must be ember.memory_format, not {type(fmt).__name__}")
    if ndim is not None and fmt.rank is not None and ndim != fmt.rank:
        raise RuntimeError(f"required rank {fmt.rank} tensor to use {fmt.name} format")
