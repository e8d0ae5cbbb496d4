"""ember.distributed.checkpoint against torch.distributed.checkpoint, in one process (no process group,
as torch's ``no_dist``): ember's directories read by ``torch.distributed.checkpoint.load`` and torch's
read by ember (tensors of every dtype, views, nested dicts and lists, values that are not tensors,
tensors saved in chunks, modules and optimizers as Stateful values), the metadata compared with
torch's, the errors, and the ``checkpoint.state_dict`` helpers against torch's.

Several ranks: ``tests/test_distributed_checkpoint_ranks.py``.
"""

from __future__ import annotations

import fractions
import pickle

import numpy as np
import pytest

import ember
import ember.distributed.checkpoint as dcp
from ember.distributed.checkpoint import state_dict as esd

torch = pytest.importorskip("torch")
tdcp = pytest.importorskip("torch.distributed.checkpoint")
tsd = pytest.importorskip("torch.distributed.checkpoint.state_dict")

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")

DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool", "complex64"]


def _host(t):
    t = t.detach()
    if t.dtype == ember.bfloat16:
        t = t.float()
    return np.asarray(t.cpu())


def _torch_host(t):
    t = t.detach()
    return (t.float() if t.dtype == torch.bfloat16 else t).numpy()


def _values(dtype, n=6):
    rng = np.random.RandomState(0)
    if dtype == "bool":
        return rng.rand(n) > 0.5
    if dtype.startswith(("int", "uint")):
        return rng.randint(0, 100, n).astype(dtype)
    if dtype == "bfloat16":
        return rng.randn(n).astype(np.float32)
    return (rng.randn(n) + (1j * rng.randn(n) if dtype.startswith("complex") else 0)).astype(dtype)


def _held(device, dtype):
    """Skip where the backend of ``device`` has no ``dtype`` (the restricted backend has no complex)."""
    try:
        ember.zeros(1, dtype=getattr(ember, dtype), device=device)
    except TypeError as exc:
        pytest.skip(str(exc))


def _ember(values, dtype, device="cpu"):
    return ember.tensor(values, device=device).to(getattr(ember, dtype))


def _torch(values, dtype):
    return torch.tensor(values).to(getattr(torch, dtype))


def _nested(lib, make):
    return {
        "model": {"w": make(0), "layers": [make(1), {"b": make(2)}]},
        "step": 12,
        "name": "run",
        "betas": (0.9, 0.999),
        "plain_list": [1, 2.5, None],
        "empty_shape": make(3)[:0],
    }


