"""ember.distributed.checkpoint against torch.distributed.checkpoint (gloo, CPU) under ``mpiexec -n N``
with ``EMBER_TEST_TORCH_PORT`` set (see ``tests/test_distributed_checkpoint_ranks.py``): every rank
joins an ember ``mpi`` group and a torch ``gloo`` group; checkpoints written by one library are read
by the other on every rank, the files and the rank each item is written by (deduplication of
replicated tensors) are compared, and all_gather_coalesced and split_group are checked. Each check
prints ``ok``/``FAIL`` like the other scripts of this folder."""

from __future__ import annotations

import os
import tempfile
import warnings

import numpy as np
from common import run_against_torch

import ember
import ember.distributed as edist
import ember.distributed.checkpoint as edcp
from ember.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

try:
    import torch
    import torch.distributed as tdist
    import torch.distributed.checkpoint as tdcp
    from torch.distributed.checkpoint.state_dict import get_state_dict as t_get_state_dict
except ImportError:  # the test file skips without torch
    torch = tdist = tdcp = t_get_state_dict = None

warnings.simplefilter("ignore")


def shared_dir(tag):
    """A fresh directory that every rank names alike (made by rank 0, broadcast)."""
    path = [tempfile.mkdtemp(prefix=f"ember-dcp-{tag}-") if edist.get_rank() == 0 else None]
    edist.broadcast_object_list(path, src=0)
    return path[0]


def values(seed, lib):
    """The same replicated state on every rank, in ``lib`` (ember or torch)."""
    rng = np.random.RandomState(seed)
    return {
        "model": {
            "big": lib.tensor(rng.randn(8, 5).astype(np.float32)),
            "small": lib.tensor(rng.randn(3).astype(np.float64)),
            "ints": lib.tensor(np.arange(6, dtype=np.int64).reshape(2, 3)),
        },
        "extra": [lib.tensor(rng.randn(4).astype(np.float32)), 7, "text"],
        "step": 11,
        "betas": (0.9, 0.99),
    }


def zeros_like_state(lib):
    state = values(0, lib)
    state["model"] = {k: lib.zeros_like(v) for k, v in state["model"].items()}
    state["extra"] = [lib.zeros(4), 0, ""]
    state["step"], state["betas"] = 0, None
    return state


def same(e, t, path="state", tol=0.0):
    """``e`` (ember's) holds ``t``'s values (torch's), bit for bit or within ``tol``."""
    if isinstance(t, dict):
        assert sorted(e) == sorted(t), (path, sorted(e), sorted(t))
        for k in t:
            same(e[k], t[k], f"{path}.{k}", tol)
    elif isinstance(t, (list, tuple)):
        assert type(e) is type(t) and len(e) == len(t), (path, e, t)
        for i, (a, b) in enumerate(zip(e, t)):
            same(a, b, f"{path}[{i}]", tol)
    elif isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), (path, type(e))
        assert str(e.dtype).split(".")[1] == str(t.dtype).split(".")[1], (path, e.dtype, t.dtype)
        np.testing.assert_allclose(np.asarray(e.detach()), t.detach().numpy(), rtol=tol, atol=tol, err_msg=path)
    else:
        assert e == t and type(e) is type(t), (path, e, t)


def placement(path):
    """``{fqn: file}`` of a checkpoint's .metadata, read by torch."""
    md = tdcp.FileSystemReader(path).read_metadata()
    return {index.fqn: info.relative_path for index, info in md.storage_data.items()}


def check_ember_save_torch_load():
    path = shared_dir("e2t")
    edcp.save(values(1, ember), checkpoint_id=path)
    tdist.barrier()
    loaded = zeros_like_state(torch)
    tdcp.load(loaded, checkpoint_id=path)
    expected = values(1, torch)
    for key in ("model", "extra", "step", "betas"):
        assert str(loaded[key]) == str(expected[key]), key


