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

from typing import Any

from . import operations
from .operations import *  # noqa: F403

# MaskedTensor's module is imported on first use: defining a Tensor subclass that overrides
# __torch_function__ switches on the argument checks of Tensor's methods for the whole process
_MASKED_TENSOR_NAMES = ("MaskedTensor", "as_masked_tensor", "is_masked_tensor", "masked_tensor")

__all__ = operations.__all__ + list(_MASKED_TENSOR_NAMES)


def __getattr__(name: str) -> Any:
    if name in _MASKED_TENSOR_NAMES:
        from . import maskedtensor

        return getattr(maskedtensor, name)
    raise AttributeError(f"module 'ember.masked' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MASKED_TENSOR_NAMES))
