"""ember.utils.tensorboard against torch.utils.tensorboard: the same calls on both SummaryWriters,
into two directories, give the same events (read back with TensorBoard's own reader; wall times
and the event files' names left out) and the same files (embeddings' tsv, sprite and projector
config; the sub-runs of add_scalars and add_hparams). Values are given to each library as its own
tensors made from one NumPy array. Skipped without the tensorboard package."""

from __future__ import annotations

import importlib
import math
import os
import re
import socket
import sys

import numpy as np
import pytest

import ember

pytest.importorskip("tensorboard")
torch = pytest.importorskip("torch")
from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader  # noqa: E402
from tensorboard.compat.proto.event_pb2 import Event  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402
from torch.utils import tensorboard as torch_tensorboard  # noqa: E402

from ember.utils import tensorboard as ember_tensorboard  # noqa: E402

LIBRARIES = {"torch": (torch, torch_tensorboard), "ember": (ember, ember_tensorboard)}


def _tensor_maker(library):
    def make(values, dtype=None):
        tensor = library.from_numpy(np.array(values))  # a copy, C-contiguous, 0-d kept
        return tensor if dtype is None else tensor.to(getattr(library, dtype))

    return make


def _events(logdir):
    """{event file's folder relative to logdir: [events without wall time]}, as written (TensorBoard's
    reader without its conversions of old summaries)."""
    found = {}
    for root, _, files in os.walk(logdir):
        for name in sorted(files):
            if name.startswith("events.out.tfevents."):
                events = []
                for record in RawEventFileLoader(os.path.join(root, name)).Load():
                    event = Event.FromString(record)
                    event.wall_time = 0
                    events.append(event)
                found.setdefault(os.path.relpath(root, logdir), []).extend(events)
    return found


def _other_files(logdir):
    """{path relative to logdir: bytes} of the files that are not event files."""
    return {
        os.path.relpath(os.path.join(root, name), logdir): open(os.path.join(root, name), "rb").read()
        for root, _, files in os.walk(logdir)
        for name in files
        if not name.startswith("events.out.tfevents.")
    }


def _write_both(tmp_path, write, **writer_options):
    """Runs ``write(writer, make_tensor)`` on torch's and ember's SummaryWriter; returns their
    (events, other files) by library."""
    written = {}
    for name, (library, module) in LIBRARIES.items():
        logdir = str(tmp_path / name)
        with module.SummaryWriter(logdir, **writer_options) as writer:
            write(writer, _tensor_maker(library))
        written[name] = (_events(logdir), _other_files(logdir))
    return written


def _assert_same(tmp_path, write, **writer_options):
    written = _write_both(tmp_path, write, **writer_options)
    events, files = written["ember"]
    assert events == written["torch"][0]
    assert files == written["torch"][1]
    return events, files


def _summary_values(events):
    return [value for event in events["."] if event.HasField("summary") for value in event.summary.value]


rng = np.random.default_rng(0)


# scalars


@pytest.mark.parametrize("style", [{}, {"new_style": True}, {"new_style": True, "double_precision": True}])
def test_add_scalar(tmp_path, style):
    def write(writer, make):
        writer.add_scalar("python float", 0.1, 0, **style)
        writer.add_scalar("python int", 3, 1, **style)
        writer.add_scalar("numpy", np.float64(1 / 3), 2, **style)
        writer.add_scalar("0-d float32", make(np.float32(1 / 3)), 3, **style)
        writer.add_scalar("1-element float64", make([2 / 3]), 4, **style)
        writer.add_scalar("int64", make(7), 5, **style)
        writer.add_scalar("float16", make([0.1], "float16"), 6, **style)
        writer.add_scalar("bfloat16", make([0.1], "bfloat16"), 7, **style)
        writer.add_scalar("walltime", 1.0, 8, walltime=123.0, **style)

    events, _ = _assert_same(tmp_path, write)
    assert len(_summary_values(events)) == 9


