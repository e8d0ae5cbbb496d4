"""``python -m ember <command>``: the same command line as the ``ember`` console script."""

from __future__ import annotations

import sys

from ember.contrib.cli import INSTALL_HINTS, info, main

__all__ = ["main", "info", "INSTALL_HINTS"]

if __name__ == "__main__":
    sys.exit(main())
