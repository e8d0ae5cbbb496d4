"""Dropout, functional forms: ``F.dropout``, ``F.alpha_dropout``, ``F.dropout1d/2d/3d``, ``F.feature_alpha_dropout``."""

from __future__ import annotations

import warnings

from ...autograd.function import Function
from ...autograd.grad_mode import grad_state
from ...ops.conversion import check_inplace, write_result_
from ...ops.creation import empty_like
from ...ops.dtype_support import TORCH_NAMES, not_implemented
from ...ops.operands import read_before_checked, require_tensors
from ...random import memory_order, native_generator
from ...tensor import Tensor
from ...type_names import type_name

__all__ = ["dropout", "alpha_dropout", "dropout1d", "dropout2d", "dropout3d", "feature_alpha_dropout"]

# SELU's negative saturation value, -scale * alpha
_ALPHA = 1.7580993408473766


def _check(name, input, p):
    """PyTorch's checks in its order: its Python functional's range check of ``p``, then its op's of the input's
    type, then its kernel's of a NaN ``p`` (which passes the comparisons)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    require_tensors(name, ("input",), input)
    if p != p:  # NaN passes the comparisons; PyTorch's kernel refuses it
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(input, shape, p):
    """0/1 samples (1 with probability ``1 - p``) of ``shape`` in ``input``'s dtype, no grad."""
    like = tuple(shape) == tuple(input.shape)  # PyTorch's mask: empty_like(input), else a row-major one
    return (empty_like(input.detach()) if like else input.detach().new_empty(shape)).bernoulli_(1 - p)


def _finish(input, out, inplace, copy=None):
    if not inplace:
        return out
    if grad_state.enabled and input.requires_grad and input.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    if copy is not None:  # computed from a clone: the result's node becomes input's, as an in-place op's
        return write_result_(input, out, copy)
    return input.copy_(out)


def _dropout_impl(name, input, p, training, inplace, mask_shape, alpha):
    _check(name, input, p)
    if training is not True:  # PyTorch's kernels take a bool only: training="no" would have dropped
        if training is not False:
            op = "feature_dropout" if name in ("dropout1d", "dropout2d", "dropout3d") else name
            raise TypeError(f"{op}(): argument 'train' (position 3) must be bool, not {type_name(training)}")
        return input
    if p == 0:
        return input
    if p == 1:  # times a zero of the input's dtype: an integer or bool input keeps its dtype (PyTorch)
        if inplace and grad_state.enabled and input.requires_grad and input.grad_fn is not None:
            check_inplace(input)
            copy = input.clone()
            return _finish(input, copy * copy.new_zeros(()), inplace, copy)
        return _finish(input, input * input.new_zeros(()), inplace)
    if input.dtype.is_complex:  # PyTorch draws the mask in the input's dtype: no complex Bernoulli kernel
        not_implemented("bernoulli_scalar_cpu_", input.dtype)
    if not input.dtype.is_floating_point:  # the scaled mask is floating: PyTorch refuses to cast it back
        raise RuntimeError(f"result type Float can't be cast to the desired output type {TORCH_NAMES[input.dtype]}")
    source = copy = None
    if inplace and grad_state.enabled and input.requires_grad and input.grad_fn is not None:
        # PyTorch's CPU dropout multiplies the input in place by the scaled mask: its node becomes the input's
        # grad_fn (MulBackward0 reading the input's old history), not a copy's
        check_inplace(input)
        source = copy = input.clone()
    else:
        source = input
    if not alpha and tuple(mask_shape) == tuple(input.shape) and input.dtype.is_floating_point:
        return _finish(input, _Dropout.apply(source, p), inplace, copy)
    noise = _keep_mask(source, mask_shape, p)
    if alpha:
        a = 1.0 / ((_ALPHA * _ALPHA * p + 1) * (1 - p)) ** 0.5
        b = (noise - 1) * (_ALPHA * a) + _ALPHA * a * p
        out = source * (noise * a) + b
    else:
        out = source * (noise * (1.0 / (1 - p)))
    return _finish(input, out, inplace, copy)


