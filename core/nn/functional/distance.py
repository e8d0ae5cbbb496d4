"""Functional distance (to be filled)."""

__all__ = []
