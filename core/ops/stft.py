"""The short-time Fourier transform and its inverse, as PyTorch computes them: ``stft`` frames
the signal (``unfold``), weights each frame by the window and transforms it with
:mod:`ember.fft`; ``istft`` inverts each frame and overlap-adds them (``index_add``), dividing by
the overlap-added squared window. Both are compositions of differentiable ops, so gradients
flow through them to the signal, the spectrum and the window.

Complex intermediates are needed either way: on a backend without complex dtypes (OpenCL)
both refuse with :mod:`ember.fft`'s TypeError naming the dtype.
"""

from __future__ import annotations

import warnings

from .. import fft
from ..amp.policy import autocast_call
from ..amp.state import state as _amp
from ..nn.functional.padding import pad as _pad
from ..tensor import Tensor
from .complex_views import view_as_real
from .creation import arange, ones, zeros

__all__ = ["stft", "istft"]

_RECTANGULAR_STFT = (
    "A window was not provided. A rectangular window will be applied,which is known to cause spectral "
    "leakage. Other windows such as ember.hann_window or ember.hamming_window are recommended to reduce "
    "spectral leakage.To suppress this warning and use a rectangular window, explicitly set "
    "`window=ember.ones(n_fft, device=<device>)`."
)
_RECTANGULAR_ISTFT = (
    "A window was not provided. A rectangular window will be applied.Please provide the same window used "
    "by stft to make the inversion lossless.To suppress this warning and use a rectangular window, "
    "explicitly set `window=ember.ones(n_fft, device=<device>)`."
)


def _centered_window(window: Tensor | None, win_length: int, n_fft: int, like: Tensor) -> Tensor:
    """``window`` (ones where it is None) padded with zeros on both sides to ``n_fft``, centred."""
    if window is None:
        window = ones(win_length, dtype=like.dtype.to_real(), device=like.device)
    left = (n_fft - win_length) // 2
    return _pad(window, [left, n_fft - win_length - left]) if win_length < n_fft else window


