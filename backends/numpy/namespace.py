"""NumPy as an array namespace (see :func:`ember.backends.numpylike.build_namespace`)."""

from __future__ import annotations

import numpy as np

from ember.backends.numpylike import build_namespace

__all__ = ["namespace"]

namespace = build_namespace(np, "ember.backends.numpy.namespace")
