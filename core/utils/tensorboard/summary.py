"""The summary protocol buffers that :class:`~ember.utils.tensorboard.SummaryWriter` writes, one
function per kind of summary (PyTorch's ``torch.utils.tensorboard.summary``): each takes a tag
and ember tensors, NumPy arrays or Python numbers and returns a ``Summary`` of TensorBoard's
protobufs (``tensorboard.compat.proto``), in the form TensorBoard's plugins read.

>>> from ember.utils.tensorboard import summary
>>> print(summary.scalar("loss", ember.tensor(0.25)))
value {
  tag: "loss"
  simple_value: 0.25
}
<BLANKLINE>
"""

from __future__ import annotations

import io
import json
import logging
import tempfile
import wave
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from google.protobuf import struct_pb2
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.pr_curve.plugin_data_pb2 import PrCurvePluginData
from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData

import ember

from ._convert import make_np
from ._layout import convert_to_HWC, prepare_video

__all__ = [
    "half_to_int",
    "int_to_half",
    "hparams",
    "scalar",
    "histogram_raw",
    "histogram",
    "make_histogram",
    "image",
    "image_boxes",
    "draw_boxes",
    "make_image",
    "video",
    "make_video",
    "audio",
    "custom_scalars",
    "text",
    "tensor_proto",
    "pr_curve_raw",
    "pr_curve",
    "compute_curve",
    "mesh",
]

logger = logging.getLogger(__name__)

# pr curves: TensorBoard's plugin reads at most 127 thresholds
_MAX_THRESHOLDS = 127


def _plugin_metadata(plugin_name: str, content: bytes = b"") -> SummaryMetadata:
    return SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=plugin_name, content=content))


def _shape(*sizes: int) -> TensorShapeProto:
    return TensorShapeProto(dim=[TensorShapeProto.Dim(size=size) for size in sizes])


def half_to_int(f: float) -> int:
    """The bits of ``f`` as a float32, read as an int32 (PyTorch's helper of that name).

    >>> half_to_int(1.0)
    1065353216
    >>> int_to_half(half_to_int(1.0))
    1.0
    """
    return int(np.array(f, dtype=np.float32).view(np.int32))


def int_to_half(i: int) -> float:
    """The float32 whose bits are the int32 ``i``: undoes :func:`half_to_int`.

    >>> int_to_half(1069547520)
    1.5
    """
    return float(np.array(i, dtype=np.int32).view(np.float32))


def _hparams_summary(tag: str, **content: Any) -> Summary:
    from tensorboard.plugins.hparams.metadata import PLUGIN_DATA_VERSION, PLUGIN_NAME
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

    data = HParamsPluginData(version=PLUGIN_DATA_VERSION, **content).SerializeToString()
    return Summary(value=[Summary.Value(tag=tag, metadata=_plugin_metadata(PLUGIN_NAME, data))])