def stft(
    input: Tensor,
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: Tensor | None = None,
    center: bool = True,
    pad_mode: str = "reflect",
    normalized: bool = False,
    onesided: bool | None = None,
    return_complex: bool | None = None,
    align_to_window: bool | None = None,
) -> Tensor:
    r"""Short-time Fourier transform: the Fourier transforms of short overlapping windows of the signal.

    .. math::
        X[\omega, m] = \sum_{k = 0}^{\text{n\_fft} - 1} \text{window}[k]\ \text{input}[m \times
        \text{hop\_length} + k]\ \exp\left(-j \frac{2 \pi \omega k}{\text{n\_fft}}\right)

    Args:
        input (Tensor): the signal, :math:`(L)` or batched :math:`(B, L)`, floating or complex.
        n_fft (int): the length of each transformed frame.
        hop_length (int, optional): the distance between the starts of neighbouring frames.
            Default: ``n_fft // 4``.
        win_length (int, optional): the length of the window, padded with zeros on both sides to
            ``n_fft``. Default: ``n_fft``.
        window (Tensor, optional): a 1-D window of ``win_length`` values. Default: ``None``
            (a rectangular window, with a warning).
        center (bool, optional): pad ``input`` by ``n_fft // 2`` on both sides so that frame
            :math:`t` is centred at :math:`t \times \text{hop\_length}`. Default: ``True``.
        pad_mode (str, optional): the padding mode of :func:`ember.nn.functional.pad` used when
            ``center``. Default: ``"reflect"``.
        normalized (bool, optional): multiply the result by :math:`\text{n\_fft}^{-0.5}`.
            Default: ``False``.
        onesided (bool, optional): return only the ``n_fft // 2 + 1`` non-redundant frequencies
            of a real signal. Default: ``True`` for a real ``input`` and ``window``.
        return_complex (bool, optional): return a complex tensor (``False``, deprecated: its
            :func:`ember.view_as_real`). Required for real inputs.
        align_to_window (bool, optional): only with ``center=False``: frames start where the
            (padded) window's values do, rather than at the padding. Default: ``False``.

    Shape:
        Output: :math:`(B?, N, T)`, :math:`N` the frequencies (``n_fft // 2 + 1`` when onesided,
        else ``n_fft``), :math:`T` the frames; with ``return_complex=False`` a last dimension of 2.

    Example::

        >>> x = ember.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
        >>> ember.stft(x, n_fft=4, hop_length=2, window=ember.ones(4), center=False, return_complex=True)
        tensor([[10.+0.j, 18.+0.j, 26.+0.j],
                [-2.+2.j, -2.+2.j, -2.+2.j],
                [-2.+0.j, -2.+0.j, -2.+0.j]])
    """
    if _amp.active:  # autocast runs stft in float32
        return autocast_call(
            "stft", stft, input, n_fft, hop_length, win_length, window, center, pad_mode, normalized, onesided,
            return_complex, align_to_window,
        )  # fmt: skip
    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    if center:  # as PyTorch pads: the signal seen as (1, 1, L) or (1, B, L)
        signal_dim = input.dim()
        half = n_fft // 2
        input = _pad(input.view([1] * (3 - signal_dim) + list(input.shape)), [half, half], pad_mode)
        input = input.view(input.shape[-signal_dim:])
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    op = (
        f"stft(input of shape {list(input.shape)} and dtype {input.dtype}, n_fft={n_fft}, "
        f"hop_length={hop_length}, win_length={win_length})"
    )
    complex_fft = input.dtype.is_complex or (window is not None and window.dtype.is_complex)
    if return_complex is None:
        if not complex_fft:
            raise RuntimeError(
                "stft requires the return_complex parameter be given for real inputs, and will further "
                "require that return_complex=True in a future PyTorch release."
            )
        return_complex = True
    elif not return_complex:
        warnings.warn(
            "stft with return_complex=False is deprecated. In a future pytorch release, stft will return "
            "complex tensors for all inputs, and return_complex=False will raise an error.",
            UserWarning,
            stacklevel=2,
        )
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f"{op}: expected a tensor of floating point or complex values")
    if input.dim() not in (1, 2):
        raise RuntimeError(f"{op}: expected a 1D or 2D tensor")
    length = input.shape[-1]
    if not 0 < n_fft <= length:
        raise RuntimeError(f"{op}: expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    if hop_length <= 0:
        raise RuntimeError(f"{op}: expected hop_length > 0, but got hop_length={hop_length}")
    if not 0 < win_length <= n_fft:
        raise RuntimeError(f"{op}: expected 0 < win_length <= n_fft, but got win_length={win_length}")
    if window is not None and (window.dim() != 1 or window.shape[0] != win_length):
        raise RuntimeError(
            f"{op}: expected a 1D window tensor of size equal to win_length={win_length}, but got window "
            f"with size {list(window.shape)}"
        )
    if window is None:
        warnings.warn(_RECTANGULAR_STFT, UserWarning, stacklevel=2)
    onesided = not complex_fft if onesided is None else onesided
    if onesided and complex_fft:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    if align_to_window and win_length < n_fft:  # frames over the window's values: shift by its left padding
        left = (n_fft - win_length) // 2
        input = _pad(input, [left, n_fft - win_length - left])
    frames = input.unfold(-1, n_fft, hop_length) * _centered_window(window, win_length, n_fft, input)
    norm = "ortho" if normalized else "backward"
    spectrum = (fft.rfft if onesided else fft.fft)(frames, norm=norm).transpose(-1, -2)
    return spectrum if return_complex else view_as_real(spectrum)


def _overlap_add(frames: Tensor, hop_length: int, length: int) -> Tensor:
    """The sum of ``frames`` (``(..., T, n_fft)``) placed ``hop_length`` apart in a signal of ``length``."""
    n_frames, n_fft = frames.shape[-2:]
    starts = arange(n_frames, device=frames.device) * hop_length
    positions = (starts.unsqueeze(-1) + arange(n_fft, device=frames.device)).flatten()
    signal = zeros(*frames.shape[:-2], length, dtype=frames.dtype, device=frames.device)
    return signal.index_add(-1, positions, frames.flatten(-2))


def istft(
    input: Tensor,
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: Tensor | None = None,
    center: bool = True,
    normalized: bool = False,
    onesided: bool | None = None,
    length: int | None = None,
    return_complex: bool = False,
) -> Tensor:
    r"""Inverse short-time Fourier transform: the signal whose :func:`stft` is ``input``.

    Each frame is inverted, weighted by the window and overlap-added; the sum is divided by the
    overlap-added squared window (least-squares estimation, Griffin and Lim), which must not
    vanish anywhere in the returned part.

    Args:
        input (Tensor): the complex spectrum, :math:`(N, T)` or batched :math:`(B, N, T)`, as
            :func:`stft` returns it with ``return_complex=True``.
        n_fft (int): the length of each frame.
        hop_length (int, optional): the distance between neighbouring frames.
            Default: ``n_fft // 4``.
        win_length (int, optional): the length of the window. Default: ``n_fft``.
        window (Tensor, optional): the window given to :func:`stft`. Default: ``None``
            (rectangular, with a warning).
        center (bool, optional): whether ``input`` was padded on both sides (as :func:`stft`'s
            ``center``). Default: ``True``.
        normalized (bool, optional): whether the STFT was normalized. Default: ``False``.
        onesided (bool, optional): whether ``input`` holds only the non-redundant frequencies.
            Default: ``True`` when its frequency dimension is not ``n_fft``.
        length (int, optional): the length of the result, cut or padded with zeros.
            Default: the full overlap-added length.
        return_complex (bool, optional): return a complex signal (``onesided`` must then be
            ``False``). Default: ``False``.

    Shape:
        Output: :math:`(B?, \text{length})`.

    Example::

        >>> x = ember.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
        >>> window = ember.hann_window(4)
        >>> spectrum = ember.stft(x, n_fft=4, hop_length=1, window=window, return_complex=True)
        >>> ember.istft(spectrum, n_fft=4, hop_length=1, window=window).round(decimals=4)
        tensor([1., 2., 3., 4., 5., 6., 7., 8.])
    """
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    if not input.dtype.is_complex:
        raise RuntimeError(
            "istft requires a complex-valued input tensor matching the output from stft with return_complex=True."
        )
    op = (
        f"istft(input of shape {list(input.shape)} and dtype {input.dtype}, n_fft={n_fft}, "
        f"hop_length={hop_length}, win_length={win_length})"
    )
    if input.dim() < 2:
        raise IndexError("Dimension out of range (expected to be in range of [-2, 1], but got -3)")
    fft_size, n_frames = input.shape[-2:]
    if input.numel() == 0:
        raise RuntimeError(f"{op}: input tensor cannot be empty.")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"{op}: expected a tensor with 3 or 4 dimensions, but got {input.dim() + 1}")
    onesided = fft_size != n_fft if onesided is None else onesided
    if onesided and fft_size != n_fft // 2 + 1:
        raise RuntimeError(
            f"{op}: expected the frequency dimension (3rd to the last) of the input tensor to match "
            f"n_fft / 2 + 1 when onesided=True, but got {fft_size}"
        )
    if not onesided and fft_size != n_fft:
        raise RuntimeError(
            f"{op}: expected the frequency dimension (3rd to the last) of the input tensor to match n_fft "
            f"when onesided=False, but got {fft_size}"
        )
    if not 0 < hop_length <= win_length:
        raise RuntimeError(f"{op}: expected 0 < hop_length <= win_length")
    if not 0 < win_length <= n_fft:
        raise RuntimeError(f"{op}: expected 0 < win_length <= n_fft")
    if window is not None and (window.dim() != 1 or window.shape[0] != win_length):
        raise RuntimeError(f"{op}: Invalid window shape. window has to be 1D and length of `win_length`")
    if window is None:
        warnings.warn(_RECTANGULAR_ISTFT, UserWarning, stacklevel=2)
    window = _centered_window(window, win_length, n_fft, input)

    spectrum = input.transpose(-1, -2)  # (B?, T, N)
    norm = "ortho" if normalized else "backward"
    if return_complex:
        if onesided:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        frames = fft.ifft(spectrum, norm=norm)
    else:
        if window.dtype.is_complex:
            raise RuntimeError("Complex windows are incompatible with return_complex=False")
        if not onesided:
            spectrum = spectrum.narrow(-1, 0, n_fft // 2 + 1)
        frames = fft.irfft(spectrum, n=n_fft, norm=norm)
    full_length = n_fft + hop_length * (n_frames - 1)
    signal = _overlap_add(frames * window, hop_length, full_length)
    envelope = _overlap_add((window * window).expand(n_frames, n_fft), hop_length, full_length)

    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + length
    else:
        end = full_length - n_fft // 2 if center else full_length
    kept = max(min(end, full_length) - start, 0)
    signal, envelope = signal.narrow(-1, start, kept), envelope.narrow(-1, start, kept)
    if not envelope.is_meta and bool((envelope.abs().min() < 1e-11).item()):  # (a meta window has no values)
        raise RuntimeError(f"{op}: window overlap add min: {envelope.abs().min().item()}")
    signal = signal / envelope
    if end > full_length:
        warnings.warn(
            "The length of signal is shorter than the length parameter. Result is being padded with zeros in "
            "the tail. Please check your center and hop_length settings.",
            UserWarning,
            stacklevel=2,
        )
        signal = _pad(signal, [0, end - full_length])
    return signal
