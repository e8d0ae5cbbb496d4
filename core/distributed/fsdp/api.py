"""The configuration types of :class:`~ember.distributed.fsdp.FullyShardedDataParallel`, named as in
``torch.distributed.fsdp.api``: the sharding strategy, mixed precision, CPU offload, prefetch
settings and the state-dict types with their configurations."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto
from typing import Any, NamedTuple

from ...nn.modules.batchnorm import _BatchNorm

__all__ = [
    "BackwardPrefetch",
    "CPUOffload",
    "FullOptimStateDictConfig",
    "FullStateDictConfig",
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


class ShardingStrategy(Enum):
    """How :class:`FullyShardedDataParallel` shards parameters, gradients and optimizer states.

    - ``FULL_SHARD``: parameters, gradients and optimizer states are sharded (ZeRO-3).
    - ``SHARD_GRAD_OP``: gradients and optimizer states are sharded (ZeRO-2).
    - ``NO_SHARD``: nothing is sharded; gradients are all-reduced as in DistributedDataParallel.
    - ``HYBRID_SHARD``, ``_HYBRID_SHARD_ZERO2``: shard within a node and replicate across nodes
      (not supported by ember: NotImplementedError).

    The strategies give the same numbers. In ember the whole parameters a unit gathers for forward
    stay referenced by the autograd graph until its backward, under ``FULL_SHARD`` too (PyTorch
    frees them after forward and gathers them again for backward); between steps only the shards
    are kept under both sharded strategies.

    Example::

        >>> from ember.distributed.fsdp import ShardingStrategy
        >>> ShardingStrategy.FULL_SHARD
        <ShardingStrategy.FULL_SHARD: 1>
    """

    FULL_SHARD = auto()
    SHARD_GRAD_OP = auto()
    NO_SHARD = auto()
    HYBRID_SHARD = auto()
    _HYBRID_SHARD_ZERO2 = auto()


class BackwardPrefetch(Enum):
    """When the next unit's parameters are all-gathered in backward (a scheduling hint; ember's
    collectives run in order, so every value gives the same numbers)."""

    BACKWARD_PRE = auto()
    BACKWARD_POST = auto()


@dataclass
class MixedPrecision:
    """FSDP's native mixed precision: the dtypes used for computation, gradient reduction and buffers.

    The sharded parameters stay in their own dtype (float32 as a rule); ``param_dtype`` is the
    dtype they are all-gathered in and the forward and backward compute in, ``reduce_dtype``
    the dtype gradients are reduce-scattered in (``param_dtype`` when only that is given), and
    ``buffer_dtype`` the dtype buffers are cast to. The reduced gradient is cast back to the
    parameter's dtype, so the optimizer steps in full precision.

    Args:
        param_dtype (ember.dtype, optional): computation dtype. Default: ``None`` (the parameters').
        reduce_dtype (ember.dtype, optional): gradient reduction dtype. Default: ``None``.
        buffer_dtype (ember.dtype, optional): buffer dtype. Default: ``None``.
        keep_low_precision_grads (bool): accepted for PyTorch's signature. Default: ``False``.
        cast_forward_inputs (bool): cast the floating-point inputs of every FSDP unit's forward to
            ``param_dtype``. Default: ``False``.
        cast_root_forward_inputs (bool): cast the root unit's floating-point inputs. Default: ``True``.
        _module_classes_to_ignore (tuple of type): with an ``auto_wrap_policy``, modules of these
            classes become units of their own without mixed precision, their inputs cast to
            float32 and their outputs back. Default: ``(nn.modules.batchnorm._BatchNorm,)``.

    Example::

        >>> from ember.distributed.fsdp import MixedPrecision
        >>> MixedPrecision(param_dtype=ember.bfloat16).reduce_dtype is None
        True
    """

    param_dtype: Any = None
    reduce_dtype: Any = None
    buffer_dtype: Any = None
    keep_low_precision_grads: bool = False
    cast_forward_inputs: bool = False
    cast_root_forward_inputs: bool = True
    _module_classes_to_ignore: tuple[type, ...] = (_BatchNorm,)


@dataclass
class CPUOffload:
    """Whether to keep the sharded parameters and their gradients in host memory between uses.

    Accepted as in PyTorch; ember's sharded parameters stay on the device they were given on.

    Args:
        offload_params (bool): offload parameters (and gradients) to the CPU. Default: ``False``.
    """

    offload_params: bool = False


class StateDictType(Enum):
    """Which state dict :meth:`FullyShardedDataParallel.state_dict` returns: ``FULL_STATE_DICT``
    (the whole model under its original parameter names), ``LOCAL_STATE_DICT`` or
    ``SHARDED_STATE_DICT`` (not supported by ember: NotImplementedError)."""

    FULL_STATE_DICT = auto()
    LOCAL_STATE_DICT = auto()
    SHARDED_STATE_DICT = auto()


@dataclass
class StateDictConfig:
    """Base of the state-dict configurations.

    Args:
        offload_to_cpu (bool): return the tensors on the CPU. Default: ``False``.
    """

    offload_to_cpu: bool = False


@dataclass
class FullStateDictConfig(StateDictConfig):
    """The configuration of ``FULL_STATE_DICT``.

    Args:
        offload_to_cpu (bool): return the tensors on the CPU. Default: ``False``.
        rank0_only (bool): only rank 0 gets the state dict; the other ranks get an empty dict
            (and, loading, only rank 0's is read). Default: ``False``.

    Example::

        >>> from ember.distributed.fsdp import FullStateDictConfig
        >>> FullStateDictConfig(offload_to_cpu=True, rank0_only=True)
        FullStateDictConfig(offload_to_cpu=True, rank0_only=True)
    """

    rank0_only: bool = False


@dataclass
class LocalStateDictConfig(StateDictConfig):
    """The configuration of ``LOCAL_STATE_DICT``."""


@dataclass
class ShardedStateDictConfig(StateDictConfig):
    """The configuration of ``SHARDED_STATE_DICT``."""

    _use_dtensor: bool = False


@dataclass
class OptimStateDictConfig:
    """Base of the optimizer state-dict configurations."""

    offload_to_cpu: bool = True


@dataclass
class FullOptimStateDictConfig(OptimStateDictConfig):
    """The configuration of the full optimizer state dict (see ``FullStateDictConfig``)."""

    rank0_only: bool = False


@dataclass
class LocalOptimStateDictConfig(OptimStateDictConfig):
    """The configuration of the local optimizer state dict."""

    offload_to_cpu: bool = False


@dataclass
class ShardedOptimStateDictConfig(OptimStateDictConfig):
    """The configuration of the sharded optimizer state dict."""

    _use_dtensor: bool = False


class StateDictSettings(NamedTuple):
    """What :meth:`FullyShardedDataParallel.set_state_dict_type` sets (and returns, for the previous one)."""

    state_dict_type: StateDictType
    state_dict_config: StateDictConfig
    optim_state_dict_config: OptimStateDictConfig
