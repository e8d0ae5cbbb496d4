"""Linear layer and cross entropy in one: ``F.linear_cross_entropy``."""

from __future__ import annotations

import math

from ...ops.dtype_support import FLOATING_AND_HALF
from ...tensor import Tensor
from ...type_names import type_name
from .linear import linear
from .loss import cross_entropy

__all__ = ["linear_cross_entropy"]


def linear_cross_entropy(
    input: Tensor,
    linear_weight: Tensor,
    target: Tensor,
    *,
    linear_bias: Tensor | None = None,
    weight: Tensor | None = None,
    reduction: str = "mean",
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    options: object = None,
) -> Tensor:
    r"""Cross entropy of ``input`` linearly transformed to logits:
    ``cross_entropy(linear(input, linear_weight) + linear_bias, target, ...)``.

    Args:
        input (Tensor): :math:`(N, \text{in\_features})` or :math:`(\text{in\_features})`.
        linear_weight (Tensor): :math:`(C, d_1, ..., d_K, \text{in\_features})`.
        target (Tensor): class indices :math:`(N, d_1, ..., d_K)` (or without :math:`N`), or
            class probabilities shaped like the logits :math:`(N, C, d_1, ..., d_K)`.
        linear_bias (Tensor, optional): :math:`(C, d_1, ..., d_K)`. Default: ``None``
        weight (Tensor, optional): a rescaling weight per class :math:`(C)`. Default: ``None``
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``
        ignore_index (int, optional): a class index that is ignored (-100 when ``None``);
            an error with probability targets. Default: ``None``
        label_smoothing (float): as in :func:`cross_entropy`. Default: 0.0
        options: PyTorch's chunking options; accepted, and the loss is computed in one piece
            (the same numbers). Default: ``None``

    Examples::

        >>> x, w = ember.randn(4, 5), ember.randn(3, 5)
        >>> F.linear_cross_entropy(x, w, ember.tensor([0, 2, 1, 1])).shape
        ember.Size([])
    """
    for name, value in (("input", input), ("linear_weight", linear_weight), ("target", target)):
        if not isinstance(value, Tensor):
            raise TypeError(f"linear_cross_entropy(): argument '{name}' must be Tensor, not {type_name(value)}")
    if options is not None and input.dtype not in FLOATING_AND_HALF:  # PyTorch's chunked path accumulates in
        # the input's dtype unless told otherwise, and takes floating types only
        raise ValueError(
            "acc_dtype must be one of {None, ember.float16, ember.bfloat16, ember.float32, ember.float64}, got "
            f"{input.dtype!r}. Pass acc_dtype=None to let the op pick automatically."
        )
    if input.ndim not in (1, 2):
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.ndim}")
    if linear_weight.ndim < 2:
        raise RuntimeError(f"expected linear_weight with dimensionality at least 2, got {linear_weight.ndim}")
    in_features = input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError(
            "expected equal input and linear_weight last dimensions (in_features), "
            f"got {in_features} and {linear_weight.shape[-1]}, respectively"
        )
    num_classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(num_classes, *out_features)}, got {tuple(linear_bias.shape)}")
    if out_features and input.ndim == 1:
        raise RuntimeError(
            f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} requires batched "
            f"input, (N, {in_features}), got unbatched input with shape {tuple(input.shape)}"
        )
    logits_shape = tuple(input.shape[:-1]) + (num_classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    flat = linear_weight.reshape((num_classes * math.prod(out_features), in_features))
    logits = linear(input, flat).reshape(logits_shape)
    if linear_bias is not None:
        logits = logits + linear_bias
    return cross_entropy(
        logits,
        target,
        weight=weight,
        ignore_index=-100 if ignore_index is None else ignore_index,
        reduction=reduction,
        label_smoothing=label_smoothing,
    )
