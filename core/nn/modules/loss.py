"""loss modules (to be filled)."""

__all__ = []
