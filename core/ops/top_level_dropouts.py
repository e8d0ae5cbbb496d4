"""The dropouts PyTorch exposes at the top level with ATen's signatures (``train`` for ``training``):
``native_dropout``, which returns its keep-mask too, ``feature_dropout`` (whole channels), and the in-place
``feature_dropout_``, ``alpha_dropout_`` and ``feature_alpha_dropout_``; each draws from the same stream as
the :mod:`ember.nn.functional` dropout it wraps.

:mod:`ember` imports this module on the first access to one of these names, so that ``import ember``
does not load ``ember.nn``.
"""

from __future__ import annotations

from ..nn import functional as F
from ..nn.functional.dropout import _check, _feature_dropout, _keep_mask
from ..tensor import Tensor
from .operands import require_tensors

__all__ = ["native_dropout", "feature_dropout", "feature_dropout_", "alpha_dropout_", "feature_alpha_dropout_"]


def native_dropout(input: Tensor, p: float, train: bool | None) -> tuple[Tensor, Tensor]:
    r"""Dropout that returns its mask: ``(output, mask)``, where ``mask`` (bool, ``input``'s shape) marks the
    elements kept and ``output`` is ``input * mask / (1 - p)`` (zeros for ``p = 1``). Without ``train``
    (``False``; ``None`` counts as training), ``output`` is a copy of ``input`` and ``mask`` all ``True``.

    Args:
        input (Tensor): the input, floating point.
        p (float): probability of an element to be zeroed.
        train (bool or None): whether to drop.

    Example::

        >>> _ = ember.manual_seed(0)
        >>> ember.native_dropout(ember.ones(2, 3), 0.5, True)
        (tensor([[0., 0., 2.],
                [0., 0., 0.]]), tensor([[False, False,  True],
                [False, False, False]]))
    """
    require_tensors(
        "native_dropout", ("input",), input
    )  # PyTorch's argument parser first (the functional checks p first)
    _check("native_dropout", input, p)
    if train is False:
        return input.clone(), input.new_ones(input.shape, dtype=bool)
    keep = _keep_mask(input, input.shape, p)
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    return input * (keep * scale), keep.bool()


def feature_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    r"""Zeroes whole channels (dimension 1) of ``input``, each with probability ``p``, and scales the rest by
    :math:`1/(1-p)` (``train`` only): the dropout of :func:`ember.nn.functional.dropout2d` for any input of at
    least two dimensions.

    Example::

        >>> _ = ember.manual_seed(0)
        >>> ember.feature_dropout(ember.ones(1, 3, 2), 0.5, True)
        tensor([[[0., 0.],
                 [0., 0.],
                 [2., 2.]]])
    """
    require_tensors(
        "feature_dropout", ("input",), input
    )  # PyTorch's argument parser first (the functional checks p first)
    return _feature_dropout("feature_dropout", input, p, train, False, False, 0)


def feature_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """:func:`feature_dropout` in place.

    Example::

        >>> x = ember.ones(1, 2, 2)
        >>> ember.feature_dropout_(x, 0.5, False) is x
        True
    """
    require_tensors(
        "feature_dropout_", ("input",), input
    )  # PyTorch's argument parser first (the functional checks p first)
    return _feature_dropout("feature_dropout_", input, p, train, True, False, 0)


def alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """:func:`ember.nn.functional.alpha_dropout` in place, with PyTorch's top-level signature.

    Example::

        >>> x = ember.ones(3)
        >>> ember.alpha_dropout_(x, 0.5, False) is x
        True
    """
    require_tensors(
        "alpha_dropout_", ("input",), input
    )  # PyTorch's argument parser first (the functional checks p first)
    return F.alpha_dropout(input, p, training=train, inplace=True)


def feature_alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """:func:`ember.nn.functional.feature_alpha_dropout` in place, with PyTorch's top-level signature.

    Example::

        >>> x = ember.ones(1, 2, 2)
        >>> ember.feature_alpha_dropout_(x, 0.5, False) is x
        True
    """
    require_tensors(
        "feature_alpha_dropout_", ("input",), input
    )  # PyTorch's argument parser first (the functional checks p first)
    return F.feature_alpha_dropout(input, p, training=train, inplace=True)
