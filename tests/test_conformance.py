"""The conformance kit (ember.testing) itself: run on the restricted backend, as a backend
author would run it on theirs, so the regular suite exercises the kit."""

from __future__ import annotations

import json
import subprocess
import sys


def test_conformance_kit_passes_on_restricted(tmp_path):
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "pytest", "--pyargs", "ember.testing", "-q", "-p", "no:cacheprovider"]
    command += ["--ember-device=restricted:0", f"--ember-report={report}"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    data = json.loads(report.read_text())
    assert data["device"] == "restricted:0" and data["backend"] == "restricted"
    assert data["overridden"] == []  # the restricted backend runs the portable kernels only
    outcomes = data["results"]
    assert outcomes and set(outcomes.values()) == {"passed"}
    assert any(k.startswith("test_primitive[") for k in outcomes)
    assert any(k.startswith("test_forward[nn.Conv2d]") for k in outcomes)
    assert any(k.startswith("test_gradcheck[nn.LSTM]") for k in outcomes)


def test_unavailable_device_stops_the_kit(tmp_path):
    command = [sys.executable, "-m", "pytest", "--pyargs", "ember.testing", "-q", "-p", "no:cacheprovider"]
    command += ["--ember-device=nosuchdevice:0", "-k", "primitive"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert result.returncode != 0
    assert "nosuchdevice" in result.stdout + result.stderr
