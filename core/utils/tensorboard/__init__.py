"""Logging for TensorBoard, PyTorch's ``torch.utils.tensorboard``: :class:`SummaryWriter` writes
scalars, histograms, images, audio, text, embeddings, precision-recall curves, meshes and
hyperparameters of a run into event files that ``tensorboard --logdir runs`` shows.

It writes through the ``tensorboard`` package (its protobufs and event-file writer), an
optional dependency: ``pip install ember[tensorboard]`` (or ``pip install tensorboard``).
Without it, importing this module raises ``ModuleNotFoundError`` as PyTorch's does.

>>> import tempfile
>>> from ember.utils.tensorboard import SummaryWriter
>>> with tempfile.TemporaryDirectory() as logdir, SummaryWriter(logdir) as writer:
...     writer.add_scalar("loss", 0.5, global_step=0)
"""

import re

import tensorboard

if tuple(int(part) for part in re.findall(r"\d+", getattr(tensorboard, "__version__", "0"))[:2]) < (1, 15):
    raise ImportError("TensorBoard logging requires TensorBoard version 1.15 or above")

del re, tensorboard

from tensorboard.summary.writer.record_writer import RecordWriter  # noqa: E402

from .writer import FileWriter, SummaryWriter  # noqa: E402

__all__ = ["FileWriter", "RecordWriter", "SummaryWriter"]
