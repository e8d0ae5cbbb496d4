"""``SyncBatchNorm`` and ``ChannelShuffle``: the batch norm that distributed training converts
to, and the channel interleaving of ShuffleNet."""

from __future__ import annotations

from typing import Any

from ... import distributed
from ...tensor import Tensor
from .. import functional as F
from ..common_types import _device_t, _dtype_t
from .batchnorm import _BatchNorm
from .module import Module

__all__ = ["SyncBatchNorm", "ChannelShuffle"]


class SyncBatchNorm(_BatchNorm):
    r"""Batch normalization over any :math:`(N, C, *)` input whose statistics, in training, are
    those of the whole batch across the processes of ``process_group``.

    Without an initialized process group (and in evaluation) it is :class:`BatchNorm1d`/``2d``/``3d``,
    as PyTorch's. With one, PyTorch synchronises only accelerator tensors: a training forward on a
    host device raises ValueError there, and does here; ember does not synchronise statistics across
    processes yet, so on an accelerator with more than one process it raises NotImplementedError.

    Args:
        num_features (int): :math:`C` of an input of size :math:`(N, C, *)`.
        eps (float): added to the variance for numerical stability. Default: ``1e-5``.
        momentum (float, optional): factor of the running statistics (``None``: cumulative average). Default: ``0.1``.
        affine (bool): learn a weight and bias. Default: ``True``.
        track_running_stats (bool): keep running statistics. Default: ``True``.
        process_group (optional): the processes whose statistics are combined. Default: the whole world.

    Example::

        >>> m = nn.SyncBatchNorm(3)
        >>> m(ember.randn(4, 3, 5)).shape
        ember.Size([4, 3, 5])
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        process_group: Any = None,
        device: _device_t = None,
        dtype: _dtype_t = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        if input.shape[1] == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")
        if self.training and distributed.is_available() and distributed.is_initialized():
            if input._backend.on_host:
                raise ValueError("SyncBatchNorm expected input tensor to be on GPU or XPU or privateuseone")
            if distributed.get_world_size(self.process_group) > 1:
                raise NotImplementedError("SyncBatchNorm: ember does not synchronise batch statistics across processes")
        return super().forward(input)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """``module`` with every batch-norm layer in it replaced by a :class:`SyncBatchNorm` that shares
        its parameters and running statistics.

        Args:
            module (nn.Module): the module (or a batch-norm layer itself).
            process_group (optional): the process group of the new layers. Default: the whole world.

        Example::

            >>> net = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4))
            >>> type(nn.SyncBatchNorm.convert_sync_batchnorm(net)[1]).__name__
            'SyncBatchNorm'
        """
        output = module
        if isinstance(module, _BatchNorm):
            output = cls(
                module.num_features,
                module.eps,
                module.momentum,
                module.affine,
                module.track_running_stats,
                process_group,
            )
            if module.affine:
                output.weight = module.weight
                output.bias = module.bias
            output.running_mean = module.running_mean
            output.running_var = module.running_var
            output.num_batches_tracked = module.num_batches_tracked
            output.training = module.training
            if hasattr(module, "qconfig"):
                output.qconfig = module.qconfig
        for name, child in module.named_children():
            output.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        del module
        return output


class ChannelShuffle(Module):
    r"""Split the channels of :math:`(N, C, *)` into ``groups`` groups and interleave them
    (:func:`~ember.nn.functional.channel_shuffle`).

    Args:
        groups (int): the number of groups; :math:`C` must be divisible by it.

    Example::

        >>> nn.ChannelShuffle(2)(ember.arange(4.0).reshape(1, 4, 1)).flatten()
        tensor([0., 2., 1., 3.])
    """

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
