"""``ember.nn.grad``: the gradients of a convolution with respect to its input and its weight, as
functions of the output's gradient (PyTorch's ``torch.nn.grad``, also ``F.grad``)."""

from __future__ import annotations

from collections.abc import Sequence

from ..tensor import Tensor
from .functional.conv import _ConvBackwardInput, _ConvBackwardWeight, _ntuple

__all__ = [
    "conv1d_input",
    "conv1d_weight",
    "conv2d_input",
    "conv2d_weight",
    "conv3d_input",
    "conv3d_weight",
]

_IntOrTuple = int | Sequence[int]


def _hyperparameters(nd, stride, padding, dilation):
    """The convolution's stride, padding pairs and dilation, each one entry per spatial dimension."""
    expand = _ntuple(nd)
    return tuple(expand(stride)), tuple((p, p) for p in expand(padding)), tuple(expand(dilation))


def _input_grad(nd, input_size, weight, grad_output, stride, padding, dilation, groups):
    stride, pads, dilation = _hyperparameters(nd, stride, padding, dilation)
    return _ConvBackwardInput.apply(grad_output, weight, tuple(input_size), stride, pads, dilation, groups)


def _weight_grad(nd, input, weight_size, grad_output, stride, padding, dilation, groups):
    stride, pads, dilation = _hyperparameters(nd, stride, padding, dilation)
    return _ConvBackwardWeight.apply(input, grad_output, tuple(weight_size), stride, pads, dilation, groups)


