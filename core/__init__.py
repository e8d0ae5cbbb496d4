"""ember: the torch.nn programming model on swappable backends.

Tensors live on devices (``cpu``, ``cuda:0``, ``opencl:0``, or any device type a plugin
registers); the backend serving a device type does the arithmetic. Importing ember loads
no backend: each is imported when its device type is first used.

Example::

    >>> import ember
    >>> x = ember.ones(2, 3, requires_grad=True)
    >>> (x * 2).sum().backward()
    >>> x.grad
    tensor([[2., 2., 2.],
            [2., 2., 2.]])
"""

from __future__ import annotations

import builtins as _builtins
import importlib as _importlib
import sys as _sys
import typing as _typing
from math import e, inf, nan, pi

from . import amp, autograd, cpu, dtypes, fft, linalg, tensor_methods, torch_version
from .after_import import call_after_import as _call_after_import
from .amp import GradScaler, autocast, get_autocast_dtype, is_autocast_enabled
from .amp.scaler_ops import _amp_foreach_non_finite_check_and_unscale_, _amp_update_scale_
from .autograd import enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad, set_grad_enabled
from .compiler import compile  # noqa: A004 - PyTorch's name: ember runs eagerly (see ember.compiler)
from .device import device, get_device_module
from .device_errors import AcceleratorError, OutOfMemoryError
from .dlpack import from_dlpack, to_dlpack
from .dtypes import (
    bfloat16,
    bool,
    cdouble,
    cfloat,
    complex64,
    complex128,
    double,
    float,
    float8_e4m3fn,
    float8_e4m3fnuz,
    float8_e5m2,
    float8_e5m2fnuz,
    float8_e8m0fnu,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    qint8,
    qint32,
    quint2x4,
    quint4x2,
    quint8,
    set_default_dtype,
    short,
    uint8,
    uint16,
    uint32,
    uint64,
)
from .dtypes import dtype as dtype
from .layout import (
    channels_last,
    channels_last_3d,
    contiguous_format,
    jagged,
    layout,
    memory_format,
    preserve_format,
    sparse_bsc,
    sparse_bsr,
    sparse_coo,
    sparse_csc,
    sparse_csr,
    strided,
)
from .ops import aliases as _aliases
from .ops.absent_devices import is_distributed
from .ops.activations import *  # noqa: F403
from .ops.aliases import *  # noqa: F403
from .ops.arithmetic import *  # noqa: F403
from .ops.arithmetic import bitwise_and, bitwise_or, bitwise_xor
from .ops.clamping import *  # noqa: F403
from .ops.comparison import *  # noqa: F403
from .ops.complex_views import *  # noqa: F403
from .ops.composite_math import *  # noqa: F403
from .ops.constructions import *  # noqa: F403
from .ops.conversion import clone
from .ops.creation import (
    BFloat16Tensor,
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    arange,
    bernoulli,
    empty,
    empty_like,
    eye,
    full,
    full_like,
    get_default_device,
    linspace,
    logspace,
    multinomial,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    set_default_device,
    zeros,
    zeros_like,
)
from .ops.creation import range as range  # noqa: A004
from .ops.deprecated_linalg import *  # noqa: F403
from .ops.foreach import *  # noqa: F403
from .ops.global_state import *  # noqa: F403
from .ops.hashing import hash_tensor
from .ops.histograms import *  # noqa: F403
from .ops.householder import geqrf, orgqr, ormqr
from .ops.indexing import *  # noqa: F403
from .ops.linalg import *  # noqa: F403
from .ops.linalg_decompositions import cholesky, cholesky_inverse, cholesky_solve, pinverse, qr, svd
from .ops.linalg_functions import matrix_exp
from .ops.linalg_solve import det, inverse, logdet, lu_solve, matrix_power, slogdet, triangular_solve
from .ops.matrix import *  # noqa: F403
from .ops.movement import *  # noqa: F403
from .ops.movement import broadcast_shapes
from .ops.numerical_gradient import *  # noqa: F403
from .ops.operands import tensor_input as _tensor_input
from .ops.pairwise import *  # noqa: F403
from .ops.reduction import *  # noqa: F403
from .ops.removed_linalg import *  # noqa: F403
from .ops.scatter_reductions import *  # noqa: F403
from .ops.scatter_views import *  # noqa: F403
from .ops.segment_reduce import segment_reduce
from .ops.sequences import *  # noqa: F403
from .ops.shifts import *  # noqa: F403
from .ops.slicing_joining import *  # noqa: F403
from .ops.special import *  # noqa: F403
from .ops.special_functions import igamma, igammac
from .ops.statistics import *  # noqa: F403
from .ops.stft import istft, stft
from .ops.storage_rebinding import as_strided_
from .ops.strided import as_strided, as_strided_scatter, slice_inverse
from .ops.strided_empty import empty_permuted, empty_strided
from .ops.symbolic_scalars import *  # noqa: F403
from .ops.tensor_from_data import *  # noqa: F403
from .ops.tensor_functions import *  # noqa: F403
from .ops.tensor_queries import *  # noqa: F403
from .ops.typed_storage import LEGACY_STORAGES as _LEGACY_STORAGES
from .ops.typed_storage import TypedStorage
from .ops.untyped_storage import UntypedStorage
from .ops.value_tests import *  # noqa: F403
from .ops.view_copies import *  # noqa: F403
from .ops.weight_norms import norm_except_dim
from .ops.windows import *  # noqa: F403
from .overrides import checked as _checked
from .printing import set_printoptions
from .quantized import (
    _fake_quantize_learnable_per_channel_affine,
    _fake_quantize_learnable_per_tensor_affine,
    choose_qparams_optimized,
    dequantize,
    fake_quantize_per_channel_affine,
    fake_quantize_per_tensor_affine,
    fused_moving_avg_obs_fake_quant,
    per_channel_affine,
    per_channel_affine_float_qparams,
    per_channel_symmetric,
    per_tensor_affine,
    per_tensor_symmetric,
    qscheme,
    quantize_per_channel,
    quantize_per_tensor,
    quantize_per_tensor_dynamic,
)
from .random import Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .serialization import load, save
from .sparse import dsmm, hspmm, saddmm, smm, sparse_coo_tensor, spmm, sspaddmm
from .sparse_compressed import (
    sparse_bsc_tensor,
    sparse_bsr_tensor,
    sparse_compressed_tensor,
    sparse_csc_tensor,
    sparse_csr_tensor,
)
from .streams import Event, Stream
from .tensor import Size, Tensor, as_tensor, from_numpy, tensor
from .threads import get_num_threads, set_num_threads
from .typeinfo import can_cast, finfo, iinfo

