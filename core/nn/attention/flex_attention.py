"""``ember.nn.attention.flex_attention``: PyTorch's FlexAttention, attention whose scores a user
function rewrites (``score_mod``) and whose pairs a user function masks (``mask_mod``).

Both functions take index tensors. PyTorch's eager path maps them over every ``(b, h, q_idx,
kv_idx)`` with ``vmap``; ember calls them once, on index tensors shaped to broadcast against the
scores (``b`` of shape ``(B, 1, 1, 1)``, ``h`` of ``(1, H, 1, 1)``, ``q_idx`` of ``(1, 1, L, 1)``,
``kv_idx`` of ``(1, 1, 1, S)``, all int64). Every function that ``vmap`` accepts and that indexes
with one subscript (``bias[h, q_idx]`` rather than ``bias[h][q_idx]``) computes the same thing
either way. The functions are ordinary tensor code, so gradients flow through ``score_mod``,
to the query, key and value and to any tensor it captures (a bias table, ALiBi slopes).

A :class:`BlockMask` records which ``BLOCK_SIZE`` tiles of the score matrix hold any unmasked
pair; its ``mask_mod`` decides pair by pair, as PyTorch's eager path does.

Example::

    >>> from ember.nn.attention.flex_attention import create_block_mask, flex_attention
    >>> def causal(b, h, q_idx, kv_idx):
    ...     return q_idx >= kv_idx
    >>> block_mask = create_block_mask(causal, None, None, 6, 6, device="cpu")
    >>> q = ember.randn(2, 4, 6, 8)
    >>> out = flex_attention(q, q, q, block_mask=block_mask)
    >>> ref = ember.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True)
    >>> bool(ember.allclose(out, ref, atol=1e-6))
    True
"""

from __future__ import annotations

import inspect
import itertools
import math
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple, TypedDict

from ... import dtypes
from ...accelerator import current_accelerator
from ...amp.policy import autocast_call
from ...amp.state import state as _amp
from ...device import device as _device
from ...ops.arithmetic import where
from ...ops.creation import arange
from ...tensor import Tensor
from ...type_names import type_name
from ..functional.padding import pad

__all__ = [
    "BlockMask",
    "flex_attention",
    "AuxOutput",
    "AuxRequest",
    "FlexKernelOptions",
    "create_block_mask",
    "create_mask",
    "or_masks",
    "and_masks",
    "noop_mask",
]

_score_mod_signature = Callable[[Tensor, Tensor, Tensor, Tensor, Tensor], Tensor]
_mask_mod_signature = Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]

_DEFAULT_SPARSE_BLOCK_SIZE = 128


class FlexKernelOptions(TypedDict, total=False):
    """Options of PyTorch's fused FlexAttention kernels (``BLOCK_M``, ``BACKEND``, ...); ember's
    implementation has no tunables, so :func:`flex_attention` accepts and ignores them."""

    BACKEND: str
    BLOCK_M: int
    BLOCK_N: int
    PRESCALE_QK: bool
    ROWS_GUARANTEED_SAFE: bool
    BLOCKS_ARE_CONTIGUOUS: bool
    WRITE_DQ: bool


class AuxRequest(NamedTuple):
    """Which auxiliary outputs :func:`flex_attention` returns beside the output."""

    lse: bool = False
    max_scores: bool = False


class AuxOutput(NamedTuple):
    """Auxiliary outputs of :func:`flex_attention`; a field not requested is None."""

    lse: Tensor | None = None
    max_scores: Tensor | None = None


def _identity(score: Tensor, batch: Tensor, head: Tensor, token_q: Tensor, token_kv: Tensor) -> Tensor:
    return score


def noop_mask(batch: Tensor, head: Tensor, token_q: Tensor, token_kv: Tensor) -> Tensor:
    """The mask_mod that masks nothing."""
    return batch.new_ones((), dtype=dtypes.bool)


def _sliced_mask_mod_error(batch: Tensor, head: Tensor, token_q: Tensor, token_kv: Tensor) -> Tensor:
    """The mask_mod of a sliced :class:`BlockMask`, which has none until one is assigned."""
    raise RuntimeError(
        "Cannot use mask_mod from a sliced BlockMask. When you slice a BlockMask using [], the mask_mod "
        "attribute is reset. You must set it from the original BlockMask's mask_mod."
    )