class _Dropout(Function):
    """Element-wise dropout as one node: the backend's ``dropout`` draws the mask and applies it (named as
    PyTorch's CPU node: its dropout multiplies by the scaled mask)."""

    _backward_name = "MulBackward0"

    @staticmethod
    def forward(ctx, x, p):
        generator = native_generator(None, x._backend, x._device.index)
        orders = memory_order(x)  # the mask drawn in x's memory order, as PyTorch draws it
        data = x._data if orders is None else x._backend.xp.permute_dims(x._data, orders[0])
        y, ctx.mask = x._backend.kernels.dropout(data, p, generator)
        if orders is not None:
            y, ctx.mask = (x._backend.xp.permute_dims(a, orders[1]) for a in (y, ctx.mask))
        return x._make(y)

    @staticmethod
    def backward(ctx, grad):
        mask = grad._make(ctx.mask)
        return grad * mask, None


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    r"""Zeroes each element with probability ``p`` and scales the rest by :math:`1/(1-p)` (training only).

    Args:
        input (Tensor): the input.
        p (float): probability of an element to be zeroed. Default: 0.5
        training (bool): apply dropout; identity when ``False``. Default: ``True``
        inplace (bool): do the operation in-place. Default: ``False``

    See :class:`~ember.nn.Dropout` for details.

    Examples::

        >>> _ = ember.manual_seed(0)
        >>> x = ember.ones(2, 4)
        >>> F.dropout(x, p=0.5)  # kept values scaled by 1 / (1 - p)
        tensor([[0., 0., 2., 0.],
                [0., 0., 2., 2.]])
        >>> F.dropout(x, p=0.5, training=False)
        tensor([[1., 1., 1., 1.],
                [1., 1., 1., 1.]])
    """
    return _dropout_impl(
        "dropout", input, p, training, inplace, input.shape if isinstance(input, Tensor) else None, False
    )


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    r"""Alpha dropout: drops to SELU's saturation value and rescales so that mean and variance are kept.

    Args:
        input (Tensor): the input.
        p (float): probability of an element to be dropped. Default: 0.5
        training (bool): apply dropout; identity when ``False``. Default: ``False``
        inplace (bool): do the operation in-place. Default: ``False``

    See :class:`~ember.nn.AlphaDropout` for details.

    Examples::

        >>> _ = ember.manual_seed(0)
        >>> x = ember.randn(10000)
        >>> y = F.alpha_dropout(x, p=0.2, training=True)
        >>> abs(y.mean().item()) < 0.05, round(y.std().item(), 1)  # mean and variance kept
        (True, 1.0)
        >>> F.alpha_dropout(x, 0.2).equal(x)  # training defaults to False
        True
    """
    return _dropout_impl(
        "alpha_dropout", input, p, training, inplace, input.shape if isinstance(input, Tensor) else None, True
    )