def check_torch_save_ember_load():
    path = shared_dir("t2e")
    tdcp.save(values(2, torch), checkpoint_id=path)
    edist.barrier()
    loaded = zeros_like_state(ember)
    edcp.load(loaded, checkpoint_id=path)
    same(loaded, values(2, torch))


def check_async_save():
    """With a process group async_save writes before it returns; torch reads the checkpoint."""
    path = shared_dir("async")
    future = edcp.async_save(values(6, ember), checkpoint_id=path)
    assert future.done()
    assert sorted(future.result().state_dict_metadata) == sorted(
        tdcp.FileSystemReader(path).read_metadata().state_dict_metadata
    )
    loaded = zeros_like_state(torch)
    tdcp.load(loaded, checkpoint_id=path)
    assert str(loaded["model"]) == str(values(6, torch)["model"])


def check_same_files_and_dedup():
    """Each rank writes __<rank>_0.distcp; each replicated item is written by the rank torch picks."""
    e_path, t_path = shared_dir("ef"), shared_dir("tf")
    e_md = edcp.save(values(3, ember), checkpoint_id=e_path)
    t_md = tdcp.save(values(3, torch), checkpoint_id=t_path)
    edist.barrier()
    assert sorted(os.listdir(e_path)) == sorted(os.listdir(t_path)), (os.listdir(e_path), os.listdir(t_path))
    assert placement(e_path) == placement(t_path), (placement(e_path), placement(t_path))
    assert sorted(e_md.state_dict_metadata) == sorted(t_md.state_dict_metadata)
    assert e_md.planner_data == t_md.planner_data


def check_dedup_to_lowest_rank():
    e_path, t_path = shared_dir("el"), shared_dir("tl")
    edcp.save(values(4, ember), checkpoint_id=e_path, planner=edcp.DefaultSavePlanner(dedup_save_to_lowest_rank=True))
    tdcp.save(values(4, torch), checkpoint_id=t_path, planner=tdcp.DefaultSavePlanner(dedup_save_to_lowest_rank=True))
    edist.barrier()
    assert placement(e_path) == placement(t_path), (placement(e_path), placement(t_path))
    assert set(placement(e_path).values()) == {"__0_0.distcp"}


def check_subgroup():
    """The ranks 1.. of the job save in a subgroup (files named by group rank) and load it back."""
    n = edist.get_world_size()
    members = list(range(1, n))
    e_group, t_group = edist.new_group(members), tdist.new_group(members)
    e_path, t_path = shared_dir("eg"), shared_dir("tg")
    if edist.get_rank() in members:
        edcp.save(values(5, ember), checkpoint_id=e_path, process_group=e_group)
        tdcp.save(values(5, torch), checkpoint_id=t_path, process_group=t_group)
        loaded = zeros_like_state(ember)
        edcp.load(loaded, checkpoint_id=t_path, process_group=e_group)
        same(loaded, values(5, torch))
    edist.barrier()
    assert sorted(os.listdir(e_path)) == sorted(os.listdir(t_path)), (os.listdir(e_path), os.listdir(t_path))
    assert placement(e_path) == placement(t_path)


def models():
    torch.manual_seed(0)
    reference = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2))
    model = ember.nn.Sequential(ember.nn.Linear(4, 6), ember.nn.Tanh(), ember.nn.Linear(6, 2))
    model.load_state_dict({k: ember.tensor(v.numpy()) for k, v in reference.state_dict().items()})
    return model, reference


