"""Optimizer kernels (``sgd_step``, ``adam_step``): the device's table and the portable defaults
against a straightforward NumPy reference for every option, in place; the optimizers built
on them against torch.optim on a Linear model; version counters."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import ember
from ember import nn, optim
from ember.kernels import Kernels

torch = pytest.importorskip("torch")

SGD_OPTIONS = [
    {"momentum": m, "dampening": d, "nesterov": n, "weight_decay": wd, "maximize": mx}
    for m, d, n, wd, mx in itertools.product((0.0, 0.9), (0.0, 0.3), (False, True), (0.0, 0.01), (False, True))
    if not n or (m and d == 0)
]
ADAM_OPTIONS = [
    {"amsgrad": a, "weight_decay": wd, "decoupled_weight_decay": dc, "maximize": mx}
    for a, wd, dc, mx in itertools.product((False, True), (0.0, 0.1), (False, True), (False, True))
]


def _tol(dtype):
    return {"rtol": 1e-5, "atol": 1e-6} if dtype is ember.float32 else {"rtol": 1e-12, "atol": 1e-13}


def _arrays(shape, count, dtype, positive=()):
    rng = np.random.default_rng(len(shape) + count)
    out = [rng.standard_normal(shape).astype(dtype.name) for _ in range(count)]
    for i in positive:
        out[i] = np.abs(out[i])
    return out


def _tables(device):
    """The device's kernel table and the portable defaults on the same backend."""
    backend = ember.tensor(0.0, device=device)._backend
    return {"device": backend.kernels, "portable": Kernels(backend)}


def _on(device, arrays):
    return [None if a is None else ember.tensor(a, device=device) for a in arrays]


def _host(t):
    """A host copy (``numpy()`` shares the storage on cpu)."""
    return np.array(t.cpu().numpy())


# -- references: torch.optim's formulas, in float64 --------------------------------------------
def _sgd_reference(p, g, buf, lr, momentum, dampening, nesterov, weight_decay, maximize):
    p, g = p.astype(np.float64), g.astype(np.float64)
    g = -g if maximize else g
    if weight_decay:
        g = g + weight_decay * p
    if momentum:
        buf = g.copy() if buf is None else momentum * buf.astype(np.float64) + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    return p - lr * g, buf


def _adam_reference(p, g, m, v, vmax, step, lr, beta1, beta2, eps, weight_decay, maximize, decoupled_weight_decay):
    p, g, m, v = (a.astype(np.float64) for a in (p, g, m, v))
    g = -g if maximize else g
    if weight_decay:
        if decoupled_weight_decay:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    second = v
    if vmax is not None:
        vmax = second = np.maximum(vmax, v)
    denom = np.sqrt(second) / np.sqrt(1 - beta2**step) + eps
    return p - lr / (1 - beta1**step) * m / denom, m, v, vmax


# -- kernels -----------------------------------------------------------------------------------
def _check_sgd(device, dtype, shape, transpose=False):
    arrays = _arrays(shape, 3, dtype)
    for options, first, (name, table) in itertools.product(SGD_OPTIONS, (True, False), _tables(device).items()):
        keep = not first and options["momentum"]
        p, g, b = _on(device, [arrays[0], arrays[1], arrays[2] if keep else None])
        if transpose:  # strided operands: transposed views of row-major storage
            p, g, b = p.t(), g.t(), b if b is None else b.t()
        p0, g0, start = _host(p), _host(g), None if b is None else _host(b)
        returned = table.sgd_step(p._data, g._data, None if b is None else b._data, 0.1, **options)
        expected_p, expected_b = _sgd_reference(p0, g0, start, 0.1, **options)
        where = f"{name} table, {options}, first={first}"
        np.testing.assert_allclose(_host(p), expected_p, **_tol(dtype), err_msg=where)
        np.testing.assert_array_equal(_host(g), g0, err_msg=where + ": grad written")
        if not options["momentum"]:
            assert returned is None, where
            continue
        if b is not None:
            assert returned is b._data, where + ": the buffer is updated in place"
        np.testing.assert_allclose(_host(p._make(returned)), expected_b, **_tol(dtype), err_msg=where)


def test_sgd_step_matches_reference(device, dtype):
    _check_sgd(device, dtype, (3, 4))


