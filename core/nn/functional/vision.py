"""Functional vision (to be filled)."""

__all__ = []
