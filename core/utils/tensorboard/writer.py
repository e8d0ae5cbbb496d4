"""Event files for TensorBoard: :class:`FileWriter` appends events to one file through
TensorBoard's own ``EventFileWriter`` (a queue flushed by a thread); :class:`SummaryWriter` is
PyTorch's user-facing writer of scalars, histograms, images, audio, text, embeddings and the
other summaries of :mod:`ember.utils.tensorboard.summary`."""

from __future__ import annotations

import io
import os
import socket
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from google.protobuf import text_format
from tensorboard.compat import tf
from tensorboard.compat.proto.event_pb2 import Event, SessionLog, TaggedRunMetadata
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from ._convert import make_np
from ._layout import figure_to_image
from ._onnx_graph import load_onnx_graph
from .embedding import embedding_folder, get_embedding_info, make_mat, make_sprite, make_tsv, write_pbtxt
from .summary import (
    audio,
    custom_scalars,
    histogram,
    histogram_raw,
    hparams,
    image,
    image_boxes,
    mesh,
    pr_curve,
    pr_curve_raw,
    scalar,
    tensor_proto,
    text,
    video,
)

__all__ = ["FileWriter", "SummaryWriter"]


class FileWriter:
    """Writes protocol buffers of events to one event file in ``log_dir`` (created if needed),
    asynchronously: events are queued (``max_queue`` at most) and written at least every
    ``flush_secs`` seconds. The file is named ``events.out.tfevents.<time>.<host>.<pid>.<n>``
    followed by ``filename_suffix``.

    >>> import tempfile
    >>> from tensorboard.compat.proto.summary_pb2 import Summary
    >>> with tempfile.TemporaryDirectory() as logdir:
    ...     writer = FileWriter(logdir)
    ...     writer.add_summary(Summary(value=[Summary.Value(tag="x", simple_value=1.0)]), global_step=3)
    ...     writer.close()
    """

    def __init__(
        self, log_dir: str | os.PathLike[str], max_queue: int = 10, flush_secs: int = 120, filename_suffix: str = ""
    ) -> None:
        self.event_writer = EventFileWriter(str(log_dir), max_queue, flush_secs, filename_suffix)

    def get_logdir(self) -> str:
        """The directory the event file is written to."""
        return self.event_writer.get_logdir()

    def add_event(self, event: Event, step: int | None = None, walltime: float | None = None) -> None:
        """Queues ``event``, stamped with ``walltime`` (seconds since the epoch; now by default)
        and ``step`` when given."""
        event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_summary(self, summary: Summary, global_step: int | None = None, walltime: float | None = None) -> None:
        """Queues an event holding ``summary`` at ``global_step``."""
        self.add_event(Event(summary=summary), global_step, walltime)

    def add_graph(self, graph_profile: Sequence[Any], walltime: float | None = None) -> None:
        """Queues a graph (``graph_profile[0]``, a ``GraphDef``) and its run metadata
        (``graph_profile[1]``, a ``RunMetadata``, tagged ``step1``)."""
        graph, step_stats = graph_profile[0], graph_profile[1]
        self.add_event(Event(graph_def=graph.SerializeToString()), None, walltime)
        metadata = TaggedRunMetadata(tag="step1", run_metadata=step_stats.SerializeToString())
        self.add_event(Event(tagged_run_metadata=metadata), None, walltime)

    def add_onnx_graph(self, graph: Any, walltime: float | None = None) -> None:
        """Queues a graph (a ``GraphDef``) converted from an ONNX model."""
        self.add_event(Event(graph_def=graph.SerializeToString()), None, walltime)

    def flush(self) -> None:
        """Writes the queued events to disk."""
        self.event_writer.flush()

    def close(self) -> None:
        """Writes the queued events and closes the file."""
        self.event_writer.close()

    def reopen(self) -> None:
        """Opens a new event file in the same directory after :meth:`close`."""
        self.event_writer.reopen()


def _default_log_dir(comment: str) -> str:
    # runs/<month><day>_<hour>-<minute>-<second>_<host><comment>, PyTorch's and TensorFlow's default
    return os.path.join("runs", datetime.now().strftime("%b%d_%H-%M-%S") + "_" + socket.gethostname() + comment)


