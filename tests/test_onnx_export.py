"""ember.onnx.export: the exported graph, run in onnxruntime, reproduces ember's outputs.

The exporter reads parameters and example inputs on the host, and onnxruntime runs on the
CPU, so these tests build their models on the ``cpu`` device only.
"""

from __future__ import annotations

import importlib
import io
import sys

import numpy as np
import pytest

import ember
import ember.onnx
from ember import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _outputs(value):
    if isinstance(value, ember.Tensor):
        return [value]
    return [t for item in value for t in _outputs(item)]


def _roundtrip(model, args, run_args=None, **kwargs):
    """Export, run in onnxruntime on ``run_args`` (default ``args``), compare with ember's outputs."""
    buffer = io.BytesIO()
    proto = ember.onnx.export(model, args, buffer, **kwargs)
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    run_args = args if run_args is None else run_args
    model.eval()
    with ember.no_grad():
        expected = _outputs(model(*run_args))
    feeds = {i.name: a.numpy() for i, a in zip(session.get_inputs(), run_args)}
    got = session.run(None, feeds)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == tuple(e.shape)
        np.testing.assert_allclose(g, e.numpy(), rtol=1e-4, atol=1e-5)
    return proto


def _trained_stats(model, shape):
    model.train()
    with ember.no_grad():
        for _ in range(3):
            model(ember.randn(*shape) * 2 + 1)
    return model


