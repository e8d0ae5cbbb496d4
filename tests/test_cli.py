"""The ``ember`` command line, run as a subprocess: info, train (and exact resume), bad arguments."""

import os
import shutil
import subprocess
import sys

import pytest

import ember

CLI = [sys.executable, "-m", "ember.contrib.cli"]


def _run(*args, cwd=None):
    env = dict(os.environ, PYTHONHASHSEED="0")
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def test_info():
    result = _run("info")
    assert result.returncode == 0 and "backends:" in result.stdout and "numpy (cpu)" in result.stdout


def test_console_script_installed():
    script = shutil.which("ember", path=os.path.dirname(sys.executable)) or shutil.which("ember")
    if script is None:
        pytest.skip("the ember console script is not on PATH (package not installed)")
    result = subprocess.run([script, "info"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "backends:" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--dataset", "imagenet"], "argument --dataset: invalid choice: 'imagenet'"),
        (["train", "--model", "vgg"], "argument --model: invalid choice"),
        (["train", "--epochs", "0"], "argument --epochs: must be positive, got 0"),
        (["train", "--lr", "fast"], "argument --lr: invalid float value: 'fast'"),
        (["train", "--device", "nosuchdevice"], "argument --device: 'nosuchdevice' is not usable"),
        (["train", "--resume", "--out", "nowhere"], "--resume: no checkpoint at nowhere"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["train", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_arguments_one_line_exit_2(tmp_path, args, message):
    result = _run(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_missing_dataset_is_one_line_error(tmp_path):
    result = _run("train", "--dataset", "mnist", "--data-dir", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "download=True" in result.stderr


def test_train_then_resume_exactly(tmp_path):
    pytest.importorskip("sklearn")
    common = ["train", "--epochs", "2", "--batch-size", "128", "--no-progress"]
    full = _run(*common, "--out", "full", cwd=tmp_path)
    assert full.returncode == 0, full.stderr
    assert "test accuracy:" in full.stdout and "epoch 2/2" in full.stderr
    assert (tmp_path / "full" / "curves.png").is_file()
    first = _run(*common, "--out", "split", "--stop-after", "1", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    second = _run(*common, "--out", "split", "--resume", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "resuming from" in second.stdout and "epoch 2/2" in second.stderr and "epoch 1/2" not in second.stderr
    a = ember.load(tmp_path / "full" / "checkpoint.safetensors")["model"]
    b = ember.load(tmp_path / "split" / "checkpoint.safetensors")["model"]
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].numpy().tobytes() == b[key].numpy().tobytes(), key
