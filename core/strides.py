"""Stride arithmetic shared by the core and the backends: whether a strided array can be seen in a
new shape without moving its elements, and with which strides."""

from __future__ import annotations

__all__ = ["contiguous_strides", "dense_order", "is_dense", "ordered_strides", "storage_extent", "view_strides"]


def storage_extent(shape: tuple[int, ...], strides: tuple[int, ...], offset: int = 0) -> int:
    """How many storage elements a ``shape``/``strides`` view starting at ``offset`` reaches: one past
    its last element, 0 for a view without elements.

    Example::

        >>> from ember.strides import storage_extent
        >>> storage_extent((2, 3), (1, 2)), storage_extent((2, 3), (3, 1), offset=4), storage_extent((0, 3), (3, 1))
        (6, 10, 0)
    """
    return offset + 1 + sum((n - 1) * s for n, s in zip(shape, strides)) if all(shape) else 0


def view_strides(
    shape: tuple[int, ...], strides: tuple[int, ...], new_shape: tuple[int, ...]
) -> tuple[int, ...] | None:
    """The strides (in elements) that show an array of ``shape``/``strides`` in ``new_shape`` without
    moving its elements, or None when a new dimension would span two runs of the old layout (a copy
    is then needed; PyTorch's ``view`` refuses, its ``reshape`` copies).

    The old dimensions are taken from the last in runs that are contiguous with each other (each
    stride the product of the size and stride after it); every run must be covered by whole new
    dimensions, whose strides step through the run.

    Example::

        >>> view_strides((3, 4), (1, 3), (12,)) is None  # a transposed 4 x 3
        True
        >>> view_strides((3, 4), (8, 2), (3, 2, 2))  # every other column of a 3 x 8
        (8, 4, 2)
    """
    if not shape or not new_shape or 0 in shape:
        return contiguous_strides(new_shape)
    new_strides = [0] * len(new_shape)
    new_d = len(new_shape) - 1
    base = strides[-1]
    run = seen = 1
    for d in range(len(shape) - 1, -1, -1):
        run *= shape[d]
        if d == 0 or (shape[d - 1] != 1 and strides[d - 1] != run * base):
            while new_d >= 0 and (seen < run or new_shape[new_d] == 1):
                new_strides[new_d] = seen * base
                seen *= new_shape[new_d]
                new_d -= 1
            if seen != run:
                return None
            if d > 0:
                base, run, seen = strides[d - 1], 1, 1
    return tuple(new_strides) if new_d == -1 else None


def contiguous_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The strides (in elements) of a fresh row-major array of ``shape`` (a size-0 dimension steps as 1).

    Example::

        >>> contiguous_strides((2, 3, 4))
        (12, 4, 1)
    """
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def ordered_strides(shape: tuple[int, ...], order: tuple[int, ...]) -> tuple[int, ...]:
    """The strides (in elements) of a fresh array of ``shape`` whose dimensions lie in memory in
    ``order``, from the outermost to the innermost (a size-0 dimension steps as 1).

    Example::

        >>> ordered_strides((2, 3, 4, 5), (0, 2, 3, 1))  # channels last
        (60, 1, 15, 3)
    """
    strides, step = [0] * len(shape), 1
    for d in reversed(order):
        strides[d] = step
        step *= max(shape[d], 1)
    return tuple(strides)


def is_dense(shape: tuple[int, ...], strides: tuple[int, ...]) -> bool:
    """Whether a ``shape``/``strides`` layout covers a block of memory exactly once: its strides are a
    fresh array's strides in some order of the dimensions (PyTorch's "non-overlapping and dense").

    Example::

        >>> is_dense((3, 4), (1, 3))  # a transposed 4 x 3
        True
        >>> is_dense((3, 4), (0, 1))  # a row broadcast to 3 rows
        False
    """
    step = 1
    for n, s in sorted(((n, s) for n, s in zip(shape, strides) if n != 1), key=lambda d: d[1]):
        if s != step:
            return False
        step *= n
    return True


def dense_order(shape: tuple[int, ...], strides: tuple[int, ...]) -> tuple[int, ...]:
    """The dimensions of a ``shape``/``strides`` layout from the outermost to the innermost, as PyTorch
    orders them for a copy that keeps the layout (``preserve_format``, ``infer_dense_strides``): by
    stride, a tie going to the smaller size inside, and a zero stride (a broadcast) keeping its
    dimension where it is relative to the others.

    Example::

        >>> dense_order((3, 4), (1, 6))  # every other row of a 4 x 6, transposed
        (1, 0)
        >>> dense_order((3, 2), (0, 1))  # a row broadcast to 3 rows
        (0, 1)
    """

    def inside(d0, d1):  # 1: d0 goes outside d1, -1: inside it, 0: no order between them
        if strides[d0] == 0 or strides[d1] == 0:
            return 0
        if strides[d0] != strides[d1]:
            return 1 if strides[d0] > strides[d1] else -1
        return 1 if shape[d0] > shape[d1] else 0

    order = list(range(len(shape) - 1, -1, -1))  # innermost first while sorting
    for i in range(1, len(order)):  # a stable insertion sort that a zero stride does not cross
        moving = i
        for j in range(i - 1, -1, -1):
            comparison = inside(order[j], order[moving])
            if comparison > 0:
                order[j], order[moving] = order[moving], order[j]
                moving = j
            elif comparison < 0:
                break
    return tuple(reversed(order))
