"""DeviceMesh / init_device_mesh, new_subgroups and the small helpers of ``torch.distributed``
that ember added beside them, compared with torch.distributed (gloo, CPU) rank by rank.

Run under ``mpiexec -n 2`` or ``-n 4`` with ``EMBER_TEST_TORCH_PORT`` set (see
``tests/test_device_mesh.py``): every rank joins an ember ``mpi`` group and a torch ``gloo``
group, builds the same meshes and subgroups in both libraries and compares what they report
(shapes, coordinates, local ranks, each dimension's group's ranks, the printed form, slices,
errors) and the result of a collective over a mesh dimension.
"""

from __future__ import annotations

import os

from common import run_against_torch
from point_to_point_and_groups import Raised, attempt, same

import ember
import ember.distributed as edist
from ember.distributed.device_mesh import DeviceMesh as EmberMesh
from ember.distributed.device_mesh import init_device_mesh as ember_mesh

try:
    import torch
    import torch.distributed as tdist
    from torch.distributed.device_mesh import DeviceMesh as TorchMesh
    from torch.distributed.device_mesh import init_device_mesh as torch_mesh
except ImportError:  # the test file skips without torch
    torch = tdist = torch_mesh = TorchMesh = None


def group_of(lib, g):
    """A group as comparable data: "WORLD", "NON_MEMBER", or its ranks."""
    if g is lib.group.WORLD:
        return "WORLD"
    if g is None:
        return None
    if isinstance(g, int):
        return "NON_MEMBER" if g == lib.GroupMember.NON_GROUP_MEMBER else g
    return lib.get_process_group_ranks(g)


def describe(lib, mesh, with_repr=True):
    """What a mesh reports on this rank, as plain data."""
    if isinstance(mesh, Raised):
        return mesh
    dims = list(range(mesh.ndim)) + list(mesh.mesh_dim_names or ())
    coordinate = mesh.get_coordinate()
    return {
        "repr": repr(mesh) if with_repr else None,
        "mesh": mesh.mesh.tolist(),
        "dtype": str(mesh.mesh.dtype).split(".")[-1],
        "ndim": mesh.ndim,
        "shape": tuple(mesh.shape),
        "size": [mesh.size()] + [mesh.size(d) for d in range(mesh.ndim)],
        "names": mesh.mesh_dim_names,
        "device_type": mesh.device_type,
        "rank": mesh.get_rank(),
        "coordinate": None if coordinate is None else tuple(coordinate),
        "local_ranks": [attempt(lambda d=d: mesh.get_local_rank(d)) for d in dims],
        "groups": [attempt(lambda d=d: group_of(lib, mesh.get_group(d))) for d in dims],
        "all_groups": attempt(lambda: [group_of(lib, g) for g in mesh.get_all_groups()]),
        "default_group": attempt(lambda: group_of(lib, mesh.get_group())),
        "default_local_rank": attempt(lambda: mesh.get_local_rank()),
    }


def compare(make, with_repr=True):
    """A check: ``make(init_device_mesh, DeviceMesh, lib)`` in both libraries reports the same."""

    def check():
        ours = describe(edist, attempt(lambda: make(ember_mesh, EmberMesh, edist)), with_repr)
        theirs = describe(tdist, attempt(lambda: make(torch_mesh, TorchMesh, tdist)), with_repr)
        if isinstance(theirs, Raised) or isinstance(ours, Raised):
            same(ours, theirs)
            return
        for key in theirs:
            assert ours[key] == theirs[key] or _same_raised(ours[key], theirs[key]), (
                f"{key}: ember {ours[key]!r}, torch {theirs[key]!r}"
            )

    return check


def _same_raised(a, b):
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(x == y or _same_raised(x, y) for x, y in zip(a, b))
    return isinstance(a, Raised) and isinstance(b, Raised) and a.type == b.type


