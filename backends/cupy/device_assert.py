"""Index checks on the GPU, reported at the next synchronizing call (PyTorch's device-side asserts).

A loss or embedding must reject an index outside its range, but reading the verdict back at
once would make every training step wait for the GPU. So the check is one kernel that
records the first failure in a per-device status word; :meth:`DeviceAsserts.report` reads it
when the host waits for the device anyway (``to_host``: ``.item()``, ``.numpy()``, printing;
``synchronize``) and raises ``RuntimeError`` naming the op and the offending value. Like
PyTorch on CUDA, the step that held the bad index has already run (with the index clamped
by nothing: its results are undefined) when the error surfaces.
"""

from __future__ import annotations

import cupy
import numpy as np

from .source import function, launch_size

__all__ = ["DeviceAsserts"]


class DeviceAsserts:
    """Per-process state of the deferred checks: one status word per device, the checks' messages."""

    def __init__(self):
        self._status = {}
        self._codes = {}
        self._messages = []
        self.armed = False

    def prepare(self, device):
        """Allocate and zero ``device``'s status word now (before a capture, which would not run the zeroing)."""
        self._status_of(device)

    def _status_of(self, device):
        status = self._status.get(device)
        if status is None:
            with cupy.cuda.Device(device):
                status = self._status[device] = cupy.zeros(2, dtype=cupy.int64)
        return status

    def check(self, name, indices, bound, ignore_index, message):
        """Launch the check of ``indices`` against ``[0, bound)``; nothing waits for it.

        ``message`` is the error text with ``{value}`` for the offending index.
        """
        if indices.size == 0:
            return
        key = (name, bound, message)
        code = self._codes.get(key)
        if code is None:
            self._messages.append(key)
            code = self._codes[key] = len(self._messages)
        status = self._status_of(indices.device.id)
        flat = cupy.ascontiguousarray(indices, dtype=cupy.int64)
        grid, block = launch_size(flat.size)
        function("check_indices.cu", "ember_check_indices")(
            grid,
            block,
            (
                flat,
                np.int64(flat.size),
                np.int64(bound),
                np.int64(0 if ignore_index is None else ignore_index),
                np.int32(ignore_index is not None),
                np.int64(code),
                status,
            ),
        )
        self.armed = True

    def report(self):
        """Raise for the first failed check since the last report (the device must have caught up)."""
        if not self.armed:
            return
        self.armed = False
        for device, status in self._status.items():
            with cupy.cuda.Device(device):
                code, value = (int(v) for v in status.get())
                if code:
                    status.fill(0)
                    name, bound, message = self._messages[code - 1]
                    raise RuntimeError(
                        f"CUDA error: device-side assert triggered: {name}: {message.format(value=value)} "
                        f"(valid range [0, {bound})); "
                        "checked on the GPU and reported at the first synchronizing call after it"
                    )
