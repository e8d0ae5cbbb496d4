"""``ember.quantization``: PyTorch's older name of :mod:`ember.ao.quantization` (``torch.quantization``),
the same objects under it.

Example::

    >>> import ember.quantization
    >>> ember.quantization.QuantStub is ember.ao.quantization.QuantStub
    True
"""

from __future__ import annotations

from .ao.quantization import *  # noqa: F403
from .ao.quantization import __all__ as __all__
