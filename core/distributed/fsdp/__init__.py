"""``ember.distributed.fsdp``: Fully Sharded Data Parallel, as ``torch.distributed.fsdp``.

:class:`FullyShardedDataParallel` shards a module's parameters, gradients and optimizer state
over the ranks of a process group; :mod:`ember.distributed.fsdp.wrap` holds the auto-wrap
policies that make FSDP units of submodules. Run under ``mpiexec -n N`` after
``ember.distributed.init_process_group``::

    from ember.distributed.fsdp import FullyShardedDataParallel as FSDP, ShardingStrategy
    model = FSDP(model, sharding_strategy=ShardingStrategy.FULL_SHARD)
    optimizer = ember.optim.AdamW(model.parameters(), lr=1e-3)   # steps on this rank's shard
"""

from __future__ import annotations

from .api import (
    BackwardPrefetch,
    CPUOffload,
    FullOptimStateDictConfig,
    FullStateDictConfig,
    LocalOptimStateDictConfig,
    LocalStateDictConfig,
    MixedPrecision,
    OptimStateDictConfig,
    ShardedOptimStateDictConfig,
    ShardedStateDictConfig,
    ShardingStrategy,
    StateDictConfig,
    StateDictSettings,
    StateDictType,
)
from .fully_sharded_data_parallel import FullyShardedDataParallel

__all__ = [
    "BackwardPrefetch",
    "CPUOffload",
    "FullOptimStateDictConfig",
    "FullStateDictConfig",
    "FullyShardedDataParallel",
    "LocalOptimStateDictConfig",
    "LocalStateDictConfig",
    "MixedPrecision",
    "OptimStateDictConfig",
    "ShardedOptimStateDictConfig",
    "ShardedStateDictConfig",
    "ShardingStrategy",
    "StateDictConfig",
    "StateDictSettings",
    "StateDictType",
]
