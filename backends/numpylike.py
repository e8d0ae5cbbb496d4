"""Where :func:`build_namespace` used to live; it is part of the backend contract now
(:func:`ember.backend.build_namespace`), and this name stays for the imports that use it."""

from ember.backend import build_namespace

__all__ = ["build_namespace"]