def hparams(
    hparam_dict: Mapping[str, Any] | None = None,
    metric_dict: Mapping[str, Any] | None = None,
    hparam_domain_discrete: Mapping[str, list[Any]] | None = None,
) -> tuple[Summary, Summary, Summary]:
    """The three summaries of TensorBoard's hparams plugin for one run: the experiment (the
    hyperparameters' names and types, the metrics' tags), the session start (the
    hyperparameters' values) and the session end (success).

    Args:
        hparam_dict (dict): hyperparameter name -> value: a number (``bool`` included, logged as
            a number as PyTorch does), a string, or a one-element tensor; ``None`` values are
            left out.
        metric_dict (dict): metric tag -> value; the tags are named here, the values are logged
            as scalars by :meth:`~ember.utils.tensorboard.SummaryWriter.add_hparams`.
        hparam_domain_discrete (dict, optional): hyperparameter name -> every value it can take
            (of its value's type).

    >>> experiment, start, end = hparams({"lr": 0.1, "optimizer": "sgd"}, {"accuracy": 0.9})
    >>> [summary.value[0].tag for summary in (experiment, start, end)]
    ['_hparams_/experiment', '_hparams_/session_start_info', '_hparams_/session_end_info']
    """
    from tensorboard.plugins.hparams.api_pb2 import DataType, Experiment, HParamInfo, MetricInfo, MetricName, Status
    from tensorboard.plugins.hparams.metadata import EXPERIMENT_TAG, SESSION_END_INFO_TAG, SESSION_START_INFO_TAG
    from tensorboard.plugins.hparams.plugin_data_pb2 import SessionEndInfo, SessionStartInfo

    if not isinstance(hparam_dict, dict):
        logger.warning("parameter: hparam_dict should be a dictionary, nothing logged.")
        raise TypeError("parameter: hparam_dict should be a dictionary, nothing logged.")
    if not isinstance(metric_dict, dict):
        logger.warning("parameter: metric_dict should be a dictionary, nothing logged.")
        raise TypeError("parameter: metric_dict should be a dictionary, nothing logged.")
    domains = hparam_domain_discrete or {}
    if not isinstance(domains, dict):
        raise TypeError("parameter: hparam_domain_discrete should be a dictionary, nothing logged.")
    for name, domain in domains.items():
        if (
            name not in hparam_dict
            or not isinstance(domain, list)
            or not all(isinstance(d, type(hparam_dict[name])) for d in domain)
        ):
            raise TypeError(
                f"parameter: hparam_domain_discrete[{name}] should be a list of same type as hparam_dict[{name}]."
            )

    infos = []
    start = SessionStartInfo()
    for name, value in hparam_dict.items():
        if value is None:
            continue
        if isinstance(value, ember.Tensor):
            value = float(make_np(value).reshape(-1)[0])
            kind, field = "DATA_TYPE_FLOAT64", "number_value"
        elif isinstance(value, (int, float)):  # bool too: a number, as in PyTorch
            kind, field = "DATA_TYPE_FLOAT64", "number_value"
        elif isinstance(value, str):
            kind, field = "DATA_TYPE_STRING", "string_value"
        else:
            raise ValueError("value should be one of int, float, str, bool, or ember.Tensor")
        setattr(start.hparams[name], field, value)
        domain = None
        if name in domains and not isinstance(hparam_dict[name], ember.Tensor):
            domain = struct_pb2.ListValue(values=[struct_pb2.Value(**{field: d}) for d in domains[name]])
        infos.append(HParamInfo(name=name, type=DataType.Value(kind), domain_discrete=domain))

    experiment = Experiment(
        hparam_infos=infos, metric_infos=[MetricInfo(name=MetricName(tag=tag)) for tag in metric_dict]
    )
    end = SessionEndInfo(status=Status.Value("STATUS_SUCCESS"))
    return (
        _hparams_summary(EXPERIMENT_TAG, experiment=experiment),
        _hparams_summary(SESSION_START_INFO_TAG, session_start_info=start),
        _hparams_summary(SESSION_END_INFO_TAG, session_end_info=end),
    )


def scalar(
    name: str, tensor: Any, collections: Any = None, new_style: bool = False, double_precision: bool = False
) -> Summary:
    """A summary of one value: ``simple_value`` (TensorBoard's classic scalar) or, with
    ``new_style``, a one-element float32 (float64 with ``double_precision``) tensor for the
    scalars plugin. ``tensor`` must hold one element. ``collections`` is ignored (TensorFlow's).

    >>> scalar("acc", 0.5, new_style=True).value[0].tensor.float_val
    [0.5]
    """
    value = make_np(tensor).squeeze()
    if value.ndim != 0:
        raise AssertionError(
            f"Tensor should contain one element (0 dimensions). Was given size: {value.size} and {value.ndim} dimensions."
        )
    number = float(value)
    if not new_style:
        return Summary(value=[Summary.Value(tag=name, simple_value=number)])
    if double_precision:
        proto = TensorProto(double_val=[number], dtype="DT_DOUBLE")
    else:
        proto = TensorProto(float_val=[number], dtype="DT_FLOAT")
    return Summary(value=[Summary.Value(tag=name, tensor=proto, metadata=_plugin_metadata("scalars"))])


def _sixteen_bit_patterns(values: np.ndarray) -> list[int]:
    # a TensorProto holds float16 and bfloat16 values as their 16 bits, one per int32 of half_val
    return values.reshape(-1).view(np.uint16).tolist()


def _real_and_imaginary(values: np.ndarray) -> list[float]:
    return np.stack([values.real, values.imag], axis=-1).reshape(-1).tolist()


def _flat_list(values: np.ndarray) -> list[Any]:
    return values.reshape(-1).tolist()