def _feature_dropout(name, input, p, training, inplace, alpha, spatial):
    """Drop whole channels: the mask is (N, C, 1, ...) (or (C, 1, ...) for an unbatched input)."""
    if spatial and not (p < 0.0 or p > 1.0):  # PyTorch's dropout1d/2d/3d check p, then call input.dim()
        read_before_checked(input, "dim")
    _check(name, input, p)
    batched_ndim = spatial + 2
    if spatial and input.ndim not in (batched_ndim - 1, batched_ndim):
        if spatial == 1:
            raise RuntimeError(
                f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that dropout1d "
                "exists to provide channel-wise dropout on inputs with 1 spatial dimension, a channel "
                "dimension, and an optional batch dimension (i.e. 2D or 3D inputs)."
            )
        warnings.warn(
            f"{name}: Received a {input.ndim}-D input to {name}, which is deprecated and will result in an "
            f"error in a future release. To retain the behavior and silence this warning, please use dropout "
            f"instead. Note that {name} exists to provide channel-wise dropout on inputs with {spatial} spatial "
            f"dimensions, a channel dimension, and an optional batch dimension (i.e. {batched_ndim - 1}D or "
            f"{batched_ndim}D inputs).",
            stacklevel=3,
        )
    if spatial == 2 and input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is "
            "desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will "
            "change in a future release to interpret the input as one without a batch dimension, i.e. shape "
            "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using dropout1d "
            "instead.",
            stacklevel=3,
        )
        unbatched = False
    else:  # PyTorch's dropout1d and dropout3d add a batch dimension to any input short of the batched rank
        unbatched = spatial in (1, 3) and input.ndim != batched_ndim
    # PyTorch returns the input before this check when nothing is dropped
    if input.ndim < 2 and not unbatched and training and p != 0 and input.numel():
        raise RuntimeError(f"Feature dropout requires at least 2 dimensions in the input, got {input.ndim}-D input")
    keep = 1 if unbatched else 2
    shape = tuple(input.shape[:keep]) + (1,) * (input.ndim - keep)
    return _dropout_impl(name, input, p, training, inplace, shape, alpha)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    r"""Zeroes whole channels of a :math:`(N, C, L)` or :math:`(C, L)` input with probability ``p``.

    Args:
        input (Tensor): the input.
        p (float): probability of a channel to be zeroed. Default: 0.5
        training (bool): apply dropout. Default: ``True``
        inplace (bool): do the operation in-place. Default: ``False``

    See :class:`~ember.nn.Dropout1d` for details.

    Examples::

        >>> _ = ember.manual_seed(0)
        >>> x = ember.ones(1, 4, 3)  # (N, C, L)
        >>> F.dropout1d(x, p=0.5)  # whole channels zeroed
        tensor([[[0., 0., 0.],
                 [0., 0., 0.],
                 [2., 2., 2.],
                 [0., 0., 0.]]])
    """
    return _feature_dropout("dropout1d", input, p, training, inplace, False, 1)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    r"""Zeroes whole channels of a :math:`(N, C, H, W)` input with probability ``p``.

    Args:
        input (Tensor): the input.
        p (float): probability of a channel to be zeroed. Default: 0.5
        training (bool): apply dropout. Default: ``True``
        inplace (bool): do the operation in-place. Default: ``False``

    See :class:`~ember.nn.Dropout2d` for details.

    Examples::

        >>> _ = ember.manual_seed(0)
        >>> x = ember.ones(1, 4, 2, 2)  # (N, C, H, W)
        >>> y = F.dropout2d(x, p=0.5)
        >>> y.amax(dim=(2, 3))  # each channel is all 0 or all 2
        tensor([[0., 0., 2., 0.]])
        >>> y.shape
        ember.Size([1, 4, 2, 2])
    """
    return _feature_dropout("dropout2d", input, p, training, inplace, False, 2)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    r"""Zeroes whole channels of a :math:`(N, C, D, H, W)` or :math:`(C, D, H, W)` input with probability ``p``.

    Args:
        input (Tensor): the input.
        p (float): probability of a channel to be zeroed. Default: 0.5
        training (bool): apply dropout. Default: ``True``
        inplace (bool): do the operation in-place. Default: ``False``

    See :class:`~ember.nn.Dropout3d` for details.

    Examples::

        >>> _ = ember.manual_seed(0)
        >>> x = ember.ones(1, 4, 2, 2, 2)  # (N, C, D, H, W)
        >>> y = F.dropout3d(x, p=0.5)
        >>> y.amax(dim=(2, 3, 4)), y.amin(dim=(2, 3, 4))
        (tensor([[0., 0., 2., 0.]]), tensor([[0., 0., 2., 0.]]))
    """
    return _feature_dropout("dropout3d", input, p, training, inplace, False, 3)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    r"""Alpha dropout of whole channels (dimension 1) of the input.

    Args:
        input (Tensor): the input, at least 2-D.
        p (float): probability of a channel to be dropped. Default: 0.5
        training (bool): apply dropout. Default: ``False``
        inplace (bool): do the operation in-place. Default: ``False``

    See :class:`~ember.nn.FeatureAlphaDropout` for details.

    Examples::

        >>> _ = ember.manual_seed(0)
        >>> x = ember.zeros(1, 4, 3)
        >>> F.feature_alpha_dropout(x, p=0.5, training=True)
        tensor([[[-0.7792, -0.7792, -0.7792],
                 [-0.7792, -0.7792, -0.7792],
                 [ 0.7792,  0.7792,  0.7792],
                 [-0.7792, -0.7792, -0.7792]]])
    """
    return _feature_dropout("feature_alpha_dropout", input, p, training, inplace, True, 0)
