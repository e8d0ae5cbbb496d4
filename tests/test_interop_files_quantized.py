"""Quantized tensors, their dtypes and quantization schemes in PyTorch's checkpoint format, both ways."""

import io
import pickle

import pytest

import ember

torch = pytest.importorskip("torch")


def _quantized(lib):
    x = lib.tensor([[1.0, 2.0, -0.5], [0.3, 0.2, -3.0]])
    return {
        "qint8": lib.quantize_per_tensor(x, 0.1, 3, lib.qint8),
        "quint8": lib.quantize_per_tensor(x, 0.05, 100, lib.quint8),
        "qint32": lib.quantize_per_tensor(x, 0.01, 0, lib.qint32),
        "transposed": lib.quantize_per_tensor(x, 0.1, 3, lib.qint8).t(),
        "channel": lib.quantize_per_channel(
            x, lib.tensor([0.1, 0.2], dtype=lib.float64), lib.tensor([0, 3]), 0, lib.qint8
        ),
        "float_qparams": lib.quantize_per_channel(
            x, lib.tensor([0.1, 0.2, 0.3]), lib.tensor([0.0, 0.5, 1.0]), 1, lib.quint8
        ),
    }


def _same(ours, theirs):
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert str(ours.qscheme()).split(".")[-1] == str(theirs.qscheme()).split(".")[-1]
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.int_repr().tolist() == theirs.int_repr().tolist()
    assert ours.dequantize().tolist() == theirs.dequantize().tolist()


@pytest.mark.parametrize("weights_only", [True, False])
@pytest.mark.parametrize("zipfile_format", [True, False])
def test_torch_quantized_tensors_load(zipfile_format, weights_only):
    theirs = _quantized(torch)
    buffer = io.BytesIO()
    torch.save(theirs, buffer, _use_new_zipfile_serialization=zipfile_format)
    buffer.seek(0)
    ours = ember.load(buffer, weights_only=weights_only)
    for key, t in theirs.items():
        _same(ours[key], t)
    assert ours["transposed"].stride() == theirs["transposed"].stride() == (1, 3)
    assert ours["channel"].q_per_channel_scales().tolist() == [0.1, 0.2]
    assert ours["channel"].q_per_channel_axis() == 0


@pytest.mark.parametrize("zipfile_format", [True, False])
def test_ember_quantized_tensors_load_in_torch(zipfile_format):
    ours = _quantized(ember)
    buffer = io.BytesIO()
    ember.save(ours, buffer, _use_new_zipfile_serialization=zipfile_format)
    theirs = torch.load(io.BytesIO(buffer.getvalue()), weights_only=zipfile_format)  # torch: legacy needs False
    expected = _quantized(torch)
    for key, t in expected.items():
        _same(ours[key], t)
        assert torch.equal(theirs[key].int_repr(), t.int_repr()) and theirs[key].qscheme() == t.qscheme()
    again = ember.load(io.BytesIO(buffer.getvalue()))
    for key, t in expected.items():
        _same(again[key], t)


def test_quantized_dtypes_and_schemes_as_objects_both_ways():
    names = ["qint8", "quint8", "qint32", "quint4x2", "quint2x4"]
    schemes = ["per_tensor_affine", "per_channel_affine", "per_tensor_symmetric", "per_channel_symmetric"]
    buffer = io.BytesIO()
    torch.save({"dtypes": [getattr(torch, n) for n in names], "schemes": [getattr(torch, n) for n in schemes]}, buffer)
    buffer.seek(0)
    ours = ember.load(buffer)  # both on PyTorch's weights-only allow-list
    assert ours["dtypes"] == [getattr(ember, n) for n in names]
    assert all(a is getattr(ember, n) for a, n in zip(ours["schemes"], schemes))
    buffer = io.BytesIO()
    ember.save(ours, buffer)
    buffer.seek(0)
    theirs = torch.load(buffer, weights_only=True)
    assert theirs == {"dtypes": [getattr(torch, n) for n in names], "schemes": [getattr(torch, n) for n in schemes]}


def test_packed_quantized_tensors_are_refused_naming_them():
    buffer = io.BytesIO()
    torch.save({"q": torch.quantize_per_tensor(torch.tensor([1.0, 2.0]), 0.5, 1, torch.quint4x2)}, buffer)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="QUInt4x2Storage"):
        ember.load(buffer)
    with pytest.raises(TypeError, match="no storage for quantized dtype ember.quint4x2"):
        ember.save({"q": ember.quantize_per_tensor(ember.tensor([1.0, 2.0]), 0.5, 1, ember.quint4x2)}, io.BytesIO())


def test_crafted_quantizer_parameters_are_refused():
    q = ember.quantize_per_channel(
        ember.ones(2, 3), ember.tensor([0.1, 0.2], dtype=ember.float64), ember.tensor([0, 1]), 0, ember.qint8
    )
    q._axis = 7  # a file naming an axis beyond the tensor's dimensions
    buffer = io.BytesIO()
    ember.save(q, buffer)
    with pytest.raises(ValueError, match="per_channel axis 7 out of range for size"):
        torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)
    # ember reports every bad record of a file as a corrupt checkpoint, naming the record's fault
    with pytest.raises(RuntimeError, match="not a valid checkpoint.*per_channel axis 7 out of range for size"):
        ember.load(io.BytesIO(buffer.getvalue()))
