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
from .selection import NumpySelectionKernels
from .softmax import NumpySoftmaxKernels
from .special import NumpySpecialKernels
from .vision import NumpyVisionKernels

__all__ = ["NumpyKernels"]


def _float_lanes():
    """The float32 lanes of PyTorch's CPU vector code on this machine: 16 where it takes its
    AVX-512 kernels, 8 with AVX2, 0 elsewhere (see ``Kernels.VECTOR_LANES``)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # NumPy's private module moved: the portable default
        return Kernels.VECTOR_LANES
    return 16 if features.get("AVX512_SKX") else 8 if features.get("AVX2") and features.get("FMA3") else 0


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
    NumpySelectionKernels,
    NumpySpecialKernels,
    Kernels,
):
    """The kernel table of the NumPy backend: the portable defaults plus these overrides."""

    VECTOR_LANES = _float_lanes()