def test_sgd_step_scalar_and_strided(device, dtype):
    _check_sgd(device, dtype, ())
    _check_sgd(device, dtype, (3, 4), transpose=True)


def test_sgd_step_large_on_threads(device, dtype):
    # more elements than a block of the NumPy step (65536), split over two threads: the blocks
    # and the threads' chunks cover every element once, the last block a partial one
    threads = ember.get_num_threads()
    ember.set_num_threads(2)
    try:
        _check_sgd(device, dtype, (3, 40001))
    finally:
        ember.set_num_threads(threads)


def _check_adam(device, dtype, shape):
    p0, g0, m0, v0, vmax0 = _arrays(shape, 5, dtype, positive=(3, 4))
    for options, step, (name, table) in itertools.product(ADAM_OPTIONS, (1, 3), _tables(device).items()):
        amsgrad = options["amsgrad"]
        kwargs = {k: v for k, v in options.items() if k != "amsgrad"}
        p, g, m, v, vmax = _on(device, [p0, g0, m0, v0, vmax0 if amsgrad else None])
        returned = table.adam_step(
            p._data,
            g._data,
            m._data,
            v._data,
            None if vmax is None else vmax._data,
            step,
            0.01,
            0.9,
            0.99,
            1e-6,
            **kwargs,
        )
        expected = _adam_reference(p0, g0, m0, v0, vmax0 if amsgrad else None, step, 0.01, 0.9, 0.99, 1e-6, **kwargs)
        where = f"{name} table, {options}, step={step}"
        assert returned is None, where
        for got, want in zip((p, m, v, vmax), expected):
            if want is not None:
                np.testing.assert_allclose(_host(got), want, **_tol(dtype), err_msg=where)
        np.testing.assert_array_equal(_host(g), g0, err_msg=where + ": grad written")


def test_adam_step_matches_reference(device, dtype):
    _check_adam(device, dtype, (3, 4))


def test_adam_step_scalar(device, dtype):
    _check_adam(device, dtype, ())


def test_first_momentum_buffer_does_not_alias_the_gradient(device):
    p, g = _on(device, _arrays((5,), 2, ember.float32))
    before = _host(g)
    for table in _tables(device).values():
        buf = table.sgd_step(p._data, g._data, None, 0.1, 0.9, 0.0, False, 0.0, False)
        g._data[...] = g._data * 2
        np.testing.assert_array_equal(_host(p._make(buf)), before)
        g._data[...] = g._data / 2


def test_numpy_table_overrides_the_optimizer_kernels():
    table = type(ember.tensor(0.0)._backend.kernels)
    assert {"sgd_step", "adam_step"} <= set(table.overridden())


# -- optimizers --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
        ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "maximize": True}),
        ("Adam", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
        ("AdamW", {"lr": 0.01, "amsgrad": True}),
    ],
)
def test_linear_model_matches_torch(name, kwargs, device):
    """Linear's weight gradient comes through weight.t(): row-major like PyTorch's."""
    t_model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    e_model = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 2)).double().to(device)
    e_model.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t_model.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((6, 5))
    t_opt = getattr(torch.optim, name)(t_model.parameters(), **kwargs)
    e_opt = getattr(optim, name)(e_model.parameters(), **kwargs)
    for _ in range(5):
        for model, opt, lib in ((t_model, t_opt, torch), (e_model, e_opt, ember)):
            opt.zero_grad()
            (model(lib.tensor(x, device=device) if lib is ember else lib.tensor(x)) ** 2).sum().backward()
            opt.step()
    for (k, te), ee in zip(t_model.state_dict().items(), e_model.state_dict().values()):
        np.testing.assert_allclose(_host(ee), te.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)
    weight = e_model[0].weight
    if device == "cpu":
        assert weight.grad.is_contiguous()


def test_step_bumps_versions_and_invalidates_saved_parameters(device):
    w = nn.Parameter(ember.tensor([1.0, 2.0], device=device))
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    (w * w).sum().backward()
    version = w._version
    opt.step()
    assert w._version == version + 1
    buf = opt.state[w]["momentum_buffer"]
    buf_version = buf._version
    loss = (w * w).sum()
    opt.step()
    assert buf._version == buf_version + 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
