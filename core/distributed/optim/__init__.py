"""``ember.distributed.optim``: optimizers that spread their work over the ranks of a job."""

from .zero_redundancy_optimizer import ZeroRedundancyOptimizer

__all__ = ["ZeroRedundancyOptimizer"]
