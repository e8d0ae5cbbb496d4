"""Model and optimizer state_dicts under PyTorch's canonical names, for checkpoints
(``torch.distributed.checkpoint.state_dict``).

The keys are *FQNs*: a parameter's or buffer's name in the model as it would be without its
parallel wrappers (``DistributedDataParallel``'s ``module.`` and a compiled module's ``_orig_mod.``
prefixes removed), so a checkpoint saved from a wrapped model loads into a plain one and back.
The optimizer's state is keyed by those names too, not by position: ``{"state": {fqn: {...}},
"param_groups": [{..., "params": [fqn, ...]}]}`` (or flat, ``"state.<fqn>.<name>"`` and
``"param_groups.<fqn>.<option>"``, with ``flatten_optimizer_state_dict=True``). An optimizer that has
not stepped yet is given its state first (a step with zero gradients and learning rate 0), as
PyTorch does, so that its state_dict has tensors to load into.

A ``FullyShardedDataParallel`` model gives and takes whole state dicts (its ``FULL_STATE_DICT``; on
rank 0 only with ``cpu_offload``), what PyTorch gives with ``full_state_dict=True``: ember has no
DTensor for PyTorch's sharded default. Its optimizer state loads from one optimizer's nested state dict.

Example::

    >>> from ember.distributed.checkpoint.state_dict import get_state_dict, set_state_dict
    >>> model = ember.nn.Sequential(ember.nn.Linear(2, 2), ember.nn.ReLU(), ember.nn.Linear(2, 1))
    >>> optim = ember.optim.Adam(model.parameters())
    >>> model_sd, optim_sd = get_state_dict(model, optim)
    >>> list(model_sd)
    ['0.weight', '0.bias', '2.weight', '2.bias']
    >>> sorted(optim_sd["state"]["2.bias"])
    ['exp_avg', 'exp_avg_sq', 'step']
    >>> set_state_dict(model, optim, model_state_dict=model_sd, optim_state_dict=optim_sd)
    <All keys matched successfully>
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from itertools import chain
from typing import Any

import ember
import ember.distributed as dist
from ember.nn.modules.module import _EXTRA_STATE_KEY_SUFFIX, _IncompatibleKeys

__all__ = [
    "StateDictOptions",
    "get_model_state_dict",
    "get_optimizer_state_dict",
    "get_state_dict",
    "set_model_state_dict",
    "set_optimizer_state_dict",
    "set_state_dict",
]

_STATE, _PG, _PARAMS = "state", "param_groups", "params"
_CHECKPOINT_PREFIX = "_checkpoint_wrapped_module."


@dataclasses.dataclass
class StateDictOptions:
    """How the state_dict functions work.

    Args:
        full_state_dict (bool): whole tensors (what plain and DDP models hold anyway). Default: ``False``.
        cpu_offload (bool): the tensors copied to the CPU; with ``full_state_dict``, only rank 0 gets
            them (the other ranks an empty dict). Default: ``False``.
        ignore_frozen_params (bool): leave out the parameters with ``requires_grad=False``. Default: ``False``.
        keep_submodule_prefixes (bool): with ``submodules``, keep their prefix in the keys. Default: ``True``.
        strict (bool): loading requires every key (``load_state_dict``'s ``strict``). Default: ``True``.
        broadcast_from_rank0 (bool): not supported (raises). Default: ``False``.
        flatten_optimizer_state_dict (bool): the optimizer state_dict as one flat dict. Default: ``False``.
        dsd_fqn_modifiers (str): accepted for PyTorch's signature. Default: ``"_fqn_modifiers"``.

    Example::

        >>> from ember.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict
        >>> model = ember.nn.Linear(2, 1)
        >>> _ = model.bias.requires_grad_(False)
        >>> list(get_model_state_dict(model, options=StateDictOptions(ignore_frozen_params=True)))
        ['weight']
    """

    full_state_dict: bool = False
    cpu_offload: bool = False
    ignore_frozen_params: bool = False
    keep_submodule_prefixes: bool = True
    strict: bool = True
    broadcast_from_rank0: bool = False
    flatten_optimizer_state_dict: bool = False
    dsd_fqn_modifiers: str = "_fqn_modifiers"


def _wrapper_prefix(module: Any) -> str | None:
    """The name under which a parallel wrapper holds the module it wraps (``None``: not a wrapper)."""
    from ember._dynamo.eval_frame import OptimizedModule
    from ember.nn.parallel import DistributedDataParallel

    if isinstance(module, DistributedDataParallel):
        return "module"
    if isinstance(module, OptimizedModule):
        return "_orig_mod"
    return None


def _fqn(model: ember.nn.Module, name: str) -> str:
    """The canonical name of ``model``'s state key ``name`` (its wrappers' prefixes removed)."""
    name = name.replace(_CHECKPOINT_PREFIX, "")
    parts, kept = name.split("."), []
    current: Any = model
    for i, part in enumerate(parts):
        wrapped = _wrapper_prefix(current)
        if wrapped is not None and part == wrapped:
            current = getattr(current, part)
            continue
        kept.append(part)
        if part == _EXTRA_STATE_KEY_SUFFIX and i == len(parts) - 1:
            break
        current = getattr(current, part, None)
    return ".".join(kept)


def _fsdp_units(model: Any) -> list:
    """The FullyShardedDataParallel units in ``model`` (empty for plain and DDP models)."""
    from ember.distributed.fsdp import FullyShardedDataParallel

    return FullyShardedDataParallel.fsdp_modules(model)


@contextlib.contextmanager
def _fsdp_context(model: Any, options: StateDictOptions) -> Iterator[None]:
    """Inside, the FSDP units of ``model`` give and take whole (``FULL_STATE_DICT``) state dicts,
    on rank 0 only with ``cpu_offload`` (ember has no DTensor for PyTorch's sharded ones)."""
    if not _fsdp_units(model):
        yield
        return
    from ember.distributed.fsdp import (
        FullOptimStateDictConfig,
        FullStateDictConfig,
        FullyShardedDataParallel,
        StateDictType,
    )

    with FullyShardedDataParallel.state_dict_type(
        model,
        StateDictType.FULL_STATE_DICT,
        FullStateDictConfig(offload_to_cpu=options.cpu_offload, rank0_only=options.cpu_offload),
        FullOptimStateDictConfig(offload_to_cpu=options.cpu_offload, rank0_only=options.cpu_offload),
    ):
        yield


def _options(options: StateDictOptions | None) -> StateDictOptions:
    options = options or StateDictOptions()
    if options.broadcast_from_rank0:
        raise NotImplementedError("ember.distributed.checkpoint.state_dict: broadcast_from_rank0 is not supported")
    return options


def _optimizers(optimizers: Any) -> tuple:
    return (optimizers,) if isinstance(optimizers, ember.optim.Optimizer) else tuple(optimizers)


def _offload(state: dict, options: StateDictOptions) -> dict:
    """``state`` as ``options`` ask: on rank 0 only (``full_state_dict`` with ``cpu_offload``), on the CPU."""
    if not options.cpu_offload:
        return state
    if options.full_state_dict and dist.is_initialized() and dist.get_rank() != 0:
        return {}

    def cpu(value):
        if isinstance(value, ember.Tensor):
            return value.detach().cpu().clone() if value.device.type != "cpu" else value.detach().clone()
        if isinstance(value, dict):
            return {k: cpu(v) for k, v in value.items()}
        if isinstance(value, list):
            return [cpu(v) for v in value]
        return value

    return cpu(state)


def _submodule_prefixes(model: Any, submodules: Any) -> list[str]:
    if not submodules:
        return []
    wanted = set(submodules)
    return [f"{_fqn(model, name)}." for name, module in model.named_modules() if module in wanted]


def _model_state_dict(model: Any, submodules: Any, options: StateDictOptions) -> dict[str, Any]:
    with _fsdp_context(model, options):
        state = {_fqn(model, key): value for key, value in model.state_dict().items()}
    prefixes = _submodule_prefixes(model, submodules)
    if prefixes:
        kept = {}
        for key, value in state.items():
            for prefix in prefixes:
                if key.startswith(prefix):
                    kept[key if options.keep_submodule_prefixes else key[len(prefix) :]] = value
        state = kept
    if options.ignore_frozen_params:
        for key, param in model.named_parameters():
            if not param.requires_grad:
                state.pop(_fqn(model, key), None)
    return state


def get_model_state_dict(
    model: ember.nn.Module, *, submodules: set | None = None, options: StateDictOptions | None = None
) -> dict[str, Any]:
    """The state_dict of ``model`` under canonical FQNs (no ``module.`` of a DDP wrapper).

    Args:
        model (Module): the model (plain or wrapped in ``DistributedDataParallel``).
        submodules (set of Module, optional): only the state of these submodules (deprecated in PyTorch).
        options (StateDictOptions, optional): see :class:`StateDictOptions`.

    Example::

        >>> from ember.distributed.checkpoint.state_dict import get_model_state_dict
        >>> model = ember.nn.Sequential(ember.nn.Linear(2, 1))
        >>> list(get_model_state_dict(model))
        ['0.weight', '0.bias']
    """
    options = _options(options)
    return _offload(_model_state_dict(model, submodules, options), options)


def _init_optim_state(optim: Any) -> None:
    """Give ``optim`` its state where it has none: a step with zero gradients and learning rate 0."""
    if optim.state:
        return
    params = [p for group in optim.param_groups for p in group[_PARAMS]]
    if any(p.grad is not None for p in params):
        return
    for p in params:
        if p.requires_grad:
            p.grad = ember.zeros_like(p)
    rates = []
    for group in optim.param_groups:
        if "lr" in group:
            rates.append(group["lr"])
            group["lr"] = ember.tensor(0.0) if isinstance(group["lr"], ember.Tensor) else 0.0
    optim.step(closure=None)
    for group in optim.param_groups:
        if "lr" in group:
            group["lr"] = rates.pop(0)
    optim.zero_grad(set_to_none=True)


def _names_of(model: Any) -> dict[int, list[str]]:
    """``id(parameter) -> its canonical names`` (several for a shared parameter)."""
    names: dict[int, list[str]] = {}
    for key, param in model.named_parameters(remove_duplicate=False):
        fqn = _fqn(model, key)
        if fqn not in names.setdefault(id(param), []):
            names[id(param)].append(fqn)
    return names


def _flatten_optim(state: dict) -> dict[str, Any]:
    flat: dict[str, Any] = {}

    def put(prefix, values):
        for key, value in values.items():
            if isinstance(value, dict):
                put(f"{prefix}.{key}", value)
            elif isinstance(value, (ember.Tensor, int, float)):
                flat[f"{prefix}.{key}"] = value
            else:
                raise NotImplementedError(
                    "Flattening optimizer state_dict only supports tensor, int, float, dict states now. "
                    f"Type is {type(value)}."
                )

    for fqn, values in state[_STATE].items():
        put(f"{_STATE}.{fqn}", values)
    for group in state[_PG]:
        options = {k: v for k, v in group.items() if k != _PARAMS}
        for fqn in group[_PARAMS]:
            for key, value in options.items():
                flat[f"{_PG}.{fqn}.{key}"] = value
    return flat


def get_optimizer_state_dict(
    model: ember.nn.Module,
    optimizers: Any,
    *,
    submodules: set | None = None,
    options: StateDictOptions | None = None,
) -> dict[str, Any]:
    """The state_dict of ``optimizers`` (one or several) with the parameters named by their FQNs in ``model``.

    Args:
        model (Module): the model whose parameters the optimizers update.
        optimizers (Optimizer or iterable of Optimizer): the optimizers (their states merged).
        submodules: accepted for PyTorch's signature (deprecated there); ignored.
        options (StateDictOptions, optional): see :class:`StateDictOptions`.

    Example::

        >>> from ember.distributed.checkpoint.state_dict import get_optimizer_state_dict
        >>> model = ember.nn.Linear(2, 1)
        >>> osd = get_optimizer_state_dict(model, ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
        >>> osd["param_groups"][0]["params"]
        ['weight', 'bias']
    """
    options = _options(options)
    merged: dict[str, Any] = {_STATE: {}, _PG: []}
    names = _names_of(model)
    for optim in _optimizers(optimizers):
        _init_optim_state(optim)
        if _fsdp_units(model):  # FSDP names the state by the original parameters itself
            from ember.distributed.fsdp import FullyShardedDataParallel

            with _fsdp_context(model, options):
                osd = FullyShardedDataParallel.optim_state_dict(model, optim)
            if osd:
                merged[_STATE].update(osd[_STATE])
                merged[_PG].extend(osd[_PG])
            continue
        osd = optim.state_dict()
        params = list(chain.from_iterable(g[_PARAMS] for g in optim.param_groups))
        fqn_of = {}
        for pid, param in enumerate(params):
            if id(param) not in names:
                raise RuntimeError(
                    "ember.distributed.checkpoint.state_dict: the optimizer updates a parameter of shape "
                    f"{tuple(param.shape)} that is not in the model"
                )
            fqn_of[pid] = names[id(param)][0]
        merged[_STATE].update({fqn_of[pid]: values for pid, values in osd[_STATE].items()})
        for group in osd[_PG]:
            merged[_PG].append({**group, _PARAMS: [fqn_of[pid] for pid in group[_PARAMS]]})
    if options.flatten_optimizer_state_dict:
        merged = _flatten_optim(merged)
    return _offload(merged, options)


def _verify(model_sd, optim_sd, options, handle_model, handle_optim):
    if (
        handle_model
        and not model_sd
        and not options.ignore_frozen_params
        and not (options.cpu_offload and options.full_state_dict)
        and options.strict
    ):
        raise RuntimeError(
            "The option indicates that model state_dict is required to save or load, but model state_dict is empty."
        )
    if handle_optim and not optim_sd and not (options.cpu_offload and options.full_state_dict):
        raise RuntimeError(
            f"The option indicates that model state_dict is required to save, or load but optim state_dict is empty. "
            f"{optim_sd}"
        )


def get_state_dict(
    model: ember.nn.Module,
    optimizers: Any,
    *,
    submodules: set | None = None,
    options: StateDictOptions | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(model state_dict, optimizer state_dict)`` under canonical FQNs (see :func:`get_model_state_dict`
    and :func:`get_optimizer_state_dict`).

    Example::

        >>> from ember.distributed.checkpoint.state_dict import get_state_dict
        >>> model = ember.nn.Linear(2, 1)
        >>> model_sd, optim_sd = get_state_dict(model, ember.optim.Adam(model.parameters()))
        >>> sorted(optim_sd["state"])
        ['bias', 'weight']
    """
    options = _options(options)
    optimizers = _optimizers(optimizers)
    model_sd = get_model_state_dict(model, submodules=submodules, options=options)
    optim_sd = get_optimizer_state_dict(model, optimizers, options=options)
    _verify(model_sd, optim_sd, options, True, True)
    return model_sd, optim_sd


def _unflatten_model_state_dict(model: Any, state_dict: Any) -> dict[str, Any]:
    """A state_dict keyed by submodules (``{submodule: its state_dict}``) as one keyed by FQNs."""
    if not state_dict or not isinstance(next(iter(state_dict)), ember.nn.Module):
        return dict(state_dict)
    prefixes = {module: name for name, module in model.named_modules()}
    merged = {}
    for module, sub in state_dict.items():
        prefix = _fqn(model, prefixes[module])
        merged.update({f"{prefix}.{key}" if prefix else key: value for key, value in sub.items()})
    return merged


def _load_model(model: Any, state_dict: Any, options: StateDictOptions) -> _IncompatibleKeys:
    if not state_dict:
        return _IncompatibleKeys([], [])
    state_dict = dict(state_dict)
    with _fsdp_context(model, options):
        keys = list(model.state_dict())
    for key in keys:
        fqn = _fqn(model, key)
        if fqn == key:
            continue
        if fqn in state_dict:
            state_dict[key] = state_dict.pop(fqn)
        elif options.strict:
            raise RuntimeError(f"Missing key: {fqn}.")
    with _fsdp_context(model, options):
        return model.load_state_dict(state_dict, strict=options.strict)


def set_model_state_dict(
    model: ember.nn.Module, model_state_dict: dict, *, options: StateDictOptions | None = None
) -> _IncompatibleKeys:
    """Load a state_dict keyed by canonical FQNs into ``model`` (plain or DDP).

    Returns:
        ``_IncompatibleKeys`` with ``missing_keys`` and ``unexpected_keys``, as ``load_state_dict``.

    Example::

        >>> from ember.distributed.checkpoint.state_dict import set_model_state_dict
        >>> model = ember.nn.Linear(2, 1)
        >>> set_model_state_dict(model, {"weight": ember.ones(1, 2), "bias": ember.zeros(1)})
        <All keys matched successfully>
    """
    options = _options(options)
    return _load_model(model, _unflatten_model_state_dict(model, model_state_dict), options)


def _unflatten_optim(optim: Any, flat: dict, names: dict, options: StateDictOptions) -> dict[str, Any]:
    state: dict[str, Any] = {}
    groups: list[dict[str, Any]] = []
    for group in optim.param_groups:
        loaded: dict[str, Any] = {_PARAMS: []}
        groups.append(loaded)
        for param in group[_PARAMS]:
            fqn = names[id(param)][0]
            loaded[_PARAMS].append(fqn)
            if not param.requires_grad:
                continue
            values: dict[str, Any] = {}
            for name in optim.state.get(param, {}):
                key = f"{_STATE}.{fqn}.{name}"
                if key in flat:
                    values[name] = flat[key]
                else:
                    nested: dict[str, Any] = {}
                    for k, v in flat.items():
                        if k.startswith(key + "."):
                            node = nested
                            *path, last = k[len(key) + 1 :].split(".")
                            for part in path:
                                node = node.setdefault(part, {})
                            node[last] = v
                    values[name] = nested
            state[fqn] = values
        first = loaded[_PARAMS][0]
        for key in group:
            if key == _PARAMS:
                continue
            value = flat[f"{_PG}.{first}.{key}"]
            loaded[key] = value
    return {_STATE: state, _PG: groups}


def _split_optim(optim: Any, osd: dict, names: dict, options: StateDictOptions) -> dict[str, Any]:
    """The part of a merged optimizer state_dict (keyed by FQNs) that belongs to ``optim``."""
    if all(isinstance(k, int) for k in osd[_STATE]):
        return osd
    state: dict[str, Any] = {}
    groups: list[dict[str, Any]] = []
    owner: dict[int, int] = {}
    for group in optim.param_groups:
        groups.append({_PARAMS: []})
        for param in group[_PARAMS]:
            fqn = names[id(param)][0]
            groups[-1][_PARAMS].append(fqn)
            if param.requires_grad:
                if fqn in osd[_STATE]:
                    state[fqn] = osd[_STATE][fqn]
                elif options.strict:
                    raise RuntimeError(
                        f"Missing optimizer state for parameter '{fqn}' in checkpoint. The parameter requires "
                        "gradients but has no saved optimizer state. To load anyway, use StateDictOptions(strict=False)."
                    )
            for position, saved in enumerate(osd[_PG]):
                if fqn in saved[_PARAMS]:
                    owner[position] = len(groups) - 1
    for position, saved in enumerate(osd[_PG]):
        if position in owner:
            groups[owner[position]].update({k: v for k, v in saved.items() if k != _PARAMS})
    return {_STATE: state, _PG: groups}


def set_optimizer_state_dict(
    model: ember.nn.Module,
    optimizers: Any,
    optim_state_dict: dict,
    *,
    options: StateDictOptions | None = None,
) -> None:
    """Load an optimizer state_dict keyed by FQNs (nested or flat) into ``optimizers``.

    Example::

        >>> from ember.distributed.checkpoint.state_dict import get_optimizer_state_dict
        >>> from ember.distributed.checkpoint.state_dict import set_optimizer_state_dict
        >>> model = ember.nn.Linear(2, 1)
        >>> optim = ember.optim.Adam(model.parameters(), lr=0.1)
        >>> osd = get_optimizer_state_dict(model, optim)
        >>> osd["param_groups"][0]["lr"] = 0.5
        >>> set_optimizer_state_dict(model, optim, osd)
        >>> optim.param_groups[0]["lr"]
        0.5
    """
    options = _options(options)
    _verify({}, optim_state_dict, options, False, True)
    _load_optims(model, _optimizers(optimizers), optim_state_dict, options)


def _load_optims(model: Any, optimizers: tuple, optim_state_dict: dict, options: StateDictOptions) -> None:
    names = _names_of(model)
    fsdp = bool(_fsdp_units(model))
    if fsdp and (len(optimizers) > 1 or (optim_state_dict and _STATE not in optim_state_dict)):
        raise NotImplementedError(
            "ember.distributed.checkpoint.state_dict: a FullyShardedDataParallel model's optimizer state loads "
            "from one optimizer's unflattened state dict (not several optimizers, not "
            "flatten_optimizer_state_dict)"
        )
    for optim in optimizers:
        _init_optim_state(optim)
        if not optim_state_dict:
            continue
        if fsdp:
            from ember.distributed.fsdp import FullyShardedDataParallel

            with _fsdp_context(model, options):
                optim.load_state_dict(FullyShardedDataParallel.optim_state_dict_to_load(model, optim, optim_state_dict))
            continue
        if _STATE in optim_state_dict:
            osd = _split_optim(optim, optim_state_dict, names, options)
        else:
            osd = _unflatten_optim(optim, optim_state_dict, names, options)
        optim.load_state_dict(osd)


def set_state_dict(
    model: ember.nn.Module,
    optimizers: Any,
    *,
    model_state_dict: dict,
    optim_state_dict: dict,
    options: StateDictOptions | None = None,
) -> _IncompatibleKeys:
    """Load a model state_dict and an optimizer state_dict (both keyed by FQNs), as
    :func:`set_model_state_dict` and :func:`set_optimizer_state_dict`.

    Returns:
        ``_IncompatibleKeys`` of the model's load.

    Example::

        >>> from ember.distributed.checkpoint.state_dict import get_state_dict, set_state_dict
        >>> model = ember.nn.Linear(2, 1)
        >>> optim = ember.optim.SGD(model.parameters(), lr=0.1)
        >>> msd, osd = get_state_dict(model, optim)
        >>> set_state_dict(model, optim, model_state_dict=msd, optim_state_dict=osd)
        <All keys matched successfully>
    """
    options = _options(options)
    model_state_dict = _unflatten_model_state_dict(model, model_state_dict)
    optimizers = _optimizers(optimizers)
    _verify(model_state_dict, optim_state_dict, options, bool(model_state_dict), True)
    _load_optims(model, optimizers, optim_state_dict, options)
    return _load_model(model, model_state_dict, options)
