"""PyTorch's ``.pt`` format both ways, checked with the real torch: state_dicts, views, optimizer
state, nested containers, whole models, ``weights_only`` and the safe-globals allow-list."""

from __future__ import annotations

import collections
import io
import mmap
import pickle
import zipfile

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn


def _saved(obj):
    buffer = io.BytesIO()
    ember.save(obj, buffer)
    buffer.seek(0)
    return buffer


def _ember_to_torch(obj, **kwargs):
    return torch.load(_saved(obj), weights_only=True, **kwargs)


def _torch_to_ember(obj, **kwargs):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return ember.load(buffer, **kwargs)


def _same(e, t):
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), (e, t)
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1] and tuple(e.shape) == tuple(t.shape)
        assert e.numpy(force=True).tobytes() == t.detach().numpy().tobytes()
        assert e.requires_grad == t.requires_grad
    elif isinstance(t, dict):
        assert type(e).__name__ == type(t).__name__ and list(e) == list(t)
        for k in t:
            _same(e[k], t[k])
    elif isinstance(t, torch.Size):
        assert type(e) is ember.Size and tuple(e) == tuple(t)
    elif isinstance(t, (list, tuple)):
        assert type(e) is type(t) and len(e) == len(t)
        for a, b in zip(e, t):
            _same(a, b)
    elif isinstance(t, torch.dtype):
        assert e == getattr(ember, str(t).split(".")[-1])
    elif isinstance(t, torch.device):
        assert e == ember.device(str(t))
    else:
        assert e == t


@pytest.mark.parametrize("direction", ["ember_to_torch", "torch_to_ember"])
def test_state_dict_and_optimizer_state_round_trip(direction):
    ember.manual_seed(0)
    torch.manual_seed(0)
    em, tm = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    with torch.no_grad():
        for p in tm.parameters():
            p.copy_(torch.randn(p.shape))
    eo, to = ember.optim.Adam(em.parameters(), lr=0.1), torch.optim.Adam(tm.parameters(), lr=0.1)
    for model, opt, lib in ((em, eo, ember), (tm, to, torch)):
        model(lib.ones(4, 3)).sum().backward()
        opt.step()
    if direction == "ember_to_torch":
        obj = {"model": em.state_dict(), "optim": eo.state_dict(), "epoch": 3}
        back = _ember_to_torch(obj)
        _same(_torch_to_ember(back), back)
        tm.load_state_dict(back["model"])
        to.load_state_dict(back["optim"])
        np.testing.assert_array_equal(tm.weight.detach().numpy(), em.weight.detach().numpy())
    else:
        obj = {"model": tm.state_dict(), "optim": to.state_dict(), "epoch": 3}
        back = _torch_to_ember(obj)
        _same(back, obj)
        em.load_state_dict(back["model"])
        eo.load_state_dict(back["optim"])
        np.testing.assert_array_equal(em.weight.detach().numpy(), tm.weight.detach().numpy())


def test_nested_containers_dtypes_and_devices_both_ways():
    t = collections.OrderedDict(
        a=[torch.arange(4, dtype=torch.int64), (torch.ones(2, dtype=torch.float16), {"b": torch.tensor(True)})],
        c={1: torch.zeros(0, 3), "s": {1, 2}, "bytes": b"\x00\xff", "x": 1.5, "n": None, "z": 2 + 1j},
        dt=torch.float64,
        dev=torch.device("cpu"),
        size=torch.Size([2, 3]),
        counter=collections.Counter("aab"),
        p=torch.nn.Parameter(torch.full((2,), 0.5)),
        scalar=torch.tensor(7, dtype=torch.int8),
    )
    back = _torch_to_ember(t)
    _same(back, t)
    assert isinstance(back["p"], nn.Parameter) and back["size"] == (2, 3)
    again = _ember_to_torch(back)
    _same(back, again)
    assert isinstance(again["p"], torch.nn.Parameter) and again["size"] == torch.Size([2, 3])


def test_a_dtype_saved_twice_is_one_global():
    obj = {"a": torch.float32, "b": [torch.float32, torch.int64, torch.int64]}
    back = _ember_to_torch(_torch_to_ember(obj))
    assert back == obj


def test_meta_tensors_round_trip_without_storage_both_ways():
    t = {"w": torch.empty(3, 2, device="meta").t(), "h": torch.empty(4, dtype=torch.float16, device="meta")}
    t["p"] = torch.nn.Parameter(torch.empty(2, device="meta"))
    back = _torch_to_ember(t)
    again = _ember_to_torch(back)
    for k, v in t.items():
        for other in (back[k], again[k]):
            assert other.is_meta and tuple(other.shape) == tuple(v.shape) and tuple(other.stride()) == v.stride()
            assert str(other.dtype).split(".")[-1] == str(v.dtype).split(".")[-1]
    assert isinstance(back["p"], nn.Parameter) and isinstance(again["p"], torch.nn.Parameter)


