"""Folding an eval-mode batch norm into the convolution or linear layer before it."""

from __future__ import annotations

import copy
from typing import Any, TypeVar

from ...tensor import Tensor
from ..modules.module import Module
from ..parameter import Parameter

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights"]

_C = TypeVar("_C", bound=Module)


def _check_eval(layer, bn):
    if layer.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")


def _bn_terms(bn: Any) -> tuple[Any, Any, float, Any, Any]:
    """``(running_mean, running_var, eps, weight, bias)`` of a batch norm, as the fusions take them."""
    return bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias


def fuse_conv_bn_eval(conv: _C, bn: Any, transpose: bool = False) -> _C:
    r"""A copy of the eval-mode ``conv`` whose weight and bias absorb the eval-mode ``bn`` after it.

    Args:
        conv (nn.modules.conv._ConvNd): the convolution.
        bn (nn.modules.batchnorm._BatchNorm): the batch norm applied to its output.
        transpose (bool): ``conv`` is a transposed convolution. Default: ``False``.

    Returns:
        The fused convolution; ``fused(x)`` equals ``bn(conv(x))``.

    Example::

        >>> conv, bn = nn.Conv2d(3, 4, 3).eval(), nn.BatchNorm2d(4).eval()
        >>> fused = nn.utils.fuse_conv_bn_eval(conv, bn)
        >>> x = ember.randn(1, 3, 5, 5)
        >>> bool(ember.allclose(fused(x), bn(conv(x)), atol=1e-6))
        True
    """
    _check_eval(conv, bn)
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(fused.weight, fused.bias, *_bn_terms(bn), transpose)
    return fused


def fuse_conv_bn_weights(
    conv_w: Tensor,
    conv_b: Tensor | None,
    bn_rm: Tensor,
    bn_rv: Tensor,
    bn_eps: float,
    bn_w: Tensor | None,
    bn_b: Tensor | None,
    transpose: bool = False,
) -> tuple[Parameter, Parameter]:
    r"""The convolution weight and bias with the batch norm's affine map folded in:
    :math:`W' = W \cdot \gamma / \sqrt{\sigma^2 + \epsilon}`,
    :math:`b' = (b - \mu)\gamma / \sqrt{\sigma^2 + \epsilon} + \beta`.

    Args:
        conv_w, conv_b: the convolution's weight and bias (``None``: zero).
        bn_rm, bn_rv: the batch norm's running mean and variance.
        bn_eps (float): its epsilon.
        bn_w, bn_b: its weight and bias (``None``: one and zero).
        transpose (bool): the weight is a transposed convolution's. Default: ``False``.

    Returns:
        ``(weight, bias)`` as parameters, in the convolution's dtypes.

    Example::

        >>> w, b = nn.utils.fuse_conv_bn_weights(ember.ones(4, 3, 1, 1), None, ember.zeros(4), ember.ones(4), 0.0, None, None)
        >>> w.shape, b.shape
        (ember.Size([4, 3, 1, 1]), ember.Size([4]))
    """
    weight_dtype = conv_w.dtype
    bias_dtype = conv_b.dtype if conv_b is not None else weight_dtype
    conv_b = bn_rm.new_zeros(bn_rm.shape) if conv_b is None else conv_b
    bn_w = bn_rm.new_ones(bn_rm.shape) if bn_w is None else bn_w
    bn_b = bn_rm.new_zeros(bn_rm.shape) if bn_b is None else bn_b
    rsqrt = (bn_rv + bn_eps).rsqrt()
    shape = ([1, -1] if transpose else [-1, 1]) + [1] * (conv_w.dim() - 2)
    weight = (conv_w * (bn_w * rsqrt).reshape(shape)).to(dtype=weight_dtype)
    bias = ((conv_b - bn_rm) * rsqrt * bn_w + bn_b).to(dtype=bias_dtype)
    return Parameter(weight, conv_w.requires_grad), Parameter(bias, conv_b.requires_grad)


def fuse_linear_bn_eval(linear: _C, bn: Any) -> _C:
    r"""A copy of the eval-mode ``linear`` whose weight and bias absorb the eval-mode ``bn`` after it.

    Args:
        linear (nn.Linear): the linear layer.
        bn (nn.modules.batchnorm._BatchNorm): the batch norm applied to its output
            (``num_features`` equal to ``linear.out_features``, or 1).

    Returns:
        The fused linear layer; ``fused(x)`` equals ``bn(linear(x))``.

    Example::

        >>> lin, bn = nn.Linear(3, 4).eval(), nn.BatchNorm1d(4).eval()
        >>> fused = nn.utils.fuse_linear_bn_eval(lin, bn)
        >>> x = ember.randn(2, 3)
        >>> bool(ember.allclose(fused(x), bn(lin(x)), atol=1e-6))
        True
    """
    if linear.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    fused = copy.deepcopy(linear)
    out_features, num_features = linear.out_features, bn.num_features
    if out_features != num_features and num_features != 1:
        raise AssertionError(
            "To fuse, linear.out_features == bn.num_features or bn.num_features == 1, "
            f"got linear.out_features={out_features} and bn.num_features={num_features}"
        )
    _check_eval(linear, bn)
    fused.weight, fused.bias = fuse_linear_bn_weights(fused.weight, fused.bias, *_bn_terms(bn))
    return fused


def fuse_linear_bn_weights(
    linear_w: Tensor,
    linear_b: Tensor | None,
    bn_rm: Tensor,
    bn_rv: Tensor,
    bn_eps: float,
    bn_w: Tensor,
    bn_b: Tensor,
) -> tuple[Parameter, Parameter]:
    r"""The linear weight and bias with the batch norm's affine map folded in.

    Args:
        linear_w, linear_b: the linear layer's weight and bias (``None``: zero).
        bn_rm, bn_rv: the batch norm's running mean and variance.
        bn_eps (float): its epsilon.
        bn_w, bn_b: its weight and bias.

    Returns:
        ``(weight, bias)`` as parameters, in the linear layer's dtypes.

    Example::

        >>> w, b = nn.utils.fuse_linear_bn_weights(ember.ones(4, 3), None, ember.zeros(4), ember.ones(4), 0.0, ember.ones(4), ember.zeros(4))
        >>> w.shape, b.shape
        (ember.Size([4, 3]), ember.Size([4]))
    """
    weight_dtype = linear_w.dtype
    bias_dtype = linear_b.dtype if linear_b is not None else weight_dtype
    linear_b = bn_rm.new_zeros(bn_rm.shape) if linear_b is None else linear_b
    scale = bn_w * (bn_rv + bn_eps).rsqrt()
    weight = linear_w * scale.unsqueeze(-1).to(dtype=weight_dtype)
    bias = ((linear_b - bn_rm) * scale + bn_b).to(dtype=bias_dtype)
    return Parameter(weight, linear_w.requires_grad), Parameter(bias, linear_b.requires_grad)
