"""Strides of smooth_l1_loss's and huber_loss's gradients, against PyTorch: its backward kernels write them
row-major (``zeros_like(input, contiguous_format)``) whatever the layouts of the input and the target,
while the loss itself (``reduction='none'``) follows the input. Values are compared too."""

import pytest
import torch

import ember


def _matrix(lib, transposed, scale, device=None):
    """A float64 (3, 4) tensor, row-major or a transposed (4, 3) one."""
    kw = {} if device is None else {"device": device}
    x = (lib.arange(12.0, dtype=lib.float64, **kw) - 5) * scale
    return x.reshape(4, 3).t() if transposed else x.reshape(3, 4)


_LOSSES = {
    "smooth_l1": lambda lib, x, y, r: lib.nn.functional.smooth_l1_loss(x, y, reduction=r, beta=0.5),
    "smooth_l1_beta1": lambda lib, x, y, r: lib.nn.functional.smooth_l1_loss(x, y, reduction=r),
    "huber": lambda lib, x, y, r: lib.nn.functional.huber_loss(x, y, reduction=r, delta=0.5),
}


@pytest.mark.parametrize("loss", sorted(_LOSSES))
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("layouts", [(True, False), (False, True), (True, True), (False, False)])
@pytest.mark.parametrize("create_graph", [False, True])
def test_pointwise_loss_gradients_are_row_major(device, loss, reduction, layouts, create_graph):
    results = []
    for lib, kw in ((torch, {}), (ember, {"device": device})):
        x = _matrix(lib, layouts[0], 0.3, **kw).detach().requires_grad_()
        y = _matrix(lib, layouts[1], -0.1, **kw).detach().requires_grad_()
        out = _LOSSES[loss](lib, x, y, reduction)
        gx, gy = lib.autograd.grad(out, (x, y), lib.full_like(out, 0.7), create_graph=create_graph)
        results.append((out, gx, gy))
    for t, e in zip(*results):
        assert e.stride() == t.stride()
        torch.testing.assert_close(torch.tensor(e.tolist(), dtype=torch.float64), t, rtol=1e-12, atol=1e-15)


def test_loss_node_name_kept(device):
    x = _matrix(ember, True, 0.3, device).detach().requires_grad_()
    y = _matrix(ember, False, -0.1, device)
    assert type(ember.nn.functional.smooth_l1_loss(x, y).grad_fn).__name__ == "SmoothL1LossBackward0"
    assert type(ember.nn.functional.huber_loss(x, y).grad_fn).__name__ == "HuberLossBackward0"
