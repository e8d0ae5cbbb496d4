"""PyTorch's old-style module tests (``torch.testing._internal.common_nn``) run on ember.

``module_tests``, ``get_new_module_tests()`` and ``criterion_tests`` are dicts: a module by name and
``constructor_args``, or a ``constructor`` (a lambda over ``nn``/``F``, or ``wrap_functional(fn,
**kwargs)``), an input (``input_size``/``input_fn``) and, for criteria, a target. PyTorch's own
``NewModuleTest``/``CriterionTest`` make the inputs, targets and constructor arguments (under the
entry's ``default_dtype``, from a fixed seed); the constructor is rebound to ember's ``nn``, ``F`` and
``ember`` (the tensors it closes over converted), the torch module's ``state_dict`` is loaded into the
ember module, and forward values, input gradients and parameter gradients (for one random upstream
gradient) are compared in float64 and float32.
"""

from __future__ import annotations

import copy
import functools
import types

import numpy as np
import pytest
from complex_support import holds_complex
from reference import assert_close, torch
from test_module_specs import _convert, _outputs, _pair

import ember
from ember import nn

common_nn = pytest.importorskip("torch.testing._internal.common_nn", reason="needs expecttest")


def _entries():
    out = []
    for kind, entries in (
        ("module", common_nn.module_tests),
        ("module", common_nn.get_new_module_tests()),
        ("criterion", common_nn.criterion_tests),
    ):
        for entry in entries:
            entry = dict(entry)
            if "constructor" not in entry:
                entry["constructor"] = getattr(torch.nn, entry.pop("module_name"))
            cls = common_nn.CriterionTest if kind == "criterion" else common_nn.NewModuleTest
            name = cls(**entry).get_name()[len("test_") :]
            out.append((name, kind, entry))
    return out


ENTRIES = {name: (kind, entry) for name, kind, entry in _entries()}

#: Entries whose module is random in training mode, compared in eval mode.
EVAL_ONLY = ("RReLU",)


@functools.cache
def _made(name):
    """The entry's constructor arguments, input and target, made once from a fixed seed."""
    kind, entry = ENTRIES[name]
    test = (common_nn.CriterionTest if kind == "criterion" else common_nn.NewModuleTest)(**entry)
    with torch.random.fork_rng(), common_nn.set_default_dtype(test.default_dtype):
        torch.manual_seed(0)
        args = test.constructor_args
        inp = test._get_input()
        target = test._get_target() if kind == "criterion" else None
        extra = test.extra_args if kind == "criterion" else ()
        torch.manual_seed(1)
        t_mod = test.constructor(*args)
    return test, args, inp, target, extra, t_mod


def _ember_function(fn, device):
    """``fn`` (a torch function, or a lambda of common_nn's over ``nn``/``F``/``torch``) in ember's terms."""
    if getattr(fn, "__module__", "") == common_nn.__name__:
        glob = dict(fn.__globals__, nn=ember.nn, F=ember.nn.functional, torch=ember)
        cells = tuple(types.CellType(_ember_value(c.cell_contents, device)) for c in fn.__closure__ or ())
        out = types.FunctionType(fn.__code__, glob, fn.__name__, fn.__defaults__, cells or None)
        out.__kwdefaults__ = fn.__kwdefaults__
        return out
    return getattr(ember.nn.functional, fn.__name__)


def _ember_value(value, device):
    if isinstance(value, types.FunctionType):
        return _ember_function(value, device)
    return _convert(value, device)


def _ember_module(test, args, device):
    constructor = test.constructor
    if isinstance(constructor, type) and constructor.__name__ == "FunctionalModule":  # wrap_functional(fn, **kw)
        cells = dict(zip(constructor.forward.__code__.co_freevars, constructor.forward.__closure__))
        fn = _ember_function(cells["fn"].cell_contents, device)
        kwargs = _ember_value(cells["kwargs"].cell_contents, device)

        class FunctionalModule(nn.Module):
            def forward(self, *inputs):
                return fn(*inputs, **kwargs)

        return FunctionalModule()
    if isinstance(constructor, type):
        return getattr(nn, constructor.__name__)(*_convert(args))
    return _ember_function(constructor, device)(*_convert(args))


def _dense(t):
    return t.to_dense() if t.is_sparse else t


def _assert_close(e, t, dtype, what):
    """reference.assert_close, complex tensors compared by their real and imaginary parts."""
    if t.is_complex():
        assert e.is_complex(), f"{what}: ember's {e.dtype} is not complex"
        assert_close(e.real, t.real, dtype, what=f"{what} (real part)")
        assert_close(e.imag, t.imag, dtype, what=f"{what} (imaginary part)")
    else:
        assert_close(e, t, dtype, what=what)


def _run_entry(device, dtype, name):
    test, args, inp, target, extra, t_mod0 = _made(name)
    torch_dtype = getattr(torch, dtype.name)
    t_mod = copy.deepcopy(t_mod0).to(torch_dtype)  # the cached module keeps its own state
    e_mod = _ember_module(test, args, device).to(device=device, dtype=dtype)
    if name.startswith(EVAL_ONLY):
        t_mod.eval()
        e_mod.eval()
    e_mod.load_state_dict({k: _convert(v, device, dtype) for k, v in t_mod.state_dict().items()})
    leaves = []
    t_in, e_in = _pair(inp if isinstance(inp, (tuple, list)) else (inp,), device, dtype, leaves)
    t_args, e_args = list(t_in), list(e_in)
    if target is not None:
        t_target, e_target = _pair(target, device, dtype, [])
        t_args.append(t_target)
        e_args.append(e_target)
    t_extra, e_extra = _pair(tuple(extra), device, dtype, [])
    t_out = _outputs(t_mod(*t_args, *t_extra))
    e_out = _outputs(e_mod(*e_args, *e_extra))
    assert len(e_out) == len(t_out)
    rng = np.random.default_rng(0)
    t_total, e_total = 0, 0
    for e, t in zip(e_out, t_out):
        same = t.dtype in (torch_dtype, torch_dtype.to_complex())
        _assert_close(e, t, dtype if same else None, what=f"{name} output")
        if t.requires_grad:
            parts = [(t.real, e.real), (t.imag, e.imag)] if t.is_complex() else [(t, e)]
            for t_part, e_part in parts:
                upstream = rng.standard_normal(tuple(t.shape))
                t_total = t_total + (t_part * torch.tensor(upstream, dtype=t_part.dtype)).sum()
                e_total = e_total + (e_part * ember.tensor(upstream, dtype=e_part.dtype, device=device)).sum()
    if isinstance(t_total, torch.Tensor):
        t_total.backward()
        e_total.backward()
        for t, e in leaves:
            if t.grad is None:
                assert e.grad is None or not np.any(e.grad.cpu().numpy()), f"{name}: torch has no input grad"
                continue
            _assert_close(e.grad, t.grad, dtype, what=f"{name} input grad")
        e_params = dict(e_mod.named_parameters())
        for pname, t_param in t_mod.named_parameters():
            if t_param.grad is None:
                assert e_params[pname].grad is None, f"{name} {pname}: torch has no grad"
                continue
            assert_close(_dense(e_params[pname].grad), _dense(t_param.grad), dtype, what=f"{name} {pname} grad")


@pytest.mark.parametrize("name", list(ENTRIES))
def test_common_nn(device, dtype, name):
    if name.endswith("_complex") and not holds_complex(device):
        pytest.skip(f"{device} has no complex dtypes")
    _run_entry(device, dtype, name)
