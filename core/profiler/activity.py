"""What a profiler records: :class:`ProfilerActivity` and :func:`supported_activities`."""

from __future__ import annotations

import enum

__all__ = ["ProfilerActivity", "supported_activities", "device_type_of"]


class ProfilerActivity(enum.Enum):
    """An activity group a profiler can record (PyTorch's names and values).

    ``CPU``: the ops, backward nodes and ``record_function`` ranges, timed on the host.
    ``CUDA``: also time each op on a ``cuda`` device with a device synchronization around it
    (its device time). ``PrivateUse1``: the same for the other accelerator backends (``opencl``).
    ``XPU``, ``MTIA`` and ``HPU`` are PyTorch's device kinds that ember has no backend for.
    """

    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


def supported_activities() -> set[ProfilerActivity]:
    """The activities this process can record: ``CPU``, and ``CUDA`` where a GPU is seen.

    Example::

        >>> from ember.profiler import ProfilerActivity, supported_activities
        >>> ProfilerActivity.CPU in supported_activities()
        True
    """
    from .. import cuda

    activities = {ProfilerActivity.CPU}
    if cuda.is_available():
        activities.add(ProfilerActivity.CUDA)
    return activities


def device_type_of(activities: set[ProfilerActivity]) -> str | None:
    """The device type whose ops are timed with a device sync under ``activities`` (``None``: only CPU)."""
    if ProfilerActivity.CUDA in activities:
        return "cuda"
    if ProfilerActivity.PrivateUse1 in activities:
        from ..plugin import backend_registry

        # the accelerators other than cuda: not the host's devices, nor meta (no device at all)
        host_or_none = ("cpu", "cuda", "meta", "restricted")
        return next((t for t in backend_registry().device_types() if t not in host_or_none), None)
    return None