def _tensorflow_bins() -> list[float]:
    # TensorFlow's default histogram buckets: +-1e-12 growing by 10% up to 1e20, and 0; built by
    # repeated multiplication, as TensorFlow does, so that the edges are the same floats
    edges = []
    edge = 1e-12
    while edge < 1e20:
        edges.append(edge)
        edge *= 1.1
    return [-e for e in reversed(edges)] + [0] + edges


class SummaryWriter:
    r"""Writes summaries of a run to event files in ``log_dir`` for TensorBoard to read
    (``tensorboard --logdir runs``), PyTorch's ``torch.utils.tensorboard.SummaryWriter``. Values
    may be ember tensors (any device, any dtype; bfloat16 is read as float32), NumPy arrays or
    Python numbers. The file is written asynchronously; :meth:`flush` or :meth:`close` (or
    leaving a ``with`` block) writes what is queued.

    Args:
        log_dir (str, optional): where the event files go. Default: ``runs/<date>_<host><comment>``,
            e.g. ``runs/May04_22-14-54_s-MacBook-Pro.local``, a new directory per run.
        comment (str): appended to the default ``log_dir``; ignored when ``log_dir`` is given.
            Default: ``""``.
        purge_step (int, optional): TensorBoard hides the events of the run at and after this
            step that earlier files hold (to resume a crashed run). Default: ``None``.
        max_queue (int): events queued before they are written. Default: 10.
        flush_secs (int): seconds between writes of the queue. Default: 120.
        filename_suffix (str): appended to the event file's name. Default: ``""``.

    Example::

        >>> import tempfile
        >>> from ember.utils.tensorboard import SummaryWriter
        >>> with tempfile.TemporaryDirectory() as logdir:
        ...     with SummaryWriter(logdir) as writer:
        ...         for step in range(3):
        ...             writer.add_scalar("loss", 1.0 / (step + 1), step)
        ...         writer.add_histogram("weights", ember.randn(100), 2)
        ...     [name.startswith("events.out.tfevents.") for name in os.listdir(logdir)]
        [True]
    """

    def __init__(
        self,
        log_dir: str | os.PathLike[str] | None = None,
        comment: str = "",
        purge_step: int | None = None,
        max_queue: int = 10,
        flush_secs: int = 120,
        filename_suffix: str = "",
    ) -> None:
        self.log_dir = log_dir if log_dir else _default_log_dir(comment)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer: FileWriter | None = None
        self.all_writers: dict[str, FileWriter] | None = None
        self._get_file_writer()
        self.default_bins = _tensorflow_bins()

    def _get_file_writer(self) -> FileWriter:
        """The writer of the main event file, opened again after :meth:`close`."""
        if self.all_writers is None or self.file_writer is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                self.file_writer.add_event(Event(step=self.purge_step, file_version="brain.Event:2"))
                self.file_writer.add_event(Event(step=self.purge_step, session_log=SessionLog(status=SessionLog.START)))
                self.purge_step = None
        return self.file_writer

    def get_logdir(self) -> str | os.PathLike[str]:
        """The directory the event files are written to.

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as logdir, SummaryWriter(logdir) as writer:
        ...     writer.get_logdir() == logdir
        True
        """
        return self.log_dir

    def _add(self, summary: Summary, global_step: int | None = None, walltime: float | None = None) -> None:
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_hparams(
        self,
        hparam_dict: dict[str, Any],
        metric_dict: dict[str, Any],
        hparam_domain_discrete: dict[str, list[Any]] | None = None,
        run_name: str | None = None,
        global_step: int | None = None,
    ) -> None:
        """Adds a set of hyperparameters and their metrics, compared across runs by TensorBoard's
        HPARAMS tab: written to a sub-run ``log_dir/run_name`` (``run_name`` default: the time,
        ``str(time.time())``) with each metric of ``metric_dict`` as a scalar there.

        Args:
            hparam_dict (dict): name -> value (bool, str, float, int or a one-element tensor;
                ``None`` values are left out).
            metric_dict (dict): metric tag -> value, logged by :meth:`add_scalar`; a tag the run
                also logs elsewhere shows that series too.
            hparam_domain_discrete (dict, optional): name -> every value the hyperparameter can take.
            run_name (str, optional): the sub-run's name.
            global_step (int, optional): the step of the summaries.

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as logdir:
        ...     with SummaryWriter(logdir) as writer:
        ...         writer.add_hparams({"lr": 0.1, "bsize": 32}, {"hparam/accuracy": 0.9}, run_name="trial")
        ...     sorted(os.listdir(logdir))
        [..., 'trial']
        """
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        summaries = hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        logdir = os.path.join(self._get_file_writer().get_logdir(), run_name or str(time.time()))
        with SummaryWriter(log_dir=logdir) as run:
            for summary in summaries:
                run._add(summary, global_step)
            for tag, value in metric_dict.items():
                run.add_scalar(tag, value, global_step)

    def add_scalar(
        self,
        tag: str,
        scalar_value: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        new_style: bool = False,
        double_precision: bool = False,
    ) -> None:
        """Adds a scalar (a number or a one-element tensor) to the series ``tag``.

        Args:
            tag (str): the series' name.
            scalar_value (float or Tensor): the value.
            global_step (int, optional): the step.
            walltime (float, optional): seconds since the epoch. Default: now.
            new_style (bool): as a tensor for the scalars plugin (faster to load) rather than a
                ``simple_value``. Default: ``False``.
            double_precision (bool): with ``new_style``, as float64. Default: ``False``.

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as logdir, SummaryWriter(logdir) as writer:
        ...     writer.add_scalar("y=2x", ember.tensor(4.0), global_step=2)
        """
        self._add(
            scalar(tag, scalar_value, new_style=new_style, double_precision=double_precision), global_step, walltime
        )

    def add_scalars(
        self,
        main_tag: str,
        tag_scalar_dict: Mapping[str, Any],
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Adds several scalars at one step, drawn on one chart ``main_tag``: each goes to a
        sub-run ``log_dir/<main_tag with / as _>_<tag>`` under the tag ``main_tag``.

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as logdir:
        ...     with SummaryWriter(logdir) as writer:
        ...         writer.add_scalars("run_14h", {"xsinx": 0.5, "xcosx": 0.8}, global_step=0)
        ...     sorted(name for name in os.listdir(logdir) if not name.startswith("events"))
        ['run_14h_xcosx', 'run_14h_xsinx']
        """
        walltime = time.time() if walltime is None else walltime
        main_logdir = self._get_file_writer().get_logdir()
        assert self.all_writers is not None  # opened by _get_file_writer
        for tag, value in tag_scalar_dict.items():
            logdir = main_logdir + "/" + main_tag.replace("/", "_") + "_" + tag
            if logdir not in self.all_writers:
                self.all_writers[logdir] = FileWriter(logdir, self.max_queue, self.flush_secs, self.filename_suffix)
            self.all_writers[logdir].add_summary(scalar(main_tag, value), global_step, walltime)

    def add_tensor(self, tag: str, tensor: Any, global_step: int | None = None, walltime: float | None = None) -> None:
        """Adds a whole tensor (shape, dtype and values) for TensorBoard's tensor plugin.

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as logdir, SummaryWriter(logdir) as writer:
        ...     writer.add_tensor("state", ember.arange(6).reshape(2, 3), global_step=0)
        """
        self._add(tensor_proto(tag, tensor), global_step, walltime)

    def add_histogram(
        self,
        tag: str,
        values: Any,
        global_step: int | None = None,
        bins: Any = "tensorflow",
        walltime: float | None = None,
        max_bins: int | None = None,
    ) -> None:
        """Adds a histogram of ``values`` (any shape).

        Args:
            tag (str): the series' name.
            values (Tensor or numpy.ndarray): the values, counted as float64.
            global_step (int, optional): the step.
            bins (str, int or sequence): ``"tensorflow"`` (TensorFlow's buckets: +-1e-12 growing
                by 10% to 1e20), or what :func:`numpy.histogram` takes (a count, the edges, or a
                rule: ``"auto"``, ``"fd"``, ``"doane"``, ``"scott"``, ``"stone"``, ``"rice"``,
                ``"sturges"``, ``"sqrt"``). Default: ``"tensorflow"``.
            walltime (float, optional): seconds since the epoch. Default: now.
            max_bins (int, optional): neighbouring buckets merged until at most about this many.

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as logdir, SummaryWriter(logdir) as writer:
        ...     for step in range(3):
        ...         writer.add_histogram("distribution centers", ember.randn(1000) + step, step)
        """
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        self._add(histogram(tag, values, bins, max_bins=max_bins), global_step, walltime)

    def add_histogram_raw(
        self,
        tag: str,
        min: float,
        max: float,
        num: int,
        sum: float,
        sum_squares: float,
        bucket_limits: Sequence[float],
        bucket_counts: Sequence[float],
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Adds a histogram from its statistics: ``min``, ``max``, ``num`` values, their ``sum``
        and ``sum_squares``, and the buckets (bucket ``i`` counts ``bucket_counts[i]`` values up
        to ``bucket_limits[i]``; both of one length).

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as logdir, SummaryWriter(logdir) as writer:
        ...     writer.add_histogram_raw("raw", 0, 3, 4, 6, 14, [1, 2, 3], [1, 1, 2], global_step=0)
        """
        if len(bucket_limits) != len(bucket_counts):
            raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
        self._add(
            histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts), global_step, walltime
        )

    def add_image(
        self,
        tag: str,
        img_tensor: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "CHW",
    ) -> None:
        """Adds an image (PNG). Float pixels are taken in [0, 1] (scaled by 255 and clipped),
        uint8 pixels as they are.

        Args:
            tag (str): the series' name.
            img_tensor (Tensor or numpy.ndarray): the image, laid out as ``dataformats``:
                ``(3, H, W)`` for ``"CHW"`` (1 channel gives grey, 4 RGBA), ``(H, W, 3)`` for
                ``"HWC"``, ``(H, W)`` for ``"HW"``.
            global_step (int, optional): the step.
            walltime (float, optional): seconds since the epoch. Default: now.
            dataformats (str): the layout. Default: ``"CHW"``.

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as logdir, SummaryWriter(logdir) as writer:
        ...     writer.add_image("gradient", ember.linspace(0, 1, 20).reshape(4, 5), 0, dataformats="HW")
        """
        self._add(image(tag, img_tensor, dataformats=dataformats), global_step, walltime)

    def add_images(
        self,
        tag: str,
        img_tensor: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "NCHW",
    ) -> None:
        """Adds a batch of images as one image: laid out row by row, 8 a row, on a grid (as
        :func:`ember.utils.tensorboard._layout.make_grid`).

        Args:
            tag (str): the series' name.
            img_tensor (Tensor or numpy.ndarray): ``(N, 3, H, W)`` (or 1 channel) for ``"NCHW"``,
                ``(N, H, W, 3)`` for ``"NHWC"``.
            global_step (int, optional): the step.
            walltime (float, optional): seconds since the epoch. Default: now.
            dataformats (str): the layout. Default: ``"NCHW"``.

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as logdir, SummaryWriter(logdir) as writer:
        ...     writer.add_images("batch", ember.rand(16, 3, 8, 8), 0)
        """
        self._add(image(tag, img_tensor, dataformats=dataformats), global_step, walltime)

    def add_image_with_boxes(
        self,
        tag: str,
        img_tensor: Any,
        box_tensor: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        rescale: float = 1,
        dataformats: str = "CHW",
        labels: str | Sequence[str] | None = None,
    ) -> None:
        """Adds an image with boxes drawn on it: ``box_tensor`` ``(N, 4)``, each row ``xmin, ymin,
        xmax, ymax`` in pixels, ``labels`` one a box (left out when their number differs), the
        image scaled by ``rescale``.

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as logdir, SummaryWriter(logdir) as writer:
        ...     writer.add_image_with_boxes("det", ember.zeros(3, 16, 16), ember.tensor([[2, 2, 10, 10]]), 0, labels="cat")
        """
        if isinstance(labels, str):
            labels = [labels]
        if labels is not None and len(labels) != box_tensor.shape[0]:
            labels = None
        summary = image_boxes(tag, img_tensor, box_tensor, rescale=rescale, dataformats=dataformats, labels=labels)
        self._add(summary, global_step, walltime)

    def add_figure(
        self,
        tag: str,
        figure: Any,
        global_step: int | None = None,
        close: bool = True,
        walltime: float | None = None,
    ) -> None:
        """Adds a matplotlib figure (or a list of figures, as a grid) rendered as an image, then
        closes it unless ``close`` is ``False``. Needs matplotlib.

        >>> import tempfile, matplotlib
        >>> matplotlib.use("Agg")
        >>> import matplotlib.pyplot as plt
        >>> figure = plt.figure(figsize=(2, 2))
        >>> _ = plt.plot([0, 1], [1, 0])
        >>> with tempfile.TemporaryDirectory() as logdir, SummaryWriter(logdir) as writer:
        ...     writer.add_figure("curve", figure, global_step=0)
        """
        dataformats = "NCHW" if isinstance(figure, list) else "CHW"
        self.add_image(tag, figure_to_image(figure, close), global_step, walltime, dataformats=dataformats)

    def add_video(
        self, tag: str, vid_tensor: Any, global_step: int | None = None, fps: int = 4, walltime: float | None = None
    ) -> None:
        """Adds a video (an animated GIF): ``vid_tensor`` ``(N, T, C, H, W)``, a batch of videos
        shown tiled, pixels uint8 or floats in [0, 1]. Needs moviepy: raises ``ImportError``
        without it.

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as logdir, SummaryWriter(logdir) as writer:
        ...     writer.add_video("clip", ember.rand(1, 4, 3, 8, 8), 0)  # doctest: +SKIP
        """
        self._add(video(tag, vid_tensor, fps), global_step, walltime)

    def add_audio(
        self,
        tag: str,
        snd_tensor: Any,
        global_step: int | None = None,
        sample_rate: int = 44100,
        walltime: float | None = None,
    ) -> None:
        """Adds a sound: ``snd_tensor`` ``(L,)`` or ``(1, L)``, samples in [-1, 1], written as
        a 16-bit WAV at ``sample_rate`` Hz.

        >>> import math, tempfile
        >>> tone = ember.sin(ember.arange(8000) * (2 * math.pi * 440 / 8000))
        >>> with tempfile.TemporaryDirectory() as logdir, SummaryWriter(logdir) as writer:
        ...     writer.add_audio("a4", tone, 0, sample_rate=8000)
        """
        self._add(audio(tag, snd_tensor, sample_rate=sample_rate), global_step, walltime)

    def add_text(
        self, tag: str, text_string: str, global_step: int | None = None, walltime: float | None = None
    ) -> None:
        """Adds text (Markdown) under ``tag + "/text_summary"``.

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as logdir, SummaryWriter(logdir) as writer:
        ...     writer.add_text("notes", "lr **0.1**", 0)
        """
        self._add(text(tag, text_string), global_step, walltime)

    def add_onnx_graph(self, prototxt: str) -> None:
        """Adds the graph of the ONNX model in file ``prototxt`` (for instance written by
        :func:`ember.onnx.export`) for TensorBoard's graph tab. Needs the ``onnx`` package.

        >>> import tempfile
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> with tempfile.TemporaryDirectory() as logdir, SummaryWriter(logdir) as writer:
        ...     path = os.path.join(logdir, "model.onnx")
        ...     _ = ember.onnx.export(model, ember.randn(1, 4), path)
        ...     writer.add_onnx_graph(path)
        """
        self._get_file_writer().add_onnx_graph(load_onnx_graph(prototxt))

    def add_graph(
        self, model: Any, input_to_model: Any = None, verbose: bool = False, use_strict_trace: bool = True
    ) -> None:
        """Adds the graph of ``model`` run on ``input_to_model`` for TensorBoard's graph tab.

        PyTorch records the graph with its JIT tracer; ember records it with its ONNX exporter
        (:func:`ember.onnx.export`, which needs the ``onnx`` package), so the nodes are ONNX
        operators (``Gemm``, ``Relu``, ...) between the model's inputs and outputs, as
        :meth:`add_onnx_graph` draws them. The model runs in eval mode for the recording, its mode
        restored afterwards.

        Args:
            model (Module): the model.
            input_to_model (Tensor or sequence of Tensors): the input(s) of its forward.
            verbose (bool): print the recorded graph. Default: ``False``.
            use_strict_trace (bool): accepted for PyTorch's signature; the exporter records any
                structure it can export. Default: ``True``.

        >>> import tempfile
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> with tempfile.TemporaryDirectory() as logdir, SummaryWriter(logdir) as writer:
        ...     writer.add_graph(model, ember.randn(1, 4))
        """
        from ... import onnx as ember_onnx  # imports the onnx package: only for a graph

        args = tuple(input_to_model) if isinstance(input_to_model, list) else input_to_model
        exported = io.BytesIO()
        ember_onnx.export(model, () if args is None else args, exported, verbose=verbose)
        exported.seek(0)
        self._get_file_writer().add_onnx_graph(load_onnx_graph(exported))

    def add_embedding(
        self,
        mat: Any,
        metadata: Sequence[Any] | None = None,
        label_img: Any = None,
        global_step: int | None = None,
        tag: str = "default",
        metadata_header: Sequence[str] | None = None,
    ) -> None:
        """Adds an embedding for TensorBoard's projector: the points ``mat`` ``(N, D)``, written
        with their labels and thumbnails to ``log_dir/<step, 5 digits>/<tag>/`` (``tensors.tsv``,
        ``metadata.tsv``, ``sprite.png``) and named in ``log_dir/projector_config.pbtxt``.

        Args:
            mat (Tensor or numpy.ndarray): ``(N, D)``, a point a row.
            metadata (list, optional): a label a point, or a row of labels a point with ``metadata_header``.
            label_img (Tensor, optional): ``(N, C, H, W)``, a thumbnail a point, values in [0, 1].
            global_step (int, optional): the step. Default: 0.
            tag (str): the embedding's name. Default: ``"default"``.
            metadata_header (list, optional): the names of the label columns.

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as logdir:
        ...     with SummaryWriter(logdir) as writer:
        ...         writer.add_embedding(ember.randn(4, 3), metadata=["a", "b", "c", "d"])
        ...     sorted(os.listdir(os.path.join(logdir, "00000", "default")))
        ['metadata.tsv', 'tensors.tsv']
        """
        points = make_np(mat)
        global_step = 0 if global_step is None else global_step
        subdir = embedding_folder(tag, global_step)
        logdir = self._get_file_writer().get_logdir()
        save_path = os.path.join(logdir, subdir)
        if not tf.io.gfile.exists(save_path):
            tf.io.gfile.makedirs(save_path)
        elif tf.io.gfile.isdir(save_path):
            print("warning: Embedding dir exists, did you set global_step for add_embedding()?")
        else:
            raise NotADirectoryError(f"Path: `{save_path}` exists, but is a file. Cannot proceed.")
        if metadata is not None:
            if points.shape[0] != len(metadata):
                raise AssertionError(
                    f"#labels should equal with #data points: {len(metadata)} labels, {points.shape[0]} points"
                )
            make_tsv(metadata, save_path, metadata_header=metadata_header)
        if label_img is not None:
            if points.shape[0] != label_img.shape[0]:
                raise AssertionError(
                    f"#images should equal with #data points: {label_img.shape[0]} images, {points.shape[0]} points"
                )
            make_sprite(label_img, save_path)
        if points.ndim != 2:
            raise AssertionError(
                f"mat should be 2D, where mat.size(0) is the number of data points, got shape {points.shape}"
            )
        make_mat(points, save_path)
        if not hasattr(self, "_projector_config"):
            self._projector_config = ProjectorConfig()
        self._projector_config.embeddings.extend([get_embedding_info(metadata, label_img, subdir, global_step, tag)])
        write_pbtxt(logdir, text_format.MessageToString(self._projector_config))

    def add_pr_curve(
        self,
        tag: str,
        labels: Any,
        predictions: Any,
        global_step: int | None = None,
        num_thresholds: int = 127,
        weights: Any = None,
        walltime: float | None = None,
    ) -> None:
        """Adds a precision-recall curve of binary ``labels`` (0/1 or bool) against
        ``predictions`` (probabilities in [0, 1]) at ``num_thresholds`` (at most 127) thresholds.

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as logdir, SummaryWriter(logdir) as writer:
        ...     writer.add_pr_curve("pr", ember.randint(0, 2, (100,)), ember.rand(100), 0)
        """
        self._add(pr_curve(tag, make_np(labels), make_np(predictions), num_thresholds, weights), global_step, walltime)

    def add_pr_curve_raw(
        self,
        tag: str,
        true_positive_counts: Any,
        false_positive_counts: Any,
        true_negative_counts: Any,
        false_negative_counts: Any,
        precision: Any,
        recall: Any,
        global_step: int | None = None,
        num_thresholds: int = 127,
        weights: Any = None,
        walltime: float | None = None,
    ) -> None:
        """Adds a precision-recall curve from its counts and ratios, one entry a threshold.

        >>> import tempfile
        >>> counts = [[3.0, 2.0], [2.0, 0.0], [0.0, 2.0], [0.0, 1.0]]
        >>> with tempfile.TemporaryDirectory() as logdir, SummaryWriter(logdir) as writer:
        ...     writer.add_pr_curve_raw("pr", *counts, [0.6, 1.0], [1.0, 0.67], 0, num_thresholds=2)
        """
        summary = pr_curve_raw(
            tag,
            true_positive_counts,
            false_positive_counts,
            true_negative_counts,
            false_negative_counts,
            precision,
            recall,
            num_thresholds,
            weights,
        )
        self._add(summary, global_step, walltime)

    def add_custom_scalars_multilinechart(
        self, tags: Sequence[str], category: str = "default", title: str = "untitled"
    ) -> None:
        """Adds a custom scalars chart of the series ``tags`` drawn together.

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as logdir, SummaryWriter(logdir) as writer:
        ...     writer.add_custom_scalars_multilinechart(["loss/train", "loss/val"], title="loss")
        """
        self._add(custom_scalars({category: {title: ["Multiline", tags]}}))

    def add_custom_scalars_marginchart(
        self, tags: Sequence[str], category: str = "default", title: str = "untitled"
    ) -> None:
        """Adds a custom scalars chart of one series with a band: ``tags`` is ``[value, lower, upper]``.

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as logdir, SummaryWriter(logdir) as writer:
        ...     writer.add_custom_scalars_marginchart(["acc", "acc/low", "acc/high"], title="accuracy")
        """
        if len(tags) != 3:
            raise AssertionError(f"Expected 3 tags, got {len(tags)}.")
        self._add(custom_scalars({category: {title: ["Margin", tags]}}))

    def add_custom_scalars(self, layout: Mapping[str, Mapping[str, Sequence[Any]]]) -> None:
        """Adds the layout of the custom scalars plugin: ``{category: {title: ["Multiline",
        [tags]] or ["Margin", [value, lower, upper]]}}``, tags being regular expressions. Once a
        run is enough.

        >>> import tempfile
        >>> layout = {"Taiwan": {"twse": ["Multiline", ["twse/0050", "twse/2330"]]},
        ...           "USA": {"dow": ["Margin", ["dow/aaa", "dow/bbb", "dow/ccc"]]}}
        >>> with tempfile.TemporaryDirectory() as logdir, SummaryWriter(logdir) as writer:
        ...     writer.add_custom_scalars(layout)
        """
        self._add(custom_scalars(layout))

    def add_mesh(
        self,
        tag: str,
        vertices: Any,
        colors: Any = None,
        faces: Any = None,
        config_dict: Mapping[str, Any] | None = None,
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Adds a mesh or a point cloud for TensorBoard's mesh plugin: ``vertices`` ``(B, N, 3)``,
        ``colors`` ``(B, N, 3)`` (0-255), ``faces`` ``(B, F, 3)`` vertex indices;
        ``config_dict`` configures the three.js scene.

        >>> import tempfile
        >>> vertices = ember.tensor([[[1.0, 1, 1], [-1, -1, 1], [1, -1, -1], [-1, 1, -1]]])
        >>> faces = ember.tensor([[[0, 2, 3], [0, 3, 1], [0, 1, 2], [1, 3, 2]]])
        >>> with tempfile.TemporaryDirectory() as logdir, SummaryWriter(logdir) as writer:
        ...     writer.add_mesh("tetrahedron", vertices=vertices, faces=faces, global_step=0)
        """
        self._add(mesh(tag, vertices, colors, faces, config_dict), global_step, walltime)

    def flush(self) -> None:
        """Writes the queued events of every event file to disk.

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as logdir, SummaryWriter(logdir) as writer:
        ...     writer.flush()
        """
        for writer in (self.all_writers or {}).values():
            writer.flush()

    def close(self) -> None:
        """Writes the queued events and closes the event files (a later ``add_*`` opens a new
        file); closing twice does nothing.

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as logdir:
        ...     writer = SummaryWriter(logdir)
        ...     writer.close()
        """
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc_value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
