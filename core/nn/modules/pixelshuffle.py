"""pixelshuffle modules (to be filled)."""

__all__ = []
