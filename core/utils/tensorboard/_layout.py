"""Where the pixels of a summary go: image batches laid out on a grid, layouts named by letters
(``"CHW"``, ``"NHWC"``) brought to height-width-channel, video batches tiled into frames, and
matplotlib figures rendered to arrays."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["convert_to_HWC", "figure_to_image", "make_grid", "prepare_video"]


def make_grid(images: np.ndarray, ncols: int = 8) -> np.ndarray:
    """Tiles a batch of images ``(N, C, H, W)`` (``C`` 1 or 3) row by row on a ``(3, rows * H,
    min(N, ncols) * W)`` canvas; the cells after the last image stay zero.

    >>> make_grid(np.ones((3, 1, 2, 2), dtype=np.uint8), ncols=2)[0]
    array([[1, 1, 1, 1],
           [1, 1, 1, 1],
           [1, 1, 0, 0],
           [1, 1, 0, 0]], dtype=uint8)
    """
    if not isinstance(images, np.ndarray):
        raise AssertionError("plugin error, should pass numpy array here")
    if images.shape[1] == 1:
        images = np.concatenate([images] * 3, axis=1)
    if images.ndim != 4 or images.shape[1] != 3:
        raise AssertionError(f"Input should be a 4D numpy array with 3 channels, got shape {images.shape}")
    count, _, height, width = images.shape
    ncols = min(count, ncols)
    nrows = math.ceil(count / ncols)
    cells = np.zeros((nrows * ncols, 3, height, width), dtype=images.dtype)
    cells[:count] = images
    return (
        cells.reshape(nrows, ncols, 3, height, width).transpose(2, 0, 3, 1, 4).reshape(3, nrows * height, ncols * width)
    )


def convert_to_HWC(tensor: np.ndarray, input_format: str) -> np.ndarray:  # noqa: N802 - PyTorch's name
    """``tensor`` laid out as ``input_format`` (``"HW"``, a permutation of ``"CHW"`` or of
    ``"NCHW"``, any case) brought to height, width, channel: a batch on a grid
    (:func:`make_grid`), one channel or none repeated to three.

    >>> convert_to_HWC(np.zeros((1, 4, 5)), "CHW").shape
    (4, 5, 3)
    >>> convert_to_HWC(np.zeros((10, 4, 5, 3)), "NHWC").shape  # 8 images a row
    (8, 40, 3)
    """
    if len(set(input_format)) != len(input_format):
        raise AssertionError(f"You can not use the same dimension shorthand twice. input_format: {input_format}")
    if tensor.ndim != len(input_format):
        raise AssertionError(
            f"size of input tensor and input format are different. "
            f"tensor shape: {tensor.shape}, input_format: {input_format}"
        )
    input_format = input_format.upper()
    if len(input_format) == 4:
        grid = make_grid(tensor.transpose([input_format.find(c) for c in "NCHW"]))
        return grid.transpose(1, 2, 0)
    if len(input_format) == 3:
        hwc = tensor.transpose([input_format.find(c) for c in "HWC"])
        return np.concatenate([hwc] * 3, axis=2) if hwc.shape[2] == 1 else hwc
    hw = tensor.transpose([input_format.find(c) for c in "HW"])
    return np.stack([hw] * 3, axis=2)


def prepare_video(video: np.ndarray) -> np.ndarray:
    """A batch of videos ``(N, T, C, H, W)`` as one video ``(T, rows * H, cols * W, C)``: the batch
    padded with black videos to a power of two and tiled, ``rows = 2 ** ((bit_length(N) - 1) // 2)``.
    uint8 values are scaled to [0, 1].

    >>> prepare_video(np.zeros((3, 2, 3, 4, 5), dtype=np.uint8)).shape
    (2, 4, 20, 3)
    """
    count, frames, channels, height, width = video.shape
    if video.dtype == np.uint8:
        video = video.astype(np.float32) / 255.0
    if count & (count - 1):  # not a power of two
        padding = np.zeros((2 ** count.bit_length() - count, frames, channels, height, width))
        video = np.concatenate((video, padding), axis=0)
    rows = 2 ** ((count.bit_length() - 1) // 2)
    cols = video.shape[0] // rows
    video = video.reshape(rows, cols, frames, channels, height, width).transpose(2, 0, 4, 1, 5, 3)
    return video.reshape(frames, rows * height, cols * width, channels)


def figure_to_image(figures: Any, close: bool = True) -> np.ndarray:
    """A matplotlib figure rendered to a uint8 RGB array ``(3, H, W)``, or a list of figures
    (of one size) to ``(N, 3, H, W)``; ``close`` closes them afterwards. Needs matplotlib.

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> figure_to_image(plt.figure(figsize=(2, 1), dpi=10)).shape
    (3, 10, 20)
    """
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    def render(figure: Any) -> np.ndarray:
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        width, height = figure.canvas.get_width_height()
        rgba = np.frombuffer(canvas.buffer_rgba(), dtype=np.uint8).reshape(height, width, 4)
        if close:
            plt.close(figure)
        return np.moveaxis(rgba[:, :, :3], 2, 0)

    if isinstance(figures, list):
        return np.stack([render(figure) for figure in figures])
    return render(figures)
