"""torch.serialization's options beside save and load, against PyTorch: the ``safe_globals`` context
manager's exit, the pickle opcodes a ``weights_only`` load reads, ``skip_data``, ``register_package`` /
``location_tag`` / ``default_restore_location``, and ``torch.utils.serialization.config``."""

import collections
import io
import mmap
import pickle
import zipfile

import numpy as np
import pytest

import ember
import ember.utils.serialization.config as ember_config

torch = pytest.importorskip("torch")
from torch.utils.serialization import config as torch_config  # noqa: E402


@pytest.fixture(autouse=True)
def _clean_state():
    registries = {lib: list(getattr(lib.serialization, "_package_registry", [])) for lib in (torch, ember)}
    for lib in (torch, ember):
        lib.serialization.clear_safe_globals()
    yield
    for lib in (torch, ember):
        lib.serialization.clear_safe_globals()
        if registries[lib]:
            lib.serialization._package_registry[:] = registries[lib]
    for config in (torch_config, ember_config):
        config.save.storage_alignment = 64
        config.load.mmap = False


class _First:
    pass


class _Second:
    pass


def test_safe_globals_exit_removes_its_globals_as_torch():
    for lib in (torch, ember):
        lib.serialization.add_safe_globals([_First])
        with lib.serialization.safe_globals([_First, collections.deque]):
            assert {_First, collections.deque} <= set(lib.serialization.get_safe_globals())
            lib.serialization.add_safe_globals([_Second])  # added inside the block: stays
        # the block's globals are gone, even _First that was allowed before it
        assert lib.serialization.get_safe_globals() == [_Second], lib.__name__
        with pytest.raises(KeyError):  # and the exit runs on an error too
            with lib.serialization.safe_globals([collections.deque]):
                raise KeyError("x")
        assert collections.deque not in lib.serialization.get_safe_globals()


_OBJECTS = {
    "tensors": lambda lib: {"w": lib.ones(2), "n": 3, "s": "abc", "x": [1.5, None]},
    "bytes": lambda lib: {"b": b"xy"},
    "set": lambda lib: {"s": {1, 2}},
    "bytearray": lambda lib: bytearray(b"ab"),
    "tuples": lambda lib: (1, (2, 3), (4, 5, 6), (7, 8, 9, 10)),
}


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
@pytest.mark.parametrize("kind", list(_OBJECTS))
@pytest.mark.parametrize("legacy", [False, True])
def test_weights_only_reads_the_opcodes_torch_reads(protocol, kind, legacy):
    refused = {}
    for saver in (torch, ember):
        buffer = io.BytesIO()
        saver.save(_OBJECTS[kind](saver), buffer, pickle_protocol=protocol, _use_new_zipfile_serialization=not legacy)
        for loader in (torch, ember):
            try:
                loader.load(io.BytesIO(buffer.getvalue()), weights_only=True)
                refused[saver.__name__, loader.__name__] = False
            except pickle.UnpicklingError as exc:
                refused[saver.__name__, loader.__name__] = True
                if loader is ember:
                    assert "unsupported pickle opcode" in str(exc) and "weights_only=False" in str(exc)
        again = ember.load(io.BytesIO(buffer.getvalue()), weights_only=False)
        assert type(again) is type(_OBJECTS[kind](ember))
    assert refused[("torch", "ember")] == refused[("torch", "torch")], refused
    assert refused[("ember", "ember")] == refused[("ember", "torch")], refused
    assert refused[("torch", "torch")] == (protocol >= 4 or (protocol == 3 and kind in ("bytes", "bytearray")))


def test_skip_data_as_torch(tmp_path):
    for lib in (torch, ember):
        buffer = io.BytesIO()
        base = lib.arange(6.0).reshape(2, 3)
        with lib.serialization.skip_data():
            lib.save({"a": base, "row": base[1], "i": lib.arange(3)}, buffer)
            with pytest.raises(RuntimeError, match="Cannot use skip_data=True with _use_new_zipfile_serialization"):
                lib.save({}, io.BytesIO(), _use_new_zipfile_serialization=False)
        back = lib.load(io.BytesIO(buffer.getvalue()))
        assert back["a"].tolist() == [[0.0] * 3] * 2 and back["i"].tolist() == [0, 0, 0]
        assert back["row"].storage_offset() == 3
        full = io.BytesIO()
        lib.save({"a": base}, full)
        with lib.serialization.skip_data():
            skipped = lib.load(io.BytesIO(full.getvalue()))["a"]
        assert tuple(skipped.shape) == (2, 3) and str(skipped.dtype).endswith("float32")
        assert lib.load(io.BytesIO(full.getvalue()))["a"].tolist() == base.tolist()


