"""``torch._dynamo.exc`` for ember: the exceptions PyTorch programs catch around ``torch.compile``.

Example::

    >>> import ember._dynamo.exc
    >>> try:
    ...     ember.compile(ember.nn.Linear(2, 2), backend="nope")
    ... except ember._dynamo.exc.InvalidBackend as error:
    ...     print(error)
    Invalid backend: 'nope', see `ember._dynamo.list_backends()` for available backends.
"""

from __future__ import annotations

__all__ = ["InvalidBackend", "TorchDynamoException"]


class TorchDynamoException(RuntimeError):
    """The base of the compiler stack's errors (a :class:`RuntimeError`, as PyTorch's)."""


class InvalidBackend(TorchDynamoException):
    """``compile(..., backend=name)`` with a ``name`` that no backend is registered under.

    Args:
        name (str): the backend's name as given.
    """

    def __init__(self, name: str) -> None:
        super().__init__(f"Invalid backend: {name!r}, see `ember._dynamo.list_backends()` for available backends.")
