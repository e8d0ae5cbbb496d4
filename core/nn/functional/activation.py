"""Functional activation (to be filled)."""

__all__ = []
