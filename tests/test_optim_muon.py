"""``ember.optim.Muon`` against ``torch.optim.Muon``: the Newton-Schulz orthogonalization, the
parameters after several steps (Nesterov or not, both learning-rate adjustments, weight decay),
the state and the errors."""

import numpy as np
import pytest

import ember
from ember.optim.muon import _orthogonalize

torch = pytest.importorskip("torch")
from torch.optim._muon import _zeropower_via_newtonschulz  # noqa: E402 - after the skip


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (32, 16), (8, 8)])
def test_orthogonalization_as_torch(shape):
    g = np.random.default_rng(0).standard_normal(shape)
    args = ((3.4445, -4.775, 2.0315), 5, 1e-7)
    theirs = _zeropower_via_newtonschulz(torch.tensor(g, dtype=torch.float32), *args)
    ours = _orthogonalize(ember.tensor(g, dtype=ember.float32), *args)
    assert str(ours.dtype) == "ember.bfloat16" and str(theirs.dtype) == "torch.bfloat16"
    np.testing.assert_array_equal(ours.float().numpy(), theirs.float().numpy())


def _run(T, nesterov, adjust_lr_fn, weight_decay, steps=4):
    rng = np.random.default_rng(0)
    w = T.nn.Parameter(T.tensor(rng.standard_normal((6, 4)), dtype=T.float32))
    v = T.nn.Parameter(T.tensor(rng.standard_normal((3, 5)), dtype=T.float32))
    opt = T.optim.Muon(
        [w, v], lr=0.02, nesterov=nesterov, adjust_lr_fn=adjust_lr_fn, weight_decay=weight_decay, momentum=0.9
    )
    for _ in range(steps):
        x = T.tensor(rng.standard_normal((2, 6)), dtype=T.float32)
        loss = ((x @ w) ** 2).sum() + (v**3).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    state = opt.state_dict()
    buffers = [s["momentum_buffer"].numpy().copy() for s in state["state"].values()]
    return w.detach().numpy().copy(), v.detach().numpy().copy(), buffers, state["param_groups"]


@pytest.mark.parametrize("nesterov", [True, False])
@pytest.mark.parametrize("adjust_lr_fn", [None, "original", "match_rms_adamw"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_steps_as_torch(nesterov, adjust_lr_fn, weight_decay):
    theirs = _run(torch, nesterov, adjust_lr_fn, weight_decay)
    ours = _run(ember, nesterov, adjust_lr_fn, weight_decay)
    # bfloat16 iterations: a last-bit difference in a float32 sum can move an element a unit of
    # bfloat16 (~1e-7 here); the float32 parameters take the bfloat16 update scaled in float32, as torch's
    # (it was scaled in bfloat16: differences of 5e-5)
    for a, b in zip(ours[:2], theirs[:2]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(ours[2], theirs[2]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert ours[3] == theirs[3]


ERRORS = [
    (lambda T: T.optim.Muon([T.nn.Parameter(T.zeros(3))]), ValueError, "2D parameters"),
    (lambda T: T.optim.Muon([T.nn.Parameter(T.zeros(2, 2))], lr=-1.0), ValueError, "Learning rate"),
    (lambda T: T.optim.Muon([T.nn.Parameter(T.zeros(2, 2))], momentum=-1.0), ValueError, "momentum"),
    (lambda T: T.optim.Muon([T.nn.Parameter(T.zeros(2, 2))], weight_decay=-1.0), ValueError, "weight decay"),
    (lambda T: T.optim.Muon([T.nn.Parameter(T.zeros(2, 2))], adjust_lr_fn="x"), ValueError, "not supported"),
    (lambda T: _complex_step(T, "Muon"), RuntimeError, "Muon does not support complex parameters"),
    (lambda T: _complex_step(T, "SparseAdam"), ValueError, "SparseAdam does not support complex parameters"),
]


def _complex_step(T, name):
    """A step on a complex 2-D parameter (a ValueError on ember's Muon: the real view is 3-D)."""
    p = T.nn.Parameter(T.ones(3, 2, dtype=T.complex64))
    opt = getattr(T.optim, name)([p])
    p.grad = T.ones(3, 2, dtype=T.complex64)
    opt.step()


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_errors_as_torch(case):
    call, error, match = ERRORS[case]
    with pytest.raises(error, match=match):
        call(torch)
    with pytest.raises(error, match=match):
        call(ember)


def test_many_steps_on_a_device(device):
    try:  # Muon orthogonalizes in bfloat16: a device without it refuses, naming the dtype
        ember.zeros(1, device=device, dtype=ember.bfloat16)
    except TypeError as exc:
        assert "bfloat16" in str(exc)
        pytest.skip(str(exc))
    w = ember.nn.Parameter(ember.eye(4, device=device) * 2)
    opt = ember.optim.Muon([w], lr=0.1, weight_decay=0.0)
    for _ in range(3):
        opt.zero_grad()
        (w * ember.arange(4.0, device=device)).sum().backward()
        opt.step()
    assert w.device == ember.device(device) and bool(ember.isfinite(w).all())
