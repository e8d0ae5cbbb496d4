"""multi_head_attention_forward and fractional max pooling, differential against PyTorch.

The OpInfo sweep's differences in these ops came from randomness (MHA samples run with
``training=True, dropout_p=0.5``; fractional pooling samples draw their own window offsets):
here the randomness is taken out (no dropout, ``_random_samples`` given) and every option
is compared value for value, gradients included.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import check, randn, torch

import ember
import ember.nn.functional as F

TF = torch.nn.functional

pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")

E, H, L, S, N = 4, 2, 3, 5, 2


def _masks(kind, batch):
    """NumPy masks for a case: key_padding_mask (N, S) and attn_mask (L, S) or (N*H, L, S)."""
    rng = np.random.default_rng(7)
    out = {}
    if "kpm" in kind:
        m = rng.random((N, S) if batch else (S,)) < 0.4
        m[..., 0] = False  # every query keeps one key
        out["key_padding_mask"] = m if "bool" in kind else np.where(m, -np.inf, rng.standard_normal(m.shape))
    if "am" in kind:
        shape = (N * H, L, S) if "3d" in kind else (L, S)
        if not batch and "3d" in kind:
            shape = (H, L, S)
        m = rng.random(shape) < 0.4
        m[..., 0] = False
        out["attn_mask"] = m if "bool" in kind else np.where(m, -np.inf, rng.standard_normal(shape))
    return out


CASES = [
    {},
    {"need_weights": False},
    {"average_attn_weights": False},
    {"masks": "kpm_bool"},
    {"masks": "kpm_float"},
    {"masks": "am_bool"},
    {"masks": "am_float"},
    {"masks": "am_3d_bool"},
    {"masks": "am_3d_float"},
    {"masks": "kpm_bool am_float", "average_attn_weights": False},
    {"bias_kv": True},
    {"bias_kv": True, "masks": "kpm_bool am_bool"},
    {"add_zero_attn": True},
    {"add_zero_attn": True, "bias_kv": True, "masks": "kpm_float am_3d_bool"},
    {"separate": True},
    {"separate": True, "kdim": 3, "vdim": 6},
    {"static": True},
    {"static": True, "add_zero_attn": True},
    {"batch_first": True},
    {"batch_first": True, "masks": "kpm_bool am_bool"},
    {"is_causal": True, "masks": "am_causal"},
    {"unbatched": True},
    {"unbatched": True, "masks": "kpm_bool am_3d_float", "average_attn_weights": False},
    {"no_bias": True},
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "plain")
def test_multi_head_attention_forward(device, dtype, case):
    batch = not case.get("unbatched")
    kdim, vdim = case.get("kdim", E), case.get("vdim", E)
    batch_first = case.get("batch_first", False)
    shape = (lambda n: (n, E)) if not batch else (lambda n: (N, n, E) if batch_first else (n, N, E))
    q, k, v = randn(*shape(L)), randn(*shape(S)), randn(*shape(S))
    if case.get("separate"):
        k, v = randn(*k.shape[:-1], kdim), randn(*v.shape[:-1], vdim)
    floats = {"q": q, "k": k, "v": v, "out_w": randn(E, E), "out_b": randn(E)}
    if case.get("separate"):
        floats.update(qw=randn(E, E), kw=randn(E, kdim), vw=randn(E, vdim), in_b=randn(3 * E))
    elif not case.get("no_bias"):
        floats.update(in_w=randn(3 * E, E), in_b=randn(3 * E))
    else:
        floats.update(in_w=randn(3 * E, E))
        floats["out_b"] = None
    if case.get("bias_kv"):
        floats.update(bias_k=randn(1, 1, E), bias_v=randn(1, 1, E))
    if case.get("static"):
        floats.update(static_k=randn(N * H, S, E // H), static_v=randn(N * H, S, E // H))
    names = [n for n, a in floats.items() if a is not None]
    kind = case.get("masks", "")
    masks = _masks(kind, batch)
    if kind == "am_causal":
        masks = {"attn_mask": np.triu(np.ones((L, L), dtype=bool), 1)}
        floats["k"], floats["v"] = randn(*shape(L)), randn(*shape(L))

    def run(lib, fn):
        def call(*arrays):
            t = dict(zip(names, arrays))
            if batch_first:  # batch-first inputs (N, L, E) as MultiheadAttention passes them: transposed views
                t["q"], t["k"], t["v"] = (t[n].transpose(0, 1) for n in ("q", "k", "v"))
            m = {}
            for n, a in masks.items():
                if lib is ember:
                    m[n] = ember.tensor(a, device=device, dtype=None if a.dtype == bool else dtype)
                else:
                    m[n] = torch.tensor(a, dtype=None if a.dtype == bool else getattr(torch, dtype.name))
            out, w = fn(
                t["q"],
                t["k"],
                t["v"],
                E,
                H,
                t.get("in_w"),
                t.get("in_b"),
                t.get("bias_k"),
                t.get("bias_v"),
                case.get("add_zero_attn", False),
                0.0,
                t["out_w"],
                t.get("out_b"),
                training=True,
                key_padding_mask=m.get("key_padding_mask"),
                need_weights=case.get("need_weights", True),
                attn_mask=m.get("attn_mask"),
                use_separate_proj_weight=case.get("separate", False),
                q_proj_weight=t.get("qw"),
                k_proj_weight=t.get("kw"),
                v_proj_weight=t.get("vw"),
                static_k=t.get("static_k"),
                static_v=t.get("static_v"),
                average_attn_weights=case.get("average_attn_weights", True),
                is_causal=case.get("is_causal", False),
            )
            if batch_first:
                out = out.transpose(0, 1)
            return (out,) if w is None else (out, w)

        return call

    e_out, t_out = check(
        run(ember, F.multi_head_attention_forward),
        run(torch, TF.multi_head_attention_forward),
        [floats[n] for n in names],
        device=device,
        dtype=dtype,
    )
    assert len(e_out) == len(t_out)


FRACTIONAL = [
    (2, (1, 3, 9, 9), 4, {"output_size": (2, 3)}),
    (2, (1, 3, 9, 9), 4, {"output_ratio": (0.5, 0.5)}),
    (2, (3, 7, 6), 3, {"output_size": 2}),
    (2, (2, 3, 10, 7), (3, 2), {"output_ratio": (0.7, 0.3)}),
    (3, (2, 3, 5, 5, 5), 2, {"output_size": (2, 3, 2)}),
    (3, (1, 2, 9, 9, 9), 4, {"output_ratio": 0.5}),
    (3, (3, 7, 8, 8), 3, {"output_size": (2, 5, 4)}),
]


@pytest.mark.parametrize("dims, shape, kernel, kwargs", FRACTIONAL)
def test_fractional_max_pool_with_samples(device, dtype, dims, shape, kernel, kwargs):
    """With ``_random_samples`` given the windows are fixed: values, indices and gradients
    are torch's, bit for bit."""
    batch = shape[0] if len(shape) == dims + 2 else 1
    samples = np.random.default_rng(3).random((batch, shape[-dims - 1], dims))
    name = f"fractional_max_pool{dims}d"

    def run(lib, fn):
        def call(x):
            if lib is ember:
                s = ember.tensor(samples, dtype=dtype, device=device)
            else:
                s = torch.tensor(samples, dtype=getattr(torch, dtype.name))
            return fn(x, kernel, return_indices=True, _random_samples=s, **kwargs)

        return call

    check(
        run(ember, getattr(F, name)),
        run(torch, getattr(TF, name)),
        [randn(*shape)],
        device=device,
        dtype=dtype,
        rtol=0,
        atol=0,
    )