def conv1d_input(
    input_size: Sequence[int],
    weight: Tensor,
    grad_output: Tensor,
    stride: _IntOrTuple = 1,
    padding: _IntOrTuple = 0,
    dilation: _IntOrTuple = 1,
    groups: int = 1,
) -> Tensor:
    """The gradient of :func:`~ember.nn.functional.conv1d` with respect to its input.

    Args:
        input_size: the shape of the input, :math:`(N, C_{in}, L_{in})`.
        weight (Tensor): the weight, :math:`(C_{out}, C_{in} / \\text{groups}, K)`.
        grad_output (Tensor): the gradient of the output, :math:`(N, C_{out}, L_{out})`.
        stride, padding, dilation, groups: the convolution's. Defaults: 1, 0, 1, 1

    Examples::

        >>> x = ember.randn(1, 1, 3, requires_grad=True)
        >>> w, g = ember.randn(1, 1, 2), ember.randn(1, 1, 2)
        >>> F.conv1d(x, w).backward(g)
        >>> ember.allclose(ember.nn.grad.conv1d_input(x.shape, w, g), x.grad)
        True
    """
    return _input_grad(1, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv1d_weight(
    input: Tensor,
    weight_size: Sequence[int],
    grad_output: Tensor,
    stride: _IntOrTuple = 1,
    padding: _IntOrTuple = 0,
    dilation: _IntOrTuple = 1,
    groups: int = 1,
) -> Tensor:
    """The gradient of :func:`~ember.nn.functional.conv1d` with respect to its weight.

    Args:
        input (Tensor): the input, :math:`(N, C_{in}, L_{in})`.
        weight_size: the shape of the weight, :math:`(C_{out}, C_{in} / \\text{groups}, K)`.
        grad_output (Tensor): the gradient of the output, :math:`(N, C_{out}, L_{out})`.
        stride, padding, dilation, groups: the convolution's. Defaults: 1, 0, 1, 1

    Examples::

        >>> x, g = ember.randn(2, 3, 5), ember.randn(2, 4, 5)
        >>> ember.nn.grad.conv1d_weight(x, (4, 3, 3), g, padding=1).shape
        ember.Size([4, 3, 3])
    """
    return _weight_grad(1, input, weight_size, grad_output, stride, padding, dilation, groups)


def conv2d_input(
    input_size: Sequence[int],
    weight: Tensor,
    grad_output: Tensor,
    stride: _IntOrTuple = 1,
    padding: _IntOrTuple = 0,
    dilation: _IntOrTuple = 1,
    groups: int = 1,
) -> Tensor:
    """The gradient of :func:`~ember.nn.functional.conv2d` with respect to its input.

    Args:
        input_size: the shape of the input, :math:`(N, C_{in}, H_{in}, W_{in})`.
        weight (Tensor): the weight, :math:`(C_{out}, C_{in} / \\text{groups}, K_H, K_W)`.
        grad_output (Tensor): the gradient of the output, :math:`(N, C_{out}, H_{out}, W_{out})`.
        stride, padding, dilation, groups: the convolution's. Defaults: 1, 0, 1, 1

    Examples::

        >>> w, g = ember.randn(4, 3, 3, 3), ember.randn(2, 4, 3, 3)
        >>> ember.nn.grad.conv2d_input((2, 3, 7, 7), w, g, stride=2).shape
        ember.Size([2, 3, 7, 7])
    """
    return _input_grad(2, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv2d_weight(
    input: Tensor,
    weight_size: Sequence[int],
    grad_output: Tensor,
    stride: _IntOrTuple = 1,
    padding: _IntOrTuple = 0,
    dilation: _IntOrTuple = 1,
    groups: int = 1,
) -> Tensor:
    """The gradient of :func:`~ember.nn.functional.conv2d` with respect to its weight.

    Args:
        input (Tensor): the input, :math:`(N, C_{in}, H_{in}, W_{in})`.
        weight_size: the shape of the weight, :math:`(C_{out}, C_{in} / \\text{groups}, K_H, K_W)`.
        grad_output (Tensor): the gradient of the output, :math:`(N, C_{out}, H_{out}, W_{out})`.
        stride, padding, dilation, groups: the convolution's. Defaults: 1, 0, 1, 1

    Examples::

        >>> x, g = ember.randn(2, 3, 7, 7), ember.randn(2, 4, 3, 3)
        >>> ember.nn.grad.conv2d_weight(x, (4, 3, 3, 3), g, stride=2).shape
        ember.Size([4, 3, 3, 3])
    """
    return _weight_grad(2, input, weight_size, grad_output, stride, padding, dilation, groups)


def conv3d_input(
    input_size: Sequence[int],
    weight: Tensor,
    grad_output: Tensor,
    stride: _IntOrTuple = 1,
    padding: _IntOrTuple = 0,
    dilation: _IntOrTuple = 1,
    groups: int = 1,
) -> Tensor:
    """The gradient of :func:`~ember.nn.functional.conv3d` with respect to its input.

    Args:
        input_size: the shape of the input, :math:`(N, C_{in}, D_{in}, H_{in}, W_{in})`.
        weight (Tensor): the weight, :math:`(C_{out}, C_{in} / \\text{groups}, K_D, K_H, K_W)`.
        grad_output (Tensor): the gradient of the output, :math:`(N, C_{out}, D_{out}, H_{out}, W_{out})`.
        stride, padding, dilation, groups: the convolution's. Defaults: 1, 0, 1, 1

    Examples::

        >>> w, g = ember.randn(2, 1, 2, 2, 2), ember.randn(1, 2, 3, 3, 3)
        >>> ember.nn.grad.conv3d_input((1, 1, 4, 4, 4), w, g).shape
        ember.Size([1, 1, 4, 4, 4])
    """
    return _input_grad(3, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv3d_weight(
    input: Tensor,
    weight_size: Sequence[int],
    grad_output: Tensor,
    stride: _IntOrTuple = 1,
    padding: _IntOrTuple = 0,
    dilation: _IntOrTuple = 1,
    groups: int = 1,
) -> Tensor:
    """The gradient of :func:`~ember.nn.functional.conv3d` with respect to its weight.

    Args:
        input (Tensor): the input, :math:`(N, C_{in}, D_{in}, H_{in}, W_{in})`.
        weight_size: the shape of the weight, :math:`(C_{out}, C_{in} / \\text{groups}, K_D, K_H, K_W)`.
        grad_output (Tensor): the gradient of the output, :math:`(N, C_{out}, D_{out}, H_{out}, W_{out})`.
        stride, padding, dilation, groups: the convolution's. Defaults: 1, 0, 1, 1

    Examples::

        >>> x, g = ember.randn(1, 1, 4, 4, 4), ember.randn(1, 2, 3, 3, 3)
        >>> ember.nn.grad.conv3d_weight(x, (2, 1, 2, 2, 2), g).shape
        ember.Size([2, 1, 2, 2, 2])
    """
    return _weight_grad(3, input, weight_size, grad_output, stride, padding, dilation, groups)
