"""Loss layers (``nn.CrossEntropyLoss``, ``nn.MSELoss``, ...): thin wrappers of :mod:`ember.nn.functional`.

Every loss takes the classic ``size_average``/``reduce`` pair (mapped onto ``reduction``
with a warning) and the modern ``reduction='mean'|'sum'|'none'``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

from ...tensor import Tensor
from .. import functional as F
from ..functional.loss import legacy_get_string
from .distance import PairwiseDistance
from .module import Module

__all__ = [
    "L1Loss", "NLLLoss", "NLLLoss2d", "PoissonNLLLoss", "GaussianNLLLoss", "KLDivLoss", "MSELoss", "BCELoss",
    "BCEWithLogitsLoss", "HingeEmbeddingLoss", "MultiLabelMarginLoss", "SmoothL1Loss", "HuberLoss",
    "SoftMarginLoss", "CrossEntropyLoss", "MultiLabelSoftMarginLoss", "CosineEmbeddingLoss",
    "MarginRankingLoss", "MultiMarginLoss", "TripletMarginLoss", "TripletMarginWithDistanceLoss",
]  # fmt: skip


class _Loss(Module):
    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            self.reduction = legacy_get_string(size_average, reduce)
        else:
            self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class _PlainLoss(_Loss):
    """Shared by the losses whose only setting is ``reduction``: ``forward`` calls ``_functional``."""

    _functional: Callable[..., Tensor] = None  # type: ignore[assignment]  # set by every concrete subclass

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return type(self)._functional(input, target, reduction=self.reduction)


class L1Loss(_PlainLoss):
    r"""Mean absolute error :math:`|x_n - y_n|`.

    Args:
        size_average (bool, optional): deprecated (see ``reduction``). Default: ``True``
        reduce (bool, optional): deprecated (see ``reduction``). Default: ``True``
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``

    Shape:
        - Input: :math:`(*)`; Target: same; Output: scalar, or :math:`(*)` with ``'none'``.

    Example::

        >>> loss = nn.L1Loss()
        >>> input = ember.randn(3, 5, requires_grad=True)
        >>> loss(input, ember.randn(3, 5)).backward()
    """

    _functional = staticmethod(F.l1_loss)


class MSELoss(_PlainLoss):
    r"""Mean squared error :math:`(x_n - y_n)^2`.

    Args:
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``

    Example::

        >>> loss = nn.MSELoss()
        >>> input = ember.randn(3, 5, requires_grad=True)
        >>> loss(input, ember.randn(3, 5)).backward()
    """

    _functional = staticmethod(F.mse_loss)


class NLLLoss(_WeightedLoss):
    r"""Negative log-likelihood of class indices under log-probabilities; ``'mean'`` divides by the
    summed weights of the non-ignored targets.

    Args:
        weight (Tensor, optional): per-class weights :math:`(C)`. Default: ``None``
        size_average (bool, optional): deprecated (see ``reduction``).
        ignore_index (int): target value to ignore. Default: -100
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``

    Shape:
        - Input: :math:`(N, C)`, :math:`(C)` or :math:`(N, C, d_1, ..., d_K)`.
        - Target: :math:`(N)`, :math:`()` or :math:`(N, d_1, ..., d_K)`, int64.

    Example::

        >>> m = nn.LogSoftmax(dim=1)
        >>> loss = nn.NLLLoss()
        >>> input = ember.randn(3, 5, requires_grad=True)
        >>> loss(m(input), ember.tensor([1, 0, 4])).backward()
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class NLLLoss2d(NLLLoss):
    r""":class:`NLLLoss` for :math:`(N, C, H, W)` inputs (kept for the classic API; deprecated in
    PyTorch, and warns as PyTorch does)."""

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        warnings.warn(
            "`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead as a drop-in replacement and see "
            "https://pytorch.org/docs/main/nn.html#torch.nn.NLLLoss for more details.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(weight, size_average, ignore_index, reduce, reduction)


class PoissonNLLLoss(_Loss):
    r"""Negative log-likelihood of a Poisson-distributed target.

    Args:
        log_input (bool): the input is the log of the rate. Default: ``True``
        full (bool): add the Stirling approximation term. Default: ``False``
        size_average (bool, optional): deprecated (see ``reduction``).
        eps (float): avoids :math:`\log(0)` when ``log_input=False``. Default: 1e-8
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``

    Example::

        >>> loss = nn.PoissonNLLLoss()
        >>> log_input = ember.randn(5, 2, requires_grad=True)
        >>> loss(log_input, ember.randn(5, 2)).backward()
    """

    def __init__(
        self,
        log_input: bool = True,
        full: bool = False,
        size_average: bool | None = None,
        eps: float = 1e-8,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        return F.poisson_nll_loss(
            log_input, target, log_input=self.log_input, full=self.full, eps=self.eps, reduction=self.reduction
        )


class GaussianNLLLoss(_Loss):
    r"""Gaussian negative log-likelihood with predicted variances.

    Args:
        full (bool): add the constant term. Default: ``False``
        eps (float): lower clamp of the variance. Default: 1e-6
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``
    """

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(None, None, reduction)
        self.full = full
        self.eps = eps

    def forward(self, input: Tensor, target: Tensor, var: Tensor) -> Tensor:
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)


class KLDivLoss(_Loss):
    r"""Kullback-Leibler divergence :math:`y (\log y - x)` for log-probabilities ``x``.

    Args:
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'batchmean'`` | ``'sum'`` | ``'mean'``. Default: ``'mean'``
        log_target (bool): the target holds log-probabilities. Default: ``False``
    """

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        log_target: bool = False,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class BCELoss(_WeightedLoss):
    r"""Binary cross entropy between probabilities and targets (each log clamped at -100).

    Args:
        weight (Tensor, optional): rescaling weight broadcast against the loss. Default: ``None``
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``

    Example::

        >>> m = nn.Sigmoid()
        >>> loss = nn.BCELoss()
        >>> input = ember.randn(3, requires_grad=True)
        >>> loss(m(input), ember.FloatTensor(3).random_(2)).backward()
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    r"""Sigmoid and binary cross entropy in one numerically stable step.

    Args:
        weight (Tensor, optional): rescaling weight broadcast against the loss. Default: ``None``
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``
        pos_weight (Tensor, optional): weight of positive examples per class. Default: ``None``
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, pos_weight=self.pos_weight, reduction=self.reduction
        )


