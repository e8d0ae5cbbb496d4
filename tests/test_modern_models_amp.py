"""Autocast off the main road, against PyTorch's CPU build: the warning of a CUDA autocast without CUDA."""

from __future__ import annotations

import warnings

from reference import torch

import ember


def _warnings_of_cuda_autocast(lib):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with lib.autocast("cuda"):
            enabled = lib.is_autocast_enabled("cuda")
    return enabled, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def test_cuda_autocast_without_cuda_warns_as_torch():
    expected = _warnings_of_cuda_autocast(torch) if not torch.cuda.is_available() else None
    got = _warnings_of_cuda_autocast(ember)
    if ember.cuda.is_available() or expected is None:  # a CUDA machine: autocast runs, without the warning
        assert got[1] == []
    else:
        assert got == expected == (False, ["CUDA is not available or torch_xla is imported. Disabling autocast."])


def test_cpu_amp_spellings_warn_as_deprecated_as_torch():
    for name in ("autocast", "GradScaler"):
        messages = []
        for lib in (torch, ember):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                getattr(lib.cpu.amp, name)()
            messages.append(
                [str(w.message).replace(lib.__name__, "LIB") for w in caught if w.category is FutureWarning]
            )
        assert messages[1] == messages[0] and len(messages[0]) == 1
