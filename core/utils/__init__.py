"""Utilities beside the tensor library: :mod:`ember.utils.data` (datasets and loaders),
:mod:`ember.utils.checkpoint` (activation checkpointing), :mod:`ember.utils.dlpack` (DLPack
exchange), ``ember.utils._pytree`` (nested containers), :func:`~ember.utils.swap_tensors` and, imported on demand as in PyTorch,
:mod:`ember.utils.benchmark` (timing), :mod:`ember.utils.model_zoo` (``load_url``) and
:mod:`ember.utils.tensorboard` (``SummaryWriter``, with the optional ``tensorboard`` package)."""

from . import _pytree, checkpoint, data, dlpack
from ._swap import swap_tensors

__all__ = ["checkpoint", "data", "dlpack", "swap_tensors"]
