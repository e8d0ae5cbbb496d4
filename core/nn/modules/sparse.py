"""Sparse layers: ``nn.Embedding`` and ``nn.EmbeddingBag``."""

from __future__ import annotations

from typing import Self

from ...autograd.grad_mode import no_grad
from ...ops.creation import empty
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..common_types import _device_t, _dtype_t
from ..functional.sparse import _normalize_padding_idx
from ..parameter import Parameter
from .module import Module

__all__ = ["Embedding", "EmbeddingBag"]


def _table(num_embeddings, embedding_dim, _weight, device, dtype):
    if _weight is None:
        return Parameter(empty((num_embeddings, embedding_dim), device=device, dtype=dtype)), True
    if list(_weight.shape) != [num_embeddings, embedding_dim]:
        raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
    return Parameter(_weight), False


def _renorm_repr(module: Module) -> str:
    """The ``max_norm``, ``norm_type`` and ``scale_grad_by_freq`` part of an embedding's ``extra_repr``."""
    s = ""
    if module.max_norm is not None:
        s += f", max_norm={module.max_norm}"
    if module.norm_type != 2:
        s += f", norm_type={module.norm_type}"
    if module.scale_grad_by_freq:
        s += ", scale_grad_by_freq=True"
    return s


def _pretrained_shape(embeddings: Tensor) -> tuple[int, int]:
    """``(rows, cols)`` of the 2-D ``embeddings`` given to ``from_pretrained``."""
    if embeddings.ndim != 2:
        raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
    rows, cols = embeddings.shape
    return rows, cols


class Embedding(Module):
    r"""A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``.

    Args:
        num_embeddings (int): size of the dictionary.
        embedding_dim (int): size of each vector.
        padding_idx (int, optional): this row is zero-initialised and gets no gradient. Default: ``None``
        max_norm (float, optional): looked-up rows are renormalised in place to at most this norm. Default: ``None``
        norm_type (float): the p of the p-norm for ``max_norm``. Default: 2
        scale_grad_by_freq (bool): scale gradients by the index frequency in the batch. Default: ``False``
        sparse (bool): ``weight.grad`` is a sparse COO tensor. Default: ``False``

    Attributes:
        weight (Tensor): :math:`(\text{num\_embeddings}, \text{embedding\_dim})`, initialised from :math:`N(0, 1)`.

    Shape:
        - Input: LongTensor :math:`(*)`; Output: :math:`(*, \text{embedding\_dim})`.

    Example::

        >>> embedding = nn.Embedding(10, 3)
        >>> embedding(ember.LongTensor([[1, 2, 4, 5], [4, 3, 2, 9]])).shape
        ember.Size([2, 4, 3])
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Tensor | None = None,
        _freeze: bool = False,
        device: _device_t = None,
        dtype: _dtype_t = None,
    ) -> None:
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = _normalize_padding_idx(padding_idx, num_embeddings)
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        self.weight, fresh = _table(num_embeddings, embedding_dim, _weight, device, dtype)
        self.weight.requires_grad = not _freeze
        if fresh:
            self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self):
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(
            input, self.weight, self.padding_idx, self.max_norm, self.norm_type, self.scale_grad_by_freq, self.sparse
        )

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        s += _renorm_repr(self)
        if self.sparse:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Self:
        """An Embedding whose weight is ``embeddings`` (2-D); ``freeze`` stops its training. Default: ``True``"""
        rows, cols = _pretrained_shape(embeddings)
        return cls(
            rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse, _weight=embeddings,
            _freeze=freeze,
        )  # fmt: skip


class EmbeddingBag(Module):
    r"""Sums, means or maxes of bags of embeddings, without materialising each bag.

    Args:
        num_embeddings (int): size of the dictionary.
        embedding_dim (int): size of each vector.
        max_norm (float, optional): renormalise looked-up rows to this norm. Default: ``None``
        norm_type (float): the p of the p-norm for ``max_norm``. Default: 2
        scale_grad_by_freq (bool): scale gradients by the index frequency. Default: ``False``
        mode (str): ``'sum'`` | ``'mean'`` | ``'max'``. Default: ``'mean'``
        sparse (bool): sparse gradient of ``weight``. Default: ``False``
        include_last_offset (bool): ``offsets`` ends with the end of the last bag. Default: ``False``
        padding_idx (int, optional): entries equal to it are left out of the bags. Default: ``None``

    Shape:
        - Input: :math:`(B, N)`, or :math:`(N)` with ``offsets`` :math:`(B)`; Output: :math:`(B, \text{embedding\_dim})`.

    Example::

        >>> embedding_sum = nn.EmbeddingBag(10, 3, mode='sum')
        >>> embedding_sum(ember.LongTensor([1, 2, 4, 5, 4, 3, 2, 9]), ember.LongTensor([0, 4])).shape
        ember.Size([2, 3])
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        _weight: Tensor | None = None,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
        device: _device_t = None,
        dtype: _dtype_t = None,
    ) -> None:
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.padding_idx = _normalize_padding_idx(padding_idx, num_embeddings)
        self.weight, fresh = _table(num_embeddings, embedding_dim, _weight, device, dtype)
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset
        if fresh:
            self.reset_parameters()  # type: ignore[misc]  # Embedding's initialisation, on the same attributes

    reset_parameters = Embedding.reset_parameters
    _fill_padding_idx_with_zero = Embedding._fill_padding_idx_with_zero

    def forward(self, input: Tensor, offsets: Tensor | None = None, per_sample_weights: Tensor | None = None) -> Tensor:
        return F.embedding_bag(
            input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq, self.mode,
            self.sparse, per_sample_weights, self.include_last_offset, self.padding_idx,
        )  # fmt: skip

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        s += _renorm_repr(self)
        s += f", mode='{self.mode}'"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
    ) -> Self:
        """An EmbeddingBag whose weight is ``embeddings`` (2-D); ``freeze`` stops its training. Default: ``True``"""
        rows, cols = _pretrained_shape(embeddings)
        bag = cls(
            rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings, include_last_offset,
            padding_idx,
        )  # fmt: skip
        bag.weight.requires_grad = not freeze
        return bag