def test_config_settings_as_torch(tmp_path):
    ours, theirs = ember_config.get_config_copy(), torch_config.get_config_copy()
    theirs.pop("_TYPE_CHECKING", None)
    assert ours == theirs
    for lib, config in ((torch, torch_config), (ember, ember_config)):
        lib.serialization.set_default_load_endianness(lib.serialization.LoadEndianness.BIG)
        assert config.load.endianness is lib.serialization.LoadEndianness.BIG
        lib.serialization.set_default_load_endianness(None)
        lib.serialization.set_crc32_options(False)
        assert config.save.compute_crc32 is False and lib.serialization.get_crc32_options() is False
        lib.serialization.set_crc32_options(True)
        with lib.serialization.set_default_mmap_options(mmap.MAP_SHARED):
            assert config.load.mmap_flags == mmap.MAP_SHARED
        assert config.load.mmap_flags == mmap.MAP_PRIVATE
        path = tmp_path / f"{lib.__name__}.pt"
        lib.save({"w": lib.arange(4.0)}, path)
        config.load.mmap = True  # what load(mmap=None) does
        loaded = lib.load(path)["w"]
        with pytest.raises(ValueError, match="f must be a file path in order to use the mmap argument"):
            lib.load(io.BytesIO(path.read_bytes()))
        assert lib.load(io.BytesIO(path.read_bytes()), mmap=False)["w"].tolist() == [0.0, 1.0, 2.0, 3.0]
        config.load.mmap = False
        if lib is ember:
            root = loaded.numpy()
            while isinstance(root.base, np.ndarray):
                root = root.base
            assert isinstance(root.base, mmap.mmap)
    with pytest.raises(AttributeError, match="does not exist"):
        ember_config.no_such_setting = 1


@pytest.mark.parametrize("alignment", [256, 100, 1])
def test_storage_alignment_as_torch(alignment):
    files = {}
    for lib, config in ((torch, torch_config), (ember, ember_config)):
        config.save.storage_alignment = alignment
        buffer = io.BytesIO()
        lib.save({"w": lib.arange(5.0), "i": lib.arange(3)}, buffer)
        config.save.storage_alignment = 64
        files[lib] = buffer.getvalue()
    for lib, data in files.items():
        archive = zipfile.ZipFile(io.BytesIO(data))
        assert archive.read("archive/.storage_alignment") == str(alignment).encode()
        for info in archive.infolist():
            if "/data/" in info.filename:
                start = data.index(info.filename.encode(), info.header_offset) + len(info.filename)
                extra = int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
                assert (start + extra) % alignment == 0, (lib.__name__, info.filename)
    back = torch.load(io.BytesIO(files[ember]), weights_only=True)
    assert back["w"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0] and back["i"].tolist() == [0, 1, 2]
    ember_config.save.storage_alignment = 0
    with pytest.raises(ValueError, match="storage_alignment must be an int from 1"):
        ember.save({"w": ember.ones(1)}, io.BytesIO())


def test_register_package_taggers_and_deserializers_as_torch():
    for lib in (torch, ember):
        calls, elsewhere = [], []

        def tag(storage, calls=calls, elsewhere=elsewhere):
            calls.append("tag")
            return "elsewhere" if elsewhere else None

        def restore(storage, location, calls=calls):
            calls.append(("restore", location))
            return storage if location == "elsewhere" else None

        lib.serialization.register_package(5, tag, restore)
        buffer = io.BytesIO()
        lib.save({"w": lib.ones(2)}, buffer)
        assert calls == ["tag"]
        for map_location in (None, "cpu", {"cpu": "cpu"}, lib.device("cpu")):
            calls.clear()
            assert lib.load(io.BytesIO(buffer.getvalue()), map_location=map_location)["w"].tolist() == [1.0, 1.0]
            assert calls == [("restore", "cpu")], (lib.__name__, map_location)
        elsewhere.append(True)
        calls.clear()
        lib.save({"w": lib.ones(2)}, buffer := io.BytesIO())
        assert calls == ["tag"] and lib.serialization.location_tag(lib.ones(1)) == "elsewhere"
        # the file's location: only the registered deserializer knows it
        assert lib.load(io.BytesIO(buffer.getvalue()))["w"].tolist() == [1.0, 1.0]
        assert lib.serialization.default_restore_location(lib.ones(1), "elsewhere").tolist() == [1.0]
        lib.serialization._package_registry.pop(0)
        with pytest.raises(RuntimeError, match="elsewhere"):
            lib.load(io.BytesIO(buffer.getvalue()))
        assert lib.serialization.location_tag(lib.ones(1)) == "cpu"
        with pytest.raises(
            RuntimeError, match=r"don't know how to restore data location of .* \(tagged with nowhere\)"
        ):
            lib.serialization.default_restore_location(lib.ones(1), "nowhere")
        with pytest.raises(AttributeError, match="'object' object has no attribute 'device'"):
            lib.serialization.location_tag(object())
