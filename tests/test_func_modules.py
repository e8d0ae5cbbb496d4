"""ember.func.functional_call, stack_module_state and nn.utils.stateless against torch.func: modules
run on given tensors (nested names, tied weights, buffers, strict keys, restoring), per-sample
gradients with vmap(grad(...)) of an MLP, and model ensembles."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from reference import randn, reseed
from test_func_transforms import both, compare_trees, make, same_error

import ember
import ember.func

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _inputs():
    reseed(5)


def _mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))


def _mlp_bn(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 2))


class _Tied:
    """A module whose two submodule names share one Linear (tied weights)."""

    @staticmethod
    def build(lib):
        class Tied(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = lib.nn.Linear(3, 3)
                self.b = self.a

            def forward(self, x):
                return self.b(self.a(x).tanh())

        return Tied()


def pair(build, device, dtype, count=1):
    """``count`` ember models (on ``device``, in ``dtype``) and torch models with the same tensors."""
    ember_models, torch_models = [], []
    for _ in range(count):
        e = build(ember).to(device=device, dtype=dtype)
        t = build(torch).to(getattr(torch, dtype.name))
        t.load_state_dict({k: torch.from_numpy(np.array(v.detach().cpu().numpy())) for k, v in e.state_dict().items()})
        ember_models.append(e)
        torch_models.append(t)
    return ember_models, torch_models


def run_both(case, build, inputs, device, dtype, count=1):
    """``case(lib, fn, models, *inputs)`` on paired ember and torch models; results compared."""
    models = pair(build, device, dtype, count)
    e = case(ember, ember.func, models[0], *make(ember, inputs, device, dtype))
    t = case(torch, torch.func, models[1], *make(torch, inputs, device, dtype))
    compare_trees(e, t, dtype)
    return e, t, models


def _params(model):
    return {k: v.detach() for k, v in model.named_parameters()}


def _per_sample_grads(lib, fn, models, x, y):
    (model,) = models

    def loss(params, xi, yi):
        out = fn.functional_call(model, params, (xi.unsqueeze(0),))
        return lib.nn.functional.mse_loss(out, yi.unsqueeze(0))

    return lib.vmap(fn.grad(loss), in_dims=(None, 0, 0))(_params(model), x, y)


def _per_sample_grads_and_loss(lib, fn, models, x, y):
    (model,) = models

    def loss(params, buffers, xi, yi):
        out = fn.functional_call(model, (params, buffers), (xi.unsqueeze(0),))
        return lib.nn.functional.cross_entropy(out, yi.unsqueeze(0)), out

    labels = (y[:, 0] > 0).long()
    buffers = dict(model.named_buffers())
    return lib.vmap(fn.grad_and_value(loss, has_aux=True), in_dims=(None, None, 0, 0))(
        _params(model), buffers, x, labels
    )


def _ensemble(lib, fn, models, x):
    params, buffers = fn.stack_module_state(models)
    base = models[0]

    def run(p, b, x):
        return fn.functional_call(base, (p, b), (x,))

    shared = lib.vmap(run, in_dims=(0, 0, None))(params, buffers, x)
    separate = lib.vmap(run)(params, buffers, x.reshape(len(models), -1, x.shape[-1]))
    return shared, separate, [v.shape for v in params.values()]


def _ensemble_grad(lib, fn, models, x):
    params, buffers = fn.stack_module_state(models)

    def loss(p):
        out = lib.vmap(lambda p, b: fn.functional_call(models[0], (p, b), (x,)))(p, buffers)
        return (out**2).mean()

    return fn.grad(loss)(params)


def _ensemble_train_bn(lib, fn, models, x):
    """Training-mode batch norm: each member's running statistics are updated in its slice of the buffers."""
    params, buffers = fn.stack_module_state(models)
    out = lib.vmap(lambda p, b: fn.functional_call(models[0], (p, b), (x,)))(params, buffers)
    return out, buffers


def _ensemble_eval_bn(lib, fn, models, x):
    for m in models:
        m.eval()
    return _ensemble(lib, fn, models, x)[:2]


def _functional_call_values(lib, fn, models, x, w):
    (model,) = models
    replaced = fn.functional_call(model, {"0.weight": w}, (x,))
    as_tuple = fn.functional_call(model, ({"0.weight": w}, {"2.bias": w[0, :3]}), x)
    strict = fn.functional_call(model, {**_params(model), "0.weight": w}, (x,), strict=True)
    own = model(x)
    return replaced, as_tuple, strict, own, model[0].weight


def _functional_call_grad(lib, fn, models, x):
    (model,) = models
    return fn.grad(lambda p: fn.functional_call(model, p, (x,)).pow(2).sum())(_params(model))


def _scaled(lib):
    class Scaled(lib.nn.Linear):
        def forward(self, x, *, scale):
            return super().forward(x) * scale

    return Scaled(3, 2)


def _functional_call_kwargs(lib, fn, models, x, b):
    (model,) = models
    return fn.functional_call(model, {"bias": b}, (x,), {"scale": 3.0})


def _bn_buffers(lib, fn, models, x):
    (model,) = models
    buffers = {k: v.clone() for k, v in model.named_buffers()}
    out = fn.functional_call(model, buffers, (x,))
    return out, buffers, dict(model.named_buffers())


def _no_running_stats(lib, fn, models, x):
    (model,) = models
    fn.replace_all_batch_norm_modules_(model)
    bn = model[1]
    train = model(x)
    model.eval()
    return train, model(x), [bn.running_mean, bn.running_var, bn.num_batches_tracked, bn.track_running_stats]


def _tied(lib, fn, models, x, w):
    (model,) = models
    tied = fn.functional_call(model, {"a.weight": w}, (x,))
    untied = fn.functional_call(model, {"a.weight": w}, (x,), tie_weights=False)
    return tied, untied


