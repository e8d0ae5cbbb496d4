"""Utilities beside the tensor library: :mod:`ember.utils.data` (datasets and loaders),
:mod:`ember.utils.checkpoint` (activation checkpointing)."""

from . import _pytree, checkpoint, data, dlpack

__all__ = ["checkpoint", "data", "dlpack"]
