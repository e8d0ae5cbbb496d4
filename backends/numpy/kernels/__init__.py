"""NumPy overrides of the portable NN kernels, one module per kernel family, where they measurably pay."""

from __future__ import annotations

from ember.kernels import Kernels
from ember.kernels.accumulation import InPlaceAccumulationKernels

from .activation import NumpyActivationKernels
from .arithmetic import NumpyArithmeticKernels
from .attention import NumpyAttentionKernels
from .conv import NumpyConvKernels
from .embedding import NumpyEmbeddingKernels
from .linalg import NumpyLinalgKernels
from .linear import NumpyLinearKernels
from .loss import NumpyLossKernels
from .normalization import NumpyNormalizationKernels
from .onednn_conv import OnednnConvKernels
from .optim import NumpyOptimKernels
from .pooling import NumpyPoolingKernels
from .rnn import NumpyRnnKernels
from .softmax import NumpySoftmaxKernels
from .vision import NumpyVisionKernels

__all__ = ["NumpyKernels"]


class NumpyKernels(
    NumpyActivationKernels,
    NumpyArithmeticKernels,
    OnednnConvKernels,
    NumpyConvKernels,
    NumpyLinearKernels,
    NumpyPoolingKernels,
    NumpyNormalizationKernels,
    NumpyVisionKernels,
    NumpyRnnKernels,
    NumpySoftmaxKernels,
    NumpyLossKernels,
    NumpyOptimKernels,
    NumpyLinalgKernels,
    NumpyEmbeddingKernels,
    InPlaceAccumulationKernels,
    NumpyAttentionKernels,
    Kernels,
):
    """The kernel table of the NumPy backend: the portable defaults plus these overrides."""
