"""ember.nn.utils helpers against torch.nn.utils: parameter vectors, total norms and clipping,
batch-norm fusion, skip_init; the same values, gradients and errors."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import nn

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _seeded():
    """The modules' random initial weights (torch's and ember's) are the same in every run."""
    torch.manual_seed(0)
    ember.manual_seed(0)


_rng = np.random.default_rng(9)


def _copy(module_e, module_t, device):
    for pe, pt in zip(module_e.state_dict().values(), module_t.state_dict().values()):
        pe.copy_(ember.tensor(pt.detach().numpy(), device=device))
    return module_e


def test_parameters_to_vector_round_trip(device):
    lin_t = torch.nn.Linear(3, 2)
    lin_e = _copy(nn.Linear(3, 2).to(device), lin_t, device)
    ve = nn.utils.parameters_to_vector(lin_e.parameters())
    vt = torch.nn.utils.parameters_to_vector(lin_t.parameters())
    np.testing.assert_allclose(ve.detach().cpu().numpy(), vt.detach().numpy())
    (ve * ve).sum().backward()
    (vt * vt).sum().backward()
    np.testing.assert_allclose(lin_e.weight.grad.cpu().numpy(), lin_t.weight.grad.numpy(), rtol=1e-6)
    new = _rng.standard_normal(8).astype(np.float32)
    nn.utils.vector_to_parameters(ember.tensor(new, device=device), lin_e.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), lin_t.parameters())
    np.testing.assert_array_equal(lin_e.weight.detach().cpu().numpy(), lin_t.weight.detach().numpy())
    np.testing.assert_array_equal(lin_e.bias.detach().cpu().numpy(), lin_t.bias.detach().numpy())


def test_vector_errors_match_torch():
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        torch.nn.utils.vector_to_parameters([1.0], [torch.zeros(1)])
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        nn.utils.vector_to_parameters([1.0], [ember.zeros(1)])


