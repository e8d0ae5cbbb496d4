"""``ember.quasirandom``: the Sobol low-discrepancy sequence, PyTorch's ``torch.quasirandom``.

:class:`SobolEngine` draws the same points as ``torch.quasirandom.SobolEngine``, bit for bit,
scrambled or not: the direction numbers are Joe and Kuo's (``new-joe-kuo-6.21201``, the table
PyTorch compiles in, up to 21201 dimensions) and the scrambling draws its random bits from
:func:`ember.randint` in PyTorch's order, so one seed gives PyTorch's scrambled sequence.

The table ships as the package file ``sobol_direction_numbers.npz`` (386 KB): ``poly`` holds
each dimension's primitive polynomial (its bits, degree ``m`` = bit length - 1) and ``m1`` ...
``m17`` the ``i``-th initial direction number of the dimensions whose degree exceeds ``i``
(degrees never decrease, so those are the last dimensions), stored without its lowest bit
(always 1) as ``i`` bits each, packed little-endian. The 0-th initial number is always 1.
"""

from __future__ import annotations

import functools
import os

import numpy as np

from . import dtypes
from .ops.creation import arange, randint, zeros
from .ops.dtype_support import TORCH_NAMES
from .ops.linalg import matmul, mv
from .ops.matrix import tril
from .ops.movement import cat
from .random import Generator
from .tensor import Tensor, from_numpy

__all__ = ["SobolEngine"]

_MAXBIT = 30
_MAXDEG = 18
_TABLE_FILE = os.path.join(os.path.dirname(__file__), "sobol_direction_numbers.npz")


@functools.cache
def _joe_kuo_table() -> tuple[np.ndarray, np.ndarray]:
    """(poly, initial direction numbers ``(21201, 18)``) unpacked from the package file."""
    with np.load(_TABLE_FILE) as packed:
        poly = packed["poly"].astype(np.int64)
        initial = np.zeros((poly.shape[0], _MAXDEG), dtype=np.int64)
        initial[:, 0] = 1
        for i in range(1, _MAXDEG):
            bits = np.unpackbits(packed[f"m{i}"], bitorder="little")
            rows = np.count_nonzero(_degrees(poly) > i)
            column = bits[: rows * i].reshape(rows, i).astype(np.int64) << np.arange(i)
            initial[poly.shape[0] - rows :, i] = 2 * column.sum(axis=1) + 1
    return poly, initial


def _degrees(poly: np.ndarray) -> np.ndarray:
    return np.frexp(poly.astype(np.float64))[1].astype(np.int64) - 1


def _direction_numbers(dimension: int) -> np.ndarray:
    """The ``(dimension, 30)`` direction numbers, each scaled to 30 bits (PyTorch's ``sobolstate``)."""
    poly, initial = _joe_kuo_table()
    poly, degree = poly[:dimension], _degrees(poly[:dimension])
    state = np.zeros((dimension, _MAXBIT), dtype=np.int64)
    state[:, :_MAXDEG] = initial[:dimension]
    for j in range(1, _MAXBIT):
        # Bratley and Fox (1988), section 2: v_j = v_{j-m} ^ (v_{j-m} << m) ^ XOR_k a_k (v_{j-k} << k)
        rows = np.flatnonzero(degree <= j)
        m, p = degree[rows], poly[rows]
        value = state[rows, j - m]
        for k in range(min(j, _MAXDEG)):
            taken = (k < m) & (((p >> np.maximum(m - 1 - k, 0)) & 1) == 1)
            value = np.where(taken, value ^ (state[rows, j - k - 1] << (k + 1)), value)
        state[rows, j] = value
    state[0] = 1
    return state << np.arange(_MAXBIT - 1, -1, -1)


