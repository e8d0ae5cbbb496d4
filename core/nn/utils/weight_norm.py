"""nn.utils: weight_norm (to be filled)."""

__all__ = []
