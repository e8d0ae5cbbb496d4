"""Gradients with non-finite upstream values, against PyTorch.

PyTorch's backward formulas select (``where``, ``masked_fill``, a zeros tensor) where a naive one multiplies
by a 0/1 mask: with an inf or NaN upstream gradient the product gives NaN (``inf * 0``) at elements PyTorch
gives 0, and a single clamped element poisons a whole training step. The differential test pushes, through
every op of test_opinfo.py's list, PyTorch's own sample inputs in float64 (float32 where the device has no
double) with an upstream gradient holding NaN at every third element and inf at every fifth; ember's input
gradients must equal torch's, NaN where torch has NaN. The direct tests pin the classic cases.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")
T = pytest.importorskip("test_opinfo")

SAMPLES = 3
#: op -> how many samples it takes where the first SAMPLES miss the case that tells: a zero in cumprod's input, a
#: padded or 'max' bag, an inactive hinge with an inf upstream
SAMPLES_FOR = {"cumprod": 8, "nn.functional.embedding_bag": 8, "nn.functional.multi_margin_loss": 6}

#: op -> why ember's gradient still differs from torch's for non-finite upstream values. Each is checked
#: anyway and reported as an expected failure while it differs (an xpass is reported too).
KNOWN = {
    # the grid gradient: PyTorch's kernel forms ((ne - nw) s + (se - sw) n) gOut per corner pair, ember adds
    # each corner's product, so an inf upstream can give inf - inf = NaN where PyTorch has +-inf (the input
    # gradient matches)
    "nn.functional.grid_sample": "the grid gradient groups the corner terms differently from PyTorch's kernel",
    # newly in tests/test_opinfo.py's list this stop: PyTorch's backward passes NaN/inf upstream values through
    # other products (the standardization's and the least-squares solution's) than ember's
    "corrcoef": "the gradient of the standardization spreads non-finite upstream values differently",
    "linalg.lstsq/grad_oriented": "the gradient of the solution spreads non-finite upstream values differently",
}


def _nonfinite_upstream(shape):
    u = np.ones(shape)
    u.reshape(-1)[::3] = np.nan
    if u.size > 1:
        u.reshape(-1)[1::5] = np.inf
    return u


def _leaves(sample):
    flat = T._flatten([sample.input, *sample.args]) + T._flatten(list(sample.kwargs.values()))
    return [t for t in flat if isinstance(t, torch.Tensor) and t.requires_grad]


def _mismatches(name, device, tdtype):
    """The samples of ``name`` whose ember input gradients differ from torch's (NaN pattern or values)."""
    op, fn = T._find(name), T._resolve(name)
    try:
        samples = T._samples(op, name, tdtype, requires_grad=True, count=SAMPLES_FOR.get(name, SAMPLES))
    except Exception:  # noqa: BLE001 - no differentiable samples in this dtype
        return []
    bad = []
    for sample in samples:
        try:
            expected = T._flatten(op.op(sample.input, *sample.args, **sample.kwargs))
        except Exception:  # noqa: BLE001 - torch refuses the sample: nothing to compare
            continue
        picked = [
            i
            for i, t in enumerate(expected)
            if isinstance(t, torch.Tensor) and t.requires_grad and t.dtype.is_floating_point and t.numel()
        ]
        if not picked or not _leaves(sample):
            continue
        ups = [_nonfinite_upstream(tuple(expected[i].shape)) for i in picked]
        try:
            t_grads = torch.autograd.grad(
                [expected[i] for i in picked],
                _leaves(sample),
                [torch.tensor(u, dtype=expected[i].dtype) for u, i in zip(ups, picked)],
                allow_unused=True,
            )
        except RuntimeError:
            continue
        leaves = {}
        e_input = T._to_ember(sample.input, device, leaves)
        e_args = T._to_ember(sample.args, device, leaves)
        e_kwargs = T._to_ember(sample.kwargs, device, leaves)
        actual = T._flatten(fn(e_input, *e_args, **e_kwargs))
        outs = [actual[i] for i in picked]
        e_grads = ember.autograd.grad(
            outs,
            [leaves[id(t)] for t in _leaves(sample)],
            [ember.tensor(u, dtype=o.dtype, device=o.device) for u, o in zip(ups, outs)],
            allow_unused=True,
        )
        for ge, gt in zip(e_grads, t_grads):
            if gt is None or ge is None or gt._is_zerotensor():
                continue
            a, e = ge.detach().cpu().numpy().astype(np.float64), gt.detach().to(torch.float64).numpy()
            rtol, atol = (1e-7, 1e-9) if tdtype == torch.float64 else (2e-4, 2e-5)
            if a.shape != e.shape or not np.allclose(a, e, rtol=rtol, atol=atol, equal_nan=True):
                bad.append(f"{sample.input.shape}: ember NaN {int(np.isnan(a).sum())}, torch {int(np.isnan(e).sum())}")
                break
    return bad


@pytest.mark.parametrize("name", T.OPS, ids=[n.replace("/", "-") for n in T.OPS])
def test_nonfinite_upstream_gradients_match_torch(device, name):
    T._skip_known(name, device)
    tdtype = torch.float64 if ember.backends.get_backend(device).supports_float64 else torch.float32
    op = T._find(name)
    if not op.supports_autograd or tdtype not in op.supported_dtypes("cpu"):
        pytest.skip(f"torch has no differentiable {tdtype} {name}")
    bad = _mismatches(name, device, tdtype)
    if bad and name in KNOWN:
        pytest.xfail(KNOWN[name])
    assert not bad, bad


