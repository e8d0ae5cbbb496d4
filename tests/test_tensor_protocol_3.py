"""Tensor protocol details against PyTorch: methods that refuse ``out=``, keyword arguments of the binary
operators reached through a subclass's ``__torch_function__``, the ``types`` a handler sees for property
getters, the positions named in argument errors, and nanmedian's index of an all-NaN slice.
"""

from __future__ import annotations

import math

import pytest

import ember

torch = pytest.importorskip("torch")


def _libs(device):
    """``(library, keyword arguments of its factories)`` for torch (CPU) and ember (on ``device``)."""
    return ((torch, {}), (ember, {"device": device}))


def _error(call):
    """``(exception type name, message)`` of ``call()``; ``None`` when it does not raise."""
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the error is what is compared
        return type(error).__name__, str(error)
    return None


# -- nanmedian: the index of an all-NaN slice -----------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 13, 49, 100, 1000, 4097])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nanmedian_all_nan_slice_index(device, n, dtype):
    got = {}
    for lib, kwargs in _libs(device):
        x = lib.full((2, n), math.nan, dtype=getattr(lib, dtype), **kwargs)
        x[1, n // 2] = 1.0
        rows = lib.nanmedian(x, 1)
        columns = lib.nanmedian(x.t(), 0, keepdim=True)
        got[lib] = (rows.indices.tolist(), columns.indices.tolist(), rows.values[1].item())
        assert math.isnan(rows.values[0].item()) and math.isnan(lib.nanmedian(x[0]).item())
    assert got[ember] == got[torch]


def test_nanmedian_all_nan_strided_slices(device):
    got = {}
    for lib, kwargs in _libs(device):
        x = lib.full((3, 9), math.nan, **kwargs)
        got[lib] = (lib.nanmedian(x[:, ::2], 1).indices.tolist(), x.nanmedian(-1).indices.tolist())
    assert got[ember] == got[torch]
