"""Optimizer parameter groups against torch.optim: named parameters (``param_names``), which
tensors may be optimized, and state dicts saved by older PyTorch versions."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

OPTIMIZERS = ["SGD", "Adam", "AdamW", "Adamax", "Adagrad", "Adadelta", "RMSprop", "Rprop", "NAdam", "RAdam", "ASGD"]


def _linear(lib):
    lib.manual_seed(0)
    layer = lib.nn.Linear(3, 2)
    with lib.no_grad():
        layer.weight.copy_(lib.tensor(np.arange(6.0).reshape(2, 3) / 7))
        layer.bias.copy_(lib.tensor([0.5, -0.25]))
    return layer


def _groups_as_dicts(state_dict):
    return [dict(g) for g in state_dict["param_groups"]]


@pytest.mark.parametrize("name", OPTIMIZERS + ["LBFGS"])
def test_named_parameters_as_torch(name):
    # optimizer(model.named_parameters()) keeps the names in each group's "param_names"
    opt_e = getattr(ember.optim, name)(_linear(ember).named_parameters())
    opt_t = getattr(torch.optim, name)(_linear(torch).named_parameters())
    assert opt_e.param_groups[0]["param_names"] == opt_t.param_groups[0]["param_names"] == ["weight", "bias"]
    assert list(opt_e.param_groups[0]) == list(opt_t.param_groups[0])
    assert _groups_as_dicts(opt_e.state_dict()) == _groups_as_dicts(opt_t.state_dict())
    assert all(isinstance(p, ember.Tensor) for p in opt_e.param_groups[0]["params"])


def test_named_parameter_groups_and_their_errors():
    for lib in (ember, torch):
        a, b = (lib.ones(1, requires_grad=True) for _ in range(2))
        opt = lib.optim.SGD([{"params": [("a", a)]}, {"params": [("b", b)], "lr": 0.5}], lr=0.1)
        assert [g["param_names"] for g in opt.state_dict()["param_groups"]] == [["a"], ["b"]]
        with pytest.raises(ValueError, match="Some param names are missing"):
            lib.optim.SGD([("a", a), b], lr=0.1)
        with pytest.raises(ValueError, match="cannot add param group without names to the optimizer"):
            lib.optim.SGD([("a", a)], lr=0.1).add_param_group({"params": [b]})
        with pytest.raises(ValueError, match="cannot add param group with names to the optimizer"):
            lib.optim.SGD([a], lr=0.1).add_param_group({"params": [("b", b)]})


@pytest.mark.parametrize("saved_named, loading_named", [(True, True), (True, False), (False, True)])
def test_load_state_dict_keeps_or_takes_param_names(saved_named, loading_named):
    def names_after_load(lib):
        def make(named, name):
            p = lib.ones(1, requires_grad=True)
            return lib.optim.Adam([(name, p)] if named else [p])

        saved, loading = make(saved_named, "saved"), make(loading_named, "own")
        loading.load_state_dict(saved.state_dict())
        return loading.param_groups[0].get("param_names")

    assert names_after_load(ember) == names_after_load(torch)


def test_non_leaf_parameters_that_torch_accepts():
    # (any non-leaf with differentiable=True: tests/test_optim_differentiable.py)
    for lib in (ember, torch):
        kept = lib.ones(2, requires_grad=True) * 2
        kept.retain_grad()
        lib.optim.SGD([kept], lr=0.1)  # a non-leaf that retains its grad
        with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
            lib.optim.SGD([lib.ones(2, requires_grad=True) * 2], lr=0.1)


# the state entries older PyTorch versions saved as Python numbers, per optimizer
_NUMBER_STATE = {"NAdam": ("step", "mu_product"), "ASGD": ("step", "eta", "mu")}


@pytest.mark.parametrize("name", [n for n in OPTIMIZERS if n != "SGD"])
def test_state_dict_of_an_older_version_loads_and_steps_as_torch(name):
    """A checkpoint from before ``step`` was a tensor and before the newer options existed (no
    ``maximize``, ``foreach``, ...) loads and steps on, as in PyTorch."""
    results = []
    for lib in (ember, torch):
        p = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
        opt = getattr(lib.optim, name)([p], lr=0.1)
        p.grad = lib.tensor([0.3, 0.1, -0.2])
        opt.step()
        saved = opt.state_dict()
        old_state = dict(saved["state"][0])
        for key in _NUMBER_STATE.get(name, ("step",)):
            old_state[key] = int(old_state[key]) if key == "step" else float(old_state[key])
        known = {"params", "lr", "betas", "eps", "weight_decay", "momentum", "alpha", "rho", "lr_decay"}
        known |= {"initial_accumulator_value", "etas", "step_sizes", "lambd", "t0", "momentum_decay", "centered"}
        old_groups = [{k: v for k, v in g.items() if k in known} for g in saved["param_groups"]]
        loaded = getattr(lib.optim, name)([p], lr=0.5)
        loaded.load_state_dict({"state": {0: old_state}, "param_groups": old_groups})
        for _ in range(2):
            p.grad = lib.tensor([0.3, 0.1, -0.2])
            loaded.step()
        state = loaded.state[p]
        results.append((p.detach().numpy(), sorted(loaded.param_groups[0]), str(state["step"].dtype).split(".")[-1]))
    (pe, keys_e, step_e), (pt, keys_t, step_t) = results
    np.testing.assert_allclose(pe, pt, rtol=1e-6)
    assert keys_e == keys_t and step_e == step_t == "float32"


def test_sgd_state_dict_of_an_older_version():
    results = []
    for lib in (ember, torch):
        p = lib.tensor([1.0, -2.0], requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.5)
        opt.load_state_dict(
            {
                "state": {},
                "param_groups": [{"params": [0], "lr": 0.1, "momentum": 0, "dampening": 0, "weight_decay": 0}],
            }
        )
        p.grad = lib.tensor([1.0, 1.0])
        opt.step()
        results.append((p.tolist(), {k: opt.param_groups[0][k] for k in ("nesterov", "maximize", "differentiable")}))
    assert results[0] == results[1]


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad"])
def test_fused_refusals_as_torch(name):
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together."):
            getattr(lib.optim, name)([lib.ones(2, requires_grad=True)], fused=True, foreach=True)
        with pytest.raises(RuntimeError, match="`fused` does not support `differentiable`"):
            getattr(lib.optim, name)([lib.ones(2, requires_grad=True)], fused=True, differentiable=True)
        p = lib.ones(2, dtype=lib.complex64, requires_grad=True)
        opt = getattr(lib.optim, name)([p], fused=True)
        p.grad = lib.ones(2, dtype=lib.complex64)
        with pytest.raises(RuntimeError, match="`fused=True` requires all the params to be floating point Tensors"):
            opt.step()


def test_adam_tensor_lr_with_foreach_as_torch():
    for lib in (ember, torch):
        for name in ("Adam", "AdamW"):
            with pytest.raises(
                ValueError, match="lr as a Tensor is not supported for capturable=False and foreach=True"
            ):
                getattr(lib.optim, name)([lib.ones(2, requires_grad=True)], lr=lib.tensor(0.01), foreach=True)


def test_number_state_of_other_optimizers_stays_a_number():
    """Only the optimizers torch converts turn a Python-number ``step`` into a tensor when loading:
    SparseAdam keeps its int step, and an optimizer defined elsewhere its own state."""

    class Counting(ember.optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": 0.1})

        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    self.state[p]["step"] = self.state[p].get("step", 0) + 1

    p = ember.ones(2, requires_grad=True)
    counting = Counting([p])
    counting.step()
    counting.load_state_dict(counting.state_dict())
    assert counting.state[p]["step"] == 1 and isinstance(counting.state[p]["step"], int)
    for lib in (ember, torch):
        w = lib.ones(3, 2, requires_grad=True)
        sparse_adam = lib.optim.SparseAdam([w])
        w.grad = lib.ones(3, 2).to_sparse()
        sparse_adam.step()
        sparse_adam.load_state_dict(sparse_adam.state_dict())
        assert type(sparse_adam.state[w]["step"]) is int
