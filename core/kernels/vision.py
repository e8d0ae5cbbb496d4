"""Portable vision kernels: gathering and scatter-adding along one axis.

Padding (reflect, replicate, circular), nearest and (bi/tri)linear/bicubic interpolation
are separable: each spatial axis is resampled by picking slices along it with an integer
index vector. ``take_axis`` is that gather and ``take_axis_backward`` its adjoint, which
accumulates the slices back where they came from (repeated indices add up).
"""

from __future__ import annotations

from .unsignalling import unsignalling

__all__ = ["VisionKernels"]


class VisionKernels:
    """Portable default vision kernels, written against ``self.xp`` only."""

    @unsignalling
    def take_axis(self, x, index, axis):
        """``x`` with its slices along ``axis`` picked by the 1-D integer ``index``."""
        return self.xp.take(x, index, axis=axis)

    def take_axis_backward(self, grad, index, axis, size):
        """The adjoint of :meth:`take_axis`: slices of ``grad`` summed into ``size`` rows of ``axis``."""
        xp = self.xp
        shape = list(grad.shape)
        shape[axis] = size
        out = xp.zeros(tuple(shape), dtype=grad.dtype)
        view = [1] * len(shape)
        view[axis] = index.shape[0]
        full_index = xp.broadcast_to(xp.reshape(index, tuple(view)), grad.shape)
        self.backend.scatter_add(out, axis, full_index, grad)
        return out

    @unsignalling
    def gather_points(self, x, index):
        """``out[n, c, p] = x[n, c, index[n, p]]`` for ``x`` of shape ``(N, C, L)``, ``index`` ``(N, P)``."""
        xp = self.xp
        n, c = x.shape[0], x.shape[1]
        full_index = xp.broadcast_to(xp.expand_dims(index, axis=1), (n, c, index.shape[1]))
        return xp.take_along_axis(x, full_index, axis=2)

    def gather_points_backward(self, grad, index, length):
        """The adjoint of :meth:`gather_points`: ``grad`` ``(N, C, P)`` summed into ``(N, C, length)``."""
        xp = self.xp
        n, c = grad.shape[0], grad.shape[1]
        out = xp.zeros((n, c, length), dtype=grad.dtype)
        full_index = xp.broadcast_to(xp.expand_dims(index, axis=1), grad.shape)
        self.backend.scatter_add(out, 2, full_index, grad)
        return out
