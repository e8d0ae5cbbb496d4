"""Loss and accuracy curves as a PNG (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["plot_history"]


def plot_history(history: dict[str, list[Any]], path: str | os.PathLike[str]) -> str:
    """Draw ``history`` (from :func:`ember.contrib.train.fit`) to a PNG at ``path``: loss and accuracy per epoch.

    The image is written atomically (a temporary file renamed into place).
    """
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError("plotting needs matplotlib: pip install matplotlib (or 'ember[examples]')") from exc
    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    epochs = history["epoch"]
    fig = Figure(figsize=(10, 4), layout="constrained")
    for ax, metric, label in zip(fig.subplots(1, 2), ("loss", "accuracy"), ("loss", "accuracy (%)")):
        for split, style in (("train", "-o"), ("val", "-s")):
            values = history.get(f"{split}_{metric}") or []
            points = [(e, v * (100 if metric == "accuracy" else 1)) for e, v in zip(epochs, values) if v is not None]
            if points:
                ax.plot(*zip(*points), style, label=split, markersize=3)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        if ax.has_data():
            ax.legend()
    fig.suptitle("training curves")
    path = os.fspath(path)
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), "." + os.path.basename(path) + ".tmp.png")
    fig.savefig(tmp, dpi=100)
    os.replace(tmp, path)
    return path
