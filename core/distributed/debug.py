"""The debug level of :mod:`ember.distributed`, as ``torch.distributed``'s.

``TORCH_DISTRIBUTED_DEBUG`` (``OFF``, ``INFO`` or ``DETAIL``) sets the level at import;
:func:`set_debug_level` and :func:`set_debug_level_from_env` change it. (ember's own check of
the collectives' arguments across ranks is on unless ``EMBER_DISTRIBUTED_DEBUG=OFF``.)

Example::

    >>> import ember.distributed as dist
    >>> dist.set_debug_level(dist.DebugLevel.DETAIL)
    >>> dist.get_debug_level()
    <DebugLevel.DETAIL: 2>
    >>> dist.set_debug_level(dist.DebugLevel.OFF)
"""

from __future__ import annotations

import enum
import os

__all__ = ["DebugLevel", "get_debug_level", "set_debug_level", "set_debug_level_from_env"]


class DebugLevel(enum.Enum):
    """How much the distributed package reports: ``OFF`` (0), ``INFO`` (1), ``DETAIL`` (2).

    ``int(level)`` is its number (a level does not compare equal to an int, as in PyTorch).
    """

    OFF = 0
    INFO = 1
    DETAIL = 2

    def __int__(self) -> int:
        return self.value

    def __index__(self) -> int:
        return self.value


_level = [DebugLevel.OFF]


def get_debug_level() -> DebugLevel:
    """The current :class:`DebugLevel`."""
    return _level[0]


def set_debug_level(level: DebugLevel) -> None:
    """Set the :class:`DebugLevel`.

    Raises:
        TypeError: ``level`` is not a :class:`DebugLevel`.
    """
    if not isinstance(level, DebugLevel):
        raise TypeError(f"set_debug_level(): level must be a DebugLevel, got {type(level).__name__}")
    _level[0] = level


def set_debug_level_from_env() -> None:
    """Set the level from ``TORCH_DISTRIBUTED_DEBUG`` (``OFF`` if unset).

    Raises:
        ValueError: the variable holds something other than OFF, INFO or DETAIL (any case).
    """
    value = os.environ.get("TORCH_DISTRIBUTED_DEBUG", "OFF").upper()
    if value not in DebugLevel.__members__:
        raise ValueError("The value of TORCH_DISTRIBUTED_DEBUG must be OFF, INFO, or DETAIL.")
    _level[0] = DebugLevel[value]


try:
    set_debug_level_from_env()
except ValueError:  # a bad value at import: reported when set_debug_level_from_env is called
    pass
