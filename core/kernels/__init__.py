"""The NN kernel table: portable default kernels that every backend inherits.

Each kernel family lives in its own module as a mixin written only against
``self.xp`` (the backend's array namespace) and the :class:`~ember.backend.Backend`
methods in ``self.backend``. A backend that wants a faster kernel subclasses
:class:`Kernels` and overrides just that method; a backend that overrides nothing
still runs the whole catalogue.

Kernels take and return native arrays, never tensors: the autograd Functions in
``ember.nn.functional`` call them and own the gradient logic.
"""

from __future__ import annotations

from .accumulation import AccumulationKernels
from .activation import ActivationKernels
from .arithmetic import ArithmeticKernels
from .attention import AttentionKernels
from .conv import ConvKernels
from .ctc import CtcKernels
from .embedding import EmbeddingKernels
from .linalg import LinalgKernels
from .linear import LinearKernels
from .loss import LossKernels
from .normalization import NormalizationKernels
from .optim import OptimKernels
from .pooling import PoolingKernels
from .rnn import RnnKernels
from .running_stats import RunningStatsKernels
from .softmax import SoftmaxKernels
from .vision import VisionKernels

__all__ = ["Kernels"]


class Kernels(
    ActivationKernels,
    ArithmeticKernels,
    ConvKernels,
    LinearKernels,
    PoolingKernels,
    NormalizationKernels,
    RunningStatsKernels,
    VisionKernels,
    RnnKernels,
    LossKernels,
    SoftmaxKernels,
    OptimKernels,
    AttentionKernels,
    CtcKernels,
    LinalgKernels,
    EmbeddingKernels,
    AccumulationKernels,
):
    """The portable kernel table (see the module docstring)."""

    def __init__(self, backend):
        self.backend = backend
        self.xp = backend.xp

    @classmethod
    def overridden(cls):
        """Names of the kernels this table replaces relative to the portable defaults."""
        return sorted(
            name
            for name in dir(Kernels)
            if not name.startswith("_") and name != "overridden" and getattr(cls, name) is not getattr(Kernels, name)
        )
