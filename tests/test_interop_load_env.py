"""PyTorch's environment overrides of ``weights_only`` in ``load``, against the real torch.

``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` is what PyTorch's own error message leads users of old
programs to (the time_sequence_prediction example saves a NumPy array and loads it back with a
bare ``torch.load``); ``TORCH_FORCE_WEIGHTS_ONLY_LOAD=1`` forces the safe load.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

ARRAY = np.arange(6.0).reshape(2, 3)


def _outcome(library, path, **kwargs):
    """What ``library.load(path, **kwargs)`` gives (the array's type or the exception's) and whether it warned."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            got = library.load(path, **kwargs)
        except (pickle.UnpicklingError, RuntimeError) as exc:
            got = exc
    warned = any("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD" in str(w.message) for w in caught)
    if isinstance(got, np.ndarray):
        np.testing.assert_array_equal(got, ARRAY)
    return type(got), warned


@pytest.mark.parametrize(
    ("env", "kwargs"),
    [
        ({}, {}),
        ({}, {"weights_only": False}),
        ({"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}, {}),
        ({"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "true"}, {"weights_only": True}),
        ({"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "0"}, {}),
        ({"TORCH_FORCE_WEIGHTS_ONLY_LOAD": "yes"}, {"weights_only": False}),
        ({"TORCH_FORCE_WEIGHTS_ONLY_LOAD": "1", "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}, {}),
    ],
)
def test_weights_only_environment_overrides_match_torch(tmp_path, monkeypatch, env, kwargs):
    path = tmp_path / "array.pt"
    torch.save(ARRAY, path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert _outcome(ember, path, **kwargs) == _outcome(torch, path, **kwargs)


def test_both_overrides_set_is_an_error_naming_them(tmp_path, monkeypatch):
    path = tmp_path / "array.pt"
    ember.save(ARRAY, path)
    monkeypatch.setenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "1")
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    with pytest.raises(RuntimeError, match="TORCH_FORCE_WEIGHTS_ONLY_LOAD"):
        ember.load(path)


def test_forced_unsafe_load_warns(tmp_path, monkeypatch):
    path = tmp_path / "array.pt"
    ember.save(ARRAY, path)
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    with pytest.warns(UserWarning, match="TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"):
        np.testing.assert_array_equal(ember.load(path), ARRAY)
