"""``FullyShardedDataParallel``: data parallelism with the parameters, gradients and optimizer
state sharded over the ranks (PyTorch's FSDP, its first API)."""

from __future__ import annotations

import contextlib
import math
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ... import distributed as dist
from ...autograd.grad_mode import no_grad
from ...nn.modules.module import Module, _IncompatibleKeys
from ...nn.parameter import Parameter
from ...ops.creation import empty, zeros
from ...tensor import Tensor, tensor
from .api import (
    BackwardPrefetch,
    CPUOffload,
    FullOptimStateDictConfig,
    FullStateDictConfig,
    LocalStateDictConfig,
    MixedPrecision,
    OptimStateDictConfig,
    ShardedStateDictConfig,
    ShardingStrategy,
    StateDictConfig,
    StateDictSettings,
    StateDictType,
)
from .flat_param import FlatParamHandle, ParamInfo
from .names import FLAT_PARAM, FSDP_WRAPPED_MODULE, clean_name
from .optim_state import _NamedGroups, full_optim_state_dict, optim_state_dict_to_load

__all__ = ["FullyShardedDataParallel"]

_HYBRID = (ShardingStrategy.HYBRID_SHARD, ShardingStrategy._HYBRID_SHARD_ZERO2)
_DEFAULT_CONFIGS: dict[StateDictType, type[StateDictConfig]] = {
    StateDictType.FULL_STATE_DICT: FullStateDictConfig,
    StateDictType.LOCAL_STATE_DICT: LocalStateDictConfig,
    StateDictType.SHARDED_STATE_DICT: ShardedStateDictConfig,
}


def _cast_inputs(value: Any, dtype: Any) -> Any:
    """``value`` with its floating-point tensors (in lists, tuples and dicts too) cast to ``dtype``."""
    if isinstance(value, Tensor):
        return value.to(dtype) if value.is_floating_point() and value.dtype != dtype else value
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_cast_inputs(v, dtype) for v in value))
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_inputs(v, dtype) for v in value)
    if isinstance(value, dict):
        return {k: _cast_inputs(v, dtype) for k, v in value.items()}
    return value


def _or_policy(policy: Callable[..., bool], module_classes: tuple[type, ...]) -> Callable[..., bool]:
    """``policy``, and also every module of ``module_classes`` a unit of its own."""

    def combined(module: Module, recurse: bool, nonwrapped_numel: int) -> bool:
        if policy(module=module, recurse=recurse, nonwrapped_numel=nonwrapped_numel):
            return True
        return recurse or isinstance(module, module_classes)

    return combined


def _run_in_float32(module: Module) -> None:
    """Hooks that run ``module`` on float32 inputs and give its outputs back in its inputs' dtype
    (PyTorch's for the module classes its mixed precision leaves out, batch norm first)."""
    from ...dtypes import float32

    seen: dict[str, Any] = {}

    def cast(dtype: Any, value: Any) -> Any:
        if isinstance(value, Tensor):
            if not value.is_floating_point() or value.dtype == dtype:
                return value
            seen.setdefault("dtype", value.dtype)
            return value.to(dtype)
        if isinstance(value, (list, tuple)):
            return type(value)(cast(dtype, v) for v in value)
        if isinstance(value, dict):
            return {k: cast(dtype, v) for k, v in value.items()}
        return value

    def pre_hook(mod: Module, args: Any) -> Any:
        seen.clear()
        return cast(float32, args)

    def post_hook(mod: Module, args: Any, output: Any) -> Any:
        if "dtype" in seen:
            return cast(seen["dtype"], output)
        return None

    module.register_forward_pre_hook(pre_hook)
    module.register_forward_hook(post_hook)


def _recursive_wrap(module, policy, wrap, ignored, only_wrap_children=False):
    """Wrap the submodules of ``module`` that ``policy`` picks, innermost first (PyTorch's order);
    returns the module (wrapped or not) and the number of parameters now inside units."""
    if isinstance(module, FullyShardedDataParallel):
        return module, 0
    nonwrapped = sum(p.numel() for m in _unit_modules(module, ignored) for p in m._parameters.values() if p is not None)
    if not policy(module=module, recurse=True, nonwrapped_numel=nonwrapped):
        return module, 0
    wrapped_numel = 0
    for name, child in list(module.named_children()):
        if child in ignored:
            continue
        new_child, n = _recursive_wrap(child, policy, wrap, ignored)
        if new_child is not child:
            setattr(module, name, new_child)
        wrapped_numel += n
    remainder = nonwrapped - wrapped_numel
    if not only_wrap_children and policy(module=module, recurse=False, nonwrapped_numel=remainder):
        return wrap(module), nonwrapped
    return module, wrapped_numel


def _unit_modules(module: Module, ignored: set[Module], prefix: str = "") -> Iterator[Module]:
    """``module`` and its submodules, stopping at nested FSDP units and ignored modules."""
    for _, m in _named_unit_modules(module, ignored, prefix):
        yield m


