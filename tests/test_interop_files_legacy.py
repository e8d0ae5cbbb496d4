"""Old checkpoints in PyTorch's legacy format: those saved on a GPU before PyTorch 1.0 name their storages
``torch.cuda.FloatStorage`` (on PyTorch's weights-only allow-list); they load with ``map_location``."""

import io

import pytest

import ember

torch = pytest.importorskip("torch")


def _gpu_checkpoint():
    """A legacy checkpoint as a GPU saved it before PyTorch 1.0: torch.cuda storage classes, location cuda:0
    (made from a CPU one: its pickle names the classes and the location in plain bytes)."""
    buffer = io.BytesIO()
    torch.save(
        {"w": torch.arange(4.0), "b": torch.arange(3), "h": torch.ones(2).half()},
        buffer,
        _use_new_zipfile_serialization=False,
    )
    data = buffer.getvalue()
    for storage in (b"FloatStorage", b"LongStorage", b"HalfStorage"):
        assert data.count(b"ctorch\n" + storage + b"\n") == 1
        data = data.replace(b"ctorch\n" + storage + b"\n", b"ctorch.cuda\n" + storage + b"\n")
    assert data.count(b"X\x03\x00\x00\x00cpu") == 1
    return data.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")


@pytest.mark.parametrize("weights_only", [True, False])
@pytest.mark.parametrize("map_location", ["cpu", {"cuda:0": "cpu"}, lambda storage, location: storage])
def test_checkpoints_saved_on_a_gpu_before_pytorch_1_load_on_the_cpu(weights_only, map_location):
    data = _gpu_checkpoint()
    theirs = torch.load(io.BytesIO(data), map_location=map_location, weights_only=weights_only)
    ours = ember.load(io.BytesIO(data), map_location=map_location, weights_only=weights_only)
    assert list(ours) == list(theirs) == ["w", "b", "h"]
    for key in theirs:
        assert str(ours[key].dtype).split(".")[-1] == str(theirs[key].dtype).split(".")[-1]
        assert ours[key].tolist() == theirs[key].tolist() and ours[key].device == ember.device("cpu")


def test_without_map_location_the_missing_device_is_named():
    data = _gpu_checkpoint()
    with pytest.raises(RuntimeError, match="CUDA"):
        torch.load(io.BytesIO(data), weights_only=True)
    if ember.cuda.is_available():
        pytest.skip("this machine has a GPU: the tensors load on it")
    with pytest.raises(RuntimeError, match="cannot place a tensor saved on 'cuda:0'.*pass map_location"):
        ember.load(io.BytesIO(data))
