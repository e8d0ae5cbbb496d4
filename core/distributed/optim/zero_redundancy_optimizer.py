""":class:`ZeroRedundancyOptimizer`: PyTorch's ZeRO stage 1, an optimizer whose state is split
over the ranks."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from ... import distributed as dist
from ...autograd.grad_mode import no_grad
from ...optim.optimizer import Optimizer
from ...tensor import Tensor

__all__ = ["ZeroRedundancyOptimizer"]


class ZeroRedundancyOptimizer(Optimizer):
    r"""Wrap ``optimizer_class`` so that each rank keeps the state of, and updates, only its share of
    the parameters; after each step every parameter is broadcast from the rank that owns it. The
    parameters end each step as the wrapped optimizer alone would leave them, with a
    ``1 / world_size`` share of its state (Adam's moments, say) on each rank.

    Parameters are dealt out group by group as PyTorch deals them: in each group largest first,
    each to the rank holding the fewest elements so far (counting every group). :meth:`state_dict` needs the shares gathered first
    (:meth:`consolidate_state_dict` on every rank); :meth:`load_state_dict` takes the full state
    and keeps this rank's share. ``overlap_with_ddp=True`` (stepping inside DDP's gradient hooks)
    is not offered: it raises NotImplementedError.

    Args:
        params (iterable): the parameters, or dicts of parameter groups, as for any optimizer;
            the same on every rank.
        optimizer_class (type): the optimizer each rank runs on its share (``ember.optim.Adam``).
        process_group (ProcessGroup, optional): the ranks sharing the work. Default: all of them.
        parameters_as_bucket_view (bool): PyTorch's flattening of the parameters into buckets
            for fewer broadcasts; accepted, each parameter is broadcast on its own.
        overlap_with_ddp (bool): must be False.
        **defaults: the options of ``optimizer_class`` (``lr=...``).

    Example::

        >>> model = DistributedDataParallel(nn.Linear(10, 1))     # under mpiexec
        >>> opt = ZeroRedundancyOptimizer(model.parameters(), optimizer_class=ember.optim.Adam, lr=0.01)
        >>> model(x).sum().backward()
        >>> opt.step()
    """

    def __init__(
        self,
        params: Iterable[Any],
        optimizer_class: type[Optimizer],
        process_group: dist.ProcessGroup | None = None,
        parameters_as_bucket_view: bool = False,
        overlap_with_ddp: bool = False,
        **defaults: Any,
    ) -> None:
        if overlap_with_ddp:
            raise NotImplementedError(
                "ZeroRedundancyOptimizer(overlap_with_ddp=True) is not implemented in ember: step it after backward"
            )
        if isinstance(params, Tensor):
            raise TypeError(f"`params` argument should be an iterable of Tensors, but got {params.type()}")
        params = list(params)
        if not params:
            raise ValueError("ZeroRedundancyOptimizer did not receive any parameters")
        self._initialized = False
        super().__init__(params, defaults)
        first, *others = (p.type() for g in self.param_groups for p in g["params"])
        for other in others:
            if other != first:
                raise ValueError(
                    "ZeroRedundancyOptimizer only supports using the same dense type for all parameters but got "
                    f"both {first} and {other}"
                )
        group = process_group if process_group is not None else dist.group.WORLD
        if group is None:
            raise ValueError(dist._NOT_INITIALIZED)
        self.process_group: dist.ProcessGroup = group
        self.world_size = dist.get_world_size(self.process_group)
        self.rank = dist.get_rank(self.process_group)
        self._optimizer_class = optimizer_class
        self._all_state_dicts: list[dict[str, Any]] = []
        self.optim = optimizer_class(self._partition()[self.rank], **defaults)
        self._sync_param_groups(self.param_groups, self.optim.param_groups)
        self._initialized = True

    # -- who owns what ------------------------------------------------------------------------------
    def _partition(self) -> list[list[dict[str, Any]]]:
        """Per rank, its share of each parameter group (the group's options, its own params)."""
        shares: list[list[dict[str, Any]]] = [[] for _ in range(self.world_size)]
        self._owner: dict[int, int] = {}
        sizes = [0] * self.world_size  # elements dealt to each rank so far, over all the groups
        for group in self.param_groups:
            params_per_rank: list[list[Tensor]] = [[] for _ in range(self.world_size)]
            for param in sorted(group["params"], key=lambda t: t.numel(), reverse=True):
                rank = sizes.index(min(sizes))
                params_per_rank[rank].append(param)
                sizes[rank] += param.numel()
                self._owner[id(param)] = rank
            for rank, params in enumerate(params_per_rank):
                share = {k: v for k, v in group.items() if k != "params"}
                share["params"] = params
                shares[rank].append(share)
        return shares

    @property
    def _all_params(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    @staticmethod
    def _sync_param_groups(source: list[dict[str, Any]], target: list[dict[str, Any]]) -> None:
        """Copy the options (learning rate, ...) of each group of ``source`` into ``target``'s."""
        for source_group, target_group in zip(source, target):
            for key, value in source_group.items():
                if key != "params":
                    target_group[key] = value

    # -- the step --------------------------------------------------------------------------------------
    def step(self, closure: Callable[[], Any] | None = None, **kwargs: Any) -> Any:
        """Update this rank's share with the wrapped optimizer, then broadcast every parameter from
        its owner.

        Args:
            closure (callable, optional): re-evaluates the model and returns the loss.
        """
        self._sync_param_groups(self.param_groups, self.optim.param_groups)  # a scheduler's changes
        loss = self.optim.step(closure=closure, **kwargs) if closure is not None else self.optim.step(**kwargs)
        self._sync_param_groups(self.optim.param_groups, self.param_groups)
        with no_grad():
            for param in self._all_params:
                owner = dist.get_global_rank(self.process_group, self._owner[id(param)])
                dist.broadcast(param.detach(), owner, group=self.process_group)
        return loss

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a parameter group (on every rank): its parameters are dealt out as the others were.

        Args:
            param_group (dict): the group's ``"params"`` and options.
        """
        super().add_param_group(param_group)
        if self._initialized:
            self.optim.add_param_group(self._partition()[self.rank][-1])

    # -- state -----------------------------------------------------------------------------------------
    def consolidate_state_dict(self, to: int = 0) -> None:
        """Gather every rank's share of the state on rank ``to`` (of the group), for :meth:`state_dict`.
        Call it on every rank.

        Args:
            to (int): the rank receiving the state. Default: 0.
        """
        self._sync_param_groups(self.param_groups, self.optim.param_groups)
        gathered: list[Any] | None = [None] * self.world_size if self.rank == to else None
        destination = dist.get_global_rank(self.process_group, to)
        dist.gather_object(self.optim.state_dict(), gathered, dst=destination, group=self.process_group)
        self._all_state_dicts = list(gathered) if gathered is not None else []

    def state_dict(self) -> dict[str, Any]:
        """The whole optimizer's state, in the wrapped optimizer's format over all the parameters
        (their positions across the groups), as last consolidated on this rank.

        Raises:
            RuntimeError: :meth:`consolidate_state_dict` has not gathered the state on this rank.
        """
        if not self._all_state_dicts:
            raise RuntimeError(
                "Optimizer state has not been consolidated on this rank. "
                f"Please call `consolidate_state_dict(to={self.rank})` on all ranks beforehand if you meant to "
                "save the global state."
            )
        state_dict = super().state_dict()
        index = {id(p): i for i, p in enumerate(self._all_params)}
        for shares, local in zip(self._partition(), self._all_state_dicts):
            for share, local_group in zip(shares, local["param_groups"]):
                for local_index, param in zip(local_group["params"], share["params"]):
                    if local_index in local["state"]:
                        state_dict["state"][index[id(param)]] = local["state"][local_index]
        state_dict["state"] = dict(sorted(state_dict["state"].items()))
        return state_dict

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a whole optimizer state (from :meth:`state_dict`); this rank keeps its share.

        Args:
            state_dict (dict): the state.
        """
        params = self._all_params
        for index, value in state_dict["state"].items():
            param = params[index]
            if self._owner[id(param)] == self.rank:
                self.optim.state[param] = self._cast_state(param, copy.deepcopy(value))
        super().load_state_dict(
            {"state": {}, "param_groups": state_dict["param_groups"]}  # the shares live in self.optim
        )
        self._sync_param_groups(self.param_groups, self.optim.param_groups)
