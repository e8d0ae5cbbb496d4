""":class:`GradBucket`: what a DDP communication hook is handed, one bucket of gradients."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..tensor import Tensor


class GradBucket:
    """One bucket of :class:`~ember.nn.parallel.DistributedDataParallel`'s gradients, flattened into
    one tensor, as a communication hook receives it (see ``register_comm_hook``).

    Args:
        index (int): the bucket's position; buckets are reduced in this order on every rank.
        buffer (Tensor): the flat gradients (1-D).
        offsets (list of int): where each parameter's gradient starts in ``buffer``.
        parameters (list of Tensor): the parameters whose gradients the bucket holds.
        is_last (bool): whether this is the last bucket of the iteration.

    Example::

        >>> params = [nn.Parameter(ember.zeros(2, 2)), nn.Parameter(ember.zeros(3))]
        >>> bucket = dist.GradBucket(0, ember.arange(7.0), [0, 4], params, True)
        >>> [tuple(g.shape) for g in bucket.gradients()]
        [(2, 2), (3,)]
        >>> bucket.gradients()[1]
        tensor([4., 5., 6.])
    """

    def __init__(self, index: int, buffer: Tensor, offsets: list[int], parameters: list[Tensor], is_last: bool) -> None:
        self._index, self._buffer, self._offsets = index, buffer, offsets
        self._parameters, self._is_last = parameters, is_last

    def index(self) -> int:
        """The bucket's position among the iteration's buckets."""
        return self._index

    def buffer(self) -> Tensor:
        """The flat (1-D) tensor of the bucket's gradients."""
        return self._buffer

    def set_buffer(self, buffer: Tensor) -> None:
        """Replace the bucket's flat tensor (a hook's compressed copy, say)."""
        self._buffer = buffer

    def gradients(self) -> list[Tensor]:
        """Each parameter's gradient as a view of :meth:`buffer`, in the parameter's shape."""
        return [
            self._buffer[start : start + p.numel()].view(p.shape) for start, p in zip(self._offsets, self._parameters)
        ]

    def parameters(self) -> list[Tensor]:
        """The parameters whose gradients the bucket holds."""
        return list(self._parameters)

    def is_last(self) -> bool:
        """Whether this is the iteration's last bucket."""
        return self._is_last