def _named_unit_modules(module: Module, ignored: set[Module], prefix: str = "") -> Iterator[tuple[str, Module]]:
    if module in ignored:
        return
    yield prefix, module
    for name, child in module._modules.items():
        if child is None or isinstance(child, FullyShardedDataParallel):
            continue
        yield from _named_unit_modules(child, ignored, prefix + ("." if prefix else "") + name)


class FullyShardedDataParallel(Module):
    r"""Shard a module's parameters over the ranks of a process group (ZeRO-3 data parallelism).

    The parameters of ``module`` (those not inside a nested unit or an ignored module) are
    flattened into one 1-d tensor, padded to a multiple of the world size and split: each rank
    keeps one shard, and its optimizer steps on that shard only. Before forward the shards are
    all-gathered into the full parameters (kept by the autograd graph until backward: ember does
    not free and gather them again in between, as PyTorch's ``FULL_SHARD`` does); in backward the
    gradient is reduce-scattered, averaged over the ranks, so each rank gets its shard's gradient -- the same update as :class:`~ember.nn.parallel.DistributedDataParallel`
    with each rank feeding its own part of the batch.

    ``auto_wrap_policy`` makes FSDP units of chosen submodules (see
    :mod:`ember.distributed.fsdp.wrap`); each unit all-gathers only its own parameters, so the
    full model is never whole in memory at once.

    The parameters a module shows: with ``use_orig_params=False`` one flat parameter per unit,
    named ``..._fsdp_wrapped_module._flat_param``; with ``use_orig_params=True`` the original
    names, each holding this rank's part of it (1-d, maybe empty). :meth:`state_dict` gives the
    whole model under the original names (``StateDictType.FULL_STATE_DICT``), as PyTorch's.

    Args:
        module (nn.Module): the module to shard.
        process_group (ProcessGroup, optional): the ranks to shard over. Default: the default group.
        sharding_strategy (ShardingStrategy, optional): ``FULL_SHARD``, ``SHARD_GRAD_OP`` or
            ``NO_SHARD`` (the ``HYBRID_*`` ones raise NotImplementedError). Default: ``FULL_SHARD``.
        cpu_offload (CPUOffload, optional): accepted as in PyTorch. Default: ``None``.
        auto_wrap_policy (callable, optional): which submodules become units of their own.
            Default: ``None`` (one unit).
        backward_prefetch (BackwardPrefetch, optional): accepted (a scheduling hint).
            Default: ``BACKWARD_PRE``.
        mixed_precision (MixedPrecision, optional): computation, reduction and buffer dtypes.
            Default: ``None`` (the parameters' dtype throughout).
        ignored_modules (iterable of nn.Module, optional): modules whose parameters are left
            alone (not sharded, not reduced). Default: ``None``.
        param_init_fn (callable, optional): accepted for PyTorch's signature. Default: ``None``.
        device_id (int or ember.device, optional): a device to move ``module`` to first (an int
            is accepted as the device index PyTorch takes). Default: ``None``.
        sync_module_states (bool): broadcast rank 0's parameters and buffers first.
            Default: ``False``.
        forward_prefetch (bool): accepted (a scheduling hint). Default: ``False``.
        limit_all_gathers (bool): accepted (a scheduling hint). Default: ``True``.
        use_orig_params (bool): keep the original parameters (sharded) instead of one flat
            parameter per unit. Default: ``False``.
        ignored_states (iterable, optional): ignored modules or parameters. Default: ``None``.
        device_mesh (DeviceMesh, optional): a 1-d mesh giving the process group. Default: ``None``.

    Raises:
        ValueError: if no process group was initialised.

    Example::

        >>> # under mpiexec -n 2, after dist.init_process_group("gloo")
        >>> from ember.distributed.fsdp import FullyShardedDataParallel as FSDP
        >>> model = FSDP(nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2)))
        >>> optimizer = optim.AdamW(model.parameters(), lr=1e-3)
        >>> model(ember.randn(4, 8)).sum().backward()
        >>> optimizer.step()
        >>> full = model.state_dict()          # "0.weight", "0.bias", ... whole, on every rank
    """

    def __init__(
        self,
        module: Module,
        process_group: Any = None,
        sharding_strategy: ShardingStrategy | None = None,
        cpu_offload: CPUOffload | None = None,
        auto_wrap_policy: Callable[..., bool] | None = None,
        backward_prefetch: BackwardPrefetch | None = BackwardPrefetch.BACKWARD_PRE,
        mixed_precision: MixedPrecision | None = None,
        ignored_modules: Iterable[Module] | None = None,
        param_init_fn: Callable[[Module], None] | None = None,
        device_id: Any = None,
        sync_module_states: bool = False,
        forward_prefetch: bool = False,
        limit_all_gathers: bool = True,
        use_orig_params: bool = False,
        ignored_states: Iterable[Any] | None = None,
        device_mesh: Any = None,
    ) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"FullyShardedDataParallel: module must be an nn.Module, got {type(module).__name__}")
        if device_mesh is not None:
            if process_group is not None:
                raise ValueError(
                    "Cannot pass both process_group and device_mesh at the same time. Please just pass only one of them."
                )
            process_group = device_mesh.get_group()
        strategy = ShardingStrategy.FULL_SHARD if sharding_strategy is None else sharding_strategy
        if not isinstance(strategy, ShardingStrategy):
            raise TypeError(f"FullyShardedDataParallel: sharding_strategy must be a ShardingStrategy, got {strategy!r}")
        if strategy in _HYBRID:
            raise NotImplementedError(
                f"FullyShardedDataParallel: {strategy} (sharding within a node, replicating across nodes) "
                "is not supported by ember; use FULL_SHARD, SHARD_GRAD_OP or NO_SHARD"
            )
        if ignored_modules is not None and ignored_states is not None:
            raise ValueError(
                "Cannot pass both ignored_modules and ignored_states at the same time. Please just pass ignored_states."
            )
        # the group (raises ValueError, as PyTorch, when no process group was initialised)
        self.world_size = dist.get_world_size(process_group)
        self.rank = dist.get_rank(process_group)
        self.process_group = process_group if process_group is not None else dist.group.WORLD
        self.sharding_strategy = strategy
        self.mixed_precision = mixed_precision if mixed_precision is not None else MixedPrecision()
        self.cpu_offload = cpu_offload if cpu_offload is not None else CPUOffload()
        self.backward_prefetch = backward_prefetch
        self.forward_prefetch = forward_prefetch
        self.limit_all_gathers = limit_all_gathers
        self._use_orig_params = bool(use_orig_params)
        self._sync_gradients = True
        self._is_root: bool | None = None
        self._summoned: list[tuple[Any, ...]] | None = None
        self._collecting = False
        self._state_dict_type = StateDictType.FULL_STATE_DICT
        self._state_dict_config: StateDictConfig = FullStateDictConfig()
        self._optim_state_dict_config: OptimStateDictConfig = FullOptimStateDictConfig()
        self._buffer_dtypes: dict[tuple[int, str], Any] = {}
        ignored: set[Module] = set()
        ignored_params: set[int] = set()
        for item in list(ignored_modules or []) + list(ignored_states or []):
            if isinstance(item, Module):
                ignored.update(item.modules())
            elif isinstance(item, Tensor):
                ignored_params.add(id(item))
            else:
                raise TypeError(
                    f"FullyShardedDataParallel: cannot ignore {type(item).__name__}; give modules or parameters"
                )
        if device_id is not None and not isinstance(device_id, int):
            module.to(device_id)
        self._fsdp_ignored = ignored
        if auto_wrap_policy is not None:
            full_precision: tuple[type, ...] = ()
            if mixed_precision is not None and mixed_precision._module_classes_to_ignore:
                full_precision = tuple(mixed_precision._module_classes_to_ignore)
                auto_wrap_policy = _or_policy(auto_wrap_policy, full_precision)
                for m in module.modules():
                    if isinstance(m, full_precision) and m not in ignored:
                        _run_in_float32(m)

            def wrap(child):
                return FullyShardedDataParallel(
                    child,
                    process_group=process_group,
                    sharding_strategy=strategy,
                    cpu_offload=cpu_offload,
                    backward_prefetch=backward_prefetch,
                    mixed_precision=None if isinstance(child, full_precision) else mixed_precision,
                    ignored_modules=ignored or None,
                    param_init_fn=param_init_fn,
                    device_id=device_id,
                    sync_module_states=sync_module_states,
                    forward_prefetch=forward_prefetch,
                    limit_all_gathers=limit_all_gathers,
                    use_orig_params=use_orig_params,
                )

            _recursive_wrap(module, auto_wrap_policy, wrap, ignored, only_wrap_children=True)
        self._fsdp_wrapped_module = module
        infos: list[ParamInfo] = []
        params: list[Parameter] = []
        self._shared: list[tuple[Module, str, int]] = []
        seen: dict[int, int] = {}
        for prefix, m in _named_unit_modules(module, ignored):
            for name, p in list(m._parameters.items()):
                if p is None or id(p) in ignored_params:
                    continue
                if id(p) in seen:
                    self._shared.append((m, name, seen[id(p)]))
                    continue
                seen[id(p)] = len(infos)
                infos.append(
                    ParamInfo(
                        m, name, prefix + ("." if prefix else "") + name, tuple(p.shape), p.numel(), 0, p.requires_grad
                    )
                )
                params.append(p)
        if sync_module_states:
            from ...nn.parallel.distributed import _broadcast_coalesced

            buffers = [b for m in _unit_modules(module, ignored) for b in m._buffers.values() if b is not None]
            states = [p.detach() for p in params] + buffers
            if states:
                _broadcast_coalesced(states, 0, process_group)
        self._handle: FlatParamHandle | None = None
        if params:
            mp = self.mixed_precision
            handle = FlatParamHandle(
                self, infos, params, strategy, self._use_orig_params, mp.param_dtype, mp.reduce_dtype
            )
            self._handle = handle
            self._hold_shards()

    # -- the wrapped module ----------------------------------------------------------------------------
    @property
    def module(self) -> Module:
        """The wrapped module."""
        return self._fsdp_wrapped_module

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == FSDP_WRAPPED_MODULE:
                raise
            return getattr(self._fsdp_wrapped_module, name)

    def __getitem__(self, key: int) -> Any:
        return self._fsdp_wrapped_module.__getitem__(key)

    @staticmethod
    def fsdp_modules(module: Module, root_only: bool = False) -> list[FullyShardedDataParallel]:
        """The FSDP units in ``module`` (itself included), outermost first; only the roots if ``root_only``."""
        units = [m for m in module.modules() if isinstance(m, FullyShardedDataParallel)]
        if not root_only:
            return units
        inner = {id(m) for u in units for m in u.modules() if m is not u}
        return [u for u in units if id(u) not in inner]

    def check_is_root(self) -> bool:
        """Whether this unit is the root: the outermost FSDP unit, the one the training loop calls."""
        self._lazy_init()
        return bool(self._is_root)

    def _lazy_init(self) -> None:
        if self._is_root is not None:
            return
        self._is_root = True
        units = self.fsdp_modules(self)
        for unit in units:
            if unit is not self:
                unit._is_root = False
        dtype = self.mixed_precision.buffer_dtype
        if dtype is None:
            return
        with no_grad():
            for unit in units:
                for m in _unit_modules(unit._fsdp_wrapped_module, unit._fsdp_ignored):
                    for name, b in list(m._buffers.items()):
                        if b is not None and b.is_floating_point() and b.dtype != dtype:
                            self._buffer_dtypes[(id(m), name)] = b.dtype
                            m._buffers[name] = b.to(dtype)

    def _hold_shards(self) -> None:
        """Take the whole parameters off the wrapped modules and register what the unit holds instead:
        the shards under the original names (``use_orig_params``) or the flat parameter."""
        handle = self._handle
        assert handle is not None, "a unit without parameters holds no shards"
        for info in handle.infos:
            del info.module._parameters[info.name]
        for m, name, _ in self._shared:
            del m._parameters[name]
        if self._use_orig_params:
            self._register_pieces()
        else:
            self._fsdp_wrapped_module.register_parameter(FLAT_PARAM, handle.flat_param)
            self._uninstall()

    def _register_pieces(self) -> None:
        handle = self._handle
        assert handle is not None
        for info, piece in zip(handle.infos, handle.pieces):
            info.module._parameters[info.name] = piece
        for m, name, index in self._shared:
            m._parameters[name] = handle.pieces[index]

    def _install(self, views: list[Tensor]) -> None:
        """Make the modules see the full parameters ``views`` (plain attributes, shadowing the shards)."""
        handle = self._handle
        assert handle is not None
        for info, view in zip(handle.infos, views):
            info.module.__dict__[info.name] = view
        for m, name, index in self._shared:
            m.__dict__[name] = views[index]

    def _uninstall(self, placeholders: bool = True) -> None:
        """Take the full parameters away again; with ``use_orig_params=False`` the attributes keep
        placeholders of the parameters' shapes and dtypes holding no memory (``device="meta"``), as
        PyTorch's keep tensors whose storage is freed."""
        handle = self._handle
        assert handle is not None
        for info in handle.infos:
            info.module.__dict__.pop(info.name, None)
        for m, name, _ in self._shared:
            m.__dict__.pop(name, None)
        if self._use_orig_params or not placeholders:
            return
        stubs = [empty(info.shape, dtype=handle.dtype, device="meta") for info in handle.infos]
        self._install(stubs)

    # -- forward ----------------------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Gather this unit's parameters, run the wrapped module, and let backward reduce-scatter the gradients."""
        self._lazy_init()
        mp = self.mixed_precision
        if mp.param_dtype is not None and (mp.cast_forward_inputs or (self._is_root and mp.cast_root_forward_inputs)):
            args, kwargs = _cast_inputs(args, mp.param_dtype), _cast_inputs(kwargs, mp.param_dtype)
        if self._handle is None:
            return self._fsdp_wrapped_module(*args, **kwargs)
        self._install(self._handle.views(self._handle.unshard()))
        try:
            return self._fsdp_wrapped_module(*args, **kwargs)
        finally:
            self._uninstall()

    def apply(self, fn: Callable[[Module], None]) -> FullyShardedDataParallel:
        """As :meth:`nn.Module.apply`, with each unit's whole parameters in place while ``fn`` runs on
        its modules (and written back to the shards after), so that initialisers see them.

        Example::

            >>> model.apply(lambda m: nn.init.zeros_(m.bias) if isinstance(m, nn.Linear) else None)  # doctest: +SKIP
        """
        with self.summon_full_params(self, recurse=False, writeback=True):
            super().apply(fn)
        return self

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Skip the gradient reduction inside the context: the gradients of the backward passes run
        in it are kept unreduced (whole, on each rank) and added in at the first backward after it.

        Example::

            >>> with model.no_sync():                      # doctest: +SKIP
            ...     model(micro_batch_1).sum().backward()  # no communication
            >>> model(micro_batch_2).sum().backward()      # reduces both micro-batches' gradients
        """
        self._lazy_init()
        if not self._is_root:
            raise RuntimeError(
                "`no_sync()` on inner FSDP instances is not supported. Please call `no_sync()` on root FSDP module."
            )
        units = self.fsdp_modules(self)
        previous = [u._sync_gradients for u in units]
        for u in units:
            u._sync_gradients = False
        try:
            yield
        finally:
            for u, value in zip(units, previous):
                u._sync_gradients = value

    # -- gradient clipping -----------------------------------------------------------------------------
    @no_grad()
    def clip_grad_norm_(self, max_norm: float, norm_type: float = 2.0) -> Tensor:
        """Clip the gradients of all the ranks' shards together by their global norm, in place.

        The norm is the norm of the whole model's gradient (over every rank's shard), as
        :func:`ember.nn.utils.clip_grad_norm_` would compute it on the unsharded model; each
        gradient is scaled by ``min(1, max_norm / (total_norm + 1e-6))``. Call it on the root unit,
        on every rank.

        Args:
            max_norm (float): the largest norm allowed.
            norm_type (float): the p of the p-norm (``inf`` for the largest magnitude). Default: ``2.0``.

        Returns:
            Tensor: the total norm before clipping (0-d).

        Example::

            >>> loss.backward()                              # doctest: +SKIP
            >>> model.clip_grad_norm_(1.0)
            >>> optimizer.step()
        """
        from ...nn.utils import clip_grad_norm_ as _local_clip

        self._lazy_init()
        if not self._is_root:
            raise RuntimeError("`clip_grad_norm_()` should only be called on the root FSDP instance")
        handles = [u._handle for u in self.fsdp_modules(self) if u._handle is not None]
        if all(not h.sharded for h in handles):
            return _local_clip(self.parameters(), max_norm, norm_type)
        max_norm, norm_type = float(max_norm), float(norm_type)
        sharded: list[Tensor] = []
        nonsharded: list[Tensor] = []
        seen: set[int] = set()
        for h in handles:
            for p in h.pieces:
                if id(p) not in seen:
                    seen.add(id(p))
                    (sharded if h.sharded else nonsharded).append(p)
        for p in self.parameters():
            if id(p) not in seen:
                seen.add(id(p))
                nonsharded.append(p)
        grads = [p.grad for p in sharded + nonsharded if p.grad is not None]
        device = handles[0].pieces[0].device
        local_sharded = _grad_norm(sharded, norm_type, device)
        local_nonsharded = _grad_norm(nonsharded, norm_type, device) if nonsharded else None
        if norm_type == math.inf:
            total = local_sharded if local_nonsharded is None else local_sharded.maximum(local_nonsharded)
            dist.all_reduce(total, op=dist.ReduceOp.MAX, group=self.process_group)
        else:
            total = local_sharded**norm_type
            dist.all_reduce(total, group=self.process_group)
            if local_nonsharded is not None:
                total = total + local_nonsharded**norm_type
            total = total ** (1.0 / norm_type)
        clip_coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(clip_coef.to(g.dtype))
        if not grads:
            warnings.warn(
                f"Called FSDP.clip_grad_norm_() on rank {self.rank} with no gradients -- returning the "
                f"total norm in the default dtype {total.dtype}",
                stacklevel=2,
            )
            return total
        dtype = grads[0].dtype
        for g in grads[1:]:
            if g.dtype.itemsize > dtype.itemsize:
                dtype = g.dtype
        return total.to(dtype)

    # -- whole parameters ------------------------------------------------------------------------------
    @staticmethod
    @contextlib.contextmanager
    def summon_full_params(
        module: Module,
        recurse: bool = True,
        writeback: bool = True,
        rank0_only: bool = False,
        offload_to_cpu: bool = False,
        with_grads: bool = False,
    ) -> Iterator[None]:
        """Make the FSDP units of ``module`` show their whole parameters, under their original names.

        Inside the context the wrapped modules hold their full parameters as ``nn.Parameter``
        attributes (``named_parameters()`` gives the original names, without the
        ``_fsdp_wrapped_module.`` parts). With ``writeback`` changes made to them are written back
        to the shards on leaving. A collective: every rank must enter it.

        Args:
            module (nn.Module): the FSDP unit, or a module holding FSDP units.
            recurse (bool): also the nested units. Default: ``True``.
            writeback (bool): keep changes made inside. Default: ``True``.
            rank0_only (bool): only rank 0 sees the whole parameters (needs ``writeback=False``).
                Default: ``False``.
            offload_to_cpu (bool): the whole parameters on the CPU. Default: ``False``.
            with_grads (bool): the whole gradients too, as ``.grad`` (needs ``use_orig_params=True``).
                Default: ``False``.

        Example::

            >>> with FSDP.summon_full_params(model):                # doctest: +SKIP
            ...     print([name for name, _ in model.named_parameters()])
            ['0.weight', '0.bias', '2.weight', '2.bias']
        """
        if isinstance(module, FullyShardedDataParallel) and not recurse:
            units = [module]
        else:
            units = FullyShardedDataParallel.fsdp_modules(module) if recurse else []
        for unit in units:
            if with_grads and (offload_to_cpu or not unit._use_orig_params):
                raise NotImplementedError(
                    f"with_grads={with_grads}, use_orig_params={unit._use_orig_params}, "
                    f"offload_to_cpu={offload_to_cpu} is not supported yet"
                )
            if offload_to_cpu and unit._handle is not None and not unit._handle.sharded:
                raise NotImplementedError("offload_to_cpu=True and NO_SHARD is not supported yet")
        if writeback and rank0_only:
            raise NotImplementedError("writeback=True and rank0_only=True is not supported yet")
        entered: list[FullyShardedDataParallel] = []
        try:
            for unit in units:
                if unit._summoned is not None:
                    raise RuntimeError("summon_full_params: this FSDP unit's parameters are already summoned")
                unit._summon(rank0_only, offload_to_cpu, with_grads)
                entered.append(unit)
            yield
        finally:
            for unit in reversed(entered):
                unit._unsummon(writeback)

    def _summon(self, rank0_only: bool, offload_to_cpu: bool, with_grads: bool = False) -> None:
        handle = self._handle
        self._summoned = []
        if handle is None:
            return
        full = handle.full_flat()
        grads = None
        if with_grads:  # the gradient shards gathered too (zeros where a rank's part has none)
            have = [p.grad for p in handle.pieces]
            with no_grad():
                shard = zeros(handle.shard_numel, dtype=handle.dtype, device=handle.pieces[0].device)
                for g, (start, length) in zip(have, handle.piece_ranges):
                    if g is not None and length:
                        shard[start : start + length] = g.detach().reshape(-1)
                grads = handle.views(handle._gather(shard, handle.dtype))
            anyone = [any(g is not None for g in have)]
            everyone: list[Any] = [None] * handle.world_size
            dist.all_gather_object(everyone, anyone, group=handle.group)
            if not any(e[0] for e in everyone):
                grads = None
        if rank0_only and self.rank != 0:
            return
        if offload_to_cpu:
            full = full.cpu()
        params = [Parameter(v, info.requires_grad) for info, v in zip(handle.infos, handle.views(full))]
        if grads is not None:
            for p, g in zip(params, grads):
                p.grad = g.clone()
        self._uninstall(placeholders=False)
        if not self._use_orig_params:
            del self._fsdp_wrapped_module._parameters[FLAT_PARAM]
        for info, p in zip(handle.infos, params):
            info.module._parameters[info.name] = p
        for m, name, index in self._shared:
            m._parameters[name] = params[index]
        self._summoned = [(info.module, info.name) for info in handle.infos]

    def _unsummon(self, writeback: bool) -> None:
        handle = self._handle
        summoned, self._summoned = self._summoned, None
        if handle is None or not summoned:
            return
        if writeback:
            with no_grad():
                full = zeros(handle.padded_numel, dtype=handle.dtype, device=handle.pieces[0].device)
                for info in handle.infos:
                    value = info.module._parameters[info.name]
                    if value is None:
                        raise RuntimeError(
                            f"summon_full_params: parameter {info.fqn} was set to None inside the context"
                        )
                    full[info.offset : info.offset + info.numel] = (
                        value.detach().reshape(-1).to(full.device, full.dtype)
                    )
                handle._set_local_shard(full[handle.shard_start : handle.shard_start + handle.shard_numel])
        self._hold_shards()

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """As :meth:`nn.Module.named_parameters`; inside :meth:`summon_full_params` the names are the
        original ones (without ``_fsdp_wrapped_module.``)."""
        clean = any(u._summoned for u in self.fsdp_modules(self))
        for name, p in super().named_parameters(prefix=prefix, recurse=recurse, remove_duplicate=remove_duplicate):
            yield (clean_name(name) if clean else name), p

    # -- state dicts -----------------------------------------------------------------------------------
    @staticmethod
    def set_state_dict_type(
        module: Module,
        state_dict_type: StateDictType,
        state_dict_config: StateDictConfig | None = None,
        optim_state_dict_config: OptimStateDictConfig | None = None,
    ) -> StateDictSettings:
        """Set the state dict that the FSDP units of ``module`` give and take; returns the previous setting."""
        if not isinstance(state_dict_type, StateDictType):
            raise TypeError(f"set_state_dict_type: expected a StateDictType, got {state_dict_type!r}")
        config: StateDictConfig = (
            state_dict_config if state_dict_config is not None else _DEFAULT_CONFIGS[state_dict_type]()
        )
        expected = _DEFAULT_CONFIGS[state_dict_type]
        if not isinstance(config, expected):
            raise RuntimeError(f"Expected state_dict_config of type {expected} but got {type(config)}")
        optim_config = optim_state_dict_config if optim_state_dict_config is not None else FullOptimStateDictConfig()
        units = FullyShardedDataParallel.fsdp_modules(module)
        if not units:
            raise RuntimeError("set_state_dict_type: the module holds no FullyShardedDataParallel unit")
        previous = StateDictSettings(
            units[0]._state_dict_type, units[0]._state_dict_config, units[0]._optim_state_dict_config
        )
        for unit in units:
            unit._state_dict_type = state_dict_type
            unit._state_dict_config = config
            unit._optim_state_dict_config = optim_config
        return previous

    @staticmethod
    @contextlib.contextmanager
    def state_dict_type(
        module: Module,
        state_dict_type: StateDictType,
        state_dict_config: StateDictConfig | None = None,
        optim_state_dict_config: OptimStateDictConfig | None = None,
    ) -> Iterator[StateDictSettings]:
        """Inside the context the FSDP units of ``module`` give and take ``state_dict_type`` state dicts.

        Example::

            >>> from ember.distributed.fsdp import FullStateDictConfig, StateDictType
            >>> cfg = FullStateDictConfig(offload_to_cpu=True, rank0_only=True)
            >>> with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, cfg):   # doctest: +SKIP
            ...     state = model.state_dict()            # whole on rank 0, {} on the others
        """
        previous = FullyShardedDataParallel.set_state_dict_type(
            module, state_dict_type, state_dict_config, optim_state_dict_config
        )
        try:
            yield previous
        finally:
            FullyShardedDataParallel.set_state_dict_type(module, *previous)

    @staticmethod
    def get_state_dict_type(module: Module) -> StateDictSettings:
        """The state-dict setting of the FSDP units of ``module``."""
        units = FullyShardedDataParallel.fsdp_modules(module)
        if not units:
            raise AssertionError("No FSDP modules found in the given module")
        u = units[0]
        return StateDictSettings(u._state_dict_type, u._state_dict_config, u._optim_state_dict_config)

    def _check_state_dict_type(self, what: str) -> None:
        if self._state_dict_type is not StateDictType.FULL_STATE_DICT:
            raise NotImplementedError(
                f"FullyShardedDataParallel.{what}: {self._state_dict_type} is not supported by ember; "
                "use StateDictType.FULL_STATE_DICT"
            )

    def state_dict(self, *args: Any, destination: Any = None, prefix: str = "", keep_vars: bool = False) -> Any:
        """The model's state dict under the original names, as :meth:`state_dict_type` sets it.

        ``FULL_STATE_DICT`` (the default): every parameter whole (gathered from the ranks, a
        collective) and every buffer, keyed as the unwrapped module's own state dict; with
        ``FullStateDictConfig(rank0_only=True)`` the ranks other than 0 get ``{}``.
        """
        if self._collecting:
            return super().state_dict(*args, destination=destination, prefix=prefix, keep_vars=keep_vars)
        self._check_state_dict_type("state_dict")
        self._lazy_init()
        config = self._state_dict_config
        units = self.fsdp_modules(self)
        buffer_dtypes = {k: v for u in units for k, v in u._buffer_dtypes.items()}
        buffer_keys = {}
        with self.summon_full_params(self, writeback=False):
            for unit in units:
                unit._collecting = True
            try:
                raw = super().state_dict(keep_vars=True)
                for mprefix, m in self.named_modules():
                    for name, b in m._buffers.items():
                        if (id(m), name) in buffer_dtypes and b is not None:
                            buffer_keys[mprefix + ("." if mprefix else "") + name] = buffer_dtypes[(id(m), name)]
            finally:
                for unit in units:
                    unit._collecting = False
        result = destination if destination is not None else OrderedDict()
        if getattr(config, "rank0_only", False) and self.rank != 0:
            return result
        for key, value in raw.items():
            if isinstance(value, Tensor):
                value = value.detach().clone()
                if key in buffer_keys:
                    value = value.to(buffer_keys[key])
                if config.offload_to_cpu:
                    value = value.cpu()
            result[prefix + clean_name(key)] = value
        return result

    @staticmethod
    def optim_state_dict(
        model: Module, optim: Any, optim_state_dict: dict[str, Any] | None = None, group: Any = None
    ) -> dict[str, Any]:
        """The optimizer's state as a full state dict: keyed by the original parameter names, each
        state tensor whole (gathered from every rank's shard, a collective), ``param_groups``
        listing names. Save it next to :meth:`state_dict`; :meth:`optim_state_dict_to_load` turns it
        back into this rank's optimizer state.

        Args:
            model (nn.Module): the FSDP model ``optim`` steps.
            optim (Optimizer): the optimizer over ``model.parameters()``.
            optim_state_dict (dict, optional): ``optim.state_dict()`` taken earlier. Default: now.
            group (ProcessGroup, optional): accepted for PyTorch's signature. Default: ``None``.

        Example::

            >>> osd = FSDP.optim_state_dict(model, optimizer)                 # doctest: +SKIP
            >>> optimizer.load_state_dict(FSDP.optim_state_dict_to_load(model, optimizer, osd))
        """
        units = FullyShardedDataParallel.fsdp_modules(model)
        if units and units[0]._state_dict_type is not StateDictType.FULL_STATE_DICT:
            raise NotImplementedError(
                f"FullyShardedDataParallel.optim_state_dict: {units[0]._state_dict_type} is not supported by "
                "ember; use StateDictType.FULL_STATE_DICT"
            )
        config = units[0]._optim_state_dict_config if units else FullOptimStateDictConfig()
        result = full_optim_state_dict(model, optim, optim_state_dict, group, config.offload_to_cpu)
        if getattr(config, "rank0_only", False) and dist.get_rank(units[0].process_group if units else None) != 0:
            return {}
        return result

    @staticmethod
    def optim_state_dict_to_load(
        model: Module,
        optim: Any,
        optim_state_dict: dict[str, Any],
        is_named_optimizer: bool = False,
        load_directly: bool = False,
        group: Any = None,
    ) -> dict[str, Any]:
        """This rank's optimizer state dict from a full one (:meth:`optim_state_dict`), ready for
        ``optim.load_state_dict``; with ``load_directly`` it is loaded into ``optim`` too."""
        result = optim_state_dict_to_load(model, optim, optim_state_dict)
        if load_directly:
            optim.load_state_dict(result)
        return result

    @staticmethod
    def full_optim_state_dict(
        model: Module, optim: Any, optim_input: Any = None, rank0_only: bool = True, group: Any = None
    ) -> dict[str, Any]:
        """The older spelling of :meth:`optim_state_dict`: the full optimizer state (on the CPU),
        on rank 0 only unless ``rank0_only=False`` (the other ranks get ``{}``). A collective."""
        result = full_optim_state_dict(model, optim, None, group, True)
        units = FullyShardedDataParallel.fsdp_modules(model)
        if rank0_only and dist.get_rank(units[0].process_group if units else None) != 0:
            return {}
        return result

    @staticmethod
    def shard_full_optim_state_dict(
        full_optim_state_dict: dict[str, Any], model: Module, optim_input: Any = None, optim: Any = None
    ) -> dict[str, Any]:
        """This rank's optimizer state dict from a full one every rank holds (``optim`` gives the
        parameter groups; without it, the groups the full state dict names, in
        ``model.parameters()`` order)."""
        target = optim if optim is not None else _NamedGroups(model, full_optim_state_dict)
        return optim_state_dict_to_load(model, target, full_optim_state_dict)

    @staticmethod
    def scatter_full_optim_state_dict(
        full_optim_state_dict: dict[str, Any] | None,
        model: Module,
        optim_input: Any = None,
        optim: Any = None,
        group: Any = None,
    ) -> dict[str, Any]:
        """As :meth:`shard_full_optim_state_dict`, with the full state dict given on rank 0 only
        (``None`` elsewhere) and sent to the other ranks. A collective."""
        units = FullyShardedDataParallel.fsdp_modules(model)
        pg = group if group is not None else (units[0].process_group if units else None)
        holder = [full_optim_state_dict if dist.get_rank(pg) == 0 else None]
        dist.broadcast_object_list(holder, group=pg, group_src=0)
        if holder[0] is None:
            raise ValueError("scatter_full_optim_state_dict: rank 0 must give the full optimizer state dict")
        return FullyShardedDataParallel.shard_full_optim_state_dict(holder[0], model, optim=optim)

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False) -> Any:
        """Load a full state dict (original names, whole tensors) into the shards, as
        :meth:`state_dict` gives it; missing and unexpected keys are named as in it."""
        if self._collecting:
            return super().load_state_dict(state_dict, strict=strict, assign=assign)
        self._check_state_dict_type("load_state_dict")
        self._lazy_init()
        units = self.fsdp_modules(self)
        with self.summon_full_params(self, writeback=True):
            for unit in units:
                unit._collecting = True
            try:
                names = list(Module.state_dict(self, keep_vars=True))
                actual = {clean_name(n): n for n in names}
                renamed = OrderedDict((actual.get(k, k), v) for k, v in state_dict.items())
                try:
                    result = Module.load_state_dict(self, renamed, strict=strict, assign=assign)
                except RuntimeError as exc:
                    raise RuntimeError(clean_name(str(exc))) from None
            finally:
                for unit in units:
                    unit._collecting = False
        return _IncompatibleKeys(
            [clean_name(k) for k in result.missing_keys], [clean_name(k) for k in result.unexpected_keys]
        )


def _grad_norm(params: list[Tensor], norm_type: float, device: Any) -> Tensor:
    """The ``norm_type``-norm of the gradients of ``params`` as one vector, in float32 (PyTorch's)."""
    from ...linalg import vector_norm
    from ...ops.movement import stack

    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return tensor(0.0, device=device)
    norms = stack([vector_norm(g.detach(), norm_type, dtype=_float32()) for g in grads])
    return vector_norm(norms, norm_type, dtype=_float32())


def _float32() -> Any:
    from ... import dtypes

    return dtypes.float32
