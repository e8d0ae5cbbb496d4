"""PyTorch's stock DDP communication hooks: the plain averaging all-reduce, and all-reduces of the
gradients compressed to float16 or bfloat16 (half the bytes on the wire, the average rounded to
that precision).

Example::

    >>> from ember.distributed.algorithms.ddp_comm_hooks import default_hooks
    >>> ddp_model.register_comm_hook(None, default_hooks.fp16_compress_hook)   # under mpiexec
"""

from collections.abc import Callable
from typing import Any

from ....dtypes import bfloat16, float16
from ....dtypes import dtype as _dtype
from ....futures import Future
from ....tensor import Tensor
from ... import GradBucket, ProcessGroup, all_reduce, group
from ...process_group import _NOT_INITIALIZED

__all__ = [
    "allreduce_hook",
    "bf16_compress_hook",
    "bf16_compress_wrapper",
    "fp16_compress_hook",
    "fp16_compress_wrapper",
]

_Hook = Callable[[Any, GradBucket], Future[Tensor]]


def _averaged(process_group: ProcessGroup | None, tensor: Tensor) -> Future[list[Tensor]]:
    """Start the all-reduce of ``tensor`` divided by the group's size: a future of ``[tensor]``."""
    ranks = process_group if process_group is not None else group.WORLD
    if ranks is None:
        raise ValueError(_NOT_INITIALIZED)
    tensor.div_(ranks.size())
    work = all_reduce(tensor, group=ranks, async_op=True)
    if work is None:  # all_reduce skips a rank outside the group; a group object is only its members'
        raise RuntimeError("DDP communication hook: this rank is not a member of process_group")
    return work.get_future()


def allreduce_hook(process_group: ProcessGroup | None, bucket: GradBucket) -> Future[Tensor]:
    """Average the bucket over the ranks of ``process_group`` (the default group for ``None``) with
    one all-reduce: what DDP does without a hook, as a hook to start from.

    Args:
        process_group (ProcessGroup or None): the hook's state, the ranks to average over.
        bucket (GradBucket): the gradients.
    """
    return _averaged(process_group, bucket.buffer()).then(lambda fut: fut.value()[0])


def _compress_hook(dtype: _dtype, process_group: ProcessGroup | None, bucket: GradBucket) -> Future[Tensor]:
    buffer = bucket.buffer()

    def decompress(fut: Future[list[Tensor]]) -> Tensor:
        buffer.copy_(fut.value()[0])
        return buffer

    return _averaged(process_group, buffer.to(dtype)).then(decompress)


def fp16_compress_hook(process_group: ProcessGroup | None, bucket: GradBucket) -> Future[Tensor]:
    """Average the bucket in float16: cast, divide by the group's size, all-reduce, cast back.

    Args:
        process_group (ProcessGroup or None): the hook's state, the ranks to average over.
        bucket (GradBucket): the gradients.
    """
    return _compress_hook(float16, process_group, bucket)


def bf16_compress_hook(process_group: ProcessGroup | None, bucket: GradBucket) -> Future[Tensor]:
    """Average the bucket in bfloat16: cast, divide by the group's size, all-reduce, cast back.

    Args:
        process_group (ProcessGroup or None): the hook's state, the ranks to average over.
        bucket (GradBucket): the gradients.
    """
    return _compress_hook(bfloat16, process_group, bucket)


def _compress_wrapper(dtype: _dtype, hook: _Hook) -> _Hook:
    def compress_wrapper_hook(hook_state: Any, bucket: GradBucket) -> Future[Tensor]:
        bucket.set_buffer(bucket.buffer().to(dtype))

        def decompress(fut: Future[Tensor]) -> Tensor:
            result = bucket.buffer()
            result.copy_(fut.value())
            return result

        return hook(hook_state, bucket).then(decompress)

    return compress_wrapper_hook


def fp16_compress_wrapper(hook: _Hook) -> _Hook:
    """``hook`` run on the bucket cast to float16, its result cast back by DDP:
    ``fp16_compress_wrapper(allreduce_hook)`` is :func:`fp16_compress_hook`.

    Args:
        hook (callable): a communication hook.
    """
    return _compress_wrapper(float16, hook)


def bf16_compress_wrapper(hook: _Hook) -> _Hook:
    """``hook`` run on the bucket cast to bfloat16, its result cast back by DDP.

    Args:
        hook (callable): a communication hook.
    """
    return _compress_wrapper(bfloat16, hook)
