"""The error a checkpoint save or load raises on every rank when one rank failed, and the steps that
coordinate the ranks (each rank runs a step; the outcomes are gathered, so a failure on one rank
raises on all of them instead of leaving them waiting)."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

import ember.distributed as dist

__all__ = ["CheckpointException"]


class CheckpointException(BaseException):
    """A checkpoint save or load failed on some ranks; ``failures`` maps each rank to ``(exception,
    traceback)``. A ``BaseException``, as PyTorch's.

    Example::

        >>> from ember.distributed.checkpoint import CheckpointException
        >>> error = CheckpointException("failed", {0: (RuntimeError("no"), None)})
        >>> list(error.failures)
        [0]
    """

    def __init__(self, msg: str, failures: dict[int, Any]):
        super().__init__(msg, failures)
        self._failures = failures

    @property
    def failures(self) -> dict[int, Any]:
        """Each failed rank's ``(exception, traceback)``."""
        return self._failures

    def __str__(self) -> str:
        text = f"CheckpointException ranks:{self._failures.keys()}\n"
        for rank, (exc, trace) in self._failures.items():
            text += f"Traceback (most recent call last): (RANK {rank})\n"
            if trace is not None:
                text += "".join(traceback.format_list(trace))
            text += "".join(traceback.format_exception_only(type(exc), exc))
        return text


class _Failure:
    """A step's exception as it travels between ranks (a traceback summary, not the frames)."""

    def __init__(self, exc: BaseException):
        self.exc = exc
        self.trace = traceback.extract_tb(exc.__traceback__)

    def __getstate__(self):
        return {"exc": self.exc.with_traceback(None), "trace": self.trace}


class _Ranks:
    """The ranks taking part in one save or load: ``group`` (the default group where ``None``), or this
    process alone (``use_dist=False``)."""

    def __init__(self, group: Any, use_dist: bool, coordinator_rank: int = 0) -> None:
        self.group, self.use_dist = group, use_dist
        self.rank = dist.get_rank(group) if use_dist else 0
        self.world_size = dist.get_world_size(group) if use_dist else 1
        self.coordinator_rank = coordinator_rank
        self.is_coordinator = self.rank == coordinator_rank

    def _run(self, step: Callable[..., Any], *args: Any) -> Any:
        try:
            return step(*args)
        except Exception as exc:  # noqa: BLE001 - gathered and raised on every rank
            return _Failure(exc)

    def all_gather(self, name: str, step: Callable[[], Any]) -> list:
        """Run ``step()`` here and gather every rank's result; raise on all ranks if one failed."""
        result = self._run(step)
        if self.use_dist:
            gathered: list = [None] * self.world_size
            dist.all_gather_object(gathered, result, group=self.group)
        else:
            gathered = [result]
        failures = {r: (f.exc, f.trace) for r, f in enumerate(gathered) if isinstance(f, _Failure)}
        if failures:
            raise CheckpointException(name, failures)
        return gathered

    def alike(self, name: str, step: Callable[[], Any]) -> Any:
        """Run ``step()``, which every rank runs on the same gathered inputs (so fails on all alike)."""
        result = self._run(step)
        if isinstance(result, _Failure):
            raise CheckpointException(name, {self.rank: (result.exc, result.trace)})
        return result

    def on_coordinator(self, name: str, step: Callable[[], Any]) -> None:
        """Run ``step()`` on the coordinator, then raise on all ranks if it failed."""
        result = self._run(step) if self.is_coordinator else None
        if self.use_dist:
            carried = [result]
            src = dist.get_global_rank(self.group, self.coordinator_rank) if self.group is not None else 0
            dist.broadcast_object_list(carried, src=src, group=self.group)
            result = carried[0]
        if isinstance(result, _Failure):
            raise CheckpointException(name, {self.coordinator_rank: (result.exc, result.trace)})
