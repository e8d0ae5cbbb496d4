"""``ember.backends.openmp``: PyTorch's ``torch.backends.openmp``.

Example::

    >>> import ember.backends.openmp
    >>> isinstance(ember.backends.openmp.is_available(), bool)
    True
"""

from __future__ import annotations

__all__ = ["is_available"]


def is_available():
    """Whether ember's CPU kernels run on an OpenMP team: True where oneDNN (built with GNU OpenMP, the
    ``onednn`` extra) is installed and loads (:func:`ember.backends.mkldnn.is_available`)."""
    from . import mkldnn

    return mkldnn.is_available()