def or_masks(*mask_mods: _mask_mod_signature) -> _mask_mod_signature:
    """The mask_mod that keeps a pair where any of ``mask_mods`` keeps it."""
    if not all(callable(arg) for arg in mask_mods):
        raise RuntimeError(f"All inputs should be callable mask_mods: {mask_mods}")

    def or_mask(b: Tensor, h: Tensor, q_idx: Tensor, kv_idx: Tensor) -> Tensor:
        result = b.new_zeros((), dtype=dtypes.bool)
        for mask_mod in mask_mods:
            result = result | mask_mod(b, h, q_idx, kv_idx)
        return result

    return or_mask


def and_masks(*mask_mods: _mask_mod_signature) -> _mask_mod_signature:
    """The mask_mod that keeps a pair where all of ``mask_mods`` keep it."""
    if not all(callable(arg) for arg in mask_mods):
        raise RuntimeError(f"All inputs should be callable mask_mods: {mask_mods}")

    def and_mask(b: Tensor, h: Tensor, q_idx: Tensor, kv_idx: Tensor) -> Tensor:
        result = b.new_ones((), dtype=dtypes.bool)
        for mask_mod in mask_mods:
            result = result & mask_mod(b, h, q_idx, kv_idx)
        return result

    return and_mask


def _index_grid(B: int, H: int, L: int, S: int, device: Any) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """``(b, h, q_idx, kv_idx)``: int64 ranges shaped to broadcast to ``(B, H, L, S)``."""
    return (
        arange(B, device=device).reshape(B, 1, 1, 1),
        arange(H, device=device).reshape(1, H, 1, 1),
        arange(L, device=device).reshape(1, 1, L, 1),
        arange(S, device=device).reshape(1, 1, 1, S),
    )


def _is_score_mod(fn: Callable[..., Tensor]) -> bool:
    """Whether ``fn`` is a score_mod (five positional arguments without defaults) rather than a
    mask_mod (four), as PyTorch tells them apart."""
    code = getattr(fn, "__code__", None)
    if code is not None:
        positional = code.co_argcount - len(getattr(fn, "__defaults__", None) or ())
    else:
        parameters = inspect.signature(fn).parameters.values()
        positional = sum(1 for p in parameters if p.default is inspect.Parameter.empty)
    if positional not in (4, 5):
        raise AssertionError(f"Expected 4 or 5 positional args, got {positional}")
    return positional == 5


def create_mask(
    mod_fn: _score_mod_signature | _mask_mod_signature,
    B: int | None,
    H: int | None,
    Q_LEN: int,
    KV_LEN: int,
    device: Any = None,
) -> Tensor:
    r"""The bool mask :math:`(B, H, Q\_LEN, KV\_LEN)` that ``mod_fn`` describes.

    Args:
        mod_fn (Callable): a mask_mod ``(b, h, q_idx, kv_idx) -> bool``, or a score_mod
            ``(score, b, h, q_idx, kv_idx)``, whose ``-inf`` scores (of zero scores) are masked.
        B (int, optional): batch size. Default (None): 1
        H (int, optional): number of heads. Default (None): 1
        Q_LEN (int): query length.
        KV_LEN (int): key/value length.
        device (str or device, optional): where to build the mask. Default: the current
            accelerator (:func:`ember.accelerator.current_accelerator`), else the CPU

    Examples::

        >>> from ember.nn.attention.flex_attention import create_mask
        >>> create_mask(lambda b, h, q, kv: q >= kv, 1, 1, 2, 2, device="cpu")
        tensor([[[[ True, False],
                  [ True,  True]]]])
    """
    device = _device(device or current_accelerator() or "cpu")
    B, H = 1 if B is None else B, 1 if H is None else H
    b, h, q_idx, kv_idx = _index_grid(B, H, Q_LEN, KV_LEN, device)
    if _is_score_mod(mod_fn):
        scores = mod_fn(b.new_zeros((B, H, Q_LEN, KV_LEN), dtype=dtypes.float32), b, h, q_idx, kv_idx)
        mask = scores.isneginf().logical_not()
    else:
        mask = mod_fn(b, h, q_idx, kv_idx)
    return mask.expand(B, H, Q_LEN, KV_LEN).contiguous()


def _dense_to_ordered(dense_mask: Tensor) -> tuple[Tensor, Tensor]:
    """``(num_blocks_in_row, col_indices)`` of a 0/1 block matrix: the count of set blocks per row,
    and the column indices with the set ones first, in order."""
    dense_mask = dense_mask.to(dtypes.int32)
    num_blocks_in_row = dense_mask.sum(-1).to(dtypes.int32)
    col_indices = dense_mask.argsort(dim=-1, descending=True, stable=True).to(dtypes.int32)
    return num_blocks_in_row, col_indices