class HingeEmbeddingLoss(_Loss):
    r""":math:`x` for :math:`y = 1`, :math:`\max(0, \Delta - x)` for :math:`y = -1`.

    Args:
        margin (float): the :math:`\Delta`. Default: 1.0
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``
    """

    def __init__(
        self, margin: float = 1.0, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class MultiLabelMarginLoss(_PlainLoss):
    r"""Multi-class multi-label hinge loss over the target indices up to the first -1.

    Args:
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``
    """

    _functional = staticmethod(F.multilabel_margin_loss)


class SmoothL1Loss(_Loss):
    r"""Squared error below ``beta``, absolute error above.

    Args:
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``
        beta (float): the threshold. Default: 1.0
    """

    def __init__(
        self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean", beta: float = 1.0
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    r"""Huber loss: squared error below ``delta``, ``delta``-scaled absolute error above.

    Args:
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``
        delta (float): the threshold. Default: 1.0
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        if not isinstance(delta, (float, int)):
            raise TypeError(f"HuberLoss: delta must be a float or int, got: {type(delta)}")
        super().__init__(None, None, reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SoftMarginLoss(_PlainLoss):
    r"""Two-class logistic loss :math:`\log(1 + e^{-y x})`.

    Args:
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``
    """

    _functional = staticmethod(F.soft_margin_loss)


class CrossEntropyLoss(_WeightedLoss):
    r"""Log-softmax and negative log-likelihood in one criterion, for class indices or class
    probabilities as targets.

    Args:
        weight (Tensor, optional): per-class weights :math:`(C)`. Default: ``None``
        size_average (bool, optional): deprecated (see ``reduction``).
        ignore_index (int): class-index target value to ignore. Default: -100
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``
        label_smoothing (float): in [0, 1]. Default: 0.0

    Example::

        >>> loss = nn.CrossEntropyLoss()
        >>> input = ember.randn(3, 5, requires_grad=True)
        >>> loss(input, ember.LongTensor(3).random_(5)).backward()
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class MultiLabelSoftMarginLoss(_WeightedLoss):
    r"""Multi-label one-versus-all logistic loss, averaged over the classes.

    Args:
        weight (Tensor, optional): per-class weights :math:`(C)`. Default: ``None``
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight, reduction=self.reduction)


class _MarginPairLoss(_Loss):
    """Shared by the margin losses on ``(input1, input2, target)``: ``forward`` calls ``_functional``."""

    _functional: Callable[..., Tensor] = None  # type: ignore[assignment]  # set by every concrete subclass

    def __init__(
        self, margin: float = 0.0, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return type(self)._functional(input1, input2, target, margin=self.margin, reduction=self.reduction)


class CosineEmbeddingLoss(_MarginPairLoss):
    r""":math:`1 - \cos(x_1, x_2)` for :math:`y = 1`, :math:`\max(0, \cos(x_1, x_2) - \text{margin})` for :math:`y = -1`.

    Args:
        margin (float): Default: 0
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``
    """

    _functional = staticmethod(F.cosine_embedding_loss)


class MarginRankingLoss(_MarginPairLoss):
    r""":math:`\max(0, -y (x_1 - x_2) + \text{margin})`.

    Args:
        margin (float): Default: 0
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``
    """

    _functional = staticmethod(F.margin_ranking_loss)


class MultiMarginLoss(_WeightedLoss):
    r"""Multi-class hinge loss :math:`\sum_{i \ne y} w_y \max(0, \text{margin} - x_y + x_i)^p / C`.

    Args:
        p (int): 1 or 2. Default: 1
        margin (float): Default: 1
        weight (Tensor, optional): per-class weights. Default: ``None``
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``
    """

    def __init__(
        self,
        p: int = 1,
        margin: float = 1.0,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError("only p == 1 and p == 2 supported")
        if weight is not None and weight.ndim != 1:
            raise ValueError(f"MultiMarginLoss: expected weight to be None or 1D tensor, got {weight.ndim}D instead")
        self.p = p
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multi_margin_loss(
            input, target, p=self.p, margin=self.margin, weight=self.weight, reduction=self.reduction
        )


class TripletMarginLoss(_Loss):
    r"""Triplet loss :math:`\max(d(a, p) - d(a, n) + \text{margin}, 0)` with the ``p``-norm distance.

    Args:
        margin (float): Default: 1.0
        p (float): the norm degree. Default: 2
        eps (float): Default: 1e-6
        swap (bool): use the distance swap. Default: ``False``
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``

    Example::

        >>> triplet_loss = nn.TripletMarginLoss(margin=1.0, p=2)
        >>> a, p, n = (ember.randn(100, 128, requires_grad=True) for _ in range(3))
        >>> triplet_loss(a, p, n).backward()
    """

    def __init__(
        self,
        margin: float = 1.0,
        p: float = 2.0,
        eps: float = 1e-6,
        swap: bool = False,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, got {margin} instead")
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_loss(
            anchor, positive, negative, margin=self.margin, p=self.p, eps=self.eps, swap=self.swap,
            reduction=self.reduction,
        )  # fmt: skip


class TripletMarginWithDistanceLoss(_Loss):
    r"""Triplet loss with a custom distance function.

    Args:
        distance_function (callable, optional): Default: :func:`~ember.nn.functional.pairwise_distance`
        margin (float): Default: 1.0
        swap (bool): use the distance swap. Default: ``False``
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``
    """

    def __init__(
        self,
        *,
        distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
        margin: float = 1.0,
        swap: bool = False,
        reduction: str = "mean",
    ) -> None:
        super().__init__(None, None, reduction)
        if margin <= 0:
            raise ValueError(
                f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got {margin} instead"
            )
        self.distance_function = distance_function if distance_function is not None else PairwiseDistance()
        self.margin = margin
        self.swap = swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function, margin=self.margin,
            swap=self.swap, reduction=self.reduction,
        )  # fmt: skip
