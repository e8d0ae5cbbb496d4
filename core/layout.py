"""Memory layouts: ``ember.strided`` (dense tensors), ``ember.sparse_coo`` (sparse COO tensors) and the
compressed sparse layouts ``ember.sparse_csr``, ``sparse_csc``, ``sparse_bsr`` and ``sparse_bsc``,
``ember.jagged`` (nested tensors, :mod:`ember.nested`); and the memory formats of dense tensors (``ember.contiguous_format``, ``ember.channels_last``,
``ember.channels_last_3d``, ``ember.preserve_format``)."""

from __future__ import annotations

from typing import Any

from .named_constant import NamedConstant
from .strides import contiguous_strides, dense_order, is_dense, ordered_strides
from .type_names import type_name

__all__ = [
    "layout",
    "strided",
    "sparse_coo",
    "sparse_csr",
    "sparse_csc",
    "sparse_bsr",
    "sparse_bsc",
    "jagged",
    "memory_format",
    "contiguous_format",
    "channels_last",
    "channels_last_3d",
    "preserve_format",
    "check_memory_format",
    "format_order",
    "format_strides",
    "suggest_memory_format",
]


class layout(NamedConstant):  # noqa: N801 - mirrors torch.layout
    """How a tensor's elements are stored, as :attr:`ember.Tensor.layout` reports it.

    There is one object per layout, so layouts compare with ``is`` and ``==``.

    Example::

        >>> ember.ones(2).layout
        ember.strided
        >>> ember.ones(2).layout == ember.strided
        True
    """

    __slots__ = ()


strided = layout("strided")
sparse_coo = layout("sparse_coo")
sparse_csr = layout("sparse_csr")
sparse_csc = layout("sparse_csc")
sparse_bsr = layout("sparse_bsr")
sparse_bsc = layout("sparse_bsc")
jagged = layout("jagged")  # a nested tensor's (ember.nested): components of different lengths, packed


class memory_format(NamedConstant):  # noqa: N801 - mirrors torch.memory_format
    """The order in which a dense tensor's elements are asked to lie in memory.

    PyTorch programs pass these as ``memory_format=`` to ``Tensor.to``, ``Module.to``,
    ``contiguous``, ``clone`` and the ``*_like`` factories. ember's backends hold their arrays
    lay out a new tensor as PyTorch does: ``contiguous_format`` row-major, ``channels_last``
    (``channels_last_3d``) with the channels innermost, for tensors of rank 4 (5) only, and
    ``preserve_format`` with the strides of the tensor it copies where they cover its elements once
    and without gaps, else dense strides in the order of that tensor's.

    Example::

        >>> ember.channels_last
        ember.channels_last
        >>> ember.ones(1, 3, 2, 2).to(memory_format=ember.channels_last).stride()
        (12, 1, 6, 3)
    """

    __slots__ = ("order",)

    def __init__(self, name: str, order: tuple[int, ...] | None = None) -> None:
        super().__init__(name)
        self.order = order  # the dimensions from the outermost to the innermost (None: row-major)

    @property
    def rank(self) -> int | None:
        """The rank a tensor needs for this format (None: any)."""
        return None if self.order is None else len(self.order)


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last", (0, 2, 3, 1))
channels_last_3d = memory_format("channels_last_3d", (0, 2, 3, 4, 1))
preserve_format = memory_format("preserve_format")


def check_memory_format(fmt: object, ndim: int | None, op: str) -> None:
    """Refuse what PyTorch refuses as the ``memory_format`` of ``op`` on a tensor of rank ``ndim``:
    anything but a :class:`memory_format` (TypeError), a channels-last format on a tensor of another
    rank (RuntimeError). ``ndim`` None checks the type only (``Module.to``)."""
    if fmt is None:
        return
    if not isinstance(fmt, memory_format):
        raise TypeError(f"{op}(): argument 'memory_format' must be torch.memory_format, not {type_name(fmt)}")
    if ndim is not None and fmt.rank is not None and ndim != fmt.rank:
        raise RuntimeError(f"required rank {fmt.rank} tensor to use {fmt.name} format")


