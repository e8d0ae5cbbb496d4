"""The optimizer state of an FSDP model as a full state dict keyed by the original parameter names
(:meth:`FullyShardedDataParallel.optim_state_dict`) and back to this rank's shards
(:meth:`FullyShardedDataParallel.optim_state_dict_to_load`), as PyTorch's ``FULL_STATE_DICT`` form."""

from __future__ import annotations

import copy
from typing import Any

from ... import distributed as dist
from ...autograd.grad_mode import no_grad
from ...nn.modules.module import Module
from ...ops.creation import zeros
from ...tensor import Tensor
from .flat_param import FlatParamHandle
from .names import FSDP_WRAPPED_MODULE, clean_name

__all__: list[str] = []


def _units_and_owners(model: Module) -> tuple[dict[int, tuple[Any, Any, int | None]], dict[int, str]]:
    """``{id(param): (unit, handle, piece index or None for a flat parameter)}`` for the FSDP-managed
    parameters of ``model``, and ``{id(param): name}`` for the others."""
    owners: dict[int, tuple[Any, Any, int | None]] = {}
    prefixes: dict[int, str] = {}
    for name, m in model.named_modules():
        if isinstance(m.__dict__.get("_handle"), FlatParamHandle):  # an FSDP unit that holds parameters
            prefixes[id(m)] = name
            h = m._handle
            if h.use_orig_params:
                for i, piece in enumerate(h.pieces):
                    owners[id(piece)] = (m, h, i)
            else:
                owners[id(h.flat_param)] = (m, h, None)
    others = {id(p): clean_name(n) for n, p in model.named_parameters() if id(p) not in owners}
    for unit, _, _ in owners.values():
        unit._optim_prefix = prefixes[id(unit)]
    return owners, others


def _fqn(unit: Any, info: Any) -> str:
    return clean_name(".".join(part for part in (unit._optim_prefix, FSDP_WRAPPED_MODULE, info.fqn) if part))


def _ordered_params(optim: Any) -> list[Any]:
    return [p for group in optim.param_groups for p in group["params"]]


def _is_sharded_state(value: Any, local_shape: tuple[int, ...]) -> bool:
    return isinstance(value, Tensor) and value.dim() > 0 and tuple(value.shape) == local_shape


def full_optim_state_dict(
    model: Module, optim: Any, local: dict[str, Any] | None, group: Any, offload: bool
) -> dict[str, Any]:
    owners, others = _units_and_owners(model)
    local = optim.state_dict() if local is None else local
    params = _ordered_params(optim)
    state_by_param = {id(params[i]): s for i, s in local["state"].items() if i < len(params)}
    full_state: dict[str, dict[str, Any]] = {}
    names_of: dict[int, list[str]] = {}
    handles = []
    for p in params:
        owner = owners.get(id(p))
        if owner is None:
            names_of[id(p)] = [others.get(id(p), str(id(p)))]
            if id(p) in state_by_param:
                full_state[names_of[id(p)][0]] = dict(state_by_param[id(p)])
            continue
        unit, h, index = owner
        infos = h.infos if index is None else [h.infos[index]]
        names_of[id(p)] = [_fqn(unit, info) for info in infos]
        if h not in handles:
            handles.append(h)
    for h in handles:
        unit = h.owner
        pieces = h.pieces
        # what each of this rank's pieces holds: {key: ("shard", dtype) | ("value", value)}
        described: dict[str, Any] = {}
        values: list[dict[str, Any]] = [{} for _ in h.infos]
        for i, piece in enumerate(pieces):
            for key, value in state_by_param.get(id(piece), {}).items():
                if _is_sharded_state(value, tuple(piece.shape)):
                    described[key] = ("shard", value.dtype)
                elif h.use_orig_params:
                    values[i][key] = value
                else:
                    for v in values:
                        v[key] = value
        everyone: list[Any] = [None] * h.world_size
        dist.all_gather_object(everyone, (described, values), group=h.group)
        kinds: dict[str, Any] = {}
        scalars: list[dict[str, Any]] = [{} for _ in h.infos]
        for their_described, their_values in everyone:
            kinds.update(their_described)
            for mine, theirs in zip(scalars, their_values):
                for key, value in theirs.items():
                    mine.setdefault(key, value)
        per_info: list[dict[str, Any]] = [dict(s) for s in scalars]
        for key in sorted(k for k, kind in kinds.items() if kind[0] == "shard"):
            dtype = kinds[key][1]
            shard = zeros(h.shard_numel, dtype=dtype, device=pieces[0].device)
            with no_grad():
                for piece, (start, length) in zip(pieces, h.piece_ranges):
                    value = state_by_param.get(id(piece), {}).get(key)
                    if length and isinstance(value, Tensor):
                        shard[start : start + length] = value.detach().reshape(-1).to(dtype)
                full = h._gather(shard, dtype)
            for target, view in zip(per_info, h.views(full)):
                target[key] = view.clone()
        for info, target in zip(h.infos, per_info):
            if target:
                full_state[_fqn(unit, info)] = target
    if offload:
        full_state = {
            n: {k: v.cpu() if isinstance(v, Tensor) else v for k, v in s.items()} for n, s in full_state.items()
        }
    groups = []
    for group_state, group_obj in zip(local["param_groups"], optim.param_groups):
        entry = {k: copy.deepcopy(v) for k, v in group_state.items() if k != "params"}
        entry["params"] = [n for p in group_obj["params"] for n in names_of[id(p)]]
        groups.append(entry)
    return {"state": full_state, "param_groups": groups}


