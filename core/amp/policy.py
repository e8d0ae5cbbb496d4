"""PyTorch's autocast policy as one declarative table per device type: which ops run in the
region's lower-precision dtype, which in float32, which promote their operands to the widest
floating type among them, and which autocast refuses.

The tables follow PyTorch 2.13's ``autocast_mode.cpp`` (``KERNEL_CPU`` and ``KERNEL_CUDA``),
spelled with ember's op names (one name for a family PyTorch lists by overload).
:func:`cast_inputs` applies the table of a device type to an op's operands, :func:`autocast_call`
runs an op on operands cast so, with autocast suspended inside it.
"""

from __future__ import annotations

from .. import dtypes
from ..tensor import Tensor
from .state import cast_to, state

__all__ = [
    "LOWER",
    "FP32",
    "FP32_SET_OPT_DTYPE",
    "PROMOTE",
    "BANNED",
    "POLICY",
    "policy",
    "has_policy",
    "cast_inputs",
    "autocast_call",
    "follow",
]

LOWER = "lower_precision_fp"  # floating operands cast to the region's dtype
FP32 = "fp32"  # floating operands cast to float32
FP32_SET_OPT_DTYPE = "fp32_set_opt_dtype"  # float32 unless the call names an output dtype
PROMOTE = "promote"  # floating operands (float64 aside) cast to float32 if one is, else kept in the region's dtype
BANNED = "banned"  # refused inside a region