def test_views_share_storage_both_ways():
    base = torch.arange(12.0).reshape(3, 4)
    for where in (None, "restricted"):  # placed once per storage, on any device
        back = _torch_to_ember({"base": base, "row": base[1], "col": base[:, 2]}, map_location=where)
        back["base"].add_(100.0)  # one storage: the views see the write
        assert back["row"].tolist() == [104.0, 105.0, 106.0, 107.0]
        assert back["col"].tolist() == [102.0, 106.0, 110.0] or where is not None  # strided: a copy off the CPU
        assert back["row"].device == ember.device(where or "cpu")

    e = ember.arange(12.0).reshape(3, 4)
    t = _ember_to_torch({"base": e, "row": e[1], "col": e[:, 2]})
    assert t["row"].untyped_storage().data_ptr() == t["base"].untyped_storage().data_ptr()
    assert t["col"].stride() == (4,) and t["col"].tolist() == [2.0, 6.0, 10.0]


def test_strided_views_keep_their_geometry_through_a_resave():
    # a torch file's strided views (column, transpose, expand) load as views of their storage, with
    # torch's storage_offset and strides, and ember.save writes them back as views of one storage
    base = torch.arange(12.0).reshape(3, 4)
    saved = {"base": base, "col": base[:, 1], "t": base.t()[1:], "expand": base[1:2].expand(3, 4)}
    back = _torch_to_ember(saved)
    for key, t in saved.items():
        assert back[key].stride() == t.stride() and back[key].storage_offset() == t.storage_offset(), key
        assert back[key].untyped_storage().data_ptr() == back["base"].untyped_storage().data_ptr(), key
    again = _ember_to_torch(back)
    for key, t in saved.items():
        assert again[key].stride() == t.stride() and again[key].storage_offset() == t.storage_offset(), key
        assert again[key].untyped_storage().data_ptr() == again["base"].untyped_storage().data_ptr(), key
        assert torch.equal(again[key], t), key
    again["base"][1, 1] = 100.0
    assert again["col"][1].item() == again["t"][0, 1].item() == again["expand"][2, 1].item() == 100.0


def test_empty_tensors_keep_their_strides_in_torch():
    saved = {"rows": ember.empty(0, 3), "cols": ember.empty(3, 0).t(), "none": ember.empty(2, 0, 4)}
    back = _ember_to_torch(saved)
    for key, e in saved.items():
        assert back[key].shape == tuple(e.shape) and back[key].stride() == e.stride(), key


def test_empty_tensors_of_a_torch_file_keep_their_strides():
    saved = {"cols": torch.empty(2, 0).t(), "permuted": torch.empty(3, 0, 2).permute(2, 0, 1)}
    back = _torch_to_ember(saved)
    for key, t in saved.items():
        assert tuple(back[key].shape) == tuple(t.shape) and back[key].stride() == t.stride(), key


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
@pytest.mark.parametrize("weights_only", [True, False])
def test_lazy_conjugate_and_negative_views_load_with_their_values(dtype, weights_only):
    # torch saves x.conj() (and its .imag, a negative view) as the unresolved values plus a
    # metadata record {"conj": True} / {"neg": True}: the loaded values are the resolved ones
    x = torch.tensor([1 + 2j, 3 - 1j, -0.5 + 0.25j], dtype=dtype)
    complex_views = {"x": x, "conj": x.conj(), "tail": x.conj()[1:]}
    real_views = {"imag": x.conj().imag, "imag_tail": x.conj().imag[1:]}  # torch saves one dtype per storage
    assert complex_views["conj"].is_conj() and real_views["imag"].is_neg()
    for saved in (complex_views, real_views):
        back = _torch_to_ember(saved, weights_only=weights_only)
        for key, t in saved.items():
            assert back[key].tolist() == t.resolve_conj().resolve_neg().tolist(), key
            assert str(back[key].dtype) == str(t.dtype).replace("torch", "ember"), key
    assert _torch_to_ember(x.requires_grad_(True).conj()).requires_grad


