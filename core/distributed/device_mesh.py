"""``DeviceMesh``: the ranks of a job laid out as an n-dimensional array, one process group per dimension.

A mesh of shape ``(dp, tp)`` puts the ranks in a ``dp x tp`` grid; along each dimension the
ranks of one line form a process group (:meth:`DeviceMesh.get_group`), so data parallelism
can reduce over ``"dp"`` while tensor parallelism works within ``"tp"``. The API is
``torch.distributed.device_mesh``'s.

Example (under ``mpiexec -n 4``)::

    >>> from ember.distributed.device_mesh import init_device_mesh
    >>> mesh = init_device_mesh("cpu", (2, 2), mesh_dim_names=("dp", "tp"))
    >>> mesh.mesh
    tensor([[0, 1],
            [2, 3]], dtype=ember.int32)
    >>> mesh.get_coordinate()                   # on rank 2
    (1, 0)
    >>> dist.get_process_group_ranks(mesh.get_group("tp"))   # rank 2's row
    [2, 3]
    >>> mesh["dp"].mesh                          # rank 2's column, a 1-D mesh
    tensor([0, 2], dtype=ember.int32)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import dtypes
from ..tensor import Tensor
from ..tensor import tensor as _make_tensor
from . import distributed_c10d as dist

__all__ = ["DeviceMesh", "init_device_mesh"]


def _groups_of(array: np.ndarray, world: Any) -> list[Any]:
    """One group per dimension of the mesh ``array``: the line through this rank (WORLD where a line
    holds every rank). Every rank creates every line's group, in the same order."""
    size = dist.get_world_size()
    me = dist.get_rank()
    groups = []
    for dim in range(array.ndim):
        lines = np.moveaxis(array, dim, -1).reshape(-1, array.shape[dim])
        mine = dist.GroupMember.NON_GROUP_MEMBER
        for line in lines:
            ranks = [int(r) for r in line]
            if sorted(ranks) == list(range(size)):
                pg = world
            else:
                pg = dist.new_group(ranks)
            if me in ranks:
                mine = pg
        groups.append(mine)
    return groups