# NumPy dtype name -> (TensorProto dtype, the TensorProto field holding the values, their conversion)
_TENSOR_FIELDS = {
    "float16": ("DT_HALF", "half_val", _sixteen_bit_patterns),
    "bfloat16": ("DT_BFLOAT16", "half_val", _sixteen_bit_patterns),
    "float32": ("DT_FLOAT", "float_val", _flat_list),
    "float64": ("DT_DOUBLE", "double_val", _flat_list),
    "int8": ("DT_INT8", "int_val", _flat_list),
    "uint8": ("DT_UINT8", "uint32_val", _flat_list),
    "int16": ("DT_INT16", "int_val", _flat_list),
    "int32": ("DT_INT32", "int_val", _flat_list),
    "int64": ("DT_INT64", "int64_val", _flat_list),
    "complex64": ("DT_COMPLEX64", "scomplex_val", _real_and_imaginary),
    "complex128": ("DT_COMPLEX128", "dcomplex_val", _real_and_imaginary),
    "bool": ("DT_BOOL", "bool_val", _flat_list),
}


def tensor_proto(tag: str, tensor: Any) -> Summary:
    """A summary holding the whole tensor (shape, dtype and values) for TensorBoard's tensor
    plugin. float16 and bfloat16 values are stored as their 16 bits, the encoding TensorBoard
    decodes. Raises ``ValueError`` for a tensor of 2 GB or more (protobuf's limit) or of a dtype
    TensorProto cannot hold.

    >>> proto = tensor_proto("weights", ember.tensor([[1, 2], [3, 4]])).value[0].tensor
    >>> proto.dtype, [d.size for d in proto.tensor_shape.dim], proto.int64_val
    (9, [2, 2], [1, 2, 3, 4])
    """
    values = tensor.detach().cpu().numpy() if isinstance(tensor, ember.Tensor) else np.asarray(tensor)
    if values.nbytes >= 1 << 31:
        raise ValueError("tensor is bigger than protocol buffer's hard limit of 2GB in size")
    if values.dtype.name not in _TENSOR_FIELDS:
        raise ValueError(f"{tag} has unsupported tensor dtype {values.dtype}")
    dtype, field, convert = _TENSOR_FIELDS[values.dtype.name]
    proto = TensorProto(dtype=dtype, tensor_shape=_shape(*values.shape), **{field: convert(values)})
    return Summary(value=[Summary.Value(tag=tag, metadata=_plugin_metadata("tensor"), tensor=proto)])


def histogram_raw(
    name: str,
    min: float,
    max: float,
    num: int,
    sum: float,
    sum_squares: float,
    bucket_limits: Sequence[float],
    bucket_counts: Sequence[float],
) -> Summary:
    """A histogram summary from its statistics as given: bucket ``i`` counts
    ``bucket_counts[i]`` values up to ``bucket_limits[i]``.

    >>> histogram_raw("h", 0, 2, 3, 3, 5, [1, 2], [1, 2]).value[0].histo.bucket
    [1.0, 2.0]
    """
    histo = HistogramProto(
        min=min,
        max=max,
        num=num,
        sum=sum,
        sum_squares=sum_squares,
        bucket_limit=bucket_limits,
        bucket=bucket_counts,
    )
    return Summary(value=[Summary.Value(tag=name, histo=histo)])


def histogram(name: str, values: Any, bins: Any, max_bins: int | None = None) -> Summary:
    """A histogram summary of ``values`` (any shape, as float64) over ``bins`` (NumPy's: a count,
    edges or a rule name such as ``"auto"``), see :func:`make_histogram`.

    >>> histogram("w", ember.tensor([0.0, 1.0, 1.0]), bins=2).value[0].histo.bucket
    [0.0, 1.0, 2.0]
    """
    histo = make_histogram(make_np(values).astype(float), bins, max_bins)
    return Summary(value=[Summary.Value(tag=name, histo=histo)])