def _as_written_on_a_big_endian_machine(obj, path):
    """``torch.save(obj)`` as a big-endian machine writes it: typed storages' bytes swapped, byteorder "big"."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as target:
        for name in source.namelist():
            data = source.read(name)
            if name.endswith("/byteorder"):
                data = b"big"
            elif "/data/" in name:
                tensor = list(obj.values())[int(name.rsplit("/", 1)[1])]  # one storage each, keyed in order
                data = np.frombuffer(data, tensor.numpy().dtype).byteswap().tobytes()
            target.writestr(name, data)


@pytest.mark.parametrize("mmap", [False, True])
def test_big_endian_files_are_byte_swapped_as_read(tmp_path, mmap):
    saved = {
        "f32": torch.tensor([1.5, -2.0, 3.25]),
        "f64": torch.tensor([1e300, -0.5], dtype=torch.float64),
        "f16": torch.tensor([1.5, 65504.0], dtype=torch.float16),
        "i16": torch.tensor([1, -300], dtype=torch.int16),
        "c64": torch.tensor([1 + 2j]),
        "bool": torch.tensor([True, False]),
    }
    path = tmp_path / "big.pt"
    _as_written_on_a_big_endian_machine(saved, path)
    expected = torch.load(path)
    back = ember.load(path, mmap=mmap)
    for key, t in saved.items():
        assert back[key].tolist() == expected[key].tolist() == t.tolist(), key


@pytest.mark.parametrize("weights_only", [True, False])
def test_layouts_and_sparse_coo_tensors_both_ways(weights_only):
    # torch saves a layout as torch.serialization._get_layout("torch.sparse_coo") and a sparse
    # tensor as torch._utils._rebuild_sparse_tensor(layout, (indices, values, size, is_coalesced))
    indices, values = [[0, 2, 2], [1, 0, 0]], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    saved = {
        "layouts": [torch.strided, torch.sparse_coo],
        "sparse": torch.sparse_coo_tensor(indices, values, (3, 2, 2), dtype=torch.float64),
        "coalesced": torch.sparse_coo_tensor(indices, values, (3, 2, 2)).coalesce(),
    }
    back = _torch_to_ember(saved, weights_only=weights_only)
    assert back["layouts"] == [ember.strided, ember.sparse_coo]
    for key in ("sparse", "coalesced"):
        t, e = saved[key], back[key]
        assert e.layout is ember.sparse_coo and e.is_coalesced() == t.is_coalesced(), key
        assert e._indices().tolist() == t._indices().tolist() and e._values().tolist() == t._values().tolist(), key
        assert tuple(e.shape) == tuple(t.shape) and str(e.dtype) == str(t.dtype).replace("torch", "ember"), key
        assert e.to_dense().tolist() == t.to_dense().tolist(), key

    mine = {key: back[key] for key in ("layouts", "sparse", "coalesced")}
    again = _ember_to_torch(mine)
    assert again["layouts"] == [torch.strided, torch.sparse_coo]
    for key in ("sparse", "coalesced"):
        t = again[key]
        assert t.layout == torch.sparse_coo and t.is_coalesced() == saved[key].is_coalesced(), key
        assert t.dtype == saved[key].dtype and torch.equal(t.to_dense(), saved[key].to_dense()), key


def test_a_layout_ember_lacks_is_named():
    with pytest.raises(pickle.UnpicklingError, match="torch._mkldnn"):
        _torch_to_ember({"layout": torch._mkldnn})


@pytest.mark.parametrize("weights_only", [True, False])
def test_python_attributes_of_tensors_and_parameters_both_ways(weights_only):
    # torch saves a tensor's __dict__ (via _rebuild_from_type_v2; a parameter's via
    # _rebuild_parameter_with_state) and sets the attributes again on load
    tagged, param, plain = torch.ones(2), torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.zeros(1))
    tagged.shard, param.tensor_parallel = 3, "row"
    back = _torch_to_ember({"tagged": tagged, "param": param, "plain": plain}, weights_only=weights_only)
    assert type(back["tagged"]) is ember.Tensor and back["tagged"].shard == 3
    assert isinstance(back["param"], nn.Parameter) and back["param"].tensor_parallel == "row"
    assert vars(back["plain"]) == {} and back["param"].tolist() == [1.0, 1.0, 1.0]

    mine, mine_param = ember.arange(2.0), nn.Parameter(ember.ones(1))
    mine.shard, mine_param.tensor_parallel = 3, "row"
    again = _ember_to_torch({"tagged": mine, "param": mine_param})
    assert type(again["tagged"]) is torch.Tensor and again["tagged"].shard == 3
    assert type(again["param"]) is torch.nn.Parameter and again["param"].tensor_parallel == "row"
    assert ember.load(_saved(mine)).shard == 3


def test_a_file_cannot_set_a_tensors_own_attributes():
    t = torch.ones(2)
    t.__dict__["requires_grad"] = "yes"  # shadows nothing in torch; in ember a property
    with pytest.raises(RuntimeError, match="requires_grad"):
        _torch_to_ember(t)


@pytest.mark.parametrize("protocol", [2, 4])
def test_unsafe_globals_in_checkpoint_as_torch_lists_them(protocol, tmp_path):
    saved = {"w": torch.ones(2), "array": np.arange(3), "model": torch.nn.Linear(2, 2), "config": _Config(2)}
    path = tmp_path / "checkpoint.pt"
    torch.save(saved, path, pickle_protocol=protocol)
    expected = {"numpy._core.multiarray._reconstruct", "numpy.dtype", "numpy.ndarray", f"{__name__}._Config"}
    expected.add("torch.nn.modules.linear.Linear")
    assert sorted(ember.serialization.get_unsafe_globals_in_checkpoint(path)) == sorted(expected)
    if protocol == 2:  # torch's own reads protocol 2 pickles only
        assert sorted(torch.serialization.get_unsafe_globals_in_checkpoint(path)) == sorted(expected)
    with ember.serialization.safe_globals([_Config, np.ndarray]):
        with open(path, "rb") as f:
            left = ember.serialization.get_unsafe_globals_in_checkpoint(f)
    assert sorted(left) == sorted(expected - {f"{__name__}._Config", "numpy.ndarray"})

    plain = {"w": torch.ones(2), "set": {1}, "counts": collections.Counter("ab"), "layout": torch.sparse_coo}
    torch.save(plain, path)
    assert ember.serialization.get_unsafe_globals_in_checkpoint(path) == []
    with pytest.raises(ValueError, match="checkpoint returned by torch.save"):
        ember.serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(b"not a checkpoint"))


def test_map_location_functions_fall_back_on_default_restore_location():
    # fairseq's checkpoint_utils: map_location=lambda s, l: default_restore_location(s, "cpu")
    def to_cpu(storage, location):
        return ember.serialization.default_restore_location(storage, "cpu")

    base = torch.arange(6.0)
    back = _torch_to_ember({"base": base, "view": base[2:4]}, map_location=to_cpu)
    assert back["view"].tolist() == [2.0, 3.0] and back["base"].device == ember.device("cpu")
    with pytest.raises(RuntimeError, match=r"restore data location of .* \(tagged with nowhere\)"):
        _torch_to_ember(base, map_location=lambda s, loc: ember.serialization.default_restore_location(s, "nowhere"))
    assert ember.serialization.DEFAULT_PROTOCOL == torch.serialization.DEFAULT_PROTOCOL
    assert issubclass(ember.serialization.SourceChangeWarning, Warning)


class _Tagged(ember.Tensor):  # a tensor subclass of the program's own
    pass


class _TorchTagged(torch.Tensor):
    pass


def test_tensor_subclasses_keep_their_class_and_need_allowing_as_in_torch():
    # torch writes a subclass as _rebuild_from_type_v2(func, cls, args, state): loading needs the
    # class (weights_only=False or allowed); ember wrote it as a plain tensor, which loaded everywhere
    for lib, cls in ((ember, _Tagged), (torch, _TorchTagged)):
        x = lib.ones(2, requires_grad=True).as_subclass(cls)
        x.tag = "a"
        buffer = io.BytesIO()
        lib.save({"x": x, "buffer": lib.nn.Buffer(lib.zeros(1))}, buffer)
        buffer.seek(0)
        back = lib.load(buffer, weights_only=False)
        assert type(back["x"]) is cls and back["x"].tag == "a" and back["x"].tolist() == [1.0, 1.0]
        assert back["x"].requires_grad and not back["x"].is_leaf, lib  # an alias, as as_subclass makes
        assert type(back["buffer"]) is lib.Tensor, lib  # a buffer is saved as a plain tensor
        buffer.seek(0)
        with pytest.raises(pickle.UnpicklingError, match=cls.__name__):
            lib.load(buffer)
        buffer.seek(0)
        with lib.serialization.safe_globals([cls]):
            assert type(lib.load(buffer)["x"]) is cls
    assert torch.load(_saved(ember.nn.Buffer(ember.ones(1))), weights_only=True).tolist() == [1.0]


def test_return_types_both_ways_with_weights_only_false():
    # torch pickles torch.max(...)'s result as torch.return_types.max((values, indices), {}); ember
    # read it as max(values=(values, indices), indices={})
    saved = {"max": torch.max(torch.tensor([[1.0, 3.0], [4.0, 2.0]]), 1), "sort": torch.sort(torch.tensor([3, 1, 2]))}
    buffer = io.BytesIO()
    torch.save(saved, buffer)
    buffer.seek(0)
    back = ember.load(buffer, weights_only=False)
    assert type(back["max"]) is ember.return_types.max and type(back["sort"]) is ember.return_types.sort
    assert back["max"].values.tolist() == [3.0, 4.0] and back["max"].indices.tolist() == [1, 0]
    assert back["sort"].values.tolist() == [1, 2, 3] and back["sort"].indices.tolist() == [1, 2, 0]
    again = torch.load(_saved(back), weights_only=False)
    assert type(again["max"]) is torch.return_types.max and torch.equal(again["max"].indices, saved["max"].indices)
    with pytest.raises(pickle.UnpicklingError, match="return_types"):  # as in torch, not on the allow-list
        ember.load(_saved(back))


def test_generators_both_ways_with_weights_only_false():
    # torch pickles a generator as torch._C.Generator(device) given (seed, offset, state)
    for source, target in ((torch, ember), (ember, torch), (ember, ember)):
        generator = source.Generator().manual_seed(7)
        source.rand(3, generator=generator)  # a state past the seed
        buffer = io.BytesIO()
        source.save({"generator": generator}, buffer)
        buffer.seek(0)
        back = target.load(buffer, weights_only=False)["generator"]
        assert type(back) is target.Generator and back.initial_seed() == 7
        assert target.rand(4, generator=back).tolist() == source.rand(4, generator=generator).tolist()
        buffer.seek(0)
        with pytest.raises(pickle.UnpicklingError):  # not on the weights_only allow-list, as in torch
            ember.load(buffer)
    copy = pickle.loads(pickle.dumps(ember.Generator().manual_seed(3)))
    assert (
        copy.initial_seed() == 3 and copy.get_state().tolist() == ember.Generator().manual_seed(3).get_state().tolist()
    )


@pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")
@pytest.mark.parametrize("zipfile_format", [True, False])
def test_storages_saved_by_themselves_both_ways(zipfile_format):
    # torch.load gives a storage saved by itself as a TypedStorage (an untyped one: of uint8) that
    # shares memory with the tensors saved over it; ember gave a 1-D tensor and could not save one
    def saved(lib):
        x = lib.arange(4.0)
        return {"bytes": lib.arange(2, dtype=lib.int16).untyped_storage(), "pair": (x[1:].storage(), x[2:])}

    for source, target in ((torch, ember), (ember, torch), (ember, ember)):
        if source is torch and not zipfile_format:
            continue  # torch writes untyped storages in its legacy format that it cannot read back
        buffer = io.BytesIO()
        source.save(saved(source), buffer, _use_new_zipfile_serialization=zipfile_format)
        buffer.seek(0)
        back = target.load(buffer)
        storage, view = back["pair"]
        assert type(back["bytes"]) is type(storage) is target.TypedStorage, (source, target)
        assert back["bytes"].dtype == target.uint8 and back["bytes"].tolist() == [0, 0, 1, 0]
        assert storage.dtype == target.float32 and storage.tolist() == [0.0, 1.0, 2.0, 3.0]
        storage[2] = 9.0
        assert view.tolist() == [9.0, 3.0], (source, target)  # one memory, as saved


def test_legacy_tensor_types_both_ways_under_weights_only():
    # torch.FloatTensor, torch.cuda.HalfTensor... are on torch's weights-only allow-list
    back = _torch_to_ember({"types": [torch.FloatTensor, torch.cuda.HalfTensor, torch.LongTensor]})
    assert back["types"] == [ember.FloatTensor, ember.cuda.HalfTensor, ember.LongTensor]
    assert _ember_to_torch(back) == {"types": [torch.FloatTensor, torch.cuda.HalfTensor, torch.LongTensor]}


@pytest.mark.parametrize("mmap", [False, True])
def test_torch_files_saved_without_checksums_load(tmp_path, mmap):
    # torch.utils.serialization.config.save.compute_crc32 = False: every entry records CRC 0
    from torch.utils.serialization import config

    base = torch.arange(10.0)
    config.save.compute_crc32 = False
    try:
        torch.save({"base": base, "view": base[2:5]}, tmp_path / "fast.pt")
    finally:
        config.save.compute_crc32 = True
    back = ember.load(tmp_path / "fast.pt", mmap=mmap)
    assert back["base"].tolist() == base.tolist() and back["view"].tolist() == [2.0, 3.0, 4.0]
    assert ember.serialization.get_unsafe_globals_in_checkpoint(tmp_path / "fast.pt") == []


def test_ember_file_loads_in_torch_by_suffix(tmp_path):
    for suffix in (".pt", ".pth", ".bin"):
        path = tmp_path / f"model{suffix}"
        ember.save({"w": ember.ones(2, 2)}, path)
        assert torch.load(path, weights_only=True)["w"].tolist() == [[1.0, 1.0], [1.0, 1.0]]
        assert torch.load(path, weights_only=True, mmap=True)["w"].sum().item() == 4.0  # 64-byte aligned records


def test_whole_model_needs_weights_only_false(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    path = tmp_path / "model.pt"
    ember.save(model, path)
    with pytest.raises(pickle.UnpicklingError, match="weights_only=False"):
        ember.load(path)
    back = ember.load(path, weights_only=False)
    assert isinstance(back, nn.Sequential) and back is not model
    x = ember.randn(5, 3)
    np.testing.assert_array_equal(back(x).detach().numpy(), model(x).detach().numpy())
    assert all(isinstance(p, nn.Parameter) for p in back.parameters())


class _Config:
    def __init__(self, depth):
        self.depth = depth

    def __eq__(self, other):
        return isinstance(other, _Config) and other.depth == self.depth


def test_safe_globals_allow_named_classes(tmp_path):
    path = tmp_path / "cfg.pt"
    ember.save({"cfg": _Config(3), "w": ember.ones(1)}, path)
    with pytest.raises(pickle.UnpicklingError, match="_Config"):
        ember.load(path)
    with ember.serialization.safe_globals([_Config]):
        assert ember.load(path)["cfg"] == _Config(3)
    assert _Config not in ember.serialization.get_safe_globals()
    ember.serialization.add_safe_globals([_Config])
    try:
        assert ember.load(path)["cfg"] == _Config(3)
    finally:
        ember.serialization.clear_safe_globals()


class _Exploit:
    def __reduce__(self):
        import os

        return os.system, ("touch PWNED_MARKER",)


def test_malicious_pickle_does_not_run_under_the_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    buffer = io.BytesIO()
    torch.save({"w": torch.ones(1), "x": _Exploit()}, buffer)  # a real torch file with a payload
    for data in (buffer.getvalue(),):
        path = tmp_path / "evil.pt"
        path.write_bytes(data)
        with pytest.raises(pickle.UnpicklingError, match="os.system|posix.system"):
            ember.load(path)
        assert not (tmp_path / "PWNED_MARKER").exists()
        with pytest.raises(pickle.UnpicklingError):
            torch.load(path, weights_only=True)  # torch refuses it too


def test_corrupt_torch_files_are_reported(tmp_path):
    path = tmp_path / "ck.pt"
    ember.save({"w": ember.randn(8, 8)}, path)
    data = path.read_bytes()
    bad = tmp_path / "bad.pt"
    for broken in (data[: len(data) // 2], data[:4] + bytes(64), b"PK\x03\x04" + b"\x00" * 100):
        bad.write_bytes(broken)
        with pytest.raises(RuntimeError, match="not a valid checkpoint"):
            ember.load(bad)


def test_safetensors_keeps_the_state_dict_key_names(tmp_path):
    import safetensors.numpy

    model = nn.Linear(2, 3)
    path = tmp_path / "model.safetensors"
    ember.save(model.state_dict(), path)
    plain = safetensors.numpy.load_file(str(path))
    assert sorted(plain) == ["bias", "weight"]
    np.testing.assert_array_equal(plain["weight"], model.weight.detach().numpy())
    assert list(ember.load(path)) == ["weight", "bias"]
    with safetensors.safe_open(str(path), "np") as f:  # transformers' from_pretrained refuses files without it
        assert f.metadata()["format"] == "pt"


def _crafted(payload, storages=None):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", payload)
        archive.writestr("archive/byteorder", b"little")
        for key, data in (storages or {}).items():
            archive.writestr(f"archive/data/{key}", data)
        archive.writestr("archive/version", b"3\n")
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"\x80\x02c__builtin__\nbytearray\nJ\x00\x00\x00\x40\x85R.", "bytearray"),  # a 1 GiB allocation
        (b"\x80\x02ctorch\nTensor\nJ\x00\x00\x00\x40\x85R.", "torch.Tensor"),  # torch.Tensor(2**30)
        (b"\x80\x02cbuiltins\neval\nX\x04\x00\x00\x001+1\x85R.", "builtins.eval"),
        (b"\x80\x02cposix\nsystem\nX\x04\x00\x00\x00true\x85R.", "posix.system"),
    ],
)
def test_crafted_pickles_neither_run_nor_allocate(payload, message):
    with pytest.raises((RuntimeError, pickle.UnpicklingError), match=message):
        ember.load(_crafted(payload))


def test_weights_only_loads_set_attributes_of_tensors_ordered_dicts_and_allowed_classes_only():
    # pickle's BUILD on an allowed object: ember.float32 renamed for the whole process, a device
    # retyped; torch's weights_only unpickler refuses BUILD except on those
    for payload in (
        b"\x80\x02ctorch\nfloat32\nN}X\x04\x00\x00\x00nameX\x04\x00\x00\x00evil\x86b.",
        b"\x80\x02ctorch\ndevice\nX\x03\x00\x00\x00cpu\x85RN}X\x04\x00\x00\x00typeX\x04\x00\x00\x00evil\x86b.",
    ):
        with pytest.raises(pickle.UnpicklingError, match="sets attributes of a"):
            ember.load(_crafted(payload))
        with pytest.raises(pickle.UnpicklingError):
            torch.load(_crafted(payload))
    assert ember.float32.name == "float32" and repr(ember.float32) == "ember.float32"
    state = collections.OrderedDict(w=torch.ones(1))
    state._metadata = {"": {"version": 1}}  # an OrderedDict's attributes: a state_dict's _metadata
    assert _torch_to_ember(state)._metadata == {"": {"version": 1}}


def test_crafted_storages_cannot_overrun_or_amplify():
    # a tensor whose geometry runs past its 4-element storage
    rebuild = (
        b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(("
        b"X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQ"
    )
    past = rebuild + b"K\x00K\x05\x85K\x01\x85\x89}tR."
    with pytest.raises(RuntimeError, match="runs past its storage"):
        ember.load(_crafted(past, {"0": bytes(16)}))
    # the storage record claims more elements than its entry holds
    with pytest.raises(RuntimeError, match="does not hold"):
        ember.load(_crafted(past.replace(b"K\x04tQ", b"K\x40tQ"), {"0": bytes(16)}))
    # many tensors over one storage come back as views of one array (CPU): no copies
    many = b"\x80\x02](" + (rebuild + b"K\x00K\x04\x85K\x01\x85\x89}tR") * 50 + b"e."  # PyTorch's opcodes
    back = ember.load(_crafted(many, {"0": bytes(16)}))
    assert len(back) == 50
    back[0].fill_(1.0)
    assert all(t.tolist() == [1.0] * 4 for t in back)


class _Pipe(io.RawIOBase):
    """A stream that cannot seek, as a pipe or socket."""

    def __init__(self, data=b""):
        self.written, self._source = bytearray(), io.BytesIO(data)

    def writable(self):
        return True

    def readable(self):
        return True

    def write(self, data):
        self.written += data
        return len(data)

    def readinto(self, buffer):
        return self._source.readinto(buffer)


@pytest.mark.parametrize("fmt", ["torch", "safetensors"])
def test_unseekable_streams_both_ways(fmt):
    pipe = _Pipe()
    ember.save({"w": ember.arange(5.0), "v": ember.ones(2, dtype=ember.int64)}, pipe, format=fmt)
    if fmt == "torch":
        assert torch.load(io.BytesIO(bytes(pipe.written)), weights_only=True)["w"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    back = ember.load(io.BufferedReader(_Pipe(bytes(pipe.written))), format=fmt)
    assert back["w"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0] and back["v"].dtype == ember.int64


def test_map_location_errors_are_not_reported_as_corrupt_files():
    buffer = io.BytesIO()
    torch.save({"w": torch.arange(3.0)}, buffer)

    def refuse(storage, location):
        raise ValueError(f"no room on {location}")

    for lib in (torch, ember):  # an unknown device: RuntimeError; the callable's own error unchanged
        with pytest.raises(RuntimeError) as info:
            lib.load(io.BytesIO(buffer.getvalue()), map_location="bogus", weights_only=True)
        assert "corrupt" not in str(info.value) and "bogus" in str(info.value)
        with pytest.raises(ValueError, match="no room on cpu"):
            lib.load(io.BytesIO(buffer.getvalue()), map_location=refuse, weights_only=True)


def test_mmap_loads_copy_on_write_views_of_the_file(tmp_path):
    path = tmp_path / "model.pt"
    base = torch.arange(12.0).reshape(3, 4)
    saved = {"sd": torch.nn.BatchNorm1d(4).state_dict(), "col": base[:, 1], "half": torch.ones(3, dtype=torch.float16)}
    torch.save(saved, path)
    before = path.read_bytes()
    theirs, ours = torch.load(path, mmap=True, weights_only=True), ember.load(path, mmap=True)
    _same(ours, theirs)
    assert ours["col"].stride() == theirs["col"].stride() == (4,)
    root = ours["sd"]["running_var"].numpy()
    while isinstance(root.base, np.ndarray):
        root = root.base
    assert isinstance(root.base, mmap.mmap)  # the file's pages, not a copy read into memory
    ours["sd"]["running_var"].add_(1.0)  # copy-on-write, as torch's default MAP_PRIVATE
    assert ours["sd"]["running_var"].tolist() == [2.0] * 4 and path.read_bytes() == before
    for lib in (torch, ember):
        with pytest.raises(ValueError, match="f must be a file path in order to use the mmap argument"):
            lib.load(io.BytesIO(before), mmap=True, weights_only=True)
    ember.save({"w": ember.ones(2)}, tmp_path / "w.safetensors")
    with pytest.raises(RuntimeError, match="mmap can only be used"):
        ember.load(tmp_path / "w.safetensors", mmap=True)


@pytest.mark.parametrize("map_location", [None, "cpu", "restricted", lambda storage, location: None])
def test_legacy_format_files_load(tmp_path, map_location):
    # torch.save(..., _use_new_zipfile_serialization=False), as every checkpoint before PyTorch 1.6
    path = tmp_path / "old.pt"
    base = torch.arange(12.0).reshape(3, 4)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    saved = {"sd": model.state_dict(), "base": base, "row": base[1], "col": base[:, 2], "epoch": 3, "name": "x"}
    torch.save(saved, path, _use_new_zipfile_serialization=False)
    theirs, ours = torch.load(path, weights_only=True), ember.load(path, map_location=map_location)
    _same(ours, theirs)
    assert ours["col"].stride() == (4,) and ours["col"].storage_offset() == theirs["col"].storage_offset() == 2
    assert ours["base"].device == ember.device(map_location if isinstance(map_location, str) else "cpu")
    ours["base"].add_(100.0)  # one storage: the views see the write
    assert ours["row"].tolist() == [104.0, 105.0, 106.0, 107.0]
    torch.save(saved, path, _use_new_zipfile_serialization=False, pickle_protocol=4)
    for lib in (torch, ember):  # PyTorch's weights-only unpickler reads protocol-2 opcodes only (not FRAME)
        with pytest.raises(pickle.UnpicklingError, match="149"):
            lib.load(path, weights_only=True)
    _same(ember.load(path, map_location=map_location, weights_only=False), theirs)


def test_legacy_format_errors(tmp_path):
    path = tmp_path / "old.pt"
    torch.save({"w": torch.arange(4.0)}, path, _use_new_zipfile_serialization=False)
    data = path.read_bytes()
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="mmap can only be used with files saved with"):
            lib.load(path, mmap=True, weights_only=True)
    (tmp_path / "cut.pt").write_bytes(data[:-5])  # the last storage's bytes cut short
    for lib in (torch, ember):
        with pytest.raises(RuntimeError):
            lib.load(tmp_path / "cut.pt", weights_only=True)
    # a storage record claiming far more elements than the file holds is refused before allocating
    huge = data.replace(b"K\x04N", b"\x8a\x05\x00\x00\x00\x00\x01N")  # numel 4 -> 2**32, view_metadata None
    assert huge != data
    with pytest.raises(RuntimeError, match="does not fit in the file"):
        ember.load(io.BytesIO(huge))


@pytest.mark.parametrize("zipfile_format", [True, False])
@pytest.mark.parametrize("protocol", [2, 4])
def test_save_options_of_torch_save(zipfile_format, protocol):
    # torch.save's pickle_protocol and _use_new_zipfile_serialization=False (the legacy format)
    e = ember.arange(12.0).reshape(3, 4)
    obj = {"sd": nn.Linear(2, 3).state_dict(), "base": e, "col": e[:, 1], "p": nn.Parameter(ember.ones(2)), "n": 3}
    buffer = io.BytesIO()
    ember.save(obj, buffer, pickle_protocol=protocol, _use_new_zipfile_serialization=zipfile_format)
    assert buffer.getvalue()[:2] == (b"PK" if zipfile_format else bytes([0x80, protocol]))
    # torch's weights-only unpickler takes protocol 2's opcodes only, for its own files too; ember's as well
    theirs = torch.load(io.BytesIO(buffer.getvalue()), weights_only=protocol < 4)
    _same(ember.load(io.BytesIO(buffer.getvalue()), weights_only=protocol < 4), theirs)
    _same(obj, theirs)
    assert theirs["col"].stride() == (4,) and isinstance(theirs["p"], torch.nn.Parameter)
    theirs["base"][1, 1] = 100.0
    assert theirs["col"][1].item() == 100.0
    with pytest.raises(ValueError, match="the 'safetensors' format takes no pickle_protocol"):
        ember.save({}, io.BytesIO(), format="safetensors", pickle_protocol=protocol + 1)


def test_state_dict_metadata_and_batchnorm_checkpoints_without_num_batches_tracked():
    def build(lib):
        return lib.nn.Sequential(
            lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2), lib.nn.Sequential(lib.nn.InstanceNorm1d(2))
        )

    # each module's version under its prefix, as PyTorch's state_dict carries it (and ember.save writes it)
    assert build(ember).state_dict()._metadata == build(torch).state_dict()._metadata
    assert _ember_to_torch(build(ember).state_dict())._metadata == build(torch).state_dict()._metadata
    old = build(torch).state_dict()
    del old["1.num_batches_tracked"]
    old._metadata["1"]["version"] = 1  # a checkpoint older than num_batches_tracked (torchvision's classic weights)
    renamed = {k: v for k, v in old.items()}  # a dict comprehension (stripping "module.") drops the metadata
    current = build(torch).state_dict()
    del current["1.num_batches_tracked"]  # version 2 without the key: missing, in both
    for state, ok in ((old, True), (renamed, True), (current, False)):
        theirs, ours = build(torch), build(ember)
        if ok:
            assert str(theirs.load_state_dict(state)) == str(ours.load_state_dict(_torch_to_ember(state)))
            assert ours[1].num_batches_tracked.item() == theirs[1].num_batches_tracked.item() == 0
        else:
            for model, given in ((theirs, state), (ours, _torch_to_ember(state))):
                with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "1.num_batches_tracked"'):
                    model.load_state_dict(given)


@pytest.mark.parametrize("stale", [("running_mean", "running_var"), ("running_var",)])
def test_instance_norm_checkpoint_from_before_0_4_is_explained(stale):
    # a state_dict without metadata holding running stats an InstanceNorm without them does not track
    messages = []
    for lib in (torch, ember):
        model = lib.nn.Sequential(lib.nn.InstanceNorm1d(2))
        state = {f"0.{name}": lib.ones(2) for name in stale}
        with pytest.raises(RuntimeError) as info:
            model.load_state_dict(state)
        messages.append(str(info.value))
    assert messages[0] == messages[1] and "Unexpected running stats buffer(s)" in messages[1]


def test_checkpoints_from_before_0_4_load():
    # PyTorch 0.3 wrote the legacy format with tensors rebuilt by torch._utils._rebuild_tensor(storage,
    # offset, size, stride); the bytes are made here as it laid them out
    class Storage:
        pass

    class Tensor:
        def __init__(self, *geometry):
            self.geometry = geometry

    storage, values = Storage(), np.arange(6, dtype="<f4")

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return ("storage", torch.FloatStorage, "0", "cpu", values.size, None) if obj is storage else None

        def reducer_override(self, obj):
            if isinstance(obj, Tensor):
                return torch._utils._rebuild_tensor, (storage, *obj.geometry)
            return NotImplemented

    buffer = io.BytesIO()
    for record in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}):
        pickle.dump(record, buffer, protocol=2)
    Pickler(buffer, protocol=2).dump({"w": Tensor(0, (2, 3), (3, 1)), "col": Tensor(1, (2,), (3,))})
    pickle.dump(["0"], buffer, protocol=2)
    buffer.write(np.int64(values.size).tobytes() + values.tobytes())
    theirs = torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)
    ours = ember.load(io.BytesIO(buffer.getvalue()))
    _same(ours, theirs)
    assert ours["col"].tolist() == [1.0, 4.0] and ours["col"].stride() == theirs["col"].stride() == (3,)


@pytest.mark.parametrize("dtype", ["complex32", "bits8"])
@pytest.mark.parametrize("weights_only", [True, False])
@pytest.mark.filterwarnings("ignore:ComplexHalf support is experimental")
def test_tensors_of_dtypes_ember_lacks_are_named(dtype, weights_only):
    # torch reads them back; ember has no such dtype and says so (not "unsupported global, try weights_only=False")
    buffer = io.BytesIO()
    torch.save({"w": torch.ones(4, dtype=torch.uint8).view(getattr(torch, dtype))}, buffer)
    assert torch.load(io.BytesIO(buffer.getvalue()), weights_only=weights_only)["w"].dtype == getattr(torch, dtype)
    with pytest.raises(pickle.UnpicklingError, match="the file holds tensors of a dtype ember does not have"):
        ember.load(io.BytesIO(buffer.getvalue()), weights_only=weights_only)


def test_paths_that_are_not_files(tmp_path):
    # torch.save: RuntimeError for a missing parent directory (same words) and for a directory;
    # torch.load of a directory: IsADirectoryError
    for lib, t in ((torch, torch.ones(1)), (ember, ember.ones(1))):
        with pytest.raises(RuntimeError, match=f"Parent directory {tmp_path / 'missing'} does not exist."):
            lib.save(t, tmp_path / "missing" / "x.pt")
        with pytest.raises(RuntimeError, match="Is a directory"):
            lib.save(t, tmp_path)
        with pytest.raises(IsADirectoryError):
            lib.load(tmp_path, weights_only=True)
        for not_a_file in (3, b"PK\x03\x04"):  # neither a path nor a file object
            with pytest.raises(AttributeError):
                lib.load(not_a_file)
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind
