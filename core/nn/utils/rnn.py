"""nn.utils: rnn (to be filled)."""

__all__ = []