def _seeded(fn, seed=42):
    """``fn()`` with torch's and ember's generators seeded alike (torch's put back after)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        ember.manual_seed(seed)
        return fn()


@pytest.mark.parametrize("dtype", [ember.float64, ember.float32], ids=str)
@pytest.mark.parametrize("need_weights", [True, False])
def test_multi_head_attention_forward_dropout_is_torchs_stream_on_cpu(dtype, need_weights):
    """The cpu generator is PyTorch's (tests/test_random_torch_stream.py): seeded alike, dropout
    drops the same attention weights (the sweep seeded only torch, hence its differences)."""
    arrays = [randn(L, N, E), randn(S, N, E), randn(S, N, E), randn(3 * E, E), randn(3 * E), randn(E, E), randn(E)]

    def run(lib, fn):
        def call(q, k, v, w, b, ow, ob):
            out, wts = fn(q, k, v, E, H, w, b, None, None, False, 0.5, ow, ob, need_weights=need_weights)
            return (out,) if wts is None else (out, wts)

        return lambda *a: _seeded(lambda: call(*a))

    check(run(ember, F.multi_head_attention_forward), run(torch, TF.multi_head_attention_forward), arrays, "cpu", dtype)


@pytest.mark.parametrize("dtype", [ember.float64, ember.float32], ids=str)
@pytest.mark.parametrize("dims, shape, kernel, kwargs", FRACTIONAL)
def test_fractional_max_pool_is_torchs_stream_on_cpu(dtype, dims, shape, kernel, kwargs):
    """Without ``_random_samples`` the cpu generator draws PyTorch's window offsets."""
    name = f"fractional_max_pool{dims}d"

    def run(fn):
        return lambda x: _seeded(lambda: fn(x, kernel, return_indices=True, **kwargs))

    check(run(getattr(F, name)), run(getattr(TF, name)), [randn(*shape)], "cpu", dtype, rtol=0, atol=0)
