"""``torch._inductor`` for ember: its :mod:`~ember._inductor.config`, which PyTorch programs tune
before ``torch.compile`` (ember runs eagerly, see :mod:`ember.compiler`)."""

from . import config

__all__ = ["config"]
