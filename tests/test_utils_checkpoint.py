"""ember.utils.checkpoint against the un-checkpointed model and against torch.utils.checkpoint:
the same outputs and gradients, dropout replaying its mask, torch's errors and warnings."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import nn
from ember.utils.checkpoint import checkpoint, checkpoint_sequential

torch = pytest.importorskip("torch")
import torch.utils.checkpoint as tcheckpoint  # noqa: E402


@pytest.fixture(autouse=True)
def _seeded():
    """The modules' random initial weights (torch's and ember's) are the same in every run."""
    torch.manual_seed(0)
    ember.manual_seed(0)


_rng = np.random.default_rng(3)
_X = _rng.standard_normal((5, 4)).astype(np.float32)


def _pair(device, dropout=0.0):
    layers_t = [
        torch.nn.Linear(4, 6),
        torch.nn.Tanh(),
        torch.nn.Dropout(dropout),
        torch.nn.Linear(6, 3),
        torch.nn.Sigmoid(),
    ]
    layers_e = [nn.Linear(4, 6), nn.Tanh(), nn.Dropout(dropout), nn.Linear(6, 3), nn.Sigmoid()]
    model_t, model_e = torch.nn.Sequential(*layers_t), nn.Sequential(*layers_e).to(device)
    for pe, pt in zip(model_e.parameters(), model_t.parameters()):
        pe.data.copy_(ember.tensor(pt.detach().numpy(), device=device))
    return model_e, model_t


def _grads(model, x):
    return [p.grad.cpu().numpy() if hasattr(p.grad, "cpu") else p.grad for p in [*model.parameters(), x]]


