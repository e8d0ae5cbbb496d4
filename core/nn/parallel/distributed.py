"""``nn.parallel.DistributedDataParallel``: one process per rank, gradients averaged during backward."""

from __future__ import annotations

import contextlib
import inspect
import weakref
from collections.abc import Iterator
from typing import Any

from ... import distributed as dist
from ... import dtypes
from ...autograd.function import AccumulateGrad
from ...autograd.grad_mode import grad_state, no_grad
from ...device import device as _device
from ...futures import Future
from ...ops.creation import zeros
from ...tensor import Tensor, placement, tensor
from ..modules.module import Module

__all__ = ["DistributedDataParallel"]

_FIRST_BUCKET_BYTES = 1024 * 1024  # PyTorch's first bucket is small, so its all-reduce starts early


def _group(tensors):
    """``tensors`` grouped by (backend, device, dtype), each group in order."""
    groups = {}
    for t in tensors:
        groups.setdefault((t._backend, t.device, t.dtype), []).append(t)
    return list(groups.values())


def _flatten(tensors):
    """One new 1-d tensor holding the values of ``tensors`` (all of one backend, device, dtype)."""
    first = tensors[0]
    xp = first._backend.xp
    with first._backend.device_context(first.device.index):
        flat = xp.concat([xp.reshape(t._data, (t.numel(),)) for t in tensors])
    return first._make(flat)


def _unflatten_into(flat, tensors):
    """Write the values of ``flat`` back into ``tensors`` in place (bumping their versions)."""
    xp = flat._backend.xp
    offset = 0
    for t in tensors:
        n = t.numel()
        t._data[...] = xp.reshape(flat._data[offset : offset + n], tuple(t.shape))
        t._version_counter.value += 1
        offset += n


def _broadcast_coalesced(tensors, src, process_group, check_only=False):
    """Broadcast ``tensors`` from rank ``src`` of ``process_group`` (``None``: the default group) in
    one message per dtype and device.

    With ``check_only``, nothing is overwritten; returns the tensors whose values differ
    from rank ``src``'s.
    """
    differing = []
    for group in _group(tensors):
        flat = _flatten(group)
        dist.broadcast(flat, group=process_group, group_src=src)
        if not check_only:
            if dist.get_rank(process_group) != src:
                _unflatten_into(flat, group)
            continue
        local = _flatten(group)
        offset = 0
        for t in group:
            n = t.numel()
            if not bool((local[offset : offset + n] == flat[offset : offset + n]).all()):
                differing.append(t)
            offset += n
    return differing


def _move_to(obj, dev):
    if isinstance(obj, Tensor):
        return obj.to(dev)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_move_to(o, dev) for o in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_move_to(o, dev) for o in obj)
    if isinstance(obj, dict):
        return type(obj)((k, _move_to(v, dev)) for k, v in obj.items())
    return obj