_MATMUL = ("matmul", "mm", "bmm", "addmm", "addbmm", "baddbmm", "linear", "linalg_vecdot")
_CONV = ("conv1d", "conv2d", "conv3d", "conv_tbc", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
_LOSSES = (
    "cosine_embedding_loss",
    "nll_loss",
    "hinge_embedding_loss",
    "poisson_nll_loss",
    "smooth_l1_loss",
    "l1_loss",
    "huber_loss",
    "mse_loss",
    "margin_ranking_loss",
    "soft_margin_loss",
    "triplet_margin_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "kl_div",
    "binary_cross_entropy_with_logits",
)

# the spectral and linear-algebra ops PyTorch's cpu table runs in float32
_FFT = tuple(f"fft_{kind}{suffix}" for kind in ("fft", "ifft", "rfft", "irfft") for suffix in ("", "2", "n")) + (
    "fft_hfft",
    "fft_ihfft",
)
_LINALG_CPU = tuple(
    f"linalg_{name}"
    for name in (
        "cond",
        "matrix_rank",
        "solve",
        "cholesky",
        "cholesky_ex",
        "svdvals",
        "eigvals",
        "eigvalsh",
        "inv",
        "inv_ex",
        "householder_product",
        "tensorinv",
        "tensorsolve",
        "qr",
        "svd",
        "eig",
        "eigh",
        "lstsq",
    )
)

POLICY = {
    "cpu": {
        # mkldnn_rnn_layer: the LSTM layer PyTorch's cpu LSTM (without projections) runs. rnn_tanh and
        # rnn_relu are not in PyTorch's table: its cpu RNN is made of linear ops, so the layer comes
        # out in the region's dtype as these entries give it (its GRU stays float32: no entry).
        # native_multi_head_attention: the inference kernel of nn.MultiheadAttention, which its cpu regions
        # run (the module checks cuda's autocast alone).
        LOWER: frozenset(
            (
                *_MATMUL,
                *_CONV,
                "prelu",
                "scaled_dot_product_attention",
                "flex_attention",
                "native_multi_head_attention",
                "mkldnn_rnn_layer",
                "rnn_tanh",
                "rnn_relu",
            )
        ),
        FP32: frozenset(
            (
                *_LOSSES,
                "binary_cross_entropy",
                "cross_entropy",
                "ctc_loss",
                "avg_pool3d",
                "max_pool3d",
                "adaptive_avg_pool3d",
                "adaptive_max_pool3d",
                "max_unpool2d",
                "max_unpool3d",
                "fractional_max_pool2d",
                "fractional_max_pool3d",
                "reflection_pad1d",
                "reflection_pad2d",
                "replication_pad1d",
                "replication_pad2d",
                "replication_pad3d",
                "grid_sampler",
                "polar",
                "prod",
                "quantile",
                "nanquantile",
                "stft",
                "cdist",
                "trace",
                "view_as_complex",
                "cholesky",
                "cholesky_inverse",
                "cholesky_solve",
                "inverse",
                "lu_solve",
                "lu",  # PyTorch's _lu_with_info, which torch.lu and Tensor.lu call
                "pinverse",
                "qr",
                "svd",
                "triangular_solve",
                "orgqr",
                "ormqr",
                "geqrf",
                *_FFT,
                *_LINALG_CPU,
            )
        ),
        FP32_SET_OPT_DTYPE: frozenset(),
        PROMOTE: frozenset(("stack", "cat", "index_copy")),
        BANNED: frozenset(),
    },
    "cuda": {
        LOWER: frozenset(
            (
                *_MATMUL,
                *_CONV,
                "addmv",
                "addr",
                "einsum",
                "mv",
                "chain_matmul",
                "linalg_multi_dot",
                "prelu",
                "lstm_cell",
                "gru_cell",
                "rnn_tanh_cell",
                "rnn_relu_cell",
                "scaled_dot_product_attention",
                "flex_attention",
            )
        ),
        FP32: frozenset(
            (
                *_LOSSES,
                # PyTorch's cross_entropy is log_softmax (float32) then nll_loss (float32)
                "cross_entropy",
                "ctc_loss",
                "acos",
                "asin",
                "cosh",
                "erfinv",
                "exp",
                "expm1",
                "log",
                "log10",
                "log2",
                "log1p",
                "reciprocal",
                "rsqrt",
                "sinh",
                "tan",
                "pow",
                "softplus",
                "layer_norm",
                "group_norm",
                "rms_norm",
                "frobenius_norm",
                "nuclear_norm",
                "norm",
                "cosine_similarity",
                "dist",
                "pdist",
                "cdist",
                "renorm",
                "logsumexp",
                "interpolate",
            )
        ),
        FP32_SET_OPT_DTYPE: frozenset(
            ("prod", "softmax", "log_softmax", "cumprod", "cumsum", "linalg_vector_norm", "linalg_matrix_norm", "sum")
        ),
        PROMOTE: frozenset(
            (
                "addcdiv",
                "addcmul",
                "atan2",
                "bilinear",
                "cross",
                "dot",
                "vdot",
                "grid_sampler",
                "index_put",
                "scatter_add",
                "tensordot",
                "cat",
                "stack",
            )
        ),
        BANNED: frozenset(("binary_cross_entropy",)),
    },
}

_CATEGORY = {device: {op: kind for kind, ops in table.items() for op in ops} for device, table in POLICY.items()}

_BANNED_MESSAGE = (
    "ember.nn.functional.binary_cross_entropy and ember.nn.BCELoss are unsafe to autocast.\n"
    "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
    "In this case, combine the two layers using ember.nn.functional.binary_cross_entropy_with_logits\n"
    "or ember.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\n"
    "safe to autocast."
)


def has_policy(op):
    """Whether any device type's table lists ``op`` (an op factory asks once, so the other ops
    never look at the autocast state).

    Example::

        >>> from ember.amp.policy import has_policy
        >>> has_policy("exp"), has_policy("relu")
        (True, False)
    """
    return any(op in table for table in _CATEGORY.values())


def policy(op, device_type):
    """The autocast category of ``op`` on ``device_type`` (one of the module's constants), or None
    for an op that runs in the dtype of its inputs.

    Args:
        op (str): the op's name, e.g. ``'linear'`` or ``'softmax'``.
        device_type (str): ``'cpu'`` or ``'cuda'``.

    Example::

        >>> from ember.amp.policy import policy
        >>> policy("softmax", "cuda"), policy("softmax", "cpu"), policy("linear", "cpu")
        ('fp32_set_opt_dtype', None, 'lower_precision_fp')
    """
    table = _CATEGORY.get(device_type)
    return None if table is None else table.get(op)


def follow(device_type, table_device_type):
    """Let ``device_type``'s ops follow the policy table of ``table_device_type`` (a backend that
    declares ``autocast_device_type``: the restricted NumPy wrapper follows ``cpu``'s); whether
    ``device_type`` has a table now.

    Example::

        >>> from ember.amp.policy import follow, policy
        >>> follow("restricted", "cpu")
        True
        >>> policy("linear", "restricted")
        'lower_precision_fp'
    """
    if device_type not in _CATEGORY and table_device_type in _CATEGORY:
        _CATEGORY[device_type] = _CATEGORY[table_device_type]
    return device_type in _CATEGORY


def _promote_type(floating, lower):
    # PyTorch's at::autocast::prioritize: float64 operands are left out (and alone), float32 wins
    # over the region's dtype, and any other floating dtype is an error
    target = lower
    for t in floating:
        d = t.dtype
        if d is dtypes.float64:
            continue
        if target is dtypes.float32 or d is dtypes.float32:
            target = dtypes.float32
        elif not (target is lower and d is lower):
            raise RuntimeError("Unexpected floating ScalarType in at::autocast::prioritize")
    return target


def cast_inputs(op, *tensors, device_type=None, dtype=None):
    """``tensors`` (None allowed) cast as autocast's policy for ``op`` says, on the device type
    whose region is active (``device_type``, else the first floating operand's).

    Outside an autocast region for that device type, and for ops outside its table, the tensors
    come back unchanged. ``dtype`` is the output dtype a ``fp32_set_opt_dtype`` op was called
    with (None: float32). Float64 operands are never cast, as in PyTorch.

    Args:
        op (str): the op's name, as in :data:`POLICY`.
        tensors (Tensor): the op's tensor operands.
        device_type (str, optional): the device type whose policy applies. Default: the
            device type of the first floating operand.
        dtype (ember.dtype, optional): an output dtype the call named.

    Raises:
        RuntimeError: for an op the policy bans (``binary_cross_entropy`` on cuda), and for a
            ``promote`` op whose operands mix the region's dtype with another 16-bit one.

    Example::

        >>> from ember.amp.policy import cast_inputs
        >>> x = ember.randn(2, 3, dtype=ember.bfloat16)
        >>> with ember.autocast("cpu"):
        ...     (a,) = cast_inputs("softmax", x, device_type="cpu")
        ...     (b,) = cast_inputs("mse_loss", x, device_type="cpu")
        >>> a.dtype, b.dtype
        (ember.bfloat16, ember.float32)
    """
    floating = [t for t in tensors if isinstance(t, Tensor) and t.dtype.is_floating_point]
    if not floating:
        return list(tensors)
    device_type = device_type or floating[0].device.type
    lower = state.dtypes.get(device_type)
    kind = policy(op, device_type) if lower is not None else None
    if kind is None:
        return list(tensors)
    if kind == BANNED:
        raise RuntimeError(_BANNED_MESSAGE)
    if kind == LOWER:
        return cast_to(tensors, lower)
    if kind == FP32:
        return cast_to(tensors, dtypes.float32)
    if kind == FP32_SET_OPT_DTYPE:
        return cast_to(tensors, dtypes.as_dtype(dtype) if dtype is not None else dtypes.float32)
    return cast_to(tensors, _promote_type(floating, lower))


def autocast_call(op, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with its tensor arguments (and the tensors of list arguments, as
    ``cat``'s) cast as the policy for ``op`` says, and autocast suspended while ``fn`` runs.

    An op calls it when ``state.active`` is true and then runs its own body inside, so the ops
    that body uses are not cast again: PyTorch likewise excludes its autocast dispatch key below
    an op's autocast kernel. An op outside the table gets its operands unchanged (``mv`` on cpu
    stays in its input's dtype although it multiplies through ``matmul``).

    Args:
        op (str): the op's name, as in :data:`POLICY`.
        fn (callable): the op itself (it sees ``state.active`` false when called back).
        args, kwargs: the op's arguments; ``kwargs['dtype']`` is the output dtype of a
            ``fp32_set_opt_dtype`` op.

    Example::

        >>> from ember.amp.policy import autocast_call
        >>> x = ember.randn(2, 3)
        >>> with ember.autocast("cpu"):
        ...     y = autocast_call("mm", ember.mm, x, x.t())
        >>> y.dtype
        ember.bfloat16
    """
    flat = []
    for a in (*args, *kwargs.values()):
        if isinstance(a, Tensor):
            flat.append(a)
        elif isinstance(a, (list, tuple)):
            flat.extend(t for t in a if isinstance(t, Tensor))
    cast = iter(cast_inputs(op, *flat, dtype=kwargs.get("dtype")))

    def put(a):
        if isinstance(a, Tensor):
            return next(cast)
        if isinstance(a, (list, tuple)) and any(isinstance(t, Tensor) for t in a):
            return type(a)(next(cast) if isinstance(t, Tensor) else t for t in a)
        return a

    args = [put(a) for a in args]
    kwargs = {k: put(v) for k, v in kwargs.items()}
    state.active = False
    try:
        return fn(*args, **kwargs)
    finally:
        state.active = True