def optim_state_dict_to_load(model: Module, optim: Any, full: dict[str, Any]) -> dict[str, Any]:
    owners, others = _units_and_owners(model)
    params = _ordered_params(optim)
    state: dict[int, dict[str, Any]] = {}
    full_state = full["state"]
    for index, p in enumerate(params):
        owner = owners.get(id(p))
        if owner is None:
            name = others.get(id(p))
            if name in full_state:
                state[index] = dict(full_state[name])
            continue
        unit, h, piece_index = owner
        infos = h.infos if piece_index is None else [h.infos[piece_index]]
        names = [_fqn(unit, info) for info in infos]
        present = [n for n in names if n in full_state]
        if not present or p.numel() == 0:
            continue
        first = full_state[present[0]]
        entry: dict[str, Any] = {}
        for key, value in first.items():
            info0 = infos[names.index(present[0])]
            if isinstance(value, Tensor) and value.dim() > 0 and tuple(value.shape) == info0.shape:
                flat = zeros(h.padded_numel, dtype=value.dtype, device=p.device)
                with no_grad():
                    for info, name in zip(infos, names):
                        if name in full_state:
                            v = full_state[name][key]
                            flat[info.offset : info.offset + info.numel] = v.detach().reshape(-1).to(p.device)
                    start, length = h.piece_ranges[0 if piece_index is None else piece_index]
                    shard = flat[h.shard_start : h.shard_start + h.shard_numel]
                    entry[key] = shard[start : start + length].reshape(p.shape).clone()
            else:
                entry[key] = value.clone() if isinstance(value, Tensor) else copy.deepcopy(value)
        state[index] = entry
    groups = []
    offset = 0
    for group_obj, group_state in zip(optim.param_groups, full["param_groups"]):
        entry = {k: copy.deepcopy(v) for k, v in group_state.items() if k != "params"}
        entry["params"] = list(range(offset, offset + len(group_obj["params"])))
        offset += len(group_obj["params"])
        groups.append(entry)
    return {"state": state, "param_groups": groups}


class _NamedGroups:
    """Stands in for an optimizer when only the model is given: its parameter groups are those the
    full state dict names, each holding this rank's parameters in ``model.parameters()`` order."""

    def __init__(self, model: Module, full: dict[str, Any]) -> None:
        owners, others = _units_and_owners(model)
        names: dict[int, list[str]] = {}
        for p in model.parameters():
            owner = owners.get(id(p))
            if owner is None:
                names[id(p)] = [others.get(id(p), "")]
            else:
                unit, h, index = owner
                infos = h.infos if index is None else [h.infos[index]]
                names[id(p)] = [_fqn(unit, info) for info in infos]
        self.param_groups = []
        for group in full["param_groups"]:
            wanted = set(group["params"])
            params = [p for p in model.parameters() if wanted.intersection(names[id(p)])]
            self.param_groups.append({"params": params})
