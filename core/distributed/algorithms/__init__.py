"""``ember.distributed.algorithms``: PyTorch's add-ons to data parallelism; here its DDP
communication hooks (:mod:`~ember.distributed.algorithms.ddp_comm_hooks`)."""

from . import ddp_comm_hooks

__all__ = ["ddp_comm_hooks"]
