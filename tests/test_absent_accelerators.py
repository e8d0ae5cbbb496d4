"""``ember.xpu`` and ``ember.mps`` (accelerators ember has no backend for), ``ember.cuda.graphs``,
``ember.amp.autocast_mode.is_autocast_available`` and ``ember.compiler.cudagraph_mark_step_begin``,
against PyTorch's CPU build: the same values, the same exceptions."""

from __future__ import annotations

import pytest

import ember

torch = pytest.importorskip("torch")

CALLS = {
    "xpu": ["is_available", "device_count", "is_initialized", "synchronize", "empty_cache", "manual_seed",
            "manual_seed_all", "seed", "current_device", "set_device", "get_device_name", "memory_allocated",
            "get_rng_state"],
    "mps": ["is_available", "device_count", "synchronize", "empty_cache", "manual_seed", "seed", "get_rng_state",
            "recommended_max_memory", "current_allocated_memory", "driver_allocated_memory"],
}  # fmt: skip
CASES = [(module, name) for module, names in CALLS.items() for name in names]


def _outcome(function, name):
    args = (0,) if name in ("manual_seed", "manual_seed_all", "set_device") else ()
    try:
        return "returned", function(*args)
    except Exception as error:  # noqa: BLE001 - compared with PyTorch's
        return type(error).__name__, str(error)


@pytest.mark.parametrize("module, name", CASES, ids=[f"{m}.{n}" for m, n in CASES])
def test_as_torch_without_the_device(module, name):
    expected = _outcome(getattr(getattr(torch, module), name), name)
    actual = _outcome(getattr(getattr(ember, module), name), name)
    assert actual == expected


def test_device_picking_falls_back_to_cpu():
    for T in (torch, ember):
        if T.cuda.is_available():
            continue
        device = "xpu" if T.xpu.is_available() else "mps" if T.backends.mps.is_available() else "cpu"
        assert device == "cpu"


def test_module_paths_programs_import():
    from ember.amp.autocast_mode import is_autocast_available
    from ember.cuda.graphs import CUDAGraph, make_graphed_callables

    assert CUDAGraph is ember.cuda.CUDAGraph and make_graphed_callables is ember.cuda.make_graphed_callables
    for device_type in ("cpu", "cuda"):
        assert is_autocast_available(device_type) == torch.amp.autocast_mode.is_autocast_available(device_type)
    assert ember.compiler.cudagraph_mark_step_begin() is None