def test_add_scalar_bfloat16_beyond_float16_range_kept(tmp_path):
    # PyTorch passes bfloat16 through float16, where 1e5 overflows to inf; ember reads it as float32
    with ember_tensorboard.SummaryWriter(str(tmp_path)) as writer:
        writer.add_scalar("loss", ember.tensor(1e5, dtype=ember.bfloat16), 0)
    (value,) = _summary_values(_events(str(tmp_path)))
    assert value.simple_value == float(ember.tensor(1e5, dtype=ember.bfloat16))


def test_add_scalar_of_several_elements_raises():
    with pytest.raises(AssertionError, match="one element"):
        ember_tensorboard.summary.scalar("x", ember.ones(2))


def test_add_scalars_writes_sub_runs(tmp_path):
    def write(writer, make):
        for step in range(3):
            writer.add_scalars("run/loss", {"train": make(1.0 / (step + 1)), "val": step * 0.5}, step, walltime=10.0)

    events, _ = _assert_same(tmp_path, write)
    assert sorted(events) == [".", "run_loss_train", "run_loss_val"]
    assert [v.tag for e in events["run_loss_val"] for v in e.summary.value] == ["run/loss"] * 3


# tensors and histograms


@pytest.mark.parametrize(
    "dtype", ["float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool", "complex64", "complex128"]
)
def test_add_tensor(tmp_path, dtype):
    values = (rng.standard_normal((2, 3)) * 5).astype(dtype)
    if dtype.startswith("complex"):
        values = values + 1j * values[::-1]

    def write(writer, make):
        writer.add_tensor("t", make(values), 4)

    _assert_same(tmp_path, write)


def test_add_tensor_16_bit_floats_read_back_by_tensorboard(tmp_path):
    # PyTorch writes the float32 bits of each value into half_val, which TensorBoard decodes to
    # other numbers; ember writes the 16 bits, TensorBoard's encoding
    import ml_dtypes

    values = [[0.5, -1.25, 3.0]]
    with ember_tensorboard.SummaryWriter(str(tmp_path)) as writer:
        writer.add_tensor("float16", ember.tensor(values, dtype=ember.float16), 0)
        writer.add_tensor("bfloat16", ember.tensor(values, dtype=ember.bfloat16), 0)
    float16, bfloat16 = _summary_values(_events(str(tmp_path)))
    np.testing.assert_array_equal(tensor_util.make_ndarray(float16.tensor), np.float16(values))
    # (TensorBoard's own decoder has no NumPy bfloat16: the bits are read here with ml_dtypes')
    assert bfloat16.tensor.dtype == 14  # DT_BFLOAT16
    assert [d.size for d in bfloat16.tensor.tensor_shape.dim] == [1, 3]
    decoded = np.array(bfloat16.tensor.half_val, dtype=np.uint16).view(ml_dtypes.bfloat16)
    np.testing.assert_array_equal(decoded.astype(np.float32), np.float32(values).reshape(-1))


@pytest.mark.parametrize("bins", ["tensorflow", "auto", "fd", "doane", "sqrt", 7, [-3.0, -1.0, 0.0, 0.5, 3.0]])
def test_add_histogram(tmp_path, bins):
    values = rng.standard_normal(1000).astype(np.float32)

    def write(writer, make):
        writer.add_histogram("float32", make(values), 0, bins=bins)
        writer.add_histogram("float64", make(values.astype(np.float64) * 10), 1, bins=bins)
        writer.add_histogram("int64", make(np.arange(50) - 20), 2, bins=bins)
        writer.add_histogram("numpy", values.reshape(10, 100), 3, bins=bins)

    _assert_same(tmp_path, write)


@pytest.mark.parametrize("max_bins", [3, 7, 10, 64])
def test_add_histogram_max_bins(tmp_path, max_bins):
    values = rng.standard_normal(500)

    def write(writer, make):
        writer.add_histogram("w", make(values), 0, bins=100, max_bins=max_bins)
        writer.add_histogram("tf", make(values), 1, max_bins=max_bins)

    _assert_same(tmp_path, write)


