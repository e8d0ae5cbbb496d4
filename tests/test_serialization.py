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


def _assert_round_trip(obj, path, device):
    """``obj`` saved to ``path`` loads back bit for bit, on ``device``, with its shared tensor shared."""
    ember.save(obj, path)
    back = ember.load(path)
    _assert_same(obj, back)
    assert back["model"]["weight"].device == ember.device(device)
    # a tensor saved twice is stored once and comes back as one object
    assert back["optimizer"]["state"][0]["exp_avg"] is back["model"]["weight"]


def test_round_trip_bit_for_bit(device, tmp_path):
    _assert_round_trip(_state(device), tmp_path / "ck.safetensors", device)
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


# -- faults: crafted files, memory, interrupted saves ----------------------------------------
def _safetensors_bytes(header, data):
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + data


def test_overlapping_or_repeated_entries_cannot_amplify(tmp_path):
    bad = tmp_path / "bad.safetensors"
    entry = {"dtype": "F32", "shape": [1024], "data_offsets": [0, 4096]}
    # many names over the same bytes: rejected from the header, before any data is read
    bad.write_bytes(_safetensors_bytes({f"t{i}": entry for i in range(64)}, bytes(4096)))
    with pytest.raises(RuntimeError, match="gap or overlap"):
        ember.load(bad)
    # one array named many times by the structure: one object, never copies
    tree = {"list": [{"ndarray": "a"}] * 50 + [{"tensor": "a", "device": "cpu"}]}
    header = {"a": entry, "__metadata__": {"ember": json.dumps({"tuple": [{"ndarray": "a"}] * 50})}}
    bad.write_bytes(_safetensors_bytes(header, bytes(4096)))
    back = ember.load(bad)
    assert len({id(x) for x in back}) == 1
    header["__metadata__"]["ember"] = json.dumps(tree["list"])
    bad.write_bytes(_safetensors_bytes(header, bytes(4096)))
    with pytest.raises(RuntimeError, match="used both as"):
        ember.load(bad)


def test_header_checked_before_data_is_read(tmp_path):
    sparse = tmp_path / "huge.safetensors"
    with open(sparse, "wb") as f:  # 64 GiB of holes behind a header that does not describe them
        f.write(_safetensors_bytes({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b""))
        f.truncate(64 << 30)
    with pytest.raises(RuntimeError, match="need 16 bytes of data"):
        ember.load(sparse)
    with open(sparse, "r+b") as f:
        f.write((1 << 40).to_bytes(8, "little"))  # a header length past the limit
    with pytest.raises(RuntimeError, match="header length"):
        ember.load(sparse)
    if os.path.exists("/dev/zero"):
        for fmt in ("safetensors", "torch"):
            with pytest.raises(RuntimeError, match="not a valid checkpoint"):
                ember.load("/dev/zero", format=fmt)


_PEAK = r"""
import resource, sys, tracemalloc
import numpy as np
import ember
path = sys.argv[1]
small = path + ".small" + path[path.rindex("."):]
ember.save({"w": ember.ones(4)}, small)
ember.load(small)  # warm up imports and backend (on a tiny file), so only the checkpoint's memory is measured
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
state = ember.load(path)
peak = tracemalloc.get_traced_memory()[1]
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(peak, rss * 1024, sum(t.numel() * t.element_size() for t in state.values()))
"""


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_load_peak_memory_is_near_the_returned_size(tmp_path, suffix):
    import subprocess
    import sys

    path = tmp_path / f"big{suffix}"
    ember.save({f"w{i}": ember.ones(1 << 20) for i in range(16)}, path)  # 64 MiB
    size = path.stat().st_size
    done = subprocess.run([sys.executable, "-c", _PEAK, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    traced, rss, returned = (int(v) for v in done.stdout.split())
    assert returned == 64 << 20
    assert traced < 1.2 * size, (traced, size)  # no second copy of the data in Python's heap
    assert rss < 1.5 * size, (rss, size)


def test_stale_temporaries_of_dead_savers_are_removed(tmp_path):
    import socket
    import subprocess
    import sys

    path = tmp_path / "ck.pt"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host = socket.gethostname().replace(".", "-")
    stale = tmp_path / f".ck.pt.{host}.{int(dead.stdout)}.abc123.tmp"
    stale.write_bytes(b"x" * 1000)
    live = tmp_path / f".ck.pt.{host}.1.abc123.tmp"  # pid 1 is alive: another saver's file stays
    live.write_bytes(b"y")
    other = tmp_path / f".other.pt.{host}.{int(dead.stdout)}.abc123.tmp"  # another path's file stays
    other.write_bytes(b"z")
    ember.save({"v": 1}, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["ck.pt", live.name, other.name])


_SAVER = r"""
import sys
import ember
path, n = sys.argv[1], 0
state = {"w": ember.randn(256, 1024)}
while True:
    n += 1
    state["step"] = n
    ember.save(state, path)
"""


def test_kill_9_during_save_never_corrupts_and_leaves_nothing_behind(tmp_path):
    import random
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "ck.pt"
    ember.save({"w": ember.zeros(256, 1024), "step": 0}, path)
    rng = random.Random(0)
    last = 0
    for _ in range(20):
        proc = subprocess.Popen([sys.executable, "-c", _SAVER, str(path)])
        time.sleep(0.6 + rng.random() * 0.4)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        state = ember.load(path)  # always the previous or the new checkpoint, whole
        assert state["w"].shape == (256, 1024) and state["step"] >= 0
        last = state["step"]
    ember.save({"step": last + 1}, path)  # the next save cleans up what the killed ones left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.pt"]


def test_torch_format_round_trip_on_device(device, tmp_path):
    obj = _state(device)
    numpy_values = {k: obj.pop(k) for k in ("host", "scalar")}  # numpy needs weights_only=False, as in torch
    path = tmp_path / "ck.pt"
    _assert_round_trip(obj, path, device)
    ember.save(numpy_values, path)
    with pytest.raises(Exception, match="weights_only"):
        ember.load(path)
    _assert_same(numpy_values, ember.load(path, weights_only=False))
    assert sorted(os.listdir(tmp_path)) == ["ck.pt"]
