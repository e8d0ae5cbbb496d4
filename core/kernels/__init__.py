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

from .. import dtypes
from .accumulation import AccumulationKernels
from .activation import ActivationKernels
from .arithmetic import ArithmeticKernels
from .attention import AttentionKernels
from .blocked_attention import BlockedAttentionKernels
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
from .selection import SelectionKernels
from .softmax import SoftmaxKernels
from .special import SpecialKernels
from .unsignalling import unsignalling
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
    BlockedAttentionKernels,
    CtcKernels,
    LinalgKernels,
    EmbeddingKernels,
    AccumulationKernels,
    SelectionKernels,
    SpecialKernels,
):
    """The portable kernel table (see the module docstring)."""

    #: whether a float16/bfloat16 product with a bias (``linear``, ``conv_bias``) is computed in
    #: float32 and rounded once, as PyTorch's kernels add the bias to the float32 accumulator: the
    #: functional layer widens the operands (:func:`ember.ops.reduced_precision.opmath`). A backend
    #: whose 16-bit GEMM would lose its speed in float32 sets it False and adds the bias after the
    #: product's rounding.
    NARROW_PRODUCTS_IN_FLOAT32 = True
    #: the 16-bit dtypes whose convolutions are computed in float32 and rounded once, gradients
    #: included: PyTorch's CPU runs bfloat16 through oneDNN so, and float16 as im2col products, each
    #: rounded (the bias, under :attr:`NARROW_PRODUCTS_IN_FLOAT32`, inside the forward's rounding), except
    #: on a CPU whose oneDNN takes float16 (:func:`ember.cpu.isa.onednn_takes_float16`), where the
    #: functional layer computes a CPU device's float16 convolutions in float32 too
    CONV_IN_FLOAT32: tuple[dtypes.dtype, ...] = (dtypes.bfloat16,)
    #: the 16-bit dtypes whose convolutions the conv kernels take as they are, accumulating in float32 and
    #: rounding each result once themselves (a bias inside the forward's rounding): these leave
    #: :attr:`CONV_IN_FLOAT32` (oneDNN's bfloat16 primitives on the NumPy backend, PyTorch's own)
    CONV_ROUNDED_ONCE: tuple[dtypes.dtype, ...] = ()
    #: the float32 lanes of PyTorch's CPU vector registers on this machine (16 with AVX-512, 8 with
    #: AVX2; 0 where it has no fast exponential): the 16-bit kernels that reproduce its CPU's
    #: order of float32 sums (batch norm's statistics) and its split of a row between the
    #: vectorized ``fexp_u20`` and the C library's ``exp`` (attention) follow it
    VECTOR_LANES = 16

    def __init__(self, backend):
        self.backend = backend
        self.xp = backend.xp

    @classmethod
    @unsignalling
    def overridden(cls):
        """Names of the kernels this table replaces relative to the portable defaults."""
        return sorted(
            name
            for name in dir(Kernels)
            if not name.startswith("_") and name != "overridden" and getattr(cls, name) is not getattr(Kernels, name)
        )
