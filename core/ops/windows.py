"""Window functions for spectral analysis, as PyTorch computes them: ``hann_window``,
``hamming_window``, ``blackman_window``, ``bartlett_window`` and ``kaiser_window``.

A periodic window of length ``N`` is the symmetric window of length ``N + 1`` without its last
value (the form for spectral analysis); the values are computed in the requested dtype with
PyTorch's formulas and operation order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from .. import dtypes
from ..tensor import Tensor, dtype_arg
from .creation import arange, ones, zeros
from .movement import cat
from .special import i0

__all__ = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]


def _window(
    name: str,
    window_length: int,
    periodic: bool,
    dtype: dtypes.dtype | None,
    device: Any,
    requires_grad: bool,
    values: Callable[[Tensor, int], Tensor],
) -> Tensor:
    """``values(arange(N), N)`` for the symmetric length ``N`` (``window_length + 1`` when periodic)."""
    dt = dtypes.get_default_dtype() if dtype is None else dtype_arg(name, dtype)
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={window_length}")
    if not dt.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dt}")
    if window_length <= 1:
        out = (ones if window_length == 1 else zeros)(window_length, dtype=dt, device=device)
    else:
        n = window_length + 1 if periodic else window_length
        out = values(arange(n, dtype=dt, device=device), n)
        if periodic:
            out = out[:-1]
    if requires_grad:
        out.requires_grad_(True)
    return out


def _cosine_sum(alpha: float, beta: float) -> Callable[[Tensor, int], Tensor]:
    return lambda k, n: (k * (2 * math.pi / (n - 1))).cos() * -beta + alpha


def _general_cosine(coefficients: Sequence[float]) -> Callable[[Tensor, int], Tensor]:
    """The sum of cosine terms ``(-1)**i a[i] cos(2 pi i k / (n - 1))``."""

    def values(k: Tensor, n: int) -> Tensor:
        phase = k * (2 * math.pi / (n - 1))
        return sum(((phase * i).cos() * ((-1) ** i * a) for i, a in enumerate(coefficients)), k.new_zeros(()))

    return values


def _kaiser(beta: float) -> Callable[[Tensor, int], Tensor]:
    def values(k: Tensor, n: int) -> Tensor:
        half = (n - 1) / 2
        return i0(((1 - ((k - half) / half) ** 2).clamp(min=0)).sqrt() * beta) / i0(k.new_full((), beta))

    return values


def hamming_window(
    window_length: int,
    periodic: bool = True,
    alpha: float = 0.54,
    beta: float = 0.46,
    *,
    dtype: dtypes.dtype | None = None,
    layout: object = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    r"""The Hamming window, a raised cosine.

    .. math::
        w[n] = \alpha - \beta \cos\left(\frac{2 \pi n}{N - 1}\right)

    Args:
        window_length (int): the length of the window.
        periodic (bool, optional): the periodic form (for spectral analysis) rather than the
            symmetric one. Default: ``True``.
        alpha (float, optional): the coefficient :math:`\alpha`. Default: ``0.54``.
        beta (float, optional): the coefficient :math:`\beta`. Default: ``0.46``.
        dtype (ember.dtype, optional): a floating dtype. Default: :func:`ember.get_default_dtype`.
        layout (ember.layout, optional): ``ember.strided`` only (accepted for PyTorch compatibility).
        device (ember.device, optional): the device. Default: ``cpu``.
        requires_grad (bool, optional): whether the result requires grad. Default: ``False``.

    Shape:
        Output: :math:`(\text{window\_length})`.

    Example::

        >>> ember.hamming_window(4, periodic=False)
        tensor([0.0800, 0.7700, 0.7700, 0.0800])
    """
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad, _cosine_sum(alpha, beta))


def hann_window(
    window_length: int,
    periodic: bool = True,
    *,
    dtype: dtypes.dtype | None = None,
    layout: object = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    r"""The Hann window.

    .. math::
        w[n] = \frac{1}{2} \left(1 - \cos\left(\frac{2 \pi n}{N - 1}\right)\right)

    Args:
        window_length (int): the length of the window.
        periodic (bool, optional): the periodic form (for spectral analysis) rather than the
            symmetric one. Default: ``True``.
        dtype (ember.dtype, optional): a floating dtype. Default: :func:`ember.get_default_dtype`.
        layout (ember.layout, optional): ``ember.strided`` only (accepted for PyTorch compatibility).
        device (ember.device, optional): the device. Default: ``cpu``.
        requires_grad (bool, optional): whether the result requires grad. Default: ``False``.

    Shape:
        Output: :math:`(\text{window\_length})`.

    Example::

        >>> ember.hann_window(4)
        tensor([0.0000, 0.5000, 1.0000, 0.5000])
    """
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad, _cosine_sum(0.5, 0.5))


def _blackman(k: Tensor, n: int) -> Tensor:
    w = k * (math.pi / (n - 1))
    return (w * 4).cos() * 0.08 - (w * 2).cos() * 0.5 + 0.42


def blackman_window(
    window_length: int,
    periodic: bool = True,
    *,
    dtype: dtypes.dtype | None = None,
    layout: object = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    r"""The Blackman window.

    .. math::
        w[n] = 0.42 - 0.5 \cos\left(\frac{2 \pi n}{N - 1}\right) + 0.08 \cos\left(\frac{4 \pi n}{N - 1}\right)

    Args:
        window_length (int): the length of the window.
        periodic (bool, optional): the periodic form (for spectral analysis) rather than the
            symmetric one. Default: ``True``.
        dtype (ember.dtype, optional): a floating dtype. Default: :func:`ember.get_default_dtype`.
        layout (ember.layout, optional): ``ember.strided`` only (accepted for PyTorch compatibility).
        device (ember.device, optional): the device. Default: ``cpu``.
        requires_grad (bool, optional): whether the result requires grad. Default: ``False``.

    Shape:
        Output: :math:`(\text{window\_length})`.

    Example::

        >>> ember.blackman_window(5, periodic=False)
        tensor([-2.9802e-08,  3.4000e-01,  1.0000e+00,  3.4000e-01, -2.9802e-08])
    """
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad, _blackman)


def _bartlett(k: Tensor, n: int) -> Tensor:
    w = k * (2.0 / (n - 1))
    first_half_end = ((n - 1) >> 1) + 1
    return cat([w.narrow(0, 0, first_half_end), -w.narrow(0, first_half_end, n - first_half_end) + 2])


def bartlett_window(
    window_length: int,
    periodic: bool = True,
    *,
    dtype: dtypes.dtype | None = None,
    layout: object = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    r"""The Bartlett (triangular) window.

    .. math::
        w[n] = 1 - \left|\frac{2 n}{N - 1} - 1\right|

    Args:
        window_length (int): the length of the window.
        periodic (bool, optional): the periodic form (for spectral analysis) rather than the
            symmetric one. Default: ``True``.
        dtype (ember.dtype, optional): a floating dtype. Default: :func:`ember.get_default_dtype`.
        layout (ember.layout, optional): ``ember.strided`` only (accepted for PyTorch compatibility).
        device (ember.device, optional): the device. Default: ``cpu``.
        requires_grad (bool, optional): whether the result requires grad. Default: ``False``.

    Shape:
        Output: :math:`(\text{window\_length})`.

    Example::

        >>> ember.bartlett_window(5, periodic=False)
        tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
    """
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad, _bartlett)


def kaiser_window(
    window_length: int,
    periodic: bool = True,
    beta: float = 12.0,
    *,
    dtype: dtypes.dtype | None = None,
    layout: object = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    r"""The Kaiser window, shaped by ``beta`` through the modified Bessel function :math:`I_0`.

    .. math::
        w[n] = I_0\left(\beta \sqrt{1 - \left(\frac{n - (N - 1)/2}{(N - 1)/2}\right)^2}\right) / I_0(\beta)

    Args:
        window_length (int): the length of the window.
        periodic (bool, optional): the periodic form (for spectral analysis) rather than the
            symmetric one. Default: ``True``.
        beta (float, optional): the shape parameter. Default: ``12.0``.
        dtype (ember.dtype, optional): a floating dtype. Default: :func:`ember.get_default_dtype`.
        layout (ember.layout, optional): ``ember.strided`` only (accepted for PyTorch compatibility).
        device (ember.device, optional): the device. Default: ``cpu``.
        requires_grad (bool, optional): whether the result requires grad. Default: ``False``.

    Shape:
        Output: :math:`(\text{window\_length})`.

    Example::

        >>> ember.kaiser_window(5, periodic=False, beta=2.0)
        tensor([0.4387, 0.8348, 1.0000, 0.8348, 0.4387])
    """
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad, _kaiser(beta))