def make_histogram(values: np.ndarray, bins: Any, max_bins: int | None = None) -> HistogramProto:
    """The ``HistogramProto`` of ``values`` counted by :func:`numpy.histogram` over ``bins``, in
    TensorFlow's form: the empty buckets at either end left out, a zero bucket ending at the
    left edge of the first counted one. With ``max_bins``, neighbouring buckets are merged
    ``len(counts) // max_bins`` at a time when there are more than ``max_bins``.

    >>> proto = make_histogram(np.array([1.0, 2.0, 2.0]), bins=[0, 1, 2, 3, 4])
    >>> proto.bucket_limit, proto.bucket, proto.sum_squares
    ([1.0, 2.0, 3.0], [0.0, 1.0, 2.0], 9.0)
    """
    if values.size == 0:
        raise ValueError("The input has no element.")
    values = values.reshape(-1)
    counts, limits = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        merged = len(counts) // max_bins
        counts = np.pad(counts, (0, -len(counts) % merged)).reshape(-1, merged).sum(axis=-1)
        limits = np.append(limits[:-1:merged], limits[-1])
    counted = np.flatnonzero(counts)
    if counted.size == 0:
        raise ValueError("The histogram is empty, please file a bug report.")
    first, last = int(counted[0]), int(counted[-1])
    return HistogramProto(
        min=values.min(),
        max=values.max(),
        num=len(values),
        sum=values.sum(),
        sum_squares=values.dot(values),
        bucket_limit=limits[first : last + 2].tolist(),
        bucket=[0, *counts[first : last + 1].tolist()],
    )


def _pixel_scale(image: np.ndarray) -> int:
    # uint8 pixels are kept, others are taken to lie in [0, 1]
    return 1 if image.dtype == np.uint8 else 255


def _to_uint8(pixels: np.ndarray) -> np.ndarray:
    return (pixels.astype(np.float32) * _pixel_scale(pixels)).clip(0, 255).astype(np.uint8)


def image(tag: str, tensor: Any, rescale: float = 1, dataformats: str = "NCHW") -> Summary:
    """An image summary (PNG) of ``tensor`` laid out as ``dataformats`` (a batch on a grid, see
    :func:`~ember.utils.tensorboard._layout.convert_to_HWC`): uint8 pixels as they are, other
    dtypes scaled from [0, 1] to [0, 255] and clipped; 1 or 3 channels give RGB, 4 RGBA.
    ``rescale`` resizes the encoded image.

    >>> proto = image("img", ember.ones(3, 4, 5), dataformats="CHW").value[0].image
    >>> proto.height, proto.width, proto.colorspace
    (4, 5, 3)
    """
    pixels = convert_to_HWC(make_np(tensor), dataformats)
    return Summary(value=[Summary.Value(tag=tag, image=make_image(_to_uint8(pixels), rescale=rescale))])


def image_boxes(
    tag: str,
    tensor_image: Any,
    tensor_boxes: Any,
    rescale: float = 1,
    dataformats: str = "CHW",
    labels: Sequence[str] | None = None,
) -> Summary:
    """An image summary with boxes drawn in red: ``tensor_boxes`` is ``(N, 4)``, each row
    ``xmin, ymin, xmax, ymax`` in pixels; ``labels`` (one a box) are written on them.

    >>> proto = image_boxes("det", ember.zeros(3, 8, 8), ember.tensor([[1, 1, 5, 5]])).value[0].image
    >>> proto.encoded_image_string[:4]
    b'\\x89PNG'
    """
    pixels = convert_to_HWC(make_np(tensor_image), dataformats)
    proto = make_image(_to_uint8(pixels), rescale=rescale, rois=make_np(tensor_boxes), labels=labels)
    return Summary(value=[Summary.Value(tag=tag, image=proto)])


def _draw_box(image: Any, box: np.ndarray, label: str | None, color: str = "Red") -> None:
    from PIL import ImageDraw, ImageFont

    draw = ImageDraw.Draw(image)
    left, top, right, bottom = box
    draw.line([(left, top), (left, bottom), (right, bottom), (right, top), (left, top)], width=2, fill=color)
    if not label:
        return
    font = ImageFont.load_default()
    text_left, text_top, text_right, text_bottom = font.getbbox(label)
    text_width, text_height = text_right - text_left, text_bottom - text_top
    margin = np.ceil(0.05 * text_height)
    draw.rectangle([(left, bottom - text_height - 2 * margin), (left + text_width, bottom)], fill=color)
    draw.text((left + margin, bottom - text_height - margin), label, fill="black", font=font)


