"""What a plain ``pip install ember`` (no extras) gives: checkpoints, the command line, the typing marker.

The conformance suite of ``.ci/suite`` runs this file in an environment holding only the wheel,
its dependencies, pytest and the example plugin (no PyTorch, no extras).
"""

import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import ember


def _core_requirements():
    requires = importlib.metadata.requires("ember") or []
    return {re.split(r"[ <>=!~;\[]", r, maxsplit=1)[0].lower() for r in requires if "extra ==" not in r}


def test_core_dependencies_are_numpy_pluggy_and_ml_dtypes():
    assert _core_requirements() == {"numpy", "pluggy", "ml_dtypes"}


@pytest.mark.parametrize("name", ["checkpoint", "checkpoint.pt", "checkpoint.safetensors"])
def test_save_load_needs_only_core_dependencies(tmp_path, name):
    state = {"model": ember.nn.Linear(3, 2).state_dict(), "epoch": 3}
    ember.save(state, tmp_path / name)
    loaded = ember.load(tmp_path / name)
    assert loaded["epoch"] == 3 and loaded["model"].keys() == state["model"].keys()
    for key, value in state["model"].items():
        assert loaded["model"][key].numpy().tobytes() == value.numpy().tobytes(), key


def test_command_line_runs(tmp_path):
    env = dict(os.environ, PYTHONHASHSEED="0")
    result = subprocess.run(
        [sys.executable, "-m", "ember", "--version"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert result.returncode == 0 and result.stdout.strip() == f"ember {ember.__version__}", result.stderr


def test_typing_marker_ships():
    assert (Path(ember.__file__).parent / "py.typed").is_file()