def check_ddp_state_dict_round_trip():
    """DDP model + Adam: the FQN state dicts match torch's; saved by ember, loaded by torch into a
    torch DDP model and back into a fresh ember one."""
    model, reference = models()
    ddp = ember.nn.parallel.DistributedDataParallel(model)
    tddp = torch.nn.parallel.DistributedDataParallel(reference)
    opt, topt = ember.optim.Adam(ddp.parameters(), lr=0.01), torch.optim.Adam(tddp.parameters(), lr=0.01)
    x = np.random.RandomState(edist.get_rank()).randn(5, 4).astype(np.float32)
    for m, o, T in ((ddp, opt, ember), (tddp, topt, torch)):
        o.zero_grad()
        m(T.tensor(x)).pow(2).sum().backward()
        o.step()
    msd, osd = get_state_dict(ddp, opt)
    tmsd, tosd = t_get_state_dict(tddp, topt)
    assert list(msd) == list(tmsd), (list(msd), list(tmsd))
    same(msd, tmsd, tol=1e-6)  # one Adam step apart from the rounding of the two libraries
    same(osd, tosd, tol=1e-6)
    path = shared_dir("ddp")
    edcp.save({"model": msd, "optim": osd}, checkpoint_id=path)
    tdist.barrier()
    # torch reads it into a fresh torch model and optimizer
    _, fresh_reference = models()
    fresh_t = torch.nn.parallel.DistributedDataParallel(fresh_reference)
    fresh_topt = torch.optim.Adam(fresh_t.parameters(), lr=0.01)
    t_state = dict(zip(("model", "optim"), t_get_state_dict(fresh_t, fresh_topt)))
    tdcp.load(t_state, checkpoint_id=path)
    same(msd, t_state["model"])
    same(osd, t_state["optim"])
    # ember reads it into a fresh ember model and optimizer
    fresh, _ = models()
    fresh_ddp = ember.nn.parallel.DistributedDataParallel(fresh)
    fresh_opt = ember.optim.Adam(fresh_ddp.parameters(), lr=0.01)
    e_state = dict(zip(("model", "optim"), get_state_dict(fresh_ddp, fresh_opt)))
    edcp.load(e_state, checkpoint_id=path)
    set_state_dict(fresh_ddp, fresh_opt, model_state_dict=e_state["model"], optim_state_dict=e_state["optim"])
    as_torch = {k: torch.tensor(np.asarray(v)) for k, v in msd.items()}
    same(get_state_dict(fresh_ddp, fresh_opt), (as_torch, osd_as_torch(osd)))


def osd_as_torch(osd):
    """An ember optimizer state_dict's tensors as torch's (to compare ember with ember through ``same``)."""
    return {
        "state": {k: {n: torch.tensor(np.asarray(v)) for n, v in s.items()} for k, s in osd["state"].items()},
        "param_groups": osd["param_groups"],
    }