def test_add_histogram_bfloat16_and_float16(tmp_path):
    values = rng.standard_normal(64)

    def write(writer, make):
        writer.add_histogram("bf16", make(values, "bfloat16"), 0)
        writer.add_histogram("f16", make(values, "float16"), 1)

    _assert_same(tmp_path, write)


def test_histogram_errors():
    with pytest.raises(ValueError, match="no element"):
        ember_tensorboard.summary.histogram("h", ember.ones(0), bins=3)
    with pytest.raises(ValueError, match="histogram is empty"):  # no value inside the buckets
        ember_tensorboard.summary.make_histogram(np.array([1e30]), bins=[0.0, 1.0])


def test_add_histogram_raw(tmp_path):
    def write(writer, make):
        writer.add_histogram_raw("raw", -1.0, 3.0, 10, 12.0, 40.0, [0.0, 1.0, 3.0], [2, 5, 3], global_step=2)

    _assert_same(tmp_path, write)
    with pytest.raises(ValueError, match="bucket_limits"):
        with ember_tensorboard.SummaryWriter(str(tmp_path / "bad")) as writer:
            writer.add_histogram_raw("raw", 0, 1, 1, 1, 1, [1.0], [1, 2])


# images


IMAGE_CASES = {
    "CHW float": (lambda: rng.random((3, 5, 7)), "CHW", None),
    "CHW float out of range": (lambda: rng.standard_normal((3, 4, 4)), "CHW", None),
    "1HW float": (lambda: rng.random((1, 6, 4)), "CHW", None),
    "RGBA CHW": (lambda: rng.random((4, 3, 5)), "CHW", None),
    "HWC uint8": (lambda: rng.integers(0, 256, (5, 6, 3)).astype(np.uint8), "HWC", None),
    "HW float32": (lambda: rng.random((8, 3)).astype(np.float32), "HW", None),
    "WHC lowercase": (lambda: rng.random((4, 6, 3)), "whc", None),
    "CHW float16": (lambda: rng.random((3, 4, 4)), "CHW", "float16"),
    "CHW bfloat16": (lambda: rng.random((3, 4, 4)), "CHW", "bfloat16"),
}


@pytest.mark.parametrize("case", list(IMAGE_CASES))
def test_add_image(tmp_path, case):
    make_values, dataformats, dtype = IMAGE_CASES[case]
    values = make_values()

    def write(writer, make):
        writer.add_image("img", make(values, dtype), 0, dataformats=dataformats)
        writer.add_image("numpy", values, 1, dataformats=dataformats)

    events, _ = _assert_same(tmp_path, write)
    image = _summary_values(events)[0].image
    assert image.encoded_image_string.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "shape, dataformats",
    [
        ((10, 3, 4, 5), "NCHW"),
        ((3, 1, 4, 4), "NCHW"),
        ((8, 4, 5, 3), "NHWC"),
        ((17, 2, 2, 3), "NHWC"),
        ((1, 3, 2, 2), "NCHW"),
    ],
)
def test_add_images(tmp_path, shape, dataformats):
    values = rng.random(shape).astype(np.float32)

    def write(writer, make):
        writer.add_images("batch", make(values), 0, dataformats=dataformats)
        writer.add_images("uint8", make((values * 255).astype(np.uint8)), 1, dataformats=dataformats)

    events, _ = _assert_same(tmp_path, write)
    count, height, width = shape[0], shape[dataformats.index("H")], shape[dataformats.index("W")]
    image = _summary_values(events)[0].image
    assert (image.height, image.width) == (math.ceil(count / 8) * height, min(count, 8) * width)