def check_slices(n):
    def check():
        names = ("pp", "dp", "tp")
        shape = (1, n // 2, 2) if n % 2 == 0 else (1, 1, n)
        for mesh in [("dp",), ("tp",), ("dp", "tp"), ("tp", "dp"), "dp", ("pp", "tp"), ("dp", "pp"), ("tp", "pp")]:
            key = mesh

            def make(init, cls, lib, key=key):
                return init("cpu", shape, mesh_dim_names=names)[key]

            compare(make)()
        for bad in ["xx", ("dp", "xx")]:  # torch takes ("dp", "dp") (a broken mesh); ember: KeyError
            ours = attempt(lambda b=bad: ember_mesh("cpu", shape, mesh_dim_names=names)[b])
            theirs = attempt(lambda b=bad: torch_mesh("cpu", shape, mesh_dim_names=names)[b])
            same(ours, theirs, f"mesh[{bad!r}]")

    return check


def check_errors(n):
    def check():
        cases = [
            ("too_big", lambda init: init("cpu", (n, 2))),
            ("names_length", lambda init: init("cpu", (n,), mesh_dim_names=("a", "b"))),
            ("names_repeat", lambda init: init("cpu", (1, n), mesh_dim_names=("a", "a"))),
            ("device_index", lambda init: init("cpu:0", (n,))),
            ("no_names_slice", lambda init: init("cpu", (n,))["dp"]),
            ("bad_dim_int", lambda init: init("cpu", (n,), mesh_dim_names=("dp",)).get_group(1)),
            ("bad_dim_name", lambda init: init("cpu", (n,), mesh_dim_names=("dp",)).get_group("zz")),
            ("no_dim_2d", lambda init: init("cpu", (1, n)).get_group()),
            ("no_dim_local_rank", lambda init: init("cpu", (1, n)).get_local_rank()),
        ]
        for name, fn in cases:
            ours, theirs = attempt(lambda f=fn: f(ember_mesh)), attempt(lambda f=fn: f(torch_mesh))
            assert isinstance(ours, Raised) and isinstance(theirs, Raised), f"{name}: ember {ours!r}, torch {theirs!r}"
            assert ours.type == theirs.type, f"{name}: ember {ours!r}, torch {theirs!r}"
        text = str(attempt(lambda: ember_mesh("cpu", (n, 2))).text)
        assert f"Mesh should not be bigger than default world size {n}, but found {2 * n} ranks!" in text, text

    return check


def check_collective_over_dims(n):
    def check():
        shape = (n // 2, 2) if n % 2 == 0 else (1, n)
        ours = ember_mesh("cpu", shape, mesh_dim_names=("dp", "tp"))
        theirs = torch_mesh("cpu", shape, mesh_dim_names=("dp", "tp"))
        rank = edist.get_rank()
        for dim in ("dp", "tp"):
            a = ember.arange(3, dtype=ember.float32) * (rank + 1)
            b = torch.arange(3, dtype=torch.float32) * (rank + 1)
            edist.all_reduce(a, group=ours.get_group(dim))
            tdist.all_reduce(b, group=theirs.get_group(dim))
            same(a, b, f"all_reduce over {dim}")
            a, b = ember.tensor([float(rank)]), torch.tensor([float(rank)])
            edist.broadcast(a, src=ours[dim].mesh.tolist()[0], group=ours.get_group(dim))
            tdist.broadcast(b, src=theirs[dim].mesh.tolist()[0], group=theirs.get_group(dim))
            same(a, b, f"broadcast over {dim}")

    return check


def check_subgroups(n):
    def check():
        for size in [1, 2, n, 0, 3 if n != 3 else 2, n + 1, None]:
            ours = attempt(lambda s=size: edist.new_subgroups(s))
            theirs = attempt(lambda s=size: tdist.new_subgroups(s))
            if isinstance(theirs, Raised) or isinstance(ours, Raised):
                same(ours, theirs, f"new_subgroups({size})")
                if isinstance(ours, Raised):
                    assert ours.text.split("(")[0] == theirs.text.split("(")[0] or size is None, (ours, theirs)
                continue
            assert group_of(edist, ours[0]) == group_of(tdist, theirs[0]), (size, ours, theirs)
            assert [group_of(edist, g) for g in ours[1]] == [group_of(tdist, g) for g in theirs[1]]
        lists = [[[0, n - 1]], [list(range(n))], [[r] for r in range(n)], [], [[0, 1], [1]]]
        if n >= 4:
            lists.append([[0, 2], [1, 3]])
        for ranks in lists:
            ours = attempt(lambda r=ranks: edist.new_subgroups_by_enumeration(r))
            theirs = attempt(lambda r=ranks: tdist.new_subgroups_by_enumeration(r))
            if isinstance(theirs, Raised) or isinstance(ours, Raised):
                same(ours, theirs, f"new_subgroups_by_enumeration({ranks})")
                assert ours.text == theirs.text, (ours, theirs)
                continue
            assert group_of(edist, ours[0]) == group_of(tdist, theirs[0]), (ranks, ours, theirs)
            assert [group_of(edist, g) for g in ours[1]] == [group_of(tdist, g) for g in theirs[1]]

    return check


def check_helpers():
    saved = os.environ.pop("LOCAL_RANK", None)
    try:
        same(attempt(edist.get_node_local_rank), attempt(tdist.get_node_local_rank), "no LOCAL_RANK")
        assert attempt(edist.get_node_local_rank).text == attempt(tdist.get_node_local_rank).text
        assert edist.get_node_local_rank(fallback_rank=3) == tdist.get_node_local_rank(fallback_rank=3) == 3
        os.environ["LOCAL_RANK"] = "5"
        assert edist.get_node_local_rank(fallback_rank=3) == tdist.get_node_local_rank(fallback_rank=3) == 5
    finally:
        os.environ.pop("LOCAL_RANK", None)
        if saved is not None:
            os.environ["LOCAL_RANK"] = saved
    for device in ["cpu", "cuda", "cuda:1", "meta"]:
        same(
            attempt(lambda d=device: edist.get_default_backend_for_device(d)),
            attempt(lambda d=device: tdist.get_default_backend_for_device(d)),
            f"get_default_backend_for_device({device})",
        )
    for name in ["gloo", "GLOO", "cpu:gloo", "ucc", "bogus"]:
        assert edist.is_backend_available(name) == tdist.is_backend_available(name), name
    from ember.distributed.distributed_c10d import _get_default_group, _rank_not_in_group

    assert _get_default_group() is edist.group.WORLD
    assert _rank_not_in_group(None) is tdist.distributed_c10d._rank_not_in_group(None) is False
    outside = edist.new_group([0])
    theirs = tdist.new_group([0])
    assert _rank_not_in_group(outside) == tdist.distributed_c10d._rank_not_in_group(theirs)


def check_ddp_over_mesh(n):
    """DistributedDataParallel(device_mesh=mesh["dp"]) averages over the mesh's dp group, as torch's."""

    def check():
        shape = (n // 2, 2) if n % 2 == 0 else (n, 1)
        ours_mesh = ember_mesh("cpu", shape, mesh_dim_names=("dp", "tp"))
        theirs_mesh = torch_mesh("cpu", shape, mesh_dim_names=("dp", "tp"))
        torch.manual_seed(0)
        reference = torch.nn.Linear(3, 2)
        model = ember.nn.Linear(3, 2)
        model.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in reference.state_dict().items()})
        ours = ember.nn.parallel.DistributedDataParallel(model, device_mesh=ours_mesh["dp"])
        theirs = torch.nn.parallel.DistributedDataParallel(reference, device_mesh=theirs_mesh["dp"])
        rank = edist.get_rank()
        x = [[float(rank + i + j) for j in range(3)] for i in range(2)]
        ours(ember.tensor(x)).sum().backward()
        theirs(torch.tensor(x)).sum().backward()
        for (name, p), q in zip(model.named_parameters(), reference.parameters()):
            same(p.grad, q.grad, f"grad of {name}", tol=1e-6)
        for kwargs in (
            {"device_mesh": ours_mesh},
            {"device_mesh": ours_mesh["dp"], "process_group": edist.group.WORLD},
        ):
            twin = {
                k: (
                    theirs_mesh
                    if v is ours_mesh
                    else theirs_mesh["dp"]
                    if v is not edist.group.WORLD
                    else tdist.group.WORLD
                )
                for k, v in kwargs.items()
            }
            mine = attempt(lambda k=kwargs: ember.nn.parallel.DistributedDataParallel(ember.nn.Linear(3, 2), **k))
            theirs_raised = attempt(
                lambda k=twin: torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(3, 2), **k)
            )
            assert isinstance(mine, Raised) and isinstance(theirs_raised, Raised), (mine, theirs_raised)
            assert mine.type == theirs_raised.type == "RuntimeError", (mine, theirs_raised)
            assert mine.text.split(",")[0] == theirs_raised.text.split(",")[0], (mine, theirs_raised)

    return check