class DeviceMesh:
    """The ranks of a job arranged as the n-dimensional array ``mesh``, on devices of ``device_type``.

    Every rank of the job constructs the same mesh (it creates one process group per line of
    each dimension, collectively). :func:`init_device_mesh` builds one from a shape.

    Args:
        device_type (str): the devices' type, ``"cpu"``, ``"cuda"``, ``"opencl"``.
        mesh (Tensor or array-like): the global ranks, any shape; each rank at most once.
        mesh_dim_names (tuple[str], optional): a name per dimension, for ``mesh["dp"]`` and
            ``get_group("dp")``. Default: ``None``.

    Example (under ``mpiexec -n 2``)::

        >>> mesh = DeviceMesh("cpu", [[0], [1]], mesh_dim_names=("dp", "tp"))
        >>> mesh.shape, mesh.size(), mesh.get_local_rank("dp")    # on rank 1
        ((2, 1), 2, 1)
    """

    def __init__(
        self,
        device_type: str,
        mesh: Any,
        *,
        mesh_dim_names: tuple[str, ...] | None = None,
        backend_override: Any = None,
        _init_backend: bool = True,
        _groups: list[Any] | None = None,
        _strides: tuple[Any, ...] | None = None,
    ) -> None:
        if not isinstance(device_type, str):
            raise TypeError(f"DeviceMesh: device_type must be a str, got {type(device_type).__name__}")
        array = np.asarray(mesh.cpu().numpy() if isinstance(mesh, Tensor) else mesh)
        if array.dtype.kind not in "iu" and array.size:
            raise ValueError(f"DeviceMesh: mesh must hold integer ranks, got {array.dtype}")
        array = array.astype(np.int64)
        if len(set(array.reshape(-1).tolist())) != array.size:
            raise RuntimeError(f"DeviceMesh cannot have duplicate values, but found {array.tolist()}")
        if mesh_dim_names is not None:
            mesh_dim_names = tuple(mesh_dim_names)
            if len(mesh_dim_names) != array.ndim:
                raise RuntimeError(
                    "mesh_dim_names should have the same length as the mesh's dimensions! "
                    f"Found len(mesh_dim_names): {len(mesh_dim_names)} and mesh.ndim: {array.ndim}."
                )
        self.device_type = device_type
        self.mesh_dim_names = mesh_dim_names
        self._array = array
        self._strides = _strides if _strides is not None else _contiguous(array.shape)
        if _groups is not None:
            self._groups = list(_groups)
            return
        if not dist.is_initialized():
            dist.init_process_group()
        world_size = dist.get_world_size()
        if array.size > world_size:
            raise RuntimeError(
                f"Mesh should not be bigger than default world size {world_size}, but found {array.size} ranks!"
            )
        if array.size and not 0 <= int(array.min()) <= int(array.max()) < world_size:
            raise RuntimeError(f"DeviceMesh: mesh {array.tolist()} holds ranks outside [0, {world_size})")
        self._groups = _groups_of(array, dist.group.WORLD) if _init_backend else [None] * array.ndim

    # -- what it is --------------------------------------------------------------------------------
    @property
    def mesh(self) -> Tensor:
        """The global ranks, shaped as the mesh (an ``int32`` tensor on the CPU, as PyTorch's)."""
        return _make_tensor(self._array.astype(np.int32), dtype=dtypes.int32)

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self._array.ndim

    @property
    def shape(self) -> tuple[int, ...]:
        """The size of each dimension."""
        return tuple(int(s) for s in self._array.shape)

    def size(self, mesh_dim: int | None = None) -> int:
        """The number of ranks in the mesh, or along dimension ``mesh_dim`` (an int)."""
        return int(self._array.size) if mesh_dim is None else self.shape[mesh_dim]

    def _dim(self, mesh_dim: int | str) -> int:
        if isinstance(mesh_dim, str):
            if self.mesh_dim_names is None or mesh_dim not in self.mesh_dim_names:
                raise KeyError(
                    f"Mesh dimension '{mesh_dim}' does not exist. "
                    f"Available mesh dimensions are: mesh_dim_names={self.mesh_dim_names}"
                )
            return self.mesh_dim_names.index(mesh_dim)
        return mesh_dim

    def _need_dim(self, mesh_dim, what):
        if mesh_dim is None:
            if self.ndim > 1:
                raise RuntimeError(
                    f"Found the DeviceMesh have {self.ndim} dimensions. Optional kwarg `mesh_dim` needs to be "
                    f"specified when device_mesh.ndim > 1.{what}"
                )
            return 0
        return self._dim(mesh_dim)

    def get_group(self, mesh_dim: int | str | None = None) -> Any:
        """The process group of this rank's line along ``mesh_dim`` (a name or an int; optional for 1-D).

        Raises:
            IndexError: this rank is not in the mesh.
            RuntimeError: ``mesh_dim`` is omitted for a mesh of more than one dimension.
            KeyError: no dimension has the name ``mesh_dim``.
        """
        dim = self._need_dim(
            mesh_dim,
            " If you want to get the list of all the ProcessGroups in the DeviceMesh, please use "
            "`get_all_groups()` instead.",
        )
        self._member("get_group")
        return self._groups[dim]

    def _member(self, name):
        """IndexError (PyTorch's type) where this rank is not in the mesh: it has no group in it."""
        if self.get_coordinate() is None:
            raise IndexError(
                f"DeviceMesh.{name}: rank {dist.get_rank()} is not in the mesh {self._array.tolist()}, "
                "so it has no group in it"
            )

    def get_all_groups(self) -> list[Any]:
        """The process group of each dimension (:meth:`get_group` of each), in order."""
        self._member("get_all_groups")
        return list(self._groups)

    def get_rank(self) -> int:
        """This process's global rank."""
        return dist.get_rank()

    def get_local_rank(self, mesh_dim: int | str | None = None) -> int:
        """This rank's rank in the group of dimension ``mesh_dim`` (optional for a 1-D mesh).

        The group numbers its members in increasing global rank (as :func:`new_group` does), which
        is the coordinate along ``mesh_dim`` unless the mesh lists ranks out of order.
        """
        dim = self._need_dim(mesh_dim, "")
        self._member("get_local_rank")
        return dist.get_rank(self._groups[dim])

    def get_coordinate(self) -> tuple[int, ...] | None:
        """This rank's index in :attr:`mesh` (``None`` if the rank is not in the mesh)."""
        found = np.argwhere(self._array == dist.get_rank())
        return None if not len(found) else tuple(int(i) for i in found[0])

    # -- slicing -------------------------------------------------------------------------------
    def __getitem__(self, mesh_dim_names: str | tuple[str, ...]) -> DeviceMesh:
        """The mesh of the dimensions ``mesh_dim_names`` through this rank (e.g. ``mesh["dp"]``),
        in the order named; it reuses this mesh's groups.

        Raises:
            RuntimeError: the mesh has no dimension names.
            KeyError: a name is unknown or repeated, or dimensions of size above 1 are named out
                of the mesh's order.
        """
        if not self.mesh_dim_names:
            raise RuntimeError("Cannot slice a DeviceMesh without mesh_dim_names!")
        names = (mesh_dim_names,) if isinstance(mesh_dim_names, str) else tuple(mesh_dim_names)
        if names == self.mesh_dim_names:
            return self
        if not names or any(n not in self.mesh_dim_names for n in names) or len(set(names)) != len(names):
            raise KeyError(
                f"Invalid mesh_dim_names {names} specified. Valid mesh_dim_names are {list(self.mesh_dim_names)}."
            )
        dims = [self.mesh_dim_names.index(n) for n in names]
        spanning = [d for d in dims if self.shape[d] > 1]  # dims of size 1 may move, the others keep their order
        if spanning != sorted(spanning):
            raise KeyError(f"Invalid mesh_dim_names {names} specified. Mesh dim indices should be in ascending order.")
        where = self.get_coordinate() or (0,) * self.ndim
        index = tuple(slice(None) if d in dims else where[d] for d in range(self.ndim))
        kept = [d for d in range(self.ndim) if d in dims]  # the slice keeps the mesh's own order ...
        array = np.transpose(self._array[index], [kept.index(d) for d in dims])  # ... then takes the named one
        return DeviceMesh(
            self.device_type,
            array,
            mesh_dim_names=names,
            _groups=[self._groups[d] for d in dims],
            _strides=tuple(self._strides[d] for d in dims),
        )

    @classmethod
    def from_group(
        cls,
        group: Any,
        device_type: str,
        mesh: Any = None,
        *,
        mesh_dim_names: tuple[str, ...] | None = None,
    ) -> DeviceMesh:
        """A mesh over an existing process group (1-D: its ranks), or over one group per dimension
        of ``mesh`` (a list of groups, ``mesh`` then required); no group is created."""
        if isinstance(group, (list, tuple)):
            if mesh is None:
                raise ValueError("Expects ``mesh`` to be specified when ``group`` is a list of process groups")
            array = np.asarray(mesh.cpu().numpy() if isinstance(mesh, Tensor) else mesh)
            if len(group) != array.ndim:
                raise ValueError(
                    f"Expects the number of groups ({len(group)}) to equal the mesh's dimensions ({array.ndim})"
                )
            return cls(device_type, array, mesh_dim_names=mesh_dim_names, _groups=list(group))
        ranks = dist.get_process_group_ranks(group)
        return cls(device_type, ranks if mesh is None else mesh, mesh_dim_names=mesh_dim_names, _groups=[group])

    # -- comparison and printing ---------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DeviceMesh):
            return NotImplemented
        return (
            self.device_type == other.device_type
            and self.mesh_dim_names == other.mesh_dim_names
            and self._array.shape == other._array.shape
            and bool(np.array_equal(self._array, other._array))
        )

    def __hash__(self) -> int:
        return hash((self.device_type, self.mesh_dim_names, self._array.shape, tuple(self._array.reshape(-1).tolist())))

    def __repr__(self) -> str:
        if self.mesh_dim_names:
            shape = "(" + ", ".join(f"{n}={s}" for n, s in zip(self.mesh_dim_names, self.shape)) + ")"
        else:
            shape = repr(self.shape)
        strides = tuple(() if s == 1 else st for s, st in zip(self.shape, self._strides))
        return f"DeviceMesh({shape}, '{self.device_type}', stride={strides!r})"


