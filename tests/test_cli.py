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
    assert "oneDNN: " in result.stdout
    assert "Numba: " in result.stdout


@pytest.mark.parametrize("available", [True, False])
def test_info_says_whether_the_compiled_loops_serve(available, monkeypatch, numpy_threads):
    import io

    from ember.__main__ import info
    from ember.backends.numpy.loops import runtime

    if available and not runtime.installed():
        pytest.skip("Numba is not installed")
    numpy_threads(1)  # the loops serve one thread with or without oneDNN
    monkeypatch.setattr(runtime, "enabled", available)
    out = io.StringIO()
    info(out)
    line = next(line for line in out.getvalue().splitlines() if line.startswith("Numba: "))
    assert ('pip install "ember[numba]"' in line) is not available


def test_info_says_when_the_compiled_loops_stand_aside(numpy_threads):
    import io

    from ember.__main__ import info
    from ember.backends.numpy.loops import runtime

    if not runtime.installed():
        pytest.skip("Numba is not installed")
    numpy_threads(2)
    out = io.StringIO()
    with ember.backends.mkldnn.flags(enabled=False):
        info(out)
    line = next(line for line in out.getvalue().splitlines() if line.startswith("Numba: "))
    assert line.startswith("Numba: installed, but the compiled loops serve 2 threads only beside oneDNN")


@pytest.mark.parametrize("available", [True, False])
def test_info_says_whether_onednn_serves(available, monkeypatch):
    import io

    import ember.backends.mkldnn
    from ember.__main__ import info

    monkeypatch.setattr(ember.backends.mkldnn, "is_available", lambda: available)
    out = io.StringIO()
    info(out)
    last = out.getvalue().splitlines()[-1]
    assert last.startswith("oneDNN: ") and ('pip install "ember[onednn]"' in last) is not available


def test_console_script_installed():
    script = shutil.which("ember", path=os.path.dirname(sys.executable)) or shutil.which("ember")
    if script is None:
        pytest.skip("the ember console script is not on PATH (package not installed)")
    result = subprocess.run([script, "info"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "backends:" in result.stdout


def _run_module(*args):
    env = dict(os.environ, PYTHONHASHSEED="0")
    return subprocess.run([sys.executable, "-m", "ember", *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.parametrize("args", [["--help"], ["info", "--help"], ["train", "--help"], ["bench", "--help"], ["info"]])
def test_python_m_ember_is_the_cli(args):
    via_module, via_cli = _run_module(*args), _run(*args)
    assert via_module.returncode == via_cli.returncode == 0, via_module.stderr
    assert via_module.stdout == via_cli.stdout


def test_python_m_ember_runs_train_errors_like_the_cli(tmp_path):
    result = _run_module("train", "--epochs", "0")
    assert result.returncode == 2 and "argument --epochs: must be positive, got 0" in result.stderr


def test_version():
    for result in (_run("--version"), _run_module("--version")):
        assert result.returncode == 0 and result.stdout.strip() == f"ember {ember.__version__}"


@pytest.mark.parametrize("command", ["info", "train", "bench"])
def test_every_subcommand_help_has_description_and_examples(command):
    result = _run(command, "--help")
    assert result.returncode == 0, result.stderr
    usage, description = result.stdout.split("\n\n")[:2]
    assert usage.startswith(f"usage: ember {command}") and len(description.split()) >= 10, result.stdout
    examples = result.stdout.split("examples:\n", 1)[1].splitlines()
    assert examples and all(line.strip().startswith(("ember ", "python -m ember ")) for line in examples)


class _Spec:
    def __init__(self, name, device_type, error):
        self.name, self.device_type, self.error, self.instance = name, device_type, error, None


def test_info_install_hint_for_every_unavailable_first_party_backend(monkeypatch):
    import io

    import ember.backends
    from ember.__main__ import INSTALL_HINTS, info

    specs = [
        _Spec("cupy", "cuda", "ModuleNotFoundError: No module named 'cupy'"),
        _Spec("opencl", "opencl", "ModuleNotFoundError: No module named 'pyopencl'"),
    ]
    monkeypatch.setattr(ember.backends, "list_backends", lambda: [(spec, []) for spec in specs])
    out = io.StringIO()
    info(out)
    assert 'to install: pip install "ember[cupy]"' in out.getvalue()
    assert 'to install: pip install "ember[opencl]"' in out.getvalue()
    # every first-party backend that can be unavailable has a hint
    assert set(INSTALL_HINTS) == {"cupy", "opencl"}


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
        (["train", "--model", "transformer"], "--model transformer and --dataset text go together"),
        (["train", "--dataset", "text", "--text", "x.txt"], "--model transformer and --dataset text go together"),
        (["train", "--model", "transformer", "--dataset", "text"], "--dataset text needs --text FILE"),
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
    # the CLI's own flag, not the Python argument (download=True)
    assert len(result.stderr.strip().splitlines()) == 1 and "pass --download" in result.stderr
    assert "download=True" not in result.stderr


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


def test_train_transformer_language_model_one_step(tmp_path):
    """--model transformer on --dataset text: one optimizer step (every window in one batch), a
    test loss and perplexity, and a checkpoint with the Transformer's parameter names."""
    (tmp_path / "corpus.txt").write_text("the quick brown fox jumps over the lazy dog. " * 6, encoding="utf-8")
    tiny = ["--seq-len", "8", "--d-model", "8", "--layers", "1", "--epochs", "1", "--batch-size", "64"]
    args = ["train", "--model", "transformer", "--dataset", "text", "--text", "corpus.txt", *tiny]
    result = _run(*args, "--no-progress", "--out", "lm", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "training transformer" in result.stdout and "test windows of 8" in result.stdout
    assert "test loss:" in result.stdout and "perplexity" in result.stdout
    assert "epoch 1/1" in result.stderr
    state = ember.load(tmp_path / "lm" / "checkpoint.safetensors")["model"]
    assert "transformer.layers.0.self_attn.in_proj_weight" in state
    assert state["decoder.weight"].shape == (len(set("the quick brown fox jumps over the lazy dog. ")), 8)
