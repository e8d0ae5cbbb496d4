"""Autocast regions against PyTorch 2.13 on cpu, off the main road of test_amp_regions: the weight-cast
cache (one cast of a weight per region, shared by its uses, kept until the outermost region exits,
stale after an in-place change of the weight as PyTorch's, made under ``no_grad`` too, off with
``cache_enabled=False``), the dtype a nested region inherits, ``get_autocast_dtype`` inside disabled regions,
``set_autocast_dtype`` restored on exit, the cache flag inside a region, and the deprecated
``cuda.amp.custom_fwd``/``custom_bwd`` spellings.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from reference import torch

import ember
from ember.amp.state import state

pytest.importorskip("ml_dtypes")


def _both(amp_device):
    """(module, device keyword arguments, autocast device type) for torch and ember."""
    device, device_type = amp_device
    return ((torch, {}, "cpu"), (ember, {"device": device}, device_type))


def test_a_weight_used_twice_gets_torchs_gradient_bit_for_bit(amp_device):
    """Two uses of one weight share its cast, so the gradient is summed in bfloat16 before the cast
    back, as PyTorch's: ember cast it per use and summed in float32, 0.125 off here."""
    rng = np.random.default_rng(0)
    w_np, x_np = rng.standard_normal((8, 8)).astype(np.float32), rng.standard_normal((5, 8)).astype(np.float32)
    grads = []
    for m, kw, device_type in _both(amp_device):
        w = m.nn.Parameter(m.tensor(w_np, **kw))
        x = m.tensor(x_np, **kw)
        with m.autocast(device_type):
            y = m.nn.functional.linear(m.nn.functional.linear(x, w).tanh(), w)
            loss = y.float().pow(2).sum()
        loss.backward()
        grads.append(w.grad.cpu().numpy())
    np.testing.assert_array_equal(grads[1], grads[0])


def _cast_sharing(m, kw, device_type, **region):
    w = m.ones(3, 3, requires_grad=True, **kw)
    with m.autocast(device_type, **region):
        a, b = m.mm(w, w), m.mm(w, w)
        return a.grad_fn.next_functions[0][0] is b.grad_fn.next_functions[0][0]


@pytest.mark.parametrize("cache_enabled", [None, True, False])
def test_the_cast_node_is_shared_as_torchs(amp_device, cache_enabled):
    got, want = (_cast_sharing(m, kw, dt, cache_enabled=cache_enabled) for m, kw, dt in reversed(_both(amp_device)))
    assert got == want == (cache_enabled is not False)


def _stale(m, kw, device_type, cache_enabled=None, no_grad_first=False):
    """The sums of ``x @ w`` before and after ``w *= 3`` inside one region."""
    w = m.nn.Parameter(m.ones(2, 2, **kw))
    x = m.ones(2, 2, **kw)
    with m.autocast(device_type, cache_enabled=cache_enabled):
        if no_grad_first:
            with m.no_grad():
                m.mm(x, w)  # a cast made under no_grad is cached too (with its grad_fn)
        first = m.mm(x, w).float().sum().item()
        with m.no_grad():
            w.mul_(3)
        second = m.mm(x, w).float().sum().item()
        requires_grad = m.mm(x, w).requires_grad
    with m.autocast(device_type):  # the cache was emptied when the region exited
        third = m.mm(x, w).float().sum().item()
    return first, second, third, requires_grad


@pytest.mark.parametrize(
    "settings",
    [{}, {"cache_enabled": False}, {"no_grad_first": True}],
    ids=["cached", "cache_enabled=False", "no_grad first"],
)
def test_a_weight_changed_in_place_inside_a_region_as_torch(amp_device, settings):
    """PyTorch's cache keeps the first cast of the weight for the rest of the region (the second
    product still sees the old weight); ember cast again, 24.0 where PyTorch gives 8.0."""
    want, got = (_stale(m, kw, dt, **settings) for m, kw, dt in _both(amp_device))
    assert got == want


def test_the_cache_lives_until_the_outermost_region_exits(amp_device):
    results = []
    for m, kw, device_type in _both(amp_device):
        w = m.nn.Parameter(m.ones(2, 2, **kw))
        x = m.ones(2, 2, **kw)
        seen = []
        with m.autocast(device_type):
            with m.autocast(device_type):
                seen.append(m.mm(x, w).float().sum().item())
            with m.no_grad():
                w.mul_(2)
            seen.append(m.mm(x, w).float().sum().item())  # the inner region's exit kept the cast
            m.clear_autocast_cache()
            seen.append(m.mm(x, w).float().sum().item())
        results.append(seen)
    assert results[0] == results[1] == [8.0, 8.0, 16.0]
    assert not state.cache and state.nesting == 0


