"""The Connectionist Temporal Classification loss: ``nn.CTCLoss``."""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from .loss import _Loss

__all__ = ["CTCLoss"]


class CTCLoss(_Loss):
    r"""The Connectionist Temporal Classification loss (see :func:`~ember.nn.functional.ctc_loss`).

    Args:
        blank (int): the blank label. Default: 0
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``
        zero_infinity (bool): zero infinite losses and their gradients. Default: ``False``

    Shape:
        - Log_probs: :math:`(T, N, C)` or :math:`(T, C)`
        - Targets: :math:`(N, S)` or :math:`(\sum \text{target\_lengths})`
        - Input_lengths, Target_lengths: :math:`(N)` or :math:`()`
        - Output: scalar, or :math:`(N)` with ``'none'``.

    Examples::

        >>> ctc = nn.CTCLoss()
        >>> log_probs = ember.randn(20, 2, 6).log_softmax(2)
        >>> ctc(log_probs, ember.tensor([[1, 2, 3], [4, 5, 0]]), (20, 15), (3, 2)).shape
        ember.Size([])
    """

    __constants__ = ["blank", "reduction"]

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> None:
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(self, log_probs: Tensor, targets: Tensor, input_lengths: Tensor, target_lengths: Tensor) -> Tensor:
        return F.ctc_loss(
            log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction, self.zero_infinity
        )
