"""Portable kernel of the embedding's weight gradient: rows of the output gradient summed into
the weight rows their indices name."""

from __future__ import annotations

__all__ = ["EmbeddingKernels"]


class EmbeddingKernels:
    def embedding_backward(self, grad, indices, num_weights):
        """``(num_weights, D)`` zeros plus each row ``grad[k]`` (``grad``: ``(N, D)``) added into row
        ``indices[k]`` (``indices``: ``(N,)`` int64), the rows of one index in the order given."""
        xp = self.xp
        width = grad.shape[1]
        positions = xp.reshape(
            xp.reshape(indices * width, (-1, 1)) + xp.reshape(xp.arange(width, dtype=indices.dtype), (1, -1)), (-1,)
        )
        flat = xp.zeros((num_weights * width,), dtype=grad.dtype)
        self.backend.scatter_add(flat, 0, positions, xp.reshape(grad, (-1,)))
        return xp.reshape(flat, (num_weights, width))