def format_order(shape: tuple[int, ...], strides: tuple[int, ...], fmt: object) -> tuple[int, ...] | None:
    """The dimensions, from the outermost to the innermost, of a new dense tensor of ``shape`` made
    with memory format ``fmt`` (None meaning ``preserve_format``: the order of ``strides``,
    :func:`ember.strides.dense_order`) from a tensor with ``strides``; None where that is row-major.
    ``fmt`` has passed :func:`check_memory_format`.

    Example::

        >>> format_order((3, 2), (1, 3), None)  # a transposed 2 x 3
        (1, 0)
        >>> format_order((2, 3, 2, 2), (12, 4, 2, 1), ember.channels_last)
        (0, 2, 3, 1)
    """
    order = dense_order(shape, strides) if fmt is None or fmt is preserve_format else fmt.order  # type: ignore[attr-defined]
    return None if order is None or order == tuple(range(len(shape))) else order


def may_keep_other_strides(shape: tuple[int, ...]) -> bool:
    """Whether a contiguous tensor of ``shape`` may have strides other than the row-major ones, which
    ``preserve_format`` keeps (:func:`format_strides`): a size-1 dimension's beside others, or any of a
    tensor without elements. Where it may not, a contiguous tensor's copy is simply row-major.

    Example::

        >>> may_keep_other_strides((32, 1, 3, 3)), may_keep_other_strides((4, 3))
        (True, False)
    """
    return (len(shape) > 1 and 1 in shape) or 0 in shape


def format_strides(shape: tuple[int, ...], strides: tuple[int, ...], fmt: object) -> tuple[int, ...] | None:
    """The strides of a new tensor of ``shape`` made with memory format ``fmt`` (None meaning
    ``preserve_format``) from a tensor with ``strides``, as PyTorch lays out ``empty_like`` and
    ``clone``: ``strides`` themselves where ``preserve_format`` finds them dense (a size-1 dimension's
    stride too, whatever it is; any strides of a tensor without elements), else those of
    :func:`format_order`; None where they are row-major.

    Example::

        >>> format_strides((3, 2), (1, 3), None)  # a transposed 2 x 3 keeps its strides
        (1, 3)
        >>> format_strides((2, 3, 2, 2), (12, 4, 2, 1), ember.channels_last)
        (12, 1, 6, 3)
    """
    if (fmt is None or fmt is preserve_format) and (0 in shape or is_dense(shape, strides)):
        return None if strides == contiguous_strides(shape) else strides
    order = format_order(shape, strides, fmt)
    return None if order is None else ordered_strides(shape, order)


def suggest_memory_format(shape: tuple[int, ...], strides: tuple[int, ...]) -> memory_format:
    """The memory format a tensor of ``shape``/``strides`` is laid out in by PyTorch's reckoning
    (``suggest_memory_format``): ``channels_last`` (``channels_last_3d``) for a tensor of rank 4 (5)
    whose strides decrease in that format's order of the dimensions, with the channels' stride not
    0 and no size 0 (gaps allowed: a slice of a channels-last tensor); else ``contiguous_format``.
    A tie, the batch stepping as the channels do, goes to ``contiguous_format``.

    Example::

        >>> suggest_memory_format((2, 3, 4, 5), (60, 1, 15, 3))
        ember.channels_last
        >>> suggest_memory_format((2, 3, 4, 5), (60, 20, 5, 1))
        ember.contiguous_format
    """
    for fmt in (channels_last, channels_last_3d):
        if len(shape) == fmt.rank and strides[1] != 0 and 0 not in shape:
            least = 0
            for d in reversed(fmt.order):  # type: ignore[arg-type]
                if strides[d] < least or (d == 0 and least == strides[1]):
                    break
                least = strides[d] * max(shape[d], 1)
            else:
                return fmt
    return contiguous_format


#: layout name -> the factory of empty tensors of that layout that its module installs here ("sparse_coo":
#: ember.sparse's ``sparse_coo_tensor``), for ``ember.zeros(2, 3, layout=ember.sparse_coo)`` without an import of
#: ember.sparse by the ops it builds on
factories: dict[str, Any] = {}