def test_parameters_on_two_devices_are_refused():
    with pytest.raises(TypeError, match="Found two parameters on different devices"):
        nn.utils.parameters_to_vector([ember.zeros(1), ember.zeros(1, device="restricted")])


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, "inf"])
def test_total_norm_and_clip_match_torch(device, norm_type):
    arrays = [_rng.standard_normal((3, 4)).astype(np.float32), _rng.standard_normal(5).astype(np.float32)]
    pe = [nn.Parameter(ember.tensor(a, device=device)) for a in arrays]
    pt = [torch.nn.Parameter(torch.tensor(a)) for a in arrays]
    for p, a in zip(pe, arrays):
        p.grad = ember.tensor(a * 2, device=device)
    for p, a in zip(pt, arrays):
        p.grad = torch.tensor(a * 2)
    ne = nn.utils.get_total_norm([p.grad for p in pe], norm_type)
    nt = torch.nn.utils.get_total_norm([p.grad for p in pt], norm_type)
    np.testing.assert_allclose(ne.cpu().numpy(), nt.numpy(), rtol=1e-5)
    nn.utils.clip_grads_with_norm_(pe, 1.5, ne)
    torch.nn.utils.clip_grads_with_norm_(pt, 1.5, nt)
    for a, b in zip(pe, pt):
        np.testing.assert_allclose(a.grad.cpu().numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-7)
    # clip_grad_norm_ is the two together
    for p, a in zip(pe, arrays):
        p.grad = ember.tensor(a * 2, device=device)
    total = nn.utils.clip_grad_norm_(pe, 1.5, norm_type)
    np.testing.assert_allclose(total.cpu().numpy(), nt.numpy(), rtol=1e-5)
    for a, b in zip(pe, pt):
        np.testing.assert_allclose(a.grad.cpu().numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_total_norm_edge_cases():
    assert float(nn.utils.get_total_norm([])) == float(torch.nn.utils.get_total_norm([])) == 0.0
    assert float(nn.utils.get_total_norm(ember.tensor([3.0, 4.0]))) == 5.0
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is non-finite"):
        nn.utils.get_total_norm([ember.tensor([float("nan")])], error_if_nonfinite=True)
    nn.utils.clip_grads_with_norm_([nn.Parameter(ember.zeros(1))], 1.0, ember.tensor(0.0))  # no grads: nothing


def _bn_pair(cls_e, cls_t, n, device):
    bn_t = cls_t(n)
    bn_t.running_mean.copy_(torch.tensor(_rng.standard_normal(n).astype(np.float32)))
    bn_t.running_var.copy_(torch.tensor(_rng.uniform(0.5, 2, n).astype(np.float32)))
    with torch.no_grad():
        bn_t.weight.copy_(torch.tensor(_rng.standard_normal(n).astype(np.float32)))
        bn_t.bias.copy_(torch.tensor(_rng.standard_normal(n).astype(np.float32)))
    return _copy(cls_e(n).to(device), bn_t, device).eval(), bn_t.eval()


@pytest.mark.parametrize("transpose,bias", [(False, True), (False, False), (True, True)])
def test_fuse_conv_bn_matches_torch(device, transpose, bias):
    cls_e, cls_t = (nn.ConvTranspose2d, torch.nn.ConvTranspose2d) if transpose else (nn.Conv2d, torch.nn.Conv2d)
    conv_t = cls_t(3, 4, 3, bias=bias).eval()
    conv_e = _copy(cls_e(3, 4, 3, bias=bias).to(device), conv_t, device).eval()
    bn_e, bn_t = _bn_pair(nn.BatchNorm2d, torch.nn.BatchNorm2d, 4, device)
    fe = nn.utils.fuse_conv_bn_eval(conv_e, bn_e, transpose=transpose)
    ft = torch.nn.utils.fuse_conv_bn_eval(conv_t, bn_t, transpose=transpose)
    np.testing.assert_allclose(fe.weight.detach().cpu().numpy(), ft.weight.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fe.bias.detach().cpu().numpy(), ft.bias.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert isinstance(fe.weight, nn.Parameter) and fe is not conv_e
    x = ember.tensor(_rng.standard_normal((1, 3, 6, 6)).astype(np.float32), device=device)
    np.testing.assert_allclose(fe(x).detach().cpu().numpy(), bn_e(conv_e(x)).detach().cpu().numpy(), atol=1e-4)


@pytest.mark.parametrize("bias", [True, False])
def test_fuse_linear_bn_matches_torch(device, bias):
    lin_t = torch.nn.Linear(3, 4, bias=bias).eval()
    lin_e = _copy(nn.Linear(3, 4, bias=bias).to(device), lin_t, device).eval()
    bn_e, bn_t = _bn_pair(nn.BatchNorm1d, torch.nn.BatchNorm1d, 4, device)
    fe, ft = nn.utils.fuse_linear_bn_eval(lin_e, bn_e), torch.nn.utils.fuse_linear_bn_eval(lin_t, bn_t)
    np.testing.assert_allclose(fe.weight.detach().cpu().numpy(), ft.weight.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fe.bias.detach().cpu().numpy(), ft.bias.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_fusion_errors_match_torch():
    for lib in (torch, ember):
        with pytest.raises(AssertionError, match="Fusion only for eval!"):
            lib.nn.utils.fuse_conv_bn_eval(lib.nn.Conv2d(1, 2, 1), lib.nn.BatchNorm2d(2).eval())
        with pytest.raises(AssertionError, match="To fuse, linear.out_features == bn.num_features"):
            lib.nn.utils.fuse_linear_bn_eval(lib.nn.Linear(2, 3).eval(), lib.nn.BatchNorm1d(2).eval())


def test_skip_init():
    m = nn.utils.skip_init(nn.Linear, 6, out_features=2, device="restricted")
    assert m.weight.shape == (2, 6) and m.weight.device.type == "restricted"
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="Expected a Module; got"):
            lib.nn.utils.skip_init(int)
        with pytest.raises(RuntimeError, match="Module must support a 'device' arg to skip initialization"):
            lib.nn.utils.skip_init(lib.nn.ReLU)
