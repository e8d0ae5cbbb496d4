"""Every module of PyTorch's ``module_db`` that ember has, in training and in eval mode, float64 and float32.

``tests/test_module_specs.py`` runs a chosen few of ``module_db``'s modules; here every other one runs
its ``ModuleInput`` cases (``module_inputs_func(..., training=True)`` and ``training=False``, made from
the seeded stream of :func:`test_module_specs._cases`): the torch module is built from the case's
constructor arguments, its ``state_dict`` loaded into the ember module, both run the case's forward
inputs (nested tuples too, the RNNs' ``(h, c)``), and outputs, the gradients of the inputs that the
case marks ``requires_grad`` and of the parameters (one random upstream gradient) and the buffers
afterwards (running statistics) are compared. Lazy modules are materialised by one forward on each
side before the parameters are copied.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import assert_close, torch
from test_module_specs import MODULES as SPEC_MODULES
from test_module_specs import _cases, _convert, _outputs, _pair, _params

import ember
from ember import nn

common_modules = pytest.importorskip("torch.testing._internal.common_modules", reason="needs expecttest")

pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")

#: module_db's modules that ember has, less those test_module_specs.py runs already.
NAMES = sorted(
    {
        info.module_cls.__name__
        for info in common_modules.module_db
        if hasattr(nn, info.module_cls.__name__) and info.module_cls.__name__ not in SPEC_MODULES
    }
)

#: float32 gradient tolerances wider than reference.py's, with the reason.
FLOAT32_GRAD_ATOL = {}


def _run_case(device, dtype, name, training, index):
    info, cases = _cases(name, training)
    case = cases[index]
    torch_dtype = getattr(torch, dtype.name)
    torch.manual_seed(index)
    ctor = case.constructor_input
    t_mod = info.module_cls(*ctor.args, **ctor.kwargs).to(torch_dtype).train(training)
    e_mod = getattr(nn, name)(*_convert(ctor.args), **_convert(ctor.kwargs)).to(device=device, dtype=dtype)
    e_mod.train(training)
    leaves = []
    t_args, e_args = _pair(list(case.forward_input.args), device, dtype, leaves)
    t_kwargs, e_kwargs = _pair(case.forward_input.kwargs, device, dtype, leaves)
    if name.startswith("Lazy"):  # materialise both (no grad), then copy torch's parameters
        with torch.no_grad():
            t_mod(*t_args, **t_kwargs)
        with ember.no_grad():
            e_mod(*e_args, **e_kwargs)
    e_mod.load_state_dict({k: _convert(v, device, dtype) for k, v in t_mod.state_dict().items()})

    t_out = _outputs(t_mod(*t_args, **t_kwargs))
    e_out = _outputs(e_mod(*e_args, **e_kwargs))
    assert len(e_out) == len(t_out)
    rng = np.random.default_rng(index)
    t_total, e_total = 0, 0
    for e, t in zip(e_out, t_out):
        if t is None:
            assert e is None
            continue
        assert_close(e, t, dtype if t.is_floating_point() else None, what=f"{name} output")
        if t.requires_grad:
            upstream = rng.standard_normal(tuple(t.shape))
            t_total = t_total + (t * torch.tensor(upstream, dtype=t.dtype)).sum()
            e_total = e_total + (e * ember.tensor(upstream, dtype=e.dtype, device=device)).sum()
    if isinstance(t_total, torch.Tensor):
        t_total.backward()
        e_total.backward()
        atol = FLOAT32_GRAD_ATOL.get(name) if dtype is ember.float32 else None
        for t, e in leaves:
            if t.grad is None:
                assert e.grad is None or not np.any(e.grad.cpu().numpy()), f"{name}: torch has no input grad"
                continue
            assert_close(e.grad, t.grad, dtype, atol=atol, what=f"{name} input grad")
        e_params = dict(e_mod.named_parameters())
        for pname, t_param in t_mod.named_parameters():
            if t_param.grad is None:
                assert e_params[pname].grad is None, f"{name} {pname}: torch has no grad"
                continue
            assert_close(e_params[pname].grad, t_param.grad, dtype, atol=atol, what=f"{name} {pname} grad")
    e_buffers = dict(e_mod.named_buffers())
    for bname, t_buf in t_mod.named_buffers():
        assert_close(e_buffers[bname], t_buf, dtype if t_buf.is_floating_point() else None, what=bname)


@pytest.mark.parametrize("name,training,index", _params(NAMES))
def test_module_db_mode(device, dtype, name, training, index):
    _run_case(device, dtype, name, training, index)
