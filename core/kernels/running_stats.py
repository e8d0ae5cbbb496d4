"""Portable kernel of the normalization layers' running statistics: the in-place momentum update."""

from __future__ import annotations

__all__ = ["RunningStatsKernels"]


class RunningStatsKernels:
    def running_update(self, running, batch_stat, momentum, scale):
        """``running = (1 - momentum) * running + momentum * scale * batch_stat``, in place.

        ``scale`` is Bessel's correction ``n / (n - 1)`` for the running variance, 1 for the mean.
        """
        running[...] = running * (1 - momentum) + batch_stat * (momentum * scale)
