"""``nn.utils.prune`` against PyTorch's: the masks, the ``_orig``/``_mask`` state, the forward
pre-hook, iterative pruning through a PruningContainer, global pruning, ``remove`` and the errors."""

import numpy as np
import pytest

import ember
from ember.nn.utils import prune

torch = pytest.importorskip("torch")
tprune = pytest.importorskip("torch.nn.utils.prune")


def _lenet(lib, device="cpu"):
    nn = lib.nn
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 5))
    rng = np.random.default_rng(0)
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)), dtype=p.dtype))
    return model.to(device)


def _same(actual, expected):
    np.testing.assert_allclose(actual.detach().cpu().numpy(), expected.detach().numpy(), rtol=1e-6, atol=1e-6)


#: name -> fn(prune module, model) pruning the model in place
PRUNINGS = {
    "l1_bias_count": lambda P, m: P.l1_unstructured(m[0], "bias", amount=1),
    "l1_weight_fraction": lambda P, m: P.l1_unstructured(m[3], "weight", amount=0.3),
    "ln_structured_rows_l2": lambda P, m: P.ln_structured(m[0], "weight", amount=0.5, n=2, dim=0),
    "ln_structured_last_dim_l1": lambda P, m: P.ln_structured(m[3], "weight", amount=7, n=1, dim=-1),
    "ln_structured_inf": lambda P, m: P.ln_structured(m[3], "weight", amount=2, n=float("inf"), dim=0),
    "iterative_structured_then_l1": lambda P, m: (
        P.ln_structured(m[0], "weight", amount=1, n=2, dim=0),
        P.l1_unstructured(m[0], "weight", amount=0.25),
    ),
    "iterative_l1_then_structured": lambda P, m: (
        P.l1_unstructured(m[3], "weight", amount=0.5),
        P.ln_structured(m[3], "weight", amount=0.4, n=1, dim=1),
    ),
    "global_l1": lambda P, m: P.global_unstructured(
        ((m[0], "weight"), (m[3], "weight"), (m[3], "bias")), pruning_method=P.L1Unstructured, amount=0.2
    ),
    "identity": lambda P, m: P.identity(m[3], "bias"),
    "importance_scores": lambda P, m: P.l1_unstructured(
        m[3], "bias", amount=2, importance_scores=m[3].bias.detach().flip(0)
    ),
}


@pytest.mark.parametrize("name", list(PRUNINGS))
def test_pruning_matches_pytorch(name, device):
    expected, actual = _lenet(torch), _lenet(ember, device)
    PRUNINGS[name](tprune, expected)
    PRUNINGS[name](prune, actual)
    assert sorted(actual.state_dict()) == sorted(expected.state_dict())
    assert sorted(n for n, _ in actual.named_parameters()) == sorted(n for n, _ in expected.named_parameters())
    for key, value in expected.state_dict().items():
        _same(actual.state_dict()[key], value)
    assert prune.is_pruned(actual) and tprune.is_pruned(expected)
    x = np.random.default_rng(1).standard_normal((2, 1, 6, 6))
    out_e = expected(torch.tensor(x, dtype=torch.float32))
    out_a = actual(ember.tensor(x, dtype=ember.float32, device=device))
    _same(out_a, out_e)
    out_e.sum().backward()
    out_a.sum().backward()
    grads = {n: p.grad for n, p in actual.named_parameters()}
    for n, p in expected.named_parameters():
        _same(grads[n], p.grad)


def test_remove_makes_the_pruning_permanent(device):
    expected, actual = _lenet(torch), _lenet(ember, device)
    for P, m in ((tprune, expected), (prune, actual)):
        P.l1_unstructured(m[3], "weight", amount=0.5)
        P.remove(m[3], "weight")
    assert sorted(actual.state_dict()) == sorted(expected.state_dict())
    assert isinstance(actual[3].weight, ember.nn.Parameter) and not prune.is_pruned(actual)
    _same(actual[3].weight, expected[3].weight)
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(actual[3], "weight")


def test_a_custom_method_and_a_given_mask(device):
    class EveryOther(prune.BasePruningMethod):
        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t, default_mask):
            mask = default_mask.clone()
            mask.view(-1)[::2] = 0
            return mask

    layer = ember.nn.Linear(3, 4).to(device)
    EveryOther.apply(layer, "bias")
    assert layer.bias_mask.tolist() == [0.0, 1.0, 0.0, 1.0]
    prune.custom_from_mask(layer, "bias", mask=ember.tensor([1.0, 0.0, 1.0, 1.0], device=device))
    assert layer.bias_mask.tolist() == [0.0, 0.0, 0.0, 1.0]
    hooks = [h for h in layer._forward_pre_hooks.values() if isinstance(h, prune.BasePruningMethod)]
    assert len(hooks) == 1 and isinstance(hooks[0], prune.PruningContainer) and len(hooks[0]) == 2


@pytest.mark.parametrize(
    "call,error",
    [
        (lambda P, m: P.l1_unstructured(m, "weight", amount=1.5), ValueError),
        (lambda P, m: P.l1_unstructured(m, "weight", amount=-1), ValueError),
        (lambda P, m: P.l1_unstructured(m, "weight", amount="a"), TypeError),
        (lambda P, m: P.l1_unstructured(m, "weight", amount=100), ValueError),
        (lambda P, m: P.ln_structured(m, "bias", amount=1, n=2, dim=0), ValueError),
        (lambda P, m: P.ln_structured(m, "weight", amount=1, n=2, dim=2), IndexError),
        (lambda P, m: P.global_unstructured([(m, "weight")], pruning_method=P.LnStructured, amount=1, n=2), TypeError),
    ],
)
def test_errors_match_pytorch(call, error):
    with pytest.raises(error):
        call(tprune, torch.nn.Linear(3, 2))
    layer = ember.nn.Linear(3, 2)
    with pytest.raises(error):
        call(prune, layer)
    assert "weight" in dict(layer.named_parameters()) and not prune.is_pruned(layer)
