"""Sphinx extension of ember's docs: writes the generated pages before Sphinx reads sources.

- ``_generated/api_<module>.rst``: one API page per public module, listing every public
  name (``__all__``, else every public non-module attribute) with autodoc.
- ``_generated/info.inc``: the output of ``ember info`` on the machine that builds the docs.
- ``_generated/conformance.inc``: the catalogue conformance table, generated from test
  results: the ember.testing catalogue suite runs per first-party device present on this
  machine (``pytest --pyargs ember.testing.test_catalogue --ember-report=...``); devices
  whose backend is missing appear as "not run here".

Set ``EMBER_DOCS_DEVICES`` (comma-separated) to choose the devices tried, and
``EMBER_DOCS_REPORTS`` to a folder of reports written earlier by the kit
(``--ember-report=FOLDER/conformance-<device with _ for :>.json``) to use those instead of
running the suite again: ``.ci/suite opencl`` writes the OpenCL one there for the docs suite.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pathlib
import subprocess
import sys
import types

API_MODULES = (
    "ember",
    "ember.nn",
    "ember.nn.functional",
    "ember.nn.init",
    "ember.nn.utils",
    "ember.nn.utils.rnn",
    "ember.fft",
    "ember.quasirandom",
    "ember.hub",
    "ember.library",
    "ember.autograd",
    "ember.autograd.profiler",
    "ember.profiler",
    "ember.autograd.forward_ad",
    "ember.optim",
    "ember.optim.lr_scheduler",
    "ember.utils.data",
    "ember.utils.tensorboard",
    "ember.utils.tensorboard.summary",
    "ember.distributed",
    "ember.distributed.checkpoint",
    "ember.distributed.checkpoint.state_dict",
    "ember.distributed.checkpoint.format_utils",
    "ember.distributed.checkpoint.stateful",
    "ember.backend",
    "ember.kernels",
    "ember.plugin",
    "ember.plugin.hookspec",
    "ember.testing",
)
FIRST_PARTY_DEVICES = ("cpu", "restricted", "opencl:0", "cuda:0")


def public_names(module):
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in dir(module) if not n.startswith("_") and n != "annotations"]
    return [n for n in names if not isinstance(getattr(module, n, None), types.ModuleType)]


def _directive(module_name, name, obj, seen):
    target = f"{module_name}.{name}"
    # an object exported by several modules is described once; later pages only list it
    options = "   :no-index:\n" if seen.setdefault(id(obj), target) != target else ""
    if inspect.isclass(obj):
        return f".. autoclass:: {target}\n{options}"
    if callable(obj):
        return f".. autofunction:: {target}\n{options}"
    return f".. autodata:: {target}\n   :no-value:\n{options}"


def write_api_pages(out):
    written, seen = [], {}
    for module_name in API_MODULES:
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # noqa: BLE001 - a module still landing is left out
            print(f"ember_docs: skipping {module_name}: {exc}", file=sys.stderr)
            continue
        names = public_names(module)
        title = f"``{module_name}``"
        lines = [title, "=" * len(title), "", f".. automodule:: {module_name}", "   :no-members:", ""]
        if names:
            lines += [".. autosummary::", ""] + [f"   {n}" for n in names] + [""]
        for name in names:
            lines += [_directive(module_name, name, getattr(module, name), seen)]
        path = out / f"api_{module_name.replace('.', '_')}.rst"
        path.write_text("\n".join(lines))
        written.append(path.stem)
    index = ["API reference", "=============", "", ".. toctree::", "   :maxdepth: 1", ""]
    index += [f"   {stem}" for stem in written]
    (out / "api.rst").write_text("\n".join(index) + "\n")


def _available(device):
    import ember

    try:
        ember.backends.get_backend(device)
        return None
    except Exception as exc:  # noqa: BLE001
        return str(exc)


def run_conformance(out):
    devices = [d for d in os.environ.get("EMBER_DOCS_DEVICES", ",".join(FIRST_PARTY_DEVICES)).split(",") if d]
    runs, reports = {}, {}
    earlier = os.environ.get("EMBER_DOCS_REPORTS")
    for device in devices:
        name = f"conformance-{device.replace(':', '_')}.json"
        if earlier and (pathlib.Path(earlier) / name).is_file():
            reports[device] = json.loads((pathlib.Path(earlier) / name).read_text())
            continue
        reason = _available(device)
        if reason:
            reports[device] = {"not_run": reason}
            continue
        path = out / name
        command = [
            sys.executable,
            "-m",
            "pytest",
            "--pyargs",
            "ember.testing.test_catalogue",
            "-q",
            "-p",
            "no:cacheprovider",
        ]
        command += [f"--ember-device={device}", f"--ember-report={path}"]
        runs[device] = (subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=out), path)
    for device, (process, path) in runs.items():
        output = process.communicate()[0].decode(errors="replace")
        if path.exists():
            reports[device] = json.loads(path.read_text())
        else:
            last = (output.strip().splitlines() or ["no output"])[-1]
            reports[device] = {"not_run": f"the suite did not run: {last}"}
    write_conformance_page(out, reports)


def _cell(results, name):
    forward = results.get(f"test_forward[{name}]")
    grad = results.get(f"test_gradcheck[{name}]")
    if forward is None:
        return "not run"
    if forward != "passed":
        return f"**{forward.upper()}** (forward)"
    if grad is None:
        return "pass"
    if grad == "skipped":
        return "pass (no float64)"
    return "pass" if grad == "passed" else f"**{grad.upper()}** (gradcheck)"


def write_conformance_page(out, reports):
    from ember.testing.catalogue import ENTRIES

    devices = list(reports)
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: auto",
        "",
        "   * - entry",
    ]
    lines += [f"     - ``{d}``" for d in devices]
    for entry in ENTRIES:
        lines.append(f"   * - ``{entry.name}``")
        for device in devices:
            report = reports[device]
            lines.append(
                "     - not run here" if "not_run" in report else f"     - {_cell(report['results'], entry.name)}"
            )
    summary = ["", "Devices:", ""]
    for device in devices:
        report = reports[device]
        if "not_run" in report:
            summary.append(f"- ``{device}``: not run here ({report['not_run'].strip()})")
            continue
        results = [v for k, v in report["results"].items() if k.startswith(("test_forward[", "test_gradcheck["))]
        counts = ", ".join(f"{results.count(o)} {o}" for o in ("passed", "failed", "skipped") if results.count(o))
        overridden = ", ".join(f"``{k}``" for k in report["overridden"]) or "none"
        summary.append(f"- ``{device}`` (backend ``{report['backend']}``): {counts}; kernel overrides: {overridden}")
    (out / "conformance.inc").write_text("\n".join(summary + [""] + lines) + "\n")


def write_info(out):
    import io

    from ember.__main__ import info

    text = io.StringIO()
    info(text)
    lines = [".. code-block:: text", "", "   $ ember info"]
    lines += [f"   {line}" for line in text.getvalue().splitlines()]
    (out / "info.inc").write_text("\n".join(lines) + "\n")


def generate(app):
    out = pathlib.Path(app.srcdir) / "_generated"
    out.mkdir(exist_ok=True)
    write_api_pages(out)
    write_info(out)
    run_conformance(out)


def setup(app):
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "version": "1"}