def _grads(module, build, values, upstream, device="cpu", second=False):
    """The gradient of ``build(module, x)`` for ``upstream`` (with ``second``, the gradient of that one's sum)."""
    where = {"device": device} if module is ember else {}
    x = module.tensor(values, dtype=module.float64, **where).requires_grad_(True)
    up = module.tensor(upstream, dtype=module.float64, **where)
    (g,) = module.autograd.grad(build(module, x), x, up, create_graph=second)
    if second:
        (g,) = module.autograd.grad(g.sum(), x)
    return g.detach().cpu().numpy()


CLASSIC = {
    # sqrt's slope at 0 is inf: the clamp must select 0 there, not multiply inf by 0
    "clamp_min_then_sqrt": (lambda m, x: x.clamp(min=0).sqrt(), [-1.0, 0.0, 4.0], [1.0, 1.0, 1.0]),
    # log's slope at 0 is inf and its value NaN below: torch's where gives NaN at 0 and 0 below
    "where_log": (lambda m, x: m.where(x > 0, x.log(), 0.0), [-1.0, 0.0, 4.0], [1.0, 1.0, 1.0]),
    # an inf upstream at the unchosen side of where stays there
    "where_inf_upstream": (lambda m, x: m.where(x > 0, x * 2, x * 3), [-1.0, 2.0], [np.inf, 1.0]),
    "relu_then_log": (lambda m, x: x.relu().log(), [-1.0, 0.0, 4.0], [1.0, 1.0, 1.0]),
    # the max over all elements: only the chosen element sees a NaN upstream
    "max_reduction": (lambda m, x: x.max(), [1.0, 5.0, 3.0], np.nan),
    "min_reduction_ties": (lambda m, x: x.min(), [1.0, 5.0, 1.0], np.inf),
    "maximum_inf_upstream": (lambda m, x: m.maximum(x, m.zeros_like(x)), [-1.0, 2.0], [np.inf, np.inf]),
    "floor_nan_upstream": (lambda m, x: x.floor(), [-1.5, 2.5], [np.nan, np.inf]),
    "std_inf_upstream": (lambda m, x: x.std(dim=1), [[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]], [np.inf, 1.0]),
    # past a zero the products are 0: a NaN upstream there reaches neither the elements before it nor after
    # the second zero; an inf at the first zero's run stays in it
    "cumprod_zeros": (lambda m, x: x.cumprod(0), [2.0, 0.0, 3.0, 0.0, 4.0], [1.0, 1.0, np.inf, np.nan, np.nan]),
    # the padded entry and the entries past the last offset get no gradient, not NaN * 0
    "embedding_bag_padding": (
        lambda m, x: m.nn.functional.embedding_bag(
            m.tensor([0, 2, 1, 3], device=x.device), x, m.tensor([0, 2], device=x.device), mode="sum", padding_idx=2
        ),
        [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]],
        [[np.nan, 1.0], [np.inf, 1.0]],
    ),
    # only each bag's first maximum takes the gradient
    "embedding_bag_max": (
        lambda m, x: m.nn.functional.embedding_bag(m.tensor([[0, 1, 2]], device=x.device), x, mode="max"),
        [[1.0, 5.0], [4.0, 5.0], [4.0, 2.0]],
        [[np.nan, np.inf]],
    ),
    # PyTorch multiplies each input's coefficient by the upstream gradient: inf * 0 is NaN off the active hinges
    "multi_margin_inactive_hinge": (
        lambda m, x: m.nn.functional.multi_margin_loss(x, m.tensor([1, 0], device=x.device), reduction="sum"),
        [[0.1, 0.9, 0.3, -2.0], [1.0, 0.2, 0.5, 0.4]],
        np.inf,
    ),
}


@pytest.mark.parametrize("case", CLASSIC)
def test_classic_nonfinite_cases_match_torch(device, case):
    build, values, upstream = CLASSIC[case]
    expected = _grads(torch, build, values, upstream)
    actual = _grads(ember, build, values, upstream, device)
    np.testing.assert_array_equal(actual, expected)
    if case in ("clamp_min_then_sqrt", "relu_then_log"):
        assert not np.isnan(expected).any()  # the point of the case: no NaN in PyTorch


@pytest.mark.parametrize("case", ["clamp_min_then_sqrt", "where_log", "relu_then_log", "std_inf_upstream"])
def test_classic_cases_with_create_graph(device, case):
    """The differentiable backward (create_graph=True) selects as well, and differentiates as torch's does."""
    build, values, upstream = CLASSIC[case]
    x = ember.tensor(values, dtype=ember.float64, device=device, requires_grad=True)
    up = ember.tensor(upstream, dtype=ember.float64, device=device)
    (g,) = ember.autograd.grad(build(ember, x), x, up, create_graph=True)
    np.testing.assert_array_equal(g.detach().cpu().numpy(), _grads(torch, build, values, upstream))
    expected = _grads(torch, build, values, upstream, second=True)
    actual = _grads(ember, build, values, upstream, device, second=True)
    np.testing.assert_array_equal(actual, expected)