def _output_tensors(obj, out):
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _output_tensors(o, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            _output_tensors(o, out)
    return out


def _reachable_leaves(outputs):
    """ids of the leaf tensors whose gradients a backward from ``outputs`` would reach."""
    seen, leaves = set(), set()
    stack = [t.grad_fn for t in outputs if t.grad_fn is not None]
    stack += [t._accumulator for t in outputs if t.grad_fn is None and t._accumulator is not None]
    for t in outputs:
        if t.grad_fn is None and t.requires_grad:
            leaves.add(id(t))
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        if isinstance(node, AccumulateGrad):
            variable = node.variable
            if variable is not None:
                leaves.add(id(variable))
            continue
        stack.extend(child for child, _ in node._edges)
    return leaves


class _Bucket:
    """Gradients of some parameters (one dtype and device), all-reduced as one flat tensor."""

    def __init__(self, indices, params):
        self.indices = indices  # positions in the DDP's parameter list
        self.offsets, offset = [], 0
        for p in params:
            self.offsets.append(offset)
            offset += p.numel()
        first = params[0]
        xp = first._backend.xp
        with first._backend.device_context(first.device.index):
            self.flat = first._make(xp.zeros((offset,), dtype=first._data.dtype))
        self.pending = len(indices)
        self.work = None

    def put(self, slot, grad, numel):
        """Copy a gradient (zeros for ``None``) of ``numel`` elements into the bucket at ``slot``."""
        start = self.offsets[slot]
        if grad is None:
            self.flat._data[start : start + numel] = 0
        else:
            self.flat._data[start : start + numel] = self.flat._backend.xp.reshape(grad._data, (numel,))

    def adopt(self, reduced):
        """Take a communication hook's result, ``reduced`` (the bucket's gradients, flat, maybe another dtype)."""
        if reduced is self.flat:
            return
        if not isinstance(reduced, Tensor) or reduced.numel() != self.flat.numel():
            raise RuntimeError(
                "DistributedDataParallel: a communication hook's future must hold a tensor of the bucket's "
                f"{self.flat.numel()} elements, got {reduced!r:.80}"
            )
        xp = self.flat._backend.xp
        self.flat._data[...] = xp.astype(xp.reshape(reduced._data, (-1,)), self.flat._data.dtype)

    def take(self, slot, param):
        """The reduced gradient of the parameter at ``slot``, as a new native array."""
        xp = self.flat._backend.xp
        start = self.offsets[slot]
        chunk = self.flat._data[start : start + param.numel()]
        return xp.astype(xp.reshape(chunk, tuple(param.shape)), chunk.dtype, copy=True)


class DistributedDataParallel(Module):
    r"""Data parallelism over processes: each rank runs the module on its share of the data,
    and backward leaves the gradients averaged over all ranks in every rank's ``.grad``.

    Construction broadcasts rank 0's parameters and buffers (after checking that every
    rank holds a model of the same structure). During backward, each parameter's
    gradient is copied into a *bucket* as soon as it is accumulated; buckets are filled in
    reverse order of ``module.parameters()`` (about the order backward produces gradients)
    and hold up to ``bucket_cap_mb`` megabytes (the first 1 MB); a full bucket is
    all-reduced (averaged) at once, without blocking, while backward goes on. The last
    gradient waits for the reductions and writes the averages back. With
    ``broadcast_buffers``, rank 0's buffers are broadcast at the start of every forward.

    Call :func:`ember.distributed.init_process_group` first. Limits (each raises a clear
    error): parameters added to or removed from the module after construction; sparse
    gradients; more than one device per rank.

    Args:
        module (Module): module to be parallelized.
        device_ids (list, optional): ``None`` or the one device the module lives on
            (inputs are moved there). Default: ``None``.
        output_device (optional): accepted for compatibility; the output stays where the
            module puts it. Default: ``None``.
        dim (int): accepted for compatibility. Default: 0.
        broadcast_buffers (bool): broadcast rank 0's buffers at every forward.
            Default: ``True``.
        init_sync (bool): broadcast rank 0's parameters and buffers at construction;
            with ``False`` they are only checked to be equal. Default: ``True``.
        process_group (ProcessGroup, optional): the group whose ranks average the gradients (one
            made by :func:`ember.distributed.new_group`); ``None``: the default group. Default: ``None``.
        device_mesh (DeviceMesh, optional): a 1-D :class:`~ember.distributed.device_mesh.DeviceMesh`
            whose group averages the gradients, instead of ``process_group`` (e.g. ``mesh["dp"]``).
            Default: ``None``.
        bucket_cap_mb (float): bucket size in megabytes. Default: 25.
        find_unused_parameters (bool): after every forward, find the parameters that the
            output does not depend on and count them as reduced (with zero gradient), so
            that backward finishes without them. Default: ``False``.

    Example::

        >>> dist.init_process_group("mpi")       # under `mpiexec -n 2 python train.py`
        >>> model = DistributedDataParallel(nn.Linear(10, 1))
        >>> loss = model(x).pow(2).mean()
        >>> loss.backward()                      # .grad is the average over the ranks
    """

    def __init__(
        self,
        module,
        device_ids=None,
        output_device=None,
        dim=0,
        broadcast_buffers=True,
        init_sync=True,
        process_group=None,
        bucket_cap_mb=None,
        find_unused_parameters=False,
        *,
        device_mesh=None,
    ):
        super().__init__()
        if not dist.is_initialized():
            raise ValueError(dist._NOT_INITIALIZED)
        if device_mesh is not None:  # as PyTorch: a 1-D mesh names the group
            if process_group is not None:
                raise RuntimeError("Cannot specify both process_group and device_mesh arguments.")
            if device_mesh.ndim != 1:
                raise RuntimeError(f"Only 1D device mesh is supported, but got {device_mesh}.")
            process_group = device_mesh.get_group(mesh_dim=0)
        self.device_mesh = device_mesh
        if process_group is dist.GroupMember.NON_GROUP_MEMBER:  # what new_group gave a rank outside the group
            raise ValueError("DistributedDataParallel: this rank is not a member of process_group")
        if process_group is not None and not isinstance(process_group, dist.ProcessGroup):
            raise TypeError(
                f"DistributedDataParallel: process_group must be a ProcessGroup, got {type(process_group).__name__}"
            )
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an nn.Module, got {type(module).__name__}")
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError(
                "DistributedDataParallel is not needed when a module doesn't have any parameter that requires a gradient."
            )
        for name, sub in module.named_modules():
            if getattr(sub, "sparse", False) is True:
                raise RuntimeError(
                    f"DistributedDataParallel does not support sparse gradients (module {name or type(sub).__name__!r} "
                    "has sparse=True)"
                )
        devices = {t.device for t in module.parameters()} | {t.device for t in module.buffers()}
        if device_ids is not None:
            if len(device_ids) != 1:
                raise ValueError("device_ids can only be None or contain a single element.")
            want = device_ids[0]
            want = placement(want if not isinstance(want, int) else _device(next(iter(devices)).type, want))[1]
            if devices != {want}:
                raise ValueError(
                    f"DistributedDataParallel: device_ids {list(device_ids)} must name the one device the module "
                    f"lives on, but its parameters and buffers are on {sorted(map(str, devices))}"
                )
            self.device = want
        else:
            if len(devices) > 1:
                raise ValueError(
                    "DistributedDataParallel: the module's parameters and buffers must be on one device, found "
                    f"{sorted(map(str, devices))}"
                )
            self.device = None
        bucket_cap_mb = 25 if bucket_cap_mb is None else bucket_cap_mb
        if bucket_cap_mb <= 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb}")

        self.module = module
        self.process_group = process_group
        self.device_ids = None if device_ids is None else [self.device]
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.bucket_cap_mb = bucket_cap_mb
        self.require_backward_grad_sync = True
        self._join = None  # the active join() context, if any
        self._comm_hook = None  # (hook, state) of register_comm_hook
        self._grad_scale = 1.0
        self._iterations = 0
        self._names = [n for n, _ in named]
        self._params = [p for _, p in named]
        self._param_ids = [id(p) for p in self._params]

        self._verify_same_model()
        states = self._params + list(module.buffers())
        if init_sync:
            _broadcast_coalesced(states, 0, process_group)
        else:
            differing = {id(t) for t in _broadcast_coalesced(states, 0, process_group, check_only=True)}
            self._raise_if_differing(differing)

        self._build_buckets(bucket_cap_mb * 1024 * 1024)
        self._reset_iteration()
        ref = weakref.ref(self)
        self._hook_handles = [
            p.register_post_accumulate_grad_hook(_GradReadyHook(ref, i)) for i, p in enumerate(self._params)
        ]

    # -- construction ---------------------------------------------------------------------
    def _verify_same_model(self):
        mine = [(n, list(p.shape), p.dtype.name) for n, p in zip(self._names, self._params)]
        everyone = [None] * dist.get_world_size(self.process_group)
        dist.all_gather_object(everyone, mine, group=self.process_group)
        reference = everyone[0]
        for rank, theirs in enumerate(everyone):
            if len(theirs) != len(reference):
                raise RuntimeError(
                    f"DistributedDataParallel expects the same model on every rank, but rank {rank} has "
                    f"{len(theirs)} parameters while rank 0 has {len(reference)}."
                )
            for (name, shape, dt), (name0, shape0, dt0) in zip(theirs, reference):
                if (shape, dt) != (shape0, dt0):
                    raise RuntimeError(
                        f"DistributedDataParallel expects the same model on every rank, but parameter {name!r} is "
                        f"{dt} {shape} on rank {rank} while {name0!r} is {dt0} {shape0} on rank 0."
                    )

    def _raise_if_differing(self, differing):
        flag = tensor([1 if differing else 0])
        dist.all_reduce(flag, op=dist.ReduceOp.MAX, group=self.process_group)
        if flag.item():
            names = [n for n, p in zip(self._names, self._params) if id(p) in differing]
            names += [n for n, b in self.module.named_buffers() if id(b) in differing]
            raise RuntimeError(
                "DistributedDataParallel(init_sync=False): parameters or buffers differ from rank 0's on some rank"
                + (f" (here: {names})" if names else "")
                + "; initialise them identically or use init_sync=True."
            )

    def _build_buckets(self, cap):
        """Buckets in reverse parameter order, split by size, dtype and device."""
        self._buckets, self._slot = [], {}
        open_by_kind = {}
        first_cap = min(cap, _FIRST_BUCKET_BYTES)

        def close(kind):
            indices = sorted(open_by_kind.pop(kind)[0])  # in the bucket, in parameter order (PyTorch's layout)
            self._buckets.append(_Bucket(indices, [self._params[i] for i in indices]))

        for i in reversed(range(len(self._params))):
            p = self._params[i]
            kind = (p._backend, p.device, p.dtype)
            entry = open_by_kind.setdefault(kind, [[], 0])
            entry[0].append(i)
            entry[1] += p.numel() * p.dtype.itemsize
            limit = first_cap if not self._buckets else cap
            if entry[1] >= limit:
                close(kind)
        for kind in list(open_by_kind):
            close(kind)
        for b, bucket in enumerate(self._buckets):
            for slot, i in enumerate(bucket.indices):
                self._slot[i] = (b, slot)

    # -- the reduction of one iteration ------------------------------------------------------
    def _reset_iteration(self):
        self._armed = False
        self._ready = [False] * len(self._params)
        self._locally_used = [True] * len(self._params)
        for bucket in self._buckets:
            bucket.pending = len(bucket.indices)
            bucket.work = None
        self._next_bucket = 0

    def _prepare_for_backward(self, output):
        self._armed = True
        if not self.find_unused_parameters:
            return
        reached = _reachable_leaves(_output_tensors(output, []))
        for i, p in enumerate(self._params):
            if id(p) not in reached:
                self._locally_used[i] = False
                self._mark_ready(i, None)

    def _grad_ready(self, index, param):
        if not self._armed:
            return
        if param.grad is not None and param.grad.is_sparse:
            raise RuntimeError("DistributedDataParallel does not support sparse gradients")
        if self._ready[index]:
            raise RuntimeError(
                f"Expected to mark a variable ready only once. Parameter {self._names[index]!r} received its "
                "gradient twice in one iteration (or after find_unused_parameters counted it as unused: "
                "use every output that the loss depends on)."
            )
        self._mark_ready(index, param.grad)

    def _mark_ready(self, index, grad):
        self._ready[index] = True
        b, slot = self._slot[index]
        bucket = self._buckets[b]
        bucket.put(slot, grad, self._params[index].numel())
        bucket.pending -= 1
        if bucket.pending == 0:
            self._launch_ready_buckets()

    def _launch_ready_buckets(self):
        # buckets start in index order on every rank, so that the collectives match up
        while self._next_bucket < len(self._buckets) and self._buckets[self._next_bucket].pending == 0:
            bucket = self._buckets[self._next_bucket]
            bucket.work = self._start_reduction(self._next_bucket)
            self._next_bucket += 1
        if self._next_bucket == len(self._buckets):
            self._finalize()

    def _start_reduction(self, index):
        """Start averaging bucket ``index`` (the registered communication hook's way, if there is one):
        a Work or Future whose ``wait()`` finishes it."""
        bucket = self._buckets[index]
        if self._comm_hook is None:
            return dist.all_reduce(bucket.flat, op=dist.ReduceOp.AVG, group=self.process_group, async_op=True)
        hook, state = self._comm_hook
        last = index == len(self._buckets) - 1
        params = [self._params[i] for i in bucket.indices]
        future = hook(state, dist.GradBucket(index, bucket.flat, bucket.offsets, params, last))
        if not isinstance(future, Future):
            raise RuntimeError(
                f"DistributedDataParallel: communication hook {getattr(hook, '__qualname__', hook)!r} must return an "
                f"ember.futures.Future of the reduced bucket, got {type(future).__name__}"
            )
        return future

    def _finalize(self):
        for bucket in self._buckets:
            reduced = bucket.work.wait()
            if self._comm_hook is not None:
                bucket.adopt(reduced)
        globally_used = None
        if self.find_unused_parameters:
            used = tensor([int(u) for u in self._locally_used])
            dist.all_reduce(used, group=self.process_group)
            globally_used = [bool(u) for u in used.tolist()]
        with no_grad():
            for bucket in self._buckets:
                for slot, i in enumerate(bucket.indices):
                    p = self._params[i]
                    if globally_used is not None and not globally_used[i]:
                        continue  # nobody used it: its .grad stays as it was
                    reduced = bucket.take(slot, p)
                    if self._grad_scale != 1.0:
                        reduced = reduced * self._grad_scale
                    if p.grad is None:
                        p.grad = p._make(reduced)
                    else:
                        p.grad._data = reduced
                        p.grad._version_counter.value += 1
        self._reset_iteration()

    def _unfinished_error(self):
        missing = [n for n, ready in zip(self._names, self._ready) if not ready]
        for bucket in self._buckets[: self._next_bucket]:
            bucket.work.wait()
        self._reset_iteration()
        return RuntimeError(
            "Expected to have finished reduction in the prior iteration before starting a new one. This error "
            "indicates that your module has parameters that were not used in producing loss. You can enable unused "
            "parameter detection by passing the keyword argument `find_unused_parameters=True` to "
            "`ember.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs "
            f"participate in calculating loss. Parameters which did not receive grad for rank {dist.get_rank()}: "
            + ", ".join(missing)
        )

    # -- forward ------------------------------------------------------------------------------
    def _check_parameters_unchanged(self):
        current = [(n, p) for n, p in self.module.named_parameters() if p.requires_grad]
        if [id(p) for _, p in current] == self._param_ids:
            return
        known = set(self._param_ids)
        now = {id(p) for _, p in current}
        added = [n for n, p in current if id(p) not in known]
        removed = [n for n, p in zip(self._names, self._params) if id(p) not in now]
        raise RuntimeError(
            "DistributedDataParallel: the module's parameters changed after DistributedDataParallel was constructed "
            f"(added: {added}, removed: {removed}); DistributedDataParallel registers the parameters once, at "
            "construction, so build the module completely (and set requires_grad) before wrapping it."
        )

    def forward(self, *inputs, **kwargs):

        self._check_parameters_unchanged()
        if self._armed:
            raise self._unfinished_error()
        if self._join is not None:
            self._join.notify_active()
        self._iterations += 1
        self._sync_buffers()
        if self.device is not None:
            inputs, kwargs = _move_to(inputs, self.device), _move_to(kwargs, self.device)
        output = self.module(*inputs, **kwargs)
        if grad_state.enabled and self.require_backward_grad_sync:
            self._prepare_for_backward(output)
        return output

    def _sync_buffers(self):
        if self.broadcast_buffers and dist.get_world_size(self.process_group) > 1:
            buffers = list(self.module.buffers())
            if buffers:
                _broadcast_coalesced(buffers, 0, self.process_group)

    def register_comm_hook(self, state: object, hook: Any) -> None:
        """Reduce each gradient bucket with ``hook(state, bucket)`` instead of the averaging all-reduce.

        The hook gets a :class:`~ember.distributed.GradBucket` and returns an
        :class:`ember.futures.Future` of the bucket's reduced gradients (a flat tensor of the
        bucket's size, in any floating dtype: DDP casts it back); it starts its collectives with
        ``async_op=True`` and chains work with ``Future.then``. DDP does no averaging of its own
        then: the hook divides (:mod:`~ember.distributed.algorithms.ddp_comm_hooks.default_hooks`
        has PyTorch's hooks). Every rank must register the same hook, once, before the first backward.

        Args:
            state (object): passed to the hook as is (the process group for the default hooks).
            hook (callable): ``hook(state, bucket) -> Future[Tensor]``.

        Example::

            >>> from ember.distributed.algorithms.ddp_comm_hooks import default_hooks
            >>> ddp_model.register_comm_hook(None, default_hooks.fp16_compress_hook)   # under mpiexec
        """
        if not callable(hook):
            raise TypeError("Communication hook must be callable.")
        signature = inspect.signature(hook)
        if signature.parameters["bucket"].annotation not in (inspect.Parameter.empty, dist.GradBucket):
            raise ValueError("Communication hook: bucket annotation should be dist.GradBucket.")
        if signature.return_annotation not in (inspect.Signature.empty, Future[Tensor]):
            raise ValueError("Communication hook: return annotation should be ember.futures.Future[ember.Tensor].")
        if self._comm_hook is not None:
            raise RuntimeError("register_comm_hook or register_builtin_comm_hook can only be called once.")
        self._comm_hook = (hook, state)

    def join(
        self, divide_by_initial_world_size: bool = True, enable: bool = True, throw_on_early_termination: bool = False
    ) -> contextlib.AbstractContextManager[Any]:
        """A context manager for training with uneven inputs across ranks.

        Inside it, a rank whose inputs run out first keeps *shadowing* the collectives of
        the ranks still training (contributing zero gradients) until every rank is done;
        then the parameters and buffers of the rank that ran longest are broadcast, so all
        ranks end with the same model. Without it, the other ranks would wait on that
        rank until the group's timeout.

        Args:
            divide_by_initial_world_size (bool): average gradients over the world size
                (``True``) or over the ranks still training (``False``). Default: ``True``.
            enable (bool): ``False`` makes it a no-op. Default: ``True``.
            throw_on_early_termination (bool): instead of shadowing, raise on every rank as
                soon as one rank runs out of inputs. Default: ``False``.

        Example::

            >>> with model.join():                      # under mpiexec, uneven loaders
            ...     for x in loader:
            ...         model(x).sum().backward()
        """
        return (
            _Join(self, divide_by_initial_world_size, throw_on_early_termination)
            if enable
            else contextlib.nullcontext()
        )

    def _shadow_iteration(self):
        """What a joined rank does for one iteration of the ranks still training."""
        self._sync_buffers()
        for index, bucket in enumerate(self._buckets):
            bucket.flat._data[...] = 0
            self._start_reduction(index).wait()
        if self.find_unused_parameters:
            dist.all_reduce(zeros(len(self._params), dtype=dtypes.int64), group=self.process_group)

    def _sync_final_model(self):
        """Broadcast the model of the rank that trained longest (it saw every update)."""
        group = self.process_group
        world = dist.get_world_size(group)
        key = tensor([self._iterations * world + dist.get_rank(group)])
        dist.all_reduce(key, op=dist.ReduceOp.MAX, group=group)
        _broadcast_coalesced(self._params + list(self.module.buffers()), int(key.item()) % world, group)

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """A context in which backward accumulates local gradients without averaging them.

        The first forward-backward after the context averages the accumulated gradients.

        Example::

            >>> with ddp.no_sync():
            ...     ddp(x1).sum().backward()     # no communication
            >>> ddp(x2).sum().backward()         # averages the sum of both gradients
        """
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous


class _Join:
    """The context manager of :meth:`DistributedDataParallel.join`."""

    _EARLY = "Detected at least one rank that exhausted inputs. Throwing across all ranks."

    def __init__(self, ddp, divide_by_initial_world_size, throw):
        self.ddp, self.divide, self.throw = ddp, divide_by_initial_world_size, throw

    def _count_active(self, active):
        flag = tensor([int(active)])
        dist.all_reduce(flag, group=self.ddp.process_group)
        return int(flag.item())

    def notify_active(self):
        """Called by each forward of a rank still training: learn how many ranks still are."""
        active = self._count_active(True)
        world = dist.get_world_size(self.ddp.process_group)
        if active < world and self.throw:
            raise RuntimeError(self._EARLY)
        self.ddp._grad_scale = 1.0 if self.divide else world / active

    def __enter__(self):
        if self.ddp._join is not None:
            raise RuntimeError("DistributedDataParallel.join() contexts cannot be nested")
        self.ddp._join = self
        self.ddp._iterations = 0
        return self

    def __exit__(self, kind, value, tb):
        self.ddp._join = None
        self.ddp._grad_scale = 1.0
        if kind is not None:
            return False
        while self._count_active(False):
            if self.throw:
                raise RuntimeError(self._EARLY)
            self.ddp._shadow_iteration()
        self.ddp._sync_final_model()
        return False


class _GradReadyHook:
    """A parameter's post-accumulate hook; refers to its DDP weakly (a dropped DDP stops reducing)."""

    __slots__ = ("_ddp", "_index")

    def __init__(self, ddp_ref, index):
        self._ddp, self._index = ddp_ref, index

    def __call__(self, param):
        ddp = self._ddp()
        if ddp is not None:
            ddp._grad_ready(self._index, param)
