"""Tensor operations. Importing this package installs them as ``Tensor`` methods."""

from . import (  # noqa: F401 - imported for their side effect of attaching methods
    conversion,
    creation,
    elementwise,
    indexing,
    inplace,
    linalg,
    movement,
    reduction,
)
