r"""``ember.signal.windows``: the window functions of ``torch.signal.windows`` (SciPy's names and
keyword-only arguments: ``sym`` for the symmetric form, ``False`` for the periodic one used in
spectral analysis).

They share their formulas and the periodic-from-symmetric construction (the symmetric window
of length ``M + 1`` without its last value) with :func:`ember.hann_window` and its siblings;
their own are the argument checks, which raise ``ValueError`` as PyTorch's do. The result is a
leaf tensor, so that with ``requires_grad=True`` its ``grad`` is filled by a backward pass.

Example::

    >>> ember.signal.windows.hann(5)
    tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
    >>> ember.signal.windows.hann(4, sym=False)
    tensor([0.0000, 0.5000, 1.0000, 0.5000])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from .. import dtypes
from ..layout import strided
from ..ops.creation import full
from ..ops.windows import _bartlett, _blackman, _cosine_sum, _general_cosine, _kaiser, _window
from ..tensor import Tensor

__all__ = [
    "bartlett",
    "blackman",
    "cosine",
    "exponential",
    "gaussian",
    "general_cosine",
    "general_hamming",
    "hamming",
    "hann",
    "kaiser",
    "nuttall",
]

_NUTTALL = (0.3635819, 0.4891775, 0.1365995, 0.0106411)


def _signal_window(
    name: str,
    M: int,
    sym: bool,
    dtype: dtypes.dtype | None,
    layout: Any,
    device: Any,
    requires_grad: bool,
    values: Callable[[Tensor, int], Tensor],
) -> Tensor:
    """The window ``values`` define, after the checks of :func:`_checked_dtype`."""
    return _window(name, M, not sym, _checked_dtype(name, M, dtype, layout), device, requires_grad, values)


def _checked_dtype(name: str, M: int, dtype: dtypes.dtype | None, layout: Any) -> dtypes.dtype:
    """The window's dtype, after PyTorch's checks of ``M``, ``layout`` and ``dtype``."""
    dt = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not None and layout is not strided:
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    if dt not in (dtypes.float32, dtypes.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dt}")
    return dt


def hann(
    M: int,
    *,
    sym: bool = True,
    dtype: dtypes.dtype | None = None,
    layout: Any = strided,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    r"""The Hann window: :math:`w_n = \frac{1}{2} - \frac{1}{2} \cos\left(\frac{2 \pi n}{M - 1}\right)`.

    Args:
        M (int): the length of the window.

    Keyword args:
        sym (bool, optional): the symmetric window (``False``: periodic, for spectral analysis).
            Default: ``True``.
        dtype (ember.dtype, optional): ``float32`` or ``float64``. Default: :func:`ember.get_default_dtype`.
        layout (ember.layout, optional): ``ember.strided`` only. Default: ``ember.strided``.
        device (ember.device, optional): the device. Default: ``cpu``.
        requires_grad (bool, optional): whether the result requires grad. Default: ``False``.

    Shape:
        Output: :math:`(M)`.

    Example::

        >>> ember.signal.windows.hann(4)
        tensor([0.0000, 0.7500, 0.7500, 0.0000])
    """
    return _signal_window("hann", M, sym, dtype, layout, device, requires_grad, _cosine_sum(0.5, 0.5))


def general_hamming(
    M: int,
    *,
    alpha: float = 0.54,
    sym: bool = True,
    dtype: dtypes.dtype | None = None,
    layout: Any = strided,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    r"""The generalized Hamming window: :math:`w_n = \alpha - (1 - \alpha) \cos\left(\frac{2 \pi n}{M - 1}\right)`.

    Args:
        M (int): the length of the window.

    Keyword args:
        alpha (float, optional): the coefficient :math:`\alpha`. Default: ``0.54``.
        sym, dtype, layout, device, requires_grad: as in :func:`hann`.

    Example::

        >>> ember.signal.windows.general_hamming(5, alpha=0.5)
        tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
    """
    values = _cosine_sum(alpha, 1.0 - alpha)
    return _signal_window("general_hamming", M, sym, dtype, layout, device, requires_grad, values)


def hamming(
    M: int,
    *,
    sym: bool = True,
    dtype: dtypes.dtype | None = None,
    layout: Any = strided,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    r"""The Hamming window: :func:`general_hamming` with :math:`\alpha = 0.54`.

    Args:
        M (int): the length of the window.

    Keyword args:
        sym, dtype, layout, device, requires_grad: as in :func:`hann`.

    Example::

        >>> ember.signal.windows.hamming(5)
        tensor([0.0800, 0.5400, 1.0000, 0.5400, 0.0800])
    """
    return _signal_window("hamming", M, sym, dtype, layout, device, requires_grad, _cosine_sum(0.54, 0.46))


def general_cosine(
    M: int,
    *,
    a: Iterable[float],
    sym: bool = True,
    dtype: dtypes.dtype | None = None,
    layout: Any = strided,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    r"""A sum of cosine terms: :math:`w_n = \sum_{i} (-1)^i a_i \cos\left(\frac{2 \pi i n}{M - 1}\right)`.

    Args:
        M (int): the length of the window.

    Keyword args:
        a (Iterable[float]): the coefficients :math:`a_i`.
        sym, dtype, layout, device, requires_grad: as in :func:`hann`.

    Example::

        >>> ember.signal.windows.general_cosine(5, a=[0.46, 0.23, 0.31])
        tensor([0.5400, 0.1500, 1.0000, 0.1500, 0.5400])
    """
    if not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    coefficients = list(a)
    if not coefficients and M > 1:
        raise ValueError("Coefficients cannot be empty")
    values = _general_cosine(coefficients)
    return _signal_window("general_cosine", M, sym, dtype, layout, device, requires_grad, values)


def blackman(
    M: int,
    *,
    sym: bool = True,
    dtype: dtypes.dtype | None = None,
    layout: Any = strided,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    r"""The Blackman window: :func:`general_cosine` with :math:`a = (0.42, 0.5, 0.08)`.

    Args:
        M (int): the length of the window.

    Keyword args:
        sym, dtype, layout, device, requires_grad: as in :func:`hann`.

    Example::

        >>> ember.signal.windows.blackman(5, dtype=ember.float64)
        tensor([0.0000, 0.3400, 1.0000, 0.3400, 0.0000], dtype=ember.float64)
    """
    return _signal_window("blackman", M, sym, dtype, layout, device, requires_grad, _blackman)


def nuttall(
    M: int,
    *,
    sym: bool = True,
    dtype: dtypes.dtype | None = None,
    layout: Any = strided,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    r"""The minimum 4-term Blackman-Harris window of Nuttall: :func:`general_cosine` with
    :math:`a = (0.3635819, 0.4891775, 0.1365995, 0.0106411)`.

    Args:
        M (int): the length of the window.

    Keyword args:
        sym, dtype, layout, device, requires_grad: as in :func:`hann`.

    Example::

        >>> ember.signal.windows.nuttall(5, dtype=ember.float64)
        tensor([3.6280e-04, 2.2698e-01, 1.0000e+00, 2.2698e-01, 3.6280e-04],
               dtype=ember.float64)
    """
    return _signal_window("nuttall", M, sym, dtype, layout, device, requires_grad, _general_cosine(_NUTTALL))


def bartlett(
    M: int,
    *,
    sym: bool = True,
    dtype: dtypes.dtype | None = None,
    layout: Any = strided,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    r"""The Bartlett (triangular) window: :math:`w_n = 1 - \left|\frac{2 n}{M - 1} - 1\right|`.

    Args:
        M (int): the length of the window.

    Keyword args:
        sym, dtype, layout, device, requires_grad: as in :func:`hann`.

    Example::

        >>> ember.signal.windows.bartlett(5)
        tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
    """
    return _signal_window("bartlett", M, sym, dtype, layout, device, requires_grad, _bartlett)


def kaiser(
    M: int,
    *,
    beta: float = 12.0,
    sym: bool = True,
    dtype: dtypes.dtype | None = None,
    layout: Any = strided,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    r"""The Kaiser window, shaped by ``beta`` through the modified Bessel function :math:`I_0`:
    :math:`w_n = I_0\left(\beta \sqrt{1 - \left(\frac{2n}{M - 1} - 1\right)^2}\right) / I_0(\beta)`.

    Args:
        M (int): the length of the window.

    Keyword args:
        beta (float, optional): the non-negative shape parameter. Default: ``12.0``.
        sym, dtype, layout, device, requires_grad: as in :func:`hann`.

    Example::

        >>> ember.signal.windows.kaiser(5, beta=2.0)
        tensor([0.4387, 0.8348, 1.0000, 0.8348, 0.4387])
    """
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    return _signal_window("kaiser", M, sym, dtype, layout, device, requires_grad, _kaiser(beta))


def cosine(
    M: int,
    *,
    sym: bool = True,
    dtype: dtypes.dtype | None = None,
    layout: Any = strided,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    r"""The cosine (sine) window: :math:`w_n = \sin\left(\frac{\pi (n + 0.5)}{M}\right)`.

    Args:
        M (int): the length of the window.

    Keyword args:
        sym, dtype, layout, device, requires_grad: as in :func:`hann`.

    Example::

        >>> ember.signal.windows.cosine(4)
        tensor([0.3827, 0.9239, 0.9239, 0.3827])
    """

    def values(k: Tensor, n: int) -> Tensor:
        return ((k + 0.5) * (math.pi / n)).sin()

    return _signal_window("cosine", M, sym, dtype, layout, device, requires_grad, values)


def gaussian(
    M: int,
    *,
    std: float = 1.0,
    sym: bool = True,
    dtype: dtypes.dtype | None = None,
    layout: Any = strided,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    r"""The Gaussian window: :math:`w_n = \exp\left(-\frac{(n - (M - 1)/2)^2}{2 \sigma^2}\right)`.

    Args:
        M (int): the length of the window.

    Keyword args:
        std (float, optional): the positive standard deviation :math:`\sigma`. Default: ``1.0``.
        sym, dtype, layout, device, requires_grad: as in :func:`hann`.

    Example::

        >>> ember.signal.windows.gaussian(5, std=1.0)
        tensor([0.1353, 0.6065, 1.0000, 0.6065, 0.1353])
    """
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    scale = 1 / (std * math.sqrt(2))

    def values(k: Tensor, n: int) -> Tensor:
        return (-(((k - (n - 1) / 2) * scale) ** 2)).exp()

    return _signal_window("gaussian", M, sym, dtype, layout, device, requires_grad, values)


def exponential(
    M: int,
    *,
    center: float | None = None,
    tau: float = 1.0,
    sym: bool = True,
    dtype: dtypes.dtype | None = None,
    layout: Any = strided,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    r"""The exponential (Poisson) window: :math:`w_n = \exp\left(-\frac{|n - c|}{\tau}\right)`.

    Args:
        M (int): the length of the window.

    Keyword args:
        center (float, optional): the centre :math:`c`, only for ``sym=False``.
            Default: the middle of the window, :math:`(M - 1) / 2` (:math:`M / 2` when periodic).
        tau (float, optional): the positive decay :math:`\tau`. Default: ``1.0``.
        sym, dtype, layout, device, requires_grad: as in :func:`hann`.

    Example::

        >>> ember.signal.windows.exponential(5)
        tensor([0.1353, 0.3679, 1.0000, 0.3679, 0.1353])
    """
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")

    def values(k: Tensor, n: int) -> Tensor:
        c = (n - 1) / 2 if center is None else center
        return (-(k - c).abs() / tau).exp()

    if M == 1 and center is not None:  # one value, off-centre (the general path gives 1 for M == 1)
        dt = _checked_dtype("exponential", M, dtype, layout)
        return full((1,), math.exp(-abs(center) / tau), dtype=dt, device=device, requires_grad=requires_grad)
    return _signal_window("exponential", M, sym, dtype, layout, device, requires_grad, values)