if _typing.TYPE_CHECKING:  # the subpackages that __getattr__ below imports on first access, for checkers
    from . import (
        _dynamo,
        _inductor,
        accelerator,
        ao,
        backend,
        backends,
        compiler,
        contrib,
        cuda,
        distributed,
        distributions,
        export,
        func,
        functional,
        futures,
        fx,
        hub,
        jit,
        kernels,
        library,
        mps,
        multiprocessing,
        nested,
        nn,
        onnx,
        optim,
        plugin,
        profiler,
        quantization,
        quasirandom,
        signal,
        storage,
        testing,
        types,
        utils,
        version,
        xpu,
    )

#: a ``str`` that compares as a version: ``ember.__version__ >= (0, 1)`` (as ``torch.__version__``)
__version__ = torch_version.TorchVersion("0.1.0")
#: ``x[:, ember.newaxis]``: NumPy's and PyTorch's name for ``None`` in an index
newaxis = None
globals().update(_LEGACY_STORAGES)  # ember.FloatStorage, ember.LongStorage, ...

tensor_methods.install()
# PyTorch's top-level in-place forms (``ember.exp_(x)``): the Tensor's in-place methods, for tensors.
for _name in tensor_methods.TOP_LEVEL_INPLACE:
    globals()[_name] = tensor_methods.top_level_inplace(_name)
