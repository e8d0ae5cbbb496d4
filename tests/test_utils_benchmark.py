"""``ember.utils.benchmark`` against ``torch.utils.benchmark``: Timer, Measurement and Compare."""

from __future__ import annotations

import random

import pytest

import ember
from ember.utils import benchmark

torch = pytest.importorskip("torch")
torch_benchmark = pytest.importorskip("torch.utils.benchmark")
TorchTaskSpec = pytest.importorskip("torch.utils.benchmark.utils.common").TaskSpec

RAW_TIMES = [[1e-4], [1e-4, 2e-4], [1e-4, 2e-4, 3e-4, 9e-4], [5e-3] * 5, [2e-6, 2.1e-6, 2.05e-6, 2.02e-6, 2.2e-6]]


@pytest.mark.parametrize("raw", RAW_TIMES)
def test_measurement_statistics_and_repr_match_torch(raw):
    kwargs = {"label": "add", "sub_label": "small", "description": "cpu", "num_threads": 2}
    ours = benchmark.Measurement(10, raw, benchmark.TaskSpec("a + b", "x = 1", **kwargs))
    theirs = torch_benchmark.Measurement(10, raw, TorchTaskSpec("a + b", "x = 1", **kwargs))
    assert ours.times == pytest.approx(theirs.times)
    for name in ("mean", "median", "iqr"):
        assert getattr(ours, name) == pytest.approx(getattr(theirs, name), rel=1e-12)
    assert (ours.significant_figures, ours.has_warnings) == (theirs.significant_figures, theirs.has_warnings)
    assert (ours.title, ours.as_row_name, ours.stmt, ours.num_threads) == (
        theirs.title,
        theirs.as_row_name,
        theirs.stmt,
        theirs.num_threads,
    )
    assert repr(ours).split("\n")[1:] == repr(theirs).split("\n")[1:]


def _measurements(lib, task_spec):
    rng = random.Random(0)
    results = []
    for description in ("cpu", "gpu"):
        for threads in (1, 4):
            for sub_label in ("small", "large", None):
                if rng.random() < 0.2:
                    continue
                base = rng.choice([1e-6, 3e-5, 2e-3])
                raw = [base * (1 + rng.random() * rng.choice([0.01, 0.5])) * 100 for _ in range(rng.choice([1, 3, 7]))]
                spec = task_spec(
                    "x + y", "pass", label=rng.choice(["add", "mul"]), sub_label=sub_label,
                    description=description, num_threads=threads,
                )  # fmt: skip
                results.append(lib.Measurement(100, raw, spec))
    return results


@pytest.mark.parametrize("options", [(), ("trim",), ("colorize",), ("rowwise",), ("trim", "warnings", "colorize")])
def test_compare_prints_torch_tables(options):
    tables = []
    for lib, task_spec in ((benchmark, benchmark.TaskSpec), (torch_benchmark, TorchTaskSpec)):
        compare = lib.Compare(_measurements(lib, task_spec))
        if "trim" in options:
            compare.trim_significant_figures()
        if "colorize" in options or "rowwise" in options:
            compare.colorize(rowwise="rowwise" in options)
        if "warnings" in options:
            compare.highlight_warnings()
        tables.append(str(compare))
    assert tables[0] == tables[1]


def test_timer_runs_setup_and_statement():
    calls = []
    t = benchmark.Timer("calls.append(x)", setup="x = ember.ones(1).item()", globals={"calls": calls}, label="L")
    m = t.timeit(7)
    assert m.number_per_run == 7 and len(m.raw_times) == 1 and m.label == "L" and m.stmt == "calls.append(x)"
    assert calls == [1.0] * (2 + 7)  # the warm-up runs number // 100, at least 2


def test_blocked_autorange_fills_min_run_time_and_restores_threads():
    before = ember.get_num_threads()
    m = benchmark.Timer("sum(range(100))", num_threads=1).blocked_autorange(min_run_time=0.02)
    assert sum(m.raw_times) >= 0.02 and m.number_per_run in {10**k for k in range(10)}
    assert ember.get_num_threads() == before
    m = benchmark.Timer("sum(range(100))").adaptive_autorange(max_run_time=0.05)
    assert len(m.raw_times) >= 1


def test_clock_synchronizes_the_accelerator(monkeypatch):
    from ember.utils.benchmark import timing as timer_module

    synchronized = []
    monkeypatch.setattr(timer_module, "_ACCELERATOR", True)
    monkeypatch.setattr(timer_module.accelerator, "synchronize", lambda: synchronized.append(1))
    benchmark.Timer("pass").timeit(5)
    assert len(synchronized) == 4  # start and stop of the warm-up and of the measurement


def test_timer_errors():
    with pytest.raises(ValueError, match="only a `str` stmt"):
        benchmark.Timer(lambda: None)
    with pytest.raises(ValueError, match="global_setup is C\\+\\+ only"):
        benchmark.Timer("pass", global_setup="int x;")
    with pytest.raises(NotImplementedError, match="Python statements only"):
        benchmark.Timer("pass", language="cpp")
    with pytest.raises(ValueError, match="Expected an instance of `Measurement`"):
        benchmark.Compare([1])