def _dtypes_seen(m, device_type):
    seen = []
    with m.autocast(device_type, dtype=m.float16):
        with m.autocast(device_type):  # no dtype: the enclosing region's
            seen.append((m.get_autocast_dtype(device_type), m.mm(m.ones(2, 2), m.ones(2, 2)).dtype))
        with m.autocast(device_type, enabled=False):
            seen.append((m.get_autocast_dtype(device_type), m.is_autocast_enabled(device_type)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            unsupported = m.autocast(device_type, dtype=m.float64)
        with unsupported:
            seen.append((m.get_autocast_dtype(device_type), m.is_autocast_enabled(device_type)))
        m.set_autocast_dtype(device_type, m.bfloat16)
        seen.append(m.get_autocast_dtype(device_type))
        with m.autocast(device_type, cache_enabled=False):
            seen.append((m.is_autocast_cache_enabled(), m.get_autocast_dtype(device_type)))
        seen.append(m.is_autocast_cache_enabled())
    seen.append(m.get_autocast_dtype(device_type))  # set_autocast_dtype inside the region undone on exit
    return [tuple(str(v).split(".")[-1] for v in s) if isinstance(s, tuple) else str(s).split(".")[-1] for s in seen]


def test_region_dtypes_and_flags_as_torch():
    """A region without a dtype took cpu's default (bfloat16) inside a float16 region, PyTorch the
    enclosing float16; get_autocast_dtype in a disabled region gave the default, PyTorch the region's;
    set_autocast_dtype inside a region outlived it; cache_enabled=False left the flag on."""
    assert _dtypes_seen(ember, "cpu") == _dtypes_seen(torch, "cpu")


def test_decorator_keeps_cache_enabled():
    @ember.autocast("cpu", cache_enabled=False)
    def run():
        return ember.is_autocast_cache_enabled()

    @torch.autocast("cpu", cache_enabled=False)
    def run_torch():
        return torch.is_autocast_cache_enabled()

    assert run() is run_torch() is False
    assert ember.is_autocast_cache_enabled() is True


@pytest.mark.parametrize("name", ["custom_fwd", "custom_bwd"])
def test_cuda_amp_custom_function_decorators_are_deprecated_spellings(name):
    for m in (torch, ember):
        with pytest.warns(FutureWarning, match=f"cuda.amp.{name}\\(args...\\)` is deprecated"):
            decorated = getattr(m.cuda.amp, name)(lambda ctx, x: x)
        assert decorated.__name__ == "<lambda>"
    with pytest.warns(FutureWarning):
        partial = ember.cuda.amp.custom_fwd(cast_inputs=ember.float32)
    assert callable(partial)


def test_checkpoint_recomputation_casts_the_weights_of_its_step(amp_device):
    """The recomputation in backward enters the forward's region, whose cached casts are dropped when
    it ends: the next step's recomputation casts the updated weights (its casts outlived it at first)."""
    results = []
    for m, kw, device_type in _both(amp_device):
        w = m.nn.Parameter(m.full((3, 3), 0.5, **kw))
        x = m.ones(2, 3, **kw)
        grads = []
        for _ in range(3):
            with m.autocast(device_type):
                y = m.utils.checkpoint.checkpoint(lambda a, m=m, w=w: m.mm(a, w).tanh(), x, use_reentrant=False)
                loss = y.float().sum()
            loss.backward()
            grads.append((loss.item(), w.grad.cpu().tolist()))
            with m.no_grad():
                w.mul_(2)
                w.grad = None
        results.append(grads)
    assert results[1] == results[0]


def test_autocast_is_per_thread_as_torchs():
    """A thread started inside a region runs without it, as PyTorch's thread-local autocast (ember's
    state was global: the thread computed in bfloat16); parallel_apply hands its replica threads the
    caller's settings, as PyTorch's does."""
    import threading

    for m in (torch, ember):
        seen = []

        def work(m=m, seen=seen):
            seen.append(str(m.mm(m.ones(2, 2), m.ones(2, 2)).dtype).split(".")[-1])

        with m.autocast("cpu"):
            thread = threading.Thread(target=work)
            thread.start()
            thread.join()
            work()
        assert seen == ["float32", "bfloat16"], m.__name__
    lin = ember.nn.Linear(3, 2)
    x = ember.ones(4, 3)
    with ember.autocast("cpu"):
        outputs = ember.nn.parallel.parallel_apply([lin, lin], [(x,), (x,)])
    assert [o.dtype for o in outputs] == [ember.bfloat16, ember.bfloat16]
    assert not ember.is_autocast_enabled("cpu")