def _ordered_to_dense(num_blocks_in_row: Tensor, col_indices: Tensor, num_cols: int) -> Tensor:
    """The int32 0/1 block matrix ``(..., rows, num_cols)`` of ``(num_blocks_in_row, col_indices)``."""
    max_entries = col_indices.shape[-1]
    listed = arange(max_entries, device=col_indices.device) < num_blocks_in_row.unsqueeze(-1)
    columns = arange(num_cols, device=col_indices.device)
    hits = (col_indices.unsqueeze(-1) == columns) & listed.unsqueeze(-1)
    return hits.any(-2).to(dtypes.int32)


def _transpose_ordered(num_blocks_in_row: Tensor, col_indices: Tensor) -> tuple[Tensor, Tensor]:
    dense = _ordered_to_dense(num_blocks_in_row, col_indices, col_indices.shape[-1])
    return _dense_to_ordered(dense.transpose(-2, -1))


def _adjust_num_blocks_and_indices(
    num_blocks: Tensor, indices: Tensor, new_num_rows: int, new_num_cols: int
) -> tuple[Tensor, Tensor]:
    indices = indices[:, :, :new_num_rows, :new_num_cols]
    num_blocks = num_blocks[:, :, :new_num_rows].clamp(max=new_num_cols)
    num_blocks = (indices < num_blocks[:, :, :, None]).sum(-1).to(dtypes.int32)
    return num_blocks, indices


