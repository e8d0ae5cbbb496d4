"""Linear layer and cross entropy in one: ``nn.LinearCrossEntropyLoss``."""

from __future__ import annotations

import math
from typing import Any

from ...tensor import Tensor
from .. import functional as F
from ..common_types import _device_t, _dtype_t
from .linear import Linear
from .loss import _WeightedLoss

__all__ = ["LinearCrossEntropyLoss"]


class LinearCrossEntropyLoss(_WeightedLoss):
    r"""Cross entropy between ``input`` linearly transformed to logits and ``target``
    (see :func:`~ember.nn.functional.linear_cross_entropy`).

    Args:
        in_features (int): size of each input sample.
        num_classes (int): number of classes :math:`C`.
        out_features (tuple of ints): extra logit dimensions :math:`(d_1, ..., d_K)` for a
            K-dimensional loss. Default: ``()``
        bias (bool): learn a bias of the logits (stored flat). Default: ``False``
        weight (Tensor, optional): a rescaling weight per class. Default: ``None``
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``
        ignore_index (int, optional): an ignored class index (-100 when ``None``). Default: ``None``
        label_smoothing (float): as in :class:`CrossEntropyLoss`. Default: 0.0
        options: PyTorch's chunking options, accepted. Default: ``None``

    Shape:
        - Input: :math:`(\text{in\_features})` or :math:`(N, \text{in\_features})`.
        - Target: class indices :math:`()`, :math:`(N)` or :math:`(N, d_1, ..., d_K)`, or
          probabilities :math:`(C)` or :math:`(N, C, d_1, ..., d_K)`.
        - Output: scalar, or the target's batch shape with ``'none'``.

    Examples::

        >>> loss = nn.LinearCrossEntropyLoss(5, 10, out_features=(4, 3))
        >>> loss(ember.randn(2, 5), ember.randint(0, 10, (2, 4, 3))).shape
        ember.Size([])
    """

    __constants__ = ["num_classes", "out_features", "reduction", "ignore_index", "label_smoothing"]

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        *,
        out_features: tuple[int, ...] = (),
        bias: bool = False,
        device: _device_t = None,
        dtype: _dtype_t = None,
        reduction: str = "mean",
        weight: Tensor | None = None,
        ignore_index: int | None = None,
        label_smoothing: float = 0.0,
        options: dict[str, Any] | None = None,
    ) -> None:
        if weight is not None and tuple(weight.shape) != (num_classes,):
            raise RuntimeError(f"expected weight shape to be {(num_classes,)}, got {tuple(weight.shape)}")
        if label_smoothing < 0 or label_smoothing > 1.0:
            raise RuntimeError(f"expected label_smoothing to be in range [0, 1], got {label_smoothing}")
        super().__init__(weight=weight, reduction=reduction)
        self.num_classes = num_classes
        self.out_features = out_features
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing
        self.linear = Linear(in_features, num_classes * math.prod(out_features), bias=bias, device=device, dtype=dtype)
        self.options = options

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        weight = self.linear.weight.reshape((self.num_classes, *self.out_features, self.linear.in_features))
        bias = None if self.linear.bias is None else self.linear.bias.reshape((self.num_classes, *self.out_features))
        return F.linear_cross_entropy(
            input,
            weight,
            target,
            linear_bias=bias,
            weight=self.weight,
            reduction=self.reduction,
            ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing,
            options=self.options,
        )

    def extra_repr(self) -> str:
        return (
            f"in_features={self.linear.in_features}, num_classes={self.num_classes}, "
            f"out_features={self.out_features}, bias={self.linear.bias is not None}, reduction={self.reduction}, "
            f"ignore_index={self.ignore_index}, label_smoothing={self.label_smoothing}, options={self.options}"
        )
