"""PyTorch's files, round 4, against PyTorch: views in checkpoints (storage sharing, ``storage_offset()`` and
``stride()`` kept both ways, in the zip and the legacy format, ``weights_only`` or not, mapped or read), one
memory saved as two dtypes refused as torch refuses it, and ``torch.serialization.skip_data``'s behaviours
beyond the zip format's (legacy files, mmap, nesting, the tensors it refuses)."""

import io
import pickle

import pytest

import ember

torch = pytest.importorskip("torch")

LIBS = [torch, ember]


def _views(lib, name):
    """The objects of ``name``, built with ``lib``: tensors that view each other's memory."""
    base = lib.arange(24.0).reshape(4, 6)
    if name == "dict_slice":  # torch.save({'a': base, 'v': base[2:5]})
        return {"a": base, "v": base[2:5]}
    if name == "view_of_slice":  # torch.save(base[1:].view(...)): its storage is the whole of base's
        return base[1:].view(3, 2, 3)
    if name == "strided":
        return {"t": base.t(), "col": base[:, 2], "step": base[::2, 1::3], "a": base, "s": base[2, 3]}
    if name == "list_of_rows":
        return [base[1], base[2], base[1, 2:], base.reshape(-1)[7:19].view(2, 6)]
    if name == "parameter":
        p = lib.nn.Parameter(lib.arange(12.0, dtype=lib.float64).reshape(3, 4))
        return {"p": p, "row": p[1], "pt": p.t(), "i": lib.arange(10)[::3], "h": base[1:, ::2]}
    raise KeyError(name)


_NAMES = ["dict_slice", "view_of_slice", "strided", "list_of_rows", "parameter"]


def _leaves(obj):
    if isinstance(obj, dict):
        return [leaf for value in obj.values() for leaf in _leaves(value)]
    if isinstance(obj, list):
        return [leaf for value in obj for leaf in _leaves(value)]
    return [obj]


def _described(obj):
    """Each tensor's geometry, values and type, and which tensors share a storage."""
    leaves = _leaves(obj)
    geometry = [
        (
            type(t).__name__,
            tuple(t.shape),
            t.stride(),
            t.storage_offset(),
            str(t.dtype).split(".")[-1],
            t.untyped_storage().nbytes(),
            t.requires_grad,
            t.tolist(),
        )
        for t in leaves
    ]
    pointers = [t.untyped_storage().data_ptr() for t in leaves]
    return geometry, [[p == q for q in pointers] for p in pointers]


def _save(lib, obj, target, legacy):
    lib.save(obj, target, _use_new_zipfile_serialization=not legacy)


@pytest.mark.parametrize("name", _NAMES)
@pytest.mark.parametrize("saver", LIBS, ids=["torch_saved", "ember_saved"])
@pytest.mark.parametrize("weights_only", [True, False])
@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_views_load_with_torchs_sharing_offsets_and_strides(name, saver, weights_only, legacy):
    reference = io.BytesIO()
    _save(torch, _views(torch, name), reference, legacy)
    expected = _described(torch.load(io.BytesIO(reference.getvalue()), weights_only=weights_only))
    saved = io.BytesIO()
    _save(saver, _views(saver, name), saved, legacy)
    for loader in LIBS:
        back = loader.load(io.BytesIO(saved.getvalue()), weights_only=weights_only)
        assert _described(back) == expected, (loader.__name__, saver.__name__)


@pytest.mark.parametrize("name", _NAMES)
@pytest.mark.parametrize("saver", LIBS, ids=["torch_saved", "ember_saved"])
def test_mapped_views_as_torch(tmp_path, name, saver):
    reference, path = tmp_path / "torch.pt", tmp_path / "saved.pt"
    torch.save(_views(torch, name), reference)
    saver.save(_views(saver, name), path)
    expected = _described(torch.load(reference, mmap=True))
    for loader in LIBS:
        assert _described(loader.load(path, mmap=True)) == expected, loader.__name__
    if name == "dict_slice":  # a write through one view shows in the other, in the mapped file's private copy
        back = ember.load(path, mmap=True)
        back["a"][2, 1] = -1.0
        assert back["v"][0, 1].item() == -1.0


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_views_on_the_device_round_trip(device, legacy):
    base = ember.arange(24.0, device=device).reshape(4, 6)
    buffer = io.BytesIO()
    ember.save({"a": base, "v": base[2:4], "t": base[1:].t()}, buffer, _use_new_zipfile_serialization=not legacy)
    back = ember.load(io.BytesIO(buffer.getvalue()))
    assert back["v"].storage_offset() == 12 and back["t"].storage_offset() == 6 and back["t"].stride() == (1, 6)
    assert str(back["v"].device) == str(base.device)
    back["a"][2, 0] = -1.0
    assert back["v"][0, 0].item() == -1.0 and back["t"][0, 1].item() == -1.0


_TWO_DTYPES = {
    "tensor_and_int_view": lambda lib, base: {"a": base, "i": base.view(lib.int32)},
    "two_views": lambda lib, base: [base.view(lib.int32)[2:], base[1:].view(lib.float16)],
    "storage_and_tensor": lambda lib, base: [base.untyped_storage(), base],
    "disjoint_parts": lambda lib, base: [base[:2].view(lib.uint8), base[4:]],
    "one_dtype_twice": lambda lib, base: [base.view(lib.int32), base.view(lib.int32)[1:]],
}


@pytest.mark.parametrize("kind", list(_TWO_DTYPES))
@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_one_memory_saved_as_two_dtypes_raises_as_torch(kind, legacy):
    outcomes = []
    for lib in LIBS:
        try:
            _save(lib, _TWO_DTYPES[kind](lib, lib.arange(6.0)), io.BytesIO(), legacy)
            outcomes.append(None)
        except RuntimeError as exc:
            assert "Cannot save multiple tensors or storages that view the same data as different types" in str(exc)
            outcomes.append(RuntimeError)
    assert outcomes[0] is outcomes[1], outcomes
    assert (outcomes[0] is None) == (kind == "one_dtype_twice")


