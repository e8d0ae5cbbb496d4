"""Runs every docstring example of ember (each ``>>>`` line under ``core/``) as a doctest.

Part of ``tox -e docs``. Each docstring runs with ``ember.manual_seed(0)`` and these names
defined, the ones ember's examples take for granted (as PyTorch's do):
``ember``, ``nn``, ``F``, ``optim``, ``OrderedDict``, and a small ``model``
(``nn.Linear(4, 2)``) with ``input``/``target`` batches, a ``loss_fn`` and an ``optimizer``.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
from collections import OrderedDict

import pytest

import ember

_SKIP = ("ember.backends", "ember.contrib", "ember.plugins")
# process groups and multi-device replication cannot run inside one test process
_SEVERAL_PROCESSES = ("ember.distributed", "ember.nn.parallel", "ember.utils.data.distributed")


def _modules():
    names = ["ember"]
    for info in pkgutil.walk_packages(ember.__path__, "ember."):
        if not info.name.startswith(_SKIP) and ".test_" not in info.name:
            names.append(info.name)
    return names


def _globals():
    import ember.nn as nn
    import ember.nn.functional as F
    import ember.optim as optim

    ember.manual_seed(0)
    model = nn.Linear(4, 2)
    return {
        "ember": ember,
        "nn": nn,
        "F": F,
        "optim": optim,
        "OrderedDict": OrderedDict,
        "model": model,
        "input": ember.randn(3, 4),
        "target": ember.randn(3, 2),
        "loss_fn": nn.MSELoss(),
        "optimizer": optim.SGD(model.parameters(), lr=0.1),
        # an example runs as a user's script does: what it defines belongs to __main__, not to
        # the ember module whose docstring holds it (a user's autograd.Function is checked)
        "__name__": "__main__",
    }


def _made_by_factories(name):
    """``(label, function)`` for the functions of module ``name`` reachable as ``ember.*`` or ``Tensor``
    attributes (properties included) -- those a factory made, which the module's namespace does not hold."""
    seen = set()
    for owner, prefix in ((ember, "ember"), (ember.Tensor, "ember.Tensor")):
        for attr, value in sorted(vars(owner).items()):
            value = value.fget if isinstance(value, property) else value
            if inspect.isfunction(value) and value.__module__ == name and id(value) not in seen:
                seen.add(id(value))
                yield f"{name}.{prefix}.{attr}", value


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name, tmp_path, monkeypatch):
    if name.startswith(_SEVERAL_PROCESSES):
        pytest.skip(f"{name}: its examples need several processes or devices")
    monkeypatch.chdir(tmp_path)  # examples that save checkpoints write here
    try:
        module = importlib.import_module(name)
    except ImportError as exc:  # an optional dependency (a GPU library) is missing
        pytest.skip(f"{name}: {exc}")
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    report = []
    runner = doctest.DocTestRunner(verbose=False, optionflags=flags)
    finder = doctest.DocTestFinder()
    tests = [t for t in finder.find(module, name) if t.examples and t.name.startswith(name)]
    found = {t.docstring for t in tests}
    for label, function in _made_by_factories(name):  # installed on ember or Tensor, not module attributes
        tests += [t for t in finder.find(function, label, module=False) if t.examples and t.docstring not in found]
        found.update(t.docstring for t in tests)
    for test in tests:
        test.globs.update(_globals())
        runner.run(test, out=report.append)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, "".join(report)