def _contiguous(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(math.prod(shape[d + 1 :])) for d in range(len(shape)))


def init_device_mesh(
    device_type: str,
    mesh_shape: tuple[int, ...],
    *,
    mesh_dim_names: tuple[str, ...] | None = None,
    backend_override: Any = None,
) -> DeviceMesh:
    """A :class:`DeviceMesh` of shape ``mesh_shape`` over the ranks from 0 to ``prod(mesh_shape) - 1``, in order.

    Every rank calls it with the same arguments. The default group is initialised first if it
    is not (:func:`~ember.distributed.init_process_group` with the launcher's ranks).

    Args:
        device_type (str): the devices' type (``"cpu"``, ``"cuda"``, ``"opencl"``), no index.
        mesh_shape (tuple[int]): the size of each dimension; its product at most the world size.
        mesh_dim_names (tuple[str], optional): unique names, one per dimension. Default: ``None``.

    Raises:
        RuntimeError: ``device_type`` holds an index (``"cuda:0"``), ``mesh_dim_names`` does not
            match ``mesh_shape`` or repeats a name, or the mesh holds more ranks than the job.

    Example (under ``mpiexec -n 4``)::

        >>> mesh = init_device_mesh("cpu", (2, 2), mesh_dim_names=("dp", "tp"))
        >>> grad = ember.ones(3)
        >>> dist.all_reduce(grad, group=mesh.get_group("dp"))   # sums over the 2 ranks of this column
    """
    if not isinstance(device_type, str):
        raise TypeError(f"init_device_mesh: device_type must be a str, got {type(device_type).__name__}")
    if ":" in device_type:
        raise RuntimeError(
            f"Device type with index is not supported but got {device_type}. "
            "If you maintained a 'ember.device' object, it's recommended to pass in 'device.type'."
        )
    mesh_shape = tuple(mesh_shape)
    if not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in mesh_shape):
        raise ValueError(f"init_device_mesh: mesh_shape must hold positive ints, got {mesh_shape}")
    if mesh_dim_names is not None:
        mesh_dim_names = tuple(mesh_dim_names)
        if len(set(mesh_dim_names)) != len(mesh_dim_names):
            raise RuntimeError(
                f"Each mesh_dim_name must be unique. Found repeated mesh_dim_name in mesh_dim_names {mesh_dim_names}"
            )
        if len(mesh_dim_names) != len(mesh_shape):
            raise RuntimeError(
                "mesh_shape and mesh_dim_names should have same length! "
                f"Found len(mesh_dim_names): {len(mesh_dim_names)} and len(mesh_shape):{len(mesh_shape)}."
            )
    mesh = np.arange(math.prod(mesh_shape), dtype=np.int64).reshape(mesh_shape)
    return DeviceMesh(device_type, mesh, mesh_dim_names=mesh_dim_names, backend_override=backend_override)
