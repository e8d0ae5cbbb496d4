"""Off the main road, differential against PyTorch: the class names of the autograd nodes of the functional ops
that ember composes from others (``prelu`` from a ``where``, the reflection pads and upsamplings from gathers,
``cdist`` from a norm, ``var_mean`` from two reductions): ``type(y.grad_fn).__name__`` and ``y.grad_fn.name()``
are PyTorch's, and the gradients stay PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def F(L):
    return L.nn.functional


# name -> f(lib, x4, x3, a, b): x4 (1, 4, 4, 4), x3 (2, 3, 5), a and b (2, 3), float64 tensors that require grad
NODE_CASES = {
    "prelu": lambda L, x4, x3, a, b: F(L).prelu(x4, a[0, :1]),
    "prelu per channel": lambda L, x4, x3, a, b: F(L).prelu(x3, a[1]),
    "pixel_shuffle": lambda L, x4, x3, a, b: F(L).pixel_shuffle(x4, 2),
    "pixel_unshuffle": lambda L, x4, x3, a, b: F(L).pixel_unshuffle(x4, 2),
    "instance_norm": lambda L, x4, x3, a, b: F(L).instance_norm(x4),
    "instance_norm affine": lambda L, x4, x3, a, b: F(L).instance_norm(x3, weight=a[0], bias=b[0]),
    "instance_norm running stats": lambda L, x4, x3, a, b: F(L).instance_norm(
        x3, a[0].detach().clone(), a[1].detach().exp(), use_input_stats=False
    ),
    "pad reflect 2d": lambda L, x4, x3, a, b: F(L).pad(x4, (1, 1, 2, 1), mode="reflect"),
    "pad replicate 2d": lambda L, x4, x3, a, b: F(L).pad(x4, (1, 1, 1, 1), mode="replicate"),
    "pad reflect 1d": lambda L, x4, x3, a, b: F(L).pad(x3, (1, 2), mode="reflect"),
    "pad replicate 1d": lambda L, x4, x3, a, b: F(L).pad(x3, (1, 2), mode="replicate"),
    "pad reflect 3d": lambda L, x4, x3, a, b: F(L).pad(x4, (1, 1, 1, 1, 1, 1), mode="reflect"),
    "pad reflect nothing": lambda L, x4, x3, a, b: F(L).pad(x4, (0, 0, 0, 0), mode="reflect"),
    "interpolate nearest": lambda L, x4, x3, a, b: F(L).interpolate(x4, scale_factor=2),
    "interpolate nearest 1d": lambda L, x4, x3, a, b: F(L).interpolate(x3, size=7),
    "interpolate nearest-exact": lambda L, x4, x3, a, b: F(L).interpolate(x4, size=(3, 5), mode="nearest-exact"),
    "interpolate linear": lambda L, x4, x3, a, b: F(L).interpolate(x3, size=7, mode="linear"),
    "interpolate bilinear": lambda L, x4, x3, a, b: F(L).interpolate(x4, size=(6, 6), mode="bilinear"),
    "interpolate bilinear corners": lambda L, x4, x3, a, b: F(L).interpolate(
        x4, size=(3, 6), mode="bilinear", align_corners=True
    ),
    "interpolate bicubic": lambda L, x4, x3, a, b: F(L).interpolate(x4, size=(6, 6), mode="bicubic"),
    "interpolate trilinear": lambda L, x4, x3, a, b: F(L).interpolate(x4[None], size=(5, 5, 5), mode="trilinear"),
    "interpolate area": lambda L, x4, x3, a, b: F(L).interpolate(x4, size=(2, 3), mode="area"),
    "unfold": lambda L, x4, x3, a, b: F(L).unfold(x4, 2),
    "unfold unbatched": lambda L, x4, x3, a, b: F(L).unfold(x4[0], 2, padding=1),
    "fold": lambda L, x4, x3, a, b: F(L).fold(x4.reshape(1, 16, 4), (3, 3), 2),
    "max_pool1d": lambda L, x4, x3, a, b: F(L).max_pool1d(x3, 2),
    "max_pool1d indices": lambda L, x4, x3, a, b: F(L).max_pool1d(x3, 2, return_indices=True)[0],
    "max_pool2d unbatched": lambda L, x4, x3, a, b: F(L).max_pool2d(x4[0], 2),
    "max_pool3d": lambda L, x4, x3, a, b: F(L).max_pool3d(x4, 2),
    "max_pool3d indices": lambda L, x4, x3, a, b: F(L).max_pool3d(x4, 2, return_indices=True)[0],
    "avg_pool1d": lambda L, x4, x3, a, b: F(L).avg_pool1d(x3, 2),
    "avg_pool2d unbatched": lambda L, x4, x3, a, b: F(L).avg_pool2d(x4[0], 2),
    "avg_pool3d": lambda L, x4, x3, a, b: F(L).avg_pool3d(x4, 2),
    "adaptive_avg_pool1d": lambda L, x4, x3, a, b: F(L).adaptive_avg_pool1d(x3, 2),
    "adaptive_avg_pool2d": lambda L, x4, x3, a, b: F(L).adaptive_avg_pool2d(x4, 3),
    "adaptive_avg_pool2d to 1": lambda L, x4, x3, a, b: F(L).adaptive_avg_pool2d(x4, 1),
    "adaptive_avg_pool3d": lambda L, x4, x3, a, b: F(L).adaptive_avg_pool3d(x4, 3),
    "adaptive_max_pool1d": lambda L, x4, x3, a, b: F(L).adaptive_max_pool1d(x3, 2),
    "adaptive_max_pool3d": lambda L, x4, x3, a, b: F(L).adaptive_max_pool3d(x4, 3),
    "max_unpool1d": lambda L, x4, x3, a, b: F(L).max_unpool1d(*F(L).max_pool1d(x3, 2, return_indices=True), 2),
    "max_unpool2d": lambda L, x4, x3, a, b: F(L).max_unpool2d(*F(L).max_pool2d(x4, 2, return_indices=True), 2),
    "cdist": lambda L, x4, x3, a, b: L.cdist(a, b),
    "cdist p=1": lambda L, x4, x3, a, b: L.cdist(a, b[:1], p=1),
    "cross": lambda L, x4, x3, a, b: L.cross(a, b, dim=1),
    "linalg.cross": lambda L, x4, x3, a, b: L.linalg.cross(a, b),
    "dist": lambda L, x4, x3, a, b: L.dist(a, b),
    "dist p=3": lambda L, x4, x3, a, b: L.dist(a, b, 3),
    "renorm": lambda L, x4, x3, a, b: a.renorm(2, 0, 1.0),
    "var_mean var": lambda L, x4, x3, a, b: L.var_mean(a, 1)[0],
    "var_mean mean": lambda L, x4, x3, a, b: L.var_mean(a, 1)[1],
    "std_mean std": lambda L, x4, x3, a, b: L.std_mean(a)[0],
    "std_mean mean": lambda L, x4, x3, a, b: L.std_mean(a, correction=0)[1],
    "margin_ranking_loss none": lambda L, x4, x3, a, b: F(L).margin_ranking_loss(
        a, b, a.detach().sign(), reduction="none"
    ),
    "triplet_margin_loss none": lambda L, x4, x3, a, b: F(L).triplet_margin_loss(a, b, a * 2, reduction="none"),
    "special.round": lambda L, x4, x3, a, b: L.special.round(a),
}


def _inputs(lib, device=None):
    kwargs = {"device": device} if device else {}
    rng = np.random.RandomState(0)
    return [
        lib.tensor(rng.randn(*shape).tolist(), dtype=lib.float64, requires_grad=True, **kwargs)
        for shape in ((1, 4, 4, 4), (2, 3, 5), (2, 3), (2, 3))
    ]


def _names(node):
    return type(node).__name__, node.name()


@pytest.mark.parametrize("case", sorted(NODE_CASES))
def test_node_names_and_gradients_are_pytorchs(device, case):
    expected_inputs = _inputs(torch)
    got_inputs = _inputs(ember, device)
    expected = NODE_CASES[case](torch, *expected_inputs)
    got = NODE_CASES[case](ember, *got_inputs)
    assert _names(got.grad_fn) == _names(expected.grad_fn)
    np.testing.assert_allclose(got.detach().cpu().numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    expected.backward(torch.arange(expected.numel(), dtype=torch.float64).reshape(expected.shape))
    got.backward(ember.arange(got.numel(), dtype=ember.float64, device=got.device).reshape(got.shape))
    for e, g in zip(expected_inputs, got_inputs):
        assert (e.grad is None) == (g.grad is None)
        if e.grad is not None:
            np.testing.assert_allclose(g.grad.cpu().numpy(), e.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_special_round_takes_decimals_by_keyword_only():
    with pytest.raises(TypeError):
        torch.special.round(torch.ones(2), 1)
    with pytest.raises(TypeError):
        ember.special.round(ember.ones(2), 1)
