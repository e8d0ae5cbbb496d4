"""``ember.masked``: PyTorch's ``torch.masked`` reductions and normalizations, which compute over
the elements a boolean ``mask`` selects (see :mod:`ember.masked.operations`).

Example::

    >>> x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    >>> mask = ember.tensor([[True, False, True], [False, False, False]])
    >>> ember.masked.sum(x, 1, mask=mask)
    tensor([4., 0.])
    >>> ember.masked.mean(x, 1, mask=mask)
    tensor([2., nan])
"""

from __future__ import annotations

from . import maskedtensor, operations
from .maskedtensor import *  # noqa: F403
from .operations import *  # noqa: F403

__all__ = operations.__all__ + maskedtensor.__all__