def _assert_close(a, b):
    for u, v in zip(a, b):
        np.testing.assert_allclose(np.asarray(u), np.asarray(v), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("reentrant", [True, False])
def test_gradients_match_torch_and_unchecked(device, reentrant):
    model_e, model_t = _pair(device)
    xe = ember.tensor(_X, device=device, requires_grad=True)
    xt = torch.tensor(_X, requires_grad=True)
    ye = checkpoint(model_e, xe, use_reentrant=reentrant)
    yt = tcheckpoint.checkpoint(model_t, xt, use_reentrant=reentrant)
    np.testing.assert_allclose(ye.detach().cpu().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    (ye * ye).sum().backward()
    (yt * yt).sum().backward()
    checked = _grads(model_e, xe)
    _assert_close(checked, [p.grad.numpy() for p in [*model_t.parameters(), xt]])
    model_e.zero_grad()
    xe.grad = None
    plain = model_e(xe)
    (plain * plain).sum().backward()
    _assert_close(checked, _grads(model_e, xe))


@pytest.mark.parametrize("reentrant", [True, False])
def test_dropout_replays_its_mask(device, reentrant):
    model_e, _ = _pair(device, dropout=0.5)
    x = ember.tensor(_X, device=device, requires_grad=True)
    ember.manual_seed(5)
    plain = model_e(x)
    plain.sum().backward()
    expected, after = _grads(model_e, x), ember.rand(3, device=device).cpu().numpy()
    model_e.zero_grad()
    x.grad = None
    ember.manual_seed(5)
    out = checkpoint(model_e, x, use_reentrant=reentrant)
    np.testing.assert_array_equal(out.detach().cpu().numpy(), plain.detach().cpu().numpy())
    out.sum().backward()
    _assert_close(_grads(model_e, x), expected)
    # the recomputation replayed the generators and put them back: the stream continues as without it
    np.testing.assert_array_equal(ember.rand(3, device=device).cpu().numpy(), after)


def test_without_preserved_rng_state_the_mask_is_redrawn():
    model_e, _ = _pair("cpu", dropout=0.5)
    x = ember.tensor(np.repeat(_X, 20, axis=0), requires_grad=True)
    ember.manual_seed(5)
    model_e(x).sum().backward()
    expected = _grads(model_e, x)
    model_e.zero_grad()
    x.grad = None
    ember.manual_seed(5)
    checkpoint(model_e, x, use_reentrant=True, preserve_rng_state=False).sum().backward()
    assert not all(np.allclose(a, b) for a, b in zip(_grads(model_e, x), expected))


def test_non_reentrant_autograd_grad_kwargs_and_closure():
    w = nn.Parameter(ember.tensor(_rng.standard_normal((4, 4)).astype(np.float32)))
    wt = torch.nn.Parameter(torch.tensor(w.detach().numpy()))
    base, base_t = w * 2, wt * 2  # a non-leaf made before the segment, read from the closure

    def fn(lib_base):
        def inner(x, *, scale):
            return ((x @ lib_base).sin() * scale).sum(1)

        return inner

    x = ember.tensor(_X, requires_grad=True)
    xt = torch.tensor(_X, requires_grad=True)
    ye = checkpoint(fn(base), x, use_reentrant=False, scale=3.0)
    yt = tcheckpoint.checkpoint(fn(base_t), xt, use_reentrant=False, scale=3.0)
    ge = ember.autograd.grad(ye.sum(), [x, w], create_graph=False)
    gt = torch.autograd.grad(yt.sum(), [xt, wt])
    _assert_close([g.numpy() for g in ge], [g.numpy() for g in gt])


def test_non_reentrant_double_backward_reaches_the_arguments(device):
    # a gradient penalty (WGAN-GP, R1) through a checkpointed critic: the input gradient is taken with
    # create_graph, and the penalty's backward reaches the input and the weights as without checkpointing
    model_e, model_t = _pair(device)
    x = ember.tensor(_X, device=device, requires_grad=True)
    xt = torch.tensor(_X, requires_grad=True)
    results = []
    for lib, model, inputs, run in (
        (ember, model_e, x, lambda f, a: checkpoint(f, a, use_reentrant=False)),
        (torch, model_t, xt, lambda f, a: tcheckpoint.checkpoint(f, a, use_reentrant=False)),
        (ember, model_e, ember.tensor(_X, device=device, requires_grad=True), lambda f, a: f(a)),
    ):
        model.zero_grad()
        (grad,) = lib.autograd.grad(run(model, inputs * 1.5).sum(), inputs, create_graph=True)
        (grad.pow(2).sum(1) - 1).pow(2).mean().backward()
        results.append([grad.detach().cpu().numpy(), *_grads(model, inputs)])
    _assert_close(results[0], results[1])
    _assert_close(results[0], results[2])


def test_tuple_outputs_and_non_tensor_arguments():
    lin = nn.Linear(4, 2)
    lin_t = torch.nn.Linear(4, 2)
    lin.weight.data.copy_(ember.tensor(lin_t.weight.detach().numpy()))
    lin.bias.data.copy_(ember.tensor(lin_t.bias.detach().numpy()))

    def fn(layer, power):
        return lambda x, k: (layer(x) ** power, x * k)

    for reentrant in (True, False):
        x, xt = ember.tensor(_X, requires_grad=True), torch.tensor(_X, requires_grad=True)
        a, b = checkpoint(fn(lin, 2), x, 3, use_reentrant=reentrant)
        at, bt = tcheckpoint.checkpoint(fn(lin_t, 2), xt, 3, use_reentrant=reentrant)
        (a.sum() + b.sum()).backward()
        (at.sum() + bt.sum()).backward()
        _assert_close([x.grad.numpy(), lin.weight.grad.numpy()], [xt.grad.numpy(), lin_t.weight.grad.numpy()])
        lin.zero_grad()
        lin_t.zero_grad()


@pytest.mark.parametrize("reentrant", [True, False])
def test_non_tensor_output(device, reentrant):
    # a checkpointed function returning a number beside its tensor: ember's backward failed with
    # TypeError (it made a zero gradient for the number's output), PyTorch passes None for it
    x = ember.tensor(_X, device=device, requires_grad=True)
    xt = torch.tensor(_X, requires_grad=True)
    a, k = checkpoint(lambda v, scale=1.0: ((v * scale).tanh(), 3), x, use_reentrant=reentrant)
    at, kt = tcheckpoint.checkpoint(lambda v, scale=1.0: ((v * scale).tanh(), 3), xt, use_reentrant=reentrant)
    a.sum().backward()
    at.sum().backward()
    assert k == kt
    _assert_close([x.grad.cpu().numpy()], [xt.grad.numpy()])


@pytest.mark.parametrize("reentrant", [True, False])
@pytest.mark.parametrize("segments", [1, 2, 3])
def test_checkpoint_sequential_matches_torch(device, reentrant, segments):
    model_e, model_t = _pair(device)
    xe = ember.tensor(_X, device=device, requires_grad=True)
    xt = torch.tensor(_X, requires_grad=True)
    ye = checkpoint_sequential(model_e, segments, xe, use_reentrant=reentrant)
    yt = tcheckpoint.checkpoint_sequential(model_t, segments, xt, use_reentrant=reentrant)
    np.testing.assert_allclose(ye.detach().cpu().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    ye.sum().backward()
    yt.sum().backward()
    _assert_close(_grads(model_e, xe), [p.grad.numpy() for p in [*model_t.parameters(), xt]])


def test_under_no_grad_returns_the_plain_result():
    lin = nn.Linear(4, 2)
    x = ember.tensor(_X)
    with ember.no_grad():
        for reentrant in (True, False):
            if reentrant:  # torch's reentrant variant warns that no input requires grad, even here
                with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
                    y = checkpoint(lin, x, use_reentrant=reentrant)
            else:
                y = checkpoint(lin, x, use_reentrant=reentrant)
            assert not y.requires_grad
            np.testing.assert_allclose(y.numpy(), lin(x).numpy())


def test_errors_and_warnings_match_torch():
    f = lambda x, **k: x * 2  # noqa: E731
    xe, xt = ember.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    for lib, mod, x in ((ember, ember.utils.checkpoint, xe), (torch, tcheckpoint, xt)):
        with pytest.raises(ValueError, match="Unexpected keyword arguments: a,b"):
            mod.checkpoint(f, x, use_reentrant=True, a=1, b=2)
        with pytest.raises(
            ValueError, match="Passing `context_fn` or `debug` is only supported when use_reentrant=False."
        ):
            mod.checkpoint(f, x, use_reentrant=True, debug=True)
        with pytest.warns(UserWarning, match="the use_reentrant parameter should be passed explicitly"):
            mod.checkpoint(f, x)
        with pytest.raises(ValueError, match="Unexpected keyword arguments: x"):
            mod.checkpoint_sequential([f], 1, x, use_reentrant=False, x=1)
        with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
            mod.checkpoint(f, lib.ones(2), use_reentrant=True)
