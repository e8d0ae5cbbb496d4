"""``parallel_apply``: run several modules at once, one thread each."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from ...amp.state import restored as _autocast_restored
from ...amp.state import snapshot as _autocast_snapshot
from ...autograd.grad_mode import grad_state, set_grad_enabled
from ...device import device as _device
from ...tensor import Tensor, placement

__all__ = ["parallel_apply"]


def _device_of(obj: Any) -> _device | None:
    if isinstance(obj, Tensor):
        return obj.device
    if isinstance(obj, (list, tuple)):
        for item in obj:
            found = _device_of(item)
            if found is not None:
                return found
    if isinstance(obj, dict):
        return _device_of(list(obj.values()))
    return None


def parallel_apply(
    modules: Sequence[Callable[..., Any]],
    inputs: Sequence[Any],
    kwargs_tup: Sequence[dict[str, Any]] | None = None,
    devices: Sequence[_device | str | None] | None = None,
) -> list[Any]:
    """Call ``modules[i](*inputs[i], **kwargs_tup[i])`` for every ``i``, in parallel threads.

    Each thread runs with the caller's grad mode and with its device current (for
    backends with a current device). An exception in any thread is raised here.

    Args:
        modules (list[Module]): the modules (replicas).
        inputs (list): each module's positional arguments (a tuple, or a single object).
        kwargs_tup (list, optional): each module's keyword arguments. Default: none.
        devices (list, optional): each module's device. Default: found from the inputs.

    Returns:
        list: the outputs, in order.
    """
    if len(modules) != len(inputs):
        raise ValueError(f"parallel_apply: {len(modules)} modules but {len(inputs)} inputs")
    kwargs_tup = tuple(kwargs_tup) if kwargs_tup is not None else ({},) * len(modules)
    if len(kwargs_tup) != len(modules):
        raise ValueError(f"parallel_apply: {len(modules)} modules but {len(kwargs_tup)} keyword sets")
    devices = list(devices) if devices is not None else [_device_of(x) for x in inputs]
    grad_enabled = grad_state.enabled
    autocast_settings = _autocast_snapshot()  # the replicas' threads run under the caller's autocast
    results: list[Any] = [None] * len(modules)
    errors: list[BaseException | None] = [None] * len(modules)

    def worker(i: int, module: Callable[..., Any], args: Any, kwargs: dict[str, Any], dev: Any) -> None:
        try:
            with set_grad_enabled(grad_enabled), _autocast_restored(autocast_settings):
                if not isinstance(args, (list, tuple)):
                    args = (args,)
                if dev is None:
                    results[i] = module(*args, **kwargs)
                    return
                backend, dev = placement(dev)
                with backend.device_context(dev.index):
                    results[i] = module(*args, **kwargs)
        except BaseException as exc:  # re-raised in the caller's thread
            errors[i] = exc

    jobs = list(zip(range(len(modules)), modules, inputs, kwargs_tup, devices))
    if len(jobs) == 1:
        worker(*jobs[0])
    else:
        threads = [threading.Thread(target=worker, args=job) for job in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for i, exc in enumerate(errors):
        if exc is not None:
            exc.add_note(f"(raised in replica {i} on device {devices[i]})")
            raise exc
    return results
