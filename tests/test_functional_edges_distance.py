"""Distance functions off the main road, against PyTorch: norms that overflow or vanish."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
@pytest.mark.parametrize("eps", [1e-8, 0.5])
def test_cosine_similarity_of_an_overflowing_norm(device, dtype, eps):
    # the norm of [1e200, 1e200] (float64) or [1e20, 1e20] (float32) is inf: PyTorch clamps it in
    # place, so the row is x / inf = 0, not inf + (inf - inf) = NaN
    big = 1e200 if dtype == ember.float64 else 1e20
    name = str(dtype).split(".")[-1]
    a = np.array([[big, big, 0, 0], [0, 0, 0, 0], [1e-5, 0, 0, 0], [1, 2, 3, 4]], dtype=name)
    b = np.random.default_rng(0).uniform(-1, 1, (4, 4)).astype(name)
    x, y = ember.tensor(a, device=device, requires_grad=True), ember.tensor(b, device=device, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out, tout = (
        ember.nn.functional.cosine_similarity(x, y, eps=eps),
        torch.nn.functional.cosine_similarity(tx, ty, eps=eps),
    )
    np.testing.assert_allclose(out.detach().cpu().numpy(), tout.detach().numpy(), rtol=1e-6)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.numpy(), rtol=1e-5)
    np.testing.assert_allclose(y.grad.cpu().numpy(), ty.grad.numpy(), rtol=1e-5)


@pytest.mark.parametrize("p", [2.0, 1.0, 0.0, float("inf")])
@pytest.mark.parametrize("shapes", [((5, 0), (6, 0)), ((0, 4), (6, 4)), ((2, 5, 3), (2, 0, 3))])
def test_cdist_of_empty_inputs_keeps_their_graph(device, p, shapes):
    # the zeros of an empty distance were off the inputs' graph (no gradient at all)
    results = []
    for T, kw in ((torch, {}), (ember, {"device": device})):
        a, b = (T.ones(s, requires_grad=True, **kw) for s in shapes)
        out = T.cdist(a, b, p=p)
        out.sum().backward()
        results.append((out.tolist(), out.requires_grad, a.grad.tolist(), b.grad.tolist()))
    assert results[0] == results[1]
