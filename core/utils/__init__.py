"""Utilities beside the tensor library: :mod:`ember.utils.data` (datasets and loaders),
:mod:`ember.utils.checkpoint` (activation checkpointing), :mod:`ember.utils.dlpack` (DLPack
exchange), ``ember.utils._pytree`` (nested containers) and, imported on demand as in PyTorch,
:mod:`ember.utils.benchmark` (timing) and :mod:`ember.utils.model_zoo` (``load_url``)."""

from . import _pytree, checkpoint, data, dlpack

__all__ = ["checkpoint", "data", "dlpack"]