def draw_boxes(disp_image: Any, boxes: np.ndarray, labels: Sequence[str] | None = None) -> Any:
    """Draws ``boxes`` (``(N, 4)``: ``xmin, ymin, xmax, ymax``) in red on the PIL image
    ``disp_image``, each with its label when ``labels`` are given; returns the image.

    >>> from PIL import Image
    >>> draw_boxes(Image.new("RGB", (8, 8)), np.array([[1, 1, 6, 6]])).getpixel((1, 3))
    (255, 0, 0)
    """
    for index, box in enumerate(boxes):
        _draw_box(disp_image, box, None if labels is None else labels[index])
    return disp_image


def make_image(
    tensor: np.ndarray, rescale: float = 1, rois: np.ndarray | None = None, labels: Sequence[str] | None = None
) -> Summary.Image:
    """The ``Summary.Image`` (PNG) of a uint8 ``(H, W, C)`` array, boxes ``rois`` drawn on it
    (:func:`draw_boxes`), resized by ``rescale``; height, width and colorspace are those given.

    >>> make_image(np.zeros((2, 3, 3), dtype=np.uint8)).width
    3
    """
    from PIL import Image

    height, width, channels = tensor.shape
    picture = Image.fromarray(tensor)
    if rois is not None:
        picture = draw_boxes(picture, rois, labels=labels)
    picture = picture.resize((int(width * rescale), int(height * rescale)), Image.Resampling.LANCZOS)
    with io.BytesIO() as output:
        picture.save(output, format="PNG")
        encoded = output.getvalue()
    return Summary.Image(height=height, width=width, colorspace=channels, encoded_image_string=encoded)


def video(tag: str, tensor: Any, fps: int = 4) -> Summary:
    """A video summary (an animated GIF, through moviepy) of a batch of videos ``(N, T, C, H, W)``
    tiled into one (see :func:`~ember.utils.tensorboard._layout.prepare_video`), pixels scaled
    as :func:`image` does.

    >>> video("clip", ember.zeros(1, 2, 3, 4, 4))  # doctest: +SKIP
    """
    frames = _to_uint8(prepare_video(make_np(tensor)))
    return Summary(value=[Summary.Value(tag=tag, image=make_video(frames, fps))])


def _image_sequence_clip() -> Any:
    try:
        import moviepy
    except ImportError:
        raise ImportError("add_video needs package moviepy") from None
    if hasattr(moviepy, "ImageSequenceClip"):  # moviepy 2
        return moviepy.ImageSequenceClip
    try:
        from moviepy.editor import ImageSequenceClip
    except ImportError:
        raise ImportError(
            "moviepy is installed, but can't import moviepy.editor. Some packages could be missing [imageio, requests]"
        ) from None
    return ImageSequenceClip


def make_video(tensor: np.ndarray, fps: int) -> Summary.Image:
    """The ``Summary.Image`` holding a uint8 video ``(T, H, W, C)`` as an animated GIF at ``fps``
    frames a second. Needs moviepy: raises ``ImportError`` without it.

    >>> make_video(np.zeros((2, 4, 4, 3), dtype=np.uint8), fps=4)  # doctest: +SKIP
    """
    clip = _image_sequence_clip()(list(tensor), fps=fps)
    _, height, width, channels = tensor.shape
    with tempfile.NamedTemporaryFile(suffix=".gif") as gif:
        try:
            clip.write_gif(gif.name, logger=None)
        except TypeError:  # moviepy before 1.0 has no logger
            clip.write_gif(gif.name, verbose=False)
        gif.seek(0)
        encoded = gif.read()
    return Summary.Image(height=height, width=width, colorspace=channels, encoded_image_string=encoded)


