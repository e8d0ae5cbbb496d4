"""torch.serialization's options, as programs set them: the byte order assumed for files that record none
(``set_default_load_endianness``), ``set_crc32_options`` and ``set_default_mmap_options``."""

import io
import mmap
import zipfile

import pytest

import ember

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _restore_options():
    yield
    for lib in (torch, ember):
        lib.serialization.set_default_load_endianness(None)
        lib.serialization.set_crc32_options(True)
        lib.serialization.set_default_mmap_options(mmap.MAP_PRIVATE)


def test_the_options_surface_matches_torch():
    assert [(m.name, m.value) for m in ember.serialization.LoadEndianness] == [
        (m.name, m.value) for m in torch.serialization.LoadEndianness
    ]
    for lib in (torch, ember):
        s = lib.serialization
        assert s.get_default_load_endianness() is None and s.get_crc32_options() is True
        assert s.get_default_mmap_options() == mmap.MAP_PRIVATE
        s.set_default_load_endianness(s.LoadEndianness.BIG)
        assert s.get_default_load_endianness() is s.LoadEndianness.BIG
        with pytest.raises(TypeError, match="Invalid argument type in function set_default_load_endianness"):
            s.set_default_load_endianness("big")
        with pytest.raises(ValueError, match="expected mmap.MAP_PRIVATE or mmap.MAP_SHARED, but got 7"):
            s.set_default_mmap_options(7)
        with s.set_default_mmap_options(mmap.MAP_SHARED):
            assert s.get_default_mmap_options() == mmap.MAP_SHARED
        assert s.get_default_mmap_options() == mmap.MAP_PRIVATE


def _without_byteorder_record(obj):
    """A checkpoint as PyTorch wrote them before 2.1: no archive/byteorder record."""
    written = io.BytesIO()
    torch.save(obj, written)
    buffer = io.BytesIO()
    with zipfile.ZipFile(written) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as copy:
        for name in source.namelist():
            if not name.endswith("/byteorder"):
                copy.writestr(name, source.read(name))
    return buffer


@pytest.mark.parametrize("order", [None, "NATIVE", "LITTLE", "BIG"])
def test_files_without_a_byteorder_record_are_read_in_the_default_order(order):
    saved = {
        "w": torch.arange(1.0, 5.0),
        "i": torch.arange(3, dtype=torch.int16),
        "b": torch.ones(2, dtype=torch.uint8),
    }
    buffer = _without_byteorder_record(saved)
    results = {}
    for lib in (torch, ember):
        lib.serialization.set_default_load_endianness(
            None if order is None else getattr(lib.serialization.LoadEndianness, order)
        )
        results[lib.__name__] = lib.load(io.BytesIO(buffer.getvalue()), weights_only=True)
    for key in saved:
        assert results["ember"][key].tolist() == results["torch"][key].tolist()
    assert (results["ember"]["w"].tolist() == [1.0, 2.0, 3.0, 4.0]) == (order != "BIG")


def test_files_saved_without_crc32_load_both_ways():
    for writer in (torch, ember):
        writer.serialization.set_crc32_options(False)
        assert writer.serialization.get_crc32_options() is False
        buffer = io.BytesIO()
        writer.save({"w": writer.arange(4.0)}, buffer)
        for reader in (torch, ember):
            assert reader.load(io.BytesIO(buffer.getvalue()), weights_only=True)["w"].tolist() == [0.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize("shared", [False, True])
def test_mmap_options_decide_whether_writes_reach_the_file(tmp_path, shared):
    for lib in (torch, ember):
        path = tmp_path / f"{lib.__name__}.pt"
        torch.save({"w": torch.zeros(4)}, path)
        with lib.serialization.set_default_mmap_options(mmap.MAP_SHARED if shared else mmap.MAP_PRIVATE):
            loaded = lib.load(path, mmap=True, weights_only=True)
        loaded["w"].add_(2.0)
        again = torch.load(path, weights_only=True)["w"].tolist()
        assert again == ([2.0] * 4 if shared else [0.0] * 4), lib.__name__
