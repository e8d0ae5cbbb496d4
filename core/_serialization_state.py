"""The thread-local state of ``torch.serialization``'s :class:`~ember.serialization.skip_data` context manager,
apart from :mod:`ember.serialization` so that the tensor's own pickling (``Tensor.__reduce_ex__``) reads it too."""

from __future__ import annotations

import threading

__all__ = ["serialization_tls", "skipping_data"]

#: ``skip_data``: whether the current thread is inside :class:`ember.serialization.skip_data`
serialization_tls = threading.local()


def skipping_data() -> bool:
    """Whether this thread is inside :class:`ember.serialization.skip_data` (for format plugins)."""
    return getattr(serialization_tls, "skip_data", False)
