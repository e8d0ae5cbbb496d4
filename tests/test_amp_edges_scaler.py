"""GradScaler and its two ops against PyTorch 2.13 (``torch.amp.GradScaler("cpu")``), off the main road:
scales that are not powers of two (PyTorch keeps the scale in float32 and unscales by its float32
reciprocal), a growth that would overflow float32, the order of the non-finite check and the
unscaling, ``update(new_scale)`` with floats and tensors, ``scale`` of nested lists/tuples/iterables,
the errors of a scaler used out of order, checkpoints that round-trip between the two, sparse
gradients, and the ops ``_amp_foreach_non_finite_check_and_unscale_`` / ``_amp_update_scale_``.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from reference import torch

import ember


def _type(device):
    return ember.backends.get_backend(device).device_type


def _train(m, device, device_type, dtype, *, init_scale, growth_factor, backoff_factor, growth_interval, bad_steps):
    """Scales and unscaled gradients along SGD steps on a fixed quadratic (``bad_steps`` make the loss
    inf), and the final parameters."""
    kw = {"device": device} if m is ember else {}
    p = m.nn.Parameter(m.tensor([0.3, -1.7, 2.9], dtype=getattr(m, dtype), **kw))
    opt = m.optim.SGD([p], lr=0.1, momentum=0.5)
    scaler = m.amp.GradScaler(
        device_type,
        init_scale=init_scale,
        growth_factor=growth_factor,
        backoff_factor=backoff_factor,
        growth_interval=growth_interval,
    )
    coef = m.tensor([1.1, 2.3, -0.7], dtype=getattr(m, dtype), **kw)
    trace = []
    for step in range(len(bad_steps)):
        opt.zero_grad()
        loss = (p * p * coef).sum()
        if bad_steps[step]:
            loss = loss * float("inf")
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        grads = p.grad.cpu().double().tolist()
        scaler.step(opt)
        scaler.update()
        trace.append((scaler.get_scale(), scaler.state_dict(), grads))
    return trace, p.detach().cpu().double().numpy()


@pytest.mark.parametrize(
    "init_scale, growth, backoff, interval",
    [(1000.0, 3.7, 0.3, 1), (2.0**16, 2.0, 0.5, 2), (7.0, 1.1, 0.9, 1)],
)
def test_scales_and_parameters_are_torchs_bit_for_bit(device, dtype, init_scale, growth, backoff, interval):
    """ember kept the scale as a Python float: 1232.1000000000001 where PyTorch's float32 scale
    gives 1232.0999755859375, and unscaled by 1/scale in double precision."""
    name = str(dtype).split(".")[-1]
    bad = [True, False, True, False, False, False, True, False]
    settings = {"init_scale": init_scale, "growth_factor": growth, "backoff_factor": backoff}
    got = _train(ember, device, _type(device), name, **settings, growth_interval=interval, bad_steps=bad)
    want = _train(torch, None, "cpu", name, **settings, growth_interval=interval, bad_steps=bad)
    # the scales bit for bit; the unscaled gradients too on cpu, where the optimizer's steps between
    # them round as PyTorch's do (the restricted backend's float64 momentum step differs in the last bit)
    assert [(scale, state) for scale, state, _ in got[0]] == [(scale, state) for scale, state, _ in want[0]]
    rtol = 0 if device == "cpu" else 1e-12 if name == "float64" else 1e-6
    for (_, _, g), (_, _, w) in zip(got[0], want[0]):
        np.testing.assert_allclose(g, w, rtol=rtol)
    np.testing.assert_allclose(got[1], want[1], rtol=rtol)


def test_growth_that_overflows_float32_is_not_taken(device):
    p = ember.nn.Parameter(ember.ones(2, device=device))
    opt = ember.optim.SGD([p], lr=0.0)
    scaler = ember.amp.GradScaler(_type(device), init_scale=2.0**125, growth_interval=1)
    tp = torch.nn.Parameter(torch.ones(2))
    topt = torch.optim.SGD([tp], lr=0.0)
    tscaler = torch.amp.GradScaler("cpu", init_scale=2.0**125, growth_interval=1)
    for _ in range(5):
        for s, o, q in ((scaler, opt, p), (tscaler, topt, tp)):
            o.zero_grad()
            s.scale((q * 1e-30).sum()).backward()
            s.step(o)
            s.update()
        assert scaler.get_scale() == tscaler.get_scale()
    assert scaler.get_scale() == 2.0**127


def test_non_finite_check_looks_at_the_values_before_unscaling(device):
    """A finite gradient that the unscaling takes to inf (a scale below 1) does not skip the step."""
    results = []
    for m, kw, dt in ((ember, {"device": device}, _type(device)), (torch, {}, "cpu")):
        p = m.nn.Parameter(m.tensor([1.0, 2.0], **kw))
        opt = m.optim.SGD([p], lr=1e-40)
        scaler = m.amp.GradScaler(dt, init_scale=0.25)
        scaler.scale(p.sum())
        p.grad = m.tensor([1e38, 1.0], **kw)
        scaler.unscale_(opt)
        results.append((p.grad.cpu().tolist(), scaler._found_inf_per_device(opt)[p.device].item()))
        scaler.step(opt)
        scaler.update()
        results.append((scaler.get_scale(), p.detach().cpu().tolist()))
    assert results[:2] == results[2:]
    assert results[0] == ([float("inf"), 4.0], 0.0)


def _errors(m, kind):
    """The exception type and message ``kind`` of misuse gives."""
    p = m.nn.Parameter(m.ones(2))
    opt = m.optim.SGD([p], lr=0.1)
    s = m.amp.GradScaler("cpu")
    try:
        if kind == "update before scale":
            s.update()
        elif kind == "update(new_scale) before scale":
            s.update(2.0)
        elif kind == "unscale_ before scale":
            p.grad = m.ones(2)
            s.unscale_(opt)
        elif kind == "step before scale":
            p.grad = m.ones(2)
            s.step(opt)
        elif kind == "step without gradients":
            s.scale(m.ones(()))
            s.step(opt)
        elif kind == "growth factor":
            m.amp.GradScaler("cpu", growth_factor=1.0)
        elif kind == "backoff factor":
            m.amp.GradScaler("cpu", backoff_factor=1.0)
        elif kind == "scale of a float":
            s.scale([m.ones(1), 2.0])
        elif kind == "pickled mid-iteration":
            s.scale((p * 2).sum()).backward()
            s.unscale_(opt)
            pickle.dumps(s)
        else:
            s.scale((p * 2).sum()).backward()
            s.step(opt)
            s.update(kind(m))
            return "ok", s.get_scale(), s.state_dict()
    except Exception as exc:  # noqa: BLE001 - the exception is the result compared
        return type(exc).__name__, str(exc).replace("torch.", "ember.")
    return "ok", None


@pytest.mark.parametrize(
    "kind",
    [
        "update before scale",
        "update(new_scale) before scale",
        "unscale_ before scale",
        "step before scale",
        "step without gradients",
        "growth factor",
        "backoff factor",
        "scale of a float",
        "pickled mid-iteration",
    ],
)
def test_misuse_raises_as_torch(kind):
    assert _errors(ember, kind) == _errors(torch, kind)


@pytest.mark.parametrize(
    "new_scale",
    [
        pytest.param(lambda m: 0.1, id="float"),
        pytest.param(lambda m: m.tensor(0.1), id="0-d tensor"),
        pytest.param(lambda m: m.tensor([3.5]), id="1-element tensor"),
        pytest.param(lambda m: m.tensor([0.1, 0.2]), id="2 elements"),
        pytest.param(lambda m: m.tensor(0.1, requires_grad=True), id="requires grad"),
        pytest.param(lambda m: 3, id="int"),
    ],
)
def test_update_with_a_new_scale_as_torch(new_scale):
    """ember stored 0.1 as the float 0.1 (PyTorch: float32, 0.10000000149011612), took an int, and let a
    tensor of two elements or one that requires grad through."""
    assert _errors(ember, new_scale) == _errors(torch, new_scale)


def test_disabled_scaler_accepts_any_factors_and_passes_through():
    for m in (ember, torch):
        s = m.amp.GradScaler("cpu", growth_factor=0.5, backoff_factor=2.0, enabled=False)
        x = m.ones(2)
        assert s.scale(x) is x and s.get_scale() == 1.0 and s.state_dict() == {} and s._get_growth_tracker() == 0


def _scaled(m, outputs):
    s = m.amp.GradScaler("cpu", init_scale=3.0)
    got = s.scale(outputs(m))

    def describe(v):
        if isinstance(v, (m.Tensor,)):
            return (str(v.dtype).split(".")[-1], v.tolist())
        if isinstance(v, (list, tuple)):
            return (type(v).__name__, [describe(x) for x in v])
        return (type(v).__name__, [describe(x) for x in v])  # a lazy map of the iterable

    return describe(got)


@pytest.mark.parametrize(
    "outputs",
    [
        pytest.param(lambda m: [m.ones(1), (m.ones(2, dtype=m.bfloat16), [m.ones(1, dtype=m.float64)])], id="nested"),
        pytest.param(lambda m: iter([m.ones(1), m.full((2,), 2.0, dtype=m.float16)]), id="iterator"),
        pytest.param(lambda m: (m.tensor([1.0 / 3]),), id="tuple"),
        pytest.param(lambda m: m.tensor([2, 3]), id="int tensor"),
    ],
)
def test_scale_of_outputs_as_torch(outputs):
    """ember refused iterators (TypeError) and scaled Python numbers."""
    pytest.importorskip("ml_dtypes")
    assert _scaled(ember, outputs) == _scaled(torch, outputs)


def test_state_dict_round_trips_between_ember_and_torch(device):
    p = ember.nn.Parameter(ember.ones(2, device=device))
    opt = ember.optim.SGD([p], lr=0.1)
    scaler = ember.amp.GradScaler(_type(device), init_scale=1000.0, backoff_factor=0.3, growth_interval=3)
    fresh = scaler.state_dict()
    assert fresh == torch.amp.GradScaler("cpu", init_scale=1000.0, backoff_factor=0.3, growth_interval=3).state_dict()
    for bad in (True, False, False):
        opt.zero_grad()
        scaler.scale((p * 2).sum() * (float("inf") if bad else 1.0)).backward()
        scaler.step(opt)
        scaler.update()
    state = scaler.state_dict()
    assert state == {
        "scale": 300.0,
        "growth_factor": 2.0,
        "backoff_factor": 0.3,
        "growth_interval": 3,
        "_growth_tracker": 2,
    }
    tscaler = torch.amp.GradScaler("cpu")
    tscaler.load_state_dict(state)
    assert tscaler.state_dict() == state
    # back into an ember scaler that has its tensors already, and one pickled
    other = ember.amp.GradScaler(_type(device))
    other.scale(ember.ones((), device=device))
    other.load_state_dict(tscaler.state_dict())
    assert other.state_dict() == state and other._scale.dtype is ember.float32
    assert pickle.loads(pickle.dumps(scaler)).state_dict() == state


@pytest.mark.parametrize("grad_dtype", ["float32", "float64", "float16", "bfloat16"])
def test_sparse_gradients_are_unscaled_as_torch(grad_dtype):
    pytest.importorskip("ml_dtypes")

    def run(m):
        emb = m.nn.Embedding(5, 3, sparse=True)
        with m.no_grad():
            emb.weight.copy_(m.tensor(np.arange(15.0).reshape(5, 3) / 7, dtype=m.float32))
        emb = emb.to(getattr(m, grad_dtype))
        opt = m.optim.SGD(emb.parameters(), lr=0.5)
        s = m.amp.GradScaler("cpu", init_scale=3000.0)
        out = []
        for bad in (False, True, False):
            opt.zero_grad()
            s.scale(emb(m.tensor([1, 1, 3])).sum() * (float("inf") if bad else 1.0)).backward()
            try:
                s.step(opt)
            except ValueError as exc:  # float16 gradients are refused
                return str(exc)
            s.update()
            out.append((s.get_scale(), emb.weight.detach().double().tolist()))
        return out

    assert run(ember) == run(torch)


def _foreach_case(m, device, case):
    kw = {"device": device} if m is ember else {}
    found = m.zeros((), **kw)
    inv = m.tensor(0.25, **kw)
    grads = [m.tensor([1.0, float("inf"), 3.0], **kw), m.tensor([2.0], dtype=m.float64, **kw)]
    try:
        if case == "unscale":
            m._amp_foreach_non_finite_check_and_unscale_(grads, found, inv)
        elif case == "flag kept":
            found = m.full((1,), 0.5, **kw)
            m._amp_foreach_non_finite_check_and_unscale_(grads[1:], found, inv)
        elif case == "float64 inv_scale":
            m._amp_foreach_non_finite_check_and_unscale_(grads, found, inv.double())
        elif case == "float64 found_inf":
            m._amp_foreach_non_finite_check_and_unscale_(grads, found.double(), inv)
        elif case == "2-element found_inf":
            m._amp_foreach_non_finite_check_and_unscale_(grads, m.zeros(2, **kw), inv)
        elif case == "2-element inv_scale":
            m._amp_foreach_non_finite_check_and_unscale_(grads, found, m.ones(2, **kw))
        elif case == "integer tensor":
            m._amp_foreach_non_finite_check_and_unscale_([m.ones(2, dtype=m.int64, **kw)], found, inv)
        elif case == "empty list":
            m._amp_foreach_non_finite_check_and_unscale_([], found, inv)
    except Exception as exc:  # noqa: BLE001 - the exception is the result compared
        return type(exc).__name__, str(exc)
    return [g.cpu().tolist() for g in grads], found.cpu().tolist()


@pytest.mark.parametrize(
    "case",
    [
        "unscale",
        "flag kept",
        "float64 inv_scale",
        "float64 found_inf",
        "2-element found_inf",
        "2-element inv_scale",
        "integer tensor",
        "empty list",
    ],
)
def test_foreach_non_finite_check_and_unscale_as_torch(device, case):
    if not ember.backends.get_backend(device).supports_float64:
        pytest.skip(f"{device} has no float64")
    assert _foreach_case(ember, device, case) == _foreach_case(torch, None, case)


def test_foreach_unscale_of_16_bit_and_strided_gradients(device):
    pytest.importorskip("ml_dtypes")
    if device.startswith("opencl"):
        pytest.skip("opencl has no bfloat16")
    results = []
    for m, kw in ((ember, {"device": device}), (torch, {})):
        base = m.tensor([3.0, 5.0, 7.0, 9.0], **kw)
        grads = [
            m.tensor([3.0, 1000.0], dtype=m.bfloat16, **kw),
            m.tensor([3.0, 1.0], dtype=m.float16, **kw),
            base[::2],
        ]
        found = m.zeros((), **kw)
        m._amp_foreach_non_finite_check_and_unscale_(grads, found, m.tensor(1 / 3, **kw))
        results.append(([g.cpu().double().tolist() for g in grads], base.cpu().tolist(), found.item()))
    assert results[0] == results[1]


def _update_case(m, device, found_values, growth, backoff, interval):
    kw = {"device": device} if m is ember else {}
    scale = m.tensor(1000.0, **kw)
    tracker = m.tensor(0, dtype=m.int32, **kw)
    trace = []
    for f in found_values:
        out = m._amp_update_scale_(scale, tracker, m.tensor(f, **kw), growth, backoff, interval)
        trace.append((out is scale, scale.item(), tracker.item()))
    return trace


def test_update_scale_as_torch(device):
    found = [0.0, 0.0, 1.0, 0.0, float("nan"), 0.0, 0.0, 0.0, 2.0]
    got = _update_case(ember, device, found, 2.5, 0.3, 3)
    assert got == _update_case(torch, None, found, 2.5, 0.3, 3)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(
            lambda m: (m.tensor(1.0, dtype=m.float64), m.tensor(0, dtype=m.int32), m.tensor(0.0)), id="f64 scale"
        ),
        pytest.param(lambda m: (m.ones(2), m.tensor(0, dtype=m.int32), m.tensor(0.0)), id="2-element scale"),
        pytest.param(lambda m: (m.tensor(1.0), m.tensor(0), m.tensor(0.0)), id="int64 tracker"),
        pytest.param(lambda m: (m.tensor(1.0), m.tensor(0, dtype=m.int32), m.tensor(0, dtype=m.int32)), id="int found"),
    ],
)
def test_update_scale_refuses_as_torch(args):
    for m in (ember, torch):
        with pytest.raises(RuntimeError) as info:
            m._amp_update_scale_(*args(m), 2.0, 0.5, 3)
        if m is ember:
            message = str(info.value)
        else:
            assert str(info.value) == message
