"""``ember.backends.mkl``: PyTorch's ``torch.backends.mkl``. ember's CPU kernels use NumPy's BLAS and
oneDNN, not Intel MKL, so MKL is never available.

Example::

    >>> import ember.backends.mkl
    >>> ember.backends.mkl.is_available()
    False
"""

from __future__ import annotations

__all__ = ["is_available", "verbose", "VERBOSE_OFF", "VERBOSE_ON"]

VERBOSE_OFF = 0
VERBOSE_ON = 1


def is_available():
    """Whether ember computes with Intel MKL: False."""
    return False


class verbose:  # noqa: N801 - PyTorch's name
    """PyTorch's context manager for MKL's verbose output (``with verbose(VERBOSE_ON): ...``); with no
    MKL it changes nothing.

    Args:
        enable (int): :data:`VERBOSE_ON` or :data:`VERBOSE_OFF`.

    Example::

        >>> import ember.backends.mkl
        >>> with ember.backends.mkl.verbose(ember.backends.mkl.VERBOSE_ON):
        ...     _ = ember.ones(2) @ ember.ones(2)
    """

    def __init__(self, enable):
        self.enable = enable

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