@pytest.mark.parametrize("dtype", DTYPES)
def test_ember_writes_torch_reads(tmp_path, device, dtype):
    _held(device, dtype)
    values = [_values(dtype, 6) * (1 if dtype == "bool" else i + 1) for i in range(4)]
    saved = _nested(ember, lambda i: _ember(values[i], dtype, device).reshape(2, 3))
    dcp.save(saved, checkpoint_id=tmp_path)
    target = _nested(torch, lambda i: torch.zeros(2, 3, dtype=getattr(torch, dtype)))
    target.update(step=0, name="", betas=None, plain_list=None)
    tdcp.load(target, checkpoint_id=tmp_path)
    for got, want in (
        (target["model"]["w"], saved["model"]["w"]),
        (target["model"]["layers"][0], saved["model"]["layers"][0]),
        (target["model"]["layers"][1]["b"], saved["model"]["layers"][1]["b"]),
        (target["empty_shape"], saved["empty_shape"]),
    ):
        assert str(got.dtype)[6:] == str(want.dtype)[6:]
        np.testing.assert_array_equal(_torch_host(got), _host(want))
    assert (target["step"], target["name"], target["betas"], target["plain_list"]) == (
        12,
        "run",
        (0.9, 0.999),
        [1, 2.5, None],
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_writes_ember_reads_in_place(tmp_path, device, dtype):
    _held(device, dtype)
    values = [_values(dtype, 6) * (1 if dtype == "bool" else i + 1) for i in range(4)]
    saved = _nested(torch, lambda i: _torch(values[i], dtype).reshape(2, 3))
    tdcp.save(saved, checkpoint_id=tmp_path)
    target = _nested(ember, lambda i: ember.zeros(2, 3, dtype=getattr(ember, dtype), device=device))
    target.update(step=0, name="", betas=None, plain_list=None)
    w, b = target["model"]["w"], target["model"]["layers"][1]["b"]
    dcp.load(target, checkpoint_id=tmp_path)
    assert target["model"]["w"] is w and target["model"]["layers"][1]["b"] is b  # filled in place
    assert w.device == ember.device(device)
    np.testing.assert_array_equal(_host(w), _torch_host(saved["model"]["w"]))
    np.testing.assert_array_equal(_host(b), _torch_host(saved["model"]["layers"][1]["b"]))
    np.testing.assert_array_equal(_host(target["model"]["layers"][0]), _torch_host(saved["model"]["layers"][0]))
    assert (target["step"], target["name"], target["betas"], target["plain_list"]) == (
        12,
        "run",
        (0.9, 0.999),
        [1, 2.5, None],
    )


def test_views_zero_dim_and_parameters(tmp_path):
    base = ember.arange(24.0).reshape(4, 6)
    saved = {
        "transposed": base.t(),
        "sliced": base[1:3, ::2],
        "scalar": ember.tensor(3.5),
        "param": ember.nn.Parameter(ember.ones(2)),
    }
    md = dcp.save(saved, checkpoint_id=tmp_path)
    assert md.state_dict_metadata["param"].properties.requires_grad
    target = {
        "transposed": torch.zeros(6, 4),
        "sliced": torch.zeros(2, 3),
        "scalar": torch.tensor(0.0),
        "param": torch.zeros(2),
    }
    tdcp.load(target, checkpoint_id=tmp_path)
    for key in saved:
        np.testing.assert_array_equal(target[key].numpy(), _host(saved[key]))
    back = {k: ember.zeros(*v.shape) for k, v in target.items()}
    dcp.load(back, checkpoint_id=tmp_path)
    for key in saved:
        np.testing.assert_array_equal(_host(back[key]), _host(saved[key]))


def test_metadata_matches_torch(tmp_path):
    def state(lib):
        return {
            "a": {"w": lib.ones(2, 3), "p": lib.nn.Parameter(lib.zeros(4, dtype=lib.float64))},
            "l": [lib.ones(1, dtype=lib.int32), 5],
            "s": "x",
        }

    e = dcp.save(state(ember), checkpoint_id=tmp_path / "e")
    t = tdcp.save(state(torch), checkpoint_id=tmp_path / "t")
    md = tdcp.FileSystemReader(tmp_path / "e").read_metadata()  # ember's file, as torch unpickles it
    assert list(md.state_dict_metadata) == list(t.state_dict_metadata)
    assert md.planner_data == t.planner_data == e.planner_data
    assert md.version == t.version
    for key, want in t.state_dict_metadata.items():
        got = md.state_dict_metadata[key]
        assert type(got) is type(want)
        if isinstance(want, tdcp.TensorStorageMetadata):
            assert got == want, key
    assert {i.fqn: i.offset for i in md.storage_data} == {i.fqn: i.offset for i in t.storage_data}
    assert {i.relative_path for i in md.storage_data.values()} == {"__0_0.distcp"}
    assert sorted(p.name for p in (tmp_path / "e").iterdir()) == sorted(p.name for p in (tmp_path / "t").iterdir())


def test_ember_reads_torchs_metadata(tmp_path):
    t = tdcp.save({"w": torch.ones(2, 3), "n": 3}, checkpoint_id=tmp_path)
    md = dcp.FileSystemReader(tmp_path).read_metadata()
    assert isinstance(md, dcp.Metadata)
    w = md.state_dict_metadata["w"]
    assert isinstance(w, dcp.TensorStorageMetadata) and w.size == ember.Size([2, 3])
    assert w.properties.dtype is ember.float32 and w.chunks == [
        dcp.ChunkStorageMetadata(ember.Size([0, 0]), ember.Size([2, 3]))
    ]
    assert isinstance(md.state_dict_metadata["n"], dcp.BytesStorageMetadata)
    assert md.storage_meta.save_id == t.storage_meta.save_id


def test_chunked_tensor_from_torch(tmp_path):
    """A tensor saved in two chunks (as DTensor shards are) loads whole."""
    whole = torch.arange(12.0).reshape(4, 3)
    tdcp.save({"top": whole[:2].clone(), "bottom": whole[2:].clone()}, checkpoint_id=tmp_path)
    reader = tdcp.FileSystemReader(tmp_path)
    md = reader.read_metadata()
    from torch.distributed.checkpoint.metadata import ChunkStorageMetadata, MetadataIndex, TensorStorageMetadata

    chunks = [
        ChunkStorageMetadata(torch.Size([0, 0]), torch.Size([2, 3])),
        ChunkStorageMetadata(torch.Size([2, 0]), torch.Size([2, 3])),
    ]
    info = {i.fqn: v for i, v in md.storage_data.items()}
    md.state_dict_metadata = {
        "w": TensorStorageMetadata(md.state_dict_metadata["top"].properties, torch.Size([4, 3]), chunks)
    }
    md.storage_data = {MetadataIndex("w", [0, 0]): info["top"], MetadataIndex("w", [2, 0]): info["bottom"]}
    md.planner_data = {"w": ("w",)}
    with open(tmp_path / ".metadata", "wb") as f:
        pickle.dump(md, f)
    check = {"w": torch.zeros(4, 3)}
    tdcp.load(check, checkpoint_id=tmp_path)
    assert torch.equal(check["w"], whole)
    got = {"w": ember.zeros(4, 3)}
    dcp.load(got, checkpoint_id=tmp_path)
    np.testing.assert_array_equal(_host(got["w"]), whole.numpy())


def test_stateful_module_and_optimizer(tmp_path):
    model = ember.nn.Linear(3, 2)
    optim = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(ember.ones(4, 3)).sum().backward()
    optim.step()
    dcp.save({"model": model, "optim": optim, "epoch": 4}, checkpoint_id=tmp_path)
    t_model = torch.nn.Linear(3, 2)
    t_state = {"model": t_model.state_dict(), "epoch": 0}
    tdcp.load(t_state, checkpoint_id=tmp_path)
    t_model.load_state_dict(t_state["model"])
    np.testing.assert_array_equal(t_model.weight.detach().numpy(), _host(model.weight))
    fresh = ember.nn.Linear(3, 2)
    fresh_optim = ember.optim.SGD(fresh.parameters(), lr=0.5, momentum=0.9)
    fresh(ember.ones(1, 3)).sum().backward()
    fresh_optim.step()
    state = {"model": fresh, "optim": fresh_optim, "epoch": 0}
    dcp.load(state, checkpoint_id=tmp_path)
    assert state["model"] is fresh and state["epoch"] == 4
    np.testing.assert_array_equal(_host(fresh.weight), _host(model.weight))
    assert fresh_optim.param_groups[0]["lr"] == 0.1
    np.testing.assert_array_equal(
        _host(fresh_optim.state[fresh.weight]["momentum_buffer"]), _host(optim.state[model.weight]["momentum_buffer"])
    )


def test_writer_options_and_reader(tmp_path):
    state = {"a": ember.ones(3), "b": ember.zeros(5, dtype=ember.int64), "c": "text", "d": ember.ones(2, 2)}
    dcp.save(state, storage_writer=dcp.FileSystemWriter(tmp_path / "per_item", single_file_per_rank=False))
    assert sorted(p.name for p in (tmp_path / "per_item").iterdir()) == [".metadata"] + [
        f"__0_{i}.distcp" for i in range(4)
    ]
    dcp.save(state, storage_writer=dcp.FileSystemWriter(tmp_path / "two", thread_count=2))
    tdcp.save(
        {k: torch.tensor(np.asarray(v)) if isinstance(v, ember.Tensor) else v for k, v in state.items()},
        storage_writer=tdcp.FileSystemWriter(tmp_path / "two_t", thread_count=2),
    )
    for name in ("per_item", "two"):
        target = {"a": torch.zeros(3), "b": torch.ones(5, dtype=torch.int64), "c": "", "d": torch.zeros(2, 2)}
        tdcp.load(target, checkpoint_id=tmp_path / name)
        assert target["c"] == "text" and target["a"].sum() == 3 and target["b"].sum() == 0 and target["d"].sum() == 4
    assert (
        tdcp.FileSystemReader(tmp_path / "two").read_metadata().storage_data.keys()
        == tdcp.FileSystemReader(tmp_path / "two_t").read_metadata().storage_data.keys()
    )
    assert {
        i.fqn: v.relative_path for i, v in tdcp.FileSystemReader(tmp_path / "two").read_metadata().storage_data.items()
    } == {
        i.fqn: v.relative_path
        for i, v in tdcp.FileSystemReader(tmp_path / "two_t").read_metadata().storage_data.items()
    }
    target = {"a": ember.zeros(3)}
    dcp.load(target, storage_reader=dcp.FileSystemReader(tmp_path / "two"))
    assert target["a"].sum().item() == 3
    with pytest.raises(dcp.CheckpointException, match="Checkpoint already exists"):  # raised in a step, as torch
        dcp.save(state, storage_writer=dcp.FileSystemWriter(tmp_path / "two", overwrite=False))
    with pytest.warns(UserWarning, match="overwriting"):
        dcp.save(state, checkpoint_id=tmp_path / "two")


def test_load_casts_and_replaces_as_torch(tmp_path):
    """A tensor loads into a tensor of another dtype (copied, cast); a value that is not a tensor
    replaces the given one, whatever it was."""
    dcp.save({"w": ember.tensor([1.5, 2.25], dtype=ember.float64), "n": ember.ones(1)}, checkpoint_id=tmp_path)
    for T, lib in ((ember, dcp), (torch, tdcp)):
        for dtype in ("float32", "int64", "float16"):
            state = {"w": T.zeros(2, dtype=getattr(T, dtype))}
            lib.load(state, checkpoint_id=tmp_path)
            assert str(state["w"].dtype).endswith(dtype)
            assert state["w"].tolist() == ([1, 2] if dtype == "int64" else [1.5, 2.25])
    tdcp.save({"n": 3}, checkpoint_id=tmp_path / "value")
    state = {"n": ember.ones(1)}
    dcp.load(state, checkpoint_id=tmp_path / "value")
    assert state == {"n": 3}


def test_planner_options_as_torch(tmp_path):
    """flatten_state_dict=False (nested values saved whole, as bytes) and allow_partial_load, both ways."""
    e_md = dcp.save(
        {"w": ember.ones(2), "model": {"w": ember.arange(3.0)}, "step": 2},
        checkpoint_id=tmp_path / "e",
        planner=dcp.DefaultSavePlanner(flatten_state_dict=False),
    )
    t_md = tdcp.save(
        {"w": torch.ones(2), "model": {"w": torch.arange(3.0)}, "step": 2},
        checkpoint_id=tmp_path / "t",
        planner=tdcp.DefaultSavePlanner(flatten_state_dict=False),
    )
    assert list(e_md.state_dict_metadata) == list(t_md.state_dict_metadata) == ["w", "model", "step"]
    assert isinstance(e_md.state_dict_metadata["model"], dcp.BytesStorageMetadata)
    assert e_md.planner_data is None and t_md.planner_data is None
    for path in ("e", "t"):
        # torch fills the tensors (its unflattened load leaves the other values as they were: it puts
        # them in a copy of the state_dict); ember replaces them too
        target = {"w": torch.zeros(2), "model": None, "step": 0}
        tdcp.load(target, checkpoint_id=tmp_path / path, planner=tdcp.DefaultLoadPlanner(flatten_state_dict=False))
        assert target["w"].tolist() == [1.0, 1.0]
        target = {"w": ember.zeros(2), "model": None, "step": 0}
        dcp.load(target, checkpoint_id=tmp_path / path, planner=dcp.DefaultLoadPlanner(flatten_state_dict=False))
        assert target["w"].tolist() == [1.0, 1.0] and target["step"] == 2
        assert isinstance(target["model"]["w"], ember.Tensor) and target["model"]["w"].tolist() == [0.0, 1.0, 2.0]
    dcp.save({"w": ember.ones(2)}, checkpoint_id=tmp_path / "p")
    for T, lib in ((ember, dcp), (torch, tdcp)):
        target = {"w": T.zeros(2), "new": T.zeros(1)}
        lib.load(target, checkpoint_id=tmp_path / "p", planner=lib.DefaultLoadPlanner(allow_partial_load=True))
        assert target["w"].tolist() == [1.0, 1.0] and target["new"].tolist() == [0.0]
    with pytest.raises(NotImplementedError, match="only DefaultLoadPlanner is supported"):
        dcp.load({"w": ember.zeros(2)}, checkpoint_id=tmp_path / "p", planner=object())


def test_format_utils_as_torch(tmp_path):
    """dcp_to_torch_save and torch_save_to_dcp, each library's output read by the other."""
    from torch.distributed.checkpoint import format_utils as tfu

    from ember.distributed.checkpoint import format_utils as efu

    tdcp.save(
        {"model": {"w": torch.arange(6.0).reshape(2, 3)}, "l": [torch.ones(1), 2], "step": 3},
        checkpoint_id=tmp_path / "t",
    )
    efu.dcp_to_torch_save(tmp_path / "t", tmp_path / "e.pt")
    tfu.dcp_to_torch_save(tmp_path / "t", tmp_path / "t.pt")
    ours, theirs = torch.load(tmp_path / "e.pt"), torch.load(tmp_path / "t.pt")
    assert str(ours) == str(theirs)
    loaded = ember.load(tmp_path / "t.pt")
    assert loaded["model"]["w"].tolist() == [[0, 1, 2], [3, 4, 5]] and loaded["l"][1] == 2 and loaded["step"] == 3
    torch.save({"w": torch.ones(2), "n": {"b": torch.zeros(3, dtype=torch.int64)}}, tmp_path / "in.pt")
    efu.torch_save_to_dcp(tmp_path / "in.pt", tmp_path / "e_dcp")
    tfu.torch_save_to_dcp(tmp_path / "in.pt", tmp_path / "t_dcp")
    for path in ("e_dcp", "t_dcp"):
        state = {"w": torch.zeros(2), "n": {"b": torch.ones(3, dtype=torch.int64)}}
        tdcp.load(state, checkpoint_id=tmp_path / path)
        assert state["w"].tolist() == [1.0, 1.0] and state["n"]["b"].tolist() == [0, 0, 0]
    assert tdcp.FileSystemReader(tmp_path / "e_dcp").read_metadata().state_dict_metadata == (
        tdcp.FileSystemReader(tmp_path / "t_dcp").read_metadata().state_dict_metadata
    )


def test_deprecated_spellings_and_stateful_as_torch(tmp_path):
    for lib, T, path in ((dcp, ember, tmp_path / "e"), (tdcp, torch, tmp_path / "t")):
        with pytest.warns(FutureWarning, match="`save_state_dict` is deprecated"):
            lib.save_state_dict({"w": T.ones(2)}, lib.FileSystemWriter(path), no_dist=True)
        state = {"w": T.zeros(2)}
        with pytest.warns(FutureWarning, match="`load_state_dict` is deprecated"):
            lib.load_state_dict(state, lib.FileSystemReader(path), no_dist=True)
        assert state["w"].tolist() == [1.0, 1.0]
    from torch.distributed.checkpoint.stateful import Stateful as TorchStateful

    class Counter:
        def __init__(self):
            self.n = 0

        def state_dict(self):
            return {"n": self.n}

        def load_state_dict(self, sd):
            self.n = sd["n"]

    assert isinstance(Counter(), dcp.Stateful) == isinstance(Counter(), TorchStateful) is True
    assert isinstance(ember.ones(1), dcp.Stateful) == isinstance(torch.ones(1), TorchStateful) is False
    saved = Counter()
    saved.n = 5
    dcp.save({"c": saved}, checkpoint_id=tmp_path / "c")
    for lib in (dcp, tdcp):
        fresh = Counter()
        lib.load({"c": fresh}, checkpoint_id=tmp_path / "c")
        assert fresh.n == 5


def test_async_save_writes_the_state_at_the_call(tmp_path):
    w = ember.ones(3)
    state = {"model": {"w": w}, "step": 1}
    future = dcp.async_save(state, checkpoint_id=tmp_path)
    w.add_(5.0)  # after the call: not in the checkpoint
    md = future.result(timeout=60)
    assert sorted(md.state_dict_metadata) == ["model.w", "step"]
    target = {"model": {"w": torch.zeros(3)}, "step": 0}
    tdcp.load(target, checkpoint_id=tmp_path)
    assert target["model"]["w"].tolist() == [1.0, 1.0, 1.0] and target["step"] == 1
    assert dcp.AsyncCheckpointerType.THREAD.value == tdcp.state_dict_saver.AsyncCheckpointerType.THREAD.value
    bad = dcp.async_save({"a.b": ember.ones(1), "a": {"b": ember.ones(1)}}, checkpoint_id=tmp_path / "bad")
    with pytest.raises(dcp.CheckpointException, match="duplicated flatten key"):
        bad.result(timeout=60)


def test_warns_without_process_group(tmp_path):
    with pytest.warns(UserWarning, match="assuming the intent is to save in a single process"):
        dcp.save({"a": ember.ones(1)}, checkpoint_id=tmp_path)
    with pytest.warns(UserWarning, match="assuming the intent is to load in a single process"):
        dcp.load({"a": ember.ones(1)}, checkpoint_id=tmp_path)


def test_errors_as_torch(tmp_path):
    dcp.save({"w": ember.zeros(2, 3)}, checkpoint_id=tmp_path)
    tdcp.save({"w": torch.zeros(2, 3)}, checkpoint_id=tmp_path / "t")
    for lib, T, path in ((dcp, ember, tmp_path), (tdcp, torch, tmp_path / "t")):
        with pytest.raises(lib.api.CheckpointException if lib is tdcp else dcp.CheckpointException) as info:
            lib.load({"w": T.zeros(2, 3), "x": T.zeros(1)}, checkpoint_id=path)
        assert "RuntimeError: Missing key in checkpoint state_dict: x." in str(info.value)
        assert isinstance(info.value.failures[0][0], RuntimeError)
        with pytest.raises(BaseException) as info:
            lib.load({"w": T.zeros(3)}, checkpoint_id=path)
        assert "ValueError: Size mismatch between saved" in str(info.value) and "for w" in str(info.value)
        with pytest.raises(BaseException) as info:
            lib.save({"a.b": T.ones(1), "a": {"b": T.ones(1)}}, checkpoint_id=path / "dup")
        assert type(info.value).__name__ == "CheckpointException" and "duplicated flatten key a.b" in str(info.value)
        with pytest.raises(BaseException) as info:
            lib.load({"w": None}, checkpoint_id=path)
        assert "Invalid checkpoint metadata for w, expected BytesStorageMetadata" in str(info.value)
        with pytest.raises(RuntimeError, match="`checkpoint_id` must be specified"):
            lib.save({"w": T.zeros(1)})
        with pytest.raises(RuntimeError, match="`checkpoint_id` must be specified"):
            lib.load({"w": T.zeros(1)})
        with pytest.raises(BaseException) as info:
            lib.load({"w": T.zeros(2, 3)}, checkpoint_id=tmp_path / "nothing")
        assert "No such file or directory" in str(info.value)


def test_refuses_unknown_classes(tmp_path):
    tdcp.save({"w": torch.ones(1)}, checkpoint_id=tmp_path)
    md = tdcp.FileSystemReader(tmp_path).read_metadata()
    md.planner_data = {"w": fractions.Fraction(1, 3)}
    with open(tmp_path / ".metadata", "wb") as f:
        pickle.dump(md, f)
    with pytest.raises(dcp.CheckpointException) as info:
        dcp.load({"w": ember.zeros(1)}, checkpoint_id=tmp_path)
    assert "names fractions.Fraction" in str(info.value)
    assert isinstance(info.value.failures[0][0], pickle.UnpicklingError)
    # an item placed outside the checkpoint's directory
    md.planner_data = {"w": ("w",)}
    for info in md.storage_data.values():
        info.relative_path = "../elsewhere.distcp"
    with open(tmp_path / ".metadata", "wb") as f:
        pickle.dump(md, f)
    with pytest.raises(dcp.CheckpointException, match="not a file of the checkpoint's directory"):
        dcp.load({"w": ember.zeros(1)}, checkpoint_id=tmp_path)
    # a value that is not a tensor: read under PyTorch's weights_only rules, more classes where allowed
    tdcp.save({"frac": fractions.Fraction(1, 3)}, checkpoint_id=tmp_path / "value")
    with pytest.raises(dcp.CheckpointException, match="fractions.Fraction"):
        dcp.load({"frac": None}, checkpoint_id=tmp_path / "value")
    with ember.serialization.safe_globals([fractions.Fraction]):
        state = {"frac": None}
        dcp.load(state, checkpoint_id=tmp_path / "value")
    assert state["frac"] == fractions.Fraction(1, 3)


# -- checkpoint.state_dict ----------------------------------------------------------------------
def _models():
    torch.manual_seed(0)
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    e = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.ReLU(), ember.nn.Linear(4, 2))
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    t[0].bias.requires_grad_(False)
    e[0].bias.requires_grad_(False)
    return e, t


