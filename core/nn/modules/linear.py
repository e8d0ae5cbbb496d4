"""linear modules (to be filled)."""

__all__ = []