class SobolEngine:
    r"""Draws points of a (scrambled) Sobol sequence of low discrepancy in :math:`[0, 1)^{d}`.

    The points are PyTorch's, bit for bit: the same direction numbers (Joe and Kuo, up to 21201
    dimensions), the same Gray-code order, and with ``scramble=True`` the same random linear
    matrix scrambling and digital shift, drawn from :func:`ember.randint` with a generator
    seeded by ``seed`` (the default generator when ``seed`` is ``None``).

    Args:
        dimension (int): the dimensionality of the sequence, 1 to 21201.
        scramble (bool, optional): scramble the sequence. Default: ``False``.
        seed (int, optional): the seed of the scrambling. Default: ``None``.

    Examples::

        >>> soboleng = ember.quasirandom.SobolEngine(dimension=5)
        >>> soboleng.draw(3)
        tensor([[0.0000, 0.0000, 0.0000, 0.0000, 0.0000],
                [0.5000, 0.5000, 0.5000, 0.5000, 0.5000],
                [0.7500, 0.2500, 0.2500, 0.2500, 0.7500]])
    """

    MAXBIT = _MAXBIT
    MAXDIM = 21201

    def __init__(self, dimension: int, scramble: bool = False, seed: int | None = None) -> None:
        if dimension > self.MAXDIM or dimension < 1:
            raise ValueError(f"Supported range of dimensionality for SobolEngine is [1, {self.MAXDIM}]")
        self.seed = seed
        self.scramble = scramble
        self.dimension = dimension
        self.sobolstate = from_numpy(_direction_numbers(dimension))
        if scramble:
            self._scramble()
        else:
            self.shift = zeros(dimension, dtype=dtypes.int64)
        self.quasi = self.shift.clone()
        self._first_point = (self.quasi / 2**self.MAXBIT).reshape(1, -1)
        self.num_generated = 0

    def draw(self, n: int = 1, out: Tensor | None = None, dtype: dtypes.dtype | None = None) -> Tensor:
        r"""The next ``n`` points of the sequence, as an ``(n, dimension)`` tensor.

        Args:
            n (int, optional): the number of points. Default: ``1``.
            out (Tensor, optional): resized to the result and filled with it.
            dtype (:class:`ember.dtype`, optional): the floating dtype of the points.
                Default: the default floating dtype.
        """
        dtype = dtype if dtype is not None else dtypes.get_default_dtype()
        if self.num_generated == 0 and n == 1:
            result = self._first_point.to(dtype)
        elif self.num_generated == 0:
            result = cat((self._first_point.to(dtype), self._next_points(n - 1, 0, dtype)), dim=-2)
        else:
            result = self._next_points(n, self.num_generated - 1, dtype)
        self.num_generated += n
        if out is not None:
            out.resize_as_(result).copy_(result)
            return out
        return result

    def draw_base2(self, m: int, out: Tensor | None = None, dtype: dtypes.dtype | None = None) -> Tensor:
        r"""The next ``2**m`` points; the points drawn so far and these must number a power of 2.

        Args:
            m (int): the base-2 logarithm of the number of points.
            out (Tensor, optional): resized to the result and filled with it.
            dtype (:class:`ember.dtype`, optional): the floating dtype of the points.
                Default: the default floating dtype.
        """
        n = 2**m
        total_n = self.num_generated + n
        if total_n & (total_n - 1) != 0:
            raise ValueError(
                "The balance properties of Sobol' points require "
                f"n to be a power of 2. {self.num_generated} points have been "
                f"previously generated, then: n={self.num_generated}+2**{m}={total_n}. "
                "If you still want to do this, please use "
                "'SobolEngine.draw()' instead."
            )
        return self.draw(n=n, out=out, dtype=dtype)

    def reset(self) -> SobolEngine:
        r"""Rewinds the engine to its first point."""
        self.quasi.copy_(self.shift)
        self.num_generated = 0
        return self

    def fast_forward(self, n: int) -> SobolEngine:
        r"""Skips the next ``n`` points.

        Args:
            n (int): the number of points to skip.
        """
        steps = n - 1 if self.num_generated == 0 else n
        if steps > 0:
            self.quasi = self._states_after(steps, max(self.num_generated - 1, 0))[-1].clone()
        self.num_generated += n
        return self

    def _states_after(self, n: int, index: int) -> Tensor:
        """``(n, dimension)``: the integer states of points ``index + 1 ... index + n``, ``self.quasi``
        being point ``index``'s. Point ``i`` is the shift XOR the direction numbers of the bits
        of ``i``'s Gray code, so ``quasi`` XOR those of ``gray(i) ^ gray(index)`` gives it."""
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}, {self.dimension}]")
        following = arange(index + 1, index + n + 1)
        flipped = following ^ (following >> 1) ^ (index ^ (index >> 1))
        states = self.quasi.expand(n, self.dimension)
        for bit in range((index + n).bit_length()):
            states = states ^ ((flipped >> bit) & 1).unsqueeze(1) * self.sobolstate[:, bit]
        return states

    def _next_points(self, n: int, index: int, dtype: dtypes.dtype) -> Tensor:
        if dtype not in (dtypes.float32, dtypes.float64):
            raise NotImplementedError(f"\"_sobol_engine_draw\" not implemented for '{TORCH_NAMES[dtype]}'")
        states = self._states_after(n, index)
        if n > 0:
            self.quasi = states[-1].clone()
        return states.to(dtype) * 2.0**-self.MAXBIT

    def _scramble(self) -> None:
        generator = None
        if self.seed is not None:
            generator = Generator()
            generator.manual_seed(self.seed)
        shift_bits = randint(2, (self.dimension, self.MAXBIT), generator=generator)
        self.shift = mv(shift_bits, 2 ** arange(0, self.MAXBIT))
        # A random lower triangular matrix with a unit diagonal per dimension multiplies each
        # direction number's bits (most significant first) over GF(2).
        mixing = tril(randint(2, (self.dimension, self.MAXBIT, self.MAXBIT), generator=generator))
        mixing.diagonal(0, -2, -1).fill_(1)
        msb_first = arange(self.MAXBIT - 1, -1, -1)
        bits = (self.sobolstate.unsqueeze(-1) >> msb_first) & 1
        mixed = matmul(bits, mixing.transpose(-1, -2)) % 2
        self.sobolstate = matmul(mixed, 2**msb_first)

    def __repr__(self) -> str:
        fmt_string = [f"dimension={self.dimension}"]
        if self.scramble:
            fmt_string += ["scramble=True"]
        if self.seed is not None:
            fmt_string += [f"seed={self.seed}"]
        return self.__class__.__name__ + "(" + ", ".join(fmt_string) + ")"
