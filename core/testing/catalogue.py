"""The catalogue table: every module, functional form and loss of :mod:`ember.nn`, each with
a small input generator, for the conformance suite (:mod:`ember.testing`).

An :class:`Entry` builds a callable (a module, made on ``cpu`` under a fixed seed, or a
function) and the NumPy inputs it takes. Floating inputs made by :func:`R` and :func:`Pos`
are differentiable; :func:`Const`, :func:`Index` and :func:`Sign` make targets and indices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import ember
import ember.nn as nn
import ember.nn.functional as F

__all__ = ["Entry", "ENTRIES", "EXEMPT", "R", "Pos", "Const", "Index", "Sign"]


@dataclass(frozen=True)
class Spec:
    """How to make one input: ``make(rng)`` returns a NumPy array or a plain value."""

    make: Callable[[np.random.Generator], Any]
    grad: bool = False


def R(*shape: int, low: float | None = None, high: float | None = None) -> Spec:
    """A differentiable float input: standard normal, or uniform in [low, high)."""
    if low is None:
        return Spec(lambda rng: rng.standard_normal(shape), grad=True)
    return Spec(lambda rng: rng.uniform(low, high, size=shape), grad=True)  # type: ignore[arg-type]  # high comes with low


def Pos(*shape: int) -> Spec:
    """A differentiable float input in [0.1, 0.9) (probabilities, rates, variances)."""
    return R(*shape, low=0.1, high=0.9)


def Const(*shape: int, low: float = -1.0, high: float = 1.0) -> Spec:
    """A float input that is not differentiated (targets, running statistics)."""
    return Spec(lambda rng: rng.uniform(low, high, size=shape))


def Index(high: int, *shape: int) -> Spec:
    """An int64 input in [0, high) (class targets, embedding indices)."""
    return Spec(lambda rng: rng.integers(0, high, size=shape))


def Sign(*shape: int) -> Spec:
    """A float input of +1/-1 (labels of margin losses)."""
    return Spec(lambda rng: np.where(rng.random(shape) > 0.5, 1.0, -1.0))


def Value(value: Any) -> Spec:
    """A fixed value (a NumPy array is copied to the device as it is)."""
    return Spec(lambda rng: value)


@dataclass(frozen=True)
class Entry:
    """One catalogue entry.

    Attributes:
        name: ``nn.<Module>`` or ``F.<function>`` (the public name it covers); a suffix after
            ``/`` tells variants apart (``nn.Conv2d/groups``).
        make: builds the callable (modules are built on ``cpu`` under ``ember.manual_seed(0)``).
        inputs: one :class:`Spec` per positional input (None: the argument is None).
        random: the output depends on the device's random stream (compared by shape and
            dtype only; gradients checked with the stream reseeded before every call).
        gradcheck: run the float64 finite-difference gradient check.
        covers: further public names this entry exercises.
    """

    name: str
    make: Callable[[], Callable[..., Any]]
    inputs: tuple[Spec | None, ...]
    random: bool = False
    gradcheck: bool = True
    covers: tuple[str, ...] = field(default=())


ENTRIES: list[Entry] = []


def _e(name: str, make: Callable[[], Callable[..., Any]], *inputs: Spec | None, **options: Any) -> None:
    ENTRIES.append(Entry(name, make, inputs, **options))


def _m(cls: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[], Any]:
    return lambda: cls(*args, **kwargs)


def _f(fn: Callable[..., Any], **kwargs: Any) -> Callable[[], Callable[..., Any]]:
    return lambda: (lambda *a: fn(*a, **kwargs)) if kwargs else fn


def _inplace(fn: Callable[..., Any], **kwargs: Any) -> Callable[[], Callable[..., Any]]:
    # in-place forms run on a non-leaf copy so autograd allows them
    return lambda: lambda x: fn(x * 1, **kwargs)


# -- activations -----------------------------------------------------------------------------
# the table's loop variables hold modules, functions and options of many types
_module: Any
_fn: Any
_kw: dict[str, Any]
_x: Spec
_X = R(3, 4)
for _module, _fn, _kw in (
    (nn.ReLU, F.relu, {}), (nn.ReLU6, F.relu6, {}), (nn.ELU, F.elu, {"alpha": 0.7}), (nn.SELU, F.selu, {}),
    (nn.CELU, F.celu, {"alpha": 1.5}), (nn.GELU, F.gelu, {}), (nn.SiLU, F.silu, {}), (nn.Mish, F.mish, {}),
    (nn.Hardsigmoid, F.hardsigmoid, {}), (nn.Hardswish, F.hardswish, {}),
    (nn.LeakyReLU, F.leaky_relu, {"negative_slope": 0.1}), (nn.Hardtanh, F.hardtanh, {"min_val": -0.5, "max_val": 0.8}),
    (nn.Sigmoid, F.sigmoid, {}), (nn.Tanh, F.tanh, {}), (nn.LogSigmoid, F.logsigmoid, {}),
    (nn.Softplus, F.softplus, {"beta": 2.0, "threshold": 1.5}), (nn.Softshrink, F.softshrink, {"lambd": 0.3}),
    (nn.Hardshrink, F.hardshrink, {"lambd": 0.3}), (nn.Softsign, F.softsign, {}), (nn.Tanhshrink, F.tanhshrink, {}),
    (nn.Softmin, F.softmin, {"dim": 1}), (nn.Softmax, F.softmax, {"dim": 1}), (nn.LogSoftmax, F.log_softmax, {"dim": 0}),
    (nn.GLU, F.glu, {"dim": -1}),
):  # fmt: skip
    _e(f"nn.{_module.__name__}", _m(_module, **_kw), _X)
    _e(f"F.{_fn.__name__}", _f(_fn, **_kw), _X)
_e("nn.Threshold", _m(nn.Threshold, 0.1, 20.0), _X)
_e("F.threshold", _f(F.threshold, threshold=0.1, value=20.0), _X)
_e("nn.Softmax2d", _m(nn.Softmax2d), R(2, 3, 2, 2))
_e("nn.PReLU", _m(nn.PReLU, 4, 0.2), R(2, 4, 3))
_e("F.prelu", _f(F.prelu), R(2, 4, 3), R(4))
_e("nn.RReLU", _m(nn.RReLU, 0.1, 0.3), _X, random=True)
_e("F.rrelu", _f(F.rrelu, training=True), _X, random=True)
_e("F.rrelu/eval", _f(F.rrelu, training=False), _X)
_e("F.gumbel_softmax", _f(F.gumbel_softmax, tau=0.5), _X, random=True)
for _fn, _kw in (
    (F.relu_, {}), (F.elu_, {}), (F.selu_, {}), (F.celu_, {}), (F.leaky_relu_, {"negative_slope": 0.2}),
    (F.hardtanh_, {}), (F.threshold_, {"threshold": 0.1, "value": 2.0}),
):  # fmt: skip
    _e(f"F.{_fn.__name__}", _inplace(_fn, **_kw), _X)
_e("F.rrelu_", _inplace(F.rrelu_, training=True), _X, random=True)

# -- linear, containers ------------------------------------------------------------------------
_e("nn.Linear", _m(nn.Linear, 3, 2), R(2, 4, 3))
_e("nn.Bilinear", _m(nn.Bilinear, 3, 2, 4), R(5, 3), R(5, 2))
_e("nn.Identity", _m(nn.Identity), _X)
_e("nn.Flatten", _m(nn.Flatten), R(2, 3, 2))
_e("nn.Unflatten", _m(nn.Unflatten, 1, (2, 3)), R(2, 6))
_e("F.linear", _f(F.linear), R(4, 3), R(2, 3), R(2))
_e("F.bilinear", _f(F.bilinear), R(5, 3), R(5, 2), R(4, 3, 2), R(4))
_e(
    "nn.Sequential",
    lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.ModuleList([nn.Linear(4, 2)])[0]),
    R(2, 3),
    covers=("nn.ModuleList",),
)

# -- convolution --------------------------------------------------------------------------------
_e("nn.Conv1d", _m(nn.Conv1d, 2, 3, 3, padding=1), R(2, 2, 5))
_e("nn.Conv2d", _m(nn.Conv2d, 2, 3, 3, stride=2, padding=1), R(1, 2, 5, 5))
_e("nn.Conv2d/groups-dilation", _m(nn.Conv2d, 4, 2, 2, dilation=2, groups=2, bias=False), R(1, 4, 5, 4))
_e("nn.Conv2d/padding-same", _m(nn.Conv2d, 1, 2, 3, padding="same", padding_mode="reflect"), R(1, 1, 4, 4))
_e("nn.Conv3d", _m(nn.Conv3d, 2, 2, 2), R(1, 2, 3, 3, 3))
_e("nn.ConvTranspose1d", _m(nn.ConvTranspose1d, 2, 3, 3, stride=2, output_padding=1), R(1, 2, 3))
_e("nn.ConvTranspose2d", _m(nn.ConvTranspose2d, 2, 2, 3, stride=2, padding=1, groups=2), R(1, 2, 3, 3))
_e("nn.ConvTranspose3d", _m(nn.ConvTranspose3d, 1, 2, 2), R(1, 1, 2, 2, 2))
_e("F.conv1d", _f(F.conv1d, stride=2), R(1, 2, 6), R(3, 2, 2), R(3))
_e("F.conv2d", _f(F.conv2d, padding=1), R(1, 2, 3, 3), R(2, 2, 2, 2), R(2))
_e("F.conv3d", _f(F.conv3d), R(1, 1, 3, 3, 3), R(2, 1, 2, 2, 2))
_e("F.conv_transpose1d", _f(F.conv_transpose1d, stride=2), R(1, 2, 3), R(2, 3, 2), R(3))
_e("F.conv_tbc", _f(F.conv_tbc, pad=1), R(5, 2, 3), R(2, 3, 4), R(4))
_e("F.conv_transpose2d", _f(F.conv_transpose2d, padding=1), R(1, 2, 3, 3), R(2, 1, 3, 3))
_e("F.conv_transpose3d", _f(F.conv_transpose3d), R(1, 1, 2, 2, 2), R(1, 2, 2, 2, 2))

# -- pooling ----------------------------------------------------------------------------------------
_SHAPES = {1: (1, 2, 6), 2: (1, 2, 4, 4), 3: (1, 1, 4, 4, 4)}
_P2, _P3 = R(*_SHAPES[2]), R(*_SHAPES[3])
for _dims, _shape in _SHAPES.items():
    _x = R(*_shape)
    _e(f"nn.MaxPool{_dims}d", _m(getattr(nn, f"MaxPool{_dims}d"), 2, ceil_mode=True), _x)
    _e(f"nn.AvgPool{_dims}d", _m(getattr(nn, f"AvgPool{_dims}d"), 3, stride=2, padding=1, count_include_pad=False), _x)
    _e(f"nn.AdaptiveAvgPool{_dims}d", _m(getattr(nn, f"AdaptiveAvgPool{_dims}d"), 3), _x)
    _e(f"nn.AdaptiveMaxPool{_dims}d", _m(getattr(nn, f"AdaptiveMaxPool{_dims}d"), 3, return_indices=True), _x)
    _e(f"nn.LPPool{_dims}d", _m(getattr(nn, f"LPPool{_dims}d"), 2, 2), _x)
    _e(f"F.max_pool{_dims}d", _f(getattr(F, f"max_pool{_dims}d"), kernel_size=2, stride=1, dilation=1), _x)
    _e(f"F.max_pool{_dims}d_with_indices", _f(getattr(F, f"max_pool{_dims}d_with_indices"), kernel_size=2), _x)
    _e(f"F.avg_pool{_dims}d", _f(getattr(F, f"avg_pool{_dims}d"), kernel_size=2, ceil_mode=True), _x)
    _e(f"F.adaptive_avg_pool{_dims}d", _f(getattr(F, f"adaptive_avg_pool{_dims}d"), output_size=2), _x)
    _e(f"F.adaptive_max_pool{_dims}d", _f(getattr(F, f"adaptive_max_pool{_dims}d"), output_size=2), _x)
    _e(
        f"F.adaptive_max_pool{_dims}d_with_indices",
        _f(getattr(F, f"adaptive_max_pool{_dims}d_with_indices"), output_size=3),
        _x,
    )
    _e(f"F.lp_pool{_dims}d", _f(getattr(F, f"lp_pool{_dims}d"), norm_type=3, kernel_size=2), Pos(*_shape))

    def _unpool(dims: int = _dims) -> Callable[..., Any]:
        pool = getattr(nn, f"MaxPool{dims}d")(2, return_indices=True)
        unpool = getattr(nn, f"MaxUnpool{dims}d")(2)
        return lambda x: unpool(*pool(x))

    def _unpool_f(dims: int = _dims) -> Callable[..., Any]:
        pool, unpool = getattr(F, f"max_pool{dims}d_with_indices"), getattr(F, f"max_unpool{dims}d")
        return lambda x: unpool(*pool(x, 2), 2)

    _e(f"nn.MaxUnpool{_dims}d", _unpool, _x)
    _e(f"F.max_unpool{_dims}d", _unpool_f, _x)
_e("nn.FractionalMaxPool2d", _m(nn.FractionalMaxPool2d, 2, output_size=2), R(1, 2, 5, 5), random=True)
_e("nn.FractionalMaxPool3d", _m(nn.FractionalMaxPool3d, 2, output_ratio=0.5), R(1, 1, 4, 4, 4), random=True)
_e("F.fractional_max_pool2d", _f(F.fractional_max_pool2d, kernel_size=2, output_size=3), R(1, 1, 5, 5), random=True)
_e("F.fractional_max_pool3d", _f(F.fractional_max_pool3d, kernel_size=2, output_size=2), _P3, random=True)
_e(
    "F.fractional_max_pool2d_with_indices",
    _f(F.fractional_max_pool2d_with_indices, kernel_size=2, output_size=2),
    _P2,
    random=True,
)
_e(
    "F.fractional_max_pool3d_with_indices",
    _f(F.fractional_max_pool3d_with_indices, kernel_size=2, output_size=2),
    _P3,
    random=True,
)

# -- padding ----------------------------------------------------------------------------------------
for _dims, _x in ((1, R(1, 2, 4)), (2, R(1, 1, 3, 4)), (3, R(1, 1, 2, 3, 3))):
    _pads = (2, 1, 1, 0, 1, 1)[: 2 * _dims]
    for _kind in ("Reflection", "Replication", "Zero", "Circular"):
        _e(f"nn.{_kind}Pad{_dims}d", _m(getattr(nn, f"{_kind}Pad{_dims}d"), _pads), _x)
    _e(f"nn.ConstantPad{_dims}d", _m(getattr(nn, f"ConstantPad{_dims}d"), _pads, 0.5), _x)
for _mode in ("constant", "reflect", "replicate", "circular"):
    _e(f"F.pad/{_mode}", _f(F.pad, pad=(1, 2, 1, 0), mode=_mode), R(1, 1, 3, 3))
_e("F.pad/negative", _f(F.pad, pad=(-1, 1)), R(2, 4))

# -- normalization -----------------------------------------------------------------------------------
for _dims, _x in ((1, R(4, 3, 2)), (2, R(2, 3, 2, 2)), (3, R(2, 3, 2, 1, 2))):
    _e(f"nn.BatchNorm{_dims}d", _m(getattr(nn, f"BatchNorm{_dims}d"), 3), _x)
    _e(f"nn.InstanceNorm{_dims}d", _m(getattr(nn, f"InstanceNorm{_dims}d"), 3, affine=True), _x)
_e("nn.BatchNorm1d/2d-input", _m(nn.BatchNorm1d, 3, momentum=None), R(4, 3))
_e("nn.LayerNorm", _m(nn.LayerNorm, (2, 3)), R(2, 2, 3))
_e("nn.GroupNorm", _m(nn.GroupNorm, 2, 4), R(2, 4, 3))
_e("nn.LocalResponseNorm", _m(nn.LocalResponseNorm, 3), R(2, 4, 3))
_e("F.batch_norm", _f(F.batch_norm, training=True), R(4, 3), Const(3), Const(3, low=0.5, high=1.5), R(3), R(3))
_e("F.batch_norm/eval", _f(F.batch_norm), R(4, 3), Const(3), Const(3, low=0.5, high=1.5), R(3), R(3))
_e("F.instance_norm", _f(F.instance_norm), R(2, 3, 4), None, None, R(3), R(3))
_e("F.layer_norm", lambda: lambda x, w, b: F.layer_norm(x, (4,), w, b), R(3, 4), R(4), R(4))
_e("F.group_norm", lambda: lambda x, w, b: F.group_norm(x, 2, w, b), R(2, 4, 2), R(4), R(4))
_e("F.local_response_norm", _f(F.local_response_norm, size=2), R(2, 3, 4))
_e("F.normalize", _f(F.normalize, p=3.0, dim=1), R(3, 4))

# -- dropout ----------------------------------------------------------------------------------------
for _module, _fn, _x in (
    (nn.Dropout, F.dropout, R(4, 5)), (nn.Dropout1d, F.dropout1d, R(2, 3, 4)), (nn.Dropout2d, F.dropout2d, R(2, 3, 2, 2)),
    (nn.Dropout3d, F.dropout3d, R(1, 3, 2, 2, 2)), (nn.AlphaDropout, F.alpha_dropout, R(4, 5)),
    (nn.FeatureAlphaDropout, F.feature_alpha_dropout, R(2, 3, 2, 2)),
):  # fmt: skip
    _e(f"nn.{_module.__name__}", _m(_module, 0.3), _x, random=True)
    _e(f"F.{_fn.__name__}", _f(_fn, p=0.3, training=True), _x, random=True)

# -- sparse --------------------------------------------------------------------------------------------
_e("nn.Embedding", _m(nn.Embedding, 6, 3, padding_idx=0, max_norm=1.5), Index(6, 2, 4), gradcheck=False)
_e("nn.EmbeddingBag", _m(nn.EmbeddingBag, 6, 3, mode="mean"), Index(6, 3, 4), gradcheck=False)
_e("F.embedding", _f(F.embedding), Index(5, 2, 3), R(5, 3))
_e("F.embedding/padding_idx", _f(F.embedding, padding_idx=1), Index(5, 2, 3), R(5, 3), gradcheck=False)
_e("F.embedding_bag", _f(F.embedding_bag, mode="sum"), Index(5, 7), R(5, 3), Value(np.array([0, 2, 2, 5])))
_e("F.embedding_bag/max", _f(F.embedding_bag, mode="max"), Index(5, 2, 3), R(5, 3))
_e("F.one_hot", _f(F.one_hot, num_classes=5), Index(5, 2, 3), gradcheck=False)

# -- distance ---------------------------------------------------------------------------------------------
_e("nn.CosineSimilarity", _m(nn.CosineSimilarity, dim=1), R(3, 4), R(3, 4))
_e("nn.PairwiseDistance", _m(nn.PairwiseDistance, p=3.0, keepdim=True), R(3, 4), R(3, 4))
_e("F.cosine_similarity", _f(F.cosine_similarity, dim=0), R(3, 4), R(1, 4))
_e("F.pairwise_distance", _f(F.pairwise_distance), R(3, 4), R(3, 4))
_e("F.pdist", _f(F.pdist), R(4, 3))

# -- losses ------------------------------------------------------------------------------------------------
_LOSSES: tuple[tuple[str, str, tuple[Spec, ...], dict[str, Any]], ...] = (
    ("L1Loss", "l1_loss", (R(3, 4), Const(3, 4)), {}),
    ("MSELoss", "mse_loss", (R(3, 4), Const(3, 4)), {"reduction": "sum"}),
    ("SmoothL1Loss", "smooth_l1_loss", (R(3, 4), Const(3, 4)), {"beta": 0.5}),
    ("HuberLoss", "huber_loss", (R(3, 4), Const(3, 4)), {"delta": 0.5}),
    ("CrossEntropyLoss", "cross_entropy", (R(4, 3), Index(3, 4)), {"label_smoothing": 0.1}),
    ("NLLLoss", "nll_loss", (R(4, 3), Index(3, 4)), {"ignore_index": 1}),
    ("PoissonNLLLoss", "poisson_nll_loss", (R(3, 4), Const(3, 4, low=0, high=3)), {}),
    ("GaussianNLLLoss", "gaussian_nll_loss", (R(3, 4), Const(3, 4), Pos(3, 4)), {}),
    ("KLDivLoss", "kl_div", (R(3, 4), Pos(3, 4)), {"reduction": "batchmean"}),
    ("BCELoss", "binary_cross_entropy", (Pos(3, 4), Const(3, 4, low=0, high=1)), {}),
    ("BCEWithLogitsLoss", "binary_cross_entropy_with_logits", (R(3, 4), Const(3, 4, low=0, high=1)), {}),
    ("MarginRankingLoss", "margin_ranking_loss", (R(5), R(5), Sign(5)), {"margin": 0.2}),
    ("HingeEmbeddingLoss", "hinge_embedding_loss", (R(3, 4), Sign(3, 4)), {"margin": 0.5}),
    ("MultiLabelMarginLoss", "multilabel_margin_loss", (R(2, 4), Value(np.array([[3, 0, -1, 1], [1, 2, 3, -1]]))), {}),
    ("SoftMarginLoss", "soft_margin_loss", (R(3, 4), Sign(3, 4)), {}),
    ("MultiLabelSoftMarginLoss", "multilabel_soft_margin_loss", (R(3, 4), Const(3, 4, low=0, high=1)), {}),
    ("CosineEmbeddingLoss", "cosine_embedding_loss", (R(3, 4), R(3, 4), Sign(3)), {"margin": 0.1}),
    ("MultiMarginLoss", "multi_margin_loss", (R(4, 3), Index(3, 4)), {"p": 2, "margin": 0.7}),
    ("TripletMarginLoss", "triplet_margin_loss", (R(3, 4), R(3, 4), R(3, 4)), {"swap": True}),
    ("TripletMarginWithDistanceLoss", "triplet_margin_with_distance_loss", (R(3, 4), R(3, 4), R(3, 4)), {}),
)
for _module, _fn, _inputs, _kw in _LOSSES:
    _e(f"nn.{_module}", _m(getattr(nn, _module), **_kw), *_inputs)
    _e(f"F.{_fn}", _f(getattr(F, _fn), **_kw), *_inputs)
_e("nn.NLLLoss2d", _m(nn.NLLLoss2d), R(2, 3, 2, 2), Index(3, 2, 2, 2))
_e(
    "nn.CrossEntropyLoss/weight-probabilities",
    _m(nn.CrossEntropyLoss, weight=ember.tensor([0.2, 1.0, 0.5])),
    R(4, 3),
    Pos(4, 3),
)
_e("nn.BCELoss/classic-size_average", _m(nn.BCELoss, size_average=False), Pos(3, 2), Const(3, 2, low=0, high=1))
_e("F.nll_loss/n-d", _f(F.nll_loss, reduction="none"), R(2, 3, 2, 2), Index(3, 2, 2, 2))

# -- vision -------------------------------------------------------------------------------------------------
_e("nn.PixelShuffle", _m(nn.PixelShuffle, 2), R(1, 8, 2, 2))
_e("nn.PixelUnshuffle", _m(nn.PixelUnshuffle, 2), R(1, 1, 4, 4))
_e("F.pixel_shuffle", _f(F.pixel_shuffle, upscale_factor=2), R(1, 4, 2, 3))
_e("F.pixel_unshuffle", _f(F.pixel_unshuffle, downscale_factor=2), R(1, 2, 2, 4))
_e("nn.Upsample", _m(nn.Upsample, scale_factor=2, mode="nearest"), R(1, 1, 2, 3))
_e("nn.Upsample/trilinear", _m(nn.Upsample, size=(3, 3, 2), mode="trilinear", align_corners=True), R(1, 1, 2, 2, 2))
_e("nn.UpsamplingNearest2d", _m(nn.UpsamplingNearest2d, scale_factor=2), R(1, 1, 2, 2))
_e("nn.UpsamplingBilinear2d", _m(nn.UpsamplingBilinear2d, size=(3, 4)), R(1, 1, 2, 2))
for _mode, _x in (
    ("nearest", R(1, 1, 3)),
    ("nearest-exact", R(1, 1, 3)),
    ("linear", R(1, 2, 3)),
    ("bilinear", R(1, 1, 3, 3)),
    ("bicubic", R(1, 1, 3, 3)),
):
    _kw = {"scale_factor": 1.7, "mode": _mode} | (
        {"align_corners": False} if "ear" in _mode or _mode == "bicubic" else {}
    )
    if _mode.startswith("nearest"):
        _kw.pop("align_corners", None)
    _e(f"F.interpolate/{_mode}", _f(F.interpolate, **_kw), _x)
_e("F.upsample", _f(F.upsample, size=4, mode="linear", align_corners=True), R(1, 1, 3))
_e("F.upsample_nearest", _f(F.upsample_nearest, scale_factor=2), R(1, 1, 2, 2))
_e("F.upsample_bilinear", _f(F.upsample_bilinear, size=3), R(1, 1, 2, 2))
_e("F.affine_grid", _f(F.affine_grid, size=(2, 1, 3, 4), align_corners=False), R(2, 2, 3))
_e("F.affine_grid/3d", _f(F.affine_grid, size=(1, 1, 2, 2, 3), align_corners=True), R(1, 3, 4))
for _mode, _padding in (("bilinear", "zeros"), ("nearest", "border"), ("bilinear", "reflection")):
    _e(
        f"F.grid_sample/{_mode}-{_padding}",
        _f(F.grid_sample, mode=_mode, padding_mode=_padding, align_corners=False),
        R(1, 2, 3, 3),
        R(1, 2, 2, 2, low=-1.2, high=1.2),
    )

# -- recurrent --------------------------------------------------------------------------------------------
_e("nn.RNN", _m(nn.RNN, 3, 4, num_layers=2, nonlinearity="relu"), R(5, 2, 3))
_e("nn.LSTM", _m(nn.LSTM, 3, 4, bidirectional=True, batch_first=True), R(2, 3, 3))
_e("nn.LSTM/proj_size-unbatched", _m(nn.LSTM, 3, 4, proj_size=2), R(3, 3))
_e("nn.GRU", _m(nn.GRU, 3, 2), R(4, 2, 3), R(1, 2, 2))
_e("nn.RNNCell", _m(nn.RNNCell, 3, 4), R(2, 3), R(2, 4))
_e("nn.LSTMCell", _m(nn.LSTMCell, 3, 2), R(2, 3))
_e("nn.GRUCell", _m(nn.GRUCell, 3, 2), R(3), R(2))

# -- attention, transformers ------------------------------------------------------------------
_e(
    "nn.MultiheadAttention",
    _m(nn.MultiheadAttention, 4, 2, add_bias_kv=True, kdim=3),
    R(3, 2, 4),
    R(5, 2, 3),
    R(5, 2, 4),
    covers=("F.multi_head_attention_forward",),
)
_e(
    "F.scaled_dot_product_attention",
    _f(F.scaled_dot_product_attention, is_causal=True),
    R(2, 3, 4),
    R(2, 3, 4),
    R(2, 3, 4),
)
_e(
    "F.scaled_dot_product_attention/float-mask",
    _f(F.scaled_dot_product_attention),
    R(2, 3, 4),
    R(2, 5, 4),
    R(2, 5, 3),
    R(3, 5),
)
_e("nn.TransformerEncoderLayer", _m(nn.TransformerEncoderLayer, 4, 2, 8, 0.0), R(3, 2, 4))
_e("nn.TransformerDecoderLayer", _m(nn.TransformerDecoderLayer, 4, 2, 8, 0.0, norm_first=True), R(3, 2, 4), R(5, 2, 4))
_e("nn.TransformerEncoder", lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8, 0.0), 2), R(3, 2, 4))
_e(
    "nn.TransformerDecoder",
    lambda: nn.TransformerDecoder(nn.TransformerDecoderLayer(4, 2, 8, 0.0), 1, norm=nn.LayerNorm(4)),
    R(3, 2, 4),
    R(5, 2, 4),
)
_e("nn.Transformer", _m(nn.Transformer, 4, 2, 1, 1, 8, 0.0), R(3, 2, 4), R(2, 2, 4))

# -- RMSNorm, CrossMapLRN2d, Fold/Unfold, CTC, LinearCrossEntropy ---------------------------------
_e("nn.RMSNorm", _m(nn.RMSNorm, (2, 3)), R(2, 2, 3))
_e("F.rms_norm", lambda: lambda x, w: F.rms_norm(x, (4,), w), R(3, 4), R(4))
# PyTorch's legacy backward is not the derivative of its forward: no finite-difference check
_e(
    "nn.CrossMapLRN2d",
    _m(nn.CrossMapLRN2d, 3, 0.5, 0.75, 1.5),
    R(2, 5, 2, 2),
    gradcheck=False,
    covers=("F.cross_map_lrn2d",),
)
_e("nn.Fold", _m(nn.Fold, (3, 3), 2), R(1, 8, 4))
_e("F.fold", _f(F.fold, output_size=(4, 5), kernel_size=(2, 3), stride=(1, 2)), R(1, 6, 6))
_e("nn.Unfold", _m(nn.Unfold, 2, padding=1, stride=2), R(1, 2, 3, 3))
_e("F.unfold", _f(F.unfold, kernel_size=(2, 3), dilation=(1, 2)), R(2, 2, 4, 6))
# through log_softmax, where PyTorch's CTC gradient is the exact one
_e(
    "nn.CTCLoss",
    lambda: lambda x, t: nn.CTCLoss()(x.log_softmax(2), t, (6, 5), (2, 2)),
    R(6, 2, 4),
    Value(np.array([[1, 2], [3, 3]])),
    covers=("F.ctc_loss",),
)
_e("nn.LinearCrossEntropyLoss", _m(nn.LinearCrossEntropyLoss, 4, 3), R(5, 4), Index(3, 5))
_e("F.linear_cross_entropy", _f(F.linear_cross_entropy), R(5, 4), R(3, 4), Index(3, 5))
# float32, bfloat16 and float16 only, as PyTorch's: no float64 gradient check
_e(
    "F.grouped_mm",
    lambda: lambda a, b, offs: F.grouped_mm(a, b, offs=offs),
    R(6, 4),
    R(3, 4, 4),
    Value(np.array([2, 2, 6], dtype=np.int32)),
    gradcheck=False,
)
# the surface work's layers (the lazy modules become the layers above on their first forward)
_e("nn.ChannelShuffle", _m(nn.ChannelShuffle, 2), R(2, 4, 3))
_e("F.channel_shuffle", _f(F.channel_shuffle, groups=3), R(1, 6, 2, 2))
_e("F.native_channel_shuffle", _f(F.native_channel_shuffle, groups=3), R(1, 6, 2, 2))
_e("nn.SyncBatchNorm", _m(nn.SyncBatchNorm, 3), R(4, 3, 5))
_e("nn.AdaptiveLogSoftmaxWithLoss", _m(nn.AdaptiveLogSoftmaxWithLoss, 8, 10, [3, 6], 2.0), R(5, 8), Index(10, 5))

#: Public names of ``ember.nn`` / ``ember.nn.functional`` that are not layers, functions of
#: tensors or losses, and so have no entry.
EXEMPT = frozenset(
    {
        "nn.Module", "nn.Container", "nn.ModuleDict", "nn.Parameter", "nn.ParameterDict", "nn.ParameterList",
        "nn.RemovableHandle", "nn.RNNBase", "nn.RNNCellBase", "nn.register_module_forward_hook",
        "nn.register_module_forward_pre_hook", "nn.register_module_full_backward_hook",
        "nn.register_module_full_backward_pre_hook", "nn.register_module_backward_hook",
        "nn.register_module_buffer_registration_hook", "nn.register_module_module_registration_hook",
        "nn.register_module_parameter_registration_hook", "nn.DataParallel", "F.legacy_get_string",
        # placeholders and lazy forms of catalogued layers (tests/test_surface_nn.py checks them against torch)
        "nn.Buffer", "nn.UninitializedParameter", "nn.UninitializedBuffer", "nn.LazyModuleMixin", "nn.LazyLinear",
        "nn.LazyConv1d", "nn.LazyConv2d", "nn.LazyConv3d", "nn.LazyConvTranspose1d", "nn.LazyConvTranspose2d",
        "nn.LazyConvTranspose3d", "nn.LazyBatchNorm1d", "nn.LazyBatchNorm2d", "nn.LazyBatchNorm3d",
        "nn.LazyInstanceNorm1d", "nn.LazyInstanceNorm2d", "nn.LazyInstanceNorm3d",
    }
)  # fmt: skip
