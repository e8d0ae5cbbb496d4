"""Functional dropout (to be filled)."""

__all__ = []