def audio(tag: str, tensor: Any, sample_rate: int = 44100) -> Summary:
    """An audio summary: the one-channel waveform ``tensor`` (values in [-1, 1], clipped with a
    warning beyond) as a 16-bit PCM WAV file at ``sample_rate``.

    >>> proto = audio("tone", ember.zeros(100), sample_rate=8000).value[0].audio
    >>> proto.length_frames, proto.content_type, proto.encoded_audio_string[:4]
    (100, 'audio/wav', b'RIFF')
    """
    samples = make_np(tensor).squeeze()
    if abs(samples).max() > 1:
        print("warning: audio amplitude out of range, auto clipped.")
        samples = samples.clip(-1, 1)
    if samples.ndim != 1:
        raise AssertionError(f"input tensor should be 1 dimensional, got shape {samples.shape}.")
    samples = (samples * np.iinfo(np.int16).max).astype("<i2")
    with io.BytesIO() as output:
        with wave.open(output, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(sample_rate)
            wav.writeframes(samples.tobytes())
        encoded = output.getvalue()
    proto = Summary.Audio(
        sample_rate=sample_rate,
        num_channels=1,
        length_frames=samples.shape[-1],
        encoded_audio_string=encoded,
        content_type="audio/wav",
    )
    return Summary(value=[Summary.Value(tag=tag, audio=proto)])


def _chart(title: str, kind: str, tags: Sequence[str]) -> layout_pb2.Chart:
    if kind != "Margin":
        return layout_pb2.Chart(title=title, multiline=layout_pb2.MultilineChartContent(tag=tags))
    if len(tags) != 3:
        raise AssertionError(f"a Margin chart takes 3 tags (value, lower, upper), got {len(tags)}")
    series = layout_pb2.MarginChartContent.Series(value=tags[0], lower=tags[1], upper=tags[2])
    return layout_pb2.Chart(title=title, margin=layout_pb2.MarginChartContent(series=[series]))


def custom_scalars(layout: Mapping[str, Mapping[str, Sequence[Any]]]) -> Summary:
    """The layout summary of TensorBoard's custom scalars plugin: ``layout`` maps each category
    to its charts, ``{title: ["Multiline", [tags]]}`` or ``{title: ["Margin", [value, lower,
    upper]]}`` (tags may be regular expressions).

    >>> layout = {"loss": {"train vs val": ["Multiline", ["loss/train", "loss/val"]]}}
    >>> custom_scalars(layout).value[0].tag
    'custom_scalars__config__'
    """
    categories = [
        layout_pb2.Category(title=category, chart=[_chart(title, kind, tags) for title, (kind, tags) in charts.items()])
        for category, charts in layout.items()
    ]
    config = layout_pb2.Layout(category=categories).SerializeToString()
    proto = TensorProto(dtype="DT_STRING", string_val=[config], tensor_shape=TensorShapeProto())
    value = Summary.Value(tag="custom_scalars__config__", tensor=proto, metadata=_plugin_metadata("custom_scalars"))
    return Summary(value=[value])


def text(tag: str, text: str) -> Summary:
    """A text summary (Markdown) for TensorBoard's text plugin, tagged ``tag + "/text_summary"``.

    >>> text("notes", "**lr** 0.1").value[0].tensor.string_val
    [b'**lr** 0.1']
    """
    metadata = _plugin_metadata("text", TextPluginData(version=0).SerializeToString())
    proto = TensorProto(dtype="DT_STRING", string_val=[text.encode("utf_8")], tensor_shape=_shape(1))
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=metadata, tensor=proto)])


def _pr_curve_summary(tag: str, data: np.ndarray, num_thresholds: int) -> Summary:
    content = PrCurvePluginData(version=0, num_thresholds=num_thresholds).SerializeToString()
    proto = TensorProto(dtype="DT_FLOAT", float_val=data.reshape(-1).tolist(), tensor_shape=_shape(*data.shape))
    return Summary(value=[Summary.Value(tag=tag, metadata=_plugin_metadata("pr_curves", content), tensor=proto)])


def pr_curve_raw(
    tag: str,
    tp: Any,
    fp: Any,
    tn: Any,
    fn: Any,
    precision: Any,
    recall: Any,
    num_thresholds: int = 127,
    weights: Any = None,
) -> Summary:
    """A precision-recall curve summary from its counts and ratios as given, one entry a
    threshold (``num_thresholds``, at most 127). ``weights`` is ignored (as in PyTorch).

    >>> ones = [1.0, 1.0]
    >>> pr_curve_raw("pr", ones, ones, ones, ones, ones, ones, num_thresholds=2).value[0].tensor.tensor_shape.dim[0].size
    6
    """
    rows = (tp, fp, tn, fn, precision, recall)
    data = np.stack([np.asarray(row) if isinstance(row, (list, tuple)) else make_np(row) for row in rows])
    return _pr_curve_summary(tag, data, min(num_thresholds, _MAX_THRESHOLDS))


