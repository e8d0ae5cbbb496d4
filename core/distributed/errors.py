"""The exceptions of :mod:`ember.distributed`, in ``torch.distributed``'s hierarchy.

Every one is a :class:`RuntimeError`, so ``except RuntimeError`` catches them all::

    RuntimeError
     └── DistError                  anything the distributed package raises for a failure
          ├── DistBackendError      a collective failed (ember's DistributedError is one)
          ├── DistStoreError        a store's get/wait timed out, or its server gave up
          └── DistNetworkError      a store could not reach its server, or lost it

Example::

    >>> import datetime
    >>> import ember.distributed as dist
    >>> store = dist.HashStore()
    >>> store.set_timeout(datetime.timedelta(milliseconds=10))
    >>> try:
    ...     store.get("missing")
    ... except dist.DistStoreError as exc:
    ...     print(type(exc).__name__, isinstance(exc, RuntimeError))
    DistStoreError True
"""

from __future__ import annotations

__all__ = ["DistBackendError", "DistError", "DistNetworkError", "DistStoreError"]


class DistError(RuntimeError):
    """Base of the exceptions that :mod:`ember.distributed` raises for a failure (a RuntimeError)."""


class DistBackendError(DistError):
    """A collective failed in the communicator: it timed out, or the ranks' calls disagree."""


class DistStoreError(DistError):
    """A store gave up: ``get``/``wait`` timed out before the key was set, or too few clients joined."""


class DistNetworkError(DistError):
    """A store could not connect to its server (none listening, port taken), or the connection broke."""
