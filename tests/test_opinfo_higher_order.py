"""Gradients beyond first order, as PyTorch's ``test_ops.py`` checks them over the OpInfo database:
second-order gradients (``supports_gradgrad``) and forward-mode AD (``supports_forward_ad``), each
compared with PyTorch's on the same inputs. Each case is the smallest call where ember differed,
run on every test device in float64 and float32.
"""

from __future__ import annotations

import numpy as np
import pytest
from opinfo_support import ember_copy

import ember
import ember.autograd.forward_ad as efwd

torch = pytest.importorskip("torch")
import torch.autograd.forward_ad as tfwd  # noqa: E402


def _tol(dtype):
    return (1e-7, 1e-9) if dtype is ember.float64 else (2e-4, 1e-4)


def _close(actual, expected, dtype):
    assert actual is not None and expected is not None, (actual, expected)
    assert tuple(actual.shape) == tuple(expected.shape), (actual.shape, expected.shape)
    rtol, atol = _tol(dtype)
    np.testing.assert_allclose(actual.detach().cpu().numpy(), expected.detach().numpy(), rtol=rtol, atol=atol)


# -- second order ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "nd, stride, padding, output_padding, dilation, groups",
    [
        (1, 2, 1, 2, 3, 1),
        (2, (3, 2), (1, 2), (2, 3), (4, 4), 2),  # PyTorch's OpInfo sample
        (3, 1, 0, 1, 2, 1),  # (the NumPy backend's forward raised a broadcast ValueError for these three)
        (2, 1, 0, 1, 2, 1),
        (1, 1, 1, 1, 2, 2),
    ],
)
def test_conv_transpose_second_order_with_output_padding(
    device, dtype, nd, stride, padding, output_padding, dilation, groups
):
    # the gradient of the weight's gradient with respect to the input had the weight-gradient convolution's
    # shape ((2, 2, 4, 5) for an input of (2, 2, 4, 4)): an output_padding of at least the stride leaves
    # trailing output rows no input position reached, which the second backward did not cut off; with a
    # unit stride the NumPy backend's forward itself failed ("could not broadcast (2,1,4,4) into (2,1,5,5)")
    torch.manual_seed(0)
    tdt = getattr(torch, dtype.name)
    x = torch.randn(2, 2, *([4] * nd), dtype=tdt, requires_grad=True)
    w = torch.randn(2, 4 // groups, *([3] * (nd - 1)), 5 if nd == 2 else 3, dtype=tdt, requires_grad=True)
    b = torch.randn(4, dtype=tdt, requires_grad=True)
    kw = dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups, dilation=dilation)
    conv = f"conv_transpose{nd}d"
    out = getattr(torch.nn.functional, conv)(x, w, b, **kw)
    up = torch.randn(out.shape, dtype=tdt)
    gx, gw, _ = torch.autograd.grad(out, [x, w, b], up, create_graph=True)
    vx, vw = torch.randn(gx.shape, dtype=tdt), torch.randn(gw.shape, dtype=tdt)
    expected = torch.autograd.grad([gx, gw], [x, w], [vx, vw])

    ex, ew, eb = ember_copy(x, device, True), ember_copy(w, device, True), ember_copy(b, device, True)
    e_out = getattr(ember.nn.functional, conv)(ex, ew, eb, **kw)
    egx, egw, _ = ember.autograd.grad(e_out, [ex, ew, eb], ember_copy(up, device), create_graph=True)
    actual = ember.autograd.grad([egx, egw], [ex, ew], [ember_copy(vx, device), ember_copy(vw, device)])
    for a, t in zip(actual, expected):
        _close(a, t, dtype)


# -- forward mode ---------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["native_layer_norm", "native_batch_norm"])
def test_native_norm_statistics_have_no_tangent(device, dtype, op):
    # ember gave the mean and rstd outputs tangents (computed under no_grad, which forward mode ignores);
    # PyTorch's statistics of layer and batch norm are not differentiable: no tangent
    torch.manual_seed(0)
    tdt = getattr(torch, dtype.name)
    x, tx = torch.randn(3, 2, dtype=tdt), torch.randn(3, 2, dtype=tdt)

    def run(lib, fwd, conv):
        with fwd.dual_level():
            dual = fwd.make_dual(conv(x), conv(tx))
            if op == "native_layer_norm":
                outs = lib.native_layer_norm(dual, [2], None, None, 1e-5)
            else:
                outs = lib.native_batch_norm(dual, None, None, None, None, True, 0.1, 1e-5)
            return [fwd.unpack_dual(o).tangent for o in outs]

    expected = run(torch, tfwd, lambda t: t)
    actual = run(ember, efwd, lambda t: ember_copy(t, device))
    _close(actual[0], expected[0], dtype)
    assert expected[1] is None and expected[2] is None
    assert actual[1] is None and actual[2] is None, actual[1:]


@pytest.mark.parametrize("op", ["eig", "eigvals"])
@pytest.mark.parametrize("complex_input", [False, True])
def test_eig_forward_ad(device, dtype, op, complex_input):
    # ember raised "linalg_eig_backward: The eigenvectors in the complex case are specified up to multiplication
    # by e^{i phi}": its tangents came from the backward at a cotangent of ones, which depends on the phases;
    # PyTorch has a forward formula, which ember's linalg.eig now gives (its jvp)
    try:
        ember.zeros(1, dtype=dtype.to_complex(), device=device)
    except Exception:  # noqa: BLE001 - no complex arrays on this device
        pytest.skip(f"{device} has no complex arrays (eig's results are complex)")
    torch.manual_seed(0)
    tdt = getattr(torch, dtype.to_complex().name if complex_input else dtype.name)
    a, ta = torch.randn(2, 4, 4, dtype=tdt), torch.randn(2, 4, 4, dtype=tdt)

    def run(lib, fwd, conv):
        with fwd.dual_level():
            outs = getattr(lib.linalg, op)(fwd.make_dual(conv(a), conv(ta)))
            outs = outs if isinstance(outs, tuple) else (outs,)
            return [fwd.unpack_dual(o) for o in outs]

    expected = run(torch, tfwd, lambda t: t)
    actual = run(ember, efwd, lambda t: ember_copy(t, device))
    assert len(actual) == len(expected)
    rtol, atol = (1e-7, 1e-9) if dtype is ember.float64 else (1e-3, 1e-3)
    for k, (x, y) in enumerate(zip(actual, expected)):
        assert x.tangent is not None and x.tangent.dtype is dtype.to_complex()
        tangent = x.tangent.cpu().numpy()
        if k == 1:  # eigenvectors: LAPACK builds may choose other phases; the tangents turn with them
            phase = np.einsum("...ij,...ij->...j", y.primal.numpy().conj(), x.primal.cpu().numpy())
            tangent = tangent * (phase / abs(phase)).conj()[..., None, :]
        np.testing.assert_allclose(tangent, y.tangent.numpy(), rtol=rtol, atol=atol)
