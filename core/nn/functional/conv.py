"""Functional conv (to be filled)."""

__all__ = []
