"""ember.save / ember.load: bit-exact round trips, map_location, corrupt files, no code execution."""

import collections
import io
import json
import math
import os

import numpy as np
import pytest

import ember


def _state(device):
    w = ember.randn(3, 2, device=device)
    return {
        "model": collections.OrderedDict(weight=w, bias=ember.zeros(2, dtype=ember.int64, device=device)),
        "optimizer": {
            "state": {0: {"step": ember.tensor(3.0, device=device), "exp_avg": w}},
            "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1], "nesterov": False, "foo": None}],
        },
        "epoch": 7,
        "big": 2**100,
        "floats": [math.inf, -math.inf, 1e-310, 0.1],
        "text": "é",
        "raw": b"\x00\xff",
        "dtype": ember.float16,
        "where": ember.device("cpu"),
        "rng": ember.default_generator.get_state(),
        "host": np.arange(4, dtype=np.int16),
        "scalar": np.float32(2.5),
    }


def _assert_same(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, ember.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.numpy(force=True).tobytes() == b.numpy(force=True).tobytes()
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    else:
        assert a == b or (a != a and b != b)


def test_round_trip_bit_for_bit(device, tmp_path):
    obj = _state(device)
    path = tmp_path / "ck.safetensors"
    ember.save(obj, path)
    back = ember.load(path)
    _assert_same(obj, back)
    assert back["model"]["weight"].device == ember.device(device)
    # a tensor saved twice is stored once and comes back as one object
    assert back["optimizer"]["state"][0]["exp_avg"] is back["model"]["weight"]
    assert sorted(os.listdir(tmp_path)) == ["ck.safetensors"]  # no temp file left behind


@pytest.mark.parametrize("dt", ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"])
def test_all_dtypes_and_special_values(dt, tmp_path):
    host = np.array([0, 1, 255, 7], dtype=np.uint8).astype(dt)
    if dt.startswith("float"):
        host = np.array([np.nan, -0.0, np.inf, 1e-7], dtype=dt)
        host.view(np.uint8)[0] ^= 1  # a NaN with a non-default payload survives too
    t = ember.tensor(host)
    empty = ember.zeros(0, 3, dtype=getattr(ember, dt))
    buffer = io.BytesIO()
    ember.save({"t": t, "empty": empty, "scalar": t[1]}, buffer)
    buffer.seek(0)
    back = ember.load(buffer)
    assert back["t"].numpy().tobytes() == host.tobytes()
    assert back["empty"].shape == (0, 3) and back["scalar"].shape == ()


def test_map_location_forms(tmp_path):
    path = tmp_path / "ck.safetensors"
    ember.save({"w": ember.ones(2), "n": 1}, path)
    assert ember.load(path, map_location="restricted")["w"].device == ember.device("restricted")
    assert ember.load(path, map_location=ember.device("restricted"))["w"].device == ember.device("restricted")
    assert ember.load(path, map_location={"cpu": "restricted"})["w"].device == ember.device("restricted")
    assert ember.load(path, map_location={"cuda:0": "cpu"})["w"].device == ember.device("cpu")
    seen = []

    def fn(t, location):
        seen.append(location)
        return t.to("restricted")

    assert ember.load(path, map_location=fn)["w"].device == ember.device("restricted") and seen == ["cpu"]
    assert ember.load(path, map_location=lambda t, loc: None)["w"].device == ember.device("cpu")
    back = ember.load(path, map_location="restricted")
    ember.save(back, path)
    assert ember.load(path, map_location="cpu")["w"].device == ember.device("cpu")
    with pytest.raises(RuntimeError, match="map_location"):
        ember.load(path, map_location="nosuchdevice")


def test_truncated_and_corrupt_files(tmp_path):
    path = tmp_path / "ck.safetensors"
    ember.save({"w": ember.randn(10, 10), "epoch": 1}, path)
    data = path.read_bytes()
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        RuntimeError, match=r"ember.load: .*bad.safetensors is not a valid checkpoint \(truncated or corrupt\)"
    ):
        ember.load(bad)
    bad.write_bytes(b"\x00" * 3)
    with pytest.raises(RuntimeError, match="not a valid checkpoint"):
        ember.load(bad)
    bad.write_bytes(os.urandom(200))
    with pytest.raises(RuntimeError, match="not a valid checkpoint"):
        ember.load(bad)
    # valid safetensors, but the structure names an array that is not there
    header_size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + header_size])
    header["__metadata__"]["ember"] = json.dumps({"dict": [["w", {"tensor": "99"}]]})
    new_header = json.dumps(header).encode()
    new_header += b" " * (-len(new_header) % 8)
    bad.write_bytes(len(new_header).to_bytes(8, "little") + new_header + data[8 + header_size :])
    with pytest.raises(RuntimeError, match="not a valid checkpoint.*99"):
        ember.load(bad)
    with pytest.raises(FileNotFoundError):
        ember.load(tmp_path / "missing.safetensors")


def test_plain_safetensors_file_loads_as_state_dict(tmp_path):
    import safetensors.numpy

    path = tmp_path / "plain.safetensors"
    safetensors.numpy.save_file({"b": np.ones(2, np.float32), "a": np.zeros((1, 2))}, str(path))
    back = ember.load(path)
    assert list(back) == ["a", "b"] and back["b"].dtype == ember.float32


def test_unsupported_objects_and_formats(tmp_path):
    with pytest.raises(TypeError, match="ember.save: cannot save an object of type object"):
        ember.save({"x": object()}, tmp_path / "x.safetensors")
    with pytest.raises(ValueError, match="unknown checkpoint format 'pickle'"):
        ember.save({}, tmp_path / "x", format="pickle")
    assert not os.listdir(tmp_path)


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "ck.safetensors"
    ember.save({"v": 1}, path)

    def boom(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        ember.save({"v": 2}, path)
    monkeypatch.undo()
    assert ember.load(path) == {"v": 1}
    assert sorted(os.listdir(tmp_path)) == ["ck.safetensors"]


def test_format_registered_through_plugin_hook():
    from ember.plugin import checkpoint_format_registry

    assert "safetensors" in checkpoint_format_registry().names()
