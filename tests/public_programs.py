"""Helpers for the public-program tests: one program, written once against a library module
(``ember`` or ``torch``), run on both from the same weights, and the runs compared.

Usage::

    from public_programs import assert_same_models, assert_same_run, copy_weights, torch

    reference = build(torch)()           # torch initialises the weights
    ours = build(ember)()
    copy_weights(reference, ours)        # ... and ember starts from the same ones
"""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def copy_weights(source, target) -> None:
    """Load the state (parameters and persistent buffers) of the torch module ``source`` into
    ``target``, an ember module or a torch one."""
    lib = torch if isinstance(target, torch.nn.Module) else ember
    state = {name: lib.tensor(value.detach().numpy().copy()) for name, value in source.state_dict().items()}
    target.load_state_dict(state)


def _dtype_name(dtype) -> str:
    return str(dtype).rpartition(".")[2]


def assert_same_run(ours, theirs, rtol: float = 2e-4, atol: float = 2e-5) -> None:
    """Compare two runs recorded as lists of tensors, numbers, dtypes or None: same dtypes and
    shapes, values within ``rtol``/``atol`` (integers and booleans exactly)."""
    assert len(ours) == len(theirs), f"{len(ours)} records, torch has {len(theirs)}"
    for i, (a, b) in enumerate(zip(ours, theirs)):
        what = f"record {i}"
        if b is None or isinstance(b, (torch.dtype, bool, int, str)):
            assert (_dtype_name(a) if isinstance(b, torch.dtype) else a) == (
                _dtype_name(b) if isinstance(b, torch.dtype) else b
            ), what
            continue
        if not isinstance(b, torch.Tensor):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)
            continue
        assert isinstance(a, ember.Tensor), f"{what}: {type(a).__name__}, torch gives a tensor"
        assert _dtype_name(a.dtype) == _dtype_name(b.dtype), f"{what}: {a.dtype}, torch gives {b.dtype}"
        assert tuple(a.shape) == tuple(b.shape), f"{what}: shape {tuple(a.shape)}, torch gives {tuple(b.shape)}"
        expected = b.detach().float().numpy() if b.dtype is torch.bfloat16 else b.detach().numpy()
        actual = a.detach().float().numpy() if a.dtype is ember.bfloat16 else a.detach().numpy()
        if expected.dtype.kind in "biu":
            np.testing.assert_array_equal(actual, expected, err_msg=what)
        else:
            np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


def assert_same_models(ours, theirs, rtol: float = 2e-4, atol: float = 2e-5) -> None:
    """The two modules hold the same state: names (in order), dtypes, shapes and values."""
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    assert_same_run(list(ours_state.values()), list(theirs_state.values()), rtol, atol)


def trained_on_both(build, run, *args, rtol=2e-4, atol=2e-5, model_rtol=2e-4, model_atol=2e-5):
    """torch initialises the weights (``build(torch)(*args)``); both libraries run the program from
    them (``run(lib, reference)`` gives the trained model and its record); the records and the
    trained models agree."""
    torch.manual_seed(0)
    reference = build(torch)(*args)
    theirs, their_record = run(torch, reference)
    ours, our_record = run(ember, reference)
    assert_same_run(our_record, their_record, rtol, atol)
    assert_same_models(ours, theirs, model_rtol, model_atol)
    return reference


def both(program, *args, rtol=2e-4, atol=2e-5):
    """``program(lib, *args)`` on ember and on torch give the same record."""
    theirs = program(torch, *args)
    ours = program(ember, *args)
    assert_same_run(ours, theirs, rtol, atol)
    return ours, theirs


def both_in_float64(program, *args, rtol=1e-9, atol=1e-12):
    """``both`` with float64 as the default dtype of both libraries: for programs whose float32
    rounding differences grow chaotically (batch norms over a handful of rows, Adam on tiny
    gradients), float64 shows the same computation."""
    previous = torch.get_default_dtype(), ember.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    ember.set_default_dtype(ember.float64)
    try:
        return both(program, *args, rtol=rtol, atol=atol)
    finally:
        torch.set_default_dtype(previous[0])
        ember.set_default_dtype(previous[1])


def params(module):
    return [p.detach().clone() for p in module.parameters()]