LAYERS = {
    "linear": (lambda: nn.Linear(5, 3), (4, 5)),
    "linear_3d_input": (lambda: nn.Linear(5, 3), (2, 4, 5)),
    "linear_no_bias": (lambda: nn.Linear(5, 3, bias=False), (4, 5)),
    "conv1d": (lambda: nn.Conv1d(3, 4, 3, stride=2, padding=1), (2, 3, 9)),
    "conv2d": (lambda: nn.Conv2d(4, 6, 3, stride=(1, 2), padding=(1, 0), dilation=2, groups=2), (2, 4, 9, 9)),
    "conv2d_same": (lambda: nn.Conv2d(3, 2, 4, padding="same"), (1, 3, 7, 7)),
    "conv2d_reflect": (lambda: nn.Conv2d(3, 2, 3, padding=1, padding_mode="reflect"), (1, 3, 6, 6)),
    "conv2d_unbatched": (lambda: nn.Conv2d(3, 2, 3), (3, 6, 6)),
    "conv3d": (lambda: nn.Conv3d(2, 3, 3, padding=1), (1, 2, 4, 5, 5)),
    "conv_transpose1d": (lambda: nn.ConvTranspose1d(3, 2, 3, stride=2, output_padding=1), (2, 3, 5)),
    "conv_transpose2d": (lambda: nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, groups=2), (2, 4, 5, 5)),
    "conv_transpose3d": (lambda: nn.ConvTranspose3d(2, 2, 2, stride=2), (1, 2, 3, 3, 3)),
    "max_pool1d": (lambda: nn.MaxPool1d(3, stride=2), (2, 3, 10)),
    "max_pool2d": (lambda: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 3, 10, 10)),
    "max_pool3d": (lambda: nn.MaxPool3d(2), (1, 2, 4, 4, 4)),
    "avg_pool1d": (lambda: nn.AvgPool1d(3, stride=2, padding=1), (2, 3, 10)),
    "avg_pool2d": (lambda: nn.AvgPool2d(2, padding=1, count_include_pad=False), (2, 3, 7, 7)),
    "avg_pool3d": (lambda: nn.AvgPool3d(2), (1, 2, 4, 4, 4)),
    "adaptive_avg_pool2d_1": (lambda: nn.AdaptiveAvgPool2d(1), (2, 3, 5, 5)),
    "adaptive_avg_pool2d_2": (lambda: nn.AdaptiveAvgPool2d((2, 3)), (2, 3, 4, 6)),
    "adaptive_avg_pool1d": (lambda: nn.AdaptiveAvgPool1d(2), (2, 3, 8)),
    "adaptive_max_pool2d": (lambda: nn.AdaptiveMaxPool2d(1), (2, 3, 5, 5)),
    "batch_norm1d": (lambda: _trained_stats(nn.BatchNorm1d(4), (8, 4)), (3, 4)),
    "batch_norm1d_3d": (lambda: _trained_stats(nn.BatchNorm1d(4), (8, 4, 5)), (3, 4, 5)),
    "batch_norm2d": (lambda: _trained_stats(nn.BatchNorm2d(3), (4, 3, 5, 5)), (2, 3, 5, 5)),
    "batch_norm2d_no_affine": (lambda: _trained_stats(nn.BatchNorm2d(3, affine=False), (4, 3, 5, 5)), (2, 3, 5, 5)),
    "batch_norm3d": (lambda: _trained_stats(nn.BatchNorm3d(2), (2, 2, 3, 3, 3)), (2, 2, 3, 3, 3)),
    "relu": (nn.ReLU, (3, 4)),
    "gelu": (nn.GELU, (3, 4)),
    "gelu_tanh": (lambda: nn.GELU(approximate="tanh"), (3, 4)),
    "tanh": (nn.Tanh, (3, 4)),
    "sigmoid": (nn.Sigmoid, (3, 4)),
    "softmax": (lambda: nn.Softmax(dim=-1), (3, 4)),
    "log_softmax": (lambda: nn.LogSoftmax(dim=1), (3, 4, 2)),
    "leaky_relu": (lambda: nn.LeakyReLU(0.2), (3, 4)),
    "elu": (lambda: nn.ELU(0.5), (3, 4)),
    "silu": (nn.SiLU, (3, 4)),
    "dropout": (lambda: nn.Dropout(0.5).train(), (3, 4)),
    "dropout2d": (lambda: nn.Dropout2d(0.5), (2, 3, 4, 4)),
    "identity": (nn.Identity, (3, 4)),
    "flatten": (nn.Flatten, (2, 3, 4, 5)),
    "flatten_middle": (lambda: nn.Flatten(1, 2), (2, 3, 4, 5)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_matches_onnxruntime(name):
    make, shape = LAYERS[name]
    model = make()
    _roundtrip(model, (ember.randn(*shape),))


@pytest.mark.parametrize("opset", [13, 17, 20])
def test_gelu_across_opsets(opset):
    for approximate in ("none", "tanh"):
        proto = _roundtrip(nn.GELU(approximate=approximate), (ember.randn(3, 4),), opset_version=opset)
        assert ("Gelu" in {n.op_type for n in proto.graph.node}) is (opset >= 20)


def test_embedding_matches_onnxruntime():
    model = nn.Embedding(10, 4)
    _roundtrip(model, (ember.tensor([[1, 2, 9], [0, 0, 3]]),))


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU])
@pytest.mark.parametrize(
    "options",
    [
        dict(),
        dict(batch_first=True),
        dict(num_layers=2),
        dict(bidirectional=True),
        dict(num_layers=2, bidirectional=True, batch_first=True),
        dict(bias=False),
    ],
    ids=["plain", "batch_first", "layers", "bidirectional", "all", "no_bias"],
)
def test_recurrent_layers_match_onnxruntime(cls, options):
    model = cls(3, 5, **options)
    _roundtrip(model, (ember.randn(4, 2, 3),))


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU])
def test_recurrent_layers_with_initial_state(cls):
    model = cls(3, 4, num_layers=2, bidirectional=True)
    h0 = ember.randn(4, 2, 4)
    state = (h0, ember.randn(4, 2, 4)) if cls is nn.LSTM else h0

    class Wrapper(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = model

        def forward(self, x, h, c=None):
            return self.rnn(x, (h, c) if c is not None else h)

    args = (ember.randn(5, 2, 3), *(state if cls is nn.LSTM else (state,)))
    _roundtrip(Wrapper(), args)


def test_nested_tuple_inputs_become_graph_inputs():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 4)

        def forward(self, x, hidden):
            out, (h, c) = self.lstm(x, hidden)
            return out, h, c

    model = Net()
    args = (ember.randn(5, 2, 3), (ember.zeros(1, 2, 4), ember.zeros(1, 2, 4)))
    proto = ember.onnx.export(model, args, io.BytesIO())
    assert [i.name for i in proto.graph.input] == ["x", "hidden.0", "hidden.1"]
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    state = (ember.randn(1, 2, 4), ember.randn(1, 2, 4))
    got = session.run(None, {"x": args[0].numpy(), "hidden.0": state[0].numpy(), "hidden.1": state[1].numpy()})
    with ember.no_grad():
        expected = model(args[0], state)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e.numpy(), rtol=1e-4, atol=1e-5)


def test_rnn_relu_and_unbatched_input():
    _roundtrip(nn.RNN(3, 4, nonlinearity="relu"), (ember.randn(5, 3),))
    _roundtrip(nn.LSTM(3, 4, num_layers=2), (ember.randn(5, 3),))


