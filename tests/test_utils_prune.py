"""nn.utils.prune against PyTorch: masks, state_dict keys, values and gradients after pruning,
repeated pruning through a PruningContainer, global pruning, remove, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
from reference import assert_close, randn

import ember
from ember import nn

torch = pytest.importorskip("torch")
pytest.importorskip("torch.nn.utils.prune")  # a submodule that torch.nn.utils does not import


def _pair(device, make=lambda lib: lib.nn.Conv2d(3, 4, 2)):
    """The same module in ember and torch (torch's initial values, distinct magnitudes)."""
    torch.manual_seed(0)
    t = make(torch).double()
    e = make(ember).double().to(device)
    e.load_state_dict({k: ember.tensor(v.detach().numpy(), device=device) for k, v in t.state_dict().items()})
    return e, t


def _same_state(e, t):
    assert list(e.state_dict()) == list(t.state_dict())
    for key, value in t.state_dict().items():
        assert_close(e.state_dict()[key], value, what=key)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]


def _prunings(lib):
    prune = lib.nn.utils.prune
    return {
        "l1_int": lambda m: prune.l1_unstructured(m, "weight", amount=7),
        "l1_fraction": lambda m: prune.l1_unstructured(m, "weight", amount=0.35),
        "l1_bias": lambda m: prune.l1_unstructured(m, "bias", amount=0.5),
        "ln_l2_dim0": lambda m: prune.ln_structured(m, "weight", amount=0.5, n=2, dim=0),
        "ln_l1_dim1": lambda m: prune.ln_structured(m, "weight", amount=1, n=1, dim=1),
        "ln_inf_last": lambda m: prune.ln_structured(m, "weight", amount=1, n=float("inf"), dim=-1),
        "ln_none": lambda m: prune.ln_structured(m, "weight", amount=0.0, n=2, dim=0),
        "identity": lambda m: prune.identity(m, "weight"),
        "custom": lambda m: prune.custom_from_mask(m, "bias", mask=lib.tensor([1.0, 0.0, 0.0, 1.0]).to(m.bias.device)),
    }


@pytest.mark.parametrize("steps", [["l1_int"], ["l1_fraction"], ["l1_bias"], ["ln_l2_dim0"], ["ln_l1_dim1"],
                                   ["ln_inf_last"], ["ln_none"], ["identity"], ["custom"],
                                   ["ln_l2_dim0", "l1_int"], ["l1_fraction", "ln_l1_dim1", "l1_int"],
                                   ["custom", "l1_bias"], ["identity", "ln_inf_last"]])  # fmt: skip
def test_pruning_matches_torch(device, steps):
    e, t = _pair(device)
    for step in steps:
        _prunings(ember)[step](e)
        _prunings(torch)[step](t)
    _same_state(e, t)
    x = randn(2, 3, 4, 4)
    e_x, t_x = ember.tensor(x, device=device), torch.tensor(x)
    e_out, t_out = e(e_x), t(t_x)
    assert_close(e_out, t_out)
    e_out.sum().backward()
    t_out.sum().backward()
    for (name, p), (_, q) in zip(e.named_parameters(), t.named_parameters()):
        assert_close(p.grad, q.grad, what=f"grad of {name}")
    hooks = [type(h).__name__ for h in e._forward_pre_hooks.values()]
    assert hooks == [type(h).__name__ for h in t._forward_pre_hooks.values()]
    assert ember.nn.utils.prune.is_pruned(e) and not ember.nn.utils.prune.is_pruned(nn.Linear(1, 1))


@pytest.mark.parametrize("name", ["weight", "bias"])
def test_remove_matches_torch(device, name):
    e, t = _pair(device)
    for lib, m in ((ember, e), (torch, t)):
        lib.nn.utils.prune.l1_unstructured(m, name, amount=2)
        lib.nn.utils.prune.remove(m, name)
        assert type(getattr(m, name)).__name__ == "Parameter" and not m._forward_pre_hooks
    _same_state(e, t)


def test_global_unstructured_matches_torch(device):
    e = [_pair(device, lambda lib: lib.nn.Linear(4, 3)), _pair(device, lambda lib: lib.nn.Linear(3, 2))]
    scores = randn(2, 3)
    ember.nn.utils.prune.l1_unstructured(e[1][0], "weight", amount=1)  # an earlier mask is kept
    torch.nn.utils.prune.l1_unstructured(e[1][1], "weight", amount=1)
    for lib, k in ((ember, 0), (torch, 1)):
        params = [(e[0][k], "weight"), (e[1][k], "weight"), (e[0][k], "bias")]
        importance = {(e[1][k], "weight"): (ember if lib is ember else torch).tensor(scores, dtype=lib.float64)}
        if lib is ember:
            importance = {key: v.to(device) for key, v in importance.items()}
        lib.nn.utils.prune.global_unstructured(
            params, lib.nn.utils.prune.L1Unstructured, importance_scores=importance, amount=0.4
        )
    for pair in e:
        _same_state(*pair)


def test_random_pruning_counts(device):
    m = nn.Linear(5, 4).to(device)
    nn.utils.prune.random_unstructured(m, "weight", amount=0.3)
    assert int((m.weight_mask == 0).sum()) == 6
    nn.utils.prune.random_structured(m, "weight", amount=2, dim=0)
    rows = m.weight_mask.sum(1).cpu().numpy()
    assert (rows == 0).sum() == 2  # two more rows (kept ones among those): at least two empty
    assert isinstance(m._forward_pre_hooks[next(iter(m._forward_pre_hooks))], nn.utils.prune.PruningContainer)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, m: lib.nn.utils.prune.l1_unstructured(m, "weight", amount=-1),
        lambda lib, m: lib.nn.utils.prune.l1_unstructured(m, "weight", amount=1.5),
        lambda lib, m: lib.nn.utils.prune.l1_unstructured(m, "weight", amount="a"),
        lambda lib, m: lib.nn.utils.prune.l1_unstructured(m, "weight", amount=100),
        lambda lib, m: lib.nn.utils.prune.ln_structured(m, "bias", amount=1, n=2, dim=0),
        lambda lib, m: lib.nn.utils.prune.ln_structured(m, "weight", amount=1, n=2, dim=4),
        lambda lib, m: lib.nn.utils.prune.remove(m, "weight"),
        lambda lib, m: lib.nn.utils.prune.global_unstructured(
            [(m, "weight")], lib.nn.utils.prune.LnStructured, amount=1, n=2, dim=0
        ),  # fmt: skip
        lambda lib, m: lib.nn.utils.prune.global_unstructured(
            [(m, "weight")], lib.nn.utils.prune.L1Unstructured, importance_scores=[1], amount=1
        ),  # fmt: skip
    ],
)
def test_errors_match_torch(call):
    e, t = _pair("cpu", lambda lib: lib.nn.Linear(3, 2))
    with pytest.raises(Exception) as expected:
        call(torch, t)
    with pytest.raises(expected.type) as got:
        call(ember, e)
    assert str(got.value).replace("ember", "torch") == str(expected.value).replace(repr(t), repr(e))
    assert sorted(e.state_dict()) == sorted(t.state_dict())  # a failed pruning is rolled back
    assert np.array_equal(e.weight.detach().numpy(), t.weight.detach().numpy())
