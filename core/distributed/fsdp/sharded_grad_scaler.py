"""``ShardedGradScaler``: the gradient scaler of mixed-precision FSDP training, whose inf/NaN check
covers every rank's shard (``torch.distributed.fsdp.sharded_grad_scaler``)."""

from __future__ import annotations

from typing import Any

from ... import distributed as dist
from ...amp.grad_scaler import GradScaler
from ...tensor import Tensor

__all__ = ["ShardedGradScaler"]


class ShardedGradScaler(GradScaler):
    """A :class:`ember.amp.GradScaler` for sharded gradients: after unscaling, the found-inf flags
    are all-reduced over ``process_group``, so that every rank skips the step (and backs the scale
    off) when any rank's shard of the gradient holds an inf or NaN -- the ranks' shards then stay
    one model. Float16 gradients (FSDP's ``reduce_dtype``) may be unscaled.

    Args:
        device (str): the device type of the scale. Default: ``"cuda"``.
        init_scale (float): the initial scale. Default: ``2.0**16``.
        backoff_factor (float): the factor of the scale after an inf/NaN. Default: ``0.5``.
        growth_factor (float): the factor of the scale after ``growth_interval`` clean steps.
            Default: ``2.0``.
        growth_interval (int): clean steps before the scale grows. Default: ``2000``.
        enabled (bool): ``False`` makes every method a no-op (``step`` just steps). Default: ``True``.
        process_group (ProcessGroup, optional): the ranks whose flags are combined.
            Default: the default group.

    Example::

        >>> scaler = ShardedGradScaler("cpu")                 # doctest: +SKIP
        >>> scaler.scale(loss).backward()
        >>> scaler.step(optimizer)                           # skipped on every rank if any rank overflowed
        >>> scaler.update()
    """

    def __init__(
        self,
        device: str = "cuda",
        init_scale: float = 2.0**16,
        backoff_factor: float = 0.5,
        growth_factor: float = 2.0,
        growth_interval: int = 2000,
        enabled: bool = True,
        process_group: Any = None,
    ) -> None:
        super().__init__(
            device,
            init_scale=init_scale,
            growth_factor=growth_factor,
            backoff_factor=backoff_factor,
            growth_interval=growth_interval,
            enabled=enabled,
        )
        self.process_group = process_group

    _unscales_float16 = True  # FSDP's reduce_dtype may be float16

    def _combined_found_inf(self, found: dict[Any, Tensor], found_inf: Tensor) -> dict[Any, Tensor]:
        """The found-inf flags all-reduced over the ranks of ``process_group`` (a rank with no gradient
        still joins with its zero flag)."""
        found = found or {found_inf.device: found_inf}
        for flag in found.values():
            dist.all_reduce(flag, group=self.process_group)
        return found