class _ForwardCode(nn.Module):
    """A forward pass that mixes layers with direct tensor operations."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4 * 2 * 3 + 3, 6)
        self.scale = nn.Parameter(ember.randn(6, 6))

    def forward(self, image, extra):
        x = ember.relu(self.conv(image))
        x = x[:, :, ::2, 1:].reshape(x.shape[0], -1)
        x = ember.cat([x, extra * 2 - 1], dim=1)
        x = self.fc(x).view(x.size(0), 2, 3).permute(0, 2, 1).flatten(1)
        y = x.matmul(self.scale) + x / 3
        z = ember.nn.functional.softmax(y.unsqueeze(1), dim=-1).squeeze(1)
        return z.mean(dim=1, keepdim=True), ember.sigmoid(y.transpose(0, 1)).sum(0)


def test_forward_code_ops_match_onnxruntime():
    args = (ember.randn(2, 1, 6, 6), ember.randn(2, 3))
    _roundtrip(_ForwardCode(), args)


def test_dynamic_batch_axis():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3), nn.Softmax(1))
    names = dict(input_names=["x"], output_names=["probs"], dynamic_axes={"x": {0: "batch"}, "probs": [0]})
    proto = _roundtrip(model, (ember.randn(2, 1, 6, 6),), run_args=(ember.randn(5, 1, 6, 6),), **names)
    assert [i.name for i in proto.graph.input] == ["x"]
    assert [o.name for o in proto.graph.output] == ["probs"]
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "probs_dynamic_axes_1"


def test_dynamic_batch_through_view_in_forward_code():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 4, batch_first=True)
            self.head = nn.Linear(4, 2)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out[:, -1, :]).view(x.size(0), -1)

    _roundtrip(
        Net(), (ember.randn(2, 5, 3),), run_args=(ember.randn(7, 5, 3),), input_names=["x"],
        dynamic_axes={"x": {0: "batch"}},
    )  # fmt: skip


def test_writes_a_file_with_state_dict_names(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2))
    path = tmp_path / "model.onnx"
    ember.onnx.export(model, ember.randn(1, 3), str(path))
    loaded = onnx.load(str(path))
    assert {i.name for i in loaded.graph.initializer} == {"0.weight", "0.bias"}
    assert loaded.opset_import[0].version == ember.onnx.DEFAULT_OPSET


def test_a_value_returned_twice_and_an_input_returned():
    class Net(nn.Module):
        def forward(self, x):
            y = x * 2
            return y, y, x

    proto = _roundtrip(Net(), (ember.randn(3),), output_names=["a", "b", "c"])
    assert [o.name for o in proto.graph.output] == ["a", "b", "c"]


def test_export_params_false_makes_parameters_inputs():
    model = nn.Linear(3, 2)
    proto = ember.onnx.export(model, ember.randn(1, 3), io.BytesIO(), export_params=False)
    assert not proto.graph.initializer
    assert [i.name for i in proto.graph.input] == ["input", "weight", "bias"]


def test_model_mode_is_restored_and_in_export_flag():
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append((ember.onnx.is_in_onnx_export(), self.training))
            return x + 1

    model = Probe().train()
    ember.onnx.export(model, ember.randn(2), io.BytesIO())
    assert seen == [(True, False)]
    assert model.training and not ember.onnx.is_in_onnx_export()
    assert all(p.requires_grad for p in nn.Linear(2, 2).parameters())


def test_parameters_keep_requires_grad_after_export():
    model = nn.Linear(2, 2)
    ember.onnx.export(model, ember.randn(1, 2), io.BytesIO())
    assert all(p.requires_grad for p in model.parameters())
    assert ember.Tensor.reshape.__name__ == "reshape" and "traced" not in repr(ember.Tensor.reshape)


def test_unrecorded_operation_on_traced_values_is_an_error():
    class Net(nn.Module):
        def forward(self, x):
            return x.logcumsumexp(0) + 1

    with pytest.raises(ember.onnx.UnsupportedOperatorError, match="does not record"):
        ember.onnx.export(Net(), ember.randn(3), io.BytesIO())


@pytest.mark.parametrize(
    "model,shape",
    [
        (lambda: nn.MaxPool2d(2, return_indices=True), (1, 1, 4, 4)),
        (lambda: nn.AvgPool2d(2, divisor_override=3), (1, 1, 4, 4)),
    ],
)
def test_unsupported_options_are_errors(model, shape):
    with pytest.raises(ember.onnx.UnsupportedOperatorError):
        ember.onnx.export(model(), ember.randn(*shape), io.BytesIO())


def test_old_opset_is_refused():
    with pytest.raises(ember.onnx.OnnxExporterError, match="opset_version 11"):
        ember.onnx.export(nn.ReLU(), ember.randn(2), io.BytesIO(), opset_version=11)


def test_import_works_without_onnx_and_export_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    module = importlib.reload(ember.onnx)
    with pytest.raises(ImportError, match="pip install"):
        module.export(nn.ReLU(), ember.randn(2), io.BytesIO())