CASES = {
    "per_sample_grads": (_per_sample_grads, _mlp, [randn(6, 4), randn(6, 3)], 1),
    "per_sample_grads_bn_eval": (_per_sample_grads_and_loss, _mlp_bn, [randn(5, 4), randn(5, 2)], 1),
    "ensemble": (_ensemble, _mlp, [randn(6, 4)], 3),
    "ensemble_grad": (_ensemble_grad, _mlp, [randn(4, 4)], 2),
    "ensemble_bn_train": (_ensemble_train_bn, _mlp_bn, [randn(4, 4)], 2),
    "ensemble_bn_eval": (_ensemble_eval_bn, _mlp_bn, [randn(4, 4)], 2),
    "functional_call": (_functional_call_values, _mlp, [randn(2, 4), randn(8, 4)], 1),
    "functional_call_grad": (_functional_call_grad, _mlp, [randn(3, 4)], 1),
    "buffers": (_bn_buffers, _mlp_bn, [randn(5, 4)], 1),
    "no_running_stats": (_no_running_stats, _mlp_bn, [randn(5, 4)], 1),
    "tied": (_tied, _Tied.build, [randn(2, 3), randn(3, 3)], 1),
}


@pytest.mark.parametrize("name", list(CASES))
def test_modules(device, dtype, name):
    case, build, inputs, count = CASES[name]
    if name == "per_sample_grads_bn_eval":
        build = _eval(build)
    run_both(case, build, inputs, device, dtype, count)


def _eval(build):
    return lambda lib: build(lib).eval()


def test_functional_call_kwargs(device, dtype):
    run_both(_functional_call_kwargs, _scaled, [randn(4, 3), randn(2)], device, dtype)


def test_restored_after_an_exception():
    model = ember.nn.Linear(2, 2)
    weight = model.weight

    def fail(x):
        raise ValueError("inside")

    model.forward = fail
    with pytest.raises(ValueError, match="inside"):
        ember.func.functional_call(model, {"weight": ember.zeros(2, 2), "extra": ember.ones(1)}, (ember.ones(2),))
    assert model.weight is weight and isinstance(model._parameters["weight"], ember.nn.Parameter)
    assert not hasattr(model, "extra")


def test_original_tensors_back_and_given_dict_untouched(device):
    model = ember.nn.Linear(2, 2).to(device)
    before = dict(model.named_parameters())
    given = {"weight": ember.zeros(2, 2, device=device)}
    out = ember.func.functional_call(model, given, ember.ones(2, device=device))
    assert bool((out == model.bias).all())
    assert dict(model.named_parameters()) == before
    assert list(given) == ["weight"]


def test_stateless_functional_call_is_deprecated(device, dtype):
    def case(lib, fn, models, x):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = lib.nn.utils.stateless.functional_call(models[0], {"2.bias": x[0, :3]}, (x,))
        return out, [w.category.__name__ for w in caught]

    run_both(case, _mlp, [randn(2, 4)], device, dtype)


def test_stack_module_state_leaves(device, dtype):
    def case(lib, fn, models):
        models[1][0].weight.requires_grad_(True)
        params, buffers = fn.stack_module_state(models)
        return (
            params,
            buffers,
            [(p.requires_grad, p.is_leaf) for p in params.values()],
            [b.requires_grad for b in buffers.values()],
        )

    run_both(case, _mlp_bn, [], device, dtype, count=3)


def _errors(lib, fn):
    nn = lib.nn
    linear = nn.Linear(2, 2)
    tied = _Tied.build(lib)
    x = lib.ones(2)
    return {
        "strict_missing": lambda: fn.functional_call(linear, {"weight": lib.ones(2, 2)}, (x,), strict=True),
        "strict_unexpected": lambda: fn.functional_call(
            linear, {"weight": lib.ones(2, 2), "bias": x, "foo": x}, (x,), strict=True
        ),
        "duplicate_keys": lambda: fn.functional_call(
            linear, ({"weight": lib.ones(2, 2)}, {"weight": lib.ones(2, 2)}), x
        ),
        "not_a_dict": lambda: fn.functional_call(linear, 3, x),
        "bad_submodule": lambda: fn.functional_call(linear, {"foo.bar": lib.ones(2, 2)}, x),
        "not_a_tensor": lambda: fn.functional_call(linear, {"weight": 3}, x),
        "tied_two_values": lambda: fn.functional_call(tied, {"a.weight": lib.eye(3), "b.weight": lib.zeros(3, 3)}, x),
        "stack_none": lambda: fn.stack_module_state([]),
        "stack_modes": lambda: fn.stack_module_state([nn.Linear(2, 2), nn.Linear(2, 2).eval()]),
        "stack_classes": lambda: fn.stack_module_state([nn.Linear(2, 2), nn.Conv1d(2, 2, 1)]),
        "stack_shapes": lambda: fn.stack_module_state([nn.Linear(2, 2), nn.Linear(2, 3)]),
        "stack_requires_grad": lambda: fn.stack_module_state([nn.Linear(2, 2), nn.Linear(2, 2).requires_grad_(False)]),
    }


@pytest.mark.parametrize("name", list(_errors(torch, torch.func)))
def test_errors_as_torch(name):
    same_error(name, _errors(ember, ember.func)[name], _errors(torch, torch.func)[name])


def test_tied_strict_accepts_one_name(device, dtype):
    """With tie_weights, a value for one of the tied names covers the others under strict=True."""
    both(
        lambda lib, fn, x, w, b: fn.functional_call(
            _Tied.build(lib).to(x.dtype), {"a.weight": w, "a.bias": b}, (x,), strict=True
        ),
        [randn(2, 3), randn(3, 3), randn(3)],
        device,
        dtype,
    )
