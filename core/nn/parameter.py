"""Parameters: tensors that a Module registers and optimizers update (to be filled)."""

__all__ = []
