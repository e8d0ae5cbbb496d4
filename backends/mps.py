"""``ember.backends.mps``: PyTorch's ``torch.backends.mps``. ember has no Metal backend.

Example::

    >>> import ember.backends.mps
    >>> ember.backends.mps.is_available(), ember.backends.mps.is_built()
    (False, False)
"""

from __future__ import annotations

__all__ = ["is_available", "is_built"]


def is_available():
    """Whether an MPS device can be used: always False (no ember backend serves ``mps``)."""
    return False


def is_built():
    """Whether ember was built with MPS support: always False."""
    return False
