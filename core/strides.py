"""Stride arithmetic shared by the core and the backends: whether a strided array can be seen in a
new shape without moving its elements, and with which strides."""

from __future__ import annotations

__all__ = [
    "contiguous_strides",
    "dense_order",
    "elementwise_strides",
    "expand_strides",
    "is_dense",
    "is_ordered",
    "operands_order",
    "ordered_strides",
    "storage_extent",
    "view_strides",
]


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
    if not shape or not new_shape or 0 in shape:  # PyTorch's view of a tensor without elements
        return strides if new_shape == shape else contiguous_strides(new_shape)
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


def expand_strides(shape: tuple[int, ...], strides: tuple[int, ...], new_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The strides (in elements) of PyTorch's ``expand(new_shape)`` of an array of ``shape``/``strides``: a
    dimension that grows from size 1 steps 0 and one that keeps its size keeps its stride; a new leading
    dimension steps 0 too, unless it has size 1: it then steps over the dimension after it (its size times
    its stride), except in front of a 0-d array.

    Example::

        >>> expand_strides((2, 1), (3, 1), (4, 2, 5))
        (0, 3, 0)
        >>> expand_strides((2, 1), (3, 1), (1, 2, 1))
        (6, 3, 1)
    """
    if not shape:
        return (0,) * len(new_shape)
    lead = len(new_shape) - len(shape)
    result = [0] * len(new_shape)
    for i in range(len(new_shape) - 1, -1, -1):
        size, stride = (shape[i - lead], strides[i - lead]) if i >= lead else (1, new_shape[i + 1] * result[i + 1])
        result[i] = stride if size == new_shape[i] else 0
    return tuple(result)


def ordered_strides(shape: tuple[int, ...], order: tuple[int, ...]) -> tuple[int, ...]:
    """The strides (in elements) of a fresh array of ``shape`` whose dimensions lie in memory in
    ``order``, from the outermost to the innermost. A size-0 dimension steps its outer dimensions by 0,
    as PyTorch's channels-last strides and TensorIterator's permuted results do (its row-major strides,
    :func:`contiguous_strides`, step over it as over a size-1 one).

    Example::

        >>> ordered_strides((2, 3, 4, 5), (0, 2, 3, 1))  # channels last
        (60, 1, 15, 3)
        >>> ordered_strides((2, 0, 4, 5), (0, 2, 3, 1))
        (0, 1, 0, 0)
    """
    strides, step = [0] * len(shape), 1
    for d in reversed(order):
        strides[d] = step
        step *= shape[d]
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
    return operands_order(shape, (strides,))


def operands_order(shape: tuple[int, ...], operand_strides: tuple[tuple[int, ...], ...]) -> tuple[int, ...]:
    """The dimensions of an element-wise result of ``shape`` from the outermost to the innermost, as
    PyTorch's TensorIterator orders them from its operands' strides (each broadcast to ``shape``, a
    zero stride where it broadcasts): for two dimensions, the first operand that orders them decides
    (by stride, a tie going to the smaller size inside); an operand with a zero stride in either has
    no say, and dimensions no operand orders keep their row-major order.

    Example::

        >>> operands_order((3, 4), ((1, 3), (4, 1)))  # a transposed operand first: its order wins
        (1, 0)
        >>> operands_order((3, 4), ((0, 1), (1, 3)))  # a broadcast row has no say in the order of the rows
        (1, 0)
    """

    def inside(d0, d1):  # 1: d0 goes outside d1, -1: inside it, 0: no order between them
        for strides in operand_strides:
            s0, s1 = strides[d0], strides[d1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 != s1:
                return 1 if s0 > s1 else -1
            if shape[d0] > shape[d1]:
                return 1
        return 0

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


def is_ordered(shape: tuple[int, ...], strides: tuple[int, ...], order: tuple[int, ...] | None) -> bool:
    """Whether ``strides`` are a fresh array's with its dimensions in ``order`` (outermost first; None:
    row-major), a dimension of size 1 taking any stride, as PyTorch's ``is_contiguous(memory_format)``.

    Example::

        >>> is_ordered((2, 3, 1, 1), (3, 1, 3, 3), (0, 2, 3, 1)), is_ordered((2, 3), (3, 1), None)
        (True, True)
    """
    step = 1
    for d in reversed(order) if order is not None else range(len(shape) - 1, -1, -1):
        n = shape[d]
        if n != 1:
            if strides[d] != step:
                return 0 in shape
            step *= n
    return True


_ROW_MAJOR: tuple[tuple[int, ...] | None, ...] = (None,)
#: the layouts that pass from operands of one shape to an element-wise result, by rank: PyTorch's
#: TensorIterator keeps row-major and (for rank 4 only) channels-last operands so
_FAST_ORDERS = {4: (None, (0, 2, 3, 1))}


def elementwise_strides(
    shape: tuple[int, ...], operands: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]
) -> tuple[int, ...]:
    """The strides PyTorch gives the result of ``shape`` of an element-wise op over ``operands``
    (their ``(shape, strides)``, in argument order; leave out Python numbers): operands of one shape
    that are all row-major, all channels-last or all of one dense layout pass it on; otherwise the
    result is dense in :func:`operands_order`.

    Example::

        >>> elementwise_strides((3, 4), (((3, 4), (1, 3)), ((3, 4), (4, 1))))  # transposed + row-major
        (1, 3)
        >>> elementwise_strides((2, 3), (((2, 3), (3, 1)), ((3,), (1,))))
        (3, 1)
    """
    if all(s == shape for s, _ in operands):
        layouts = {strides for _, strides in operands}
        for order in _FAST_ORDERS.get(len(shape), _ROW_MAJOR):
            if all(is_ordered(shape, strides, order) for strides in layouts):
                return contiguous_strides(shape) if order is None else ordered_strides(shape, order)
        if len(layouts) == 1 and is_dense(shape, operands[0][1]):
            return operands[0][1]
    ndim = len(shape)
    broadcast = []
    for s, strides in operands:
        lead = ndim - len(s)
        broadcast.append(
            (0,) * lead
            + tuple(0 if n == 1 and shape[lead + d] != 1 else st for d, (n, st) in enumerate(zip(s, strides)))
        )
    order = operands_order(shape, tuple(broadcast))
    # (TensorIterator allocates a result whose dimensions keep their order row-major)
    return contiguous_strides(shape) if order == tuple(range(ndim)) else ordered_strides(shape, order)
