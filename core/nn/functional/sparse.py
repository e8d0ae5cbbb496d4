"""Functional sparse (to be filled)."""

__all__ = []