def test_image_layout_errors():
    with pytest.raises(AssertionError, match="same dimension shorthand twice"):
        ember_tensorboard.summary.image("x", ember.ones(3, 4, 4), dataformats="CCW")
    with pytest.raises(AssertionError, match="size of input tensor and input format are different"):
        ember_tensorboard.summary.image("x", ember.ones(3, 4), dataformats="CHW")
    with pytest.raises(AssertionError, match="3 channels"):
        ember_tensorboard.summary.image("x", ember.ones(2, 2, 4, 4), dataformats="NCHW")


def test_add_image_with_boxes(tmp_path):
    picture = rng.random((3, 32, 40))
    boxes = np.array([[2.0, 3.0, 20.0, 25.0], [10, 12, 38, 30]])

    def write(writer, make):
        writer.add_image_with_boxes("boxes", make(picture), make(boxes), 0)
        writer.add_image_with_boxes("labelled", make(picture), make(boxes), 1, labels=["cat", "dog"])
        writer.add_image_with_boxes("one label", make(picture), make(boxes[:1]), 2, labels="cat")
        writer.add_image_with_boxes("wrong count", make(picture), make(boxes), 3, labels=["cat"])
        writer.add_image_with_boxes("rescaled", make(picture), make(boxes), 4, rescale=0.5)

    _assert_same(tmp_path, write)


