"""Differential testing against PyTorch: same inputs into ember and torch, outputs and gradients compared.

Usage::

    from reference import check

    def test_tanh(device, dtype):
        check(lambda x: x.tanh(), lambda x: x.tanh(), [randn(3, 4)], device=device, dtype=dtype)

``check`` builds ember and torch tensors from the same NumPy arrays (float arrays get
``requires_grad``), runs both functions, compares every output, then back-propagates
the same random upstream gradient through both and compares the input gradients.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

TOLERANCES = {"float64": (1e-7, 1e-9), "float32": (2e-4, 2e-5), "float16": (1e-2, 1e-2)}
_rng = np.random.default_rng(1234)


def reseed(seed=1234):
    """Restart the input stream, so that a test's data does not depend on which tests ran before it."""
    global _rng
    _rng = np.random.default_rng(seed)


def randn(*shape, low=None, high=None):
    """A float64 NumPy array of standard-normal values (or uniform in [low, high))."""
    if low is not None:
        return _rng.uniform(low, high, size=shape)
    return _rng.standard_normal(shape)


def to_torch(t):
    """A torch tensor with the values of an ember tensor (detached)."""
    return torch.from_numpy(np.array(t.detach().cpu().numpy(), copy=True))


def to_ember(t, device="cpu"):
    """An ember tensor with the values of a torch tensor (detached)."""
    return ember.tensor(t.detach().numpy(), device=device)


def _torch_dtype(dtype):
    return getattr(torch, dtype.name)


def assert_close(actual, expected, dtype=None, rtol=None, atol=None, what="output"):
    """Compare an ember tensor (or number) with a torch tensor (or number)."""
    name = dtype.name if dtype is not None else getattr(getattr(actual, "dtype", None), "name", "float64")
    default_rtol, default_atol = TOLERANCES.get(name, (0, 0))
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    a = actual.detach().cpu().numpy() if isinstance(actual, ember.Tensor) else np.asarray(actual)
    # (an ember tensor as the expected value too: a closed form against a generic one)
    e = expected.detach().cpu().numpy() if isinstance(expected, (torch.Tensor, ember.Tensor)) else np.asarray(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != torch's {e.shape}"
    if e.dtype.kind in "biu":
        np.testing.assert_array_equal(a, e, err_msg=what)
    else:
        np.testing.assert_allclose(a.astype(np.float64), e.astype(np.float64), rtol=rtol, atol=atol, err_msg=what)


def _flatten(out):
    if isinstance(out, (tuple, list)):
        return [o for item in out for o in _flatten(item)]
    return [out]


def check(
    ember_fn,
    torch_fn,
    arrays,
    device="cpu",
    dtype=ember.float64,
    grad=True,
    rtol=None,
    atol=None,
    grad_rtol=None,
    grad_atol=None,
):
    """Run ``ember_fn`` and ``torch_fn`` on the same inputs; compare outputs and input gradients.

    Args:
        arrays: NumPy arrays (floating arrays are cast to ``dtype`` and require grad;
            integer/bool arrays are passed as they are) or plain Python values.
        grad: also compare gradients of every floating input.
    Returns:
        the ember outputs and the torch outputs.
    """
    e_inputs, t_inputs = [], []
    for a in arrays:
        if isinstance(a, np.ndarray):
            if a.dtype.kind == "f":
                e = ember.tensor(a, dtype=dtype, device=device, requires_grad=grad)
                t = torch.tensor(a, dtype=_torch_dtype(dtype), requires_grad=grad)
            else:
                e = ember.tensor(a, device=device)
                t = torch.from_numpy(a.copy())
        else:
            e = t = a
        e_inputs.append(e)
        t_inputs.append(t)
    e_out = _flatten(ember_fn(*e_inputs))
    t_out = _flatten(torch_fn(*t_inputs))
    assert len(e_out) == len(t_out), f"ember returned {len(e_out)} outputs, torch {len(t_out)}"
    for i, (e, t) in enumerate(zip(e_out, t_out)):
        assert_close(
            e,
            t,
            dtype if isinstance(e, ember.Tensor) and e.dtype.is_floating_point else None,
            rtol,
            atol,
            what=f"output {i}",
        )
    if not grad:
        return e_out, t_out
    pairs = [(e, t) for e, t in zip(e_out, t_out) if isinstance(t, torch.Tensor) and t.requires_grad]
    if not pairs:
        return e_out, t_out
    e_loss, t_loss = 0, 0
    for e, t in pairs:
        upstream = randn(*t.shape) if t.dim() else np.asarray(randn(1)[0])
        e_loss = e_loss + (e * ember.tensor(upstream, dtype=e.dtype, device=device)).sum()
        t_loss = t_loss + (t * torch.tensor(upstream, dtype=t.dtype)).sum()
    t_loss.backward()
    e_loss.backward()
    for i, (e, t) in enumerate(zip(e_inputs, t_inputs)):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            if t.grad is None:
                assert e.grad is None or not np.any(e.grad.cpu().numpy()), f"grad of input {i}: torch has none"
                continue
            assert e.grad is not None, f"grad of input {i}: ember computed none"
            assert_close(e.grad, t.grad, dtype, grad_rtol or rtol, grad_atol or atol, what=f"grad of input {i}")
    return e_out, t_out


def torch_convolves_bfloat16_on_amx():
    """Whether this torch's oneDNN (3.12) runs bfloat16 CPU convolutions on AMX tiles: the CPU has AMX-BF16
    and ``ONEDNN_MAX_CPU_ISA`` leaves it on. Its tiles sum in another order than the kernels of ember's
    oneDNN (3.2): a gradient element in about ten thousand whose exact value lies next to a rounding
    midpoint lands one bfloat16 unit apart (torch's repeatable, ember's the correctly rounded one)."""
    from ember.cpu import isa

    amx = isa._CAPS["AVX512_CORE_AMX"]
    return "amx_bf16" in isa._linux_flags() and isa._cap() & amx == amx


def torch_convolves_float16_on_onednn():
    """Whether this torch runs a float16 CPU convolution through oneDNN (``aten::mkldnn_convolution``) rather
    than its im2col kernels, as its profiler records the kernel called: a choice by the CPU's instruction sets
    (AVX512-FP16 or AVX-NE-CONVERT) and the ``ONEDNN_MAX_CPU_ISA`` cap, which ember's expectations follow."""
    x, w = torch.ones(1, 1, 4, 4, dtype=torch.float16), torch.ones(1, 1, 3, 3, dtype=torch.float16)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        torch.nn.functional.conv2d(x, w)
    return any(event.name == "aten::mkldnn_convolution" for event in prof.events())
