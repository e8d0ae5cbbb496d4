"""Autocast's device strings as PyTorch parses them: ``'cpu:0'`` names a cpu region and ``'cuda:0'`` the
cuda settings, a string that names no device type is PyTorch's error."""

from __future__ import annotations

import warnings

import pytest
from reference import torch

import ember


def _name(dtype):
    return str(dtype).split(".")[-1]


@pytest.mark.parametrize("spelling", ["cpu:0", "cuda:0", "cpu"])
def test_queries_of_an_indexed_device_string_as_torch(spelling):
    """ember looked ``'cuda:0'`` up as its own device type: ``get_autocast_dtype('cuda:0')`` gave bfloat16
    (PyTorch: float16) and ``is_autocast_available('cuda:0')`` False (PyTorch: True)."""
    assert _name(ember.get_autocast_dtype(spelling)) == _name(torch.get_autocast_dtype(spelling))
    assert ember.amp.is_autocast_available(spelling) == torch.amp.autocast_mode.is_autocast_available(spelling)
    assert ember.is_autocast_enabled(spelling) == torch.is_autocast_enabled(spelling)


def test_an_indexed_cpu_region_casts_as_torch():
    """``autocast('cpu:0')`` warned 'ember has no autocast policy for device type 'cpu:0'' and left float32;
    PyTorch autocasts the cpu."""
    got, want = [], []
    for lib, out in ((ember, got), (torch, want)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            region = lib.autocast("cpu:0")
            with region:
                out += [region.device, lib.is_autocast_enabled("cpu"), _name((lib.ones(2, 3) @ lib.ones(3, 2)).dtype)]
            out.append(lib.is_autocast_enabled("cpu"))
            lib.set_autocast_dtype("cpu:0", lib.float16)
            out.append(_name(lib.get_autocast_dtype("cpu")))
            lib.set_autocast_dtype("cpu", lib.bfloat16)
    assert got == want == ["cpu:0", True, "bfloat16", False, "float16"]


@pytest.mark.parametrize("spelling", ["gpu", "cuda:x", "CPU", ""])
@pytest.mark.parametrize(
    "call",
    [
        lambda lib, s: lib.autocast(s),
        lambda lib, s: lib.get_autocast_dtype(s),
        lambda lib, s: lib.is_autocast_enabled(s),
        lambda lib, s: lib.set_autocast_dtype(s, lib.float16),
    ],
    ids=["autocast", "get_autocast_dtype", "is_autocast_enabled", "set_autocast_dtype"],
)
def test_a_string_that_names_no_device_is_refused_as_torch(spelling, call):
    """``autocast('gpu')`` warned and ran without autocast, ``get_autocast_dtype('gpu')`` answered bfloat16;
    PyTorch raises its device parser's error (ember's list of device types adds its own)."""
    with pytest.raises(RuntimeError) as want:
        call(torch, spelling)
    with pytest.raises(RuntimeError) as got:
        call(ember, spelling)
    assert str(got.value).replace(", restricted", "") == str(want.value)