class BlockMask:
    r"""A block-sparse attention mask: which ``BLOCK_SIZE`` tiles of the :math:`(L, S)` score
    matrix hold any pair that takes part in attention, and the ``mask_mod`` that decides each pair.

    A row of tiles lists its tiles in ``kv_indices[..., row, :kv_num_blocks[..., row]]``; tiles
    whose every pair is kept may be listed apart, in ``full_kv_indices``. ``q_num_blocks`` and
    ``q_indices`` are the same lists by column. Build one with :func:`create_block_mask` or
    :meth:`from_kv_blocks`.

    Attributes:
        seq_lengths (tuple[int, int]): :math:`(L, S)`.
        kv_num_blocks, kv_indices (Tensor): int32 :math:`(B, H, L_{blocks})` and
            :math:`(B, H, L_{blocks}, S_{blocks})`; tiles partly masked (or all, without
            ``full_kv_*``).
        full_kv_num_blocks, full_kv_indices (Tensor or None): the tiles kept whole.
        q_num_blocks, q_indices, full_q_num_blocks, full_q_indices (Tensor or None): the same by column.
        BLOCK_SIZE (tuple[int, int]): the tile's query and key/value sizes.
        mask_mod (Callable): ``(b, h, q_idx, kv_idx) -> bool``.
    """

    def __init__(
        self,
        seq_lengths: tuple[int, int],
        kv_num_blocks: Tensor,
        kv_indices: Tensor,
        full_kv_num_blocks: Tensor | None,
        full_kv_indices: Tensor | None,
        q_num_blocks: Tensor | None,
        q_indices: Tensor | None,
        full_q_num_blocks: Tensor | None,
        full_q_indices: Tensor | None,
        BLOCK_SIZE: tuple[int, int] = (_DEFAULT_SPARSE_BLOCK_SIZE, _DEFAULT_SPARSE_BLOCK_SIZE),
        mask_mod: _mask_mod_signature = noop_mask,
    ) -> None:
        if kv_indices.dim() < 2:
            raise RuntimeError("BlockMask must have at least 2 dimensions")
        if (full_kv_num_blocks is None) != (full_kv_indices is None):
            raise AssertionError("full_kv_num_blocks and full_kv_indices must be both provided or omitted")
        if (full_q_num_blocks is None) != (full_q_indices is None):
            raise AssertionError("full_q_num_blocks and full_q_indices must be both provided or omitted")
        self.seq_lengths = seq_lengths
        self.kv_num_blocks = kv_num_blocks
        self.kv_indices = kv_indices
        self.full_kv_num_blocks = full_kv_num_blocks
        self.full_kv_indices = full_kv_indices
        self.q_num_blocks = q_num_blocks
        self.q_indices = q_indices
        self.full_q_num_blocks = full_q_num_blocks
        self.full_q_indices = full_q_indices
        self.BLOCK_SIZE = BLOCK_SIZE
        self.mask_mod = mask_mod

    @classmethod
    def from_kv_blocks(
        cls,
        kv_num_blocks: Tensor,
        kv_indices: Tensor,
        full_kv_num_blocks: Tensor | None = None,
        full_kv_indices: Tensor | None = None,
        BLOCK_SIZE: int | tuple[int, int] = _DEFAULT_SPARSE_BLOCK_SIZE,
        mask_mod: _mask_mod_signature | None = None,
        seq_lengths: tuple[int, int] | None = None,
        compute_q_blocks: bool = True,
    ) -> BlockMask:
        """A BlockMask from its rows of tiles; the columns (``q_*``) are derived from them.

        Args:
            kv_num_blocks (Tensor): number of tiles listed in each row.
            kv_indices (Tensor): the tiles' column indices in each row.
            full_kv_num_blocks, full_kv_indices (Tensor, optional): the same for tiles kept whole.
            BLOCK_SIZE (int or tuple[int, int]): tile size. Default: 128
            mask_mod (Callable, optional): the pair-wise mask. Default: :func:`noop_mask`
            seq_lengths (tuple[int, int], optional): :math:`(L, S)`. Default: the tiles' extent.
            compute_q_blocks (bool): derive ``q_num_blocks`` and the others. Default: ``True``
        """
        if kv_indices.dim() < 2:
            raise RuntimeError("BlockMask must have at least 2 dimensions")
        if (full_kv_num_blocks is None) != (full_kv_indices is None):
            raise AssertionError("full_kv_num_blocks and full_kv_indices must be both provided or omitted")
        q_num_blocks = q_indices = full_q_num_blocks = full_q_indices = None
        if compute_q_blocks:
            q_num_blocks, q_indices = _transpose_ordered(kv_num_blocks, kv_indices)
            if full_kv_num_blocks is not None and full_kv_indices is not None:
                full_q_num_blocks, full_q_indices = _transpose_ordered(full_kv_num_blocks, full_kv_indices)
        if isinstance(BLOCK_SIZE, int):
            BLOCK_SIZE = (BLOCK_SIZE, BLOCK_SIZE)
        if seq_lengths is None:
            seq_lengths = (kv_indices.shape[-2] * BLOCK_SIZE[0], kv_indices.shape[-1] * BLOCK_SIZE[1])
        return cls(
            seq_lengths,
            kv_num_blocks,
            kv_indices,
            full_kv_num_blocks,
            full_kv_indices,
            q_num_blocks,
            q_indices,
            full_q_num_blocks,
            full_q_indices,
            BLOCK_SIZE=BLOCK_SIZE,
            mask_mod=noop_mask if mask_mod is None else mask_mod,
        )

    def as_tuple(self, flatten: bool = True) -> tuple[Any, ...]:
        """The attributes as a tuple; with ``flatten`` the two lengths and the two block sizes
        are unpacked into it."""
        seq_lengths = tuple(self.seq_lengths) if flatten else (self.seq_lengths,)
        block_size = tuple(self.BLOCK_SIZE) if flatten else (self.BLOCK_SIZE,)
        return (
            *seq_lengths,
            self.kv_num_blocks,
            self.kv_indices,
            self.full_kv_num_blocks,
            self.full_kv_indices,
            self.q_num_blocks,
            self.q_indices,
            self.full_q_num_blocks,
            self.full_q_indices,
            *block_size,
            self.mask_mod,
        )

    @property
    def shape(self) -> tuple[int, ...]:
        """``(*batch dims of kv_indices, L, S)``."""
        return tuple(self.kv_indices.shape[:-2]) + tuple(self.seq_lengths)

    def numel(self) -> int:
        """The number of pairs the mask covers, masked or not."""
        return math.prod(self.shape)

    def sparsity(self) -> float:
        """The percentage of pairs in tiles that are not listed (not computed); PyTorch's formula,
        negative where the tiles reach past the sequence lengths."""
        computed = int(self.kv_num_blocks.sum().item())
        if self.full_kv_num_blocks is not None:
            computed += int(self.full_kv_num_blocks.sum().item())
        return 100 * (1 - computed * self.BLOCK_SIZE[0] * self.BLOCK_SIZE[1] / self.numel())

    def to_dense(self) -> Tensor:
        """The int32 0/1 tile matrix ``(..., L_blocks, S_blocks)``: 1 where a tile is listed."""
        dense = _ordered_to_dense(self.kv_num_blocks, self.kv_indices, self.kv_indices.shape[-1])
        if self.full_kv_num_blocks is not None and self.full_kv_indices is not None:
            dense = dense | _ordered_to_dense(
                self.full_kv_num_blocks, self.full_kv_indices, self.full_kv_indices.shape[-1]
            )
        return dense

    def to_string(self, grid_size: int | tuple[int, int] = (20, 20), limit: int = 4) -> str:
        """A drawing of the tiles of each ``(batch, head)`` (at most ``limit`` of them), one
        character pair per cell of a grid of at most ``grid_size`` cells: full, partly or not set.
        A ``grid_size`` of -1 draws every tile."""
        dense = self.to_dense()
        *batch_dims, num_rows, num_cols = dense.shape
        if grid_size == -1:
            max_rows, max_cols = num_rows, num_cols
        elif isinstance(grid_size, int):
            max_rows = max_cols = grid_size
        else:
            max_rows, max_cols = grid_size
        row_step = max(1, -(-num_rows // max_rows))
        col_step = max(1, -(-num_cols // max_cols))
        drawings = []
        for count, batch_idx in enumerate(itertools.product(*[range(n) for n in batch_dims])):
            if count == limit:
                drawings.append("...")
                drawings.append("To print out more, set BlockMask.to_string(limit=N)")
                drawings.append("You can also index (BlockMask[batch, head]) to choose a specific batch or head")
                break
            tiles = dense[batch_idx] if batch_idx else dense
            lines = [f"{batch_idx}\n"]
            for r in range(0, num_rows, row_step):
                for c in range(0, num_cols, col_step):
                    share = tiles[r : r + row_step, c : c + col_step].float().mean().item()
                    lines.append(2 * ("█" if share == 1 else " " if share == 0 else "░"))
                lines.append("\n")
            drawings.append("".join(lines))
        return "\n".join(drawings)

    def __str__(self) -> str:
        return f"BlockMask(shape={self.shape}, sparsity={self.sparsity():.2f}%, \n{self.to_string().strip()}\n)"

    def __repr__(self) -> str:
        def shape_or_none(x: Tensor | None) -> Any:
            return None if x is None else x.shape

        name = getattr(self.mask_mod, "__name__", self.mask_mod)
        return (
            "BlockMask(\n"
            f"    kv_num_blocks={self.kv_num_blocks.shape},\n"
            f"    kv_indices={self.kv_indices.shape},\n"
            f"    full_kv_num_blocks={shape_or_none(self.full_kv_num_blocks)},\n"
            f"    full_kv_indices={shape_or_none(self.full_kv_indices)},\n"
            f"    q_num_blocks={shape_or_none(self.q_num_blocks)},\n"
            f"    q_indices={shape_or_none(self.q_indices)},\n"
            f"    full_q_num_blocks={shape_or_none(self.full_q_num_blocks)},\n"
            f"    full_q_indices={shape_or_none(self.full_q_indices)},\n"
            f"    BLOCK_SIZE={self.BLOCK_SIZE},\n"
            f"    shape={self.shape},\n"
            f"    sparsity={self.sparsity():.2f}%,\n"
            f"    mask_mod={name}\n"
            ")"
        )

    def __getitem__(self, index: Any) -> BlockMask:
        """The BlockMask of some batches, heads and rows of tiles (an int keeps its dimension, as
        in PyTorch); its ``mask_mod`` is unset and must be assigned before use."""
        index = index if isinstance(index, tuple) else (index,)
        padded = (*index, slice(None), slice(None), slice(None))[:3]
        sizes = self.kv_num_blocks.shape[:3]
        index = tuple(
            (slice(i + n, i + n + 1) if -n <= i < 0 else slice(i, i + 1)) if isinstance(i, int) else i
            for i, n in zip(padded, sizes)
        )
        full_num = full_indices = None
        if self.full_kv_num_blocks is not None and self.full_kv_indices is not None:
            full_num, full_indices = self.full_kv_num_blocks[index], self.full_kv_indices[index]
        return BlockMask.from_kv_blocks(
            self.kv_num_blocks[index],
            self.kv_indices[index],
            full_num,
            full_indices,
            BLOCK_SIZE=self.BLOCK_SIZE,
            mask_mod=_sliced_mask_mod_error,
            seq_lengths=self.seq_lengths,
            compute_q_blocks=self.q_indices is not None,
        )

    def _adjust(self, new_q_len: int, new_kv_len: int) -> BlockMask:
        """The BlockMask cropped (top-left) to ``(new_q_len, new_kv_len)``."""
        rows = -(-new_q_len // self.BLOCK_SIZE[0])
        cols = -(-new_kv_len // self.BLOCK_SIZE[1])
        kv_num, kv_indices = _adjust_num_blocks_and_indices(self.kv_num_blocks, self.kv_indices, rows, cols)
        full_num = full_indices = None
        if self.full_kv_num_blocks is not None and self.full_kv_indices is not None:
            full_num, full_indices = _adjust_num_blocks_and_indices(
                self.full_kv_num_blocks, self.full_kv_indices, rows, cols
            )
        return self.from_kv_blocks(
            kv_num,
            kv_indices,
            full_num,
            full_indices,
            BLOCK_SIZE=self.BLOCK_SIZE,
            mask_mod=self.mask_mod,
            seq_lengths=(new_q_len, new_kv_len),
            compute_q_blocks=self.q_indices is not None,
        )

    def to(self, device: Any) -> BlockMask:
        """A new BlockMask with its tensors on ``device``."""

        def move(t: Tensor | None) -> Tensor | None:
            return None if t is None else t.to(device)

        return BlockMask(
            self.seq_lengths,
            self.kv_num_blocks.to(device),
            self.kv_indices.to(device),
            move(self.full_kv_num_blocks),
            move(self.full_kv_indices),
            move(self.q_num_blocks),
            move(self.q_indices),
            move(self.full_q_num_blocks),
            move(self.full_q_indices),
            BLOCK_SIZE=self.BLOCK_SIZE,
            mask_mod=self.mask_mod,
        )


def create_block_mask(
    mask_mod: _mask_mod_signature,
    B: int | None,
    H: int | None,
    Q_LEN: int,
    KV_LEN: int,
    device: Any = None,
    BLOCK_SIZE: int | tuple[int, int] = _DEFAULT_SPARSE_BLOCK_SIZE,
    _compile: bool = False,
    separate_full_blocks: bool = True,
) -> BlockMask:
    r"""The :class:`BlockMask` of ``mask_mod`` over :math:`(B, H, Q\_LEN, KV\_LEN)`.

    Args:
        mask_mod (Callable): ``(b, h, q_idx, kv_idx) -> bool`` (True keeps the pair).
        B (int, optional): batch size; None makes a mask shared by every batch. Default: None
        H (int, optional): number of query heads; None makes a mask shared by every head.
        Q_LEN (int): query length.
        KV_LEN (int): key/value length.
        device (str or device, optional): where to build the mask. Default: the current
            accelerator, else the CPU
        BLOCK_SIZE (int or tuple[int, int]): tile size. Default: 128
        separate_full_blocks (bool): list the tiles kept whole in ``full_kv_*``. Default: ``True``

    Examples::

        >>> from ember.nn.attention.flex_attention import create_block_mask
        >>> def causal(b, h, q_idx, kv_idx):
        ...     return q_idx >= kv_idx
        >>> bm = create_block_mask(causal, None, None, 256, 256, device="cpu")
        >>> bm.shape, bm.sparsity()
        ((1, 1, 256, 256), 25.0)
        >>> bm.to_dense()
        tensor([[[[1, 0],
                  [1, 1]]]], dtype=ember.int32)
    """
    if _is_score_mod(mask_mod):
        raise AssertionError(f"create-block_mask requires a mask_mod function! Got {mask_mod}")
    if _compile:
        warnings.warn(
            "_compile flag on create_block_mask was originally added to work around a torch.compile "
            "limitation; it has no effect in ember.",
            DeprecationWarning,
            stacklevel=2,
        )
    q_block, kv_block = (BLOCK_SIZE, BLOCK_SIZE) if isinstance(BLOCK_SIZE, int) else BLOCK_SIZE
    mask = create_mask(mask_mod, B, H, Q_LEN, KV_LEN, device)
    mask = pad(mask, (0, -KV_LEN % kv_block, 0, -Q_LEN % q_block))
    b, h, q, kv = mask.shape
    tiles = mask.reshape(b, h, q // q_block, q_block, kv // kv_block, kv_block).permute(0, 1, 2, 4, 3, 5)
    counts = tiles.sum((-2, -1))
    if separate_full_blocks:
        full = counts == q_block * kv_block
        partial = (counts > 0) & full.logical_not()
        full_num, full_indices = _dense_to_ordered(full)
    else:
        partial = counts > 0
        full_num = full_indices = None
    kv_num, kv_indices = _dense_to_ordered(partial)
    return BlockMask.from_kv_blocks(
        kv_num,
        kv_indices,
        full_num,
        full_indices,
        BLOCK_SIZE=(q_block, kv_block),
        mask_mod=mask_mod,
        seq_lengths=(Q_LEN, KV_LEN),
    )


def _check_inputs(query: Tensor, key: Tensor, value: Tensor, block_mask: BlockMask | None, enable_gqa: bool) -> None:
    """PyTorch's checks of flex_attention's inputs, with its error types."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"flex_attention(): argument '{name}' must be Tensor, not {type_name(t)}")
    if query.device != key.device or query.device != value.device:
        raise ValueError(
            "Expected query, key, and value to have the same device type, but got query.device: "
            f"{query.device}, key.device: {key.device}, and value.device: {value.device} instead."
        )
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise ValueError(
            "Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
            f"{query.dim()}, key.dim: {key.dim()} and value.dim: {value.dim()} instead."
        )
    if query.size(-1) != key.size(-1):
        raise ValueError(
            "Expect query and key/value to have the same embedding dimension "
            f"but got E={query.size(-1)} and E={key.size(-1)}."
        )
    if query.dim() != 4 or key.dim() != 4 or value.dim() != 4:
        raise NotImplementedError("NYI: query, key, and value must be 4D tensors")
    if not enable_gqa and query.size(-3) != key.size(-3):
        raise ValueError(
            "Expect query and key/value to have the same number of heads "
            f"but got Hq={query.size(-3)} and Hkv={key.size(-3)}. Try setting enable_gqa=True for GQA."
        )
    if enable_gqa and query.size(1) % key.size(1) != 0:
        raise ValueError(
            "Expect number of query heads to be a multiple of kv heads for GQA "
            f"but got Hq={query.size(1)} and Hkv={key.size(1)}."
        )
    if query.size(0) != key.size(0):
        if block_mask is None:
            raise ValueError(
                "Expect query and key/value to have the same batch size, or non-none block_mask, "
                f"but got block_mask=None, Bq={query.size(0)}, and Bkv={key.size(0)}."
            )
        if block_mask.kv_num_blocks.size(0) != query.size(0):
            raise ValueError(
                "Expect query and key/value to have the same batch size, or block_mask and query to have "
                f"the same batch size, but got Bq={query.size(0)}, Bkv={key.size(0)}, "
                f"B_block_mask={block_mask.kv_num_blocks.size(0)}."
            )
    if key.size(0) not in (1, query.size(0)):
        raise RuntimeError(f"Bq and Bkv must broadcast. Got Bq={query.size(0)} and Bkv={key.size(0)}")
    if block_mask is not None:
        _check_block_mask(query, key, block_mask)


def _check_block_mask(query: Tensor, key: Tensor, block_mask: BlockMask) -> None:
    if block_mask.mask_mod is _sliced_mask_mod_error:
        raise RuntimeError("Cannot use mask_mod from a sliced BlockMask")
    mask_q_len, mask_kv_len = block_mask.shape[-2:]
    q_len, kv_len = query.size(-2), key.size(-2)
    if q_len > mask_q_len or kv_len > mask_kv_len:
        raise ValueError(
            f"block_mask was created for block_mask.shape={block_mask.shape} but got q_len={q_len} and "
            f"kv_len={kv_len}. As the block mask was created for a smaller length than you're using it for, "
            "you likely need to create a new block mask."
        )
    if q_len != mask_q_len or kv_len != mask_kv_len:
        raise ValueError(
            f"block_mask was created for block_mask.shape={block_mask.shape} but got q_len={q_len} and "
            f"kv_len={kv_len}. As the block mask was created for a larger length than you're using it for, "
            "you can either 1. create a new block mask with the correct length, or 2. 'adjust' the existing "
            "block mask to the correct length by calling block_mask._adjust(q_len, kv_len)."
        )
    if query.device != block_mask.kv_num_blocks.device:
        raise RuntimeError(
            "Expect q/k/v and block_mask to be on the same device "
            f"but got {query.device} and {block_mask.kv_num_blocks.device}."
        )


def _repeat_kv_heads(t: Tensor, groups: int) -> Tensor:
    """``t`` ``(B, Hkv, S, E)`` with each head repeated ``groups`` times in place (``repeat_interleave``)."""
    if groups == 1:
        return t
    B, H, S, E = t.shape
    return t.unsqueeze(2).expand(B, H, groups, S, E).reshape(B, H * groups, S, E)


def flex_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    score_mod: _score_mod_signature | None = None,
    block_mask: BlockMask | None = None,
    scale: float | None = None,
    enable_gqa: bool = False,
    return_lse: bool = False,
    kernel_options: FlexKernelOptions | None = None,
    *,
    return_aux: AuxRequest | None = None,
) -> Tensor | tuple[Tensor, Any]:
    r"""Attention whose scores ``score_mod`` rewrites and whose pairs ``block_mask`` masks:
    :math:`\mathrm{softmax}(\mathrm{score\_mod}(Q K^T \cdot \text{scale}))\, V` over the kept pairs.

    ``score_mod(score, b, h, q_idx, kv_idx)`` and ``block_mask.mask_mod(b, h, q_idx, kv_idx)`` are
    called once with broadcast index tensors (see the module's notes). Scores are computed in
    float32 (float64 for float64 inputs); the output has the query's dtype. A row whose every pair
    is masked gives zeros, and a log-sum-exp of ``-inf``.

    Args:
        query (Tensor): :math:`(B, H_q, L, E)`.
        key (Tensor): :math:`(B, H_{kv}, S, E)`; :math:`B` may be 1 with a block_mask for :math:`B`.
        value (Tensor): :math:`(B, H_{kv}, S, E_v)`.
        score_mod (Callable, optional): rewrites the scaled scores. Default: None (identity)
        block_mask (BlockMask, optional): the mask. Default: None (no mask)
        scale (float, optional): factor of :math:`Q K^T`. Default: :math:`1/\sqrt{E}`
        enable_gqa (bool): grouped-query attention, each key/value head shared by
            :math:`H_q/H_{kv}` query heads. Default: ``False``
        return_lse (bool): also return the log-sum-exp of the scores :math:`(B, H_q, L)`
            (deprecated for ``return_aux``). Default: ``False``
        kernel_options (dict, optional): options of PyTorch's fused kernels; ignored.
        return_aux (AuxRequest, optional): the auxiliary outputs to return in an :class:`AuxOutput`:
            ``lse`` and ``max_scores`` (the row maxima of the modified scores). Default: None

    Returns:
        ``output`` :math:`(B, H_q, L, E_v)`; with ``return_lse``, ``(output, lse)``; with
        ``return_aux``, ``(output, AuxOutput)``.

    Examples::

        >>> from ember.nn.attention.flex_attention import flex_attention
        >>> q = ember.randn(1, 2, 4, 8)
        >>> def alibi(score, b, h, q_idx, kv_idx):
        ...     return score - (h + 1) * (q_idx - kv_idx).abs()
        >>> flex_attention(q, q, q, score_mod=alibi).shape
        ember.Size([1, 2, 4, 8])
    """
    if _amp.active:  # PyTorch's autocast casts q, k, v, then runs the op with autocast off
        return autocast_call(
            "flex_attention",
            flex_attention,
            query,
            key,
            value,
            score_mod,
            block_mask,
            scale,
            enable_gqa,
            return_lse,
            kernel_options,
            return_aux=return_aux,
        )
    _check_inputs(query, key, value, block_mask, enable_gqa)
    if return_lse and return_aux is not None:
        raise ValueError(
            "Cannot specify both return_lse and return_aux. "
            "return_lse is deprecated, please use return_aux=AuxRequest(lse=True) instead."
        )
    if return_lse:
        warnings.warn(
            "return_lse is deprecated and will be removed in v2.10. "
            "Please use return_aux=AuxRequest(lse=True) instead.",
            FutureWarning,
            stacklevel=2,
        )
    scale = 1.0 / math.sqrt(query.size(-1)) if scale is None else scale
    working = dtypes.float64 if query.dtype is dtypes.float64 else dtypes.float32
    groups = query.size(1) // key.size(1)
    key = _repeat_kv_heads(key, groups).expand(query.size(0), -1, -1, -1)
    value = _repeat_kv_heads(value, groups).expand(query.size(0), -1, -1, -1)
    scores = query.to(working).matmul(key.to(working).mT) * scale
    B, H, L, S = scores.shape
    b, h, q_idx, kv_idx = _index_grid(B, H, L, S, scores.device)
    if score_mod is not None:
        scores = score_mod(scores, b, h, q_idx, kv_idx)
    if block_mask is not None:
        scores = where(block_mask.mask_mod(b, h, q_idx, kv_idx), scores, float("-inf"))
    scores = scores.expand(B, H, L, S)
    masked_rows = scores.isneginf().all(-1, keepdim=True)
    finite = scores.masked_fill(masked_rows, 0.0)  # rows of -inf: no NaN in the softmax or its gradient
    lse = finite.logsumexp(-1, keepdim=True)
    probs = (finite - lse).exp().masked_fill(masked_rows, 0.0)
    out = probs.to(query.dtype).matmul(value.to(query.dtype))
    lse = lse.masked_fill(masked_rows, float("-inf")).squeeze(-1)
    if return_aux is not None:
        max_scores = scores.detach().amax(-1) if return_aux.max_scores else None
        return out, AuxOutput(lse=lse if return_aux.lse else None, max_scores=max_scores)
    if return_lse:
        return out, lse
    return out
