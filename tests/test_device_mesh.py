"""ember.distributed.device_mesh (DeviceMesh, init_device_mesh), new_subgroups,
new_subgroups_by_enumeration and the small helpers beside them, against torch.distributed.

``tests/distributed/mesh_device_mesh.py`` runs under ``mpiexec`` on 2 and on 4 ranks; every rank
joins an ember ``mpi`` group and a torch ``gloo`` group (CPU) and compares what the meshes report
(shape, coordinates, local ranks, each dimension's group, printed form, slices, errors) and the
results of collectives over a mesh dimension. Every check it prints is one test here; the rest
runs in this process.
"""

from __future__ import annotations

import pytest
from test_distributed_collectives2 import _check_names, rank_tests

import ember.distributed as dist
from ember.distributed.device_mesh import DeviceMesh, init_device_mesh

torch = pytest.importorskip("torch")
tdist = pytest.importorskip("torch.distributed")

SCRIPT = "mesh_device_mesh.py"


globals().update(rank_tests(SCRIPT, sizes=(2, 4), names_of=lambda ranks: _check_names(ranks, script=SCRIPT)))


# -- in this process ---------------------------------------------------------------------------
def test_module_names_as_torch():
    import torch.distributed.device_mesh as theirs

    import ember.distributed.device_mesh as ours

    assert {"DeviceMesh", "init_device_mesh"} <= set(ours.__all__) <= set(theirs.__all__) | {"DeviceMesh"}
    assert dist.DeviceMesh is DeviceMesh and dist.init_device_mesh is init_device_mesh


def test_errors_before_any_group():
    # argument errors come before the default group is needed (as torch's)
    for kwargs, fragment in [
        ({"device_type": "cpu:0", "mesh_shape": (1,)}, "Device type with index is not supported but got cpu:0"),
        ({"device_type": "cpu", "mesh_shape": (1, 1), "mesh_dim_names": ("a",)}, "should have same length"),
        ({"device_type": "cpu", "mesh_shape": (1, 1), "mesh_dim_names": ("a", "a")}, "must be unique"),
    ]:
        with pytest.raises(RuntimeError) as reference:
            tdist.device_mesh.init_device_mesh(**kwargs)
        with pytest.raises(RuntimeError, match=fragment):
            init_device_mesh(**kwargs)
        assert fragment in str(reference.value)
    assert not dist.is_initialized()


def test_debug_level_against_torch(monkeypatch):
    assert repr(dist.get_debug_level()) == repr(tdist.get_debug_level())
    for level in ("INFO", "DETAIL", "OFF"):
        dist.set_debug_level(getattr(dist.DebugLevel, level))
        tdist.set_debug_level(getattr(tdist.DebugLevel, level))
        assert repr(dist.get_debug_level()) == repr(tdist.get_debug_level())
        assert int(dist.get_debug_level()) == int(tdist.get_debug_level())
    for value in ("detail", "Info", "OFF"):
        monkeypatch.setenv("TORCH_DISTRIBUTED_DEBUG", value)
        dist.set_debug_level_from_env()
        tdist.set_debug_level_from_env()
        assert repr(dist.get_debug_level()) == repr(tdist.get_debug_level())
    monkeypatch.setenv("TORCH_DISTRIBUTED_DEBUG", "bogus")
    with pytest.raises(ValueError) as reference:
        tdist.set_debug_level_from_env()
    with pytest.raises(ValueError, match="must be OFF, INFO, or DETAIL"):
        dist.set_debug_level_from_env()
    assert "must be OFF, INFO, or DETAIL" in str(reference.value)
    with pytest.raises(TypeError):
        tdist.set_debug_level("INFO")
    with pytest.raises(TypeError):
        dist.set_debug_level("INFO")
    assert (dist.DebugLevel.INFO == 1) == (tdist.DebugLevel.INFO == 1)
    monkeypatch.setenv("TORCH_DISTRIBUTED_DEBUG", "OFF")
    dist.set_debug_level_from_env()
    tdist.set_debug_level_from_env()


def test_helpers_without_a_group(monkeypatch):
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    with pytest.raises(RuntimeError) as reference:
        tdist.get_node_local_rank()
    with pytest.raises(RuntimeError, match="LOCAL_RANK is not in the environment"):
        dist.get_node_local_rank()
    assert "LOCAL_RANK is not in the environment" in str(reference.value)
    for device in ("cpu", "cuda", "cuda:0"):
        assert dist.get_default_backend_for_device(device) == tdist.get_default_backend_for_device(device)
    assert dist.get_default_backend_for_device(dist.__name__ and "opencl") == "mpi"
    with pytest.raises(ValueError, match="Default backend not registered for device : meta"):
        dist.get_default_backend_for_device("meta")
    for name in ("gloo", "cpu:gloo", "ucc", "xccl", "bogus"):
        assert dist.is_backend_available(name) == tdist.is_backend_available(name), name
    assert dist.get_pg_count() == tdist.get_pg_count() == 0
    assert dist.is_ucc_available() is False and dist.is_xccl_available() is False
    with pytest.raises(ValueError, match="has not been initialized") as raised:
        dist.new_subgroups(1)
    with pytest.raises(ValueError) as reference:
        tdist.new_subgroups(1)
    assert str(raised.value) == str(reference.value)


def test_distributed_c10d_module():
    import ember.distributed.distributed_c10d as ours

    for name in ("ProcessGroup", "ReduceOp", "all_reduce", "new_group", "get_rank", "Backend", "GroupMember"):
        assert getattr(ours, name) is getattr(dist, name)
        assert hasattr(tdist.distributed_c10d, name)
    for name in ("_get_default_group", "_get_default_store", "_rank_not_in_group"):
        assert hasattr(ours, name) and hasattr(tdist.distributed_c10d, name)
    with pytest.raises(ValueError, match="has not been initialized"):
        ours._get_default_group()
