"""``ember.functional``: the module PyTorch programs reach as ``torch.functional`` (``einsum``, ``split``,
``stft``, ``meshgrid``, ``norm``, ``unique``, ...). Its functions are ember's top-level ones, the very
same objects (``ember.functional.einsum is ember.einsum``), as ``torch.functional``'s are torch's.

Example::

    >>> import ember.functional
    >>> ember.functional.einsum is ember.einsum
    True
    >>> ember.functional.meshgrid(ember.tensor([1, 2]), ember.tensor([3]), indexing="ij")
    (tensor([[1],
            [2]]), tensor([[3],
            [3]]))
"""

from __future__ import annotations

from . import overrides as _overrides
from .ops.constructions import block_diag, unique_consecutive, unravel_index
from .ops.deprecated_linalg import chain_matmul, lu
from .ops.lowrank import pca_lowrank, svd_lowrank
from .ops.matrix import einsum, tensordot
from .ops.movement import broadcast_shapes, broadcast_tensors, split
from .ops.pairwise import cdist
from .ops.reduction import norm
from .ops.sequences import cartesian_prod
from .ops.slicing_joining import atleast_1d, atleast_2d, atleast_3d, meshgrid, unique
from .ops.stft import istft, stft

__all__ = [
    "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_shapes", "broadcast_tensors", "cartesian_prod",
    "block_diag", "cdist", "chain_matmul", "einsum", "istft", "lu", "norm", "meshgrid", "pca_lowrank",
    "split", "stft", "svd_lowrank", "tensordot", "unique", "unique_consecutive", "unravel_index",
]  # fmt: skip

_overrides.wrap_module_functions(globals(), __name__)  # if Tensor subclasses already take part
