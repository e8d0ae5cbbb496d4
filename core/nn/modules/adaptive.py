"""``AdaptiveLogSoftmaxWithLoss``: the adaptive softmax of Grave et al. (2016) for large vocabularies:
frequent classes in a head, the rest in clusters reached through the head, each cluster scored
by a smaller projection."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

from ... import dtypes
from ...ops.movement import cat
from ...tensor import Tensor
from .. import functional as F
from ..common_types import _device_t, _dtype_t
from .container import ModuleList, Sequential
from .linear import Linear
from .module import Module

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    r"""Efficient softmax approximation for many classes (Grave et al., *Efficient softmax approximation
    for GPUs*): the classes below ``cutoffs[0]`` and one entry per cluster form the head; class ``c`` of
    cluster ``i`` has log-probability ``head[cluster i] + log_softmax(tail_i(x))[c - cutoffs[i]]``, where
    cluster ``i``'s projection has ``in_features // div_value ** (i + 1)`` hidden units.

    Args:
        in_features (int): the number of input features.
        n_classes (int): the number of classes.
        cutoffs (sequence of int): increasing class indices in ``[1, n_classes - 1]`` that split the classes.
        div_value (float): the divisor of the clusters' hidden sizes. Default: ``4.0``.
        head_bias (bool): give the head a bias. Default: ``False``.

    Returns:
        ``(output, loss)``: each target's log-probability, of shape :math:`(N)`, and the mean negative one.

    Shape:
        - input: :math:`(N, in\_features)` or :math:`(in\_features)`; target: :math:`(N)` or :math:`()`.

    Example::

        >>> asm = nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[4, 8])
        >>> out = asm(ember.randn(3, 8), ember.tensor([0, 5, 9]))
        >>> out.output.shape, out.loss.shape
        (ember.Size([3]), ember.Size([]))
    """

    def __init__(
        self,
        in_features: int,
        n_classes: int,
        cutoffs: Sequence[int],
        div_value: float = 4.0,
        head_bias: bool = False,
        device: _device_t = None,
        dtype: _dtype_t = None,
    ) -> None:
        super().__init__()
        factory: dict[str, Any] = {"device": device, "dtype": dtype}
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (
            cutoffs != sorted(cutoffs)
            or min(cutoffs) <= 0
            or max(cutoffs) > n_classes - 1
            or len(set(cutoffs)) != len(cutoffs)
            or any(int(c) != c for c in cutoffs)
        ):
            raise ValueError(
                "cutoffs should be a sequence of unique, positive integers sorted in an increasing order, "
                "where each value is between 1 and n_classes-1"
            )
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, **factory)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            size = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(
                Sequential(
                    Linear(in_features, hidden, bias=False, **factory), Linear(hidden, size, bias=False, **factory)
                )
            )

    def reset_parameters(self) -> None:
        """Re-initialise the head and every cluster projection."""
        for layer in self.modules():
            if isinstance(layer, Linear):
                layer.reset_parameters()

    def forward(self, input: Tensor, target: Tensor) -> _ASMoutput:
        if target.dim() == 1:
            if input.shape[0] != target.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch dimension.")
            if input.dim() != 2:
                raise RuntimeError(
                    f"1D target tensor expects 2D input tensors, but found inputs with size {list(input.shape)}"
                )
        elif target.dim() == 0:
            if input.dim() != 1:
                raise RuntimeError(
                    f"0D target tensor expects 1D input tensors, but found inputs with size {list(input.shape)}"
                )
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = target.dim() > 0
        x, t = (input, target) if batched else (input.unsqueeze(0), target.unsqueeze(0))
        if t.numel() and bool(((t < 0) | (t >= self.n_classes)).any()):
            raise RuntimeError(
                f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                f"[{t.min().item()}, {t.max().item()}] were found. "
            )
        head = F.log_softmax(self.head(x), dim=1)
        # the head's entry per row: the class itself in the shortlist, else its cluster's entry
        entry = t.clamp_max(self.shortlist_size - 1)
        for i in range(self.n_clusters):
            inside = (t >= self.cutoffs[i]) & (t < self.cutoffs[i + 1])
            entry = entry.masked_fill(inside, self.shortlist_size + i)
        output = head.gather(1, entry.unsqueeze(1)).squeeze(1)
        for i in range(self.n_clusters):
            rows = ((t >= self.cutoffs[i]) & (t < self.cutoffs[i + 1])).nonzero().reshape(-1)
            if rows.numel() == 0:
                continue
            local = F.log_softmax(self.tail[i](x.index_select(0, rows)), dim=1)
            within = (t.index_select(0, rows) - self.cutoffs[i]).unsqueeze(1)
            output = output.index_add(0, rows, local.gather(1, within).squeeze(1))
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _full_log_prob(self, x: Tensor, head_output: Tensor) -> Tensor:
        head = F.log_softmax(head_output, dim=1)
        parts = [head[:, : self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster = F.log_softmax(self.tail[i](x), dim=1)
            parts.append(cluster + head[:, self.shortlist_size + i].unsqueeze(1))
        return cat(parts, 1)

    def log_prob(self, input: Tensor) -> Tensor:
        """The log-probability of every class, :math:`(N, n\\_classes)` (or :math:`(n\\_classes)`).

        Example::

            >>> asm = nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[4, 8])
            >>> asm.log_prob(ember.randn(2, 8)).exp().sum(1).detach()
            tensor([1.0000, 1.0000])
        """
        x = input if input.dim() > 1 else input.unsqueeze(0)
        out = self._full_log_prob(x, self.head(x))
        return out if input.dim() > 1 else out.squeeze(0)

    def predict(self, input: Tensor) -> Tensor:
        """The most probable class of each row, :math:`(N)` (or a 0-d tensor).

        Example::

            >>> asm = nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[4, 8])
            >>> asm.predict(ember.randn(3, 8)).shape
            ember.Size([3])
        """
        x = input if input.dim() > 1 else input.unsqueeze(0)
        head_output = self.head(x)
        best = head_output.argmax(1)
        outside = best >= self.shortlist_size
        if bool(outside.any()):
            best = best.where(~outside, self._full_log_prob(x, head_output).argmax(1))
        best = best.to(dtypes.int64)
        return best if input.dim() > 1 else best.squeeze(0)
