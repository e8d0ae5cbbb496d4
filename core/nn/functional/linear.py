"""Functional linear (to be filled)."""

__all__ = []