def test_add_figure(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def figure(offset):
        drawn = plt.figure(figsize=(2, 1.5), dpi=40)
        plt.plot([0, 1, 2], [offset, 1, 0])
        return drawn

    def write(writer, make):
        writer.add_figure("one", figure(0), 0)
        writer.add_figure("list", [figure(0), figure(1)], 1)
        kept = figure(2)
        writer.add_figure("kept", kept, 2, close=False)
        assert plt.fignum_exists(kept.number)
        plt.close(kept)

    _assert_same(tmp_path, write)


def test_add_video_without_moviepy(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "moviepy", None)
    with ember_tensorboard.SummaryWriter(str(tmp_path)) as writer:
        with pytest.raises(ImportError, match="add_video needs package moviepy"):
            writer.add_video("clip", ember.rand(2, 3, 3, 4, 4), 0)


def test_add_video_with_moviepy(tmp_path):
    # (PyTorch's add_video reads moviepy.editor, which moviepy 2 removed: it writes an empty image)
    pytest.importorskip("moviepy")
    frames = rng.random((3, 4, 3, 8, 8)).astype(np.float32)
    with ember_tensorboard.SummaryWriter(str(tmp_path)) as writer:
        writer.add_video("float", ember.from_numpy(frames), 0, fps=2)
        writer.add_video("uint8", ember.from_numpy((frames * 255).astype(np.uint8)), 1)
    for value in _summary_values(_events(str(tmp_path))):
        image = value.image
        assert (image.height, image.width, image.colorspace) == (8, 32, 3)  # 3 videos padded to 4, on 1 row
        assert image.encoded_image_string.startswith(b"GIF89a")


@pytest.mark.parametrize("count", [1, 3, 4, 5])
def test_video_tiling(count):
    from torch.utils.tensorboard._utils import _prepare_video

    from ember.utils.tensorboard._layout import prepare_video

    for values in (rng.random((count, 2, 3, 4, 5)), rng.integers(0, 256, (count, 2, 3, 4, 5)).astype(np.uint8)):
        expected = _prepare_video(values)
        got = prepare_video(values)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


# audio and text


def test_add_audio(tmp_path):
    tone = np.sin(np.arange(400) * 2 * np.pi * 440 / 8000).astype(np.float32)

    def write(writer, make):
        writer.add_audio("tone", make(tone), 0, sample_rate=8000)
        writer.add_audio("float64 (1, L)", make(tone[None].astype(np.float64) * 0.3), 1)
        writer.add_audio("clipped", make(tone * 2), 2, sample_rate=16000)

    events, _ = _assert_same(tmp_path, write)
    audio = _summary_values(events)[0].audio
    assert audio.encoded_audio_string.startswith(b"RIFF") and audio.length_frames == 400


def test_add_audio_of_several_channels_raises():
    with pytest.raises(AssertionError, match="1 dimensional"):
        ember_tensorboard.summary.audio("a", ember.zeros(2, 10))


def test_add_text(tmp_path):
    def write(writer, make):
        writer.add_text("notes", "learning rate **0.1**", 0)
        writer.add_text("unicode", "température ≈ 20 °C", 1)

    _assert_same(tmp_path, write)


# graphs


def test_add_graph_records_the_exported_graph(tmp_path):
    """add_graph runs as PyTorch's tutorials call it; the graph is the ONNX exporter's (PyTorch's is its
    JIT trace's), the same as add_onnx_graph of the exported file, and the model keeps its mode."""
    pytest.importorskip("onnx")
    model = ember.nn.Sequential(ember.nn.Conv2d(1, 2, 3), ember.nn.ReLU(), ember.nn.Flatten(), ember.nn.Linear(8, 3))
    path = str(tmp_path / "model.onnx")
    ember.onnx.export(model, ember.randn(1, 1, 4, 4), path)
    graphs = []
    for name, log in (("graph", lambda w: w.add_graph(model, [ember.randn(1, 1, 4, 4)])), ("file", None)):
        with ember_tensorboard.SummaryWriter(str(tmp_path / name)) as writer:
            log(writer) if log is not None else writer.add_onnx_graph(path)
        (event,) = [e for e in _events(tmp_path / name)["."] if e.graph_def]
        graphs.append(event.graph_def)
    assert graphs[0] == graphs[1]
    assert model.training


def test_add_onnx_graph(tmp_path):
    pytest.importorskip("onnx")
    path = str(tmp_path / "model.onnx")
    model = ember.nn.Sequential(ember.nn.Conv2d(1, 2, 3), ember.nn.ReLU(), ember.nn.Flatten(), ember.nn.Linear(8, 3))
    ember.onnx.export(model, ember.randn(1, 1, 4, 4), path, input_names=["image"], output_names=["logits"])

    def write(writer, make):
        writer.add_onnx_graph(path)

    events, _ = _assert_same(tmp_path / "logs", write)
    (graph_event,) = [event for event in events["."] if event.graph_def]
    assert graph_event.step == 0


# embeddings


def test_add_embedding_files(tmp_path):
    points = rng.standard_normal((6, 3)).astype(np.float32)
    thumbnails = rng.random((6, 3, 4, 4)).astype(np.float32)

    def write(writer, make):
        writer.add_embedding(make(points), metadata=list("abcdef"), label_img=make(thumbnails), global_step=3)
        writer.add_embedding(
            make(points[:, :2].astype(np.float64)),
            metadata=[[i, "even" if i % 2 == 0 else "odd"] for i in range(6)],
            metadata_header=["index", "parity"],
            tag="features/layer%1\\x",
        )
        writer.add_embedding(
            make(np.arange(12).reshape(4, 3)), label_img=make(thumbnails[:4, :1]), tag="grey", global_step=12
        )

    _, files = _assert_same(tmp_path, write)
    assert sorted(files) == [
        "00000/features%2flayer%251%5cx/metadata.tsv",
        "00000/features%2flayer%251%5cx/tensors.tsv",
        "00003/default/metadata.tsv",
        "00003/default/sprite.png",
        "00003/default/tensors.tsv",
        "00012/grey/sprite.png",
        "00012/grey/tensors.tsv",
        "projector_config.pbtxt",
    ]


def test_add_embedding_tensor_of_labels(tmp_path):
    # PyTorch writes each label of a tensor as "tensor(3)"; ember writes the numbers
    with ember_tensorboard.SummaryWriter(str(tmp_path)) as writer:
        writer.add_embedding(ember.ones(3, 2), metadata=ember.tensor([3, 1, 2]))
        writer.add_embedding(
            ember.ones(2, 2), metadata=ember.tensor([[0, 1], [1, 0]]), metadata_header=["a", "b"], tag="t"
        )
    assert (tmp_path / "00000" / "default" / "metadata.tsv").read_text() == "3\n1\n2\n"
    assert (tmp_path / "00000" / "t" / "metadata.tsv").read_text() == "a\tb\n0\t1\n1\t0\n"


def test_add_embedding_errors(tmp_path, capsys):
    with ember_tensorboard.SummaryWriter(str(tmp_path)) as writer:
        with pytest.raises(AssertionError, match="#labels"):
            writer.add_embedding(ember.ones(3, 2), metadata=["a"])
        with pytest.raises(AssertionError, match="#images"):
            writer.add_embedding(ember.ones(3, 2), label_img=ember.ones(2, 3, 4, 4))
        with pytest.raises(AssertionError, match="2D"):
            writer.add_embedding(ember.ones(3, 2, 1))
        assert "Embedding dir exists" in capsys.readouterr().out
        os.makedirs(tmp_path / "00005")
        (tmp_path / "00005" / "x").write_text("")
        with pytest.raises(NotADirectoryError):
            writer.add_embedding(ember.ones(3, 2), tag="x", global_step=5)


# pr curves, custom scalars, meshes


def test_add_pr_curve(tmp_path):
    labels = rng.integers(0, 2, 100)
    predictions = rng.random(100).astype(np.float32)
    weights = rng.random(100)

    def write(writer, make):
        writer.add_pr_curve("pr", make(labels), make(predictions), 0)
        writer.add_pr_curve(
            "bool labels, 10", make(labels.astype(bool)), make(predictions.astype(np.float64)), 1, num_thresholds=10
        )
        writer.add_pr_curve("weighted", make(labels), make(predictions), 2, weights=weights)
        writer.add_pr_curve("capped at 127", labels, predictions, 3, num_thresholds=500)

    _assert_same(tmp_path, write)


def test_add_pr_curve_raw(tmp_path):
    counts = [rng.integers(0, 20, 5).astype(np.float64) for _ in range(4)]
    ratios = [rng.random(5) for _ in range(2)]

    def write(writer, make):
        writer.add_pr_curve_raw("raw", *[make(x) for x in counts + ratios], 0, num_thresholds=5)
        writer.add_pr_curve_raw("numpy", *counts, *ratios, 1, num_thresholds=5)
        writer.add_pr_curve_raw("lists", *[x.tolist() for x in counts + ratios], 2, num_thresholds=5)

    _assert_same(tmp_path, write)


def test_add_custom_scalars(tmp_path):
    layout = {
        "Taiwan": {"twse": ["Multiline", ["twse/0050", "twse/2330"]]},
        "USA": {"dow": ["Margin", ["dow/aaa", "dow/bbb", "dow/ccc"]], "nasdaq": ["Multiline", ["nasdaq/.*"]]},
    }

    def write(writer, make):
        writer.add_custom_scalars(layout)
        writer.add_custom_scalars_multilinechart(["loss/train", "loss/val"])
        writer.add_custom_scalars_multilinechart(["acc/.*"], category="accuracy", title="all")
        writer.add_custom_scalars_marginchart(["acc", "acc/low", "acc/high"], category="c", title="t")

    _assert_same(tmp_path, write)
    with ember_tensorboard.SummaryWriter(str(tmp_path / "bad")) as writer:
        with pytest.raises(AssertionError, match="Expected 3 tags"):
            writer.add_custom_scalars_marginchart(["a", "b"])


def test_add_mesh(tmp_path):
    vertices = np.array([[[1, 1, 1], [-1, -1, 1], [1, -1, -1], [-1, 1, -1]]], dtype=np.float32)
    colors = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 0, 255]]], dtype=np.int64)
    faces = np.array([[[0, 2, 3], [0, 3, 1], [0, 1, 2], [1, 3, 2]]], dtype=np.int64)
    config = {
        "camera": {"cls": "PerspectiveCamera", "fov": 75},
        "lights": [{"cls": "AmbientLight", "color": "#ffffff"}],
    }

    def write(writer, make):
        writer.add_mesh("points", make(vertices), global_step=0)
        writer.add_mesh(
            "mesh", make(vertices), colors=make(colors), faces=make(faces), config_dict=config, global_step=1
        )

    _assert_same(tmp_path, write)


