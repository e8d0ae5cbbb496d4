"""Weight initialisation (to be filled)."""

__all__ = []