def checks(world_size=2):
    n = world_size
    cases = {
        "mesh_1d": compare(lambda init, cls, lib: init("cpu", (n,))),
        "mesh_1d_named": compare(lambda init, cls, lib: init("cpu", (n,), mesh_dim_names=("dp",))),
        "mesh_1d_smaller": compare(lambda init, cls, lib: init("cpu", (1,))),
        "mesh_2d_row": compare(lambda init, cls, lib: init("cpu", (1, n), mesh_dim_names=("dp", "tp"))),
        "mesh_2d_column": compare(lambda init, cls, lib: init("cpu", (n, 1), mesh_dim_names=("dp", "tp"))),
        "mesh_2d_unnamed": compare(lambda init, cls, lib: init("cpu", (1, n))),
        "mesh_explicit_reversed": compare(lambda init, cls, lib: cls("cpu", list(reversed(range(n)))), with_repr=False),
        "mesh_explicit_tensor": compare(
            lambda init, cls, lib: cls("cpu", lib_tensor(lib, [[r] for r in range(n)]), mesh_dim_names=("a", "b")),
            with_repr=False,
        ),
        "mesh_from_group": compare(lambda init, cls, lib: cls.from_group(lib.group.WORLD, "cpu")),
        "mesh_slices": check_slices(n),
        "mesh_errors": check_errors(n),
        "mesh_collectives": check_collective_over_dims(n),
        "mesh_equality": check_equality(n),
        "new_subgroups": check_subgroups(n),
        "ddp_over_mesh": check_ddp_over_mesh(n),
        "helpers": check_helpers,
    }
    if n % 2 == 0 and n > 2:
        cases["mesh_2d_square"] = compare(lambda init, cls, lib: init("cpu", (n // 2, 2), mesh_dim_names=("dp", "tp")))
        cases["mesh_explicit_transposed"] = compare(
            lambda init, cls, lib: cls("cpu", [[r + c * 2 for c in range(n // 2)] for r in range(2)]),
            with_repr=False,
        )
    return cases


def lib_tensor(lib, values):
    return ember.tensor(values) if lib is edist else torch.tensor(values)


def check_equality(n):
    def check():
        ours = [ember_mesh("cpu", (n,)), ember_mesh("cpu", (n,)), ember_mesh("cpu", (n,), mesh_dim_names=("dp",))]
        theirs = [torch_mesh("cpu", (n,)), torch_mesh("cpu", (n,)), torch_mesh("cpu", (n,), mesh_dim_names=("dp",))]
        got = [ours[0] == ours[1], ours[0] == ours[2], hash(ours[0]) == hash(ours[1])]
        expected = [theirs[0] == theirs[1], theirs[0] == theirs[2], hash(theirs[0]) == hash(theirs[1])]
        assert got == expected, (got, expected)
        named = ember_mesh("cpu", (n,), mesh_dim_names=("dp",))
        assert named["dp"] is named
        assert torch_mesh("cpu", (n,), mesh_dim_names=("dp",))["dp"] is not None

    return check


if __name__ == "__main__":
    run_against_torch(checks)
