"""nn.utils: clip_grad (to be filled)."""

__all__ = []