# hyperparameters


def test_add_hparams(tmp_path):
    def write(writer, make):
        writer.add_hparams(
            {"lr": 0.1, "bsize": 32, "optimizer": "sgd", "nesterov": True, "momentum": make([0.9]), "unused": None},
            {"hparam/accuracy": 0.91, "hparam/loss": make(0.25)},
            hparam_domain_discrete={"optimizer": ["sgd", "adam"], "bsize": [16, 32]},
            run_name="trial-1",
        )
        writer.add_hparams({"lr": 0.01}, {"hparam/accuracy": 0.5}, run_name="trial-2", global_step=4)

    events, _ = _assert_same(tmp_path, write)
    assert sorted(events) == [".", "trial-1", "trial-2"]
    assert [v.tag for e in events["trial-1"] for v in e.summary.value] == [
        "_hparams_/experiment",
        "_hparams_/session_start_info",
        "_hparams_/session_end_info",
        "hparam/accuracy",
        "hparam/loss",
    ]


def test_add_hparams_zero_dimensional_tensor(tmp_path):
    # PyTorch indexes the value's array: IndexError for a 0-d tensor (loss.mean(), lr tensors)
    _, start, _ = ember_tensorboard.summary.hparams({"lr": ember.tensor(0.5), "decay": ember.tensor([0.25])}, {})
    _, expected, _ = ember_tensorboard.summary.hparams({"lr": 0.5, "decay": 0.25}, {})
    assert start == expected


