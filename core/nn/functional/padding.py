"""Functional padding (to be filled)."""

__all__ = []
