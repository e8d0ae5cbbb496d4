"""Tensor operations. Importing this package installs them as ``Tensor`` methods."""

from . import (  # noqa: F401 - imported for their side effect of attaching methods
    arrangement,
    comparison,
    conversion,
    creation,
    elementwise,
    functional_aliases,
    indexing,
    inplace,
    linalg,
    manipulation,
    mathematical,
    matrix,
    movement,
    pointwise,
    reduction,
)