def test_add_hparams_run_named_by_time(tmp_path):
    with ember_tensorboard.SummaryWriter(str(tmp_path)) as writer:
        writer.add_hparams({"lr": 0.1}, {"acc": 1.0})
    (run,) = [name for name in os.listdir(tmp_path) if not name.startswith("events")]
    assert re.fullmatch(r"\d+\.\d+", run)


def test_add_hparams_errors(tmp_path):
    for name, (_, module) in LIBRARIES.items():
        with module.SummaryWriter(str(tmp_path / name)) as writer:
            with pytest.raises(TypeError, match="should be dictionary"):
                writer.add_hparams([("lr", 0.1)], {})
            with pytest.raises(TypeError, match=r"hparam_domain_discrete\[lr\]"):
                writer.add_hparams({"lr": 0.1}, {}, hparam_domain_discrete={"lr": [1, 2]})
            with pytest.raises(ValueError, match="value should be one of"):
                writer.add_hparams({"lr": [0.1]}, {})


# the writer itself


def test_purge_step_and_filename_suffix(tmp_path):
    def write(writer, make):
        writer.add_scalar("x", 1.0, 11)

    events, _ = _assert_same(tmp_path, write, purge_step=10, filename_suffix=".run1")
    assert [e.step for e in events["."]] == [0, 10, 10, 11]
    for name in LIBRARIES:
        (file,) = os.listdir(tmp_path / name)
        assert file.endswith(".run1")


def test_default_log_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = ember_tensorboard.SummaryWriter(comment="-lr0.1")
    writer.close()
    logdir = writer.get_logdir()
    assert re.fullmatch(rf"runs/[A-Z][a-z]{{2}}\d\d_\d\d-\d\d-\d\d_{re.escape(socket.gethostname())}-lr0\.1", logdir)
    assert os.path.isdir(logdir)


