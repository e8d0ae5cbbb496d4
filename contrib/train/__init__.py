"""The training loop: :func:`fit` and :func:`evaluate`, with progress, checkpoints, exact resume and plots."""

from .loop import CHECKPOINT_NAME, evaluate, fit
from .plot import plot_history

__all__ = ["fit", "evaluate", "plot_history", "CHECKPOINT_NAME"]