def _optims(e, t, name="Adam", **kwargs):
    groups = lambda m: [{"params": [m[0].weight, m[0].bias]}, {"params": list(m[2].parameters()), "lr": 0.5}]  # noqa: E731
    return getattr(ember.optim, name)(groups(e), lr=0.1, **kwargs), getattr(torch.optim, name)(
        groups(t), lr=0.1, **kwargs
    )


def _same(e, t, path="", tol=0.0):
    if isinstance(t, dict):
        assert list(e) == list(t), (path, list(e), list(t))
        for k in t:
            _same(e[k], t[k], f"{path}.{k}", tol)
    elif isinstance(t, (list, tuple)):
        assert type(e) is type(t) and len(e) == len(t), (path, e, t)
        for a, b in zip(e, t):
            _same(a, b, path, tol)
    elif isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor) and str(e.dtype)[6:] == str(t.dtype)[6:], (path, e, t)
        np.testing.assert_allclose(_host(e), _torch_host(t), rtol=tol, atol=tol, err_msg=path)
    else:
        assert e == t and type(e) is type(t), (path, e, t)


OPTIONS = [
    {},
    {"flatten_optimizer_state_dict": True},
    {"ignore_frozen_params": True},
    {"cpu_offload": True},
    {"full_state_dict": True},
]