def check_fsdp_full_state_dict():
    """FSDP models: whole state dicts equal to torch's DSD with full_state_dict=True ({} off rank 0 with
    cpu_offload), saved by ember and loaded by torch."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions as TOptions
    from torch.distributed.fsdp import FullyShardedDataParallel as TFSDP

    from ember.distributed.checkpoint.state_dict import StateDictOptions
    from ember.distributed.fsdp import FullyShardedDataParallel as FSDP

    model, reference = models()
    ours, theirs = FSDP(model), TFSDP(reference, device_id=torch.device("cpu"))
    opt, topt = ember.optim.Adam(ours.parameters(), lr=0.01), torch.optim.Adam(theirs.parameters(), lr=0.01)
    x = np.random.RandomState(edist.get_rank()).randn(5, 4).astype(np.float32)
    for m, o, T in ((ours, opt, ember), (theirs, topt, torch)):
        o.zero_grad()
        m(T.tensor(x)).pow(2).sum().backward()
        o.step()
    in_order = lambda osd: {k: dict(sorted(v.items())) for k, v in osd["state"].items()}  # noqa: E731
    msd, osd = get_state_dict(ours, opt, options=StateDictOptions(full_state_dict=True))
    tmsd, tosd = t_get_state_dict(theirs, topt, options=TOptions(full_state_dict=True))
    same(msd, tmsd, tol=1e-6)
    same(in_order(osd), in_order(tosd), tol=1e-6)
    same(osd["param_groups"], tosd["param_groups"])
    # cpu_offload: the same on rank 0, {} elsewhere (torch's FSDP fails to offload CPU tensors in 2.13:
    # "setStorage ... out of bounds", see fsdp_against_torch.py)
    off_msd, off_osd = get_state_dict(ours, opt, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    if edist.get_rank() == 0:
        same(off_msd, tmsd, tol=1e-6)
        same(in_order(off_osd), in_order(tosd), tol=1e-6)
    else:
        assert off_msd == {} and off_osd == {}, (off_msd, off_osd)
    path = shared_dir("fsdp")
    edcp.save({"model": msd, "optim": osd}, checkpoint_id=path)
    tdist.barrier()
    tmsd, tosd = t_get_state_dict(theirs, topt, options=TOptions(full_state_dict=True))
    state = {"model": tmsd, "optim": tosd}
    tdcp.load(state, checkpoint_id=path)
    same(msd, state["model"])
    same(in_order(osd), in_order(state["optim"]))


def check_errors_on_every_rank():
    """A key missing from the checkpoint on one rank: every rank raises CheckpointException."""
    path = shared_dir("err")
    edcp.save({"w": ember.ones(2)}, checkpoint_id=path)
    state = {"w": ember.zeros(2)}
    if edist.get_rank() == edist.get_world_size() - 1:
        state["missing"] = ember.zeros(1)
    try:
        edcp.load(state, checkpoint_id=path)
    except edcp.CheckpointException as exc:
        assert list(exc.failures) == [edist.get_world_size() - 1], exc.failures
        assert "Missing key in checkpoint state_dict: missing." in str(exc)
    else:
        raise AssertionError("no CheckpointException")


def check_all_gather_coalesced():
    rank, n = edist.get_rank(), edist.get_world_size()
    results = []
    for T, lib in ((ember, edist), (torch, tdist)):
        inputs = [T.full((2, 2), float(rank)), T.tensor([10.0 + rank]), T.arange(3.0) * (rank + 1)]
        outputs = [[T.zeros(2, 2), T.zeros(1), T.zeros(3)] for _ in range(n)]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert lib.all_gather_coalesced(outputs, inputs) is None
        assert any(issubclass(w.category, FutureWarning) for w in caught)
        results.append(outputs)
    same(results[0], results[1])
    work = edist.all_gather_coalesced([[ember.zeros(1)] for _ in range(n)], [ember.ones(1)], async_op=True)
    work.wait()


def check_split_group():
    rank, n = edist.get_rank(), edist.get_world_size()
    splits = [[r for r in range(n) if r % 2 == 0], [r for r in range(n) if r % 2 == 1]]
    group = edist.split_group(split_ranks=splits)
    mine = splits[rank % 2]
    assert edist.get_process_group_ranks(group) == mine
    assert edist.get_rank(group) == mine.index(rank)
    t = ember.tensor([float(rank)])
    edist.all_reduce(t, group=group)
    assert t.item() == float(sum(mine)), (t, mine)
    for bad, message in (([[0, 0]], "duplicate ranks"), ([list(range(n + 1))], "less or equal"), ([[n]], "not a rank")):
        try:
            edist.split_group(split_ranks=bad)
        except ValueError as exc:
            assert message in str(exc), exc
        else:
            raise AssertionError(f"split_group({bad}) raised nothing")
    only_first = edist.split_group(split_ranks=[[0]])
    assert (only_first is None) == (rank != 0), only_first


def checks(world_size=2):
    return {
        "ember_save_torch_load": check_ember_save_torch_load,
        "torch_save_ember_load": check_torch_save_ember_load,
        "same_files_and_dedup": check_same_files_and_dedup,
        "async_save": check_async_save,
        "dedup_to_lowest_rank": check_dedup_to_lowest_rank,
        "subgroup": check_subgroup,
        "ddp_state_dict_round_trip": check_ddp_state_dict_round_trip,
        "fsdp_full_state_dict": check_fsdp_full_state_dict,
        "errors_on_every_rank": check_errors_on_every_rank,
        "all_gather_coalesced": check_all_gather_coalesced,
        "split_group": check_split_group,
    }


if __name__ == "__main__":
    run_against_torch(checks)
