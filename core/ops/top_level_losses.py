"""More of the functional ops PyTorch exposes at the top level with their ATen signatures
(integer ``reduction`` codes 0 none, 1 mean, 2 sum; ``train`` for the dropouts):
``cosine_embedding_loss``, ``margin_ranking_loss``, ``hinge_embedding_loss``,
``triplet_margin_loss``, ``poisson_nll_loss``, ``alpha_dropout``, ``feature_alpha_dropout``,
``constant_pad_nd``; each calls :mod:`ember.nn.functional`.

:mod:`ember` imports this module on the first access to one of these names, so that ``import
ember`` does not load ``ember.nn``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..nn import functional as F
from ..tensor import Tensor
from .functional_top_level import _reduction
from .operands import require_tensors

__all__ = [
    "cosine_embedding_loss", "margin_ranking_loss", "hinge_embedding_loss", "triplet_margin_loss",
    "poisson_nll_loss", "alpha_dropout", "feature_alpha_dropout", "constant_pad_nd",
]  # fmt: skip


def cosine_embedding_loss(
    input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, reduction: int = 0
) -> Tensor:
    """:func:`ember.nn.functional.cosine_embedding_loss` with an integer ``reduction`` (0 none, 1 mean, 2 sum;
    PyTorch's top-level form defaults to 0: one loss per element).

    Example::

        >>> ember.cosine_embedding_loss(ember.tensor([[1.0, 0.0]]), ember.tensor([[0.0, 1.0]]), ember.tensor([1.0]))
        tensor([1.])
    """
    return F.cosine_embedding_loss(
        input1, input2, target, margin=margin, reduction=_reduction("cosine_embedding_loss", reduction)
    )


def margin_ranking_loss(
    input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, reduction: int = 0
) -> Tensor:
    """:func:`ember.nn.functional.margin_ranking_loss` with an integer ``reduction`` (0 none, 1 mean, 2 sum;
    PyTorch's top-level form defaults to 0: one loss per element).

    Example::

        >>> ember.margin_ranking_loss(ember.tensor([1.0, 0.0]), ember.tensor([0.0, 1.0]), ember.tensor([1.0, 1.0]))
        tensor([0., 1.])
    """
    # PyTorch's argument parser first (F.margin_ranking_loss reads input1.dim())
    require_tensors("margin_ranking_loss", ("input1", "input2", "target"), input1, input2, target)
    return F.margin_ranking_loss(
        input1, input2, target, margin=margin, reduction=_reduction("margin_ranking_loss", reduction)
    )


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, reduction: int = 0) -> Tensor:
    """:func:`ember.nn.functional.hinge_embedding_loss` with an integer ``reduction`` (0 none, 1 mean, 2 sum;
    PyTorch's top-level form defaults to 0: one loss per element).

    Example::

        >>> ember.hinge_embedding_loss(ember.tensor([0.5, 2.0]), ember.tensor([1.0, -1.0]))
        tensor([0.5000, 0.0000])
    """
    return F.hinge_embedding_loss(input, target, margin=margin, reduction=_reduction("hinge_embedding_loss", reduction))


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2.0,
    eps: float = 1e-6,
    swap: bool = False,
    reduction: int = 0,
) -> Tensor:
    """:func:`ember.nn.functional.triplet_margin_loss` with an integer ``reduction`` (0 none, 1 mean, 2 sum;
    PyTorch's top-level form defaults to 0: one loss per element).

    Example::

        >>> a, p, n = ember.tensor([[0.0, 0.0]]), ember.tensor([[1.0, 0.0]]), ember.tensor([[0.0, 1.0]])
        >>> ember.triplet_margin_loss(a, p, n)
        tensor([1.])
    """
    return F.triplet_margin_loss(
        anchor,
        positive,
        negative,
        margin=margin,
        p=p,
        eps=eps,
        swap=swap,
        reduction=_reduction("triplet_margin_loss", reduction),
    )


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool, full: bool, eps: float, reduction: int) -> Tensor:
    """:func:`ember.nn.functional.poisson_nll_loss` with PyTorch's top-level signature (every
    argument given; an integer ``reduction``: 0 none, 1 mean, 2 sum).

    Example::

        >>> ember.poisson_nll_loss(ember.tensor([1.0]), ember.tensor([1.0]), True, False, 1e-8, 1)
        tensor(1.7183)
    """
    return F.poisson_nll_loss(
        input, target, log_input=log_input, full=full, eps=eps, reduction=_reduction("poisson_nll_loss", reduction)
    )


def alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """:func:`ember.nn.functional.alpha_dropout` with PyTorch's top-level signature (``train`` for ``training``).

    Example::

        >>> ember.alpha_dropout(ember.ones(3), 0.5, False)
        tensor([1., 1., 1.])
    """
    require_tensors(
        "alpha_dropout", ("input",), input
    )  # PyTorch's argument parser first (the functional checks p first)
    return F.alpha_dropout(input, p, training=train)


def feature_alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """:func:`ember.nn.functional.feature_alpha_dropout` with PyTorch's top-level signature
    (``train`` for ``training``).

    Example::

        >>> ember.feature_alpha_dropout(ember.ones(1, 2, 2), 0.5, False)
        tensor([[[1., 1.],
                 [1., 1.]]])
    """
    require_tensors(
        "feature_alpha_dropout", ("input",), input
    )  # PyTorch's argument parser first (the functional checks p first)
    return F.feature_alpha_dropout(input, p, training=train)


def constant_pad_nd(input: Tensor, pad: Sequence[int], value: float = 0) -> Tensor:
    """Pads ``input`` with ``value``: :func:`ember.nn.functional.pad` in ``'constant'`` mode.

    Args:
        input (Tensor): the input tensor.
        pad (sequence of int): ``(left, right)`` amounts per dimension, last dimension first
            (negative amounts crop).
        value (float, optional): the fill value. Default: ``0``.

    Example::

        >>> ember.constant_pad_nd(ember.ones(2, 2), (1, 0), 5.0)
        tensor([[5., 1., 1.],
                [5., 1., 1.]])
    """
    return F.pad(input, list(pad), mode="constant", value=value)