@pytest.mark.parametrize("optimizer", [("Adam", {}), ("SGD", {"momentum": 0.9}), ("AdamW", {"amsgrad": True})])
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(o) or "default")
def test_get_state_dict_as_torch(optimizer, options):
    e, t = _models()
    eo, to = _optims(e, t, optimizer[0], **optimizer[1])
    _same(
        esd.get_state_dict(e, eo, options=esd.StateDictOptions(**options)),
        tsd.get_state_dict(t, to, options=tsd.StateDictOptions(**options)),
    )
    x = np.random.RandomState(1).randn(5, 3).astype(np.float32)
    for m, o, T in ((e, eo, ember), (t, to, torch)):
        m(T.tensor(x)).pow(2).sum().backward()
        o.step()
    _same(
        esd.get_state_dict(e, eo, options=esd.StateDictOptions(**options)),
        tsd.get_state_dict(t, to, options=tsd.StateDictOptions(**options)),
        tol=1e-6,
    )


def test_model_state_dict_options_as_torch():
    e, t = _models()
    for kwargs in ({"submodules": {2}}, {"submodules": {2}, "keep_submodule_prefixes": False}):
        keep = kwargs.get("keep_submodule_prefixes", True)
        got = esd.get_model_state_dict(e, submodules={e[2]}, options=esd.StateDictOptions(keep_submodule_prefixes=keep))
        want = tsd.get_model_state_dict(
            t, submodules={t[2]}, options=tsd.StateDictOptions(keep_submodule_prefixes=keep)
        )
        _same(got, want)


