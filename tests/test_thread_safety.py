"""The first use of ember from many threads at once: backend discovery and every lazily filled
registry (backends, default generators, devices, checkpoint formats, communicators) must give
each thread the same answer, never "no backend available".

Each case runs in a fresh interpreter, since the race is only at a process's first use.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

_SCRIPT = textwrap.dedent(
    """
    import io, sys, threading
    import ember

    device = sys.argv[1]
    threads = 32
    barrier = threading.Barrier(threads)
    errors, backends, generators = [], set(), set()

    def first_use():
        barrier.wait()
        try:
            a = ember.ones(3, device=device) + ember.zeros(3, device=device)
            b = ember.randn(2, 2, device=device) @ ember.randn(2, 2, device=device)
            assert a.tolist() == [1.0, 1.0, 1.0] and b.shape == (2, 2)
            backend = ember.backends.get_backend(device)
            backends.add(id(backend))
            generators.add(id(backend.generator(ember.device(device).index)))
            assert ember.device(device) is ember.device(device)
            buffer = io.BytesIO()
            ember.save({"a": a}, buffer)
            buffer.seek(0)
            assert ember.load(buffer)["a"].tolist() == [1.0, 1.0, 1.0]
            assert "mpi" in ember.plugin.communicator_registry().names()
        except Exception as exc:  # every failure is reported, not only the first
            errors.append(f"{type(exc).__name__}: {exc}")

    workers = [threading.Thread(target=first_use) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors[:3]
    assert len(backends) == 1 and len(generators) == 1, (backends, generators)
    """
)


def run_first_use(device):
    """Run the many-threads first-use script on ``device`` in a fresh interpreter; returns the process."""
    env = {k: v for k, v in os.environ.items() if k != "EMBER_DISABLE_PLUGIN_AUTOLOAD"}
    return subprocess.run([sys.executable, "-c", _SCRIPT, device], capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize("repeat", range(3))
def test_many_threads_create_the_first_tensors(device, repeat):
    done = run_first_use(device)
    assert done.returncode == 0, done.stderr[-2000:]
