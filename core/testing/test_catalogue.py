"""(b) The whole catalogue on the device under test: forward against the NumPy backend
(``cpu``), and float64 finite-difference gradient checks where the device has float64."""

from __future__ import annotations

import copy
import types
import zlib

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck

from .catalogue import ENTRIES, EXEMPT

_TOLERANCE = {"float32": (1e-4, 1e-5), "float64": (1e-9, 1e-10)}
_IDS = [e.name for e in ENTRIES]


def _arrays(entry):
    """The entry's inputs, drawn from a stream seeded by its name: the same in every run (``hash()`` of a str
    changes from one process to the next, which made a rare draw, such as NLLLoss's targets all equal to its
    ignore_index and so a NaN mean, fail one run in a hundred)."""
    rng = np.random.default_rng(zlib.crc32(entry.name.encode()))
    return [None if spec is None else (spec.make(rng), spec.grad) for spec in entry.inputs]


def _build(entry):
    ember.manual_seed(0)
    return entry.make()


def _place(fn, device, dtype):
    if isinstance(fn, nn.Module):
        return copy.deepcopy(fn).to(device=device, dtype=dtype)
    return fn


def _tensors(arrays, device, dtype, requires_grad):
    out = []
    for item in arrays:
        if item is None:
            out.append(None)
            continue
        value, grad = item
        if isinstance(value, np.ndarray):
            if value.dtype.kind == "f":
                out.append(ember.tensor(value, dtype=dtype, device=device, requires_grad=requires_grad and grad))
            else:
                out.append(ember.tensor(value, device=device))
        else:
            out.append(value)
    return out


def _flatten(out):
    if isinstance(out, (tuple, list)):
        return [o for item in out for o in _flatten(item)]
    return [out] if isinstance(out, ember.Tensor) else []


def _call(entry, fn, inputs):
    if entry.random:
        ember.manual_seed(0)
    return fn(*inputs)


@pytest.mark.parametrize("entry", ENTRIES, ids=_IDS)
def test_forward(entry, ember_device):
    """Forward in float32 on the device; compared with the NumPy backend's result."""
    fn = _build(entry)
    arrays = _arrays(entry)
    expected = _flatten(_call(entry, _place(fn, "cpu", ember.float32), _tensors(arrays, "cpu", ember.float32, True)))
    got = _flatten(
        _call(entry, _place(fn, ember_device, ember.float32), _tensors(arrays, ember_device, ember.float32, True))
    )
    assert len(got) == len(expected), f"{entry.name}: {len(got)} outputs, cpu gives {len(expected)}"
    device = ember.empty(0, device=ember_device).device  # as tensors report it (cpu:0 as cpu)
    for i, (g, e) in enumerate(zip(got, expected)):
        assert g.device == device, f"{entry.name}: output {i} is on {g.device}"
        assert g.shape == e.shape and g.dtype == e.dtype, (
            f"{entry.name}: output {i} is {g.dtype}{list(g.shape)}, cpu gives {e.dtype}{list(e.shape)}"
        )
        if entry.random:
            continue
        g, e = g.detach().cpu().numpy(), e.detach().numpy()
        if e.dtype.kind == "f":
            rtol, atol = _TOLERANCE[e.dtype.name]
            np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=f"{entry.name}: output {i}")
        else:
            np.testing.assert_array_equal(g, e, err_msg=f"{entry.name}: output {i}")


_GRAD_ENTRIES = [e for e in ENTRIES if e.gradcheck and any(s is not None and s.grad for s in e.inputs)]


@pytest.mark.parametrize("entry", _GRAD_ENTRIES, ids=[e.name for e in _GRAD_ENTRIES])
def test_gradcheck(entry, ember_device, ember_backend):
    """Input gradients in float64 on the device against central finite differences."""
    if not ember_backend.supports_float64:
        pytest.skip(f"{ember_device} has no float64")
    fn = _place(_build(entry), ember_device, ember.float64)
    inputs = _tensors(_arrays(entry), ember_device, ember.float64, True)
    assert gradcheck(lambda *xs: _call(entry, fn, xs), tuple(inputs), eps=1e-6, atol=1e-5, rtol=1e-3)


def _public(module, prefix):
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    return {f"{prefix}.{n}" for n in names if not isinstance(getattr(module, n), types.ModuleType)}


def test_catalogue_is_complete():
    """Every public layer, function and loss of ember.nn has an entry (or is exempt)."""
    covered = {e.name.split("/")[0] for e in ENTRIES} | {name for e in ENTRIES for name in e.covers}
    missing = sorted((_public(nn, "nn") | _public(F, "F")) - covered - EXEMPT)
    assert not missing, f"catalogue entries missing for {missing}"