@pytest.mark.parametrize("flatten", [False, True])
def test_set_state_dict_as_torch(flatten):
    e, t = _models()
    eo, to = _optims(e, t)
    opts = dict(flatten_optimizer_state_dict=flatten)
    esd_, eosd = esd.get_state_dict(e, eo, options=esd.StateDictOptions(**opts))
    tsd_, tosd = tsd.get_state_dict(t, to, options=tsd.StateDictOptions(**opts))
    for sd, T in ((esd_, ember), (tsd_, torch)):
        sd["2.bias"] = T.full_like(sd["2.bias"], 3.0)
    if flatten:
        for osd in (eosd, tosd):
            osd["param_groups.2.weight.lr"] = osd["param_groups.2.bias.lr"] = 0.25
            osd["state.2.weight.exp_avg"] = osd["state.2.weight.exp_avg"] + 1
    else:
        for osd in (eosd, tosd):
            osd["param_groups"][1]["lr"] = 0.25
            osd["state"]["2.weight"]["exp_avg"] = osd["state"]["2.weight"]["exp_avg"] + 1
    got = esd.set_state_dict(e, eo, model_state_dict=esd_, optim_state_dict=eosd, options=esd.StateDictOptions(**opts))
    want = tsd.set_state_dict(t, to, model_state_dict=tsd_, optim_state_dict=tosd, options=tsd.StateDictOptions(**opts))
    assert tuple(got) == tuple(want)
    _same(esd.get_state_dict(e, eo), tsd.get_state_dict(t, to))
    assert eo.param_groups[1]["lr"] == 0.25