def _legacy_views(lib):
    base = lib.arange(6.0)
    return {"a": base, "v": base[2:4], "i": lib.arange(3)}


@pytest.mark.parametrize("saver", LIBS, ids=["torch_saved", "ember_saved"])
def test_skip_data_reads_no_legacy_storages(saver):
    saved = io.BytesIO()
    saver.save(_legacy_views(saver), saved, _use_new_zipfile_serialization=False)
    saved.write(b"trailing bytes")
    unread = (8 + 6 * 4) + (8 + 3 * 8) + len(b"trailing bytes")  # each storage's count and bytes, then the tail
    for lib in LIBS:
        stream = io.BytesIO(saved.getvalue())
        with lib.serialization.skip_data():
            back = lib.load(stream)
        assert len(saved.getvalue()) - stream.tell() == unread, lib.__name__  # the load stops before the data
        assert back["v"].storage_offset() == 2 and back["v"].untyped_storage().data_ptr() == back["a"].data_ptr()
        assert str(back["i"].dtype).endswith("int64") and tuple(back["a"].shape) == (6,)
        if lib is ember:  # torch's are uninitialized memory; ember's zero
            assert back["a"].tolist() == [0.0] * 6
        assert lib.load(io.BytesIO(saved.getvalue()))["v"].tolist() == [2.0, 3.0]  # outside it: read


def test_skip_data_with_mmap_as_torch(tmp_path):
    for lib in LIBS:
        path = tmp_path / f"{lib.__name__}.pt"
        lib.save(_legacy_views(lib), path)
        with lib.serialization.skip_data():
            back = lib.load(path, mmap=True)
        assert back["v"].storage_offset() == 2 and back["v"].untyped_storage().data_ptr() == back["a"].data_ptr()
        assert tuple(back["i"].shape) == (3,)
        if lib is ember:
            assert back["a"].tolist() == [0.0] * 6
        assert lib.load(path, mmap=True)["v"].tolist() == [2.0, 3.0]
        with lib.serialization.skip_data():  # a skip_data save leaves the records' room for another pass
            lib.save(_legacy_views(lib), path)
        assert [tuple(t.shape) for t in lib.load(path, mmap=True).values()] == [(6,), (2,), (3,)]
        legacy = tmp_path / f"{lib.__name__}_legacy.pt"
        lib.save(_legacy_views(lib), legacy, _use_new_zipfile_serialization=False)
        with pytest.raises(RuntimeError, match="mmap can only be used with files saved with"):
            with lib.serialization.skip_data():
                lib.load(legacy, mmap=True)


def test_nested_skip_data_contexts_as_torch():
    for lib in LIBS:
        with lib.serialization.skip_data():
            with lib.serialization.skip_data(materialize_fake_tensors=True):
                pass
            with pytest.raises(RuntimeError, match="Cannot use skip_data=True with _use_new_zipfile_serialization"):
                lib.save(lib.ones(2), io.BytesIO(), _use_new_zipfile_serialization=False)  # still skipping
        buffer = io.BytesIO()
        lib.save(lib.ones(2), buffer, _use_new_zipfile_serialization=False)  # the outer exit ended it
        assert lib.load(io.BytesIO(buffer.getvalue())).tolist() == [1.0, 1.0]
        with pytest.raises(KeyError):
            with lib.serialization.skip_data():
                raise KeyError("x")
        assert lib.serialization._serialization_tls.skip_data is False
        once = lib.serialization.skip_data()  # one object entered twice: its second entry records "skipping"
        try:
            with once:
                with once:
                    pass
            assert lib.serialization._serialization_tls.skip_data is True, lib.__name__
        finally:
            lib.serialization._serialization_tls.skip_data = False


@pytest.mark.parametrize("lib", LIBS, ids=["torch", "ember"])
def test_what_skip_data_refuses_as_torch(lib):
    quantized = lib.quantize_per_tensor(lib.ones(3), 0.1, 0, lib.qint8)
    nested = lib.nested.nested_tensor([lib.ones(2), lib.ones(3)])
    with lib.serialization.skip_data():
        with pytest.raises(RuntimeError, match=r"^Cannot serialize qtensor under skip_data context manager, file an"):
            lib.save(quantized, io.BytesIO())
        with pytest.raises(RuntimeError, match=r"^Cannot serialize nested tensor under skip_data context manager"):
            lib.save({"n": nested}, io.BytesIO())
        meta = io.BytesIO()
        with pytest.warns(UserWarning, match="Serializing tensors on the meta device under skip_data context manager"):
            lib.save(lib.ones(2, 3, device="meta"), meta)
        for obj in (lib.arange(3.0), lib.nn.Parameter(lib.ones(2))):  # plain pickle: torch's legacy storage format
            with pytest.raises(RuntimeError, match="Cannot use skip_data=True with _use_new_zipfile_serialization"):
                pickle.dumps(obj)
        with pytest.warns(UserWarning, match="Serializing tensors on the meta device under skip_data"):
            pickle.dumps(lib.ones(2, device="meta"))
    assert tuple(lib.load(io.BytesIO(meta.getvalue())).shape) == (2, 3)
    assert pickle.loads(pickle.dumps(lib.arange(3.0))).tolist() == [0.0, 1.0, 2.0]
    buffer = io.BytesIO()
    lib.save(quantized, buffer)
    assert lib.load(io.BytesIO(buffer.getvalue()), weights_only=False).int_repr().tolist() == [10, 10, 10]