# PyTorch's other names of ops (clip, subtract, arctan, ...): functions of their own, named after themselves
_aliases.rename_aliases(globals())
# PyTorch's functional ops at the top level (``ember.conv2d``): imported on first access, as ``ember.nn``.
_TOP_LEVEL_FUNCTIONAL = frozenset(
    """conv1d conv2d conv3d conv_transpose1d conv_transpose2d conv_transpose3d layer_norm group_norm batch_norm
    instance_norm dropout dropout_ embedding pixel_shuffle pixel_unshuffle prelu selu selu_ celu celu_ rrelu rrelu_
    threshold threshold_ pdist pairwise_distance cosine_similarity kl_div binary_cross_entropy_with_logits bilinear
    ctc_loss rms_norm max_pool1d max_pool2d max_pool3d avg_pool1d adaptive_avg_pool1d adaptive_max_pool1d
    channel_shuffle""".split()
)
# more of them, and the count samplers, each from its module (imported on first access as well)
_TOP_LEVEL_LAZY = dict.fromkeys(
    """cosine_embedding_loss margin_ranking_loss hinge_embedding_loss triplet_margin_loss poisson_nll_loss
    alpha_dropout feature_alpha_dropout constant_pad_nd""".split(),
    "top_level_losses",
) | dict.fromkeys(("poisson", "binomial", "_standard_gamma", "_sample_dirichlet"), "count_sampling")
_TOP_LEVEL_LAZY |= dict.fromkeys(("lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"), "recurrent_cells")
_TOP_LEVEL_LAZY |= dict.fromkeys(("lstm", "gru", "rnn_tanh", "rnn_relu"), "recurrent_layers")
_TOP_LEVEL_LAZY |= dict.fromkeys(("native_layer_norm", "native_batch_norm", "native_group_norm"), "native_norms")
_TOP_LEVEL_LAZY |= dict.fromkeys(
    ("native_dropout", "feature_dropout", "feature_dropout_", "alpha_dropout_", "feature_alpha_dropout_"),
    "top_level_dropouts",
)
_TOP_LEVEL_LAZY |= dict.fromkeys(("convolution", "native_channel_shuffle", "_grouped_mm"), "functional_top_level")
_TOP_LEVEL_LAZY |= dict.fromkeys(
    ("conv_tbc", "max_pool1d_with_indices", "grid_sampler", "grid_sampler_2d", "grid_sampler_3d", "embedding_bag"),
    "functional_top_level",
)
_TOP_LEVEL_LAZY |= dict.fromkeys(
    ("embedding_renorm_", "native_norm"),
    "functional_top_level",
)
_TOP_LEVEL_LAZY |= dict.fromkeys(("svd_lowrank", "pca_lowrank"), "lowrank") | {"lobpcg": "lobpcg"}
_TOP_LEVEL_LAZY |= dict.fromkeys(("cond", "while_loop"), "control_flow")


def is_tensor(obj: object) -> _typing.TypeGuard[Tensor]:
    """True if ``obj`` is an ember tensor.

    Args:
        obj (object): the object to test.

    Example::

        >>> ember.is_tensor(ember.tensor([1.0]))
        True
        >>> ember.is_tensor([1.0])
        False
        >>> ember.is_tensor(ember.eye(2).to_sparse())
        True
        >>> ember.is_tensor(ember.nested.nested_tensor([ember.ones(2), ember.ones(3)]))
        True
    """
    return isinstance(obj, Tensor)  # sparse and nested tensors too, as in PyTorch


@_tensor_input
def numel(input: Tensor) -> _builtins.int:
    """Number of elements of ``input``.

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> ember.numel(ember.zeros(2, 3))
        6
    """
    return input.numel()


@_tensor_input
def is_floating_point(input: Tensor) -> _builtins.bool:
    """True if ``input`` has a floating dtype.

    Args:
        input (Tensor): the input tensor.

    Example::

        >>> ember.is_floating_point(ember.tensor([1.0]))
        True
        >>> ember.is_floating_point(ember.tensor([1]))
        False
    """
    return input.dtype.is_floating_point


def __dir__() -> list[str]:
    return sorted(set(globals()) | _TOP_LEVEL_FUNCTIONAL | set(_TOP_LEVEL_LAZY) | {"vmap", "Storage"})


def __getattr__(name: str) -> _typing.Any:
    if name in _TOP_LEVEL_FUNCTIONAL:
        return _checked(getattr(_importlib.import_module(f"{__name__}.ops.functional_top_level"), name))
    if name == "Storage":  # PyTorch's legacy storage class of the default dtype (torch.FloatStorage by default)
        return next(cls for cls in _LEGACY_STORAGES.values() if cls._fixed_dtype is get_default_dtype())
    if name == "vmap":  # torch.vmap is torch.func.vmap
        return _importlib.import_module(f"{__name__}.func").vmap
    if name in _TOP_LEVEL_LAZY:
        return _checked(getattr(_importlib.import_module(f"{__name__}.ops.{_TOP_LEVEL_LAZY[name]}"), name))
    # Subpackages that pull in more code are imported on first access.
    if name in (
        "nn",
        "optim",
        "backends",
        "plugin",
        "kernels",
        "backend",
        "utils",
        "cuda",
        "distributed",
        "distributions",
        "testing",
        "contrib",
        "accelerator",
        "onnx",
        "export",
        "multiprocessing",
        "jit",
        "compiler",
        "func",
        "fx",
        "special",
        "version",
        "profiler",
        "signal",
        "quasirandom",
        "hub",
        "library",
        "masked",
        "nested",
        "ao",
        "quantization",
        "_dynamo",
        "_inductor",
        "futures",
        "overrides",
        "_C",
        "xpu",
        "mps",
        "functional",
        "types",
        "storage",
        "__future__",
    ):
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'ember' has no attribute {name!r}")


# einops finds ember's backend (ember.einops_backend) whether it is imported before or after ember
_call_after_import("einops", lambda: _importlib.import_module(f"{__name__}.einops_backend"))
