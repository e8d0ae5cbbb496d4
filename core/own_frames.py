"""Which Python frames are ember's own: a warning or a recorded stack meant for the user skips them.

``EMBER_DIR`` is the package's directory (with a trailing separator), so a frame is ember's when its
file lies under it; :func:`outside_ember_stacklevel` is the ``stacklevel`` of a warning that points at
the user's line however many of ember's frames lie between.
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["EMBER_DIR", "outside_ember_stacklevel"]

#: ember's package directory: the files of its own frames lie under it
EMBER_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def outside_ember_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning issued by the caller point at the innermost frame outside
    ember (the user's ``backward()`` line, say), however many of ember's frames lie between.

    Example::

        >>> from ember.own_frames import outside_ember_stacklevel
        >>> outside_ember_stacklevel() >= 1
        True
    """
    frame: Any = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(EMBER_DIR):
        frame, level = frame.f_back, level + 1
    return level