def test_set_model_state_dict_keys_and_errors_as_torch():
    e, t = _models()
    for mod, m, T in ((esd, e, ember), (tsd, t, torch)):
        with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "0.bias", "2.weight", "2.bias"'):
            mod.set_model_state_dict(m, {"0.weight": T.zeros(4, 3)})
    got = esd.set_model_state_dict(e, {"0.weight": ember.zeros(4, 3)}, options=esd.StateDictOptions(strict=False))
    want = tsd.set_model_state_dict(t, {"0.weight": torch.zeros(4, 3)}, options=tsd.StateDictOptions(strict=False))
    assert tuple(got) == tuple(want)
    got = esd.set_model_state_dict(
        e, {e[2]: {"weight": ember.ones(2, 4), "bias": ember.ones(2)}}, options=esd.StateDictOptions(strict=False)
    )
    want = tsd.set_model_state_dict(
        t, {t[2]: {"weight": torch.ones(2, 4), "bias": torch.ones(2)}}, options=tsd.StateDictOptions(strict=False)
    )
    assert tuple(got) == tuple(want)
    _same(esd.get_model_state_dict(e), tsd.get_model_state_dict(t))


def test_shared_parameters_as_torch():
    def build(lib):
        m = lib.nn.Sequential(lib.nn.Embedding(5, 3), lib.nn.Linear(3, 5, bias=False))
        m[1].weight = m[0].weight
        return m

    e, t = build(ember), build(torch)
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    eo, to = ember.optim.Adam(e.parameters()), torch.optim.Adam(t.parameters())
    _same(esd.get_state_dict(e, eo), tsd.get_state_dict(t, to))


