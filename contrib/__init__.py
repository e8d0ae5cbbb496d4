"""Models, datasets, data loading, the training loop and the command line."""

from .summary import summary

__all__ = ["summary"]
