"""Utilities beside the tensor library: :mod:`ember.utils.data` (datasets and loaders),
:mod:`ember.utils.checkpoint` (activation checkpointing), :mod:`ember.utils.dlpack` (DLPack
exchange), ``ember.utils._pytree`` (nested containers) and, imported on demand as in PyTorch,
:mod:`ember.utils.benchmark` (timing), :mod:`ember.utils.model_zoo` (``load_url``) and
:mod:`ember.utils.tensorboard` (``SummaryWriter``, with the optional ``tensorboard`` package)."""

from . import _pytree, checkpoint, data, dlpack

__all__ = ["checkpoint", "data", "dlpack"]
