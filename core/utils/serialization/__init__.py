"""``torch.utils.serialization`` for ember: :mod:`ember.utils.serialization.config`, the settings of
:func:`ember.save` and :func:`ember.load`."""

from . import config

__all__ = ["config"]