def test_dcp_round_trip_through_state_dict_helpers(tmp_path):
    """The usual program: get_state_dict -> dcp.save -> (torch loads it) -> dcp.load -> set_state_dict."""
    e, t = _models()
    eo, to = _optims(e, t)
    x = np.random.RandomState(2).randn(5, 3).astype(np.float32)
    e(ember.tensor(x)).sum().backward()
    eo.step()
    msd, osd = esd.get_state_dict(e, eo)
    dcp.save({"model": msd, "optim": osd}, checkpoint_id=tmp_path)
    tm, tosd = tsd.get_state_dict(t, to)
    state = {"model": tm, "optim": tosd}
    tdcp.load(state, checkpoint_id=tmp_path)
    tsd.set_state_dict(t, to, model_state_dict=state["model"], optim_state_dict=state["optim"])
    _same(esd.get_state_dict(e, eo), tsd.get_state_dict(t, to))
    fresh, _ = _models()
    fresh_o, _ = _optims(fresh, torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)))
    m2, o2 = esd.get_state_dict(fresh, fresh_o)
    state = {"model": m2, "optim": o2}
    dcp.load(state, checkpoint_id=tmp_path)
    esd.set_state_dict(fresh, fresh_o, model_state_dict=state["model"], optim_state_dict=state["optim"])
    _same(esd.get_state_dict(fresh, fresh_o), tsd.get_state_dict(t, to))


# -- all_gather_coalesced and split_group in a world of one ----------------------------------------
from test_distributed_collectives2 import world_of_one  # noqa: E402, F401 - the fixture


def test_all_gather_coalesced_world_of_one(world_of_one):  # noqa: F811
    import ember.distributed as dist

    inputs = [ember.ones(2, 2), ember.tensor([2.0])]
    out = [[ember.zeros(2, 2), ember.zeros(1)]]
    with pytest.warns(FutureWarning, match="all_gather_coalesced"):
        assert dist.all_gather_coalesced(out, inputs) is None
    np.testing.assert_array_equal(_host(out[0][0]), np.ones((2, 2)))
    np.testing.assert_array_equal(_host(out[0][1]), [2.0])
    work = dist.all_gather_coalesced([[ember.zeros(2, 2), ember.zeros(1)]], inputs, async_op=True)
    work.wait()
    for bad, inp, kind, match in [
        ([[ember.zeros(2, 2)]], inputs, RuntimeError, "invalid output size"),
        ([[ember.zeros(4), ember.zeros(1)]], inputs, RuntimeError, "invalid size of output tensor at index 0"),
        ([], inputs, RuntimeError, "output lists should be equal to world size"),
        (out, [ember.ones(2), ember.ones(2, dtype=ember.int64)], ValueError, "different dtypes"),
        ((), inputs, TypeError, "output_tensor_lists should be a list"),
        (out, (ember.ones(1),), TypeError, "input_tensor_list"),
        (
            [[ember.zeros(2, 2, dtype=ember.int64), ember.zeros(1, dtype=ember.int64)]],
            inputs,
            RuntimeError,
            "invalid tensor type at index 0",
        ),
    ]:
        with pytest.raises(kind, match=match):
            dist.all_gather_coalesced(bad, inp)


