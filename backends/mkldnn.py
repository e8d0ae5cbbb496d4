"""``ember.backends.mkldnn``: PyTorch's ``torch.backends.mkldnn`` flags for ember's oneDNN kernels.

With the optional ``onednn-cpu-gomp`` wheel installed (``pip install ember[onednn]``, Linux on
x86-64), the NumPy backend runs float32 convolutions (forward and both gradients) and matrix
products through oneDNN, the library behind PyTorch's own CPU convolutions; it reads these flags at
every such call:

- ``enabled``: use oneDNN at all; when False, the NumPy kernels (im2col + BLAS) serve.
  Default: ``True``
- ``deterministic``: kept for PyTorch programs that set it (oneDNN's convolutions give the same
  bits run after run at a fixed thread count either way). Default: ``False``

Example::

    >>> import ember.backends.mkldnn
    >>> ember.backends.mkldnn.enabled
    True
    >>> with ember.backends.mkldnn.flags(enabled=False):
    ...     ember.backends.mkldnn.enabled
    False
    >>> ember.backends.mkldnn.enabled
    True
"""

from __future__ import annotations

import contextlib

__all__ = ["enabled", "deterministic", "is_available", "flags"]

enabled = True
deterministic = False


def is_available():
    """True when oneDNN is installed and loads (the ``onednn-cpu-gomp`` wheel, Linux on x86-64).

    Example::

        >>> import ember.backends.mkldnn
        >>> isinstance(ember.backends.mkldnn.is_available(), bool)
        True
    """
    from ember.backends.numpy.onednn import load

    return load() is not None


@contextlib.contextmanager
def flags(enabled=False, deterministic=False):
    """Set the flags inside a ``with`` block and restore them after it (PyTorch's defaults as arguments).

    Args:
        enabled (bool): use oneDNN. Default: ``False``
        deterministic (bool): kept for PyTorch programs. Default: ``False``

    Example::

        >>> import ember.backends.mkldnn
        >>> with ember.backends.mkldnn.flags(enabled=False):
        ...     ember.backends.mkldnn.enabled
        False
    """
    module = globals()
    saved = {"enabled": module["enabled"], "deterministic": module["deterministic"]}
    module.update(enabled=enabled, deterministic=deterministic)
    try:
        yield
    finally:
        module.update(saved)
