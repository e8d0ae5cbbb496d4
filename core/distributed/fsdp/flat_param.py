"""The flat parameter of one FSDP unit: the unit's parameters flattened into one 1-d tensor,
padded and split in equal shards over the ranks, with the autograd function that all-gathers it
for forward and reduce-scatters its gradient in backward."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ... import distributed as dist
from ...autograd.function import Function
from ...autograd.grad_mode import no_grad
from ...nn.modules.module import Module
from ...nn.parameter import Parameter
from ...ops.creation import zeros
from ...tensor import Tensor
from .api import ShardingStrategy

__all__: list[str] = []

_ALIGNMENT_BYTES = 16  # PyTorch aligns each parameter's start with use_orig_params (for its compiler)


@dataclass
class ParamInfo:
    """Where one original parameter lives: its module and attribute, shape, and place in the flat tensor."""

    module: Module
    name: str
    fqn: str
    shape: tuple[int, ...]
    numel: int
    offset: int
    requires_grad: bool
    shared_with: int | None = None  # index of the first occurrence of a parameter reached twice


def _predivide_factor(world_size: int) -> int:
    # PyTorch divides gradients by this before the reduction and by world_size / factor after it,
    # which keeps low-precision sums from overflowing
    factor = 1
    while world_size % factor == 0 and world_size / factor > factor:
        factor *= 2
    return factor


class _Unshard(Function):
    """``(handle, *shards) -> full flat tensor``: forward all-gathers, backward reduce-scatters."""

    @staticmethod
    def forward(ctx, handle, *pieces):
        ctx.handle = handle
        return handle._gather(handle._local_shard(pieces), handle.compute_dtype)

    @staticmethod
    def backward(ctx, grad):
        handle = ctx.handle
        shard_grad = handle._reduce_grad(grad)
        if shard_grad is None:
            return (None,) * (1 + len(handle.pieces))
        return (None, *handle._split_shard_grad(shard_grad))


class FlatParamHandle:
    """The flat parameter of one FSDP unit and the bookkeeping to unshard and reshard it.

    With ``use_orig_params=False`` the unit's one parameter is ``flat_param``, this rank's shard
    (registered as ``_flat_param`` on the wrapped module); with ``use_orig_params=True`` every
    original parameter stays registered under its name, holding this rank's part of it (1-d,
    possibly empty), and the shard is put together from those parts when it is gathered.
    """

    def __init__(
        self,
        owner: Any,
        infos: list[ParamInfo],
        params: list[Parameter],
        strategy: ShardingStrategy,
        use_orig_params: bool,
        param_dtype: Any,
        reduce_dtype: Any,
    ) -> None:
        self.owner = owner
        self.infos = infos
        self.strategy = strategy
        self.use_orig_params = use_orig_params
        self.group = owner.process_group
        self.rank = dist.get_rank(self.group)
        self.world_size = dist.get_world_size(self.group)
        self.sharded = strategy is not ShardingStrategy.NO_SHARD and self.world_size > 1
        first = params[0]
        dtype = first.dtype
        for info, p in zip(infos, params):
            if p.dtype != dtype:
                raise ValueError(
                    f"Must flatten tensors with uniform dtype but got {dtype} and {p.dtype} (parameter {info.fqn})"
                )
            if not use_orig_params and p.requires_grad != first.requires_grad:
                raise ValueError(
                    "Must flatten tensors with uniform `requires_grad` when `use_orig_params=False`"
                    f" (parameter {info.fqn})"
                )
        self._param_dtype = param_dtype
        self._reduce_dtype = reduce_dtype
        self.predivide = _predivide_factor(self.world_size)
        self.postdivide = self.world_size / self.predivide
        self._pending_grad: Tensor | None = None  # the unreduced gradient kept under no_sync()
        # the layout: each parameter's offset, aligned as PyTorch aligns it with use_orig_params
        align = _ALIGNMENT_BYTES // (param_dtype or dtype).itemsize if use_orig_params else 0
        total = 0
        for info in infos:
            if align and total % align:
                total += align - total % align
            info.offset = total
            total += info.numel
        self.numel = total
        self.shard_numel = -(-total // self.world_size) if self.sharded else total
        self.padded_numel = self.shard_numel * (self.world_size if self.sharded else 1)
        self.shard_start = self.rank * self.shard_numel if self.sharded else 0
        with no_grad():
            full = zeros(self.padded_numel, dtype=dtype, device=first.device)
            for info, p in zip(infos, params):
                full[info.offset : info.offset + info.numel] = p.detach().reshape(-1)
            shard = full[self.shard_start : self.shard_start + self.shard_numel].clone()
        if use_orig_params:
            self.flat_param = None
            self.pieces = []
            self.piece_ranges = []  # (start in the shard, length) of each parameter's part
            for info, p in zip(infos, params):
                lo = max(info.offset, self.shard_start)
                hi = min(info.offset + info.numel, self.shard_start + self.shard_numel)
                lo, hi = lo, max(lo, hi)
                part = shard[lo - self.shard_start : hi - self.shard_start].clone()
                if not self.sharded:  # NO_SHARD keeps each parameter whole, in its shape
                    part = part.view(info.shape)
                piece = Parameter(part, p.requires_grad)
                self.pieces.append(piece)
                self.piece_ranges.append((lo - self.shard_start, hi - lo))
        else:
            self.flat_param = Parameter(shard, first.requires_grad)
            self.pieces = [self.flat_param]
            self.piece_ranges = [(0, self.shard_numel)]

    # -- dtypes (read each time: ``model.double()`` converts the shards in place) ----------------------
    @property
    def dtype(self) -> Any:
        """The dtype of the shards (and of the gradients the optimizer sees)."""
        return self.pieces[0].dtype

    @property
    def compute_dtype(self) -> Any:
        """The dtype forward and backward compute in: ``MixedPrecision.param_dtype`` or the shards'."""
        return self._param_dtype if self._param_dtype is not None else self.dtype

    @property
    def reduce_dtype(self) -> Any:
        """The dtype gradients are reduced in: ``reduce_dtype``, else ``param_dtype``, else the shards'."""
        if self._reduce_dtype is not None:
            return self._reduce_dtype
        return self.compute_dtype

    # -- the shard ---------------------------------------------------------------------------------
    def _local_shard(self, pieces=None):
        """This rank's shard (a new tensor of ``shard_numel`` values; not recorded by autograd)."""
        pieces = self.pieces if pieces is None else pieces
        if not self.use_orig_params:
            return pieces[0].detach()
        shard = zeros(self.shard_numel, dtype=self.dtype, device=pieces[0].device)
        with no_grad():
            for piece, (start, length) in zip(pieces, self.piece_ranges):
                if length:
                    shard[start : start + length] = piece.detach().reshape(-1)
        return shard

    def _set_local_shard(self, shard: Tensor) -> None:
        """Write ``shard`` into this rank's parameters (in place)."""
        with no_grad():
            for piece, (start, length) in zip(self.pieces, self.piece_ranges):
                piece.copy_(shard[start : start + length].view(piece.shape).to(piece.dtype))

    def _gather(self, shard: Tensor, dtype: Any) -> Tensor:
        """The padded full flat tensor in ``dtype``, gathered from every rank's shard."""
        shard = shard.to(dtype)
        if not self.sharded:
            return shard.clone() if shard.dtype == self.dtype else shard
        full = zeros(self.padded_numel, dtype=dtype, device=shard.device)
        dist.all_gather_into_tensor(full, shard.contiguous(), group=self.group)
        return full

    def full_flat(self, dtype: Any = None) -> Tensor:
        """The full flat tensor (unpadded layout with alignment gaps), gathered; no autograd record."""
        with no_grad():
            return self._gather(self._local_shard(), self.dtype if dtype is None else dtype)

    def unshard(self) -> Tensor:
        """The full flat tensor for forward, recorded so that backward reduce-scatters its gradient."""
        return _Unshard.apply(self, *self.pieces)

    # -- gradients -----------------------------------------------------------------------------------
    def _reduce_grad(self, grad: Tensor) -> Tensor | None:
        """This rank's shard of the gradient averaged over the ranks (``None`` under ``no_sync()``)."""
        grad = grad.detach()
        if self._pending_grad is not None:
            grad = grad + self._pending_grad.to(grad.dtype)
        if not self.owner._sync_gradients:
            self._pending_grad = grad
            return None
        self._pending_grad = None
        grad = grad.to(self.reduce_dtype)
        if self.world_size == 1:
            return grad.to(self.dtype)
        if self.predivide > 1:
            grad = grad / self.predivide
        if self.sharded:
            out = zeros(self.shard_numel, dtype=grad.dtype, device=grad.device)
            dist.reduce_scatter_tensor(out, grad.contiguous(), group=self.group)
        else:
            out = grad.clone()
            dist.all_reduce(out, group=self.group)
        if self.postdivide > 1:
            out = out / self.postdivide
        return out.to(self.dtype)

    def _split_shard_grad(self, shard_grad: Tensor) -> list[Tensor | None]:
        grads: list[Tensor | None] = []
        for piece, (start, length) in zip(self.pieces, self.piece_ranges):
            if not piece.requires_grad or (self.use_orig_params and length == 0):
                grads.append(None)
            else:
                grads.append(shard_grad[start : start + length].reshape(piece.shape).clone())
        return grads

    # -- the original parameters --------------------------------------------------------------------
    def views(self, full: Tensor) -> list[Tensor]:
        """Each original parameter, shaped, as a view of the full flat tensor ``full``."""
        return [full[i.offset : i.offset + i.numel].view(i.shape) for i in self.infos]
