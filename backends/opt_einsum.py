"""``ember.backends.opt_einsum``: PyTorch's ``torch.backends.opt_einsum`` settings.

PyTorch asks the ``opt_einsum`` package for the order in which :func:`torch.einsum` contracts three or
more operands. ember's :func:`ember.einsum` contracts in its own order whatever these say; they are
kept so that programs which read and set them run:

- ``enabled``: whether opt_einsum would be used (default: whether it is installed);
- ``strategy``: ``"auto"``, ``"greedy"`` or ``"optimal"`` (default: ``"auto"`` when installed, else None).

Example::

    >>> import ember.backends.opt_einsum
    >>> ember.backends.opt_einsum.enabled == ember.backends.opt_einsum.is_available()
    True
"""

from __future__ import annotations

import importlib.util

__all__ = ["is_available", "get_opt_einsum", "enabled", "strategy"]


def is_available():
    """Whether the ``opt_einsum`` package is installed."""
    return importlib.util.find_spec("opt_einsum") is not None


def get_opt_einsum():
    """The ``opt_einsum`` module, or None where it is not installed."""
    if not is_available():
        return None
    import opt_einsum

    return opt_einsum


enabled = is_available()
strategy = "auto" if enabled else None
