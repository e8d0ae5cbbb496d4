"""``ember.ao.quantization``: PyTorch's building blocks for quantization-aware training — observers,
fake-quantize modules, qconfigs and the quant/dequant stubs (``torch.ao.quantization``). The graph
passes (``prepare``, ``convert``) and the quantized kernels are not part of ember.

Example::

    >>> from ember.ao.quantization import default_fake_quant
    >>> fq = default_fake_quant()
    >>> y = fq(ember.tensor([-1.0, 0.0, 2.0], requires_grad=True))
    >>> fq.scale, fq.zero_point
    (tensor([0.0236]), tensor([42], dtype=ember.int32))
"""

from __future__ import annotations

from .fake_quantize import (
    FakeQuantize,
    FakeQuantizeBase,
    FusedMovingAvgObsFakeQuantize,
    default_dynamic_fake_quant,
    default_embedding_fake_quant,
    default_fake_quant,
    default_fused_act_fake_quant,
    default_fused_per_channel_wt_fake_quant,
    default_fused_wt_fake_quant,
    default_histogram_fake_quant,
    default_per_channel_weight_fake_quant,
    default_weight_fake_quant,
    disable_fake_quant,
    disable_observer,
    enable_fake_quant,
    enable_observer,
    fused_per_channel_wt_fake_quant_range_neg_127_to_127,
    fused_wt_fake_quant_range_neg_127_to_127,
)
from .observer import (
    HistogramObserver,
    MinMaxObserver,
    MovingAverageMinMaxObserver,
    MovingAveragePerChannelMinMaxObserver,
    NoopObserver,
    ObserverBase,
    PerChannelMinMaxObserver,
    PlaceholderObserver,
    UniformQuantizationObserverBase,
    default_dynamic_quant_observer,
    default_float_qparams_observer,
    default_histogram_observer,
    default_observer,
    default_per_channel_weight_observer,
    default_placeholder_observer,
    default_weight_observer,
)
from .qconfig import (
    QConfig,
    default_activation_only_qconfig,
    default_per_channel_qconfig,
    default_qat_qconfig,
    default_qconfig,
    default_weight_only_qconfig,
    get_default_qat_qconfig,
    get_default_qconfig,
)
from .stubs import DeQuantStub, QuantStub, QuantWrapper

__all__ = [
    "ObserverBase",
    "UniformQuantizationObserverBase",
    "MinMaxObserver",
    "MovingAverageMinMaxObserver",
    "PerChannelMinMaxObserver",
    "MovingAveragePerChannelMinMaxObserver",
    "HistogramObserver",
    "PlaceholderObserver",
    "NoopObserver",
    "default_observer",
    "default_weight_observer",
    "default_per_channel_weight_observer",
    "default_float_qparams_observer",
    "default_dynamic_quant_observer",
    "default_placeholder_observer",
    "default_histogram_observer",
    "FakeQuantizeBase",
    "FakeQuantize",
    "FusedMovingAvgObsFakeQuantize",
    "default_fake_quant",
    "default_weight_fake_quant",
    "default_dynamic_fake_quant",
    "default_per_channel_weight_fake_quant",
    "default_embedding_fake_quant",
    "default_histogram_fake_quant",
    "default_fused_act_fake_quant",
    "default_fused_wt_fake_quant",
    "default_fused_per_channel_wt_fake_quant",
    "fused_wt_fake_quant_range_neg_127_to_127",
    "fused_per_channel_wt_fake_quant_range_neg_127_to_127",
    "disable_fake_quant",
    "enable_fake_quant",
    "disable_observer",
    "enable_observer",
    "QConfig",
    "default_qconfig",
    "default_per_channel_qconfig",
    "default_qat_qconfig",
    "default_weight_only_qconfig",
    "default_activation_only_qconfig",
    "get_default_qat_qconfig",
    "get_default_qconfig",
    "QuantStub",
    "DeQuantStub",
    "QuantWrapper",
]