def test_writes_after_close_go_to_a_new_file(tmp_path):
    def write(writer, make):
        writer.add_scalar("x", 1.0, 0)
        writer.close()
        writer.close()
        writer.add_scalar("x", 2.0, 1)
        writer.flush()

    written = _write_both(tmp_path, write)
    for name in LIBRARIES:
        assert len(os.listdir(tmp_path / name)) == 2
    events = written["ember"][0]["."]
    assert [v.simple_value for e in events for v in e.summary.value] == [1.0, 2.0]


def test_file_writer_and_record_writer(tmp_path):
    from tensorboard.compat.proto.summary_pb2 import Summary

    assert ember_tensorboard.RecordWriter is torch_tensorboard.RecordWriter
    writer = ember_tensorboard.FileWriter(tmp_path)
    assert writer.get_logdir() == str(tmp_path)
    writer.add_summary(Summary(value=[Summary.Value(tag="x", simple_value=2.0)]), global_step=5, walltime=7.0)
    writer.close()
    (event,) = [e for e in _events(str(tmp_path))["."] if e.HasField("summary")]
    assert event.step == 5 and event.summary.value[0].simple_value == 2.0


def test_tensorboard_reads_the_run(tmp_path):
    # TensorBoard's own loader (with its conversions of classic summaries to tensors) reads the run
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with ember_tensorboard.SummaryWriter(str(tmp_path)) as writer:
        for step in range(3):
            writer.add_scalar("loss", ember.tensor(1.0 / (step + 1)), step)
        writer.add_histogram("weights", ember.arange(10, dtype=ember.float32), 0)
        writer.add_image("picture", ember.zeros(3, 4, 5), 0)
        writer.add_text("notes", "hello", 0)
    run = EventAccumulator(str(tmp_path), size_guidance={"tensors": 0})
    run.Reload()
    assert [(e.step, e.value) for e in run.Scalars("loss")] == [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]
    (histogram,) = run.Histograms("weights")
    assert (histogram.histogram_value.num, histogram.histogram_value.sum) == (10, 45.0)
    (picture,) = run.Images("picture")
    assert (picture.height, picture.width) == (4, 5)
    (notes,) = run.Tensors("notes/text_summary")
    assert tensor_util.make_ndarray(notes.tensor_proto).tolist() == [b"hello"]


def test_tensors_on_a_device(tmp_path, device):
    values = rng.random((3, 4, 4)).astype(np.float32)
    weights = ember.tensor(values, device=device, requires_grad=True)
    total = weights.sum()  # a device's sum may differ from NumPy's in the last bit
    with ember_tensorboard.SummaryWriter(str(tmp_path / "device")) as writer:
        writer.add_scalar("x", total, 0)
        writer.add_histogram("h", weights, 0)
        writer.add_image("i", weights[:3], 0)
    with ember_tensorboard.SummaryWriter(str(tmp_path / "host")) as writer:
        writer.add_scalar("x", total.item(), 0)
        writer.add_histogram("h", values, 0)
        writer.add_image("i", values, 0)
    device_events = _events(str(tmp_path / "device"))["."]
    host_events = _events(str(tmp_path / "host"))["."]
    assert [e.summary for e in device_events] == [e.summary for e in host_events]


def test_unsupported_value_type():
    for module in (ember_tensorboard, torch_tensorboard):
        with pytest.raises(NotImplementedError, match="numpy array"):
            module.summary.histogram("h", [1.0, 2.0], bins=2)


def test_import_without_tensorboard_raises_as_torch(monkeypatch):
    errors = {}
    for name in ("torch.utils.tensorboard", "ember.utils.tensorboard"):
        for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            monkeypatch.delitem(sys.modules, module)
        monkeypatch.setitem(sys.modules, "tensorboard", None)
        with pytest.raises(ImportError) as raised:
            importlib.import_module(name)
        errors[name] = type(raised.value)
    assert errors["ember.utils.tensorboard"] is errors["torch.utils.tensorboard"] is ModuleNotFoundError
