"""Functional loss (to be filled)."""

__all__ = []
