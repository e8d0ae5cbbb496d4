"""Functional normalization (to be filled)."""

__all__ = []
