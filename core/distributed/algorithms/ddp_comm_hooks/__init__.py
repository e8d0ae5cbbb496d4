"""DDP communication hooks: functions ``hook(state, bucket) -> Future[Tensor]`` that
:meth:`~ember.nn.parallel.DistributedDataParallel.register_comm_hook` runs for each gradient
bucket instead of its own averaging all-reduce. PyTorch's stock hooks are in
:mod:`~ember.distributed.algorithms.ddp_comm_hooks.default_hooks`."""

from . import default_hooks

__all__ = ["default_hooks"]
