"""Functional pooling (to be filled)."""

__all__ = []
