"""Utilities beside the tensor library: :mod:`ember.utils.data` (datasets and loaders)."""

from . import data

__all__ = ["data"]
