"""Checkpoints that several ``torch.save`` calls wrote one after another into one stream: each load reads
the checkpoint at the stream's position, never silently another one. (``torch.load`` reads the one at the
position of a legacy-format stream; of zip checkpoints, it finds the last one's directory, and reads the
right one only where the checkpoints happen to be laid out alike, else it fails: never another's values.)"""

import io

import pytest

import ember

torch = pytest.importorskip("torch")


def _three_saves(lib, zipfile_format=True):
    """A stream holding three checkpoints, and where each starts."""
    stream, starts = io.BytesIO(), []
    for obj in ({"a": lib.ones(1)}, {"b": lib.zeros(3), "c": lib.arange(100.0)[::7]}, {"d": 5}):
        starts.append(stream.tell())
        lib.save(obj, stream, _use_new_zipfile_serialization=zipfile_format)
    return stream, starts


@pytest.mark.parametrize("writer", ["torch", "ember"])
def test_each_load_reads_the_checkpoint_at_the_position(writer):
    stream, starts = _three_saves(torch if writer == "torch" else ember)
    for start, keys in zip(starts, (["a"], ["b", "c"], ["d"])):
        stream.seek(start)
        ours = ember.load(stream)
        assert list(ours) == keys
    stream.seek(starts[1])
    ours = ember.load(stream)
    assert ours["c"].tolist() == list(range(0, 100, 7)) and ours["c"].stride() == (7,)
    stream.seek(0)
    assert ember.serialization.get_unsafe_globals_in_checkpoint(stream) == []


@pytest.mark.parametrize("zipfile_format", [True, False])
def test_consecutive_loads_read_consecutive_checkpoints(tmp_path, zipfile_format):
    stream, _ = _three_saves(torch, zipfile_format)
    path = tmp_path / "log.pt"
    path.write_bytes(stream.getvalue())
    if not zipfile_format:  # PyTorch's own reading of its legacy format, which ember's follows
        with open(path, "rb") as f:
            assert [list(torch.load(f, weights_only=True)) for _ in range(3)] == [["a"], ["b", "c"], ["d"]]
    with open(path, "rb") as f:
        loaded = [ember.load(f) for _ in range(3)]
    assert [list(x) for x in loaded] == [["a"], ["b", "c"], ["d"]]
    assert loaded[0]["a"].tolist() == [1.0] and loaded[2]["d"] == 5
    # the first, and only it, through a memory map of the file too
    assert list(ember.load(path, mmap=zipfile_format)) == ["a"]