def pr_curve(tag: str, labels: Any, predictions: Any, num_thresholds: int = 127, weights: Any = None) -> Summary:
    """A precision-recall curve summary of binary ``labels`` against ``predictions`` in [0, 1],
    counted at ``num_thresholds`` (at most 127) evenly spaced thresholds by
    :func:`compute_curve`.

    >>> pr_curve("pr", ember.tensor([0, 1, 1]), ember.tensor([0.1, 0.6, 0.9]), num_thresholds=3).value[0].tensor.float_val[:3]
    [2.0, 2.0, 0.0]
    """
    num_thresholds = min(num_thresholds, _MAX_THRESHOLDS)
    data = compute_curve(make_np(labels), make_np(predictions), num_thresholds=num_thresholds, weights=weights)
    return _pr_curve_summary(tag, data, num_thresholds)


def compute_curve(
    labels: np.ndarray, predictions: np.ndarray, num_thresholds: int | None = None, weights: Any = None
) -> np.ndarray:
    """The ``(6, num_thresholds)`` rows true positives, false positives, true negatives, false
    negatives, precision and recall when predictions at or above each threshold ``i /
    (num_thresholds - 1)`` count as positive; ``weights`` weighs each example.

    >>> compute_curve(np.array([0, 1]), np.array([0.2, 0.8]), num_thresholds=3)
    array([[1. , 1. , 0. ],
           [1. , 0. , 0. ],
           [0. , 1. , 1. ],
           [0. , 0. , 1. ],
           [0.5, 1. , 0. ],
           [1. , 1. , 0. ]])
    """
    if num_thresholds is None:
        raise ValueError("compute_curve: num_thresholds must be given")
    weights = 1.0 if weights is None else weights
    buckets = np.int32(np.floor(predictions * (num_thresholds - 1)))
    positives = labels.astype(np.float64)

    def counted_from_each_threshold(example_weights: Any) -> np.ndarray:
        per_bucket, _ = np.histogram(
            buckets, bins=num_thresholds, range=(0, num_thresholds - 1), weights=example_weights
        )
        return np.cumsum(per_bucket[::-1])[::-1]

    tp = counted_from_each_threshold(positives * weights)
    fp = counted_from_each_threshold((1.0 - positives) * weights)
    tn = fp[0] - fp
    fn = tp[0] - tp
    smallest = 1e-7  # a count below which a ratio's denominator is clamped
    precision = tp / np.maximum(smallest, tp + fp)
    recall = tp / np.maximum(smallest, tp + fn)
    return np.stack((tp, fp, tn, fn, precision, recall))


def mesh(
    tag: str,
    vertices: Any,
    colors: Any,
    faces: Any,
    config_dict: Mapping[str, Any] | None,
    display_name: str | None = None,
    description: str | None = None,
) -> Summary:
    """A mesh or point cloud summary for TensorBoard's mesh plugin: ``vertices`` ``(B, N, 3)``
    coordinates, ``colors`` ``(B, N, 3)`` RGB and ``faces`` ``(B, F, 3)`` vertex indices (each
    optional but vertices), one summary value each; ``config_dict`` configures the three.js
    scene (camera, lights, material).

    >>> [v.tag for v in mesh("cube", ember.zeros(1, 8, 3), None, None, None).value]
    ['cube_VERTEX']
    """
    from tensorboard.plugins.mesh import metadata
    from tensorboard.plugins.mesh.plugin_data_pb2 import MeshPluginData

    json_config = "{}" if config_dict is None else json.dumps(config_dict, sort_keys=True)
    parts = [
        (make_np(part), content_type)
        for part, content_type in (
            (vertices, MeshPluginData.VERTEX),
            (faces, MeshPluginData.FACE),
            (colors, MeshPluginData.COLOR),
        )
        if part is not None
    ]
    components = metadata.get_components_bitmask([content_type for _, content_type in parts])
    values = []
    for part, content_type in parts:
        part_metadata = metadata.create_summary_metadata(
            tag, display_name, content_type, components, part.shape, description, json_config=json_config
        )
        proto = TensorProto(dtype="DT_FLOAT", float_val=part.reshape(-1).tolist(), tensor_shape=_shape(*part.shape[:3]))
        values.append(
            Summary.Value(tag=metadata.get_instance_name(tag, content_type), tensor=proto, metadata=part_metadata)
        )
    return Summary(value=values)