def test_all_gather_coalesced_errors_as_torch():
    """The error types of torch's gloo group for the same bad arguments."""
    import torch.distributed as tdist
    from test_distributed_collectives2 import _free_port

    tdist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{_free_port()}", rank=0, world_size=1)
    try:
        inputs = [torch.ones(2, 2), torch.tensor([2.0])]
        cases = [
            ([[torch.zeros(2, 2)]], inputs, RuntimeError),
            ([[torch.zeros(4), torch.zeros(1)]], inputs, RuntimeError),
            ([], inputs, RuntimeError),
            ([[torch.zeros(2, 2), torch.zeros(1)]], [torch.ones(2), torch.ones(2, dtype=torch.int64)], ValueError),
            ((), inputs, TypeError),
            ([[torch.zeros(2, 2), torch.zeros(1)]], (torch.ones(1),), TypeError),
        ]
        for bad, inp, kind in cases:
            with pytest.raises(kind):
                tdist.all_gather_coalesced(bad, inp)
    finally:
        tdist.destroy_process_group()


def test_split_group_errors(world_of_one):  # noqa: F811
    import ember.distributed as dist

    with pytest.raises(ValueError, match="split_ranks cannot be None or empty"):
        dist.split_group(split_ranks=[])
    with pytest.raises(ValueError, match="cannot be empty"):
        dist.split_group(split_ranks=[[]])
    with pytest.raises(ValueError, match="less or equal to the world_size"):
        dist.split_group(split_ranks=[[0, 1]])
    with pytest.raises(ValueError, match="not a rank of the parent group"):
        dist.split_group(split_ranks=[[3]])


def test_split_group_needs_a_process_group():
    import torch.distributed as tdist

    import ember.distributed as dist

    for lib in (dist, tdist):
        with pytest.raises(ValueError):
            lib.split_group(split_ranks=[[0]])


# -- FullyShardedDataParallel models (whole state dicts) ------------------------------------------
from test_fsdp import _pair, worlds_of_one  # noqa: E402, F401 - the fixture


@pytest.mark.parametrize("options", [{"full_state_dict": True}, {"full_state_dict": True, "cpu_offload": True}])
def test_fsdp_state_dict_as_torch(worlds_of_one, tmp_path, options):  # noqa: F811
    """An FSDP model's whole state dicts: the same keys and values as torch's DSD (full_state_dict), saved
    by ember and loaded by torch, and set back."""
    ours, theirs = _pair("cpu")
    opts = [ember.optim.Adam(ours.parameters(), lr=0.01), torch.optim.Adam(theirs.parameters(), lr=0.01)]
    x = np.random.RandomState(0).randn(4, 5).astype(np.float32)
    for T, m, opt in ((ember, ours, opts[0]), (torch, theirs, opts[1])):
        opt.zero_grad()
        m(T.tensor(x)).pow(2).mean().backward()
        opt.step()
    got = esd.get_state_dict(ours, opts[0], options=esd.StateDictOptions(**options))
    want = tsd.get_state_dict(theirs, opts[1], options=tsd.StateDictOptions(**options))
    # ember's FSDP.optim_state_dict keeps the optimizer's order of each state (step first), torch's FSDP
    # puts the tensors first: compared by name
    in_order = lambda osd: {k: dict(sorted(v.items())) for k, v in osd["state"].items()}  # noqa: E731
    _same(got[0], want[0], tol=1e-6)
    _same(in_order(got[1]), in_order(want[1]), tol=1e-6)
    _same(got[1]["param_groups"], want[1]["param_groups"])
    dcp.save({"model": got[0], "optim": got[1]}, checkpoint_id=tmp_path)
    state = {"model": want[0], "optim": want[1]}
    tdcp.load(state, checkpoint_id=tmp_path)
    _same(got[0], state["model"])
    _same(in_order(got[1]), in_order(state["optim"]))
    got[1]["param_groups"][0]["lr"] = 0.5
    esd.set_state_dict(
        ours, opts[0], model_state_dict=got[0], optim_state_dict=got[1], options=esd.StateDictOptions(**options)
    )
    assert opts[0].param_groups[0]["lr"] == 0.5
    again = esd.get_state_dict(ours, opts[0], options=esd.StateDictOptions(**options))
    _same(again[0], want[0], tol=1e-6)
    _same(in_order(again[1]), in_order(want[1]), tol=1e-6)
