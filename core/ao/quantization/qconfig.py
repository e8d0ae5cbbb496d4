"""``QConfig``: which observer or fake-quantize constructors a layer's activations and weights get,
and PyTorch's default configurations for quantization-aware training."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from ...nn.modules.module import Module
from .fake_quantize import (
    FakeQuantize,
    FusedMovingAvgObsFakeQuantize,
    default_fake_quant,
    default_fused_per_channel_wt_fake_quant,
    default_fused_wt_fake_quant,
    default_per_channel_weight_fake_quant,
    default_weight_fake_quant,
)
from .observer import (
    MovingAverageMinMaxObserver,
    default_observer,
    default_per_channel_weight_observer,
    default_weight_observer,
)

__all__ = [
    "QConfig",
    "default_qconfig",
    "default_per_channel_qconfig",
    "default_qat_qconfig",
    "default_weight_only_qconfig",
    "default_activation_only_qconfig",
    "get_default_qat_qconfig",
    "get_default_qconfig",
]


class QConfig(namedtuple("QConfig", ["activation", "weight"])):  # noqa: PYI024 - PyTorch's own namedtuple
    """How to quantize a layer: the constructors (classes or ``with_args`` results, not instances) of the
    observers or fake-quantize modules for its activations and its weights.

    Example::

        >>> from ember.ao.quantization import QConfig, MinMaxObserver
        >>> qc = QConfig(activation=MinMaxObserver.with_args(dtype=ember.quint8), weight=MinMaxObserver)
        >>> qc.activation().dtype
        ember.quint8
    """

    __slots__ = ()

    def __new__(cls, activation: Any, weight: Any) -> QConfig:
        if isinstance(activation, Module) or isinstance(weight, Module):
            raise ValueError(
                "QConfig received observer instance, please pass observer class instead. "
                + "Use MyObserver.with_args(x=1) to override arguments to constructor if needed"
            )
        return super().__new__(cls, activation, weight)


default_qconfig = QConfig(activation=default_observer, weight=default_weight_observer)
default_per_channel_qconfig = QConfig(activation=default_observer, weight=default_per_channel_weight_observer)
default_qat_qconfig = QConfig(activation=default_fake_quant, weight=default_weight_fake_quant)
default_weight_only_qconfig = QConfig(activation=lambda **kwargs: _Identity(), weight=default_weight_fake_quant)
default_activation_only_qconfig = QConfig(activation=default_fake_quant, weight=lambda **kwargs: _Identity())

_BACKENDS = ["fbgemm", "x86", "qnnpack", "onednn"]


def _Identity() -> Module:  # noqa: N802 - torch.nn.Identity's role
    from ...nn.modules.linear import Identity

    return Identity()


def _check_backend(backend: str) -> None:
    if backend not in _BACKENDS:
        raise AssertionError(f"backend: {backend} not supported. backend must be one of {_BACKENDS}")


def get_default_qconfig(backend: str = "x86", version: int = 0) -> QConfig:
    """PyTorch's default post-training qconfig for ``backend``: a histogram observer of the activations
    (7 bits on ``fbgemm``/``x86``) and min/max observers of the weights (per channel but on ``qnnpack``).

    Example::

        >>> from ember.ao.quantization import get_default_qconfig
        >>> type(get_default_qconfig("qnnpack").activation()).__name__
        'HistogramObserver'
    """
    from .observer import HistogramObserver

    _check_backend(backend)
    if version != 0:
        raise AssertionError(
            f"Version number: {version} in get_default_qconfig is not supported. Version number must be 0"
        )
    reduce = backend in ("fbgemm", "x86")
    weight = default_weight_observer if backend == "qnnpack" else default_per_channel_weight_observer
    return QConfig(activation=HistogramObserver.with_args(reduce_range=reduce), weight=weight)


def get_default_qat_qconfig(backend: str = "x86", version: int = 1) -> QConfig:
    """PyTorch's default qconfig for quantization-aware training on ``backend``: fake quantization of the
    activations with a moving-average observer (7 bits on ``fbgemm``/``x86``) and of the weights per channel
    (per tensor on ``qnnpack``); version 1 (the default) uses the fused modules, version 0 the plain ones.

    Args:
        backend (str): ``"x86"`` (default), ``"fbgemm"``, ``"qnnpack"`` or ``"onednn"``.
        version (int): 0 or 1. Default: 1.

    Example::

        >>> from ember.ao.quantization import get_default_qat_qconfig
        >>> qc = get_default_qat_qconfig("fbgemm")
        >>> type(qc.activation()).__name__, qc.activation().quant_max
        ('FusedMovingAvgObsFakeQuantize', 127)
    """
    _check_backend(backend)
    wrapper = FakeQuantize if version == 0 else FusedMovingAvgObsFakeQuantize
    if version not in (0, 1):
        return default_qat_qconfig
    per_channel = default_per_channel_weight_fake_quant if version == 0 else default_fused_per_channel_wt_fake_quant
    per_tensor = default_weight_fake_quant if version == 0 else default_fused_wt_fake_quant
    if backend in ("fbgemm", "x86"):
        activation = wrapper.with_args(
            observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255, reduce_range=True
        )
        return QConfig(activation=activation, weight=per_channel)
    if backend == "qnnpack":
        activation = wrapper.with_args(
            observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255, reduce_range=False
        )
        return QConfig(activation=activation, weight=per_tensor)
    activation = wrapper.with_args(observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255)
    return QConfig(activation=activation, weight=per_channel)
